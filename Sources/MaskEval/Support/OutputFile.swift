import Foundation

/// Report files are written whole or not at all: to a temporary file in the same folder,
/// then renamed over the target.
public enum OutputFile {
    /// Fails with exit 74 before any work when `path` cannot be created.
    public static func checkWritable(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw OutputError(path: path, reason: "it is a directory") }
            if !FileManager.default.isWritableFile(atPath: path) {
                throw OutputError(path: path, reason: "permission denied")
            }
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OutputError(path: path, reason: "folder \(folder) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw OutputError(path: path, reason: "folder \(folder) is not writable")
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(data: Data(text.utf8), to: path)
    }

    public static func write(data: Data, to path: String) throws {
        try checkWritable(path)
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
        do {
            try data.write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw OutputError(path: path, reason: "\(error.localizedDescription)")
        }
        guard rename(temporary.path, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw OutputError(path: path, reason: reason)
        }
    }
}

/// Label lists as given to `--labels`: "1,3,5-9".
public enum LabelList {
    public static func parse(_ text: String) throws -> [Int32] {
        var labels: [Int32] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            let bounds = item.split(separator: "-", maxSplits: 1).map { String($0) }
            if bounds.count == 2, let low = Int32(bounds[0]), let high = Int32(bounds[1]), low <= high,
                Int(high) - Int(low) < 1_000_000
            {
                labels.append(contentsOf: low...high)
            } else if bounds.count == 1, let value = Int32(item) {
                labels.append(value)
            } else {
                throw InputError.usage("--labels: '\(item)' is not a label or a range like 5-9")
            }
        }
        if labels.contains(0) { throw InputError.usage("--labels: 0 is background and has no surface metrics") }
        var seen = Set<Int32>()
        return labels.filter { seen.insert($0).inserted }
    }
}
