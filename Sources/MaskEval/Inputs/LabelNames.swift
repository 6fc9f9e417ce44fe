import Foundation

/// Label names read from a file, in any of three formats:
/// - text with "value name" per line, extra columns ignored (the `.txt` files beside
///   Debian's mricron atlases: `1 Precentral_L 2001`);
/// - ITK-SNAP label descriptions (`IDX R G B A VIS MSH "LABEL"`, `#` comments);
/// - a JSON object `{"1": "liver"}`.
public struct LabelNames: Equatable, Sendable {
    public var names: [Int32: String]

    public init(_ names: [Int32: String] = [:]) { self.names = names }

    public subscript(label: Int32) -> String? { names[label] }

    /// Reads and parses a names file; errors name the file and the line.
    public static func read(path: String) throws -> LabelNames {
        guard FileManager.default.fileExists(atPath: path) else { throw InputError.missingFile(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError.badFile(path: path, reason: "cannot read the label-name file")
        }
        guard let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) else {
            throw InputError.badFile(path: path, reason: "label-name file is not text")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> LabelNames {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") { return try parseJSON(trimmed, path: path) }
        var names: [Int32: String] = [:]
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
        {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
            guard let first = fields.first, let label = Int32(first) else {
                throw InputError.badFile(
                    path: path, reason: "line \(number + 1): expected a label value first, found '\(line.prefix(40))'")
            }
            if let open = line.firstIndex(of: "\""), let close = line.lastIndex(of: "\""), open < close {
                // ITK-SNAP: the name is the quoted last field.
                names[label] = String(line[line.index(after: open)..<close])
            } else if fields.count >= 2 {
                names[label] = String(fields[1])
            } else {
                throw InputError.badFile(path: path, reason: "line \(number + 1): label \(label) has no name")
            }
        }
        return LabelNames(names)
    }

    private static func parseJSON(_ text: String, path: String) throws -> LabelNames {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw InputError.badFile(path: path, reason: "not a JSON object of label → name")
        }
        var names: [Int32: String] = [:]
        for (key, value) in object {
            guard let label = Int32(key.trimmingCharacters(in: .whitespaces)) else {
                throw InputError.badFile(path: path, reason: "JSON key '\(key)' is not an integer label")
            }
            guard let name = value as? String else {
                throw InputError.badFile(path: path, reason: "JSON value of label \(key) is not a string")
            }
            names[label] = name
        }
        return LabelNames(names)
    }
}
