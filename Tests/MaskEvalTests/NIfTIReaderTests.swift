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
            #expect(volume.int32Labels == labels, "\(type) \(ending) v\(version)")
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
        #expect(try NIfTIReader.read(path: folder + "/f.nii.gz").int32Labels == [1, 3, 5, 7])
    }

    @Test func fourDimensionalSingletonIsAccepted() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var h = header(2, 3, 2)
        h.dim = [4, 2, 3, 2, 1, 1, 1, 1]
        let labels = makeLabels(2, 3, 2) { i, j, k in Int32(i + j + k) }
        try NIfTIWriter.write(values: labels.map(Double.init), header: h, to: folder + "/t.nii")
        let volume = try NIfTIReader.read(path: folder + "/t.nii")
        #expect(volume.int32Labels == labels)
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

    /// #12: NIfTIWriter encodes in memory; the written file holds exactly those bytes.
    @Test(arguments: [1, 2])
    func encodeGivesTheBytesWriteWrites(version: Int) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let labels = makeLabels(4, 3, 2) { i, j, k in Int32(i + j * k) }
        let h = header(4, 3, 2, type: .int16, version: version)
        try NIfTIWriter.write(labels: labels, header: h, type: .int16, to: folder + "/l.nii")
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/l.nii")))
        #expect(NIfTIWriter.encode(labels: labels, header: h, type: .int16) == written)
        #expect(written.count == (version == 2 ? 544 : 352) + 24 * 2)
        let gzip = NIfTIWriter.encode(labels: labels, header: h, type: .int16, gzip: true)
        #expect(gzip.prefix(2) == [0x1F, 0x8B])
        try Data(gzip).write(to: URL(fileURLWithPath: folder + "/g.nii.gz"))
        #expect(try NIfTIReader.read(path: folder + "/g.nii.gz").int32Labels == labels)
    }

    /// #14: qfac (pixdim[0]) other than -1 counts as 1, as nibabel reads it.
    @Test(arguments: [(-1.0, -2.0), (-0.5, 2.0), (0.0, 2.0), (1.0, 2.0), (3.0, 2.0)])
    func qfacOtherThanMinusOneCountsAsOne(qfac: Double, kColumn: Double) {
        var h = header(2, 2, 2, spacing: (1, 1, 2))
        h.sformCode = 0
        h.pixdim[0] = qfac
        #expect(h.affine[2, 2] == kColumn)
    }

    /// #14: the geometry fields in use must be finite; a sheared or singular sform and a
    /// spacing out of range after unit scaling are error problems (`info` shows them).
    @Test func geometryProblems() {
        var shear = header(3, 3, 3)
        shear.srowX = [1, 0.5, 0, 0]
        shear.srowY = [0, 0.75.squareRoot(), 0, 0]
        #expect(
            shear.problems.contains(
                .init(.error, "sform is not orthogonal (angle i-j 60°): resample onto an orthogonal grid first")))
        var obtuse = header(3, 3, 3)
        obtuse.srowX = [1, 0, -0.5, 0]
        obtuse.srowZ = [0, 0, 0.75.squareRoot(), 0]
        #expect(obtuse.problems.contains { $0.message.contains("angle i-k 120°") })
        // A rotation stored in float32 is orthogonal to 1e-7: accepted.
        var rotated = header(3, 3, 3)
        let (c, s) = (Double(Float(0.6)), Double(Float(0.8)))
        rotated.srowX = [c, -s, 0, 0]
        rotated.srowY = [s, c, 0, 0]
        #expect(!rotated.problems.contains { $0.severity == .error })
        var singular = header(3, 3, 3)
        singular.srowY = [1, 0, 0, 0]
        singular.srowX = [1, 0, 0, 0]
        singular.srowZ = [0, 1, 1, 0]
        #expect(singular.problems.contains { $0.message.contains("sform is singular") })
        var nanOffset = header(3, 3, 3)
        nanOffset.srowZ[3] = .nan
        #expect(nanOffset.problems.first?.message == "srow_z[3] is nan; every sform field must be finite")
        var nanQuaternion = header(3, 3, 3)
        nanQuaternion.sformCode = 0
        nanQuaternion.quaternC = .infinity
        #expect(nanQuaternion.problems.first?.message == "quatern_c is inf; every qform field must be finite")
        var microns = header(3, 3, 3)
        microns.sformCode = 0
        microns.xyzUnits = 3
        microns.pixdim[1] = 1e-4  // 0.1 nm
        #expect(microns.problems.contains { $0.message.contains("voxel spacing along i is 1e-07 mm") })
    }

    /// probe3: `info` said nothing when the qform and sform place a file differently (the
    /// mricron JHU atlas: the qform flips k, 360 mm apart), when scl_slope/scl_inter turn
    /// every stored label into another one (a stored 0 into label 1), or when dim[0] leaves
    /// out an axis of more than one voxel (dim[0] 2 with 6 slices: one slice is read).
    @Test func qformSformDisagreementAndLabelScalingAreWarned() {
        let agreeing = header(4, 5, 6)
        #expect(agreeing.problems.isEmpty, "\(agreeing.problems)")
        var shifted = header(4, 5, 6)
        shifted.qoffsetX += 50
        #expect(
            shifted.problems.contains {
                $0.severity == .warning
                    && $0.message.hasPrefix("qform and sform disagree by up to 50 mm at a corner voxel")
            })
        var flipped = header(4, 5, 6)
        flipped.pixdim[0] = -1  // qfac: the qform's k axis points the other way
        #expect(flipped.problems.contains { $0.message.hasPrefix("qform and sform disagree by up to 10 mm") })
        var scaled = header(4, 5, 6)
        (scaled.sclSlope, scaled.sclInter) = (2, 1)
        #expect(
            scaled.problems.contains(
                .init(
                    .warning,
                    "scl_slope 2 and scl_inter 1 scale the stored values, as NIfTI readers do: a stored v is label "
                        + "2·v + 1 (a stored 0, the background, is label 1)")))
        var flat = header(4, 5, 6)
        flat.dim[0] = 2
        #expect(
            flat.problems.contains(
                .init(
                    .warning,
                    "dim[3] is 6 but dim[0] is 2: sizes past dim[0] are ignored, so only a 2-D part of the data is read"
                )))
        for (slope, inter) in [(0.0, 5.0), (1, 0), (.nan, 0)] {
            var unscaled = header(4, 5, 6)
            (unscaled.sclSlope, unscaled.sclInter) = (slope, inter)
            #expect(unscaled.problems.isEmpty, "\(slope) \(inter): \(unscaled.problems)")
        }
    }

    /// #14: geometry messages print the digits that differ, never "1×1×1 differs from 1×1×1".
    @Test func geometryMessagesShowTheDifference() throws {
        let reference = Grid(nx: 4, ny: 4, nz: 4, affine: .diagonal(1, 1, 1))
        let close = Grid(nx: 4, ny: 4, nz: 4, affine: .diagonal(1, 1, 1.000001))
        do {
            try GeometryCheck.check(reference: reference, prediction: close, predictionPath: "p.nii", toleranceMM: 1e-6)
            Issue.record("accepted")
        } catch let error as GeometryError {
            let spacing = "spacing 1×1×1.000001 mm differs from the reference's 1×1×1 mm"
            #expect(error.problem.contains(spacing), "\(error)")
            #expect(error.problem.contains("is 3e-06 mm away (tolerance 1e-06 mm)"), "\(error)")
        }
        // A small rotation keeps the nearest axes (RAS): the message says how far it turned.
        var turned = Affine.diagonal(1, 1, 1)
        let angle = 2.0 * .pi / 180
        turned[0, 0] = cos(angle)
        turned[1, 0] = sin(angle)
        turned[0, 1] = -sin(angle)
        turned[1, 1] = cos(angle)
        let rotated = Grid(nx: 4, ny: 4, nz: 4, affine: turned)
        #expect(throws: GeometryError.self) {
            try GeometryCheck.check(
                reference: reference, prediction: rotated, predictionPath: "p.nii", toleranceMM: 1e-3)
        }
        do {
            try GeometryCheck.check(
                reference: reference, prediction: rotated, predictionPath: "p.nii", toleranceMM: 1e-3)
        } catch let error as GeometryError {
            let turn = "axis i is turned by 2° from the reference's; both nearest RAS"
            #expect(error.problem.contains(turn), "\(error)")
        }
    }

    /// #14: text inputs come through InputFile: regular files only (a FIFO never blocks),
    /// with a size cap.
    @Test func inputFileRefusesWhatIsNotARegularFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("1 liver\n".utf8).write(to: URL(fileURLWithPath: folder + "/names.txt"))
        #expect(try InputFile.readData(path: folder + "/names.txt", limitBytes: 100) == Data("1 liver\n".utf8))
        #expect(mkfifo(folder + "/fifo", 0o644) == 0)
        let cases: [(String, ReadError)] = [
            ("/none.txt", .missing(path: folder + "/none.txt")),
            ("/fifo", .notRegular(path: folder + "/fifo", kind: "a FIFO")),
            ("", .unreadable(path: folder + "", reason: "it is a directory")),
            (
                "/names.txt",
                .invalid(path: folder + "/names.txt", reason: "8 bytes, more than the 4 this input may have")
            ),
        ]
        for (name, expected) in cases {
            #expect(throws: expected) { try InputFile.readData(path: folder + name, limitBytes: 4) }
        }
        #expect(throws: ReadError.notRegular(path: "/dev/zero", kind: "a character device")) {
            try InputFile.readData(path: "/dev/zero", limitBytes: 4)
        }
        #expect(ReadError.missing(path: "x").exitStatus == .noInput)
        #expect(ReadError.notRegular(path: "x", kind: "a FIFO").exitStatus == .noInput)
    }

    /// #14: the memory guard counts both volumes of a pair and names the limit and the
    /// volume that tips it over.
    @Test func memoryGuardCountsBothVolumes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try NIfTIWriter.write(
            labels: [Int32](repeating: 1, count: 1000), header: header(10, 10, 10), to: folder + "/a.nii")
        let layout = try VoxelLayout.read(path: folder + "/a.nii")
        let perVolume = 1000 * MemoryGuard.bytesPerVoxel(.uint8)
        let limit = MemoryLimit(bytes: perVolume + perVolume / 2, name: "the test limit")
        try MemoryGuard.check([layout], maxVoxels: nil, limit: limit)
        #expect(throws: ReadError.self) { try MemoryGuard.check([layout, layout], maxVoxels: nil, limit: limit) }
        do {
            try MemoryGuard.check([layout, layout], maxVoxels: nil, limit: limit)
        } catch let error as ReadError {
            #expect(error.description.contains("a.nii: 1000 voxels of uint8 with \(folder)/a.nii need about"))
            #expect(error.description.hasSuffix("left under the test limit"))
        }
        #expect(throws: ReadError.invalid(path: folder + "/a.nii", reason: "1000 voxels exceed --max-voxels 999")) {
            try MemoryGuard.check([layout], maxVoxels: 999, limit: nil)
        }
        #expect(MemoryGuard.lowestLimit() != nil)
    }

    /// #14: a small file cannot make the reader walk millions of extensions.
    @Test func extensionCountIsCapped() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let count = VoxelLayout.maxExtensions + 1
        var h = header(2, 2, 2, type: .uint8)
        h.sformCode = 0
        var bytes = NIfTIWriter.encode(labels: [Int32](repeating: 1, count: 8), header: h, type: .uint8)
        let offset = Float(352 + 16 * count)
        withUnsafeBytes(of: offset.bitPattern.littleEndian) { bytes.replaceSubrange(108..<112, with: $0) }
        bytes[348] = 1
        var extensions: [UInt8] = []
        for _ in 0..<count { extensions += [16, 0, 0, 0, 4, 0, 0, 0] + [UInt8](repeating: 0, count: 8) }
        bytes.insert(contentsOf: extensions, at: 352)
        try Data(Zlib.gzip(bytes)).write(to: URL(fileURLWithPath: folder + "/e.nii.gz"))
        #expect(throws: ReadError.invalid(path: folder + "/e.nii.gz", reason: "more than 4096 header extensions")) {
            try NIfTIReader.read(path: folder + "/e.nii.gz")
        }
    }

    /// #12: only IO/ touches C, and Volume/ neither formats through Report nor throws the
    /// reading error (a grep over the sources, so the picture cannot drift silently).
    @Test func ioOwnsTheCAndVolumeStaysClean() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/MaskEval")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)?.allObjects as? [String])
        var checked = 0
        for file in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            checked += 1
            if !file.hasPrefix("IO/") {
                #expect(!text.contains("import CNIfTI"), "\(file) imports CNIfTI")
            }
            if file.hasPrefix("Volume/") {
                for forbidden in ["Format\\.", "ReadError", "NIfTIError", "ReadHandle", "Zlib\\."] {
                    let found = text.range(of: "\\b" + forbidden, options: .regularExpression) != nil
                    #expect(!found, "\(file) uses \(forbidden)")
                }
            }
        }
        #expect(checked > 20)
    }
}
