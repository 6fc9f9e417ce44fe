import Foundation

/// Writes label volumes through nifticlib. Outputs go to a temporary file in the same
/// folder and are renamed into place, so a failed write never leaves a half-written file.
public enum NIfTIWriter {
    /// Writes `values` (stored values, before any `scl_slope`/`scl_inter` in `header`)
    /// converted to `header.datatype`. Tests use it to build fixtures of every voxel type.
    public static func write(values: [Double], header: NIfTIHeader, to path: String) throws {
        guard let type = header.voxelType else {
            throw NIfTIError.cannotWrite(path: path, reason: "voxel type \(header.datatype) is not supported")
        }
        try write(header: header, to: path, count: values.count) { buffer in
            for (index, value) in values.enumerated() { store(value, type: type, at: index, in: buffer) }
        }
    }

    /// Writes Int32 labels with the geometry of `header` as `type` (default: the narrowest
    /// integer type that holds every label).
    public static func write(labels: [Int32], header: NIfTIHeader, type: VoxelType? = nil, to path: String) throws {
        let low = labels.min() ?? 0
        let high = labels.max() ?? 0
        let chosen =
            type ?? (low >= 0 && high <= 255 ? .uint8 : (low >= -32768 && high <= 32767 ? .int16 : .int32))
        var out = header
        out.datatype = chosen.rawValue
        out.sclSlope = 0
        out.sclInter = 0
        try write(header: out, to: path, count: labels.count) { buffer in
            for (index, label) in labels.enumerated() { store(Double(label), type: chosen, at: index, in: buffer) }
        }
    }

    static func write(
        header: NIfTIHeader, to path: String, count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void
    ) throws {
        let (nx, ny, nz) = header.spatialDims
        let extra = header.dim[0] > 3 ? (4...header.dim[0]).reduce(1) { $0 * header.dim[$1] } : 1
        guard nx * ny * nz * extra == count else {
            throw NIfTIError.cannotWrite(path: path, reason: "\(count) values do not fill the header's dims")
        }
        let lower = path.lowercased()
        let pair = lower.hasSuffix(".hdr") || lower.hasSuffix(".hdr.gz")
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw NIfTIError.cannotWrite(path: path, reason: "folder \(folder) is not writable")
        }
        if pair {
            // A header/image pair is two files; write it in place.
            try NIfTILibrary.write(header: header, to: path, fill: fill)
            guard FileManager.default.fileExists(atPath: path) else {
                throw NIfTIError.cannotWrite(path: path, reason: "nifticlib wrote nothing")
            }
            return
        }
        let ending = lower.hasSuffix(".nii.gz") ? ".nii.gz" : ".nii"
        let temporary = folder + "/.maskeval-\(getpid())-\(UUID().uuidString)" + ending
        try NIfTILibrary.write(header: header, to: temporary, fill: fill)
        guard FileManager.default.fileExists(atPath: temporary) else {
            throw NIfTIError.cannotWrite(path: path, reason: "nifticlib wrote nothing")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw NIfTIError.cannotWrite(path: path, reason: reason)
        }
    }

    @inline(__always)
    private static func store(_ value: Double, type: VoxelType, at index: Int, in buffer: UnsafeMutableRawBufferPointer)
    {
        switch type {
        case .uint8: buffer.storeBytes(of: UInt8(value), toByteOffset: index, as: UInt8.self)
        case .int8: buffer.storeBytes(of: Int8(value), toByteOffset: index, as: Int8.self)
        case .int16: buffer.storeBytes(of: Int16(value), toByteOffset: index * 2, as: Int16.self)
        case .uint16: buffer.storeBytes(of: UInt16(value), toByteOffset: index * 2, as: UInt16.self)
        case .int32: buffer.storeBytes(of: Int32(value), toByteOffset: index * 4, as: Int32.self)
        case .uint32: buffer.storeBytes(of: UInt32(value), toByteOffset: index * 4, as: UInt32.self)
        case .int64: buffer.storeBytes(of: Int64(value), toByteOffset: index * 8, as: Int64.self)
        case .uint64: buffer.storeBytes(of: UInt64(value), toByteOffset: index * 8, as: UInt64.self)
        case .float32: buffer.storeBytes(of: Float(value), toByteOffset: index * 4, as: Float.self)
        case .float64: buffer.storeBytes(of: value, toByteOffset: index * 8, as: Double.self)
        }
    }
}
