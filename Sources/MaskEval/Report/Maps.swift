/// Voxel maps for viewers (3D Slicer, ITK-SNAP): where the prediction agrees with the
/// reference and where it does not, and the signed surface distances.
public enum ErrorMap {
    /// Codes of the error map (README, "Error map").
    public static let background: UInt8 = 0
    public static let truePositive: UInt8 = 1
    public static let falseNegative: UInt8 = 2
    public static let falsePositive: UInt8 = 3
    /// Both non-zero but different labels: a false negative of the reference label and a
    /// false positive of the predicted one.
    public static let wrongLabel: UInt8 = 4

    /// One code per voxel of the reference grid.
    public static func codes(reference: [Int32], prediction: [Int32]) -> [Int32] {
        precondition(reference.count == prediction.count, "volumes must share a grid")
        return zip(reference, prediction).map { r, p in
            if r == 0 { return Int32(p == 0 ? background : falsePositive) }
            if p == r { return Int32(truePositive) }
            return Int32(p == 0 ? falseNegative : wrongLabel)
        }
    }

    /// Writes the error map as a uint8 NIfTI with the reference's geometry.
    public static func write(reference: LabelVolume, prediction: LabelVolume, to path: String) throws {
        var header = NIfTIHeader.describing(grid: reference.grid, datatype: .uint8)
        header.descrip = "maskeval error map: 0 bg 1 TP 2 FN 3 FP 4 wrong label"
        try NIfTIWriter.write(
            labels: codes(reference: reference.labels, prediction: prediction.labels), header: header, type: .uint8,
            to: path)
    }

    /// Signed surface distances (mm) on the reference grid: every boundary voxel of a
    /// matched label gets its distance to the other mask's surface, positive where it lies
    /// outside the other mask (prediction too large there, or reference not covered), negative
    /// inside; prediction boundary voxels are written last. 0 elsewhere.
    public static func distanceMap(reference: LabelVolume, prediction: LabelVolume, threads: Int) -> [Double] {
        var map = [Double](repeating: 0, count: reference.grid.voxelCount)
        Evaluator.forEachBoundary(reference: reference, prediction: prediction, labels: nil, threads: threads) { b in
            for (index, distance) in zip(b.referenceBoundary, b.distances.referenceToPrediction) {
                map[index] = prediction.labels[index] == b.label ? -distance : distance
            }
            for (index, distance) in zip(b.predictionBoundary, b.distances.predictionToReference) {
                map[index] = reference.labels[index] == b.label ? -distance : distance
            }
        }
        return map
    }

    public static func writeDistanceMap(reference: LabelVolume, prediction: LabelVolume, threads: Int, to path: String)
        throws
    {
        var header = NIfTIHeader.describing(grid: reference.grid, datatype: .float32)
        header.descrip = "maskeval signed surface distance (mm)"
        try NIfTIWriter.write(
            values: distanceMap(reference: reference, prediction: prediction, threads: threads), header: header,
            to: path)
    }
}

extension Evaluator {
    /// One label's boundary voxels (linear indices, scan order) in both volumes, each with
    /// its distance (mm) to the other volume's boundary.
    struct LabelBoundary {
        let label: Int32
        let referenceBoundary: ArraySlice<Int>
        let predictionBoundary: ArraySlice<Int>
        let distances: DirectedDistances
    }

    /// Calls `body` for each of `labels` (all labels when nil) present in both volumes, in
    /// the order given (ascending when nil). One census and one boundary pass serve all the
    /// labels; the distances are the voxel-boundary ones the metrics use.
    static func forEachBoundary(
        reference: LabelVolume, prediction: LabelVolume, labels: [Int32]?, threads: Int,
        _ body: (LabelBoundary) -> Void
    ) {
        let grid = reference.grid
        let census = Census.count(
            reference: reference.labels, prediction: prediction.labels, nx: grid.nx, ny: grid.ny, nz: grid.nz,
            threads: threads)
        let byLabel = Dictionary(uniqueKeysWithValues: census.map { ($0.label, $0) })
        var seen = Set<Int32>()
        let both = (labels ?? census.map(\.label)).compactMap { label in
            byLabel[label].flatMap { $0.referenceVoxels > 0 && $0.predictionVoxels > 0 ? $0 : nil }
        }.filter { seen.insert($0.label).inserted }
        let boundaries = BoundaryMap(
            reference: reference.labels, prediction: prediction.labels, grid: grid, labels: both.map(\.label),
            threads: threads)
        let table = SurfaceSearch.table(spacing: grid.spacingMM, flat: grid.flatAxes)
        reference.labels.withUnsafeBufferPointer { ref in
            prediction.labels.withUnsafeBufferPointer { pred in
                let volumes = Volumes(reference: ref, prediction: pred, grid: grid, table: table)
                for (slot, c) in both.enumerated() {
                    let distances = voxelDistances(
                        label: c.label, slot: slot, box: c.referenceBox.union(c.predictionBox), volumes: volumes,
                        boundaries: boundaries, threads: threads)
                    body(
                        LabelBoundary(
                            label: c.label, referenceBoundary: boundaries.reference(slot: slot),
                            predictionBoundary: boundaries.prediction(slot: slot), distances: distances))
                }
            }
        }
    }

    /// For each of `labels` that is in both volumes, the boundary voxel (i, j, k) where its
    /// Hausdorff distance is reached, and that distance.
    public static func hausdorffVoxels(reference: LabelVolume, prediction: LabelVolume, labels: [Int32], threads: Int)
        -> [Int32: (SIMD3<Int>, Double)]
    {
        let grid = reference.grid
        var out: [Int32: (SIMD3<Int>, Double)] = [:]
        forEachBoundary(reference: reference, prediction: prediction, labels: labels, threads: threads) { b in
            var best = (index: -1, distance: -1.0)
            for (index, distance) in zip(b.predictionBoundary, b.distances.predictionToReference)
            where distance > best.distance {
                best = (index, distance)
            }
            for (index, distance) in zip(b.referenceBoundary, b.distances.referenceToPrediction)
            where distance > best.distance {
                best = (index, distance)
            }
            guard best.index >= 0 else { return }
            let voxel = SIMD3(best.index % grid.nx, (best.index / grid.nx) % grid.ny, best.index / (grid.nx * grid.ny))
            out[b.label] = (voxel, best.distance)
        }
        return out
    }
}
