import Foundation
import MaskEval
import Testing

/// The hostile corpus made by scripts/make_hostile.py: every file, as reference and as
/// prediction for `compare` and through `info`, gets its documented exit code, at most two
/// lines on stderr naming the file, nothing on stdout, and finishes within seconds.
@Suite(.serialized) struct HostileInputTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Corpus/hostile").path

    static let expected: [(String, Int32)] = {
        let url = URL(fileURLWithPath: corpus + "/expected.json")
        guard let data = try? Data(contentsOf: url),
            let object = try? JSONValue.parse(String(decoding: data, as: UTF8.self)),
            case .object(let members) = object
        else { return [] }
        return members.map { ($0.key, Int32($0.value.intValue ?? -1)) }.sorted { $0.0 < $1.0 }
    }()

    @Test func corpusIsThere() {
        #expect(Self.expected.count >= 60)
    }

    @Test(arguments: expected.map(\.0))
    func hostileFile(name: String) throws {
        let status = Self.expected.first { $0.0 == name }?.1 ?? -1
        let path = Self.corpus + "/" + name
        let good = Self.corpus + "/good.nii"
        // A fuzz-ok-* input (valid, once a crash or a hang) is compared with itself, as the
        // fuzzer did: its grid need not be good.nii's.
        let runs =
            status == 0
            ? [
                ["info", path], ["compare", path, path, "--format", "json"],
                ["compare", path, path, "--compat", "all"],
            ]
            : [
                ["info", path], ["compare", path, good], ["compare", good, path],
                ["compare", path, path, "--format", "json"],
            ]
        for arguments in runs {
            let start = Date()
            let run = try Run(arguments)
            #expect(Date().timeIntervalSince(start) < 10, "\(arguments)")
            #expect(run.status == status, "\(arguments): \(run.stderr)")
            if status == 0 {
                #expect(!run.stdout.isEmpty && run.stderr.isEmpty, "\(arguments): \(run.stderr)")
                continue
            }
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count >= 1 && lines.count <= 2, "\(arguments): \(run.stderr)")
            // The message names the file (or, for a lonely .hdr, its missing .img).
            let stem = (name as NSString).deletingPathExtension
            #expect(run.stderr.contains(stem), "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
    }

    @Test(arguments: [
        ("other_dims.nii", "dims 10×10×11 differ"), ("shifted_origin.nii", "origin is shifted by 4 mm"),
        ("flipped_axis.nii", "orientation (affine LAS vs the reference's RAS)"),
    ])
    func mismatchedPairs(name: String, fragment: String) throws {
        let run = try Run(["compare", Self.corpus + "/good.nii", Self.corpus + "/" + name])
        #expect(run.status == 65)
        #expect(run.stderr.contains(name) && run.stderr.contains(fragment), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1 && run.stdout.isEmpty)
        let resampled = try Run(["compare", Self.corpus + "/good.nii", Self.corpus + "/" + name, "--resample"])
        #expect(resampled.status == 0, "\(resampled.stderr)")
    }

    @Test func maxVoxelsRefusesBeforeReading() throws {
        let run = try Run(["info", Self.corpus + "/good.nii", "--max-voxels", "999"])
        #expect(run.status == 65 && run.stderr.contains("1000 voxels exceed --max-voxels 999"))
    }

    /// Issue #14: each refusal says what is wrong, with the stored value (a pair's offset
    /// never as -2147483648), the axis limit, the sform's angle, the file that is missing.
    @Test(arguments: [
        ("pair_offset_3e9.hdr", "pair_offset_3e9.hdr: vox_offset is 3e+09; it must be a whole number"),
        ("pair_offset_negative.hdr", "vox_offset is -1e+10"),
        ("pair_offset_past_end.hdr", "pair_offset_past_end.img: vox_offset 4096 is past the end of the file"),
        ("vox_offset_below_352.nii", "vox_offset 348 lies inside the header"),
        ("vox_offset_fractional.nii", "vox_offset is 352.5"),
        ("nifti2_vox_offset_2_40.nii", "vox_offset 1099511627776 is past the end"),
        ("magic_ni1_single.nii", "magic 'ni1' belongs to a .hdr/.img pair"),
        ("analyze_single.nii", "ANALYZE 7.5 is read only as a .hdr/.img pair"),
        ("extension_size_20.nii", "extension at byte 352 has size 20"),
        ("extension_past_vox_offset.nii", "runs past vox_offset 368"),
        ("nan_quaternion.nii", "quatern_b is nan"),
        ("nan_sform.nii", "srow_x[3] is nan"),
        (
            "sheared_sform.nii",
            "sform is not orthogonal (angle i-j 60°): resample onto an orthogonal grid first"
        ),
        ("singular_sform.nii", "sform is singular"),
        ("metre_spacing_2km.nii", "voxel spacing along i is 2e+06 mm (pixdim[1] 2000 × 1000)"),
        ("nifti2_axis_2_31.nii", "dim[1] is 2147483648; an axis may hold at most 2147483647 voxels"),
        ("nifti2_dims_overflow.nii", "overflow a 64-bit byte count"),
        ("lonely.hdr", "lonely.img: no such file (the voxel data of"),
        ("gzip_without_trailer.nii.gz", "the gzip stream is truncated (it ends before its trailer"),
        ("gzip_trailer_cut.nii.gz", "the gzip stream is truncated (it ends before its trailer"),
        ("corrupt_crc.nii.gz", "the gzip stream is corrupt (zlib: incorrect data check)"),
        (
            "gzip_trailing_garbage.nii.gz",
            "gzip_trailing_garbage.nii.gz: trailing data after the gzip stream: its 15 bytes from byte"
        ),
    ])
    func refusalSaysWhy(name: String, fragment: String) throws {
        for arguments in [
            ["info", Self.corpus + "/" + name], ["compare", Self.corpus + "/good.nii", Self.corpus + "/" + name],
        ] {
            let run = try Run(arguments)
            #expect(run.status == 65 || run.status == 66, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains(fragment), "\(arguments): \(run.stderr)")
            #expect(!run.stderr.contains("-2147483648"), "\(run.stderr)")
        }
    }

    /// Issue #14: valid files the reader once refused or misread (big-endian, qfac -0.5,
    /// extensions, ANALYZE and `.hdr` + `.img.gz` pairs, two gzip members) hold good.nii's labels on its grid:
    /// compared with it, every structure has Dice 1.
    @Test(arguments: [
        "ok_big_endian.nii", "ok_big_endian_int16.nii.gz", "ok_big_endian_nifti2.nii", "ok_qfac_half.nii",
        "ok_extension.nii", "ok_extension_64mib.nii.gz", "ok_analyze.hdr", "ok_header_gz_image.hdr",
        "ok_gzip_two_members.nii.gz",
    ])
    func validFilesReadAsGood(name: String) throws {
        let run = try Run(["compare", Self.corpus + "/good.nii", Self.corpus + "/" + name, "--format", "csv"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = run.stdout.split(separator: "\n").dropFirst()
        #expect(rows.count == 2, "\(run.stdout)")
        let header = run.stdout.split(separator: "\n").first?.split(separator: ",").map(String.init) ?? []
        let dice = header.firstIndex(of: "dice") ?? -1
        for row in rows {
            let fields = row.split(separator: ",", omittingEmptySubsequences: false)
            #expect(dice >= 0 && dice < fields.count && Double(fields[dice]) == 1, "\(row)")
        }
    }

    /// Issue #14: a FIFO (which hung a blocking open), a character device, a symbolic link
    /// loop and a directory are refused at once with exit 66, by their kind.
    @Test func specialFilesAreRefusedByKind() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(mkfifo(folder + "/fifo.nii", 0o644) == 0)
        try FileManager.default.createSymbolicLink(
            atPath: folder + "/loop.nii", withDestinationPath: folder + "/loop.nii")
        try FileManager.default.createDirectory(atPath: folder + "/dir.nii.gz", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: folder + "/zero.nii", withDestinationPath: "/dev/zero")
        for (name, fragment) in [
            ("fifo.nii", "not a regular file (a FIFO)"), ("zero.nii", "not a regular file (a character device)"),
            ("loop.nii", "a loop of symbolic links"), ("dir.nii.gz", "it is a directory"),
        ] {
            let path = folder + "/" + name
            for arguments in [["info", path], ["compare", Self.corpus + "/good.nii", path]] {
                let run = try TimedRun(arguments, timeout: 10)
                #expect(!run.timedOut, "\(arguments) hung")
                #expect(run.status == 66, "\(arguments): \(run.stderr)")
                #expect(run.stderr.contains(path + ": ") && run.stderr.contains(fragment), "\(run.stderr)")
                #expect(run.stderr.split(separator: "\n").count == 1)
            }
        }
    }

    /// Issue #14: `--image` goes through the same layout checks (its dims once overflowed
    /// and trapped), and an axis the engine's Int32 indices cannot hold is refused before
    /// its 2 GiB are read (a sparse file).
    @Test func imageAndLongAxisAreRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let good = Self.corpus + "/good.nii"
        let image = try Run([
            "compare", good, good, "--html", folder + "/r.html", "--image", Self.corpus + "/nifti2_dims_overflow.nii",
        ])
        #expect(image.status == 65 && image.stderr.contains("overflow a 64-bit byte count"), "\(image.stderr)")
        // dims 2^31 × 1 × 1 of uint8, with all its data (holes on disk).
        let long = folder + "/long.nii"
        let head = try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/nifti2_axis_2_31.nii")).prefix(544)
        try head.write(to: URL(fileURLWithPath: long))
        #expect(truncate(long, 544 + (1 << 31)) == 0)
        let start = Date()
        let run = try TimedRun(["info", long], timeout: 20)
        #expect(!run.timedOut && run.status == 65, "\(run.stderr)")
        #expect(run.stderr.contains("at most 2147483647 voxels"), "\(run.stderr)")
        #expect(Date().timeIntervalSince(start) < 5)
    }

    /// Issue #14: the memory guard counts both volumes against the lowest limit, here the
    /// address-space limit (`ulimit -v`), and refuses a gzip bomb (10^9 voxels declared in
    /// 1 MB) by its header, before inflating it.
    @Test func memoryGuardHonoursTheAddressSpaceLimit() throws {
        let good = Self.corpus + "/good.nii"
        let bomb = Self.corpus + "/gzip_bomb.nii.gz"
        let run = try TimedRun(
            ["/bin/sh", "-c", "ulimit -v 3000000 && exec \"$0\" compare \"$1\" \"$2\"", Run.binary, good, bomb],
            timeout: 20, executable: "/bin/sh")
        #expect(run.status == 65, "\(run.stderr)")
        #expect(
            run.stderr.contains("gzip_bomb.nii.gz: 1000000000 voxels of uint8 with \(good) need about"), "\(run.stderr)"
        )
        #expect(run.stderr.contains("under the address-space limit (ulimit -v)"), "\(run.stderr)")
    }

    /// Issue #14: extensions are skipped by seeking, never read into memory: a file with a
    /// 1 GiB extension (a sparse file) is read in well under 1 GiB.
    @Test func extensionsAreNotReadIntoMemory() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let good = try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/good.nii"))
        // 1 GiB + 32: a multiple of 16 that puts vox_offset on a float32-exact value.
        let extensionSize = (1 << 30) + 32
        var head = good.prefix(352)
        head[348] = 1  // extensions follow
        let offset = Float(352 + extensionSize)
        withUnsafeBytes(of: offset.bitPattern.littleEndian) { head.replaceSubrange(108..<112, with: $0) }
        withUnsafeBytes(of: Int32(extensionSize).littleEndian) { head.append(contentsOf: $0) }
        withUnsafeBytes(of: Int32(6).littleEndian) { head.append(contentsOf: $0) }
        let path = folder + "/extension.nii"
        try head.write(to: URL(fileURLWithPath: path))
        // The extension's content is a hole; the voxels follow it.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64(352 + extensionSize))
        try handle.write(contentsOf: good.dropFirst(352))
        try handle.close()
        let run = try TimedRun(["info", path], timeout: 20)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.maxResidentKiB < 300 * 1024, "peak \(run.maxResidentKiB) KiB")
    }
}

/// Runs a command with a time limit (a hang is reported, not waited for), and reports its
/// peak resident memory (`wait4`'s rusage).
struct TimedRun {
    let status: Int32
    let stderr: String
    let timedOut: Bool
    let maxResidentKiB: Int

    init(_ arguments: [String], timeout: Double, executable: String = Run.binary) throws {
        let errorFile = NSTemporaryDirectory() + "maskeval-stderr-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: errorFile) }
        let command = executable == Run.binary ? [executable] + arguments : arguments
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var pid: pid_t = 0
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw CocoaError(.executableLoad) }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var usage = rusage()
        var timedOut = false
        while true {
            let done = wait4(pid, &status, WNOHANG, &usage)
            if done == pid { break }
            if Date() > deadline {
                kill(pid, SIGKILL)
                _ = wait4(pid, &status, 0, &usage)
                timedOut = true
                break
            }
            usleep(20_000)
        }
        self.timedOut = timedOut
        self.status = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        self.maxResidentKiB = usage.ru_maxrss
        self.stderr = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
    }
}
