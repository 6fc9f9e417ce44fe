import CDeflate
import CNIfTI

#if canImport(Glibc)
    import Glibc
#endif

/// The one owner of an input file handle, in swift-system's manner: every C call that
/// reads a volume is here, C return codes become `ReadError`s, and the descriptor is closed
/// by `withOpened`'s `defer`, whatever happens. The descriptor is the one `RegularFile.open`
/// checked (opening the path a second time could meet a FIFO swapped in after the check). A
/// plain file is read with `pread`; a gzip file is inflated by zlib's `inflate` (`GzipInput`),
/// member after member, and what follows the last member must be nothing: zlib's own `gzread`
/// ignored trailing bytes that are not another member without a word. A gzip file that is one
/// member whose trailer gives the expected size is inflated in one call by libdeflate instead
/// (`inflateWhole`), on the same descriptor.
final class ReadHandle {
    let path: String
    /// The file's size on disk (the compressed size of a gzip file).
    let sizeOnDisk: Int
    /// True when the file is a gzip stream (decided by its first two bytes, 1f 8b).
    let isCompressed: Bool
    private let fd: Int32
    /// The inflater of a gzip file (nil for a plain one).
    private let gzip: GzipInput?
    /// Where the next read starts in the (inflated) data.
    private var position = 0

    private init(path: String, fd: Int32, sizeOnDisk: Int, gzip: GzipInput?) {
        self.path = path
        self.fd = fd
        self.sizeOnDisk = sizeOnDisk
        self.isCompressed = gzip != nil
        self.gzip = gzip
    }

    /// The input buffer for reading a header and its extensions: with the 1 MiB buffer of
    /// the voxel path, each header read of a gzip file inflated up to 2 MiB of voxels it then
    /// threw away (about a third of the read phase of the AAL bench pair, whose data libdeflate
    /// inflates in 1.5 ms a file).
    static let headerBuffer = 16 << 10

    /// Opens `path` (a regular file, checked without blocking by `RegularFile.open`), hands
    /// it to `body` and closes it when `body` returns or throws. `buffer`: the compressed
    /// bytes read per call from a gzip file (1 MiB for voxel data: fewer read calls;
    /// `headerBuffer` for headers).
    static func withOpened<T>(path: String, buffer: Int = 1 << 20, _ body: (ReadHandle) throws -> T) throws -> T {
        let (fd, size) = try RegularFile.open(path)
        defer { Glibc.close(fd) }
        var magic: (UInt8, UInt8) = (0, 0)
        let peeked = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) }
        let compressed = peeked == 2 && magic == (0x1F, 0x8B)
        let gzip = compressed ? try GzipInput(fd: fd, path: path, size: size, bufferBytes: buffer) : nil
        return try body(ReadHandle(path: path, fd: fd, sizeOnDisk: size, gzip: gzip))
    }

    /// Reads up to `buffer.count` bytes; fewer only at the end of the data. A gzip stream
    /// that is corrupt, or followed by bytes that are not another gzip member, throws (a
    /// truncated one just ends early; `readToEnd` says so).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let done = try gzip.map { try $0.inflate(into: buffer) } ?? readPlain(into: buffer)
        position += done
        return done
    }

    private func readPlain(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let got = pread(fd, base + done, buffer.count - done, off_t(position + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw ReadError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// Reads `buffer.count - 1` bytes that end the data, like `read`, and returns how many
    /// came (`buffer.count` when bytes follow the data). Of a gzip stream, the rest of the
    /// stream is inflated too (and thrown away), so that its trailers are checked (CRC-32 and
    /// size) and what follows its last member is seen: `gzread` ended a truncated stream
    /// quietly, so a file that lost its 8-byte trailer, as an interrupted copy does, read as
    /// whole with its data never checked.
    func readToEnd(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let gzip else { return try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer.dropLast())) }
        let got = try read(into: buffer)
        if got == buffer.count { try gzip.drain() }
        // Short of the data: the caller says how much was read.
        if gzip.isTruncated && got >= buffer.count - 1 {
            throw ReadError.invalid(
                path: path,
                reason: "the gzip stream is truncated (it ends before its trailer, so its data cannot be checked)")
        }
        return got
    }

    /// Up to `count` bytes (fewer at the end of the data).
    func read(upTo count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBytes { try read(into: $0) }
        return Array(bytes.prefix(got))
    }

    /// Moves to byte `offset` of the (decompressed) data without reading it into memory: a
    /// gzip stream is inflated and discarded up to there (from its start when `offset` lies
    /// behind). A position past the end is not an error here: the next read returns nothing.
    func seek(to offset: Int) throws {
        guard let gzip else {
            position = offset
            return
        }
        if offset < position {
            gzip.rewind()
            position = 0
        }
        position += try gzip.skip(offset - position)
        // Past the end: nothing more to read.
        if position < offset { position = offset }
    }
}

/// zlib's `inflate` over a gzip file's descriptor, member after member (RFC 1952 allows
/// several, and `cat a.gz b.gz` makes them): the data of every member, in order. After the
/// last member the file must end (or hold only zero padding, which `gzip` and Python skip);
/// other bytes there that do not start another member are refused ("trailing data after the
/// gzip stream"), as `gzip -t` reports them ("trailing garbage
/// ignored", exit 2) and Python's gzip module refuses them ("Not a gzipped file"). Refused,
/// not noted: the data read are whole and checked, but such a file was written over a longer
/// one or appended to by something else, and a pipeline that reads it should stop and say so.
final class GzipInput {
    private let fd: Int32
    private let path: String
    private let size: Int
    /// zlib keeps a pointer back to the stream it was set up on: it must not move.
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    /// Where the next compressed bytes are read from.
    private var fileOffset = 0
    /// All members read and the file ended after the last.
    private var finished = false
    /// The file ended inside a member (zlib's "unexpected end of file").
    private(set) var isTruncated = false

    init(fd: Int32, path: String, size: Int, bufferBytes: Int) throws {
        self.fd = fd
        self.path = path
        self.size = size
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: max(bufferBytes, 64), alignment: 16)
        // windowBits 15 + 16: gzip only (header, CRC-32 and ISIZE checked by zlib).
        guard inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            input.deallocate()
            stream.deallocate()
            throw ReadError.unreadable(path: path, reason: "zlib could not set up inflation (out of memory)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// Back to the start of the file.
    func rewind() {
        inflateReset(stream)
        stream.pointee.avail_in = 0
        fileOffset = 0
        finished = false
        isTruncated = false
    }

    /// Inflates into `buffer`; returns how many bytes came (fewer only at the end of the data).
    func inflate(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count && !finished && !isTruncated {
            if stream.pointee.avail_in == 0 {
                guard try refill() > 0 else {
                    isTruncated = true
                    break
                }
            }
            // avail_out is a 32-bit count: at most 1 GiB per call.
            let chunk = min(buffer.count - done, 1 << 30)
            stream.pointee.next_out = (base + done).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(chunk)
            let status = CNIfTI.inflate(stream, Z_NO_FLUSH)
            done += chunk - Int(stream.pointee.avail_out)
            switch status {
            case Z_STREAM_END: try nextMember()
            case Z_OK, Z_BUF_ERROR: continue
            default:
                // zlib's own words (e.g. "incorrect data check": a bad CRC-32).
                let detail = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
                throw ReadError.invalid(path: path, reason: "the gzip stream is corrupt (zlib: \(detail))")
            }
        }
        return done
    }

    /// Inflates up to `count` bytes and throws them away; returns how many there were.
    func skip(_ count: Int) throws -> Int {
        guard count > 0 else { return 0 }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: min(count, 1 << 20), alignment: 16)
        defer { scratch.deallocate() }
        var done = 0
        while done < count {
            let part = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<min(scratch.count, count - done)])
            let got = try inflate(into: part)
            done += got
            if got < part.count { break }
        }
        return done
    }

    /// Inflates the rest of the stream, throwing it away: its trailers are checked and what
    /// follows its last member is seen.
    func drain() throws {
        while try skip(1 << 30) == 1 << 30 {}
    }

    /// After a member's end: the file ends there, or another member starts (zlib set up again
    /// for it), or else the bytes there are refused.
    private func nextMember() throws {
        if stream.pointee.avail_in < 2 {
            // Keep the one byte that may be left, then read more after it.
            let left = Int(stream.pointee.avail_in)
            if left == 1, let next = stream.pointee.next_in { input[0] = next.pointee }
            _ = try refill(keeping: left)
        }
        let available = Int(stream.pointee.avail_in)
        if available == 0 {
            finished = true
            return
        }
        let next = stream.pointee.next_in
        if available >= 2, let next, next[0] == 0x1F && next[1] == 0x8B {
            inflateReset(stream)
            return
        }
        let start = fileOffset - available
        // Zero padding (tape blocks, preallocated files) carries no data: GNU gzip and
        // Python's gzip module skip it without a word, and so does this reader.
        if try restIsZero(from: start) {
            finished = true
            return
        }
        throw ReadError.invalid(
            path: path,
            reason: "trailing data after the gzip stream: its \(size - start) bytes from byte \(start) "
                + "are not another gzip member (the file was written over a longer one, or appended to)")
    }

    /// Whether every byte of the file from `start` to its end is zero (read in 64 KiB
    /// pieces, outside the input buffer).
    private func restIsZero(from start: Int) throws -> Bool {
        var piece = [UInt8](repeating: 0, count: 1 << 16)
        var offset = start
        while offset < size {
            let got = piece.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { throw ReadError.unreadable(path: path, reason: String(cString: strerror(errno))) }
            if got == 0 { break }
            if piece[..<got].contains(where: { $0 != 0 }) { return false }
            offset += got
        }
        return true
    }

    /// Reads compressed bytes into the input buffer after the first `keeping` (already
    /// there); returns how many were read (0 at the end of the file).
    @discardableResult
    private func refill(keeping: Int = 0) throws -> Int {
        guard let base = input.baseAddress else { return 0 }
        while true {
            let got = pread(fd, base + keeping, input.count - keeping, off_t(fileOffset))
            if got < 0 && errno == EINTR { continue }
            if got < 0 { throw ReadError.unreadable(path: path, reason: String(cString: strerror(errno))) }
            fileOffset += got
            stream.pointee.next_in = base.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = uInt(keeping + got)
            return got
        }
    }
}

extension ReadHandle {
    /// The smallest gzip member: a 10-byte header, an empty deflate block, an 8-byte trailer.
    static let minimumGzipSize = 20

    /// Inflates the whole file, a gzip stream, in one call into `destination` when the file
    /// is a single gzip member of exactly `destination.count` inflated bytes (its trailer's
    /// ISIZE says so, and inflation confirms it with the CRC-32) and at most
    /// `maxCompressedBytes` long. Returns false, having changed nothing but `destination`,
    /// when any of that does not hold — a multi-member file, trailing bytes, a trailer that
    /// lies, corrupt or truncated data, a failed read — so that the caller falls back to the
    /// streaming path, which reads or refuses the file exactly as it always has. Call it
    /// before any `read` or `seek` (it reads with `pread` beside the gzip handle).
    ///
    /// Why libdeflate, not ISA-L: `scripts/read_floor.c`, both files of a pair into fresh
    /// buffers, best of 10, on the 2-core development machine (AMD EPYC, load average 4.5–5
    /// from other work): CT-sized pair (2 × 105 M uint8 voxels, 1.6 MB of gzip) zlib 0.360 s,
    /// libdeflate 0.122 s, ISA-L igzip 0.141 s; whole-body pair (2 × 224 M) 0.810 / 0.266 /
    /// 0.315 s; AAL pair 0.0215 / 0.0032 / 0.0043 s. libdeflate was faster in all but one of
    /// 12 such measurements here (the issue saw ISA-L 15 % ahead on a quiet machine); it
    /// checks the trailer's CRC-32 and ISIZE in the same call; and Debian ships its static
    /// archive (position-independent), which the static binary of scripts/scaling and the
    /// wheel need, but no libisal.a.
    func inflateWhole(into destination: UnsafeMutableRawBufferPointer, maxCompressedBytes: Int) -> Bool {
        let size = sizeOnDisk
        guard isCompressed, size >= Self.minimumGzipSize, size <= maxCompressedBytes,
            destination.count < 1 << 32, let target = destination.baseAddress
        else { return false }
        // ISIZE, the last 4 bytes, little-endian: the inflated size mod 2^32.
        var trailer: UInt32 = 0
        let got = withUnsafeMutableBytes(of: &trailer) { pread(fd, $0.baseAddress, 4, off_t(size - 4)) }
        guard got == 4, Int(UInt32(littleEndian: trailer)) == destination.count else { return false }
        let compressed = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { compressed.deallocate() }
        var done = 0
        while done < size {
            let got = pread(fd, compressed.baseAddress! + done, size - done, off_t(done))
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { return false }
            done += got
        }
        guard let decompressor = libdeflate_alloc_decompressor() else { return false }
        defer { libdeflate_free_decompressor(decompressor) }
        var consumed = 0
        var produced = 0
        let result = libdeflate_gzip_decompress_ex(
            decompressor, compressed.baseAddress, size, target, destination.count, &consumed, &produced)
        // All of the file was one member, and it filled the destination exactly.
        return result == LIBDEFLATE_SUCCESS && consumed == size && produced == destination.count
    }
}

/// Regular files only: `open` never blocks (a FIFO without a writer would hang a plain
/// open or read), and what is not a regular file is refused by its kind.
enum RegularFile {
    /// The error for a path that names no file; a dangling symbolic link says where it
    /// points ("no such file" named only the link, which does exist).
    static func missing(_ path: String) -> ReadError {
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(path, &buffer, buffer.count - 1)
            if count > 0 {
                let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return .unreadable(path: path, reason: "a symbolic link to '\(target)', which does not exist")
            }
        }
        return .missing(path: path)
    }

    /// A descriptor for reading `path` and the file's size. Refuses (exit 66) a missing
    /// file, a symbolic link loop, a directory, a FIFO, a device or a socket.
    static func open(_ path: String) throws -> (fd: Int32, size: Int) {
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: throw missing(path)
            case ELOOP: throw ReadError.unreadable(path: path, reason: "a loop of symbolic links")
            case EACCES, EPERM: throw ReadError.unreadable(path: path, reason: "permission denied")
            default: throw ReadError.unreadable(path: path, reason: String(cString: strerror(code)))
            }
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw ReadError.unreadable(path: path, reason: reason)
        }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else {
            Glibc.close(fd)
            if kind == S_IFDIR { throw ReadError.unreadable(path: path, reason: "it is a directory") }
            let name: String
            switch kind {
            case S_IFIFO: name = "a FIFO"
            case S_IFCHR: name = "a character device"
            case S_IFBLK: name = "a block device"
            case S_IFSOCK: name = "a socket"
            default: name = "mode \(String(kind, radix: 8))"
            }
            throw ReadError.notRegular(path: path, kind: name)
        }
        // Reads block again from here on (a regular file never waits anyway).
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return (fd, Int(info.st_size))
    }

    /// Whether something exists at `path` (without following a final symbolic link's
    /// target: a dangling link or a loop exists too, and its open names the problem).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}

/// zlib, through the same wrapper: deflate and CRC-32 for the PNG encoder, gzip for the
/// NIfTI writer.
enum Zlib {
    /// A zlib stream (RFC 1950) of `bytes` at the best compression.
    static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var capacity = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(capacity))
        let status = out.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                compress2(target.baseAddress, &capacity, source.baseAddress, uLong(source.count), Z_BEST_COMPRESSION)
            }
        }
        precondition(status == Z_OK, "compress2 cannot fail with a compressBound buffer")
        return Array(out.prefix(Int(capacity)))
    }

    /// A gzip member (RFC 1952, no name, mtime 0) of `bytes` at zlib's default level, as
    /// nifticlib's znz writer made them.
    static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        var status = deflateInit2_(
            &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2 failed: \(status)")
        defer { deflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        bytes.withUnsafeBufferPointer { source in
            var offset = 0
            repeat {
                // avail_in is a 32-bit count: feed at most 1 GiB at a time.
                let take = min(source.count - offset, 1 << 30)
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress.map { $0 + offset })
                stream.avail_in = uInt(take)
                offset += take
                let flush = offset == source.count ? Z_FINISH : Z_NO_FLUSH
                repeat {
                    chunk.withUnsafeMutableBufferPointer { target in
                        stream.next_out = target.baseAddress
                        stream.avail_out = uInt(target.count)
                        status = deflate(&stream, flush)
                        out.append(contentsOf: target.prefix(target.count - Int(stream.avail_out)))
                    }
                } while stream.avail_out == 0
            } while offset < source.count
        }
        precondition(status == Z_STREAM_END, "deflate did not finish: \(status)")
        return out
    }

    /// Inflates a zlib stream whose inflated size is known; nil when it is not valid.
    static func uncompress(_ bytes: [UInt8], size: Int) -> [UInt8]? {
        var length = uLong(size)
        var out = [UInt8](repeating: 0, count: max(size, 1))
        let status = out.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                CNIfTI.uncompress(target.baseAddress, &length, source.baseAddress, uLong(source.count))
            }
        }
        return status == Z_OK && Int(length) == size ? Array(out.prefix(size)) : nil
    }

    /// CRC-32 (the PNG and gzip polynomial) of `bytes`, continuing from `start` (1 GiB per
    /// call: zlib takes a 32-bit length).
    static func crc32(_ bytes: [UInt8], start: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            var crc = uLong(start)
            var offset = 0
            repeat {
                let piece = min(buffer.count - offset, 1 << 30)
                crc = CNIfTI.crc32(crc, buffer.baseAddress.map { $0 + offset }, uInt(piece))
                offset += piece
            } while offset < buffer.count
            return UInt32(crc)
        }
    }
}
