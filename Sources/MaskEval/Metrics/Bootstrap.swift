/// Percentile bootstrap confidence intervals over cases.
///
/// Method (Efron & Tibshirani 1993, ch. 13, the percentile interval): the cases are resampled
/// with replacement (`n` draws from the `n` values; cases, never voxels or structures),
/// the statistic (mean or median) is computed on each of `resamples` resamples, and the
/// interval is the pair of quantiles at (1 − level)/2 and (1 + level)/2 of those statistics,
/// with numpy's default `linear` quantile (h = (B − 1)·p, interpolated between ranks ⌊h⌋ and
/// ⌊h⌋ + 1, numpy's `_lerp` form). `level` 0.95 gives the 2.5 % and 97.5 % quantiles.
///
/// Reproducibility: resample `r` (0-based) draws its case indices from its own xoshiro256**
/// stream seeded from (seed, r) alone (`Xoshiro256StarStar(seed:stream:)`), with Lemire's
/// unbiased bounded integers; all three generators are this file's own code, transcribed from
/// the authors' reference C, so intervals depend only on (values, statistic, resamples, seed,
/// level) and are byte-identical for any thread count, run or Swift version. The mean of a
/// resample sums the drawn values in draw order; the median is numpy's (the middle value, or
/// (a + b)/2 of the two middle values). `scripts/make_statistics_cases.py` re-implements all
/// of this in Python and `Tests/Fixtures/statistics/bootstrap.json` holds its intervals.
///
/// Cost: O(B·n) time (no sort per resample: the median is read from per-rank counts) plus one
/// O(B log B) sort; memory O(B + threads·n).
public enum Bootstrap {
    /// The statistic whose sampling distribution is bootstrapped.
    public enum Statistic: String, Sendable, CaseIterable {
        case mean, median
    }

    /// A confidence interval [low, high] in the units of the values.
    public struct Interval: Equatable, Sendable {
        public var low: Double
        public var high: Double

        public init(low: Double, high: Double) {
            self.low = low
            self.high = high
        }
    }

    /// The resample count used unless the caller says otherwise (`--bootstrap N`).
    public static let defaultResamples = 2000
    /// The seed used unless the caller says otherwise (`--seed S`); any fixed value would do.
    public static let defaultSeed: UInt64 = 19
    /// The confidence level used unless the caller says otherwise.
    public static let defaultLevel = 0.95

    /// The percentile bootstrap interval of `statistic` over `values` (one value per case).
    ///
    /// Returns nil when `values` is empty or `resamples` ≤ 0 (bootstrap switched off). One value
    /// gives the degenerate interval [v, v]. Every value must be finite (the caller decides what
    /// +∞ means, e.g. a penalty, before calling). `threads` changes the speed only.
    public static func interval(
        values: [Double], statistic: Statistic, resamples: Int = defaultResamples, seed: UInt64,
        level: Double = defaultLevel, threads: Int = 1
    ) -> Interval? {
        precondition(level > 0 && level < 1, "level must lie in (0, 1)")
        precondition(values.allSatisfy(\.isFinite), "bootstrap values must be finite")
        guard !values.isEmpty, resamples > 0 else { return nil }
        let sorted = distribution(
            values: values, statistic: statistic, resamples: resamples, seed: seed, threads: threads
        ).sorted()
        return Interval(
            low: linearQuantile(sorted: sorted, (1 - level) / 2), high: linearQuantile(sorted: sorted, (1 + level) / 2))
    }

    /// The paired percentile bootstrap: case indices are resampled and the statistic is applied
    /// to the paired differences `b[i] − a[i]` of the drawn cases. (Resampling cases and then
    /// differencing equals bootstrapping the differences, which is how it is computed.)
    public static func pairedInterval(
        a: [Double], b: [Double], statistic: Statistic, resamples: Int = defaultResamples, seed: UInt64,
        level: Double = defaultLevel, threads: Int = 1
    ) -> Interval? {
        precondition(a.count == b.count, "paired samples must have the same length")
        return interval(
            values: zip(a, b).map { $1 - $0 }, statistic: statistic, resamples: resamples, seed: seed, level: level,
            threads: threads)
    }

    /// The `resamples` bootstrap statistics in resample order (entry r from stream r).
    static func distribution(
        values: [Double], statistic: Statistic, resamples: Int, seed: UInt64, threads: Int
    ) -> [Double] {
        let n = values.count
        // Ranks of the values (stable), so a resample's median is read from counts per rank.
        let order = values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        let sortedValues = order.map { values[$0] }
        var rankOf = [Int](repeating: 0, count: n)
        for (rank, index) in order.enumerated() { rankOf[index] = rank }
        let workers = max(1, threads)
        var counts = [Int](repeating: 0, count: statistic == .median ? workers * n : 0)
        var out = [Double](repeating: 0, count: resamples)
        let bound = UInt64(n)
        values.withUnsafeBufferPointer { valueBuffer in
            sortedValues.withUnsafeBufferPointer { sortedBuffer in
                rankOf.withUnsafeBufferPointer { rankBuffer in
                    counts.withUnsafeMutableBufferPointer { countBuffer in
                        out.withUnsafeMutableBufferPointer { outBuffer in
                            let shared = UncheckedSendable(
                                (valueBuffer, sortedBuffer, rankBuffer, countBuffer, outBuffer))
                            parallelForWithWorker(resamples, threads: workers, grain: 16) { worker, r in
                                let (values, sorted, rankOf, counts, out) = shared.value
                                var random = Xoshiro256StarStar(seed: seed, stream: UInt64(r))
                                switch statistic {
                                case .mean:
                                    var total = 0.0
                                    for _ in 0..<n { total += values[Int(random.bounded(bound))] }
                                    out[r] = total / Double(n)
                                case .median:
                                    let base = worker * n  // this worker's counts: [base, base + n)
                                    for rank in 0..<n { counts[base + rank] = 0 }
                                    for _ in 0..<n { counts[base + rankOf[Int(random.bounded(bound))]] += 1 }
                                    out[r] = medianOfCounts(counts, base: base, sorted: sorted)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// numpy's median of the multiset holding `counts[base + rank]` copies of `sorted[rank]`
    /// (n = sorted.count elements in all): the element at position (n − 1)/2 when n is odd,
    /// else (a + b)/2 of the elements at positions n/2 − 1 and n/2.
    static func medianOfCounts(
        _ counts: UnsafeMutableBufferPointer<Int>, base: Int, sorted: UnsafeBufferPointer<Double>
    ) -> Double {
        let n = sorted.count
        let lowerPosition = (n - 1) / 2
        let upperPosition = n / 2
        var seen = 0
        var lower = 0.0
        for rank in 0..<n {
            let count = counts[base + rank]
            if count == 0 { continue }
            if lowerPosition < seen + count && lowerPosition >= seen { lower = sorted[rank] }
            if upperPosition < seen + count {
                return lowerPosition == upperPosition ? lower : (lower + sorted[rank]) / 2
            }
            seen += count
        }
        preconditionFailure("counts must sum to n")
    }

    /// numpy's default (`linear`) quantile of ascending `sorted` at probability p in [0, 1]:
    /// h = (n − 1)·p, then numpy's `_lerp` between the values at ranks ⌊h⌋ and ⌊h⌋ + 1.
    static func linearQuantile(sorted: [Double], _ p: Double) -> Double {
        precondition(!sorted.isEmpty, "quantile of an empty sample")
        let h = Double(sorted.count - 1) * p
        let lower = min(Int(h.rounded(.down)), sorted.count - 1)
        let a = sorted[lower]
        let b = sorted[min(lower + 1, sorted.count - 1)]
        let fraction = h - Double(lower)
        let difference = b - a
        return fraction >= 0.5 ? b - difference * (1 - fraction) : a + difference * fraction
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014), transcribed from Vigna's reference C code
/// (prng.di.unimi.it/splitmix64.c): add 0x9E3779B97F4A7C15 to the state, then mix.
/// Used to seed xoshiro256** and to derive one seed per bootstrap resample.
struct SplitMix64 {
    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= Self.gamma
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman & Vigna 2018), transcribed from the reference C code
/// (prng.di.unimi.it/xoshiro256starstar.c), with its state filled by SplitMix64 as its authors
/// recommend. `bounded(_:)` is Lemire's unbiased multiply-and-reject method (Lemire 2019,
/// "Fast random integer generation in an interval", ACM TOMACS 29(1)). Swift's own
/// `random(in:using:)` is not used: its algorithm is not promised to stay the same.
struct Xoshiro256StarStar {
    var s0, s1, s2, s3: UInt64

    /// The state is four successive SplitMix64 outputs starting from `seed`.
    init(seed: UInt64) {
        var splitMix = SplitMix64(state: seed)
        s0 = splitMix.next()
        s1 = splitMix.next()
        s2 = splitMix.next()
        s3 = splitMix.next()
    }

    /// The generator of bootstrap resample `stream` under `seed`: seeded with the stream-th
    /// (0-based) SplitMix64 output of `seed`, i.e. the mix of seed + (stream + 1)·γ, so it
    /// depends only on (seed, stream), never on the order in which resamples run.
    init(seed: UInt64, stream: UInt64) {
        var splitMix = SplitMix64(state: seed &+ stream &* SplitMix64.gamma)
        self.init(seed: splitMix.next())
    }

    mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform integer in 0..<n (n ≥ 1), without modulo bias: the high word of x·n,
    /// redrawing x while the low word falls below 2⁶⁴ mod n.
    mutating func bounded(_ n: UInt64) -> UInt64 {
        precondition(n > 0, "bound must be positive")
        var product = next().multipliedFullWidth(by: n)
        if product.low < n {
            let threshold = (0 &- n) % n
            while product.low < threshold { product = next().multipliedFullWidth(by: n) }
        }
        return product.high
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}
