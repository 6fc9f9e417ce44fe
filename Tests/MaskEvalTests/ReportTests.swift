import Foundation
import Testing

@testable import MaskEval

@Suite struct ReportTests {
    /// A pair with every status: 1 matched, 2 missed, 3 spurious, and 4 asked for but absent.
    static func statusPair() -> (LabelVolume, LabelVolume) {
        let ref = volume(12, 10, 6, spacing: (0.8, 0.8, 2.5)) { i, j, k in
            if i < 4 && j < 4 { return 1 }
            if i >= 8 && j >= 6 && k < 3 { return 2 }
            return 0
        }
        let pred = volume(12, 10, 6, spacing: (0.8, 0.8, 2.5)) { i, j, k in
            if i < 5 && j < 4 && k > 0 { return 1 }
            if i >= 10 && j < 2 { return 3 }
            return 0
        }
        return (ref, pred)
    }

    static func evaluation(threads: Int, labels: [Int32]? = [1, 2, 3, 4]) -> Evaluation {
        let (ref, pred) = statusPair()
        return Evaluator.evaluate(
            reference: ref, prediction: pred,
            settings: EvaluationSettings(labels: labels, presets: [.monai], threads: threads))
    }

    static func report(threads: Int, labels: [Int32]? = [1, 2, 3, 4], penalty: Penalty = .none) -> CompareReport {
        let (ref, pred) = statusPair()
        return makeReport(
            evaluation(threads: threads, labels: labels), reference: ref, prediction: pred,
            names: LabelNames([1: "liver", 2: "spleen, left"]), penalty: penalty)
    }

    @Test func everyStatusHasItsValues() {
        let labels = Self.evaluation(threads: 2).labels
        #expect(labels.map(\.status) == [.matched, .missed, .spurious, .absent])
        for r in labels[1...2] {
            let s = r.surface[.monai]!
            #expect(r.dice == 0 && r.jaccard == 0 && s.hausdorffMM == .infinity && s.assdMM == .infinity && s.nsd == 0)
        }
        #expect(labels[2].relativeVolumeDifference == nil)
        #expect(labels[1].relativeVolumeDifference == -1)
        #expect(
            labels[3].dice == 1 && labels[3].surface[.monai]!.hausdorffMM == 0 && labels[3].surface[.monai]!.nsd == 1)
    }

    @Test func jsonIsIdenticalForAnyThreadCount() {
        let one = Self.report(threads: 1).json().rendered()
        #expect(Self.report(threads: 2).json().rendered() == one)
        #expect(Self.report(threads: 4).json().rendered() == one)
        // A larger pair where labels run side by side and inside passes.
        let ref = volume(60, 50, 40, spacing: (0.7, 0.9, 1.6)) { i, j, k in
            Int32((i / 9 + 3 * (j / 11) + 7 * (k / 8)) % 13)
        }
        let pred = volume(60, 50, 40, spacing: (0.7, 0.9, 1.6)) { i, j, k in
            Int32(((i + 2) / 9 + 3 * ((j + k % 3) / 11) + 7 * (k / 8)) % 13)
        }
        func render(_ threads: Int) -> String {
            let e = Evaluator.evaluate(
                reference: ref, prediction: pred,
                settings: EvaluationSettings(presets: [.monai, .medpy], threads: threads))
            return makeReport(e, reference: ref, prediction: pred).json().rendered()
        }
        let single = render(1)
        #expect(render(2) == single)
        #expect(render(4) == single)
    }

    @Test func jsonCarriesNullsAndSortedKeys() throws {
        let text = Self.report(threads: 2).json().rendered()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["schema_version"] as? Int == 2)
        let labels = try #require(object["labels"] as? [[String: Any]])
        #expect(labels.count == 4)
        #expect(labels[1]["hausdorff_mm"] is NSNull)
        #expect(labels[2]["relative_volume_difference"] is NSNull)
        #expect(labels[0]["name"] as? String == "liver")
        let summary = try #require(object["summary"] as? [String: Any])
        let counts = try #require(summary["status_counts"] as? [String: Int])
        #expect(counts == ["matched": 1, "missed": 1, "spurious": 1, "absent": 1, "no_prediction": 0, "error": 0])
        let metrics = try #require(summary["metrics"] as? [String: [String: Any]])
        #expect(metrics["hd95_mm"]?["n"] as? Int == 2)
        #expect(metrics["hd95_mm"]?["left_out"] as? Int == 2)
        // Keys appear in sorted order at every level.
        let keyLines = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(keyLines == keyLines.sorted())
    }

    @Test func penaltyReplacesInfinityInAggregatesOnly() {
        let report = Self.report(threads: 1, penalty: .millimetres(50))
        let hd = report.summary.statistics(of: report.rows).first { $0.0 == MetricColumn(.hausdorff) }!.1
        #expect(hd.n == 4 && hd.leftOut == 0 && hd.max == 50)
        #expect(report.rows[1][.hausdorff] == .infinity)
    }

    @Test func aggregateStatistics() {
        let a = Statistics([1, 2, 3, 10, nil, .infinity, .nan])
        #expect(a.mean == 4 && a.median == 2.5 && a.min == 1 && a.max == 10 && a.n == 4 && a.leftOut == 3)
        #expect(a.q1 == 1.75 && a.q3 == 4.75)
    }

    @Test func csvHasHeaderAndFixedColumns() {
        let csv = Self.report(threads: 1).csv()
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0].hasPrefix("label,name,status,reference_voxels,prediction_voxels,intersection_voxels,"))
        #expect(
            lines[0].hasSuffix(
                ",hausdorff_mm,hd95_mm,assd_mm,masd_mm,asd_reference_to_prediction_mm,asd_prediction_to_reference_mm,nsd"
            ))
        #expect(lines[2].hasPrefix("2,\"spleen, left\",missed,"))
        #expect(lines[2].hasSuffix(",inf,inf,inf,inf,inf,inf,0.0"))
        #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count >= 19 })
    }

    @Test func tableShowsUnitsAndSummary() {
        let table = Self.report(threads: 1).table()
        #expect(table.contains("hd95_mm") && table.contains("nsd@1mm") && table.contains("ref_ml"))
        #expect(table.contains("Summary over 4 labels (1 matched, 1 missed, 1 spurious, 1 absent)"))
        #expect(table.contains("liver"))
    }

    @Test func allPresetsSideBySide() throws {
        let (ref, pred) = Self.statusPair()
        let evaluation = Evaluator.evaluate(
            reference: ref, prediction: pred, settings: EvaluationSettings(presets: Compat.allCases, threads: 1))
        let report = makeReport(evaluation, reference: ref, prediction: pred)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(report.json().rendered().utf8)) as? [String: Any])
        let labels = try #require(object["labels"] as? [[String: Any]])
        // Every preset's surface metrics are columns: bare for the first, PRESET.KEY after.
        for key in ["hd95_mm", "medpy.hd95_mm", "deepmind.hd95_mm", "medpy.nsd", "deepmind.assd_mm", "meshmetrics.hd95_mm"] {
            #expect(labels[0][key] is Double, "\(key)")
        }
        // Foundation's JSON parser can be off in the last bits; the text itself round-trips.
        let nsd = try #require(evaluation.labels[0].surface[.deepmind]?.nsd)
        #expect(abs((labels[0]["deepmind.nsd"] as? Double ?? 0) - nsd) < 1e-15)
        #expect(report.json().rendered().contains("\"deepmind.nsd\": \(nsd)"))
        #expect(report.csv().split(separator: "\n")[0].contains(",deepmind.hd95_mm,"))
        #expect((object["settings"] as? [String: Any])?["compat"] as? String == "all")
        let table = report.table()
        #expect(
            table.contains("Preset monai:") && table.contains("Preset medpy:") && table.contains("Preset deepmind:"))
    }

    @Test func repeatedLabelsAreReportedOnce() {
        let (ref, pred) = Self.statusPair()
        let evaluation = Evaluator.evaluate(
            reference: ref, prediction: pred, settings: EvaluationSettings(labels: [2, 1, 2, 1], threads: 2))
        #expect(evaluation.labels.map(\.label) == [2, 1])
    }

    @Test func percentileKeyFollowsQ() {
        #expect(MetricKey.hdPercentile.name(percentile: 95) == "hd95_mm")
        #expect(MetricKey.hdPercentile.name(percentile: 99.5) == "hd99.5_mm")
        #expect(MetricColumn(name: "medpy.hd99.5_mm", percentile: 99.5) == MetricColumn(.hdPercentile, preset: .medpy))
    }
}

@Suite struct InputTests {
    @Test func labelLists() throws {
        #expect(try LabelList.parse("1,3,5-9") == [1, 3, 5, 6, 7, 8, 9])
        #expect(try LabelList.parse(" 2 , 2,4") == [2, 4])
        for bad in ["", "a", "3-1", "1,,2", "0"] {
            #expect(throws: InputError.self, "\(bad)") { try LabelList.parse(bad) }
        }
    }

    @Test func labelNameFormats() throws {
        let mricron = try LabelNames.parse("1 Precentral_L 2001\n2 Precentral_R 2002\n", path: "aal.txt")
        #expect(mricron.names == [1: "Precentral_L", 2: "Precentral_R"])
        let tabbed = try LabelNames.parse("0\tUnclassified\n1\tMiddle_cerebellar_peduncle\n", path: "jhu.txt")
        #expect(tabbed[1] == "Middle_cerebellar_peduncle")
        let itk = try LabelNames.parse(
            """
            ################################################
            # ITK-SnAP Label Description File
            ################################################
                0     0    0    0        0  0  0    "Clear Label"
                1   255    0    0        1  1  1    "left kidney"
            """, path: "labels.txt")
        #expect(itk.names == [0: "Clear Label", 1: "left kidney"])
        let json = try LabelNames.parse("{\"1\": \"liver\", \"12\": \"aorta\"}", path: "names.json")
        #expect(json.names == [1: "liver", 12: "aorta"])
        #expect(throws: InputError.self) { try LabelNames.parse("liver 1\n", path: "bad.txt") }
        #expect(throws: InputError.self) { try LabelNames.parse("{\"x\": \"liver\"}", path: "bad.json") }
    }

    @Test func realAtlasNameFilesParse() throws {
        let path = "/usr/share/mricron/templates/aal.nii.txt"
        guard FileManager.default.fileExists(atPath: path) else { return }
        let names = try LabelNames.read(path: path)
        #expect(names.names.count == 116 && names[1] == "Precentral_L")
    }
}

@Suite struct GeometryTests {
    static func grid(origin: (Double, Double, Double) = (0, 0, 0), spacing: Double = 1, flipI: Bool = false) -> Grid {
        var affine = Affine.diagonal(flipI ? -spacing : spacing, spacing, spacing)
        affine[0, 3] = origin.0
        affine[1, 3] = origin.1
        affine[2, 3] = origin.2
        return Grid(nx: 10, ny: 8, nz: 6, affine: affine)
    }

    @Test func sameGridPasses() throws {
        try GeometryCheck.check(
            reference: Self.grid(), prediction: Self.grid(origin: (0, 0, 0.0005)), predictionPath: "p.nii",
            toleranceMM: 1e-3)
    }

    @Test func mismatchesNameTheFieldAndTheWayOut() {
        let cases: [(Grid, String)] = [
            (Grid(nx: 10, ny: 8, nz: 7, affine: .diagonal(1, 1, 1)), "dims 10×8×7 differ from the reference's 10×8×6"),
            (Self.grid(origin: (3, 4, 0)), "origin is shifted by 5 mm"),
            (Self.grid(spacing: 2), "spacing 2×2×2 mm differs from the reference's 1×1×1 mm"),
            (Self.grid(flipI: true), "orientation (affine LAS vs the reference's RAS) differs"),
        ]
        for (prediction, fragment) in cases {
            do {
                try GeometryCheck.check(
                    reference: Self.grid(), prediction: prediction, predictionPath: "p.nii", toleranceMM: 1e-3)
                Issue.record("accepted \(fragment)")
            } catch let error as GeometryError {
                #expect(error.description.contains(fragment), "\(error)")
                #expect(error.description.contains("--resample") && error.description.contains("--ignore-geometry"))
                #expect(error.exitStatus == .dataError)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func resampleMapsThroughBothAffines() throws {
        // The prediction is the reference flipped along i (affine with -1 and the origin at
        // the far end): resampling it onto the reference grid gives back the reference.
        let reference = volume(10, 8, 6) { i, j, k in Int32((i * 3 + j + k) % 5) }
        var flippedAffine = Affine.diagonal(-1, 1, 1)
        flippedAffine[0, 3] = 9
        let flipped = LabelVolume(
            grid: Grid(nx: 10, ny: 8, nz: 6, affine: flippedAffine),
            labels: makeLabels(10, 8, 6) { i, j, k in reference.storage.label(at: (9 - i) + 10 * (j + 8 * k)) })
        let back = try Resample.nearest(flipped, onto: reference.grid, threads: 2)
        #expect(back.int32Labels == reference.int32Labels)
        // A 2 mm prediction covering the same field: each reference voxel takes its nearest.
        var coarseAffine = Affine.diagonal(2, 2, 2)
        coarseAffine[0, 3] = 0.5
        let coarse = LabelVolume(
            grid: Grid(nx: 5, ny: 4, nz: 3, affine: coarseAffine),
            labels: makeLabels(5, 4, 3) { i, _, _ in Int32(i + 1) })
        let fine = try Resample.nearest(coarse, onto: reference.grid, threads: 1)
        // Reference voxel i sits at x = i; coarse voxel c at x = 2c + 0.5: nearest c = round((i - 0.5)/2).
        for i in 0..<10 {
            let c = ((Double(i) - 0.5) / 2).rounded()
            let expected: Int32 = c < 0 || c > 4 ? 0 : Int32(c) + 1
            #expect(fine.storage.label(at: i) == expected, "i = \(i)")
        }
    }
}
