import Foundation
import MaskEval
import Testing

/// The new-user probe's remaining findings in `compare`, `batch`, `lesions`, `merge` and `diff`
/// (nothing silent): each test failed before its fix.
struct Probe2CLITests {
    static func pair(_ name: String) -> [String] { LesionsCLITests.pair(name) }

    /// Two folders holding the brats pair as cases `a` and `b`.
    static func bratsFolders() throws -> String {
        let folder = try temporaryFolder()
        for side in ["ref", "pred"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + side, withIntermediateDirectories: true)
        }
        let pair = pair("brats")
        for id in ["a", "b"] {
            try FileManager.default.copyItem(atPath: pair[0], toPath: folder + "/ref/\(id).nii.gz")
            try FileManager.default.copyItem(atPath: pair[1], toPath: folder + "/pred/\(id).nii.gz")
        }
        return folder
    }

    /// `--ignore-label 99` (9 mistyped) left nothing out: `compare` said so, `batch` and
    /// `lesions` said nothing. Now every command gives the same note.
    @Test func ignoreLabelNoteInEveryCommand() throws {
        let folder = try Self.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let note = "note: the ignore label 99 is not in the reference"
        let compare = try Run(["compare"] + Self.pair("brats") + ["--ignore-label", "99"])
        let lesions = try Run(["lesions"] + Self.pair("brats") + ["--ignore-label", "99"])
        let batch = try Run(["batch", folder + "/ref", folder + "/pred", "--ignore-label", "99", "--bootstrap", "0"])
        for run in [compare, lesions, batch] {
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains(note), "\(run.stderr)")
        }
        #expect(compare.stderr.contains(note + "; no voxel was left out"))
        #expect(lesions.stderr.contains(note + "; no voxel was left out"))
        #expect(batch.stderr.contains(note + " of any of the 2 cases; no voxel was left out"), "\(batch.stderr)")
        for command in ["lesions", "compare"] {
            let present = try Run([command] + Self.pair("brats") + ["--ignore-label", "2"])
            #expect(present.status == 0 && !present.stderr.contains("ignore label"), "\(present.stderr)")
        }
    }

    /// A region whose labels are in neither volume is `absent` (a gate on it passes): only
    /// `compare` named it. `batch` and `lesions` now do too, with the same words.
    @Test func absentRegionNoteInEveryCommand() throws {
        let folder = try Self.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let regions = folder + "/regions.json"
        try Data(#"{"WT": [1, 2, 3], "X": [7]}"#.utf8).write(to: URL(fileURLWithPath: regions))
        let note = "note: no label of region 'X' (7) is in either volume"
        let compare = try Run(["compare"] + Self.pair("brats") + ["--regions", regions])
        let lesions = try Run(["lesions"] + Self.pair("brats") + ["--regions", regions])
        let batch = try Run(["batch", folder + "/ref", folder + "/pred", "--regions", regions, "--bootstrap", "0"])
        for run in [compare, lesions, batch] {
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains(note), "\(run.stderr)")
            #expect(!run.stderr.contains("'WT'"), "\(run.stderr)")
        }
        #expect(batch.stderr.contains(note + " of any of the 2 cases"), "\(batch.stderr)")
        #expect(lesions.stderr.contains("no lesion on either side"), "\(lesions.stderr)")
    }

    /// `--labels 1,99 --require "99:dice>=0.9"` passed without a word: label 99 is in neither
    /// volume, so its row is absent with Dice 1. Now a note names it.
    @Test func absentLabelIsNamed() throws {
        for command in ["compare", "lesions"] {
            let run = try Run([command] + Self.pair("brats") + ["--labels", "1,99"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains("note: no voxel of label 99 is in either volume"), "\(run.stderr)")
        }
    }

    /// `biou` undefined (τ at most half the spacing) was explained in `compare` only; `batch`
    /// showed `-` and null with no reason.
    @Test func boundaryIoUNoteInBatch() throws {
        let folder = try Self.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let batch = try Run([
            "batch", folder + "/ref", folder + "/pred", "--compat", "meshmetrics", "--tolerance", "0.4",
            "--bootstrap", "0",
        ])
        #expect(batch.status == 0, "\(batch.stderr)")
        #expect(
            batch.stderr.contains("note: biou is undefined (null) for label(s) 1, 2, 3 in 2 cases"), "\(batch.stderr)")
        #expect(batch.stderr.contains("half the voxel spacing (1 mm)"), "\(batch.stderr)")
    }

    /// `lesions --labels edema` said "(no --label-names given)" though `lesions` had no such
    /// option; it has it now, for `--labels`, gate scopes and the report's structure names.
    @Test func lesionsTakeLabelNames() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let names = folder + "/names.txt"
        try Data("1 necrosis\n2 edema\n3 enhancing\n".utf8).write(to: URL(fileURLWithPath: names))
        let run = try Run(
            ["lesions"] + Self.pair("brats") + [
                "--labels", "edema,3", "--label-names", names, "--require", "enhancing:tp>=0", "--format", "json",
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let structures = (run.json?["structures"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(structures == ["edema", "enhancing"], "\(run.stdout)")
        let values = (run.json?["structures"] as? [[String: Any]])?.compactMap { $0["label"] as? Int }
        #expect(values == [2, 3], "\(run.stdout)")
        let labels = try #require((run.json?["settings"] as? [String: Any])?["labels"] as? [Int])
        #expect(labels == [2, 3])
        let unknown = try Run(["lesions"] + Self.pair("brats") + ["--labels", "liver", "--label-names", names])
        #expect(unknown.status == 64 && unknown.stderr.contains("'liver' is not a label"), "\(unknown.stderr)")
        let withRegions = try Run(["lesions"] + Self.pair("brats") + ["--regions", "brats", "--label-names", names])
        #expect(withRegions.status == 64 && withRegions.stderr.contains("drop --label-names"), "\(withRegions.stderr)")
    }

    /// `merge` and `diff` named only the first differing setting; a user who changed the
    /// third did not see it. Every differing setting is named, with both values.
    @Test func mergeAndDiffNameEveryDifferingSetting() throws {
        let folder = try Self.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let base = ["batch", folder + "/ref", folder + "/pred", "--bootstrap", "0"]
        _ = try Run(base + ["--shard", "1/2", "--output", folder + "/s1.csv"])
        let odd = try Run(
            base + ["--shard", "2/2", "--output", folder + "/s2.csv", "--tolerance", "2", "--ignore-label", "9"])
        #expect(odd.status == 0, "\(odd.stderr)")
        let merge = try Run(["merge", folder + "/s1.csv", folder + "/s2.csv", "--output", folder + "/m.csv"])
        #expect(merge.status == 65, "\(merge.stderr)")
        #expect(merge.stderr.contains("tolerance_mm 2.0 vs 1.0"), "\(merge.stderr)")
        #expect(merge.stderr.contains("ignore_label 9 vs none"), "\(merge.stderr)")
        let diff = try Run(["diff", folder + "/s1.csv", folder + "/s2.csv"])
        #expect(diff.status == 65, "\(diff.stderr)")
        #expect(diff.stderr.contains("tolerance_mm 2.0 vs 1.0") && diff.stderr.contains("ignore_label 9 vs none"))
    }

    /// `merge s1.csv --summary s1.csv.settings.json` overwrote the settings file it had just
    /// read (`diff` already checked it); now a usage error.
    @Test func mergeNeverOverwritesASettingsFile() throws {
        let folder = try Self.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rows = folder + "/rows.csv"
        _ = try Run(["batch", folder + "/ref", folder + "/pred", "--bootstrap", "0", "--output", rows])
        let before = try Data(contentsOf: URL(fileURLWithPath: rows + ".settings.json"))
        let merge = try Run(["merge", rows, "--summary", rows + ".settings.json"])
        #expect(merge.status == 64 && merge.stderr.contains("settings"), "\(merge.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: rows + ".settings.json")) == before)
    }

    /// The summary table's `all` line counted a failed case once per structure in `error`;
    /// it counts cases now (`no_pred` likewise).
    @Test func summaryAllLineCountsFailedCasesOnce() throws {
        let folder = try Self.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("not a nifti file".utf8).write(to: URL(fileURLWithPath: folder + "/pred/b.nii.gz"))
        let run = try Run(["batch", folder + "/ref", folder + "/pred", "--regions", "brats", "--bootstrap", "0"])
        #expect(run.status == 65, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let header = try #require(lines.first)
        let all = try #require(lines.first { $0.first == "all" })
        let errorColumn = try #require(header.firstIndex(of: "error"))
        // The `all` line has no name cell: its cells sit one to the left of the header's.
        #expect(all[errorColumn - 1] == "1", "\(run.stdout)")
        let structureLines = lines.filter { $0.count == header.count && $0.first != "label" }
        #expect(structureLines.count == 3 && structureLines.allSatisfy { $0[errorColumn] == "1" }, "\(run.stdout)")
    }

    /// `--lesion-map x.hdr` writes `x.img` too, which the clobber check did not see: an input
    /// given as `x.img` (or its `.hdr`) was overwritten. Both halves are checked now, in
    /// both directions, and a volume output named `.img` (a pair nothing can read) is refused.
    @Test func pairHalvesAreNeverOverwritten() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let labels = cube(12, 3, 8)
        try write(labels, (12, 12, 12), to: folder + "/ref.hdr")
        try write(labels, (12, 12, 12), to: folder + "/pred.nii")
        let before = try Data(contentsOf: URL(fileURLWithPath: folder + "/ref.img"))
        let headerBefore = try Data(contentsOf: URL(fileURLWithPath: folder + "/ref.hdr"))
        let lesionMap = try Run([
            "lesions", folder + "/ref.img", folder + "/pred.nii", "--lesion-map", folder + "/ref.hdr",
        ])
        #expect(lesionMap.status == 64 && lesionMap.stderr.contains("--lesion-map"), "\(lesionMap.stderr)")
        let errorMap = try Run([
            "compare", folder + "/ref.hdr", folder + "/pred.nii", "--error-map", folder + "/ref.hdr",
        ])
        #expect(errorMap.status == 64, "\(errorMap.stderr)")
        let report = try Run(["compare", folder + "/ref.img", folder + "/pred.nii", "--output", folder + "/ref.hdr"])
        #expect(report.status == 64 && report.stderr.contains("half"), "\(report.stderr)")
        let summary = try Run([
            "compare", folder + "/ref.hdr", folder + "/pred.nii", "--distance-map", folder + "/d.hdr", "--output",
            folder + "/d.img",
        ])
        #expect(summary.status == 64 && summary.stderr.contains("also writes"), "\(summary.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/ref.img")) == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/ref.hdr")) == headerBefore)
        let img = try Run(["compare", folder + "/ref.hdr", folder + "/pred.nii", "--error-map", folder + "/e.img"])
        #expect(img.status == 64 && img.stderr.contains("give \(folder)/e.hdr"), "\(img.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/e.img"))
        let written = try Run(["lesions", folder + "/ref.hdr", folder + "/pred.nii", "--lesion-map", folder + "/l.hdr"])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(try Run(["info", folder + "/l.img"]).status == 0)
    }

    /// `--regions BRATS` was read as a file name ("BRATS: no such file").
    @Test func bratsKeywordInAnyCase() throws {
        for spelling in ["BRATS", "BraTS"] {
            let run = try Run(["compare"] + Self.pair("brats") + ["--regions", spelling, "--format", "csv"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains(",WT,") && run.stdout.contains(",ET,"), "\(run.stdout)")
        }
    }

    /// A per-structure gate with nothing to judge wrote `"aggregate": ""` in its JSON failure;
    /// it is null now (the gate has no aggregate).
    @Test func gateFailureWithoutRowHasNullAggregate() throws {
        let empty = LesionsCLITests.pair("empty_reference")[0]
        let run = try Run(["compare", empty, empty, "--require", "dice>=0.5", "--format", "json"])
        #expect(run.status == 1, "\(run.stderr)")
        let failure = try #require((run.json?["gate_failures"] as? [[String: Any]])?.first)
        #expect(failure["aggregate"] is NSNull, "\(failure)")
        #expect(failure["n"] as? Int == 0)
    }
}
