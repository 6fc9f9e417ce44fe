import Foundation

/// Reading `--regions FILE` (the regions themselves are in Lesions/Regions.swift).
extension Regions {
    /// Reads `--regions FILE`: either a JSON object of names to label lists
    /// (`{"whole_tumor": [1, 2, 3], "ET": 3}`), or an nnU-Net `dataset.json`, whose
    /// `labels` object maps names to a value or a list of values. In a dataset.json the
    /// `background` entry (value 0) is skipped and an `ignore` entry is the ignore label,
    /// not a region. Regions keep the file's order (nnU-Net lists them in
    /// `regions_class_order`; MaskEval reports them in file order).
    public static func read(path: String) throws -> RegionFile {
        let text = try TextInput.read(path: path, what: "regions file")
        let json = try TextInput.json(text, path: path, what: "regions file")
        guard case .object(let top) = json else {
            throw InputError.badFile(path: path, reason: "expected a JSON object of region names to label lists")
        }
        let isDataset: Bool
        let members: [(String, JSONValue)]
        if case .object(let labels)? = top["labels"] {
            isDataset = true
            members = orderedKeys(in: text, of: labels, nestedIn: "labels")
        } else {
            isDataset = false
            members = orderedKeys(in: text, of: top, nestedIn: nil)
        }
        var regions: [Region] = []
        var ignore: Int32?
        for (name, value) in members {
            let labels = try labelList(value, name: name, path: path)
            if isDataset && name == "ignore" {
                guard labels.count == 1 else {
                    throw InputError.badFile(path: path, reason: "'ignore' must be one label value")
                }
                ignore = labels[0]
                continue
            }
            if isDataset && labels == [0] { continue }  // background
            if labels.contains(0) {
                throw InputError.badFile(path: path, reason: "region '\(name)' contains 0 (background)")
            }
            if let other = regions.first(where: { $0.name.lowercased() == name.lowercased() }) {
                throw InputError.badFile(path: path, reason: "two regions are called '\(other.name)' and '\(name)'")
            }
            regions.append(Region(name: name, labels: labels))
        }
        if regions.isEmpty { throw InputError.badFile(path: path, reason: "no regions") }
        return RegionFile(regions: regions, ignoreLabel: ignore)
    }

    /// Whether `--regions OPTION` is the `brats` keyword rather than a file: `brats` always,
    /// another spelling (`BRATS`, `BraTS`) unless a file of that name exists (a folder, as a
    /// dataset's `BraTS/`, is no regions file), so it is not refused as a missing file.
    public static func isBraTSKeyword(_ option: String) -> Bool {
        guard option != "brats" else { return true }
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: option, isDirectory: &isFolder)
        return option.lowercased() == "brats" && (!exists || isFolder.boolValue)
    }

    static func labelList(_ value: JSONValue, name: String, path: String) throws -> [Int32] {
        func label(_ item: JSONValue) -> Int32? {
            switch item {
            case .int(let v): return Int32(exactly: v)
            case .number(let v): return Int32(exactly: v)
            default: return nil
            }
        }
        if let single = label(value) { return [single] }
        if case .array(let items) = value, !items.isEmpty {
            let labels = items.compactMap(label)
            if labels.count == items.count { return labels }
        }
        throw InputError.badFile(path: path, reason: "region '\(name)' must be a label value or a list of them")
    }

    /// The members of `object` in the order their keys first appear in the file text
    /// (JSONValue objects are unordered); keys not found keep sorted order at the end.
    static func orderedKeys(in text: String, of object: [String: JSONValue], nestedIn parent: String?) -> [(
        String, JSONValue
    )] {
        let start = parent.flatMap { text.range(of: "\"" + $0 + "\"")?.upperBound } ?? text.startIndex
        let positions = object.keys.map { key -> (String, Int) in
            // The key as written: escaped (`"a \"b\""`) when it holds quotes or backslashes,
            // which the plain form would never find, sending the region to the end.
            let needles = [JSONValue.string(key).rendered(), "\"" + key + "\""]
            let position = needles.lazy.compactMap { text.range(of: $0, range: start..<text.endIndex) }.first.map {
                text.distance(from: text.startIndex, to: $0.lowerBound)
            }
            return (key, position ?? Int.max)
        }
        return positions.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.compactMap { key, _ in
            object[key].map { (key, $0) }
        }
    }
}

extension RunSettings {
    /// Applies `--regions FILE|brats` (the keyword in any case, `Regions.isBraTSKeyword`) and `--ignore-label L`: `brats` is BraTS 2023's WT, TC,
    /// ET (`Region.brats`); a file is read with `Regions.read`, and its `ignore` entry is the
    /// ignore label unless `--ignore-label` gives one. Refuses a region holding the ignore
    /// label and two regions of one name (usage errors).
    public mutating func applyStructures(regions option: String?, ignoreLabel label: Int32?) throws {
        ignoreLabel = label
        if let option, Regions.isBraTSKeyword(option) {
            regions = Region.brats
        } else if let option {
            let file = try Regions.read(path: option)
            regions = file.regions
            ignoreLabel = label ?? file.ignoreLabel
        }
        try checkStructures()
    }
}
