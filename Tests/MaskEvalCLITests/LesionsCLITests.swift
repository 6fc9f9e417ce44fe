import Foundation
import MaskEval
import Testing

/// `maskeval lesions` end to end on the committed lesion cases (Tests/Fixtures/lesions).
struct LesionsCLITests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/lesions").path

    static func pair(_ name: String) -> [String] {
        [folder + "/\(name)_reference.nii.gz", folder + "/\(name)_prediction.nii.gz"]
    }

    /// split: IoU rules give 1 FN and 2 FP rows; the JSON holds the aggregates per label.
    @Test func jsonReport() throws {
        let run = try Run(["lesions"] + Self.pair("split") + ["--format", "json", "--threads", "2"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(run.json)
        #expect(json["schema_version"] as? Int == 1)
        let structures = try #require(json["structures"] as? [[String: Any]])
        #expect(structures.count == 1)
        let aggregates = try #require(structures[0]["aggregates"] as? [String: Any])
        #expect(aggregates["tp"] as? Int == 0 && aggregates["fp"] as? Int == 2 && aggregates["fn"] as? Int == 1)
        #expect(aggregates["precision"] as? Double == 0)
        let lesions = try #require(structures[0]["lesions"] as? [[String: Any]])
        #expect(lesions.map { $0["status"] as? String } == ["fn", "fp", "fp"])
    }

    /// brats2023 defaults to the WT/TC/ET regions; CSV has a row per lesion and per structure.
    @Test func bratsCSV() throws {
        let run = try Run(["lesions"] + Self.pair("brats") + ["--match", "brats2023", "--format", "csv"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        #expect(Array(header.prefix(LesionReport.rowKeys.count)) == LesionReport.rowKeys)
        #expect(header.contains("lesion_dice") && header.contains("lesion_hd95_mm"))
        let structureRows = lines.filter {
            $0.split(separator: ",", omittingEmptySubsequences: false)[1] == "structure"
        }
        #expect(structureRows.map { String($0.prefix(2)) } == ["WT", "TC", "ET"])
    }

    /// --lesion-map writes ids on the reference grid; matched pairs share an id.
    @Test func lesionMapAndOutputFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try Run(
            ["lesions"] + Self.pair("diagonal") + [
                "--lesion-map", folder + "/map.nii.gz", "--output", folder + "/report.txt",
            ])
        #expect(run.status == 0 && run.stdout.isEmpty, "\(run.stderr)")
        let map = try NIfTIReader.read(path: folder + "/map.nii.gz")
        let reference = try NIfTIReader.read(path: Self.pair("diagonal")[0])
        #expect(map.grid == reference.grid)
        // Both reference lesions are matched, so the map holds exactly ids 1 and 2.
        #expect(Set(map.int32Labels) == [0, 1, 2])
        let text = try String(contentsOfFile: folder + "/report.txt", encoding: .utf8)
        #expect(text.contains("tp 2"))
    }

    @Test func usageAndInputErrors() throws {
        let badMatch = try Run(["lesions"] + Self.pair("split") + ["--match", "dice:0.5"])
        #expect(badMatch.status == 64 && badMatch.stdout.isEmpty)
        let badConnectivity = try Run(["lesions"] + Self.pair("split") + ["--connectivity", "8"])
        #expect(badConnectivity.status == 64)
        let missing = try Run(["lesions", Self.folder + "/nope.nii.gz", Self.pair("split")[1]])
        #expect(missing.status == 66 && missing.stderr.contains("nope.nii.gz"))
        let badRegions = try Run(["lesions"] + Self.pair("split") + ["--regions", Self.pair("split")[0]])
        #expect(badRegions.status == 65 && badRegions.stderr.split(separator: "\n").count == 1)
        let otherGrid = try Run(["lesions", Self.pair("split")[0], Self.pair("anisotropic")[1]])
        #expect(otherGrid.status == 65)
    }

    /// --regions with a dataset.json takes its ignore label too; --connectivity 6 splits the
    /// corner contacts of the diagonal case.
    @Test func regionsAndConnectivity() throws {
        let regions = try Run(
            ["lesions"] + Self.pair("regions") + [
                "--regions", Self.folder + "/regions_dataset.json", "--format", "json",
            ])
        #expect(regions.status == 0, "\(regions.stderr)")
        let names = (regions.json?["structures"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["whole tumor", "tumor core", "enhancing tumor"])
        let six = try Run(["lesions"] + Self.pair("diagonal") + ["--connectivity", "6", "--format", "json"])
        let aggregates = ((six.json?["structures"] as? [[String: Any]])?.first)?["aggregates"] as? [String: Any]
        #expect(aggregates?["reference_lesions"] as? Int == 4)
    }
}
