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

    /// Builds the corner grid of `label`'s union box straight from the two volumes.
    ///
    /// The codes are built separably, one axis at a time (code = lower << n | upper along
    /// k, then j, then i), both masks at once in the two bytes of a UInt16: 3 cheap passes
    /// instead of 8 bounds-checked reads per corner.
    init<T: LabelValue>(
        label: Int32, box: VoxelBox, reference: UnsafeBufferPointer<T>, prediction: UnsafeBufferPointer<T>, grid: Grid
    ) {
        // The label is a value of the volumes' type: it is one of their labels.
        let label = T(truncatingIfNeeded: label)
        let s = grid.spacingMM
        // Axes of image extent 1 (`Grid.flatAxes`) get no corner layer: the blocks span the
        // other axes.
        let flat = grid.flatAxes
        let size = box.size
        var dims = (size.x, size.y, size.z)
        // Step 0: the two masks, reference in the low byte, prediction in the high byte.
        var codes = [UInt16](repeating: 0, count: dims.0 * dims.1 * dims.2)
        let (gx, gy) = (grid.nx, grid.ny)
        let (x0, y0, z0) = (Int(box.lower.x), Int(box.lower.y), Int(box.lower.z))
        for k in 0..<dims.2 {
            for j in 0..<dims.1 {
                let source = x0 + gx * ((y0 + j) + gy * (z0 + k))
                let target = dims.0 * (j + dims.1 * k)
                for i in 0..<dims.0 {
                    codes[target + i] =
                        (reference[source + i] == label ? 1 : 0) | (prediction[source + i] == label ? 0x100 : 0)
                }
            }
        }
        var bits = 0
        // Along k, then j, then i: each real axis grows by one corner layer and shifts the
        // lower voxel's bits up, so voxel (a − 1, b − 1, c − 1) ends in the top bit.
        if !flat.z {
            codes = Self.combine(codes, &dims, axis: 2, shift: bits)
            bits += 1
        }
        if !flat.y {
            codes = Self.combine(codes, &dims, axis: 1, shift: bits)
            bits += 1
        }
        if !flat.x {
            codes = Self.combine(codes, &dims, axis: 0, shift: bits)
            bits += 1
        }
        (nx, ny, nz) = dims
        let table = Self.areaTable(spacing: s, flat: flat)
        let full = UInt16((1 << (1 << bits)) - 1)
        var flags = [UInt8](repeating: 0, count: codes.count)
        var referenceAreas: [Double] = []
        var predictionAreas: [Double] = []
        var referencePoints: [Int] = []
        var predictionPoints: [Int] = []
        for (index, code) in codes.enumerated() where code != 0 {
            let codeR = code & 0xFF
            let codeP = code >> 8
            var f: UInt8 = 0
            if codeR != 0 && codeR != full {
                f |= CropFlag.referenceBoundary
                referenceAreas.append(table[Int(codeR)])
                referencePoints.append(index)
            }
            if codeP != 0 && codeP != full {
                f |= CropFlag.predictionBoundary
                predictionAreas.append(table[Int(codeP)])
                predictionPoints.append(index)
            }
            flags[index] = f
        }
        self.flags = flags
        self.referenceAreas = referenceAreas
        self.predictionAreas = predictionAreas
        self.referencePoints = referencePoints
        self.predictionPoints = predictionPoints
    }

    /// One separable step: along `axis` the output has one more layer; output layer c is
    /// (input c − 1) << 2^shift | input c, with zeros outside (`shift` = the steps done
    /// before, whose codes have 2^shift bits). Both bytes shift together and never carry
    /// into each other (a code has at most 8 bits).
    private static func combine(_ input: [UInt16], _ dims: inout (Int, Int, Int), axis: Int, shift: Int) -> [UInt16] {
        let (nx, ny, nz) = dims
        let out = (axis == 0 ? nx + 1 : nx, axis == 1 ? ny + 1 : ny, axis == 2 ? nz + 1 : nz)
        let multiplier = UInt16(1) << (1 << shift)
        var result = [UInt16](repeating: 0, count: out.0 * out.1 * out.2)
        input.withUnsafeBufferPointer { v in
            result.withUnsafeMutableBufferPointer { r in
                // Each case is a plain loop over contiguous runs: the layer below (if any)
                // shifted up, or-ed with the layer itself (if any).
                switch axis {
                case 0:
                    for row in 0..<(ny * nz) {
                        let input = row * nx
                        let output = row * (nx + 1)
                        var previous: UInt16 = 0
                        for a in 0..<nx {
                            let value = v[input + a]
                            r[output + a] = previous &* multiplier | value
                            previous = value
                        }
                        r[output + nx] = previous &* multiplier
                    }
                case 1:
                    for k in 0..<nz {
                        for b in 0...ny {
                            let output = nx * (b + (ny + 1) * k)
                            let lower = nx * ((b - 1) + ny * k)
                            let upper = nx * (b + ny * k)
                            for a in 0..<nx {
                                let below: UInt16 = b > 0 ? v[lower + a] : 0
                                let here: UInt16 = b < ny ? v[upper + a] : 0
                                r[output + a] = below &* multiplier | here
                            }
                        }
                    }
                default:
                    let plane = nx * ny
                    for c in 0...nz {
                        for p in 0..<plane {
                            let below: UInt16 = c > 0 ? v[p + plane * (c - 1)] : 0
                            let here: UInt16 = c < nz ? v[p + plane * c] : 0
                            r[p + plane * c] = below &* multiplier | here
                        }
                    }
                }
            }
        }
        dims = out
        return result
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
