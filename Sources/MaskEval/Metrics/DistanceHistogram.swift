/// The distinct values of a distance set with their total weight (or count), ascending.
///
/// Surface distances take few distinct values (most come from the offset table), so
/// percentiles read from this histogram instead of sorting every distance: O(n) hashing
/// plus a sort of the distinct values. The results equal those of a full sort.
struct DistanceHistogram {
    var values: [Double]
    var weights: [Double]
    var counts: [Int]
    var total: Double

    init(_ distances: [Double], weights: [Double]? = nil) {
        var values: [Double] = []
        var sums: [Double] = []
        var counts: [Int] = []
        // The slot of each distinct bit pattern, by open addressing on a multiplicative hash
        // (the distinct values are few, so the table stays in cache); it replaced a
        // Dictionary whose hashing was 8 % of `compare --compat all` on the AAL bench pair
        // (perf, one thread). Slots are numbered in order of first appearance and summed in
        // scan order, as before.
        var mask = 63
        var table = [Int](repeating: -1, count: mask + 1)
        for (index, distance) in distances.enumerated() {
            let weight = weights?[index] ?? 1
            let bits = distance.bitPattern
            var h = Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
            while true {
                let slot = table[h]
                if slot < 0 {
                    table[h] = values.count
                    values.append(distance)
                    sums.append(weight)
                    counts.append(1)
                    break
                }
                if values[slot].bitPattern == bits {
                    sums[slot] += weight
                    counts[slot] += 1
                    break
                }
                h = (h + 1) & mask
            }
            if 2 * values.count > mask {
                // Grow to keep the table at most half full.
                mask = 2 * mask + 1
                table = [Int](repeating: -1, count: mask + 1)
                for (slot, value) in values.enumerated() {
                    var h = Int(truncatingIfNeeded: (value.bitPattern &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
                    while table[h] >= 0 { h = (h + 1) & mask }
                    table[h] = slot
                }
            }
        }
        let order = values.indices.sorted { values[$0] < values[$1] }
        self.values = order.map { values[$0] }
        self.weights = order.map { sums[$0] }
        self.counts = order.map { counts[$0] }
        total = self.weights.reduce(0, +)
    }

    /// DeepMind's rule: the first distance whose cumulative weight fraction reaches q/100,
    /// the largest when rounding keeps the fraction below it.
    func weightedPercentile(_ q: Double) -> Double {
        let target = q / 100
        var cumulative = 0.0
        for (value, weight) in zip(values, weights) {
            cumulative += weight
            if cumulative / total >= target { return value }
        }
        return values[values.count - 1]
    }

    /// The value at rank `rank` (0-based) of the sorted distances.
    func value(atRank rank: Int) -> Double {
        var seen = 0
        for (value, count) in zip(values, counts) {
            seen += count
            if rank < seen { return value }
        }
        return values[values.count - 1]
    }

    /// numpy's default `linear` percentile: h = (n − 1)·q/100, interpolated between the
    /// values at ranks ⌊h⌋ and ⌊h⌋ + 1.
    func linearPercentile(_ q: Double) -> Double {
        let n = counts.reduce(0, +)
        // (n − 1)·(q/100) in that order, as numpy computes the virtual index.
        let h = Double(n - 1) * (q / 100)
        let lower = Int(h.rounded(.down))
        let a = value(atRank: lower)
        let b = value(atRank: min(lower + 1, n - 1))
        let fraction = h - Double(lower)
        if fraction == 0 || a == b { return a }
        // numpy's _lerp form, so results match it to the last bit where it matters.
        let diff = b - a
        return fraction >= 0.5 ? b - diff * (1 - fraction) : a + diff * fraction
    }
}
