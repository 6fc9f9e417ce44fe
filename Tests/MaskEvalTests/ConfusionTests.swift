import Testing

@testable import MaskEval

/// Voxel confusion keys, by hand on a 10³ image (N = 1,000).
@Suite struct ConfusionTests {
    @Test func countsAndRatesByHand() throws {
        // Label 1: reference cube 2…5 (64 voxels), prediction cube 3…6 (64): overlap 3…5 (27).
        // Label 2: reference only (a missed structure, 8 voxels).
        let ref = volume(10, 10, 10) { i, j, k in
            if (2...5).contains(i) && (2...5).contains(j) && (2...5).contains(k) { return 1 }
            return i == 0 && j < 2 && k < 4 ? 2 : 0
        }
        let pred = volume(10, 10, 10) { i, j, k in
            (3...6).contains(i) && (3...6).contains(j) && (3...6).contains(k) ? 1 : 0
        }
        let evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: EvaluationSettings(threads: 1))
        let rows = LabelRow.rows(evaluation, caseID: "", names: LabelNames())
        let cube = try #require(rows.first { $0.label == 1 })
        #expect(cube[.truePositiveVoxels] == 27 && cube[.falsePositiveVoxels] == 37 && cube[.falseNegativeVoxels] == 37)
        #expect(cube[.trueNegativeVoxels] == Double(1000 - (64 + 64 - 27)))
        #expect(cube[.sensitivity] == 27.0 / 64 && cube[.precision] == 27.0 / 64)
        #expect(cube[.specificity] == 899.0 / (899 + 37))
        #expect(cube[.volumeSimilarity] == 1)  // same size: FN = FP
        let missed = try #require(rows.first { $0.label == 2 })
        #expect(missed[.sensitivity] == 0 && missed[.precision] == nil && missed[.volumeSimilarity] == 0)
        #expect(missed[.trueNegativeVoxels] == Double(1000 - 8))  // its union is its 8 voxels
    }

    @Test func gatesAndColumnsSeeTheNewKeys() throws {
        let columns = RunSettings().columns.map { $0.name(percentile: 95) }
        #expect(columns.contains("sensitivity") && columns.contains("tn_voxels") && columns.contains("volume_similarity"))
        #expect(try Gate.parse("liver:sensitivity>=0.9", columns: RunSettings().columns, percentile: 95).column
            == MetricColumn(.sensitivity))
    }
}
