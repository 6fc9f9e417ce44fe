/// The box of the image a structure's lesion evaluation runs on: the structure's voxels in
/// both volumes, widened by a margin and clipped to the image. Outside it both masks are
/// background, so components, their statistics and every lesion result are those of the
/// whole image (the crop keeps the scan order, hence the component ids), at a cost that
/// follows the structure's extent instead of the image's: on the 240×240×155 BraTS-like
/// bench pair the crops of labels 1, 2, 3 hold 4–16 % of the voxels, those of the BraTS
/// regions (dilation margin) 18–21 %.
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

    /// The crop of a structure's mask in a label volume (labels of any integer type): 1 where
    /// the label is one of `labels`. When 0 is not one of them, 32 zero bytes of labels are
    /// skipped at once.
    func cut<T: FixedWidthInteger>(
        _ values: UnsafeBufferPointer<T>, labels: [Int32], imageGrid grid: Grid, threads: Int
    ) -> [UInt8] {
        precondition(values.count == grid.voxelCount, "label count must match the grid")
        var out = [UInt8](repeating: 0, count: voxelCount)
        let membership = LabelMembership(labels)
        let skipZeros = !membership.contains(0)
        out.withUnsafeMutableBufferPointer { target in
            let buffers = UncheckedSendable((values, target))
            forEachRow(imageGrid: grid, threads: threads) { crop, image, length in
                let (source, target) = buffers.value
                var i = 0
                while i < length {
                    if skipZeros, let skip = LabelBoxes.zeroChunk(source, at: image + i, end: image + length) {
                        i += skip
                        continue
                    }
                    if membership.contains(Int(truncatingIfNeeded: source[image + i])) { target[crop + i] = 1 }
                    i += 1
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

}

/// The box of every non-zero label of a volume, from one pass over its labels.
struct LabelBoxes {
    /// By label value (an `Int` holds every label type).
    private(set) var boxes: [Int: VoxelBox] = [:]

    /// Labels below this get a slot in each worker's table, others a dictionary entry.
    private static let denseLimit = 4096

    /// Scans `values` (nx·ny·nz, i fastest), slices in parallel, each worker with its own
    /// table; rows are read as runs of one label (one box update per run), and 32 zero
    /// bytes are skipped at once. Cost: O(voxels) reads, at most one update per run; the
    /// same boxes for any thread count.
    init<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>, nx: Int, ny: Int, nz: Int, threads: Int) {
        precondition(values.count == nx * ny * nz, "label count must match the dims")
        let workers = max(1, min(threads, nz))
        var dense = [[VoxelBox]](repeating: [], count: workers)
        var sparse = [[Int: VoxelBox]](repeating: [:], count: workers)
        dense.withUnsafeMutableBufferPointer { denseTables in
            sparse.withUnsafeMutableBufferPointer { sparseTables in
                let tables = UncheckedSendable((denseTables, sparseTables))
                parallelForWithWorker(nz, threads: workers) { worker, k in
                    let (denseTables, sparseTables) = tables.value
                    if denseTables[worker].isEmpty {
                        denseTables[worker] = [VoxelBox](repeating: .empty, count: Self.denseLimit)
                    }
                    for j in 0..<ny {
                        let row = (k * ny + j) * nx
                        var i = 0
                        while i < nx {
                            if let skip = Self.zeroChunk(values, at: row + i, end: row + nx) {
                                i += skip
                                continue
                            }
                            let value = values[row + i]
                            var end = i + 1
                            while end < nx && values[row + end] == value { end += 1 }
                            if value != 0 {
                                let run = VoxelBox(
                                    lower: SIMD3(Int32(i), Int32(j), Int32(k)),
                                    upper: SIMD3(Int32(end - 1), Int32(j), Int32(k)))
                                let label = Int(truncatingIfNeeded: value)
                                if label > 0 && label < Self.denseLimit {
                                    denseTables[worker][label] = denseTables[worker][label].union(run)
                                } else {
                                    sparseTables[worker][label, default: .empty] = sparseTables[worker][
                                        label, default: .empty
                                    ].union(run)
                                }
                            }
                            i = end
                        }
                    }
                }
            }
        }
        for worker in 0..<workers {
            for (label, box) in dense[worker].enumerated() where !box.isEmpty {
                boxes[label, default: .empty] = boxes[label, default: .empty].union(box)
            }
            for (label, box) in sparse[worker] {
                boxes[label, default: .empty] = boxes[label, default: .empty].union(box)
            }
        }
    }

    /// How many values from `index` to skip when the 32 bytes there (all before `end`) are
    /// zero; nil otherwise.
    @inline(__always)
    static func zeroChunk<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>, at index: Int, end: Int) -> Int? {
        let count = 32 / MemoryLayout<T>.stride
        guard index + count <= end, let base = values.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base + index)
        let any =
            raw.loadUnaligned(as: UInt64.self) | raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            | raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
            | raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        return any == 0 ? count : nil
    }

    /// The box of the voxels holding any of `labels` (label 0, the background: the image).
    func box(of labels: [Int32], grid: Grid) -> VoxelBox {
        if labels.contains(0) {
            return VoxelBox(lower: .zero, upper: SIMD3(Int32(grid.nx - 1), Int32(grid.ny - 1), Int32(grid.nz - 1)))
        }
        return Set(labels).reduce(VoxelBox.empty) { $0.union(boxes[Int($1)] ?? .empty) }
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
    func contains(_ value: Int) -> Bool {
        if let set { return Int32(exactly: value).map { set.contains($0) } ?? false }
        return value >= 0 && value < table.count && table[value]
    }
}
