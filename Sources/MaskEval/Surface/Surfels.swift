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

    init(voxels crop: LabelCrop, grid: Grid) {
        let s = grid.spacingMM
        // Axes of image extent 1 get no corner layer: the blocks span the other axes.
        let flat = (x: grid.nx == 1, y: grid.ny == 1, z: grid.nz == 1)
        let extend = (x: flat.x ? 0 : 1, y: flat.y ? 0 : 1, z: flat.z ? 0 : 1)
        let (nx, ny, nz) = (crop.nx + extend.x, crop.ny + extend.y, crop.nz + extend.z)
        (self.nx, self.ny, self.nz) = (nx, ny, nz)
        let table = Self.areaTable(spacing: s, flat: flat)
        // The block offsets along the real axes, most significant bit first (the package's
        // kernels [[[128, 64], [32, 16]], [[8, 4], [2, 1]]] and [[8, 4], [2, 1]]).
        var offsets: [(Int, Int, Int)] = []
        for o0 in 0...extend.x {
            for o1 in 0...extend.y {
                for o2 in 0...extend.z { offsets.append((o0, o1, o2)) }
            }
        }
        let bits = offsets.count
        var flags = [UInt8](repeating: 0, count: nx * ny * nz)
        var referenceAreas: [Double] = []
        var predictionAreas: [Double] = []
        var referencePoints: [Int] = []
        var predictionPoints: [Int] = []
        let full = (1 << bits) - 1
        let (cx, cy, cz) = (crop.nx, crop.ny, crop.nz)
        crop.flags.withUnsafeBufferPointer { voxels in
            for c in 0..<nz {
                for b in 0..<ny {
                    for a in 0..<nx {
                        var codeR = 0
                        var codeP = 0
                        for (bit, o) in offsets.enumerated() {
                            // Corner (a, b, c) sits after voxel a − 1 and before voxel a.
                            let i = a - extend.x + o.0
                            let j = b - extend.y + o.1
                            let k = c - extend.z + o.2
                            guard i >= 0, j >= 0, k >= 0, i < cx, j < cy, k < cz else { continue }
                            let v = voxels[i + cx * (j + cy * k)]
                            let value = 1 << (bits - 1 - bit)
                            if v & CropFlag.inReference != 0 { codeR |= value }
                            if v & CropFlag.inPrediction != 0 { codeP |= value }
                        }
                        var f: UInt8 = 0
                        let index = a + nx * (b + ny * c)
                        if codeR != 0 && codeR != full {
                            f |= CropFlag.referenceBoundary
                            referenceAreas.append(table[codeR])
                            referencePoints.append(index)
                        }
                        if codeP != 0 && codeP != full {
                            f |= CropFlag.predictionBoundary
                            predictionAreas.append(table[codeP])
                            predictionPoints.append(index)
                        }
                        flags[index] = f
                    }
                }
            }
        }
        self.flags = flags
        self.referenceAreas = referenceAreas
        self.predictionAreas = predictionAreas
        self.referencePoints = referencePoints
        self.predictionPoints = predictionPoints
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

extension Reduce {
    /// The `deepmind` preset: area-weighted reductions of the surfel distances, as
    /// `compute_robust_hausdorff`, `compute_average_surface_distance` and
    /// `compute_surface_dice_at_tolerance` do.
    static func surfelMetrics(_ d: DirectedDistances, percentile: Double, toleranceMM: Double) -> SurfaceMetrics {
        let pr = sortedPairs(d.predictionToReference, d.predictionAreas ?? [])
        let rp = sortedPairs(d.referenceToPrediction, d.referenceAreas ?? [])
        precondition(!pr.isEmpty && !rp.isEmpty, "both surfaces must be non-empty")
        let areaPR = sum(pr.map { $0.1 })
        let areaRP = sum(rp.map { $0.1 })
        let weightedPR = sum(pr.map { $0.0 * $0.1 })
        let weightedRP = sum(rp.map { $0.0 * $0.1 })
        let meanPR = weightedPR / areaPR
        let meanRP = weightedRP / areaRP
        let withinPR = sum(pr.filter { $0.0 <= toleranceMM }.map { $0.1 })
        let withinRP = sum(rp.filter { $0.0 <= toleranceMM }.map { $0.1 })
        return SurfaceMetrics(
            hausdorffMM: max(weightedPercentile(pr, total: areaPR, 100), weightedPercentile(rp, total: areaRP, 100)),
            hdPercentileMM: max(
                weightedPercentile(pr, total: areaPR, percentile), weightedPercentile(rp, total: areaRP, percentile)),
            assdMM: (weightedPR + weightedRP) / (areaPR + areaRP),
            masdMM: (meanPR + meanRP) / 2,
            asdReferenceToPredictionMM: meanRP,
            asdPredictionToReferenceMM: meanPR,
            nsd: (withinPR + withinRP) / (areaPR + areaRP))
    }

    /// (distance, area) pairs sorted lexicographically, as `_sort_distances_surfels`.
    static func sortedPairs(_ distances: [Double], _ areas: [Double]) -> [(Double, Double)] {
        precondition(distances.count == areas.count, "one area per surface point")
        return zip(distances, areas).sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
    }

    /// The first distance whose cumulative area fraction reaches q/100 (numpy
    /// `searchsorted`, left), the last one when rounding keeps the fraction below it.
    static func weightedPercentile(_ pairs: [(Double, Double)], total: Double, _ q: Double) -> Double {
        let target = q / 100
        var cumulative = 0.0
        for (distance, area) in pairs {
            cumulative += area
            if cumulative / total >= target { return distance }
        }
        return pairs[pairs.count - 1].0
    }
}
