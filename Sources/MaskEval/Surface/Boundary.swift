/// Bits of the per-label crop flags.
enum CropFlag {
    static let inReference: UInt8 = 1
    static let inPrediction: UInt8 = 2
    static let referenceBoundary: UInt8 = 4
    static let predictionBoundary: UInt8 = 8
}

/// One label's masks cropped to the union of its reference and prediction boxes. The crop
/// is exact for every surface metric: all of both masks lie inside it, and a neighbour
/// outside the crop is outside both masks, as a neighbour outside the image is.
struct LabelCrop {
    let box: VoxelBox
    let nx: Int
    let ny: Int
    let nz: Int
    /// `CropFlag` bits per crop voxel, i fastest.
    var flags: [UInt8]

    /// Copies the label's masks out of the two volumes and marks their boundaries: the
    /// voxels of a mask with at least one of their 6 face neighbours outside it
    /// (METRICS.md). Cost: O(crop voxels).
    init<T: LabelValue>(
        label: Int32, box: VoxelBox, reference: UnsafeBufferPointer<T>, prediction: UnsafeBufferPointer<T>, grid: Grid
    ) {
        // The label is a value of the volumes' type: it is one of their labels.
        let label = T(truncatingIfNeeded: label)
        self.box = box
        let size = box.size
        nx = size.x
        ny = size.y
        nz = size.z
        var flags = [UInt8](repeating: 0, count: nx * ny * nz)
        let (gx, gy) = (grid.nx, grid.ny)
        let (x0, y0, z0) = (Int(box.lower.x), Int(box.lower.y), Int(box.lower.z))
        for k in 0..<nz {
            for j in 0..<ny {
                let source = x0 + gx * ((y0 + j) + gy * (z0 + k))
                let target = nx * (j + ny * k)
                for i in 0..<nx {
                    var f: UInt8 = 0
                    if reference[source + i] == label { f |= CropFlag.inReference }
                    if prediction[source + i] == label { f |= CropFlag.inPrediction }
                    flags[target + i] = f
                }
            }
        }
        // An image axis of extent 1 is no axis at all (`Grid.flatAxes`, which keeps all three
        // for a 1×1×1 image): a single slice is a 2-D image whose boundaries are 2-D
        // (4-neighbour), as MONAI and MedPy treat 2-D arrays.
        let flat = grid.flatAxes
        Self.markBoundaries(
            &flags, nx, ny, nz, flat: flat, mask: CropFlag.inReference, boundary: CropFlag.referenceBoundary)
        Self.markBoundaries(
            &flags, nx, ny, nz, flat: flat, mask: CropFlag.inPrediction, boundary: CropFlag.predictionBoundary)
        self.flags = flags
    }

    /// Sets `boundary` on every voxel of `mask` with a face neighbour outside `mask` or
    /// outside the grid; axes marked `flat` (image extent 1) have no neighbours.
    static func markBoundaries(
        _ flags: inout [UInt8], _ nx: Int, _ ny: Int, _ nz: Int, flat: (x: Bool, y: Bool, z: Bool), mask: UInt8,
        boundary: UInt8
    ) {
        let strideJ = nx
        let strideK = nx * ny
        flags.withUnsafeMutableBufferPointer { f in
            for k in 0..<nz {
                for j in 0..<ny {
                    let row = j * strideJ + k * strideK
                    for i in 0..<nx where f[row + i] & mask != 0 {
                        let index = row + i
                        let outsideI =
                            !flat.x && (i == 0 || i == nx - 1 || f[index - 1] & mask == 0 || f[index + 1] & mask == 0)
                        let outsideJ =
                            !flat.y
                            && (j == 0 || j == ny - 1 || f[index - strideJ] & mask == 0
                                || f[index + strideJ] & mask == 0)
                        let outsideK =
                            !flat.z
                            && (k == 0 || k == nz - 1 || f[index - strideK] & mask == 0
                                || f[index + strideK] & mask == 0)
                        let outside = outsideI || outsideJ || outsideK
                        if outside { f[index] |= boundary }
                    }
                }
            }
        }
    }
}
