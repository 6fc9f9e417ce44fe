import Testing

@testable import MaskEval

/// The one-pass histogram and the merged (pooled) one against plain per-value sums.
@Suite struct HistogramMergeTests {
    /// Random distances with runs and up to a few hundred distinct values (so the slot table
    /// grows several times), with weights.
    static func sample(seed: Int) -> ([Double], [Double]) {
        var rng = SeededGenerator(seed: UInt64(seed) &* 31 &+ 5)
        let n = Int.random(in: 1...2000, using: &rng)
        let distinct = [3, 40, 400][seed % 3]
        var distances: [Double] = []
        while distances.count < n {
            let value = Double(Int.random(in: 0..<distinct, using: &rng)) * 0.37
            let run = Int.random(in: 1...6, using: &rng)
            distances += [Double](repeating: value, count: min(run, n - distances.count))
        }
        return (distances, (0..<n).map { _ in Double.random(in: 0.1...2, using: &rng) })
    }

    /// Each value's weight is the left-to-right sum of its weights in the given order, its
    /// count the number of its distances; values ascending.
    @Test(arguments: 0..<12)
    func oneScanEqualsPlainSums(seed: Int) {
        let (distances, weights) = Self.sample(seed: seed)
        var sums: [Double: Double] = [:]
        var counts: [Double: Int] = [:]
        for (d, w) in zip(distances, weights) {
            sums[d, default: 0] += w
            counts[d, default: 0] += 1
        }
        let histogram = DistanceHistogram(distances, weights: weights)
        let plain = DistanceHistogram(distances)
        let keys = sums.keys.sorted()
        #expect(histogram.values == keys, "seed \(seed)")
        #expect(histogram.weights == keys.map { sums[$0]! }, "seed \(seed)")
        #expect(histogram.counts == keys.map { counts[$0]! }, "seed \(seed)")
        #expect(plain.values == keys && plain.counts == histogram.counts, "seed \(seed)")
        #expect(plain.weights == keys.map { Double(counts[$0]!) }, "seed \(seed)")
    }

    /// The pooled histogram merged from two equals the one of the concatenation: values and
    /// counts exactly (so every count percentile), weights to rounding.
    @Test(arguments: 0..<12)
    func mergeEqualsPooled(seed: Int) {
        let (a, wa) = Self.sample(seed: seed)
        let (b, wb) = Self.sample(seed: seed + 100)
        let merged = DistanceHistogram(merging: DistanceHistogram(a, weights: wa), DistanceHistogram(b, weights: wb))
        let pooled = DistanceHistogram(a + b, weights: wa + wb)
        #expect(merged.values == pooled.values, "seed \(seed)")
        #expect(merged.counts == pooled.counts, "seed \(seed)")
        for (x, y) in zip(merged.weights, pooled.weights) { #expect(abs(x - y) <= 1e-9 * y, "seed \(seed)") }
        let plainMerged = DistanceHistogram(merging: DistanceHistogram(a), DistanceHistogram(b))
        let plainPooled = DistanceHistogram(a + b)
        #expect(plainMerged.weights == plainPooled.weights, "seed \(seed)")
        for q in [0.0, 5, 50, 95, 99, 100] {
            #expect(plainMerged.linearPercentile(q) == plainPooled.linearPercentile(q), "seed \(seed) q \(q)")
        }
    }
}
