import Foundation
import Testing

@testable import MaskEval

/// The census against a voxel-by-voxel count, for label sets that take the table index
/// (narrow span) and the dictionary index (wide span, or a span large next to the volume).
@Suite struct CensusTests {
    static func naive(_ reference: [Int32], _ prediction: [Int32], nx: Int, ny: Int) -> [LabelCensus] {
        var byLabel: [Int32: LabelCensus] = [:]
        func grow(_ box: inout VoxelBox, _ i: Int, _ j: Int, _ k: Int) {
            box = box.union(
                VoxelBox(lower: SIMD3(Int32(i), Int32(j), Int32(k)), upper: SIMD3(Int32(i), Int32(j), Int32(k))))
        }
        for (index, (r, p)) in zip(reference, prediction).enumerated() {
            let (i, j, k) = (index % nx, (index / nx) % ny, index / (nx * ny))
            if r != 0 {
                byLabel[r, default: LabelCensus(label: r)].referenceVoxels += 1
                grow(&byLabel[r, default: LabelCensus(label: r)].referenceBox, i, j, k)
                if r == p { byLabel[r, default: LabelCensus(label: r)].intersectionVoxels += 1 }
            }
            if p != 0 {
                byLabel[p, default: LabelCensus(label: p)].predictionVoxels += 1
                grow(&byLabel[p, default: LabelCensus(label: p)].predictionBox, i, j, k)
            }
        }
        return byLabel.values.sorted { $0.label < $1.label }
    }

    @Test(arguments: [
        ([Int32](1...5), 1),  // narrow: table
        ([Int32](1...5), 3),
        ([-7, 3, 2_000_000, Int32.max], 2),  // beyond 2^20: dictionary
        ([1, 50_000], 1),  // span large next to a 12³ volume: dictionary
        ([Int32.min + 1, -1, 1], 4),
    ])
    func matchesNaiveCount(labels: [Int32], threads: Int) {
        let (nx, ny, nz) = (12, 11, 10)
        var generator = SeededGenerator(seed: UInt64(labels.count * 31 + threads))
        // Runs of equal values, as in real masks, with some voxels of every label.
        func volume() -> [Int32] {
            var out: [Int32] = []
            while out.count < nx * ny * nz {
                let value = Bool.random(using: &generator) ? 0 : labels.randomElement(using: &generator)!
                out += Array(repeating: value, count: Int.random(in: 1...6, using: &generator))
            }
            return Array(out.prefix(nx * ny * nz))
        }
        let reference = volume()
        var prediction = volume()
        for index in stride(from: 0, to: prediction.count, by: 3) { prediction[index] = reference[index] }
        let counted = Census.count(
            reference: reference, prediction: prediction, nx: nx, ny: ny, nz: nz, threads: threads)
        #expect(counted == Self.naive(reference, prediction, nx: nx, ny: ny))
        #expect(counted.map(\.label) == labels.filter { reference.contains($0) || prediction.contains($0) })
    }

    /// Every label type, rows whose length is no multiple of a word, runs long enough to span
    /// several words, and negative values (their bit patterns fill a word differently).
    @Test(arguments: 1...3)
    func matchesNaiveCountOnEveryLabelType(threads: Int) {
        let (nx, ny, nz) = (37, 5, 4)
        var generator = SeededGenerator(seed: UInt64(100 + threads))
        func volume(_ values: [Int32]) -> [Int32] {
            var out: [Int32] = []
            while out.count < nx * ny * nz {
                let value = Int.random(in: 0..<3, using: &generator) == 0 ? 0 : values.randomElement(using: &generator)!
                out += Array(repeating: value, count: Int.random(in: 1...40, using: &generator))
            }
            return Array(out.prefix(nx * ny * nz))
        }
        func check<T: LabelValue>(_: T.Type, _ values: [Int32]) {
            let reference = volume(values)
            var prediction = volume(values)
            for index in stride(from: 0, to: prediction.count, by: 2) where index % 7 != 0 {
                prediction[index] = reference[index]
            }
            let counted = reference.map { T(truncatingIfNeeded: $0) }.withUnsafeBufferPointer { r in
                prediction.map { T(truncatingIfNeeded: $0) }.withUnsafeBufferPointer { p in
                    Census.count(reference: r, prediction: p, nx: nx, ny: ny, nz: nz, threads: threads)
                }
            }
            #expect(counted == Self.naive(reference, prediction, nx: nx, ny: ny), "\(T.self)")
            let alone = reference.map { T(truncatingIfNeeded: $0) }.withUnsafeBufferPointer { r in
                Census.count(reference: r, prediction: nil, nx: nx, ny: ny, nz: nz, threads: threads)
            }
            let zeros = [Int32](repeating: 0, count: reference.count)
            #expect(alone == Self.naive(reference, zeros, nx: nx, ny: ny), "\(T.self) alone")
        }
        check(UInt8.self, [1, 2, 255])
        check(Int8.self, [-128, -1, 1, 127])
        check(UInt16.self, [1, 256, 65535])
        check(Int16.self, [-32768, -1, 1, 300])
        check(Int32.self, [-70_000, -1, 1, 65_536])
    }

    @Test func indexKindFollowsSpanAndVolume() {
        #expect(Census.useDenseIndex(span: 200, voxels: 1000, threads: 1))
        #expect(Census.useDenseIndex(span: 9170, voxels: 7_000_000, threads: 2))
        #expect(!Census.useDenseIndex(span: 50_000, voxels: 1728, threads: 1))
        #expect(!Census.useDenseIndex(span: 1 << 20 + 1, voxels: 1 << 40, threads: 1))
        #expect(!Census.useDenseIndex(span: 1 << 20, voxels: 100_000_000, threads: 16))
    }
}
