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
        subcommands: [Info.self]
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
