import ArgumentParser
import Foundation
import MaskEval

/// `maskeval lesions REF PRED`: connected components per structure, matched by IoU
/// (panoptica) or by the BraTS 2023 lesion-wise rules; a row per lesion and aggregates.
struct Lesions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lesion-wise evaluation: components per structure, matched by IoU or the BraTS 2023 rules.")

    @Argument(help: "The reference (ground truth) label volume; its geometry is the authority.")
    var reference: String

    @Argument(help: "The predicted label volume (same grid).")
    var prediction: String

    @Option(help: "iou:T (default iou:0.5), iou>:T (strict), brats2023 (glioma) or brats2023:met.")
    var match: String = "iou:0.5"

    @Option(help: "Component connectivity: 6, 18 or 26.")
    var connectivity: Int = 26

    @Option(name: .customLong("min-lesion-voxels"), help: "Leave out components with fewer voxels.")
    var minLesionVoxels: Int?

    @Option(name: .customLong("min-lesion-ml"), help: "Leave out components with a smaller volume (mL).")
    var minLesionML: Double?

    @Option(name: .customLong("hd95-penalty-mm"), help: "BraTS: HD95 of an unmatched lesion (default 374).")
    var penaltyMM: Double = BraTS2023.penaltyMM

    @Option(help: "Structures: a JSON file of name → labels, an nnU-Net dataset.json, or 'brats' (WT, TC, ET).")
    var regions: String?

    @Option(help: "Labels to evaluate, e.g. 1,3,5-9 (default: every non-zero label; ignored with --regions).")
    var labels: String?

    @Flag(help: "Treat every non-zero voxel as one structure.")
    var binary = false

    @Option(name: .customLong("ignore-label"), help: "Reference voxels of this label count in no metric.")
    var ignoreLabel: Int32?

    @Option(name: .customLong("geometry-tolerance"), help: "Largest corner distance in mm between the two grids.")
    var geometryTolerance: Double = GeometryCheck.defaultToleranceMM

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json
    }

    @Option(help: "table, csv or json.")
    var format: Format = .table

    @Option(help: "Write the report to this file (atomically) instead of stdout.")
    var output: String?

    @Option(
        name: .customLong("lesion-map"), help: "Write a NIfTI of lesion ids on the reference grid (pairs share one).")
    var lesionMap: String?

    @Flag(help: "Print the time of each phase on stderr.")
    var timings = false

    @Option(help: "Worker threads (default: active cores).")
    var threads: Int?

    @Option(name: .customLong("max-voxels"), help: "Refuse volumes with more voxels than this.")
    var maxVoxels: Int?

    var threadCount: Int { threads ?? activeCoreCount }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let maxVoxels, maxVoxels < 1 { throw ValidationError("--max-voxels must be at least 1") }
        guard Connectivity(rawValue: connectivity) != nil else {
            throw ValidationError("--connectivity takes 6, 18 or 26")
        }
        do { _ = try LesionMatching.parse(match) } catch { throw ValidationError("\(error)") }
        if let minLesionVoxels, minLesionVoxels < 0 { throw ValidationError("--min-lesion-voxels must be ≥ 0") }
        if let minLesionML, !(minLesionML >= 0 && minLesionML.isFinite) {
            throw ValidationError("--min-lesion-ml must be a non-negative number")
        }
        guard penaltyMM >= 0, penaltyMM.isFinite else { throw ValidationError("--hd95-penalty-mm must be ≥ 0") }
        if binary && (regions != nil || labels != nil) {
            throw ValidationError("--binary excludes --regions and --labels")
        }
    }

    func run() throws {
        for path in [output, lesionMap].compactMap({ $0 }) { try OutputFile.checkWritable(path) }
        let matching = try LesionMatching.parse(match)
        var regionList: [Region]?
        var ignore = ignoreLabel
        if let regions {
            if regions == "brats" {
                regionList = Region.brats
            } else {
                let file = try MaskEval.Regions.read(path: regions)
                regionList = file.regions
                ignore = ignore ?? file.ignoreLabel
            }
        }
        let start = DispatchTime.now()
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }
        var (ref, pred) = try NIfTIReader.readPair(
            reference: reference, prediction: prediction, maxVoxels: maxVoxels, threads: threadCount)
        try GeometryCheck.check(
            reference: ref.grid, prediction: pred.grid, predictionPath: pred.path, toleranceMM: geometryTolerance)
        let readSeconds = seconds()
        if let ignore { IgnoreLabel.apply(ignore, reference: &ref, prediction: &pred) }
        let structures: [Region]
        if let regionList {
            structures = regionList
        } else if binary {
            structures = [Region(name: "1", labels: MaskEval.Regions.labelsPresent([ref, pred]))]
        } else if let labels {
            structures = Region.perLabel(try LabelList.parse(labels))
        } else if case .brats2023 = matching {
            structures = Region.brats
        } else {
            let all = MaskEval.Regions.labelsPresent([ref, pred]).filter { $0 != ignore }
            structures = Region.perLabel(all)
        }
        let settings = LesionSettings(
            matching: matching, connectivity: Connectivity(rawValue: connectivity) ?? .twentySix,
            minimumVoxels: minLesionVoxels, minimumML: minLesionML, penaltyMM: penaltyMM, threads: threadCount)
        let evaluation = LesionEvaluator.evaluate(
            reference: ref, prediction: pred, structures: structures, settings: settings,
            keepComponents: lesionMap != nil)
        let report = LesionReport(evaluation: evaluation, referencePath: reference, predictionPath: prediction)
        let text: String
        switch format {
        case .table: text = report.table()
        case .csv: text = report.csv()
        case .json: text = report.json().rendered() + "\n"
        }
        if let output { try OutputFile.write(text, to: output) } else { print(text, terminator: "") }
        if let lesionMap {
            let map = LesionEvaluator.lesionMap(evaluation)
            try NIfTIWriter.write(labels: map, header: ref.header, to: lesionMap)
        }
        if timings {
            fflush(nil)
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "timings: read %.3f s, components %.3f s, matching and metrics %.3f s, total %.3f s\n",
                        readSeconds, evaluation.componentSeconds, evaluation.totalSeconds - evaluation.componentSeconds,
                        seconds()
                    ).utf8))
        }
    }
}
