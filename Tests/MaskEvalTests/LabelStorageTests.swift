import Foundation
import Testing

@testable import MaskEval

/// Narrow label storage (`LabelStorage`): the reader keeps each file's labels in the
/// narrowest type that holds them, and every result is byte for byte the one of `Int32`
/// storage.
@Suite struct LabelStorageTests {
    /// The whole `compare --compat all --format json` document of a pair.
    static func json(_ reference: LabelVolume, _ prediction: LabelVolume) -> String {
        var settings = RunSettings()
        settings.presets = Compat.allCases
        let evaluation = Evaluator.evaluate(
            reference: reference, prediction: prediction, settings: settings.evaluation(threads: 2))
        return CompareReport(
            rows: LabelRow.rows(evaluation, caseID: "", names: LabelNames()), settings: settings,
            reference: reference.description, prediction: prediction.description
        ).json().rendered()
    }

    /// The volume with its labels stored as `Int32`.
    static func int32(_ volume: LabelVolume) -> LabelVolume {
        var wide = volume
        wide.storage = .int32(volume.int32Labels)
        return wide
    }

    static func samplePath(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("SampleVolumes/\(name)").path
    }

    @Test(arguments: ["abdomen_ct", "jhu_wm_2mm"])
    func samplesGiveTheSameJSONInNarrowAndInt32Storage(sample: String) throws {
        let reference = try NIfTIReader.read(path: Self.samplePath("\(sample)_reference.nii.gz"))
        let prediction = try NIfTIReader.read(path: Self.samplePath("\(sample)_prediction.nii.gz"))
        #expect(reference.storage.kind < .int32, "the sample is read into narrow storage")
        let narrow = Self.json(reference, prediction)
        #expect(narrow == Self.json(Self.int32(reference), Self.int32(prediction)))
        #expect(narrow.contains("\"meshmetrics\""), "every preset is in the document")
    }

    /// Random blobs of labels drawn from `values` on a 23×19×17 grid, anisotropic spacing.
    static func blobs(_ values: [Int32], seed: UInt64) -> [Int32] {
        var rng = SeededGenerator(seed: seed)
        let (nx, ny, nz) = (23, 19, 17)
        var labels = [Int32](repeating: 0, count: nx * ny * nz)
        for value in values {
            let c = (
                Int.random(in: 3..<20, using: &rng), Int.random(in: 3..<16, using: &rng),
                Int.random(in: 3..<14, using: &rng)
            )
            let r = Double.random(in: 2...5, using: &rng)
            for k in 0..<nz {
                for j in 0..<ny {
                    for i in 0..<nx {
                        let d = Double((i - c.0) * (i - c.0) + (j - c.1) * (j - c.1) + (k - c.2) * (k - c.2))
                        if d <= r * r && Double.random(in: 0..<1, using: &rng) < 0.9 {
                            labels[i + nx * (j + ny * k)] = value
                        }
                    }
                }
            }
        }
        return labels
    }

    /// Generated pairs in each storage kind, and a pair of two kinds (widened together).
    @Test(
        arguments: [
            ([1, 2, 7, 255], [1, 2, 7, 255], LabelStorage.Kind.uint8, LabelStorage.Kind.uint8),
            ([3, 300, 65535], [3, 300, 65535], .uint16, .uint16),
            ([-4, 9, 70000], [-4, 9, 70000], .int32, .int32),
            ([1, 2, 200], [1, 2, 200, 4000], .uint8, .uint16),
        ] as [([Int32], [Int32], LabelStorage.Kind, LabelStorage.Kind)])
    func generatedVolumesGiveTheSameJSONInNarrowAndInt32Storage(
        values: [Int32], predictionValues: [Int32], kind: LabelStorage.Kind, predictionKind: LabelStorage.Kind
    ) throws {
        let grid = Grid(nx: 23, ny: 19, nz: 17, affine: .diagonal(0.8, 1.1, 2.5))
        for seed: UInt64 in [11, 12] {
            let reference = LabelVolume(grid: grid, storage: LabelStorage(narrowing: Self.blobs(values, seed: seed)))
            let prediction = LabelVolume(
                grid: grid, storage: LabelStorage(narrowing: Self.blobs(predictionValues, seed: seed + 100)))
            #expect(reference.storage.kind == kind)
            #expect(prediction.storage.kind == predictionKind)
            #expect(
                Self.json(reference, prediction) == Self.json(Self.int32(reference), Self.int32(prediction)),
                "seed \(seed)")
        }
    }

    /// (file type, values, the storage the reader must choose).
    static let readerCases: [(VoxelType, [Int32], LabelStorage.Kind)] = [
        (.uint8, [0, 1, 200, 255], .uint8),
        (.int16, [0, 1, 200, 255], .uint8),
        (.int16, [0, 1, 300, 32767], .uint16),
        (.int16, [-1, 0, 5], .int32),
        (.uint16, [0, 4, 255], .uint8),
        (.uint16, [0, 4, 256, 65535], .uint16),
        (.int32, [0, 17, 250], .uint8),
        (.int32, [0, 17, 65535], .uint16),
        (.int32, [0, 17, 65536], .int32),
        (.int32, [-70000, 0, 1], .int32),
        (.float32, [0, 3, 254], .uint8),
        (.float32, [0, 3, 1000], .uint16),
        (.float64, [0, -3, 1000], .int32),
    ]

    @Test(arguments: readerCases.indices)
    func readerChoosesTheNarrowestStorageWithIdenticalValues(index: Int) throws {
        let (type, values, kind) = Self.readerCases[index]
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let labels = makeLabels(7, 5, 3) { i, j, k in values[(i + 2 * j + 3 * k) % values.count] }
        for ending in [".nii", ".nii.gz"] {
            let path = folder + "/v\(ending)"
            try NIfTIWriter.write(values: labels.map(Double.init), header: header(7, 5, 3, type: type), to: path)
            for inflation in [Inflation.whole, .streaming] {
                let volume = try NIfTIReader.read(path: path, threads: 2, inflation: inflation)
                #expect(volume.storage.kind == kind, "\(type) \(values) \(ending)")
                #expect(volume.int32Labels == labels, "\(type) \(values) \(ending) \(inflation)")
            }
        }
    }

    @Test func storageHelpersKeepTheValues() {
        let labels: [Int32] = [0, 5, 0, 300, 7]
        let storage = LabelStorage(narrowing: labels)
        #expect(storage.kind == .uint16)
        #expect(storage.int32Labels == labels)
        #expect(storage.converted(to: .int32) == .int32(labels))
        #expect(storage.binarized() == .uint8([0, 1, 0, 1, 1]))
        #expect(storage.contains(300) && !storage.contains(6) && !storage.contains(-1) && !storage.contains(70000))
        #expect((0..<labels.count).map(storage.label(at:)) == labels)
        #expect(LabelStorage([Int16(-2), 3]) == .int32([-2, 3]))
        #expect(LabelStorage([UInt8(2), 3]) == .uint8([2, 3]))
    }
}
