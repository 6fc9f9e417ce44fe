import Foundation
import Testing

@testable import MaskEval

/// The pieces of the `meshmetrics` distances that are cut for speed, each against its
/// definition: the walk's stop positions (`PointToSurface.Table.stopAt`) and the shells of
/// the far samples (`ShellIndex`, which skips rows and groups voxels by brick).
@Suite struct MeshWalkTests {
    static let spacings: [(SIMD3<Double>, (x: Bool, y: Bool, z: Bool))] = [
        (SIMD3(1, 1, 1), (false, false, false)),
        (SIMD3(0.362, 0.434, 0.4525), (false, false, false)),
        (SIMD3(0.7, 1.3, 2.1), (false, false, false)),
        (SIMD3(0.6, 3, 1.4), (false, true, false)),
    ]

    @Test(arguments: 0..<4)
    func stopAtIsTheFirstPositionNoNearerThanTheHit(index: Int) {
        let (spacing, flat) = Self.spacings[index]
        let table = PointToSurface.Table(spacing: spacing, flat: flat)
        for normal in 0..<3 {
            let range = table.start[normal]..<table.start[normal + 1]
            for position in range {
                for t in 0..<2 {
                    let d = table.pairDistances[position * 2 + t]
                    // Definition: the first position whose nearer distance is at least d.
                    let expected = range.first { table.flatNearest[$0] >= d } ?? range.upperBound
                    #expect(
                        Int(table.stopAt[position * 2 + t]) == expected,
                        "spacing \(spacing), normal \(normal), position \(position), sample \(t)")
                }
            }
        }
    }

    /// A crop of two random masks kept to a few slabs along k and a band along j, so that
    /// many rows hold neither mask (seeded).
    static func sparseCrop(seed: UInt64, dims: (Int, Int, Int), spacing: (Double, Double, Double)) -> MeshCrop {
        var rng = SeededGenerator(seed: seed)
        let grid = Grid(nx: dims.0, ny: dims.1, nz: dims.2, affine: .diagonal(spacing.0, spacing.1, spacing.2))
        func mask() -> [Int32] {
            makeLabels(dims.0, dims.1, dims.2) { _, j, k in
                let slab = k % 5 < 2 && j < max(1, dims.1 / 2)
                return slab && Double.random(in: 0..<1, using: &rng) < 0.5 ? 1 : 0
            }
        }
        let (reference, prediction) = (mask(), mask())
        return reference.withUnsafeBufferPointer { ref in
            prediction.withUnsafeBufferPointer { pred in
                MeshCrop(
                    label: 1,
                    box: VoxelBox(
                        lower: .zero, upper: SIMD3(Int32(dims.0 - 1), Int32(dims.1 - 1), Int32(dims.2 - 1))),
                    reference: ref, prediction: pred, grid: grid)
            }
        }
    }

    /// The shell by its definition: voxels on the wanted side with a face neighbour on the
    /// other (outside the crop counts as outside the mask), in scan order, grouped by 8³
    /// brick in brick order.
    static func definitionShell(_ crop: MeshCrop, bit: UInt8, inside: Bool) -> [[SIMD3<Int64>]] {
        let (nx, ny, nz) = (crop.nx, crop.ny, crop.nz)
        let isFlat = [crop.flat.x, crop.flat.y, crop.flat.z]
        let dims = [nx, ny, nz]
        func inMask(_ v: [Int]) -> Bool {
            guard (0..<3).allSatisfy({ v[$0] >= 0 && v[$0] < dims[$0] }) else { return false }
            return crop.flags[v[0] + nx * (v[1] + ny * v[2])] & bit != 0
        }
        let (bx, by, bz) = ((nx + 7) / 8, (ny + 7) / 8, (nz + 7) / 8)
        var byBrick = [[SIMD3<Int64>]](repeating: [], count: bx * by * bz)
        for k in 0..<nz {
            for j in 0..<ny {
                for i in 0..<nx {
                    let v = [i, j, k]
                    guard inMask(v) == inside else { continue }
                    let differs = (0..<3).filter { !isFlat[$0] }.contains { axis in
                        [-1, 1].contains { step in
                            var w = v
                            w[axis] += step
                            return inMask(w) != inside
                        }
                    }
                    if differs {
                        byBrick[i / 8 + bx * (j / 8 + by * (k / 8))].append(SIMD3(Int64(i), Int64(j), Int64(k)))
                    }
                }
            }
        }
        return byBrick.filter { !$0.isEmpty }
    }

    @Test(
        arguments: [(1, (20, 13, 17)), (2, (9, 30, 12)), (3, (33, 1, 21)), (4, (17, 11, 1))]
            as [(UInt64, (Int, Int, Int))])
    func shellIndexEqualsItsDefinition(seed: UInt64, dims: (Int, Int, Int)) {
        let crop = Self.sparseCrop(seed: seed, dims: dims, spacing: (0.7, 1.3, 2.1))
        for bit in [MeshSurface.inReference, MeshSurface.inPrediction] {
            for inside in [false, true] {
                let shell = ShellIndex(crop: crop, bit: bit, inside: inside)
                let expected = Self.definitionShell(crop, bit: bit, inside: inside)
                let context = "seed \(seed), bit \(bit), inside \(inside)"
                #expect(
                    shell.start == [0] + expected.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1.count) },
                    "\(context)")
                #expect(shell.voxels == expected.flatMap { $0 }, "\(context)")
                #expect(
                    shell.lower == expected.map { list in list.reduce(list[0]) { pointwiseMin($0, $1) } }, "\(context)")
                #expect(
                    shell.upper == expected.map { list in list.reduce(list[0]) { pointwiseMax($0, $1) } }, "\(context)")
            }
        }
    }

    @Test(arguments: [5, 6] as [UInt64])
    func nearestShellBoxIsTheClosest(seed: UInt64) {
        // Property: the answer's distance is the least over every shell voxel's box.
        let crop = Self.sparseCrop(seed: seed, dims: (19, 14, 16), spacing: (0.7, 1.3, 2.1))
        let spacing = SIMD3<Double>(0.7, 1.3, 2.1)
        var rng = SeededGenerator(seed: seed)
        for inside in [false, true] {
            let shell = ShellIndex(crop: crop, bit: MeshSurface.inReference, inside: inside)
            guard !shell.voxels.isEmpty else { continue }
            for _ in 0..<50 {
                let position = SIMD3<Int64>(
                    Int64.random(in: -6...130, using: &rng), Int64.random(in: -6...100, using: &rng),
                    Int64.random(in: -6...110, using: &rng))
                let key = shell.nearest(position, spacing: spacing)
                let least = shell.voxels.map { v -> Double in
                    let d = 6 &* v &- position
                    let g = pointwiseMax(SIMD3(abs(d.x), abs(d.y), abs(d.z)) &- 3, .zero)
                    return PointToSurface.GapKey.distance(PointToSurface.GapKey.pack(g), spacing: spacing)
                }.min()
                #expect(
                    PointToSurface.GapKey.distance(key, spacing: spacing) == least,
                    "seed \(seed), inside \(inside), position \(position)")
            }
        }
    }
}
