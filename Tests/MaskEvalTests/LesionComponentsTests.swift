import Testing

@testable import MaskEval

/// Connected components against a brute-force flood fill, and the hand-made contact cases.
struct LesionComponentsTests {
    /// Flood fill in scan order: ids by first voxel, neighbours within the connectivity.
    static func floodFill(_ mask: [Int32], _ nx: Int, _ ny: Int, _ nz: Int, _ connectivity: Int) -> [Int32] {
        var out = [Int32](repeating: 0, count: mask.count)
        var next: Int32 = 0
        for start in mask.indices where mask[start] != 0 && out[start] == 0 {
            next += 1
            out[start] = next
            var stack = [start]
            while let v = stack.popLast() {
                let i = v % nx
                let j = (v / nx) % ny
                let k = v / (nx * ny)
                for dk in -1...1 {
                    for dj in -1...1 {
                        for di in -1...1 {
                            let order = abs(di) + abs(dj) + abs(dk)
                            if order == 0 || (connectivity == 6 && order > 1) || (connectivity == 18 && order > 2) {
                                continue
                            }
                            let (a, b, c) = (i + di, j + dj, k + dk)
                            guard a >= 0, a < nx, b >= 0, b < ny, c >= 0, c < nz else { continue }
                            let n = a + nx * (b + ny * c)
                            if mask[n] != 0 && out[n] == 0 {
                                out[n] = next
                                stack.append(n)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Expects the labelling of `mask` to equal the flood fill for each thread count.
    static func expectFloodFill(
        _ mask: [UInt8], _ nx: Int, _ ny: Int, _ nz: Int, connectivity: Int, threads: [Int], _ context: String
    ) {
        let expected = floodFill(mask.map { Int32($0) }, nx, ny, nz, connectivity)
        for count in threads {
            let got = ConnectedComponents.label(
                mask: mask, nx: nx, ny: ny, nz: nz, connectivity: Connectivity(rawValue: connectivity) ?? .six,
                threads: count)
            #expect(got.labels == expected, "\(context) threads \(count)")
            #expect(got.count == Int(expected.max() ?? 0), "\(context) threads \(count)")
        }
    }

    /// Random dimensions in the given ranges.
    static func randomDims(
        _ x: ClosedRange<Int>, _ y: ClosedRange<Int>, _ z: ClosedRange<Int>, _ rng: inout SeededGenerator
    ) -> (Int, Int, Int) {
        (Int.random(in: x, using: &rng), Int.random(in: y, using: &rng), Int.random(in: z, using: &rng))
    }

    /// nx·ny·nz values in runs of 1...`longest` equal values, each `value(&rng)`.
    static func randomRuns<T>(
        _ count: Int, longest: Int, _ rng: inout SeededGenerator, value: (inout SeededGenerator) -> T
    ) -> [T] {
        var out: [T] = []
        out.reserveCapacity(count)
        while out.count < count {
            let run = value(&rng)
            for _ in 0..<min(count - out.count, Int.random(in: 1...longest, using: &rng)) { out.append(run) }
        }
        return out
    }

    /// Even trials: scattered voxels. Odd trials: rows of long runs of non-0/1 bytes (the run
    /// finder tests eight bytes at once: runs start, end and stop short at every offset of a
    /// word). Many slabs with 8 threads.
    @Test(arguments: [6, 18, 26])
    func randomMasksMatchFloodFillForAnyThreadCount(connectivity: Int) {
        let seed: UInt64 = 0x1E51_0000 + UInt64(connectivity)
        var rng = SeededGenerator(seed: seed)
        for trial in 0..<32 {
            let runs = trial % 2 == 1
            let (nx, ny, nz) = Self.randomDims(runs ? 9...70 : 1...13, 1...11, 1...17, &rng)
            let density = Double.random(in: 0.05...0.6, using: &rng)
            let mask = Self.randomRuns(nx * ny * nz, longest: runs ? 20 : 1, &rng) { rng in
                Double.random(in: 0..<1, using: &rng) < density
                    ? (runs ? UInt8.random(in: 1...255, using: &rng) : 1) : 0
            }
            Self.expectFloodFill(
                mask, nx, ny, nz, connectivity: connectivity, threads: [1, 3, 8], "seed \(seed) trial \(trial)")
        }
    }

    /// Two cubes that share one corner: one component with 26-connectivity, two with 6 or 18.
    /// Two bars that share one edge: one component with 18 or 26, two with 6.
    @Test func cornerAndEdgeContacts() {
        let corner = makeLabels(8, 8, 8) { i, j, k in
            (i < 3 && j < 3 && k < 3) || (i >= 3 && i < 6 && j >= 3 && j < 6 && k >= 3 && k < 6) ? 1 : 0
        }
        let edge = makeLabels(8, 8, 8) { i, j, k in
            (i < 2 && j < 2 && k < 4) || (i >= 2 && i < 4 && j >= 2 && j < 4 && k < 4) ? 1 : 0
        }
        func count(_ mask: [Int32], _ c: Connectivity) -> Int {
            ConnectedComponents.label(mask: mask, nx: 8, ny: 8, nz: 8, connectivity: c, threads: 2).count
        }
        #expect(count(corner, .twentySix) == 1)
        #expect(count(corner, .eighteen) == 2)
        #expect(count(corner, .six) == 2)
        #expect(count(edge, .twentySix) == 1)
        #expect(count(edge, .eighteen) == 1)
        #expect(count(edge, .six) == 2)
    }

    /// Ids follow the first voxel in scan order (i fastest): the component holding voxel
    /// (5, 0, 0) comes before the one starting at (0, 1, 0).
    @Test func idsFollowScanOrder() {
        let mask = makeLabels(6, 4, 3) { i, j, k in
            (i == 5 && j == 0 && k == 2) || (i == 5 && j == 0) || (i == 0 && j == 1) ? 1 : 0
        }
        let got = ConnectedComponents.label(mask: mask, nx: 6, ny: 4, nz: 3, connectivity: .six, threads: 1)
        #expect(got.count == 2)
        #expect(got.labels[5] == 1)
        #expect(got.labels[6] == 2)
    }

    @Test func emptyAndFullMasks() {
        let empty = ConnectedComponents.label(mask: [Int32](repeating: 0, count: 60), nx: 3, ny: 4, nz: 5)
        #expect(empty.count == 0 && empty.labels.allSatisfy { $0 == 0 })
        let full = ConnectedComponents.label(mask: [Int32](repeating: 7, count: 60), nx: 3, ny: 4, nz: 5, threads: 4)
        #expect(full.count == 1 && full.labels.allSatisfy { $0 == 1 })
    }

    /// BraTS dilation: 3 iterations of the 18-neighbour structure reach the offsets with
    /// max |Δ| ≤ 3 and |Δ|₁ ≤ 6 (the Minkowski sum of three 18-neighbourhoods).
    @Test func dilationReach() {
        let n = 11
        let centre = 5 + n * (5 + n * 5)
        var mask = [UInt8](repeating: 0, count: n * n * n)
        mask[centre] = 1
        let dilated = BraTS2023.dilate18(mask, nx: n, ny: n, nz: n, iterations: 3)
        for k in 0..<n {
            for j in 0..<n {
                for i in 0..<n {
                    let d = (abs(i - 5), abs(j - 5), abs(k - 5))
                    let inside = max(d.0, d.1, d.2) <= 3 && d.0 + d.1 + d.2 <= 6
                    #expect((dilated[i + n * (j + n * k)] != 0) == inside, "(\(i), \(j), \(k))")
                }
            }
        }
    }
}
