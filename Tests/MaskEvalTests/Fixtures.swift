import Foundation

@testable import MaskEval

/// A fresh temporary folder per test, removed by the caller's `defer`.
func temporaryFolder() throws -> String {
    let path = NSTemporaryDirectory() + "maskeval-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A seeded generator (SplitMix64) so property tests can print and replay their seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A header for an nx×ny×nz volume of `type` with the given spacing, sform and qform set.
func header(
    _ nx: Int, _ ny: Int, _ nz: Int, type: VoxelType = .int16, spacing: (Double, Double, Double) = (1, 1, 1),
    version: Int = 1
) -> NIfTIHeader {
    NIfTIHeader(
        niftiVersion: version, dim: [3, nx, ny, nz, 1, 1, 1, 1],
        pixdim: [1, spacing.0, spacing.1, spacing.2, 1, 1, 1, 1], datatype: type.rawValue,
        qformCode: 1, sformCode: 1, qoffsetX: -10, qoffsetY: 5, qoffsetZ: 2,
        srowX: [spacing.0, 0, 0, -10], srowY: [0, spacing.1, 0, 5], srowZ: [0, 0, spacing.2, 2])
}

/// Builds a label array of nx×ny×nz from a closure of (i, j, k).
func makeLabels(_ nx: Int, _ ny: Int, _ nz: Int, _ value: (Int, Int, Int) -> Int32) -> [Int32] {
    var labels = [Int32](repeating: 0, count: nx * ny * nz)
    for k in 0..<nz {
        for j in 0..<ny {
            for i in 0..<nx { labels[i + nx * (j + ny * k)] = value(i, j, k) }
        }
    }
    return labels
}

/// An in-memory volume on an axis-aligned grid with the given spacing; numpy axis order
/// (axis 0 = i) as in ../shared/conformance/peer_cases.md.
func volume(
    _ nx: Int, _ ny: Int, _ nz: Int, spacing: (Double, Double, Double) = (1, 1, 1),
    _ value: (Int, Int, Int) -> Int32
) -> LabelVolume {
    LabelVolume(
        grid: Grid(nx: nx, ny: ny, nz: nz, affine: .diagonal(spacing.0, spacing.1, spacing.2)),
        labels: makeLabels(nx, ny, nz, value))
}

/// A box mask [lo, hi) per axis, like numpy slices.
func box(_ lo: (Int, Int, Int), _ hi: (Int, Int, Int), label: Int32 = 1) -> (Int, Int, Int) -> Int32 {
    { i, j, k in (i >= lo.0 && i < hi.0 && j >= lo.1 && j < hi.1 && k >= lo.2 && k < hi.2) ? label : 0 }
}

/// The result of one label under the given presets.
func evaluateLabel(
    _ reference: LabelVolume, _ prediction: LabelVolume, label: Int32 = 1, presets: [Compat] = [.monai],
    percentile: Double = 95, tolerance: Double = 1, threads: Int = 2
) -> LabelResult {
    let settings = EvaluationSettings(
        labels: [label], percentile: percentile, toleranceMM: tolerance, presets: presets, threads: threads)
    return Evaluator.evaluate(reference: reference, prediction: prediction, settings: settings).labels[0]
}

/// D_PR and D_RP of one label (for directed peer values).
func directed(_ reference: LabelVolume, _ prediction: LabelVolume, label: Int32 = 1) -> DirectedDistances {
    Evaluator.directedDistances(reference: reference, prediction: prediction, label: label)
}

/// Relative-or-absolute closeness for golden values.
func close(_ a: Double, _ b: Double, rtol: Double = 0, atol: Double = 0) -> Bool {
    if a == b { return true }
    return abs(a - b) <= atol + rtol * abs(b)
}

/// The offset table `Evaluator` builds for a grid.
func searchTable(_ grid: Grid) -> SurfaceSearch.Table {
    SurfaceSearch.Table(spacing: grid.spacingMM, flat: (grid.nx == 1, grid.ny == 1, grid.nz == 1))
}

/// The compare report of an evaluation, as the pipeline builds it.
func makeReport(
    _ evaluation: Evaluation, reference: LabelVolume, prediction: LabelVolume, names: LabelNames = LabelNames(),
    penalty: Penalty = .none
) -> CompareReport {
    var settings = RunSettings()
    settings.presets = evaluation.settings.presets
    settings.percentile = evaluation.settings.percentile
    settings.toleranceMM = evaluation.settings.toleranceMM
    settings.toleranceByLabel = evaluation.settings.toleranceByLabel
    settings.labels = evaluation.settings.labels
    settings.penalty = penalty
    return CompareReport(
        rows: LabelRow.rows(evaluation, caseID: "", names: names), settings: settings,
        reference: reference.description, prediction: prediction.description)
}
