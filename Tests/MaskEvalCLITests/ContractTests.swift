import Foundation
import MaskEval
import Testing

/// Runs a shell command line with $BIN set to the maskeval binary.
func shell(_ command: String) throws -> Run {
    try Run(shell: command)
}

extension Run {
    init(shell command: String) throws {
        try self.init(executable: "/bin/bash", arguments: ["-c", command], environment: ["BIN": Run.binary])
    }
}

func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

/// A folder with a reference and a prediction (three structures) and a names file.
struct Pair {
    let folder: String
    var reference: String { folder + "/ref.nii.gz" }
    var prediction: String { folder + "/pred.nii.gz" }
    var names: String { folder + "/names.txt" }

    init() throws {
        folder = try temporaryFolder()
        try write(abdomen(seed: 1, prediction: false), (24, 24, 24), to: reference, spacing: 1.5)
        try write(abdomen(seed: 1, prediction: true), (24, 24, 24), to: prediction, spacing: 1.5)
        try "1 spleen\n2 left kidney\n3 liver\n".write(toFile: names, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

/// The pipeline contract (issue #13): nothing silent at the edges.
@Suite(.serialized) struct OutputContractTests {
    @Test func anOutputOnAnInputIsAUsageError() throws {
        let pair = try Pair()
        defer { pair.remove() }
        let before = bytes(pair.reference)
        for (option, target) in [
            ("--error-map", pair.reference), ("--output", pair.prediction), ("--html", pair.prediction),
            ("--distance-map", pair.names),
        ] {
            let args = ["compare", pair.reference, pair.prediction, "--label-names", pair.names, option, target]
            let run = try Run(args)
            #expect(run.status == 64, "\(option): \(run.stderr)")
            #expect(run.stderr.contains(option) && run.stdout.isEmpty, "\(run.stderr)")
        }
        #expect(bytes(pair.reference) == before)
        // Two outputs on one path.
        let twice = try Run([
            "compare", pair.reference, pair.prediction, "--output", pair.folder + "/x", "--html", pair.folder + "/x",
        ])
        #expect(twice.status == 64 && twice.stderr.contains("--html") && twice.stderr.contains("--output"))
        // batch --summary onto a reference (folder mode and --pairs) or onto the pairs file.
        try FileManager.default.createDirectory(atPath: pair.folder + "/r", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: pair.folder + "/p", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: pair.reference, toPath: pair.folder + "/r/a.nii.gz")
        try FileManager.default.copyItem(atPath: pair.prediction, toPath: pair.folder + "/p/a.nii.gz")
        try "case,reference,prediction\na,r/a.nii.gz,p/a.nii.gz\n".write(
            toFile: pair.folder + "/pairs.csv", atomically: true, encoding: .utf8)
        let reference = bytes(pair.folder + "/r/a.nii.gz")
        for args in [
            ["batch", pair.folder + "/r", pair.folder + "/p", "--summary", pair.folder + "/r/a.nii.gz"],
            ["batch", "--pairs", pair.folder + "/pairs.csv", "--summary", pair.folder + "/r/a.nii.gz"],
            ["batch", "--pairs", pair.folder + "/pairs.csv", "--output", pair.folder + "/pairs.csv"],
        ] {
            let run = try Run(args)
            #expect(run.status == 64 && run.stderr.contains("the same file"), "\(args): \(run.stderr)")
        }
        #expect(bytes(pair.folder + "/r/a.nii.gz") == reference)
    }

    @Test func writesGoThroughLinksFifosAndKeepTheMode() throws {
        let pair = try Pair()
        defer { pair.remove() }
        let target = pair.folder + "/target.json"
        try FileManager.default.createSymbolicLink(atPath: pair.folder + "/link.json", withDestinationPath: "target.json")
        let run = try Run(["compare", pair.reference, pair.prediction, "--output", pair.folder + "/link.json"])
        #expect(run.status == 0, "\(run.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: pair.folder + "/link.json")
        #expect(attributes[.type] as? FileAttributeType == .typeSymbolicLink)
        #expect((bytes(target)?.count ?? 0) > 100)
        // An existing file keeps its mode.
        let kept = pair.folder + "/kept.csv"
        try "old".write(toFile: kept, atomically: true, encoding: .utf8)
        chmod(kept, 0o640)
        #expect(try Run(["compare", pair.reference, pair.prediction, "--output", kept]).status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: kept)[.posixPermissions] as? Int
        #expect(mode == 0o640)
        #expect(String(decoding: bytes(kept) ?? Data(), as: UTF8.self).hasPrefix("label,name,status"))
        // /dev/stdout is written to, and a FIFO stays a FIFO.
        let stdout = try shell("\"$BIN\" compare \(pair.reference) \(pair.prediction) --output /dev/stdout --format csv | cat")
        #expect(stdout.status == 0 && stdout.stdout.hasPrefix("label,name,status"), "\(stdout.stderr)")
        let fifo = pair.folder + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let viaFifo = try shell(
            "timeout 20 cat \(fifo) > \(pair.folder)/from-fifo & \"$BIN\" compare \(pair.reference) \(pair.prediction) --output \(fifo) --format json; wait"
        )
        #expect(viaFifo.status == 0, "\(viaFifo.stderr)")
        var info = stat()
        #expect(stat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
        #expect(String(decoding: bytes(pair.folder + "/from-fifo") ?? Data(), as: UTF8.self).hasPrefix("{"))
    }

    @Test func writeErrorsExit74AndLeaveNothingBehind() throws {
        let pair = try Pair()
        defer { pair.remove() }
        let full = try shell("\"$BIN\" compare \(pair.reference) \(pair.prediction) --format json > /dev/full")
        #expect(full.status == 74, "\(full.stderr)")
        #expect(full.stderr.split(separator: "\n").count == 1 && full.stderr.contains("No space left on device"))
        let device = try Run(["compare", pair.reference, pair.prediction, "--output", "/dev/full"])
        #expect(device.status == 74 && device.stderr.contains("No space left on device"))
        // A reader that stops early: no stack trace, nothing on stderr.
        let head = try shell("\"$BIN\" compare \(pair.reference) \(pair.prediction) --format json | head -1")
        #expect(head.stdout == "{\n" && head.stderr.isEmpty, "\(head.stderr)")
        // A write that fails half-way (file-size limit): exit 74, the cause named, no temp file.
        let limited = try shell(
            "ulimit -f 1; \"$BIN\" compare \(pair.reference) \(pair.prediction) --compat all --format json --output \(pair.folder)/big.json"
        )
        #expect(limited.status == 74 && limited.stderr.contains("File too large"), "\(limited.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: pair.folder).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "\(left)")
        #expect(!FileManager.default.fileExists(atPath: pair.folder + "/big.json"))
    }

    @Test func formatFollowsTheExtension() throws {
        let pair = try Pair()
        defer { pair.remove() }
        #expect(try Run(["compare", pair.reference, pair.prediction, "--output", pair.folder + "/r.json"]).status == 0)
        #expect(String(decoding: bytes(pair.folder + "/r.json") ?? Data(), as: UTF8.self).hasPrefix("{"))
        #expect(try Run(["compare", pair.reference, pair.prediction, "--output", pair.folder + "/r.csv"]).status == 0)
        #expect(String(decoding: bytes(pair.folder + "/r.csv") ?? Data(), as: UTF8.self).hasPrefix("label,name"))
        #expect(try Run(["compare", pair.reference, pair.prediction, "--output", pair.folder + "/r.txt"]).status == 0)
        #expect(String(decoding: bytes(pair.folder + "/r.txt") ?? Data(), as: UTF8.self).hasPrefix("Reference"))
        let clash = try Run([
            "compare", pair.reference, pair.prediction, "--format", "csv", "--output", pair.folder + "/x.json",
        ])
        #expect(clash.status == 64 && clash.stderr.contains("contradicts"))
        try "case,reference,prediction\na,ref.nii.gz,pred.nii.gz\n".write(
            toFile: pair.folder + "/pairs.csv", atomically: true, encoding: .utf8)
        let rows = try Run(["batch", "--pairs", pair.folder + "/pairs.csv", "--output", pair.folder + "/rows.json"])
        #expect(rows.status == 0, "\(rows.stderr)")
        #expect(String(decoding: bytes(pair.folder + "/rows.json") ?? Data(), as: UTF8.self).hasPrefix("{"))
    }

    @Test func extraInputsAreCheckedBeforeAnythingIsPrinted() throws {
        let pair = try Pair()
        defer { pair.remove() }
        let missing = try Run([
            "compare", pair.reference, pair.prediction, "--html", pair.folder + "/r.html", "--image",
            pair.folder + "/nope.nii",
        ])
        #expect(missing.status == 66 && missing.stdout.isEmpty, "\(missing.stderr)")
        try write(cube(20, 2, 8), (20, 20, 20), to: pair.folder + "/small.nii")
        let mismatched = try Run([
            "compare", pair.reference, pair.prediction, "--html", pair.folder + "/r.html", "--image",
            pair.folder + "/small.nii",
        ])
        #expect(mismatched.status == 65 && mismatched.stdout.isEmpty && mismatched.stderr.contains("--image"))
        #expect(!mismatched.stderr.contains("--resample to"), "\(mismatched.stderr)")
        let alone = try Run(["compare", pair.reference, pair.prediction, "--image", pair.reference])
        #expect(alone.status == 64 && alone.stderr.contains("--html"))
        let map = try Run([
            "compare", pair.reference, pair.prediction, "--tolerance-map", pair.folder + "/nope.txt",
        ])
        #expect(map.status == 66 && map.stdout.isEmpty)
    }
}

@Suite(.serialized) struct GateContractTests {
    @Test func scopesThatMatchNothingAreUsageErrors() throws {
        let pair = try Pair()
        defer { pair.remove() }
        let base = ["compare", pair.reference, pair.prediction]
        let typo = try Run(base + ["--label-names", pair.names, "--require", "spleeen:dice>0.5"])
        #expect(typo.status == 64 && typo.stderr.contains("spleen, left kidney, liver") && typo.stdout.isEmpty)
        let noNames = try Run(base + ["--require", "spleen:dice>0.5"])
        #expect(noNames.status == 64 && noNames.stderr.contains("--label-names"))
        let value = try Run(base + ["--require", "9:dice>0.5"])
        #expect(value.status == 64 && value.stderr.contains("label 9"))
        let anyCase = try Run(base + ["--label-names", pair.names, "--require", "SPLEEN:dice>0.1"])
        #expect(anyCase.status == 0, "\(anyCase.stderr)")
        // batch: the same rule, checked against the structures of every case.
        try "case,reference,prediction\na,ref.nii.gz,pred.nii.gz\n".write(
            toFile: pair.folder + "/pairs.csv", atomically: true, encoding: .utf8)
        let batch = try Run([
            "batch", "--pairs", pair.folder + "/pairs.csv", "--label-names", pair.names, "--require", "livr:dice>0.1",
        ])
        #expect(batch.status == 64 && batch.stderr.contains("known names: spleen"), "\(batch.stderr)")
        // A tolerance map that names one label twice.
        try "{\"3\": 2, \"liver\": 1}".write(toFile: pair.folder + "/t.json", atomically: true, encoding: .utf8)
        let twice = try Run(base + ["--label-names", pair.names, "--tolerance-map", pair.folder + "/t.json"])
        #expect(twice.status == 64 && twice.stderr.contains("given twice"), "\(twice.stderr)")
        let wrongOperator = try Run(base + ["--require", "dice=>0.8"])
        #expect(wrongOperator.status == 64 && wrongOperator.stderr.contains("did you mean '>='"))
    }

    @Test func aggregateGates() throws {
        let pair = try Pair()
        defer { pair.remove() }
        let base = ["compare", pair.reference, pair.prediction, "--label-names", pair.names]
        #expect(try Run(base + ["--require", "mean:dice>=0.1"]).status == 0)
        let failing = try Run(base + ["--require", "mean:dice>=0.999"])
        #expect(failing.status == 1 && failing.stderr.contains("mean dice over all structures"), "\(failing.stderr)")
        let scoped = try Run(base + ["--require", "liver:median:hd95_mm<=0.01", "--format", "json"])
        #expect(scoped.status == 1)
        let failures = scoped.json?["gate_failures"] as? [[String: Any]]
        #expect(failures?.first?["aggregate"] as? String == "median" && failures?.first?["label"] as? Int == 3)
    }

    @Test func mergeAppliesGatesAndErrorsLikeBatch() throws {
        let folder = try BatchCommandTests.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var parts: [String] = []
        for k in 1...2 {
            let run = try Run([
                "batch", folder + "/ref", folder + "/pred", "--shard", "\(k)/2", "--output", folder + "/s\(k).json",
            ])
            #expect(run.status == 65)
            parts.append(folder + "/s\(k).json")
        }
        let merged = try Run(["merge"] + parts + ["--output", folder + "/m.csv", "--require", "dice>=0.99"])
        #expect(merged.status == 65, "\(merged.stderr)")
        #expect(merged.stderr.contains("case d_corrupt failed") && merged.stderr.contains("gate failed"))
        // Without the broken cases, gate failures alone exit 1.
        let clean = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: clean) }
        try "case,reference,prediction\na,\(folder)/ref/a_good.nii.gz,\(folder)/pred/a_good.nii.gz\n".write(
            toFile: clean + "/pairs.csv", atomically: true, encoding: .utf8)
        #expect(try Run(["batch", "--pairs", clean + "/pairs.csv", "--output", clean + "/r.csv"]).status == 0)
        let gated = try Run(["merge", clean + "/r.csv", "--output", clean + "/m.csv", "--require", "dice>=0.99"])
        #expect(gated.status == 1 && gated.stderr.contains("gate failed"))
        let typo = try Run(["merge", clean + "/r.csv", "--output", clean + "/m2.csv", "--require", "7:dice>=0.1"])
        #expect(typo.status == 64)
    }
}

@Suite(.serialized) struct BatchContractTests {
    @Test func missingPredictionsHaveTheirOwnStatusAndFailTheRun() throws {
        let folder = try BatchCommandTests.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Only the good case and the one without a prediction.
        for name in ["d_corrupt.nii.gz", "e_grid.nii"] {
            try FileManager.default.removeItem(atPath: folder + "/ref/" + name)
            try FileManager.default.removeItem(atPath: folder + "/pred/" + name)
        }
        let strict = try Run(["batch", folder + "/ref", folder + "/pred", "--output", folder + "/a.csv"])
        #expect(strict.status == 65 && strict.stderr.contains("without a prediction: b_nopred"), "\(strict.stderr)")
        #expect(strict.stdout.contains("no_pred"))
        let allowed = try Run([
            "batch", folder + "/ref", folder + "/pred", "--allow-missing", "--output", folder + "/b.csv",
        ])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        // --pairs gives the same rows for the same files.
        try "case,reference,prediction\na_good,ref/a_good.nii.gz,pred/a_good.nii.gz\nb_nopred,ref/b_nopred.nii.gz,\n"
            .write(toFile: folder + "/pairs.csv", atomically: true, encoding: .utf8)
        let pairs = try Run(["batch", "--pairs", folder + "/pairs.csv", "--allow-missing", "--output", folder + "/c.csv"])
        #expect(pairs.status == 0)
        #expect(bytes(folder + "/b.csv") == bytes(folder + "/c.csv"))
        let rows = String(decoding: bytes(folder + "/b.csv") ?? Data(), as: UTF8.self)
        #expect(rows.contains(",no_prediction,"))
    }

    @Test func foldersThatPairNothingOrHoldOtherFormatsAreReported() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for side in ["ref", "pred"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + side, withIntermediateDirectories: true)
        }
        try write(cube(10, 2, 6), (10, 10, 10), to: folder + "/ref/case1.nii.gz")
        try write(cube(10, 2, 6), (10, 10, 10), to: folder + "/pred/case1_pred.nii.gz")
        let none = try Run(["batch", folder + "/ref", folder + "/pred"])
        #expect(none.status == 65 && none.stderr.contains("case1.nii.gz") && none.stderr.contains("case1_pred.nii.gz"))
        try write(cube(10, 2, 6), (10, 10, 10), to: folder + "/pred/case1.nii.gz")
        try write(cube(10, 2, 6), (10, 10, 10), to: folder + "/pred/case1.nii")
        try Data("NRRD0004".utf8).write(to: URL(fileURLWithPath: folder + "/ref/case2.nrrd"))
        let mixed = try Run(["batch", folder + "/ref", folder + "/pred", "--output", folder + "/r.csv"])
        #expect(mixed.stderr.contains("case2.nrrd: not a NIfTI file"), "\(mixed.stderr)")
        #expect(mixed.status == 65 && mixed.stderr.contains("case case1 has 2 files"), "\(mixed.stderr)")
    }

    @Test func diagonalPenaltyAndEveryPresetColumn() throws {
        let folder = try BatchCommandTests.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try Run([
            "batch", folder + "/ref", folder + "/pred", "--penalty-mm", "diagonal", "--compat", "all", "--allow-missing",
            "--output", folder + "/rows.csv", "--summary", folder + "/s.json",
        ])
        #expect(run.status == 65)  // two broken cases
        let header = String(decoding: bytes(folder + "/rows.csv") ?? Data(), as: UTF8.self).split(separator: "\n").first ?? ""
        #expect(header.contains(",hd95_mm,") && header.contains(",medpy.hd95_mm,") && header.contains(",deepmind.nsd,"))
        let summary = try #require(
            try JSONSerialization.jsonObject(with: bytes(folder + "/s.json") ?? Data()) as? [String: Any])
        let overall = summary["overall"] as? [String: Any]
        let hd = (overall?["metrics"] as? [String: Any])?["hausdorff_mm"] as? [String: Any]
        // The case without a prediction counts its structures at its image diagonal: 24 voxels of 1.5 mm.
        let diagonal = (3.0 * 23 * 23).squareRoot() * 1.5
        #expect(abs((hd?["max"] as? Double ?? 0) - diagonal) < 1e-9 && hd?["left_out"] as? Int == 0, "\(hd ?? [:])")
        #expect((summary["settings"] as? [String: Any])?["penalty_mm"] as? String == "diagonal")
        #expect(overall?["foreground_mean"] != nil && (summary["per_case"] as? [Any])?.count == 4)
        // Error rows keep an integral label column.
        let labels = String(decoding: bytes(folder + "/rows.csv") ?? Data(), as: UTF8.self).split(separator: "\n")
            .dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst().first ?? "" }
        #expect(labels.allSatisfy { Int($0) != nil })
        // merge --penalty-mm diagonal reads the recorded diagonals.
        let merged = try Run([
            "merge", folder + "/rows.csv", "--output", folder + "/m.json", "--summary", folder + "/m.json.summary",
            "--penalty-mm", "diagonal", "--allow-missing",
        ])
        #expect(merged.status == 65)
        let mergedSummary = try JSONSerialization.jsonObject(with: bytes(folder + "/m.json.summary") ?? Data()) as? [String: Any]
        let mergedHD = (((mergedSummary?["overall"] as? [String: Any])?["metrics"] as? [String: Any])?["hausdorff_mm"])
            as? [String: Any]
        #expect(abs((mergedHD?["max"] as? Double ?? 0) - diagonal) < 1e-9 && mergedHD?["left_out"] as? Int == 0)
        let compare = try Run([
            "compare", folder + "/ref/a_good.nii.gz", folder + "/pred/a_good.nii.gz", "--compat", "all", "--format", "csv",
        ])
        #expect((compare.stdout.split(separator: "\n").first ?? "").contains(",medpy.hd95_mm,"))
    }

    @Test func mergeRefusesMixedSettingsRepeatedCasesAndMissingShards() throws {
        let folder = try BatchCommandTests.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let base = ["batch", folder + "/ref", folder + "/pred"]
        _ = try Run(base + ["--shard", "1/3", "--output", folder + "/s1.csv"])
        _ = try Run(base + ["--shard", "2/3", "--output", folder + "/s2.csv"])
        _ = try Run(base + ["--shard", "3/3", "--output", folder + "/s3.csv", "--tolerance", "2"])
        _ = try Run(base + ["--shard", "3/3", "--output", folder + "/s3ok.csv"])
        let mixed = try Run(["merge", folder + "/s1.csv", folder + "/s2.csv", folder + "/s3.csv", "--output", folder + "/m.csv"])
        #expect(mixed.status == 65 && mixed.stderr.contains("other settings than") && mixed.stderr.contains("tolerance_mm 2.0 vs 1.0"), "\(mixed.stderr)")
        let twice = try Run(["merge", folder + "/s1.csv", folder + "/s1.csv", "--output", folder + "/m.csv"])
        #expect(twice.status == 65 && twice.stderr.contains("also in"))
        let missing = try Run(["merge", folder + "/s1.csv", folder + "/s2.csv", "--output", folder + "/m.csv"])
        #expect(missing.status == 65 && missing.stderr.contains("shard 3/3 is missing (--partial"))
        let partial = try Run([
            "merge", folder + "/s1.csv", folder + "/s2.csv", "--partial", "--output", folder + "/m.csv",
        ])
        #expect(partial.status == 65 && !partial.stderr.contains("missing (--partial"))  // its broken cases still count
        let whole = try Run(["merge", folder + "/s1.csv", folder + "/s2.csv", folder + "/s3ok.csv", "--output", folder + "/m.csv"])
        #expect(whole.status == 65 && whole.stderr.contains("case d_corrupt failed"))
    }

    @Test func absentAsNaNAndTheTableColumns() throws {
        let pair = try Pair()
        defer { pair.remove() }
        try "case,reference,prediction\na,ref.nii.gz,pred.nii.gz\n".write(
            toFile: pair.folder + "/pairs.csv", atomically: true, encoding: .utf8)
        let perfect = try Run(["batch", "--pairs", pair.folder + "/pairs.csv", "--labels", "1-4", "--summary", pair.folder + "/p.json"])
        #expect(perfect.status == 0 && perfect.stdout.contains("absent"), "\(perfect.stderr)")
        let nan = try Run([
            "batch", "--pairs", pair.folder + "/pairs.csv", "--labels", "1-4", "--absent", "nan", "--summary",
            pair.folder + "/n.json",
        ])
        #expect(nan.status == 0)
        func dice(_ file: String) throws -> [String: Any]? {
            let summary = try JSONSerialization.jsonObject(with: bytes(pair.folder + file) ?? Data()) as? [String: Any]
            return ((summary?["overall"] as? [String: Any])?["metrics"] as? [String: Any])?["dice"] as? [String: Any]
        }
        #expect(try dice("/p.json")?["n"] as? Int == 4 && dice("/n.json")?["n"] as? Int == 3)
        #expect(try dice("/n.json")?["left_out"] as? Int == 1)
    }
}

@Suite(.serialized) struct InputContractTests {
    @Test func labelNameFilesInEveryForm() throws {
        let pair = try Pair()
        defer { pair.remove() }
        let forms = [
            "names.txt": "1 left adrenal gland\n2 kidney\n3 liver 3003\n",
            "names.csv": "label,name\n1,left adrenal gland\n2,kidney\n3,liver\n",
            "dataset.json": "{\"labels\": {\"background\": 0, \"left adrenal gland\": 1, \"kidney\": 2, \"liver\": 3, \"organs\": [1, 2]}}",
            "byname.json": "{\"left adrenal gland\": 1, \"kidney\": 2, \"liver\": 3}",
        ]
        for (file, text) in forms {
            try text.write(toFile: pair.folder + "/" + file, atomically: true, encoding: .utf8)
            let run = try Run(["compare", pair.reference, pair.prediction, "--label-names", pair.folder + "/" + file, "--format", "json"])
            #expect(run.status == 0, "\(file): \(run.stderr)")
            let names = (run.json?["labels"] as? [[String: Any]])?.map { $0["name"] as? String }
            #expect(names == ["left adrenal gland", "kidney", "liver"], "\(file)")
        }
        try "1 liver\n2 kidney\n1 spleen\n".write(toFile: pair.folder + "/dup.txt", atomically: true, encoding: .utf8)
        let dup = try Run(["compare", pair.reference, pair.prediction, "--label-names", pair.folder + "/dup.txt"])
        #expect(dup.status == 65 && dup.stderr.contains("line 1 and line 3"), "\(dup.stderr)")
        try Data([0x89, 0x50, 0x4E, 0x47, 0, 1, 2, 0x1B, 0xFF]).write(to: URL(fileURLWithPath: pair.folder + "/bin.txt"))
        let binary = try Run(["compare", pair.reference, pair.prediction, "--label-names", pair.folder + "/bin.txt"])
        #expect(binary.status == 65 && binary.stderr.contains("not a text file"))
        #expect(!binary.stderr.contains("\u{1B}"))
    }

    @Test func optionValuesSayWhatIsWrong() throws {
        let pair = try Pair()
        defer { pair.remove() }
        let base = ["compare", pair.reference, pair.prediction]
        for (option, value) in [("--tolerance", "-1"), ("--threads", "-2"), ("--penalty-mm", "-5")] {
            let run = try Run(base + [option, value])
            #expect(run.status == 64 && run.stderr.contains("must be a positive number"), "\(option): \(run.stderr)")
        }
        let misspelt = try Run(["comprae", pair.reference, pair.prediction])
        #expect(misspelt.status == 64 && misspelt.stderr.contains("did you mean 'compare'"))
        let named = try Run(base + ["--label-names", pair.names, "--labels", "liver,1", "--format", "json"])
        #expect(named.status == 0 && (named.json?["labels"] as? [Any])?.count == 2, "\(named.stderr)")
        let info = try Run(["info", pair.reference, "--format", "csv"])
        #expect(info.status == 0 && info.stdout.hasPrefix("label,name,voxels,volume_ml"))
        let threads = try Run(base + ["--threads", "100000"])
        #expect(threads.status == 0 && threads.stderr.contains("lowered to"))
        let ranges = try Run(base + ["--labels", Array(repeating: "1-999999", count: 30).joined(separator: ",")])
        #expect(ranges.status == 64)
    }

    @Test func fileNamesThatLookLikeOptions() throws {
        let pair = try Pair()
        defer { pair.remove() }
        try FileManager.default.copyItem(atPath: pair.prediction, toPath: pair.folder + "/-hippocampus_pred.nii.gz")
        let help = try Run(["compare", pair.reference, pair.folder + "/-hippocampus_pred.nii.gz"])
        #expect(help.status == 0)  // a path with a folder is no option
        let bare = try shell("cd \(pair.folder) && \"$BIN\" compare ref.nii.gz -hippocampus_pred.nii.gz")
        #expect(bare.status == 64 && bare.stderr.contains("'--'") && !bare.stdout.contains("USAGE"))
        let separated = try shell("cd \(pair.folder) && \"$BIN\" compare -- ref.nii.gz -hippocampus_pred.nii.gz")
        #expect(separated.status == 0 && separated.stdout.contains("Summary over"), "\(separated.stderr)")
    }

    @Test func binaryMasksWithOtherValuesGetAHint() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(cube(12, 2, 8), (12, 12, 12), to: folder + "/a.nii")
        try write(cube(12, 3, 8, label: 255), (12, 12, 12), to: folder + "/b.nii")
        let run = try Run(["compare", folder + "/a.nii", folder + "/b.nii"])
        #expect(run.status == 0 && run.stderr.contains("--binary"))
        let binary = try Run(["compare", folder + "/a.nii", folder + "/b.nii", "--binary"])
        #expect(binary.stderr.isEmpty && binary.stdout.contains("matched"))
    }

    @Test func fifosAndAwkwardTextInputsNeverHang() throws {
        let pair = try Pair()
        defer { pair.remove() }
        let fifo = pair.folder + "/names.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        for option in ["--label-names", "--tolerance-map"] {
            let run = try Run(["compare", pair.reference, pair.prediction, option, fifo])
            #expect(run.status == 66 && run.stderr.contains("not a regular file"), "\(run.stderr)")
        }
        let pairs = try Run(["batch", "--pairs", fifo])
        #expect(pairs.status == 66)
        // A pairs file with a UTF-8 byte-order mark and CRLF lines.
        try Data([0xEF, 0xBB, 0xBF] + Array("case,reference,prediction\r\na,ref.nii.gz,pred.nii.gz\r\n".utf8)).write(
            to: URL(fileURLWithPath: pair.folder + "/bom.csv"))
        #expect(try Run(["batch", "--pairs", pair.folder + "/bom.csv"]).status == 0)
        // A name with a line break and an escape code: quoted in CSV, escaped in the table.
        try "{\"1\": \"evil\\nname\\u001b[31m\"}".write(toFile: pair.folder + "/evil.json", atomically: true, encoding: .utf8)
        let csv = try Run(["compare", pair.reference, pair.prediction, "--label-names", pair.folder + "/evil.json", "--format", "csv"])
        #expect(csv.stdout.contains("1,\"evil\nname\u{1B}[31m\",matched"))
        let table = try Run(["compare", pair.reference, pair.prediction, "--label-names", pair.folder + "/evil.json"])
        #expect(table.stdout.contains("evil\\nname\\u{1B}[31m") && !table.stdout.contains("\u{1B}"))
    }
}
