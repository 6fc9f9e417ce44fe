import Foundation
import Testing

@testable import MaskEval

@Suite struct BatchLibraryTests {
    let keys = ResultRow.metricKeys(percentile: 95)

    @Test func gatesParseAndScope() throws {
        let gate = try Gate.parse("liver:hd95_mm<=5", metricKeys: keys)
        #expect(
            gate.scope == .name("liver") && gate.metric == "hd95_mm" && gate.comparison == .atMost
                && gate.threshold == 5)
        #expect(try Gate.parse("3:dice>=0.9", metricKeys: keys).scope == .label(3))
        #expect(try Gate.parse(" nsd > 0.5 ", metricKeys: keys).comparison == .greater)
        for bad in ["dice", "dice>=x", "dise>=0.5", "hd99_mm<=3", "dice=>0.5"] {
            #expect(throws: InputError.self, "\(bad)") { try Gate.parse(bad, metricKeys: keys) }
        }
        let liver = ResultRow(
            caseID: "c", label: 3, name: "liver", status: "matched", values: ["hd95_mm": 4, "dice": 0.8])
        let far = ResultRow(
            caseID: "c", label: 3, name: "liver", status: "missed", values: ["hd95_mm": .infinity, "dice": 0])
        let spleen = ResultRow(caseID: "c", label: 1, name: "spleen", status: "matched", values: ["hd95_mm": 9])
        #expect(gate.passes(liver) && !gate.passes(far) && gate.passes(spleen))
        let failures = Gate.failures(
            [liver, far, spleen], gates: [gate, try Gate.parse("dice>=0.85", metricKeys: keys)])
        #expect(failures.count == 4)  // far fails both; liver fails dice; spleen has no dice
        #expect(failures[0].description == "gate failed: case c, label 3 (liver): dice = 0.8, required dice>=0.85")
    }

    @Test func csvRoundTripsAwkwardText() throws {
        let rows = [
            ResultRow(
                caseID: "a,b", label: 1, name: "say \"hi\"", status: "matched",
                values: ["dice": 0.1 + 0.2, "hausdorff_mm": 3]),
            ResultRow(caseID: "line\nbreak", label: nil, name: "", status: "error", error: "x: bad, really"),
            // A missed row has +∞ for every distance: JSON writes null and reads +∞ back.
            ResultRow(
                caseID: "m", label: 2, name: "", status: "missed",
                values: Dictionary(
                    uniqueKeysWithValues: keys.filter { $0.hasSuffix("_mm") }.map { ($0, Double.infinity) }
                )
                .merging(["dice": 0]) { a, _ in a }),
        ]
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try RowTable.csv(rows, metricKeys: keys).write(toFile: folder + "/r.csv", atomically: true, encoding: .utf8)
        #expect(try RowTable.read(path: folder + "/r.csv").rows == rows)
        try RowTable.json(rows, metricKeys: keys, warnings: ["w"]).rendered().write(
            toFile: folder + "/r.json", atomically: true, encoding: .utf8)
        let json = try RowTable.read(path: folder + "/r.json")
        #expect(json.rows == rows && json.warnings == ["w"])
    }

    @Test func shardsPartitionTheCases() {
        let cases = (0..<10).map { BatchCase(id: "c\($0)", reference: "r", prediction: "p") }.shuffled()
        let parts = (1...3).map { CasePairing.shard(cases, k: $0, n: 3) }
        #expect(parts.map(\.count) == [4, 3, 3])
        #expect(Set(parts.flatMap { $0.map(\.id) }) == Set(cases.map(\.id)))
        #expect(parts[0].map(\.id) == ["c0", "c3", "c6", "c9"])
    }

    @Test func toleranceMapsByValueAndName() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let names = LabelNames([1: "liver", 2: "left kidney"])
        try "# organ tolerances\n1 2.5\nleft kidney 1.5\n".write(
            toFile: folder + "/t.txt", atomically: true, encoding: .utf8)
        #expect(try ToleranceMap.read(path: folder + "/t.txt", names: names) == [1: 2.5, 2: 1.5])
        try "{\"liver\": 4, \"7\": 0.5}".write(toFile: folder + "/t.json", atomically: true, encoding: .utf8)
        #expect(try ToleranceMap.read(path: folder + "/t.json", names: names) == [1: 4, 7: 0.5])
        try "spleen 2\n".write(toFile: folder + "/bad.txt", atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try ToleranceMap.read(path: folder + "/bad.txt", names: names) }
    }

    @Test func perLabelToleranceChangesOnlyItsLabel() {
        let ref = volume(12, 12, 12) { i, j, k in i < 6 ? 1 : 2 }
        let pred = volume(12, 12, 12) { i, j, k in i < 8 ? 1 : 2 }
        let base = Evaluator.evaluate(reference: ref, prediction: pred, settings: EvaluationSettings(toleranceMM: 0))
        let mapped = Evaluator.evaluate(
            reference: ref, prediction: pred, settings: EvaluationSettings(toleranceMM: 0, toleranceByLabel: [1: 2]))
        #expect(mapped.labels[0].surface[.monai]!.nsd > base.labels[0].surface[.monai]!.nsd)
        #expect(mapped.labels[0].surface[.monai]!.nsd == 1)
        #expect(mapped.labels[1].surface[.monai]!.nsd == base.labels[1].surface[.monai]!.nsd)
    }

    @Test func statisticsOfValues() {
        let s = BatchSummary.statistics([4, 1, 3, 2, nil, .infinity], penalty: nil)
        #expect(s.n == 4 && s.leftOut == 2 && s.mean == 2.5 && s.median == 2.5 && s.q1 == 1.75 && s.q3 == 3.25)
        #expect(abs((s.std ?? 0) - (5.0 / 3).squareRoot()) < 1e-15)
        let p = BatchSummary.statistics([1, .infinity], penalty: 9)
        #expect(p.n == 2 && p.max == 9 && p.leftOut == 0)
    }
}
