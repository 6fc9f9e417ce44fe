import Foundation
import MaskEval
import Testing

/// `--regions` and `--ignore-label` in `compare`, `batch --lesions`, and gates on lesion
/// aggregates, end to end on the committed cases of Tests/Fixtures/lesions.
struct RegionsLesionsCLITests {
    static let folder = LesionsCLITests.folder
    static func pair(_ name: String) -> [String] { LesionsCLITests.pair(name) }

    /// The peer values of scripts/cross_check_lesions.py, by case.
    static func expected() -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: folder + "/expected.json"),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object["cases"] as? [String: Any] ?? [:]
    }

    /// `maskeval lesions … --format csv`: the structure rows' aggregates as written.
    static func lesionAggregates(_ arguments: [String]) throws -> [String: [String: String]] {
        let run = try Run(["lesions"] + arguments + ["--format", "csv"])
        var out: [String: [String: String]] = [:]
        for row in csvRows(run.stdout) where row["side"] == "structure" { out[row["structure"] ?? ""] = row }
        return out
    }

    /// `folder/refs` and `folder/preds` holding the named cases (`missing` without its prediction).
    static func caseFolders(_ folder: String, _ names: [String], missing: String? = nil) throws -> (String, String) {
        let (refs, preds) = (folder + "/refs", folder + "/preds")
        let manager = FileManager.default
        for path in [refs, preds] { try manager.createDirectory(atPath: path, withIntermediateDirectories: true) }
        for name in names {
            let pair = pair(name)
            try manager.copyItem(atPath: pair[0], toPath: "\(refs)/\(name).nii.gz")
            if name != missing { try manager.copyItem(atPath: pair[1], toPath: "\(preds)/\(name).nii.gz") }
        }
        return (refs, preds)
    }

    static func csvRows(_ text: String) -> [[String: String]] {
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        guard let header = lines.first?.map(String.init) else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.map(String.init))) }
    }

    /// BraTS regions: WT is the union of every label (so `--binary` gives its Dice), ET is label
    /// 3 (so the plain label row gives its values); rows are named and gated by region.
    @Test func compareBratsRegions() throws {
        let regions = try Run(["compare"] + Self.pair("brats") + ["--regions", "brats", "--format", "json"])
        #expect(regions.status == 0, "\(regions.stderr)")
        let json = try #require(regions.json)
        let rows = try #require(json["labels"] as? [[String: Any]])
        #expect(rows.map { $0["name"] as? String } == ["WT", "TC", "ET"])
        #expect(rows.map { $0["label"] as? Int } == [1, 2, 3])
        let recorded = (json["settings"] as? [String: Any])?["regions"] as? [[String: Any]]
        #expect(recorded?.map { $0["labels"] as? [Int] } == [[1, 2, 3], [1, 3], [3]])
        let binary = try #require(try Run(["compare"] + Self.pair("brats") + ["--binary", "--format", "json"]).json)
        let whole = try #require((binary["labels"] as? [[String: Any]])?.first)
        #expect(rows[0]["dice"] as? Double == whole["dice"] as? Double)
        #expect(rows[0]["hd95_mm"] as? Double == whole["hd95_mm"] as? Double)
        let plain = try #require(try Run(["compare"] + Self.pair("brats") + ["--format", "json"]).json)
        let label3 = try #require((plain["labels"] as? [[String: Any]])?.first { $0["label"] as? Int == 3 })
        for key in ["dice", "tp_voxels", "fp_voxels", "hd95_mm", "nsd"] {
            #expect(
                rows[2][key] as? Double == label3[key] as? Double || rows[2][key] as? Int == label3[key] as? Int,
                "\(key)")
        }
        let csv = Self.csvRows(
            try Run(["compare"] + Self.pair("brats") + ["--regions", "brats", "--format", "csv"]).stdout)
        let dice = try #require(csv.first?["dice"])
        let pass = try Run(["compare"] + Self.pair("brats") + ["--regions", "brats", "--require", "wt:dice>=\(dice)"])
        #expect(pass.status == 0, "\(pass.stderr)")
        let fail = try Run(["compare"] + Self.pair("brats") + ["--regions", "brats", "--require", "WT:dice>\(dice)"])
        #expect(fail.status == 1 && fail.stderr.contains("gate failed: label 1 (WT)"), "\(fail.stderr)")
        let typo = try Run(["compare"] + Self.pair("brats") + ["--regions", "brats", "--require", "whole:dice>=0.5"])
        #expect(typo.status == 64 && typo.stderr.contains("known names: WT, TC, ET"), "\(typo.stderr)")
    }

    /// An nnU-Net dataset.json: its regions and its ignore label give nnU-Net's TP, FP, FN, TN,
    /// Dice (scripts/cross_check_lesions.py, `nnunet` of the `regions` case), under every preset.
    @Test func compareDatasetJSONMatchesNNUNet() throws {
        let run = try Run(
            ["compare"] + Self.pair("regions") + [
                "--regions", Self.folder + "/regions_dataset.json", "--format", "csv", "--compat", "all",
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = Self.csvRows(run.stdout)
        let peer = try #require(
            (Self.expected()["regions"] as? [String: Any])?["nnunet"] as? [String: [String: Any]])
        #expect(rows.map { $0["name"] } == ["whole tumor", "tumor core", "enhancing tumor"])
        for row in rows {
            let values = try #require(peer[row["name"] ?? ""])
            for (key, peerKey) in [("tp_voxels", "TP"), ("fp_voxels", "FP"), ("fn_voxels", "FN"), ("tn_voxels", "TN")] {
                #expect(Int(row[key] ?? "") == (values[peerKey] as? Int), "\(row["name"] ?? "") \(key)")
            }
            let dice = try #require(Double(row["dice"] ?? ""))
            #expect(abs(dice - ((values["Dice"] as? Double) ?? -1)) < 1e-12)
            #expect(!(row["meshmetrics.hd95_mm"] ?? "").isEmpty)
        }
        // --ignore-label alone: label 4 is no row, and FP falls against the plain run.
        let ignored = Self.csvRows(
            try Run(["compare"] + Self.pair("regions") + ["--ignore-label", "4", "--format", "csv"]).stdout)
        let plain = Self.csvRows(try Run(["compare"] + Self.pair("regions") + ["--format", "csv"]).stdout)
        #expect(ignored.map { $0["label"] } == ["1", "2", "3"] && plain.map { $0["label"] } == ["1", "2", "3", "4"])
        for (a, b) in zip(ignored, plain) {
            #expect(Int(a["fp_voxels"] ?? "") ?? 0 < Int(b["fp_voxels"] ?? "") ?? 0)
            #expect(a["tp_voxels"] == b["tp_voxels"])
        }
    }

    /// batch --regions: rows and aggregates per region (each case's row is compare's), gates
    /// by region name, diff per region; merge refuses rows made with other regions.
    @Test func batchRegions() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (refs, preds) = try Self.caseFolders(folder, ["brats", "diagonal"])
        let rowsPath = folder + "/rows.csv"
        let run = try Run(
            [
                "batch", refs, preds, "--regions", "brats", "--output", rowsPath, "--summary", folder + "/s.json",
                "--require", "WT:mean:dice>=0.5",
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = Self.csvRows(try String(contentsOfFile: rowsPath, encoding: .utf8))
        #expect(rows.map { $0["case"] ?? "" } == ["brats", "brats", "brats", "diagonal", "diagonal", "diagonal"])
        #expect(rows.map { $0["name"] ?? "" } == ["WT", "TC", "ET", "WT", "TC", "ET"])
        let single = Self.csvRows(
            try Run(["compare"] + Self.pair("brats") + ["--regions", "brats", "--format", "csv"]).stdout)
        #expect(rows.prefix(3).map { $0["dice"] } == single.map { $0["dice"] })
        #expect(rows.prefix(3).map { $0["hd95_mm"] } == single.map { $0["hd95_mm"] })
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/s.json")))
                as? [String: Any])
        #expect((summary["structures"] as? [[String: Any]])?.map { $0["name"] as? String } == ["WT", "TC", "ET"])
        #expect(try Run(["batch", refs, preds, "--regions", "brats", "--require", "whole:dice>=0"]).status == 64)
        let diff = try Run(["diff", rowsPath, rowsPath])
        #expect(diff.status == 0 && diff.stdout.contains("WT"), "\(diff.stderr)")
        let other = folder + "/other.csv"
        _ = try Run(["batch", refs, preds, "--output", other])
        let merge = try Run(["merge", rowsPath, other, "--output", folder + "/m.csv"])
        #expect(merge.status == 65 && merge.stderr.contains("regions"), "\(merge.stderr)")
    }

    @Test func regionsUsageErrors() throws {
        for extra in [["--labels", "1"], ["--binary"], ["--html", "/tmp/x.html"], ["--error-map", "/tmp/x.nii"]] {
            let run = try Run(["compare"] + Self.pair("brats") + ["--regions", "brats"] + extra)
            #expect(run.status == 64 && run.stderr.contains("--regions"), "\(extra): \(run.stderr)")
        }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/regions.json"
        try Data(#"{"tumour": [1, 2, 4]}"#.utf8).write(to: URL(fileURLWithPath: file))
        let run = try Run(["compare"] + Self.pair("brats") + ["--regions", file, "--ignore-label", "4"])
        #expect(run.status == 64 && run.stderr.contains("holds the ignore label 4"), "\(run.stderr)")
    }

    /// Gates on lesion aggregates: pass, fail (1, every failure on stderr and in the JSON),
    /// unknown metric and unknown structure (64).
    @Test func lesionGates() throws {
        let brats = Self.pair("brats") + ["--match", "brats2023"]
        // Thresholds from the CSV (shortest round-trip text; Foundation's JSON parser on Linux
        // can be an ulp off).
        let dice = try #require(try Self.lesionAggregates(brats)["WT"]?["lesion_dice"])
        let pass = try Run(["lesions"] + brats + ["--require", "WT:lesion_dice>=\(dice)", "--require", "fn<=1"])
        #expect(pass.status == 0, "\(pass.stderr)")
        let fail = try Run(
            ["lesions"] + brats + [
                "--require", "WT:lesion_dice>\(dice)", "--require", "ET:fn<=0", "--format", "json",
            ])
        #expect(fail.status == 1, "\(fail.stderr)")
        #expect(fail.stderr.contains("(WT): lesion_dice = ") && fail.stderr.contains("(ET): fn = 1, required fn<=0"))
        #expect((fail.json?["gate_failures"] as? [[String: Any]])?.count == 2)
        let metric = try Run(["lesions"] + brats + ["--require", "WT:f1>=0.5"])
        #expect(metric.status == 64 && metric.stderr.contains("unknown metric 'f1'"), "\(metric.stderr)")
        let scope = try Run(["lesions"] + brats + ["--require", "whole_tumor:lesion_dice>=0.8"])
        #expect(scope.status == 64 && scope.stderr.contains("no structure is called"), "\(scope.stderr)")
        // IoU rules: f1, pq by label value; the 40-lesion case has f1 below 1.
        let ms = Self.pair("ms40")
        let f1 = try #require(try Self.lesionAggregates(ms)["1"]?["f1"])
        #expect(try Run(["lesions"] + ms + ["--require", "1:f1>=\(f1)", "--require", "mean:pq>0"]).status == 0)
        #expect(try Run(["lesions"] + ms + ["--require", "f1>\(f1)"]).status == 1)
        #expect(try Run(["lesions"] + ms + ["--require", "2:f1>=0"]).status == 64)
    }

    /// batch --lesions: a row of lesion aggregates per case and structure, equal to what
    /// `maskeval lesions` gives for the case; error and no_prediction rows; aggregates; gates.
    @Test func batchLesions() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (refs, preds) = try Self.caseFolders(folder, ["split", "diagonal", "brats", "merged"], missing: "merged")
        let manager = FileManager.default
        try Data("not a volume".utf8).write(to: URL(fileURLWithPath: "\(refs)/broken.nii.gz"))
        try manager.copyItem(atPath: Self.pair("split")[1], toPath: "\(preds)/broken.nii.gz")
        let rowsPath = folder + "/rows.csv"
        let run = try Run(
            [
                "batch", refs, preds, "--lesions", "--match", "brats2023", "--output", rowsPath, "--summary",
                folder + "/summary.json", "--require", "TC:lesion_dice>=0",
            ])
        #expect(run.status == 65, "an error case and a missing prediction: \(run.stderr)")
        #expect(run.stdout.contains("lesion_dice_mean"))
        let rows = Self.csvRows(try String(contentsOfFile: rowsPath, encoding: .utf8))
        #expect(rows.count == 5 * 3)
        #expect(rows.filter { $0["case"] == "broken" }.map { $0["status"] } == ["error", "error", "error"])
        #expect(rows.filter { $0["case"] == "broken" }.map { $0["name"] } == ["WT", "TC", "ET"])
        let merged = rows.filter { $0["case"] == "merged" }
        #expect(merged[0]["status"] == "no_prediction" && Double(merged[0]["lesion_hd95_mm"] ?? "") == 374)
        // Each evaluated row is the single-case command's aggregates.
        for name in ["split", "diagonal", "brats"] {
            let single = try #require(
                try Run(["lesions"] + Self.pair(name) + ["--match", "brats2023", "--format", "json"]).json)
            for structure in try #require(single["structures"] as? [[String: Any]]) {
                let row = try #require(rows.first { $0["case"] == name && $0["name"] == structure["name"] as? String })
                let aggregates = try #require(structure["aggregates"] as? [String: Any])
                for key in ["tp", "fp", "fn", "reference_lesions"] {
                    #expect(Int(row[key] ?? "") == aggregates[key] as? Int, "\(name) \(key)")
                }
                let dice = try #require(aggregates["lesion_dice"] as? Double)
                #expect(abs((Double(row["lesion_dice"] ?? "") ?? .nan) - dice) < 1e-12, "\(name)")
            }
        }
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/summary.json")))
                as? [String: Any])
        let wt = try #require((summary["structures"] as? [[String: Any]])?.first)
        let lesionDice = (wt["metrics"] as? [String: Any])?["lesion_dice"] as? [String: Any]
        let values = rows.filter { $0["name"] == "WT" && $0["status"] != "error" }.compactMap {
            Double($0["lesion_dice"] ?? "")
        }
        #expect(lesionDice?["n"] as? Int == 4)
        #expect(abs((lesionDice?["mean"] as? Double ?? 0) - values.reduce(0, +) / 4) < 1e-12)
        // diff of two lesion row files compares the lesion metrics by default.
        let diff = try Run(["diff", rowsPath, rowsPath])
        #expect(
            diff.stdout.contains("lesion_dice (higher") && diff.stdout.contains("lesion_hd95_mm (lower"),
            "\(diff.stderr)")
        // Without the broken case and with --allow-missing: gates decide the status.
        try manager.removeItem(atPath: "\(refs)/broken.nii.gz")
        let base = ["batch", refs, preds, "--lesions", "--match", "brats2023", "--allow-missing"]
        #expect(try Run(base + ["--require", "ET:fn<=1"]).status == 0)
        let failed = try Run(base + ["--require", "WT:tp>=2"])
        #expect(
            failed.status == 1 && failed.stderr.contains("label 1 (WT): tp = 1, required tp>=2"), "\(failed.stderr)")
        #expect(try Run(base + ["--require", "WT:f1>=0.5"]).status == 64)
        #expect(try Run(base + ["--require", "core:tp>=0"]).status == 64)
        #expect(try Run(["batch", refs, preds, "--match", "brats2023"]).status == 64)
        #expect(try Run(base + ["--html", folder + "/x.html"]).status == 64)
        let cases = ["--regions", "brats", "--html", folder + "/x.html", "--html-cases", folder + "/cases"]
        #expect(try Run(["batch", refs, preds] + cases).status == 64)
    }
}
