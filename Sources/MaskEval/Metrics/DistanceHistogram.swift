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
        var slots = BitPatternSlots()
        var values: [Double] = []
        var sums: [Double] = []
        var counts: [Int] = []
        for (index, distance) in distances.enumerated() {
            let weight = weights?[index] ?? 1
            let slot = slots.slot(of: distance.bitPattern, next: values.count)
            if slot < values.count {
                sums[slot] += weight
                counts[slot] += 1
            } else {
                values.append(distance)
                sums.append(weight)
                counts.append(1)
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

/// Distinct 64-bit keys → their slot in order of first appearance: open addressing with a
/// multiplicative hash, for the histogram's one look-up per distance. Swift's `Dictionary`
/// (SipHash) took a quarter of the distance phase after the search on the CT-sized pair
/// (perf, `maskeval compare bench-data/ct_*.nii.gz --threads 1`); the slots, and so the
/// histogram, are the same.
struct BitPatternSlots {
    private var keys = [UInt64](repeating: 0, count: 64)
    private var slots = [Int](repeating: -1, count: 64)
    private var shift = 58
    private var used = 0

    /// The slot of `key`; a new key gets `next` (the number of keys so far).
    mutating func slot(of key: UInt64, next: Int) -> Int {
        if 2 * (used + 1) > keys.count { grow() }
        var position = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
        let mask = keys.count - 1
        while slots[position] >= 0 {
            if keys[position] == key { return slots[position] }
            position = (position + 1) & mask
        }
        keys[position] = key
        slots[position] = next
        used += 1
        return next
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldSlots = slots
        keys = [UInt64](repeating: 0, count: 2 * oldKeys.count)
        slots = [Int](repeating: -1, count: 2 * oldKeys.count)
        shift -= 1
        used = 0
        for (key, slot) in zip(oldKeys, oldSlots) where slot >= 0 { _ = self.slot(of: key, next: slot) }
    }
}
