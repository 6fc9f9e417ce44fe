import Foundation
import MaskEval
import Testing

/// `maskeval diff` and the batch summary's confidence intervals, through the binary, on small
/// generated abdomens (`abdomen(seed:prediction:)`): model A is the perturbed prediction,
/// model B the reference itself (perfect).
@Suite(.serialized) struct DiffCommandTests {
    static let caseCount = 6

    /// ref/, predA/, predB/ (B = the reference), refcopy/ (the same volumes, another folder).
    static func makeFolders() throws -> String {
        let folder = try temporaryFolder()
        for side in ["ref", "predA", "predB", "refcopy"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + side, withIntermediateDirectories: true)
        }
        for seed in 0..<caseCount {
            let name = "/case\(seed).nii.gz"
            let reference = abdomen(seed: seed, prediction: false)
            for side in ["ref", "predB", "refcopy"] {
                try write(reference, (24, 24, 24), to: folder + "/" + side + name)
            }
            try write(abdomen(seed: seed, prediction: true), (24, 24, 24), to: folder + "/predA" + name)
        }
        return folder
    }

    static func batch(_ folder: String, _ predictions: String, _ output: String, _ extra: [String] = []) throws {
        let run = try Run(
            ["batch", folder + "/ref", folder + "/" + predictions, "--output", folder + "/" + output] + extra)
        #expect(run.status == 0, "\(run.stderr)")
    }

    static func json(_ path: String) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    /// Every structure entry of a diff JSON, with its metric.
    static func entries(_ document: [String: Any]) -> [(metric: String, entry: [String: Any])] {
        ((document["metrics"] as? [[String: Any]]) ?? []).flatMap { block in
            ((block["structures"] as? [[String: Any]]) ?? []).map { (block["metric"] as? String ?? "", $0) }
        }
    }

    /// DIFF-CLI-1: a run against itself: every pair a tie, no better side, p = 1 (n ≤ 13, all
    /// zeros: scipy's permutation branch) or undefined, mean difference 0, exit 0.
    @Test func runAgainstItselfIsAllTies() throws {
        let folder = try Self.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.batch(folder, "predA", "a.csv")
        let run = try Run(["diff", folder + "/a.csv", folder + "/a.csv", "--output", folder + "/d.json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\(Self.caseCount) cases paired"))
        let entries = Self.entries(try Self.json(folder + "/d.json"))
        #expect(Set(entries.map(\.metric)) == ["dice", "hd95_mm", "assd_mm", "nsd"])
        #expect(entries.count == 4 * 3)
        for (metric, entry) in entries {
            let n = entry["n"] as? Int
            #expect(n == Self.caseCount && entry["ties"] as? Int == n, "\(metric)")
            #expect(entry["wins"] as? Int == 0 && entry["losses"] as? Int == 0)
            #expect(entry["better"] is NSNull && entry["significant"] as? Bool == false)
            let p = (entry["wilcoxon"] as? [String: Any])?["p"]
            #expect(p is NSNull || p as? Double == 1, "\(metric): p = \(String(describing: p))")
            #expect(entry["mean_diff"] as? Double == 0)
        }
    }

    /// DIFF-CLI-2: B (the reference itself) against A (perturbed): B never loses; Dice and NSD
    /// differences are ≥ 0, distance differences ≤ 0; swapping the files swaps the better side.
    @Test func betterModelWinsInEachMetricsDirection() throws {
        let folder = try Self.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.batch(folder, "predA", "a.csv")
        try Self.batch(folder, "predB", "b.json")
        let run = try Run(["diff", folder + "/a.csv", folder + "/b.json", "--output", folder + "/d.json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("dice (higher is better; differences B − A)"))
        #expect(run.stdout.contains("hd95_mm (lower is better; differences B − A)"))
        var sawWin = false
        for (metric, entry) in Self.entries(try Self.json(folder + "/d.json")) {
            let wins = entry["wins"] as? Int ?? -1
            sawWin = sawWin || wins > 0
            #expect(entry["losses"] as? Int == 0, "\(metric)")
            #expect(wins == 0 || entry["better"] as? String == "B", "\(metric)")
            let difference = entry["mean_diff"] as? Double ?? .nan
            #expect(metric == "dice" || metric == "nsd" ? difference >= 0 : difference <= 0, "\(metric)")
        }
        #expect(sawWin)
        let swapped = try Run(["diff", folder + "/b.json", folder + "/a.csv", "--output", folder + "/s.csv"])
        #expect(swapped.status == 0, "\(swapped.stderr)")
        let lines = try String(contentsOfFile: folder + "/s.csv", encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let better = try #require(header.firstIndex(of: "better"))
        let losses = try #require(header.firstIndex(of: "losses"))
        for line in lines.dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            #expect(cells[better] == "A" || (cells[better].isEmpty && cells[losses] == "0"), "\(line)")
        }
    }

    /// DIFF-CLI-3: other settings, other references or other cases are refused (65) naming
    /// what differs; usage errors 64, missing files 66, an unwritable output 74.
    @Test func mismatchesAreRefused() throws {
        let folder = try Self.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.batch(folder, "predA", "a.csv")
        try Self.batch(folder, "predB", "tol.csv", ["--tolerance", "2"])
        let settings = try Run(["diff", folder + "/a.csv", folder + "/tol.csv"])
        #expect(settings.status == 65 && settings.stderr.contains("other settings than") && settings.stderr.contains("tolerance_mm 2.0 vs 1.0"), "\(settings.stderr)")
        #expect(settings.stdout.isEmpty)
        let other = try Run(["batch", folder + "/refcopy", folder + "/predB", "--output", folder + "/copy.csv"])
        #expect(other.status == 0, "\(other.stderr)")
        let references = try Run(["diff", folder + "/a.csv", folder + "/copy.csv"])
        #expect(
            references.status == 65 && references.stderr.contains("not the same references"), "\(references.stderr)")
        try Self.batch(folder, "predB", "shard.csv", ["--shard", "1/2"])
        let cases = try Run(["diff", folder + "/a.csv", folder + "/shard.csv"])
        #expect(cases.status == 65 && cases.stderr.contains("cases only in"), "\(cases.stderr)")
        let partial = try Run(["diff", folder + "/a.csv", folder + "/shard.csv", "--partial"])
        #expect(partial.status == 0 && partial.stdout.contains("3 cases paired"), "\(partial.stderr)")
        let metric = try Run(["diff", folder + "/a.csv", folder + "/a.csv", "--metrics", "reference_voxels"])
        #expect(metric.status == 64 && metric.stderr.contains("no better side"), "\(metric.stderr)")
        let missing = try Run(["diff", folder + "/a.csv", folder + "/nothing.csv"])
        #expect(missing.status == 66 && missing.stderr.contains("nothing.csv"))
        let unwritable = try Run(["diff", folder + "/a.csv", folder + "/a.csv", "--output", "/nonexistent/d.csv"])
        #expect(unwritable.status == 74 && unwritable.stdout.isEmpty)
    }

    /// DIFF-CLI-4: the summary's intervals and the diff are byte-identical for any --jobs and
    /// --threads; the seed is recorded, and another seed gives other intervals.
    @Test func bootstrapIsDeterministicAcrossThreadsAndJobs() throws {
        let folder = try Self.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.batch(folder, "predA", "a1.csv", ["--jobs", "1", "--threads", "1", "--summary", folder + "/s1.json"])
        try Self.batch(folder, "predA", "a2.csv", ["--jobs", "2", "--threads", "2", "--summary", folder + "/s2.json"])
        try Self.batch(folder, "predA", "a3.csv", ["--summary", folder + "/s3.json", "--seed", "7"])
        let one = try String(contentsOfFile: folder + "/s1.json", encoding: .utf8)
        let two = try String(contentsOfFile: folder + "/s2.json", encoding: .utf8)
        #expect(one == two)
        #expect(one.contains("\"mean_ci\"") && one.contains("\"median_ci\""))
        let summary = try Self.json(folder + "/s1.json")
        let bootstrap = (summary["settings"] as? [String: Any])?["bootstrap"] as? [String: Any]
        #expect(bootstrap?["resamples"] as? Int == 2000 && bootstrap?["seed"] as? Int == 19)
        let dice = ((summary["overall"] as? [String: Any])?["metrics"] as? [String: Any])?["dice"] as? [String: Any]
        let ci = try #require(dice?["mean_ci"] as? [Double])
        let mean = try #require(dice?["mean"] as? Double)
        #expect(ci.count == 2 && ci[0] <= mean && mean <= ci[1])
        let seven = try String(contentsOfFile: folder + "/s3.json", encoding: .utf8)
        #expect(seven != one && seven.contains("\"seed\": 7"))
        var outputs: [String] = []
        for threads in ["1", "2"] {
            let path = folder + "/d\(threads).json"
            let run = try Run(["diff", folder + "/a1.csv", folder + "/a3.csv", "--threads", threads, "--output", path])
            #expect(run.status == 0, "\(run.stderr)")
            outputs.append(try String(contentsOfFile: path, encoding: .utf8) + run.stdout)
        }
        #expect(outputs[0] == outputs[1])
        let off = try Run([
            "batch", folder + "/ref", folder + "/predA", "--bootstrap", "0", "--summary", folder + "/s0.json",
        ])
        #expect(off.status == 0)
        #expect(!(try String(contentsOfFile: folder + "/s0.json", encoding: .utf8)).contains("mean_ci"))
    }

    /// DIFF-CLI-5: `batch REF B --baseline A` compares as `diff` of the two runs' row files:
    /// the same JSON but for the names of A and B and the recorded inputs.
    @Test func baselineEqualsDiffOfTwoRuns() throws {
        let folder = try Self.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.batch(folder, "predA", "a.csv")
        try Self.batch(
            folder, "predB", "b.csv", ["--baseline", folder + "/predA", "--baseline-output", folder + "/bd.json"])
        let run = try Run(["diff", folder + "/a.csv", folder + "/b.csv", "--output", folder + "/d.json"])
        #expect(run.status == 0, "\(run.stderr)")
        var viaBaseline = try Self.json(folder + "/bd.json")
        var viaDiff = try Self.json(folder + "/d.json")
        #expect(viaBaseline["a"] as? String == folder + "/predA" && viaBaseline["b"] as? String == folder + "/predB")
        for key in ["a", "b", "settings"] {
            viaBaseline[key] = nil
            viaDiff[key] = nil
        }
        #expect(NSDictionary(dictionary: viaBaseline).isEqual(to: viaDiff))
        #expect(Self.entries(viaDiff).count == 12)
        let pairs = try Run(["batch", "--pairs", folder + "/p.csv", "--baseline", folder + "/predA"])
        #expect(pairs.status == 64 && pairs.stderr.contains("--baseline"))
    }

    /// DIFF-CLI-6: runs from pairs files check their references file by file: the same files
    /// (also against a run from the reference folder) pass, other files are refused.
    @Test func pairsFilesAreCheckedFileByFile() throws {
        let folder = try Self.makeFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, references, predictions) in [
            ("pa", "ref", "predA"), ("pb", "ref", "predB"), ("pc", "refcopy", "predB"),
        ] {
            let lines = (0..<Self.caseCount).map {
                "case\($0),\(references)/case\($0).nii.gz,\(predictions)/case\($0).nii.gz"
            }
            try (["case,reference,prediction"] + lines).joined(separator: "\n").write(
                toFile: folder + "/\(name).pairs.csv", atomically: true, encoding: .utf8)
            let run = try Run(["batch", "--pairs", folder + "/\(name).pairs.csv", "--output", folder + "/\(name).csv"])
            #expect(run.status == 0, "\(run.stderr)")
        }
        try Self.batch(folder, "predA", "a.csv")
        let same = try Run(["diff", folder + "/pa.csv", folder + "/pb.csv"])
        #expect(same.status == 0, "\(same.stderr)")
        let mixed = try Run(["diff", folder + "/a.csv", folder + "/pb.csv"])
        #expect(mixed.status == 0, "\(mixed.stderr)")
        let other = try Run(["diff", folder + "/pa.csv", folder + "/pc.csv"])
        #expect(other.status == 65 && other.stderr.contains("not the same references"), "\(other.stderr)")
        let otherMixed = try Run(["diff", folder + "/a.csv", folder + "/pc.csv"])
        #expect(otherMixed.status == 65 && otherMixed.stderr.contains("is not in"), "\(otherMixed.stderr)")
    }
}
