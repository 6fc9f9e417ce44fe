/// Per-label NSD tolerances (`--tolerance-map FILE`): lines `LABEL MM` (a value or a name,
/// which may contain spaces), or a JSON object `{"1": 2.0, "liver": 3}`. Two entries that
/// resolve to the same label are an error, so the result never depends on which one wins.
public enum ToleranceMap {
    public static func read(path: String, names: LabelNames) throws -> [Int32: Double] {
        let text = try TextInput.read(path: path, what: "tolerance map")
        // `hint`: why a key that names no label may have been split from its value.
        var entries: [(key: String, mm: Double, place: String, hint: String)] = []
        if TextInput.looksLikeJSON(text) {
            guard let object = try TextInput.json(text, path: path, what: "tolerance map").objectValue else {
                throw InputError.badFile(path: path, reason: "tolerance map: expected a JSON object of label → mm")
            }
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                guard case .number = value, let mm = value.doubleValue else {
                    if case .int(let mm) = value {
                        entries.append((key, Double(mm), "key \"\(key)\"", ""))
                        continue
                    }
                    throw InputError.badFile(path: path, reason: "tolerance of '\(key)' is not a number")
                }
                entries.append((key, mm, "key \"\(key)\"", ""))
            }
        } else {
            for line in TextInput.lines(text) {
                let fields = line.text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
                guard fields.count >= 2, let last = fields.last, let mm = Double(last) else {
                    throw InputError.badFile(path: path, reason: "line \(line.number): expected 'LABEL MM'")
                }
                // "3 1,5", a decimal comma, splits into the key "3 1" and 5 mm.
                let decimalComma =
                    fields.count >= 3 && line.text.contains(",") && fields.suffix(2).allSatisfy { Int($0) != nil }
                entries.append(
                    (
                        fields.dropLast().joined(separator: " "), mm, "line \(line.number)",
                        decimalComma ? " (a decimal comma? write 1.5, not 1,5)" : ""
                    ))
            }
        }
        var map: [Int32: Double] = [:]
        var place: [Int32: String] = [:]
        for entry in entries {
            guard entry.mm.isFinite else {
                throw InputError.badFile(path: path, reason: "tolerance of '\(entry.key)' is not a finite number")
            }
            guard entry.mm >= 0 else {
                throw InputError.badFile(path: path, reason: "tolerance of '\(entry.key)' must be ≥ 0 mm")
            }
            guard let label = Int32(entry.key) ?? names.label(named: entry.key) else {
                throw InputError.badFile(
                    path: path,
                    reason: "\(entry.place): '\(entry.key)' is neither a label value nor a known label name"
                        + entry.hint)
            }
            if let first = place[label] {
                throw InputError.usage(
                    "\(path): label \(label) is given twice (\(first) and \(entry.place)); give each label once")
            }
            map[label] = entry.mm
            place[label] = entry.place
        }
        return map
    }
}
