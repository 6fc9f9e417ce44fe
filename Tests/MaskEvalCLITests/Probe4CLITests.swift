import Foundation
import MaskEval
import Testing

/// The fourth new-user probe's findings (the deployed user's side: release binary, pipelines,
/// Python): each test failed before its fix.
struct Probe4CLITests {
    /// The binary run through /bin/sh with `around.0` before and `around.1` after it
    /// (a `cd`, redirections).
    static func shell(_ arguments: [String], around: (String, String)) throws -> Run {
        let quoted = ([Run.binary] + arguments).map { "'" + $0 + "'" }.joined(separator: " ")
        return try Run(executable: "/bin/sh", arguments: ["-c", around.0 + "exec " + quoted + around.1])
    }

    /// Two all-zero volumes gave a report without a row (a CSV of its header only) and exit 0
    /// without a word on stderr: a broken export that wrote an empty prediction over an empty
    /// reference passed a pipeline that checks the exit status. compare, lesions and batch now
    /// say that nothing was evaluated.
    @Test func nothingEvaluatedIsNoted() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for side in ["ref", "pred"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + side, withIntermediateDirectories: true)
            for id in ["a", "b"] {
                try write([Int32](repeating: 0, count: 27), (3, 3, 3), to: folder + "/\(side)/\(id).nii.gz")
            }
        }
        let empty = folder + "/ref/a.nii.gz"
        let note = "maskeval: note: neither volume has a non-zero label; no structure was evaluated"
        for command in [["compare", empty, empty, "--format", "csv"], ["lesions", empty, empty, "--format", "json"]] {
            let run = try Run(command)
            #expect(run.status == 0, "\(command): \(run.stderr)")
            #expect(run.stderr.contains(note), "\(command): \(run.stderr)")
        }
        let batch = try Run(["batch", folder + "/ref", folder + "/pred", "--bootstrap", "0"])
        #expect(batch.status == 0, "\(batch.stderr)")
        #expect(
            batch.stderr.contains("maskeval: note: no volume of the 2 cases has a non-zero label"), "\(batch.stderr)")
        // One empty case among others had no row, no aggregate and no count ("1 case").
        try FileManager.default.removeItem(atPath: folder + "/ref/b.nii.gz")
        try FileManager.default.removeItem(atPath: folder + "/pred/b.nii.gz")
        let voxels = [Int32](repeating: 0, count: 13) + [1] + [Int32](repeating: 0, count: 13)
        try write(voxels, (3, 3, 3), to: folder + "/ref/c.nii.gz")
        try write(voxels, (3, 3, 3), to: folder + "/pred/c.nii.gz")
        let mixed = try Run(["batch", folder + "/ref", folder + "/pred", "--bootstrap", "0"])
        #expect(mixed.status == 0, "\(mixed.stderr)")
        #expect(
            mixed.stderr.contains(
                "maskeval: note: neither volume of 1 of the 2 cases (a) has a non-zero label; they have no row"),
            "\(mixed.stderr)")
        // A label asked for is reported absent (and noted as such), so nothing goes unsaid.
        let asked = try Run(["compare", empty, empty, "--labels", "1", "--format", "csv"])
        #expect(!asked.stderr.contains("no structure was evaluated"), "\(asked.stderr)")
    }

    /// A stderr that cannot be written (closed by a daemon or a cron line: `2>&-`; a full disk)
    /// trapped at the first line (exit 132, "Illegal instruction") instead of the documented
    /// status: a gate failure, a missing input and a batch's failed case all read as a crash.
    @Test func unwritableStderrKeepsTheExitStatus() throws {
        let folder = try Probe2CLITests.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.removeItem(atPath: folder + "/pred/b.nii.gz")
        let pair = Probe2CLITests.pair("brats")
        for redirect in ["2>&-", "2>/dev/full"] {
            for (arguments, status) in [
                (["compare"] + pair + ["--require", "dice>=0.999"], Int32(1)),
                (["compare", pair[0], folder + "/missing.nii.gz"], 66),
                (["lesions"] + pair + ["--require", "f1>=1.1"], 1),
                (["batch", folder + "/ref", folder + "/pred", "--bootstrap", "0"], 65),
                (["compare", pair[0]], 64),
            ] {
                let run = try Self.shell(arguments, around: ("", " >/dev/null \(redirect)"))
                #expect(run.status == status, "\(redirect) \(arguments): \(run.status)")
            }
        }
    }

    /// A tolerance map written with a decimal comma ("1 2,5", as a German or French user
    /// types 2.5) was refused as "'1 2' is neither a label value nor a known label name",
    /// naming neither the line nor the cause.
    @Test func toleranceMapWithDecimalCommaSaysSo() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "2 1.0\n1 2,5\n".write(toFile: folder + "/tau.txt", atomically: true, encoding: .utf8)
        let run = try Run(["compare"] + Probe2CLITests.pair("brats") + ["--tolerance-map", folder + "/tau.txt"])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(
            run.stderr.contains(
                "tau.txt: line 2: '1 2' is neither a label value nor a known label name (a decimal comma? write 1.5,"
                    + " not 1,5)"), "\(run.stderr)")
    }

    /// Options after "--" (the README's `compare REF PRED [options]` with its `--` for a file
    /// name starting with '-') were refused as "2 unexpected arguments: '--format', 'csv'",
    /// without saying why.
    @Test func optionsAfterSeparatorAreExplained() throws {
        let pair = Probe2CLITests.pair("brats")
        let run = try Run(["compare", "--"] + pair + ["--format", "csv"])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(
            run.stderr.contains("options go before '--' (every argument after it is a file name)"), "\(run.stderr)")
        let before = try Run(["compare", "--format", "csv", "--"] + pair)
        #expect(before.status == 0, "\(before.stderr)")
    }

    /// An output folder that cannot be made (`--surfaces`, `--html-cases`) said only "the
    /// folder cannot be made": not which path is in the way, nor why (a file there, a
    /// read-only file system, permissions).
    @Test func outputFolderThatCannotBeMadeSaysWhy() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "".write(toFile: folder + "/file", atomically: true, encoding: .utf8)
        let run = try Run(["compare"] + Probe2CLITests.pair("brats") + ["--surfaces", folder + "/file/a/b"])
        #expect(run.status == 74, "\(run.stderr)")
        #expect(
            run.stderr.contains("/file/a/b: cannot write: the folder cannot be made (\(folder)/file is not a folder)"),
            "\(run.stderr)")
    }

    /// An empty argument (`--html "$OUT"` with OUT unset): `compare REF ""` said ": no such
    /// file", naming nothing, and `--html ""` passed the output check, so the table was printed
    /// and the run then failed (74) after all the work. Refused before any work now.
    @Test func emptyArgumentsAreRefused() throws {
        let pair = Probe2CLITests.pair("brats")
        for (arguments, place) in [
            (["compare", pair[0], ""], "after '\(pair[0])'"), (["compare"] + pair + ["--html", ""], "after '--html'"),
            (["info", ""], "after 'info'"), (["compare"] + pair + ["--labels", ""], "after '--labels'"),
        ] {
            let run = try Run(arguments)
            #expect(run.status == 64, "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(arguments): \(run.stdout)")
            #expect(
                run.stderr.hasPrefix(
                    "maskeval: error: an empty argument \(place): file names and values cannot be empty"),
                "\(arguments): \(run.stderr)")
        }
    }

    /// `--output -` (and `--html -`, `--summary -`) wrote a file called "-" in the current
    /// folder and printed nothing, so `maskeval compare … --output - | jq` read an empty input
    /// without a word. "-" is refused (64) before any work; a file of that name goes after "--".
    @Test func dashIsNoStandardStream() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pair = Probe2CLITests.pair("brats")
        for (arguments, place) in [
            (["compare"] + pair + ["--format", "json", "--output", "-"], "after '--output'"),
            (["compare"] + pair + ["--html", "-"], "after '--html'"),
            (["compare", "-", pair[1]], "after 'compare'"),
        ] {
            let run = try Self.shell(arguments, around: ("cd '\(folder)' && ", ""))
            #expect(run.status == 64, "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(arguments): \(run.stdout)")
            #expect(
                run.stderr.hasPrefix("maskeval: error: '-' \(place): MaskEval reads"), "\(arguments): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder + "/-"), "\(arguments)")
        }
        let named = try Run(["compare", "--", pair[0], "-"])
        #expect(named.status == 66 && named.stderr.hasPrefix("maskeval: error: -: no such file"), "\(named.stderr)")
    }
}
