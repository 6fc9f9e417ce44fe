import MaskEval
import Testing

/// `PathName.folder(of:)` gives what `NSString.deletingLastPathComponent` gives, without
/// its trap on one-character names.
struct PathNameTests {
    @Test(arguments: [
        ("a", ""), ("a/", ""), ("ab", ""), ("/a", "/"), ("/", "/"), ("/a/b", "/a"), ("a/b/", "a"),
        ("a//b", "a"), ("./x", "."), ("../r.csv", ".."), ("/tmp/out/x.json", "/tmp/out"),
    ])
    func folderOfAPath(path: String, folder: String) {
        #expect(PathName.folder(of: path) == folder)
    }
}
