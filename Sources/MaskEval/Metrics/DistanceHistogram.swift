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
        // One pass: the slot of each distance, slots numbered in order of first appearance,
        // by open addressing on the bit patterns with a multiplicative hash (the distinct
        // values are few, so the table stays in cache), and its weight (or 1) added to the
        // slot's sum in scan order. A distance equal to the previous one reuses its slot
        // without hashing (runs are common in scan order). The hash table replaced a
        // Dictionary whose hashing was 8 % of `compare --compat all` on the AAL bench pair
        // (perf, one thread). Fusing the former second pass (over a per-distance slot
        // array) into this one and the run test took the histograms of
        // `compare --compat deepmind --threads 1` on that pair from 8.6 % to 5.3 % of all
        // samples (perf, five runs).
        // A run's sum stays in a register (the same additions in the same order, so the
        // same sum) and is stored when the run ends: adding to memory made each distance
        // wait on the previous one's store. On the AAL pair (`compare --compat all
        // --threads 1`, six runs, perf) the histograms' samples fell by about a quarter.
        var slots = SlotTable()
        defer { slots.free() }
        distances.withUnsafeBufferPointer { d in
            guard !d.isEmpty else { return }
            weights.withUnsafeBufferPointerOrNil { w in
                var lastBits = d[0].bitPattern
                var slot = slots.slot(of: lastBits)
                var sum = 0.0
                var count = 0
                for index in d.indices {
                    let bits = d[index].bitPattern
                    if bits != lastBits {
                        slots.sums[slot] = sum
                        slots.counts[slot] = count
                        slot = slots.slot(of: bits)
                        lastBits = bits
                        (sum, count) = (slots.sums[slot], slots.counts[slot])
                    }
                    sum += w.map { $0[index] } ?? 1
                    count += 1
                }
                slots.sums[slot] = sum
                slots.counts[slot] = count
            }
        }
        let n = slots.count
        let found = (0..<n).map { Double(bitPattern: slots.values[$0]) }
        let order = found.indices.sorted { found[$0] < found[$1] }
        self.values = order.map { found[$0] }
        self.weights = order.map { slots.sums[$0] }
        self.counts = order.map { slots.counts[$0] }
        total = self.weights.reduce(0, +)
    }

    /// Distinct bit patterns with their slots (in order of first appearance), and each
    /// slot's sum and count, in buffers grown by doubling (kept at most half full).
    private struct SlotTable {
        var mask = 63
        var keys = UnsafeMutablePointer<UInt64>.allocate(capacity: 64)
        var table = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
        /// Per slot: its bit pattern, sum and count (room for mask + 1 slots).
        var values = UnsafeMutablePointer<UInt64>.allocate(capacity: 64)
        var sums = UnsafeMutablePointer<Double>.allocate(capacity: 64)
        var counts = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        var count = 0

        init() { table.initialize(repeating: -1, count: mask + 1) }

        @inline(__always) static func home(_ bits: UInt64, _ mask: Int) -> Int {
            Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        }

        /// The slot of `bits`, a new one (sum and count 0) when it was not seen before.
        @inline(__always) mutating func slot(of bits: UInt64) -> Int {
            var h = Self.home(bits, mask)
            while table[h] >= 0 {
                if keys[h] == bits { return Int(table[h]) }
                h = (h + 1) & mask
            }
            let slot = count
            table[h] = Int32(slot)
            keys[h] = bits
            values[slot] = bits
            sums[slot] = 0
            counts[slot] = 0
            count += 1
            if 2 * count > mask { grow() }
            return slot
        }

        private mutating func grow() {
            let size = 2 * (mask + 1)
            mask = size - 1
            keys.deallocate()
            table.deallocate()
            keys = .allocate(capacity: size)
            table = .allocate(capacity: size)
            table.initialize(repeating: -1, count: size)
            for slot in 0..<count {
                var g = Self.home(values[slot], mask)
                while table[g] >= 0 { g = (g + 1) & mask }
                table[g] = Int32(slot)
                keys[g] = values[slot]
            }
            let (newValues, newSums, newCounts) = (
                UnsafeMutablePointer<UInt64>.allocate(capacity: size),
                UnsafeMutablePointer<Double>.allocate(capacity: size),
                UnsafeMutablePointer<Int>.allocate(capacity: size)
            )
            newValues.moveInitialize(from: values, count: count)
            newSums.moveInitialize(from: sums, count: count)
            newCounts.moveInitialize(from: counts, count: count)
            values.deallocate()
            sums.deallocate()
            counts.deallocate()
            (values, sums, counts) = (newValues, newSums, newCounts)
        }

        func free() {
            keys.deallocate()
            table.deallocate()
            values.deallocate()
            sums.deallocate()
            counts.deallocate()
        }
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

extension Optional where Wrapped == [Double] {
    /// `body` with the array's buffer, or with nil when there is no array.
    fileprivate func withUnsafeBufferPointerOrNil<R>(_ body: (UnsafeBufferPointer<Double>?) -> R) -> R {
        switch self {
        case .some(let array): array.withUnsafeBufferPointer { body($0) }
        case .none: body(nil)
        }
    }
}
