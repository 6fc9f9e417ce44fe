extension Bootstrap {
    /// The percentile bootstrap interval of `statistic` over **all values** of resampled
    /// groups (a cluster bootstrap: the batch summary's "overall" row, where a group is a case
    /// and its values are its structures' values).
    ///
    /// Resample r draws `groups.count` group indices from the same stream as `interval` does
    /// (`Xoshiro256StarStar(seed:stream: r)`, Lemire's bounded integers), and computes the
    /// statistic of the multiset holding every value of every drawn group, once per draw:
    /// - mean: Σ over draws, in draw order, of the group's sum (its values summed in order),
    ///   divided by Σ over draws of the group's size;
    /// - median: numpy's median of that multiset (read from the sorted values weighted by the
    ///   draw counts, no sort per resample).
    /// The interval is read from the `resamples` statistics exactly as `interval` reads it. With
    /// one value per group this is `interval` over those values, draw for draw.
    ///
    /// Returns nil when no group holds a value or `resamples` ≤ 0. Empty groups are left out
    /// before drawing (they hold nothing to resample). Every value must be finite. `threads`
    /// changes the speed only. Cost: O(B·(g + v)) for g groups and v values, memory
    /// O(B + v + threads·g).
    public static func groupedInterval(
        groups: [[Double]], statistic: Statistic, resamples: Int = defaultResamples, seed: UInt64,
        level: Double = defaultLevel, threads: Int = 1
    ) -> Interval? {
        precondition(level > 0 && level < 1, "level must lie in (0, 1)")
        precondition(groups.allSatisfy { $0.allSatisfy(\.isFinite) }, "bootstrap values must be finite")
        let groups = groups.filter { !$0.isEmpty }
        guard !groups.isEmpty, resamples > 0 else { return nil }
        let sorted = groupedDistribution(
            groups: groups, statistic: statistic, resamples: resamples, seed: seed, threads: threads
        ).sorted()
        return Interval(
            low: linearQuantile(sorted: sorted, (1 - level) / 2), high: linearQuantile(sorted: sorted, (1 + level) / 2))
    }

    /// The `resamples` statistics of `groupedInterval` in resample order (entry r from stream r).
    static func groupedDistribution(
        groups: [[Double]], statistic: Statistic, resamples: Int, seed: UInt64, threads: Int
    ) -> [Double] {
        let g = groups.count
        let sums = groups.map { group in group.reduce(0, +) }
        let sizes = groups.map(\.count)
        // Every value with its group, ascending (stable), for the weighted median.
        let flat = groups.enumerated().flatMap { index, group in group.map { (value: $0, group: index) } }
        let order = flat.indices.sorted { (flat[$0].value, $0) < (flat[$1].value, $1) }
        let sortedValues = order.map { flat[$0].value }
        let sortedGroups = order.map { flat[$0].group }
        let workers = max(1, threads)
        var counts = [Int](repeating: 0, count: statistic == .median ? workers * g : 0)
        var out = [Double](repeating: 0, count: resamples)
        let bound = UInt64(g)
        sums.withUnsafeBufferPointer { sums in
            sizes.withUnsafeBufferPointer { sizes in
                sortedValues.withUnsafeBufferPointer { sortedValues in
                    sortedGroups.withUnsafeBufferPointer { sortedGroups in
                        counts.withUnsafeMutableBufferPointer { counts in
                            out.withUnsafeMutableBufferPointer { out in
                                let shared = UncheckedSendable((sums, sizes, sortedValues, sortedGroups, counts, out))
                                parallelForWithWorker(resamples, threads: workers, grain: 16) { worker, r in
                                    let (sums, sizes, values, valueGroups, counts, out) = shared.value
                                    var random = Xoshiro256StarStar(seed: seed, stream: UInt64(r))
                                    switch statistic {
                                    case .mean:
                                        var total = 0.0
                                        var size = 0
                                        for _ in 0..<g {
                                            let drawn = Int(random.bounded(bound))
                                            total += sums[drawn]
                                            size += sizes[drawn]
                                        }
                                        out[r] = total / Double(size)
                                    case .median:
                                        let base = worker * g  // this worker's draw counts: [base, base + g)
                                        for group in 0..<g { counts[base + group] = 0 }
                                        var size = 0
                                        for _ in 0..<g {
                                            let drawn = Int(random.bounded(bound))
                                            counts[base + drawn] += 1
                                            size += sizes[drawn]
                                        }
                                        out[r] = weightedMedian(
                                            values: values, groups: valueGroups, counts: counts, base: base, size: size)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// numpy's median of the multiset holding `counts[base + groups[i]]` copies of `values[i]`
    /// (ascending `values`, `size` elements in all): the element at position (size − 1)/2 when
    /// size is odd, else (a + b)/2 of the elements at positions size/2 − 1 and size/2.
    static func weightedMedian(
        values: UnsafeBufferPointer<Double>, groups: UnsafeBufferPointer<Int>, counts: UnsafeMutableBufferPointer<Int>,
        base: Int, size: Int
    ) -> Double {
        let lowerPosition = (size - 1) / 2
        let upperPosition = size / 2
        var seen = 0
        var lower = 0.0
        for index in 0..<values.count {
            let count = counts[base + groups[index]]
            if count == 0 { continue }
            if lowerPosition < seen + count && lowerPosition >= seen { lower = values[index] }
            if upperPosition < seen + count {
                return lowerPosition == upperPosition ? lower : (lower + values[index]) / 2
            }
            seen += count
        }
        preconditionFailure("counts must sum to size")
    }
}
