import ArgumentParser
import MaskEval

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a label volume's header, geometry, problems and labels.")

    @Argument(help: "A NIfTI label volume (.nii, .nii.gz, .hdr/.img).")
    var file: String

    @Option(help: "table, csv (one row per label) or json.")
    var format: ReportFormat = .table

    @Option(name: .customLong("label-names"), help: "Label names: LABEL NAME lines, ITK-SNAP, CSV, JSON or dataset.json.")
    var labelNames: String?

    @OptionGroup var engine: EngineOptions

    func run() throws {
        let names = try labelNames.map { try LabelNames.read(path: $0) } ?? LabelNames()
        let inspection = try Inspection(path: file, maxVoxels: engine.maxVoxels, threads: engine.threadCount)
        let report = InfoReport(volume: inspection.volume, labels: inspection.labels, names: names)
        switch format {
        case .table: try StandardOutput.write(report.table())
        case .csv: try StandardOutput.write(report.csv())
        case .json: try StandardOutput.write(report.json().rendered() + "\n")
        }
    }
}
