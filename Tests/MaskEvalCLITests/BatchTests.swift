import Foundation
import MaskEval
import Testing

/// A small synthetic abdomen: three "organs" (ellipsoids) whose centres and radii vary with
/// `seed`; the prediction moves and scales them a little.
func abdomen(seed: Int, prediction: Bool, n: Int = 24) -> [Int32] {
    var out = [Int32](repeating: 0, count: n * n * n)
    let organs: [(Int32, Double, Double, Double, Double)] = [
        (1, 8, 9, 12, 5), (2, 16, 9, 11, 4), (3, 12, 16, 12, 3),
    ]
    for (label, cx, cy, cz, r) in organs {
        let shift = prediction ? Double((seed + Int(label)) % 3) - 1 : 0
        let radius = r + (prediction ? Double(seed % 2) * 0.5 : Double(seed % 3) * 0.3)
        for k in 0..<n {
            for j in 0..<n {
                for i in 0..<n {
                    let dx = Double(i) - cx - shift
                    let dy = Double(j) - cy
                    let dz = Double(k) - cz
                    if dx * dx + dy * dy + dz * dz <= radius * radius { out[i + n * (j + n * k)] = label }
                }
            }
        }
    }
    return out
}

@Suite(.serialized) struct BatchCommandTests {
    /// Folders with a matched case, a missing prediction, an extra prediction, a corrupt
    /// file and a geometry mismatch.
    static func makeFolders() throws -> String {
        let folder = try temporaryFolder()
        for side in ["ref", "pred"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + side, withIntermediateDirectories: true)
        }
        try write(abdomen(seed: 1, prediction: false), (24, 24, 24), to: folder + "/ref/a_good.nii.gz", spacing: 1.5)
        try write(abdomen(seed: 1, prediction: true), (24, 24, 24), to: folder + "/pred/a_good.nii.gz", spacing: 1.5)
        try write(abdomen(seed: 2, prediction: false), (24, 24, 24), to: folder + "/ref/b_nopred.nii.gz", spacing: 1.5)
        try write(abdomen(seed: 3, prediction: true), (24, 24, 24), to: folder + "/pred/c_noref.nii.gz", spacing: 1.5)
        try write(abdomen(seed: 4, prediction: false), (24, 24, 24), to: folder + "/ref/d_corrupt.nii.gz", spacing: 1.5)
        try Data("not a nifti file at all".utf8).write(to: URL(fileURLWithPath: folder + "/pred/d_corrupt.nii.gz"))
        try write(abdomen(seed: 5, prediction: false), (24, 24, 24), to: folder + "/ref/e_grid.nii", spacing: 1.5)
        try write(
            abdomen(seed: 5, prediction: true), (24, 24, 24), to: folder + "/pred/e_grid.nii", spacing: 1.5, origin: 7)
        return folder
    }

    @Test func failuresNeverVanish() throws {
        let folder = try Self.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try Run([
            "batch", folder + "/ref", folder + "/pred", "--output", folder + "/rows.csv", "--summary",
            folder + "/summary.json",
        ])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.contains("c_noref.nii.gz: prediction without a reference"))
        #expect(run.stdout.contains("4 cases, 2 with errors: d_corrupt, e_grid; 1 without a prediction: b_nopred"))
        let table = try RowFile.read(path: folder + "/rows.csv").result
        let byCase = Dictionary(grouping: table.rows, by: \.caseID)
        #expect(Set(byCase.keys) == ["a_good", "b_nopred", "d_corrupt", "e_grid"])
        #expect(byCase["a_good"]?.map(\.status) == [.matched, .matched, .matched])
        #expect(byCase["b_nopred"]?.map(\.status) == [.noPrediction, .noPrediction, .noPrediction])
        #expect(byCase["b_nopred"]?.allSatisfy { $0[.hausdorff] == .infinity && $0[.dice] == 0 } == true)
        // An error case carries the structures of the others, so the label column stays integral.
        #expect(byCase["d_corrupt"]?.map(\.label) == [1, 2, 3] && byCase["d_corrupt"]?[0].status == .error)
        #expect(byCase["d_corrupt"]?[0].error.contains("not a NIfTI") == true)
        #expect(byCase["e_grid"]?[0].error.contains("origin is shifted by 7 mm") == true)
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/summary.json")))
                as? [String: Any])
        #expect(summary["error_cases"] as? [String] == ["d_corrupt", "e_grid"])
        #expect(summary["cases_without_prediction"] as? [String] == ["b_nopred"])
        let counts = (summary["overall"] as? [String: Any])?["status_counts"] as? [String: Int]
        #expect(counts?["matched"] == 3 && counts?["no_prediction"] == 3 && counts?["error"] == 6)
    }

    @Test func perCaseValuesEqualCompare() throws {
        let folder = try Self.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try Run(["batch", folder + "/ref", folder + "/pred", "--output", folder + "/rows.csv", "--format", "csv"])
        let table = try RowFile.read(path: folder + "/rows.csv").result
        let rows = table.rows.filter { $0.caseID == "a_good" }
        let compare = try Run([
            "compare", folder + "/ref/a_good.nii.gz", folder + "/pred/a_good.nii.gz", "--format", "csv",
        ])
        let lines = compare.stdout.split(separator: "\n").dropFirst()
        #expect(lines.count == rows.count)
        // The CSV of compare and the batch rows carry the same numbers, column for column.
        let batchCSV = RowFiles.csv(BatchResult(rows: rows, settings: table.settings)).split(separator: "\n")
            .dropFirst()
        for (a, b) in zip(lines, batchCSV) {
            let compareCells = a.split(separator: ",", omittingEmptySubsequences: false).dropFirst(3)
            let batchCells = b.split(separator: ",", omittingEmptySubsequences: false).dropFirst(4).dropLast(2)
            #expect(Array(compareCells) == Array(batchCells))
        }
    }

    @Test func gatesPassAndFail() throws {
        let folder = try Self.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pairs = folder + "/pairs.csv"
        try "case,reference,prediction\ngood,ref/a_good.nii.gz,pred/a_good.nii.gz\n".write(
            toFile: pairs, atomically: true, encoding: .utf8)
        let pass = try Run(["batch", "--pairs", pairs, "--require", "dice>=0.3", "--require", "2:hd95_mm<=10"])
        #expect(pass.status == 0, "\(pass.stderr)")
        let fail = try Run([
            "batch", "--pairs", pairs, "--require", "dice>=0.99", "--require", "3:nsd>0.999", "--summary",
            folder + "/s.json",
        ])
        #expect(fail.status == 1)
        let failures = fail.stderr.split(separator: "\n").filter { $0.contains("gate failed") }
        #expect(failures.count >= 2, "\(fail.stderr)")
        #expect(fail.stderr.contains("case good, label 3: nsd = "))
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/s.json")))
            as? [String: Any]
        #expect((summary?["gate_failures"] as? [Any])?.count == failures.count)
        // compare gates: exit 1 with the report complete on stdout.
        let compare = try Run([
            "compare", folder + "/ref/a_good.nii.gz", folder + "/pred/a_good.nii.gz", "--require", "dice>=0.99",
        ])
        #expect(compare.status == 1 && compare.stdout.contains("Summary over 3 labels"))
        #expect(compare.stderr.contains("gate failed: label 1"))
        let bad = try Run([
            "compare", folder + "/ref/a_good.nii.gz", folder + "/pred/a_good.nii.gz", "--require", "dise>=0.9",
        ])
        #expect(bad.status == 64 && bad.stderr.contains("unknown metric 'dise'"))
    }

    @Test func shardsMergeIntoOneRun() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for side in ["ref", "pred"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + side, withIntermediateDirectories: true)
        }
        for seed in 0..<7 {
            try write(abdomen(seed: seed, prediction: false), (24, 24, 24), to: folder + "/ref/case\(seed).nii.gz")
            try write(abdomen(seed: seed, prediction: true), (24, 24, 24), to: folder + "/pred/case\(seed).nii.gz")
        }
        for format in ["csv", "json"] {
            let whole = try Run([
                "batch", folder + "/ref", folder + "/pred", "--output", folder + "/all.\(format)", "--format", format,
                "--summary", folder + "/all-summary.json", "--penalty-mm", "30",
            ])
            #expect(whole.status == 0, "\(whole.stderr)")
            var parts: [String] = []
            for k in 1...3 {
                let part = folder + "/part\(k).\(format)"
                let run = try Run([
                    "batch", folder + "/ref", folder + "/pred", "--shard", "\(k)/3", "--output", part, "--format",
                    format,
                ])
                #expect(run.status == 0)
                parts.append(part)
            }
            // Shards in any order.
            let merge = try Run(
                ["merge"] + parts.reversed() + [
                    "--output", folder + "/merged.\(format)", "--format", format, "--summary",
                    folder + "/merged-summary.json",
                    "--penalty-mm", "30",
                ])
            #expect(merge.status == 0, "\(merge.stderr)")
            let a = try String(contentsOfFile: folder + "/all.\(format)", encoding: .utf8)
            let b = try String(contentsOfFile: folder + "/merged.\(format)", encoding: .utf8)
            #expect(a == b, "\(format) rows")
            let s1 = try String(contentsOfFile: folder + "/all-summary.json", encoding: .utf8)
            let s2 = try String(contentsOfFile: folder + "/merged-summary.json", encoding: .utf8)
            #expect(s1 == s2, "\(format) summary")
        }
    }

    /// 50 generated cases: the summary's aggregates equal those computed from the rows.
    @Test func fiftyCasesAndTheirSummary() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for side in ["ref", "pred"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + side, withIntermediateDirectories: true)
        }
        for seed in 0..<50 {
            let id = String(format: "case%02d", seed)
            try write(
                abdomen(seed: seed, prediction: false), (24, 24, 24), to: folder + "/ref/\(id).nii.gz", spacing: 0.8)
            try write(
                abdomen(seed: seed, prediction: true), (24, 24, 24), to: folder + "/pred/\(id).nii.gz", spacing: 0.8)
        }
        let run = try Run([
            "batch", folder + "/ref", folder + "/pred", "--output", folder + "/rows.json", "--format", "json",
            "--summary", folder + "/summary.json", "--jobs", "2",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let rows: [LabelRow] = try RowFile.read(path: folder + "/rows.json").result.rows
        #expect(rows.count == 150)
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/summary.json")))
                as? [String: Any])
        #expect(summary["cases"] as? Int == 50)
        let structures = try #require(summary["structures"] as? [[String: Any]])
        #expect(structures.map { $0["label"] as? Int } == [1, 2, 3])
        for structure in structures {
            let label = Int32(structure["label"] as? Int ?? 0)
            let dice: [Double] = rows.filter { $0.label == label }.compactMap { $0[.dice] }.sorted()
            #expect(dice.count == 50)
            let mean = dice.reduce(0, +) / 50
            let std = (dice.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 49).squareRoot()
            let median = (dice[24] + dice[25]) / 2
            let q1 = dice[12] + (dice[13] - dice[12]) * 0.25  // h = 49 · 0.25 = 12.25
            let stats = try #require((structure["metrics"] as? [String: Any])?["dice"] as? [String: Any])
            #expect(abs((stats["mean"] as? Double ?? 0) - mean) < 1e-12)
            #expect(abs((stats["std"] as? Double ?? 0) - std) < 1e-12)
            #expect(abs((stats["median"] as? Double ?? 0) - median) < 1e-12)
            #expect(abs((stats["q1"] as? Double ?? 0) - q1) < 1e-12)
            #expect(
                abs((stats["min"] as? Double ?? -1) - dice[0]) < 1e-15
                    && abs((stats["max"] as? Double ?? -1) - dice[49]) < 1e-15)
            #expect(stats["n"] as? Int == 50 && stats["left_out"] as? Int == 0)
        }
    }
}

@Suite(.serialized) struct ReportFileTests {
    @Test func htmlAndMapsAreWritten() throws {
        let folder = try BatchCommandTests.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let compare = try Run([
            "compare", folder + "/ref/a_good.nii.gz", folder + "/pred/a_good.nii.gz", "--html", folder + "/r.html",
            "--error-map", folder + "/e.nii.gz", "--distance-map", folder + "/d.nii.gz",
        ])
        #expect(compare.status == 0, "\(compare.stderr)")
        let page = try String(contentsOfFile: folder + "/r.html", encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("data:image/png;base64,"))
        let map = try Run(["info", folder + "/e.nii.gz", "--format", "json"])
        #expect(map.status == 0 && map.stdout.contains("\"label\": 1"))
        let distances = try Run(["info", folder + "/d.nii.gz"])
        #expect(distances.status == 65)  // float distances are not labels: info refuses them
        let batch = try Run(["batch", folder + "/ref", folder + "/pred", "--html", folder + "/b.html"])
        #expect(batch.status == 65)
        let batchPage = try String(contentsOfFile: folder + "/b.html", encoding: .utf8)
        #expect(batchPage.contains("Failed cases (2)"))
    }
}
