import ArgumentParser
import Foundation
import MaskEval

/// `maskeval lesions REF PRED`: connected components per structure, matched by IoU
/// (panoptica) or by the BraTS 2023 lesion-wise rules; a row per lesion and aggregates.
struct Lesions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesions",
        abstract: "Lesion-wise evaluation: components per structure, matched by IoU or the BraTS 2023 rules.")

    @Argument(help: "The reference (ground truth) label volume; its geometry is the authority.")
    var reference: String

    @Argument(help: "The predicted label volume (same grid).")
    var prediction: String

    @OptionGroup var rules: LesionOptions
    @OptionGroup var structures: StructureOptions

    @Option(help: "Labels to evaluate, e.g. 1,3,5-9 (default: every non-zero label; not with --regions).")
    var labels: String?

    @Option(
        name: .customLong("label-names"),
        help: "Label names (LABEL NAME lines, ITK-SNAP, CSV, JSON or dataset.json) for --labels, gates and the report.")
    var labelNames: String?

    @Flag(help: "Treat every non-zero voxel as one structure.")
    var binary = false

    @Option(name: .customLong("geometry-tolerance"), help: "Largest corner distance in mm between the two grids.")
    var geometryTolerance: Double = GeometryCheck.defaultToleranceMM

    @Option(
        name: .customLong("require"),
        help: "A gate on a structure's lesion aggregates, e.g. WT:lesion_dice>=0.8, f1>=0.7, ET:fn<=0 (repeatable).")
    var gates: [String] = []

    @Option(help: "table, csv or json (default: from the --output extension, else table).")
    var format: ReportFormat?

    @Option(help: "Write the report to this file (atomically) instead of stdout.")
    var output: String?

    @Option(
        name: .customLong("lesion-map"), help: "Write a NIfTI of lesion ids on the reference grid (pairs share one).")
    var lesionMap: String?

    @Flag(help: "Print the time of each phase on stderr.")
    var timings = false

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard geometryTolerance >= 0, geometryTolerance.isFinite else {
            throw ValidationError("--geometry-tolerance must be a positive number of mm (or 0)")
        }
        if binary && (structures.regions != nil || labels != nil) {
            throw ValidationError("--binary excludes --regions and --labels")
        }
        if structures.regions != nil && labels != nil { throw ValidationError("--regions replaces --labels") }
        if structures.regions != nil && labelNames != nil {
            throw ValidationError("--regions replaces labels: rows are the regions, named by them; drop --label-names")
        }
    }

    func run() throws {
        let format = try outputFormat(explicit: self.format, path: output, fallback: ReportFormat.table)
        let outputs = [("--output", output), ("--lesion-map", lesionMap)].compactMap { option, path in
            path.map { (option, $0) }
        }
        let extraInputs = [("--regions", structures.file), ("--label-names", labelNames)].compactMap { option, path in
            path.map { (option, $0) }
        }
        try OutputFile.checkDistinct(
            outputs: outputs, inputs: [("the reference", reference), ("the prediction", prediction)] + extraInputs)
        if let lesionMap { try OutputFile.checkVolumeName(lesionMap, option: "--lesion-map") }
        for (_, path) in outputs { try OutputFile.checkWritable(path) }
        let clock = Clock()
        let names = try labelNames.map { try LabelNames.read(path: $0) } ?? LabelNames()
        var settings = RunSettings()
        settings.lesions = try rules.settings()
        settings.binary = binary
        settings.labels = try labels.map { try LabelList.parse($0, names: names) }
        settings.geometryToleranceMM = geometryTolerance
        settings.inputs = ["reference": reference, "prediction": prediction]
        try settings.applyStructures(regions: structures.regions, ignoreLabel: structures.ignoreLabel)
        settings.applyLesionDefaults()
        var gates = try self.gates.map {
            try Gate.parse($0, columns: settings.columns, percentile: settings.percentile)
        }
        let comparison = Comparison(
            settings: settings, names: names, threads: engine.threadCount, maxVoxels: engine.maxVoxels)
        let result: Comparison.LesionResult
        do {
            result = try comparison.runLesions(
                reference: reference, prediction: prediction, keepComponents: lesionMap != nil)
        } catch let error as GeometryError where error.suggestsWaysOut {
            // `lesions` has neither --resample nor --ignore-geometry: name no option it lacks.
            throw GeometryError(
                path: error.path, problem: error.problem + " (lesions need the prediction on the reference grid)",
                suggestsWaysOut: false)
        }
        let rowNames = settings.names(over: names)
        for index in gates.indices { try gates[index].resolve(labels: Set(result.rows.map(\.label)), names: rowNames) }
        let failures = Gate.failures(result.rows, gates: gates, settings: settings)
        let evaluation = result.evaluation
        let report = LesionReport(
            evaluation: evaluation, referencePath: reference, predictionPath: prediction, settings: settings,
            gates: gates, gateFailures: failures, labels: result.rows.map(\.label))
        let text: String
        switch format {
        case .table: text = report.table()
        case .csv: text = report.csv()
        case .json: text = report.json().rendered() + "\n"
        }
        if let output { try OutputFile.write(text, to: output) } else { try StandardOutput.write(text) }
        if let lesionMap {
            let map = LesionEvaluator.lesionMap(evaluation)
            try NIfTIWriter.write(labels: map, header: result.referenceVolume.header, to: lesionMap)
        }
        for note in RunNotes.lines(rows: result.rows, cases: [result.facts()], settings: settings) {
            printError("maskeval: \(note)")
        }
        if timings {
            printError(
                String(
                    format: "timings: read %.3f s, components %.3f s, matching and metrics %.3f s, total %.3f s",
                    result.readSeconds, evaluation.componentSeconds,
                    evaluation.totalSeconds - evaluation.componentSeconds, clock.total()))
        }
        if !failures.isEmpty {
            for failure in failures { printError("maskeval: \(failure)") }
            throw ExitCode(ExitStatus.gateFailed.rawValue)
        }
    }
}
