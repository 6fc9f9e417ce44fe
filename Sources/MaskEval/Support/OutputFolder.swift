import Foundation

/// An output folder (`--surfaces`, `--html-cases`): created when missing (with its parents);
/// fails with exit 74 naming the folder when it cannot be made or written, before any work.
public enum OutputFolder {
    public static func prepare(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw OutputError(path: path, reason: "it is not a folder") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw OutputError(path: path, reason: "the folder cannot be made (\(obstacle(path)))")
            }
        }
        guard FileManager.default.isWritableFile(atPath: path) else {
            throw OutputError(path: path, reason: "the folder is not writable")
        }
    }

    /// Why the folder `path` cannot be made: the nearest existing path above it, and what keeps
    /// a folder from being made there (a file in the way, `Permission denied`, `Read-only file
    /// system`).
    static func obstacle(_ path: String) -> String {
        var above = PathName.folder(of: path)
        while !above.isEmpty && above != "/" && !FileManager.default.fileExists(atPath: above) {
            above = PathName.folder(of: above)
        }
        let shown = above.isEmpty ? "." : above
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: shown, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "\(shown) is not a folder"
        }
        guard access(shown, W_OK | X_OK) != 0 else { return "\(shown) refused it" }
        return "\(shown): " + String(cString: strerror(errno))
    }

    /// The path of `file` in `folder`.
    public static func path(_ folder: String, _ file: String) -> String {
        folder.hasSuffix("/") ? folder + file : folder + "/" + file
    }
}

extension OutputFolder {
    /// The path of `target` relative to the folder `from` (both taken from the current
    /// directory when relative), for links between reports.
    public static func relative(_ target: String, from folder: String) -> String {
        let base = URL(fileURLWithPath: folder, isDirectory: true).standardizedFileURL.pathComponents
        let goal = URL(fileURLWithPath: target).standardizedFileURL.pathComponents
        var common = 0
        while common < base.count && common < goal.count - 1 && base[common] == goal[common] { common += 1 }
        let up = [String](repeating: "..", count: base.count - common)
        return (up + goal[common...]).joined(separator: "/")
    }
}
