/// Aggregates of batch rows, per structure and over all: mean, sample standard deviation
/// (n − 1), median and quartiles (numpy's linear percentiles), min, max, the count used and
/// the count left out (non-finite or undefined; `penaltyMM` counts +∞ as that value), and
/// the status counts. Computed from the rows alone, so a merge of shards gives the same.
public struct BatchSummary: Sendable {
    public var rows: [ResultRow]
    public var metricKeys: [String]
    public var penaltyMM: Double?

    public init(rows: [ResultRow], metricKeys: [String], penaltyMM: Double?) {
        self.rows = rows
        self.metricKeys = metricKeys
        self.penaltyMM = penaltyMM
    }

    public struct Statistics: Equatable, Sendable {
        public var mean, std, median, q1, q3, min, max: Double?
        public var n: Int
        public var leftOut: Int

        public func json() -> JSONValue {
            .object([
                "mean": .finite(mean), "std": .finite(std), "median": .finite(median), "q1": .finite(q1),
                "q3": .finite(q3), "min": .finite(min), "max": .finite(max), "n": .int(n), "left_out": .int(leftOut),
            ])
        }
    }

    /// Keys that are aggregated (voxel counts are not).
    var aggregatedKeys: [String] { metricKeys.filter { !$0.hasSuffix("_voxels") } }

    public static func statistics(_ values: [Double?], penalty: Double?) -> Statistics {
        var used: [Double] = []
        var leftOut = 0
        for value in values {
            if let value, value.isFinite {
                used.append(value)
            } else if let value, value == .infinity, let penalty {
                used.append(penalty)
            } else {
                leftOut += 1
            }
        }
        guard !used.isEmpty else {
            return Statistics(
                mean: nil, std: nil, median: nil, q1: nil, q3: nil, min: nil, max: nil, n: 0, leftOut: leftOut)
        }
        let sorted = used.sorted()
        let mean = Reduce.sum(used) / Double(used.count)
        var squares = 0.0
        for value in used { squares += (value - mean) * (value - mean) }
        let std: Double? = used.count > 1 ? (squares / Double(used.count - 1)).squareRoot() : nil
        let histogram = DistanceHistogram(sorted)
        return Statistics(
            mean: mean, std: std, median: histogram.linearPercentile(50), q1: histogram.linearPercentile(25),
            q3: histogram.linearPercentile(75), min: sorted.first, max: sorted.last, n: used.count, leftOut: leftOut)
    }

    func statistics(of rows: [ResultRow]) -> [(String, Statistics)] {
        let usable = rows.filter { $0.status != "error" }
        return aggregatedKeys.map { key in (key, Self.statistics(usable.map { $0.values[key] }, penalty: penaltyMM)) }
    }

    static func statusCounts(_ rows: [ResultRow]) -> [String: Int] {
        var counts = Dictionary(
            uniqueKeysWithValues: (LabelStatus.allCases.map(\.rawValue) + ["error"]).map { ($0, 0) })
        for row in rows { counts[row.status, default: 0] += 1 }
        return counts
    }

    /// Structures in label order, each with its name (the first non-empty one seen).
    var structures: [(label: Int32, name: String, rows: [ResultRow])] {
        var byLabel: [Int32: [ResultRow]] = [:]
        for row in rows { if let label = row.label { byLabel[label, default: []].append(row) } }
        return byLabel.keys.sorted().map { label in
            let rows = byLabel[label] ?? []
            return (label, rows.first { !$0.name.isEmpty }?.name ?? "", rows)
        }
    }

    public var caseCount: Int { Set(rows.map(\.caseID)).count }
    public var errorCases: [String] { Array(Set(rows.filter { $0.status == "error" }.map(\.caseID))).sorted() }

    public func json(gateFailures: [GateFailure]) -> JSONValue {
        func metrics(_ rows: [ResultRow]) -> JSONValue {
            .object(Dictionary(uniqueKeysWithValues: statistics(of: rows).map { ($0.0, $0.1.json()) }))
        }
        func counts(_ rows: [ResultRow]) -> JSONValue {
            .object(Self.statusCounts(rows).mapValues { .int($0) })
        }
        return .object([
            "schema_version": .int(1),
            "maskeval_version": .string(MaskEvalVersion.string),
            "cases": .int(caseCount),
            "error_cases": .array(errorCases.map { .string($0) }),
            "penalty_mm": .finite(penaltyMM),
            "overall": .object(["status_counts": counts(rows), "metrics": metrics(rows)]),
            "structures": .array(
                structures.map { s in
                    .object([
                        "label": .int(Int(s.label)), "name": s.name.isEmpty ? .null : .string(s.name),
                        "status_counts": counts(s.rows), "metrics": metrics(s.rows),
                    ])
                }),
            "gate_failures": .array(gateFailures.map { $0.json() }),
        ])
    }

    /// A readable per-structure table for stdout.
    public func table() -> String {
        let hdKey = metricKeys.first { $0.hasPrefix("hd") && $0.hasSuffix("_mm") } ?? "hd95_mm"
        var table = TextTable([
            ("label", .right), ("name", .left), ("cases", .right), ("matched", .right), ("missed", .right),
            ("spurious", .right), ("dice_mean", .right), ("dice_std", .right), ("\(hdKey)_median", .right),
            ("assd_mm_mean", .right), ("nsd_mean", .right),
        ])
        func line(_ label: String, _ name: String, _ rows: [ResultRow]) -> [String] {
            let stats = Dictionary(uniqueKeysWithValues: statistics(of: rows))
            let counts = Self.statusCounts(rows)
            return [
                label, CompareReport.shortName(name), String(Set(rows.map(\.caseID)).count),
                String(counts["matched"] ?? 0),
                String(counts["missed"] ?? 0), String(counts["spurious"] ?? 0), Format.fixed(stats["dice"]?.mean, 4),
                Format.fixed(stats["dice"]?.std, 4), Format.fixed(stats[hdKey]?.median, 3),
                Format.fixed(stats["assd_mm"]?.mean, 3), Format.fixed(stats["nsd"]?.mean, 4),
            ]
        }
        for s in structures { table.add(line(String(s.label), s.name, s.rows)) }
        table.add(line("all", "", rows.filter { $0.status != "error" }))
        var text = table.rendered() + "\n"
        let errors = errorCases
        text += "\(caseCount) cases, \(errors.count) with errors"
        text += errors.isEmpty ? "\n" : ": " + errors.joined(separator: ", ") + "\n"
        return text
    }
}
