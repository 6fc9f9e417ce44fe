import Foundation
import Testing

@testable import MaskEval

/// `OutputFile.write` syncs the temporary file (with all its data) before renaming it over
/// the target, then syncs the folder; a failed sync is a write error (exit 74) like the others.
/// `fsync` is replaced, for the writes of each test only, by a stand-in that records or fails.
@Suite struct OutputSyncTests {
    /// What the stand-in saw at each call: the file behind the descriptor, its kind and size,
    /// and whether the target existed yet.
    struct Call: Equatable {
        var path: String
        var isFolder: Bool
        var size: Int
        var targetExisted: Bool
    }

    final class Recorder: @unchecked Sendable {
        let lock = NSLock()
        var calls: [Call] = []
        func append(_ call: Call) {
            lock.lock()
            calls.append(call)
            lock.unlock()
        }
    }

    static func path(of descriptor: Int32) -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)")) ?? "?"
    }

    static func isFolder(_ descriptor: Int32) -> Bool {
        var info = stat()
        return fstat(descriptor, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    static func temporaries(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.contains(".tmp-") }
    }

    @Test func temporaryIsSyncedWholeBeforeTheRenameThenTheFolder() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let target = folder + "/out.json"
        let recorder = Recorder()
        let text = String(repeating: "row\n", count: 5000)
        let recording: @Sendable (Int32) -> Int32 = { descriptor in
            var info = stat()
            _ = fstat(descriptor, &info)
            recorder.append(
                Call(
                    path: Self.path(of: descriptor), isFolder: Self.isFolder(descriptor), size: Int(info.st_size),
                    targetExisted: FileManager.default.fileExists(atPath: target)))
            return fsync(descriptor)
        }
        try OutputFile.$syncForTests.withValue(recording) { try OutputFile.write(text, to: target) }
        let calls = recorder.calls
        try #require(calls.count == 2, "\(calls)")
        let resolved = try #require(realpath(folder, nil))
        let real = String(cString: resolved)
        free(resolved)
        #expect(calls[0].path.hasPrefix(real + "/.out.json.tmp-") && !calls[0].isFolder, "\(calls[0])")
        #expect(calls[0].size == text.utf8.count && !calls[0].targetExisted, "\(calls[0])")
        #expect(calls[1].path == real && calls[1].isFolder && calls[1].targetExisted, "\(calls[1])")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == text)
    }

    /// A sync of the data that fails (EIO, as a failing disk gives): exit 74 naming the
    /// target and the cause; the temporary is removed and an existing target left as it was.
    @Test(arguments: [false, true])
    func failedSyncOfTheDataIsAWriteError(targetExists: Bool) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let target = folder + "/rows.csv"
        if targetExists { try "old\n".write(toFile: target, atomically: false, encoding: .utf8) }
        let failing: @Sendable (Int32) -> Int32 = { descriptor in
            if Self.isFolder(descriptor) { return fsync(descriptor) }
            errno = EIO
            return -1
        }
        #expect {
            try OutputFile.$syncForTests.withValue(failing) { try OutputFile.write("new\n", to: target) }
        } throws: { error in
            guard let error = error as? OutputError else { return false }
            return error.exitStatus == .cannotWrite && error.path == target
                && error.description.contains("its data cannot be synced to disk (Input/output error)")
        }
        #expect(Self.temporaries(in: folder).isEmpty)
        #expect((try? String(contentsOfFile: target, encoding: .utf8)) == (targetExists ? "old\n" : nil))
    }

    /// A sync of the folder that fails: the file is in place, and the run says it may not
    /// survive a crash (exit 74); EINVAL (a file system that cannot sync folders) is no error.
    @Test func failedSyncOfTheFolderIsAWriteError() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let target = folder + "/summary.json"
        for (code, fails) in [(EIO, true), (EINVAL, false)] {
            let failing: @Sendable (Int32) -> Int32 = { descriptor in
                guard Self.isFolder(descriptor) else { return fsync(descriptor) }
                errno = code
                return -1
            }
            do {
                try OutputFile.$syncForTests.withValue(failing) { try OutputFile.write("{}\n", to: target) }
                #expect(!fails)
            } catch let error as OutputError {
                #expect(fails, "\(error)")
                #expect(error.description.contains("renamed into place, but folder"), "\(error)")
                #expect(error.description.contains("cannot be synced to disk (Input/output error)"), "\(error)")
            }
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "{}\n")
            #expect(Self.temporaries(in: folder).isEmpty)
        }
    }
}
