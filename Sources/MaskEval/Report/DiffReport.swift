import Foundation

/// `maskeval diff` as a table (stdout), CSV (one row per metric and structure) or JSON:
/// renderings of `ModelDiff.Result`. Differences are B − A throughout.
public enum DiffReport {
    public static let schemaVersion = 1

    /// The Wilcoxon variant, as stated in every output.
    static let wilcoxonVariant =
        "scipy.stats.wilcoxon(b, a) defaults (zero_method wilcox, no continuity correction, two-sided, "
        + "method auto): exact for n <= 50 without ties or zeros, exact permutation over all sign flips for "
        + "n <= 13 with ties or zeros, else the normal approximation with the tie correction"

    static func digits(_ column: MetricColumn) -> Int {
        column.key.direction == .higherIsBetter ? 4 : 3
    }

    static func signed(_ value: Double?, _ digits: Int) -> String {
        guard let value else { return "-" }
        let text = Format.fixed(value, digits)
        return value >= 0 && value.isFinite ? "+" + text : text
    }

    static func pValue(_ p: Double?) -> String {
        guard let p else { return "-" }
        return p < 1e-4 ? String(format: "%.1e", p) : String(format: "%.4f", p)
    }

    static func method(_ method: Wilcoxon.Method?) -> String {
        switch method {
        case .exact: return "exact"
        case .permutation: return "perm"
        case .normalApproximation: return "normal"
        case nil: return "-"
        }
    }

    static func directionText(_ direction: MetricDirection) -> String {
        switch direction {
        case .higherIsBetter: return "higher is better"
        case .lowerIsBetter: return "lower is better"
        case .smallerMagnitudeIsBetter: return "smaller magnitude is better; values compared as |value|"
        }
    }

    /// One block per metric, then a legend.
    public static func table(_ result: ModelDiff.Result) -> String {
        let settings = result.settings
        let pairing = result.pairing
        var text = "B = \(Escape.terminal(result.pathB)) against A = \(Escape.terminal(result.pathA)): "
        text += "\(pairing.cases.count) cases paired"
        if !pairing.onlyInA.isEmpty || !pairing.onlyInB.isEmpty {
            text += " (left out: \(pairing.onlyInA.count) only in A, \(pairing.onlyInB.count) only in B)"
        }
        if !pairing.errorCases.isEmpty {
            text += "; failed in A or B (dropped): " + ModelDiff.list(pairing.errorCases)
        }
        text += "\n"
        for block in result.blocks {
            let name = settings.columnName(block.column)
            let places = digits(block.column)
            text += "\n\(name) (\(directionText(block.direction)); differences B − A"
            text += block.tolerance > 0 ? "; |B − A| ≤ \(Format.compact(block.tolerance)) is a tie)\n" : ")\n"
            var table = TextTable([
                ("label", .right), ("name", .left), ("n", .right), ("n_means", .right), ("mean_a", .right),
                ("mean_b", .right),
                ("mean_diff", .right), ("median_diff", .right), ("mean_diff_ci95", .right), ("W", .right),
                ("p", .right), ("test", .left), ("p_holm", .right), ("wins", .right), ("ties", .right),
                ("losses", .right), ("better", .left),
            ])
            for entry in block.entries {
                let c = entry.comparison
                let ci = c.meanDifferenceInterval.map { "[\(signed($0.low, places)), \(signed($0.high, places))]" }
                table.add([
                    String(entry.label), CompareReport.shortName(entry.name), String(c.n), String(c.meanN),
                    Format.fixed(c.meanA, places), Format.fixed(c.meanB, places), signed(c.meanDifference, places),
                    signed(c.medianDifference, places), ci ?? "-",
                    c.wilcoxon.map { Format.compact($0.statistic) } ?? "-",
                    pValue(c.wilcoxon?.pValue), method(c.wilcoxon?.method),
                    pValue(entry.holm.pValue) + (entry.holm.rejected ? " *" : ""), String(c.wins), String(c.ties),
                    String(c.losses), c.better?.rawValue.uppercased() ?? "-",
                ])
            }
            text += table.rendered() + "\n"
        }
        text += "\nn: pairs used (a pair with an undefined value or a failed case is dropped). n_means: pairs in\n"
        text += "the means, medians and the 95 % paired bootstrap interval (\(result.options.bootstrap.resamples) "
        text += "resamples, seed \(result.options.bootstrap.seed));\n"
        switch settings.penalty {
        case .none: text += "pairs with +inf are left out of these (--penalty-mm counts +inf as a number).\n"
        case .millimetres(let mm): text += "+inf counts as \(Format.compact(mm)) mm in these.\n"
        case .diagonal: text += "+inf counts as the case's image diagonal in these.\n"
        }
        text += "W, p: Wilcoxon signed-rank test, two-sided, as scipy.stats.wilcoxon (test: exact, perm = exact\n"
        text += "permutation, normal = normal approximation); +inf ranks worst. p_holm: Holm-adjusted across the\n"
        text += "structures of the metric, * where significant at α = \(Format.compact(result.options.alpha)). "
        text += "better: the side the rank test leans to.\n"
        return text
    }

    static let csvColumns = [
        "metric", "direction", "label", "name", "pairs", "dropped", "n", "mean_n", "mean_a", "mean_b", "mean_diff",
        "median_diff", "mean_diff_ci_low", "mean_diff_ci_high", "wilcoxon_statistic", "wilcoxon_z", "p", "test",
        "p_holm", "significant", "wins", "ties", "losses", "better", "tie_tolerance",
    ]

    /// One row per metric and structure, numbers in shortest round-trip form, empty when undefined.
    public static func csv(_ result: ModelDiff.Result) -> String {
        var lines = [csvColumns.joined(separator: ",")]
        for block in result.blocks {
            for entry in block.entries {
                let c = entry.comparison
                let cells: [String] = [
                    CSV.field(result.settings.columnName(block.column)), block.direction.rawValue, String(entry.label),
                    CSV.field(entry.name), String(c.pairs), String(c.dropped), String(c.n), String(c.meanN),
                    Format.exact(c.meanA), Format.exact(c.meanB), Format.exact(c.meanDifference),
                    Format.exact(c.medianDifference), Format.exact(c.meanDifferenceInterval?.low),
                    Format.exact(c.meanDifferenceInterval?.high), Format.exact(c.wilcoxon?.statistic),
                    Format.exact(c.wilcoxon?.zStatistic), Format.exact(c.wilcoxon?.pValue),
                    c.wilcoxon?.method.rawValue ?? "", Format.exact(entry.holm.pValue), entry.holm.rejected ? "1" : "0",
                    String(c.wins), String(c.ties), String(c.losses), c.better?.rawValue.uppercased() ?? "",
                    Format.exact(block.tolerance),
                ]
                lines.append(cells.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ result: ModelDiff.Result) -> JSONValue {
        let settings = result.settings
        let pairing = result.pairing
        let options = result.options
        func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
        return .object([
            "schema_version": .int(schemaVersion),
            "maskeval_version": .string(MaskEvalVersion.string),
            "a": .string(result.pathA),
            "b": .string(result.pathB),
            "settings": settings.json,
            "differences": .string("b - a"),
            "bootstrap": .object([
                "resamples": .int(options.bootstrap.resamples), "seed": .int(Int(options.bootstrap.seed)),
                "level": .number(Bootstrap.defaultLevel),
                "method": .string("paired percentile bootstrap of the mean difference, cases resampled"),
            ]),
            "wilcoxon": .string(wilcoxonVariant),
            "holm_alpha": .number(options.alpha),
            "cases": strings(pairing.cases),
            "cases_only_in_a": strings(pairing.onlyInA),
            "cases_only_in_b": strings(pairing.onlyInB),
            "error_cases": strings(pairing.errorCases),
            "metrics": .array(
                result.blocks.map { block in
                    .object([
                        "metric": .string(settings.columnName(block.column)),
                        "direction": .string(block.direction.rawValue),
                        "tie_tolerance": .number(block.tolerance),
                        "structures": .array(block.entries.map(entryJSON)),
                    ])
                }),
        ])
    }

    static func entryJSON(_ entry: ModelDiff.Entry) -> JSONValue {
        let c = entry.comparison
        let wilcoxon: JSONValue =
            c.wilcoxon.map { w in
                .object([
                    "statistic": .finite(w.statistic), "rank_sum_positive": .finite(w.rankSumPositive),
                    "rank_sum_negative": .finite(w.rankSumNegative), "z": .finite(w.zStatistic),
                    "p": .finite(w.pValue), "method": .string(w.method.rawValue), "zeros": .int(w.zeros),
                    "ties": .bool(w.hasTies),
                ])
            } ?? .null
        return .object([
            "label": .int(Int(entry.label)),
            "name": entry.name.isEmpty ? .null : .string(entry.name),
            "pairs": .int(c.pairs), "dropped": .int(c.dropped), "n": .int(c.n), "mean_n": .int(c.meanN),
            "mean_a": .finite(c.meanA), "mean_b": .finite(c.meanB), "mean_diff": .finite(c.meanDifference),
            "median_diff": .finite(c.medianDifference),
            "mean_diff_ci": c.meanDifferenceInterval.map { .array([.finite($0.low), .finite($0.high)]) } ?? .null,
            "wilcoxon": wilcoxon,
            "p_holm": .finite(entry.holm.pValue), "significant": .bool(entry.holm.rejected),
            "wins": .int(c.wins), "ties": .int(c.ties), "losses": .int(c.losses),
            "better": c.better.map { .string($0.rawValue.uppercased()) } ?? .null,
        ])
    }
}
