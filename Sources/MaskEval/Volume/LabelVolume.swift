/// The voxel grid of a volume: its size and voxel-to-world affine (mm).
public struct Grid: Equatable, Sendable {
    public var nx: Int
    public var ny: Int
    public var nz: Int
    public var affine: Affine

    public init(nx: Int, ny: Int, nz: Int, affine: Affine) {
        self.nx = nx
        self.ny = ny
        self.nz = nz
        self.affine = affine
    }

    public var voxelCount: Int { nx * ny * nz }
    public var dims: [Int] { [nx, ny, nz] }

    /// Spacing along i, j, k in mm (the affine's column norms).
    public var spacingMM: SIMD3<Double> {
        let norms = affine.columnNorms
        return SIMD3(norms.0, norms.1, norms.2)
    }

    /// The volume of one voxel in millilitres.
    public var voxelVolumeML: Double {
        let s = spacingMM
        return s.x * s.y * s.z / 1000
    }

    /// The axes of extent 1, which the surface metrics treat as absent: a single slice is a
    /// 2-D image, a single row a 1-D one. A 1×1×1 image keeps all three axes (a voxel with
    /// the image edge all round, as MONAI, MedPy and DeepMind see a 1×1×1 array): with
    /// none, its one voxel would have no neighbour outside it and no surface at all.
    var flatAxes: (x: Bool, y: Bool, z: Bool) {
        if nx == 1 && ny == 1 && nz == 1 { return (false, false, false) }
        return (nx == 1, ny == 1, nz == 1)
    }

    /// The distance in mm between the centres of the first and last voxel.
    public var diagonalMM: Double {
        let s = spacingMM
        let extent = SIMD3(Double(nx - 1), Double(ny - 1), Double(nz - 1)) * s
        return (extent * extent).sum().squareRoot()
    }
}

/// A 3-D label volume: integer labels in file order (i fastest), with the header it came
/// from. Label 0 is background. The labels are stored in the narrowest type that holds
/// them when read from a file (`LabelStorage`).
public struct LabelVolume: Sendable {
    public var path: String
    public var header: NIfTIHeader
    public var grid: Grid
    /// `grid.voxelCount` labels, index `i + nx * (j + ny * k)`.
    public var storage: LabelStorage {
        didSet { precondition(storage.count == grid.voxelCount, "label count must match the grid") }
    }

    public init(path: String, header: NIfTIHeader, grid: Grid, storage: LabelStorage) {
        precondition(storage.count == grid.voxelCount, "label count must match the grid")
        self.path = path
        self.header = header
        self.grid = grid
        self.storage = storage
    }

    /// A volume whose labels are stored as `Int32`, as given.
    public init(path: String, header: NIfTIHeader, grid: Grid, labels: [Int32]) {
        self.init(path: path, header: header, grid: grid, storage: .int32(labels))
    }

    /// A volume made in memory (tests, resampling): a NIfTI-1 header that carries `grid`.
    public init(grid: Grid, labels: [Int32], path: String = "<memory>") {
        self.init(grid: grid, storage: .int32(labels), path: path)
    }

    /// A volume made in memory with labels in `storage`.
    public init(grid: Grid, storage: LabelStorage, path: String = "<memory>") {
        self.init(path: path, header: NIfTIHeader.describing(grid: grid), grid: grid, storage: storage)
    }

    /// The labels as `Int32` (`LabelStorage.int32Labels`: a converted copy unless stored so;
    /// for cold code only).
    public var int32Labels: [Int32] { storage.int32Labels }
}

extension NIfTIHeader {
    /// A NIfTI-1 int32 header whose sform (and pixdim) carry `grid`.
    public static func describing(grid: Grid, datatype: VoxelType = .int32) -> NIfTIHeader {
        let spacing = grid.spacingMM
        let rows = grid.affine.rows
        return NIfTIHeader(
            dim: [3, grid.nx, grid.ny, grid.nz, 1, 1, 1, 1],
            pixdim: [1, spacing.x, spacing.y, spacing.z, 0, 0, 0, 0],
            datatype: datatype.rawValue, sformCode: 2,
            srowX: rows[0], srowY: rows[1], srowZ: rows[2])
    }
}
