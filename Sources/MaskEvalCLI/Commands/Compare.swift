import ArgumentParser
import Foundation
import MaskEval

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare a prediction with a reference, structure by structure.")

    @Argument(help: "The reference (ground truth) label volume; its geometry is the authority.")
    var reference: String

    @Argument(help: "The predicted label volume.")
    var prediction: String

    @OptionGroup var definitions: DefinitionOptions
    @OptionGroup var aggregates: AggregateOptions

    @Option(help: "table, csv or json (default: from the --output extension, else table).")
    var format: ReportFormat?

    @Option(help: "Write the report to this file instead of stdout.")
    var output: String?

    @Flag(help: "Print the time of each phase on stderr.")
    var timings = false

    @Option(help: "Also write a self-contained HTML report (charts, slices of the worst structures).")
    var html: String?

    @Option(help: "Intensity image on the reference grid for the HTML slices (e.g. the CT); needs --html.")
    var image: String?

    @Option(name: .customLong("error-map"), help: "Write a NIfTI error map: 0 bg, 1 TP, 2 FN, 3 FP, 4 wrong label.")
    var errorMap: String?

    @Option(
        name: .customLong("distance-map"), help: "Write a NIfTI of signed surface distances (mm) at boundary voxels.")
    var distanceMap: String?

    @OptionGroup var pictures: PictureOptions

    @Option(
        help: ArgumentHelp(
            "Write each matched structure's reference and prediction surfaces as PLY into this folder.",
            valueName: "dir"))
    var surfaces: String?

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if image != nil && html == nil { throw ValidationError("--image is drawn in the --html report: give --html too") }
        if pictures.window != nil && image == nil {
            throw ValidationError("--window applies to the --image: give --image too")
        }
        let maps = [
            ("--html", html), ("--error-map", errorMap), ("--distance-map", distanceMap), ("--surfaces", surfaces),
        ]
        if definitions.structures.regions != nil, let option = maps.first(where: { $0.1 != nil })?.0 {
            throw ValidationError("\(option) draws labels; regions overlap, so it is not available with --regions")
        }
    }

    func run() throws {
        let clock = Clock()
        let format = try outputFormat(explicit: self.format, path: output, fallback: ReportFormat.table)
        let outputs = [("--output", output), ("--html", html), ("--error-map", errorMap), ("--distance-map", distanceMap)]
            .compactMap { option, path in path.map { (option, $0) } }
        let inputs = [("the reference", reference), ("the prediction", prediction)] + definitions.inputFiles
            + (image.map { [("--image", $0)] } ?? [])
        try OutputFile.checkDistinct(outputs: outputs, inputs: inputs)
        for (option, path) in [("--error-map", errorMap), ("--distance-map", distanceMap)] {
            if let path { try OutputFile.checkVolumeName(path, option: option) }
        }
        for (_, path) in outputs { try OutputFile.checkWritable(path) }
        if let surfaces { try OutputFolder.prepare(surfaces) }
        let names = try definitions.names()
        var settings = try definitions.settings(names: names, aggregates: aggregates)
        settings.inputs = ["reference": reference, "prediction": prediction]
        var gates = try aggregates.parsedGates(settings)
        let threads = engine.threadCount
        var comparison = Comparison(settings: settings, names: names, threads: threads, maxVoxels: engine.maxVoxels)
        comparison.keepDetail = html != nil || distanceMap != nil || surfaces != nil
        let result = try comparison.run(reference: reference, prediction: prediction, image: image)
        let labels = Set(result.rows.map(\.label))
        for index in gates.indices { try gates[index].resolve(labels: labels, names: settings.names(over: names)) }
        let failures = Gate.failures(result.rows, gates: gates, settings: settings)
        let report = CompareReport(
            rows: result.rows, settings: settings, reference: result.reference, prediction: result.prediction,
            gates: gates, gateFailures: failures)
        _ = clock.lap()
        let text: String
        switch format {
        case .table: text = report.table()
        case .csv: text = report.csv()
        case .json: text = report.json().rendered() + "\n"
        }
        if let output { try OutputFile.write(text, to: output) } else { try StandardOutput.write(text) }
        if let errorMap {
            let map = ErrorMap.errorImage(reference: result.referenceVolume, prediction: result.predictionVolume)
            try NIfTIWriter.write(values: map.values, header: map.header, to: errorMap)
        }
        if let distanceMap {
            let map = ErrorMap.distanceImage(
                result.evaluation, reference: result.referenceVolume, prediction: result.predictionVolume,
                penaltyMM: settings.penalty.value(diagonalMM: result.referenceVolume.grid.diagonalMM))
            try NIfTIWriter.write(values: map.values, header: map.header, to: distanceMap)
        }
        if let html {
            let slices = SliceImages(
                reference: result.referenceVolume, prediction: result.predictionVolume, intensity: result.image,
                convention: pictures.display, window: pictures.window)
            try OutputFile.write(
                HTMLReport.compare(evaluation: result.evaluation, report: report, slices: slices), to: html)
        }
        if let surfaces {
            try Surfaces.forEach(result) { name, bytes in
                try OutputFile.write(bytes: bytes, to: OutputFolder.path(surfaces, name))
            }
        }
        for note in RunNotes.lines(rows: result.rows, cases: [result.facts()], settings: settings) {
            printError("maskeval: \(note)")
        }
        if timings {
            let t = result.evaluation.timings
            printError(
                String(
                    format: "timings: read %.3f s, overlap %.3f s, distances %.3f s, report %.3f s, total %.3f s",
                    result.readSeconds, t.overlapSeconds, t.distanceSeconds, clock.lap(), clock.total()))
        }
        if !failures.isEmpty {
            for failure in failures { printError("maskeval: \(failure)") }
            throw ExitCode(ExitStatus.gateFailed.rawValue)
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

/// How the HTML reports draw slices (`compare --html`, `batch --html-cases`).
struct PictureOptions: ParsableArguments {
    @Option(help: "Slice display: radiological (patient's right on the screen's left) or neurological.")
    var display: DisplayConvention = .radiological

    @Option(
        help: ArgumentHelp(
            "Grey window W,L of the --image for every slice "
                + "(default: W 400 / L 40 for CT, else the 1st–99th percentile).",
            valueName: "W,L"),
        transform: { text in
            guard let window = IntensityWindow(text: text) else {
                throw ValidationError("--window takes W,L with W > 0, e.g. 400,40, not '\(text)'")
            }
            return window
        })
    var window: IntensityWindow?
}

extension DisplayConvention: ExpressibleByArgument {}
