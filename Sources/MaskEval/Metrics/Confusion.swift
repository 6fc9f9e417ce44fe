/// The voxel confusion of one structure, counted over the WHOLE image (not a crop): R and P
/// its reference and prediction masks, N the image's voxels.
///
/// | key | definition | empty-mask cases |
/// |---|---|---|
/// | `tp_voxels` | \|R ∩ P\| (= `intersection_voxels`) | |
/// | `fp_voxels`, `fn_voxels` | \|P \\ R\|, \|R \\ P\| | |
/// | `tn_voxels` | N − \|R ∪ P\| | |
/// | `sensitivity` | TP / (TP + FN) (recall) | undefined when R is empty |
/// | `precision` | TP / (TP + FP) | undefined when P is empty |
/// | `specificity` | TN / (TN + FP) | undefined when every voxel is in R |
/// | `volume_similarity` | 1 − \|FN − FP\| / (2TP + FP + FN) (MetricsReloaded, Taha & Hanbury) | 1 when both are empty |
///
/// Undefined values are null in JSON and fail gates, as other undefined values do.
extension LabelResult {
    public var falsePositiveVoxels: Int { predictionVoxels - intersectionVoxels }
    public var falseNegativeVoxels: Int { referenceVoxels - intersectionVoxels }
    /// nil when the image size is unknown.
    public var trueNegativeVoxels: Int? {
        imageVoxels > 0 ? imageVoxels - (referenceVoxels + predictionVoxels - intersectionVoxels) : nil
    }

    public var sensitivity: Double? {
        referenceVoxels == 0 ? nil : Double(intersectionVoxels) / Double(referenceVoxels)
    }

    public var precision: Double? {
        predictionVoxels == 0 ? nil : Double(intersectionVoxels) / Double(predictionVoxels)
    }

    public var specificity: Double? {
        guard let tn = trueNegativeVoxels, tn + falsePositiveVoxels > 0 else { return nil }
        return Double(tn) / Double(tn + falsePositiveVoxels)
    }

    public var volumeSimilarity: Double {
        let denominator = 2 * intersectionVoxels + falsePositiveVoxels + falseNegativeVoxels
        guard denominator > 0 else { return 1 }
        return 1 - Double(abs(falseNegativeVoxels - falsePositiveVoxels)) / Double(denominator)
    }
}
