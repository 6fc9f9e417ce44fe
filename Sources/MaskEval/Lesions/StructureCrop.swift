/// The box of the image a structure's lesion evaluation runs on: the structure's voxels in
/// both volumes, widened by a margin and clipped to the image. Outside it both masks are
/// background, so components, their statistics and every lesion result are those of the
/// whole image (the crop keeps the scan order, hence the component ids), at a cost that
/// follows the structure's extent instead of the image's: on the 240×240×155 BraTS-like
/// bench pair the three regions' crops hold 6–16 % of the voxels.
///
/// The margin (at least one voxel) keeps every lesion pair's box widened by one voxel, and
/// the BraTS dilation of the reference, inside the crop wherever the image goes on: a box
/// then clips at the crop exactly where it would clip at the image.
struct StructureCrop: Sendable {
    /// The crop's first voxel in the image.
    var origin: SIMD3<Int>
    var nx: Int
    var ny: Int
    var nz: Int

    var voxelCount: Int { nx * ny * nz }

    /// The whole image (no crop).
    static func whole(_ grid: Grid) -> StructureCrop {
        StructureCrop(origin: .zero, nx: grid.nx, ny: grid.ny, nz: grid.nz)
    }

    /// `box` widened by `margin` voxels on every side, clipped to the image; no voxels when
    /// `box` is empty.
    init(box: VoxelBox, margin: Int, grid: Grid) {
        guard !box.isEmpty else {
            self.init(origin: .zero, nx: 0, ny: 0, nz: 0)
            return
        }
        let lower = SIMD3<Int>(Int(box.lower.x), Int(box.lower.y), Int(box.lower.z)) &- margin
        let upper = SIMD3<Int>(Int(box.upper.x), Int(box.upper.y), Int(box.upper.z)) &+ margin
        let low = pointwiseMax(lower, .zero)
        let high = pointwiseMin(upper, SIMD3(grid.nx - 1, grid.ny - 1, grid.nz - 1))
        self.init(origin: low, nx: high.x - low.x + 1, ny: high.y - low.y + 1, nz: high.z - low.z + 1)
    }

    init(origin: SIMD3<Int>, nx: Int, ny: Int, nz: Int) {
        self.origin = origin
        self.nx = nx
        self.ny = ny
        self.nz = nz
    }

    /// The margin a matching needs: one voxel for the pair boxes, and the BraTS dilation's
    /// reach around the reference.
    static func margin(for matching: LesionMatching) -> Int {
        if case .brats2023(let variant) = matching { return max(1, variant.dilationIterations) }
        return 1
    }

    /// Calls `body(cropRow, imageRow, rowLength)` for every row (j, k) of the crop, the first
    /// voxel's index in the crop and in the image: the crop's rows, k by k in parallel
    /// (`body` writes the crop row only).
    func forEachRow(imageGrid grid: Grid, threads: Int, _ body: (Int, Int, Int) -> Void) {
        let imageStrideJ = grid.nx
        let imageStrideK = grid.nx * grid.ny
        let (nx, ny, origin) = (self.nx, self.ny, origin)
        parallelFor(nz, threads: threads) { k in
            for j in 0..<ny {
                let image = origin.x + (origin.y + j) * imageStrideJ + (origin.z + k) * imageStrideK
                body((k * ny + j) * nx, image, nx)
            }
        }
    }

    /// The crop of an image-sized byte mask.
    func cut(_ mask: [UInt8], imageGrid grid: Grid, threads: Int) -> [UInt8] {
        precondition(mask.count == grid.voxelCount, "mask size must match the grid")
        var out = [UInt8](repeating: 0, count: voxelCount)
        mask.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                let buffers = UncheckedSendable((source, target))
                forEachRow(imageGrid: grid, threads: threads) { crop, image, length in
                    let (source, target) = buffers.value
                    for i in 0..<length { target[crop + i] = source[image + i] != 0 ? 1 : 0 }
                }
            }
        }
        return out
    }

    /// The crop of a structure's mask in a label volume: 1 where the label is one of `labels`.
    /// Zero pairs of labels are skipped at once when 0 is not one of them.
    func cut(_ values: [Int32], labels: [Int32], imageGrid grid: Grid, threads: Int) -> [UInt8] {
        precondition(values.count == grid.voxelCount, "label count must match the grid")
        var out = [UInt8](repeating: 0, count: voxelCount)
        let membership = LabelMembership(labels)
        let skipZeros = !membership.contains(0)
        values.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                let buffers = UncheckedSendable((source, target))
                forEachRow(imageGrid: grid, threads: threads) { crop, image, length in
                    let (source, target) = buffers.value
                    guard let raw = source.baseAddress.map(UnsafeRawPointer.init) else { return }
                    var i = 0
                    while i < length {
                        if skipZeros && i + 2 <= length
                            && raw.loadUnaligned(fromByteOffset: (image + i) * 4, as: UInt64.self) == 0
                        {
                            i += 2
                            continue
                        }
                        if membership.contains(source[image + i]) { target[crop + i] = 1 }
                        i += 1
                    }
                }
            }
        }
        return out
    }

    /// The box of the non-zero bytes of an nx·ny·nz mask (empty when there are none).
    static func foregroundBox(_ mask: UnsafeBufferPointer<UInt8>, nx: Int, ny: Int, nz: Int) -> VoxelBox {
        precondition(mask.count == nx * ny * nz, "mask size must match the dims")
        var box = VoxelBox.empty
        for k in 0..<nz {
            for j in 0..<ny {
                let row = (k * ny + j) * nx
                var first = -1
                var last = -1
                ConnectedComponents.forEachForeground(mask, row..<(row + nx)) { index in
                    if first < 0 { first = index - row }
                    last = index - row
                }
                guard first >= 0 else { continue }
                box = box.union(
                    VoxelBox(
                        lower: SIMD3(Int32(first), Int32(j), Int32(k)), upper: SIMD3(Int32(last), Int32(j), Int32(k))))
            }
        }
        return box
    }

    /// The box of a structure's labels in both volumes, from their census.
    static func box(of labels: [Int32], census: [LabelCensus], grid: Grid) -> VoxelBox {
        // Label 0 is everywhere the volumes are background: the whole image.
        if labels.contains(0) {
            return VoxelBox(lower: .zero, upper: SIMD3(Int32(grid.nx - 1), Int32(grid.ny - 1), Int32(grid.nz - 1)))
        }
        let wanted = Set(labels)
        var box = VoxelBox.empty
        for entry in census where wanted.contains(entry.label) {
            box = box.union(entry.referenceBox).union(entry.predictionBox)
        }
        return box
    }
}

/// Whether a label is one of a structure's: a table for small non-negative values, a set
/// otherwise.
struct LabelMembership {
    private let table: [Bool]
    private let set: Set<Int32>?

    init(_ labels: [Int32]) {
        let wanted = Set(labels)
        let sorted = labels.sorted()
        if (sorted.first ?? 0) >= 0 && (sorted.last ?? 0) < 4096 {
            table = (0...Int(sorted.last ?? 0)).map { wanted.contains(Int32($0)) }
            set = nil
        } else {
            table = []
            set = wanted
        }
    }

    @inline(__always)
    func contains(_ value: Int32) -> Bool {
        if let set { return set.contains(value) }
        return value >= 0 && Int(value) < table.count && table[Int(value)]
    }
}
