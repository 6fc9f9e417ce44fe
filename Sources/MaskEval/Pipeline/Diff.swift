import Foundation

/// `maskeval diff A B`: model B against model A on the same cases, from the row files of two
/// batch runs on the same references. Differences are always **B − A**.
///
/// Pairing (`ModelDiff.pair`):
/// - The two runs must agree on every setting that changes a row's values or its aggregates
///   (`RunSettings.valueDifferences`: presets, percentile, tolerances, labels, penalty, absent,
///   binary, geometry; the prediction folder and the bootstrap may differ) and on the
///   references: the same reference folder, or pairs files whose cases name the same reference
///   files (a reference folder against a pairs file: every reference must lie in the folder).
///   Otherwise refused (exit 65) naming what differs.
/// - Rows pair by (case, label). A case in one file only is refused unless `partial` (then it
///   is left out and listed). Within a case both files have, a structure row in one file only
///   is a structure in neither volume of the other run (the reference is shared, so it is not
///   in the reference, and not in that prediction): it pairs with that run's `absent` values
///   (Dice 1, distances 0, NSD 1; NaN with `--absent nan`). Such a row whose reference holds the
///   structure (`matched`, `missed`, `no_prediction`) means the references differ: refused. A
///   case where neither file has the structure is no pair (it is in no row of either summary).
/// - Per pair, a value is the row's value with these exceptions: an `error` row (either side)
///   or an undefined value gives NaN, which `PairedComparison` drops and counts in `dropped`;
///   `absent` rows give NaN with `--absent nan`. +∞ stays +∞: the rank test ranks it worst;
///   means use the penalty (`--penalty-mm`; `diagonal`: the case's reference diagonal).
///
/// Per metric and structure: `PairedComparison.compare` (means, medians, the paired bootstrap
/// interval of the mean difference, the Wilcoxon signed-rank test as scipy.stats.wilcoxon,
/// wins/ties/losses within the metric's tie tolerance, the better side); per metric, the
/// Wilcoxon p-values of all structures are Holm-adjusted (`Holm.adjust`, level `alpha`).
public enum ModelDiff {
    /// What the comparison is asked for.
    public struct Options: Sendable {
        /// The metrics compared, each needing a `direction`.
        public var columns: [MetricColumn]
        /// |B − A| at or below it is a tie, per metric; `defaultTolerance` for the rest.
        public var tolerances: [MetricColumn: Double] = [:]
        public var defaultTolerance = 0.0
        /// The family-wise level of the Holm correction.
        public var alpha = 0.05
        public var bootstrap = BootstrapSettings()
        /// Pair the cases both files have instead of refusing files with other cases.
        public var partial = false
        public var threads = 1
        /// The cases of the pairs files the two runs name (read by the caller with
        /// `PairsFile.read`), to check that both used the same references.
        public var pairsFiles: [String: [BatchCase]] = [:]

        public init(columns: [MetricColumn]) {
            self.columns = columns
        }

        public func tolerance(_ column: MetricColumn) -> Double { tolerances[column] ?? defaultTolerance }
    }

    /// The metrics compared unless asked otherwise: Dice, HDq, ASSD, NSD of the first preset.
    public static let defaultColumns: [MetricColumn] = [
        MetricColumn(.dice), MetricColumn(.hdPercentile), MetricColumn(.assd), MetricColumn(.nsd),
    ]

    /// The metrics compared for rows made with `settings`: `defaultColumns`, or for lesion
    /// rows F1 and PQ (IoU rules) or `lesion_dice` and `lesion_hd95_mm` (BraTS rules).
    public static func defaultColumns(for settings: RunSettings) -> [MetricColumn] {
        switch settings.lesions?.matching {
        case .none: return defaultColumns
        case .iou?: return [MetricColumn(.f1), MetricColumn(.pq)]
        case .brats2023?: return [MetricColumn(.lesionDice), MetricColumn(.lesionHD95)]
        }
    }

    /// One structure of one metric.
    public struct Entry: Equatable, Sendable {
        public var label: Int32
        public var name: String
        public var comparison: PairedComparison
        /// Across the structures of this metric.
        public var holm: Holm.Adjusted
    }

    /// One metric: its direction, tie tolerance and one entry per structure (label order).
    public struct Block: Equatable, Sendable {
        public var column: MetricColumn
        public var direction: MetricDirection
        public var tolerance: Double
        public var entries: [Entry]
    }

    /// Rows two runs have, paired.
    public struct Pairing: Sendable {
        /// Cases in both files, in id order.
        public var cases: [String]
        /// Cases left out with `partial`, by the file that has them.
        public var onlyInA: [String]
        public var onlyInB: [String]
        /// Cases with an `error` row in A or B (their pairs are dropped).
        public var errorCases: [String]
        /// (label, name, A's row, B's row) per case and structure; nil: in neither volume of that run.
        public var structures: [(label: Int32, name: String, pairs: [(a: LabelRow?, b: LabelRow?)])]
    }

    public struct Result: Sendable {
        public var pathA: String
        public var pathB: String
        /// A's settings (the same as B's where it matters), with the diff's penalty and absent.
        public var settings: RunSettings
        public var options: Options
        public var pairing: Pairing
        public var blocks: [Block]
    }

    /// Compares two runs' results, named by `pathA` and `pathB` in messages and reports.
    public static func run(
        a: BatchResult, pathA: String, b: BatchResult, pathB: String, options: Options
    ) throws -> Result {
        try run(a: RowTable.File(path: pathA, result: a), b: RowTable.File(path: pathB, result: b), options: options)
    }

    /// Pairs the two files and compares them (see the type's documentation).
    public static func run(a: RowTable.File, b: RowTable.File, options: Options) throws -> Result {
        let pairing = try pair(a: a, b: b, options: options)
        let settings = a.result.settings
        let blocks = options.columns.map { column in
            block(column: column, pairing: pairing, settings: settings, options: options)
        }
        return Result(
            pathA: a.path, pathB: b.path, settings: settings, options: options, pairing: pairing, blocks: blocks)
    }

    /// The settings check, the reference check and the pairing of rows.
    public static func pair(a: RowTable.File, b: RowTable.File, options: Options) throws -> Pairing {
        let partial = options.partial
        let differences = b.result.settings.valueDifferences(from: a.result.settings)
        if !differences.isEmpty {
            throw InputError.badFile(
                path: b.path,
                reason: "made with other settings than \(a.path): \(differences.joined(separator: "; "))"
                    + " (this file's value first); diff needs the same")
        }
        try checkReferences(a: a, b: b, options: options)
        let rowsA = try index(a)
        let rowsB = try index(b)
        let casesA = Set(rowsA.keys)
        let casesB = Set(rowsB.keys)
        let onlyA = casesA.subtracting(casesB).sorted()
        let onlyB = casesB.subtracting(casesA).sorted()
        if !partial && (!onlyA.isEmpty || !onlyB.isEmpty) {
            var parts: [String] = []
            if !onlyA.isEmpty { parts.append("cases only in \(a.path): " + list(onlyA)) }
            if !onlyB.isEmpty { parts.append("cases only in \(b.path): " + list(onlyB)) }
            throw InputError.badFile(
                path: b.path,
                reason: "the two files have other cases (" + parts.joined(separator: "; ")
                    + "); --partial compares the cases both have")
        }
        let cases = casesA.intersection(casesB).sorted()
        var names: [Int32: String] = [:]
        var labels = Set<Int32>()
        var errorCases: [String] = []
        for id in cases {
            let caseA = rowsA[id] ?? [:]
            let caseB = rowsB[id] ?? [:]
            let failedA = caseA.values.contains { $0.status == .error }
            let failedB = caseB.values.contains { $0.status == .error }
            if failedA || failedB { errorCases.append(id) }
            // In label order, A's row first, so messages and names never depend on hashing.
            for label in Set(caseA.keys).union(caseB.keys).sorted() {
                guard let row = caseA[label] ?? caseB[label] else { continue }
                labels.insert(label)
                if names[label]?.isEmpty ?? true { names[label] = row.name.isEmpty ? caseB[label]?.name : row.name }
                // A failed case's rows say nothing about its reference.
                let other =
                    caseA[label] == nil && !failedA
                    ? (b.path, a.path) : (caseB[label] == nil && !failedB ? (a.path, b.path) : nil)
                if let (has, lacks) = other, [.matched, .missed, .noPrediction].contains(row.status) {
                    throw InputError.badFile(
                        path: lacks,
                        reason: "case \(id) has no row for label \(label), whose reference in \(has) is not empty "
                            + "(\(row.status.rawValue)): not the same references")
                }
            }
        }
        // A case whose evaluation failed has label 0 when no structure was known.
        labels.remove(0)
        // A failed case lacking a structure's row (none was known to it) still failed there.
        func row(_ rows: [String: [Int32: LabelRow]], _ id: String, _ label: Int32) -> LabelRow? {
            if let row = rows[id]?[label] { return row }
            guard let failed = rows[id]?.values.first(where: { $0.status == .error }) else { return nil }
            return LabelRow(caseID: id, label: label, name: "", status: .error, error: failed.error)
        }
        // A case where neither run has the structure (in neither volume of either) is no pair,
        // as it is no row of either summary.
        let structures = labels.sorted().map { label in
            (
                label, names[label] ?? "",
                cases.map { id in (a: row(rowsA, id, label), b: row(rowsB, id, label)) }.filter {
                    $0.a != nil || $0.b != nil
                }
            )
        }
        return Pairing(cases: cases, onlyInA: onlyA, onlyInB: onlyB, errorCases: errorCases, structures: structures)
    }

    /// The rows of a file by case and label; a (case, label) twice is refused.
    static func index(_ file: RowTable.File) throws -> [String: [Int32: LabelRow]] {
        var out: [String: [Int32: LabelRow]] = [:]
        for row in file.result.rows {
            if out[row.caseID]?[row.label] != nil {
                throw InputError.badFile(
                    path: file.path, reason: "case \(Escape.terminal(row.caseID)) has label \(row.label) twice")
            }
            out[row.caseID, default: [:]][row.label] = row
        }
        return out
    }

    static func list(_ ids: [String]) -> String {
        ids.prefix(5).map(Escape.terminal).joined(separator: ", ") + (ids.count > 5 ? " and \(ids.count - 5) more" : "")
    }

    /// Where the references of a run are: a folder, or per case a file (pairs file).
    enum References {
        case folder(String)
        case files([String: String])
        case unknown
    }

    static func references(_ file: RowTable.File, pairsFiles: [String: [BatchCase]]) throws -> References {
        let inputs = file.result.settings.inputs
        if let folder = inputs["references"] { return .folder(canonical(folder)) }
        guard let pairs = inputs["pairs"] else { return .unknown }
        guard let cases = pairsFiles[pairs] else {
            throw InputError.badFile(
                path: file.path, reason: "its references cannot be checked: pairs file \(pairs) was not read")
        }
        return .files(
            Dictionary(
                cases.compactMap { item in item.reference.map { (item.id, canonical($0)) } },
                uniquingKeysWith: { first, _ in first }))
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Refuses two runs whose references are not the same folder or the same files.
    static func checkReferences(a: RowTable.File, b: RowTable.File, options: Options) throws {
        func refuse(_ detail: String) -> InputError {
            .badFile(path: b.path, reason: "not the same references as \(a.path): \(detail)")
        }
        switch (try references(a, pairsFiles: options.pairsFiles), try references(b, pairsFiles: options.pairsFiles)) {
        case (.unknown, _), (_, .unknown):
            return  // nothing recorded: the row check (a reference structure on one side only) remains
        case (.folder(let x), .folder(let y)):
            if x != y { throw refuse("\(x) and \(y)") }
        case (.files(let x), .files(let y)):
            for (id, path) in x.sorted(by: { $0.key < $1.key }) {
                if let other = y[id], other != path { throw refuse("case \(id): \(path) and \(other)") }
            }
        case (.folder(let folder), .files(let files)), (.files(let files), .folder(let folder)):
            for (id, path) in files.sorted(by: { $0.key < $1.key })
            where PathName.folder(of: path) != folder {
                throw refuse("case \(id): \(path) is not in \(folder)")
            }
        }
    }

    /// The values of `column` for model A and model B, pair by pair (see the type's
    /// documentation); `penalised` replaces +∞ by the penalty of the case (for the means).
    static func values(
        _ pairs: [(a: LabelRow?, b: LabelRow?)], label: Int32, column: MetricColumn, settings: RunSettings,
        penalised: Bool
    ) -> (a: [Double], b: [Double]) {
        func value(_ row: LabelRow?, diagonal: Double?) -> Double {
            guard let row else { return settings.absent == .nan ? .nan : absentValue(column, settings: settings) }
            guard row.status.isEvaluated, !(row.status == .absent && settings.absent == .nan),
                let value = row.values[column]
            else { return .nan }
            if penalised && value == .infinity, let penalty = settings.penalty.value(diagonalMM: diagonal) {
                return penalty
            }
            return value
        }
        var a: [Double] = []
        var b: [Double] = []
        for pair in pairs {
            let diagonal = pair.a?.diagonalMM ?? pair.b?.diagonalMM
            a.append(value(pair.a, diagonal: diagonal))
            b.append(value(pair.b, diagonal: diagonal))
        }
        return (a, b)
    }

    /// The value of `column` for a structure in neither volume, by the engine's own rule.
    static func absentValue(_ column: MetricColumn, settings: RunSettings) -> Double {
        let preset = column.preset ?? settings.primary
        let absent = LabelResult(
            label: 0, status: .absent, referenceVoxels: 0, predictionVoxels: 0, intersectionVoxels: 0, voxelVolumeML: 1,
            surface: [preset: .empty(absent: true)], detail: nil)
        return absent.value(of: column.key, preset: preset) ?? .nan
    }

    static func block(column: MetricColumn, pairing: Pairing, settings: RunSettings, options: Options) -> Block {
        let direction = column.key.direction ?? .higherIsBetter
        let tolerance = options.tolerance(column)
        let comparisons = pairing.structures.map { structure -> PairedComparison in
            let raw = values(
                structure.pairs, label: structure.label, column: column, settings: settings, penalised: false)
            switch settings.penalty {
            case .none, .millimetres:
                return PairedComparison.compare(
                    a: raw.a, b: raw.b, direction: direction, tolerance: tolerance,
                    penalty: settings.penalty.value(diagonalMM: nil), resamples: options.bootstrap.resamples,
                    seed: options.bootstrap.seed, threads: options.threads)
            case .diagonal:
                // Each case has its own penalty: the test and the counts read +∞ as it is, the
                // means read the values with +∞ replaced by the case's diagonal.
                var result = PairedComparison.compare(
                    a: raw.a, b: raw.b, direction: direction, tolerance: tolerance, resamples: 0)
                let penalised = values(
                    structure.pairs, label: structure.label, column: column, settings: settings, penalised: true)
                let means = PairedComparison.compare(
                    a: penalised.a, b: penalised.b, direction: direction, tolerance: tolerance,
                    resamples: options.bootstrap.resamples, seed: options.bootstrap.seed, threads: options.threads)
                result.meanN = means.meanN
                result.meanA = means.meanA
                result.meanB = means.meanB
                result.meanDifference = means.meanDifference
                result.medianDifference = means.medianDifference
                result.meanDifferenceInterval = means.meanDifferenceInterval
                return result
            }
        }
        let adjusted = Holm.adjust(comparisons.map { $0.wilcoxon?.pValue }, alpha: options.alpha)
        let entries = zip(pairing.structures, zip(comparisons, adjusted)).map { structure, item in
            Entry(label: structure.label, name: structure.name, comparison: item.0, holm: item.1)
        }
        return Block(column: column, direction: direction, tolerance: tolerance, entries: entries)
    }
}
