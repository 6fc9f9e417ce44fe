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
    ///   - threads: workers for the conversion to narrow labels (`LabelStorage`).
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

    /// The volume's labels in the narrowest storage that holds them (`LabelStorage`): a
    /// uint8 file is read straight into its storage, without a conversion; a uint16 file
    /// too, unless its values all fit a byte; any other type (or scaling) is checked and
    /// converted once its range is known.
    private static func labels(of layout: VoxelLayout, threads: Int, inflation: Inflation = .default) throws
        -> LabelVolume
    {
        let header = layout.header
        let (nx, ny) = (layout.nx, layout.ny)
        let storage: LabelStorage
        if layout.type == .uint8 && !header.hasScaling {
            storage = .uint8(try readArray(layout, UInt8.self, threads: threads, inflation: inflation))
        } else if layout.type == .uint16 && !header.hasScaling {
            let values = try readArray(layout, UInt16.self, threads: threads, inflation: inflation)
            let fitsByte = values.withUnsafeBufferPointer { LabelConversion.maximum($0, threads: threads) } <= 255
            storage = fitsByte ? LabelStorage.uint16(values).converted(to: .uint8) : .uint16(values)
        } else {
            storage = try withVoxelBytes(layout, threads: threads, inflation: inflation) { raw in
                try LabelConversion.storage(
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
        }
        return LabelVolume(path: layout.path, header: header, grid: layout.grid, storage: storage)
    }

    /// The voxels of a file stored as `T`, read (or inflated) straight into the array, in
    /// native byte order.
    private static func readArray<T: StoredVoxel>(
        _ layout: VoxelLayout, _: T.Type, threads: Int, inflation: Inflation
    ) throws -> [T] {
        let size = MemoryLayout<T>.stride
        let room = prefixRoom(layout, inflation: inflation)
        return try [T](unsafeUninitializedCapacity: (room + layout.byteCount) / size + 1) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            HugePages.advise(raw.baseAddress, count: raw.count)
            let start = try readVoxels(layout, into: raw, room: room, threads: threads, inflation: inflation).start
            // Inflated in one call with the header before the voxels: move them down (a
            // copy at memory speed; the buffer stays the array's).
            if start != 0, let base = raw.baseAddress {
                memmove(base, base + start, layout.byteCount)
            }
            initialized = layout.voxelCount
        }
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
        let room = prefixRoom(layout, inflation: inflation)
        // One byte more than the voxels: `readToEnd` asks a gzip stream for a byte past them.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: room + layout.byteCount + 1, alignment: 64)
        defer { buffer.deallocate() }
        HugePages.advise(buffer.baseAddress, count: buffer.count)
        let (start, inflatedWhole) = try readVoxels(
            layout, into: buffer, room: room, threads: threads, inflation: inflation)
        return try body(UnsafeRawBufferPointer(rebasing: buffer[start..<(start + layout.byteCount)]), inflatedWhole)
    }

    /// Room before the voxels for the one-call inflation, which inflates the header and
    /// extensions too: the voxels then start on a 64-byte boundary after them.
    private static func prefixRoom(_ layout: VoxelLayout, inflation: Inflation) -> Int {
        inflation == .whole && layout.dataOffset <= Inflation.maxPrefix ? (layout.dataOffset + 63) / 64 * 64 : 0
    }

    /// Reads the voxel bytes into `buffer` (at least `room` + `layout.byteCount` bytes) and
    /// swaps them to native order; returns where in `buffer` they start (`room` when they
    /// were inflated in one call, else 0) and whether they were.
    private static func readVoxels(
        _ layout: VoxelLayout, into buffer: UnsafeMutableRawBufferPointer, room: Int, threads: Int,
        inflation: Inflation
    ) throws -> (start: Int, inflatedWhole: Bool) {
        let bytes = layout.byteCount
        var start = 0
        var inflatedWhole = false
        let read = try ReadHandle.withOpened(path: layout.dataPath) { file -> Int in
            if inflation == .whole && layout.dataOffset <= Inflation.maxPrefix && file.isCompressed {
                let stream = UnsafeMutableRawBufferPointer(
                    rebasing: buffer[(room - layout.dataOffset)..<(room + bytes)])
                // The compressed bytes live only while they are inflated, before the labels
                // are made: at most 4 per voxel keeps the run inside MemoryGuard's estimate.
                let budget = max(4 * layout.voxelCount, 1 << 20)
                if file.inflateWhole(into: stream, maxCompressedBytes: budget) {
                    (start, inflatedWhole) = (room, true)
                    return bytes
                }
            }
            try file.seek(to: layout.dataOffset)
            return min(
                bytes, try file.readToEnd(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<(bytes + 1)])))
        }
        guard read == bytes else {
            throw ReadError.invalid(
                path: layout.dataPath, reason: "voxel data are truncated or corrupt (read \(read) of \(bytes) bytes)")
        }
        let data = UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + bytes)])
        if layout.swapBytes { layout.type.visit(ByteSwap(data: data, threads: threads)) }
        return (start, inflatedWhole)
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

/// Conversion of stored voxels to labels in the narrowest storage that holds them.
enum LabelConversion {
    static let chunk = 1 << 20

    /// Converts `count` voxels of `type` to labels, applying the scaling when the header
    /// sets one: a first pass finds the range (and any voxel that is not an integral Int32
    /// label), a second writes the labels in the narrowest `LabelStorage` for it. Chunks
    /// run in parallel; the error names the first offending voxel in file order whatever
    /// the thread count.
    static func storage(
        from raw: UnsafeRawBufferPointer, type: VoxelType, count: Int, slope: Double,
        intercept: Double, threads: Int, error: (Int, Double) -> ReadError
    ) throws -> LabelStorage {
        let scaled = slope != 0 && slope.isFinite && (slope != 1 || intercept != 0)
        let scale = scaled ? (slope, intercept) : nil
        let chunks = (count + chunk - 1) / chunk
        var ranges = [ChunkRange](repeating: ChunkRange(), count: chunks)
        ranges.withUnsafeMutableBufferPointer { out in
            let shared = UncheckedSendable(out)
            parallelFor(chunks, threads: threads) { c in
                let range = (c * chunk)..<min(count, (c + 1) * chunk)
                shared.value[c] = type.visit(FindRange(raw: raw, range: range, scale: scale))
            }
        }
        if let index = ranges.first(where: { $0.firstBad != Int.max })?.firstBad {
            let stored = type.visit(StoredValue(raw: raw, index: index))
            throw error(index, scale.map { stored * $0.0 + $0.1 } ?? stored)
        }
        let low = ranges.map(\.low).min() ?? 0
        let high = ranges.map(\.high).max() ?? 0
        func fill<T: LabelValue>(_: T.Type) -> [T] {
            // Uninitialised storage: every element is written by the conversion, which
            // saves a memset.
            [T](unsafeUninitializedCapacity: count) { output, initialized in
                HugePages.advise(UnsafeMutableRawPointer(output.baseAddress), count: count * MemoryLayout<T>.size)
                let out = UncheckedSendable(output)
                parallelFor(chunks, threads: threads) { c in
                    let range = (c * chunk)..<min(count, (c + 1) * chunk)
                    type.visit(Convert(raw: raw, range: range, out: out.value, scale: scale))
                }
                initialized = count
            }
        }
        switch LabelStorage.Kind.holding(low: Int64(low), high: Int64(high)) {
        case .uint8: return .uint8(fill(UInt8.self))
        case .uint16: return .uint16(fill(UInt16.self))
        case .int32: return .int32(fill(Int32.self))
        }
    }

    /// The largest value (parallel, 1 Mi-voxel chunks); 0 when there is none.
    static func maximum<T: LabelValue>(_ values: UnsafeBufferPointer<T>, threads: Int) -> T {
        let chunks = (values.count + chunk - 1) / chunk
        var highs = [T](repeating: 0, count: chunks)
        highs.withUnsafeMutableBufferPointer { out in
            let shared = UncheckedSendable(out)
            parallelFor(chunks, threads: threads) { c in
                var high: T = 0
                for index in (c * chunk)..<min(values.count, (c + 1) * chunk) { high = max(high, values[index]) }
                shared.value[c] = high
            }
        }
        return highs.max() ?? 0
    }

    /// The label range of one chunk and its first voxel that is not an integral Int32 label.
    struct ChunkRange {
        var low = Int32.max
        var high = Int32.min
        var firstBad = Int.max
    }

    @inline(__always)
    private static func label<S: StoredVoxel>(_ value: S, _ scale: (Double, Double)?) -> Int32? {
        if let (slope, intercept) = scale { return Int32(exactly: value.doubleValue * slope + intercept) }
        return value.exactLabel
    }

    private struct FindRange: VoxelVisitor {
        let raw: UnsafeRawBufferPointer
        let range: Range<Int>
        let scale: (Double, Double)?

        func visit<S: StoredVoxel>(_: S.Type) -> ChunkRange {
            let source = raw.bindMemory(to: S.self)
            var out = ChunkRange()
            for index in range {
                guard let value = label(source[index], scale) else {
                    out.firstBad = index
                    return out
                }
                out.low = min(out.low, value)
                out.high = max(out.high, value)
            }
            return out
        }
    }

    /// Converts one range of checked voxels into labels of `T`, which holds them all.
    private struct Convert<T: LabelValue>: VoxelVisitor {
        let raw: UnsafeRawBufferPointer
        let range: Range<Int>
        let out: UnsafeMutableBufferPointer<T>
        let scale: (Double, Double)?

        func visit<S: StoredVoxel>(_: S.Type) {
            let source = raw.bindMemory(to: S.self)
            for index in range {
                out[index] = T(truncatingIfNeeded: label(source[index], scale) ?? 0)
            }
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
