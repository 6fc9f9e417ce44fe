import Foundation
import MaskEval
import Testing

/// Silent failures a new user of `lesions`, `--regions` and the gates ran into (round-4 probe):
/// each test failed before its fix.
struct ProbeCLITests {
    static func pair(_ name: String) -> [String] { LesionsCLITests.pair(name) }

    /// A copy of the brats pair in a fresh folder (the tests may try to overwrite it).
    static func copiedPair() throws -> (folder: String, reference: String, prediction: String) {
        let folder = try temporaryFolder()
        let pair = pair("brats")
        let (reference, prediction) = (folder + "/ref.nii.gz", folder + "/pred.nii.gz")
        try FileManager.default.copyItem(atPath: pair[0], toPath: reference)
        try FileManager.default.copyItem(atPath: pair[1], toPath: prediction)
        return (folder, reference, prediction)
    }

    /// `lesions --lesion-map REF` or `--output PRED` overwrote the input and exited 0; now a
    /// usage error (64) naming both, the input untouched, as in `compare`.
    @Test func lesionOutputsNeverOverwriteAnInput() throws {
        let (folder, reference, prediction) = try Self.copiedPair()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let before = try Data(contentsOf: URL(fileURLWithPath: reference))
        let map = try Run(["lesions", reference, prediction, "--lesion-map", reference])
        #expect(map.status == 64)
        #expect(map.stderr.contains("--lesion-map") && map.stderr.contains("ref.nii.gz"), "\(map.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: reference)) == before)
        let onPrediction = try Run(["lesions", reference, prediction, "--output", prediction])
        #expect(onPrediction.status == 64)
        #expect(onPrediction.stderr.contains("--output"))
        let shared: String = folder + "/x"
        let both = try Run(["lesions", reference, prediction, "--output", shared, "--lesion-map", shared])
        #expect(both.status == 64)
        #expect(both.stderr.contains("--lesion-map"))
    }

    /// `lesions --output out.json` wrote a table into a .json file; the format now follows the
    /// extension as in `compare`, and a contradicting `--format` is a usage error.
    @Test func lesionReportFormatFollowsTheOutputExtension() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/out.json"
        let run = try Run(["lesions"] + Self.pair("brats") + ["--output", path])
        #expect(run.status == 0, "\(run.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect((try? JSONSerialization.jsonObject(with: data)) is [String: Any])
        let contradiction = try Run(["lesions"] + Self.pair("brats") + ["--output", path, "--format", "csv"])
        #expect(contradiction.status == 64)
        #expect(contradiction.stderr.contains("contradicts"))
    }

    /// `--ignore-label 0` removed every background voxel of the reference from both volumes, so
    /// false positives outside the structures vanished and Dice rose, with exit 0 (it also
    /// silently overrode a dataset.json's ignore entry); now a usage error in every command.
    @Test func ignoreLabelZeroIsRefused() throws {
        let pair = Self.pair("regions")
        for command in ["compare", "lesions"] {
            let run = try Run([command] + pair + ["--ignore-label", "0"])
            #expect(run.status == 64, "\(command)")
            #expect(run.stderr.contains("ignore label cannot be 0"), "\(command)")
        }
    }

    /// Two regions whose names differ only in case: the error named no file and exited 64,
    /// while an exact duplicate key exits 65 naming the file; now both name the file (65).
    @Test func duplicateRegionNamesNameTheFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/regions.json"
        try Data(#"{"WT": [1, 2, 3], "wt": [3]}"#.utf8).write(to: URL(fileURLWithPath: path))
        let run = try Run(["compare"] + Self.pair("brats") + ["--regions", path])
        #expect(run.status == 65)
        #expect(run.stderr.contains(path) && run.stderr.contains("'WT' and 'wt'"))
    }

    /// `--compat meshmetrics` on 2 mm voxels at the default τ = 1 mm showed `biou` as `-`
    /// (JSON null) with no reason; now a note on stderr says why and how to define it.
    @Test func undefinedBoundaryIoUIsExplained() throws {
        let fixtures = URL(fileURLWithPath: LesionsCLITests.folder).deletingLastPathComponent()
        let samples = fixtures.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("SampleVolumes").path
        let pair = ["jhu_wm_2mm_reference", "jhu_wm_2mm_prediction"].map { samples + "/\($0).nii.gz" }
        let undefined = try Run(["compare"] + pair + ["--compat", "meshmetrics", "--labels", "1", "--format", "json"])
        #expect(undefined.status == 0)
        let row = try #require((undefined.json?["labels"] as? [[String: Any]])?.first)
        #expect(row["biou"] is NSNull)
        #expect(undefined.stderr.contains("biou is undefined (null) for label(s) 1"))
        #expect(undefined.stderr.contains("--tolerance"))
        let defined = try Run(["compare"] + pair + ["--compat", "meshmetrics", "--labels", "1", "--tolerance", "3"])
        #expect(defined.status == 0)
        #expect(!defined.stderr.contains("biou"))
    }

    /// `batch --regions … --require "W:…"` (a typo for WT) evaluated every case before refusing
    /// the gate; the regions are known beforehand, so the typo is now refused before any case.
    @Test func batchGateTypoIsRefusedBeforeAnyCase() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (refs, preds) = try RegionsLesionsCLITests.caseFolders(folder, ["brats", "split"])
        let labels = try Run(["batch", refs, preds, "--regions", "brats", "--require", "W:dice>=0.1"])
        #expect(labels.status == 64)
        #expect(labels.stderr.contains("no structure is called 'W'"))
        #expect(!labels.stderr.contains("case 1/"), "\(labels.stderr)")
        let lesions = try Run(
            ["batch", refs, preds, "--lesions", "--match", "brats2023", "--require", "W:lesion_dice>=0.1"])
        #expect(lesions.status == 64)
        #expect(!lesions.stderr.contains("case 1/"))
    }

    /// A grid mismatch in `lesions` told the user to use --resample or --ignore-geometry,
    /// options `lesions` does not have (it then failed with "unknown option").
    @Test func lesionGeometryErrorNamesNoMissingOption() throws {
        let run = try Run(["lesions", Self.pair("brats")[0], Self.pair("split")[1]])
        #expect(run.status == 65)
        #expect(run.stderr.contains("split_prediction.nii.gz: dims"))
        #expect(!run.stderr.contains("--resample") && !run.stderr.contains("--ignore-geometry"), "\(run.stderr)")
    }

    /// `lesions` on two empty volumes printed nothing and exited 0; the table now says why.
    @Test func lesionTableOfNoStructuresSaysSo() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let empty = folder + "/empty.nii.gz"
        try write([Int32](repeating: 0, count: 27), (3, 3, 3), to: empty)
        let run = try Run(["lesions", empty, empty])
        #expect(run.status == 0)
        #expect(run.stdout.contains("no structures"))
    }

    /// A per-structure gate on two empty volumes judged no row and passed (exit 0): nothing was
    /// checked, which a pipeline read as a pass. It now fails (exit 1) and says so; with the
    /// structure asked for by `--labels` the gate judges its `absent` row.
    @Test func gateWithNoStructureToJudgeFails() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let empty = folder + "/empty.nii.gz"
        try write([Int32](repeating: 0, count: 27), (3, 3, 3), to: empty)
        for command in [["compare", empty, empty, "--require", "dice>=0.9"], ["lesions", empty, empty, "--require", "f1>=0.9"]] {
            let run = try Run(command)
            #expect(run.status == 1, "\(command): \(run.stderr)")
            #expect(run.stderr.contains("no evaluated structure"), "\(command): \(run.stderr)")
        }
        let asked = try Run(["compare", empty, empty, "--labels", "1", "--require", "dice>=0.9"])
        #expect(asked.status == 0, "\(asked.stderr)")
    }

    /// A region name with an escaped quote was not found in the file text, so that region moved
    /// to the end: rows and gate positions no longer followed the file's order.
    @Test func regionWithEscapedNameKeepsFileOrder() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/regions.json"
        try Data(#"{"whole \"tumour\"": [1, 2, 3], "ET": 3}"#.utf8).write(to: URL(fileURLWithPath: path))
        let run = try Run(["compare"] + Self.pair("brats") + ["--regions", path, "--format", "json"])
        #expect(run.status == 0)
        let rows = try #require(run.json?["labels"] as? [[String: Any]])
        #expect(rows.map { $0["name"] as? String } == [#"whole "tumour""#, "ET"])
    }

    /// A region whose labels are in neither volume (a typo: ET as 4 on a 1–3 labelling) was
    /// reported absent with Dice 1 and passed its gate without a word; now a note names it.
    @Test func regionInNeitherVolumeIsNamed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/regions.json"
        try Data(#"{"WT": [1, 2, 3], "ET": 4}"#.utf8).write(to: URL(fileURLWithPath: path))
        let run = try Run(["compare"] + Self.pair("brats") + ["--regions", path, "--require", "ET:dice>=0.9"])
        #expect(run.status == 0)
        #expect(run.stderr.contains("no label of region 'ET' (4) is in either volume"), "\(run.stderr)")
        #expect(!run.stderr.contains("'WT'"))
    }

    /// An ignore label that is not in the reference (99 typed for 9) left nothing out and said
    /// nothing; compare now says so, and stays quiet when the label is there.
    @Test func ignoreLabelNotInTheReferenceIsNamed() throws {
        let missing = try Run(["compare"] + Self.pair("brats") + ["--ignore-label", "99"])
        #expect(missing.status == 0, "\(missing.stderr)")
        #expect(missing.stderr.contains("ignore label 99 is not in the reference"), "\(missing.stderr)")
        let present = try Run(["compare"] + Self.pair("brats") + ["--ignore-label", "2"])
        #expect(present.status == 0, "\(present.stderr)")
        #expect(!present.stderr.contains("is not in the reference"), "\(present.stderr)")
    }
}
