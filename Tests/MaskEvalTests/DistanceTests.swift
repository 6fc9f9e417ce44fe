import Foundation
import Testing

@testable import MaskEval

/// Brute-force references: boundaries by their definition, distances by trying every pair.
enum BruteForce {
    static func boundary(_ v: LabelVolume, _ label: Int32) -> [(Int, Int, Int)] {
        let g = v.grid
        func inside(_ i: Int, _ j: Int, _ k: Int) -> Bool {
            guard i >= 0, j >= 0, k >= 0, i < g.nx, j < g.ny, k < g.nz else { return false }
            return v.storage.label(at: i + g.nx * (j + g.ny * k)) == label
        }
        var out: [(Int, Int, Int)] = []
        for k in 0..<g.nz {
            for j in 0..<g.ny {
                for i in 0..<g.nx where inside(i, j, k) {
                    // Axes of extent 1 have no neighbours, unless all three do (a 1×1×1 image).
                    let single = g.voxelCount == 1
                    var neighbours: [(Int, Int, Int)] = []
                    if g.nx > 1 || single { neighbours += [(i - 1, j, k), (i + 1, j, k)] }
                    if g.ny > 1 || single { neighbours += [(i, j - 1, k), (i, j + 1, k)] }
                    if g.nz > 1 || single { neighbours += [(i, j, k - 1), (i, j, k + 1)] }
                    if neighbours.contains(where: { !inside($0.0, $0.1, $0.2) }) { out.append((i, j, k)) }
                }
            }
        }
        return out
    }

    static func distances(from a: [(Int, Int, Int)], to b: [(Int, Int, Int)], spacing s: SIMD3<Double>) -> [Double] {
        a.map { p in
            b.map { q in
                let d = SIMD3(Double(p.0 - q.0), Double(p.1 - q.1), Double(p.2 - q.2)) * s
                return (d * d).sum()
            }.min().map { $0.squareRoot() } ?? .infinity
        }
    }
}

@Suite struct DistanceTests {
    /// Random small masks, anisotropic spacing: the transform equals brute force.
    @Test(arguments: 0..<25)
    func transformEqualsBruteForce(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) &* 7919 &+ 1)
        let nx = Int.random(in: 1...9, using: &rng)
        let ny = Int.random(in: 1...9, using: &rng)
        let nz = Int.random(in: 1...9, using: &rng)
        let spacing = SIMD3(
            Double.random(in: 0.3...3, using: &rng), Double.random(in: 0.3...3, using: &rng),
            Double.random(in: 0.3...3, using: &rng))
        let density = Double.random(in: 0.02...0.4, using: &rng)
        var flags = [UInt8](repeating: 0, count: nx * ny * nz)
        var sources: [(Int, Int, Int)] = []
        var queries: [(Int, Int, Int)] = []
        for k in 0..<nz {
            for j in 0..<ny {
                for i in 0..<nx {
                    var f: UInt8 = 0
                    if Double.random(in: 0..<1, using: &rng) < density {
                        f |= 1
                        sources.append((i, j, k))
                    }
                    if Double.random(in: 0..<1, using: &rng) < 0.5 {
                        f |= 2
                        queries.append((i, j, k))
                    }
                    flags[i + nx * (j + ny * k)] = f
                }
            }
        }
        let expected = BruteForce.distances(from: queries, to: sources, spacing: spacing)
        for threads in [1, 3] {
            let got = flags.withUnsafeBufferPointer {
                DistanceTransform.distances(
                    flags: $0, nx: nx, ny: ny, nz: nz, spacing: spacing, source: 1, query: 2, threads: threads)
            }
            #expect(got.count == expected.count, "seed \(seed)")
            for (a, b) in zip(got, expected) {
                #expect(a == b || abs(a - b) <= 1e-12 * max(1, b), "seed \(seed): \(a) vs \(b)")
            }
        }
    }

    /// The outward search (with its brute-force and transform fallbacks) equals the
    /// transform on random sparse point sets, near and far, anisotropic and flat.
    @Test(arguments: 0..<30)
    func searchEqualsTransform(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) &* 31 &+ 5)
        let flatK = seed % 5 == 0
        let nx = Int.random(in: 1...40, using: &rng)
        let ny = Int.random(in: 1...40, using: &rng)
        let nz = flatK ? 1 : Int.random(in: 1...30, using: &rng)
        let spacing = SIMD3(
            Double.random(in: 0.2...3, using: &rng), Double.random(in: 0.2...3, using: &rng),
            Double.random(in: 0.2...3, using: &rng))
        // Sparse sources: some queries find one nearby, others are far from all.
        let sourceDensity = [0.0005, 0.01, 0.2][seed % 3]
        var flags = [UInt8](repeating: 0, count: nx * ny * nz)
        var sources: [Int] = []
        var queries: [Int] = []
        for index in flags.indices {
            if Double.random(in: 0..<1, using: &rng) < sourceDensity {
                flags[index] |= 1
                sources.append(index)
            }
            if Double.random(in: 0..<1, using: &rng) < 0.05 {
                flags[index] |= 2
                queries.append(index)
            }
        }
        let grid = Grid(nx: nx, ny: ny, nz: nz, affine: .diagonal(spacing.x, spacing.y, spacing.z))
        let table = searchTable(grid)
        flags.withUnsafeBufferPointer { f in
            let transform = DistanceTransform.distances(
                flags: f, nx: nx, ny: ny, nz: nz, spacing: spacing, source: 1, query: 2, threads: 1)
            for threads in [1, 3] {
                let search = SurfaceSearch.distances(
                    nx: nx, ny: ny, nz: nz, spacing: spacing,
                    box: VoxelBox(lower: .zero, upper: SIMD3(Int32(nx - 1), Int32(ny - 1), Int32(nz - 1))),
                    queries: queries, sources: sources, table: table, threads: threads,
                    transformVoxels: nx * ny * nz
                ) { transform }
                #expect(search.count == transform.count)
                for (a, b) in zip(search, transform) {
                    #expect(a == b || abs(a - b) <= 1e-12 * b, "seed \(seed): \(a) vs \(b)")
                }
            }
        }
    }

    @Test func offsetTableIsCompleteWithinItsRadius() {
        for spacing in [SIMD3(1.0, 1, 1), SIMD3(0.8, 0.8, 2.5), SIMD3(0.1, 0.1, 5), SIMD3(3, 0.5, 1)] {
            let table = SurfaceSearch.Table(spacing: spacing, flat: (false, false, false))
            #expect(table.distance.count >= 128, "\(spacing)")
            #expect(table.distance == table.distance.sorted())
            // Every offset of a wide cube within the radius is in the table.
            var inside = 0
            for dk in -60...60 {
                for dj in -60...60 {
                    for di in -60...60 {
                        let d = (SIMD3(Double(di), Double(dj), Double(dk)) * spacing)
                        if (d * d).sum().squareRoot() <= table.radius { inside += 1 }
                    }
                }
            }
            #expect(inside == table.distance.count, "\(spacing)")
        }
    }

    /// Random small pairs: every metric equals its definition computed by brute force.
    @Test(arguments: 0..<20)
    func metricsEqualBruteForce(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) &+ 1000)
        let n = (
            Int.random(in: 3...10, using: &rng), Int.random(in: 3...10, using: &rng), Int.random(in: 1...8, using: &rng)
        )
        let spacing = (
            Double.random(in: 0.5...2.5, using: &rng), Double.random(in: 0.5...2.5, using: &rng),
            Double.random(in: 0.5...2.5, using: &rng)
        )
        let reference = volume(n.0, n.1, n.2, spacing: spacing) { _, _, _ in 0 }
        var ref = reference
        var pred = reference
        var (refLabels, predLabels) = (reference.int32Labels, reference.int32Labels)
        for index in refLabels.indices {
            refLabels[index] = Double.random(in: 0..<1, using: &rng) < 0.45 ? 1 : 0
            predLabels[index] = Double.random(in: 0..<1, using: &rng) < 0.45 ? 1 : 0
        }
        (ref.storage, pred.storage) = (.int32(refLabels), .int32(predLabels))
        guard ref.int32Labels.contains(1), pred.int32Labels.contains(1) else { return }
        let s = ref.grid.spacingMM
        let br = BruteForce.boundary(ref, 1)
        let bp = BruteForce.boundary(pred, 1)
        let dpr = BruteForce.distances(from: bp, to: br, spacing: s)
        let drp = BruteForce.distances(from: br, to: bp, spacing: s)
        let tau = Double.random(in: 0...3, using: &rng)
        let q = [50.0, 95, 99, 100][Int.random(in: 0...3, using: &rng)]
        let result = evaluateLabel(ref, pred, presets: [.monai, .medpy], percentile: q, tolerance: tau)
        let m = result.surface[.monai]!
        func pct(_ values: [Double]) -> Double {
            let v = values.sorted()
            let h = Double(v.count - 1) * q / 100
            let lo = Int(h)
            let hi = min(lo + 1, v.count - 1)
            return v[lo] + (v[hi] - v[lo]) * (h - Double(lo))
        }
        let tol = 1e-9
        #expect(close(m.hausdorffMM, max(dpr.max()!, drp.max()!), atol: tol), "seed \(seed)")
        #expect(close(m.hdPercentileMM, max(pct(dpr), pct(drp)), atol: tol), "seed \(seed)")
        #expect(close(m.assdMM, (dpr.reduce(0, +) + drp.reduce(0, +)) / Double(dpr.count + drp.count), atol: tol))
        let meanPR = dpr.reduce(0, +) / Double(dpr.count)
        let meanRP = drp.reduce(0, +) / Double(drp.count)
        #expect(close(m.masdMM, (meanPR + meanRP) / 2, atol: tol))
        #expect(close(m.asdPredictionToReferenceMM, meanPR, atol: tol))
        #expect(close(m.asdReferenceToPredictionMM, meanRP, atol: tol))
        let within = dpr.filter { $0 <= tau }.count + drp.filter { $0 <= tau }.count
        #expect(m.nsd == Double(within) / Double(dpr.count + drp.count), "seed \(seed)")
        #expect(close(result.surface[.medpy]!.hdPercentileMM, pct(dpr + drp), atol: tol), "seed \(seed)")
        let r = ref.int32Labels.filter { $0 == 1 }.count
        let p = pred.int32Labels.filter { $0 == 1 }.count
        let both = zip(ref.int32Labels, pred.int32Labels).filter { $0 == 1 && $1 == 1 }.count
        #expect(result.dice == 2 * Double(both) / Double(r + p))
        #expect(result.jaccard == Double(both) / Double(r + p - both))
    }

    /// Extreme anisotropy keeps the offset table small and the distances exact.
    @Test(arguments: [(0.001, 0.001, 1000.0), (1000, 0.001, 1), (0.05, 7, 0.3)])
    func extremeSpacing(sx: Double, sy: Double, sz: Double) {
        let a = volume(10, 9, 8, spacing: (sx, sy, sz), box((2, 2, 1), (7, 6, 5)))
        let b = volume(10, 9, 8, spacing: (sx, sy, sz)) { i, j, k in (i + 2 * j + k) % 4 == 0 && i > 1 ? 1 : 0 }
        let s = a.grid.spacingMM
        let dpr = BruteForce.distances(from: BruteForce.boundary(b, 1), to: BruteForce.boundary(a, 1), spacing: s)
        let drp = BruteForce.distances(from: BruteForce.boundary(a, 1), to: BruteForce.boundary(b, 1), spacing: s)
        let m = evaluateLabel(a, b).surface[.monai]!
        #expect(close(m.hausdorffMM, max(dpr.max()!, drp.max()!), rtol: 1e-12))
        #expect(close(m.assdMM, (dpr.reduce(0, +) + drp.reduce(0, +)) / Double(dpr.count + drp.count), rtol: 1e-12))
        let table = SurfaceSearch.Table(spacing: s, flat: (false, false, false))
        #expect(table.distance.count <= 49 * 49 * 49)
    }

    @Test func scalingSpacingScalesDistances() {
        let a = volume(12, 10, 8, spacing: (0.7, 1.3, 2.1), box((2, 2, 1), (8, 7, 6)))
        let b = volume(12, 10, 8, spacing: (0.7, 1.3, 2.1), box((3, 1, 2), (10, 6, 7)))
        let a3 = volume(12, 10, 8, spacing: (2.1, 3.9, 6.3), box((2, 2, 1), (8, 7, 6)))
        let b3 = volume(12, 10, 8, spacing: (2.1, 3.9, 6.3), box((3, 1, 2), (10, 6, 7)))
        let m1 = evaluateLabel(a, b).surface[.monai]!
        let m3 = evaluateLabel(a3, b3, tolerance: 3).surface[.monai]!
        #expect(close(m3.hausdorffMM, 3 * m1.hausdorffMM, rtol: 1e-12))
        #expect(close(m3.hdPercentileMM, 3 * m1.hdPercentileMM, rtol: 1e-12))
        #expect(close(m3.assdMM, 3 * m1.assdMM, rtol: 1e-12))
        #expect(close(m3.masdMM, 3 * m1.masdMM, rtol: 1e-12))
        #expect(m3.nsd == m1.nsd)
    }

    @Test func symmetricMetricsAreSymmetric() {
        let a = volume(12, 10, 8, spacing: (0.7, 1.3, 2.1), box((2, 2, 1), (8, 7, 6)))
        let b = volume(12, 10, 8, spacing: (0.7, 1.3, 2.1)) { i, j, k in (i + j + k) % 5 == 0 && i > 2 ? 1 : 0 }
        let ab = evaluateLabel(a, b).surface[.monai]!
        let ba = evaluateLabel(b, a).surface[.monai]!
        #expect(ab.hausdorffMM == ba.hausdorffMM)
        #expect(ab.hdPercentileMM == ba.hdPercentileMM)
        #expect(close(ab.assdMM, ba.assdMM, rtol: 1e-14))
        #expect(close(ab.masdMM, ba.masdMM, rtol: 1e-14))
        #expect(ab.nsd == ba.nsd)
        #expect(ab.asdPredictionToReferenceMM == ba.asdReferenceToPredictionMM)
    }

    /// A 1×1×1 image (found by the fuzzer: it trapped). Its one voxel is its own surface, as
    /// for a 1×1×1 array in MONAI, MedPy and DeepMind; a single row stays 1-D.
    @Test func singleVoxelAndSingleRowImages() {
        let one = volume(1, 1, 1, spacing: (0.5, 2, 3)) { _, _, _ in 7 }
        #expect(BruteForce.boundary(one, 7).count == 1)
        let evaluation = Evaluator.evaluate(
            reference: one, prediction: one, settings: EvaluationSettings(presets: Compat.allCases))
        #expect(evaluation.labels.map(\.status) == [.matched])
        for preset in Compat.allCases {
            let s = evaluation.labels[0].surface[preset]!
            #expect(s.hausdorffMM == 0 && s.hdPercentileMM == 0 && s.assdMM == 0 && s.nsd == 1, "\(preset)")
        }
        // 1×1×5 at 2 mm: reference voxels 0–2, prediction 2–4. Boundaries are the row's ends
        // (0, 2 and 2, 4): D_PR = {0, 4} mm, D_RP = {4, 0} mm.
        let reference = volume(1, 1, 5, spacing: (1, 1, 2)) { _, _, k in k <= 2 ? 1 : 0 }
        let prediction = volume(1, 1, 5, spacing: (1, 1, 2)) { _, _, k in k >= 2 ? 1 : 0 }
        let row = evaluateLabel(reference, prediction, presets: [.monai, .deepmind])
        #expect(row.surface[.monai]!.hausdorffMM == 4 && row.surface[.monai]!.assdMM == 2)
        #expect(row.surface[.deepmind]!.hausdorffMM.isFinite)
    }

    @Test func identicalInputsGiveDiceOneAndZeroDistances() {
        let a = volume(9, 9, 9, spacing: (0.5, 1, 3)) { i, j, k in Int32((i / 3 + j / 3 + k / 3) % 4) }
        let presets = Compat.allCases
        let evaluation = Evaluator.evaluate(reference: a, prediction: a, settings: EvaluationSettings(presets: presets))
        #expect(evaluation.labels.count == 3)
        for result in evaluation.labels {
            #expect(result.dice == 1 && result.status == .matched)
            for preset in presets {
                let s = result.surface[preset]!
                #expect(
                    s.hausdorffMM == 0 && s.hdPercentileMM == 0 && s.assdMM == 0 && s.masdMM == 0 && s.nsd == 1,
                    "\(preset)")
            }
        }
    }
}
