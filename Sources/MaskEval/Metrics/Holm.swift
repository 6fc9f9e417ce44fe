/// Holm–Bonferroni step-down adjustment of a family of p-values (Holm 1979), as
/// `statsmodels.stats.multitest.multipletests(p, alpha, method="holm")` (statsmodels 0.15.0,
/// checked on `Tests/Fixtures/statistics/holm.json`).
///
/// With the m defined p-values sorted ascending, p₍₁₎ ≤ … ≤ p₍ₘ₎ (k = 1…m):
/// - adjusted p₍ₖ₎ = min(1, max_{j ≤ k} (m − j + 1)·p₍ⱼ₎): monotone in p, capped at 1;
/// - rejected: p₍ₖ₎ ≤ alpha/(m − k + 1) for this k and every smaller one (step-down; the first
///   p above its threshold stops the rejections).
/// Undefined p-values (nil, e.g. a structure with no non-zero difference) are not part of the
/// family: they stay nil and are never rejected. Tied p-values get equal adjusted values.
public enum Holm {
    public struct Adjusted: Equatable, Sendable {
        /// The Holm-adjusted p-value; nil where the input was nil.
        public var pValue: Double?
        /// Whether the hypothesis is rejected at the family-wise level `alpha`.
        public var rejected: Bool

        public init(pValue: Double?, rejected: Bool) {
            self.pValue = pValue
            self.rejected = rejected
        }
    }

    /// The adjusted p-values and rejections, in the order of `pValues`. O(m log m).
    public static func adjust(_ pValues: [Double?], alpha: Double = 0.05) -> [Adjusted] {
        var result = pValues.map { _ in Adjusted(pValue: nil, rejected: false) }
        let family = pValues.indices.compactMap { index in pValues[index].map { (index: index, p: $0) } }
        precondition(family.allSatisfy { $0.p >= 0 && $0.p <= 1 }, "p-values must lie in [0, 1]")
        let sorted = family.enumerated().sorted { ($0.element.p, $0.offset) < ($1.element.p, $1.offset) }.map(\.element)
        let m = sorted.count
        var rejecting = true
        var running = 0.0
        for (k, item) in sorted.enumerated() {
            let remaining = Double(m - k)  // m − k + 1 with k 1-based
            if item.p > alpha / remaining { rejecting = false }
            running = max(running, item.p * remaining)
            result[item.index] = Adjusted(pValue: min(1, running), rejected: rejecting)
        }
        return result
    }
}
