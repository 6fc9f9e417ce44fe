/// Which side of the patient is drawn on the screen's left in axial and coronal slices.
public enum DisplayConvention: String, Sendable, CaseIterable {
    /// The patient's right on the screen's left (as a radiologist reads a CT): the default.
    case radiological
    /// The patient's left on the screen's left.
    case neurological
}

/// One grey-level window for a whole report, so that every panel has the same contrast.
public struct IntensityWindow: Equatable, Sendable {
    public var width: Double
    public var level: Double

    public init(width: Double, level: Double) {
        self.width = width
        self.level = level
    }

    /// The soft-tissue CT window (W 400 / L 40 HU).
    public static let softTissue = IntensityWindow(width: 400, level: 40)

    /// Parses `W,L` (`--window 400,40`); nil when it is not two numbers with W > 0.
    public init?(text: String) {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let width = parts[0], let level = parts[1], width > 0, width.isFinite,
            level.isFinite
        else { return nil }
        self.init(width: width, level: level)
    }

    /// The window for an image: soft tissue when it looks like CT (its 1st percentile between
    /// −3100 and −500: air, or the scanner's padding, in Hounsfield units; MR and PET images
    /// have no such values), else its 1st to 99th percentile. Sampled on at most ~1 M voxels,
    /// in a fixed stride.
    public static func automatic(for values: [Float]) -> IntensityWindow {
        let stride = max(1, values.count / 1_000_000)
        var samples: [Float] = []
        samples.reserveCapacity(values.count / stride + 1)
        for index in Swift.stride(from: 0, to: values.count, by: stride) where values[index].isFinite {
            samples.append(values[index])
        }
        guard !samples.isEmpty else { return IntensityWindow(width: 1, level: 0) }
        samples.sort()
        let low = Double(samples[samples.count / 100])
        let high = Double(samples[max(0, samples.count - 1 - samples.count / 100)])
        if low <= -500 && low >= -3100 { return .softTissue }
        return IntensityWindow(width: max(high - low, 1e-6), level: (high + low) / 2)
    }

    /// The grey level (0–255) of a value.
    @inline(__always) func grey(_ value: Float) -> UInt8 {
        let t = (Double(value) - (level - width / 2)) / width
        return t.isFinite ? UInt8(max(0, min(255, (t * 255).rounded()))) : 0
    }

    public var description: String { "W \(Format.compact(width)) / L \(Format.compact(level))" }
}

/// How the voxel axes of a grid lie in the patient: for each world axis (0 R–L, 1 A–P,
/// 2 S–I, NIfTI world being RAS+) the voxel axis closest to it (`Affine.orientationCode`),
/// and whether that voxel axis points towards +world. An oblique affine is shown along the
/// canonical axes closest to its own.
public struct DisplayFrame: Equatable, Sendable {
    /// voxelAxis[w]: the voxel axis (0 i, 1 j, 2 k) along world axis w.
    public var voxelAxis: [Int]
    /// towardsPositive[w]: whether that voxel axis's index grows towards R, A or S.
    public var towardsPositive: [Bool]

    public init(affine: Affine) {
        let code = Array(affine.orientationCode)
        var voxelAxis = [0, 1, 2]
        var positive = [true, true, true]
        let letters: [(Character, Int, Bool)] = [
            ("R", 0, true), ("L", 0, false), ("A", 1, true), ("P", 1, false), ("S", 2, true), ("I", 2, false),
        ]
        var seen = Set<Int>()
        for (axis, letter) in code.enumerated() {
            guard let (_, world, sign) = letters.first(where: { $0.0 == letter }), seen.insert(world).inserted
            else {
                (voxelAxis, positive) = ([0, 1, 2], [true, true, true])
                break
            }
            voxelAxis[world] = axis
            positive[world] = sign
        }
        self.voxelAxis = voxelAxis
        towardsPositive = positive
    }
}

/// Slice images through one structure: the reference (green) and prediction (magenta)
/// contours over an intensity image or the label map, in a fixed anatomical frame: each
/// slice is taken along the canonical axes closest to the affine's and drawn as a radiologist
/// (or, `neurological`, a neurologist) expects, whatever the storage order; pixels are
/// scaled by the spacing. One grey window for all panels.
public struct SliceImages {
    public var reference: LabelVolume
    public var prediction: LabelVolume
    public var intensity: IntensityVolume?
    public var convention: DisplayConvention
    /// The grey window of `intensity` (nil without one).
    public var window: IntensityWindow?
    public var frame: DisplayFrame
    /// Per voxel axis, the projection of the reference ∪ prediction foreground along it (for
    /// the locator), on the other two axes in increasing order.
    var projections: [[Bool]]

    public init(
        reference: LabelVolume, prediction: LabelVolume, intensity: IntensityVolume?,
        convention: DisplayConvention = .radiological, window: IntensityWindow? = nil
    ) {
        self.reference = reference
        self.prediction = prediction
        let onGrid = intensity.flatMap { $0.grid.dims == reference.grid.dims ? $0 : nil }
        self.intensity = onGrid
        self.convention = convention
        self.window = onGrid.map { window ?? IntensityWindow.automatic(for: $0.values) }
        frame = DisplayFrame(affine: reference.grid.affine)
        let grid = reference.grid
        // One pass over both volumes; O(voxels).
        var alongI = [Bool](repeating: false, count: grid.ny * grid.nz)
        var alongJ = [Bool](repeating: false, count: grid.nx * grid.nz)
        var alongK = [Bool](repeating: false, count: grid.nx * grid.ny)
        let (nx, ny) = (grid.nx, grid.ny)
        reference.int32Labels.withUnsafeBufferPointer { ref in
            prediction.int32Labels.withUnsafeBufferPointer { pred in
                for k in 0..<grid.nz {
                    for j in 0..<ny {
                        let row = nx * (j + ny * k)
                        for i in 0..<nx where ref[row + i] != 0 || pred[row + i] != 0 {
                            alongI[j + ny * k] = true
                            alongJ[i + nx * k] = true
                            alongK[i + nx * j] = true
                        }
                    }
                }
            }
        }
        projections = [alongI, alongJ, alongK]
    }

    public enum Plane: Int, CaseIterable, Sendable {
        /// Fixed S–I position.
        case axial = 2
        /// Fixed A–P position.
        case coronal = 1
        /// Fixed R–L position.
        case sagittal = 0

        public var name: String { String(describing: self) }
        /// The world axis held fixed.
        var worldAxis: Int { rawValue }
    }

    /// A screen axis: the world axis it runs along and whether moving right (or down) on the
    /// screen goes towards +world.
    struct ScreenAxis {
        var world: Int
        var towardsPositive: Bool
    }

    /// The screen's (across, down) axes of a plane.
    func screenAxes(_ plane: Plane) -> (across: ScreenAxis, down: ScreenAxis) {
        // Radiological: the patient's right (+x) on the left, so moving right goes towards −x.
        let leftRight = ScreenAxis(world: 0, towardsPositive: convention == .neurological)
        switch plane {
        case .axial: return (leftRight, ScreenAxis(world: 1, towardsPositive: false))  // anterior up
        case .coronal: return (leftRight, ScreenAxis(world: 2, towardsPositive: false))  // superior up
        case .sagittal:
            // Anterior on the left, superior up (both conventions).
            return (ScreenAxis(world: 1, towardsPositive: false), ScreenAxis(world: 2, towardsPositive: false))
        }
    }

    /// The letters on a panel's left, right, top and bottom edges.
    public func letters(_ plane: Plane) -> (left: String, right: String, top: String, bottom: String) {
        let names = [("L", "R"), ("P", "A"), ("I", "S")]
        let (across, down) = screenAxes(plane)
        func ends(_ axis: ScreenAxis) -> (String, String) {
            let (negative, positive) = names[axis.world]
            return axis.towardsPositive ? (negative, positive) : (positive, negative)
        }
        let (left, right) = ends(across)
        let (top, bottom) = ends(down)
        return (left, right, top, bottom)
    }

    /// Pixel-to-voxel sampling of one screen axis over the voxel range `lower...upper` of
    /// `axis`: `count` pixels of `pixelMM`, each the voxel index under its centre.
    struct Sampling {
        var axis: Int
        var indices: [Int]
        /// The pixel position (fractional) of a voxel's centre.
        var position: (Int) -> Double
    }

    func sampling(_ screen: ScreenAxis, lower: Int, upper: Int, pixelMM: Double) -> Sampling {
        let axis = frame.voxelAxis[screen.world]
        let spacing = reference.grid.spacingMM[axis]
        let growing = frame.towardsPositive[screen.world] == screen.towardsPositive
        let extentMM = Double(upper - lower + 1) * spacing
        let count = max(1, Int((extentMM / pixelMM).rounded()))
        let indices = (0..<count).map { pixel -> Int in
            // Clamped in Double first: a huge ratio must not trap in the Int conversion.
            let step = Int(min((Double(pixel) + 0.5) * pixelMM / spacing, Double(upper - lower)))
            return growing ? lower + step : upper - step
        }
        let position = { (voxel: Int) -> Double in
            let offset = growing ? Double(voxel - lower) : Double(upper - voxel)
            return (offset + 0.5) * spacing / pixelMM
        }
        return Sampling(axis: axis, indices: indices, position: position)
    }

    /// The voxel range of `box` along `axis`, widened by `marginMM` and kept in the image.
    func range(_ box: VoxelBox, axis: Int, marginMM: Double) -> (Int, Int) {
        let grid = reference.grid
        let n = grid.dims[axis]
        let margin = Int(min((marginMM / reference.grid.spacingMM[axis]).rounded(.up), Double(n)))
        return (max(0, Int(box.lower[axis]) - margin), min(n - 1, Int(box.upper[axis]) + margin))
    }

    /// The image of `plane` through `voxel`, cropped to `box` plus `marginMM`, its longer side
    /// about `size` pixels (or its pixels `pixelMM` wide). `mark` (the voxel where the
    /// Hausdorff distance is reached) is ringed in yellow when it lies on this slice.
    public func render(
        label: Int32, plane: Plane, voxel: SIMD3<Int>, box: VoxelBox, marginMM: Double = 10, size: Int = 240,
        pixelMM: Double? = nil, mark: SIMD3<Int>? = nil
    ) -> RGBImage {
        let grid = reference.grid
        let (across, down) = screenAxes(plane)
        let fixedAxis = frame.voxelAxis[plane.worldAxis]
        let fixed = min(max(voxel[fixedAxis], 0), grid.dims[fixedAxis] - 1)
        let (u0, u1) = range(box, axis: frame.voxelAxis[across.world], marginMM: marginMM)
        let (v0, v1) = range(box, axis: frame.voxelAxis[down.world], marginMM: marginMM)
        let spacing = grid.spacingMM
        let widthMM = Double(u1 - u0 + 1) * spacing[frame.voxelAxis[across.world]]
        let heightMM = Double(v1 - v0 + 1) * spacing[frame.voxelAxis[down.world]]
        let pixelMM = pixelMM ?? max(widthMM, heightMM) / Double(size)
        let columns = sampling(across, lower: u0, upper: u1, pixelMM: pixelMM)
        let rows = sampling(down, lower: v0, upper: v1, pixelMM: pixelMM)
        let (width, height) = (columns.indices.count, rows.indices.count)
        // Linear index of each pixel.
        var voxelOf = [Int](repeating: 0, count: width * height)
        let strides = [1, grid.nx, grid.nx * grid.ny]
        for y in 0..<height {
            let base = fixed * strides[fixedAxis] + rows.indices[y] * strides[rows.axis]
            for x in 0..<width { voxelOf[y * width + x] = base + columns.indices[x] * strides[columns.axis] }
        }
        var image = RGBImage(width: width, height: height)
        for pixel in 0..<(width * height) {
            let grey: UInt8
            if let intensity, let window {
                grey = window.grey(intensity.values[voxelOf[pixel]])
            } else {
                let l = reference.storage.label(at: voxelOf[pixel])
                grey = l == 0 ? 24 : (l == label ? 150 : UInt8(60 + Int(l &* 37 & 0x3F)))
            }
            image.pixels[pixel * 3] = grey
            image.pixels[pixel * 3 + 1] = grey
            image.pixels[pixel * 3 + 2] = grey
        }
        func inside(_ volume: LabelVolume, _ x: Int, _ y: Int) -> Bool {
            guard x >= 0, y >= 0, x < width, y < height else { return false }
            return volume.storage.label(at: voxelOf[y * width + x]) == label
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
        if let mark, mark[fixedAxis] == fixed {
            let cx = columns.position(mark[columns.axis])
            let cy = rows.position(mark[rows.axis])
            for y in 0..<height {
                for x in 0..<width {
                    let d =
                        ((Double(x) + 0.5 - cx) * (Double(x) + 0.5 - cx) + (Double(y) + 0.5 - cy)
                            * (Double(y) + 0.5 - cy))
                        .squareRoot()
                    if d >= 5 && d <= 7 { image[x, y] = (255, 220, 0) }
                }
            }
        }
        return image
    }

    /// A small whole-volume outline (the foreground of both volumes projected onto the
    /// coronal plane, or the axial one for a coronal panel) with the crop `box` framed in cyan
    /// and the slice through `voxel` drawn as a yellow line, so that a far island is findable.
    public func locator(plane: Plane, voxel: SIMD3<Int>, box: VoxelBox, size: Int = 96) -> RGBImage {
        let grid = reference.grid
        let view: Plane = plane == .coronal ? .axial : .coronal
        let (across, down) = screenAxes(view)
        let uAxis = frame.voxelAxis[across.world]
        let vAxis = frame.voxelAxis[down.world]
        let spacing = grid.spacingMM
        let pixelMM =
            max(Double(grid.dims[uAxis]) * spacing[uAxis], Double(grid.dims[vAxis]) * spacing[vAxis])
            / Double(size)
        let columns = sampling(across, lower: 0, upper: grid.dims[uAxis] - 1, pixelMM: pixelMM)
        let rows = sampling(down, lower: 0, upper: grid.dims[vAxis] - 1, pixelMM: pixelMM)
        let projectedAxis = frame.voxelAxis[view.worldAxis]
        let projection = projections[projectedAxis]
        // The projection is indexed by the two other axes in increasing order.
        let (first, second) = projectedAxis == 0 ? (1, 2) : (projectedAxis == 1 ? (0, 2) : (0, 1))
        let firstCount = grid.dims[first]
        var image = RGBImage(width: columns.indices.count, height: rows.indices.count, fill: (20, 20, 24))
        let fixedAxis = frame.voxelAxis[plane.worldAxis]
        // The box in pixels, at least 5 pixels wide so that a small structure stays visible.
        func span(_ sampling: Sampling, _ axis: Int, _ count: Int) -> ClosedRange<Int> {
            let a = sampling.position(Int(box.lower[axis]))
            let b = sampling.position(Int(box.upper[axis]))
            let (low, high) = (min(a, b) - 0.5, max(a, b) + 0.5)
            let centre = (low + high) / 2
            let half = max((high - low) / 2, 2.5)
            return max(0, Int(centre - half))...min(count - 1, max(0, Int(centre + half)))
        }
        let boxColumns = span(columns, uAxis, image.width)
        let boxRows = span(rows, vAxis, image.height)
        for y in 0..<image.height {
            for x in 0..<image.width {
                var p = [0, 0, 0]
                p[uAxis] = columns.indices[x]
                p[vAxis] = rows.indices[y]
                if projection[p[first] + firstCount * p[second]] { image[x, y] = (110, 110, 118) }
                if boxColumns.contains(x) && boxRows.contains(y) {
                    image[x, y] = image[x, y] == (20, 20, 24) ? (20, 90, 110) : (60, 170, 200)
                }
            }
        }
        // The slice: a line at the pixel under the voxel's centre (pixels can be wider than
        // voxels here).
        if fixedAxis == uAxis {
            let x = min(image.width - 1, max(0, Int(columns.position(voxel[fixedAxis]))))
            for y in 0..<image.height { image[x, y] = (255, 220, 0) }
        } else if fixedAxis == vAxis {
            let y = min(image.height - 1, max(0, Int(rows.position(voxel[fixedAxis]))))
            for x in 0..<image.width { image[x, y] = (255, 220, 0) }
        }
        return image
    }

    /// The pixel size (mm) that draws the longest side of `box` plus `marginMM` in `size`
    /// pixels: one scale for the three planes of a row.
    public func pixelMM(box: VoxelBox, marginMM: Double = 10, size: Int) -> Double {
        let spacing = reference.grid.spacingMM
        let longest =
            (0..<3).map { axis -> Double in
                let (lower, upper) = range(box, axis: axis, marginMM: marginMM)
                return Double(upper - lower + 1) * spacing[axis]
            }.max() ?? 1
        return longest / Double(size)
    }

    // MARK: Where to look

    /// The voxel of `volume`'s `label` in `box` (count per slice along each voxel axis) with,
    /// on each axis, the slice holding the most voxels: the largest cross-sections.
    public func largestCrossSection(of volume: LabelVolume, label: Int32, box: VoxelBox) -> SIMD3<Int> {
        guard !box.isEmpty else { return .zero }
        let grid = volume.grid
        var counts = [[Int]](repeating: [], count: 3)
        for axis in 0..<3 { counts[axis] = [Int](repeating: 0, count: grid.dims[axis]) }
        for k in Int(box.lower.z)...Int(box.upper.z) {
            for j in Int(box.lower.y)...Int(box.upper.y) {
                let row = grid.nx * (j + grid.ny * k)
                for i in Int(box.lower.x)...Int(box.upper.x) where volume.storage.label(at: row + i) == label {
                    counts[0][i] += 1
                    counts[1][j] += 1
                    counts[2][k] += 1
                }
            }
        }
        var best = SIMD3<Int>.zero
        for axis in 0..<3 {
            var top = -1
            for (index, count) in counts[axis].enumerated() where count > top {
                top = count
                best[axis] = index
            }
        }
        return best
    }

    /// The voxel of the reference's `label` nearest its centroid (a concave structure's
    /// centroid can lie outside it).
    public func centroid(label: Int32, box: VoxelBox) -> SIMD3<Int> {
        guard !box.isEmpty else { return .zero }
        let grid = reference.grid
        var sum = SIMD3<Double>.zero
        var count = 0.0
        var members: [SIMD3<Int>] = []
        for k in Int(box.lower.z)...Int(box.upper.z) {
            for j in Int(box.lower.y)...Int(box.upper.y) {
                let row = grid.nx * (j + grid.ny * k)
                for i in Int(box.lower.x)...Int(box.upper.x) where reference.storage.label(at: row + i) == label {
                    sum += SIMD3(Double(i), Double(j), Double(k))
                    count += 1
                    members.append(SIMD3(i, j, k))
                }
            }
        }
        guard count > 0 else { return SIMD3(Int(box.lower.x), Int(box.lower.y), Int(box.lower.z)) }
        return nearest(members, to: sum / count)
    }

    /// The largest error component of `label`: the biggest 6-connected region of its false
    /// negatives (reference, not prediction) or of its false positives, its voxel nearest the
    /// region's centroid (or `preferring`, when the region holds that voxel), and whether it is
    /// a false negative region.
    public func largestError(label: Int32, box: VoxelBox, preferring: SIMD3<Int>? = nil) -> (
        voxel: SIMD3<Int>, count: Int, missing: Bool
    )? {
        guard !box.isEmpty else { return nil }
        let grid = reference.grid
        let size = box.size
        let lower = SIMD3(Int(box.lower.x), Int(box.lower.y), Int(box.lower.z))
        // 1: false negative, 2: false positive, 0: neither; per crop voxel.
        var kind = [UInt8](repeating: 0, count: size.x * size.y * size.z)
        for z in 0..<size.z {
            for y in 0..<size.y {
                for x in 0..<size.x {
                    let index = (lower.x + x) + grid.nx * ((lower.y + y) + grid.ny * (lower.z + z))
                    let r = reference.storage.label(at: index) == label
                    let p = prediction.storage.label(at: index) == label
                    if r != p { kind[x + size.x * (y + size.y * z)] = r ? 1 : 2 }
                }
            }
        }
        var seen = [Bool](repeating: false, count: kind.count)
        var best: [Int] = []
        var bestKind: UInt8 = 0
        var stack: [Int] = []
        let strideY = size.x
        let strideZ = size.x * size.y
        for start in kind.indices where kind[start] != 0 && !seen[start] {
            var members: [Int] = []
            stack.append(start)
            seen[start] = true
            while let at = stack.popLast() {
                members.append(at)
                let (x, y, z) = (at % size.x, (at / size.x) % size.y, at / strideZ)
                for (ok, step) in [
                    (x > 0, -1), (x < size.x - 1, 1), (y > 0, -strideY), (y < size.y - 1, strideY),
                    (z > 0, -strideZ), (z < size.z - 1, strideZ),
                ] where ok && !seen[at + step] && kind[at + step] == kind[start] {
                    seen[at + step] = true
                    stack.append(at + step)
                }
            }
            if members.count > best.count {
                best = members
                bestKind = kind[start]
            }
        }
        guard !best.isEmpty else { return nil }
        let voxels = best.map { at in lower &+ SIMD3(at % size.x, (at / size.x) % size.y, at / strideZ) }
        let mean =
            voxels.reduce(SIMD3<Double>.zero) { $0 + SIMD3(Double($1.x), Double($1.y), Double($1.z)) }
            / Double(voxels.count)
        if let preferring, voxels.contains(preferring) { return (preferring, voxels.count, bestKind == 1) }
        return (nearest(voxels, to: mean), voxels.count, bestKind == 1)
    }

    func nearest(_ voxels: [SIMD3<Int>], to point: SIMD3<Double>) -> SIMD3<Int> {
        let s = reference.grid.spacingMM
        var best = voxels[0]
        var bestDistance = Double.infinity
        for v in voxels {
            let d = (SIMD3(Double(v.x), Double(v.y), Double(v.z)) - point) * s
            let squared = (d * d).sum()
            if squared < bestDistance {
                bestDistance = squared
                best = v
            }
        }
        return best
    }
}
