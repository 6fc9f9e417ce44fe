/// Voxel maps for viewers (3D Slicer, ITK-SNAP): where the prediction agrees with the
/// reference and where it does not, and the signed surface distances. Both are rendered
/// from the evaluated volumes and the engine's kept distances (`LabelDetail`); writing them
/// is the caller's (`NIfTIWriter`).
public enum ErrorMap {
    /// Codes of the error map (README, "Error map").
    public static let background: UInt8 = 0
    public static let truePositive: UInt8 = 1
    public static let falseNegative: UInt8 = 2
    public static let falsePositive: UInt8 = 3
    /// Both non-zero but different labels: a false negative of the reference label and a
    /// false positive of the predicted one.
    public static let wrongLabel: UInt8 = 4

    /// A map ready to write: stored values and the header that describes them.
    public struct Image: Sendable {
        public var header: NIfTIHeader
        public var values: [Double]
    }

    /// One code per voxel of the reference grid.
    public static func codes(reference: [Int32], prediction: [Int32]) -> [Int32] {
        precondition(reference.count == prediction.count, "volumes must share a grid")
        return zip(reference, prediction).map { r, p in
            if r == 0 { return Int32(p == 0 ? background : falsePositive) }
            if p == r { return Int32(truePositive) }
            return Int32(p == 0 ? falseNegative : wrongLabel)
        }
    }

    /// The error map as a uint8 image with the reference's geometry.
    public static func errorImage(reference: LabelVolume, prediction: LabelVolume) -> Image {
        var header = NIfTIHeader.describing(grid: reference.grid, datatype: .uint8)
        header.descrip = "maskeval error map: 0 bg 1 TP 2 FN 3 FP 4 wrong label"
        return Image(
            header: header, values: codes(reference: reference.labels, prediction: prediction.labels).map(Double.init))
    }

    /// Signed surface distances (mm) on the reference grid: every boundary voxel of a
    /// matched label gets its distance to the other mask's surface, positive where it lies
    /// outside the other mask (prediction too large there, or reference not covered), negative
    /// inside; prediction boundary voxels are written last. 0 elsewhere. Needs an evaluation
    /// made with `keepDetail`.
    public static func distances(_ evaluation: Evaluation, reference: LabelVolume, prediction: LabelVolume) -> [Double] {
        var map = [Double](repeating: 0, count: reference.grid.voxelCount)
        for result in evaluation.labels {
            guard let detail = result.detail else { continue }
            for (index, distance) in zip(detail.referenceBoundary, detail.distances.referenceToPrediction) {
                map[index] = prediction.labels[index] == result.label ? -distance : distance
            }
            for (index, distance) in zip(detail.predictionBoundary, detail.distances.predictionToReference) {
                map[index] = reference.labels[index] == result.label ? -distance : distance
            }
        }
        return map
    }

    /// The distance map as a float32 image with the reference's geometry.
    public static func distanceImage(_ evaluation: Evaluation, reference: LabelVolume, prediction: LabelVolume)
        -> Image
    {
        var header = NIfTIHeader.describing(grid: reference.grid, datatype: .float32)
        header.descrip = "maskeval signed surface distance (mm)"
        return Image(header: header, values: distances(evaluation, reference: reference, prediction: prediction))
    }
}
