/// Path names taken apart without Foundation's `NSString.deletingLastPathComponent`, which
/// traps on a one-character name (`"a"`, `"a/"`) in swift-corelibs-foundation 6.3:
/// `compare … --output x` crashed with "Illegal instruction".
public enum PathName {
    /// The folder part of `path`, as `deletingLastPathComponent` gives it: `"/a/b"` → `"/a"`,
    /// `"/a"` → `"/"`, `"a"` → `""`, `"a/b/"` → `"a"`, `"/"` → `"/"`.
    public static func folder(of path: String) -> String {
        var name = Substring(path)
        while name.count > 1 && name.hasSuffix("/") { name = name.dropLast() }
        guard let slash = name.lastIndex(of: "/") else { return "" }
        var folder = name[..<slash]
        while folder.hasSuffix("/") { folder = folder.dropLast() }
        return folder.isEmpty ? "/" : String(folder)
    }
}
