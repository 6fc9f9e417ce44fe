import Foundation
import Testing

@testable import MaskEval

/// Regions and the ignore label in the compare/batch pipeline (`Comparison.evaluate`), against
/// nnU-Net v2's `compute_metrics` (Tests/Fixtures/regions/nnunet_regions.json, written by
/// scripts/cross_check_regions.py from nnU-Net's own `region_or_label_to_mask` and
/// `compute_tp_fp_fn_tn`), and by hand.
struct RegionsPipelineTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/regions/nnunet_regions.json").path

    struct Case {
        var reference: LabelVolume
        var prediction: LabelVolume
        var regions: [Region]
        var document: [String: Any]
    }

    static func load() throws -> Case {
        let data = try #require(FileManager.default.contents(atPath: file))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let dims = try #require(document["dims"] as? [Int])
        let grid = Grid(nx: dims[0], ny: dims[1], nz: dims[2], affine: .diagonal(1, 1, 1))
        func labels(_ key: String) throws -> [Int32] { try #require(document[key] as? [Int]).map { Int32($0) } }
        let regions = try #require(document["regions"] as? [[Any]]).map { pair in
            Region(name: pair[0] as? String ?? "", labels: (pair[1] as? [Int] ?? []).map { Int32($0) })
        }
        return Case(
            reference: LabelVolume(grid: grid, labels: try labels("reference")),
            prediction: LabelVolume(grid: grid, labels: try labels("prediction")), regions: regions,
            document: document)
    }

    /// The rows `compare` gives for the case under `settings`.
    static func rows(_ item: Case, _ settings: RunSettings) -> [LabelRow] {
        var (ref, pred) = (item.reference, item.prediction)
        let evaluation = Comparison.evaluate(&ref, &pred, settings: settings, threads: 2)
        return LabelRow.rows(evaluation, caseID: "", names: settings.names(over: LabelNames()))
    }

    /// Every row's TP, FP, FN, TN, Dice and IoU are nnU-Net's, by structure name.
    static func expectNNUNet(_ rows: [LabelRow], _ peer: [String: [String: Any]], names: [String]) {
        #expect(rows.map { $0.name.isEmpty ? String($0.label) : $0.name } == names)
        for row in rows {
            let key = row.name.isEmpty ? String(row.label) : row.name
            guard let values = peer[key] else {
                Issue.record("no peer values for \(key)")
                continue
            }
            func number(_ name: String) -> Double { (values[name] as? NSNumber)?.doubleValue ?? .nan }
            #expect(row[.truePositiveVoxels] == number("TP"), "\(key) TP")
            #expect(row[.falsePositiveVoxels] == number("FP"), "\(key) FP")
            #expect(row[.falseNegativeVoxels] == number("FN"), "\(key) FN")
            #expect(row[.trueNegativeVoxels] == number("TN"), "\(key) TN")
            #expect(abs((row[.dice] ?? .nan) - number("Dice")) < 1e-12, "\(key) Dice")
            #expect(abs((row[.jaccard] ?? .nan) - number("IoU")) < 1e-12, "\(key) IoU")
        }
    }

    @Test func regionsWithIgnoreLabelAreNNUNets() throws {
        let item = try Self.load()
        var settings = RunSettings()
        settings.regions = item.regions
        settings.ignoreLabel = 4
        settings.presets = Compat.allCases
        let rows = Self.rows(item, settings)
        let peer = try #require(item.document["regions_with_ignore"] as? [String: [String: Any]])
        Self.expectNNUNet(rows, peer, names: ["whole_tumor", "tumor_core", "enhancing"])
        #expect(rows.map(\.label) == [1, 2, 3])
        // Every metric and preset is there for a region.
        for row in rows {
            for column in settings.columns where column.key.isSurface {
                #expect(row.values[column] != nil, "\(row.name) \(settings.columnName(column))")
            }
        }
    }

    @Test func labelsWithIgnoreLabelAreNNUNets() throws {
        let item = try Self.load()
        #expect(item.prediction.storage.contains(4), "the prediction holds the ignore value outside the mask")
        var settings = RunSettings()
        settings.ignoreLabel = 4
        let peer = try #require(item.document["labels_with_ignore"] as? [String: [String: Any]])
        // The ignore label is no structure, though the prediction holds it.
        Self.expectNNUNet(Self.rows(item, settings), peer, names: ["1", "2", "3"])
    }

    @Test func regionsWithoutIgnoreLabelAreNNUNets() throws {
        let item = try Self.load()
        var settings = RunSettings()
        settings.regions = item.regions
        let peer = try #require(item.document["regions_without_ignore"] as? [String: [String: Any]])
        Self.expectNNUNet(Self.rows(item, settings), peer, names: ["whole_tumor", "tumor_core", "enhancing"])
        // Ignoring only removes voxels: FP falls, TP and FN stay (the ignored area is not tumour).
        let ignored = try #require(item.document["regions_with_ignore"] as? [String: [String: Any]])
        for name in ["whole_tumor", "tumor_core", "enhancing"] {
            let with = try #require(ignored[name]?["FP"] as? Int)
            let without = try #require(peer[name]?["FP"] as? Int)
            #expect(with < without, "\(name)")
        }
    }

    /// By hand, one row of 8 voxels: reference 1 1 1 1 4 4 0 0, prediction 1 1 1 0 1 1 0 0.
    /// Label 1 without ignoring: TP 3, FP 2, FN 1, TN 2, Dice 6/9. Ignoring 4: the two
    /// predicted voxels over the 4s leave, TP 3, FP 0, FN 1, TN 2 (8 − 2 ignored − 4), Dice
    /// 6/7. Region {1, 2} is the same as label 1 here; region {4} is refused with ignore 4.
    @Test func ignoreLabelByHand() throws {
        let reference = volume(8, 1, 1) { i, _, _ in [1, 1, 1, 1, 4, 4, 0, 0][i] }
        let prediction = volume(8, 1, 1) { i, _, _ in [1, 1, 1, 0, 1, 1, 0, 0][i] }
        let item = Case(reference: reference, prediction: prediction, regions: [], document: [:])
        var settings = RunSettings()
        settings.labels = [1]
        let plain = try #require(Self.rows(item, settings).first)
        #expect(plain[.truePositiveVoxels] == 3 && plain[.falsePositiveVoxels] == 2)
        #expect(plain[.falseNegativeVoxels] == 1 && plain[.trueNegativeVoxels] == 2)
        #expect(plain[.dice] == 6.0 / 9)
        settings.ignoreLabel = 4
        let ignored = try #require(Self.rows(item, settings).first)
        #expect(ignored[.truePositiveVoxels] == 3 && ignored[.falsePositiveVoxels] == 0)
        #expect(ignored[.falseNegativeVoxels] == 1 && ignored[.trueNegativeVoxels] == 2)
        #expect(ignored[.dice] == 6.0 / 7)
        #expect(ignored[.specificity] == 1)
        settings.labels = nil
        settings.regions = [Region(name: "core", labels: [1, 2])]
        let region = try #require(Self.rows(item, settings).first)
        #expect(region.name == "core" && region.label == 1 && region[.dice] == 6.0 / 7)
        settings.regions = [Region(name: "bad", labels: [4])]
        #expect(throws: InputError.self) { try settings.checkStructures() }
        settings.regions = nil
        settings.labels = [1, 4]
        #expect(throws: InputError.self) { try settings.checkStructures() }
        // --binary: the ignore value in the prediction is background, as in the label runs.
        settings.labels = nil
        settings.binary = true
        let marked = volume(8, 1, 1) { i, _, _ in [1, 1, 1, 0, 1, 1, 0, 4][i] }
        let binary = try #require(
            Self.rows(Case(reference: reference, prediction: marked, regions: [], document: [:]), settings).first)
        #expect(binary.label == 1 && binary[.falsePositiveVoxels] == 0 && binary[.dice] == 6.0 / 7)
    }

    /// Lesion keys: columns of lesion runs only, with the side `diff` counts as better.
    @Test func lesionKeys() {
        #expect(!MetricColumn.all(presets: Compat.allCases).contains { $0.key.isLesion })
        #expect(
            MetricColumn.lesion(.iou(threshold: 0.5, strict: false)).map { $0.name(percentile: 95) } == [
                "reference_lesions", "prediction_lesions", "tp", "fp", "fn", "precision", "recall", "f1", "rq", "sq",
                "pq", "sq_dice", "pq_dice",
            ])
        #expect(
            MetricColumn.lesion(.brats2023(.glioma)).map { $0.name(percentile: 95) } == [
                "reference_lesions", "prediction_lesions", "tp", "fp", "fn", "left_out_lesions", "lesion_dice",
                "lesion_hd95_mm",
            ])
        let expected: [MetricKey: MetricDirection?] = [
            .tp: .higherIsBetter, .fp: .lowerIsBetter, .fn: .lowerIsBetter, .f1: .higherIsBetter,
            .pq: .higherIsBetter, .lesionDice: .higherIsBetter, .lesionHD95: .lowerIsBetter, .referenceLesions: nil,
            .leftOutLesions: nil, .recall: .higherIsBetter,
        ]
        for (key, direction) in expected { #expect(key.direction == direction, "\(key)") }
        #expect(MetricKey.tp.isWhole && MetricKey.leftOutLesions.isWhole && !MetricKey.f1.isWhole)
    }

    /// Regions, the ignore label and the lesion rules are recorded and read back; a run with
    /// other regions is another run.
    @Test func settingsRecordRegionsIgnoreLabelAndLesions() throws {
        var settings = RunSettings()
        settings.regions = Region.brats
        settings.ignoreLabel = 4
        settings.lesions = LesionRunSettings(
            matching: .brats2023(.metastasis), connectivity: .six, minimumVoxels: 3, penaltyMM: 200)
        let read = try #require(RunSettings(json: settings.json))
        #expect(read == settings)
        #expect(read.columns == MetricColumn.lesion(.brats2023(.metastasis)))
        var other = settings
        other.regions = [Region(name: "WT", labels: [1, 2])]
        #expect(other.valueDifferences(from: settings).map { $0.prefix(8) } == ["regions "])
        other = settings
        other.ignoreLabel = nil
        #expect(other.valueDifferences(from: settings) == ["ignore_label none vs 4"])
        #expect(RunSettings(json: RunSettings().json)?.regions == nil)
    }
}
