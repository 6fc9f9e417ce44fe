/// An inclusive voxel box; empty when any `lower` exceeds its `upper`.
public struct VoxelBox: Equatable, Sendable {
    public var lower: SIMD3<Int32>
    public var upper: SIMD3<Int32>

    public static let empty = VoxelBox(lower: SIMD3(repeating: .max), upper: SIMD3(repeating: .min))

    public init(lower: SIMD3<Int32>, upper: SIMD3<Int32>) {
        self.lower = lower
        self.upper = upper
    }

    public var isEmpty: Bool { any(lower .> upper) }

    /// The smallest box holding both.
    public func union(_ other: VoxelBox) -> VoxelBox {
        VoxelBox(lower: pointwiseMin(lower, other.lower), upper: pointwiseMax(upper, other.upper))
    }

    /// Voxels along each axis (0 when empty).
    public var size: SIMD3<Int> {
        isEmpty ? .zero : SIMD3(Int(upper.x - lower.x + 1), Int(upper.y - lower.y + 1), Int(upper.z - lower.z + 1))
    }
}

extension Grid {
    /// The voxel (i, j, k) of a linear index (i fastest).
    public func voxel(_ index: Int) -> SIMD3<Int> {
        SIMD3(index % nx, (index / nx) % ny, index / (nx * ny))
    }
}
