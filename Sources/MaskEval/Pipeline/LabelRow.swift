/// What a row says: a label status (METRICS.md), a case without a prediction file, or a
/// case that could not be evaluated.
public enum RowStatus: String, CaseIterable, Sendable {
    case matched, missed, spurious, absent
    /// The case has a reference but no prediction file. Its values are those of `missed`
    /// (Dice 0, distances +∞), and it counts as missed in aggregates.
    case noPrediction = "no_prediction"
    /// The case could not be evaluated; the message is in `error`.
    case error

    public init(_ status: LabelStatus) {
        switch status {
        case .matched: self = .matched
        case .missed: self = .missed
        case .spurious: self = .spurious
        case .absent: self = .absent
        }
    }

    /// Rows whose values enter aggregates and gates.
    public var isEvaluated: Bool { self != .error }
}

/// The one result model: a structure of a case, with every value keyed by column. `compare`
/// gives one case's rows; `batch` and `merge` many. Tables, CSV, JSON and HTML render it.
public struct LabelRow: Equatable, Sendable {
    /// The case id ("" for `compare`).
    public var caseID: String
    public var label: Int32
    public var name: String
    public var status: RowStatus
    /// Values by column; a missing column is undefined (null); +∞ is kept as such.
    public var values: [MetricColumn: Double]
    /// The diagonal of the case's reference image in mm (for `--penalty-mm diagonal`).
    public var diagonalMM: Double?
    /// Why the case failed (`error` rows), else empty.
    public var error: String

    public init(
        caseID: String, label: Int32, name: String, status: RowStatus, values: [MetricColumn: Double] = [:],
        diagonalMM: Double? = nil, error: String = ""
    ) {
        self.caseID = caseID
        self.label = label
        self.name = name
        self.status = status
        self.values = values
        self.diagonalMM = diagonalMM
        self.error = error
    }

    /// The first preset's value of `key`.
    public subscript(key: MetricKey) -> Double? { values[MetricColumn(key)] }

    /// The rows of an evaluation for `caseID`, in label order.
    public static func rows(
        _ evaluation: Evaluation, caseID: String, names: LabelNames, noPrediction: Bool = false
    ) -> [LabelRow] {
        let columns = MetricColumn.all(presets: evaluation.settings.presets)
        let primary = evaluation.settings.presets.first ?? .monai
        return evaluation.labels.map { r in
            var values: [MetricColumn: Double] = [:]
            for column in columns {
                if let value = r.value(of: column.key, preset: column.preset ?? primary) { values[column] = value }
            }
            return LabelRow(
                caseID: caseID, label: r.label, name: names[r.label] ?? "",
                status: noPrediction && r.status == .missed ? .noPrediction : RowStatus(r.status), values: values,
                diagonalMM: evaluation.grid.diagonalMM)
        }
    }
}
