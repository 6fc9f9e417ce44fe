/// The notes a run prints on stderr after its report: what the numbers do not show and a user
/// would otherwise take for a pass. One source for `compare`, `batch` (and `merge`) and
/// `lesions`, so every command says the same thing in the same words.
///
/// - `--binary` hint: every structure is missed or spurious, as when one mask is stored 0/1
///   and the other 0/255.
/// - Absent regions (or `--labels`): a `--regions` row none of whose labels is in either
///   volume, or a label asked for with `--labels` that is in neither (in a batch: of any case),
///   is `absent`, Dice 1 or no lesion to find, so a gate on it passes; a label list that does
///   not fit the volumes (a typo, another dataset's numbering) would go unseen.
/// - Ignore label: `--ignore-label L` with no voxel of L in the reference left nothing out, as
///   a mistyped label (99 for 9) would (in a batch: the cases where it is missing).
/// - Boundary IoU: the `meshmetrics` preset's `biou` is undefined (null) for matched
///   structures when no voxel centre lies within τ of the surface (τ at most half the spacing).
/// - Tolerance map: an entry for a label no structure has leaves it unused.
/// - Scaled labels: an input whose `scl_slope`/`scl_inter` change its stored labels (slope 2,
///   inter 1: a stored 0, the background, is label 1).
/// - Nothing evaluated: neither volume (of a case) has a non-zero label, so the report (the
///   case) has no row: a CSV of its header only, an exit status 0 without a gate, which a
///   pipeline reads as a pass (an all-zero prediction written over an all-zero reference by a
///   broken export); in a batch such a case is in no aggregate and no case count.
public enum RunNotes {
    /// What a case tells the notes beyond its rows.
    public struct CaseFacts: Equatable, Sendable {
        /// The case id ("" for `compare` and `lesions`).
        public var caseID: String
        /// Reference voxels of the ignore label left out of every metric (0 without one).
        public var ignoredVoxels: Int
        /// The smallest voxel spacing of the reference, mm.
        public var smallestSpacingMM: Double
        /// "PATH: what scl_slope/scl_inter did" for each input whose stored labels they changed.
        public var scaledLabels: [String]

        public init(caseID: String, ignoredVoxels: Int, smallestSpacingMM: Double, scaledLabels: [String] = []) {
            self.caseID = caseID
            self.ignoredVoxels = ignoredVoxels
            self.smallestSpacingMM = smallestSpacingMM
            self.scaledLabels = scaledLabels
        }
    }

    /// Every note for `rows` (one case or many) evaluated under `settings`; `cases`: the facts
    /// of the cases evaluated (none after `merge`, which has rows only: no ignore-label note).
    /// Lines without the `maskeval: ` prefix.
    public static func lines(rows: [LabelRow], cases: [CaseFacts], settings: RunSettings) -> [String] {
        let evaluated = rows.filter(\.status.isEvaluated)
        return [
            nothingEvaluated(rows, cases: cases), binaryHint(evaluated, settings: settings),
            absentRegions(evaluated, settings: settings),
            ignoreLabel(cases, settings: settings), boundaryIoU(evaluated, cases: cases, settings: settings),
            scaledLabels(cases), unusedTolerances(evaluated, settings: settings),
        ].compactMap { $0 }
    }

    /// Inputs whose scl_slope/scl_inter change the stored labels (a stored 0 can become a
    /// structure): every NIfTI reader applies them, so the numbers are right, but a label map
    /// is rarely meant to be scaled.
    static func scaledLabels(_ cases: [CaseFacts]) -> String? {
        let all = cases.flatMap { facts in
            facts.scaledLabels.map { facts.caseID.isEmpty ? $0 : "case \(Escape.terminal(facts.caseID)): \($0)" }
        }
        guard let first = all.first else { return nil }
        return "note: " + first + (all.count > 1 ? " (and \(all.count - 1) more scaled input(s))" : "")
    }

    /// " of any of the N cases" when `rows` span several cases, else "".
    static func anyCase(_ rows: [LabelRow]) -> String {
        let count = Set(rows.map(\.caseID)).count
        return count > 1 ? " of any of the \(count) cases" : ""
    }

    /// Distinct labels of `rows` in order, at most five, then "…".
    static func labelList(_ rows: [LabelRow]) -> String {
        let labels = Array(Set(rows.map(\.label))).sorted()
        return labels.prefix(5).map(String.init).joined(separator: ", ") + (labels.count > 5 ? ", …" : "")
    }

    /// The nothing-evaluated note for a caller that has the rows and the ids of the cases
    /// evaluated but not their facts (the C interface's batch summary, made from rows).
    public static func casesWithoutRows(_ rows: [LabelRow], caseIDs: [String]) -> String? {
        nothingEvaluated(rows, cases: caseIDs.map { CaseFacts(caseID: $0, ignoredVoxels: 0, smallestSpacingMM: 0) })
    }

    /// Cases evaluated without a row: both volumes are background, so the case is in no row,
    /// no aggregate and no case count (a batch of 2 says "1 case").
    static func nothingEvaluated(_ rows: [LabelRow], cases: [CaseFacts]) -> String? {
        let withRows = Set(rows.map(\.caseID))
        let empty = cases.filter { !withRows.contains($0.caseID) }
        guard !empty.isEmpty else { return nil }
        let advice = "(name the labels expected with --labels to report them as absent)"
        if cases.count == 1 {
            return "note: neither volume has a non-zero label; no structure was evaluated " + advice
        }
        if empty.count == cases.count {
            return "note: no volume of the \(cases.count) cases has a non-zero label; no structure was evaluated "
                + advice
        }
        let ids = empty.map(\.caseID).sorted()
        return "note: neither volume of \(empty.count) of the \(cases.count) cases ("
            + ids.prefix(10).map(Escape.terminal).joined(separator: ", ") + (ids.count > 10 ? ", …" : "")
            + ") has a non-zero label; they have no row and count in no aggregate " + advice
    }

    /// Every structure missed or spurious, some of each: the masks may be one structure
    /// stored with other values (0/1 against 0/255), which `--binary` compares.
    static func binaryHint(_ rows: [LabelRow], settings: RunSettings) -> String? {
        guard !settings.binary, settings.regions == nil, !rows.isEmpty,
            rows.allSatisfy({ $0.status == .missed || $0.status == .spurious })
        else { return nil }
        let missed = rows.filter { $0.status == .missed }
        let spurious = rows.filter { $0.status == .spurious }
        guard !missed.isEmpty, !spurious.isEmpty else { return nil }
        return "hint: no structure was found in both volumes\(anyCase(rows)) (the reference has labels "
            + labelList(missed) + ", the prediction " + labelList(spurious)
            + "); if both are binary masks stored with different values, use --binary"
    }

    /// The regions, or the `--labels`, whose every evaluated row is `absent`.
    static func absentRegions(_ rows: [LabelRow], settings: RunSettings) -> String? {
        let asked: [(label: Int32, text: String)]
        if let regions = settings.regions {
            asked = regions.enumerated().map { index, region in
                (Int32(index + 1), "'\(region.name)' (\(region.labels.map(String.init).joined(separator: ", ")))")
            }
        } else if let labels = settings.labels, !settings.binary {
            asked = labels.map { ($0, String($0)) }
        } else {
            return nil
        }
        let absent = asked.filter { label, _ in
            let own = rows.filter { $0.label == label }
            return !own.isEmpty && own.allSatisfy { $0.status == .absent }
        }
        guard !absent.isEmpty else { return nil }
        let what =
            settings.regions != nil
            ? "no label of \(absent.count == 1 ? "region" : "regions") "
            : "no voxel of \(absent.count == 1 ? "label" : "labels") "
        let list = absent.prefix(10).map(\.text).joined(separator: ", ") + (absent.count > 10 ? ", …" : "")
        let meaning =
            settings.lesions == nil
            ? "Dice 1; left out of aggregates under --absent nan"
            : "no lesion on either side; gates on its undefined rates are skipped"
        return "note: " + what + list + " is in either volume\(anyCase(rows)); reported absent (\(meaning))"
    }

    /// The ignore label is set and some case's reference holds none of it.
    static func ignoreLabel(_ cases: [CaseFacts], settings: RunSettings) -> String? {
        guard let ignore = settings.ignoreLabel else { return nil }
        let without = cases.filter { $0.ignoredVoxels == 0 }
        guard let first = without.first else { return nil }
        let text = "note: the ignore label \(ignore) is not in the reference"
        if cases.count == 1 {
            let place = first.caseID.isEmpty ? "" : " of case \(Escape.terminal(first.caseID))"
            return text + place + "; no voxel was left out"
        }
        if without.count == cases.count { return text + " of any of the \(cases.count) cases; no voxel was left out" }
        let ids = without.map(\.caseID).sorted()
        return text + " of \(without.count) of the \(cases.count) cases ("
            + ids.prefix(10).map(Escape.terminal).joined(separator: ", ") + (ids.count > 10 ? ", …" : "")
            + "); no voxel was left out there"
    }

    /// A `--tolerance-map` entry for a label that no evaluated row has (in neither volume nor
    /// `--labels`, in any case): a map written for another numbering, or a typo, would leave
    /// every structure at the default τ without a word.
    static func unusedTolerances(_ rows: [LabelRow], settings: RunSettings) -> String? {
        guard !settings.toleranceByLabel.isEmpty, settings.regions == nil, !settings.binary, !rows.isEmpty
        else { return nil }
        let present = Set(rows.map(\.label))
        let unused = settings.toleranceByLabel.keys.filter { !present.contains($0) }.sorted()
        guard !unused.isEmpty else { return nil }
        let list = unused.prefix(10).map(String.init).joined(separator: ", ") + (unused.count > 10 ? ", …" : "")
        let used = settings.toleranceByLabel.keys.contains(where: present.contains)
        return "note: --tolerance-map gives τ for \(unused.count == 1 ? "label" : "labels") \(list), which no "
            + "structure has\(anyCase(rows)) (in neither volume nor --labels); the structures evaluated use "
            + (used ? "their own entries or " : "") + "the default τ (\(Format.compact(settings.toleranceMM)) mm)"
    }

    /// The `meshmetrics` preset's `biou` is undefined for matched structures: without this
    /// the table shows `-` and the JSON null with no reason given.
    static func boundaryIoU(_ rows: [LabelRow], cases: [CaseFacts], settings: RunSettings) -> String? {
        guard let column = settings.columns.first(where: { $0.key == .boundaryIoU }) else { return nil }
        let undefined = rows.filter { $0.status == .matched && !($0.values[column]?.isFinite ?? false) }
        guard !undefined.isEmpty else { return nil }
        let caseCount = Set(undefined.map(\.caseID)).count
        let inCases = Set(rows.map(\.caseID)).count > 1 ? " in \(caseCount) case\(caseCount == 1 ? "" : "s")" : ""
        let spacing = cases.map(\.smallestSpacingMM).min().map { " (\(Format.compact($0)) mm)" } ?? ""
        return "note: \(settings.columnName(column)) is undefined (null) for label(s) \(labelList(undefined))\(inCases)"
            + ": no voxel centre lies within τ of its surface, as when τ (\(Format.compact(settings.toleranceMM)) mm)"
            + " is at most half the voxel spacing\(spacing); MeshMetrics raises an error there; a larger --tolerance"
            + " defines it"
    }
}

extension RunNotes {
    /// "PATH: what scl_slope/scl_inter did" for each input whose labels they changed.
    static func scaled(_ inputs: [LabelVolume.Description]) -> [String] {
        inputs.compactMap { input in input.labelScaling.map { "\(input.path): \($0)" } }
    }
}

extension Comparison.Result {
    /// This case's facts for `RunNotes`.
    public func facts(caseID: String = "") -> RunNotes.CaseFacts {
        RunNotes.CaseFacts(
            caseID: caseID, ignoredVoxels: evaluation.ignoredVoxels,
            smallestSpacingMM: referenceVolume.grid.spacingMM.min() ?? 0,
            scaledLabels: RunNotes.scaled([reference, prediction]))
    }
}

extension Comparison.LesionResult {
    /// This case's facts for `RunNotes`.
    public func facts(caseID: String = "") -> RunNotes.CaseFacts {
        RunNotes.CaseFacts(
            caseID: caseID, ignoredVoxels: ignoredVoxels, smallestSpacingMM: referenceVolume.grid.spacingMM.min() ?? 0,
            scaledLabels: RunNotes.scaled([reference, prediction]))
    }
}
