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

    /// A header for a map on the reference grid: the reference's own geometry fields (sform
    /// and qform, their codes, pixdim with qfac), so that viewers place the map exactly where
    /// the reference is; an ANALYZE reference (no codes) gets an sform (code 2, aligned).
    public static func header(like reference: LabelVolume, datatype: VoxelType) -> NIfTIHeader {
        var header = NIfTIHeader.describing(grid: reference.grid, datatype: datatype)
        let source = reference.header
        guard source.niftiVersion > 0, source.sformCode > 0 || source.qformCode > 0 else { return header }
        header.sformCode = source.sformCode
        header.qformCode = source.qformCode
        if source.sformCode > 0 {
            (header.srowX, header.srowY, header.srowZ) = (source.srowX, source.srowY, source.srowZ)
        }
        (header.quaternB, header.quaternC, header.quaternD) = (source.quaternB, source.quaternC, source.quaternD)
        (header.qoffsetX, header.qoffsetY, header.qoffsetZ) = (source.qoffsetX, source.qoffsetY, source.qoffsetZ)
        header.pixdim = Array(source.pixdim.prefix(4)) + [0, 0, 0, 0]
        header.xyzUnits = source.xyzUnits
        return header
    }

    /// The error map as a uint8 image with the reference's geometry.
    public static func errorImage(reference: LabelVolume, prediction: LabelVolume) -> Image {
        var header = Self.header(like: reference, datatype: .uint8)
        header.descrip = "maskeval error map: 0 bg 1 TP 2 FN 3 FP 4 wrong label"
        return Image(
            header: header,
            values: codes(reference: reference.int32Labels, prediction: prediction.int32Labels).map(Double.init))
    }

    /// Signed surface distances (mm) on the reference grid, NaN where a voxel is on no
    /// boundary. Every boundary voxel of a matched label holds its distance to the other
    /// mask's surface (the engine's `LabelDetail` distances), positive where it lies outside the
    /// other mask (prediction too large there, or reference not covered), negative inside.
    /// Missed and spurious structures are included: their boundary voxels hold +∞, or
    /// `penaltyMM` when given.
    ///
    /// Where labels touch, a voxel can be on the reference boundary of one label and on the
    /// prediction boundary of another: the voxel's reference label wins (its reference-side
    /// distance is written; the prediction side of the other label is left out there). Every
    /// reference boundary voxel thus holds its own label's value, and every prediction
    /// boundary voxel that is on no reference boundary holds its own. Needs an evaluation made
    /// with `keepDetail`.
    public static func distances(
        _ evaluation: Evaluation, reference: LabelVolume, prediction: LabelVolume, penaltyMM: Double? = nil
    ) -> [Double] {
        var map = [Double](repeating: .nan, count: reference.grid.voxelCount)
        var fromReference = [Bool](repeating: false, count: reference.grid.voxelCount)
        func value(_ distance: Double, inside: Bool) -> Double {
            let d = distance.isInfinite ? (penaltyMM ?? distance) : distance
            return inside && d > 0 ? -d : d
        }
        for result in evaluation.labels {
            guard let detail = result.detail else { continue }
            for (index, distance) in zip(detail.referenceBoundary, detail.distances.referenceToPrediction) {
                map[index] = value(distance, inside: prediction.storage.label(at: index) == result.label)
                fromReference[index] = true
            }
        }
        for result in evaluation.labels {
            guard let detail = result.detail else { continue }
            for (index, distance) in zip(detail.predictionBoundary, detail.distances.predictionToReference)
            where !fromReference[index] {
                map[index] = value(distance, inside: reference.storage.label(at: index) == result.label)
            }
        }
        return map
    }

    /// The distance map as a float32 image with the reference's geometry.
    public static func distanceImage(
        _ evaluation: Evaluation, reference: LabelVolume, prediction: LabelVolume, penaltyMM: Double? = nil
    ) -> Image {
        var header = Self.header(like: reference, datatype: .float32)
        header.descrip = "maskeval signed surface distance (mm), NaN off boundaries"
        return Image(
            header: header,
            values: distances(evaluation, reference: reference, prediction: prediction, penaltyMM: penaltyMM))
    }
}
