/// Every per-structure number MaskEval reports, in column order. Adding a metric means adding
/// a case here (its key, its kind) and its value in `LabelResult.value(of:preset:)`; the
/// reports, gates, aggregates and row files pick it up from this list.
public enum MetricKey: String, CaseIterable, Sendable, Hashable {
    case referenceVoxels = "reference_voxels"
    case predictionVoxels = "prediction_voxels"
    case intersectionVoxels = "intersection_voxels"
    case referenceVolumeML = "reference_volume_ml"
    case predictionVolumeML = "prediction_volume_ml"
    case volumeDifferenceML = "volume_difference_ml"
    case relativeVolumeDifference = "relative_volume_difference"
    case dice
    case jaccard
    case truePositiveVoxels = "tp_voxels"
    case falsePositiveVoxels = "fp_voxels"
    case falseNegativeVoxels = "fn_voxels"
    case trueNegativeVoxels = "tn_voxels"
    case sensitivity
    case precision
    case specificity
    case volumeSimilarity = "volume_similarity"
    case hausdorff = "hausdorff_mm"
    /// `hd95_mm`, or `hdQ_mm` for another percentile: see `name(percentile:)`.
    case hdPercentile = "hd95_mm"
    case assd = "assd_mm"
    case masd = "masd_mm"
    case asdReferenceToPrediction = "asd_reference_to_prediction_mm"
    case asdPredictionToReference = "asd_prediction_to_reference_mm"
    case nsd
    /// Boundary IoU at τ: defined by the `meshmetrics` preset only (`isReported(by:)`).
    case boundaryIoU = "biou"
    // Lesion-wise aggregates of one structure (`lesions`, `batch --lesions`; docs/lesions.md):
    // columns of lesion runs only (`MetricColumn.lesion`), never of `compare`. A lesion run's
    // `precision` column is the lesion-wise tp/(tp+fp) and reuses the key above.
    case referenceLesions = "reference_lesions"
    case predictionLesions = "prediction_lesions"
    case tp, fp, fn, recall, f1, rq, sq, pq
    case sqDice = "sq_dice"
    case pqDice = "pq_dice"
    case leftOutLesions = "left_out_lesions"
    case lesionDice = "lesion_dice"
    case lesionHD95 = "lesion_hd95_mm"

    /// Whole numbers, written without a fraction: voxel counts and lesion counts.
    public var isWhole: Bool {
        isCount || [.referenceLesions, .predictionLesions, .tp, .fp, .fn, .leftOutLesions].contains(self)
    }

    /// The lesion aggregate keys (`precision` aside).
    public var isLesion: Bool { Self.lesionKeys.contains(self) }
    static let lesionKeys: Set<MetricKey> = [
        .referenceLesions, .predictionLesions, .tp, .fp, .fn, .recall, .f1, .rq, .sq, .pq, .sqDice, .pqDice,
        .leftOutLesions, .lesionDice, .lesionHD95,
    ]

    /// Voxel counts: integers in every rendering, not aggregated.
    public var isCount: Bool { rawValue.hasSuffix("_voxels") }

    /// Surface metrics: one value per preset.
    public var isSurface: Bool {
        switch self {
        case .hausdorff, .hdPercentile, .assd, .masd, .asdReferenceToPrediction, .asdPredictionToReference, .nsd,
            .boundaryIoU:
            return true
        default: return false
        }
    }

    /// Whether rows evaluated under `preset` carry this metric (`biou`: `meshmetrics` only).
    public func isReported(by preset: Compat) -> Bool { self != .boundaryIoU || preset == .meshmetrics }

    /// Distances in mm: +∞ on `missed` and `spurious` rows (null in JSON).
    public var isDistance: Bool { rawValue.hasSuffix("_mm") && isSurface }

    /// Which direction is better when two models are compared (`MetricDirection.forKey`):
    /// Dice, Jaccard and NSD higher; distances lower; volume differences smaller in magnitude.
    /// Lesion keys: `tp` and the rates higher, `fp`, `fn` and `lesion_hd95_mm` lower, the
    /// lesion counts none.
    public var direction: MetricDirection? {
        switch self {
        case .tp, .recall, .f1, .rq, .sq, .pq, .sqDice, .pqDice, .lesionDice: return .higherIsBetter
        case .fp, .fn: return .lowerIsBetter
        case .referenceLesions, .predictionLesions, .leftOutLesions: return nil
        default: return MetricDirection.forKey(rawValue)
        }
    }

    /// The key as written in reports; the percentile metric is `hd95_mm` or `hdQ_mm`.
    public func name(percentile q: Double) -> String {
        guard self == .hdPercentile else { return rawValue }
        let text = q == q.rounded() ? String(Int(q)) : String(q)
        return "hd\(text)_mm"
    }

    /// The metric named `name` under percentile `q`.
    public init?(name: String, percentile q: Double) {
        guard let key = Self.allCases.first(where: { $0.name(percentile: q) == name }) else { return nil }
        self = key
    }
}

/// One column of a report: a metric, and for surface metrics of a preset other than the
/// first, that preset (rendered `medpy.hd95_mm`).
public struct MetricColumn: Hashable, Sendable, Comparable {
    public var key: MetricKey
    /// nil: the first preset's value (or a metric that has no preset).
    public var preset: Compat?

    public init(_ key: MetricKey, preset: Compat? = nil) {
        self.key = key
        self.preset = preset
    }

    public func name(percentile q: Double) -> String {
        (preset.map { $0.rawValue + "." } ?? "") + key.name(percentile: q)
    }

    /// The columns of an evaluation with `presets`, in order: every metric the first preset
    /// reports, then the surface metrics each further preset reports (`isReported(by:)`).
    public static func all(presets: [Compat]) -> [MetricColumn] {
        MetricKey.allCases.filter { !$0.isLesion && $0.isReported(by: presets.first ?? .monai) }.map { MetricColumn($0) }
            + presets.dropFirst().flatMap { preset in
                MetricKey.allCases.filter { $0.isSurface && $0.isReported(by: preset) }.map {
                    MetricColumn($0, preset: preset)
                }
            }
    }

    /// Parses a column name written by `name(percentile:)`.
    public init?(name: String, percentile q: Double) {
        if let dot = name.firstIndex(of: ".") {
            guard let preset = Compat(rawValue: String(name[..<dot])),
                let key = MetricKey(name: String(name[name.index(after: dot)...]), percentile: q), key.isSurface
            else { return nil }
            self.init(key, preset: preset)
        } else {
            guard let key = MetricKey(name: name, percentile: q) else { return nil }
            self.init(key)
        }
    }

    public static func < (a: MetricColumn, b: MetricColumn) -> Bool {
        let order = MetricKey.allCases
        let pa = a.preset.map { Compat.allCases.firstIndex(of: $0) ?? 0 } ?? -1
        let pb = b.preset.map { Compat.allCases.firstIndex(of: $0) ?? 0 } ?? -1
        return (pa, order.firstIndex(of: a.key) ?? 0) < (pb, order.firstIndex(of: b.key) ?? 0)
    }
}

extension LabelResult {
    /// The value of `key` under `preset` (surface metrics); nil when undefined (the relative
    /// volume difference of an empty reference).
    public func value(of key: MetricKey, preset: Compat) -> Double? {
        switch key {
        case .referenceVoxels: return Double(referenceVoxels)
        case .predictionVoxels: return Double(predictionVoxels)
        case .intersectionVoxels: return Double(intersectionVoxels)
        case .referenceVolumeML: return referenceVolumeML
        case .predictionVolumeML: return predictionVolumeML
        case .volumeDifferenceML: return volumeDifferenceML
        case .relativeVolumeDifference: return relativeVolumeDifference
        case .dice: return dice
        case .jaccard: return jaccard
        case .truePositiveVoxels: return Double(intersectionVoxels)
        case .falsePositiveVoxels: return Double(falsePositiveVoxels)
        case .falseNegativeVoxels: return Double(falseNegativeVoxels)
        case .trueNegativeVoxels: return trueNegativeVoxels.map(Double.init)
        case .sensitivity: return sensitivity
        case .precision: return precision
        case .specificity: return specificity
        case .volumeSimilarity: return volumeSimilarity
        case .hausdorff: return surface[preset]?.hausdorffMM
        case .hdPercentile: return surface[preset]?.hdPercentileMM
        case .assd: return surface[preset]?.assdMM
        case .masd: return surface[preset]?.masdMM
        case .asdReferenceToPrediction: return surface[preset]?.asdReferenceToPredictionMM
        case .asdPredictionToReference: return surface[preset]?.asdPredictionToReferenceMM
        case .nsd: return surface[preset]?.nsd
        case .boundaryIoU:
            // NaN (both bands empty) is undefined.
            guard key.isReported(by: preset), let value = surface[preset]?.boundaryIoU, !value.isNaN else { return nil }
            return value
        case .referenceLesions, .predictionLesions, .tp, .fp, .fn, .recall, .f1, .rq, .sq, .pq, .sqDice, .pqDice,
            .leftOutLesions, .lesionDice, .lesionHD95:
            return nil  // lesion runs only
        }
    }
}
