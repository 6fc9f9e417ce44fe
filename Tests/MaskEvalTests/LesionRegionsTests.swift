import Foundation
import Testing

@testable import MaskEval

/// Regions (unions of labels) and the ignore label, against nnU-Net v2's `compute_metrics`
/// on the `regions` case (scripts/cross_check_lesions.py stores its TP, FP, FN, TN, Dice, IoU).
struct LesionRegionsTests {
    static let folder = LesionPeerTests.folder

    @Test func datasetJSONRegionsAndIgnoreLabel() throws {
        let file = try Regions.read(path: Self.folder + "/regions_dataset.json")
        #expect(file.ignoreLabel == 4)
        #expect(
            file.regions == [
                Region(name: "whole tumor", labels: [1, 2, 3]), Region(name: "tumor core", labels: [2, 3]),
                Region(name: "enhancing tumor", labels: [3]),
            ])
    }

    @Test func regionsWithIgnoreLabelMatchNNUNet() throws {
        var (ref, pred) = try NIfTIReader.readPair(
            reference: Self.folder + "/regions_reference.nii.gz",
            prediction: Self.folder + "/regions_prediction.nii.gz",
            threads: 2)
        let file = try Regions.read(path: Self.folder + "/regions_dataset.json")
        let ignored = IgnoreLabel.apply(try #require(file.ignoreLabel), reference: &ref, prediction: &pred)
        #expect(ignored > 0)
        let peer = try #require(
            (LesionPeerTests.expected()["regions"] as? [String: Any])?["nnunet"] as? [String: [String: Any]])
        let results = Regions.evaluate(
            reference: ref, prediction: pred, regions: file.regions, settings: EvaluationSettings(threads: 2))
        #expect(results.map(\.name) == ["whole tumor", "tumor core", "enhancing tumor"])
        for (name, result) in results {
            let values = try #require(peer[name])
            func int(_ key: String) -> Int { (values[key] as? NSNumber)?.intValue ?? -1 }
            let tp = result.intersectionVoxels
            let fp = result.predictionVoxels - tp
            let fn = result.referenceVoxels - tp
            #expect(tp == int("TP") && fp == int("FP") && fn == int("FN"), "\(name)")
            // TN as nnU-Net counts it: the ignored voxels are not negatives.
            #expect(ref.grid.voxelCount - (tp + fp + fn) - ignored == int("TN"), "\(name)")
            let dice = (values["Dice"] as? NSNumber)?.doubleValue ?? -1
            let iou = (values["IoU"] as? NSNumber)?.doubleValue ?? -1
            #expect(abs(result.dice - dice) < 1e-12 && abs(result.jaccard - iou) < 1e-12, "\(name)")
            #expect(result.surface[.monai] != nil, "\(name): every metric is computed")
        }
    }

    /// BraTS regions by hand: labels 1, 2, 3 in one row; WT holds all three, TC 1 and 3, ET 3.
    @Test func bratsRegionsAreUnions() {
        let vol = volume(6, 1, 1) { i, _, _ in [0, 1, 2, 3, 3, 4][i] }
        let masks = Regions.regionVolumes(reference: vol, prediction: vol, regions: Region.brats)
        #expect(masks.map(\.name) == ["WT", "TC", "ET"])
        #expect(masks[0].reference.int32Labels == [0, 1, 1, 1, 1, 0])
        #expect(masks[1].reference.int32Labels == [0, 1, 0, 1, 1, 0])
        #expect(masks[2].prediction.int32Labels == [0, 0, 0, 1, 1, 0])
    }

    /// Every non-zero label of either volume, ascending, negative ones included.
    @Test func labelsPresent() {
        let a = volume(5, 1, 1) { i, _, _ in [0, 5, -2, 0, 7][i] }
        let b = volume(5, 1, 1) { i, _, _ in [3, 0, 0, 0, 0][i] }
        #expect(Regions.labelsPresent([a, b]) == [-2, 3, 5, 7])
        #expect(Regions.labelsPresent([volume(4, 1, 1) { _, _, _ in 0 }]).isEmpty)
        let wide = volume(3, 1, 1) { i, _, _ in [1, 0, 2_000_000][i] }
        #expect(Regions.labelsPresent([wide]) == [1, 2_000_000])
    }

    @Test func plainRegionFileAndItsErrors() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let good = folder + "/regions.json"
        try Data(#"{"whole_tumor": [1, 2, 3], "ET": 3}"#.utf8).write(to: URL(fileURLWithPath: good))
        let file = try Regions.read(path: good)
        #expect(file.regions == [Region(name: "whole_tumor", labels: [1, 2, 3]), Region(name: "ET", labels: [3])])
        #expect(file.ignoreLabel == nil)
        for (name, text) in [("zero", #"{"a": [0, 1]}"#), ("text", "not json"), ("strings", #"{"a": ["x"]}"#)] {
            let path = folder + "/\(name).json"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            #expect(throws: InputError.self) { try Regions.read(path: path) }
        }
        do {
            _ = try Regions.read(path: folder + "/missing.json")
            Issue.record("a missing regions file was read")
        } catch let failure as MaskEvalFailure {
            #expect(failure.exitStatus == .noInput && failure.description.contains("no such file"))
        }
    }
}
