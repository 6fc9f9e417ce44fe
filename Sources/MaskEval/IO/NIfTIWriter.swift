import Foundation

/// Encodes volumes as NIfTI bytes in memory (little-endian, NIfTI-1 or -2 after
/// `header.niftiVersion`); the `write` functions hand the bytes to `OutputFile`, which
/// writes them to a temporary file and renames it into place.
public enum NIfTIWriter {
    /// The bytes of one NIfTI file holding `values` (stored values, before any
    /// `scl_slope`/`scl_inter` in `header`) converted to `header.datatype`: a single file
    /// (`vox_offset` 352 or 544), or with `pair` the header (`.hdr`) and the voxel data
    /// (`.img`) as two arrays. gzip-compressed when `gzip` is true.
    ///
    /// Preconditions (programmer errors): `header.voxelType` is a supported type and
    /// `values` fill the header's dims.
    public static func encode(values: [Double], header: NIfTIHeader, gzip: Bool = false) -> [UInt8] {
        let (head, data) = encodeParts(header: header, pair: false, count: values.count) { type, buffer in
            type.visit(Store(values: values, buffer: buffer))
        }
        let bytes = head + data
        return gzip ? Zlib.gzip(bytes) : bytes
    }

    /// `encode` for Int32 labels, as `type` (default: the narrowest integer type that
    /// holds every label); the scaling is cleared.
    public static func encode(labels: [Int32], header: NIfTIHeader, type: VoxelType? = nil, gzip: Bool = false)
        -> [UInt8]
    {
        let out = labelHeader(labels, header, type)
        let (head, data) = encodeParts(header: out, pair: false, count: labels.count) { type, buffer in
            type.visit(StoreLabels(labels: labels, buffer: buffer))
        }
        let bytes = head + data
        return gzip ? Zlib.gzip(bytes) : bytes
    }

    /// Writes `values` (stored values, before any `scl_slope`/`scl_inter` in `header`)
    /// converted to `header.datatype`: `.nii`, `.nii.gz`, or a `.hdr`/`.img` pair.
    /// Tests use it to build fixtures of every voxel type.
    public static func write(values: [Double], header: NIfTIHeader, to path: String) throws {
        try checkFill(header: header, count: values.count, path: path)
        try write(header: header, to: path, count: values.count) { type, buffer in
            type.visit(Store(values: values, buffer: buffer))
        }
    }

    /// Writes Int32 labels with the geometry of `header` as `type` (default: the narrowest
    /// integer type that holds every label).
    public static func write(labels: [Int32], header: NIfTIHeader, type: VoxelType? = nil, to path: String) throws {
        let out = labelHeader(labels, header, type)
        try checkFill(header: out, count: labels.count, path: path)
        try write(header: out, to: path, count: labels.count) { type, buffer in
            type.visit(StoreLabels(labels: labels, buffer: buffer))
        }
    }

    private static func labelHeader(_ labels: [Int32], _ header: NIfTIHeader, _ type: VoxelType?) -> NIfTIHeader {
        let low = labels.min() ?? 0
        let high = labels.max() ?? 0
        let chosen =
            type ?? (low >= 0 && high <= 255 ? .uint8 : (low >= -32768 && high <= 32767 ? .int16 : .int32))
        var out = header
        out.datatype = chosen.rawValue
        out.sclSlope = 0
        out.sclInter = 0
        return out
    }

    private static func checkFill(header: NIfTIHeader, count: Int, path: String) throws {
        guard header.voxelType != nil else {
            throw OutputError(path: path, reason: "voxel type \(header.datatype) is not supported")
        }
        guard voxelCount(header) == count else {
            throw OutputError(path: path, reason: "\(count) values do not fill the header's dims")
        }
    }

    private static func voxelCount(_ header: NIfTIHeader) -> Int {
        (1...max(1, min(7, header.dim[0]))).reduce(1) { $0 * header.dim[$1] }
    }

    /// The header (with its extender) and the voxel bytes, little-endian.
    private static func encodeParts(
        header: NIfTIHeader, pair: Bool, count: Int, fill: (VoxelType, UnsafeMutableRawBufferPointer) -> Void
    ) -> ([UInt8], [UInt8]) {
        guard let type = header.voxelType else { preconditionFailure("voxel type \(header.datatype) is not supported") }
        precondition(voxelCount(header) == count, "\(count) values do not fill the header's dims")
        var data = [UInt8](repeating: 0, count: count * type.byteCount)
        data.withUnsafeMutableBytes { fill(type, $0) }
        #if _endian(big)
            preconditionFailure("NIfTIWriter writes little-endian files on little-endian machines only")
        #endif
        return (HeaderCodec.encode(header, pair: pair), data)
    }

    private static func write(
        header: NIfTIHeader, to path: String, count: Int, fill: (VoxelType, UnsafeMutableRawBufferPointer) -> Void
    ) throws {
        let lower = path.lowercased()
        let gzip = lower.hasSuffix(".gz")
        let pair = lower.hasSuffix(".hdr") || lower.hasSuffix(".hdr.gz")
        let (head, data) = encodeParts(header: header, pair: pair, count: count, fill: fill)
        if pair {
            // The .img half next to the .hdr (same case and compression), data first so
            // that a reader never finds a header without its data.
            let stem = String(path.dropLast(gzip ? 7 : 4))
            let img = stem + (path.dropLast(gzip ? 3 : 0).hasSuffix(".HDR") ? ".IMG" : ".img") + (gzip ? ".gz" : "")
            try OutputFile.write(data: Data(gzip ? Zlib.gzip(data) : data), to: img)
            try OutputFile.write(data: Data(gzip ? Zlib.gzip(head) : head), to: path)
        } else {
            let bytes = head + data
            try OutputFile.write(data: Data(gzip ? Zlib.gzip(bytes) : bytes), to: path)
        }
    }

    private struct Store: VoxelVisitor {
        let values: [Double]
        let buffer: UnsafeMutableRawBufferPointer
        func visit<T: StoredVoxel>(_: T.Type) {
            let out = buffer.bindMemory(to: T.self)
            for (index, value) in values.enumerated() { out[index] = T(storing: value) }
        }
    }

    private struct StoreLabels: VoxelVisitor {
        let labels: [Int32]
        let buffer: UnsafeMutableRawBufferPointer
        func visit<T: StoredVoxel>(_: T.Type) {
            let out = buffer.bindMemory(to: T.self)
            for (index, label) in labels.enumerated() { out[index] = T(storing: Double(label)) }
        }
    }
}
