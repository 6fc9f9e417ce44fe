/// A 4×4 voxel-to-world matrix in millimetres, row-major.
public struct Affine: Equatable, Sendable {
    public var values: [Double]

    public init(rows: [[Double]]) {
        precondition(rows.count == 4 && rows.allSatisfy { $0.count == 4 }, "an affine is 4×4")
        values = rows.flatMap { $0 }
    }

    public static func diagonal(_ x: Double, _ y: Double, _ z: Double) -> Affine {
        Affine(rows: [[x, 0, 0, 0], [0, y, 0, 0], [0, 0, z, 0], [0, 0, 0, 1]])
    }

    public subscript(row: Int, column: Int) -> Double {
        get { values[row * 4 + column] }
        set { values[row * 4 + column] = newValue }
    }

    public var rows: [[Double]] { (0..<4).map { Array(values[($0 * 4)..<($0 * 4 + 4)]) } }

    /// The world point (mm) of the centre of voxel (i, j, k).
    public func apply(_ i: Double, _ j: Double, _ k: Double) -> (Double, Double, Double) {
        (
            self[0, 0] * i + self[0, 1] * j + self[0, 2] * k + self[0, 3],
            self[1, 0] * i + self[1, 1] * j + self[1, 2] * k + self[1, 3],
            self[2, 0] * i + self[2, 1] * j + self[2, 2] * k + self[2, 3]
        )
    }

    /// The norms of the first three columns: the voxel spacing along i, j, k.
    public var columnNorms: (Double, Double, Double) {
        func norm(_ column: Int) -> Double {
            (0..<3).reduce(0) { $0 + self[$1, column] * self[$1, column] }.squareRoot()
        }
        return (norm(0), norm(1), norm(2))
    }

    /// The inverse (world to voxel), or nil when the 3×3 part is singular.
    public var inverse: Affine? {
        let a = self
        let det =
            a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1])
            - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
            + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0])
        guard det != 0, det.isFinite else { return nil }
        var m = [[Double]](repeating: [0, 0, 0, 0], count: 4)
        m[0][0] = (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]) / det
        m[0][1] = (a[0, 2] * a[2, 1] - a[0, 1] * a[2, 2]) / det
        m[0][2] = (a[0, 1] * a[1, 2] - a[0, 2] * a[1, 1]) / det
        m[1][0] = (a[1, 2] * a[2, 0] - a[1, 0] * a[2, 2]) / det
        m[1][1] = (a[0, 0] * a[2, 2] - a[0, 2] * a[2, 0]) / det
        m[1][2] = (a[0, 2] * a[1, 0] - a[0, 0] * a[1, 2]) / det
        m[2][0] = (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]) / det
        m[2][1] = (a[0, 1] * a[2, 0] - a[0, 0] * a[2, 1]) / det
        m[2][2] = (a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]) / det
        for row in 0..<3 {
            m[row][3] = -(m[row][0] * a[0, 3] + m[row][1] * a[1, 3] + m[row][2] * a[2, 3])
        }
        m[3] = [0, 0, 0, 1]
        return Affine(rows: m)
    }

    /// The orientation code in nibabel's convention: for each voxel axis, the world
    /// direction it points towards (an identity affine is "RAS", NIfTI world being RAS+).
    public var orientationCode: String {
        var used = Set<Int>()
        var code = ""
        // Greedy: give each voxel axis the world axis with the largest share of its
        // direction, largest shares first, so that a shear or small rotation still names
        // three distinct axes.
        var pairs: [(column: Int, row: Int, weight: Double)] = []
        for column in 0..<3 {
            let norm = max((0..<3).reduce(0) { $0 + self[$1, column] * self[$1, column] }, 1e-300)
            for row in 0..<3 { pairs.append((column, row, self[row, column] * self[row, column] / norm)) }
        }
        pairs.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.column < $1.column }
        var rowOf = [Int](repeating: -1, count: 3)
        for pair in pairs where rowOf[pair.column] < 0 && !used.contains(pair.row) {
            rowOf[pair.column] = pair.row
            used.insert(pair.row)
        }
        let positive: [Character] = ["R", "A", "S"]
        let negative: [Character] = ["L", "P", "I"]
        for column in 0..<3 {
            let row = rowOf[column]
            guard row >= 0 else {
                code.append("?")
                continue
            }
            code.append(self[row, column] >= 0 ? positive[row] : negative[row])
        }
        return code
    }
}
