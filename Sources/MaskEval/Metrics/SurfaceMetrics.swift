/// The two directed distance sets of one label, computed once; every surface metric is a
/// reduction of them (google-deepmind/surface-distance's habit).
public struct DirectedDistances: Sendable {
    /// D_PR: for each prediction surface point, the distance (mm) to the reference surface.
    public var predictionToReference: [Double]
    /// D_RP: for each reference surface point, the distance (mm) to the prediction surface.
    public var referenceToPrediction: [Double]
    /// Surface areas (mm²) of the points, for the area-weighted `deepmind` preset; nil for
    /// the voxel presets, where every point counts once.
    public var predictionAreas: [Double]?
    public var referenceAreas: [Double]?

    public init(
        predictionToReference: [Double], referenceToPrediction: [Double], predictionAreas: [Double]? = nil,
        referenceAreas: [Double]? = nil
    ) {
        self.predictionToReference = predictionToReference
        self.referenceToPrediction = referenceToPrediction
        self.predictionAreas = predictionAreas
        self.referenceAreas = referenceAreas
    }
}

/// The surface metrics of one label under one preset, in mm (nsd is a fraction).
public struct SurfaceMetrics: Equatable, Sendable {
    /// max(max D_PR, max D_RP). MONAI `compute_hausdorff_distance`; MedPy `hd`.
    public var hausdorffMM: Double
    /// The Q-th percentile Hausdorff distance (`hdQ_mm`): default and `deepmind`, the larger
    /// of the two directed percentiles; `medpy`, one percentile of the pooled distances.
    public var hdPercentileMM: Double
    /// (ΣD_PR + ΣD_RP)/(|D_PR| + |D_RP|): the pooled mean (MONAI symmetric ASD, MedPy `assd`).
    public var assdMM: Double
    /// (mean D_PR + mean D_RP)/2: the mean of the directed means (MetricsReloaded MASD).
    public var masdMM: Double
    /// mean D_RP.
    public var asdReferenceToPredictionMM: Double
    /// mean D_PR (MedPy `asd(pred, ref)`; MONAI directed ASD).
    public var asdPredictionToReferenceMM: Double
    /// Normalized surface Dice at tolerance τ: the fraction of both surfaces within τ mm of
    /// the other (MONAI `compute_surface_dice`).
    public var nsd: Double
    /// Boundary IoU at τ (`biou`), a fraction, reported by the `meshmetrics` preset alone
    /// (`MeshReduce.boundaryIoU`, MeshMetrics `biou`): computed for its matched labels, the
    /// status value in every empty-mask result (`empty`), nil in the other presets' matched
    /// results. NaN (reported as undefined) when neither mask has a voxel within τ of its
    /// surface (τ at most half a voxel).
    public var boundaryIoU: Double?

    public init(
        hausdorffMM: Double, hdPercentileMM: Double, assdMM: Double, masdMM: Double,
        asdReferenceToPredictionMM: Double, asdPredictionToReferenceMM: Double, nsd: Double,
        boundaryIoU: Double? = nil
    ) {
        self.hausdorffMM = hausdorffMM
        self.hdPercentileMM = hdPercentileMM
        self.assdMM = assdMM
        self.masdMM = masdMM
        self.asdReferenceToPredictionMM = asdReferenceToPredictionMM
        self.asdPredictionToReferenceMM = asdPredictionToReferenceMM
        self.nsd = nsd
        self.boundaryIoU = boundaryIoU
    }

    /// The values of an empty-mask status (METRICS.md): `missed`/`spurious` give +∞, NSD
    /// and BIoU 0; `absent` gives 0, NSD and BIoU 1.
    public static func empty(absent: Bool) -> SurfaceMetrics {
        let d = absent ? 0.0 : .infinity
        return SurfaceMetrics(
            hausdorffMM: d, hdPercentileMM: d, assdMM: d, masdMM: d, asdReferenceToPredictionMM: d,
            asdPredictionToReferenceMM: d, nsd: absent ? 1 : 0, boundaryIoU: absent ? 1 : 0)
    }
}

/// Which published definition a surface metric follows (`--compat`).
public enum Compat: String, CaseIterable, Sendable, Comparable {
    /// MONAI's and MetricsReloaded's definitions: the default.
    case monai
    /// MedPy 0.5.2: HD95 from the pooled distances of both directions.
    case medpy
    /// google-deepmind/surface-distance: area-weighted surfels on the voxel-corner grid.
    case deepmind
    /// MeshMetrics 0.2.1: samples on the voxel-face surface, exact point-to-surface
    /// distances, area-weighted (`MeshReduce`).
    case meshmetrics

    public static func < (a: Compat, b: Compat) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

enum Reduce {
    /// The default preset (MONAI, MetricsReloaded) and, with `pooledPercentile`, MedPy.
    static func voxelMetrics(
        _ d: DirectedDistances, percentile: Double, toleranceMM: Double, pooledPercentile: Bool
    ) -> SurfaceMetrics {
        let both = voxelMetrics(d, percentile: percentile, toleranceMM: toleranceMM, pooled: pooledPercentile)
        return both.medpy ?? both.monai
    }

    /// The default preset (MONAI, MetricsReloaded) and MedPy from one set of directed
    /// distances: they differ only in the percentile, the larger of the two directed ones
    /// against one of the pooled distances. Each direction's histogram is built once and,
    /// with `pooled`, the pooled one merged from them (counts add; the same values and
    /// counts as hashing D_PR + D_RP, so the same percentile). MedPy is nil without `pooled`.
    static func voxelMetrics(
        _ d: DirectedDistances, percentile: Double, toleranceMM: Double, pooled: Bool
    ) -> (monai: SurfaceMetrics, medpy: SurfaceMetrics?) {
        let pr = d.predictionToReference
        let rp = d.referenceToPrediction
        precondition(!pr.isEmpty && !rp.isEmpty, "both surfaces must be non-empty")
        let sumPR = sum(pr)
        let sumRP = sum(rp)
        let meanPR = sumPR / Double(pr.count)
        let meanRP = sumRP / Double(rp.count)
        let histogramPR = DistanceHistogram(pr)
        let histogramRP = DistanceHistogram(rp)
        let within =
            pr.reduce(0) { $0 + ($1 <= toleranceMM ? 1 : 0) } + rp.reduce(0) { $0 + ($1 <= toleranceMM ? 1 : 0) }
        let monai = SurfaceMetrics(
            hausdorffMM: max(pr.max() ?? 0, rp.max() ?? 0),
            hdPercentileMM: max(histogramPR.linearPercentile(percentile), histogramRP.linearPercentile(percentile)),
            assdMM: (sumPR + sumRP) / Double(pr.count + rp.count),
            masdMM: (meanPR + meanRP) / 2,
            asdReferenceToPredictionMM: meanRP,
            asdPredictionToReferenceMM: meanPR,
            nsd: Double(within) / Double(pr.count + rp.count))
        guard pooled else { return (monai, nil) }
        var medpy = monai
        medpy.hdPercentileMM = DistanceHistogram(merging: histogramPR, histogramRP).linearPercentile(percentile)
        return (monai, medpy)
    }

    /// Left-to-right sum: the order is the scan order of the surface points, so the result
    /// does not depend on the thread count.
    static func sum(_ values: [Double]) -> Double {
        var total = 0.0
        for value in values { total += value }
        return total
    }
}

extension Reduce {
    /// The `deepmind` preset: area-weighted reductions of the surfel distances, as
    /// `compute_robust_hausdorff`, `compute_average_surface_distance` and
    /// `compute_surface_dice_at_tolerance` do.
    static func surfelMetrics(_ d: DirectedDistances, percentile: Double, toleranceMM: Double) -> SurfaceMetrics {
        let pr = d.predictionToReference
        let rp = d.referenceToPrediction
        let prAreas = d.predictionAreas ?? []
        let rpAreas = d.referenceAreas ?? []
        precondition(!pr.isEmpty && !rp.isEmpty, "both surfaces must be non-empty")
        precondition(pr.count == prAreas.count && rp.count == rpAreas.count, "one area per surface point")
        // Sums in scan order, so the result does not depend on the thread count.
        func sums(_ distances: [Double], _ areas: [Double]) -> (area: Double, weighted: Double, within: Double) {
            var area = 0.0
            var weighted = 0.0
            var within = 0.0
            for (distance, a) in zip(distances, areas) {
                area += a
                weighted += distance * a
                if distance <= toleranceMM { within += a }
            }
            return (area, weighted, within)
        }
        let (areaPR, weightedPR, withinPR) = sums(pr, prAreas)
        let (areaRP, weightedRP, withinRP) = sums(rp, rpAreas)
        let meanPR = weightedPR / areaPR
        let meanRP = weightedRP / areaRP
        let histogramPR = DistanceHistogram(pr, weights: prAreas)
        let histogramRP = DistanceHistogram(rp, weights: rpAreas)
        return SurfaceMetrics(
            hausdorffMM: max(histogramPR.weightedPercentile(100), histogramRP.weightedPercentile(100)),
            hdPercentileMM: max(histogramPR.weightedPercentile(percentile), histogramRP.weightedPercentile(percentile)),
            assdMM: (weightedPR + weightedRP) / (areaPR + areaRP),
            masdMM: (meanPR + meanRP) / 2,
            asdReferenceToPredictionMM: meanRP,
            asdPredictionToReferenceMM: meanPR,
            nsd: (withinPR + withinRP) / (areaPR + areaRP))
    }
}
