/// Which values of a metric are better, for comparing two models on the same cases.
public enum MetricDirection: String, Sendable, CaseIterable {
    /// Dice, Jaccard, NSD, boundary IoU.
    case higherIsBetter = "higher"
    /// Distances in mm (Hausdorff, HDq, ASSD, MASD, the directed ASDs).
    case lowerIsBetter = "lower"
    /// Signed errors (volume differences): compared as magnitudes |value|, smaller is better.
    case smallerMagnitudeIsBetter = "smaller_magnitude"

    /// The direction of a row key, or nil for keys with no better side (voxel counts, the
    /// reference and prediction volumes): `dice`, `jaccard`, `nsd`, `biou` → higher; every key
    /// ending in `_mm` → lower; `volume_difference_ml`, `relative_volume_difference` → smaller
    /// magnitude.
    public static func forKey(_ key: String) -> MetricDirection? {
        switch key {
        case "dice", "jaccard", "nsd", "biou", "sensitivity", "precision", "specificity", "volume_similarity":
            return .higherIsBetter
        case "volume_difference_ml", "relative_volume_difference": return .smallerMagnitudeIsBetter
        default: return key.hasSuffix("_mm") ? .lowerIsBetter : nil
        }
    }
}

/// The paired comparison of model B against model A on one metric of one structure: the same
/// cases, `a[i]` and `b[i]` from case i. Differences are always **B − A**.
///
/// Values, per pair:
/// - NaN (undefined) or −∞ on either side: the pair is dropped and counted in `dropped`.
/// - `smallerMagnitudeIsBetter`: both values are replaced by their magnitudes |v| first, so
///   every statistic below (means included) is about |v|.
/// - +∞ (a missed or spurious structure's distance) is the largest value there is:
///   - means, medians and the bootstrap (`meanA`, `meanB`, `meanDifference`,
///     `medianDifference`, `meanDifferenceInterval`): +∞ counts as `penalty` when one is
///     given; without one, a pair holding a +∞ is left out of these (`meanN` pairs are used;
///     so is a pair whose difference overflows);
///   - the rank test: a pair where exactly one side is +∞ has the difference ±∞ (+∞ when B is
///     +∞), which ranks above every finite |difference|; all such pairs form one tie group at
///     the top ranks (average rank) and their sign says which side is +∞. Both +∞ is a zero
///     difference (dropped by the test as every zero is);
///   - wins/ties/losses: +∞ vs +∞ is a tie, +∞ vs a finite value is decided by the order.
/// Reported:
/// - `wins`, `ties`, `losses` of B against A: |B − A| ≤ `tolerance` is a tie, otherwise B wins
///   when it is better in the metric's direction.
/// - `wilcoxon`: `Wilcoxon.test(differences:)` (scipy.stats.wilcoxon defaults) over the n pairs.
/// - `meanDifferenceInterval`: the paired percentile bootstrap (`Bootstrap`) of the mean
///   difference: cases resampled, nil with `resamples` 0.
/// - `better`: the side the rank test leans to: R+ > R− means B is larger, which is B better
///   for `higherIsBetter` and A better otherwise; nil when R+ = R− (no pairs, or all ties).
///   Significance is the p-value's business (Holm-adjust it across structures with `Holm`).
public struct PairedComparison: Equatable, Sendable {
    public enum Side: String, Sendable {
        case a, b
    }

    /// Pairs given.
    public var pairs: Int
    /// Pairs dropped for a NaN or −∞ value.
    public var dropped: Int
    /// Pairs used by the rank test and the wins/ties/losses (pairs − dropped).
    public var n: Int
    /// Pairs used by the means, medians and bootstrap (n minus pairs with +∞ when no penalty).
    public var meanN: Int
    public var meanA: Double?
    public var meanB: Double?
    /// Mean and median (numpy's) of B − A.
    public var meanDifference: Double?
    public var medianDifference: Double?
    public var meanDifferenceInterval: Bootstrap.Interval?
    public var wilcoxon: Wilcoxon.Result?
    public var wins: Int
    public var ties: Int
    public var losses: Int
    public var better: Side?

    /// Compares B against A (see the type's documentation for every rule).
    /// - Parameters:
    ///   - a, b: one value per case, same length and case order.
    ///   - direction: `MetricDirection.forKey(key)` for a row key.
    ///   - tolerance: |B − A| at or below it is a tie (metric units, ≥ 0).
    ///   - penalty: the value of +∞ in means (e.g. `--penalty-mm`), or nil.
    ///   - resamples, seed, level, threads: of the paired bootstrap (`Bootstrap.interval`).
    public static func compare(
        a: [Double], b: [Double], direction: MetricDirection, tolerance: Double = 0, penalty: Double? = nil,
        resamples: Int = Bootstrap.defaultResamples, seed: UInt64 = Bootstrap.defaultSeed,
        level: Double = Bootstrap.defaultLevel, threads: Int = 1
    ) -> PairedComparison {
        precondition(a.count == b.count, "paired samples must have the same length")
        precondition(tolerance >= 0, "tolerance must not be negative")
        precondition(penalty.map(\.isFinite) ?? true, "penalty must be finite")
        let defined = zip(a, b).filter { pair in
            !pair.0.isNaN && !pair.1.isNaN && pair.0 != -.infinity && pair.1 != -.infinity
        }
        let kept = direction == .smallerMagnitudeIsBetter ? defined.map { (abs($0.0), abs($0.1)) } : defined

        // Means, medians, bootstrap: +∞ → penalty, else the pair is left out.
        var meanA: [Double] = []
        var meanB: [Double] = []
        for (x, y) in kept {
            let x = x == .infinity ? penalty ?? x : x
            let y = y == .infinity ? penalty ?? y : y
            if x.isFinite && y.isFinite && (y - x).isFinite {
                meanA.append(x)
                meanB.append(y)
            }
        }
        let differences = zip(meanA, meanB).map { $1 - $0 }

        // The rank test: +∞ − finite = +∞ and finite − +∞ = −∞ rank at the top; +∞ vs +∞ is 0.
        let rankDifferences = kept.map { x, y in x == .infinity && y == .infinity ? 0 : y - x }
        let wilcoxon = Wilcoxon.test(differences: rankDifferences)

        var wins = 0
        var ties = 0
        var losses = 0
        for (x, y) in kept {
            let difference = x == .infinity && y == .infinity ? 0 : y - x
            if abs(difference) <= tolerance {
                ties += 1
            } else if (difference > 0) == (direction == .higherIsBetter) {
                wins += 1
            } else {
                losses += 1
            }
        }
        var better: Side?
        if let wilcoxon, wilcoxon.rankSumPositive != wilcoxon.rankSumNegative {
            better = (wilcoxon.rankSumPositive > wilcoxon.rankSumNegative) == (direction == .higherIsBetter) ? .b : .a
        }
        return PairedComparison(
            pairs: a.count, dropped: a.count - kept.count, n: kept.count, meanN: differences.count,
            meanA: mean(meanA), meanB: mean(meanB), meanDifference: mean(differences),
            medianDifference: median(differences),
            meanDifferenceInterval: Bootstrap.interval(
                values: differences, statistic: .mean, resamples: resamples, seed: seed, level: level, threads: threads),
            wilcoxon: wilcoxon, wins: wins, ties: ties, losses: losses, better: better)
    }

    /// The arithmetic mean (a sum in order, then one division); nil when empty.
    static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// numpy's median: the middle value, or (a + b)/2 of the two middle values; nil when empty.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let upper = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[upper] : (sorted[upper - 1] + sorted[upper]) / 2
    }
}
