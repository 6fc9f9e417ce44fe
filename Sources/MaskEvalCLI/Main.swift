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
        subcommands: [Compare.self, Info.self]
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

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a prediction with a reference, structure by structure.")

    @Argument(help: "The reference (ground truth) label volume; its geometry is the authority.")
    var reference: String

    @Argument(help: "The predicted label volume.")
    var prediction: String

    @Option(help: "Labels to report, e.g. 1,3,5-9 (default: every non-zero label in either volume).")
    var labels: String?

    @Option(name: .customLong("label-names"), help: "Label names: mricron .txt, ITK-SNAP or JSON.")
    var labelNames: String?

    @Flag(help: "Treat every non-zero voxel as label 1.")
    var binary = false

    @Option(help: "NSD tolerance in mm.")
    var tolerance: Double = 1.0

    @Option(help: "Percentile of the HD percentile metric (key hdQ_mm).")
    var percentile: Double = 95

    @Option(name: .customLong("penalty-mm"), help: "Replace +inf by this many mm (or 'diagonal') in aggregates.")
    var penalty: String?

    @Option(help: "monai (default), medpy, deepmind, or all side by side.")
    var compat: String = "monai"

    @Flag(help: "Resample the prediction onto the reference grid (nearest neighbour).")
    var resample = false

    @Flag(name: .customLong("ignore-geometry"), help: "Compare the arrays as they are, with the reference spacing.")
    var ignoreGeometry = false

    @Option(name: .customLong("geometry-tolerance"), help: "Largest corner distance in mm between the two grids.")
    var geometryTolerance: Double = GeometryCheck.defaultToleranceMM

    @Option(help: "table, csv or json.")
    var format: OutputFormat = .table

    @Option(help: "Write the report to this file (atomically) instead of stdout.")
    var output: String?

    @Flag(help: "Print the time of each phase on stderr.")
    var timings = false

    @OptionGroup var engine: EngineOptions

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
            throw ValidationError("--compat takes monai, medpy, deepmind or all")
        }
    }

    func run() throws {
        let clock = Clock()
        if let output { try OutputFile.checkWritable(output) }
        let labelList = try labels.map(LabelList.parse)
        let names = try labelNames.map { try LabelNames.read(path: $0) } ?? LabelNames()
        let threads = engine.threadCount
        var (ref, pred) = try NIfTIReader.readPair(
            reference: reference, prediction: prediction, maxVoxels: engine.maxVoxels, threads: threads)
        let readSeconds = clock.lap()
        let predictionDescription = pred.description
        var geometry = "checked"
        if resample {
            pred = try Resample.nearest(pred, onto: ref.grid, threads: threads)
            geometry = "resampled"
        } else if ignoreGeometry {
            guard pred.grid.dims == ref.grid.dims else {
                throw GeometryError(
                    path: prediction,
                    problem:
                        "dims \(pred.grid.dims) differ from the reference's \(ref.grid.dims); --ignore-geometry needs equal dims"
                )
            }
            geometry = "ignored"
        } else {
            try GeometryCheck.check(
                reference: ref.grid, prediction: pred.grid, predictionPath: prediction, toleranceMM: geometryTolerance)
        }
        if binary {
            ref.labels = ref.labels.map { $0 == 0 ? 0 : 1 }
            pred.labels = pred.labels.map { $0 == 0 ? 0 : 1 }
        }
        let presets = compat == "all" ? Compat.allCases : [Compat(rawValue: compat) ?? .monai]
        let settings = EvaluationSettings(
            labels: labelList, percentile: percentile, toleranceMM: tolerance, presets: presets, threads: threads)
        let evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: settings)
        let penaltyMM = penalty.map { $0 == "diagonal" ? ref.grid.diagonalMM : Double($0) ?? 0 }
        let report = CompareReport(
            evaluation: evaluation, reference: ref.description, prediction: predictionDescription, names: names,
            penaltyMM: penaltyMM, geometry: geometry, binary: binary)
        _ = clock.lap()
        let text: String
        switch format {
        case .table: text = report.table()
        case .csv: text = report.csv()
        case .json: text = report.json().rendered() + "\n"
        }
        if let output { try OutputFile.write(text, to: output) } else { print(text, terminator: "") }
        if timings {
            fflush(nil)  // stdout first, so the report and the timings do not interleave
            let t = evaluation.timings
            let reportSeconds = clock.lap()
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "timings: read %.3f s, overlap %.3f s, distances %.3f s, report %.3f s, total %.3f s\n",
                        readSeconds, t.overlapSeconds, t.distanceSeconds, reportSeconds, clock.total()
                    ).utf8))
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
