import Foundation
import Testing

@testable import MaskEval

@Suite struct NIfTIReaderTests {
    static let types = VoxelType.allCases
    static let endings = [".nii", ".nii.gz", ".hdr"]

    @Test(arguments: types, [1, 2])
    func roundTripsEveryVoxelTypeInBothVersions(type: VoxelType, version: Int) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let low: Int32 =
            type == .int8 || type == .int16 || type == .int32 || type == .int64 || type.isFloatingPoint ? -3 : 0
        let labels = makeLabels(5, 4, 3) { i, j, k in Int32((i + 2 * j + 3 * k) % 7) + low }
        for ending in Self.endings {
            let path = folder + "/v\(version)\(ending)"
            try NIfTIWriter.write(
                values: labels.map(Double.init), header: header(5, 4, 3, type: type, version: version), to: path)
            let volume = try NIfTIReader.read(path: path)
            #expect(volume.labels == labels, "\(type) \(ending) v\(version)")
            #expect(volume.header.niftiVersion == version)
            #expect(volume.header.datatype == type.rawValue)
            #expect(volume.grid.dims == [5, 4, 3])
        }
    }

    @Test func sformOnlyQformOnlyAndNeither() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let labels = makeLabels(3, 3, 3) { i, _, _ in Int32(i) }
        // sform only: a 2 mm grid rotated 90° about z, to check the affine is taken whole.
        var sform = header(3, 3, 3, spacing: (1, 1, 1))
        sform.qformCode = 0
        sform.srowX = [0, -2, 0, 7]
        sform.srowY = [2, 0, 0, -3]
        sform.srowZ = [0, 0, 3, 1]
        try NIfTIWriter.write(values: labels.map(Double.init), header: sform, to: folder + "/s.nii")
        let s = try NIfTIReader.read(path: folder + "/s.nii")
        #expect(s.header.affineSource == .sform)
        #expect(s.grid.spacingMM == SIMD3(2, 2, 3))
        #expect(s.grid.affine.rows[0] == [0, -2, 0, 7])
        #expect(s.grid.affine.orientationCode == "ALS")

        // qform only: identity quaternion, qfac -1 flips k.
        var qform = header(3, 3, 3, spacing: (0.5, 0.75, 2))
        qform.sformCode = 0
        qform.pixdim[0] = -1
        try NIfTIWriter.write(values: labels.map(Double.init), header: qform, to: folder + "/q.nii.gz")
        let q = try NIfTIReader.read(path: folder + "/q.nii.gz")
        #expect(q.header.affineSource == .qform)
        #expect(q.grid.affine.rows[0] == [0.5, 0, 0, -10])
        #expect(q.grid.affine.rows[2] == [0, 0, -2, 2])
        #expect(q.grid.spacingMM == SIMD3(0.5, 0.75, 2))

        // Neither: diag(pixdim), with a warning.
        var neither = header(3, 3, 3, spacing: (1.5, 1, 1))
        neither.sformCode = 0
        neither.qformCode = 0
        try NIfTIWriter.write(values: labels.map(Double.init), header: neither, to: folder + "/n.nii")
        let n = try NIfTIReader.read(path: folder + "/n.nii")
        #expect(n.header.affineSource == .pixdim)
        #expect(n.grid.affine == Affine.diagonal(1.5, 1, 1))
        #expect(n.header.problems.contains { $0.severity == .warning && $0.message.contains("pixdim") })
    }

    @Test func spatialUnitsAreConvertedToMillimetres() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var h = header(2, 2, 2, spacing: (0.001, 0.002, 0.003))
        h.xyzUnits = 1  // metre
        h.sformCode = 0
        try NIfTIWriter.write(values: [Double](repeating: 1, count: 8), header: h, to: folder + "/m.nii")
        let volume = try NIfTIReader.read(path: folder + "/m.nii")
        let s = volume.grid.spacingMM
        #expect(abs(s.x - 1) < 1e-6 && abs(s.y - 2) < 1e-6 && abs(s.z - 3) < 1e-6)
    }

    @Test(arguments: [VoxelType.float32, .float64, .int16])
    func scaledValuesBecomeLabels(type: VoxelType) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var h = header(4, 1, 1, type: type)
        h.sclSlope = 2
        h.sclInter = 1
        try NIfTIWriter.write(values: [0, 1, 2, 3], header: h, to: folder + "/f.nii.gz")
        #expect(try NIfTIReader.read(path: folder + "/f.nii.gz").labels == [1, 3, 5, 7])
    }

    @Test func fourDimensionalSingletonIsAccepted() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var h = header(2, 3, 2)
        h.dim = [4, 2, 3, 2, 1, 1, 1, 1]
        let labels = makeLabels(2, 3, 2) { i, j, k in Int32(i + j + k) }
        try NIfTIWriter.write(values: labels.map(Double.init), header: h, to: folder + "/t.nii")
        let volume = try NIfTIReader.read(path: folder + "/t.nii")
        #expect(volume.labels == labels)
        #expect(volume.grid.dims == [2, 3, 2])
    }

    @Test func fractionalFloatLabelsNameTheVoxel() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try NIfTIWriter.write(
            values: [0, 1, 2, 2.5, 3, 0], header: header(3, 2, 1, type: .float32), to: folder + "/f.nii")
        #expect(throws: NIfTIError.self) { try NIfTIReader.read(path: folder + "/f.nii") }
        do {
            _ = try NIfTIReader.read(path: folder + "/f.nii")
        } catch let error as NIfTIError {
            #expect(error.exitStatus == .dataError)
            #expect(error.description.contains("voxel (0, 1, 0) holds 2.5"))
        }
    }

    @Test func valuesOutsideInt32AreRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try NIfTIWriter.write(
            values: [1, 4_000_000_000], header: header(2, 1, 1, type: .uint32), to: folder + "/u.nii")
        #expect(throws: NIfTIError.self) { try NIfTIReader.read(path: folder + "/u.nii") }
    }

    @Test func headerErrorsAreDataErrors() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var fourD = header(2, 2, 2)
        fourD.dim = [4, 2, 2, 2, 3, 1, 1, 1]
        try NIfTIWriter.write(values: [Double](repeating: 1, count: 24), header: fourD, to: folder + "/4d.nii")
        var zero = header(2, 2, 2)
        zero.sformCode = 0
        zero.pixdim[2] = 0
        try NIfTIWriter.write(values: [Double](repeating: 1, count: 8), header: zero, to: folder + "/zero.nii")
        for (name, fragment) in [("4d.nii", "extra dimensions"), ("zero.nii", "spacing along j is 0.0 mm")] {
            do {
                _ = try NIfTIReader.read(path: folder + "/" + name)
                Issue.record("\(name) was accepted")
            } catch let error as NIfTIError {
                #expect(error.exitStatus == .dataError, "\(name)")
                #expect(error.description.contains(fragment), "\(error)")
            }
        }
    }

    @Test func missingRandomAndTruncatedFiles() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: NIfTIError.missing(path: folder + "/none.nii")) {
            try NIfTIReader.read(path: folder + "/none.nii")
        }
        var generator = SeededGenerator(seed: 7)
        let noise = Data((0..<2000).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try noise.write(to: URL(fileURLWithPath: folder + "/noise.nii"))
        let labels = makeLabels(40, 40, 40) { i, j, k in Int32((i * j + k) % 11) }
        try NIfTIWriter.write(values: labels.map(Double.init), header: header(40, 40, 40), to: folder + "/whole.nii.gz")
        let whole = try Data(contentsOf: URL(fileURLWithPath: folder + "/whole.nii.gz"))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: folder + "/cut.nii.gz"))
        for name in ["noise.nii", "cut.nii.gz"] {
            do {
                _ = try NIfTIReader.read(path: folder + "/" + name)
                Issue.record("\(name) was accepted")
            } catch let error as NIfTIError {
                #expect(error.exitStatus == .dataError, "\(name): \(error)")
            }
        }
    }
}
