import Foundation
import Testing

@testable import MaskEval

/// The `meshmetrics` preset against MeshMetrics 0.2.1's pipeline rebuilt on VTK 9.7
/// (`scripts/cross_check_mesh.py --store`, values in Tests/Fixtures/meshmetrics/expected.json):
/// the bundled samples and generated anisotropic, oblique-affine, border-touching and
/// edge/corner-contact pairs, every matched label, at τ = 1.2345 mm and q = 95.
@Suite struct MeshMetricsPeerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let expectedPath = root.appendingPathComponent("Tests/Fixtures/meshmetrics/expected.json").path

    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let reference: String
        let prediction: String
        /// label → key → peer value (vtk64: VTK on exact vertices).
        let labels: [Int32: [String: Double?]]
        /// label → key → peer value with VTK's float32 vertices (MeshMetrics as it runs).
        let float32: [Int32: [String: Double]]
        var description: String { name }
    }

    static func load() -> (cases: [Case], tolerance: Double, percentile: Double) {
        guard let data = FileManager.default.contents(atPath: expectedPath),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let cases = json["cases"] as? [String: [String: Any]]
        else { return ([], 0, 0) }
        let loaded = cases.keys.sorted().compactMap { name -> Case? in
            guard let c = cases[name], let labels = c["labels"] as? [String: [String: Any]] else { return nil }
            var values: [Int32: [String: Double?]] = [:]
            var float32: [Int32: [String: Double]] = [:]
            for (label, entry) in labels {
                guard let id = Int32(label), let exact = entry["vtk64"] as? [String: Any],
                    let rounded = entry["vtk32"] as? [String: Any]
                else { continue }
                values[id] = exact.mapValues { $0 as? Double }
                float32[id] = rounded.compactMapValues { $0 as? Double }
            }
            return Case(
                name: name, reference: root.appendingPathComponent(c["reference"] as? String ?? "").path,
                prediction: root.appendingPathComponent(c["prediction"] as? String ?? "").path, labels: values,
                float32: float32)
        }
        return (loaded, json["tolerance_mm"] as? Double ?? 0, json["percentile"] as? Double ?? 0)
    }

    static let fixtures = load()

    static func value(_ m: SurfaceMetrics, _ key: String) -> Double? {
        switch key {
        case "hausdorff_mm": m.hausdorffMM
        case "hd95_mm": m.hdPercentileMM
        case "assd_mm": m.assdMM
        case "masd_mm": m.masdMM
        case "asd_reference_to_prediction_mm": m.asdReferenceToPredictionMM
        case "asd_prediction_to_reference_mm": m.asdPredictionToReferenceMM
        case "nsd": m.nsd
        default: nil
        }
    }

    @Test func fixturesArePresent() {
        // Guards the argument list below: an unreadable JSON would otherwise test nothing.
        #expect(Self.fixtures.cases.count == 6)
        #expect(Self.fixtures.tolerance == 1.2345 && Self.fixtures.percentile == 95)
    }

    @Test(arguments: fixtures.cases)
    func matchesVTKPeer(_ peer: Case) throws {
        let reference = try NIfTIReader.read(path: peer.reference)
        let prediction = try NIfTIReader.read(path: peer.prediction)
        let settings = EvaluationSettings(
            percentile: Self.fixtures.percentile, toleranceMM: Self.fixtures.tolerance, presets: [.meshmetrics],
            threads: 2)
        let evaluation = Evaluator.evaluate(reference: reference, prediction: prediction, settings: settings)
        let rows = Dictionary(uniqueKeysWithValues: evaluation.labels.map { ($0.label, $0) })
        let full = Evaluator.meshMetrics(reference: reference, prediction: prediction, settings: settings)
        #expect(peer.labels.count > 0)
        for (label, values) in peer.labels.sorted(by: { $0.key < $1.key }) {
            let row = try #require(rows[label], "\(peer.name) label \(label)")
            #expect(row.status == .matched)
            let metrics = try #require(row.surface[.meshmetrics])
            for (key, expected) in values where key != "biou" {
                let ours = try #require(Self.value(metrics, key), "\(key)")
                let peerValue = try #require(expected)
                // The acceptance tolerance, against both the exact-vertex and the float32 run.
                #expect(close(ours, peerValue, rtol: 1e-5, atol: 1e-4), "\(peer.name) \(label) \(key)")
                if let rounded = peer.float32[label]?[key] {
                    #expect(close(ours, rounded, rtol: 1e-5, atol: 1e-4), "\(peer.name) \(label) \(key) vtk32")
                }
            }
            // BIoU: a ratio of voxel counts, the same counts as the peer's. Compared within
            // 4 ulps: Foundation's JSONSerialization on Linux parses some stored decimals to a
            // neighbouring double (0.06306306306306306 = 7/111 in the file reads as …307).
            let result = try #require(full[label])
            #expect(result.surface == metrics, "\(peer.name) \(label): the library entry point equals evaluate")
            if let expectedBIoU = values["biou"] ?? nil {
                #expect(close(result.boundaryIoU ?? .nan, expectedBIoU, rtol: 1e-15), "\(peer.name) \(label) biou")
                // The value the rows report (`biou`).
                let reported = row.value(of: .boundaryIoU, preset: .meshmetrics)
                #expect(close(reported ?? .nan, expectedBIoU, rtol: 1e-15), "\(peer.name) \(label) reported biou")
            }
        }
    }
}
