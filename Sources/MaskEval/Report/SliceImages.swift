/// Slice images through one structure: the reference (green) and prediction (magenta)
/// contours over the label map or an intensity image, the voxel where the Hausdorff distance
/// is reached marked in yellow. Pixels are scaled by the spacing, so anisotropic volumes are
/// not stretched.
public struct SliceImages {
    public var reference: LabelVolume
    public var prediction: LabelVolume
    public var intensity: IntensityVolume?

    public init(reference: LabelVolume, prediction: LabelVolume, intensity: IntensityVolume?) {
        self.reference = reference
        self.prediction = prediction
        self.intensity = intensity
    }

    public enum Plane: Int, CaseIterable, Sendable {
        /// Fixed k: rows run along j, columns along i.
        case axial = 2
        /// Fixed j: rows along k (superior up), columns along i.
        case coronal = 1
        /// Fixed i: rows along k (superior up), columns along j.
        case sagittal = 0

        public var name: String { String(describing: self) }
    }

    /// The image of `plane` through `voxel`, cropped to the label's box plus `marginMM`, with
    /// the longer side about `size` pixels.
    public func render(
        label: Int32, plane: Plane, voxel: SIMD3<Int>, box: VoxelBox, marginMM: Double = 10, size: Int = 280
    )
        -> RGBImage
    {
        let grid = reference.grid
        let s = grid.spacingMM
        let spacing = [s.x, s.y, s.z]
        let dims = [grid.nx, grid.ny, grid.nz]
        // Image axes: u across (columns), v down (rows, flipped so k and j grow upwards).
        let (u, v) = plane == .axial ? (0, 1) : (plane == .coronal ? (0, 2) : (1, 2))
        let fixed = plane.rawValue
        let lower = [Int(box.lower.x), Int(box.lower.y), Int(box.lower.z)]
        let upper = [Int(box.upper.x), Int(box.upper.y), Int(box.upper.z)]
        func range(_ axis: Int) -> (Int, Int) {
            let margin = Int(min((marginMM / spacing[axis]).rounded(.up), Double(dims[axis])))
            return (max(0, lower[axis] - margin), min(dims[axis] - 1, upper[axis] + margin))
        }
        let (u0, u1) = range(u)
        let (v0, v1) = range(v)
        let widthMM = Double(u1 - u0 + 1) * spacing[u]
        let heightMM = Double(v1 - v0 + 1) * spacing[v]
        let pixelMM = max(widthMM, heightMM) / Double(size)
        let width = max(1, Int((widthMM / pixelMM).rounded()))
        let height = max(1, Int((heightMM / pixelMM).rounded()))
        // The source voxel of every pixel.
        // Offsets clamped in Double first: a huge ratio must not trap in the Int conversion.
        func steps(_ pixel: Int, _ axis: Int, _ limit: Int) -> Int {
            Int(min(Double(pixel) * pixelMM / spacing[axis], Double(limit)))
        }
        let columns = (0..<width).map { min(u1, u0 + steps($0, u, u1 - u0)) }
        let rows = (0..<height).map { max(v0, v1 - steps($0, v, v1 - v0)) }
        func index(_ a: Int, _ b: Int) -> Int {
            var p = [0, 0, 0]
            p[u] = a
            p[v] = b
            p[fixed] = voxel[fixed]
            return p[0] + grid.nx * (p[1] + grid.ny * p[2])
        }
        var gray = [UInt8](repeating: 0, count: width * height)
        if let intensity, intensity.grid.dims == grid.dims {
            var samples: [Float] = []
            for b in stride(from: v0, through: v1, by: 1) {
                for a in stride(from: u0, through: u1, by: 1) { samples.append(intensity.values[index(a, b)]) }
            }
            samples.sort()
            let lo = samples[samples.count / 100]
            let hi = samples[max(0, samples.count - 1 - samples.count / 100)]
            for y in 0..<height {
                for x in 0..<width {
                    let value = intensity.values[index(columns[x], rows[y])]
                    let t = hi > lo ? (value - lo) / (hi - lo) : 0.5
                    gray[y * width + x] = UInt8(max(0, min(255, t.isFinite ? t * 255 : 0)))
                }
            }
        } else {
            for y in 0..<height {
                for x in 0..<width {
                    let l = reference.labels[index(columns[x], rows[y])]
                    gray[y * width + x] = l == 0 ? 24 : (l == label ? 150 : UInt8(60 + Int(l &* 37 & 0x3F)))
                }
            }
        }
        var image = RGBImage(width: width, height: height)
        for i in 0..<(width * height) {
            image.pixels[i * 3] = gray[i]
            image.pixels[i * 3 + 1] = gray[i]
            image.pixels[i * 3 + 2] = gray[i]
        }
        func inside(_ volume: LabelVolume, _ x: Int, _ y: Int) -> Bool {
            guard x >= 0, y >= 0, x < width, y < height else { return false }
            return volume.labels[index(columns[x], rows[y])] == label
        }
        for y in 0..<height {
            for x in 0..<width {
                func edge(_ volume: LabelVolume) -> Bool {
                    inside(volume, x, y)
                        && (!inside(volume, x - 1, y) || !inside(volume, x + 1, y) || !inside(volume, x, y - 1)
                            || !inside(volume, x, y + 1))
                }
                let r = edge(reference)
                let p = edge(prediction)
                if r && p {
                    image[x, y] = (255, 255, 255)
                } else if r {
                    image[x, y] = (0, 220, 0)
                } else if p {
                    image[x, y] = (255, 0, 255)
                }
            }
        }
        // The Hausdorff voxel: a yellow ring at its pixel position.
        let cx = (Double(voxel[u] - u0) + 0.5) * spacing[u] / pixelMM
        let cy = (Double(v1 - voxel[v]) + 0.5) * spacing[v] / pixelMM
        for y in 0..<height {
            for x in 0..<width {
                let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
                if d >= 5 && d <= 7 { image[x, y] = (255, 220, 0) }
            }
        }
        return image
    }
}
