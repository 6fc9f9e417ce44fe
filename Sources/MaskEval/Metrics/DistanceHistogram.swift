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
        precondition(weights.map { $0.count == distances.count } ?? true, "one weight per distance")
        // Pass 1: the slot of each distance, slots numbered in order of first appearance, by
        // open addressing on the bit patterns with a multiplicative hash (the distinct values
        // are few, so the table stays in cache). It replaced a Dictionary whose hashing was
        // 8 % of `compare --compat all` on the AAL bench pair (perf, one thread).
        var values: [Double] = []
        var slots = [Int32](repeating: 0, count: distances.count)
        var mask = 63
        var keys = [UInt64](repeating: 0, count: mask + 1)
        var table = [Int32](repeating: -1, count: mask + 1)
        @inline(__always) func home(_ bits: UInt64, _ mask: Int) -> Int {
            Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        }
        for index in distances.indices {
            let bits = distances[index].bitPattern
            var h = home(bits, mask)
            while table[h] >= 0 && keys[h] != bits { h = (h + 1) & mask }
            if table[h] < 0 {
                table[h] = Int32(values.count)
                keys[h] = bits
                values.append(distances[index])
                if 2 * values.count > mask {
                    // Grow to keep the table at most half full.
                    mask = 2 * mask + 1
                    keys = [UInt64](repeating: 0, count: mask + 1)
                    table = [Int32](repeating: -1, count: mask + 1)
                    for (slot, value) in values.enumerated() {
                        var g = home(value.bitPattern, mask)
                        while table[g] >= 0 { g = (g + 1) & mask }
                        table[g] = Int32(slot)
                        keys[g] = value.bitPattern
                    }
                }
                slots[index] = Int32(values.count - 1)
            } else {
                slots[index] = table[h]
            }
        }
        // Pass 2: weights (or counts) summed per slot in scan order.
        var sums = [Double](repeating: 0, count: values.count)
        var counts = [Int](repeating: 0, count: values.count)
        sums.withUnsafeMutableBufferPointer { sums in
            counts.withUnsafeMutableBufferPointer { counts in
                slots.withUnsafeBufferPointer { slots in
                    if let weights {
                        weights.withUnsafeBufferPointer { w in
                            for index in slots.indices {
                                let slot = Int(slots[index])
                                sums[slot] += w[index]
                                counts[slot] += 1
                            }
                        }
                    } else {
                        for index in slots.indices {
                            let slot = Int(slots[index])
                            sums[slot] += 1
                            counts[slot] += 1
                        }
                    }
                }
            }
        }
        let order = values.indices.sorted { values[$0] < values[$1] }
        self.values = order.map { values[$0] }
        self.weights = order.map { sums[$0] }
        self.counts = order.map { counts[$0] }
        total = self.weights.reduce(0, +)
    }

    /// The histogram of two distance sets together, from theirs: a merge of the sorted
    /// values, adding the weights and counts of equal ones. O(distinct values). Distances
    /// are never NaN, so equal values are equal bit patterns (+0 only), as hashing groups
    /// them; each value's weight is the sum of the two sets' sums (for counts, exact).
    init(merging a: DistanceHistogram, _ b: DistanceHistogram) {
        var values: [Double] = []
        var weights: [Double] = []
        var counts: [Int] = []
        values.reserveCapacity(a.values.count + b.values.count)
        weights.reserveCapacity(a.values.count + b.values.count)
        counts.reserveCapacity(a.values.count + b.values.count)
        var (x, y) = (0, 0)
        while x < a.values.count || y < b.values.count {
            if y == b.values.count || (x < a.values.count && a.values[x] < b.values[y]) {
                values.append(a.values[x])
                weights.append(a.weights[x])
                counts.append(a.counts[x])
                x += 1
            } else if x == a.values.count || b.values[y] < a.values[x] {
                values.append(b.values[y])
                weights.append(b.weights[y])
                counts.append(b.counts[y])
                y += 1
            } else {
                values.append(a.values[x])
                weights.append(a.weights[x] + b.weights[y])
                counts.append(a.counts[x] + b.counts[y])
                x += 1
                y += 1
            }
        }
        self.values = values
        self.weights = weights
        self.counts = counts
        total = weights.reduce(0, +)
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
