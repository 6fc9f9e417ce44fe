import Foundation
import Synchronization

/// Every output MaskEval writes goes through here.
///
/// - A regular file (or a new one) is written whole or not at all: to a temporary file in
///   the target's folder, synced to disk, then renamed over it (the folder synced after), keeping
///   an existing file's mode: after a crash or a power loss the target holds its old content
///   or the new, never an empty or partial file. A failed
///   write removes the temporary file and names the cause ("No space left on device"); so
///   does SIGINT, SIGTERM or SIGHUP once `removeTemporariesOnSignals` has been called (the
///   CLI does, at start).
/// - A symbolic link stays a link: its target gets the data.
/// - A FIFO, a device or `/dev/stdout` is written to directly, never replaced.
public enum OutputFile {
    /// Fails with exit 74 before any work when `path` cannot be written.
    public static func checkWritable(_ path: String) throws {
        let target = resolved(path)
        var info = stat()
        if stat(target, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { throw OutputError(path: path, reason: "it is a directory") }
            guard access(target, W_OK) == 0 else { throw OutputError(path: path, reason: "permission denied") }
            if info.st_mode & S_IFMT != S_IFREG { return }
        }
        let folder = PathName.folder(of: target)
        let directory = folder.isEmpty ? "." : folder
        var folderInfo = stat()
        guard stat(directory, &folderInfo) == 0, folderInfo.st_mode & S_IFMT == S_IFDIR else {
            throw OutputError(path: path, reason: "folder \(directory) does not exist")
        }
        guard access(directory, W_OK) == 0 else {
            throw OutputError(path: path, reason: "folder \(directory) is not writable")
        }
    }

    /// Refuses (usage error) a volume output (`--error-map`, `--lesion-map`, …) under a name
    /// no reader takes back: a pair is written by its header's name (`x.hdr` writes `x.img`
    /// too), so `x.img` would be one file of single-file NIfTI that reads as a pair missing its
    /// header; any other ending than `.nii`, `.nii.gz`, `.hdr`, `.hdr.gz` is no NIfTI name. A
    /// device or FIFO (`/dev/stdout`) is written as it is.
    public static func checkVolumeName(_ path: String, option: String) throws {
        var info = stat()
        if stat(path, &info) == 0 && info.st_mode & S_IFMT != S_IFREG && info.st_mode & S_IFMT != S_IFDIR { return }
        let lower = path.lowercased()
        if lower.hasSuffix(".img") || lower.hasSuffix(".img.gz") {
            let gzip = lower.hasSuffix(".gz")
            let header = String(path.dropLast(gzip ? 7 : 4)) + ".hdr" + (gzip ? ".gz" : "")
            throw InputError.usage(
                "\(option) \(path): a .hdr/.img pair is named by its header; give \(header) (its .img half comes with it)"
            )
        }
        guard [".nii", ".nii.gz", ".hdr", ".hdr.gz"].contains(where: { lower.hasSuffix($0) }) else {
            throw InputError.usage(
                "\(option) \(path): not a NIfTI name; end it in .nii, .nii.gz or .hdr (a .hdr/.img pair)")
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(bytes: Array(text.utf8), to: path)
    }

    public static func write(data: Data, to path: String) throws {
        try write(bytes: [UInt8](data), to: path)
    }

    public static func write(bytes: [UInt8], to path: String) throws {
        let target = resolved(path)
        var info = stat()
        let exists = stat(target, &info) == 0
        if exists && info.st_mode & S_IFMT != S_IFREG {
            // A FIFO, a terminal, /dev/stdout, /dev/null: write straight into it.
            let descriptor = open(target, O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw OutputError(path: path, reason: String(cString: strerror(errno))) }
            defer { close(descriptor) }
            if let reason = writeAll(descriptor, bytes) { throw OutputError(path: path, reason: reason) }
            return
        }
        try checkWritable(path)
        let folder = PathName.folder(of: target)
        let name = (target as NSString).lastPathComponent
        let temporary =
            (folder.isEmpty ? "" : folder + "/") + ".\(name).tmp-\(getpid())-\(UUID().uuidString.prefix(8))"
        let mode = exists ? info.st_mode & 0o7777 : 0o666
        // Listed before it exists, so that a signal at any point after the open removes it.
        let pending = PendingTemporaries.add(temporary)
        defer { pending.map(PendingTemporaries.remove) }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw OutputError(path: path, reason: String(cString: strerror(errno))) }
        var failure = writeAll(descriptor, bytes)
        if let pause = testPauseBeforeRename { usleep(UInt32(pause * 1_000_000)) }
        if failure == nil && exists && fchmod(descriptor, mode) != 0 { failure = String(cString: strerror(errno)) }
        // The data reach the disk before the rename makes them the target: without it, a
        // file system may commit the rename first, and a crash leaves an empty target.
        if failure == nil && sync(descriptor) != 0 {
            failure = "its data cannot be synced to disk (\(String(cString: strerror(errno))))"
        }
        if close(descriptor) != 0 && failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil && rename(temporary, target) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw OutputError(path: path, reason: failure)
        }
        // The rename reaches the disk too (it is an entry of the folder).
        if let reason = syncFolder(folder.isEmpty ? "." : folder) {
            throw OutputError(path: path, reason: reason)
        }
    }

    /// Test only: a stand-in for `fsync` (for the tests of its failures), set with
    /// `$syncForTests.withValue`; it applies to the writes of that task only.
    @TaskLocal static var syncForTests: (@Sendable (Int32) -> Int32)? = nil

    /// `fsync(descriptor)`: 0, or -1 with `errno` set.
    static func sync(_ descriptor: Int32) -> Int32 {
        if let stand = syncForTests { return stand(descriptor) }
        while true {
            let result = fsync(descriptor)
            if result == 0 || errno != EINTR { return result }
        }
    }

    /// Syncs the folder `path` (its entries: a rename in it); the error text on failure. A
    /// folder that cannot be opened for reading (write-only) or a file system that cannot
    /// sync folders (EINVAL) is left as it is: nothing more can be done there.
    static func syncFolder(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        if sync(descriptor) != 0 && errno != EINVAL {
            let reason = String(cString: strerror(errno))
            return "renamed into place, but folder \(path) cannot be synced to disk (\(reason))"
        }
        return nil
    }

    /// Test only: `MASKEVAL_TEST_PAUSE_BEFORE_RENAME=SECONDS` makes every write wait that
    /// long after its data are in the temporary file, before the rename, so that a test can
    /// signal the process while a temporary exists (read once; at most 60 s).
    static let testPauseBeforeRename: Double? = {
        guard let text = getenv("MASKEVAL_TEST_PAUSE_BEFORE_RENAME").map({ String(cString: $0) }),
            let seconds = Double(text), seconds > 0
        else { return nil }
        return min(seconds, 60)
    }()

    /// Removes the temporary files of writes in progress when SIGINT, SIGTERM or SIGHUP
    /// arrives, then ends the process by that signal (its default action, so the exit status
    /// still says "killed by signal"). A signal ignored at the call (`nohup`) stays ignored.
    /// For a program's entry point: a library inside another program (Python) leaves that
    /// program's handlers alone, and does not call it.
    public static func removeTemporariesOnSignals() {
        PendingTemporaries.installHandlers()
    }

    /// Writes every byte; the error text on failure.
    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> String? {
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            if count == 0 { return "the device accepts no more data" }
            written += count
        }
        return nil
    }

    /// The file a path names, symbolic links followed (also a dangling link's target, which
    /// the write then creates).
    static func resolved(_ path: String) -> String {
        var info = stat()
        if stat(path, &info) == 0 {
            // It exists: a device or FIFO is opened by its own name (/dev/stdout leads to
            // /proc/self/fd/1, whose link text is no path); a file by its real path.
            guard info.st_mode & S_IFMT == S_IFREG, let real = realpath(path, nil) else { return path }
            defer { free(real) }
            return String(cString: real)
        }
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(current, &buffer, buffer.count - 1)
            guard count > 0 else { return current }
            let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current =
                target.hasPrefix("/")
                ? target : (PathName.folder(of: current) as NSString).appendingPathComponent(target)
        }
        return current
    }

    /// Refuses (usage error) an output that is also an input, or two outputs on one file:
    /// the reference would be silently replaced otherwise. `outputs` and `inputs` are
    /// (option, path) pairs; devices and FIFOs may repeat. A `.hdr`/`.img` path stands for
    /// both halves of its pair (`pairHalves`): `--lesion-map x.hdr` also writes `x.img`, and a
    /// reference given as `x.img` is read with its `x.hdr`.
    public static func checkDistinct(outputs: [(String, String)], inputs: [(String, String)]) throws {
        var seen: [String: String] = [:]
        for (option, path) in inputs {
            for half in pairHalves(path, reading: true) {
                guard let key = identity(half, regularOnly: false), seen[key] == nil else { continue }
                seen[key] = half == path ? option : "\(option) (its \(half) half)"
            }
        }
        for (option, path) in outputs {
            var mine: [String] = []
            for half in pairHalves(path, reading: false) {
                guard let key = identity(half, regularOnly: true) else { continue }
                if let other = seen[key] {
                    let what = half == path ? "\(option) \(path) is" : "\(option) \(path) also writes \(half), which is"
                    throw InputError.usage("\(what) the same file as \(other); write elsewhere")
                }
                mine.append(key)
            }
            for key in mine { seen[key] = option }
        }
    }

    /// `path` and, when it names one half of a `.hdr`/`.img` pair (any case, gzip-compressed
    /// or not), the other half: when `reading`, every name the reader tries for it (`.img`,
    /// `.img.gz`, `.IMG`, …); when writing, the `.img` a `.hdr` brings (same case, same
    /// compression: `x.hdr` writes `x.img`). Other paths stand for themselves.
    static func pairHalves(_ path: String, reading: Bool) -> [String] {
        let lower = path.lowercased()
        let gzip = lower.hasSuffix(".gz")
        let bare = gzip ? String(path.dropLast(3)) : path
        let ending = String(bare.suffix(4))
        guard [".hdr", ".img"].contains(ending.lowercased()), bare.count > 4 else { return [path] }
        let stem = String(bare.dropLast(4))
        let other = ending.lowercased() == ".hdr" ? ".img" : ".hdr"
        let upper = ending == ending.uppercased()
        guard reading else {
            // Only a header drags its data half along; an `.img` output is one file (and a
            // volume output is never named so: `checkVolumeName`).
            guard other == ".img" else { return [path] }
            return [path, stem + (upper ? other.uppercased() : other) + (gzip ? ".gz" : "")]
        }
        return [path]
            + [other, other.uppercased()].flatMap { name in ["", ".gz", ".GZ"].map { stem + name + $0 } }
    }

    /// A key naming the file behind `path`: device and inode when it exists, else its
    /// resolved absolute path; nil for devices and FIFOs when `regularOnly`.
    static func identity(_ path: String, regularOnly: Bool) -> String? {
        let target = resolved(path)
        var info = stat()
        if stat(target, &info) == 0 {
            if regularOnly && info.st_mode & S_IFMT != S_IFREG { return nil }
            return "\(info.st_dev):\(info.st_ino)"
        }
        let absolute = target.hasPrefix("/") ? target : FileManager.default.currentDirectoryPath + "/" + target
        return (absolute as NSString).standardizingPath
    }
}

/// The temporary files being written, in a fixed table of C strings that a signal handler
/// can read without allocating or locking (async-signal-safe: it calls only `unlink`,
/// `signal` and `raise`). Writers take `lock`; a slot's path is complete before the slot is
/// marked in use, and cleared only after the temporary is renamed or removed (a handler that
/// then unlinks the old name finds nothing).
enum PendingTemporaries {
    /// Writes in progress at once beyond this are not listed (their temporary may stay if
    /// the process is killed); the CLI has a few at most.
    static let capacity = 64
    /// Bytes per path, with its terminating NUL.
    static let pathBytes = Int(PATH_MAX)

    /// Allocated once, never freed: the handler reads only this memory. `calloc`: 256 KiB
    /// of zero pages that cost nothing until a slot is written (filling them cost every run,
    /// `--version` included, 64 page faults).
    nonisolated(unsafe) static let paths: UnsafeMutablePointer<CChar> = {
        if let zeroed = calloc(capacity * pathBytes, 1) {
            return zeroed.bindMemory(to: CChar.self, capacity: capacity * pathBytes)
        }
        let table = UnsafeMutablePointer<CChar>.allocate(capacity: capacity * pathBytes)
        table.initialize(repeating: 0, count: capacity * pathBytes)
        return table
    }()
    /// 1 where a slot holds the path of a temporary that may exist.
    nonisolated(unsafe) static let inUse: UnsafeMutablePointer<Int32> = {
        let flags = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        flags.initialize(repeating: 0, count: capacity)
        return flags
    }()
    static let lock = NSLock()

    /// Lists `path`; its slot, or nil when the table is full or the path too long.
    static func add(_ path: String) -> Int? {
        let bytes = Array(path.utf8CString)
        guard bytes.count <= pathBytes else { return nil }
        lock.lock()
        defer { lock.unlock() }
        guard let slot = (0..<capacity).first(where: { inUse[$0] == 0 }) else { return nil }
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { (paths + slot * pathBytes).update(from: base, count: source.count) }
        }
        // The whole path is in memory before any handler can see the slot in use.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        inUse[slot] = 1
        return slot
    }

    static func remove(_ slot: Int) {
        lock.lock()
        defer { lock.unlock() }
        inUse[slot] = 0
        atomicMemoryFence(ordering: .sequentiallyConsistent)
    }

    static func installHandlers() {
        // Made before any handler can run: the handler never initializes them.
        _ = (paths, inUse)
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            var old = sigaction()
            guard sigaction(signal, nil, &old) == 0 else { continue }
            let ignored = unsafeBitCast(SIG_IGN, to: Int.self)
            if old.__sigaction_handler.sa_handler.map({ unsafeBitCast($0, to: Int.self) }) == ignored { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = removePendingTemporaries
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
    }
}

/// The signal handler: unlinks every listed temporary, then lets `signal` end the process
/// as it would have without the handler.
private func removePendingTemporaries(_ signal: Int32) {
    let paths = PendingTemporaries.paths
    let inUse = PendingTemporaries.inUse
    for slot in 0..<PendingTemporaries.capacity where inUse[slot] != 0 {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        unlink(paths + slot * PendingTemporaries.pathBytes)
    }
    Glibc.signal(signal, SIG_DFL)
    raise(signal)
}

/// Standard output, with write errors reported (`> /dev/full` exits 74, not 0).
public enum StandardOutput {
    public static func write(_ text: String) throws {
        if let reason = OutputFile.writeAll(1, Array(text.utf8)) {
            throw OutputError(path: "<stdout>", reason: reason)
        }
    }
}
