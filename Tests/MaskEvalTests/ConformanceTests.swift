import Testing

@testable import MaskEval

/// Golden values from the peers' own test suites (../shared/conformance/peer_cases.md);
/// each test names its case id.
@Suite struct MONAIConformance {
    /// MONAI's `create_spherical_seg_3d`: 1 where (i·s0 − c0)² + (j·s1 − c1)² + (k·s2 − c2)² ≤ r²
    /// on 99³; the centre is in mm and not scaled by the spacing.
    static func sphere(
        r: Double = 20, c: (Double, Double, Double) = (49, 49, 49), spacing: (Double, Double, Double) = (1, 1, 1)
    ) -> LabelVolume {
        volume(99, 99, 99, spacing: spacing) { i, j, k in
            let x = Double(i) * spacing.0 - c.0
            let y = Double(j) * spacing.1 - c.1
            let z = Double(k) * spacing.2 - c.2
            return x * x + y * y + z * z <= r * r ? 1 : 0
        }
    }

    static let zeros = volume(99, 99, 99) { _, _, _ in 0 }

    /// (case, pred, gt, percentile, expected [directed pred→gt, symmetric])
    static let hausdorffCases: [(String, LabelVolume, LabelVolume, Double, [Double])] = [
        ("MO-HD-1", sphere(), sphere(), 100, [0, 0]),
        (
            "MO-HD-2", sphere(r: 20, c: (20, 20, 20)), sphere(r: 20, c: (19, 19, 19)), 100,
            [1.7320508075688772, 1.7320508075688772]
        ),
        ("MO-HD-3", sphere(r: 33, c: (19, 33, 22)), sphere(r: 33, c: (20, 33, 22)), 100, [1, 1]),
        (
            "MO-HD-4", sphere(r: 20, c: (20, 33, 22)), sphere(r: 40, c: (20, 33, 22)), 100,
            [20.09975124224178, 20.223748416156685]
        ),
        (
            "MO-HD-7", sphere(r: 20, c: (20, 33, 22)), sphere(r: 40, c: (20, 33, 22)), 95,
            [19.924858845171276, 20.09975124224178]
        ),
        (
            "MO-HD-8", sphere(r: 20, c: (20, 20, 20), spacing: (0.85, 1.2, 0.9)),
            sphere(r: 20, c: (19, 19, 19), spacing: (0.85, 1.2, 0.9)), 100, [2.0808651447296143, 2.2671568]
        ),
        (
            "MO-HD-9", sphere(r: 15, c: (20, 33, 22), spacing: (0.85, 1.2, 0.9)),
            sphere(r: 30, c: (20, 33, 22), spacing: (0.85, 1.2, 0.9)), 100, [15.439640998840332, 15.62594]
        ),
    ]

    @Test(arguments: hausdorffCases.indices)
    func hausdorff(index: Int) {
        let (id, pred, gt, q, expected) = Self.hausdorffCases[index]
        let d = directed(gt, pred)
        let directedValue =
            q == 100 ? d.predictionToReference.max()! : DistanceHistogram(d.predictionToReference).linearPercentile(q)
        let result = evaluateLabel(gt, pred, percentile: q).surface[.monai]!
        #expect(close(directedValue, expected[0], rtol: 1e-6), "\(id) directed \(directedValue)")
        let symmetric = q == 100 ? result.hausdorffMM : result.hdPercentileMM
        #expect(close(symmetric, expected[1], rtol: 1e-6), "\(id) symmetric \(symmetric)")
    }

    @Test func emptyInputsAreInfinite() {
        // MO-HD-5 / MO-ASD-7: empty prediction; MO-HD-6: empty reference.
        let missed = evaluateLabel(MONAIConformance.sphere(r: 40, c: (20, 33, 22)), Self.zeros)
        #expect(missed.status == .missed)
        #expect(missed.surface[.monai]!.hausdorffMM == .infinity && missed.surface[.monai]!.assdMM == .infinity)
        let spurious = evaluateLabel(Self.zeros, MONAIConformance.sphere())
        #expect(spurious.status == .spurious && spurious.surface[.monai]!.hdPercentileMM == .infinity)
    }

    /// (case, pred, gt, [symmetric pooled mean, pred→gt mean], rtol)
    static let averageCases: [(String, LabelVolume, LabelVolume, [Double])] = [
        ("MO-ASD-1", sphere(), sphere(), [0, 0]),
        ("MO-ASD-3", sphere(r: 33, c: (19, 33, 22)), sphere(r: 33, c: (20, 33, 22)), [0.350217, 0.3483278807706289]),
        ("MO-ASD-4", sphere(r: 20, c: (20, 33, 22)), sphere(r: 40, c: (20, 33, 22)), [15.117741, 12.040033513150455]),
        (
            "MO-ASD-9", sphere(r: 33, c: (42, 45, 52), spacing: (0.85, 1.2, 0.9)),
            sphere(r: 33, c: (43, 45, 52), spacing: (0.85, 1.2, 0.9)), [0.4950997436983202, 0.4950997436983202]
        ),
    ]

    @Test(arguments: averageCases.indices)
    func averageSurfaceDistance(index: Int) {
        let (id, pred, gt, expected) = Self.averageCases[index]
        let m = evaluateLabel(gt, pred).surface[.monai]!
        #expect(close(m.assdMM, expected[0], rtol: 1e-5), "\(id) symmetric \(m.assdMM)")
        #expect(
            close(m.asdPredictionToReferenceMM, expected[1], rtol: 1e-5),
            "\(id) directed \(m.asdPredictionToReferenceMM)")
    }

    @Test func handlerSphereCutByTheImageEdge() {
        // MO-H-1: centre-offset spheres; the reference is cut at index 0 of axis 0.
        let pred = Self.sphere(r: 20, c: (20, 20, 20))
        let gt = Self.sphere(r: 20, c: (10, 20, 20))
        let m = evaluateLabel(gt, pred).surface[.monai]!
        #expect(close(m.hausdorffMM, 10, rtol: 1e-6))
        #expect(close(m.asdPredictionToReferenceMM, 4.1713344057888655, rtol: 1e-6))
        #expect(close(m.assdMM, 3.9416100055005714, rtol: 1e-6))
    }

    @Test func surfaceDice3D() {
        // MO-NSD-2: half-spaces along axis 2, τ = 0; class 1 is the foreground, class 0 the rest.
        let pred = volume(200, 110, 80) { _, _, k in k >= 20 ? 1 : 2 }
        let gt = volume(200, 110, 80) { _, _, k in k >= 30 ? 1 : 2 }
        let evaluation = Evaluator.evaluate(
            reference: gt, prediction: pred, settings: EvaluationSettings(toleranceMM: 0, threads: 2))
        #expect(close(evaluation.labels[0].surface[.monai]!.nsd, 0.6808266360505166, rtol: 1e-12))
        #expect(close(evaluation.labels[1].surface[.monai]!.nsd, 0.5794251134644478, rtol: 1e-12))
    }
}

@Suite struct MetricsReloadedConformance {
    static func square(_ n: Int, _ lo: Int, _ hi: Int) -> LabelVolume {
        volume(n, n, 1, box((lo, lo, 0), (hi, hi, 1)))
    }

    @Test func figure210() {
        // MR-1 (and CT-2 for the MedPy columns).
        let ref = Self.square(14, 5, 9)
        let inside = evaluateLabel(ref, Self.square(14, 6, 8), presets: [.monai, .medpy])
        let m1 = inside.surface[.monai]!
        #expect(close(m1.hausdorffMM, 1.4142135623730951, rtol: 1e-12))
        #expect(close(m1.hdPercentileMM, 1.4142135623730951, rtol: 1e-12))
        #expect(close(m1.assdMM, 1.1035533905932737, rtol: 1e-12))
        #expect(close(m1.masdMM, 1.0690355937288492, rtol: 1e-12))
        #expect(m1.nsd == 0.75)
        #expect(close(inside.surface[.medpy]!.asdPredictionToReferenceMM, 1.0, atol: 5e-5))  // CT-2 asd_pg
        #expect(close(inside.surface[.medpy]!.asdReferenceToPredictionMM, 1.1381, atol: 5e-5))  // CT-2 asd_gp
        let m2 = evaluateLabel(ref, Self.square(14, 4, 10)).surface[.monai]!
        #expect(close(m2.hausdorffMM, 1.4142135623730951, rtol: 1e-12))
        #expect(close(m2.assdMM, 1.051776695296637, rtol: 1e-12))
        #expect(close(m2.masdMM, 1.0414213562373096, rtol: 1e-12))
        #expect(m2.nsd == 0.875)
    }

    @Test func figure5cAnnotationError() {
        // MR-2 and CT-1: HD95 is 6.79 (default), 2.26 (MedPy pooled).
        let ref = volume(14, 14, 1) { i, j, _ in (i == 1 && j == 1) || (9..<12 ~= i && 9..<12 ~= j) ? 1 : 0 }
        let pred = volume(14, 14, 1, box((9, 9, 0), (12, 12, 1)))
        let r = evaluateLabel(ref, pred, presets: [.monai, .medpy])
        let m = r.surface[.monai]!
        #expect(close(m.hausdorffMM, 11.313708498984761, rtol: 1e-12))
        #expect(close(m.hdPercentileMM, 6.788225099390853, rtol: 1e-12))
        #expect(close(m.assdMM, 0.6655122646461624, rtol: 1e-12))
        #expect(close(m.masdMM, 0.628539361054709, rtol: 1e-12))
        let medpy = r.surface[.medpy]!
        #expect(close(medpy.hdPercentileMM, 2.2627, atol: 5e-5))
        #expect(medpy.asdPredictionToReferenceMM == 0)
        #expect(close(medpy.asdReferenceToPredictionMM, 1.2571, atol: 5e-5))
    }

    @Test func figure10DistanceMetrics() {
        // MR-3: a square with cross arms.
        let ref = volume(11, 11, 1, box((3, 3, 0), (8, 8, 1)))
        let pred = volume(11, 11, 1) { i, j, _ in
            (3..<8 ~= i && 3..<8 ~= j) || (i == 5 && 1..<10 ~= j) || (j == 5 && 1..<10 ~= i) ? 1 : 0
        }
        let r = evaluateLabel(ref, pred)
        let m = r.surface[.monai]!
        #expect(close(m.assdMM, 0.4444444444, atol: 1e-10))
        #expect(m.hausdorffMM == 2 && m.hdPercentileMM == 2)
        #expect(close(m.nsd, 0.8888888889, atol: 1e-10))
        #expect(close(r.dice, 0.8620689655, atol: 1e-10))
        #expect(evaluateLabel(ref, pred, tolerance: 2).surface[.monai]!.nsd == 1)
    }

    @Test func bothEmptyIsAbsent() {
        // MR-5: both empty gives distances 0 and NSD 1.
        let empty = volume(14, 14, 1) { _, _, _ in 0 }
        let r = evaluateLabel(empty, empty)
        #expect(r.status == .absent && r.dice == 1 && r.jaccard == 1)
        let m = r.surface[.monai]!
        #expect(m.hausdorffMM == 0 && m.hdPercentileMM == 0 && m.assdMM == 0 && m.masdMM == 0 && m.nsd == 1)
        #expect(r.relativeVolumeDifference == nil)
    }
}

@Suite struct MedPyConformance {
    @Test func oneDimensionalMinimal() {
        // ME-1: [1,0] vs [0,1]; with spacing 2 the distances double.
        for (spacing, expected) in [(1.0, 1.0), (2.0, 2.0)] {
            let result = volume(2, 1, 1, spacing: (spacing, 1, 1)) { i, _, _ in i == 0 ? 1 : 0 }
            let reference = volume(2, 1, 1, spacing: (spacing, 1, 1)) { i, _, _ in i == 1 ? 1 : 0 }
            let m = evaluateLabel(reference, result, presets: [.medpy]).surface[.medpy]!
            #expect(m.asdPredictionToReferenceMM == expected && m.assdMM == expected)
        }
    }

    @Test func asymmetricPair() {
        // ME-2.
        let resultRows = [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0]]
        let referenceRows = [[1, 1, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
        let result = volume(4, 4, 1) { i, j, _ in Int32(resultRows[i][j]) }
        let reference = volume(4, 4, 1) { i, j, _ in Int32(referenceRows[i][j]) }
        let m = evaluateLabel(reference, result, presets: [.medpy]).surface[.medpy]!
        #expect(close(m.asdPredictionToReferenceMM, 0.48284271247461896, rtol: 1e-14))
        #expect(m.asdReferenceToPredictionMM == 0.25)
        #expect(close(m.assdMM, 0.37935706248589945, rtol: 1e-14))
        #expect(close(m.hausdorffMM, 1.4142135623730951, rtol: 1e-14))
        #expect(close(m.hdPercentileMM, 1.248528137423857, rtol: 1e-14))
    }

    @Test func crossInCube() {
        // ME-3 (connectivity 1) and ME-4 (relative volume difference, signed).
        let cross = volume(3, 3, 1) { i, j, _ in i == 1 || j == 1 ? 1 : 0 }
        let cube = volume(3, 3, 1) { _, _, _ in 1 }
        #expect(evaluateLabel(cube, cross, presets: [.medpy]).surface[.medpy]!.asdPredictionToReferenceMM == 0)
        let ring = volume(3, 3, 1) { i, j, _ in (i == 1) != (j == 1) ? 1 : 0 }
        #expect(evaluateLabel(ring, cross).relativeVolumeDifference == 0.25)
        #expect(evaluateLabel(cross, ring).relativeVolumeDifference == -0.2)
    }
}

@Suite struct CrossToolConformance {
    @Test func anisotropicBoxes() {
        // CT-4: the default (MONAI / MetricsReloaded) and MedPy columns.
        let gt = volume(20, 20, 20, spacing: (2, 1, 0.5), box((5, 5, 5), (15, 15, 15)))
        let pred = volume(20, 20, 20, spacing: (2, 1, 0.5), box((6, 5, 5), (16, 15, 12)))
        let r = evaluateLabel(gt, pred, presets: [.monai, .medpy])
        let m = r.surface[.monai]!
        #expect(m.hausdorffMM == 2.5)
        #expect(close(m.hdPercentileMM, 2.0616, atol: 5e-5))
        #expect(close(m.assdMM, 0.8018, atol: 5e-5))
        #expect(close(m.masdMM, 0.7943, atol: 5e-5))
        #expect(close(m.nsd, 0.6175, atol: 5e-5))
        let medpy = r.surface[.medpy]!
        #expect(close(medpy.hdPercentileMM, 2.0, atol: 5e-5))
        #expect(close(medpy.asdPredictionToReferenceMM, 0.7342, atol: 5e-5))
        #expect(close(medpy.asdReferenceToPredictionMM, 0.8545, atol: 5e-5))
    }

    @Test func imageBorderIsSurface() {
        // CT-5: slabs touching the image border; MedPy's and the default's numbers agree.
        let gt = volume(10, 10, 10, box((0, 0, 0), (5, 10, 10)))
        let pred = volume(10, 10, 10, box((0, 0, 0), (6, 10, 10)))
        let r = evaluateLabel(gt, pred, presets: [.monai, .medpy])
        for preset in [Compat.monai, .medpy] {
            let m = r.surface[preset]!
            #expect(m.hausdorffMM == 1 && m.hdPercentileMM == 1)
            #expect(close(m.assdMM, 0.25153374233128833, rtol: 1e-14))
        }
    }

    @Test func squaresShiftedByOnePixel() {
        // CT-3 (DeepMind's DM-2 pair), MedPy and MetricsReloaded columns.
        let gt = volume(6, 6, 1, spacing: (2, 1, 1), box((1, 1, 0), (3, 3, 1)))
        let pred = volume(6, 6, 1, spacing: (2, 1, 1), box((1, 1, 0), (4, 3, 1)))
        let r = evaluateLabel(gt, pred, presets: [.monai, .medpy])
        let medpy = r.surface[.medpy]!
        #expect(close(medpy.asdPredictionToReferenceMM, 0.6667, atol: 5e-5))
        #expect(medpy.asdReferenceToPredictionMM == 0)
        #expect(close(medpy.assdMM, 0.4, rtol: 1e-14))
        #expect(close(r.surface[.monai]!.masdMM, 0.3333, atol: 5e-5))
        #expect(close(r.surface[.monai]!.nsd, 0.8, rtol: 1e-14))
        #expect(r.surface[.monai]!.hausdorffMM == 2 && r.surface[.monai]!.hdPercentileMM == 2)
    }

    @Test func itkLabelOverlap() {
        // IT-3 test2 and test3 label 2: Dice and union overlap (Jaccard) per label.
        let target = volume(8, 8, 8) { i, j, k in
            (j == 1 && k == 1 && (i == 1 || i == 2)) ? 1 : (i == 3 && j == 3 && (k == 3 || k == 4)) ? 2 : 0
        }
        let source = volume(8, 8, 8) { i, j, k in
            (i == 1 && j == 1 && k == 1) ? 1 : (i == 3 && j == 3 && 3...5 ~= k) ? 2 : 0
        }
        let evaluation = Evaluator.evaluate(reference: target, prediction: source, settings: EvaluationSettings())
        #expect(close(evaluation.labels[0].dice, 2.0 / 3, rtol: 1e-15) && evaluation.labels[0].jaccard == 0.5)
        #expect(
            close(evaluation.labels[1].dice, 0.8, rtol: 1e-15)
                && close(evaluation.labels[1].jaccard, 2.0 / 3, rtol: 1e-15))
    }
}
