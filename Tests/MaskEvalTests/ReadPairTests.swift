import Foundation
import Testing

@testable import MaskEval

/// `NIfTIReader.readPair` reads the reference and the prediction side by side: the same
/// volumes as reading them one after the other, and the reference's error first whatever the
/// thread count.
@Suite struct ReadPairTests {
    /// A gzip file cut short inside its voxel data (the header reads, the voxels do not).
    static func truncated(_ path: String, from good: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: path))
    }

    static func error(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func pairEqualsTwoReadsAndTheReferenceErrorWins() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let labels = makeLabels(40, 30, 20) { i, j, k in Int32((i / 5 + j / 7 + k / 3) % 9) }
        let (good, other) = (folder + "/good.nii.gz", folder + "/other.nii.gz")
        try NIfTIWriter.write(values: labels.map(Double.init), header: header(40, 30, 20, type: .uint8), to: good)
        try NIfTIWriter.write(
            values: labels.reversed().map(Double.init), header: header(40, 30, 20, type: .int16), to: other)
        let (badReference, badPrediction) = (folder + "/bad_reference.nii.gz", folder + "/bad_prediction.nii.gz")
        try Self.truncated(badReference, from: good)
        try Self.truncated(badPrediction, from: other)
        for threads in [1, 2, 4] {
            let (r, p) = try NIfTIReader.readPair(reference: good, prediction: other, threads: threads)
            #expect(r.storage == (try NIfTIReader.read(path: good)).storage)
            #expect(p.storage == (try NIfTIReader.read(path: other)).storage)
            let both = Self.error {
                _ = try NIfTIReader.readPair(reference: badReference, prediction: badPrediction, threads: threads)
            }
            #expect(both == Self.error { _ = try NIfTIReader.read(path: badReference) }, "threads \(threads)")
            #expect(both?.contains("bad_reference") == true)
            let second = Self.error {
                _ = try NIfTIReader.readPair(reference: good, prediction: badPrediction, threads: threads)
            }
            #expect(second == Self.error { _ = try NIfTIReader.read(path: badPrediction) }, "threads \(threads)")
        }
    }
}
