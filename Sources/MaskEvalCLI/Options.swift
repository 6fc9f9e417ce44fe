import ArgumentParser
import MaskEval

/// Options shared by every command that reads volumes.
struct EngineOptions: ParsableArguments {
    @Option(help: "Worker threads (default: active cores; at most 4× the cores).")
    var threads: Int?

    @Option(name: .customLong("max-voxels"), help: "Refuse volumes with more voxels than this.")
    var maxVoxels: Int?

    /// The most threads worth starting: more only costs memory.
    static var threadLimit: Int { 4 * activeCoreCount }

    var threadCount: Int {
        guard let threads else { return activeCoreCount }
        if threads > Self.threadLimit {
            printError(
                "maskeval: note: --threads \(threads) lowered to \(Self.threadLimit) (4 × \(activeCoreCount) cores)")
            return Self.threadLimit
        }
        return threads
    }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be a positive number") }
        if let maxVoxels, maxVoxels < 1 { throw ValidationError("--max-voxels must be a positive number") }
    }
}

/// `--compat`: one preset, or `all` side by side.
struct PresetChoice: ExpressibleByArgument {
    var presets: [Compat]

    init?(argument: String) {
        if argument == "all" {
            presets = Compat.allCases
        } else if let preset = Compat(rawValue: argument) {
            presets = [preset]
        } else {
            return nil
        }
    }

    static var allValueStrings: [String] { Compat.allCases.map(\.rawValue) + ["all"] }
}

extension AbsentConvention: ExpressibleByArgument {}

/// What defines the numbers of one pair: `compare` and `batch` share them.
struct DefinitionOptions: ParsableArguments {
    @Option(help: "Labels to report: values, ranges and names, e.g. 1,3,5-9,liver (default: every non-zero label).")
    var labels: String?

    @Option(
        name: .customLong("label-names"), help: "Label names: LABEL NAME lines, ITK-SNAP, CSV, JSON or dataset.json.")
    var labelNames: String?

    @Flag(help: "Treat every non-zero voxel as label 1.")
    var binary = false

    @Option(help: "NSD tolerance in mm.")
    var tolerance: Double = 1.0

    @Option(name: .customLong("tolerance-map"), help: "Per-label NSD tolerances: 'LABEL MM' lines or JSON.")
    var toleranceMap: String?

    @Option(help: "Percentile of the HD percentile metric (key hdQ_mm).")
    var percentile: Double = 95

    @Option(
        help: ArgumentHelp(
            "Surface definition: \(PresetChoice.allValueStrings.joined(separator: ", ")).", valueName: "preset"))
    var compat: PresetChoice?

    @Flag(help: "Resample the prediction onto the reference grid (nearest neighbour).")
    var resample = false

    @Flag(name: .customLong("ignore-geometry"), help: "Compare the arrays as they are, with the reference spacing.")
    var ignoreGeometry = false

    @Option(name: .customLong("geometry-tolerance"), help: "Largest corner distance in mm between the two grids.")
    var geometryTolerance: Double = GeometryCheck.defaultToleranceMM

    @OptionGroup var structures: StructureOptions

    func validate() throws {
        if structures.regions != nil {
            for (option, given) in [
                ("--labels", labels != nil), ("--binary", binary), ("--tolerance-map", toleranceMap != nil),
                ("--label-names", labelNames != nil),
            ] where given {
                throw ValidationError("--regions replaces labels: rows are the regions, named by them; drop \(option)")
            }
        }
        guard tolerance >= 0, tolerance.isFinite else {
            throw ValidationError("--tolerance must be a positive number of mm (or 0)")
        }
        guard percentile > 0, percentile <= 100 else { throw ValidationError("--percentile must be in (0, 100]") }
        guard geometryTolerance >= 0, geometryTolerance.isFinite else {
            throw ValidationError("--geometry-tolerance must be a positive number of mm (or 0)")
        }
        if resample && ignoreGeometry { throw ValidationError("--resample and --ignore-geometry exclude each other") }
    }

    /// The inputs these options name, for the output checks.
    var inputFiles: [(String, String)] {
        [("--label-names", labelNames), ("--tolerance-map", toleranceMap), ("--regions", structures.file)].compactMap {
            name, path in
            path.map { (name, $0) }
        }
    }

    func names() throws -> LabelNames { try labelNames.map { try LabelNames.read(path: $0) } ?? LabelNames() }

    /// The settings these options give (names resolve `--labels` and the tolerance map).
    func settings(names: LabelNames, aggregates: AggregateOptions) throws -> RunSettings {
        var settings = RunSettings()
        settings.presets = compat?.presets ?? [.monai]
        settings.percentile = percentile
        settings.toleranceMM = tolerance
        settings.toleranceByLabel = try toleranceMap.map { try ToleranceMap.read(path: $0, names: names) } ?? [:]
        settings.labels = try labels.map { try LabelList.parse($0, names: names) }
        settings.binary = binary
        settings.geometry = resample ? .resampled : (ignoreGeometry ? .ignored : .checked)
        settings.geometryToleranceMM = geometryTolerance
        try settings.applyStructures(regions: structures.regions, ignoreLabel: structures.ignoreLabel)
        aggregates.apply(to: &settings)
        return settings
    }
}

/// `--regions` and `--ignore-label`: `compare`, `batch` and `lesions` share them.
struct StructureOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Evaluate regions (unions of labels) instead of labels: a JSON file {\"whole_tumor\": [1,2,3], …}, "
                + "an nnU-Net dataset.json, or 'brats' (any case; WT {1,2,3}, TC {1,3}, ET {3}).",
            valueName: "file|brats"))
    var regions: String?

    @Option(
        name: .customLong("ignore-label"),
        help: "Reference voxels of this label count in no metric, in both volumes (nnU-Net's ignore label).")
    var ignoreLabel: Int32?

    /// The regions file, when `--regions` names one.
    var file: String? { regions.flatMap { Regions.isBraTSKeyword($0) ? nil : $0 } }
}

/// The lesion-wise rules: `lesions` and `batch --lesions` share them.
struct LesionOptions: ParsableArguments {
    @Option(help: "iou:T (default iou:0.5), iou>:T (strict, T below 1), brats2023 (glioma) or brats2023:met.")
    var match: String?

    @Option(help: "Component connectivity: 6, 18 or 26 (default 26).")
    var connectivity: Int?

    @Option(name: .customLong("min-lesion-voxels"), help: "Leave out components with fewer voxels.")
    var minLesionVoxels: Int?

    @Option(name: .customLong("min-lesion-ml"), help: "Leave out components with a smaller volume (mL).")
    var minLesionML: Double?

    @Option(name: .customLong("hd95-penalty-mm"), help: "BraTS: HD95 of an unmatched lesion (default 374).")
    var penaltyMM: Double?

    /// The options given, for `batch`, where they need `--lesions`.
    var given: [String] {
        [
            ("--match", match != nil), ("--connectivity", connectivity != nil),
            ("--min-lesion-voxels", minLesionVoxels != nil), ("--min-lesion-ml", minLesionML != nil),
            ("--hd95-penalty-mm", penaltyMM != nil),
        ].filter(\.1).map(\.0)
    }

    func validate() throws {
        if let connectivity, Connectivity(rawValue: connectivity) == nil {
            throw ValidationError("--connectivity takes 6, 18 or 26")
        }
        if let match {
            do { _ = try LesionMatching.parse(match) } catch { throw ValidationError("\(error)") }
        }
        if let minLesionVoxels, minLesionVoxels < 0 { throw ValidationError("--min-lesion-voxels must be ≥ 0") }
        if let minLesionML, !(minLesionML >= 0 && minLesionML.isFinite) {
            throw ValidationError("--min-lesion-ml must be a non-negative number")
        }
        if let penaltyMM, !(penaltyMM >= 0 && penaltyMM.isFinite) {
            throw ValidationError("--hd95-penalty-mm must be ≥ 0")
        }
    }

    func settings() throws -> LesionRunSettings {
        LesionRunSettings(
            matching: try LesionMatching.parse(match ?? "iou:0.5"),
            connectivity: connectivity.flatMap(Connectivity.init(rawValue:)) ?? .twentySix,
            minimumVoxels: minLesionVoxels, minimumML: minLesionML, penaltyMM: penaltyMM ?? BraTS2023.penaltyMM)
    }
}

/// How rows are aggregated and gated: `compare`, `batch` and `merge` share them.
struct AggregateOptions: ParsableArguments {
    @Option(
        name: .customLong("penalty-mm"),
        help: "Count +inf as this many mm (or 'diagonal': each case's image diagonal) in aggregates.",
        transform: { text in
            guard let penalty = Penalty(text: text) else {
                throw ValidationError(
                    "--penalty-mm must be a positive number of mm (or 0) or 'diagonal', not '\(text)'")
            }
            return penalty
        })
    var penalty: Penalty?

    @Option(
        help: "How absent structures enter aggregates: perfect (Dice 1, distances 0) or nan (left out, as nnU-Net).")
    var absent: AbsentConvention?

    @Option(
        name: .customLong("require"),
        help: "A quality gate, e.g. dice>=0.8, liver:hd95_mm<=5, mean:dice>=0.85 (repeatable).")
    var gates: [String] = []

    func apply(to settings: inout RunSettings) {
        if let penalty { settings.penalty = penalty }
        if let absent { settings.absent = absent }
    }

    /// The gates, their metrics checked against the settings' columns.
    func parsedGates(_ settings: RunSettings) throws -> [Gate] {
        try gates.map { try Gate.parse($0, columns: settings.columns, percentile: settings.percentile) }
    }
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}

enum RowFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, json
}

/// The format of an output: `--format` if given, else the file's extension, else `fallback`.
/// A `--format` that contradicts the extension is a usage error.
func outputFormat<Format: RawRepresentable & CaseIterable>(
    explicit: Format?, path: String?, fallback: Format, option: String = "--output"
) throws -> Format where Format.RawValue == String {
    let ending = path.flatMap { path -> String? in
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return nil }
        let suffix = name[name.index(after: dot)...].lowercased()
        return suffix == "txt" ? "table" : suffix
    }
    let implied = ending.flatMap { ending in Format.allCases.first { $0.rawValue == ending } }
    if let explicit, let implied, explicit.rawValue != implied.rawValue, let path {
        throw InputError.usage("--format \(explicit.rawValue) contradicts \(option) \(path) (a .\(ending ?? "") file)")
    }
    // An ending that promises what is not written: rows.json.gz got plain text, rows.txt
    // or rows.tsv got CSV, without a word.
    if let path, let ending, implied == nil {
        let formats = Format.allCases.map { $0.rawValue == "table" ? ".txt" : "." + $0.rawValue }
        let known = "(\(formats.joined(separator: ", ")))"
        if ending == "gz" {
            throw InputError.usage("\(option) \(path): reports are written uncompressed; name it without .gz \(known)")
        }
        if explicit == nil && (ending == "tsv" || ending == "table") {
            throw InputError.usage(
                "\(option) \(path): a .\(path.split(separator: ".").last ?? "") file is not written here; "
                    + "use one of \(known) or --format")
        }
    }
    return explicit ?? implied ?? fallback
}

/// `--bootstrap N`, `--seed S`: the confidence intervals of batch summaries (recorded in the
/// settings) and of `diff`.
struct BootstrapOptions: ParsableArguments {
    @Option(help: "Bootstrap resamples of the 95 % confidence intervals (default 2000; 0: none).")
    var bootstrap: Int?

    @Option(help: "Seed of the bootstrap (default 19; recorded in the results).")
    var seed: UInt64?

    func validate() throws {
        if let bootstrap, bootstrap < 0 { throw ValidationError("--bootstrap must be 0 (off) or a positive number") }
        if let bootstrap, bootstrap > 10_000_000 { throw ValidationError("--bootstrap must be at most 10000000") }
        if let seed, seed > BootstrapSettings.maximumSeed {
            throw ValidationError("--seed must be at most \(BootstrapSettings.maximumSeed) (2^53 - 1)")
        }
    }

    /// These options over `base` (a file's recorded settings, else the defaults).
    func settings(over base: BootstrapSettings? = nil) -> BootstrapSettings {
        var settings = base ?? BootstrapSettings()
        if let bootstrap { settings.resamples = bootstrap }
        if let seed { settings.seed = seed }
        return settings
    }
}
