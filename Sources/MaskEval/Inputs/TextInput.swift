import Foundation

/// Small text inputs (label names, tolerance maps, pairs lists, row files): read whole, as
/// UTF-8 without a byte-order mark and with CRLF line ends made LF. A FIFO, device or folder
/// is refused without blocking; binary data is "not a text file", never printed.
public enum TextInput {
    /// Text files larger than this are refused (a label-name or row file is far smaller).
    public static let limitBytes = 1 << 30

    public static func read(path: String, what: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw InputError.missingFile(path: path)
            case ELOOP: throw InputError.unreadable(path: path, reason: "too many levels of symbolic links")
            default: throw InputError.unreadable(path: path, reason: String(cString: strerror(code)))
            }
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw InputError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            let kind = info.st_mode & S_IFMT == S_IFDIR ? "a folder" : "not a regular file"
            throw InputError.unreadable(path: path, reason: "\(what) is \(kind)")
        }
        guard Int(info.st_size) <= limitBytes else {
            throw InputError.badFile(path: path, reason: "\(what) is larger than \(limitBytes >> 20) MiB")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            let count = bytes[filled...].withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            filled += count
        }
        return try decode(Array(bytes[0..<filled]), path: path, what: what)
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
