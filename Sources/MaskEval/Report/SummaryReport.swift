/// The batch summary as JSON and as the table `batch` prints: renderings of `Summary`.
public enum SummaryReport {
    /// `{status_counts, metrics}` of `rows`: the one aggregate shape of compare and batch;
    /// with a `scope` (batch), the statistics carry their bootstrap intervals.
    static func aggregates(_ summary: Summary, rows: [LabelRow], scope: Summary.IntervalScope? = nil) -> JSONValue {
        let statistics =
            scope.map { summary.statisticsWithIntervals(of: rows, scope: $0) } ?? summary.statistics(of: rows)
        return .object([
            "status_counts": counts(rows),
            "metrics": .object(
                Dictionary(
                    uniqueKeysWithValues: statistics.map {
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
        guard case .object(var overall) = aggregates(summary, rows: result.rows, scope: .overall) else { return .null }
        overall["foreground_mean"] = .object(
            Dictionary(uniqueKeysWithValues: summary.foregroundMean.map { (settings.columnName($0.0), .finite($0.1)) }))
        var document: [String: JSONValue] = [
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
                    guard case .object(var object) = aggregates(summary, rows: s.rows, scope: .structure) else {
                        return .null
                    }
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
        ]
        if let bootstrap = settings.bootstrap, bootstrap.resamples > 0 {
            document["confidence_intervals"] = .object([
                "level": .number(Bootstrap.defaultLevel), "resamples": .int(bootstrap.resamples),
                "seed": .int(Int(bootstrap.seed)),
                "method": .string(
                    "percentile bootstrap over cases (numpy linear quantiles of the resampled statistics); "
                        + "structures: that structure's case values resampled; overall: cases resampled, the "
                        + "statistic taken over all rows of the drawn cases"),
            ])
        }
        return .object(document)
    }

    /// "[low, high]" with `digits` decimals, "-" when there is none.
    static func interval(_ interval: Bootstrap.Interval?, _ digits: Int) -> String {
        guard let interval else { return "-" }
        return "[\(Format.fixed(interval.low, digits)), \(Format.fixed(interval.high, digits))]"
    }

    /// A readable per-structure table for stdout; with intervals, the 95 % bootstrap
    /// interval of the Dice mean.
    public static func table(_ result: BatchResult) -> String {
        if let lesions = result.settings.lesions { return lesionTable(result, matching: lesions.matching) }
        let summary = result.summary
        let settings = result.settings
        let hdName = settings.columnName(MetricColumn(.hdPercentile))
        let intervals = (settings.bootstrap?.resamples ?? 0) > 0
        var columns: [(String, TextTable.Alignment)] = [
            ("label", .right), ("name", .left), ("cases", .right), ("matched", .right), ("missed", .right),
            ("no_pred", .right), ("spurious", .right), ("absent", .right), ("error", .right), ("dice_mean", .right),
            ("dice_std", .right), ("\(hdName)_median", .right), ("assd_mm_mean", .right), ("nsd_mean", .right),
        ]
        if intervals { columns.append(("dice_mean_ci95", .right)) }
        var table = TextTable(columns)
        func line(_ label: String, _ name: String, _ rows: [LabelRow], _ scope: Summary.IntervalScope) -> [String] {
            let stats = Dictionary(uniqueKeysWithValues: summary.statistics(of: rows))
            let counts = Summary.statusCounts(rows)
            return [
                label, CompareReport.shortName(name), String(Set(rows.map(\.caseID)).count),
                String(counts[.matched] ?? 0), String(counts[.missed] ?? 0), String(caseCount(rows, .noPrediction)),
                String(counts[.spurious] ?? 0), String(counts[.absent] ?? 0), String(caseCount(rows, .error)),
                Format.fixed(stats[MetricColumn(.dice)]?.mean, 4), Format.fixed(stats[MetricColumn(.dice)]?.std, 4),
                Format.fixed(stats[MetricColumn(.hdPercentile)]?.median, 3),
                Format.fixed(stats[MetricColumn(.assd)]?.mean, 3), Format.fixed(stats[MetricColumn(.nsd)]?.mean, 4),
            ] + (intervals ? [interval(summary.interval(of: rows, column: MetricColumn(.dice), scope: scope), 4)] : [])
        }
        for s in summary.structures { table.add(line(String(s.label), s.name, s.rows, .structure)) }
        table.add(line("all", "", result.rows, .overall))
        return table.rendered() + "\n" + caseLine(summary)
    }

    /// The table of a lesion batch: per structure the status counts, the lesion counts summed
    /// over cases, and the mean over cases of its rates (IoU rules: f1, pq, sq, rq; BraTS:
    /// lesion_dice, lesion_hd95_mm).
    static func lesionTable(_ result: BatchResult, matching: LesionMatching) -> String {
        let summary = result.summary
        let sums: [MetricKey] = [.tp, .fp, .fn]
        let means: [MetricKey]
        switch matching {
        case .iou: means = [.f1, .pq, .sq, .rq]
        case .brats2023: means = [.lesionDice, .lesionHD95]
        }
        var table = TextTable(
            [("label", .right), ("name", .left), ("cases", .right), ("error", .right), ("no_pred", .right)]
                + sums.map { ($0.rawValue, .right) } + means.map { ("\($0.rawValue)_mean", .right) })
        func line(_ label: String, _ name: String, _ rows: [LabelRow]) -> [String] {
            let evaluated = rows.filter(\.status.isEvaluated)
            var cells = [label, CompareReport.shortName(name), String(Set(rows.map(\.caseID)).count)]
            cells += [String(caseCount(rows, .error)), String(caseCount(rows, .noPrediction))]
            for key in sums {
                let total: Double = evaluated.compactMap { $0[key] }.reduce(0, +)
                cells.append(String(Int(total)))
            }
            for key in means {
                let mean = Summary.statistics(rows, column: MetricColumn(key), settings: result.settings).mean
                cells.append(Format.fixed(mean, key == .lesionHD95 ? 3 : 4))
            }
            return cells
        }
        for s in summary.structures { table.add(line(String(s.label), s.name, s.rows)) }
        table.add(line("all", "", result.rows))
        return table.rendered() + "\n" + caseLine(summary)
    }

    /// The cases among `rows` with a row of `status`. The tables' `error` and `no_pred` columns
    /// count cases, not rows: a failed case has one `error` row per structure, and the `all`
    /// line would count it once per structure otherwise (a structure's line has one row per
    /// case, so there both agree).
    static func caseCount(_ rows: [LabelRow], _ status: RowStatus) -> Int {
        Set(rows.lazy.filter { $0.status == status }.map(\.caseID)).count
    }

    /// "N cases, E with errors…; M without a prediction…".
    static func caseLine(_ summary: Summary) -> String {
        var text = ""
        let errors = summary.errorCases
        let missing = summary.casesWithoutPrediction
        text += "\(summary.caseCount) \(summary.caseCount == 1 ? "case" : "cases"), \(errors.count) with errors"
        text += errors.isEmpty ? "" : ": " + errors.map(Escape.terminal).joined(separator: ", ")
        text += "; \(missing.count) without a prediction"
        text += missing.isEmpty ? "\n" : ": " + missing.map(Escape.terminal).joined(separator: ", ") + "\n"
        return text
    }
}
