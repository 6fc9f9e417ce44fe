import Foundation
import Testing

@testable import MaskEval

/// The fast paths of the distance phase give the same numbers as brute force and as each
/// other: the search over a label's box, every way of answering far queries, the transform
/// from point lists, and a big label split over workers against the same label on one.
struct DistanceSplitTests {
    /// Random points of a sub-box of a grid: sources clustered in one corner so that many
    /// queries are beyond the offset table.
    static func randomCase(seed: Int) -> (
        grid: (Int, Int, Int), spacing: SIMD3<Double>, box: VoxelBox, sources: [Int], queries: [Int]
    ) {
        var rng = SeededGenerator(seed: UInt64(seed) &* 7919 &+ 17)
        let flatK = seed % 6 == 5
        let n = (
            Int.random(in: 20...48, using: &rng), Int.random(in: 20...48, using: &rng),
            flatK ? 1 : Int.random(in: 12...36, using: &rng)
        )
        let spacing = SIMD3(
            Double.random(in: 0.3...2.5, using: &rng), Double.random(in: 0.3...2.5, using: &rng),
            Double.random(in: 0.3...2.5, using: &rng))
        let lower = SIMD3(
            Int.random(in: 0...(n.0 / 3), using: &rng), Int.random(in: 0...(n.1 / 3), using: &rng),
            Int.random(in: 0...(n.2 / 3), using: &rng))
        let upper = SIMD3(
            Int.random(in: (n.0 / 2)..<n.0, using: &rng), Int.random(in: (n.1 / 2)..<n.1, using: &rng),
            Int.random(in: (n.2 / 2)..<n.2, using: &rng))
        let box = VoxelBox(
            lower: SIMD3<Int32>(truncatingIfNeeded: lower), upper: SIMD3<Int32>(truncatingIfNeeded: upper))
        var sources: [Int] = []
        var queries: [Int] = []
        let corner = lower &+ (upper &- lower) / 3
        let density = [0.02, 0.2, 0.6][seed % 3]
        for k in lower.z...upper.z {
            for j in lower.y...upper.y {
                for i in lower.x...upper.x {
                    let index = i + n.0 * (j + n.1 * k)
                    let nearCorner = i <= corner.x && j <= corner.y && k <= corner.z
                    if nearCorner && Double.random(in: 0..<1, using: &rng) < density { sources.append(index) }
                    if Double.random(in: 0..<1, using: &rng) < 0.08 { queries.append(index) }
                }
            }
        }
        if sources.isEmpty { sources.append(lower.x + n.0 * (lower.y + n.1 * lower.z)) }
        return (n, spacing, box, sources, queries)
    }

    /// The nearest source of each query by trying every pair, with the engine's sum
    /// ((Δi·sᵢ)² + (Δj·sⱼ)²) + (Δk·sₖ)², so equal means bit for bit.
    static func bruteForce(_ queries: [Int], _ sources: [Int], _ n: (Int, Int, Int), _ s: SIMD3<Double>) -> [Double] {
        let targets = points(sources, n)
        return points(queries, n).map { q in
            var best = Double.infinity
            for p in targets {
                let dx = Double(q.0 - p.0) * s.x
                let dy = Double(q.1 - p.1) * s.y
                let dz = Double(q.2 - p.2) * s.z
                best = min(best, dx * dx + dy * dy + dz * dz)
            }
            return best.squareRoot()
        }
    }

    static func points(_ indices: [Int], _ n: (Int, Int, Int)) -> [(Int, Int, Int)] {
        indices.map { ($0 % n.0, ($0 / n.0) % n.1, $0 / (n.0 * n.1)) }
    }

    /// Every way of answering far queries (chosen, rows, brute force, transform) equals brute
    /// force exactly, with 1 and 3 threads.
    @Test(arguments: 0..<18)
    func farMethodsEqualBruteForce(seed: Int) {
        let c = Self.randomCase(seed: seed)
        let expected = Self.bruteForce(c.queries, c.sources, c.grid, c.spacing)
        let grid = Grid(
            nx: c.grid.0, ny: c.grid.1, nz: c.grid.2, affine: .diagonal(c.spacing.x, c.spacing.y, c.spacing.z))
        let table = searchTable(grid)
        let size = c.box.size
        for method in [nil] + SurfaceSearch.FarMethod.allCases {
            for threads in [1, 3] {
                let got = SurfaceSearch.distances(
                    nx: c.grid.0, ny: c.grid.1, nz: c.grid.2, spacing: c.spacing, box: c.box, queries: c.queries,
                    sources: c.sources, table: table, threads: threads, transformVoxels: size.x * size.y * size.z,
                    far: method
                ) {
                    DistanceTransform.distances(
                        sources: c.sources, queries: c.queries, box: c.box, nx: c.grid.0, ny: c.grid.1,
                        spacing: c.spacing, threads: threads)
                }
                #expect(got == expected, "seed \(seed), \(String(describing: method)), \(threads) threads")
            }
        }
        // Brute force over sources not sorted by slice (no slab pruning).
        let shuffled = c.sources.reversed().map { $0 }
        let unsorted = SurfaceSearch.distances(
            nx: c.grid.0, ny: c.grid.1, nz: c.grid.2, spacing: c.spacing, box: c.box, queries: c.queries,
            sources: shuffled, table: table, threads: 2, transformVoxels: size.x * size.y * size.z, far: .bruteForce
        ) {
            DistanceTransform.distances(
                sources: shuffled, queries: c.queries, box: c.box, nx: c.grid.0, ny: c.grid.1, spacing: c.spacing,
                threads: 2)
        }
        #expect(unsorted == expected, "seed \(seed), unsorted sources")
    }

    /// The transform from point lists equals the transform on a crop's flags and brute force,
    /// with 1, 2 and 5 threads.
    @Test(arguments: 0..<10)
    func listTransformEqualsFlagTransform(seed: Int) {
        let c = Self.randomCase(seed: seed + 100)
        let size = c.box.size
        var flags = [UInt8](repeating: 0, count: size.x * size.y * size.z)
        func local(_ index: Int) -> Int {
            let (i, j, k) = (index % c.grid.0, (index / c.grid.0) % c.grid.1, index / (c.grid.0 * c.grid.1))
            return (i - Int(c.box.lower.x)) + size.x * ((j - Int(c.box.lower.y)) + size.y * (k - Int(c.box.lower.z)))
        }
        for s in c.sources { flags[local(s)] |= 1 }
        for q in c.queries { flags[local(q)] |= 2 }
        let expected = Self.bruteForce(c.queries, c.sources, c.grid, c.spacing)
        for threads in [1, 2, 5] {
            let fromLists = DistanceTransform.distances(
                sources: c.sources, queries: c.queries, box: c.box, nx: c.grid.0, ny: c.grid.1, spacing: c.spacing,
                threads: threads)
            let fromFlags = flags.withUnsafeBufferPointer {
                DistanceTransform.distances(
                    flags: $0, nx: size.x, ny: size.y, nz: size.z, spacing: c.spacing, source: 1, query: 2,
                    threads: threads)
            }
            #expect(fromLists == fromFlags, "seed \(seed), \(threads) threads")
            #expect(fromLists == expected, "seed \(seed), \(threads) threads")
        }
    }

    /// The bit-row scan finds the nearest set bit however far it is, from any start, with or
    /// without a known set voxel to start from.
    @Test(arguments: 0..<8)
    func rowScanEqualsBruteForce(seed: Int) {
        let c = Self.randomCase(seed: seed + 200)
        let bits = SourceBits(sources: c.sources, nx: c.grid.0, ny: c.grid.1, box: c.box, pad: (2, 3, 1))
        let expected = Self.bruteForce(c.queries, c.sources, c.grid, c.spacing)
        bits.words.withUnsafeBufferPointer { words in
            let rows = BitRows(words: words, nx: bits.nx, ny: bits.ny, nz: bits.nz, spacing: c.spacing)
            let known = Self.points([c.sources[c.sources.count / 2]], c.grid)[0]
            for (q, point) in Self.points(c.queries, c.grid).enumerated() {
                let (i, j, k) = (point.0 - bits.origin.x, point.1 - bits.origin.y, point.2 - bits.origin.z)
                let plain = rows.nearest(i, j, k, within: nil)
                let started = rows.nearest(
                    i, j, k, within: (known.0 - bits.origin.x, known.1 - bits.origin.y, known.2 - bits.origin.z))
                #expect(plain.squared.squareRoot() == expected[q], "seed \(seed), query \(q)")
                #expect(started.squared.squareRoot() == expected[q], "seed \(seed), query \(q)")
            }
        }
    }

    /// A label big enough to run alone with the workers inside it (its search blocks, far
    /// queries and transform split over them) gives the same results as with one thread,
    /// for every voxel and surfel preset; small labels alongside it too.
    @Test func bigLabelSplitEqualsUnsplit() {
        let (nx, ny, nz) = (84, 80, 64)
        var rng = SeededGenerator(seed: 2024)
        let holes = (0..<60).map { _ in
            (
                Int.random(in: 10..<74, using: &rng), Int.random(in: 10..<70, using: &rng),
                Int.random(in: 8..<56, using: &rng)
            )
        }
        func big(_ i: Int, _ j: Int, _ k: Int, shift: Int) -> Bool {
            let x = Double(i - 42 - shift) / 38
            let y = Double(j - 40) / 36
            let z = Double(k - 32) / 29
            return x * x + y * y + z * z <= 1
        }
        let reference = volume(nx, ny, nz, spacing: (0.7, 0.8, 1.3)) { i, j, k in
            if i >= 2 && i < 6 && j >= 2 && j < 7 && k >= 2 && k < 5 { return 2 }
            return big(i, j, k, shift: 0) ? 1 : 0
        }
        let prediction = volume(nx, ny, nz, spacing: (0.7, 0.8, 1.3)) { i, j, k in
            if i >= 3 && i < 7 && j >= 2 && j < 6 && k >= 2 && k < 5 { return 2 }
            if i >= 76 && j >= 74 && k >= 58 { return 3 }
            // Holes far from the reference's surface: far queries for the big label.
            if holes.contains(where: { abs($0.0 - i) + abs($0.1 - j) + abs($0.2 - k) <= 1 }) { return 0 }
            return big(i, j, k, shift: 2) ? 1 : 0
        }
        func run(_ threads: Int) -> [LabelResult] {
            let settings = EvaluationSettings(presets: [.monai, .medpy, .deepmind], threads: threads)
            return Evaluator.evaluate(reference: reference, prediction: prediction, settings: settings).labels
        }
        let one = run(1)
        #expect(one.map(\.label) == [1, 2, 3])
        for threads in [2, 3, 5] {
            let many = run(threads)
            #expect(many.map(\.label) == one.map(\.label))
            for (a, b) in zip(one, many) {
                #expect(a.status == b.status, "label \(a.label), \(threads) threads")
                #expect(a.surface == b.surface, "label \(a.label), \(threads) threads")
            }
        }
        // The same label's directed distances, split and not, element by element.
        let unsplit = Evaluator.directedDistances(reference: reference, prediction: prediction, label: 1, threads: 1)
        let split = Evaluator.directedDistances(reference: reference, prediction: prediction, label: 1, threads: 4)
        #expect(unsplit.predictionToReference == split.predictionToReference)
        #expect(unsplit.referenceToPrediction == split.referenceToPrediction)
        #expect(unsplit.predictionToReference.contains { $0 > 5 }, "the holes make far queries")
    }
}
