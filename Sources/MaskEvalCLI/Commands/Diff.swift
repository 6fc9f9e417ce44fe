import ArgumentParser
import Foundation
import MaskEval

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare model B with model A on the same cases: paired differences (B − A), bootstrap "
            + "intervals, Wilcoxon tests with Holm's correction, wins/ties/losses per structure.")

    @Argument(help: "Row file of model A (batch --output: CSV with its .settings.json, or JSON).")
    var a: String

    @Argument(help: "Row file of model B, from the same references and settings.")
    var b: String

    @Option(
        help: "Metrics to compare, e.g. dice,hd95_mm,assd_mm,nsd (default), or 'all' (every metric with a better side)."
    )
    var metrics: String?

    @Option(
        name: .customLong("tie-tolerance"),
        help: "|B − A| at or below this is a tie: X for every metric, or METRIC=X (repeatable; default 0).")
    var tieTolerances: [String] = []

    @Option(help: "Family-wise level of the Holm correction across structures.")
    var alpha: Double = 0.05

    @Flag(help: "Compare the cases both files have instead of refusing files with other cases.")
    var partial = false

    @Option(
        name: .customLong("penalty-mm"),
        help: "Count +inf as this many mm (or 'diagonal') in the means (default: as recorded in the files).",
        transform: { text in
            guard let penalty = Penalty(text: text) else {
                throw ValidationError(
                    "--penalty-mm must be a positive number of mm (or 0) or 'diagonal', not '\(text)'")
            }
            return penalty
        })
    var penalty: Penalty?

    @Option(help: "How absent structures count: perfect or nan (default: as recorded in the files).")
    var absent: AbsentConvention?

    @OptionGroup var bootstrap: BootstrapOptions

    @Option(help: "Write the comparison to this file: csv or json (from the extension, or --format).")
    var output: String?

    @Option(help: "Format of --output: csv or json (default: from its extension, else csv).")
    var format: RowFormat?

    @Option(help: "Worker threads for the bootstrap (default: active cores); results are identical for any N.")
    var threads: Int?

    func validate() throws {
        guard alpha > 0, alpha < 1 else { throw ValidationError("--alpha must lie in (0, 1)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be a positive number") }
        _ = try parsedTolerances()
    }

    /// `--tie-tolerance`: the value for every metric and the values per metric name.
    func parsedTolerances() throws -> (all: Double?, byName: [String: Double]) {
        var all: Double?
        var byName: [String: Double] = [:]
        for text in tieTolerances {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard let value = Double(parts.last ?? ""), value >= 0, value.isFinite else {
                throw ValidationError("--tie-tolerance takes X or METRIC=X with X ≥ 0, not '\(text)'")
            }
            if parts.count == 2 { byName[parts[0]] = value } else { all = value }
        }
        return (all, byName)
    }

    func run() throws {
        let format = try outputFormat(explicit: format, path: output, fallback: RowFormat.csv)
        if let output {
            try OutputFile.checkDistinct(
                outputs: [("--output", output)],
                inputs: RowFile.inputFiles(a, named: "row file A") + RowFile.inputFiles(b, named: "row file B"))
            try OutputFile.checkWritable(output)
        }
        var fileA = try RowFile.read(path: a)
        var fileB = try RowFile.read(path: b)
        for note in fileA.notes + fileB.notes { printError("maskeval: \(note)") }
        for index in 0..<2 {
            var settings = index == 0 ? fileA.result.settings : fileB.result.settings
            if let penalty { settings.penalty = penalty }
            if let absent { settings.absent = absent }
            if index == 0 { fileA.result.settings = settings } else { fileB.result.settings = settings }
        }
        let settings = fileA.result.settings
        var options = ModelDiff.Options(columns: try columns(settings))
        let tolerances = try parsedTolerances()
        options.defaultTolerance = tolerances.all ?? 0
        for (name, value) in tolerances.byName {
            guard let column = MetricColumn(name: name, percentile: settings.percentile) else {
                throw InputError.usage("--tie-tolerance: unknown metric '\(name)'")
            }
            options.tolerances[column] = value
        }
        options.alpha = alpha
        options.bootstrap = bootstrap.settings()
        options.partial = partial
        options.threads = min(threads ?? activeCoreCount, 4 * activeCoreCount)
        for file in [fileA, fileB] {
            if let pairs = file.result.settings.inputs["pairs"], options.pairsFiles[pairs] == nil {
                do {
                    options.pairsFiles[pairs] = try PairsFile.read(path: pairs)
                } catch let failure as MaskEvalFailure {
                    throw InputError.badFile(
                        path: file.path, reason: "its references cannot be checked: pairs file \(failure.description)")
                }
            }
        }
        let result = try ModelDiff.run(a: fileA, b: fileB, options: options)
        if let output {
            let text = format == .csv ? DiffReport.csv(result) : DiffReport.json(result).rendered() + "\n"
            try OutputFile.write(text, to: output)
        }
        try StandardOutput.write(DiffReport.table(result))
        let pairing = result.pairing
        if !pairing.onlyInA.isEmpty || !pairing.onlyInB.isEmpty {
            printError(
                "maskeval: note: --partial left out \(pairing.onlyInA.count) case(s) only in \(a) and "
                    + "\(pairing.onlyInB.count) only in \(b)")
        }
        if !pairing.errorCases.isEmpty {
            printError(
                "maskeval: note: \(pairing.errorCases.count) case(s) failed in A or B; their pairs are dropped: "
                    + pairing.errorCases.prefix(10).map(Escape.terminal).joined(separator: ", "))
        }
    }

    /// `--metrics`, checked against the files' columns: each needs a better side.
    func columns(_ settings: RunSettings) throws -> [MetricColumn] {
        guard let metrics else { return ModelDiff.defaultColumns(for: settings) }
        if metrics == "all" { return settings.columns.filter { $0.key.direction != nil } }
        return try metrics.split(separator: ",").map { raw in
            let name = raw.trimmingCharacters(in: .whitespaces)
            guard let column = MetricColumn(name: name, percentile: settings.percentile),
                settings.columns.contains(column)
            else {
                throw InputError.usage(
                    "--metrics: unknown metric '\(Escape.terminal(name))' (the files have: "
                        + settings.columns.filter { $0.key.direction != nil }.map(settings.columnName).joined(
                            separator: ", ") + ")")
            }
            guard column.key.direction != nil else {
                throw InputError.usage("--metrics: \(name) has no better side (counts and volumes are not compared)")
            }
            return column
        }
    }
}

/// `batch REF_DIR PRED_DIR --baseline BASE_DIR`: the baseline predictions are evaluated too, with
/// the same settings, cases and shard, and the batch's predictions (model B) are compared with
/// the baseline (model A) as `maskeval diff` compares two row files (default metrics, no tie
/// tolerance, α 0.05, the batch's --bootstrap and --seed).
struct BaselineOptions: ParsableArguments {
    @Option(
        help: "Folder of baseline predictions (model A): also evaluated, and the predictions compared with it (B − A).")
    var baseline: String?

    @Option(
        name: .customLong("baseline-output"), help: "Write the comparison with the baseline to this file (csv or json)."
    )
    var baselineOutput: String?

    func validate(pairs: String?) throws {
        if baseline != nil && pairs != nil {
            throw ValidationError("--baseline takes a folder; it needs two folders, not --pairs")
        }
        if baselineOutput != nil && baseline == nil { throw ValidationError("--baseline-output needs --baseline") }
    }

    /// Before any work: the comparison's file can be written.
    func check(inputs: [(String, String)], outputs: [(String, String)]) throws {
        if let baseline {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: baseline, isDirectory: &isFolder) else {
                throw InputError.missingFile(path: baseline)
            }
            guard isFolder.boolValue else {
                throw InputError.unreadable(path: baseline, reason: "--baseline takes a folder of predictions")
            }
        }
        guard let baselineOutput else { return }
        _ = try outputFormat(explicit: nil, path: baselineOutput, fallback: RowFormat.csv, option: "--baseline-output")
        try OutputFile.checkDistinct(
            outputs: outputs + [("--baseline-output", baselineOutput)],
            inputs: inputs + (baseline.map { [("--baseline", $0)] } ?? []))
        try OutputFile.checkWritable(baselineOutput)
    }

    /// Evaluates the baseline like `run` and returns the comparison's table (the file is written).
    func compare(
        _ result: BatchResult, referenceFolder: String, predictionFolder: String, run: BatchRun,
        bootstrap: BootstrapSettings
    ) throws -> String? {
        guard let baseline else { return nil }
        let pairing = try CasePairing.pair(referenceFolder: referenceFolder, predictionFolder: baseline)
        for warning in pairing.warnings { printError("maskeval: warning: baseline: \(warning)") }
        var baselineRun = run
        baselineRun.cases = pairing.cases
        baselineRun.comparison.settings.inputs = ["references": referenceFolder, "predictions": baseline]
        let progress = ProgressBar(total: baselineRun.selectedCases.count)
        let baselineResult = baselineRun.run { progress.show($0) }
        progress.done()
        var options = ModelDiff.Options(columns: ModelDiff.defaultColumns)
        options.bootstrap = bootstrap
        options.threads = run.threads
        let diff = try ModelDiff.run(
            a: baselineResult, pathA: baseline, b: result, pathB: predictionFolder, options: options)
        if let baselineOutput {
            let format = try outputFormat(explicit: nil, path: baselineOutput, fallback: RowFormat.csv)
            try OutputFile.write(
                format == .csv ? DiffReport.csv(diff) : DiffReport.json(diff).rendered() + "\n", to: baselineOutput)
        }
        return "\n" + DiffReport.table(diff)
    }
}
