import Foundation
import Testing

@testable import MaskEval

/// Issue #14: big-endian files (older SPM/ANALYZE tools, nibabel on request) read exactly as
/// their little-endian copies. The copies are made here by `BigEndian.copy`, written from
/// the NIfTI-1 and NIfTI-2 field tables independently of the reader's own decoder.
@Suite(.serialized) struct BigEndianTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("SampleVolumes").path

    @Test(arguments: VoxelType.allCases, [1, 2])
    func everyVoxelTypeReadsAsTheLittleEndianCopy(type: VoxelType, version: Int) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let signed = [VoxelType.int8, .int16, .int32, .int64, .float32, .float64].contains(type)
        var labels = [Int32](repeating: 0, count: 7 * 5 * 3)
        for index in labels.indices { labels[index] = Int32(index % 9) - (signed ? 4 : 0) }
        var header = NIfTIHeader(
            niftiVersion: version, dim: [3, 7, 5, 3, 1, 1, 1, 1], pixdim: [-1, 0.8, 0.9, 2.5, 1, 1, 1, 1],
            datatype: type.rawValue, sclSlope: type.isFloatingPoint ? 0 : 2, sclInter: type.isFloatingPoint ? 0 : 1,
            qformCode: 1, sformCode: 1, quaternB: 0.1, quaternC: 0.2, quaternD: 0.3, qoffsetX: -10, qoffsetY: 5,
            qoffsetZ: 2, srowX: [0, -0.9, 0, 7], srowY: [0.8, 0, 0, -3], srowZ: [0, 0, 2.5, 1])
        header.descrip = "big-endian test"
        let little = folder + "/little.nii"
        try NIfTIWriter.write(values: labels.map(Double.init), header: header, to: little)
        for (name, gzip) in [("big.nii", false), ("big.nii.gz", true)] {
            let bytes = try BigEndian.copy(of: [UInt8](Data(contentsOf: URL(fileURLWithPath: little))), type: type)
            try Data(gzip ? Zlib.gzip(bytes) : bytes).write(to: URL(fileURLWithPath: folder + "/" + name))
            let a = try NIfTIReader.read(path: little)
            let b = try NIfTIReader.read(path: folder + "/" + name)
            #expect(a.storage == b.storage, "\(type) v\(version) \(name)")
            #expect(a.header == b.header)
            #expect(a.grid == b.grid)
            // The sform case and the qform one (sform_code 0) give the same geometry.
            for sform in [0, 1] {
                var other = header
                other.sformCode = sform
                try NIfTIWriter.write(values: labels.map(Double.init), header: other, to: folder + "/q.nii")
                let swapped = try BigEndian.copy(
                    of: [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/q.nii"))), type: type)
                try Data(swapped).write(to: URL(fileURLWithPath: folder + "/qb.nii"))
                #expect(
                    try NIfTIReader.read(path: folder + "/qb.nii").grid
                        == NIfTIReader.read(path: folder + "/q.nii").grid)
            }
        }
    }

    /// The acceptance test: a big-endian copy of each sample pair, in every voxel type
    /// (JHU) and as stored (abdomen), gives byte-identical `compare` JSON.
    @Test func samplePairsGiveIdenticalJSON() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let jhu = ["jhu_wm_2mm_reference", "jhu_wm_2mm_prediction"]
        let abdomen = ["abdomen_ct_reference", "abdomen_ct_prediction"]
        // The abdomen as stored (gzip, every preset); JHU in every voxel type, NIfTI-1 and -2
        // in turn (uncompressed, to keep the test short: every type in both versions, and
        // gzip, are read above).
        var cases: [([String], VoxelType?, Int)] = [(abdomen, nil, 1)]
        for (index, type) in VoxelType.allCases.enumerated() { cases.append((jhu, type, 1 + index % 2)) }
        var volumes: [String: LabelVolume] = [:]
        for name in jhu + abdomen {
            volumes[name] = try NIfTIReader.read(path: Self.samples + "/" + name + ".nii.gz")
        }
        for (names, type, version) in cases {
            let ending = type == nil ? ".nii.gz" : ".nii"
            for side in ["little", "big"] {
                try FileManager.default.createDirectory(
                    atPath: folder + "/" + side, withIntermediateDirectories: true)
            }
            for name in names {
                guard let volume = volumes[name] else { continue }
                var header = volume.header
                header.niftiVersion = version
                let chosen = type ?? volume.header.voxelType ?? .int16
                header.sclSlope = 0
                header.sclInter = 0
                let bytes = NIfTIWriter.encode(labels: volume.int32Labels, header: header, type: chosen)
                let big = try BigEndian.copy(of: bytes, type: chosen)
                for (side, data) in [("little", bytes), ("big", big)] {
                    try Data(type == nil ? Zlib.gzip(data) : data).write(
                        to: URL(fileURLWithPath: folder + "/" + side + "/" + name + ending))
                }
            }
            var outputs: [String] = []
            for side in ["little", "big"] {
                let presets = type == nil ? ["--compat", "all"] : []
                let run = try RunIn(
                    folder + "/" + side,
                    ["compare", names[0] + ending, names[1] + ending, "--format", "json"] + presets)
                #expect(run.status == 0, "\(run.stderr)")
                outputs.append(run.stdout)
            }
            #expect(
                !outputs[0].isEmpty && outputs[0] == outputs[1], "\(names[0]) \(String(describing: type)) v\(version)")
        }
    }
}

/// Runs the binary in a folder (so relative paths, and hence the JSON, are the same).
struct RunIn {
    let status: Int32
    let stdout: String
    let stderr: String

    init(_ folder: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Run.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status = process.terminationStatus
        stdout = String(decoding: outData, as: UTF8.self)
        stderr = String(decoding: errData, as: UTF8.self)
    }
}

/// Byte-swaps a little-endian single-file NIfTI-1 or NIfTI-2 (no extensions) into its
/// big-endian copy, field by field from the standard's tables (nifti1.h, nifti2.h).
enum BigEndian {
    struct NotLittleEndian: Error {}

    /// Runs of numeric fields of the NIfTI-1 header: (first offset, count, width).
    static let nifti1Runs = [
        (0, 1, 4), (32, 1, 4), (36, 1, 2), (40, 8, 2), (56, 3, 4), (68, 4, 2), (76, 8, 4), (108, 3, 4),
        (120, 1, 2), (124, 4, 4), (140, 2, 4), (252, 2, 2), (256, 18, 4),
    ]

    /// Runs of numeric fields of the NIfTI-2 header: (first offset, count, width).
    static let nifti2Runs = [
        (0, 1, 4), (12, 2, 2), (16, 8, 8), (80, 3, 8), (104, 8, 8), (168, 8, 8), (344, 2, 4), (352, 18, 8),
        (496, 3, 4),
    ]

    static func copy(of bytes: [UInt8], type: VoxelType) throws -> [UInt8] {
        var out = bytes
        let sizeofHdr = Int(bytes[0]) | Int(bytes[1]) << 8
        let runs: [(Int, Int, Int)]
        let voxOffset: Int
        switch sizeofHdr {
        case 348:
            runs = nifti1Runs
            voxOffset = 352
        case 540:
            runs = nifti2Runs
            voxOffset = 544
        default: throw NotLittleEndian()
        }
        for (first, count, width) in runs {
            for field in 0..<count {
                let offset = first + field * width
                out[offset..<(offset + width)].reverse()
            }
        }
        let size = type.byteCount
        out.withUnsafeMutableBufferPointer { buffer in
            var index = voxOffset
            while index + size <= buffer.count {
                for low in 0..<(size / 2) { buffer.swapAt(index + low, index + size - 1 - low) }
                index += size
            }
        }
        return out
    }
}
