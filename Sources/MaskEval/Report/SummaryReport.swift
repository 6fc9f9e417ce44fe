/// The batch summary as JSON and as the table `batch` prints: renderings of `Summary`.
public enum SummaryReport {
    /// `{status_counts, metrics}` of `rows`: the one aggregate shape of compare and batch.
    static func aggregates(_ summary: Summary, rows: [LabelRow]) -> JSONValue {
        .object([
            "status_counts": counts(rows),
            "metrics": .object(
                Dictionary(
                    uniqueKeysWithValues: summary.statistics(of: rows).map {
                        (summary.settings.columnName($0.0), $0.1.json)
                    })),
        ])
    }

    static func counts(_ rows: [LabelRow]) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: Summary.statusCounts(rows).map { ($0.key.rawValue, .int($0.value)) }))
    }

    public static func json(_ result: BatchResult, gateFailures: [GateFailure]) -> JSONValue {
        let summary = result.summary
        let settings = result.settings
        guard case .object(var overall) = aggregates(summary, rows: result.rows) else { return .null }
        overall["foreground_mean"] = .object(
            Dictionary(uniqueKeysWithValues: summary.foregroundMean.map { (settings.columnName($0.0), .finite($0.1)) }))
        return .object([
            "schema_version": .int(RowFiles.schemaVersion),
            "maskeval_version": .string(MaskEvalVersion.string),
            "settings": settings.json,
            "shard": result.shard.map { .string($0.description) } ?? .null,
            "cases": .int(summary.caseCount),
            "error_cases": .array(summary.errorCases.map { .string($0) }),
            "cases_without_prediction": .array(summary.casesWithoutPrediction.map { .string($0) }),
            "warnings": .array(result.warnings.map { .string($0) }),
            "overall": .object(overall),
            "structures": .array(
                summary.structures.map { s in
                    guard case .object(var object) = aggregates(summary, rows: s.rows) else { return .null }
                    object["label"] = .int(Int(s.label))
                    object["name"] = s.name.isEmpty ? .null : .string(s.name)
                    return .object(object)
                }),
            "per_case": .array(
                summary.caseMeans.map { entry in
                    .object([
                        "case": .string(entry.caseID),
                        "mean": .object(
                            Dictionary(
                                uniqueKeysWithValues: entry.means.map { (settings.columnName($0.0), .finite($0.1.mean)) })),
                    ])
                }),
            "gate_failures": .array(gateFailures.map(\.json)),
        ])
    }

    /// A readable per-structure table for stdout.
    public static func table(_ result: BatchResult) -> String {
        let summary = result.summary
        let settings = result.settings
        let hdName = settings.columnName(MetricColumn(.hdPercentile))
        var table = TextTable([
            ("label", .right), ("name", .left), ("cases", .right), ("matched", .right), ("missed", .right),
            ("no_pred", .right), ("spurious", .right), ("absent", .right), ("error", .right), ("dice_mean", .right),
            ("dice_std", .right), ("\(hdName)_median", .right), ("assd_mm_mean", .right), ("nsd_mean", .right),
        ])
        func line(_ label: String, _ name: String, _ rows: [LabelRow]) -> [String] {
            let stats = Dictionary(uniqueKeysWithValues: summary.statistics(of: rows))
            let counts = Summary.statusCounts(rows)
            return [
                label, CompareReport.shortName(name), String(Set(rows.map(\.caseID)).count),
                String(counts[.matched] ?? 0), String(counts[.missed] ?? 0), String(counts[.noPrediction] ?? 0),
                String(counts[.spurious] ?? 0), String(counts[.absent] ?? 0), String(counts[.error] ?? 0),
                Format.fixed(stats[MetricColumn(.dice)]?.mean, 4), Format.fixed(stats[MetricColumn(.dice)]?.std, 4),
                Format.fixed(stats[MetricColumn(.hdPercentile)]?.median, 3),
                Format.fixed(stats[MetricColumn(.assd)]?.mean, 3), Format.fixed(stats[MetricColumn(.nsd)]?.mean, 4),
            ]
        }
        for s in summary.structures { table.add(line(String(s.label), s.name, s.rows)) }
        table.add(line("all", "", result.rows))
        var text = table.rendered() + "\n"
        let errors = summary.errorCases
        let missing = summary.casesWithoutPrediction
        text += "\(summary.caseCount) cases, \(errors.count) with errors"
        text += errors.isEmpty ? "" : ": " + errors.map(Escape.terminal).joined(separator: ", ")
        text += "; \(missing.count) without a prediction"
        text += missing.isEmpty ? "\n" : ": " + missing.map(Escape.terminal).joined(separator: ", ") + "\n"
        return text
    }
}
