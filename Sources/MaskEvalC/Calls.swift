import Dispatch
import MaskEval

// The values a C call carries (options, arrays, outcomes) and the conversion of a caller's
// label array into Int32 labels. Nothing here calls the MaskEval library (see Bridge.swift);
// only its `VoxelType` codes are shared.

/// An error of a call: the CLI's exit status and one-line message, and which kind of error
/// it is (`MASKEVAL_ERROR_*` in maskeval.h).
struct CallFailure: Error {
    enum Kind: Int32 {
        case usage = 1
        case input = 2
        case geometry = 3
        case missing = 4
        case `internal` = 5

        /// The CLI's exit status for this kind (README, "Exit codes").
        var status: Int32 {
            switch self {
            case .usage: return 64
            case .input, .geometry: return 65
            case .missing: return 66
            case .internal: return 70
            }
        }
    }

    var kind: Kind
    var status: Int32
    var message: String

    init(_ kind: Kind, _ message: String, status: Int32? = nil) {
        self.kind = kind
        self.status = status ?? kind.status
        self.message = message
    }
}

/// What a call returns: the JSON document (and, for reports, the CLI's table text and the
/// engine's own seconds), or a failure.
enum CallOutcome {
    /// `text` is made only when the caller asks for it (`maskeval_result_text`); `notes`: the
    /// lines the CLI prints on stderr after the report (`RunNotes`), for `maskeval_result_notes`.
    case success(json: String, text: (() -> String)?, engineSeconds: Double, notes: [String] = [])
    case failure(CallFailure)
}

/// The options of one call, by the CLI's long option names, as the CLI parses them; messages
/// are the CLI's (`MetricOptions.validate`, `EngineOptions.validate`).
struct CallOptions {
    static let names: Set<String> = [
        "labels", "label-names", "compat", "tolerance", "percentile", "penalty-mm", "binary", "threads", "resample",
        "ignore-geometry", "geometry-tolerance", "max-voxels", "references", "predictions", "pairs",
        "case-problem",
    ]

    /// Where a batch's cases came from, recorded in its settings as the CLI does.
    var inputs: [String: String] {
        values.filter { ["references", "predictions", "pairs"].contains($0.key) }
    }

    enum Penalty {
        case mm(Double)
        case diagonal
    }

    var labels: String?
    var labelNames: String?
    var compat = "monai"
    var toleranceMM = 1.0
    var percentile = 95.0
    var penalty: Penalty?
    var binary = false
    var threads: Int?
    var resample = false
    var ignoreGeometry = false
    var geometryToleranceMM: Double?
    var maxVoxels: Int?

    /// Values as given to `maskeval_options_set`, unchecked.
    let values: [String: String]

    init(values: [String: String]) { self.values = values }

    /// Parses and checks every value; throws the CLI's message for the first bad one.
    func checked() throws(CallFailure) -> CallOptions {
        var out = self
        func number(_ name: String) throws(CallFailure) -> Double? {
            guard let text = values[name] else { return nil }
            guard let value = Double(text.trimmingCharacters(in: [" "])) else {
                throw CallFailure(.usage, "--\(name): '\(text)' is not a number")
            }
            return value
        }
        func integer(_ name: String) throws(CallFailure) -> Int? {
            guard let text = values[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: [" "])) else {
                throw CallFailure(.usage, "--\(name): '\(text)' is not an integer")
            }
            return value
        }
        func flag(_ name: String) throws(CallFailure) -> Bool {
            guard let text = values[name] else { return false }
            switch text.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no", "": return false
            default: throw CallFailure(.usage, "--\(name) takes true or false, not '\(text)'")
            }
        }
        out.labels = values["labels"]
        out.labelNames = values["label-names"]
        out.compat = values["compat"] ?? "monai"
        if let tolerance = try number("tolerance") { out.toleranceMM = tolerance }
        if let percentile = try number("percentile") { out.percentile = percentile }
        out.binary = try flag("binary")
        out.resample = try flag("resample")
        out.ignoreGeometry = try flag("ignore-geometry")
        out.geometryToleranceMM = try number("geometry-tolerance")
        out.threads = try integer("threads")
        out.maxVoxels = try integer("max-voxels")
        if let threads = out.threads, threads < 1 { throw CallFailure(.usage, "--threads must be at least 1") }
        if let maxVoxels = out.maxVoxels, maxVoxels < 1 {
            throw CallFailure(.usage, "--max-voxels must be at least 1")
        }
        guard out.toleranceMM >= 0, out.toleranceMM.isFinite else {
            throw CallFailure(.usage, "--tolerance must be a non-negative number of mm")
        }
        guard out.percentile > 0, out.percentile <= 100 else {
            throw CallFailure(.usage, "--percentile must be in (0, 100]")
        }
        if let tolerance = out.geometryToleranceMM, !(tolerance >= 0) {
            throw CallFailure(.usage, "--geometry-tolerance must be non-negative")
        }
        if out.resample && out.ignoreGeometry {
            throw CallFailure(.usage, "--resample and --ignore-geometry exclude each other")
        }
        if let text = values["penalty-mm"] {
            if text == "diagonal" {
                out.penalty = .diagonal
            } else if let value = Double(text), value >= 0, value.isFinite {
                out.penalty = .mm(value)
            } else {
                throw CallFailure(.usage, "--penalty-mm takes a non-negative number of mm or 'diagonal'")
            }
        }
        guard out.compat == "all" || Compat(rawValue: out.compat) != nil else {
            throw CallFailure(.usage, "--compat takes monai, medpy, deepmind, meshmetrics or all")
        }
        return out
    }
}

/// A caller's label array: first element, type code, rank, shape and strides in elements.
struct ArrayInput {
    var name: String
    var data: UnsafeRawPointer?
    var typeCode: Int32
    var rank: Int
    var shape: [Int]
    var strides: [Int]
}

/// Element types of label arrays are the NIfTI-1 `DT_*` codes of the library's `VoxelType`
/// (maskeval.h); this bit marks the other byte order.
extension VoxelType {
    static let byteSwappedFlag: Int32 = 0x10000

    /// The type of a maskeval.h type code, byte-order bit aside.
    init?(code: Int32) { self.init(rawValue: Int(code & ~Self.byteSwappedFlag)) }
}

/// One element type read from memory, in either byte order.
protocol LabelElement: Sendable {
    /// The value at `pointer` as an Int32 label, or nil when it is not an integral Int32.
    static func label(at pointer: UnsafeRawPointer, swapped: Bool) -> Int32?
    /// The value at `pointer`, for the error message.
    static func value(at pointer: UnsafeRawPointer, swapped: Bool) -> Double
}

extension LabelElement where Self: FixedWidthInteger {
    @inline(__always)
    static func load(_ pointer: UnsafeRawPointer, _ swapped: Bool) -> Self {
        let raw = pointer.loadUnaligned(as: Self.self)
        return swapped ? raw.byteSwapped : raw
    }
    @inline(__always)
    static func label(at pointer: UnsafeRawPointer, swapped: Bool) -> Int32? {
        Int32(exactly: load(pointer, swapped))
    }
    static func value(at pointer: UnsafeRawPointer, swapped: Bool) -> Double { Double(load(pointer, swapped)) }
}

extension UInt8: LabelElement {}
extension Int8: LabelElement {}
extension Int16: LabelElement {}
extension UInt16: LabelElement {}
extension Int32: LabelElement {}
extension UInt32: LabelElement {}
extension Int64: LabelElement {}
extension UInt64: LabelElement {}

extension Float: LabelElement {
    @inline(__always)
    static func load(_ pointer: UnsafeRawPointer, _ swapped: Bool) -> Float {
        let bits = pointer.loadUnaligned(as: UInt32.self)
        return Float(bitPattern: swapped ? bits.byteSwapped : bits)
    }
    @inline(__always)
    static func label(at pointer: UnsafeRawPointer, swapped: Bool) -> Int32? {
        Int32(exactly: Double(load(pointer, swapped)))
    }
    static func value(at pointer: UnsafeRawPointer, swapped: Bool) -> Double { Double(load(pointer, swapped)) }
}

extension Double: LabelElement {
    @inline(__always)
    static func load(_ pointer: UnsafeRawPointer, _ swapped: Bool) -> Double {
        let bits = pointer.loadUnaligned(as: UInt64.self)
        return Double(bitPattern: swapped ? bits.byteSwapped : bits)
    }
    @inline(__always)
    static func label(at pointer: UnsafeRawPointer, swapped: Bool) -> Int32? { Int32(exactly: load(pointer, swapped)) }
    static func value(at pointer: UnsafeRawPointer, swapped: Bool) -> Double { load(pointer, swapped) }
}

/// The first voxel (in NIfTI order, i fastest) that is not an integral Int32 label.
struct BadVoxel: Error {
    var i: Int
    var j: Int
    var k: Int
    var value: Double
}

/// A caller's labels copied into voxel order, in one of the label types the engine runs on.
enum LabelArray {
    case uint8([UInt8])
    case int8([Int8])
    case uint16([UInt16])
    case int16([Int16])
    case int32([Int32])

    /// The element types kept as they are (every value is a label).
    enum Kind {
        case uint8, int8, uint16, int16, int32

        init?(_ type: VoxelType) {
            switch type {
            case .uint8: self = .uint8
            case .int8: self = .int8
            case .uint16: self = .uint16
            case .int16: self = .int16
            case .int32: self = .int32
            default: return nil
            }
        }
    }

    /// Calls `body` with both arrays as buffers of one type: the same case, or both
    /// widened to Int32 (labels of two types are converted to Int32 from the start, so this
    /// widening is for completeness only).
    static func withBuffers<R>(_ a: LabelArray, _ b: LabelArray, _ body: (LabelBuffers) throws -> R) throws -> R {
        func pair<T>(_ x: [T], _ y: [T], _ make: (UnsafeBufferPointer<T>, UnsafeBufferPointer<T>) -> LabelBuffers)
            throws -> R
        {
            try x.withUnsafeBufferPointer { x in try y.withUnsafeBufferPointer { y in try body(make(x, y)) } }
        }
        switch (a, b) {
        case (.uint8(let x), .uint8(let y)): return try pair(x, y, LabelBuffers.uint8)
        case (.int8(let x), .int8(let y)): return try pair(x, y, LabelBuffers.int8)
        case (.uint16(let x), .uint16(let y)): return try pair(x, y, LabelBuffers.uint16)
        case (.int16(let x), .int16(let y)): return try pair(x, y, LabelBuffers.int16)
        default: return try pair(a.int32Labels, b.int32Labels, LabelBuffers.int32)
        }
    }

    var int32Labels: [Int32] {
        switch self {
        case .uint8(let values): return values.map { Int32($0) }
        case .int8(let values): return values.map { Int32($0) }
        case .uint16(let values): return values.map { Int32($0) }
        case .int16(let values): return values.map { Int32($0) }
        case .int32(let values): return values
        }
    }
}

/// Conversion of a strided array of any element type into labels in NIfTI voxel order
/// (index `i + nx * (j + ny * k)`), the order the engine reads.
enum ArrayLabels {
    /// Converts `dims` voxels whose element (i, j, k) lies `i*strides.0 + j*strides.1 +
    /// k*strides.2` elements from `base`, into the array's own type when `keepingType` and
    /// it is a `LabelArray.Kind`, else into Int32. Reads each element once: O(voxels).
    ///
    /// The memory is read in its own order: when i is not the axis of the smallest stride (a
    /// C-ordered array), 32 × 32 tiles of (i, that axis) are transposed so that both reads
    /// and writes stay in cache (AAL 181×217×181 uint8, C order: 187 ms of wrapper overhead
    /// before, see scripts/bench_python.py). Workers take disjoint slabs; a bad value is
    /// looked up afterwards in voxel order, so the error names the first one whatever the
    /// thread count.
    static func convert(
        _ base: UnsafeRawPointer, type: VoxelType, swapped: Bool, dims: (Int, Int, Int),
        strides: (Int, Int, Int), keepingType: Bool, threads: Int
    ) -> Result<LabelArray, BadVoxel> {
        if keepingType, let kind = LabelArray.Kind(type) {
            switch kind {
            case .uint8: return .success(.uint8(copy(base, UInt8.self, swapped, dims, strides, threads)))
            case .int8: return .success(.int8(copy(base, Int8.self, swapped, dims, strides, threads)))
            case .uint16: return .success(.uint16(copy(base, UInt16.self, swapped, dims, strides, threads)))
            case .int16: return .success(.int16(copy(base, Int16.self, swapped, dims, strides, threads)))
            case .int32: return .success(.int32(copy(base, Int32.self, swapped, dims, strides, threads)))
            }
        }
        let result: Result<[Int32], BadVoxel>
        switch type {
        case .uint8: result = convert(base, UInt8.self, Int32.self, swapped, dims, strides, threads)
        case .int8: result = convert(base, Int8.self, Int32.self, swapped, dims, strides, threads)
        case .int16: result = convert(base, Int16.self, Int32.self, swapped, dims, strides, threads)
        case .uint16: result = convert(base, UInt16.self, Int32.self, swapped, dims, strides, threads)
        case .int32: result = convert(base, Int32.self, Int32.self, swapped, dims, strides, threads)
        case .uint32: result = convert(base, UInt32.self, Int32.self, swapped, dims, strides, threads)
        case .int64: result = convert(base, Int64.self, Int32.self, swapped, dims, strides, threads)
        case .uint64: result = convert(base, UInt64.self, Int32.self, swapped, dims, strides, threads)
        case .float32: result = convert(base, Float.self, Int32.self, swapped, dims, strides, threads)
        case .float64: result = convert(base, Double.self, Int32.self, swapped, dims, strides, threads)
        }
        return result.map { .int32($0) }
    }

    private static let tile = 32

    /// A copy in the array's own type (every value is a label: nothing to check), in voxel
    /// order. When i is not the axis read fastest (a C-ordered array), blocks of 16 × 16 (i,
    /// the fastest axis) run through every value of the third axis, so that 16 input and 16
    /// output streams are each walked in order (cache lines and pages reused, prefetched);
    /// scalars only inside the loops. Workers take disjoint blocks of i.
    private static func copy<T: FixedWidthInteger>(
        _ base: UnsafeRawPointer, _: T.Type, _ swapped: Bool, _ dims: (Int, Int, Int), _ strides: (Int, Int, Int),
        _ threads: Int
    ) -> [T] {
        let (n0, n1, n2) = dims
        let count = n0 * n1 * n2
        let source = base.assumingMemoryBound(to: T.self)
        // The axis of j and k read faster pairs with i in the blocks; the other is the walk.
        let fastK = n2 > 1 && (n1 == 1 || abs(strides.2) < abs(strides.1))
        let (nFast, inFast, outFast) = fastK ? (n2, strides.2, n0 * n1) : (n1, strides.1, n0)
        let (nWalk, inWalk, outWalk) = fastK ? (n1, strides.1, n0) : (n2, strides.2, n0 * n1)
        let in0 = strides.0
        let rows = n0 == 1 || nFast == 1 || abs(in0) <= abs(inFast)
        let block = rows ? n0 : 16
        let blocks = (n0 + block - 1) / block
        let workers = max(1, min(threads, rows ? nWalk : blocks, count >> 16))
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            let pointers = UncheckedBox((source, out.baseAddress))
            let work: @Sendable (Int) -> Void = { worker in
                guard case (let source, let target?) = pointers.value else { return }
                if rows {
                    // i read fastest: whole rows, workers split the walk axis.
                    for w in (worker * nWalk / workers)..<((worker + 1) * nWalk / workers) {
                        for a in 0..<nFast {
                            let row = source + (w * inWalk + a * inFast)
                            let rowOut = target + (w * outWalk + a * outFast)
                            for i in 0..<n0 {
                                let value = row[i * in0]
                                rowOut[i] = swapped ? value.byteSwapped : value
                            }
                        }
                    }
                    return
                }
                for b in (worker * blocks / workers)..<((worker + 1) * blocks / workers) {
                    let (i0, i1) = (b * block, min(n0, (b + 1) * block))
                    var a0 = 0
                    while a0 < nFast {
                        let a1 = min(a0 + block, nFast)
                        for w in 0..<nWalk {
                            let walkIn = source + w * inWalk
                            let walkOut = target + w * outWalk
                            for a in a0..<a1 {
                                let row = walkIn + a * inFast
                                let rowOut = walkOut + a * outFast
                                for i in i0..<i1 {
                                    let value = row[i * in0]
                                    rowOut[i] = swapped ? value.byteSwapped : value
                                }
                            }
                        }
                        a0 = a1
                    }
                }
            }
            if workers == 1 {
                work(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: workers, execute: work)
            }
            initialized = count
        }
    }

    /// Into `Out`, which holds every label of `T` (the same type, or Int32).
    private static func convert<T: LabelElement, Out: LabelValue>(
        _ base: UnsafeRawPointer, _: T.Type, _: Out.Type, _ swapped: Bool, _ dims: (Int, Int, Int),
        _ strides: (Int, Int, Int), _ threads: Int
    ) -> Result<[Out], BadVoxel> {
        let size = MemoryLayout<T>.size
        let n = [dims.0, dims.1, dims.2]
        // Byte strides of the input and element strides of the output, per voxel axis.
        let input = [strides.0 * size, strides.1 * size, strides.2 * size]
        let output = [1, n[0], n[0] * n[1]]
        let count = n[0] * n[1] * n[2]
        // The axis read fastest: the smallest stride among the axes longer than 1.
        let fast = (0..<3).filter { n[$0] > 1 }.min { abs(input[$0]) < abs(input[$1]) } ?? 0
        // Slabs: i-rows (j, k) when i is fastest; otherwise the planes of the third axis.
        let slab = fast == 0 ? -1 : 3 - fast
        let slabs = fast == 0 ? n[1] * n[2] : n[slab]
        // Below ~64 K voxels one thread is faster than waking workers.
        let workers = max(1, min(threads, slabs, count >> 16))
        var failed = [Bool](repeating: false, count: workers)
        let labels = [Out](unsafeUninitializedCapacity: count) { out, initialized in
            failed.withUnsafeMutableBufferPointer { failedOut in
                let shared = UncheckedBox((out, failedOut, base))
                // Scalars, not arrays, inside the loops: no bounds checks per voxel (AAL
                // 181×217×181 uint8 pair, C order, scripts/bench_python.py: wrapper overhead
                // 83 ms with the arrays indexed per voxel).
                let (n0, n1) = (n[0], n[1])
                let (in0, in1, in2) = (input[0], input[1], input[2])
                let (nFast, inFast, outFast) = (n[fast], fast == 0 ? 0 : input[fast], output[fast])
                let (inSlab, outSlab) = slab < 0 ? (0, 0) : (input[slab], output[slab])
                let work: @Sendable (Int) -> Void = { worker in
                    let (out, failedOut, base) = shared.value
                    guard let target = out.baseAddress else { return }
                    let range = (worker * slabs / workers)..<((worker + 1) * slabs / workers)
                    var ok = true
                    if fast == 0 {
                        for row in range {
                            var source = base + ((row % n1) * in1 + (row / n1) * in2)
                            var destination = target + row * n0
                            for _ in 0..<n0 {
                                guard let label = T.label(at: source, swapped: swapped) else {
                                    ok = false
                                    break
                                }
                                destination.pointee = Out(truncatingIfNeeded: label)
                                source += in0
                                destination += 1
                            }
                            if !ok { break }
                        }
                    } else {
                        // Tiles of (i, fast) in each plane of the slab axis.
                        for plane in range {
                            let planeIn = base + plane * inSlab
                            let planeOut = target + plane * outSlab
                            var a0 = 0
                            while a0 < nFast && ok {
                                let a1 = min(a0 + tile, nFast)
                                var i0 = 0
                                while i0 < n0 && ok {
                                    let i1 = min(i0 + tile, n0)
                                    for i in i0..<i1 {
                                        var source = planeIn + (i * in0 + a0 * inFast)
                                        var destination = planeOut + (i + a0 * outFast)
                                        for _ in a0..<a1 {
                                            guard let label = T.label(at: source, swapped: swapped) else {
                                                ok = false
                                                break
                                            }
                                            destination.pointee = Out(truncatingIfNeeded: label)
                                            source += inFast
                                            destination += outFast
                                        }
                                        if !ok { break }
                                    }
                                    i0 = i1
                                }
                                a0 = a1
                            }
                            if !ok { break }
                        }
                    }
                    if !ok { failedOut[worker] = true }
                }
                if workers == 1 {
                    work(0)
                } else {
                    DispatchQueue.concurrentPerform(iterations: workers, execute: work)
                }
            }
            // A failed worker left elements unwritten: zero all (the labels are dropped).
            if failed.contains(true) {
                for index in 0..<count { out.initializeElement(at: index, to: 0) }
            }
            initialized = count
        }
        guard failed.contains(true) else { return .success(labels) }
        // The first bad voxel in voxel order (the error path; a plain scan).
        for k in 0..<n[2] {
            for j in 0..<n[1] {
                for i in 0..<n[0] {
                    let pointer = base + (i * input[0] + j * input[1] + k * input[2])
                    if T.label(at: pointer, swapped: swapped) == nil {
                        return .failure(BadVoxel(i: i, j: j, k: k, value: T.value(at: pointer, swapped: swapped)))
                    }
                }
            }
        }
        return .success(labels)  // unreachable: a worker failed on some voxel
    }
}

/// Pointers handed to concurrent workers that write disjoint parts of them.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
