import Foundation

/// Small text inputs (label names, tolerance maps, pairs lists, row files): read whole, as
/// UTF-8 without a byte-order mark and with CRLF line ends made LF. A FIFO, device or folder
/// is refused without blocking; binary data is "not a text file", never printed.
public enum TextInput {
    /// Text files larger than this are refused (a label-name or row file is far smaller).
    public static let limitBytes = 1 << 30

    public static func read(path: String, what: String) throws -> String {
        // One reader for every small input: regular files only, opened without blocking.
        let data = try InputFile.readData(path: path, limitBytes: limitBytes)
        return try decode([UInt8](data), path: path, what: what)
    }

    /// UTF-8 text without BOM and with LF line ends; NUL bytes or invalid UTF-8 are refused.
    static func decode(_ bytes: [UInt8], path: String, what: String) throws -> String {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        guard !body.contains(0), let text = String(validating: body, as: UTF8.self) else {
            throw InputError.badFile(path: path, reason: "\(what) is not a text file (UTF-8)")
        }
        return text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    }

    /// The lines of `text` with their 1-based numbers, blank lines and `#` comments left out.
    static func lines(_ text: String) -> [(number: Int, text: String)] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { offset, line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty || trimmed.hasPrefix("#") ? nil : (offset + 1, trimmed)
        }
    }

    /// Parses a JSON input with the project's exact parser; errors name the file.
    static func json(_ text: String, path: String, what: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(text)
        } catch {
            throw InputError.badFile(path: path, reason: "\(what): \(error)")
        }
    }

    /// Whether `text` is JSON rather than lines.
    static func looksLikeJSON(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.hasPrefix("{") || trimmed.hasPrefix("[")
    }
}
