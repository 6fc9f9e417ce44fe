import Foundation

/// The header fields MaskEval uses, under their NIfTI names and exactly as stored in the
/// file (nibabel's habit): nifticlib silently replaces a zero `pixdim` by 1, so the raw
/// values are read separately and geometry is derived here, never taken from the library.
public struct NIfTIHeader: Equatable, Sendable {
    /// 1 or 2 for NIfTI, 0 for an ANALYZE 7.5 header.
    public var niftiVersion: Int
    /// `dim[0]` is the number of dimensions, `dim[1...7]` their sizes.
    public var dim: [Int]
    public var pixdim: [Double]
    /// The NIfTI `DT_*` code.
    public var datatype: Int
    public var sclSlope: Double
    public var sclInter: Double
    public var qformCode: Int
    public var sformCode: Int
    public var quaternB: Double
    public var quaternC: Double
    public var quaternD: Double
    public var qoffsetX: Double
    public var qoffsetY: Double
    public var qoffsetZ: Double
    public var srowX: [Double]
    public var srowY: [Double]
    public var srowZ: [Double]
    public var xyzUnits: Int
    public var descrip: String

    public init(
        niftiVersion: Int = 1, dim: [Int], pixdim: [Double], datatype: Int,
        sclSlope: Double = 0, sclInter: Double = 0, qformCode: Int = 0, sformCode: Int = 0,
        quaternB: Double = 0, quaternC: Double = 0, quaternD: Double = 0,
        qoffsetX: Double = 0, qoffsetY: Double = 0, qoffsetZ: Double = 0,
        srowX: [Double] = [1, 0, 0, 0], srowY: [Double] = [0, 1, 0, 0],
        srowZ: [Double] = [0, 0, 1, 0], xyzUnits: Int = 2, descrip: String = ""
    ) {
        self.niftiVersion = niftiVersion
        self.dim = dim
        self.pixdim = pixdim
        self.datatype = datatype
        self.sclSlope = sclSlope
        self.sclInter = sclInter
        self.qformCode = qformCode
        self.sformCode = sformCode
        self.quaternB = quaternB
        self.quaternC = quaternC
        self.quaternD = quaternD
        self.qoffsetX = qoffsetX
        self.qoffsetY = qoffsetY
        self.qoffsetZ = qoffsetZ
        self.srowX = srowX
        self.srowY = srowY
        self.srowZ = srowZ
        self.xyzUnits = xyzUnits
        self.descrip = descrip
    }

    /// The voxel type named by `datatype`, or nil for a code MaskEval cannot read as labels.
    public var voxelType: VoxelType? { VoxelType(rawValue: datatype) }

    /// (nx, ny, nz): the spatial dimensions, 1 where `dim[0]` stops earlier.
    public var spatialDims: (Int, Int, Int) {
        func size(_ axis: Int) -> Int { dim[0] >= axis ? dim[axis] : 1 }
        return (size(1), size(2), size(3))
    }

    /// Millimetres per stored unit of `xyz_units` (metre 1000, micron 0.001); nil when the
    /// code is unknown or unset, in which case the file is taken as millimetres.
    public var millimetresPerUnit: Double? {
        switch xyzUnits & 0x07 {
        case 1: return 1000
        case 2: return 1
        case 3: return 0.001
        default: return nil
        }
    }

    /// Where the affine comes from: the sform when `sform_code > 0`, else the qform when
    /// `qform_code > 0`, else `diag(pixdim)` (METRICS.md, Geometry).
    public var affineSource: AffineSource {
        // ANALYZE 7.5 has no qform or sform: those bytes mean something else there.
        if niftiVersion == 0 { return .pixdim }
        if sformCode > 0 { return .sform }
        if qformCode > 0 { return .qform }
        return .pixdim
    }

    /// The voxel-to-world affine in millimetres (row-major 4×4).
    public var affine: Affine {
        let scale = millimetresPerUnit ?? 1
        var matrix: Affine
        switch affineSource {
        case .sform:
            matrix = Affine(rows: [srowX, srowY, srowZ, [0, 0, 0, 1]])
        case .qform:
            matrix = qformMatrix
        case .pixdim:
            matrix = Affine(rows: [
                [pixdim[1], 0, 0, 0], [0, pixdim[2], 0, 0], [0, 0, pixdim[3], 0], [0, 0, 0, 1],
            ])
        }
        for row in 0..<3 {
            for column in 0..<4 { matrix[row, column] *= scale }
        }
        return matrix
    }

    /// The qform built from the quaternion, `qoffset`, `pixdim[1...3]` and `qfac`
    /// (`pixdim[0]`; a value other than -1 counts as 1, as nibabel reads it), as in the
    /// NIfTI-1 standard.
    public var qformMatrix: Affine {
        let b = quaternB
        let c = quaternC
        let d = quaternD
        var a = 1 - (b * b + c * c + d * d)
        if a < 1e-7 {
            // The standard's rule: when the computed a is non-positive the quaternion is a
            // 180° rotation; renormalise (b, c, d) and take a = 0.
            let norm = 1 / (b * b + c * c + d * d).squareRoot()
            return Self.qform(a: 0, b: b * norm, c: c * norm, d: d * norm, header: self)
        }
        a = a.squareRoot()
        return Self.qform(a: a, b: b, c: c, d: d, header: self)
    }

    private static func qform(a: Double, b: Double, c: Double, d: Double, header: NIfTIHeader)
        -> Affine
    {
        let qfac = header.pixdim[0] == -1 ? -1.0 : 1.0
        let xd = header.pixdim[1]
        let yd = header.pixdim[2]
        let zd = header.pixdim[3] * qfac
        return Affine(rows: [
            [
                (a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd,
                2 * (b * d + a * c) * zd, header.qoffsetX,
            ],
            [
                2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd,
                2 * (c * d - a * b) * zd, header.qoffsetY,
            ],
            [
                2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd,
                (a * a + d * d - c * c - b * b) * zd, header.qoffsetZ,
            ],
            [0, 0, 0, 1],
        ])
    }

    /// Voxel spacing in mm: the column norms of the affine's 3×3 part.
    public var spacingMM: (Double, Double, Double) {
        affine.columnNorms
    }

    /// Problems of this header, as data: errors make the file unusable, warnings are
    /// printed by `maskeval info` and carried into reports.
    public var problems: [HeaderProblem] {
        var found: [HeaderProblem] = []
        let rank = dim[0]
        if rank < 1 || rank > 7 {
            found.append(.init(.error, "dim[0] is \(rank); it must be 1 to 7"))
            return found
        }
        for axis in 1...rank where dim[axis] < 1 {
            found.append(.init(.error, "dim[\(axis)] is \(dim[axis]); sizes must be positive"))
        }
        if rank > 3 {
            let extra = (4...rank).filter { dim[$0] > 1 }
            if !extra.isEmpty {
                let sizes = (1...rank).map { String(dim[$0]) }.joined(separator: "×")
                found.append(
                    .init(
                        .error,
                        "\(rank)-D volume \(sizes): only 3-D label volumes are supported "
                            + "(extra dimensions must have size 1)"))
            }
        }
        // Sizes past dim[0] are ignored, as the standard says; one above 1 there is a header
        // that disagrees with itself (dim[0] 2 with 20 slices: only the first one is read).
        let ignored = (rank + 1)..<min(dim.count, 8)
        if let axis = ignored.first(where: { dim[$0] > 1 }) {
            found.append(
                .init(
                    .warning,
                    "dim[\(axis)] is \(dim[axis]) but dim[0] is \(rank): sizes past dim[0] are ignored, so only a "
                        + "\(rank)-D part of the data is read"))
        }
        if voxelType == nil {
            found.append(
                .init(.error, "voxel type \(VoxelType.name(ofCode: datatype)) is not a label type"))
        }
        found += geometryProblems
        if affineSource == .pixdim && niftiVersion > 0 {
            found.append(.init(.warning, "qform_code and sform_code are 0: geometry taken from pixdim"))
        }
        if millimetresPerUnit == nil {
            found.append(.init(.warning, "spatial units unknown (xyz_units \(xyzUnits)): taken as mm"))
        }
        if let gap = qformSformGap, gap > Self.qformSformTolerance {
            found.append(
                .init(
                    .warning,
                    "qform and sform disagree by up to \(NumberFormat.compact(gap)) mm at a corner voxel: "
                        + "MaskEval uses the sform (as nibabel); tools that read the qform place this file elsewhere"))
        }
        if let labelScaling { found.append(.init(.warning, labelScaling)) }
        return found
    }

    /// What `scl_slope`/`scl_inter` do to the stored labels, when they change them (slope 0
    /// or not finite means no scaling, as in nibabel); nil otherwise. `info` warns with it,
    /// and `compare`, `batch` and `lesions` note it: a stored 0 can become a label.
    public var labelScaling: String? {
        guard sclSlope != 0 && sclSlope.isFinite && (sclSlope != 1 || sclInter != 0) else { return nil }
        let slope = NumberFormat.compact(sclSlope)
        let inter = NumberFormat.compact(sclInter)
        return "scl_slope \(slope) and scl_inter \(inter) scale the stored values, as NIfTI readers do: a stored v "
            + "is label \(slope)·v"
            + (sclInter == 0 ? "" : " + \(inter) (a stored 0, the background, is label \(inter))")
    }

    /// Largest corner-voxel distance between a qform and an sform still taken as the same
    /// placement (float32 storage of the quaternion and the rows differs by far less).
    static let qformSformTolerance = 0.01

    /// The largest distance in mm between the world points the qform and the sform give to
    /// the volume's 8 corner voxels, when both are set (codes > 0) and finite; else nil.
    var qformSformGap: Double? {
        guard niftiVersion > 0, qformCode > 0, sformCode > 0, dim.count > 3 else { return nil }
        let scale = millimetresPerUnit ?? 1
        let sform = affine
        let qform = qformMatrix
        var gap = 0.0
        for corner in 0..<8 {
            let i = corner & 1 == 0 ? 0 : Double(max(dim[1], 1) - 1)
            let j = corner & 2 == 0 ? 0 : Double(max(dim[2], 1) - 1)
            let k = corner & 4 == 0 ? 0 : Double(max(dim[3], 1) - 1)
            let a = sform.apply(i, j, k)
            let b = qform.apply(i, j, k)
            let d =
                ((a.0 - b.0 * scale) * (a.0 - b.0 * scale) + (a.1 - b.1 * scale) * (a.1 - b.1 * scale)
                + (a.2 - b.2 * scale) * (a.2 - b.2 * scale)).squareRoot()
            guard d.isFinite else { return nil }
            gap = max(gap, d)
        }
        return gap
    }

    /// Largest |cos| between two sform columns still taken as orthogonal (0.0057° from 90°):
    /// float32 rounding of a rotated sform gives about 1e-7.
    static let orthogonalityTolerance = 1e-4

    /// The geometry fields in use must be finite; the spacing positive and within 1 nm …
    /// 1 km after unit scaling; an sform regular (non-singular) and orthogonal, since every
    /// distance is computed on an orthogonal grid.
    private var geometryProblems: [HeaderProblem] {
        let fields: [(String, Double)]
        switch affineSource {
        case .sform:
            let rows = [("srow_x", srowX), ("srow_y", srowY), ("srow_z", srowZ)]
            fields = rows.flatMap { name, row in
                row.prefix(4).enumerated().map { ("\(name)[\($0.offset)]", $0.element) }
            }
        case .qform:
            fields = [
                ("quatern_b", quaternB), ("quatern_c", quaternC), ("quatern_d", quaternD),
                ("qoffset_x", qoffsetX), ("qoffset_y", qoffsetY), ("qoffset_z", qoffsetZ),
            ]
        case .pixdim:
            fields = []
        }
        if let (name, value) = fields.first(where: { !$0.1.isFinite }) {
            return [.init(.error, "\(name) is \(value); every \(affineSource.rawValue) field must be finite")]
        }
        var found: [HeaderProblem] = []
        let scale = millimetresPerUnit ?? 1
        let spacing = spacingMM
        for (axis, norm) in [spacing.0, spacing.1, spacing.2].enumerated() {
            // Through the qform or pixdim the spacing is pixdim itself, whose sign matters
            // (a negative value is invalid, not a flip); through the sform it is a column norm.
            let usesPixdim = affineSource != .sform
            let value = usesPixdim ? pixdim[axis + 1] * scale : norm
            // Positive and finite; and within 1 nm … 1 km, so that no later arithmetic on
            // the spacing overflows (random bytes read as a header give spacings like 1e-22).
            guard !(value.isFinite && value >= 1e-6 && value <= 1e6) else { continue }
            let name = ["i", "j", "k"][axis]
            var source = usesPixdim ? "pixdim[\(axis + 1)]" : "sform column \(axis + 1) norm"
            // As stored when unscaled ("0.0"); scaled values in short form (float32 noise).
            let shown = scale == 1 ? "\(value)" : NumberFormat.compact(value)
            if scale != 1 && usesPixdim {
                source += " \(NumberFormat.compact(pixdim[axis + 1])) × \(NumberFormat.compact(scale))"
            }
            found.append(
                .init(
                    .error,
                    "voxel spacing along \(name) is \(shown) mm (\(source)); "
                        + "it must be positive (1e-6 to 1e6 mm)"))
        }
        if found.isEmpty && affineSource == .sform {
            found += sformShape
        }
        return found
    }

    /// A singular or sheared sform, as a problem.
    private var sformShape: [HeaderProblem] {
        let m = affine
        let columns = (0..<3).map { c in SIMD3(m[0, c], m[1, c], m[2, c]) }
        let norms = columns.map { ($0 * $0).sum().squareRoot() }
        let a = columns[0]
        let b = columns[1]
        let c = columns[2]
        let cross = SIMD3(b.y * c.z - b.z * c.y, b.z * c.x - b.x * c.z, b.x * c.y - b.y * c.x)
        let determinant = (a * cross).sum()
        if !(abs(determinant) > 1e-9 * norms[0] * norms[1] * norms[2]) {
            return [.init(.error, "sform is singular (its voxel axes do not span 3-D space)")]
        }
        for (first, second) in [(0, 1), (0, 2), (1, 2)] {
            let cosine = (columns[first] * columns[second]).sum() / (norms[first] * norms[second])
            guard abs(cosine) > Self.orthogonalityTolerance else { continue }
            let degrees = acos(max(-1, min(1, cosine))) * 180 / .pi
            let names = ["i", "j", "k"]
            let angle = String(format: "%.2f", degrees).replacingOccurrences(
                of: "\\.?0+$", with: "", options: .regularExpression)
            return [
                .init(
                    .error,
                    "sform is not orthogonal (angle \(names[first])-\(names[second]) \(angle)°): "
                        + "resample onto an orthogonal grid first")
            ]
        }
        return []
    }
}

/// Where an affine came from.
public enum AffineSource: String, Sendable {
    case sform, qform, pixdim
}

/// One problem of a header; `error` makes the volume unusable.
public struct HeaderProblem: Equatable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable { case warning, error }
    public let severity: Severity
    public let message: String
    public init(_ severity: Severity, _ message: String) {
        self.severity = severity
        self.message = message
    }
    public var description: String { "\(severity.rawValue): \(message)" }
}

/// The voxel types MaskEval reads as labels, by NIfTI `DT_*` code.
public enum VoxelType: Int, CaseIterable, Sendable {
    case uint8 = 2
    case int16 = 4
    case int32 = 8
    case float32 = 16
    case float64 = 64
    case int8 = 256
    case uint16 = 512
    case uint32 = 768
    case int64 = 1024
    case uint64 = 1280

    public var name: String { String(describing: self) }

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// Bytes per voxel.
    public var byteCount: Int { visit(ByteCount()) }

    /// The one dispatch over voxel types: runs `visitor` with the Swift type that stores
    /// voxels of this type, so every loop over voxels is generic and specialised once.
    func visit<V: VoxelVisitor>(_ visitor: V) -> V.Output {
        switch self {
        case .uint8: return visitor.visit(UInt8.self)
        case .int8: return visitor.visit(Int8.self)
        case .int16: return visitor.visit(Int16.self)
        case .uint16: return visitor.visit(UInt16.self)
        case .int32: return visitor.visit(Int32.self)
        case .uint32: return visitor.visit(UInt32.self)
        case .int64: return visitor.visit(Int64.self)
        case .uint64: return visitor.visit(UInt64.self)
        case .float32: return visitor.visit(Float.self)
        case .float64: return visitor.visit(Double.self)
        }
    }

    private struct ByteCount: VoxelVisitor {
        func visit<T: StoredVoxel>(_: T.Type) -> Int { MemoryLayout<T>.size }
    }

    /// A readable name for any `DT_*` code, including the ones MaskEval refuses.
    public static func name(ofCode code: Int) -> String {
        if let known = VoxelType(rawValue: code) { return known.name }
        let others: [Int: String] = [
            0: "unknown (0)", 1: "binary", 32: "complex64", 128: "rgb24", 1536: "float128",
            1792: "complex128", 2048: "complex256", 2304: "rgba32",
        ]
        return others[code] ?? "code \(code)"
    }
}

/// Work done on voxels of any stored type: `VoxelType.visit` calls `visit` with the type.
protocol VoxelVisitor {
    associatedtype Output
    func visit<T: StoredVoxel>(_ type: T.Type) -> Output
}

/// A Swift type that stores voxels of one `VoxelType`.
protocol StoredVoxel {
    /// The value as a Double (exact except 64-bit integers beyond 2^53).
    var doubleValue: Double { get }
    /// The value as an Int32 label when it is exactly one.
    var exactLabel: Int32? { get }
    /// `value` in this type, as Swift's conversion gives it (the caller keeps it in range).
    init(storing value: Double)
    /// The value with its bytes reversed (from the other byte order).
    var byteSwapped: Self { get }
}

extension StoredVoxel where Self: FixedWidthInteger {
    @inline(__always) var doubleValue: Double { Double(self) }
    @inline(__always) var exactLabel: Int32? { Int32(exactly: self) }
    init(storing value: Double) { self.init(value) }
}

extension UInt8: StoredVoxel {}
extension Int8: StoredVoxel {}
extension Int16: StoredVoxel {}
extension UInt16: StoredVoxel {}
extension Int32: StoredVoxel {}
extension UInt32: StoredVoxel {}
extension Int64: StoredVoxel {}
extension UInt64: StoredVoxel {}

extension Float: StoredVoxel {
    @inline(__always) var doubleValue: Double { Double(self) }
    @inline(__always) var exactLabel: Int32? { Int32(exactly: Double(self)) }
    init(storing value: Double) { self.init(value) }
    var byteSwapped: Float { Float(bitPattern: bitPattern.byteSwapped) }
}

extension Double: StoredVoxel {
    @inline(__always) var doubleValue: Double { self }
    @inline(__always) var exactLabel: Int32? { Int32(exactly: self) }
    init(storing value: Double) { self = value }
    var byteSwapped: Double { Double(bitPattern: bitPattern.byteSwapped) }
}
