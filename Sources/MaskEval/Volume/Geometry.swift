import Foundation

/// A prediction whose grid differs from the reference's (exit 65).
public struct GeometryError: MaskEvalFailure, Equatable {
    public let path: String
    public let problem: String
    /// Whether the message names `--resample` and `--ignore-geometry` (a mismatch), or not
    /// (a grid that cannot be resampled at all).
    public let suggestsWaysOut: Bool
    public init(path: String, problem: String, suggestsWaysOut: Bool = true) {
        self.path = path
        self.problem = problem
        self.suggestsWaysOut = suggestsWaysOut
    }
    public var exitStatus: ExitStatus { .dataError }
    public var description: String {
        guard suggestsWaysOut else { return "\(path): \(problem)" }
        return "\(path): \(problem) (use --resample to resample it onto the reference grid, "
            + "or --ignore-geometry to compare the arrays as they are)"
    }
}

/// The reference's geometry is the authority (METRICS.md): a prediction must have the same
/// dims, and each corner voxel centre must map to the same world point within a tolerance.
public enum GeometryCheck {
    public static let defaultToleranceMM = 1e-3

    /// Throws a `GeometryError` naming the first field that differs and by how much.
    public static func check(reference: Grid, prediction: Grid, predictionPath: String, toleranceMM: Double) throws {
        if reference.dims != prediction.dims {
            let r = reference.dims.map(String.init).joined(separator: "×")
            let p = prediction.dims.map(String.init).joined(separator: "×")
            throw GeometryError(path: predictionPath, problem: "dims \(p) differ from the reference's \(r)")
        }
        let (distance, corner) = largestCornerDistance(reference, prediction)
        guard distance > toleranceMM else { return }
        let r = reference.affine
        let p = prediction.affine
        let originShift = (0..<3).map { p[$0, 3] - r[$0, 3] }
        let spacingR = reference.spacingMM
        let spacingP = prediction.spacingMM
        let what: String
        let spacingDiff = spacingR - spacingP
        if max(abs(spacingDiff.x), abs(spacingDiff.y), abs(spacingDiff.z)) > 1e-9 {
            let (shown, authority) = NumberFormat.distinguishing(
                [spacingP.x, spacingP.y, spacingP.z], [spacingR.x, spacingR.y, spacingR.z])
            what = "spacing \(shown) mm differs from the reference's \(authority) mm"
        } else if (0..<3).allSatisfy({ row in (0..<3).allSatisfy { abs(p[row, $0] - r[row, $0]) <= 1e-9 } }) {
            let shift = originShift.map { $0 * $0 }.reduce(0, +).squareRoot()
            what = "origin is shifted by \(NumberFormat.compact(shift)) mm from the reference's"
        } else if p.orientationCode != r.orientationCode {
            what = "orientation (affine \(p.orientationCode) vs the reference's \(r.orientationCode)) differs"
        } else {
            // The same nearest axes: name the axis turned furthest and by how much.
            let angles = (0..<3).map { column -> Double in
                let a = SIMD3(p[0, column], p[1, column], p[2, column])
                let b = SIMD3(r[0, column], r[1, column], r[2, column])
                let cosine = (a * b).sum() / ((a * a).sum() * (b * b).sum()).squareRoot()
                return acos(max(-1, min(1, cosine))) * 180 / .pi
            }
            let axis = angles.indices.max { angles[$0] < angles[$1] } ?? 0
            let degrees = NumberFormat.compact(angles[axis], digits: 3)
            what =
                "orientation differs (axis \(["i", "j", "k"][axis]) is turned by \(degrees)° from the reference's; "
                + "both nearest \(p.orientationCode))"
        }
        let (away, tolerance) = NumberFormat.distinguishing([distance], [toleranceMM])
        throw GeometryError(
            path: predictionPath,
            problem: what + "; corner voxel \(corner) is \(away) mm away (tolerance \(tolerance) mm)")
    }

    static func largestCornerDistance(_ a: Grid, _ b: Grid) -> (Double, String) {
        var worst = 0.0
        var worstCorner = "(0, 0, 0)"
        for ci in [0, a.nx - 1] {
            for cj in [0, a.ny - 1] {
                for ck in [0, a.nz - 1] {
                    let pa = a.affine.apply(Double(ci), Double(cj), Double(ck))
                    let pb = b.affine.apply(Double(ci), Double(cj), Double(ck))
                    let d =
                        ((pa.0 - pb.0) * (pa.0 - pb.0) + (pa.1 - pb.1) * (pa.1 - pb.1) + (pa.2 - pb.2) * (pa.2 - pb.2))
                        .squareRoot()
                    if d > worst {
                        worst = d
                        worstCorner = "(\(ci), \(cj), \(ck))"
                    }
                }
            }
        }
        return (worst, worstCorner)
    }
}

public enum Resample {
    /// Nearest-neighbour resampling of `volume` onto `target` through both affines: each
    /// target voxel centre is mapped to world space and into `volume`'s voxel space, and
    /// takes the label of the nearest voxel (0 outside). Parallel over slices.
    public static func nearest(_ volume: LabelVolume, onto target: Grid, threads: Int) throws -> LabelVolume {
        guard let inverse = volume.grid.affine.inverse else {
            throw GeometryError(
                path: volume.path, problem: "affine is singular; cannot resample", suggestsWaysOut: false)
        }
        // M maps target voxel indices to source voxel indices.
        var m = [[Double]](repeating: [0, 0, 0, 0], count: 3)
        for row in 0..<3 {
            for column in 0..<4 {
                var value = 0.0
                for inner in 0..<4 { value += inverse[row, inner] * target.affine[inner, column] }
                m[row][column] = value
            }
        }
        let storage = volume.storage.withBuffer(Nearest(source: volume.grid, target: target, m: m, threads: threads))
        var header = NIfTIHeader.describing(grid: target)
        header.descrip = "resampled"
        return LabelVolume(path: volume.path, header: header, grid: target, storage: storage)
    }

    /// The resampled labels, in the source's storage type.
    private struct Nearest: LabelBufferVisitor {
        let source: Grid
        let target: Grid
        /// Target voxel indices → source voxel indices.
        let m: [[Double]]
        let threads: Int

        func visit<T: LabelValue>(_ input: UnsafeBufferPointer<T>) -> LabelStorage {
            var out = [T](repeating: 0, count: target.voxelCount)
            let (source, target, m) = (source, target, m)
            out.withUnsafeMutableBufferPointer { output in
                let shared = UncheckedSendable((input, output))
                parallelFor(target.nz, threads: threads) { k in
                    let (input, output) = shared.value
                    for j in 0..<target.ny {
                        for i in 0..<target.nx {
                            let (x, y, z) = (Double(i), Double(j), Double(k))
                            let si = (m[0][0] * x + m[0][1] * y + m[0][2] * z + m[0][3]).rounded()
                            let sj = (m[1][0] * x + m[1][1] * y + m[1][2] * z + m[1][3]).rounded()
                            let sk = (m[2][0] * x + m[2][1] * y + m[2][2] * z + m[2][3]).rounded()
                            guard si >= 0, sj >= 0, sk >= 0, si < Double(source.nx), sj < Double(source.ny),
                                sk < Double(source.nz)
                            else { continue }
                            output[i + target.nx * (j + target.ny * k)] =
                                input[Int(si) + source.nx * (Int(sj) + source.ny * Int(sk))]
                        }
                    }
                }
            }
            return LabelStorage(out)
        }
    }
}
