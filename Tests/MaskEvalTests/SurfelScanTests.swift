import Testing

@testable import MaskEval

/// The corner scan (row ranges, sixteen corners per test) against the definition read corner
/// by corner: every corner's code from its block, a surface point where the code is neither
/// 0 nor full, in scan order, with the area of its code.
@Suite struct SurfelScanTests {
    /// The surface points of one mask (bit 0 of the padded flags: reference, bit 1:
    /// prediction) by the definition in `SurfelCrop`'s doc comment.
    static func byDefinition(_ crop: MeshCrop, spacing: SIMD3<Double>, bit: UInt8) -> (points: [Int], areas: [Double]) {
        let flat = [crop.flat.x, crop.flat.y, crop.flat.z]
        let padded = [crop.nx, crop.ny, crop.nz]
        let corners = (0..<3).map { flat[$0] ? padded[$0] : padded[$0] - 1 }
        let real = (0..<3).filter { !flat[$0] }
        let table = SurfelCrop.areaTable(spacing: spacing, flat: crop.flat)
        let full = (1 << (1 << real.count)) - 1
        var points: [Int] = []
        var areas: [Double] = []
        for c in 0..<corners[2] {
            for b in 0..<corners[1] {
                for a in 0..<corners[0] {
                    var code = 0
                    // Each voxel of the block: upper (1) or lower (0) along each real axis.
                    for choice in 0..<(1 << real.count) {
                        var at = [a, b, c]
                        var bitIndex = 0
                        for (rank, axis) in real.enumerated() {
                            let upper = choice >> rank & 1 == 1
                            if upper { at[axis] += 1 } else { bitIndex += 1 << (real.count - 1 - rank) }
                        }
                        let index = at[0] + padded[0] * (at[1] + padded[1] * at[2])
                        if crop.flags[index] & bit != 0 { code |= 1 << bitIndex }
                    }
                    if code != 0 && code != full {
                        points.append(a + corners[0] * (b + corners[1] * c))
                        areas.append(table[code])
                    }
                }
            }
        }
        return (points, areas)
    }

    /// Random blobs on grids of 1 to 40 voxels a side (flat axes, rows shorter and longer
    /// than sixteen corners, masks touching the image edge), anisotropic spacing.
    @Test(arguments: 0..<24)
    func scanEqualsDefinition(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) &* 977 &+ 3)
        let flatAxis = seed % 4 == 3 ? Int.random(in: 0..<3, using: &rng) : -1
        let n = (0..<3).map { $0 == flatAxis ? 1 : Int.random(in: 2...40, using: &rng) }
        let spacing = (
            Double.random(in: 0.4...2.5, using: &rng), Double.random(in: 0.4...2.5, using: &rng),
            Double.random(in: 0.4...2.5, using: &rng)
        )
        let centres = (0..<2).map { _ in (0..<3).map { Double.random(in: 0..<Double(n[$0]), using: &rng) } }
        let radius = Double.random(in: 1...12, using: &rng)
        let holes = Double.random(in: 0...0.2, using: &rng)
        func blob(_ centre: [Double]) -> (Int, Int, Int) -> Int32 {
            var noise = SeededGenerator(seed: UInt64(seed) &+ 11)
            return { i, j, k in
                let d = [Double(i) - centre[0], Double(j) - centre[1], Double(k) - centre[2]]
                let inside = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).squareRoot() < radius
                return inside && Double.random(in: 0..<1, using: &noise) >= holes ? 1 : 0
            }
        }
        let reference = volume(n[0], n[1], n[2], spacing: spacing, blob(centres[0]))
        let prediction = volume(n[0], n[1], n[2], spacing: spacing, blob(centres[1]))
        let grid = reference.grid
        let box = Evaluator.unionBox(reference: reference, prediction: prediction, label: 1, threads: 1)
        guard box.upper.x >= box.lower.x else { return }
        let crop = reference.int32Labels.withUnsafeBufferPointer { r in
            prediction.int32Labels.withUnsafeBufferPointer { p in
                MeshCrop(label: 1, box: box, reference: r, prediction: p, grid: grid)
            }
        }
        let surfels = SurfelCrop(crop: crop, spacing: grid.spacingMM)
        let r = Self.byDefinition(crop, spacing: grid.spacingMM, bit: MeshSurface.inReference)
        let p = Self.byDefinition(crop, spacing: grid.spacingMM, bit: MeshSurface.inPrediction)
        #expect(surfels.referencePoints == r.points, "seed \(seed) dims \(n)")
        #expect(surfels.referenceAreas == r.areas, "seed \(seed) dims \(n)")
        #expect(surfels.predictionPoints == p.points, "seed \(seed) dims \(n)")
        #expect(surfels.predictionAreas == p.areas, "seed \(seed) dims \(n)")
    }
}
