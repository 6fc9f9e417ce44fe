import ArgumentParser
import Foundation
import MaskEval

struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Compare every case of two folders (or a --pairs list); rows per case and structure, aggregates.")

    @Argument(help: "Folder of reference volumes (not needed with --pairs).")
    var referenceFolder: String?

    @Argument(help: "Folder of predictions, paired by file name (.nii/.nii.gz ignored).")
    var predictionFolder: String?

    @Option(help: "CSV with columns case,reference,prediction instead of two folders.")
    var pairs: String?

    @OptionGroup var definitions: DefinitionOptions
    @OptionGroup var aggregates: AggregateOptions
    @OptionGroup var bootstrap: BootstrapOptions
    @OptionGroup var outputs: RowOutputOptions
    @OptionGroup var baseline: BaselineOptions

    @Option(help: "Cases evaluated at once (default: up to 4; each case uses --threads / jobs threads).")
    var jobs: Int?

    @Option(
        help: "Evaluate shard K of N (1-based) of the cases in id order, e.g. 2/8.",
        transform: { text in
            guard let shard = Shard(text: text) else {
                throw ValidationError("--shard takes K/N with 1 ≤ K ≤ N, e.g. 2/8, not '\(text)'")
            }
            return shard
        })
    var shard: Shard?

    @Option(
        name: .customLong("html-cases"),
        help: ArgumentHelp(
            "With --html: also write each case's compare report into this folder, linked.", valueName: "dir"))
    var htmlCases: String?

    @Option(help: "Slice display of --html-cases: radiological or neurological.")
    var display: DisplayConvention = .radiological

    @Flag(name: .customLong("allow-missing"), help: "A reference without a prediction does not fail the run.")
    var allowMissing = false

    @Flag(help: "Lesion-wise: a row of lesion aggregates (tp, fp, fn, f1, pq, lesion_dice, …) per case and structure.")
    var lesions = false

    @OptionGroup var lesionRules: LesionOptions

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if pairs == nil && (referenceFolder == nil || predictionFolder == nil) {
            throw ValidationError("give REFERENCE_FOLDER PREDICTION_FOLDER, or --pairs FILE")
        }
        if pairs != nil && referenceFolder != nil {
            throw ValidationError("give either two folders or --pairs, not both")
        }
        if htmlCases != nil && outputs.html == nil {
            throw ValidationError("--html-cases are linked from --html: give --html too")
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be a positive number") }
        try baseline.validate(pairs: pairs)
        if let option = lesionRules.given.first, !lesions { throw ValidationError("\(option) needs --lesions") }
        if definitions.structures.regions != nil && htmlCases != nil {
            throw ValidationError("--html-cases draws labels; regions overlap, so it is not available with --regions")
        }
        let pictures = [("--html", outputs.html), ("--html-cases", htmlCases), ("--baseline", baseline.baseline)]
        if lesions, let option = pictures.first(where: { $0.1 != nil })?.0 {
            throw ValidationError("\(option) is not available with --lesions (lesion rows have no per-voxel pictures)")
        }
    }

    func run() throws {
        let names = try definitions.names()
        var settings = try definitions.settings(names: names, aggregates: aggregates)
        settings.bootstrap = bootstrap.settings()
        if lesions {
            settings.lesions = try lesionRules.settings()
            settings.applyLesionDefaults()
        }
        var gates = try aggregates.parsedGates(settings)
        // Regions (or --labels) fix the structures before any case is read: a scope naming none
        // of them is refused now, not after the whole batch has run.
        if let known = settings.structureLabels {
            for var gate in gates { try gate.resolve(labels: Set(known), names: settings.names(over: names)) }
        }
        var warnings: [String] = []
        var cases: [BatchCase]
        if let pairs {
            cases = try PairsFile.read(path: pairs)
            settings.inputs = ["pairs": pairs]
        } else {
            let pairing = try CasePairing.pair(
                referenceFolder: referenceFolder ?? "", predictionFolder: predictionFolder ?? "")
            (cases, warnings) = (pairing.cases, pairing.warnings)
            settings.inputs = ["references": referenceFolder ?? "", "predictions": predictionFolder ?? ""]
        }
        let caseFiles = cases.flatMap { [$0.reference, $0.prediction].compactMap { $0 } }.map {
            ("an input volume", $0)
        }
        let inputs = definitions.inputFiles + (pairs.map { [("--pairs", $0)] } ?? []) + caseFiles
        try outputs.check(inputs: inputs)
        try baseline.check(inputs: inputs, outputs: try outputs.files)
        if let htmlCases { try OutputFolder.prepare(htmlCases) }
        for warning in warnings { printError("maskeval: warning: \(warning)") }
        let threads = engine.threadCount
        var comparison = Comparison(settings: settings, names: names, threads: threads, maxVoxels: engine.maxVoxels)
        comparison.keepDetail = htmlCases != nil
        var run = BatchRun(comparison: comparison, cases: cases, threads: threads, jobs: jobs, shard: shard)
        run.warnings = warnings
        let pages = htmlCases.map {
            CaseReports(
                folder: $0, settings: settings, caseIDs: run.selectedCases.map(\.id), batchPage: outputs.html,
                convention: display)
        }
        if let pages {
            run.onCase = { item, result in try OutputFile.write(pages.page(item, result), to: pages.path(of: item.id)) }
        }
        let progress = ProgressBar(total: run.selectedCases.count)
        let result = run.run { progress.show($0) }
        progress.done()
        let comparisonTable = try baseline.compare(
            result, referenceFolder: referenceFolder ?? "", predictionFolder: predictionFolder ?? "", run: run,
            bootstrap: settings.bootstrap ?? BootstrapSettings())
        let labels = Set(result.rows.filter { $0.status != .error }.map(\.label))
        for index in gates.indices { try gates[index].resolve(labels: labels, names: settings.names(over: names)) }
        let links = pages.map { $0.links(result, htmlPath: outputs.html ?? ".") } ?? [:]
        do {
            try finish(result, gates: gates, outputs: outputs, allowMissing: allowMissing, caseLinks: links)
        } catch let status as ExitCode {
            if let comparisonTable { try StandardOutput.write(comparisonTable) }
            throw status
        }
        if let comparisonTable { try StandardOutput.write(comparisonTable) }
    }
}

/// The outputs of `batch` and `merge`.
struct RowOutputOptions: ParsableArguments {
    @Option(help: "Rows file: one row per case and structure (CSV also writes FILE.settings.json).")
    var output: String?

    @Option(help: "Format of --output: csv or json (default: from its extension, else csv).")
    var format: RowFormat?

    @Option(help: "Summary JSON: per structure and overall aggregates, status counts, gate failures.")
    var summary: String?

    @Option(help: "Also write a self-contained HTML report (strip plots, aggregates, failed cases).")
    var html: String?

    var rowFormat: RowFormat {
        get throws { try outputFormat(explicit: format, path: output, fallback: RowFormat.csv) }
    }

    /// Every file these options write.
    var files: [(String, String)] {
        get throws {
            var files = [("--output", output), ("--summary", summary), ("--html", html)].compactMap { option, path in
                path.map { (option, $0) }
            }
            if let output, try rowFormat == .csv {
                files.append(("--output's settings file", RowFile.settingsPath(of: output)))
            }
            return files
        }
    }

    /// Before any work: the outputs are writable and none is an input or another output.
    func check(inputs: [(String, String)]) throws {
        _ = try rowFormat
        let files = try self.files
        try OutputFile.checkDistinct(outputs: files, inputs: inputs)
        for (_, path) in files { try OutputFile.checkWritable(path) }
    }
}

/// Writes the outputs of `batch` and `merge`, prints the table, the gate failures, and ends
/// with the batch's exit status.
func finish(
    _ result: BatchResult, gates: [Gate], outputs: RowOutputOptions, allowMissing: Bool,
    caseLinks: [String: String] = [:]
) throws {
    let failures = Gate.failures(result.rows, gates: gates, settings: result.settings)
    if let output = outputs.output {
        if try outputs.rowFormat == .csv {
            let csv = RowFiles.csv(result)
            let settings = RowFiles.settingsJSON(result, csv: csv).rendered() + "\n"
            try OutputFile.write(settings, to: RowFile.settingsPath(of: output))
            try OutputFile.write(csv, to: output)
        } else {
            try OutputFile.write(RowFiles.json(result).rendered() + "\n", to: output)
        }
    }
    if let summary = outputs.summary {
        try OutputFile.write(SummaryReport.json(result, gateFailures: failures).rendered() + "\n", to: summary)
    }
    if let html = outputs.html {
        try OutputFile.write(HTMLReport.batch(result, gateFailures: failures, caseLinks: caseLinks), to: html)
    }
    try StandardOutput.write(SummaryReport.table(result))
    for line in result.notes + result.caseLines(allowMissing: allowMissing) { printError("maskeval: \(line)") }
    for failure in failures { printError("maskeval: \(failure)") }
    let status = result.exitStatus(gateFailures: failures, allowMissing: allowMissing)
    if status != .success { throw ExitCode(status.rawValue) }
}

/// Progress on stderr: a bar redrawn in place on a terminal, one line per case otherwise.
final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private let start = DispatchTime.now()
    private let lock = NSLock()
    private let terminal = isatty(2) != 0

    init(total: Int) { self.total = total }

    func show(_ progress: BatchRun.Progress) {
        lock.lock()
        defer { lock.unlock() }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let id = Escape.terminal(progress.caseID)
        if terminal {
            let width = 30
            let filled = total == 0 ? width : width * progress.finished / total
            let eta = elapsed / Double(max(1, progress.finished)) * Double(total - progress.finished)
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            writeError(
                String(
                    format: "\r[%@] %d/%d cases, %.1f s elapsed, ETA %.1f s", bar, progress.finished, total, elapsed,
                    eta))
            if let error = progress.error { writeError("\nmaskeval: case \(id): \(error)\n") }
        } else {
            printError(
                String(format: "case %d/%d %@ %@ (%.1f s)", progress.finished, total, id, progress.outcome, elapsed))
        }
    }

    func done() {
        if terminal && total > 0 { writeError("\n") }
    }
}
