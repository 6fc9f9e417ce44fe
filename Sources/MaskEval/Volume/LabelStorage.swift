/// An integer type the engine's hot passes (census, boundaries, crops) run on, specialised
/// per type: the label storage types, and the narrow signed types a caller's array may
/// hold (the C interface hands int8/int16 arrays over without a copy).
public protocol LabelValue: FixedWidthInteger, SIMDScalar, Codable, Sendable {}

extension UInt8: LabelValue {}
extension UInt16: LabelValue {}
extension Int32: LabelValue {}
extension Int8: LabelValue {}
extension Int16: LabelValue {}

/// The labels of a volume in the narrowest type that holds them: 1 byte per voxel for most
/// atlases and organ maps, 2 for label ids up to 65 535, 4 otherwise. A volume's bytes per
/// voxel drive the memory peak and the census and boundary passes (CT-sized pair, 105 M
/// voxels: 4 bytes per voxel took the peak RSS to ~1 GB).
///
/// Hot code reads the values through `withBuffer` or `LabelStorage.withBuffers` (a
/// visitor with a generic method, specialised per type); cold code may use `int32Labels`
/// (a converted copy) or `label(at:)`.
public enum LabelStorage: Sendable, Equatable {
    case uint8([UInt8])
    case uint16([UInt16])
    case int32([Int32])

    /// The storage type, narrowest first.
    public enum Kind: Int, Sendable, Comparable, CaseIterable {
        case uint8, uint16, int32

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }

        /// The narrowest kind that holds every value from `low` to `high`.
        public static func holding(low: Int64, high: Int64) -> Kind {
            if low >= 0 && high <= Int64(UInt8.max) { return .uint8 }
            if low >= 0 && high <= Int64(UInt16.max) { return .uint16 }
            return .int32
        }
    }

    public var kind: Kind {
        switch self {
        case .uint8: return .uint8
        case .uint16: return .uint16
        case .int32: return .int32
        }
    }

    /// The narrowest storage for `labels` (one pass for the range, one to narrow).
    public init(narrowing labels: [Int32]) {
        var low = Int32.max
        var high = Int32.min
        for value in labels {
            low = min(low, value)
            high = max(high, value)
        }
        self =
            labels.isEmpty ? .uint8([]) : Self.int32(labels).converted(to: .holding(low: Int64(low), high: Int64(high)))
    }

    /// `values` as they are when `T` is a storage type (no copy), else widened to `Int32`.
    public init<T: LabelValue>(_ values: [T]) {
        if T.self == UInt8.self {
            self = .uint8(unsafeBitCast(values, to: [UInt8].self))
        } else if T.self == UInt16.self {
            self = .uint16(unsafeBitCast(values, to: [UInt16].self))
        } else if T.self == Int32.self {
            self = .int32(unsafeBitCast(values, to: [Int32].self))
        } else {
            self = .int32(values.map { Int32(truncatingIfNeeded: $0) })
        }
    }

    /// `count` zeros in the narrowest storage.
    public static func zeros(count: Int) -> LabelStorage { .uint8([UInt8](repeating: 0, count: count)) }

    public var count: Int {
        switch self {
        case .uint8(let values): return values.count
        case .uint16(let values): return values.count
        case .int32(let values): return values.count
        }
    }

    /// The labels as `Int32`: a converted copy (O(voxels)) unless they are stored so. For
    /// cold code only (reports, lesion tools); hot passes read `withBuffer`.
    public var int32Labels: [Int32] {
        switch self {
        case .uint8(let values): return values.map { Int32($0) }
        case .uint16(let values): return values.map { Int32($0) }
        case .int32(let values): return values
        }
    }

    /// One label (O(1), a switch per call: not for voxel loops).
    public func label(at index: Int) -> Int32 {
        switch self {
        case .uint8(let values): return Int32(values[index])
        case .uint16(let values): return Int32(values[index])
        case .int32(let values): return values[index]
        }
    }

    /// Whether any voxel holds `label`.
    public func contains(_ label: Int32) -> Bool {
        switch self {
        case .uint8(let values): return UInt8(exactly: label).map(values.contains) ?? false
        case .uint16(let values): return UInt16(exactly: label).map(values.contains) ?? false
        case .int32(let values): return values.contains(label)
        }
    }

    /// 1 for every non-zero label, 0 elsewhere (`--binary`), one byte per voxel; voxels of
    /// `background` (an ignore label) become 0 too.
    public func binarized(background: Int32 = 0) -> LabelStorage {
        withBuffer(Binarize(background: background))
    }

    /// The same values in storage of `kind`, which must hold them all (values that do not
    /// fit are a programmer error: they would be truncated). No copy when already `kind`.
    public func converted(to kind: Kind) -> LabelStorage {
        if kind == self.kind { return self }
        return withBuffer(Convert(kind: kind))
    }

    /// Calls `visitor` with the labels as a buffer of their stored type.
    public func withBuffer<V: LabelBufferVisitor>(_ visitor: V) -> V.Output {
        switch self {
        case .uint8(let values): return values.withUnsafeBufferPointer { visitor.visit($0) }
        case .uint16(let values): return values.withUnsafeBufferPointer { visitor.visit($0) }
        case .int32(let values): return values.withUnsafeBufferPointer { visitor.visit($0) }
        }
    }

    /// Calls `visitor` with both volumes' labels as buffers of one type, the wider of
    /// their two (the narrower one is widened into a temporary copy), so that hot code is
    /// specialised for one type per pair.
    public static func withBuffers<V: LabelPairVisitor>(
        _ reference: LabelStorage, _ prediction: LabelStorage, _ visitor: V
    ) -> V.Output {
        let kind = max(reference.kind, prediction.kind)
        let (r, p) = (reference.converted(to: kind), prediction.converted(to: kind))
        switch (r, p) {
        case (.uint8(let a), .uint8(let b)): return pair(a, b, visitor)
        case (.uint16(let a), .uint16(let b)): return pair(a, b, visitor)
        case (.int32(let a), .int32(let b)): return pair(a, b, visitor)
        default: preconditionFailure("both volumes were converted to \(kind)")
        }
    }

    private static func pair<T: LabelValue, V: LabelPairVisitor>(_ a: [T], _ b: [T], _ visitor: V) -> V.Output {
        a.withUnsafeBufferPointer { ref in b.withUnsafeBufferPointer { pred in visitor.visit(ref, pred) } }
    }

    private struct Binarize: LabelBufferVisitor {
        let background: Int32
        func visit<T: LabelValue>(_ values: UnsafeBufferPointer<T>) -> LabelStorage {
            // A background value the type cannot hold matches no voxel: 0 stands in for it.
            let other = T(exactly: background) ?? 0
            return .uint8(values.map { $0 == 0 || $0 == other ? 0 : 1 })
        }
    }

    private struct Convert: LabelBufferVisitor {
        let kind: Kind
        func visit<T: LabelValue>(_ values: UnsafeBufferPointer<T>) -> LabelStorage {
            switch kind {
            case .uint8: return .uint8(values.map { UInt8(truncatingIfNeeded: $0) })
            case .uint16: return .uint16(values.map { UInt16(truncatingIfNeeded: $0) })
            case .int32: return .int32(values.map { Int32(truncatingIfNeeded: $0) })
            }
        }
    }
}

/// Work on one volume's labels, specialised per storage type (`LabelStorage.withBuffer`).
public protocol LabelBufferVisitor {
    associatedtype Output
    func visit<T: LabelValue>(_ labels: UnsafeBufferPointer<T>) -> Output
}

/// Work on a pair of volumes' labels of one type (`LabelStorage.withBuffers`).
public protocol LabelPairVisitor {
    associatedtype Output
    func visit<T: LabelValue>(_ reference: UnsafeBufferPointer<T>, _ prediction: UnsafeBufferPointer<T>) -> Output
}

/// Two volumes' labels as buffers of one type in voxel order (i fastest), such as a
/// caller's arrays handed over without a copy (`Evaluator.evaluate(_:grid:settings:)`).
public enum LabelBuffers {
    case uint8(UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>)
    case int8(UnsafeBufferPointer<Int8>, UnsafeBufferPointer<Int8>)
    case uint16(UnsafeBufferPointer<UInt16>, UnsafeBufferPointer<UInt16>)
    case int16(UnsafeBufferPointer<Int16>, UnsafeBufferPointer<Int16>)
    case int32(UnsafeBufferPointer<Int32>, UnsafeBufferPointer<Int32>)

    /// Calls `visitor` with the two buffers.
    public func visit<V: LabelPairVisitor>(_ visitor: V) -> V.Output {
        switch self {
        case .uint8(let r, let p): return visitor.visit(r, p)
        case .int8(let r, let p): return visitor.visit(r, p)
        case .uint16(let r, let p): return visitor.visit(r, p)
        case .int16(let r, let p): return visitor.visit(r, p)
        case .int32(let r, let p): return visitor.visit(r, p)
        }
    }
}
