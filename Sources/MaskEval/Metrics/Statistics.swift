/// Aggregates of one metric over rows: mean, sample standard deviation (n − 1), median and
/// quartiles (numpy's linear percentiles), min, max, the count used and the count left out
/// (non-finite or undefined values). The one aggregate shape of every report. Batch summaries
/// add bootstrap confidence intervals of the mean and the median (`Summary.withIntervals`).
public struct Statistics: Equatable, Sendable {
    public var mean, std, median, q1, q3, min, max: Double?
    public var n: Int
    public var leftOut: Int
    /// Percentile bootstrap intervals over cases; nil when not computed (compare, `--bootstrap 0`)
    /// or when no value was used.
    public var meanCI, medianCI: Bootstrap.Interval?

    /// Aggregates `values`; nil, NaN and ±∞ are left out (replace +∞ by a penalty first).
    public init(_ values: [Double?]) {
        var used: [Double] = []
        var leftOut = 0
        for value in values {
            if let value, value.isFinite { used.append(value) } else { leftOut += 1 }
        }
        self.n = used.count
        self.leftOut = leftOut
        guard !used.isEmpty else { return }
        let sorted = used.sorted()
        let mean = Reduce.sum(used) / Double(used.count)
        var squares = 0.0
        for value in used { squares += (value - mean) * (value - mean) }
        self.mean = mean
        std = used.count > 1 ? (squares / Double(used.count - 1)).squareRoot() : nil
        let histogram = DistanceHistogram(sorted)
        median = histogram.linearPercentile(50)
        q1 = histogram.linearPercentile(25)
        q3 = histogram.linearPercentile(75)
        min = sorted.first
        max = sorted.last
    }

    /// The aggregates; `mean_ci` and `median_ci` ([low, high]) only when computed.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "mean": .finite(mean), "std": .finite(std), "median": .finite(median), "q1": .finite(q1),
            "q3": .finite(q3), "min": .finite(min), "max": .finite(max), "n": .int(n), "left_out": .int(leftOut),
        ]
        if let meanCI { object["mean_ci"] = .array([.finite(meanCI.low), .finite(meanCI.high)]) }
        if let medianCI { object["median_ci"] = .array([.finite(medianCI.low), .finite(medianCI.high)]) }
        return .object(object)
    }

    /// The value a gate on an aggregate reads (`mean:dice>=0.8`).
    public func value(_ aggregate: Aggregate) -> Double? {
        switch aggregate {
        case .mean: return mean
        case .median: return median
        }
    }

    /// Aggregates a gate can scope.
    public enum Aggregate: String, CaseIterable, Sendable {
        case mean, median
    }
}
