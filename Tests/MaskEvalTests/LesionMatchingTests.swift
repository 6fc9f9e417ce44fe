import Testing

@testable import MaskEval

/// Matching rules with hand-computed values on small in-memory masks.
struct LesionMatchingTests {
    static func evaluate(
        _ ref: [Int32], _ pred: [Int32], _ dims: (Int, Int, Int), _ settings: LesionSettings,
        spacing: (Double, Double, Double) = (1, 1, 1)
    ) -> LesionStructureResult {
        let grid = Grid(nx: dims.0, ny: dims.1, nz: dims.2, affine: .diagonal(spacing.0, spacing.1, spacing.2))
        return LesionEvaluator.evaluateMasks(
            name: "1", reference: ref, prediction: pred, grid: grid, settings: settings)
    }

    static let iou = LesionSettings(threads: 2)
    static let brats = LesionSettings(matching: .brats2023(.glioma), threads: 2)

    /// Reference: a 10×4×4 bar (160 voxels). Prediction: its two ends, 4×4×4 each, with a
    /// 2-voxel gap. IoU of each end = 64/160 = 0.4 < 0.5: no match, 2 FP, 1 FN. BraTS: both
    /// ends lie in the dilation, so the lesion is a TP with Dice 2·128/(160+128) = 8/9.
    @Test func splitLesion() {
        let dims = (16, 8, 8)
        let ref = makeLabels(16, 8, 8) { i, j, k in i >= 2 && i < 12 && j >= 2 && j < 6 && k >= 2 && k < 6 ? 1 : 0 }
        let pred = makeLabels(16, 8, 8) { i, j, k in
            (i >= 2 && i < 6 || i >= 8 && i < 12) && j >= 2 && j < 6 && k >= 2 && k < 6 ? 1 : 0
        }
        let byIoU = Self.evaluate(ref, pred, dims, Self.iou)
        #expect(byIoU.aggregate("tp") == 0 && byIoU.aggregate("fp") == 2 && byIoU.aggregate("fn") == 1)
        #expect(byIoU.aggregate("pq") == 0 && byIoU.aggregate("rq") == 0)
        let byBraTS = Self.evaluate(ref, pred, dims, Self.brats)
        #expect(byBraTS.aggregate("tp") == 1 && byBraTS.aggregate("fp") == 0 && byBraTS.aggregate("fn") == 0)
        #expect(byBraTS.rows.count == 1 && byBraTS.rows[0].matchedIDs == [1, 2])
        #expect(abs((byBraTS.aggregate("lesion_dice") ?? 0) - 8.0 / 9.0) < 1e-12)
    }

    /// Reference: two 4×4×4 cubes, 4 voxels apart along i. Prediction: one 12×4×4 bar over
    /// both. IoU: 64/192 each, no match (1 FP, 2 FN). BraTS GLI: the dilation (3 voxels each
    /// way) joins the cubes into one 128-voxel lesion: a TP with Dice 2·128/(128+192) = 0.8.
    @Test func mergedLesions() {
        let dims = (20, 8, 8)
        let ref = makeLabels(20, 8, 8) { i, j, k in
            (i >= 2 && i < 6 || i >= 10 && i < 14) && j >= 2 && j < 6 && k >= 2 && k < 6 ? 1 : 0
        }
        let pred = makeLabels(20, 8, 8) { i, j, k in i >= 2 && i < 14 && j >= 2 && j < 6 && k >= 2 && k < 6 ? 1 : 0 }
        let byIoU = Self.evaluate(ref, pred, dims, Self.iou)
        #expect(byIoU.aggregate("tp") == 0 && byIoU.aggregate("fp") == 1 && byIoU.aggregate("fn") == 2)
        let byBraTS = Self.evaluate(ref, pred, dims, Self.brats)
        #expect(byBraTS.aggregate("reference_lesions") == 1)
        #expect(byBraTS.aggregate("tp") == 1)
        #expect(abs((byBraTS.aggregate("lesion_dice") ?? 0) - 0.8) < 1e-12)
        // BraTS MET dilates once: 4 voxels apart stay two lesions, each matched by the bar.
        let met = Self.evaluate(ref, pred, dims, LesionSettings(matching: .brats2023(.metastasis), threads: 1))
        #expect(met.aggregate("reference_lesions") == 2 && met.aggregate("tp") == 2)
        // Dice of each: 2·64/(64+192) = 0.5.
        #expect(abs((met.aggregate("lesion_dice") ?? 0) - 0.5) < 1e-12)
    }

    /// A 27-voxel lesion (≤ 50 mm³ at 1 mm) is left out of the BraTS counts and means; the
    /// 64-voxel one stays. An unmatched 8-voxel prediction still counts as FP:
    /// lesion_dice = (1 + 0)/(1 + 1) = 0.5, lesion_hd95 = (0 + 374)/2 = 187.
    @Test func lesionUnderTheVolumeThreshold() {
        let dims = (24, 12, 12)
        let ref = makeLabels(24, 12, 12) { i, j, k in
            (i < 4 && j < 4 && k < 4) || (i >= 12 && i < 15 && j >= 8 && j < 11 && k >= 8 && k < 11) ? 1 : 0
        }
        let pred = makeLabels(24, 12, 12) { i, j, k in
            (i < 4 && j < 4 && k < 4) || (i >= 20 && i < 22 && j < 2 && k >= 10) ? 1 : 0
        }
        let r = Self.evaluate(ref, pred, dims, Self.brats)
        #expect(r.aggregate("tp") == 1 && r.aggregate("fn") == 0 && r.aggregate("fp") == 1)
        #expect(r.aggregate("left_out_lesions") == 1)
        #expect(r.aggregate("lesion_dice") == 0.5)
        #expect(r.aggregate("lesion_hd95_mm") == 187)
        // --min-lesion-voxels 20 replaces the BraTS threshold: both lesions count.
        var settings = Self.brats
        settings.minimumVoxels = 20
        let kept = Self.evaluate(ref, pred, dims, settings)
        #expect(kept.aggregate("fn") == 1 && kept.aggregate("left_out_lesions") == 0)
        // IoU rules with --min-lesion-voxels 10: the 8-voxel prediction is left out entirely.
        var iou = Self.iou
        iou.minimumVoxels = 10
        let small = Self.evaluate(ref, pred, dims, iou)
        #expect(small.aggregate("tp") == 1 && small.aggregate("fp") == 0 && small.aggregate("fn") == 1)
    }

    /// Two cubes touching at a corner: one reference lesion with 26-connectivity (matched
    /// by an identical prediction: PQ 1), two with 6.
    @Test func connectivityOnDiagonalContacts() {
        let dims = (8, 8, 8)
        let mask = makeLabels(8, 8, 8) { i, j, k in
            (i < 3 && j < 3 && k < 3) || (i >= 3 && i < 6 && j >= 3 && j < 6 && k >= 3 && k < 6) ? 1 : 0
        }
        let r26 = Self.evaluate(mask, mask, dims, Self.iou)
        #expect(r26.aggregate("tp") == 1 && r26.aggregate("pq") == 1)
        var six = Self.iou
        six.connectivity = .six
        let r6 = Self.evaluate(mask, mask, dims, six)
        #expect(r6.aggregate("tp") == 2 && r6.aggregate("pq") == 1 && r6.aggregate("reference_lesions") == 2)
    }

    /// Empty sides: no prediction gives FN only, no reference FP only; both empty: rates
    /// undefined (panoptica: NaN), BraTS Dice 1 and HD95 0.
    @Test func emptySides() {
        let dims = (8, 8, 8)
        let empty = [Int32](repeating: 0, count: 512)
        let cube = makeLabels(8, 8, 8) { i, j, k in i < 4 && j < 4 && k < 4 ? 1 : 0 }
        let noPrediction = Self.evaluate(cube, empty, dims, Self.iou)
        #expect(noPrediction.aggregate("fn") == 1 && noPrediction.aggregate("precision") == nil)
        #expect(noPrediction.aggregate("recall") == 0 && noPrediction.aggregate("pq") == 0)
        let noReference = Self.evaluate(empty, cube, dims, Self.brats)
        #expect(noReference.aggregate("fp") == 1 && noReference.aggregate("lesion_dice") == 0)
        #expect(noReference.aggregate("lesion_hd95_mm") == BraTS2023.penaltyMM)
        let neither = Self.evaluate(empty, empty, dims, Self.brats)
        #expect(neither.aggregate("lesion_dice") == 1 && neither.aggregate("lesion_hd95_mm") == 0)
        let neitherIoU = Self.evaluate(empty, empty, dims, Self.iou)
        #expect(neitherIoU.aggregate("pq") == nil && neitherIoU.aggregate("f1") == nil)
    }

    /// IoU exactly 0.5: matched by `iou:0.5`, not by `iou>:0.5`.
    @Test func strictThreshold() {
        let dims = (8, 8, 8)
        let ref = makeLabels(8, 8, 8) { i, j, k in i < 4 && j < 4 && k < 4 ? 1 : 0 }
        let pred = makeLabels(8, 8, 8) { i, j, k in i < 2 && j < 4 && k < 4 ? 1 : 0 }
        #expect(Self.evaluate(ref, pred, dims, Self.iou).aggregate("tp") == 1)
        let strict = LesionSettings(matching: .iou(threshold: 0.5, strict: true), threads: 1)
        #expect(Self.evaluate(ref, pred, dims, strict).aggregate("tp") == 0)
    }

    @Test func parseMatching() throws {
        #expect(try LesionMatching.parse("iou:0.3") == .iou(threshold: 0.3, strict: false))
        #expect(try LesionMatching.parse("iou>:0.5") == .iou(threshold: 0.5, strict: true))
        #expect(try LesionMatching.parse("brats2023:met") == .brats2023(.metastasis))
        #expect(throws: InputError.self) { try LesionMatching.parse("iou:2") }
        // A strict threshold of 1 can never be passed: refused, not a run where nothing matches.
        #expect(throws: InputError.self) { try LesionMatching.parse("iou>:1") }
        #expect(try LesionMatching.parse("iou:1") == .iou(threshold: 1, strict: false))
        #expect(throws: InputError.self) { try LesionMatching.parse("dice:0.5") }
    }
}
