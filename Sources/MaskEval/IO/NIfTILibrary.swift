import CDeflate
import CNIfTI

#if canImport(Glibc)
    import Glibc
#endif

/// The one owner of an input file handle, in swift-system's manner: every C call that
/// reads a volume is here, C return codes become `ReadError`s, and the handle is closed by
/// `withOpened`'s `defer`, whatever happens. The handle is zlib's `gzFile` (the layer under
/// nifticlib's znz), opened on a descriptor that `RegularFile.open` checked: nifticlib 3's
/// znz cannot open a descriptor (its `znzdopen` is compiled out), and opening the path a
/// second time could meet a FIFO swapped in after the check. zlib reads gzip streams and
/// plain files alike (plain ones straight into the caller's buffer). A gzip file that is one
/// member whose trailer gives the expected size is inflated in one call by libdeflate
/// instead (`inflateWhole`), on the same descriptor.
final class ReadHandle {
    let path: String
    /// The file's size on disk (the compressed size of a gzip file).
    let sizeOnDisk: Int
    /// True when the file is a gzip stream (decided by its first two bytes, 1f 8b).
    let isCompressed: Bool
    private var handle: gzFile?
    /// The descriptor under `handle` (owned by it), for `pread` in `inflateWhole`.
    private let fd: Int32

    private init(path: String, handle: gzFile, fd: Int32, sizeOnDisk: Int, isCompressed: Bool) {
        self.path = path
        self.handle = handle
        self.fd = fd
        self.sizeOnDisk = sizeOnDisk
        self.isCompressed = isCompressed
    }

    /// zlib's buffer for reading a header and its extensions: a gzip handle inflates up to
    /// twice its buffer ahead of what is asked, so the 1 MiB buffer of the voxel path made
    /// each header read inflate 2 MiB of voxels it then threw away (about a third of the
    /// read phase of the AAL bench pair, whose data libdeflate inflates in 1.5 ms a file).
    static let headerBuffer = 16 << 10

    /// Opens `path` (a regular file, checked without blocking by `RegularFile.open`), hands
    /// it to `body` and closes it when `body` returns or throws. `buffer`: zlib's read
    /// buffer (1 MiB for voxel data: fewer read calls; `headerBuffer` for headers).
    static func withOpened<T>(path: String, buffer: Int = 1 << 20, _ body: (ReadHandle) throws -> T) throws -> T {
        let (fd, size) = try RegularFile.open(path)
        var magic: (UInt8, UInt8) = (0, 0)
        let peeked = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) }
        let compressed = peeked == 2 && magic == (0x1F, 0x8B)
        // gzdopen takes the descriptor over (gzclose closes it); on failure it does not.
        guard let handle = gzdopen(fd, "rb") else {
            Glibc.close(fd)
            throw ReadError.unreadable(path: path, reason: "zlib could not open it")
        }
        _ = gzbuffer(handle, UInt32(buffer))
        let file = ReadHandle(path: path, handle: handle, fd: fd, sizeOnDisk: size, isCompressed: compressed)
        defer { file.close() }
        return try body(file)
    }

    private func close() {
        if let handle { gzclose(handle) }
        handle = nil
    }

    /// Reads up to `buffer.count` bytes; fewer only at the end of the data. A gzip stream
    /// that is corrupt throws (a truncated one just ends early).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let handle, let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            // At most 256 MiB per call: gzread's count is an unsigned int.
            var chunk = min(buffer.count - done, 1 << 28)
            // The last call asks for 2 bytes or more, so that the byte asked past the data
            // (`readToEnd`) always meets the end of the stream inside one zlib call.
            if buffer.count - done - chunk == 1 { chunk -= 1 }
            let got = Int(gzread(handle, base + done, UInt32(chunk)))
            if got < 0 {
                // zlib's own words (e.g. "incorrect data check": a bad CRC-32); no byte
                // count, as one call covers up to 256 MiB ("after 0 bytes" misled).
                var code: Int32 = Z_OK
                let message = gzerror(handle, &code).map { String(cString: $0) } ?? ""
                // gzdopen names the file "<fd:N>": drop that prefix.
                let detail = message.hasPrefix("<fd:") ? String(message.drop { $0 != " " }.dropFirst()) : message
                throw ReadError.invalid(
                    path: path, reason: "the gzip stream is corrupt" + (detail.isEmpty ? "" : " (zlib: \(detail))"))
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// Reads `buffer.count - 1` bytes that end the data, like `read`, and returns how many
    /// came (`buffer.count` when bytes follow the data). Of a gzip stream, one byte more is
    /// asked for, so that zlib inflates to the stream's end and checks its trailer: `gzread`
    /// ends a truncated stream quietly (only `gzerror` says "unexpected end of file"), so a
    /// file that lost its 8-byte trailer (CRC-32 and size), as an interrupted copy does,
    /// read as whole with its data never checked.
    func readToEnd(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard isCompressed, let handle else {
            return try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer.dropLast()))
        }
        let got = try read(into: buffer)
        var code: Int32 = Z_OK
        _ = gzerror(handle, &code)
        // Short of the data: the caller says how much was read.
        if code != Z_OK && got >= buffer.count - 1 {
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
    /// gzip stream is inflated and discarded up to there. A position past the end is not an
    /// error here: the next read returns nothing.
    func seek(to offset: Int) throws {
        guard let handle else { return }
        guard gzseek(handle, off_t(offset), SEEK_SET) >= 0 else {
            throw ReadError.invalid(path: path, reason: "cannot reach byte \(offset) of the file")
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
    /// A descriptor for reading `path` and the file's size. Refuses (exit 66) a missing
    /// file, a symbolic link loop, a directory, a FIFO, a device or a socket.
    static func open(_ path: String) throws -> (fd: Int32, size: Int) {
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: throw ReadError.missing(path: path)
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

    /// CRC-32 (the PNG and gzip polynomial) of `bytes`, continuing from `start`.
    static func crc32(_ bytes: [UInt8], start: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(CNIfTI.crc32(uLong(start), buffer.baseAddress, uInt(buffer.count)))
        }
    }
}
