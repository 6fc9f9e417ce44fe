/// The `meshmetrics` preset of one label: the surface metrics with the boundary IoU (report
/// key `biou`).
public struct MeshMetricsResult: Sendable, Equatable {
    /// Area-weighted surface metrics (`MeshReduce.metrics`) and `boundaryIoU`.
    public var surface: SurfaceMetrics

    public init(surface: SurfaceMetrics) {
        self.surface = surface
    }

    /// Boundary IoU at the NSD tolerance τ (`MeshReduce.boundaryIoU`).
    public var boundaryIoU: Double? { surface.boundaryIoU }

    /// The values of an empty-mask status (METRICS.md): `missed`/`spurious` give +∞, NSD and
    /// BIoU 0; `absent` gives 0, NSD and BIoU 1.
    public static func empty(absent: Bool) -> MeshMetricsResult {
        MeshMetricsResult(surface: .empty(absent: absent))
    }
}

extension Evaluator {
    /// The `meshmetrics` preset for one matched label: its crop (`crop`, or copied out of the
    /// volumes), its voxel-face surfaces, the exact point-to-surface distances of their
    /// samples, their area-weighted reductions, and the boundary IoU (`biou`).
    ///
    /// `threads` workers run inside the label; the result does not depend on their number.
    static func meshMetrics<T: LabelValue>(
        label: Int32, box: VoxelBox, volumes: Volumes<T>, settings: EvaluationSettings, threads: Int,
        crop given: MeshCrop? = nil
    ) -> MeshMetricsResult {
        let grid = volumes.grid
        let crop =
            given
            ?? MeshCrop(
                label: label, box: box, reference: volumes.reference, prediction: volumes.prediction, grid: grid)
        let tolerance = settings.tolerance(for: label)
        let distances = PointToSurface.distances(crop: crop, spacing: grid.spacingMM, threads: threads)
        var surface = MeshReduce.metrics(distances, percentile: settings.percentile, toleranceMM: tolerance)
        surface.boundaryIoU = MeshReduce.boundaryIoU(
            crop: crop, spacing: grid.spacingMM, toleranceMM: tolerance, threads: threads)
        return MeshMetricsResult(surface: surface)
    }

    /// The `meshmetrics` distances of one label of two volumes (tests and tools).
    static func meshDistances(reference: LabelVolume, prediction: LabelVolume, label: Int32, threads: Int = 1)
        -> MeshDistances
    {
        let grid = reference.grid
        let box = unionBox(reference: reference, prediction: prediction, label: label, threads: threads)
        return reference.int32Labels.withUnsafeBufferPointer { ref in
            prediction.int32Labels.withUnsafeBufferPointer { pred in
                let crop = MeshCrop(label: label, box: box, reference: ref, prediction: pred, grid: grid)
                return PointToSurface.distances(crop: crop, spacing: grid.spacingMM, threads: threads)
            }
        }
    }

    /// The whole `meshmetrics` result, `biou` included, of every label of two volumes
    /// (`settings.labels`, or every non-zero label of either): one census, then each label
    /// with `settings.threads` threads inside it. Labels that are not matched get the values
    /// of their status (`MeshMetricsResult.empty`).
    public static func meshMetrics(reference: LabelVolume, prediction: LabelVolume, settings: EvaluationSettings)
        -> [Int32: MeshMetricsResult]
    {
        precondition(reference.grid.dims == prediction.grid.dims, "volumes must share a grid")
        let grid = reference.grid
        let (referenceLabels, predictionLabels) = (reference.int32Labels, prediction.int32Labels)
        let census = Census.count(
            reference: referenceLabels, prediction: predictionLabels, nx: grid.nx, ny: grid.ny, nz: grid.nz,
            threads: settings.threads)
        let byLabel = Dictionary(uniqueKeysWithValues: census.map { ($0.label, $0) })
        let table = SurfaceSearch.table(spacing: grid.spacingMM, flat: grid.flatAxes)
        var out: [Int32: MeshMetricsResult] = [:]
        referenceLabels.withUnsafeBufferPointer { ref in
            predictionLabels.withUnsafeBufferPointer { pred in
                let volumes = Volumes(reference: ref, prediction: pred, grid: grid, table: table)
                for label in settings.labels ?? census.map(\.label) {
                    let c = byLabel[label] ?? LabelCensus(label: label)
                    guard c.referenceVoxels > 0 && c.predictionVoxels > 0 else {
                        out[label] = .empty(absent: c.referenceVoxels == 0 && c.predictionVoxels == 0)
                        continue
                    }
                    out[label] = meshMetrics(
                        label: label, box: c.referenceBox.union(c.predictionBox), volumes: volumes, settings: settings,
                        threads: max(1, settings.threads))
                }
            }
        }
        return out
    }

    /// The whole `meshmetrics` result of one label of two volumes; `nil` unless both masks
    /// are non-empty.
    public static func meshMetrics(
        reference: LabelVolume, prediction: LabelVolume, label: Int32, settings: EvaluationSettings
    ) -> MeshMetricsResult? {
        let both = [reference.storage, prediction.storage].allSatisfy { $0.contains(label) }
        guard both else { return nil }
        var one = settings
        one.labels = [label]
        return meshMetrics(reference: reference, prediction: prediction, settings: one)[label]
    }
}

/// Reductions of the `meshmetrics` preset (MeshMetrics 0.2.1 `DistanceMetrics`: `hd`,
/// `masd`, `assd`, `nsd`, `biou`), each sample weighted by its area.
enum MeshReduce {
    /// Surface metrics from the two directed histograms; w = a sample's area (mm², or mm in
    /// 2-D), d its distance (mm) to the other surface:
    /// - `hdPercentileMM` (HDq): per direction the smallest d with Σ_{d' ≤ d} w ≥ (q/100)·Σ w,
    ///   the comparison decided exactly on integer sample counts (no running float sum);
    ///   the larger of the two directions (MeshMetrics `hd(percentile=q)`).
    /// - `hausdorffMM`: the same at q = 100, the largest distance.
    /// - `asd_*`: Σ w·d / Σ w per direction; `masdMM` their mean (MeshMetrics `masd`);
    ///   `assdMM` both directions pooled (MeshMetrics `assd`).
    /// - `nsd`: Σ w over samples with d ≤ τ, both directions, over Σ w; d ≤ τ decided
    ///   exactly on the integer gaps, so a distance equal to τ counts (MeshMetrics `nsd`).
    /// Empty masks never reach here (METRICS.md's table applies).
    static func metrics(_ d: MeshDistances, percentile: Double, toleranceMM: Double) -> SurfaceMetrics {
        let pr = reduce(d.predictionToReference, d, percentile: percentile, toleranceMM: toleranceMM)
        let rp = reduce(d.referenceToPrediction, d, percentile: percentile, toleranceMM: toleranceMM)
        let meanPR = pr.weighted / pr.area
        let meanRP = rp.weighted / rp.area
        return SurfaceMetrics(
            hausdorffMM: max(pr.maximum, rp.maximum),
            hdPercentileMM: max(pr.percentile, rp.percentile),
            assdMM: (pr.weighted + rp.weighted) / (pr.area + rp.area),
            masdMM: (meanPR + meanRP) / 2,
            asdReferenceToPredictionMM: meanRP,
            asdPredictionToReferenceMM: meanPR,
            nsd: (pr.within + rp.within) / (pr.area + rp.area))
    }

    struct Directed {
        var area: Double
        var weighted: Double
        var within: Double
        var maximum: Double
        var percentile: Double
    }

    /// One direction's sums (in ascending distance order: deterministic) and percentile.
    static func reduce(_ h: MeshHistogram, _ d: MeshDistances, percentile q: Double, toleranceMM tau: Double)
        -> Directed
    {
        precondition(!h.distances.isEmpty, "both surfaces must be non-empty")
        let w = d.sampleAreas
        let totals = h.totals
        var area = 0.0
        var weighted = 0.0
        var within = 0.0
        var cumulative = SIMD3<Int>.zero
        var percentileValue: Double?
        for (index, distance) in h.distances.enumerated() {
            let c = h.counts[index]
            let a = Double(c.x) * w.x + Double(c.y) * w.y + Double(c.z) * w.z
            area += a
            weighted += distance * a
            if ExactArithmetic.isWithin(key: h.keys[index], spacing: d.spacing, toleranceMM: tau) { within += a }
            cumulative &+= c
            if percentileValue == nil
                && ExactArithmetic.reaches(cumulative: cumulative, totals: totals, areas: w, percentile: q)
            {
                percentileValue = distance
            }
        }
        let maximum = h.distances[h.distances.count - 1]
        return Directed(
            area: area, weighted: weighted, within: within, maximum: maximum, percentile: percentileValue ?? maximum)
    }

    /// Boundary IoU at τ (MeshMetrics `biou`): for each mask M, its voxels whose centre lies
    /// strictly closer than τ mm to M's own voxel-face surface; |B_R ∩ B_P| / |B_R ∪ B_P|.
    /// A voxel centre c inside M is at distance min over voxels w outside M of the distance
    /// from c to w's box (gaps (|Δ| − 1/2)·s per axis), decided exactly against τ. NaN
    /// (reported as undefined) when both bands are empty, τ being at most half a voxel
    /// (MeshMetrics raises an error there). Follows the definition, not MeshMetrics
    /// 0.2.1's placement of voxel centres under a non-identity direction.
    ///
    /// So B_M = M minus its erosion by S, the offsets whose box is strictly within τ of a
    /// voxel centre. S is symmetric and shrinks along i as |dj|, |dk| grow, so it is a set of
    /// row segments (dj, dk, |di| ≤ r), and the erosion is an AND over those segments of the
    /// mask's rows eroded by r along i, 64 voxels a word (`BandRows`). Cost: O(crop rows ×
    /// words × segments); on the AAL bench pair (τ = 1 mm: 9 segments) it replaced a walk of
    /// up to 26 offsets per mask voxel. A cube of more than `listLimit` offsets (τ many
    /// voxels wide) takes `wideBoundaryIoU` instead.
    static func boundaryIoU(
        crop: MeshCrop, spacing s: SIMD3<Double>, toleranceMM tau: Double, threads: Int, listLimit: Double = 20_000
    ) -> Double {
        if tau == .infinity { return maskIoU(crop) }
        let isFlat = [crop.flat.x, crop.flat.y, crop.flat.z]
        // Offsets up to ⌈τ/s + 1/2⌉ voxels each way can hold a box within τ.
        let wantedReach = (0..<3).map { axis -> Double in
            isFlat[axis] ? 0 : (tau / s[axis] + 0.5).rounded(.up)
        }
        guard wantedReach.map({ 2 * $0 + 1 }).reduce(1, *) <= listLimit else {
            return wideBoundaryIoU(crop: crop, spacing: s, toleranceMM: tau, threads: threads)
        }
        let reach = wantedReach.map { Int($0) }
        // Gaps in halves of a voxel, g = max(0, 2|o| − 1), Σ (g·s)² < 4τ² exactly.
        func isWithin(_ di: Int, _ dj: Int, _ dk: Int) -> Bool {
            let g = SIMD3<Int64>(
                Int64(max(0, 2 * abs(di) - 1)), Int64(max(0, 2 * abs(dj) - 1)), Int64(max(0, 2 * abs(dk) - 1)))
            return ExactArithmetic.isStrictlyWithinHalves(gaps: g, spacing: s, toleranceMM: tau)
        }
        var segments: [SIMD3<Int>] = []
        for dk in -reach[2]...reach[2] {
            for dj in -reach[1]...reach[1] {
                var r = -1
                while r < reach[0] && isWithin(r + 1, dj, dk) { r += 1 }
                if r >= 0 { segments.append(SIMD3(dj, dk, r)) }
            }
        }
        let rows = BandRows(crop: crop, levels: (segments.map { $0.z }.max() ?? 0) + 1, threads: threads)
        let total = rows.bandCounts(segments: segments, threads: threads)
        return total[1] == 0 ? .nan : Double(total[0]) / Double(total[1])
    }

    /// `boundaryIoU` for τ many voxels wide: each mask voxel is screened with the exact
    /// centre-to-centre transform D to the nearest voxel outside the mask (the box of that
    /// voxel is nearer than its centre, so D < τ puts a voxel in the band; every box is
    /// farther than its centre less h, half a voxel diagonal, and the crop's transform misses
    /// voxels beyond the padding by at most another h, so D − 2h > τ keeps it out); the
    /// voxels in between ask `ShellIndex` for their nearest box outside the mask, exactly.
    static func wideBoundaryIoU(crop: MeshCrop, spacing s: SIMD3<Double>, toleranceMM tau: Double, threads: Int)
        -> Double
    {
        let (nx, ny) = (crop.nx, crop.ny)
        let isFlat = [crop.flat.x, crop.flat.y, crop.flat.z]
        let bits = [MeshSurface.inReference, MeshSurface.inPrediction]
        let screens = bits.map { centreDistances(crop: crop, bit: $0, spacing: s, threads: threads) }
        let shells = bits.map { ShellIndex(crop: crop, bit: $0, inside: false) }
        let halfDiagonal = 0.5 * (0..<3).filter { !isFlat[$0] }.map { s[$0] * s[$0] }.reduce(0, +).squareRoot()
        let inside = tau * (1 - ExactArithmetic.margin)
        let outside = tau * (1 + ExactArithmetic.margin) + 2 * halfDiagonal
        // Per row: |B_R ∩ B_P| and |B_R ∪ B_P|.
        var counts = [SIMD2<Int>](repeating: .zero, count: ny * crop.nz)
        crop.flags.withUnsafeBufferPointer { f in
            counts.withUnsafeMutableBufferPointer { out in
                let shared = UncheckedSendable(out)
                parallelFor(ny * crop.nz, threads: threads, grain: 16) { line in
                    let j = line % ny
                    let k = line / ny
                    let row = nx * line
                    func inBand(_ i: Int, _ mask: Int) -> Bool {
                        let d = screens[mask][row + i]
                        if d < inside { return true }
                        if d > outside { return false }
                        // Gaps of a voxel centre are multiples of 3 sixths: halves = gaps / 3.
                        let key = shells[mask].nearest(6 &* SIMD3<Int64>(Int64(i), Int64(j), Int64(k)), spacing: s)
                        let halves = PointToSurface.GapKey.unpack(key) / 3
                        return ExactArithmetic.isStrictlyWithinHalves(gaps: halves, spacing: s, toleranceMM: tau)
                    }
                    var both = 0
                    var either = 0
                    for i in 0..<nx {
                        let v = f[row + i]
                        if v == 0 { continue }
                        let r = v & MeshSurface.inReference != 0 && inBand(i, 0)
                        let p = v & MeshSurface.inPrediction != 0 && inBand(i, 1)
                        if r && p { both += 1 }
                        if r || p { either += 1 }
                    }
                    shared.value[line] = SIMD2(both, either)
                }
            }
        }
        let total = counts.reduce(SIMD2<Int>.zero, &+)
        return total[1] == 0 ? .nan : Double(total[0]) / Double(total[1])
    }

    /// The IoU of the two masks of a crop (BIoU at τ = ∞: every voxel is in its band).
    static func maskIoU(_ crop: MeshCrop) -> Double {
        var both = 0
        var either = 0
        for index in 0..<(crop.nx * crop.ny * crop.nz) {
            let v = crop.flags[index]
            if v == MeshSurface.inReference | MeshSurface.inPrediction { both += 1 }
            if v != 0 { either += 1 }
        }
        return either == 0 ? .nan : Double(both) / Double(either)
    }

    /// Per crop voxel of the mask `bit`, the exact distance (mm) from its centre to the
    /// nearest voxel centre outside the mask within the crop (`DistanceTransform`); 0 elsewhere.
    static func centreDistances(crop: MeshCrop, bit: UInt8, spacing: SIMD3<Double>, threads: Int) -> [Double] {
        let count = crop.nx * crop.ny * crop.nz
        let flags = (0..<count).map { crop.flags[$0] & bit != 0 ? UInt8(2) : UInt8(1) }
        let distances = flags.withUnsafeBufferPointer {
            DistanceTransform.distances(
                flags: $0, nx: crop.nx, ny: crop.ny, nz: crop.nz, spacing: spacing, source: 1, query: 2,
                threads: threads)
        }
        var out = [Double](repeating: 0, count: count)
        var next = 0
        for index in 0..<count where flags[index] == 2 {
            out[index] = distances[next]
            next += 1
        }
        return out
    }
}

/// A crop's two masks as bit rows (voxel i of row (j, k) is bit i % 64 of word i / 64), each
/// row also eroded along i by 1, 2, … voxels: the pieces of the boundary bands of
/// `MeshReduce.boundaryIoU`.
struct BandRows {
    let nx: Int
    let ny: Int
    let nz: Int
    /// Words per row.
    let words: Int
    /// Levels 0..<levels: level r holds the rows eroded by r voxels each way along i.
    let levels: Int
    /// Word (mask · levels + level) · rows · words + row · words + w; mask 0 is the reference.
    var bits: [UInt64]

    init(crop: MeshCrop, levels: Int, threads: Int) {
        (nx, ny, nz) = (crop.nx, crop.ny, crop.nz)
        words = (crop.nx + 63) / 64
        self.levels = levels
        let rows = ny * nz
        let (nx, words, levels) = (nx, words, levels)
        let planeStride = rows * words
        var bits = [UInt64](repeating: 0, count: 2 * levels * planeStride)
        crop.flags.withUnsafeBufferPointer { f in
            bits.withUnsafeMutableBufferPointer { out in
                let shared = UncheckedSendable(out)
                parallelFor(rows, threads: threads, grain: 64) { row in
                    let b = shared.value
                    let source = UnsafeRawPointer(f.baseAddress! + row * nx)
                    let reference = row * words
                    let prediction = levels * planeStride + row * words
                    // Level 0: eight flag bytes (0/1 in bit 0, 0/1 in bit 1) to eight bits at
                    // a time: the multiply moves byte e's low bit to bit 56 + e, with no
                    // carries (the products' exponents 8e + 7m + 7 are all distinct).
                    let low: UInt64 = 0x0101_0101_0101_0101
                    let gather: UInt64 = 0x0102_0408_1020_4080
                    var i = 0
                    // Any voxel of either mask in the row: an empty row's levels stay zero.
                    var seen: UInt64 = 0
                    while i + 8 <= nx {
                        let x = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                        seen |= x
                        let r = ((x & low) &* gather) >> 56
                        let p = (((x >> 1) & low) &* gather) >> 56
                        b[reference + i >> 6] |= r << (i & 63)
                        b[prediction + i >> 6] |= p << (i & 63)
                        i += 8
                    }
                    while i < nx {
                        let v = source.load(fromByteOffset: i, as: UInt8.self)
                        seen |= UInt64(v)
                        b[reference + i >> 6] |= UInt64(v & 1) << (i & 63)
                        b[prediction + i >> 6] |= UInt64((v >> 1) & 1) << (i & 63)
                        i += 1
                    }
                    if seen == 0 { return }
                    // Level r: level r − 1 ANDed with its neighbours along i (bits past the
                    // row's ends are 0: outside the mask).
                    for mask in 0..<2 {
                        for level in 1..<max(1, levels) {
                            let from = (mask * levels + level - 1) * planeStride + row * words
                            let to = from + planeStride
                            for w in 0..<words {
                                let x = b[from + w]
                                let before = w > 0 ? b[from + w - 1] >> 63 : 0
                                let after = w + 1 < words ? b[from + w + 1] << 63 : 0
                                b[to + w] = x & (x << 1 | before) & (x >> 1 | after)
                            }
                        }
                    }
                }
            }
        }
        self.bits = bits
    }

    /// |B_R ∩ B_P| and |B_R ∪ B_P| (voxel counts) for the row segments (dj, dk, r): a voxel
    /// of mask M is in B_M unless every row segment around it lies inside M (a row beyond
    /// the crop is outside both masks).
    func bandCounts(segments: [SIMD3<Int>], threads: Int) -> SIMD2<Int> {
        let rows = ny * nz
        let planeStride = rows * words
        let (ny, nz, words, levels) = (ny, nz, words, levels)
        var counts = [SIMD2<Int>](repeating: .zero, count: rows)
        bits.withUnsafeBufferPointer { b in
            segments.withUnsafeBufferPointer { segments in
                counts.withUnsafeMutableBufferPointer { out in
                    let shared = UncheckedSendable(out)
                    parallelFor(rows, threads: threads, grain: 64) { row in
                        let j = row % ny
                        let k = row / ny
                        var both = 0
                        var either = 0
                        for w in 0..<words {
                            let maskR = b[row * words + w]
                            let maskP = b[levels * planeStride + row * words + w]
                            if maskR | maskP == 0 { continue }
                            // The voxels whose every segment lies inside the mask.
                            var keptR = maskR
                            var keptP = maskP
                            for segment in segments {
                                let jj = j + segment.x
                                let kk = k + segment.y
                                guard jj >= 0 && jj < ny && kk >= 0 && kk < nz else {
                                    keptR = 0
                                    keptP = 0
                                    break
                                }
                                let word = segment.z * planeStride + (jj + ny * kk) * words + w
                                keptR &= b[word]
                                keptP &= b[levels * planeStride + word]
                                if keptR | keptP == 0 { break }
                            }
                            let bandR = maskR & ~keptR
                            let bandP = maskP & ~keptP
                            both += (bandR & bandP).nonzeroBitCount
                            either += (bandR | bandP).nonzeroBitCount
                        }
                        shared.value[row] = SIMD2(both, either)
                    }
                }
            }
        }
        return counts.reduce(SIMD2<Int>.zero, &+)
    }
}

/// Exact sign tests on sums of products of doubles (error-free transformations: Dekker's
/// two-product through a fused multiply-add, Knuth's two-sum, Shewchuk's grow-expansion,
/// "Adaptive Precision Floating-Point Arithmetic", 1997). Used where METRICS.md asks for a
/// decision "decided exactly": no rounding can flip a tie.
enum ExactArithmetic {
    @inline(__always) static func twoSum(_ a: Double, _ b: Double) -> (Double, Double) {
        let sum = a + b
        let virtualB = sum - a
        let virtualA = sum - virtualB
        return (sum, (a - virtualA) + (b - virtualB))
    }

    @inline(__always) static func twoProduct(_ a: Double, _ b: Double) -> (Double, Double) {
        let product = a * b
        return (product, (-product).addingProduct(a, b))
    }

    /// a·b·c as four doubles whose sum is exact.
    static func product(_ a: Double, _ b: Double, _ c: Double) -> [Double] {
        let (high, low) = twoProduct(a, b)
        let (p1, e1) = twoProduct(high, c)
        let (p2, e2) = twoProduct(low, c)
        return [p1, e1, p2, e2]
    }

    /// The sign (−1, 0, 1) of the exact sum of `terms`.
    static func sign(of terms: [Double]) -> Int {
        var expansion: [Double] = []
        for term in terms {
            var carry = term
            for index in expansion.indices {
                let (sum, error) = twoSum(carry, expansion[index])
                expansion[index] = error
                carry = sum
            }
            expansion.append(carry)
        }
        // Non-overlapping components in increasing magnitude: the largest non-zero one
        // carries the sign of the whole sum.
        guard let top = expansion.last(where: { $0 != 0 }) else { return 0 }
        return top > 0 ? 1 : -1
    }

    /// A float comparison of two sums of a few rounded products is right whenever they
    /// differ by more than this relative margin (each side is within a few ulps, ~1e-15,
    /// of its exact value); closer cases are decided exactly.
    static let margin = 1e-12

    /// Whether 100·Σ_e C_e·w_e ≥ q·Σ_e N_e·w_e exactly (cumulative area fraction ≥ q/100).
    static func reaches(cumulative c: SIMD3<Int>, totals n: SIMD3<Int>, areas w: SIMD3<Double>, percentile q: Double)
        -> Bool
    {
        let reached = 100 * (Double(c.x) * w.x + Double(c.y) * w.y + Double(c.z) * w.z)
        let target = q * (Double(n.x) * w.x + Double(n.y) * w.y + Double(n.z) * w.z)
        if reached > target * (1 + margin) { return true }
        if reached < target * (1 - margin) { return false }
        var terms: [Double] = []
        for axis in 0..<3 where w[axis] != 0 {
            let (high, low) = twoProduct(100 * Double(c[axis]), w[axis])
            terms += [high, low]
            terms += product(q, Double(n[axis]), w[axis]).map { -$0 }
        }
        return sign(of: terms) >= 0
    }

    /// Whether the distance of a gap key (sixths of a voxel) is ≤ τ, exactly:
    /// Σ (g_e·s_e)² ≤ 36·τ².
    static func isWithin(key: UInt64, spacing s: SIMD3<Double>, toleranceMM tau: Double) -> Bool {
        let g = PointToSurface.GapKey.unpack(key)
        let squared = SIMD3<Double>(Double(g.x) * s.x, Double(g.y) * s.y, Double(g.z) * s.z)
        let value = (squared * squared).sum()
        let limit = 36 * tau * tau
        if value < limit * (1 - margin) { return true }
        if value > limit * (1 + margin) { return false }
        var terms: [Double] = []
        for axis in 0..<3 where g[axis] != 0 { terms += product(Double(g[axis] * g[axis]), s[axis], s[axis]) }
        terms += product(36, tau, tau).map { -$0 }
        return sign(of: terms) <= 0
    }

    /// Whether gaps in halves of a voxel give a distance strictly below τ: Σ (g_e·s_e)² < 4·τ².
    static func isStrictlyWithinHalves(gaps g: SIMD3<Int64>, spacing s: SIMD3<Double>, toleranceMM tau: Double)
        -> Bool
    {
        var terms: [Double] = []
        for axis in 0..<3 where g[axis] != 0 { terms += product(Double(g[axis] * g[axis]), s[axis], s[axis]) }
        terms += product(4, tau, tau).map { -$0 }
        return sign(of: terms) < 0
    }
}
