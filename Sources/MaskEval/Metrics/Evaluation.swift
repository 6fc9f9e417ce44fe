import Dispatch

/// What a label's row says about its two masks (METRICS.md, "Empty masks").
public enum LabelStatus: String, CaseIterable, Sendable {
    /// Both masks non-empty: every metric computed.
    case matched
    /// Reference non-empty, prediction empty: Dice 0, distances +∞, NSD 0.
    case missed
    /// Reference empty, prediction non-empty: Dice 0, distances +∞, NSD 0.
    case spurious
    /// Both empty (a label asked for with `--labels`): Dice 1, distances 0, NSD 1.
    case absent
}

/// Settings of one evaluation.
public struct EvaluationSettings: Sendable {
    /// Labels to report; nil: every non-zero label in either volume.
    public var labels: [Int32]?
    /// Q of `hdQ_mm` (default 95).
    public var percentile: Double
    /// NSD tolerance τ in mm (default 1).
    public var toleranceMM: Double
    /// Per-label tolerances that override `toleranceMM`.
    public var toleranceByLabel: [Int32: Double]
    /// The presets to compute; the first is the one reported in the main columns.
    public var presets: [Compat]
    public var threads: Int
    /// Keep each matched, missed or spurious label's boundary voxels, their distances and where its Hausdorff
    /// distance is reached (`LabelResult.detail`), for maps and pictures.
    public var keepDetail = false

    public init(
        labels: [Int32]? = nil, percentile: Double = 95, toleranceMM: Double = 1,
        toleranceByLabel: [Int32: Double] = [:], presets: [Compat] = [.monai], threads: Int = activeCoreCount
    ) {
        self.labels = labels
        self.percentile = percentile
        self.toleranceMM = toleranceMM
        self.toleranceByLabel = toleranceByLabel
        self.presets = presets
        self.threads = threads
    }

    public func tolerance(for label: Int32) -> Double { toleranceByLabel[label] ?? toleranceMM }
}

/// The result for one label.
public struct LabelResult: Sendable {
    public var label: Int32
    public var status: LabelStatus
    public var referenceVoxels: Int
    public var predictionVoxels: Int
    public var intersectionVoxels: Int
    public var voxelVolumeML: Double
    /// Surface metrics per computed preset.
    public var surface: [Compat: SurfaceMetrics]
    /// With `EvaluationSettings.keepDetail`, for matched, missed and spurious labels: what maps
    /// and pictures draw (a missed or spurious label's distances are all +∞).
    public var detail: LabelDetail?
    /// Voxels of the whole image (for true negatives); 0 when unknown.
    public var imageVoxels = 0

    public var referenceVolumeML: Double { Double(referenceVoxels) * voxelVolumeML }
    public var predictionVolumeML: Double { Double(predictionVoxels) * voxelVolumeML }
    /// prediction − reference, signed.
    public var volumeDifferenceML: Double { predictionVolumeML - referenceVolumeML }
    /// (|P| − |R|)/|R|, signed; nil when the reference is empty.
    public var relativeVolumeDifference: Double? {
        referenceVoxels == 0 ? nil : Double(predictionVoxels - referenceVoxels) / Double(referenceVoxels)
    }
    /// 2|R∩P|/(|R|+|P|); 1 when both are empty (`absent`).
    public var dice: Double {
        let total = referenceVoxels + predictionVoxels
        return total == 0 ? 1 : 2 * Double(intersectionVoxels) / Double(total)
    }
    /// |R∩P|/|R∪P|; 1 when both are empty.
    public var jaccard: Double {
        let union = referenceVoxels + predictionVoxels - intersectionVoxels
        return union == 0 ? 1 : Double(intersectionVoxels) / Double(union)
    }
}

/// What the evaluation of one matched label leaves for maps and pictures, so that they
/// draw the engine's own numbers and compute nothing.
public struct LabelDetail: Sendable {
    /// The union box of the label's two masks.
    public var box: VoxelBox
    /// Grid indices (i fastest) of the boundary voxels of each mask (the voxel rule of the
    /// `monai` and `medpy` presets), in scan order.
    public var referenceBoundary: [Int]
    public var predictionBoundary: [Int]
    /// Their distances (mm) to the other mask's boundary voxels.
    public var distances: DirectedDistances
    /// The voxel where the first preset's Hausdorff distance is reached (for `deepmind`, the
    /// voxel at the surfel corner; for `meshmetrics`, where the boundary voxels' distance is
    /// largest), and that distance.
    public var hausdorffVoxel: SIMD3<Int>
    public var hausdorffMM: Double
}

/// Wall-clock seconds of each phase, for `--timings`.
public struct PhaseTimings: Sendable {
    public var overlapSeconds = 0.0
    public var distanceSeconds = 0.0
}

/// The result of comparing a prediction with a reference, label by label.
public struct Evaluation: Sendable {
    public var settings: EvaluationSettings
    public var grid: Grid
    public var labels: [LabelResult]
    public var timings: PhaseTimings
    /// Reference voxels of the ignore label left out of every metric (`--ignore-label`).
    public var ignoredVoxels = 0
}

public enum Evaluator {
    /// Evaluates every label in one pass: a census of both volumes, then, per matched label,
    /// its union crop, boundaries and two directed distance sets, reduced per preset.
    ///
    /// The volumes must share a grid (see `GeometryCheck` and `Resample`).
    public static func evaluate(reference: LabelVolume, prediction: LabelVolume, settings: EvaluationSettings)
        -> Evaluation
    {
        precondition(reference.grid.dims == prediction.grid.dims, "volumes must share a grid")
        return LabelStorage.withBuffers(
            reference.storage, prediction.storage, Evaluate(grid: reference.grid, settings: settings))
    }

    /// `evaluate` on two label buffers of one type in voxel order (i fastest) on `grid`,
    /// such as a caller's arrays (the C interface): nothing is copied.
    public static func evaluate(_ buffers: LabelBuffers, grid: Grid, settings: EvaluationSettings) -> Evaluation {
        buffers.visit(Evaluate(grid: grid, settings: settings))
    }

    private struct Evaluate: LabelPairVisitor {
        let grid: Grid
        let settings: EvaluationSettings
        func visit<T: LabelValue>(_ reference: UnsafeBufferPointer<T>, _ prediction: UnsafeBufferPointer<T>)
            -> Evaluation
        {
            evaluate(reference: reference, prediction: prediction, grid: grid, settings: settings)
        }
    }

    /// `evaluate`, specialised per label type.
    static func evaluate<T: LabelValue>(
        reference: UnsafeBufferPointer<T>, prediction: UnsafeBufferPointer<T>, grid: Grid,
        settings: EvaluationSettings
    ) -> Evaluation {
        precondition(reference.count == grid.voxelCount && prediction.count == grid.voxelCount, "one label per voxel")
        var timings = PhaseTimings()
        let start = DispatchTime.now()
        let census = Census.count(
            reference: reference, prediction: prediction, nx: grid.nx, ny: grid.ny, nz: grid.nz,
            threads: settings.threads)
        timings.overlapSeconds = seconds(since: start)

        var byLabel = Dictionary(uniqueKeysWithValues: census.map { ($0.label, $0) })
        // Each label once, in the order asked for (a repeated label would share a slot).
        var seen = Set<Int32>()
        let wanted = (settings.labels ?? census.map(\.label)).filter { seen.insert($0).inserted }
        for label in wanted where byLabel[label] == nil { byLabel[label] = LabelCensus(label: label) }
        var results = wanted.map { label -> LabelResult in
            let c = byLabel[label] ?? LabelCensus(label: label)
            let status: LabelStatus =
                c.referenceVoxels > 0
                ? (c.predictionVoxels > 0 ? .matched : .missed) : (c.predictionVoxels > 0 ? .spurious : .absent)
            var surface: [Compat: SurfaceMetrics] = [:]
            if status != .matched {
                for preset in settings.presets { surface[preset] = .empty(absent: status == .absent) }
            }
            return LabelResult(
                label: label, status: status, referenceVoxels: c.referenceVoxels, predictionVoxels: c.predictionVoxels,
                intersectionVoxels: c.intersectionVoxels, voxelVolumeML: grid.voxelVolumeML, surface: surface,
                imageVoxels: grid.voxelCount)
        }

        let distanceStart = DispatchTime.now()
        let matched = results.indices.filter { results[$0].status == .matched }
        let matchedLabels = matched.map { results[$0].label }
        let boxes = matched.map { index -> VoxelBox in
            let c = byLabel[results[index].label] ?? LabelCensus(label: 0)
            return c.referenceBox.union(c.predictionBox)
        }
        let threads = max(1, settings.threads)
        let table = SurfaceSearch.table(spacing: grid.spacingMM, flat: grid.flatAxes)
        // With `keepDetail`, the missed and spurious labels take the slots after the matched
        // ones, so that pictures and maps can draw their boundaries too.
        let failed =
            settings.keepDetail ? results.indices.filter { [.missed, .spurious].contains(results[$0].status) } : []
        // No label to measure (every asked label absent): no pass over the volumes for none.
        let boundaries =
            (settings.presets.contains { $0 == .monai || $0 == .medpy } || settings.keepDetail)
                && !(matchedLabels.isEmpty && failed.isEmpty)
            ? BoundaryMap(
                reference: reference, prediction: prediction, grid: grid,
                labels: matchedLabels + failed.map { results[$0].label }, threads: threads) : nil
        let work = boxes.map { $0.size.x * $0.size.y * $0.size.z }
        let total = max(1, work.reduce(0, +))
        // Largest crops first. A label holding more than 1/threads of all the work runs
        // alone with the threads inside it; the rest run side by side, one per worker.
        // Either way each label's numbers are computed the same way.
        let order = matched.indices.sorted { work[$0] != work[$1] ? work[$0] > work[$1] : $0 < $1 }
        let isBig = { (slot: Int) in work[slot] * threads > total && work[slot] >= 1 << 18 }
        let big = order.filter(isBig)
        let small = order.filter { !isBig($0) }
        var computed = [LabelSurfaces](repeating: LabelSurfaces(), count: matched.count)
        let volumes = Volumes(reference: reference, prediction: prediction, grid: grid, table: table)
        func run(_ slot: Int, innerThreads: Int) -> LabelSurfaces {
            surfaceMetrics(
                label: matchedLabels[slot], slot: slot, box: boxes[slot], volumes: volumes,
                boundaries: boundaries, settings: settings, threads: innerThreads)
        }
        for slot in big { computed[slot] = run(slot, innerThreads: threads) }
        computed.withUnsafeMutableBufferPointer { out in
            let shared = UncheckedSendable(out)
            parallelFor(small.count, threads: threads) { position in
                let slot = small[position]
                shared.value[slot] = run(slot, innerThreads: 1)
            }
        }
        for (slot, index) in matched.enumerated() {
            results[index].surface = computed[slot].metrics
            results[index].detail = computed[slot].detail
        }
        if let boundaries {
            for (position, index) in failed.enumerated() {
                let slot = matched.count + position
                let c = byLabel[results[index].label] ?? LabelCensus(label: 0)
                let reference = boundaries.reference(slot: slot)
                let prediction = boundaries.prediction(slot: slot)
                // The other mask is empty: every boundary voxel is at +∞ from it.
                results[index].detail = LabelDetail(
                    box: c.referenceBox.union(c.predictionBox), referenceBoundary: reference,
                    predictionBoundary: prediction,
                    distances: DirectedDistances(
                        predictionToReference: [Double](repeating: .infinity, count: prediction.count),
                        referenceToPrediction: [Double](repeating: .infinity, count: reference.count)),
                    hausdorffVoxel: grid.voxel((reference + prediction).first ?? 0), hausdorffMM: .infinity)
            }
        }
        timings.distanceSeconds = seconds(since: distanceStart)
        return Evaluation(settings: settings, grid: grid, labels: results, timings: timings)
    }

    /// The two label volumes of an evaluation with their grid and offset table.
    struct Volumes<T: LabelValue> {
        let reference: UnsafeBufferPointer<T>
        let prediction: UnsafeBufferPointer<T>
        let grid: Grid
        let table: SurfaceSearch.Table
    }

    /// The surface metrics of one matched label per preset, and its detail when kept.
    struct LabelSurfaces {
        var metrics: [Compat: SurfaceMetrics] = [:]
        var detail: LabelDetail?
    }

    /// The directed distances of one matched label, reduced under each preset.
    static func surfaceMetrics<T: LabelValue>(
        label: Int32, slot: Int, box: VoxelBox, volumes: Volumes<T>, boundaries: BoundaryMap?,
        settings: EvaluationSettings, threads: Int
    ) -> LabelSurfaces {
        var out = LabelSurfaces()
        let tolerance = settings.tolerance(for: label)
        let primary = settings.presets.first ?? .monai
        var hausdorff: (voxel: SIMD3<Int>, distance: Double)?
        if let boundaries {
            let distances = voxelDistances(
                label: label, slot: slot, box: box, volumes: volumes, boundaries: boundaries, threads: threads)
            // Both voxel presets from one reduction (they share all but the percentile).
            if settings.presets.contains(where: { $0 == .monai || $0 == .medpy }) {
                let voxel = Reduce.voxelMetrics(
                    distances, percentile: settings.percentile, toleranceMM: tolerance,
                    pooled: settings.presets.contains(.medpy))
                if settings.presets.contains(.monai) { out.metrics[.monai] = voxel.monai }
                if let medpy = voxel.medpy { out.metrics[.medpy] = medpy }
            }
            if settings.keepDetail {
                let reference = boundaries.reference(slot: slot)
                let prediction = boundaries.prediction(slot: slot)
                if primary != .deepmind {
                    let (index, distance) = farthest(
                        [(prediction, distances.predictionToReference), (reference, distances.referenceToPrediction)])
                    hausdorff = (volumes.grid.voxel(index), distance)
                }
                out.detail = LabelDetail(
                    box: box, referenceBoundary: reference, predictionBoundary: prediction, distances: distances,
                    hausdorffVoxel: .zero, hausdorffMM: 0)
            }
        }
        // One padded crop serves both the surfels and the mesh.
        let crop =
            settings.presets.contains(.deepmind) || settings.presets.contains(.meshmetrics)
            ? MeshCrop(
                label: label, box: box, reference: volumes.reference, prediction: volumes.prediction,
                grid: volumes.grid) : nil
        if settings.presets.contains(.deepmind), let crop {
            let (distances, surfels) = surfelDistances(crop: crop, volumes: volumes, threads: threads)
            out.metrics[.deepmind] = Reduce.surfelMetrics(
                distances, percentile: settings.percentile, toleranceMM: tolerance)
            if settings.keepDetail && primary == .deepmind {
                let (corner, distance) = farthest(
                    [
                        (surfels.predictionPoints, distances.predictionToReference),
                        (surfels.referencePoints, distances.referenceToPrediction),
                    ])
                hausdorff = (surfels.voxel(ofCorner: corner, box: box), distance)
            }
        }
        if settings.presets.contains(.meshmetrics), let crop {
            out.metrics[.meshmetrics] =
                meshMetrics(label: label, box: box, volumes: volumes, settings: settings, threads: threads, crop: crop)
                .surface
        }
        if let hausdorff {
            out.detail?.hausdorffVoxel = hausdorff.voxel
            out.detail?.hausdorffMM = hausdorff.distance
        }
        return out
    }

    /// The point with the largest distance (the first in the order given on ties).
    static func farthest(_ sets: [([Int], [Double])]) -> (Int, Double) {
        var best = (index: -1, distance: -1.0)
        for (points, distances) in sets {
            precondition(points.count == distances.count, "one distance per surface point")
            for (index, distance) in zip(points, distances) where distance > best.distance {
                best = (index, distance)
            }
        }
        return (best.index, best.distance)
    }

    /// D_PR and D_RP between the surfels of the label's two masks (from its padded crop),
    /// with their areas.
    static func surfelDistances<T: LabelValue>(crop: MeshCrop, volumes: Volumes<T>, threads: Int) -> (
        DirectedDistances, SurfelCrop
    ) {
        let grid = volumes.grid
        let surfels = SurfelCrop(crop: crop, spacing: grid.spacingMM)
        let cropVoxels = surfels.nx * surfels.ny * surfels.nz
        let corners = VoxelBox(
            lower: .zero, upper: SIMD3(Int32(surfels.nx - 1), Int32(surfels.ny - 1), Int32(surfels.nz - 1)))
        func search(_ queries: [Int], _ sources: [Int]) -> [Double] {
            SurfaceSearch.distances(
                nx: surfels.nx, ny: surfels.ny, nz: surfels.nz, spacing: grid.spacingMM, box: corners,
                queries: queries, sources: sources, table: volumes.table, threads: threads, transformVoxels: cropVoxels
            ) {
                // The transform on the whole corner grid, from the point lists.
                DistanceTransform.distances(
                    sources: sources, queries: queries, box: corners, nx: surfels.nx, ny: surfels.ny,
                    spacing: grid.spacingMM, threads: threads)
            }
        }
        let distances = DirectedDistances(
            predictionToReference: search(surfels.predictionPoints, surfels.referencePoints),
            referenceToPrediction: search(surfels.referencePoints, surfels.predictionPoints),
            predictionAreas: surfels.predictionAreas, referenceAreas: surfels.referenceAreas)
        return (distances, surfels)
    }

    /// D_PR and D_RP between the boundary voxels of the label's two masks, searched over the
    /// label's box; the transform, when needed, runs on the box from the same lists.
    static func voxelDistances<T: LabelValue>(
        label: Int32, slot: Int, box: VoxelBox, volumes: Volumes<T>, boundaries: BoundaryMap, threads: Int
    ) -> DirectedDistances {
        let grid = volumes.grid
        let referencePoints = boundaries.reference(slot: slot)
        let predictionPoints = boundaries.prediction(slot: slot)
        let size = box.size
        func search(_ queries: [Int], _ sources: [Int]) -> [Double] {
            SurfaceSearch.distances(
                nx: grid.nx, ny: grid.ny, nz: grid.nz, spacing: grid.spacingMM, box: box, queries: queries,
                sources: sources, table: volumes.table, threads: threads, transformVoxels: size.x * size.y * size.z
            ) {
                DistanceTransform.distances(
                    sources: sources, queries: queries, box: box, nx: grid.nx, ny: grid.ny, spacing: grid.spacingMM,
                    threads: threads)
            }
        }
        return DirectedDistances(
            predictionToReference: search(predictionPoints, referencePoints),
            referenceToPrediction: search(referencePoints, predictionPoints))
    }

    /// The union box of one label's two masks, from a census (tests and tools).
    static func unionBox(reference: LabelVolume, prediction: LabelVolume, label: Int32, threads: Int) -> VoxelBox {
        let grid = reference.grid
        let census =
            Census.count(
                reference: reference.int32Labels, prediction: prediction.int32Labels, nx: grid.nx, ny: grid.ny,
                nz: grid.nz, threads: threads
            ).first { $0.label == label } ?? LabelCensus(label: label)
        return census.referenceBox.union(census.predictionBox)
    }

    /// D_PR and D_RP of one label of two volumes (tests and tools).
    static func directedDistances(
        reference: LabelVolume, prediction: LabelVolume, label: Int32, surfels: Bool = false, threads: Int = 1
    ) -> DirectedDistances {
        let grid = reference.grid
        let box = unionBox(reference: reference, prediction: prediction, label: label, threads: threads)
        let table = SurfaceSearch.table(spacing: grid.spacingMM, flat: grid.flatAxes)
        return reference.int32Labels.withUnsafeBufferPointer { ref in
            prediction.int32Labels.withUnsafeBufferPointer { pred in
                let volumes = Volumes(reference: ref, prediction: pred, grid: grid, table: table)
                if surfels {
                    let crop = MeshCrop(label: label, box: box, reference: ref, prediction: pred, grid: grid)
                    return surfelDistances(crop: crop, volumes: volumes, threads: threads).0
                }
                let map = BoundaryMap(reference: ref, prediction: pred, grid: grid, labels: [label], threads: threads)
                return voxelDistances(
                    label: label, slot: 0, box: box, volumes: volumes, boundaries: map, threads: threads)
            }
        }
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
