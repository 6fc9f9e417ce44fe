import Foundation
import Testing

@testable import MaskEval

@Suite struct BatchLibraryTests {
    static let settings = RunSettings()
    var columns: [MetricColumn] { Self.settings.columns }

    func gate(_ text: String) throws -> Gate { try Gate.parse(text, columns: columns, percentile: 95) }

    static func row(
        _ caseID: String, _ label: Int32, _ name: String, _ status: RowStatus, _ values: [MetricKey: Double] = [:],
        diagonal: Double? = nil
    ) -> LabelRow {
        LabelRow(
            caseID: caseID, label: label, name: name, status: status,
            values: Dictionary(uniqueKeysWithValues: values.map { (MetricColumn($0.key), $0.value) }),
            diagonalMM: diagonal)
    }

    @Test func gatesParseAndScope() throws {
        var liverGate = try gate("liver:hd95_mm<=5")
        #expect(
            liverGate.scope == .name("liver") && liverGate.column == MetricColumn(.hdPercentile)
                && liverGate.comparison == .atMost && liverGate.threshold == 5)
        #expect(try gate("3:dice>=0.9").scope == .label(3))
        #expect(try gate(" nsd > 0.5 ").comparison == .greater)
        #expect(try gate("liver:mean:dice>=0.8").aggregate == .mean)
        #expect(try gate("median:hd95_mm<5").scope == nil)
        for bad in ["dice", "dice>=x", "dise>=0.5", "hd99_mm<=3", "dice=>0.5", "a:b:mean:dice>1", "dice=0.5"] {
            #expect(throws: InputError.self, "\(bad)") { try gate(bad) }
        }
        do {
            _ = try gate("dice=>0.8")
        } catch {
            #expect("\(error)".contains("did you mean '>='"))
        }
        let names = LabelNames([3: "Liver", 1: "spleen"])
        try liverGate.resolve(labels: [1, 3], names: names)  // names match in any case
        #expect(liverGate.label == 3)
        let liver = Self.row("c", 3, "liver", .matched, [.hdPercentile: 4, .dice: 0.8])
        let far = Self.row("c", 3, "liver", .missed, [.hdPercentile: .infinity, .dice: 0])
        let spleen = Self.row("c", 1, "spleen", .matched, [.hdPercentile: 9])
        var dice = try gate("dice>=0.85")
        try dice.resolve(labels: [1, 3], names: names)
        let failures = Gate.failures([liver, far, spleen], gates: [liverGate, dice], settings: Self.settings)
        #expect(failures.count == 4)  // far fails both; liver fails dice; spleen has no dice
        #expect(failures.contains { $0.description == "gate failed: case c, label 3 (liver): dice = 0.8, required dice>=0.85" })
    }

    @Test func gateScopesThatMatchNothingAreUsageErrors() throws {
        let names = LabelNames([1: "spleen", 2: "liver"])
        for (text, fragment) in [
            ("spleeen:dice>0.5", "known names: spleen, liver"), ("7:dice>0.5", "label 7 is in neither volume"),
        ] {
            var g = try gate(text)
            do {
                try g.resolve(labels: [1, 2], names: names)
                Issue.record("\(text) resolved")
            } catch let error as InputError {
                #expect(error.exitStatus == .usage && "\(error)".contains(fragment), "\(error)")
            }
        }
        var unnamed = try gate("liver:dice>0.5")
        #expect(throws: InputError.self) { try unnamed.resolve(labels: [1, 2], names: LabelNames()) }
    }

    @Test func aggregateGatesReadTheMeanOrMedian() throws {
        let rows = [
            Self.row("a", 1, "", .matched, [.dice: 0.9]), Self.row("b", 1, "", .matched, [.dice: 0.7]),
            Self.row("a", 2, "", .matched, [.dice: 0.5]),
        ]
        let passing = try gate("1:mean:dice>=0.8")
        var scoped = passing
        try scoped.resolve(labels: [1, 2], names: LabelNames())
        #expect(Gate.failures(rows, gates: [scoped], settings: Self.settings).isEmpty)
        let overall = try gate("mean:dice>=0.8")
        let failures = Gate.failures(rows, gates: [overall], settings: Self.settings)
        #expect(failures.count == 1 && failures[0].row == nil && failures[0].n == 3)
        #expect(abs((failures[0].value ?? 0) - 0.7) < 1e-12)
    }

    @Test func rowFilesRoundTripAwkwardText() throws {
        var settings = RunSettings()
        settings.presets = [.monai, .deepmind]
        settings.penalty = .diagonal
        let deepHD = MetricColumn(.hdPercentile, preset: .deepmind)
        var first = Self.row("a,b", 1, "say \"hi\"\nthere", .matched, [.dice: 0.1 + 0.2, .hausdorff: 3], diagonal: 12.5)
        first.values[deepHD] = 2.25
        var missed = Self.row("m", 2, "", .missed, [.dice: 0])
        for column in settings.columns where column.key.isDistance { missed.values[column] = .infinity }
        let rows = [
            first, LabelRow(caseID: "line\nbreak", label: 0, name: "", status: .error, error: "x: bad, really"), missed,
        ]
        let result = BatchResult(rows: rows, settings: settings, shard: Shard(index: 2, count: 3), warnings: ["w"])
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try OutputFile.write(RowFiles.csv(result), to: folder + "/r.csv")
        try OutputFile.write(RowFiles.settingsJSON(result).rendered(), to: folder + "/r.csv.settings.json")
        let csv = try RowFile.read(path: folder + "/r.csv").result
        #expect(csv.rows == rows && csv.settings == settings && csv.shard == Shard(index: 2, count: 3))
        try OutputFile.write(RowFiles.json(result).rendered(), to: folder + "/r.json")
        let json = try RowFile.read(path: folder + "/r.json").result
        #expect(json.rows == rows && json.warnings == ["w"] && json.settings == settings)
    }

    @Test func rowFilesWithImpossibleValuesAreRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = BatchResult(rows: [Self.row("a", 1, "", .matched, [.referenceVoxels: 3])], settings: Self.settings)
        let good = RowFiles.json(result).rendered()
        for (bad, replacement) in [
            ("\"label\": 1", "\"label\": 99999999999"), ("\"reference_voxels\": 3", "\"reference_voxels\": 1e300"),
            ("\"reference_voxels\": 3", "\"reference_voxels\": -2"), ("\"status\": \"matched\"", "\"status\": \"fine\""),
        ] {
            try OutputFile.write(good.replacingOccurrences(of: bad, with: replacement), to: folder + "/r.json")
            #expect(throws: InputError.self, "\(replacement)") { try RowFile.read(path: folder + "/r.json") }
        }
    }

    @Test func errorRowsTakeTheOtherCasesStructures() {
        let rows = [
            Self.row("a", 1, "liver", .matched), Self.row("a", 3, "", .matched),
            LabelRow(caseID: "b", label: 0, name: "", status: .error, error: "broken"),
        ]
        let expanded = RowTable.expandErrorRows(rows, settings: Self.settings)
        #expect(expanded.map(\.label) == [1, 3, 1, 3])
        #expect(expanded[2].status == .error && expanded[2].name == "liver" && expanded[3].error == "broken")
        // Expanding again (a merge) gives the same rows.
        #expect(RowTable.expandErrorRows(expanded, settings: Self.settings) == expanded)
    }

    @Test func mergeRefusesMixedSettingsRepeatsAndMissingShards() throws {
        let rows = [Self.row("a", 1, "", .matched, [.dice: 1])]
        var other = Self.settings
        other.toleranceMM = 2
        func file(_ path: String, _ rows: [LabelRow], _ settings: RunSettings, _ shard: Shard?) -> RowTable.File {
            RowTable.File(path: path, result: BatchResult(rows: rows, settings: settings, shard: shard))
        }
        let one = file("1.csv", rows, Self.settings, Shard(index: 1, count: 2))
        #expect(throws: InputError.self) {
            try RowTable.merge([one, file("2.csv", [Self.row("b", 1, "", .matched)], other, Shard(index: 2, count: 2))], partial: false)
        }
        #expect(throws: InputError.self) {
            try RowTable.merge([one, file("2.csv", rows, Self.settings, Shard(index: 2, count: 2))], partial: false)
        }
        #expect(throws: InputError.self) { try RowTable.merge([one], partial: false) }
        #expect(try RowTable.merge([one], partial: true).rows == rows)
    }

    @Test func shardsPartitionTheCases() {
        let cases = (0..<10).map { BatchCase(id: "c\($0)", reference: "r", prediction: "p") }.shuffled()
        let parts = (1...3).map { CasePairing.shard(cases, Shard(index: $0, count: 3)) }
        #expect(parts.map(\.count) == [4, 3, 3])
        #expect(Set(parts.flatMap { $0.map(\.id) }) == Set(cases.map(\.id)))
        #expect(parts[0].map(\.id) == ["c0", "c3", "c6", "c9"])
    }

    @Test func toleranceMapsByValueAndName() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let names = LabelNames([1: "liver", 2: "left kidney"])
        try "# organ tolerances\r\n1 2.5\r\nleft kidney 1.5\r\n".write(
            toFile: folder + "/t.txt", atomically: true, encoding: .utf8)
        #expect(try ToleranceMap.read(path: folder + "/t.txt", names: names) == [1: 2.5, 2: 1.5])
        try "{\"liver\": 4, \"7\": 0.5}".write(toFile: folder + "/t.json", atomically: true, encoding: .utf8)
        #expect(try ToleranceMap.read(path: folder + "/t.json", names: names) == [1: 4, 7: 0.5])
        for (name, text, fragment) in [
            ("bad.txt", "spleen 2\n", "neither a label value"), ("big.txt", "1 1e400\n", "not a finite number"),
            ("true.json", "{\"1\": true}", "not a number"), ("twice.json", "{\"1\": 2, \"liver\": 3}", "given twice"),
            ("dup.json", "{\"1\": 2, \"1\": 3}", "duplicate key"),
        ] {
            try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
            do {
                _ = try ToleranceMap.read(path: folder + "/" + name, names: names)
                Issue.record("\(name) accepted")
            } catch {
                #expect("\(error)".contains(fragment), "\(error)")
            }
        }
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
        let s = Statistics([4, 1, 3, 2, nil, .infinity])
        #expect(s.n == 4 && s.leftOut == 2 && s.mean == 2.5 && s.median == 2.5 && s.q1 == 1.75 && s.q3 == 3.25)
        #expect(abs((s.std ?? 0) - (5.0 / 3).squareRoot()) < 1e-15)
    }

    @Test func penaltiesAndAbsentConventionsInAggregates() {
        var settings = Self.settings
        let rows = [
            Self.row("a", 1, "", .matched, [.hausdorff: 2, .dice: 0.5], diagonal: 30),
            Self.row("b", 1, "", .missed, [.hausdorff: .infinity, .dice: 0], diagonal: 40),
            Self.row("c", 1, "", .absent, [.hausdorff: 0, .dice: 1], diagonal: 50),
            Self.row("d", 1, "", .noPrediction, [.hausdorff: .infinity, .dice: 0], diagonal: 60),
        ]
        let hd = MetricColumn(.hausdorff)
        #expect(Summary.statistics(rows, column: hd, settings: settings).leftOut == 2)
        settings.penalty = .millimetres(9)
        #expect(Summary.statistics(rows, column: hd, settings: settings).max == 9)
        settings.penalty = .diagonal  // each case's own diagonal
        let diagonal = Summary.statistics(rows, column: hd, settings: settings)
        #expect(diagonal.n == 4 && diagonal.max == 60 && diagonal.mean == (2 + 40 + 0 + 60) / 4)
        settings.absent = .nan  // nnU-Net: the absent case is left out
        let nan = Summary.statistics(rows, column: MetricColumn(.dice), settings: settings)
        #expect(nan.n == 3 && nan.leftOut == 1 && nan.mean == 0.5 / 3)
    }

    @Test func summaryForegroundAndCaseMeans() {
        let rows = [
            Self.row("a", 1, "", .matched, [.dice: 0.9]), Self.row("b", 1, "", .matched, [.dice: 0.7]),
            Self.row("a", 2, "", .matched, [.dice: 0.2]),
        ]
        let summary = Summary(rows: rows, settings: Self.settings)
        let foreground = summary.foregroundMean.first { $0.0 == MetricColumn(.dice) }?.1
        #expect(abs((foreground ?? 0) - (0.8 + 0.2) / 2) < 1e-15)
        let perCase = summary.caseMeans.map { ($0.caseID, $0.means.first { $0.0 == MetricColumn(.dice) }?.1.mean) }
        #expect(perCase.map(\.0) == ["a", "b"])
        #expect(abs((perCase[0].1 ?? 0) - 0.55) < 1e-15 && perCase[1].1 == 0.7)
    }
}
