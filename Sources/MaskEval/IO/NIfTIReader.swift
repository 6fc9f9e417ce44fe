import Foundation

/// Reads NIfTI-1, NIfTI-2 and ANALYZE label volumes (`.nii`, `.nii.gz`, `.hdr`/`.img`),
/// little- or big-endian. Every reader goes through `VoxelLayout.read` (the checks) and
/// `MemoryGuard.check` (the size) before any voxel is read or inflated.
public enum NIfTIReader {
    /// Reads only the header, after the name, kind and magic checks (no layout checks: a
    /// header with problems is returned, so that its problems can be shown).
    public static func readHeader(path: String) throws -> NIfTIHeader {
        try VoxelLayout.readStoredHeader(path: path).header
    }

    /// Reads a label volume. Every header error, an over-large volume, a truncated file and
    /// a voxel that is not an integer label become a `ReadError`.
    ///
    /// - Parameters:
    ///   - maxVoxels: refuse volumes with more voxels than this (nil: only the memory check).
    ///   - threads: workers for the conversion to `Int32` labels.
    public static func read(path: String, maxVoxels: Int? = nil, threads: Int = activeCoreCount)
        throws -> LabelVolume
    {
        try read(path: path, maxVoxels: maxVoxels, threads: threads, inflation: .default)
    }

    /// `read`, inflating gzip data as `inflation` says (the tests read both ways).
    static func read(path: String, maxVoxels: Int? = nil, threads: Int = activeCoreCount, inflation: Inflation)
        throws -> LabelVolume
    {
        let layout = try VoxelLayout.read(path: path)
        try MemoryGuard.check([layout], maxVoxels: maxVoxels)
        return try labels(of: layout, threads: threads, inflation: inflation)
    }

    /// Reads a reference and a prediction, side by side when `threads` allows (each file is
    /// decompressed by one thread). Both headers are checked, and both volumes together
    /// against the memory limits, before either is read. Errors name the reference first.
    public static func readPair(
        reference: String, prediction: String, maxVoxels: Int? = nil, threads: Int = activeCoreCount
    ) throws -> (LabelVolume, LabelVolume) {
        let layouts = [try VoxelLayout.read(path: reference), try VoxelLayout.read(path: prediction)]
        try MemoryGuard.check(layouts, maxVoxels: maxVoxels)
        if threads < 2 {
            return (try labels(of: layouts[0], threads: 1), try labels(of: layouts[1], threads: 1))
        }
        let inner = max(1, threads / 2)
        var results: [Result<LabelVolume, Error>] = [
            .failure(ReadError.missing(path: reference)), .failure(ReadError.missing(path: prediction)),
        ]
        results.withUnsafeMutableBufferPointer { buffer in
            let shared = UncheckedSendable(buffer)
            parallelFor(2, threads: 2) { index in
                shared.value[index] = Result { try labels(of: layouts[index], threads: inner) }
            }
        }
        return (try results[0].get(), try results[1].get())
    }

    /// Reads any numeric volume as Float intensities (after scl_slope/scl_inter), through
    /// the same checks as the labels.
    public static func readIntensities(path: String, maxVoxels: Int? = nil) throws -> IntensityVolume {
        let layout = try VoxelLayout.read(path: path)
        try MemoryGuard.check([layout], maxVoxels: maxVoxels)
        let header = layout.header
        let scale = header.hasScaling ? (header.sclSlope, header.sclInter) : (1, 0)
        let values = try withVoxelBytes(layout) { raw in
            layout.type.visit(IntensityConversion(raw: raw, count: layout.voxelCount, scale: scale))
        }
        return IntensityVolume(path: path, grid: layout.grid, values: values)
    }

    private static func labels(of layout: VoxelLayout, threads: Int, inflation: Inflation = .default) throws
        -> LabelVolume
    {
        let header = layout.header
        let (nx, ny) = (layout.nx, layout.ny)
        let labels = try withVoxelBytes(layout, threads: threads, inflation: inflation) { raw in
            try LabelConversion.labels(
                from: raw, type: layout.type, count: layout.voxelCount, slope: header.sclSlope,
                intercept: header.sclInter, threads: threads
            ) { index, value in
                let i = index % nx
                let j = (index / nx) % ny
                let k = index / (nx * ny)
                return ReadError.invalid(
                    path: layout.dataPath,
                    reason: "voxel (\(i), \(j), \(k)) holds \(value), which is not an integer label"
                        + (header.hasScaling ? " (after scl_slope/scl_inter)" : "")
                        + " in the Int32 range")
            }
        }
        return LabelVolume(path: layout.path, header: header, grid: layout.grid, labels: labels)
    }

    /// Reads the layout's voxel bytes into a new buffer, in native byte order, and hands
    /// them to `body`; the buffer is freed when `body` returns.
    static func withVoxelBytes<T>(
        _ layout: VoxelLayout, threads: Int = 1, inflation: Inflation = .default,
        _ body: (UnsafeRawBufferPointer) throws -> T
    ) throws -> T {
        try withVoxelBytes(layout, threads: threads, inflation: inflation) { raw, _ in try body(raw) }
    }

    /// `withVoxelBytes`, telling `body` too whether the data were inflated in one call.
    static func withVoxelBytes<T>(
        _ layout: VoxelLayout, threads: Int = 1, inflation: Inflation,
        reportingPath body: (UnsafeRawBufferPointer, _ inflatedWhole: Bool) throws -> T
    ) throws -> T {
        let bytes = layout.byteCount
        var storage: UnsafeMutableRawBufferPointer?
        defer { storage?.deallocate() }
        var inflatedWhole = false
        var data = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        let read = try ReadHandle.withOpened(path: layout.dataPath) { file -> Int in
            // The one-call path inflates the header and extensions too: room for them goes
            // before the voxels, which start on a 64-byte boundary either way.
            let whole = inflation == .whole && file.isCompressed && layout.dataOffset <= Inflation.maxPrefix
            let prefix = whole ? (layout.dataOffset + 63) / 64 * 64 : 0
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: prefix + max(bytes, 1), alignment: 64)
            storage = buffer
            HugePages.advise(buffer.baseAddress, count: buffer.count)
            data = UnsafeMutableRawBufferPointer(rebasing: buffer[prefix..<(prefix + bytes)])
            if whole {
                let stream = UnsafeMutableRawBufferPointer(
                    rebasing: buffer[(prefix - layout.dataOffset)..<(prefix + bytes)])
                // The compressed bytes live only while they are inflated, before the labels
                // are made: at most 4 per voxel keeps the run inside MemoryGuard's estimate.
                let budget = max(4 * layout.voxelCount, 1 << 20)
                if file.inflateWhole(into: stream, maxCompressedBytes: budget) {
                    inflatedWhole = true
                    return bytes
                }
            }
            try file.seek(to: layout.dataOffset)
            return try file.read(into: data)
        }
        guard read == bytes else {
            throw ReadError.invalid(
                path: layout.dataPath, reason: "voxel data are truncated or corrupt (read \(read) of \(bytes) bytes)")
        }
        if layout.swapBytes { layout.type.visit(ByteSwap(data: data, threads: threads)) }
        return try body(UnsafeRawBufferPointer(data), inflatedWhole)
    }
}

/// How the voxel data of a gzip file are inflated.
enum Inflation: Sendable, Equatable {
    /// In one call by libdeflate when the file is a single member of the expected size
    /// (`ReadHandle.inflateWhole`), else streaming: the default.
    case whole
    /// Always through zlib's streaming reader (`MASKEVAL_INFLATE=stream`; the tests read
    /// each file both ways).
    case streaming

    /// `.streaming` when the environment sets `MASKEVAL_INFLATE=stream`, else `.whole`;
    /// read once.
    static let `default`: Inflation = {
        guard let value = getenv("MASKEVAL_INFLATE") else { return .whole }
        return String(cString: value) == "stream" ? .streaming : .whole
    }()

    /// Header and extensions longer than this are streamed past rather than inflated into
    /// memory before the voxels.
    static let maxPrefix = 1 << 20
}

extension NIfTIHeader {
    /// True when `scl_slope`/`scl_inter` change the stored values (slope 0 means none).
    var hasScaling: Bool {
        sclSlope != 0 && sclSlope.isFinite && (sclSlope != 1 || sclInter != 0)
    }
}

/// Big-endian voxels to native order, in place, in parallel chunks.
private struct ByteSwap: VoxelVisitor {
    let data: UnsafeMutableRawBufferPointer
    let threads: Int

    func visit<T: StoredVoxel>(_: T.Type) {
        let values = UncheckedSendable(data.bindMemory(to: T.self))
        let count = values.value.count
        let chunk = 1 << 20
        parallelFor((count + chunk - 1) / chunk, threads: threads) { c in
            for index in (c * chunk)..<min(count, (c + 1) * chunk) {
                values.value[index] = values.value[index].byteSwapped
            }
        }
    }
}

/// Stored values to Float intensities (after the scaling).
private struct IntensityConversion: VoxelVisitor {
    let raw: UnsafeRawBufferPointer
    let count: Int
    let scale: (Double, Double)

    func visit<T: StoredVoxel>(_: T.Type) -> [Float] {
        let source = raw.bindMemory(to: T.self)
        let (slope, intercept) = scale
        return (0..<count).map { Float(source[$0].doubleValue * slope + intercept) }
    }
}

/// Conversion of stored voxels to `Int32` labels.
enum LabelConversion {
    /// Converts `count` voxels of `type` to labels, applying the scaling when the header
    /// sets one. Chunks run in parallel; the error names the first offending voxel in file
    /// order whatever the thread count.
    static func labels(
        from raw: UnsafeRawBufferPointer, type: VoxelType, count: Int, slope: Double,
        intercept: Double, threads: Int, error: (Int, Double) -> ReadError
    ) throws -> [Int32] {
        let scaled = slope != 0 && slope.isFinite && (slope != 1 || intercept != 0)
        let scale = scaled ? (slope, intercept) : nil
        let chunk = 1 << 20
        let chunks = (count + chunk - 1) / chunk
        var firstBad = [Int](repeating: Int.max, count: chunks)
        // Uninitialised storage: every element is written by the conversion (or the array
        // is dropped with the error), which saves a 4-byte-per-voxel memset.
        let labels = [Int32](unsafeUninitializedCapacity: count) { output, initialized in
            HugePages.advise(UnsafeMutableRawPointer(output.baseAddress), count: count * MemoryLayout<Int32>.size)
            firstBad.withUnsafeMutableBufferPointer { bad in
                let out = UncheckedSendable(output)
                let badOut = UncheckedSendable(bad)
                parallelFor(chunks, threads: threads) { c in
                    let range = (c * chunk)..<min(count, (c + 1) * chunk)
                    badOut.value[c] = type.visit(Convert(raw: raw, range: range, out: out.value, scale: scale))
                }
            }
            initialized = count
        }
        if let index = firstBad.first(where: { $0 != Int.max }) {
            let stored = type.visit(StoredValue(raw: raw, index: index))
            throw error(index, scale.map { stored * $0.0 + $0.1 } ?? stored)
        }
        return labels
    }

    /// Converts one range; returns the first index that is not an integral Int32 label,
    /// or `Int.max`.
    private struct Convert: VoxelVisitor {
        let raw: UnsafeRawBufferPointer
        let range: Range<Int>
        let out: UnsafeMutableBufferPointer<Int32>
        let scale: (Double, Double)?

        func visit<T: StoredVoxel>(_: T.Type) -> Int {
            let source = raw.bindMemory(to: T.self)
            if let (slope, intercept) = scale {
                for index in range {
                    guard let label = Int32(exactly: source[index].doubleValue * slope + intercept) else {
                        return index
                    }
                    out[index] = label
                }
                return Int.max
            }
            for index in range {
                guard let label = source[index].exactLabel else { return index }
                out[index] = label
            }
            return Int.max
        }
    }

    private struct StoredValue: VoxelVisitor {
        let raw: UnsafeRawBufferPointer
        let index: Int
        func visit<T: StoredVoxel>(_: T.Type) -> Double { raw.bindMemory(to: T.self)[index].doubleValue }
    }
}

/// An intensity image (CT, MRI) for the background of report slices.
public struct IntensityVolume: Sendable {
    public var path: String
    public var grid: Grid
    public var values: [Float]
}
