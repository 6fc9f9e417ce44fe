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
                throw OutputError(path: path, reason: "the folder cannot be made")
            }
        }
        guard FileManager.default.isWritableFile(atPath: path) else {
            throw OutputError(path: path, reason: "the folder is not writable")
        }
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
