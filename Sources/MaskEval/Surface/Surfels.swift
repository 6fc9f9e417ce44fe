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
    /// neighbour codes. Points and areas come in scan order; no per-corner array is kept
    /// (the search reads the point lists, and so does the transform when it runs).
    ///
    /// Tricks, each exact: a corner row only looks at the corners between the first and the
    /// last non-zero voxel of its block's rows (the rest are uniform zero blocks); sixteen
    /// corners whose blocks hold one flag value (both masks) are skipped with one vector
    /// test; only the others read their codes. Measured on the AAL bench pair
    /// (`compare --compat deepmind --threads 1`, perf): 19 % of `--compat all` in the former
    /// three separable passes over UInt16 codes; then 20 % of `--compat deepmind` with eight
    /// corners per test, a zero-filled per-corner flag array and no row ranges; 13 % with
    /// these tricks (perf, five runs), most of it now adding the surface points themselves.
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
        // The block's rows (offsets along j and k only): four in 3-D, fewer when flat.
        let rows = Array(Set(block.map { $0.offset - $0.offset % max(1, px) })).sorted()
        let geometry = Geometry(
            padded: (px, py), paddedSlices: pz, corners: (nx, ny, nz), rowStep: steps.x, rows: rows,
            offsets: block.map(\.offset),
            shifts: block.map { UInt8($0.bit) }, full: full)
        (referenceAreas, predictionAreas, referencePoints, predictionPoints) = crop.flags.withUnsafeBufferPointer {
            f in
            table.withUnsafeBufferPointer { Self.scan(f, geometry, areas: $0) }
        }
    }

    /// The shape of a corner scan: padded and corner extents, the block's voxels as offsets
    /// from a corner's lower voxel with their code bits, and its rows.
    private struct Geometry {
        let padded: (Int, Int)
        let paddedSlices: Int
        let corners: (Int, Int, Int)
        /// 1 when the i axis is real (a block spans voxels a and a + 1 of each row), else 0.
        let rowStep: Int
        let rows: [Int]
        let offsets: [Int]
        let shifts: [UInt8]
        let full: UInt8
    }

    /// The corner scan of `init(crop:spacing:)`: areas and points of both surfaces.
    /// Everything is a local or an unsafe buffer (no captured arrays in the loop).
    private static func scan(
        _ f: UnsafeBufferPointer<UInt8>, _ g: Geometry, areas table: UnsafeBufferPointer<Double>
    ) -> ([Double], [Double], [Int], [Int]) {
        let (px, py) = g.padded
        let (cx, cy, cz) = g.corners
        let full = g.full
        var rs = Points()
        var ps = Points()
        defer {
            rs.free()
            ps.free()
        }
        let raw = UnsafeRawPointer(f.baseAddress!)
        let fullBytes = UInt64(full) &* lowBits
        // The eight block offsets (repeated to eight in 2-D and 1-D: a repeated voxel
        // changes neither a test nor a code) and the four rows (likewise).
        let o = (0..<8).map { g.offsets[$0 % g.offsets.count] }
        let sh = (0..<8).map { g.shifts[$0 % g.shifts.count] }
        let r = (0..<4).map { g.rows[$0 % g.rows.count] }
        let (o0, o1, o2, o3, o4, o5, o6, o7) = (o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7])
        let (s0, s1, s2, s3, s4, s5, s6, s7) = (sh[0], sh[1], sh[2], sh[3], sh[4], sh[5], sh[6], sh[7])
        @inline(__always) func word(_ offset: Int) -> UInt64 {
            raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        }
        @inline(__always) func vector(_ offset: Int) -> SIMD16<UInt8> {
            raw.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
        }
        /// Adds the surface points of corners `start + lane` (lanes from `low` on) of one
        /// row: the eight codes of each mask, one per byte (a row's byte holds 0–3: bit 0
        /// the reference, bit 1 the prediction). The lists are parameters, not captures,
        /// so their accesses are checked statically (captured, they cost a runtime
        /// exclusivity check per call).
        @inline(__always) func emit(
            _ rs: inout Points, _ ps: inout Points, _ base: Int, _ corners: Int, _ start: Int, from low: Int
        ) {
            let at = base + start
            var codesR: UInt64 = 0
            var codesP: UInt64 = 0
            @inline(__always) func take(_ offset: Int, _ shift: UInt8) {
                let row = word(at + offset)
                codesR |= (row & lowBits) << shift
                codesP |= (row >> 1 & lowBits) << shift
            }
            take(o0, s0)
            take(o1, s1)
            take(o2, s2)
            take(o3, s3)
            take(o4, s4)
            take(o5, s5)
            take(o6, s6)
            take(o7, s7)
            var rest = (surfaceLanes(codesR, full: fullBytes) | surfaceLanes(codesP, full: fullBytes)) & (~0 << low)
            while rest != 0 {
                let lane = rest.trailingZeroBitCount
                rest &= rest - 1
                let index = corners + start + lane
                rs.add(index, UInt8(truncatingIfNeeded: codesR >> (8 * lane)), full, table)
                ps.add(index, UInt8(truncatingIfNeeded: codesP >> (8 * lane)), full, table)
            }
        }
        // The first and last non-zero voxel of each padded row ((Int.max, −1) when none).
        let paddedRows = py * g.paddedSlices
        var ranges = [(first: Int, last: Int)](repeating: (Int.max, -1), count: paddedRows)
        for row in 0..<paddedRows { ranges[row] = nonZeroRange(raw, row * px, count: px) }
        let rowsOfRow = r.map { $0 / px }
        for c in 0..<cz {
            for b in 0..<cy {
                let base = px * (b + py * c)
                let corners = cx * (b + cy * c)
                // The non-zero voxels of the block's rows lie in [first, last]: corners a
                // with a + step < first or a > last see only zeros.
                var first = Int.max
                var last = -1
                for row in rowsOfRow {
                    let range = ranges[b + py * c + row]
                    first = min(first, range.first)
                    last = max(last, range.last)
                }
                guard last >= 0 else { continue }
                var a = max(0, first - g.rowStep)
                let end = min(cx, last + 1)
                if g.rowStep == 0 || cx < 16 {
                    // Short rows and a flat i axis: corner by corner.
                    while a < end {
                        var codeR: UInt8 = 0
                        var codeP: UInt8 = 0
                        for n in 0..<g.offsets.count {
                            let v = f[base + a + g.offsets[n]]
                            codeR |= (v & 1) << g.shifts[n]
                            codeP |= ((v >> 1) & 1) << g.shifts[n]
                        }
                        rs.add(corners + a, codeR, full, table)
                        ps.add(corners + a, codeP, full, table)
                        a += 1
                    }
                    continue
                }
                // Sixteen corners at a time: their blocks' rows as bytes (at a and a + 1);
                // when every one equals the first, all sixteen blocks are uniform. The last
                // sixteen end at the row's end, skipping the corners already done.
                let (r0, r1, r2, r3) = (base + r[0], base + r[1], base + r[2], base + r[3])
                while a < end {
                    let start = min(a, cx - 16)
                    let lead = vector(r0 + start)
                    var differ = (vector(r0 + start + 1) ^ lead) | (vector(r1 + start) ^ lead)
                    differ |= (vector(r1 + start + 1) ^ lead) | (vector(r2 + start) ^ lead)
                    differ |= (vector(r2 + start + 1) ^ lead) | (vector(r3 + start) ^ lead)
                    differ |= vector(r3 + start + 1) ^ lead
                    let halves = unsafeBitCast(differ, to: SIMD2<UInt64>.self)
                    if halves[0] != 0 && a < start + 8 { emit(&rs, &ps, base, corners, start, from: a - start) }
                    if halves[1] != 0 { emit(&rs, &ps, base, corners, start + 8, from: max(0, a - start - 8)) }
                    a = start + 16
                }
            }
        }
        return (rs.areasArray(), ps.areasArray(), rs.indicesArray(), ps.indicesArray())
    }

    /// The first and last non-zero bytes of `count` bytes at `offset`; (Int.max, −1) when
    /// all are zero. Eight bytes at a time from each end.
    @inline(__always) private static func nonZeroRange(_ raw: UnsafeRawPointer, _ offset: Int, count: Int) -> (
        Int, Int
    ) {
        var lo = 0
        while lo + 8 <= count {
            let w = raw.loadUnaligned(fromByteOffset: offset + lo, as: UInt64.self)
            if w != 0 { return (lo + w.trailingZeroBitCount / 8, lastNonZero(raw, offset, count: count, from: lo)) }
            lo += 8
        }
        while lo < count {
            if raw.load(fromByteOffset: offset + lo, as: UInt8.self) != 0 {
                return (lo, lastNonZero(raw, offset, count: count, from: lo))
            }
            lo += 1
        }
        return (Int.max, -1)
    }

    /// The last non-zero byte of `count` bytes at `offset`, given one at or after `from`.
    @inline(__always) private static func lastNonZero(_ raw: UnsafeRawPointer, _ offset: Int, count: Int, from: Int)
        -> Int
    {
        var hi = count
        while hi - 8 >= from {
            let w = raw.loadUnaligned(fromByteOffset: offset + hi - 8, as: UInt64.self)
            if w != 0 { return hi - 1 - w.leadingZeroBitCount / 8 }
            hi -= 8
        }
        while hi > from {
            hi -= 1
            if raw.load(fromByteOffset: offset + hi, as: UInt8.self) != 0 { return hi }
        }
        return from
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

    /// One surface's points and areas, in scan order, in buffers grown by doubling (an
    /// array append's uniqueness and capacity checks were a few per cent of the scan).
    private struct Points {
        var indices = UnsafeMutablePointer<Int>.allocate(capacity: 1024)
        var areas = UnsafeMutablePointer<Double>.allocate(capacity: 1024)
        var count = 0
        var capacity = 1024

        /// Adds the corner at `index` with `code` when it is a surface point.
        @inline(__always) mutating func add(
            _ index: Int, _ code: UInt8, _ full: UInt8, _ table: UnsafeBufferPointer<Double>
        ) {
            guard code != 0 && code != full else { return }
            if count == capacity { grow() }
            indices[count] = index
            areas[count] = table[Int(code)]
            count += 1
        }

        private mutating func grow() {
            let newIndices = UnsafeMutablePointer<Int>.allocate(capacity: 2 * capacity)
            let newAreas = UnsafeMutablePointer<Double>.allocate(capacity: 2 * capacity)
            newIndices.moveInitialize(from: indices, count: count)
            newAreas.moveInitialize(from: areas, count: count)
            indices.deallocate()
            areas.deallocate()
            (indices, areas, capacity) = (newIndices, newAreas, 2 * capacity)
        }

        func indicesArray() -> [Int] { Array(UnsafeBufferPointer(start: indices, count: count)) }
        func areasArray() -> [Double] { Array(UnsafeBufferPointer(start: areas, count: count)) }
        func free() {
            indices.deallocate()
            areas.deallocate()
        }
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
