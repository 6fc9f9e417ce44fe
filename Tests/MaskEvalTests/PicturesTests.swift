import Foundation
import Testing

@testable import MaskEval

/// CRC-32 computed bit by bit, independent of zlib's tables.
func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

@Suite struct PicturesTests {
    @Test(arguments: [(1, 1), (7, 3), (64, 40)])
    func pngRoundTripsWithValidChunks(width: Int, height: Int) throws {
        var rng = SeededGenerator(seed: UInt64(width * 1000 + height))
        var image = RGBImage(width: width, height: height)
        for index in image.pixels.indices { image.pixels[index] = UInt8.random(in: 0...255, using: &rng) }
        let png = PNG.encode(image)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // Walk the chunks: IHDR, IDAT, IEND, each CRC equal to an independent CRC-32.
        var at = 8
        var types: [String] = []
        while at < png.count {
            let length = Int(PNG.readBigEndian(png, at))
            let typeAndBody = Array(png[(at + 4)..<(at + 8 + length)])
            types.append(String(decoding: typeAndBody.prefix(4), as: UTF8.self))
            #expect(PNG.readBigEndian(png, at + 8 + length) == referenceCRC32(typeAndBody))
            at += 12 + length
        }
        #expect(types == ["IHDR", "IDAT", "IEND"])
        #expect(PNG.readBigEndian(png, 16) == UInt32(width) && PNG.readBigEndian(png, 20) == UInt32(height))
        #expect(PNG.decode(png) == image)
        var broken = png
        broken[40] ^= 0xFF
        #expect(PNG.decode(broken) == nil)
    }

    @Test func base64MatchesFoundation() {
        for n in 0..<10 {
            let bytes = (0..<n).map { UInt8(($0 * 73 + 11) & 0xFF) }
            #expect(PNG.base64(bytes) == Data(bytes).base64EncodedString())
        }
    }

    static func pair() -> (LabelVolume, LabelVolume) {
        let ref = volume(30, 28, 12, spacing: (0.8, 0.8, 2.5)) { i, j, k in
            if (i - 10) * (i - 10) + (j - 12) * (j - 12) < 36 && k > 2 && k < 9 { return 1 }
            if i > 18 && i < 26 && j > 4 && j < 20 && k > 1 && k < 10 { return 2 }
            return k == 11 && i < 3 ? 3 : 0
        }
        let pred = volume(30, 28, 12, spacing: (0.8, 0.8, 2.5)) { i, j, k in
            if (i - 11) * (i - 11) + (j - 12) * (j - 12) < 42 && k > 2 && k < 10 { return 1 }
            if i > 19 && i < 26 && j > 4 && j < 22 && k > 1 && k < 10 { return 2 }
            return i > 26 && j > 24 ? 4 : 0
        }
        return (ref, pred)
    }

    @Test func compareHTMLHasItsChartsAndSlices() {
        let (ref, pred) = Self.pair()
        var settings = EvaluationSettings(threads: 2)
        settings.keepDetail = true
        let evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: settings)
        let report = makeReport(evaluation, reference: ref, prediction: pred)
        let html = HTMLReport.compare(
            evaluation: evaluation, report: report,
            slices: SliceImages(reference: ref, prediction: pred, intensity: nil))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 2)
        // Rows of three planes and a locator: one for the missed and one for the spurious
        // structure, two (largest error, centre) for each of the two matched ones.
        #expect(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1 == (1 + 1 + 2 * 2) * 4)
        // Nothing is loaded from the network: the only URL is the SVG namespace name.
        let urls = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        #expect(!urls.contains("http://") && !urls.contains("https://") && !urls.contains("src=\"//"))
        #expect(html.contains("missed") && html.contains("spurious"))
        // Each embedded PNG decodes.
        for part in html.components(separatedBy: "data:image/png;base64,").dropFirst() {
            let encoded = String(part.prefix { $0 != "\"" })
            let bytes = [UInt8](Data(base64Encoded: encoded) ?? Data())
            #expect(PNG.decode(bytes) != nil)
        }
    }

    @Test func slicesAreScaledBySpacing() {
        let (ref, pred) = Self.pair()
        let images = SliceImages(reference: ref, prediction: pred, intensity: nil)
        let box = VoxelBox(lower: SIMD3(0, 0, 0), upper: SIMD3(29, 27, 11))
        // Coronal: 30 × 0.8 = 24 mm across, 12 × 2.5 = 30 mm down.
        let coronal = images.render(
            label: 1, plane: .coronal, voxel: SIMD3(10, 12, 5), box: box, marginMM: 0, size: 300,
            mark: SIMD3(10, 12, 5))
        #expect(coronal.height == 300 && coronal.width == 240)
        // The yellow ring of the Hausdorff voxel is drawn.
        #expect(
            stride(from: 0, to: coronal.pixels.count, by: 3).contains {
                coronal.pixels[$0] == 255 && coronal.pixels[$0 + 1] == 220 && coronal.pixels[$0 + 2] == 0
            })
    }

    @Test(arguments: [Compat.monai, .deepmind]) func hausdorffVoxelIsWhereTheDistanceIs(preset: Compat) throws {
        let (ref, pred) = Self.pair()
        var settings = EvaluationSettings(labels: [2, 77], presets: [preset], threads: 1)
        settings.keepDetail = true
        let evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: settings)
        // Label 77 is in neither volume: it has no detail.
        #expect(evaluation.labels[1].detail == nil)
        let detail = try #require(evaluation.labels[0].detail)
        #expect(detail.hausdorffMM == evaluation.labels[0].surface[preset]!.hausdorffMM)
        let voxel = detail.hausdorffVoxel
        let index = voxel.x + 30 * (voxel.y + 28 * voxel.z)
        if preset == .monai {
            #expect(ref.storage.label(at: index) == 2 || pred.storage.label(at: index) == 2)
        } else {
            // A surfel corner touches the structure: one of the 2×2×2 voxels around it is in it.
            var touches = false
            for dz in -1...0 {
                for dy in -1...0 {
                    for dx in -1...0 {
                        let (x, y, z) = (voxel.x + dx, voxel.y + dy, voxel.z + dz)
                        guard x >= 0, y >= 0, z >= 0 else { continue }
                        let i = x + 30 * (y + 28 * z)
                        if ref.storage.label(at: i) == 2 || pred.storage.label(at: i) == 2 { touches = true }
                    }
                }
            }
            #expect(touches)
        }
    }

    @Test func errorMapReadsBackWithCountsAndGeometry() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (ref, pred) = Self.pair()
        let image = ErrorMap.errorImage(reference: ref, prediction: pred)
        try NIfTIWriter.write(values: image.values, header: image.header, to: folder + "/errors.nii.gz")
        let map = try NIfTIReader.read(path: folder + "/errors.nii.gz")
        #expect(map.grid.dims == ref.grid.dims)
        // NIfTI-1 stores the affine in float32.
        #expect(zip(map.grid.affine.values, ref.grid.affine.values).allSatisfy { abs($0 - $1) < 1e-6 })
        let evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: EvaluationSettings())
        let tp = evaluation.labels.reduce(0) { $0 + $1.intersectionVoxels }
        let fn = evaluation.labels.reduce(0) { $0 + $1.referenceVoxels - $1.intersectionVoxels }
        let fp = evaluation.labels.reduce(0) { $0 + $1.predictionVoxels - $1.intersectionVoxels }
        func count(_ code: UInt8) -> Int { map.int32Labels.filter { $0 == Int32(code) }.count }
        #expect(count(ErrorMap.truePositive) == tp)
        #expect(count(ErrorMap.falseNegative) + count(ErrorMap.wrongLabel) == fn)
        #expect(count(ErrorMap.falsePositive) + count(ErrorMap.wrongLabel) == fp)
        #expect(count(ErrorMap.background) + tp + fn + fp - count(ErrorMap.wrongLabel) == map.int32Labels.count)
    }

    @Test func distanceMapHoldsSignedBoundaryDistances() throws {
        let (ref, pred) = Self.pair()
        var settings = EvaluationSettings(labels: [1, 2])
        settings.keepDetail = true
        let evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: settings)
        let map = ErrorMap.distances(evaluation, reference: ref, prediction: pred)
        let hausdorff = evaluation.labels.map { $0.surface[.monai]!.hausdorffMM }.max()!
        #expect(abs(map.filter { !$0.isNaN }.map(abs).max()! - hausdorff) < 1e-12)
        // A prediction voxel outside the reference has a positive distance.
        let outside = map.indices.first {
            pred.storage.label(at: $0) == 1 && ref.storage.label(at: $0) != 1 && !map[$0].isNaN
        }
        #expect(outside.map { map[$0] > 0 } ?? false)
    }

    @Test func batchHTMLHasStripPlotsAndFailures() {
        var rows: [LabelRow] = []
        let dice = MetricColumn(.dice)
        let hd = MetricColumn(.hdPercentile)
        for c in 0..<5 {
            let liver: [MetricColumn: Double] = [dice: 0.8 + Double(c) * 0.01, hd: Double(c)]
            rows.append(LabelRow(caseID: "c\(c)", label: 1, name: "liver", status: .matched, values: liver))
            let missed = c == 3
            let other: [MetricColumn: Double] = [dice: missed ? 0 : 0.7, hd: missed ? .infinity : 2]
            rows.append(
                LabelRow(caseID: "c\(c)", label: 2, name: "", status: missed ? .missed : .matched, values: other))
        }
        rows.append(LabelRow(caseID: "bad", label: 0, name: "", status: .error, error: "bad.nii: truncated"))
        rows = RowTable.expandErrorRows(rows, settings: RunSettings())
        let html = HTMLReport.batch(BatchResult(rows: rows, settings: RunSettings()), gateFailures: [])
        #expect(html.components(separatedBy: "<svg ").count - 1 == 2)
        #expect(html.contains("bad.nii: truncated") && html.contains("Failed cases (1)"))
        // One dot per case and structure in each plot (10 dots), the missed one red.
        #expect(html.components(separatedBy: "<circle ").count - 1 == 20)
        #expect(html.contains("fill=\"#b3261e\""))
    }
}
