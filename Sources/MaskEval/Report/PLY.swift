/// A structure's boundary surface for 3-D viewers: the voxel faces between the structure
/// and the rest (the faces that make its boundary voxels boundary voxels, METRICS.md), as
/// quads in world coordinates (mm, NIfTI RAS+), each vertex carrying the signed distance of
/// its voxel to the other mask's surface (the engine's distance from `LabelDetail`; positive
/// where the voxel lies outside the other mask, negative inside; +∞ for a missed or
/// spurious structure).
public struct SurfaceMesh: Sendable {
    /// x, y, z per vertex, world mm.
    public var vertices: [SIMD3<Float>]
    /// Four vertex indices per face, counter-clockwise seen from outside.
    public var faces: [SIMD4<UInt32>]
    /// distance_mm per vertex.
    public var distances: [Float]

    /// Which of a label's two masks.
    public enum Side: String, Sendable {
        case reference, prediction
    }

    /// The surface of `side`'s mask of `result.label`. `detail` gives the boundary voxels
    /// and their distances; the volumes give the faces and the signs. Faces along an image
    /// axis of extent 1 are left out, as the engine leaves out that axis.
    /// Cost: O(boundary voxels).
    public static func surface(
        of side: Side, label: Int32, detail: LabelDetail, reference: LabelVolume, prediction: LabelVolume
    ) -> SurfaceMesh {
        let grid = reference.grid
        let (own, other) = side == .reference ? (reference, prediction) : (prediction, reference)
        let indices = side == .reference ? detail.referenceBoundary : detail.predictionBoundary
        let distances =
            side == .reference ? detail.distances.referenceToPrediction : detail.distances.predictionToReference
        let flat = grid.flatAxes
        let flatAxis = [flat.x, flat.y, flat.z]
        let dims = grid.dims
        let strides = [1, grid.nx, grid.nx * grid.ny]
        let affine = grid.affine
        // A left-handed affine mirrors the faces: flip their winding to keep them outward.
        let a = affine
        let determinant =
            a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]) - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
            + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0])
        var mesh = SurfaceMesh(vertices: [], faces: [], distances: [])
        for (index, distance) in zip(indices, distances) {
            let voxel = grid.voxel(index)
            let signed = Float(other.storage.label(at: index) == label && distance > 0 ? -distance : distance)
            for axis in 0..<3 where !flatAxis[axis] {
                for step in [-1, 1] {
                    let neighbour = voxel[axis] + step
                    let exposed =
                        neighbour < 0 || neighbour >= dims[axis]
                        || own.storage.label(at: index + step * strides[axis]) != label
                    guard exposed else { continue }
                    // The face's corners: the other two axes at ±½, in the order that makes
                    // (u, v, axis) right-handed, reversed on the negative side.
                    let u = (axis + 1) % 3
                    let v = (axis + 2) % 3
                    var corners: [(Double, Double)] = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)]
                    if (step < 0) != (determinant < 0) { corners.reverse() }
                    let first = UInt32(mesh.vertices.count)
                    for (du, dv) in corners {
                        var p = SIMD3(Double(voxel.x), Double(voxel.y), Double(voxel.z))
                        p[axis] += 0.5 * Double(step)
                        p[u] += du
                        p[v] += dv
                        let world = affine.apply(p.x, p.y, p.z)
                        mesh.vertices.append(SIMD3(Float(world.0), Float(world.1), Float(world.2)))
                        mesh.distances.append(signed)
                    }
                    mesh.faces.append(SIMD4(first, first + 1, first + 2, first + 3))
                }
            }
        }
        return mesh
    }

    /// The mesh as a binary little-endian PLY file: `vertex` (float x, y, z, distance_mm)
    /// and `face` (uchar count, int indices) elements; `comment SPACE=RAS` tells 3D Slicer the
    /// coordinates are RAS (NIfTI world), not its default LPS.
    public func ply(comment: String = "") -> [UInt8] {
        var header = "ply\nformat binary_little_endian 1.0\ncomment SPACE=RAS\ncomment made by MaskEval"
        if !comment.isEmpty {
            header += "\ncomment " + comment.replacingOccurrences(of: "\n", with: " ")
        }
        header += "\nelement vertex \(vertices.count)\nproperty float x\nproperty float y\nproperty float z\n"
        header += "property float distance_mm\nelement face \(faces.count)\nproperty list uchar int vertex_indices\n"
        header += "end_header\n"
        var out = [UInt8](header.utf8)
        out.reserveCapacity(out.count + vertices.count * 16 + faces.count * 17)
        func append(_ value: UInt32) {
            out += [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
        }
        for (vertex, distance) in zip(vertices, distances) {
            append(vertex.x.bitPattern)
            append(vertex.y.bitPattern)
            append(vertex.z.bitPattern)
            append(distance.bitPattern)
        }
        for face in faces {
            out.append(4)
            append(face.x)
            append(face.y)
            append(face.z)
            append(face.w)
        }
        return out
    }

    /// A file name for a structure's surface: `<label>_<name>_<side>.ply`, the name reduced
    /// to letters, digits, `-` and `_`.
    public static func fileName(label: Int32, name: String, side: Side) -> String {
        let safe = String(
            name.unicodeScalars.map { c -> Character in
                c.value < 128
                    && (("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
                        || c == "-" || c == "_")
                    ? Character(c) : "_"
            })
        return safe.isEmpty ? "\(label)_\(side.rawValue).ply" : "\(label)_\(safe)_\(side.rawValue).ply"
    }
}
