/// The `meshmetrics` preset of one label: the surface metrics and, when asked for, the
/// boundary IoU (report key `biou`).
public struct MeshMetricsResult: Sendable, Equatable {
    /// Area-weighted surface metrics (`MeshReduce.metrics`).
    public var surface: SurfaceMetrics
    /// Boundary IoU at the NSD tolerance τ (`MeshReduce.boundaryIoU`); nil when not computed.
    public var boundaryIoU: Double?

    public init(surface: SurfaceMetrics, boundaryIoU: Double?) {
        self.surface = surface
        self.boundaryIoU = boundaryIoU
    }

    /// The values of an empty-mask status (METRICS.md): `missed`/`spurious` give +∞, NSD and
    /// BIoU 0; `absent` gives 0, NSD and BIoU 1.
    public static func empty(absent: Bool) -> MeshMetricsResult {
        MeshMetricsResult(surface: .empty(absent: absent), boundaryIoU: absent ? 1 : 0)
    }
}

extension Evaluator {
    /// The `meshmetrics` preset for one matched label: its crop, its voxel-face surfaces,
    /// the exact point-to-surface distances of their samples, and their area-weighted
    /// reductions. `boundaryIoU` adds the `biou` value (one more pass over the masks).
    ///
    /// `threads` workers run inside the label; the result does not depend on their number.
    static func meshMetrics<T: LabelValue>(
        label: Int32, box: VoxelBox, volumes: Volumes<T>, settings: EvaluationSettings, threads: Int,
        boundaryIoU: Bool = false
    ) -> MeshMetricsResult {
        let grid = volumes.grid
        let crop = MeshCrop(
            label: label, box: box, reference: volumes.reference, prediction: volumes.prediction, grid: grid)
        let tolerance = settings.tolerance(for: label)
        let distances = PointToSurface.distances(crop: crop, spacing: grid.spacingMM, threads: threads)
        return MeshMetricsResult(
            surface: MeshReduce.metrics(distances, percentile: settings.percentile, toleranceMM: tolerance),
            boundaryIoU: boundaryIoU
                ? MeshReduce.boundaryIoU(crop: crop, spacing: grid.spacingMM, toleranceMM: tolerance, threads: threads)
                : nil)
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
                        threads: max(1, settings.threads), boundaryIoU: true)
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
    static func boundaryIoU(
        crop: MeshCrop, spacing s: SIMD3<Double>, toleranceMM tau: Double, threads: Int, listLimit: Double = 20_000
    ) -> Double {
        let (nx, ny, nz) = (crop.nx, crop.ny, crop.nz)
        let strideJ = nx
        let strideK = nx * ny
        let isFlat = [crop.flat.x, crop.flat.y, crop.flat.z]
        // Offsets whose box is strictly within τ of the centre: gaps in halves of a voxel,
        // g = max(0, 2|o| − 1), Σ (g·s)² < 4τ² exactly; nearest first.
        // Offsets up to ⌈τ/s + 1/2⌉ voxels each way. A cube of more than `listLimit` offsets (τ
        // many voxels wide) is not listed: then every voxel the screen below cannot decide
        // asks `ShellIndex` for its nearest box outside the mask, also exactly.
        let wantedReach = (0..<3).map { axis -> Double in
            isFlat[axis] ? 0 : (tau / s[axis] + 0.5).rounded(.up)
        }
        let wide = !(wantedReach.map { 2 * $0 + 1 }.reduce(1, *) <= listLimit)
        if tau == .infinity { return maskIoU(crop) }
        let reach = wantedReach.map { wide ? 0 : Int($0) }
        var offsets: [(SIMD3<Int>, Double)] = []
        for dk in -reach[2]...reach[2] {
            for dj in -reach[1]...reach[1] {
                for di in -reach[0]...reach[0] where (di, dj, dk) != (0, 0, 0) {
                    let g = SIMD3<Int64>(
                        Int64(max(0, 2 * abs(di) - 1)), Int64(max(0, 2 * abs(dj) - 1)), Int64(max(0, 2 * abs(dk) - 1)))
                    guard ExactArithmetic.isStrictlyWithinHalves(gaps: g, spacing: s, toleranceMM: tau) else {
                        continue
                    }
                    let x = Double(g.x) * s.x
                    let y = Double(g.y) * s.y
                    let z = Double(g.z) * s.z
                    offsets.append((SIMD3(di, dj, dk), x * x + y * y + z * z))
                }
            }
        }
        offsets.sort { ($0.1, $0.0.z, $0.0.y, $0.0.x) < ($1.1, $1.0.z, $1.0.y, $1.0.x) }
        let list = offsets.map(\.0)
        let linear = list.map { $0.x + strideJ * $0.y + strideK * $0.z }
        // A long list (τ many voxels wide) is screened first with the exact centre-to-centre
        // transform D to the nearest voxel outside the mask: the box of that voxel is nearer
        // than its centre, so D < τ puts a voxel in the band; every box is farther than its
        // centre less h (half a voxel diagonal), and the crop's transform misses voxels
        // beyond the padding by at most another h, so D − 2h > τ keeps it out. Only the
        // voxels in between walk the list.
        let screens =
            list.count > 64
            ? [MeshSurface.inReference, MeshSurface.inPrediction].map {
                centreDistances(crop: crop, bit: $0, spacing: s, threads: threads)
            } : nil
        let shells =
            wide
            ? [MeshSurface.inReference, MeshSurface.inPrediction].map { ShellIndex(crop: crop, bit: $0, inside: false) }
            : nil
        let halfDiagonal = 0.5 * (0..<3).filter { !isFlat[$0] }.map { s[$0] * s[$0] }.reduce(0, +).squareRoot()
        let inside = tau * (1 - ExactArithmetic.margin)
        let outside = tau * (1 + ExactArithmetic.margin) + 2 * halfDiagonal
        // Per row: |B_R ∩ B_P| and |B_R ∪ B_P|.
        var counts = [SIMD2<Int>](repeating: .zero, count: ny * nz)
        crop.flags.withUnsafeBufferPointer { f in
            counts.withUnsafeMutableBufferPointer { out in
                let shared = UncheckedSendable(out)
                parallelFor(ny * nz, threads: threads, grain: 16) { line in
                    let j = line % ny
                    let k = line / ny
                    let row = strideJ * j + strideK * k
                    let deepJK = j >= reach[1] && j < ny - reach[1] && k >= reach[2] && k < nz - reach[2]
                    func inBand(_ i: Int, _ bit: UInt8) -> Bool {
                        let index = row + i
                        if let screens {
                            let d = screens[bit == MeshSurface.inReference ? 0 : 1][index]
                            if d < inside { return true }
                            if d > outside { return false }
                        }
                        if let shells {
                            // Gaps of a voxel centre are multiples of 3 sixths: halves = gaps / 3.
                            let key = shells[bit == MeshSurface.inReference ? 0 : 1].nearest(
                                6 &* SIMD3<Int64>(Int64(i), Int64(j), Int64(k)), spacing: s)
                            let halves = PointToSurface.GapKey.unpack(key) / 3
                            return ExactArithmetic.isStrictlyWithinHalves(gaps: halves, spacing: s, toleranceMM: tau)
                        }
                        if deepJK && i >= reach[0] && i < nx - reach[0] {
                            for o in linear where f[index + o] & bit == 0 { return true }
                            return false
                        }
                        for o in list {
                            let ii = i + o.x
                            let jj = j + o.y
                            let kk = k + o.z
                            if ii < 0 || jj < 0 || kk < 0 || ii >= nx || jj >= ny || kk >= nz { return true }
                            if f[ii + strideJ * jj + strideK * kk] & bit == 0 { return true }
                        }
                        return false
                    }
                    var both = 0
                    var either = 0
                    for i in 0..<nx {
                        let v = f[row + i]
                        if v == 0 { continue }
                        let r = v & MeshSurface.inReference != 0 && inBand(i, MeshSurface.inReference)
                        let p = v & MeshSurface.inPrediction != 0 && inBand(i, MeshSurface.inPrediction)
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
