import Foundation

/// The Wilcoxon signed-rank test of paired differences, two-sided, reproducing
/// `scipy.stats.wilcoxon(x, y)` of SciPy 1.17.1 with its defaults (zero_method="wilcox",
/// correction=False, alternative="two-sided", method="auto"), read from scipy/stats/_wilcoxon.py
/// and checked to 1e-12 on `Tests/Fixtures/statistics/wilcoxon.json`.
///
/// With d = x − y over the n pairs:
/// - Zeros (d == 0) are dropped ("wilcox"); the remaining c = n − zeros values are ranked by |d|
///   (1 = smallest), tied |d| sharing their average rank. R+ (R−) is the rank sum of the
///   positive (negative) differences. The reported statistic is min(R+, R−).
/// - Method, chosen as scipy's `auto` does (note that n counts the zeros):
///   1. n > 50: the normal approximation.
///   2. n ≤ 50, no tied |d| and no zeros: the exact null distribution of R+ (all 2^n sign
///      patterns equally likely; counts by dynamic programming over rank sums);
///      p = min(1, 2·min(P(R+ ≥ ⌊r⌋), P(R+ ≤ ⌈r⌉))).
///   3. n ≤ 13 with ties or zeros: scipy's exact permutation test (`stats.PermutationMethod()`,
///      whose 9999 resamples exceed the 2^n sign flips, so it enumerates them all): the null
///      distribution of R+ with the same average ranks over all sign flips;
///      p = min(1, 2·min(P(R+ ≤ r), P(R+ ≥ r))). (Dynamic programming over doubled ranks here.)
///   4. otherwise (14 ≤ n ≤ 50 with ties or zeros): the normal approximation.
/// - Normal approximation: z = (R+ − c(c+1)/4) / σ with σ² = [c(c+1)(2c+1) − Σ(t³ − t)/2] / 24
///   over the tie groups of size t (tie correction; zeros are not in the ranking), no continuity
///   correction; p = 2·Φ(−|z|), Φ as scipy's `ndtr` (erf/erfc). `zStatistic` is −|z|.
///
/// Infinite differences rank above every finite |d| and tie with each other, as in scipy.
/// Edge cases as scipy: no pairs → nil (scipy: NaN, NaN). All differences zero with n ≤ 13 →
/// statistic 0, p 1 (permutation branch); with n ≥ 14 → statistic 0, p undefined (nil; scipy
/// NaN, σ = 0). One pair with a zero difference: scipy raises (its permutation test needs two
/// observations); here the same formula as for n ≤ 13 gives statistic 0, p 1.
///
/// Cost: O(n log n) for the ranks; the exact and permutation branches add O(n³) (a table of
/// n(n+1)/2 rank sums built in n steps; n ≤ 50), microseconds.
public enum Wilcoxon {
    /// How the p-value was obtained (see the type's documentation).
    public enum Method: String, Sendable {
        case exact, permutation
        case normalApproximation = "normal_approximation"
    }

    public struct Result: Equatable, Sendable {
        /// Pairs given, zeros included.
        public var n: Int
        /// Pairs with a zero difference (left out of the ranking).
        public var zeros: Int
        /// Whether two non-zero |d| are equal.
        public var hasTies: Bool
        /// Rank sums of the positive and of the negative differences.
        public var rankSumPositive: Double
        public var rankSumNegative: Double
        /// min(R+, R−), scipy's two-sided `statistic`.
        public var statistic: Double
        /// Two-sided p-value; nil where scipy gives NaN.
        public var pValue: Double?
        /// −|z| for the normal approximation (scipy's `zstatistic`), else nil.
        public var zStatistic: Double?
        public var method: Method
    }

    /// The test of d = x − y, as `scipy.stats.wilcoxon(x, y)`. No difference may be NaN.
    public static func test(_ x: [Double], _ y: [Double]) -> Result? {
        precondition(x.count == y.count, "paired samples must have the same length")
        return test(differences: zip(x, y).map { $0 - $1 })
    }

    /// The test of the paired differences `d` (scipy.stats.wilcoxon(d)). No value may be NaN;
    /// ±∞ is ranked above every finite |d|, all infinite |d| tied (scipy's ranking does the same).
    public static func test(differences d: [Double]) -> Result? {
        precondition(!d.contains { $0.isNaN }, "differences must not be NaN")
        let n = d.count
        guard n > 0 else { return nil }
        let nonZero = d.filter { $0 != 0 }
        let c = nonZero.count
        let zeros = n - c
        let ranked = averageRanks(nonZero.map { abs($0) })
        var rankSumPositive = 0.0
        var rankSumNegative = 0.0
        for (value, rank) in zip(nonZero, ranked.ranks) {
            if value > 0 { rankSumPositive += rank } else { rankSumNegative += rank }
        }
        let hasTies = ranked.tieGroups.contains { $0 > 1 }
        let method = autoMethod(n: n, zeros: zeros, hasTies: hasTies)
        var result = Result(
            n: n, zeros: zeros, hasTies: hasTies, rankSumPositive: rankSumPositive, rankSumNegative: rankSumNegative,
            statistic: min(rankSumPositive, rankSumNegative), pValue: nil, zStatistic: nil, method: method)
        switch method {
        case .exact:
            result.pValue = exactPValue(rankSumPositive: rankSumPositive, n: c)
        case .permutation:
            result.pValue = permutationPValue(ranks: ranked.ranks, rankSumPositive: rankSumPositive)
        case .normalApproximation:
            let count = Double(c)
            // scipy's order of operations (_wilcoxon_statistic).
            let mean = count * (count + 1) * 0.25
            let tieCorrection = ranked.tieGroups.reduce(0.0) { total, t in
                let size = Double(t)
                return total + (size * size * size - size)
            }
            let sigma = ((count * (count + 1) * (2 * count + 1) - tieCorrection / 2) / 24).squareRoot()
            let z = (rankSumPositive - mean) / sigma
            if z.isFinite {
                result.zStatistic = -abs(z)
                result.pValue = 2 * normalCDF(-abs(z))
            }
        }
        return result
    }

    /// scipy's `method="auto"` (n counts the zeros): the normal approximation above 50 pairs;
    /// the exact distribution without ties and zeros; else the permutation test up to 13 pairs
    /// (2^13 sign flips fit in its 9999 resamples) and the normal approximation above.
    static func autoMethod(n: Int, zeros: Int, hasTies: Bool) -> Method {
        if n > 50 { return .normalApproximation }
        if !hasTies && zeros == 0 { return .exact }
        return n <= 13 ? .permutation : .normalApproximation
    }

    /// Average ranks (1-based) of `values` in their order, and the size of every group of equal
    /// values (scipy's `_rankdata(..., 'average')`).
    static func averageRanks(_ values: [Double]) -> (ranks: [Double], tieGroups: [Int]) {
        let order = values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        var ranks = [Double](repeating: 0, count: values.count)
        var groups: [Int] = []
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && values[order[end]] == values[order[start]] { end += 1 }
            let rank = Double(start + 1) + Double(end - start - 1) / 2
            for position in start..<end { ranks[order[position]] = rank }
            groups.append(end - start)
            start = end
        }
        return (ranks, groups)
    }

    /// The exact two-sided p-value for R+ = r with ranks 1…n (no ties): scipy's
    /// `WilcoxonDistribution`, p = min(1, 2·min(sf(⌊r⌋), cdf(⌈r⌉))). The subset counts of rank
    /// sums are integers below 2^50 (n ≤ 50), so count/2^n is exact and equals scipy's sums of
    /// its halved probabilities bit for bit.
    static func exactPValue(rankSumPositive r: Double, n: Int) -> Double {
        precondition(n >= 1 && n <= 62, "exact distribution only for 1 ≤ n ≤ 62")
        let counts = subsetSumCounts(weights: Array(1...n))
        let total = Double(sign: .plus, exponent: n, significand: 1)
        let floorR = Int(r.rounded(.down))
        let ceilR = Int(r.rounded(.up))
        var survival: UInt64 = 0  // subsets with sum ≥ ⌊r⌋
        var cumulative: UInt64 = 0  // subsets with sum ≤ ⌈r⌉
        for (sum, count) in counts.enumerated() {
            if sum >= floorR { survival += count }
            if sum <= ceilR { cumulative += count }
        }
        return min(1, 2 * min(Double(survival) / total, Double(cumulative) / total))
    }

    /// The permutation p-value over all 2^c sign flips of the non-zero differences with their
    /// (average) ranks: p = min(1, 2·min(P(R+ ≤ r), P(R+ ≥ r))). Ranks are multiples of 1/2,
    /// so the sums are counted on doubled ranks, exactly.
    static func permutationPValue(ranks: [Double], rankSumPositive r: Double) -> Double {
        let doubled = ranks.map { Int(($0 * 2).rounded()) }
        let counts = subsetSumCounts(weights: doubled)
        let observed = Int((r * 2).rounded())
        let total = Double(sign: .plus, exponent: ranks.count, significand: 1)
        var less: UInt64 = 0
        var greater: UInt64 = 0
        for (sum, count) in counts.enumerated() {
            if sum <= observed { less += count }
            if sum >= observed { greater += count }
        }
        return min(1, 2 * min(Double(less) / total, Double(greater) / total))
    }

    /// counts[s] = the number of subsets of `weights` (positive integers) summing to s:
    /// the textbook 0/1-knapsack recurrence, O(#weights · Σweights).
    static func subsetSumCounts(weights: [Int]) -> [UInt64] {
        var counts = [UInt64](repeating: 0, count: weights.reduce(0, +) + 1)
        counts[0] = 1
        var reach = 0
        for weight in weights {
            precondition(weight > 0, "weights must be positive")
            reach += weight
            for s in stride(from: reach, through: weight, by: -1) { counts[s] += counts[s - weight] }
        }
        return counts
    }

    /// The standard normal CDF as scipy's `special.ndtr` (Cephes): ½ + ½·erf(x/√2) for
    /// |x/√2| < 1/√2, else ½·erfc(|x|/√2), mirrored for positive x.
    static func normalCDF(_ a: Double) -> Double {
        let x = a * 0.5.squareRoot()
        let z = abs(x)
        if z < 0.5.squareRoot() { return 0.5 + 0.5 * erf(x) }
        let y = 0.5 * erfc(z)
        return x > 0 ? 1 - y : y
    }
}
