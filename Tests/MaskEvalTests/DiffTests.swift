import Foundation
import Testing

@testable import MaskEval

/// A row of case `id` and `label` with Dice, HD95 and NSD (the other columns undefined).
func diffRow(
    _ id: String, _ label: Int32, _ status: RowStatus = .matched, dice: Double, hd: Double, nsd: Double = 0.9,
    diagonal: Double? = 100
) -> LabelRow {
    LabelRow(
        caseID: id, label: label, name: "s\(label)", status: status,
        values: [MetricColumn(.dice): dice, MetricColumn(.hdPercentile): hd, MetricColumn(.nsd): nsd],
        diagonalMM: diagonal)
}

func rowFile(_ path: String, _ rows: [LabelRow], _ settings: RunSettings) -> RowTable.File {
    RowTable.File(path: path, result: BatchResult(rows: rows, settings: settings))
}

func folderSettings(references: String = "refs", predictions: String) -> RunSettings {
    var settings = RunSettings()
    settings.inputs = ["references": references, "predictions": predictions]
    settings.bootstrap = BootstrapSettings()
    return settings
}

@Suite struct GroupedBootstrapTests {
    static func groups(seed: UInt64, count: Int) -> [[Double]] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            (0..<(1 + index % 4)).map { _ in normalDraw(&random, mean: 5, sd: 2) }
        }
    }

    /// STAT-GROUP-1: with one value per group, the grouped bootstrap is `Bootstrap.interval`
    /// over those values, draw for draw (the same streams), for the mean and the median.
    @Test func singletonGroupsEqualInterval() throws {
        var random = SeededGenerator(seed: 41)
        let values = (0..<23).map { _ in normalDraw(&random, mean: 0.8, sd: 0.1) }
        for statistic in Bootstrap.Statistic.allCases {
            let grouped = try #require(
                Bootstrap.groupedInterval(groups: values.map { [$0] }, statistic: statistic, resamples: 500, seed: 7))
            let plain = try #require(Bootstrap.interval(values: values, statistic: statistic, resamples: 500, seed: 7))
            #expect(grouped == plain, "\(statistic)")
        }
    }

    /// STAT-GROUP-2: each resample's statistic equals the statistic of the multiset of every
    /// value of the drawn groups, built and sorted directly (median exact, mean to 1e-12).
    @Test func distributionEqualsDirectResampling() {
        let groups = Self.groups(seed: 5, count: 9)
        let resamples = 300
        for statistic in Bootstrap.Statistic.allCases {
            let fast = Bootstrap.groupedDistribution(
                groups: groups, statistic: statistic, resamples: resamples, seed: 99, threads: 1)
            for r in 0..<resamples {
                var random = Xoshiro256StarStar(seed: 99, stream: UInt64(r))
                var multiset: [Double] = []
                for _ in 0..<groups.count { multiset += groups[Int(random.bounded(UInt64(groups.count)))] }
                let sorted = multiset.sorted()
                let direct: Double
                if statistic == .mean {
                    direct = multiset.reduce(0, +) / Double(multiset.count)
                } else {
                    let upper = sorted.count / 2
                    direct = sorted.count % 2 == 1 ? sorted[upper] : (sorted[upper - 1] + sorted[upper]) / 2
                }
                #expect(close(fast[r], direct, tolerance: 1e-12), "\(statistic) resample \(r)")
            }
        }
    }

    /// Thread counts change nothing, bit for bit.
    @Test func identicalForAnyThreadCount() {
        let groups = Self.groups(seed: 8, count: 31)
        for statistic in Bootstrap.Statistic.allCases {
            let one = Bootstrap.groupedInterval(groups: groups, statistic: statistic, seed: 3, threads: 1)
            let four = Bootstrap.groupedInterval(groups: groups, statistic: statistic, seed: 3, threads: 4)
            #expect(one != nil && one == four)
        }
    }

    @Test func emptyOrOff() {
        #expect(Bootstrap.groupedInterval(groups: [[], []], statistic: .mean, seed: 1) == nil)
        #expect(Bootstrap.groupedInterval(groups: [[1, 2]], statistic: .mean, resamples: 0, seed: 1) == nil)
        // Empty groups are left out before drawing: the same as without them.
        let groups = Self.groups(seed: 2, count: 6)
        #expect(
            Bootstrap.groupedInterval(groups: groups + [[]], statistic: .median, seed: 4)
                == Bootstrap.groupedInterval(groups: groups, statistic: .median, seed: 4))
    }
}

@Suite struct SummaryIntervalTests {
    /// Six cases, two structures; label 2 of case c3 is missed (+∞ HD95).
    static func rows() -> [LabelRow] {
        (1...6).flatMap { index -> [LabelRow] in
            let id = "c\(index)"
            let d = Double(index)
            return [
                diffRow(id, 1, dice: 0.7 + 0.03 * d, hd: 1 + d),
                index == 3
                    ? diffRow(id, 2, .missed, dice: 0, hd: .infinity, nsd: 0, diagonal: 40)
                    : diffRow(id, 2, dice: 0.9 - 0.01 * d, hd: 2 * d),
            ]
        }
    }

    /// A structure's intervals resample its case values as the summary mean uses them: +∞
    /// left out without a penalty, counted as the penalty (or the case's diagonal) with one.
    @Test func structureIntervalsUseAggregateValues() throws {
        let rows = Self.rows().filter { $0.label == 2 }
        let column = MetricColumn(.hdPercentile)
        for (penalty, expected) in [
            (Penalty.none, [2.0, 4, 8, 10, 12]), (.millimetres(30), [2, 4, 30, 8, 10, 12]),
            (.diagonal, [2, 4, 40, 8, 10, 12]),
        ] {
            var settings = folderSettings(predictions: "p")
            settings.penalty = penalty
            let summary = Summary(rows: rows, settings: settings)
            let statistics = try #require(
                summary.statisticsWithIntervals(of: rows, scope: .structure).first { $0.0 == column }?.1)
            #expect(statistics.meanCI == Bootstrap.interval(values: expected, statistic: .mean, seed: 19))
            #expect(statistics.medianCI == Bootstrap.interval(values: expected, statistic: .median, seed: 19))
            #expect(statistics.meanCI != nil)
        }
    }

    /// "Overall" resamples cases, each bringing all its rows: the grouped bootstrap by case.
    @Test func overallIntervalsResampleCases() throws {
        let rows = Self.rows()
        let summary = Summary(rows: rows, settings: folderSettings(predictions: "p"))
        let column = MetricColumn(.dice)
        let groups = (1...6).map { index in rows.filter { $0.caseID == "c\(index)" }.compactMap { $0.values[column] } }
        let statistics = try #require(
            summary.statisticsWithIntervals(of: rows, scope: .overall, threads: 1).first { $0.0 == column }?.1)
        #expect(statistics.meanCI == Bootstrap.groupedInterval(groups: groups, statistic: .mean, seed: 19))
        #expect(statistics.medianCI == Bootstrap.groupedInterval(groups: groups, statistic: .median, seed: 19))
        // Threads change nothing.
        let four = summary.statisticsWithIntervals(of: rows, scope: .overall, threads: 4)
        let one = summary.statisticsWithIntervals(of: rows, scope: .overall, threads: 1)
        #expect(four.map(\.1) == one.map(\.1))
    }

    /// No bootstrap (compare, `--bootstrap 0`): no intervals, and no keys in the JSON.
    @Test func offLeavesNoTrace() throws {
        var settings = folderSettings(predictions: "p")
        settings.bootstrap = BootstrapSettings(resamples: 0, seed: 19)
        let rows = Self.rows()
        let statistics = Summary(rows: rows, settings: settings).statisticsWithIntervals(of: rows, scope: .overall)
        #expect(statistics.allSatisfy { $0.1.meanCI == nil && $0.1.medianCI == nil })
        let json = try #require(statistics.first?.1.json.objectValue)
        #expect(json["mean_ci"] == nil && json["median_ci"] == nil)
        let on = Summary(rows: rows, settings: folderSettings(predictions: "p")).statisticsWithIntervals(
            of: rows, scope: .overall)
        #expect(on.first { $0.0 == MetricColumn(.dice) }?.1.json["mean_ci"]?.arrayValue?.count == 2)
    }

    /// The bootstrap settings are recorded, read back, and part of `differences` but not of
    /// `valueDifferences` (which `diff` uses; inputs are outside it too).
    @Test func settingsRecordTheBootstrap() throws {
        var settings = folderSettings(predictions: "p")
        settings.bootstrap = BootstrapSettings(resamples: 500, seed: 123_456_789)
        let back = try #require(RunSettings(json: try JSONValue.parse(settings.json.rendered())))
        #expect(back == settings)
        var other = settings
        other.bootstrap = BootstrapSettings(resamples: 500, seed: 1)
        other.inputs["predictions"] = "q"
        let both = other.differences(from: settings)
        #expect(both.count == 2 && both[0].hasPrefix("inputs ") && both[1].hasPrefix("bootstrap "), "\(both)")
        #expect(both[0].contains("\"q\"") && both[0].contains(" vs ") && both[1].contains("\"seed\": 1}"), "\(both)")
        other.inputs = settings.inputs
        #expect(other.differences(from: settings).count == 1)
        #expect(other.differences(from: settings).first?.hasPrefix("bootstrap ") == true)
        #expect(other.valueDifferences(from: settings).isEmpty)
        other.toleranceMM = 2
        #expect(other.valueDifferences(from: settings) == ["tolerance_mm 2.0 vs 1.0"])
        // Every difference is named, not only the first: the one a user changed may be last.
        other.absent = .nan
        other.ignoreLabel = 9
        #expect(
            other.valueDifferences(from: settings) == [
                "tolerance_mm 2.0 vs 1.0", "absent nan vs perfect", "ignore_label 9 vs none",
            ])
        // compare records no bootstrap.
        #expect(RunSettings().json["bootstrap"] == nil)
    }
}

@Suite struct ModelDiffTests {
    static let columns = [MetricColumn(.dice), MetricColumn(.hdPercentile)]

    static func options(_ columns: [MetricColumn] = columns) -> ModelDiff.Options {
        var options = ModelDiff.Options(columns: columns)
        options.bootstrap = BootstrapSettings(resamples: 200, seed: 5)
        return options
    }

    /// Model B is better on every case of label 1 (higher Dice, lower HD95) and worse on label 2.
    static func files() -> (RowTable.File, RowTable.File) {
        var a: [LabelRow] = []
        var b: [LabelRow] = []
        for index in 1...8 {
            let id = "case\(index)"
            let d = Double(index)
            a.append(diffRow(id, 1, dice: 0.70 + 0.01 * d, hd: 5 + d))
            b.append(diffRow(id, 1, dice: 0.75 + 0.012 * d, hd: 3 + 0.5 * d))
            a.append(diffRow(id, 2, dice: 0.9, hd: 2 + 0.1 * d))
            b.append(diffRow(id, 2, dice: 0.85 - 0.001 * d, hd: 4 + 0.3 * d))
        }
        return (
            rowFile("a.csv", a, folderSettings(predictions: "predA")),
            rowFile("b.csv", b, folderSettings(predictions: "predB"))
        )
    }

    /// Directions and counts: B wins every case of label 1 on both metrics (Dice higher, HD95
    /// lower) and loses every case of label 2; Holm is applied across the two structures.
    @Test func directionWinsAndHolm() throws {
        let (a, b) = Self.files()
        let result = try ModelDiff.run(a: a, b: b, options: Self.options())
        #expect(result.blocks.map(\.column) == Self.columns)
        for block in result.blocks {
            let one = try #require(block.entries.first { $0.label == 1 }).comparison
            let two = try #require(block.entries.first { $0.label == 2 }).comparison
            #expect(one.wins == 8 && one.losses == 0 && one.better == .b, "\(block.column)")
            #expect(two.wins == 0 && two.losses == 8 && two.better == .a, "\(block.column)")
            // Signs of the mean difference B − A follow the metric, not the winner.
            let sign = block.direction == .higherIsBetter ? 1.0 : -1.0
            #expect((one.meanDifference ?? 0) * sign > 0 && (two.meanDifference ?? 0) * sign < 0)
            #expect(
                block.entries.map(\.holm) == Holm.adjust(block.entries.map { $0.comparison.wilcoxon?.pValue }))
            // n = 8 without ties or zeros: the exact distribution, p = 2/2^8 for a clean sweep.
            #expect(one.wilcoxon?.method == .exact && one.wilcoxon?.pValue == 2.0 / 256)
        }
    }

    /// A structure row in one run only, in a case both have, is a structure in neither volume
    /// of the other run: it pairs with that run's `absent` values (Dice 1, HD95 0), or is
    /// dropped with `--absent nan`.
    @Test func oneSidedSpuriousRowPairsWithAbsent() throws {
        let (a, b) = Self.files()
        var withSpurious = a
        withSpurious.result.rows.append(diffRow("case3", 7, .spurious, dice: 0, hd: .infinity, nsd: 0))
        let result = try ModelDiff.run(a: withSpurious, b: b, options: Self.options())
        let dice = try #require(result.blocks[0].entries.first { $0.label == 7 }).comparison
        // Only case3 has the structure (in A): the other cases are no pairs.
        #expect(dice.pairs == 1 && dice.n == 1 && dice.wins == 1 && dice.meanA == 0 && dice.meanB == 1)
        let hd = try #require(result.blocks[1].entries.first { $0.label == 7 }).comparison
        // +∞ in A against B's 0: B wins; without a penalty, the means leave that pair out.
        #expect(hd.wins == 1 && hd.meanN == 0 && hd.better == .b)
        var nan = withSpurious
        nan.result.settings.absent = .nan
        var bNaN = b
        bNaN.result.settings.absent = .nan
        let dropped = try ModelDiff.run(a: nan, b: bNaN, options: Self.options())
        let droppedDice = try #require(dropped.blocks[0].entries.first { $0.label == 7 }).comparison
        #expect(droppedDice.n == 0 && droppedDice.dropped == 1)
    }

    /// A one-sided row whose reference holds the structure means other references: refused.
    @Test func refusesOtherReferences() throws {
        let (a, b) = Self.files()
        var lacking = b
        lacking.result.rows.removeAll { $0.caseID == "case2" && $0.label == 2 }
        #expect {
            try ModelDiff.run(a: a, b: lacking, options: Self.options())
        } throws: { error in
            "\(error)".contains("not the same references") && (error as? MaskEvalFailure)?.exitStatus == .dataError
        }
        var elsewhere = b
        elsewhere.result.settings.inputs["references"] = "other_refs"
        #expect {
            try ModelDiff.run(a: a, b: elsewhere, options: Self.options())
        } throws: { error in
            "\(error)".contains("not the same references")
        }
    }

    /// Settings that change values refuse the pair, naming the setting; the prediction
    /// folders and the bootstrap may differ.
    @Test func refusesOtherSettings() throws {
        let (a, b) = Self.files()
        var other = b
        other.result.settings.percentile = 90
        #expect {
            try ModelDiff.run(a: a, b: other, options: Self.options())
        } throws: { error in
            "\(error)".contains("other settings than") && "\(error)".contains("percentile 90.0 vs 95.0")
        }
        var seeded = b
        seeded.result.settings.bootstrap = BootstrapSettings(resamples: 10, seed: 3)
        #expect(throws: Never.self) { try ModelDiff.run(a: a, b: seeded, options: Self.options()) }
    }

    /// Other cases: refused, or with `partial` left out and listed.
    @Test func otherCasesNeedPartial() throws {
        let (a, b) = Self.files()
        var fewer = b
        fewer.result.rows.removeAll { $0.caseID == "case8" }
        #expect {
            try ModelDiff.run(a: a, b: fewer, options: Self.options())
        } throws: { error in
            "\(error)".contains("cases only in a.csv: case8") && "\(error)".contains("--partial")
        }
        var options = Self.options()
        options.partial = true
        let result = try ModelDiff.run(a: a, b: fewer, options: options)
        #expect(result.pairing.onlyInA == ["case8"] && result.pairing.cases.count == 7)
        #expect(result.blocks[0].entries[0].comparison.n == 7)
    }

    /// A failed case's pairs are dropped (counted), and the case is listed.
    @Test func failedCasesAreDropped() throws {
        let (a, b) = Self.files()
        var failed = b
        for index in failed.result.rows.indices where failed.result.rows[index].caseID == "case4" {
            failed.result.rows[index].status = .error
            failed.result.rows[index].values = [:]
        }
        let result = try ModelDiff.run(a: a, b: failed, options: Self.options())
        #expect(result.pairing.errorCases == ["case4"])
        #expect(
            result.blocks.allSatisfy { $0.entries.allSatisfy { $0.comparison.n == 7 && $0.comparison.dropped == 1 } })
    }

    /// `--penalty-mm diagonal`: the means count +∞ as the case's diagonal; the rank test and
    /// the counts still see +∞ (worst).
    @Test func diagonalPenaltyAppliesToMeansOnly() throws {
        let (a, b) = Self.files()
        var missed = b
        for index in missed.result.rows.indices
        where missed.result.rows[index].caseID == "case1" && missed.result.rows[index].label == 1 {
            missed.result.rows[index] = diffRow("case1", 1, .missed, dice: 0, hd: .infinity, nsd: 0, diagonal: 77)
        }
        var settingsA = a
        for index in settingsA.result.rows.indices { settingsA.result.rows[index].diagonalMM = 77 }
        settingsA.result.settings.penalty = .diagonal
        missed.result.settings.penalty = .diagonal
        let result = try ModelDiff.run(a: settingsA, b: missed, options: Self.options([MetricColumn(.hdPercentile)]))
        let hd = try #require(result.blocks[0].entries.first { $0.label == 1 }).comparison
        let hdA = (1...8).map { 5 + Double($0) }
        let hdB = [77] + (2...8).map { 3 + 0.5 * Double($0) }
        #expect(hd.meanN == 8 && close(hd.meanB, hdB.reduce(0, +) / 8) && close(hd.meanA, hdA.reduce(0, +) / 8))
        #expect(hd.wins == 7 && hd.losses == 1)
        // The rank test: the +∞ pair has the largest |difference|, rank 8, on A's side of the sum.
        #expect(hd.wilcoxon?.rankSumPositive == 8)
    }
}
