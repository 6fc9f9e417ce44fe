import Foundation

@testable import MaskEval

/// A fresh temporary folder per test, removed by the caller's `defer`.
func temporaryFolder() throws -> String {
    let path = NSTemporaryDirectory() + "maskeval-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A seeded generator (SplitMix64) so property tests can print and replay their seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A header for an nx×ny×nz volume of `type` with the given spacing, sform and qform set.
func header(
    _ nx: Int, _ ny: Int, _ nz: Int, type: VoxelType = .int16, spacing: (Double, Double, Double) = (1, 1, 1),
    version: Int = 1
) -> NIfTIHeader {
    NIfTIHeader(
        niftiVersion: version, dim: [3, nx, ny, nz, 1, 1, 1, 1],
        pixdim: [1, spacing.0, spacing.1, spacing.2, 1, 1, 1, 1], datatype: type.rawValue,
        qformCode: 1, sformCode: 1, qoffsetX: -10, qoffsetY: 5, qoffsetZ: 2,
        srowX: [spacing.0, 0, 0, -10], srowY: [0, spacing.1, 0, 5], srowZ: [0, 0, spacing.2, 2])
}

/// Builds a label array of nx×ny×nz from a closure of (i, j, k).
func makeLabels(_ nx: Int, _ ny: Int, _ nz: Int, _ value: (Int, Int, Int) -> Int32) -> [Int32] {
    var labels = [Int32](repeating: 0, count: nx * ny * nz)
    for k in 0..<nz {
        for j in 0..<ny {
            for i in 0..<nx { labels[i + nx * (j + ny * k)] = value(i, j, k) }
        }
    }
    return labels
}
