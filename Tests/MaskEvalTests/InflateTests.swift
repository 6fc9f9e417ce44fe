import Foundation
import Testing

@testable import MaskEval

/// The one-call inflation of gzip voxel data (libdeflate, `ReadHandle.inflateWhole`) against
/// zlib's streaming reader: each file is read both ways (`Inflation.whole`, `.streaming`) and
/// must give the same voxels, or the same error, and the one-call path must be taken exactly
/// when the file is a single gzip member of the size its header implies.
@Suite struct InflateTests {
    /// The outcome of reading `path` one way: the raw voxel bytes and labels, or the error's
    /// text and exit status; and whether the data were inflated in one call.
    struct Outcome: Equatable {
        var bytes: [UInt8]?
        var labels: [Int32]?
        var error: String?
        var status: Int32?
        var inflatedWhole = false
    }

    static func outcome(_ path: String, _ inflation: Inflation) -> Outcome {
        var result = Outcome()
        do {
            let layout = try VoxelLayout.read(path: path)
            try MemoryGuard.check([layout], maxVoxels: nil)
            (result.bytes, result.inflatedWhole) = try NIfTIReader.withVoxelBytes(
                layout, inflation: inflation
            ) { raw, whole in (Array(raw), whole) }
            result.labels = try NIfTIReader.read(path: path, threads: 1, inflation: inflation).int32Labels
        } catch let error as ReadError {
            result.error = error.description
            result.status = error.exitStatus.rawValue
        } catch {
            result.error = "\(error)"
        }
        return result
    }

    /// Reads `path` both ways; returns the one-call outcome after checking that it matches
    /// the streaming one (apart from the path taken).
    @discardableResult
    static func bothWays(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> (Outcome, Outcome) {
        let whole = outcome(path, .whole)
        let streamed = outcome(path, .streaming)
        #expect(!streamed.inflatedWhole, sourceLocation: sourceLocation)
        var same = whole
        same.inflatedWhole = false
        #expect(same == streamed, "\(path)", sourceLocation: sourceLocation)
        return (whole, streamed)
    }

    static let labels = makeLabels(7, 5, 4) { i, j, k in Int32((i * 3 + j * 5 + k * 7) % 11) }

    /// The uncompressed bytes of a single-file volume of `type` holding `labels`.
    static func plainBytes(_ type: VoxelType, version: Int = 1) -> [UInt8] {
        NIfTIWriter.encode(values: labels.map(Double.init), header: header(7, 5, 4, type: type, version: version))
    }

    static func write(_ bytes: [UInt8], _ path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func withFolder(_ body: (String) throws -> Void) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body(folder)
    }

    /// Writes the gzip trailer's ISIZE (last 4 bytes, little-endian).
    static func settingSize(_ gzip: [UInt8], _ size: Int) -> [UInt8] {
        var bytes = gzip
        let value = UInt32(truncatingIfNeeded: size)
        for index in 0..<4 { bytes[bytes.count - 4 + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
        return bytes
    }

    @Test(arguments: VoxelType.allCases, [1, 2])
    func everyVoxelTypeInflatesInOneCallToTheStreamedVoxels(type: VoxelType, version: Int) throws {
        try Self.withFolder { folder in
            let path = folder + "/v.nii.gz"
            try Self.write(Zlib.gzip(Self.plainBytes(type, version: version)), path)
            let (whole, _) = Self.bothWays(path)
            #expect(whole.inflatedWhole)
            #expect(whole.labels == Self.labels)
        }
    }

    @Test(arguments: VoxelType.allCases)
    func gzipImageOfAPairInflatesInOneCall(type: VoxelType) throws {
        try Self.withFolder { folder in
            try NIfTIWriter.write(
                values: Self.labels.map(Double.init), header: header(7, 5, 4, type: type), to: folder + "/p.hdr")
            let image = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/p.img")))
            try FileManager.default.removeItem(atPath: folder + "/p.img")
            try Self.write(Zlib.gzip(image), folder + "/p.img.gz")
            let (whole, _) = Self.bothWays(folder + "/p.hdr")
            #expect(whole.inflatedWhole)
            #expect(whole.labels == Self.labels)
        }
    }

    @Test func bigEndianCorpusFileInflatesInOneCall() {
        // Tests/Corpus/hostile/ok_big_endian_int16.nii.gz (scripts/make_hostile.py).
        let (whole, _) = Self.bothWays(HostileCorpus.folder + "/ok_big_endian_int16.nii.gz")
        #expect(whole.inflatedWhole && whole.labels != nil)
    }

    @Test func voxOffsetOffAlignmentStillLandsTheVoxels() throws {
        // vox_offset 357: five padding bytes after the header, voxels at an odd stream offset.
        try Self.withFolder { folder in
            var plain = Self.plainBytes(.int16)
            let offset: Float = 357
            withUnsafeBytes(of: offset.bitPattern.littleEndian) { plain.replaceSubrange(108..<112, with: $0) }
            plain.insert(contentsOf: [UInt8](repeating: 0, count: 5), at: 352)
            let path = folder + "/odd.nii.gz"
            try Self.write(Zlib.gzip(plain), path)
            let (whole, _) = Self.bothWays(path)
            #expect(whole.inflatedWhole)
            #expect(whole.labels == Self.labels)
        }
    }

    @Test(arguments: [1, 100, 352, 360, 500])
    func multiMemberFileIsStreamed(cut: Int) throws {
        // Two gzip members, split inside the header, at its end, or inside the voxels.
        try Self.withFolder { folder in
            let plain = Self.plainBytes(.int16)
            let path = folder + "/two.nii.gz"
            try Self.write(Zlib.gzip(Array(plain[..<cut])) + Zlib.gzip(Array(plain[cut...])), path)
            let (whole, _) = Self.bothWays(path)
            #expect(!whole.inflatedWhole)
            #expect(whole.labels == Self.labels)
        }
    }

    @Test func trailerClaimingTheRightSizeOverAShortStreamGivesTheStreamingError() throws {
        try Self.withFolder { folder in
            let plain = Self.plainBytes(.int16)
            let path = folder + "/short.nii.gz"
            try Self.write(Self.settingSize(Zlib.gzip(Array(plain.dropLast(10))), plain.count), path)
            let (whole, _) = Self.bothWays(path)
            #expect(!whole.inflatedWhole)
            #expect(whole.status == 65 && whole.error?.contains("short.nii.gz") == true)
        }
    }

    @Test func trailerClaimingTheRightSizeOverALongStreamReadsAsStreamed() throws {
        try Self.withFolder { folder in
            let plain = Self.plainBytes(.int16)
            let path = folder + "/long.nii.gz"
            try Self.write(Self.settingSize(Zlib.gzip(plain + [1, 2, 3, 4]), plain.count), path)
            let (whole, _) = Self.bothWays(path)
            #expect(!whole.inflatedWhole)
        }
    }

    @Test(arguments: [-1, 1, 256])
    func trailerWithTheWrongSizeIsStreamed(delta: Int) throws {
        try Self.withFolder { folder in
            let plain = Self.plainBytes(.uint8)
            let path = folder + "/lying.nii.gz"
            try Self.write(Self.settingSize(Zlib.gzip(plain), plain.count + delta), path)
            let (whole, _) = Self.bothWays(path)
            #expect(!whole.inflatedWhole)
        }
    }

    @Test func corruptCRCIsStreamed() throws {
        try Self.withFolder { folder in
            var gzip = Zlib.gzip(Self.plainBytes(.int32))
            gzip[gzip.count - 8] ^= 0xFF
            let path = folder + "/crc.nii.gz"
            try Self.write(gzip, path)
            let (whole, _) = Self.bothWays(path)
            #expect(!whole.inflatedWhole)
        }
    }

    /// Bytes after the last gzip member that do not start another one: zero padding ending in
    /// a copy of the real trailer (the ISIZE check alone passes), text, a lone 1f (half a
    /// member's magic). zlib's `gzread` ignored them without a word; both paths refuse them
    /// (exit 65), naming the file. A second member cut after its magic is a truncated stream.
    @Test(arguments: [0, 1, 2, 3])
    func trailingBytesAfterTheMemberAreRefused(kind: Int) throws {
        try Self.withFolder { folder in
            let plain = Self.plainBytes(.uint8)
            let path = folder + "/padded.nii.gz"
            let gzip = Zlib.gzip(plain)
            let trailing: [[UInt8]] = [
                [UInt8](repeating: 0, count: 12) + gzip.suffix(8), Array("garbage\n".utf8), [0x1F], [0x1F, 0x8B],
            ]
            try Self.write(gzip + trailing[kind], path)
            let (whole, _) = Self.bothWays(path)
            #expect(!whole.inflatedWhole)
            #expect(whole.status == 65)
            let expected =
                kind == 3
                ? "\(path): the gzip stream is truncated"
                : "\(path): trailing data after the gzip stream: its \(trailing[kind].count) bytes from byte "
                    + "\(gzip.count) are not another gzip member"
            #expect(whole.error?.hasPrefix(expected) == true, "\(whole.error ?? "no error")")
        }
    }

    /// Zero padding after the last member (tape blocks, a preallocated file) holds no data:
    /// read without a word on both paths, as GNU gzip (`gzip -t` exits 0) and Python's gzip
    /// module read it; a non-zero byte after the zeros is still refused.
    @Test(arguments: [1, 7, 70_000])
    func zeroPaddingAfterTheLastMemberIsRead(zeros: Int) throws {
        try Self.withFolder { folder in
            let path = folder + "/zero-padded.nii.gz"
            let gzip = Zlib.gzip(Self.plainBytes(.int16))
            try Self.write(gzip + [UInt8](repeating: 0, count: zeros), path)
            let (padded, _) = Self.bothWays(path)
            #expect(padded.labels == Self.labels && padded.error == nil, "\(padded)")
            try Self.write(gzip + [UInt8](repeating: 0, count: zeros) + [1], path)
            let (refused, _) = Self.bothWays(path)
            #expect(refused.status == 65 && refused.error?.contains("trailing data after the gzip stream") == true)
        }
    }

    /// `cat a.gz b.gz`, the second member holding bytes past the voxels: read (the voxels
    /// are the first member's), and the second member is still checked to its end: a bad
    /// CRC there, or bytes after it, are refused.
    @Test func secondMemberPastTheVoxelsIsCheckedToItsEnd() throws {
        try Self.withFolder { folder in
            let plain = Self.plainBytes(.int16)
            let path = folder + "/cat.nii.gz"
            let extra = Zlib.gzip([UInt8](repeating: 7, count: 5000))
            try Self.write(Zlib.gzip(plain) + extra, path)
            let (good, _) = Self.bothWays(path)
            #expect(good.labels == Self.labels && good.error == nil)
            var broken = extra
            broken[broken.count - 8] ^= 0xFF
            try Self.write(Zlib.gzip(plain) + broken, path)
            let (crc, _) = Self.bothWays(path)
            #expect(crc.status == 65 && crc.error?.contains("incorrect data check") == true, "\(crc)")
            try Self.write(Zlib.gzip(plain) + extra + [0, 0x42], path)
            let (garbage, _) = Self.bothWays(path)
            #expect(garbage.status == 65 && garbage.error?.contains("trailing data after the gzip stream") == true)
        }
    }

    /// The member checks at every position of a member's end relative to the compressed
    /// bytes read per call (input buffers of 64 to 80 bytes over ~1 KB of members): several
    /// members give all their data; bytes after the last are refused wherever they fall.
    @Test func memberEndsAtEveryBufferPosition() throws {
        try Self.withFolder { folder in
            let parts: [[UInt8]] = [
                Array(0..<200).map { UInt8($0 % 251) }, [], [UInt8](repeating: 9, count: 3000), [1, 2, 3],
            ]
            let members = parts.flatMap { Zlib.gzip($0) }
            let path = folder + "/members.gz"
            for garbage in [[], [0, 0x42], [0x42, 0x42, 0x42]] as [[UInt8]] {
                try Self.write(members + garbage, path)
                for buffer in 64...80 {
                    let outcome = Result {
                        try ReadHandle.withOpened(path: path, buffer: buffer) { file in
                            var data = [UInt8](repeating: 0, count: 4000)
                            let got = try data.withUnsafeMutableBytes { try file.readToEnd(into: $0) }
                            return Array(data.prefix(got))
                        }
                    }
                    switch outcome {
                    case .success(let data):
                        #expect(garbage.isEmpty && data == parts.flatMap { $0 }, "buffer \(buffer)")
                    case .failure(let error):
                        #expect(
                            !garbage.isEmpty
                                && "\(error)".contains("\(garbage.count) bytes from byte \(members.count)"),
                            "buffer \(buffer): \(error)")
                    }
                }
            }
        }
    }

    /// A file larger than the 1 MiB of compressed bytes read per call (noise labels, int16),
    /// split into two members inside the voxels and then followed by garbage: both paths
    /// read the members and refuse the garbage.
    @Test func largeFileWithTrailingBytesIsRefusedBothWays() throws {
        try Self.withFolder { folder in
            var random = SeededGenerator(seed: 20)
            let (nx, ny, nz) = (128, 128, 64)
            let values = (0..<(nx * ny * nz)).map { _ in Double(random.next() % 1000) }
            let plain = NIfTIWriter.encode(values: values, header: header(nx, ny, nz, type: .int16))
            let cut = plain.count / 3
            let members = Zlib.gzip(Array(plain[..<cut])) + Zlib.gzip(Array(plain[cut...]))
            #expect(members.count > 1 << 20)
            let path = folder + "/large.nii.gz"
            try Self.write(members, path)
            let (good, _) = Self.bothWays(path)
            #expect(good.error == nil && good.labels?.count == nx * ny * nz, "\(good.error ?? "")")
            try Self.write(members + Array("tail".utf8), path)
            let (bad, _) = Self.bothWays(path)
            #expect(bad.status == 65 && bad.error?.contains("4 bytes from byte \(members.count)") == true)
        }
    }

    @Test(arguments: [0.3, 0.6, 0.9])
    func truncatedGzipGivesTheSameOneLineError(fraction: Double) throws {
        try Self.withFolder { folder in
            let gzip = Zlib.gzip(Self.plainBytes(.float32))
            let path = folder + "/cut.nii.gz"
            try Self.write(Array(gzip.prefix(Int(Double(gzip.count) * fraction))), path)
            let (whole, _) = Self.bothWays(path)
            #expect(!whole.inflatedWhole)
            #expect(whole.status == 65)
            #expect(whole.error.map { !$0.contains("\n") && $0.hasPrefix(path) } == true)
        }
    }

    @Test(arguments: HostileCorpus.names)
    func hostileCorpusFileReadsTheSameBothWays(name: String) {
        // Tests/Corpus/hostile (scripts/make_hostile.py): the same voxels or the same error.
        Self.bothWays(HostileCorpus.folder + "/" + name)
    }
}

/// The hostile corpus's files (Tests/Corpus/hostile, made by scripts/make_hostile.py).
enum HostileCorpus {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Corpus/hostile").path

    static let names: [String] =
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        .filter { !$0.hasSuffix(".json") }.sorted()
}
