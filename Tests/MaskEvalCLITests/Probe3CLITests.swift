import Foundation
import MaskEval
import Testing

/// The third new-user probe's findings (nothing silent, nothing misleading): each test
/// failed before its fix.
struct Probe3CLITests {
    /// A case without its prediction was announced as `ok` in the per-case progress line
    /// (only the end of the run said otherwise).
    @Test func progressLineSaysNoPrediction() throws {
        let folder = try Probe2CLITests.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.removeItem(atPath: folder + "/pred/b.nii.gz")
        let run = try Run(["batch", folder + "/ref", folder + "/pred", "--bootstrap", "0"])
        #expect(run.status == 65, "\(run.stderr)")
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("case ") && $0.contains(" b no prediction (") }, "\(run.stderr)")
        #expect(lines.contains { $0.hasPrefix("case ") && $0.contains(" a ok (") }, "\(run.stderr)")
    }

    /// A one-character output or pairs-file name (`--output x`) trapped ("Illegal
    /// instruction", exit 132): Foundation's `deletingLastPathComponent` crashes on it.
    @Test func oneCharacterFileNames() throws {
        let folder = try Probe2CLITests.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pair = Probe2CLITests.pair("brats")
        try "case,reference,prediction\na,ref/a.nii.gz,pred/a.nii.gz\n".write(
            toFile: folder + "/p", atomically: true, encoding: .utf8)
        func run(_ arguments: [String]) throws -> Run {
            let quoted = ([Run.binary] + arguments).map { "'" + $0 + "'" }.joined(separator: " ")
            return try Run(executable: "/bin/sh", arguments: ["-c", "cd '\(folder)' && exec \(quoted)"])
        }
        let compare = try run(["compare", pair[0], pair[1], "--output", "x", "--html", "h"])
        #expect(compare.status == 0, "\(compare.stderr)")
        let batch = try run(["batch", "--pairs", "p", "--output", "r", "--summary", "s", "--bootstrap", "0"])
        #expect(batch.status == 0, "\(batch.stderr)")
        for name in ["x", "h", "r", "s"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + name), "\(name)")
        }
    }

    /// An --output ending that promises a format not written there got another without a
    /// word: `rows.txt` and `rows.tsv` got CSV, `report.json.gz` plain JSON text.
    @Test func outputEndingThatPromisesAnotherFormat() throws {
        let folder = try Probe2CLITests.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pair = Probe2CLITests.pair("brats")
        let batch = ["batch", folder + "/ref", folder + "/pred", "--bootstrap", "0"]
        for (arguments, fragment) in [
            (batch + ["--output", folder + "/rows.txt"], "a .txt file is not written here; use one of (.csv, .json)"),
            (batch + ["--output", folder + "/rows.tsv"], "a .tsv file is not written here"),
            (batch + ["--summary", folder + "/s.json", "--output", folder + "/rows.csv.gz"], "written uncompressed"),
            (["compare"] + pair + ["--output", folder + "/report.json.gz"], "written uncompressed"),
            (
                ["compare"] + pair + ["--format", "json", "--output", folder + "/report.json.gz"],
                "written uncompressed"
            ),
        ] {
            let run = try Run(arguments)
            #expect(run.status == 64, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains(fragment), "\(run.stderr)")
        }
        let explicit = try Run(batch + ["--format", "csv", "--output", folder + "/rows.txt"])
        #expect(explicit.status == 0, "\(explicit.stderr)")
        let table = try Run(["compare"] + pair + ["--output", folder + "/report.txt"])
        #expect(table.status == 0, "\(table.stderr)")
    }

    /// An `.img` given without its `.hdr` was refused as "x.hdr: no such file", a file the
    /// user never named; the message now says it is the header of the `.img` given.
    @Test func imageHalfWithoutHeaderSaysWhichFileNeedsIt() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let image = folder + "/orphan.img"
        try Data(count: 64).write(to: URL(fileURLWithPath: image))
        let run = try Run(["info", image])
        #expect(run.status == 66, "\(run.stderr)")
        #expect(
            run.stderr.contains("\(folder)/orphan.hdr: no such file (the header of \(image))"), "\(run.stderr)")
    }

    /// A gate on a name the names file defines, whose label is in neither volume, was
    /// refused as "no structure is called 'spleen'", contradicting the names file.
    @Test func gateOnANamedLabelInNeitherVolume() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pair = Probe2CLITests.pair("brats")
        try "1 core\n2 edema\n3 enhancing\n9 spleen\n".write(
            toFile: folder + "/names.txt", atomically: true, encoding: .utf8)
        let run = try Run(
            ["compare"] + pair + ["--label-names", folder + "/names.txt", "--require", "spleen:dice>0.5"])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(
            run.stderr.contains(
                "'spleen' is label 9, which is in neither volume nor --labels (ask for it with --labels 9 to gate"),
            "\(run.stderr)")
        let asked = try Run(
            ["compare"] + pair + [
                "--label-names", folder + "/names.txt", "--labels", "9", "--require", "spleen:dice>0.5",
            ])
        #expect(asked.status == 0, "\(asked.stderr)")
    }

    /// Shards of two runs with other shard counts were refused as "is shard 2/3 of a run
    /// with 2 shards", naming neither the other file nor its shard.
    @Test func mergeNamesBothShardCounts() throws {
        let folder = try Probe2CLITests.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let batch = ["batch", folder + "/ref", folder + "/pred", "--bootstrap", "0"]
        _ = try Run(batch + ["--shard", "1/2", "--output", folder + "/h1.csv"])
        _ = try Run(batch + ["--shard", "2/3", "--output", folder + "/t2.csv"])
        let run = try Run(["merge", folder + "/h1.csv", folder + "/t2.csv", "--output", folder + "/m.csv"])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(
            run.stderr.contains("t2.csv: is shard 2/3, but \(folder)/h1.csv is shard 1/2: merge the shards of one run"),
            "\(run.stderr)")
    }

    /// A label map whose scl_slope/scl_inter change its labels (slope 2, inter 1: the
    /// background becomes label 1) was evaluated without a word; every command now notes it.
    @Test func scaledLabelsAreNoted() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var stored = [Double](repeating: 0, count: 64)
        for index in 20..<40 { stored[index] = 1 }
        let header = NIfTIHeader(
            dim: [3, 4, 4, 4, 1, 1, 1, 1], pixdim: [1, 1, 1, 1, 0, 0, 0, 0], datatype: VoxelType.uint8.rawValue,
            sclSlope: 2, sclInter: 1)
        let scaled = folder + "/scaled.nii"
        try NIfTIWriter.write(values: stored, header: header, to: scaled)
        var plain = header
        (plain.sclSlope, plain.sclInter) = (1, 0)
        try NIfTIWriter.write(values: stored, header: plain, to: folder + "/plain.nii")
        let note =
            "note: \(scaled): scl_slope 2 and scl_inter 1 scale the stored values, as NIfTI readers do: a stored v is "
            + "label 2·v + 1 (a stored 0, the background, is label 1)"
        for command in ["compare", "lesions"] {
            let run = try Run([command, folder + "/plain.nii", scaled])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains(note), "\(command): \(run.stderr)")
            let unscaled = try Run([command, folder + "/plain.nii", folder + "/plain.nii"])
            #expect(!unscaled.stderr.contains("scl_slope"), "\(unscaled.stderr)")
        }
        let info = try Run(["info", scaled])
        #expect(info.stdout.contains("warning: scl_slope 2 and scl_inter 1 scale the stored values"), "\(info.stdout)")
    }
}
