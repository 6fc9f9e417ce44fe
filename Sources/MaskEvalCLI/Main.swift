import ArgumentParser
import Foundation
import MaskEval

/// Entry point: parses, runs, and turns every error into at most two lines on stderr and
/// the documented exit status (README, "Exit codes").
@main
enum Main {
    static func main() {
        do {
            var command = try MaskEvalCommand.parseAsRoot()
            try command.run()
        } catch let failure as MaskEvalFailure {
            fail(failure.description, status: failure.exitStatus.rawValue)
        } catch let code as ExitCode {
            // The command has said what it had to say (gate failures, batch errors).
            exit(code.rawValue)
        } catch {
            let code = MaskEvalCommand.exitCode(for: error)
            if code == .success {
                print(MaskEvalCommand.fullMessage(for: error))
                exit(0)
            }
            let message = MaskEvalCommand.message(for: error)
            fail(message + "\nRun 'maskeval help' for usage.", status: 64)
        }
        exit(0)
    }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data(("maskeval: error: " + message + "\n").utf8))
        exit(status)
    }
}

struct MaskEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maskeval",
        abstract: "Evaluate 3-D segmentations: Dice, volumes and surface distances in mm, per structure.",
        version: MaskEvalVersion.string,
        subcommands: [Compare.self, Batch.self, Merge.self, Info.self]
    )
}

/// Options shared by every command that reads volumes.
struct EngineOptions: ParsableArguments {
    @Option(help: "Worker threads (default: active cores).")
    var threads: Int?

    @Option(name: .customLong("max-voxels"), help: "Refuse volumes with more voxels than this.")
    var maxVoxels: Int?

    var threadCount: Int { threads ?? activeCoreCount }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let maxVoxels, maxVoxels < 1 { throw ValidationError("--max-voxels must be at least 1") }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a label volume's header, geometry, problems and labels.")

    @Argument(help: "A NIfTI label volume (.nii, .nii.gz, .hdr/.img).")
    var file: String

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    @Option(name: .customLong("label-names"), help: "Label names: mricron .txt, ITK-SNAP or JSON.")
    var labelNames: String?

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if format == .csv { throw ValidationError("info supports --format table or json") }
    }

    func run() throws {
        let names = try labelNames.map { try LabelNames.read(path: $0) } ?? LabelNames()
        let volume = try NIfTIReader.read(path: file, maxVoxels: engine.maxVoxels, threads: engine.threadCount)
        let report = InfoReport(volume: volume, names: names, threads: engine.threadCount)
        print(format == .json ? report.json().rendered() : report.table(), terminator: format == .json ? "\n" : "")
    }
}

/// The options `compare` and `batch` share.
struct MetricOptions: ParsableArguments {
    @Option(help: "Labels to report, e.g. 1,3,5-9 (default: every non-zero label in either volume).")
    var labels: String?

    @Option(name: .customLong("label-names"), help: "Label names: mricron .txt, ITK-SNAP or JSON.")
    var labelNames: String?

    @Flag(help: "Treat every non-zero voxel as label 1.")
    var binary = false

    @Option(help: "NSD tolerance in mm.")
    var tolerance: Double = 1.0

    @Option(name: .customLong("tolerance-map"), help: "Per-label NSD tolerances: 'LABEL MM' lines or JSON.")
    var toleranceMap: String?

    @Option(help: "Percentile of the HD percentile metric (key hdQ_mm).")
    var percentile: Double = 95

    @Option(name: .customLong("penalty-mm"), help: "Replace +inf by this many mm (or 'diagonal') in aggregates.")
    var penalty: String?

    @Option(help: "monai (default), medpy, deepmind, meshmetrics, or all side by side.")
    var compat: String = "monai"

    @Flag(help: "Resample the prediction onto the reference grid (nearest neighbour).")
    var resample = false

    @Flag(name: .customLong("ignore-geometry"), help: "Compare the arrays as they are, with the reference spacing.")
    var ignoreGeometry = false

    @Option(name: .customLong("geometry-tolerance"), help: "Largest corner distance in mm between the two grids.")
    var geometryTolerance: Double = GeometryCheck.defaultToleranceMM

    @Option(name: .customLong("require"), help: "A quality gate, e.g. dice>=0.8 or liver:hd95_mm<=5 (repeatable).")
    var gates: [String] = []

    func validate() throws {
        guard tolerance >= 0, tolerance.isFinite else {
            throw ValidationError("--tolerance must be a non-negative number of mm")
        }
        guard percentile > 0, percentile <= 100 else { throw ValidationError("--percentile must be in (0, 100]") }
        guard geometryTolerance >= 0 else { throw ValidationError("--geometry-tolerance must be non-negative") }
        if resample && ignoreGeometry { throw ValidationError("--resample and --ignore-geometry exclude each other") }
        if let penalty, penalty != "diagonal", !(Double(penalty).map { $0 >= 0 && $0.isFinite } ?? false) {
            throw ValidationError("--penalty-mm takes a non-negative number of mm or 'diagonal'")
        }
        guard compat == "all" || Compat(rawValue: compat) != nil else {
            throw ValidationError("--compat takes monai, medpy, deepmind, meshmetrics or all")
        }
    }

    var metricKeys: [String] { ResultRow.metricKeys(percentile: percentile) }

    func parsedGates() throws -> [Gate] { try gates.map { try Gate.parse($0, metricKeys: metricKeys) } }

    func names() throws -> LabelNames { try labelNames.map { try LabelNames.read(path: $0) } ?? LabelNames() }

    /// The comparison these options describe.
    func comparison(names: LabelNames, engine: EngineOptions, threads: Int) throws -> Comparison {
        let presets = compat == "all" ? Compat.allCases : [Compat(rawValue: compat) ?? .monai]
        let perLabel = try toleranceMap.map { try ToleranceMap.read(path: $0, names: names) } ?? [:]
        var comparison = Comparison(
            settings: EvaluationSettings(
                labels: try labels.map(LabelList.parse), percentile: percentile, toleranceMM: tolerance,
                toleranceByLabel: perLabel, presets: presets, threads: threads))
        comparison.geometry = resample ? .resampled : (ignoreGeometry ? .ignored : .checked)
        comparison.geometryToleranceMM = geometryTolerance
        comparison.binary = binary
        comparison.maxVoxels = engine.maxVoxels
        return comparison
    }

    /// The penalty in mm for a reference grid ('diagonal' is its diagonal).
    func penaltyMM(grid: Grid?) -> Double? {
        guard let penalty else { return nil }
        if penalty == "diagonal" { return grid?.diagonalMM }
        return Double(penalty)
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a prediction with a reference, structure by structure.")

    @Argument(help: "The reference (ground truth) label volume; its geometry is the authority.")
    var reference: String

    @Argument(help: "The predicted label volume.")
    var prediction: String

    @OptionGroup var metrics: MetricOptions

    @Option(help: "table, csv or json.")
    var format: OutputFormat = .table

    @Option(help: "Write the report to this file (atomically) instead of stdout.")
    var output: String?

    @Flag(help: "Print the time of each phase on stderr.")
    var timings = false

    @Option(help: "Also write a self-contained HTML report (charts, slices of the worst structures).")
    var html: String?

    @Option(help: "Intensity image on the reference grid for the HTML slices (e.g. the CT).")
    var image: String?

    @Option(name: .customLong("error-map"), help: "Write a NIfTI error map: 0 bg, 1 TP, 2 FN, 3 FP, 4 wrong label.")
    var errorMap: String?

    @Option(
        name: .customLong("distance-map"), help: "Write a NIfTI of signed surface distances (mm) at boundary voxels.")
    var distanceMap: String?

    @OptionGroup var engine: EngineOptions

    func run() throws {
        let clock = Clock()
        for path in [output, html, errorMap, distanceMap].compactMap({ $0 }) { try OutputFile.checkWritable(path) }
        let gates = try metrics.parsedGates()
        let names = try metrics.names()
        let comparison = try metrics.comparison(names: names, engine: engine, threads: engine.threadCount)
        let outcome = try comparison.run(reference: reference, prediction: prediction)
        let report = CompareReport(
            evaluation: outcome.evaluation, reference: outcome.reference, prediction: outcome.prediction, names: names,
            penaltyMM: metrics.penaltyMM(grid: outcome.reference.grid), geometry: comparison.geometry.rawValue,
            binary: metrics.binary)
        let failures = Gate.failures(report.rows(caseID: ""), gates: gates)
        _ = clock.lap()
        let text: String
        switch format {
        case .table: text = report.table()
        case .csv: text = report.csv()
        case .json:
            var json = report.json()
            if case .object(var members) = json, !gates.isEmpty {
                members["gates"] = .array(gates.map { .string($0.text) })
                members["gate_failures"] = .array(failures.map { $0.json() })
                json = .object(members)
            }
            text = json.rendered() + "\n"
        }
        if let output { try OutputFile.write(text, to: output) } else { print(text, terminator: "") }
        if let errorMap {
            try ErrorMap.write(reference: outcome.referenceVolume, prediction: outcome.predictionVolume, to: errorMap)
        }
        if let distanceMap {
            try ErrorMap.writeDistanceMap(
                reference: outcome.referenceVolume, prediction: outcome.predictionVolume, threads: engine.threadCount,
                to: distanceMap)
        }
        if let html {
            let intensity = try image.map { try NIfTIReader.readIntensities(path: $0, maxVoxels: engine.maxVoxels) }
            if let intensity, intensity.grid.dims != outcome.referenceVolume.grid.dims {
                throw GeometryError(
                    path: intensity.path, problem: "the --image is not on the reference grid (dims differ)")
            }
            let slices = SliceImages(
                reference: outcome.referenceVolume, prediction: outcome.predictionVolume, intensity: intensity)
            let page = HTMLReport.compare(report: report, slices: slices, threads: engine.threadCount)
            try OutputFile.write(page, to: html)
        }
        if timings {
            fflush(nil)  // stdout first, so the report and the timings do not interleave
            let t = outcome.evaluation.timings
            let reportSeconds = clock.lap()
            printError(
                String(
                    format: "timings: read %.3f s, overlap %.3f s, distances %.3f s, report %.3f s, total %.3f s",
                    outcome.readSeconds, t.overlapSeconds, t.distanceSeconds, reportSeconds, clock.total()))
        }
        if !failures.isEmpty {
            fflush(nil)
            for failure in failures { printError("maskeval: \(failure)") }
            throw ExitCode(ExitStatus.gateFailed.rawValue)
        }
    }
}

enum RowFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, json
}

struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare every case of two folders (or a --pairs list); rows per case and structure, aggregates.")

    @Argument(help: "Folder of reference volumes (not needed with --pairs).")
    var referenceFolder: String?

    @Argument(help: "Folder of predictions, paired by file name (.nii/.nii.gz ignored).")
    var predictionFolder: String?

    @Option(help: "CSV with columns case,reference,prediction instead of two folders.")
    var pairs: String?

    @OptionGroup var metrics: MetricOptions

    @Option(help: "Rows file: one row per case and structure.")
    var output: String?

    @Option(help: "Format of --output: csv or json.")
    var format: RowFormat = .csv

    @Option(help: "Summary JSON: per structure and overall aggregates, status counts, gate failures.")
    var summary: String?

    @Option(help: "Also write a self-contained HTML report (strip plots, aggregates, failed cases).")
    var html: String?

    @Option(help: "Cases evaluated at once (default: up to 4; each case uses --threads / jobs threads).")
    var jobs: Int?

    @Option(help: "Evaluate shard K of N (1-based) of the cases in id order, e.g. 2/8.")
    var shard: String?

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if pairs == nil && (referenceFolder == nil || predictionFolder == nil) {
            throw ValidationError("give REFERENCE_FOLDER PREDICTION_FOLDER, or --pairs FILE")
        }
        if pairs != nil && referenceFolder != nil {
            throw ValidationError("give either two folders or --pairs, not both")
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let shard, parseShard(shard) == nil { throw ValidationError("--shard takes K/N with 1 ≤ K ≤ N, e.g. 2/8") }
    }

    func parseShard(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 1, k <= n else { return nil }
        return (k, n)
    }

    func run() throws {
        for path in [output, summary, html].compactMap({ $0 }) { try OutputFile.checkWritable(path) }
        let gates = try metrics.parsedGates()
        let names = try metrics.names()
        var warnings: [String] = []
        var cases: [BatchCase]
        if let pairs {
            cases = try CasePairing.read(pairs: pairs)
        } else {
            (cases, warnings) = try CasePairing.pair(
                referenceFolder: referenceFolder ?? "", predictionFolder: predictionFolder ?? "")
        }
        if let shard, let (k, n) = parseShard(shard) { cases = CasePairing.shard(cases, k: k, n: n) }
        for warning in warnings { printError("maskeval: warning: \(warning)") }
        let threads = engine.threadCount
        let jobs = max(1, min(jobs ?? min(4, threads), max(1, cases.count)))
        let comparison = try metrics.comparison(names: names, engine: engine, threads: max(1, threads / jobs))
        let progress = Progress(total: cases.count)
        let work = cases
        var results = [[ResultRow]](repeating: [], count: cases.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let shared = UncheckedSendable(buffer)  // each worker writes its own cases
            DispatchQueue.concurrentPerform(iterations: jobs) { worker in
                var index = worker
                while index < work.count {
                    let rows = Self.evaluate(work[index], comparison: comparison, names: names)
                    shared.value[index] = rows
                    progress.finished(work[index].id, error: rows.first { $0.status == "error" }?.error)
                    index += jobs
                }
            }
        }
        progress.done()
        let rows = results.flatMap { $0 }
        let metricKeys = metrics.metricKeys
        let penalty = metrics.penaltyMM(grid: nil)
        let failures = Gate.failures(rows, gates: gates)
        if let output {
            let text =
                format == .csv
                ? RowTable.csv(rows, metricKeys: metricKeys)
                : RowTable.json(rows, metricKeys: metricKeys, warnings: warnings).rendered() + "\n"
            try OutputFile.write(text, to: output)
        }
        let batchSummary = BatchSummary(rows: rows, metricKeys: metricKeys, penaltyMM: penalty)
        if let summary {
            try OutputFile.write(batchSummary.json(gateFailures: failures).rendered() + "\n", to: summary)
        }
        if let html { try OutputFile.write(HTMLReport.batch(summary: batchSummary, gateFailures: failures), to: html) }
        print(batchSummary.table(), terminator: "")
        fflush(nil)
        for failure in failures { printError("maskeval: \(failure)") }
        if !batchSummary.errorCases.isEmpty { throw ExitCode(ExitStatus.dataError.rawValue) }
        if !failures.isEmpty { throw ExitCode(ExitStatus.gateFailed.rawValue) }
    }

    /// The rows of one case; a case that cannot be evaluated gives one `error` row.
    static func evaluate(_ item: BatchCase, comparison: Comparison, names: LabelNames) -> [ResultRow] {
        do {
            guard let reference = item.reference else {
                throw InputError.badFile(path: item.prediction ?? item.id, reason: "no reference")
            }
            let outcome = try comparison.run(reference: reference, prediction: item.prediction)
            let report = CompareReport(
                evaluation: outcome.evaluation, reference: outcome.reference, prediction: outcome.prediction,
                names: names, geometry: comparison.geometry.rawValue, binary: comparison.binary)
            return report.rows(caseID: item.id)
        } catch {
            let message = (error as? MaskEvalFailure)?.description ?? "\(error)"
            return [ResultRow(caseID: item.id, label: nil, name: "", status: "error", error: message)]
        }
    }
}

/// Progress on stderr: a bar redrawn in place on a terminal, one line per case otherwise.
final class Progress: @unchecked Sendable {
    private let total: Int
    private let start = DispatchTime.now()
    private let lock = NSLock()
    private var count = 0
    private let terminal = isatty(2) != 0

    init(total: Int) { self.total = total }

    func finished(_ id: String, error: String?) {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        if terminal {
            let width = 30
            let filled = total == 0 ? width : width * count / total
            let eta = count == 0 ? 0 : elapsed / Double(count) * Double(total - count)
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            FileHandle.standardError.write(
                Data(
                    String(format: "\r[%@] %d/%d cases, %.1f s elapsed, ETA %.1f s", bar, count, total, elapsed, eta)
                        .utf8))
            if let error { FileHandle.standardError.write(Data("\nmaskeval: case \(id): \(error)\n".utf8)) }
        } else {
            let status = error.map { "error: \($0)" } ?? "ok"
            printError(String(format: "case %d/%d %@ %@ (%.1f s)", count, total, id, status, elapsed))
        }
    }

    func done() {
        if terminal && total > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the row files of batch shards into what one run would have written.")

    @Argument(help: "Row files written by batch --output (CSV or JSON).")
    var files: [String]

    @Option(help: "The merged rows file.")
    var output: String

    @Option(help: "Format of --output: csv or json.")
    var format: RowFormat = .csv

    @Option(help: "Also write the summary JSON, as batch --summary does.")
    var summary: String?

    @Option(name: .customLong("penalty-mm"), help: "As given to batch (a number of mm).")
    var penalty: Double?

    @Option(name: .customLong("require"), help: "Quality gates, as given to batch (repeatable).")
    var gates: [String] = []

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one row file") }
    }

    func run() throws {
        for path in [output] + [summary].compactMap({ $0 }) { try OutputFile.checkWritable(path) }
        var rows: [ResultRow] = []
        var metricKeys: [String]?
        var warnings: [String] = []
        for file in files {
            let table = try RowTable.read(path: file)
            if let metricKeys, metricKeys != table.metricKeys {
                throw InputError.badFile(path: file, reason: "its columns differ from \(files[0])'s")
            }
            metricKeys = table.metricKeys
            rows += table.rows
            warnings += table.warnings
        }
        let keys = metricKeys ?? []
        let parsedGates = try gates.map { try Gate.parse($0, metricKeys: keys) }
        // One run writes cases in id order, each case's rows in label order: a stable sort
        // by case id restores that.
        let merged = rows.enumerated().sorted { ($0.element.caseID, $0.offset) < ($1.element.caseID, $1.offset) }.map(
            \.element)
        let text =
            format == .csv
            ? RowTable.csv(merged, metricKeys: keys)
            : RowTable.json(merged, metricKeys: keys, warnings: warnings).rendered() + "\n"
        try OutputFile.write(text, to: output)
        let failures = Gate.failures(merged, gates: parsedGates)
        if let summary {
            let batchSummary = BatchSummary(rows: merged, metricKeys: keys, penaltyMM: penalty)
            try OutputFile.write(batchSummary.json(gateFailures: failures).rendered() + "\n", to: summary)
        }
    }
}

/// Wall-clock laps for `--timings`.
final class Clock {
    private let start = DispatchTime.now()
    private var last = DispatchTime.now()
    func lap() -> Double {
        let now = DispatchTime.now()
        defer { last = now }
        return Double(now.uptimeNanoseconds - last.uptimeNanoseconds) / 1e9
    }
    func total() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }
}
