/// Reading label names from a file (`LabelNames.read`), in any of these forms:
/// - lines `VALUE NAME`: tab-separated (the name is the second field, spaces kept) or
///   space-separated (the name is the rest of the line; a trailing integer column, the atlas
///   code of Debian's mricron `.txt` files such as `1 Precentral_L 2001`, is dropped);
/// - ITK-SNAP label descriptions (`IDX R G B A VIS MSH "LABEL"`, `#` comments);
/// - CSV with a header naming the columns `label` (or `value`) and `name`;
/// - JSON: `{"1": "liver"}`, `{"liver": 1}`, or an nnU-Net `dataset.json` whose `labels`
///   map names to values (region lists, `[1, 2]`, are regions, not names, and are skipped).
/// A value or a name given twice is an error naming both lines (or keys). Names match
/// case-insensitively where options refer to them (`--require`, `--labels`).
extension LabelNames {
    /// Reads and parses a names file; errors name the file and the line.
    public static func read(path: String) throws -> LabelNames {
        try parse(TextInput.read(path: path, what: "label-name file"), path: path)
    }

    public static func parse(_ text: String, path: String) throws -> LabelNames {
        var collector = Collector(path: path)
        if TextInput.looksLikeJSON(text) {
            try parseJSON(TextInput.json(text, path: path, what: "label names"), into: &collector)
            return LabelNames(collector.names)
        }
        let lines = TextInput.lines(text)
        if let header = lines.first, !header.text.contains("\""),
            case let columns = header.text.lowercased().split(separator: ",").map({
                $0.trimmingCharacters(in: .whitespaces)
            }),
            let nameColumn = columns.firstIndex(of: "name"),
            let valueColumn = columns.firstIndex(of: "label") ?? columns.firstIndex(of: "value")
        {
            for line in lines.dropFirst() {
                let fields = CSV.parse(line.text).first ?? []
                guard fields.count > max(nameColumn, valueColumn), let label = Int32(fields[valueColumn]) else {
                    throw InputError.badFile(path: path, reason: "line \(line.number): expected LABEL,NAME")
                }
                try collector.add(label, fields[nameColumn].trimmingCharacters(in: .whitespaces), at: "line \(line.number)")
            }
            return LabelNames(collector.names)
        }
        for line in lines {
            let fields = line.text.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = fields.first, let label = Int32(first) else {
                throw InputError.badFile(
                    path: path,
                    reason: "line \(line.number): expected a label value first, found '\(Escape.terminal(String(line.text.prefix(40))))'")
            }
            let name: String
            if let open = line.text.firstIndex(of: "\""), let close = line.text.lastIndex(of: "\""), open < close {
                name = String(line.text[line.text.index(after: open)..<close])  // ITK-SNAP: quoted last field
            } else if line.text.contains("\t") {
                name = line.text.split(separator: "\t").dropFirst().first.map {
                    $0.trimmingCharacters(in: .whitespaces)
                } ?? ""
            } else {
                var words = fields.dropFirst()
                if words.count >= 2, let last = words.last, Int(last) != nil { words = words.dropLast() }
                name = words.joined(separator: " ")
            }
            guard !name.isEmpty else {
                throw InputError.badFile(path: path, reason: "line \(line.number): label \(label) has no name")
            }
            try collector.add(label, name, at: "line \(line.number)")
        }
        return LabelNames(collector.names)
    }

    private static func parseJSON(_ json: JSONValue, into collector: inout Collector) throws {
        guard var object = json.objectValue else {
            throw InputError.badFile(path: collector.path, reason: "label names: expected a JSON object")
        }
        if let labels = object["labels"]?.objectValue { object = labels }  // nnU-Net dataset.json
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            if let label = Int32(key.trimmingCharacters(in: .whitespaces)), let name = value.stringValue {
                try collector.add(label, name, at: "key \"\(key)\"")
            } else if let number = value.intValue, let label = Int32(exactly: number) {
                if label != 0 || key.lowercased() != "background" { try collector.add(label, key, at: "key \"\(key)\"") }
            } else if value.arrayValue != nil {
                continue  // an nnU-Net region: several values under one name
            } else {
                throw InputError.badFile(
                    path: collector.path,
                    reason: "label names: \"\(key)\" must map a value to a name or a name to an integer value")
            }
        }
    }

    /// Gathers names, refusing a value or a name given twice.
    private struct Collector {
        let path: String
        var names: [Int32: String] = [:]
        var whereLabel: [Int32: String] = [:]
        var whereName: [String: String] = [:]

        mutating func add(_ label: Int32, _ name: String, at place: String) throws {
            if let first = whereLabel[label] {
                throw InputError.badFile(path: path, reason: "label \(label) is named twice (\(first) and \(place))")
            }
            if let first = whereName[name.lowercased()] {
                throw InputError.badFile(path: path, reason: "name '\(name)' is given twice (\(first) and \(place))")
            }
            names[label] = name
            whereLabel[label] = place
            whereName[name.lowercased()] = place
        }
    }
}
