import ArgumentParser
import MaskEval

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the row files of batch shards into what one run would have written (gates and exit codes too).")

    @Argument(help: "Row files written by batch --output (CSV with its .settings.json, or JSON).")
    var files: [String]

    @OptionGroup var outputs: RowOutputOptions

    @OptionGroup var aggregates: AggregateOptions
    @OptionGroup var bootstrap: BootstrapOptions

    @Option(name: .customLong("label-names"), help: "Label names, for gates that name structures.")
    var labelNames: String?

    @Flag(help: "Merge the shards that are there when some K/N are missing.")
    var partial = false

    @Flag(name: .customLong("allow-missing"), help: "A case without a prediction does not fail the run.")
    var allowMissing = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one row file") }
    }

    func run() throws {
        let rowFiles = files.flatMap { RowFile.inputFiles($0, named: "row file \($0)") }
        try outputs.check(inputs: rowFiles + (labelNames.map { [("--label-names", $0)] } ?? []))
        let names = try labelNames.map { try LabelNames.read(path: $0) } ?? LabelNames()
        let read = try files.map { try RowFile.read(path: $0) }
        for note in read.flatMap(\.notes) { printError("maskeval: \(note)") }
        var result = try RowTable.merge(read, partial: partial)
        aggregates.apply(to: &result.settings)
        result.settings.bootstrap = bootstrap.settings(over: result.settings.bootstrap)
        var gates = try aggregates.parsedGates(result.settings)
        var known = names
        for row in result.rows where !row.name.isEmpty && known[row.label] == nil { known.names[row.label] = row.name }
        let labels = Set(result.rows.filter { $0.status != .error }.map(\.label))
        for index in gates.indices { try gates[index].resolve(labels: labels, names: known) }
        try finish(result, gates: gates, outputs: outputs, allowMissing: allowMissing)
    }
}
