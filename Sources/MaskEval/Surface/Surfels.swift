/// DeepMind's surface: surfels on the voxel-corner grid (google-deepmind/surface-distance).
///
/// Every corner of the label's union crop (one more than the crop along each axis) gets the
/// 8-bit code of the 2×2×2 voxels around it, for each mask; a corner whose code is neither 0
/// nor 255 is a surface point, carrying the area of its marching-cubes triangles for the
/// spacing. In a 2-D image (one axis of extent 1) the blocks are 2×2, the codes 4-bit and the
/// areas contour lengths, as the package's 2-D path does.
struct SurfelCrop {
    let nx: Int
    let ny: Int
    let nz: Int
    /// `CropFlag.referenceBoundary` / `.predictionBoundary` on surface corners.
    var flags: [UInt8]
    /// Areas (mm², or mm in 2-D) of the reference / prediction surface points, in scan order.
    var referenceAreas: [Double]
    var predictionAreas: [Double]
    /// Linear corner-grid indices of the surface points, in scan order.
    var referencePoints: [Int]
    var predictionPoints: [Int]

    /// The grid voxel at corner `corner` of this crop's corner grid: along a real axis,
    /// corner a lies between crop voxels a − 1 and a; the voxel taken is a (the last one at
    /// the upper edge).
    func voxel(ofCorner corner: Int, box: VoxelBox) -> SIMD3<Int> {
        let size = box.size
        let a = min(corner % nx, size.x - 1)
        let b = min((corner / nx) % ny, size.y - 1)
        let c = min(corner / (nx * ny), size.z - 1)
        return SIMD3(Int(box.lower.x) + a, Int(box.lower.y) + b, Int(box.lower.z) + c)
    }

    /// Builds the corner grid of `label`'s union box from the two volumes (through its
    /// `MeshCrop`).
    init<T: LabelValue>(
        label: Int32, box: VoxelBox, reference: UnsafeBufferPointer<T>, prediction: UnsafeBufferPointer<T>, grid: Grid
    ) {
        self.init(
            crop: MeshCrop(label: label, box: box, reference: reference, prediction: prediction, grid: grid),
            spacing: grid.spacingMM)
    }

    /// Builds the corner grid from the label's padded crop (shared with the `meshmetrics`
    /// preset). Along a real axis corner a lies between crop voxels a − 1 and a, which are
    /// padded voxels a and a + 1, so the corner grid is the padded crop less one layer; a flat
    /// axis (image extent 1) has no corner layer and no padding.
    ///
    /// A corner's code has one bit per voxel of its block: the block's lower voxel along
    /// each real axis sets the bit 2^rank, rank counting the real axes after it in i, j, k
    /// order (voxel (a − 1, b − 1, c − 1) is bit 7, (a, b, c) bit 0), as the package's
    /// neighbour codes. Eight corners whose blocks hold one flag value (both masks) are
    /// skipped with one test; the others read their block. Points and areas come in scan
    /// order. Measured on the AAL bench pair (`compare --compat deepmind --threads 1`,
    /// perf): 19 % of `--compat all` in the former three separable passes over UInt16 codes.
    init(crop: MeshCrop, spacing s: SIMD3<Double>) {
        let flat = crop.flat
        let isFlat = [flat.x, flat.y, flat.z]
        let (px, py, pz) = (crop.nx, crop.ny, crop.nz)
        (nx, ny, nz) = (flat.x ? px : px - 1, flat.y ? py : py - 1, flat.z ? pz : pz - 1)
        // Padded strides to the upper voxel along each real axis (0 along a flat one).
        let steps = SIMD3<Int>(flat.x ? 0 : 1, flat.y ? 0 : px, flat.z ? 0 : px * py)
        // The block: (offset from the corner's lower voxel, code bit) per voxel.
        var block: [(offset: Int, bit: Int)] = [(0, 0)]
        var bits = 0
        for axis in [2, 1, 0] where !isFlat[axis] {
            // Existing voxels are the upper ones along this axis; add the lower copies.
            block = block.map { ($0.offset + steps[axis], $0.bit) } + block.map { ($0.offset, $0.bit + (1 << bits)) }
            bits += 1
        }
        let table = Self.areaTable(spacing: s, flat: flat)
        // The code of a block inside the mask: all 2^bits bits set.
        let full = UInt8(truncatingIfNeeded: (1 << (1 << bits)) - 1)
        let dims = (nx, ny, nz)
        let offsets = block.map(\.offset)
        let shifts = block.map { UInt8($0.bit) }
        (flags, referenceAreas, predictionAreas, referencePoints, predictionPoints) = crop.flags.withUnsafeBufferPointer
        {
            f in
            offsets.withUnsafeBufferPointer { offsets in
                shifts.withUnsafeBufferPointer { shifts in
                    Self.scan(
                        f, padded: (px, py), corners: dims, offsets: offsets, shifts: shifts, full: full, areas: table)
                }
            }
        }
    }

    /// The corner scan of `init(crop:spacing:)`: flags, areas and points of both surfaces.
    /// Everything is a local or an unsafe buffer (no captured arrays in the loop).
    private static func scan(
        _ f: UnsafeBufferPointer<UInt8>, padded: (Int, Int), corners: (Int, Int, Int),
        offsets: UnsafeBufferPointer<Int>, shifts: UnsafeBufferPointer<UInt8>, full: UInt8, areas table: [Double]
    ) -> ([UInt8], [Double], [Double], [Int], [Int]) {
        let (px, py) = padded
        let (cx, cy, cz) = corners
        var flags = [UInt8](repeating: 0, count: cx * cy * cz)
        var rs = Points()
        var ps = Points()
        let raw = UnsafeRawPointer(f.baseAddress!)
        let fullBytes = UInt64(full) &* lowBits
        flags.withUnsafeMutableBufferPointer { out in
            for c in 0..<cz {
                for b in 0..<cy {
                    let base = px * (b + py * c)
                    let corners = cx * (b + cy * c)
                    // Eight corners at a time: their blocks' rows as bytes; when every row
                    // equals the first, all eight blocks are uniform (no surfel). The last
                    // eight end at the row's end, skipping the corners already done.
                    var a = 0
                    while a < cx && cx >= 8 {
                        let start = min(a, cx - 8)
                        let first = raw.loadUnaligned(fromByteOffset: base + start, as: UInt64.self)
                        var differ: UInt64 = 0
                        for n in 0..<offsets.count {
                            differ |=
                                raw.loadUnaligned(fromByteOffset: base + start + offsets[n], as: UInt64.self) ^ first
                        }
                        if differ != 0 {
                            // The eight codes of each mask, one per byte (a row's byte holds
                            // 0–3: bit 0 the reference, bit 1 the prediction).
                            var codesR: UInt64 = 0
                            var codesP: UInt64 = 0
                            for n in 0..<offsets.count {
                                let row = raw.loadUnaligned(fromByteOffset: base + start + offsets[n], as: UInt64.self)
                                codesR |= (row & Self.lowBits) << shifts[n]
                                codesP |= (row >> 1 & Self.lowBits) << shifts[n]
                            }
                            // Lanes with a surface point of either mask, from a − start on.
                            var rest =
                                (Self.surfaceLanes(codesR, full: fullBytes) | Self.surfaceLanes(codesP, full: fullBytes))
                                & (~0 << (a - start))
                            while rest != 0 {
                                let lane = rest.trailingZeroBitCount
                                rest &= rest - 1
                                let index = corners + start + lane
                                let codeR = UInt8(truncatingIfNeeded: codesR >> (8 * lane))
                                let codeP = UInt8(truncatingIfNeeded: codesP >> (8 * lane))
                                Self.add(index, codeR, CropFlag.referenceBoundary, full, out, table, &rs)
                                Self.add(index, codeP, CropFlag.predictionBoundary, full, out, table, &ps)
                            }
                        }
                        a = start + 8
                    }
                    // Rows of fewer than eight corners.
                    while a < cx {
                        var r: UInt8 = 0
                        var p: UInt8 = 0
                        for n in 0..<offsets.count {
                            let v = f[base + a + offsets[n]]
                            r |= (v & 1) << shifts[n]
                            p |= ((v >> 1) & 1) << shifts[n]
                        }
                        Self.add(corners + a, r, CropFlag.referenceBoundary, full, out, table, &rs)
                        Self.add(corners + a, p, CropFlag.predictionBoundary, full, out, table, &ps)
                        a += 1
                    }
                }
            }
        }
        return (flags, rs.areas, ps.areas, rs.indices, ps.indices)
    }

    /// Bit 0 of each byte.
    private static let lowBits: UInt64 = 0x0101_0101_0101_0101

    /// Bit e set where byte e of `codes` is neither 0 nor the matching byte of `full` (a
    /// surface point), by bytewise arithmetic on the word.
    @inline(__always) private static func surfaceLanes(_ codes: UInt64, full: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        // The top bit of each byte: set when the byte is non-zero (no carry leaves a byte).
        func nonZero(_ x: UInt64) -> UInt64 { ((x & low7) &+ low7 | x) >> 7 & lowBits }
        // 0/1 bytes gathered into the top byte by one multiply (byte e's bit lands on bit
        // 56 + e; the partial products never overlap).
        return ((nonZero(codes) & nonZero(codes ^ full)) &* 0x0102_0408_1020_4080) >> 56
    }

    /// One surface's points and areas, in scan order.
    private struct Points {
        var areas: [Double] = []
        var indices: [Int] = []
    }

    /// Adds the corner at `index` with `code` to `points` when it is a surface point.
    @inline(__always) private static func add(
        _ index: Int, _ code: UInt8, _ flag: UInt8, _ full: UInt8, _ out: UnsafeMutableBufferPointer<UInt8>,
        _ table: [Double], _ points: inout Points
    ) {
        guard code != 0 && code != full else { return }
        out[index] |= flag
        points.areas.append(table[Int(code)])
        points.indices.append(index)
    }

    /// Area per code: 3-D, the sum over the code's normals n of
    /// ‖(n₀·s₁·s₂, n₁·s₀·s₂, n₂·s₀·s₁)‖ (the package's
    /// `create_table_neighbour_code_to_surface_area`); 2-D, the contour length of the
    /// 4-bit code (`create_table_neighbour_code_to_contour_length`).
    static func areaTable(spacing s: SIMD3<Double>, flat: (x: Bool, y: Bool, z: Bool)) -> [Double] {
        let real = [(s.x, flat.x), (s.y, flat.y), (s.z, flat.z)].filter { !$0.1 }.map { $0.0 }
        if real.count == 3 {
            return SurfelNormals.table.map { normals in
                normals.reduce(0.0) { sum, n in
                    let v = SIMD3(n.x * s.y * s.z, n.y * s.x * s.z, n.z * s.x * s.y)
                    return sum + (v * v).sum().squareRoot()
                }
            }
        }
        // 2-D (and 1-D, as a 2-D image of width 1): bits 8, 4, 2, 1 are the block's top
        // left, top right, bottom left and bottom right; axis 0 runs down, axis 1 right.
        let vertical = real.count > 0 ? real[0] : 1
        let horizontal = real.count > 1 ? real[1] : s.z
        let diagonal = 0.5 * (vertical * vertical + horizontal * horizontal).squareRoot()
        var table = [Double](repeating: 0, count: 16)
        for code in [0b0001, 0b0010, 0b0100, 0b1000, 0b0111, 0b1011, 0b1101, 0b1110] { table[code] = diagonal }
        for code in [0b0011, 0b1100] { table[code] = horizontal }
        for code in [0b0101, 0b1010] { table[code] = vertical }
        for code in [0b0110, 0b1001] { table[code] = 2 * diagonal }
        return table
    }
}
