/// Aggregates of rows, computed from the rows and the settings alone, so `compare`, `batch`
/// and a `merge` of shards give the same numbers for the same rows.
///
/// - Error rows are left out; `no_prediction` rows count with their values (those of
///   `missed`).
/// - +∞ counts as the penalty (`--penalty-mm`; `diagonal`: the row's case's image diagonal),
///   else it is left out and counted in `left_out`.
/// - With `--absent nan`, `absent` rows count as NaN (left out), nnU-Net's convention.
public struct Summary: Sendable {
    public var rows: [LabelRow]
    public var settings: RunSettings

    public init(rows: [LabelRow], settings: RunSettings) {
        self.rows = rows
        self.settings = settings
    }

    /// The columns that are aggregated (voxel counts are not).
    public var columns: [MetricColumn] { settings.columns.filter { !$0.key.isCount } }

    /// The value of `column` in `row` as it enters aggregates.
    static func aggregateValue(_ row: LabelRow, _ column: MetricColumn, settings: RunSettings) -> Double? {
        guard row.status.isEvaluated else { return nil }
        if row.status == .absent && settings.absent == .nan { return nil }
        guard let value = row.values[column] else { return nil }
        if value == .infinity, let penalty = settings.penalty.value(diagonalMM: row.diagonalMM) { return penalty }
        return value
    }

    public static func statistics(_ rows: [LabelRow], column: MetricColumn, settings: RunSettings) -> Statistics {
        Statistics(rows.filter(\.status.isEvaluated).map { aggregateValue($0, column, settings: settings) })
    }

    public func statistics(of rows: [LabelRow]) -> [(MetricColumn, Statistics)] {
        columns.map { ($0, Self.statistics(rows, column: $0, settings: settings)) }
    }

    public static func statusCounts(_ rows: [LabelRow]) -> [RowStatus: Int] {
        var counts = Dictionary(uniqueKeysWithValues: RowStatus.allCases.map { ($0, 0) })
        for row in rows { counts[row.status, default: 0] += 1 }
        return counts
    }

    /// Structures in label order, each with its name (the first non-empty one seen).
    public var structures: [(label: Int32, name: String, rows: [LabelRow])] {
        var byLabel: [Int32: [LabelRow]] = [:]
        for row in rows { byLabel[row.label, default: []].append(row) }
        return byLabel.keys.sorted().map { label in
            let rows = byLabel[label] ?? []
            return (label, rows.first { !$0.name.isEmpty }?.name ?? "", rows)
        }
    }

    /// Case ids in order of first appearance.
    public var caseIDs: [String] {
        var seen = Set<String>()
        return rows.map(\.caseID).filter { seen.insert($0).inserted }
    }

    public var caseCount: Int { caseIDs.count }

    public var errorCases: [String] { caseIDs(with: .error) }

    public var casesWithoutPrediction: [String] { caseIDs(with: .noPrediction) }

    func caseIDs(with status: RowStatus) -> [String] {
        Array(Set(rows.filter { $0.status == status }.map(\.caseID))).sorted()
    }

    /// Per metric, the mean over structures of the per-structure means (nnU-Net's
    /// `foreground_mean`).
    public var foregroundMean: [(MetricColumn, Double?)] {
        let perStructure = structures.map { Dictionary(uniqueKeysWithValues: statistics(of: $0.rows)) }
        return columns.map { column in
            let means = perStructure.compactMap { $0[column]?.mean }
            return (column, means.isEmpty ? nil : Reduce.sum(means) / Double(means.count))
        }
    }

    /// Per case (first appearance order), the mean over its structures of every metric.
    public var caseMeans: [(caseID: String, means: [(MetricColumn, Statistics)])] {
        var byCase: [String: [LabelRow]] = [:]
        for row in rows { byCase[row.caseID, default: []].append(row) }
        return caseIDs.map { id in (id, statistics(of: byCase[id] ?? [])) }
    }
}

extension Summary {
    /// Whose cases a confidence interval resamples.
    public enum IntervalScope: Sendable {
        /// One structure's rows: its cases' values (one per case) are resampled.
        case structure
        /// All rows: cases are resampled, and each drawn case brings every one of its rows (a
        /// cluster bootstrap, `Bootstrap.groupedInterval`), so the statistic is the mean
        /// (median) over all rows of the drawn cases, as the overall `mean` is over all rows.
        case overall
    }

    /// `statistics(of:)` with the percentile bootstrap intervals of the mean and the median
    /// (`settings.bootstrap`; none when it is nil or has 0 resamples). The values are those the
    /// aggregates use (`aggregateValue`: error rows out, +∞ as the penalty or left out, absent
    /// per `--absent`); every interval uses the recorded seed, so it depends only on the rows
    /// and the settings, never on `threads`.
    public func statisticsWithIntervals(
        of rows: [LabelRow], scope: IntervalScope, threads: Int = activeCoreCount
    ) -> [(MetricColumn, Statistics)] {
        statistics(of: rows).map { column, statistics in
            var statistics = statistics
            statistics.meanCI = interval(of: rows, column: column, statistic: .mean, scope: scope, threads: threads)
            statistics.medianCI = interval(of: rows, column: column, statistic: .median, scope: scope, threads: threads)
            return (column, statistics)
        }
    }

    /// The bootstrap interval of `statistic` of `column` over `rows` (see
    /// `statisticsWithIntervals`); nil when switched off or no value is used.
    public func interval(
        of rows: [LabelRow], column: MetricColumn, statistic: Bootstrap.Statistic = .mean, scope: IntervalScope,
        threads: Int = activeCoreCount
    ) -> Bootstrap.Interval? {
        guard let bootstrap = settings.bootstrap, bootstrap.resamples > 0 else { return nil }
        let used = rows.compactMap { row -> (String, Double)? in
            guard let value = Self.aggregateValue(row, column, settings: settings), value.isFinite else { return nil }
            return (row.caseID, value)
        }
        switch scope {
        case .structure:
            return Bootstrap.interval(
                values: used.map(\.1), statistic: statistic, resamples: bootstrap.resamples, seed: bootstrap.seed,
                threads: threads)
        case .overall:
            var caseIndex: [String: Int] = [:]  // cases in order of first appearance
            for row in rows where caseIndex[row.caseID] == nil { caseIndex[row.caseID] = caseIndex.count }
            var groups = [[Double]](repeating: [], count: caseIndex.count)
            for (id, value) in used { groups[caseIndex[id] ?? 0].append(value) }
            return Bootstrap.groupedInterval(
                groups: groups, statistic: statistic, resamples: bootstrap.resamples, seed: bootstrap.seed,
                threads: threads)
        }
    }
}
