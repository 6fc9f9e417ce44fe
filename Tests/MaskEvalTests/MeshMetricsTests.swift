import Foundation
import Testing

@testable import MaskEval

/// An independent brute force of the `meshmetrics` definition (METRICS.md): list every
/// voxel face of each mask as a rectangle in mm, take its samples (triangle centroids along
/// the index-space anti-diagonal, or segment midpoints in 2-D), and measure each sample's
/// distance to every face of the other mask. Slow (samples × faces); small masks only.
enum MeshBruteForce {
    struct Face {
        var lower: SIMD3<Double>
        var upper: SIMD3<Double>
        var normal: Int
    }

    static func faces(_ v: LabelVolume, label: Int32) -> [Face] {
        let g = v.grid
        let s = g.spacingMM
        let flat = g.flatAxes
        let isFlat = [flat.x, flat.y, flat.z]
        let dims = [g.nx, g.ny, g.nz]
        func isIn(_ c: [Int]) -> Bool {
            for axis in 0..<3 where c[axis] < 0 || c[axis] >= dims[axis] { return false }
            return v.storage.label(at: c[0] + g.nx * (c[1] + g.ny * c[2])) == label
        }
        var out: [Face] = []
        for k in 0..<g.nz {
            for j in 0..<g.ny {
                for i in 0..<g.nx where isIn([i, j, k]) {
                    for axis in 0..<3 where !isFlat[axis] {
                        for step in [-1, 1] {
                            var n = [i, j, k]
                            n[axis] += step
                            if isIn(n) { continue }
                            var lower = SIMD3<Double>.zero
                            var upper = SIMD3<Double>.zero
                            for e in 0..<3 {
                                let c = Double([i, j, k][e])
                                if e == axis {
                                    lower[e] = (c + 0.5 * Double(step)) * s[e]
                                    upper[e] = lower[e]
                                } else if isFlat[e] {
                                    lower[e] = c * s[e]
                                    upper[e] = lower[e]
                                } else {
                                    lower[e] = (c - 0.5) * s[e]
                                    upper[e] = (c + 0.5) * s[e]
                                }
                            }
                            out.append(Face(lower: lower, upper: upper, normal: axis))
                        }
                    }
                }
            }
        }
        return out
    }

    /// (point, weight) samples of a face.
    static func samples(_ f: Face, flat: (x: Bool, y: Bool, z: Bool), spacing: SIMD3<Double>)
        -> [(SIMD3<Double>, Double)]
    {
        let isFlat = [flat.x, flat.y, flat.z]
        let inPlane = (0..<3).filter { $0 != f.normal && !isFlat[$0] }
        let extent = f.upper - f.lower
        if inPlane.count == 2 {
            let (a, b) = (inPlane[0], inPlane[1])
            let area = spacing[a] * spacing[b] / 2
            var first = f.lower
            first[a] += extent[a] / 3
            first[b] += extent[b] / 3
            var second = f.lower
            second[a] += 2 * extent[a] / 3
            second[b] += 2 * extent[b] / 3
            return [(first, area), (second, area)]
        }
        let centre = (f.lower + f.upper) / 2
        return [(centre, inPlane.count == 1 ? spacing[inPlane[0]] : 1)]
    }

    static func distance(_ p: SIMD3<Double>, _ f: Face) -> Double {
        let below = f.lower - p
        let above = p - f.upper
        let gap = pointwiseMax(pointwiseMax(below, above), .zero)
        return (gap * gap).sum().squareRoot()
    }

    /// Sorted (distance, weight) pairs of one direction: samples of `from` to faces of `to`.
    static func directed(_ from: [Face], _ to: [Face], grid: Grid) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        for face in from {
            for (point, weight) in samples(face, flat: grid.flatAxes, spacing: grid.spacingMM) {
                out.append((to.map { distance(point, $0) }.min() ?? .infinity, weight))
            }
        }
        return out
    }
}

/// The histogram of one direction expanded back into sorted (distance, weight) pairs.
func expanded(_ h: MeshHistogram, _ d: MeshDistances) -> [(Double, Double)] {
    var out: [(Double, Double)] = []
    for (index, distance) in h.distances.enumerated() {
        for axis in 0..<3 {
            for _ in 0..<h.counts[index][axis] { out.append((distance, d.sampleAreas[axis])) }
        }
    }
    return out.sorted { $0 < $1 }
}

/// Whether two lists of (distance, weight) pairs hold the same multiset: distances within
/// `tolerance` mm, weights within 1e-14 relative. Both are sorted by distance rounded to
/// 1e-9 mm, then weight, so rounding noise in the brute force cannot reorder them.
func samePairs(_ a: [(Double, Double)], _ b: [(Double, Double)], tolerance: Double = 1e-12) -> Bool {
    func canonical(_ list: [(Double, Double)]) -> [(Double, Double)] {
        list.sorted { (($0.0 * 1e9).rounded(), $0.1) < (($1.0 * 1e9).rounded(), $1.1) }
    }
    guard a.count == b.count else { return false }
    return zip(canonical(a), canonical(b)).allSatisfy {
        close($0.0, $1.0, atol: tolerance) && close($0.1, $1.1, rtol: 1e-14)
    }
}

@Suite struct MeshMetricsTests {
    /// Random blobs on a small grid (seeded, printed on failure).
    static func randomPair(seed: UInt64, dims: (Int, Int, Int), fill: Double = 0.35) -> (LabelVolume, LabelVolume) {
        var rng = SeededGenerator(seed: seed)
        let grid = Grid(nx: dims.0, ny: dims.1, nz: dims.2, affine: .diagonal(0.7, 1.3, 2.1))
        func mask() -> [Int32] {
            (0..<grid.voxelCount).map { _ in Double.random(in: 0..<1, using: &rng) < fill ? 1 : 0 }
        }
        return (LabelVolume(grid: grid, labels: mask()), LabelVolume(grid: grid, labels: mask()))
    }

    static func checkAgainstBruteForce(_ r: LabelVolume, _ p: LabelVolume, context: String) {
        let facesR = MeshBruteForce.faces(r, label: 1)
        let facesP = MeshBruteForce.faces(p, label: 1)
        guard !facesR.isEmpty, !facesP.isEmpty else { return }
        let d = Evaluator.meshDistances(reference: r, prediction: p, label: 1, threads: 1)
        #expect(
            samePairs(expanded(d.predictionToReference, d), MeshBruteForce.directed(facesP, facesR, grid: r.grid)),
            "D_PR, \(context)")
        #expect(
            samePairs(expanded(d.referenceToPrediction, d), MeshBruteForce.directed(facesR, facesP, grid: r.grid)),
            "D_RP, \(context)")
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomMasksEqualBruteForce3D(seed: UInt64) {
        // Property: the outward search equals brute force over all faces, anisotropic 3-D.
        let (r, p) = Self.randomPair(seed: seed, dims: (7, 6, 5), fill: seed.isMultiple(of: 2) ? 0.2 : 0.6)
        Self.checkAgainstBruteForce(r, p, context: "seed \(seed)")
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func randomMasksEqualBruteForce2D(seed: UInt64) {
        // 2-D (one slice): contour segments, midpoints weighted by length (METRICS.md).
        var rng = SeededGenerator(seed: seed)
        let grid = Grid(nx: 9, ny: 1, nz: 8, affine: .diagonal(0.6, 3, 1.4))
        func mask() -> [Int32] { (0..<72).map { _ in Double.random(in: 0..<1, using: &rng) < 0.4 ? 1 : 0 } }
        let r = LabelVolume(grid: grid, labels: mask())
        let p = LabelVolume(grid: grid, labels: mask())
        Self.checkAgainstBruteForce(r, p, context: "seed \(seed)")
    }

    @Test func farSurfacesEqualBruteForce() {
        // Surfaces ~40 voxels apart: every sample misses the offset table and is answered
        // by the brick search (`ShellIndex`), inside and outside the other mask.
        let r = volume(64, 9, 8) { i, j, k in (i < 6 && j > 1 && k > 2) || (i > 30 && i < 40 && j < 5) ? 1 : 0 }
        let p = volume(64, 9, 8) { i, j, k in (i > 56 && j < 7) || (i > 25 && i < 45 && j < 8 && k < 7) ? 1 : 0 }
        Self.checkAgainstBruteForce(r, p, context: "far")
    }

    @Test func edgeAndCornerContactsEqualBruteForce() {
        // Voxels touching only along an edge or at a corner: every face present once.
        let r = volume(6, 6, 6) { i, j, k in [(1, 1, 1), (2, 2, 1), (3, 3, 2)].contains { $0 == (i, j, k) } ? 1 : 0 }
        let p = volume(6, 6, 6) { i, j, k in [(1, 1, 1), (2, 1, 1), (4, 4, 3)].contains { $0 == (i, j, k) } ? 1 : 0 }
        Self.checkAgainstBruteForce(r, p, context: "contacts")
    }

    @Test func borderTouchingMasksEqualBruteForce() {
        // Masks on the image edge: the outside of the image is outside the mask.
        let r = volume(5, 4, 3, spacing: (1, 2, 0.5)) { i, _, _ in i < 3 ? 1 : 0 }
        let p = volume(5, 4, 3, spacing: (1, 2, 0.5)) { i, j, _ in i > 0 || j == 0 ? 1 : 0 }
        Self.checkAgainstBruteForce(r, p, context: "border")
    }

    @Test func oneVoxelImageKeepsItsSixFaces() {
        // A 1×1×1 image keeps its three axes: its voxel has 6 faces, 12 samples, all at 0.
        let v = volume(1, 1, 1, spacing: (1, 2, 3)) { _, _, _ in 1 }
        let d = Evaluator.meshDistances(reference: v, prediction: v, label: 1)
        #expect(d.referenceToPrediction.totals == SIMD3(4, 4, 4))
        #expect(d.referenceToPrediction.distances == [0])
    }

    @Test func threadCountChangesNothing() {
        // Property: identical histograms for 1, 2 and 5 threads.
        let (r, p) = Self.randomPair(seed: 99, dims: (23, 19, 17), fill: 0.5)
        let one = Evaluator.meshDistances(reference: r, prediction: p, label: 1, threads: 1)
        #expect(one == Evaluator.meshDistances(reference: r, prediction: p, label: 1, threads: 2))
        #expect(one == Evaluator.meshDistances(reference: r, prediction: p, label: 1, threads: 5))
    }

    @Test func evaluationIsTheSameForAnyThreadCount() {
        // A label of more than 2^18 crop voxels runs alone with the threads inside it
        // (`Evaluator.evaluate`); one thread and four give the same numbers, BIoU included.
        func blobs(_ shift: Int) -> LabelVolume {
            volume(92, 80, 64, spacing: (0.8, 0.9, 1.7)) { i, j, k in
                let (x, y, z) = (Double(i - 45 - shift), Double(j - 40), Double(k - 32))
                let inside = x * x / 1600 + y * y / 1296 + z * z / 900 < 1 + 0.1 * sin(Double(i * j + k) / 7)
                return inside ? 1 : (i + shift < 6 && j < 9 ? 2 : 0)
            }
        }
        let r = blobs(0)
        let p = blobs(2)
        func run(_ threads: Int) -> [Int32: SurfaceMetrics] {
            let settings = EvaluationSettings(presets: [.meshmetrics], threads: threads)
            let evaluation = Evaluator.evaluate(reference: r, prediction: p, settings: settings)
            return Dictionary(uniqueKeysWithValues: evaluation.labels.map { ($0.label, $0.surface[.meshmetrics]!) })
        }
        #expect(run(1) == run(4))
        let one = Evaluator.meshMetrics(reference: r, prediction: p, label: 1, settings: EvaluationSettings(threads: 1))
        let four = Evaluator.meshMetrics(
            reference: r, prediction: p, label: 1, settings: EvaluationSettings(threads: 4))
        #expect(one != nil && one == four)
    }

    @Test func identicalMasksGiveZeroAndNSDOne() {
        let v = volume(8, 7, 6, spacing: (0.5, 1, 2)) { i, j, k in i > 1 && i < 6 && j > 2 && k < 4 ? 1 : 0 }
        let m = try! #require(evaluateLabel(v, v, presets: [.meshmetrics]).surface[.meshmetrics])
        #expect(m.hausdorffMM == 0 && m.hdPercentileMM == 0 && m.assdMM == 0 && m.nsd == 1)
        let full = Evaluator.meshMetrics(reference: v, prediction: v, label: 1, settings: EvaluationSettings())
        #expect(full?.boundaryIoU == 1)
    }

    @Test func slabsOneVoxelApart() {
        // Two 4×4×4 cubes shifted by one voxel along i: checked against brute force; the
        // pair is symmetric (a mirror swaps them), so both directed means agree; the end
        // faces lie 1 mm from the other cube's end faces, the largest distance.
        let r = volume(8, 6, 6) { i, j, k in i >= 1 && i < 5 && j >= 1 && j < 5 && k >= 1 && k < 5 ? 1 : 0 }
        let p = volume(8, 6, 6) { i, j, k in i >= 2 && i < 6 && j >= 1 && j < 5 && k >= 1 && k < 5 ? 1 : 0 }
        Self.checkAgainstBruteForce(r, p, context: "slabs")
        let m = try! #require(evaluateLabel(r, p, presets: [.meshmetrics]).surface[.meshmetrics])
        #expect(m.asdPredictionToReferenceMM == m.asdReferenceToPredictionMM)
        #expect(m.hausdorffMM == 1)
    }

    @Test func distanceEqualToToleranceCounts() {
        // METRICS.md: d ≤ τ decided exactly, a distance equal to τ counts. Cubes one voxel
        // apart at spacing 0.1 mm (0.1 is not a binary fraction): the end-face samples lie
        // exactly 0.1 mm (one voxel) from the other surface.
        let r = volume(8, 6, 6, spacing: (0.1, 0.1, 0.1)) { i, j, k in
            i >= 1 && i < 5 && j >= 1 && j < 5 && k >= 1 && k < 5 ? 1 : 0
        }
        let p = volume(8, 6, 6, spacing: (0.1, 0.1, 0.1)) { i, j, k in
            i >= 2 && i < 6 && j >= 1 && j < 5 && k >= 1 && k < 5 ? 1 : 0
        }
        let at = try! #require(evaluateLabel(r, p, presets: [.meshmetrics], tolerance: 0.1).surface[.meshmetrics])
        let below = try! #require(
            evaluateLabel(r, p, presets: [.meshmetrics], tolerance: 0.1.nextDown).surface[.meshmetrics])
        #expect(at.nsd == 1)
        #expect(below.nsd < 1)
    }

    @Test func exactPercentileDecision() {
        // 100/3 % of the area: the real fraction 1/3 is below q/100 = 0.333…3357 (the double
        // nearest 1/3 is above it), so the exact rule does not take that distance, whatever a
        // running float sum says.
        let w = SIMD3<Double>(0.1, 0.1, 0.1)
        #expect(
            !ExactArithmetic.reaches(
                cumulative: SIMD3(1, 0, 0), totals: SIMD3(3, 0, 0), areas: w, percentile: 100.0 / 3))
        #expect(ExactArithmetic.reaches(cumulative: SIMD3(1, 0, 0), totals: SIMD3(2, 0, 0), areas: w, percentile: 50))
        #expect(
            !ExactArithmetic.reaches(
                cumulative: SIMD3(1, 0, 0), totals: SIMD3(2, 0, 0), areas: w, percentile: 50.000001))
        #expect(ExactArithmetic.sign(of: [1e300, 1, -1e300]) == 1)
        #expect(ExactArithmetic.sign(of: [0.1, 0.2, -0.3]) == 1)  // 0.1 + 0.2 > 0.3 in doubles exactly
        #expect(ExactArithmetic.sign(of: [0.5, 0.25, -0.75]) == 0)
    }

    @Test func twoDimensionalSquaresShifted() {
        // 2-D: two 3×3 squares shifted by one pixel along j: each contour has 12 unit
        // segments; checked against brute force; the end segments lie 1 mm from the other
        // square's, the largest distance.
        let r = volume(6, 6, 1) { i, j, _ in i >= 1 && i < 4 && j >= 1 && j < 4 ? 1 : 0 }
        let p = volume(6, 6, 1) { i, j, _ in i >= 1 && i < 4 && j >= 2 && j < 5 ? 1 : 0 }
        Self.checkAgainstBruteForce(r, p, context: "2-D squares")
        let d = Evaluator.meshDistances(reference: r, prediction: p, label: 1)
        #expect(d.referenceToPrediction.totals.wrappedSum() == 12)
        let m = try! #require(evaluateLabel(r, p, presets: [.meshmetrics]).surface[.meshmetrics])
        #expect(m.hausdorffMM == 1)
    }

    /// BIoU by brute force (METRICS.md): mask voxels whose centre is strictly closer than τ
    /// to the mask's own faces, measured over every face.
    static func bruteForceBIoU(_ r: LabelVolume, _ p: LabelVolume, tolerance: Double) -> Double {
        let g = r.grid
        func band(_ v: LabelVolume) -> Set<Int> {
            let faces = MeshBruteForce.faces(v, label: 1)
            var out = Set<Int>()
            for index in v.int32Labels.indices where v.storage.label(at: index) == 1 {
                let voxel = g.voxel(index)
                let c = SIMD3<Double>(Double(voxel.x), Double(voxel.y), Double(voxel.z)) * g.spacingMM
                if faces.map({ MeshBruteForce.distance(c, $0) }).min() ?? .infinity < tolerance { out.insert(index) }
            }
            return out
        }
        let (bandR, bandP) = (band(r), band(p))
        return Double(bandR.intersection(bandP).count) / Double(bandR.union(bandP).count)
    }

    /// `MeshReduce.boundaryIoU` on the whole grid as one crop (`listLimit` 0: the wide path).
    static func cropBIoU(_ r: LabelVolume, _ p: LabelVolume, tolerance: Double, listLimit: Double) -> Double {
        let g = r.grid
        let crop = r.int32Labels.withUnsafeBufferPointer { ref in
            p.int32Labels.withUnsafeBufferPointer { pred in
                MeshCrop(
                    label: 1,
                    box: VoxelBox(lower: .zero, upper: SIMD3(Int32(g.nx - 1), Int32(g.ny - 1), Int32(g.nz - 1))),
                    reference: ref, prediction: pred, grid: g)
            }
        }
        return MeshReduce.boundaryIoU(
            crop: crop, spacing: g.spacingMM, toleranceMM: tolerance, threads: 2, listLimit: listLimit)
    }

    @Test(arguments: [0.6, 1.0, 2.6, .infinity])
    func boundaryIoUEqualsBruteForce(tolerance: Double) throws {
        // BIoU (METRICS.md) against brute force over the faces. At 0.5–0.9 mm spacing τ = 2.6 mm
        // erodes by row segments up to 5 voxels long; τ = ∞ gives the masks' IoU. Each τ also
        // runs the wide path (`listLimit: 0`, used for cubes of more than 20,000 offsets): the
        // centre-distance screen, then `ShellIndex` for what it cannot decide.
        let grid = Grid(nx: 12, ny: 11, nz: 9, affine: .diagonal(0.5, 0.9, 0.7))
        var rng = SeededGenerator(seed: 7)
        func blob() -> [Int32] {
            let centre = SIMD3<Double>((3...8).randomElement(using: &rng).map(Double.init) ?? 5, 5, 4)
            return makeLabels(12, 11, 9) { i, j, k in
                let d = SIMD3<Double>(Double(i), Double(j), Double(k)) - centre
                let noise = Double.random(in: 0..<1, using: &rng)
                return (d * d).sum() < 12 + 8 * noise ? 1 : 0
            }
        }
        let r = LabelVolume(grid: grid, labels: blob())
        let p = LabelVolume(grid: grid, labels: blob())
        let expected = Self.bruteForceBIoU(r, p, tolerance: tolerance)
        let settings = EvaluationSettings(toleranceMM: tolerance, threads: 2)
        let result = Evaluator.meshMetrics(reference: r, prediction: p, label: 1, settings: settings)
        #expect(close(result?.boundaryIoU ?? .nan, expected, rtol: 1e-15), "τ \(tolerance)")
        let unlisted = Self.cropBIoU(r, p, tolerance: tolerance, listLimit: 0)
        #expect(close(unlisted, expected, rtol: 1e-15), "unlisted, τ \(tolerance)")
    }

    @Test(arguments: [(100, 4, 3), (70, 6, 1), (1, 15, 12), (66, 1, 1)] as [(Int, Int, Int)])
    func boundaryIoUOnLongRowsAndFlatAxesEqualsBruteForce(dims: (Int, Int, Int)) {
        // Rows of more than 64 voxels (bits carried across words), 2-D images flat along k
        // and along i (one-voxel rows), and a 1-D image: the row-segment erosion against brute
        // force and against the wide path, at two tolerances that no gap of this spacing
        // meets exactly (the brute force measures in floats).
        var rng = SeededGenerator(seed: UInt64(dims.0 * 10_000 + dims.1 * 100 + dims.2))
        let grid = Grid(nx: dims.0, ny: dims.1, nz: dims.2, affine: .diagonal(0.6, 0.8, 1.1))
        func mask() -> [Int32] {
            // Runs along i with random gaps, so that rows hold long inside stretches.
            var inside = false
            return (0..<grid.voxelCount).map { _ in
                if Double.random(in: 0..<1, using: &rng) < 0.15 { inside.toggle() }
                return inside ? 1 : 0
            }
        }
        let r = LabelVolume(grid: grid, labels: mask())
        let p = LabelVolume(grid: grid, labels: mask())
        for tolerance in [0.97, 2.03] {
            let expected = Self.bruteForceBIoU(r, p, tolerance: tolerance)
            let fast = Self.cropBIoU(r, p, tolerance: tolerance, listLimit: 20_000)
            let wide = Self.cropBIoU(r, p, tolerance: tolerance, listLimit: 0)
            #expect(close(fast, expected, rtol: 1e-15), "\(dims) τ \(tolerance): \(fast) vs \(expected)")
            #expect(close(wide, expected, rtol: 1e-15), "\(dims) τ \(tolerance), wide")
        }
    }

    @Test func biouIsReportedByTheMeshMetricsPresetOnly() throws {
        // `biou` is a column of the meshmetrics preset: plain under `--compat meshmetrics`,
        // `meshmetrics.biou` under `all`, absent from the other presets' rows. Matched labels
        // carry the engine's value, missed ones 0, absent ones 1; a τ of at most half a voxel
        // leaves both bands empty: undefined (no value).
        let r = volume(9, 8, 7) { i, j, k in i > 1 && i < 7 && j > 1 && j < 6 && k > 1 && k < 6 ? 1 : (i == 0 ? 2 : 0) }
        let p = volume(9, 8, 7) { i, j, k in i > 2 && i < 8 && j > 1 && j < 6 && k > 0 && k < 6 ? 1 : 0 }
        func rows(_ presets: [Compat], tolerance: Double = 1) -> [Int32: LabelRow] {
            let settings = EvaluationSettings(labels: [1, 2, 3], toleranceMM: tolerance, presets: presets, threads: 1)
            let evaluation = Evaluator.evaluate(reference: r, prediction: p, settings: settings)
            let list = LabelRow.rows(evaluation, caseID: "", names: LabelNames())
            return Dictionary(uniqueKeysWithValues: list.map { ($0.label, $0) })
        }
        let biou = MetricColumn(.boundaryIoU)
        let library = try #require(
            Evaluator.meshMetrics(reference: r, prediction: p, label: 1, settings: EvaluationSettings(threads: 1)))
        let mesh = rows([.meshmetrics])
        #expect(mesh[1]?.values[biou] == library.boundaryIoU)
        #expect((library.boundaryIoU ?? 0) > 0 && (library.boundaryIoU ?? 1) < 1)
        #expect(mesh[2]?.status == .missed && mesh[2]?.values[biou] == 0)
        #expect(mesh[3]?.status == .absent && mesh[3]?.values[biou] == 1)
        let all = rows(Compat.allCases)
        #expect(all[1]?.values[MetricColumn(.boundaryIoU, preset: .meshmetrics)] == library.boundaryIoU)
        #expect(all[1]?.values[biou] == nil)
        for preset in [Compat.monai, .medpy, .deepmind] {
            #expect(rows([preset])[1]?.values.keys.contains { $0.key == .boundaryIoU } == false, "\(preset)")
            #expect(!MetricColumn.all(presets: [preset]).contains { $0.key == .boundaryIoU })
        }
        #expect(
            MetricColumn.all(presets: Compat.allCases).map { $0.name(percentile: 95) }.filter { $0.contains("biou") }
                == ["meshmetrics.biou"])
        #expect(rows([.meshmetrics], tolerance: 0.5)[1]?.values[biou] == nil)
    }

    @Test func allPresetsIncludeMeshMetrics() {
        #expect(Compat.allCases.contains(.meshmetrics))
        let r = volume(6, 6, 6) { i, j, k in i < 3 && j < 4 && k < 5 ? 1 : 0 }
        let result = evaluateLabel(r, r, presets: Compat.allCases)
        #expect(result.surface[.meshmetrics]?.nsd == 1)
        let missed = evaluateLabel(r, volume(6, 6, 6) { _, _, _ in 0 }, presets: [.meshmetrics])
        #expect(missed.status == .missed && missed.surface[.meshmetrics]?.hausdorffMM == .infinity)
    }
}
