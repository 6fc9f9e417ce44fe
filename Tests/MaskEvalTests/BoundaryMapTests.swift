import Testing

@testable import MaskEval

/// The boundary lists of `BoundaryMap` (read a word at a time) against the definition checked
/// voxel by voxel: non-zero, and a face neighbour along a non-flat axis carries another label
/// or lies outside the grid.
@Suite struct BoundaryMapTests {
    /// The boundary voxels of `label`, in scan order, by the definition.
    static func bruteForce<T: LabelValue>(_ volume: [T], nx: Int, ny: Int, nz: Int, label: Int32) -> [Int] {
        let allFlat = nx == 1 && ny == 1 && nz == 1
        let extents = [nx, ny, nz]
        var out: [Int] = []
        for index in volume.indices where volume[index] != 0 && Int32(truncatingIfNeeded: volume[index]) == label {
            let at = [index % nx, (index / nx) % ny, index / (nx * ny)]
            var boundary = false
            for axis in 0..<3 where allFlat || extents[axis] > 1 {
                for step in [-1, 1] {
                    var other = at
                    other[axis] += step
                    if other[axis] < 0 || other[axis] >= extents[axis] {
                        boundary = true
                        continue
                    }
                    if volume[other[0] + nx * (other[1] + ny * other[2])] != volume[index] { boundary = true }
                }
            }
            if boundary { out.append(index) }
        }
        return out
    }

    /// A volume of blobs: runs along rows, rows often copied from the row below and slices
    /// from the slice below, so that words of background, of interior and of edges all occur.
    static func blobs<T: LabelValue>(
        _ values: [T], nx: Int, ny: Int, nz: Int, generator: inout SeededGenerator
    ) -> [T] {
        var volume = [T](repeating: 0, count: nx * ny * nz)
        for k in 0..<nz {
            for j in 0..<ny {
                let row = nx * (j + ny * k)
                let copy = Int.random(in: 0..<10, using: &generator)
                if copy < 4 && k > 0 {
                    for i in 0..<nx { volume[row + i] = volume[row + i - nx * ny] }
                } else if copy < 7 && j > 0 {
                    for i in 0..<nx { volume[row + i] = volume[row + i - nx] }
                } else {
                    var current = values.randomElement(using: &generator)!
                    for i in 0..<nx {
                        if Int.random(in: 0..<12, using: &generator) == 0 {
                            current = values.randomElement(using: &generator)!
                        }
                        volume[row + i] = current
                    }
                }
                // A few single-voxel changes, so that copied rows differ in places.
                if nx > 0 && Int.random(in: 0..<3, using: &generator) == 0 {
                    volume[row + Int.random(in: 0..<nx, using: &generator)] = values.randomElement(using: &generator)!
                }
            }
        }
        return volume
    }

    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (1, 1, 12), (1, 9, 7), (13, 1, 5), (20, 9, 1), (40, 1, 1), (3, 4, 5), (7, 5, 4), (9, 6, 5),
        (10, 3, 3), (37, 6, 5), (70, 5, 4), (33, 7, 6),
    ]

    static func check<T: LabelValue>(_ values: [T], wanted: [Int32], seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for (nx, ny, nz) in shapes {
            let reference = blobs(values, nx: nx, ny: ny, nz: nz, generator: &generator)
            let prediction = blobs(values, nx: nx, ny: ny, nz: nz, generator: &generator)
            let grid = Grid(nx: nx, ny: ny, nz: nz, affine: .diagonal(1, 1, 1))
            for threads in [1, 3] {
                let map = reference.withUnsafeBufferPointer { ref in
                    prediction.withUnsafeBufferPointer { pred in
                        BoundaryMap(reference: ref, prediction: pred, grid: grid, labels: wanted, threads: threads)
                    }
                }
                for (slot, label) in wanted.enumerated() {
                    #expect(
                        Array(map.reference(slot: slot))
                            == bruteForce(reference, nx: nx, ny: ny, nz: nz, label: label),
                        "\(T.self) \(nx)×\(ny)×\(nz) reference label \(label), \(threads) threads")
                    #expect(
                        Array(map.prediction(slot: slot))
                            == bruteForce(prediction, nx: nx, ny: ny, nz: nz, label: label),
                        "\(T.self) \(nx)×\(ny)×\(nz) prediction label \(label), \(threads) threads")
                }
            }
        }
    }

    // Background weighted up so that runs of zeros occur; one present label left unwanted and
    // one wanted label absent.
    @Test func uint8MatchesDefinition() {
        Self.check([0, 0, 0, 1, 2, 7, 255, 9] as [UInt8], wanted: [255, 1, 7, 3, 2], seed: 1)
    }

    @Test func uint16MatchesDefinition() {
        // 512 and 32768: a zero low byte, so a lane test on bytes would miss them.
        Self.check(
            [0, 0, 0, 1, 300, 65535, 9, 512, 32768] as [UInt16], wanted: [300, 1, 65535, 4, 512, 32768], seed: 2)
    }

    @Test func int16MatchesDefinition() {
        Self.check([0, 0, 0, -1, -256, 256, 7, -32768] as [Int16], wanted: [-256, 256, -1, -32768, 5], seed: 4)
    }

    @Test func int32MatchesDefinition() {
        Self.check([0, 0, 0, -5, 3, 70_000, 1 << 30, 9] as [Int32], wanted: [3, -5, 1 << 30, 70_000, 11], seed: 3)
    }
}
