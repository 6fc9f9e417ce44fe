import Testing

@testable import MaskEval

/// google-deepmind/surface-distance's own cases (`surface_distance_test.py`) and the
/// DeepMind columns of the cross-tool cases, under `--compat deepmind`.
@Suite struct DeepMindConformance {
    static func deepmind(_ ref: LabelVolume, _ pred: LabelVolume, tolerance: Double = 1, percentile: Double = 95)
        -> LabelResult
    {
        evaluateLabel(ref, pred, presets: [.deepmind], percentile: percentile, tolerance: tolerance)
    }

    static func surfels(_ ref: LabelVolume, _ pred: LabelVolume) -> DirectedDistances {
        Evaluator.directedDistances(reference: ref, prediction: pred, label: 1, surfels: true)
    }

    static func sorted(_ distances: [Double], _ areas: [Double]?) -> [(Double, Double)] {
        sortedPairs(distances, areas ?? [])
    }

    @Test func twoPixels2D() {
        // DM-1: 2-D, two pixels 2 mm apart, spacing (2, 1).
        let gt = volume(128, 128, 1, spacing: (2, 1, 1)) { i, j, _ in i == 50 && j == 70 ? 1 : 0 }
        let pred = volume(128, 128, 1, spacing: (2, 1, 1)) { i, j, _ in i == 50 && j == 72 ? 1 : 0 }
        let s = Self.surfels(gt, pred)
        let d = 1.118033988749895
        for pairs in [
            Self.sorted(s.referenceToPrediction, s.referenceAreas),
            Self.sorted(s.predictionToReference, s.predictionAreas),
        ] {
            #expect(pairs.map(\.0) == [1, 1, 2, 2])
            #expect(pairs.allSatisfy { close($0.1, d, rtol: 1e-15) })
        }
        let r = Self.deepmind(gt, pred)
        let m = r.surface[.deepmind]!
        #expect(m.asdReferenceToPredictionMM == 1.5 && m.asdPredictionToReferenceMM == 1.5)
        #expect(m.hausdorffMM == 2 && m.hdPercentileMM == 2)
        #expect(m.nsd == 0.5 && r.dice == 0)
    }

    @Test func squaresShiftedByOnePixel2D() {
        // DM-2 and CT-3.
        let gt = volume(6, 6, 1, spacing: (2, 1, 1), box((1, 1, 0), (3, 3, 1)))
        let pred = volume(6, 6, 1, spacing: (2, 1, 1), box((1, 1, 0), (4, 3, 1)))
        let s = Self.surfels(gt, pred)
        let diag = 1.118033988749895
        let gtPairs = Self.sorted(s.referenceToPrediction, s.referenceAreas)
        let expectedGT = sortedPairs([0, 0, 0, 0, 0, 1, 0, 0], [diag, 1, diag, 2, diag, 1, diag, 2])
        #expect(gtPairs.count == expectedGT.count)
        for (a, b) in zip(gtPairs, expectedGT) { #expect(a.0 == b.0 && close(a.1, b.1, rtol: 1e-7)) }
        let predPairs = Self.sorted(s.predictionToReference, s.predictionAreas)
        let expectedPred = sortedPairs([0, 0, 0, 0, 0, 2, 2, 2, 0, 0], [diag, 1, diag, 2, 2, diag, 1, diag, 2, 2])
        #expect(predPairs.count == expectedPred.count)
        for (a, b) in zip(predPairs, expectedPred) { #expect(a.0 == b.0 && close(a.1, b.1, rtol: 1e-7)) }
        let r = Self.deepmind(gt, pred)
        let m = r.surface[.deepmind]!
        #expect(close(m.asdReferenceToPredictionMM, 0.09549150281252629, rtol: 1e-12))
        #expect(close(m.asdPredictionToReferenceMM, 0.4472135954999579, rtol: 1e-12))
        #expect(m.hausdorffMM == 2 && m.hdPercentileMM == 2)
        #expect(close(m.nsd, 0.8702680924431961, rtol: 1e-12))
        #expect(r.dice == 0.8)
    }

    @Test func twoVoxels3D() {
        // DM-6 and MO-NSD-5 (c): 3-D, spacing (3, 2, 1).
        let gt = volume(128, 128, 128, spacing: (3, 2, 1)) { i, j, k in i == 50 && j == 60 && k == 70 ? 1 : 0 }
        let pred = volume(128, 128, 128, spacing: (3, 2, 1)) { i, j, k in i == 50 && j == 60 && k == 72 ? 1 : 0 }
        let s = Self.surfels(gt, pred)
        for pairs in [
            Self.sorted(s.referenceToPrediction, s.referenceAreas),
            Self.sorted(s.predictionToReference, s.predictionAreas),
        ] {
            #expect(pairs.map(\.0) == [1, 1, 1, 1, 2, 2, 2, 2])
            #expect(pairs.allSatisfy { close($0.1, 0.875, rtol: 1e-15) })
        }
        let m = Self.deepmind(gt, pred).surface[.deepmind]!
        #expect(m.asdReferenceToPredictionMM == 1.5 && m.asdPredictionToReferenceMM == 1.5)
        #expect(m.hausdorffMM == 2 && m.hdPercentileMM == 2 && m.nsd == 0.5)
    }

    @Test func slabsShiftedByOneVoxel3D() {
        // DM-7 and MO-NSD-5 (d): the slabs touch five image faces.
        let gt = volume(100, 100, 100, spacing: (2, 1, 1), box((0, 0, 0), (50, 100, 100)))
        let pred = volume(100, 100, 100, spacing: (2, 1, 1), box((0, 0, 0), (51, 100, 100)))
        let r = Self.deepmind(gt, pred)
        let m = r.surface[.deepmind]!
        #expect(close(m.asdReferenceToPredictionMM, 0.32244707267666795, rtol: 1e-12))
        #expect(close(m.asdPredictionToReferenceMM, 0.3393962930605405, rtol: 1e-12))
        #expect(m.hausdorffMM == 2 && m.hdPercentileMM == 2)
        #expect(close(m.nsd, 0.8361450084979621, rtol: 1e-12))
        #expect(close(r.dice, 0.9900990099009901, rtol: 1e-15))
    }

    /// DM-3/4 (2-D) and DM-8/9 (3-D), MO-NSD-5 (a)/(b): one empty mask gives +∞ and NSD 0.
    /// DM-5/DM-10 (both empty) differ by design: DeepMind gives HD inf, NaN surface Dice
    /// and NaN Dice; MaskEval's `absent` row gives 0, 1 and 1 in every preset (METRICS.md).
    @Test(arguments: [false, true])
    func emptyMasks(threeD: Bool) {
        let nz = threeD ? 128 : 1
        let one = volume(128, 128, nz, spacing: (3, 2, 1)) { i, j, k in
            i == 50 && j == 60 && (k == 70 || nz == 1) ? 1 : 0
        }
        let empty = volume(128, 128, nz, spacing: (3, 2, 1)) { _, _, _ in 0 }
        for (gt, pred, status) in [(one, empty, LabelStatus.missed), (empty, one, .spurious)] {
            let r = Self.deepmind(gt, pred)
            let m = r.surface[.deepmind]!
            #expect(r.status == status)
            #expect(m.hausdorffMM == .infinity && m.hdPercentileMM == .infinity && m.nsd == 0 && r.dice == 0)
        }
        let both = Self.deepmind(empty, empty)
        #expect(
            both.status == .absent && both.surface[.deepmind]!.nsd == 1 && both.surface[.deepmind]!.hausdorffMM == 0)
    }

    @Test func crossToolCases() {
        // CT-1 (MR-2 pair): HD95 is 11.31 under DeepMind's area-weighted rule.
        let ref1 = volume(14, 14, 1) { i, j, _ in (i == 1 && j == 1) || (9..<12 ~= i && 9..<12 ~= j) ? 1 : 0 }
        let pred1 = volume(14, 14, 1, box((9, 9, 0), (12, 12, 1)))
        let ct1 = Self.deepmind(ref1, pred1).surface[.deepmind]!
        #expect(close(ct1.hausdorffMM, 11.3137, atol: 5e-5) && close(ct1.hdPercentileMM, 11.3137, atol: 5e-5))
        #expect(close(ct1.asdReferenceToPredictionMM, 2.1991, atol: 5e-5) && ct1.asdPredictionToReferenceMM == 0)
        #expect(close(ct1.nsd, 0.8845, atol: 5e-5))
        // CT-2 (MR-1 pred1).
        let ct2 = Self.deepmind(
            MetricsReloadedConformance.square(14, 5, 9), MetricsReloadedConformance.square(14, 6, 8)
        )
        .surface[.deepmind]!
        #expect(close(ct2.hausdorffMM, 1.4142, atol: 5e-5) && close(ct2.hdPercentileMM, 1.4142, atol: 5e-5))
        #expect(
            close(ct2.asdReferenceToPredictionMM, 1.0790, atol: 5e-5)
                && close(ct2.asdPredictionToReferenceMM, 1.0, atol: 5e-5))
        #expect(close(ct2.nsd, 0.8694, atol: 5e-5))
        // CT-4: anisotropic boxes.
        let gt4 = volume(20, 20, 20, spacing: (2, 1, 0.5), box((5, 5, 5), (15, 15, 15)))
        let pred4 = volume(20, 20, 20, spacing: (2, 1, 0.5), box((6, 5, 5), (16, 15, 12)))
        let ct4 = Self.deepmind(gt4, pred4).surface[.deepmind]!
        #expect(ct4.hausdorffMM == 2.5 && close(ct4.hdPercentileMM, 2.0, atol: 5e-5))
        #expect(
            close(ct4.asdReferenceToPredictionMM, 0.7446, atol: 5e-5)
                && close(ct4.asdPredictionToReferenceMM, 0.6160, atol: 5e-5))
        #expect(close(ct4.nsd, 0.6341, atol: 5e-5))
        // CT-5: slabs at the image border.
        let gt5 = volume(10, 10, 10, box((0, 0, 0), (5, 10, 10)))
        let pred5 = volume(10, 10, 10, box((0, 0, 0), (6, 10, 10)))
        let ct5 = Self.deepmind(gt5, pred5).surface[.deepmind]!
        #expect(ct5.hausdorffMM == 1 && ct5.hdPercentileMM == 1)
        #expect(close(ct5.asdReferenceToPredictionMM, 0.21894409893888722, rtol: 1e-12))
        #expect(close(ct5.asdPredictionToReferenceMM, 0.26253810656097276, rtol: 1e-12))
    }

    @Test func presetsDifferWhereThePeersDiffer() {
        // CT-1 through all three presets in one evaluation: HD95 6.79 / 2.26 / 11.31.
        let ref = volume(14, 14, 1) { i, j, _ in (i == 1 && j == 1) || (9..<12 ~= i && 9..<12 ~= j) ? 1 : 0 }
        let pred = volume(14, 14, 1, box((9, 9, 0), (12, 12, 1)))
        let r = evaluateLabel(ref, pred, presets: Compat.allCases)
        #expect(close(r.surface[.monai]!.hdPercentileMM, 6.7882, atol: 5e-5))
        #expect(close(r.surface[.medpy]!.hdPercentileMM, 2.2627, atol: 5e-5))
        #expect(close(r.surface[.deepmind]!.hdPercentileMM, 11.3137, atol: 5e-5))
    }
}

/// (distance, area) pairs sorted lexicographically, as the package's `_sort_distances_surfels`.
func sortedPairs(_ distances: [Double], _ areas: [Double]) -> [(Double, Double)] {
    zip(distances, areas).sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
}

@Suite struct HistogramTests {
    /// The histogram's percentiles equal those of a full sort, weighted and unweighted.
    @Test(arguments: 0..<20)
    func percentilesEqualSorting(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) + 77)
        let n = Int.random(in: 1...300, using: &rng)
        let distances = (0..<n).map { _ in Double(Int.random(in: 0...12, using: &rng)) * 0.7 }
        let weights = (0..<n).map { _ in Double.random(in: 0.1...2, using: &rng) }
        let histogram = DistanceHistogram(distances, weights: weights)
        let plain = DistanceHistogram(distances)
        let sorted = distances.sorted()
        for q in [0.0, 5, 50, 95, 99, 100] {
            let h = Double(n - 1) * q / 100
            let lo = Int(h)
            let hi = min(lo + 1, n - 1)
            let expected = sorted[lo] + (sorted[hi] - sorted[lo]) * (h - Double(lo))
            #expect(abs(plain.linearPercentile(q) - expected) <= 1e-12, "seed \(seed) q \(q)")
            // DeepMind's rule on the sorted pairs.
            let pairs = sortedPairs(distances, weights)
            let total = weights.reduce(0, +)
            var cumulative = 0.0
            var rule = pairs[pairs.count - 1].0
            for (d, a) in pairs {
                cumulative += a
                if cumulative / total >= q / 100 {
                    rule = d
                    break
                }
            }
            #expect(histogram.weightedPercentile(q) == rule, "seed \(seed) q \(q)")
        }
    }
}
