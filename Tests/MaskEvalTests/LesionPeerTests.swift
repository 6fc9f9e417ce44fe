import Foundation
import Testing

@testable import MaskEval

/// `Tests/Fixtures/lesions`: the cases of scripts/make_lesion_cases.py with the values
/// panoptica and the BraTS 2023 metric code (scripts/brats2023_reference.py) give, stored
/// by scripts/cross_check_lesions.py in expected.json. Counts exact, rates and Dice 1e-9,
/// HD95 and ASSD 1e-6 mm.
struct LesionPeerTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/lesions").path

    static func expected() -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: folder + "/expected.json"),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let cases = object["cases"] as? [String: Any]
        else { return [:] }
        return cases
    }

    static let cases = [
        "anisotropic", "brats", "diagonal", "empty_prediction", "empty_reference", "merged", "ms40",
        "regions", "split", "tiny",
    ]

    static func read(_ name: String) throws -> (LabelVolume, LabelVolume) {
        try NIfTIReader.readPair(
            reference: folder + "/\(name)_reference.nii.gz", prediction: folder + "/\(name)_prediction.nii.gz",
            threads: 2)
    }

    static func byVoxelsThenDice(_ a: [Double?], _ b: [Double?]) -> Bool {
        let left = (a[0] ?? 0, a[1] ?? 0)
        let right = (b[0] ?? 0, b[1] ?? 0)
        return left < right
    }

    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    static func close(_ a: Double?, _ b: Double?, _ tolerance: Double) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let a?, let b?): return a == b || abs(a - b) <= tolerance
        default: return false
        }
    }

    @Test func fixturesArePresent() {
        #expect(Set(Self.expected().keys) == Set(Self.cases))
    }

    /// Reusing label arrays from one structure to the next (no lesion map) changes nothing.
    @Test(arguments: ["brats", "regions"])
    func reusedBuffersGiveTheSameResults(name: String) throws {
        let (ref, pred) = try Self.read(name)
        for matching in [LesionMatching.iou(threshold: 0.5, strict: false), .brats2023(.glioma)] {
            let settings = LesionSettings(matching: matching, threads: 2)
            let structures = Region.brats + Region.perLabel([1, 2, 3])
            let kept = LesionEvaluator.evaluate(
                reference: ref, prediction: pred, structures: structures, settings: settings, keepComponents: true)
            let reused = LesionEvaluator.evaluate(
                reference: ref, prediction: pred, structures: structures, settings: settings, keepComponents: false)
            let a = LesionReport(evaluation: kept, referencePath: "r", predictionPath: "p").csv()
            let b = LesionReport(evaluation: reused, referencePath: "r", predictionPath: "p").csv()
            #expect(a == b, "\(name) \(matching.description)")
        }
    }

    /// The report is the same byte for byte with 1 or 5 threads.
    @Test(arguments: ["ms40", "brats"])
    func threadCountChangesNothing(name: String) throws {
        let (ref, pred) = try Self.read(name)
        for matching in [LesionMatching.iou(threshold: 0.5, strict: false), .brats2023(.metastasis)] {
            let reports = [1, 5].map { threads in
                let evaluation = LesionEvaluator.evaluate(
                    reference: ref, prediction: pred, structures: Region.brats,
                    settings: LesionSettings(matching: matching, threads: threads))
                return LesionReport(evaluation: evaluation, referencePath: "r", predictionPath: "p").json().rendered()
            }
            #expect(reports[0] == reports[1], "\(name) \(matching.description)")
        }
    }

    @Test(arguments: cases)
    func panopticaIoUMatching(name: String) throws {
        let (ref, pred) = try Self.read(name)
        let peer = try #require((Self.expected()[name] as? [String: Any])?["panoptica"] as? [String: Any])
        let labels = peer.keys.compactMap { Int32($0) }.sorted()
        let result = LesionEvaluator.evaluate(
            reference: ref, prediction: pred, structures: Region.perLabel(labels), settings: LesionSettings(threads: 2))
        for structure in result.structures {
            let values = try #require(peer[structure.name] as? [String: Any])
            for key in ["tp", "fp", "fn"] {
                #expect(structure.aggregate(key) == Self.number(values[key]), "\(name) \(structure.name) \(key)")
            }
            for (ours, theirs) in [
                ("precision", "prec"), ("recall", "rec"), ("rq", "rq"), ("sq", "sq"), ("pq", "pq"),
                ("sq_dice", "sq_dsc"), ("pq_dice", "pq_dsc"),
            ] {
                #expect(
                    Self.close(structure.aggregate(ours), Self.number(values[theirs]), 1e-9),
                    "\(name) \(structure.name) \(ours): \(String(describing: structure.aggregate(ours)))")
            }
            let pairs = (values["pairs"] as? [[Any]] ?? []).map { $0.map(Self.number) }
            let mine = structure.rows.filter { $0.status == .tp }.map {
                [Double($0.voxels), $0.dice, $0.iou, $0.hd95MM, $0.assdMM]
            }.sorted(by: Self.byVoxelsThenDice)
            #expect(mine.count == pairs.count, "\(name) \(structure.name) pairs")
            for (a, b) in zip(mine, pairs) {
                #expect(a[0] == b[0], "\(name) voxels")
                #expect(Self.close(a[1], b[1], 1e-9) && Self.close(a[2], b[2], 1e-9), "\(name) dice/iou")
                #expect(Self.close(a[3], b[3], 1e-6) && Self.close(a[4], b[4], 1e-6), "\(name) hd95/assd \(a) \(b)")
            }
        }
    }

    @Test(arguments: cases)
    func brats2023Rules(name: String) throws {
        let (ref, pred) = try Self.read(name)
        for (key, variant) in [("brats2023", BraTSVariant.glioma), ("brats2023_met", .metastasis)] {
            let peer = try #require((Self.expected()[name] as? [String: Any])?[key] as? [String: Any])
            let result = LesionEvaluator.evaluate(
                reference: ref, prediction: pred, structures: Region.brats,
                settings: LesionSettings(matching: .brats2023(variant), threads: 2))
            for structure in result.structures {
                let values = try #require(peer[structure.name] as? [String: Any])
                for count in ["tp", "fp", "fn"] {
                    #expect(structure.aggregate(count) == Self.number(values[count]), "\(name) \(key) \(count)")
                }
                #expect(
                    Self.close(structure.aggregate("lesion_dice"), Self.number(values["lesion_dice"]), 1e-9),
                    "\(name) \(key) \(structure.name) lesion_dice")
                #expect(
                    Self.close(structure.aggregate("lesion_hd95_mm"), Self.number(values["lesion_hd95_mm"]), 1e-6),
                    "\(name) \(key) \(structure.name) lesion_hd95_mm")
                let lesions = (values["lesions"] as? [[String: Any]] ?? []).map {
                    [Self.number($0["voxels"]), Self.number($0["dice"]), Self.number($0["hd95_mm"])]
                }.sorted(by: Self.byVoxelsThenDice)
                let mine = structure.rows.filter { $0.side == "reference" }.map { row -> [Double?] in
                    let hd: Double? = row.hd95MM.flatMap { $0.isFinite ? $0 : nil }
                    return [Double(row.voxels), row.dice, hd]
                }.sorted(by: Self.byVoxelsThenDice)
                #expect(mine.count == lesions.count, "\(name) \(key) \(structure.name) lesions")
                for (a, b) in zip(mine, lesions) {
                    #expect(a[0] == b[0] && Self.close(a[1], b[1], 1e-9) && Self.close(a[2], b[2], 1e-6), "\(a) \(b)")
                }
            }
        }
    }
}
