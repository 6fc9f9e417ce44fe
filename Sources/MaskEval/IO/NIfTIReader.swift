import Foundation

/// Reads NIfTI-1, NIfTI-2 and ANALYZE label volumes (`.nii`, `.nii.gz`, `.hdr`/`.img`).
public enum NIfTIReader {
    /// File name endings the reader accepts.
    static let extensions = [".nii", ".nii.gz", ".hdr", ".hdr.gz", ".img", ".img.gz"]

    /// Reads only the header, after checking that the file exists and has a NIfTI name.
    public static func readHeader(path: String) throws -> NIfTIHeader {
        try checkPath(path)
        return try NIfTILibrary.readHeader(path: path)
    }

    /// Reads a label volume. Every header error, an over-large volume, a truncated file and
    /// a voxel that is not an integer label become a `NIfTIError`.
    ///
    /// - Parameters:
    ///   - maxVoxels: refuse volumes with more voxels than this (nil: only the memory check).
    ///   - threads: workers for the conversion to `Int32` labels.
    public static func read(path: String, maxVoxels: Int? = nil, threads: Int = activeCoreCount)
        throws -> LabelVolume
    {
        let header = try readHeader(path: path)
        if let problem = header.problems.first(where: { $0.severity == .error }) {
            // Without the NIfTI magic the header was only guessed to be ANALYZE: say so.
            let prefix = header.niftiVersion == 0 ? "not a NIfTI file (no NIfTI magic; as ANALYZE: " : ""
            throw NIfTIError.invalid(path: path, reason: prefix + problem.message + (prefix.isEmpty ? "" : ")"))
        }
        guard let type = header.voxelType else {
            throw NIfTIError.unsupported(path: path, reason: VoxelType.name(ofCode: header.datatype))
        }
        let (nx, ny, nz) = header.spatialDims
        let (voxels, overflow) = nx.multipliedReportingOverflow(by: ny)
        let (count, overflow2) = voxels.multipliedReportingOverflow(by: nz)
        if overflow || overflow2 {
            throw NIfTIError.invalid(path: path, reason: "dimensions \(nx)×\(ny)×\(nz) overflow")
        }
        try checkMemory(path: path, voxels: count, bytesPerVoxel: type.byteCount + 4, maxVoxels: maxVoxels)
        let labels = try NIfTILibrary.withVoxelData(path: path, expectedVoxels: count) { raw in
            try LabelConversion.labels(
                from: raw, type: type, count: count, slope: header.sclSlope,
                intercept: header.sclInter, threads: threads
            ) { index, value in
                let i = index % nx
                let j = (index / nx) % ny
                let k = index / (nx * ny)
                return NIfTIError.invalid(
                    path: path,
                    reason: "voxel (\(i), \(j), \(k)) holds \(value), which is not an integer label"
                        + (header.hasScaling ? " (after scl_slope/scl_inter)" : "")
                        + " in the Int32 range")
            }
        }
        let grid = Grid(nx: nx, ny: ny, nz: nz, affine: header.affine)
        return LabelVolume(path: path, header: header, grid: grid, labels: labels)
    }

    /// Reads a reference and a prediction, side by side when `threads` allows (each file is
    /// decompressed by one thread). Errors are reported for the reference first.
    public static func readPair(
        reference: String, prediction: String, maxVoxels: Int? = nil, threads: Int = activeCoreCount
    ) throws -> (LabelVolume, LabelVolume) {
        if threads < 2 {
            return (
                try read(path: reference, maxVoxels: maxVoxels, threads: 1),
                try read(path: prediction, maxVoxels: maxVoxels, threads: 1)
            )
        }
        let inner = max(1, threads / 2)
        var results: [Result<LabelVolume, Error>] = [
            .failure(NIfTIError.missing(path: reference)), .failure(NIfTIError.missing(path: prediction)),
        ]
        results.withUnsafeMutableBufferPointer { buffer in
            let shared = UncheckedSendable(buffer)
            parallelFor(2, threads: 2) { index in
                let path = index == 0 ? reference : prediction
                shared.value[index] = Result { try read(path: path, maxVoxels: maxVoxels, threads: inner) }
            }
        }
        return (try results[0].get(), try results[1].get())
    }

    static func checkPath(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw NIfTIError.missing(path: path)
        }
        if isDirectory.boolValue {
            throw NIfTIError.unreadable(path: path, reason: "it is a directory")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw NIfTIError.unreadable(path: path, reason: "permission denied")
        }
        let lower = path.lowercased()
        guard extensions.contains(where: { lower.hasSuffix($0) }) else {
            throw NIfTIError.invalid(
                path: path, reason: "not a NIfTI file name (expected .nii, .nii.gz or .hdr/.img)")
        }
        // A header/image pair needs its other half.
        for (mine, other) in [(".hdr", ".img"), (".img", ".hdr")] {
            for gz in ["", ".gz"] where lower.hasSuffix(mine + gz) {
                let stem = String(path.dropLast(mine.count + gz.count))
                let candidates = [stem + other, stem + other + ".gz", stem + other.uppercased()]
                if !candidates.contains(where: { FileManager.default.fileExists(atPath: $0) }) {
                    throw NIfTIError.missing(path: stem + other)
                }
            }
        }
    }

    /// Refuses a volume whose decoded size would not fit: `--max-voxels`, then the memory
    /// the system reports as available (Linux `MemAvailable`).
    static func checkMemory(path: String, voxels: Int, bytesPerVoxel: Int, maxVoxels: Int?) throws {
        if let maxVoxels, voxels > maxVoxels {
            throw NIfTIError.invalid(
                path: path, reason: "\(voxels) voxels exceed --max-voxels \(maxVoxels)")
        }
        let (needed, overflow) = voxels.multipliedReportingOverflow(by: bytesPerVoxel)
        if overflow || (availableMemoryBytes().map { needed > $0 } ?? false) {
            let gib = Double(voxels) * Double(bytesPerVoxel) / Double(1 << 30)
            throw NIfTIError.invalid(
                path: path,
                reason: "\(voxels) voxels need \(String(format: "%.1f", gib)) GiB, more than the memory available")
        }
    }

    static func availableMemoryBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
        }
        return nil
    }
}

extension NIfTIHeader {
    /// True when `scl_slope`/`scl_inter` change the stored values (slope 0 means none).
    var hasScaling: Bool {
        sclSlope != 0 && sclSlope.isFinite && (sclSlope != 1 || sclInter != 0)
    }
}

/// Conversion of stored voxels to `Int32` labels.
enum LabelConversion {
    /// Converts `count` voxels of `type` to labels, applying the scaling when the header
    /// sets one. Chunks run in parallel; the error names the first offending voxel in file
    /// order whatever the thread count.
    static func labels(
        from raw: UnsafeRawBufferPointer, type: VoxelType, count: Int, slope: Double,
        intercept: Double, threads: Int, error: (Int, Double) -> NIfTIError
    ) throws -> [Int32] {
        let scaled = slope != 0 && slope.isFinite && (slope != 1 || intercept != 0)
        let chunk = 1 << 20
        let chunks = (count + chunk - 1) / chunk
        var firstBad = [Int](repeating: Int.max, count: chunks)
        // Uninitialised storage: every element is written by the conversion (or the array
        // is dropped with the error), which saves a 4-byte-per-voxel memset.
        let labels = [Int32](unsafeUninitializedCapacity: count) { output, initialized in
            firstBad.withUnsafeMutableBufferPointer { bad in
                let out = UncheckedSendable(output)
                let badOut = UncheckedSendable(bad)
                parallelFor(chunks, threads: threads) { c in
                    let range = (c * chunk)..<min(count, (c + 1) * chunk)
                    badOut.value[c] = convert(
                        raw, type: type, range: range, into: out.value,
                        scale: scaled ? (slope, intercept) : nil)
                }
            }
            initialized = count
        }
        if let index = firstBad.first(where: { $0 != Int.max }) {
            throw error(index, value(raw, type: type, at: index, scale: scaled ? (slope, intercept) : nil))
        }
        return labels
    }

    /// Converts one range; returns the first index that is not an integral Int32 label,
    /// or `Int.max`.
    private static func convert(
        _ raw: UnsafeRawBufferPointer, type: VoxelType, range: Range<Int>,
        into out: UnsafeMutableBufferPointer<Int32>, scale: (Double, Double)?
    ) -> Int {
        switch type {
        case .uint8: return integers(raw, UInt8.self, range, out, scale)
        case .int8: return integers(raw, Int8.self, range, out, scale)
        case .int16: return integers(raw, Int16.self, range, out, scale)
        case .uint16: return integers(raw, UInt16.self, range, out, scale)
        case .int32: return integers(raw, Int32.self, range, out, scale)
        case .uint32: return integers(raw, UInt32.self, range, out, scale)
        case .int64: return integers(raw, Int64.self, range, out, scale)
        case .uint64: return integers(raw, UInt64.self, range, out, scale)
        case .float32: return floats(raw, Float.self, range, out, scale)
        case .float64: return floats(raw, Double.self, range, out, scale)
        }
    }

    private static func integers<T: FixedWidthInteger>(
        _ raw: UnsafeRawBufferPointer, _: T.Type, _ range: Range<Int>,
        _ out: UnsafeMutableBufferPointer<Int32>, _ scale: (Double, Double)?
    ) -> Int {
        let source = raw.bindMemory(to: T.self)
        if let (slope, intercept) = scale {
            for index in range {
                guard let label = exactLabel(Double(source[index]) * slope + intercept) else { return index }
                out[index] = label
            }
            return Int.max
        }
        for index in range {
            guard let label = Int32(exactly: source[index]) else { return index }
            out[index] = label
        }
        return Int.max
    }

    private static func floats<T: BinaryFloatingPoint>(
        _ raw: UnsafeRawBufferPointer, _: T.Type, _ range: Range<Int>,
        _ out: UnsafeMutableBufferPointer<Int32>, _ scale: (Double, Double)?
    ) -> Int {
        let source = raw.bindMemory(to: T.self)
        let (slope, intercept) = scale ?? (1, 0)
        for index in range {
            guard let label = exactLabel(Double(source[index]) * slope + intercept) else { return index }
            out[index] = label
        }
        return Int.max
    }

    @inline(__always)
    private static func exactLabel(_ value: Double) -> Int32? {
        Int32(exactly: value)
    }

    private static func value(_ raw: UnsafeRawBufferPointer, type: VoxelType, at index: Int, scale: (Double, Double)?)
        -> Double
    {
        let stored: Double
        switch type {
        case .uint8: stored = Double(raw.load(fromByteOffset: index, as: UInt8.self))
        case .int8: stored = Double(raw.load(fromByteOffset: index, as: Int8.self))
        case .int16: stored = Double(raw.load(fromByteOffset: index * 2, as: Int16.self))
        case .uint16: stored = Double(raw.load(fromByteOffset: index * 2, as: UInt16.self))
        case .int32: stored = Double(raw.load(fromByteOffset: index * 4, as: Int32.self))
        case .uint32: stored = Double(raw.load(fromByteOffset: index * 4, as: UInt32.self))
        case .int64: stored = Double(raw.load(fromByteOffset: index * 8, as: Int64.self))
        case .uint64: stored = Double(raw.load(fromByteOffset: index * 8, as: UInt64.self))
        case .float32: stored = Double(raw.load(fromByteOffset: index * 4, as: Float.self))
        case .float64: stored = raw.load(fromByteOffset: index * 8, as: Double.self)
        }
        guard let (slope, intercept) = scale else { return stored }
        return stored * slope + intercept
    }
}

/// An intensity image (CT, MRI) for the background of report slices.
public struct IntensityVolume: Sendable {
    public var path: String
    public var grid: Grid
    public var values: [Float]
}

extension NIfTIReader {
    /// Reads any numeric volume as Float intensities (after scl_slope/scl_inter).
    public static func readIntensities(path: String, maxVoxels: Int? = nil) throws -> IntensityVolume {
        let header = try readHeader(path: path)
        if let problem = header.problems.first(where: { $0.severity == .error }) {
            throw NIfTIError.invalid(path: path, reason: problem.message)
        }
        guard let type = header.voxelType else {
            throw NIfTIError.unsupported(path: path, reason: VoxelType.name(ofCode: header.datatype))
        }
        let (nx, ny, nz) = header.spatialDims
        let count = nx * ny * nz
        try checkMemory(path: path, voxels: count, bytesPerVoxel: type.byteCount + 4, maxVoxels: maxVoxels)
        let slope = header.hasScaling ? header.sclSlope : 1
        let intercept = header.hasScaling ? header.sclInter : 0
        let values = try NIfTILibrary.withVoxelData(path: path, expectedVoxels: count) { raw -> [Float] in
            func convert<T>(_: T.Type, _ value: (T) -> Double) -> [Float] {
                let source = raw.bindMemory(to: T.self)
                return (0..<count).map { Float(value(source[$0]) * slope + intercept) }
            }
            switch type {
            case .uint8: return convert(UInt8.self) { Double($0) }
            case .int8: return convert(Int8.self) { Double($0) }
            case .int16: return convert(Int16.self) { Double($0) }
            case .uint16: return convert(UInt16.self) { Double($0) }
            case .int32: return convert(Int32.self) { Double($0) }
            case .uint32: return convert(UInt32.self) { Double($0) }
            case .int64: return convert(Int64.self) { Double($0) }
            case .uint64: return convert(UInt64.self) { Double($0) }
            case .float32: return convert(Float.self) { Double($0) }
            case .float64: return convert(Double.self) { $0 }
            }
        }
        return IntensityVolume(path: path, grid: Grid(nx: nx, ny: ny, nz: nz, affine: header.affine), values: values)
    }
}
