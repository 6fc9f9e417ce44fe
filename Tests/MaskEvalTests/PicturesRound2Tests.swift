import Foundation
import Testing

@testable import MaskEval

/// Pictures round 2 (issue 18): anatomical display, failure panels, surfaces, distance map,
/// batch dashboard links.
@Suite struct PicturesRound2Tests {
    /// A volume stored four ways that hold the same anatomy: RAS, LAS (i flipped), an oblique
    /// affine (RAS rotated 12° about S–I) and i/j swapped (ARS). `place` maps an RAS voxel to
    /// the copy's voxel.
    struct Copy {
        var volume: LabelVolume
        var place: (SIMD3<Int>) -> SIMD3<Int>
    }

    static let (nx, ny, nz) = (23, 19, 9)
    static let spacing = (0.8, 1.1, 2.5)

    static func rasLabels(_ i: Int, _ j: Int, _ k: Int) -> Int32 {
        // Asymmetric in every axis, so that any mirror shows.
        if i >= 3 && i < 12 && j >= 2 && j < 9 && k >= 1 && k < 7 { return 1 }
        if i >= 14 && i < 20 && j >= 6 && j < 17 && k >= 2 && k < 5 { return 2 }
        return i < 2 && j > 15 && k == 8 ? 3 : 0
    }

    static func copies() -> [(String, Copy)] {
        let (sx, sy, sz) = spacing
        let ras = Affine(rows: [[sx, 0, 0, -9], [0, sy, 0, 4], [0, 0, sz, 7], [0, 0, 0, 1]])
        func build(_ affine: Affine, _ dims: (Int, Int, Int), _ value: (Int, Int, Int) -> Int32) -> LabelVolume {
            LabelVolume(
                grid: Grid(nx: dims.0, ny: dims.1, nz: dims.2, affine: affine),
                labels: makeLabels(dims.0, dims.1, dims.2, value))
        }
        var las = ras
        las[0, 0] = -sx
        las[0, 3] = -9 + sx * Double(nx - 1)
        let angle = 12.0 * Double.pi / 180
        let (c, s) = (cos(angle), sin(angle))
        let oblique = Affine(rows: [
            [c * sx, -s * sy, 0, -9], [s * sx, c * sy, 0, 4], [0, 0, sz, 7], [0, 0, 0, 1],
        ])
        let swapped = Affine(rows: [[0, sx, 0, -9], [sy, 0, 0, 4], [0, 0, sz, 7], [0, 0, 0, 1]])
        return [
            ("RAS", Copy(volume: build(ras, (nx, ny, nz), rasLabels), place: { $0 })),
            (
                "LAS",
                Copy(
                    volume: build(las, (nx, ny, nz)) { i, j, k in rasLabels(nx - 1 - i, j, k) },
                    place: { SIMD3(nx - 1 - $0.x, $0.y, $0.z) })
            ),
            ("oblique", Copy(volume: build(oblique, (nx, ny, nz), rasLabels), place: { $0 })),
            (
                "ARS (i and j swapped)",
                Copy(
                    volume: build(swapped, (ny, nx, nz)) { i, j, k in rasLabels(j, i, k) },
                    place: { SIMD3($0.y, $0.x, $0.z) })
            ),
        ]
    }

    static func placeBox(_ box: VoxelBox, _ place: (SIMD3<Int>) -> SIMD3<Int>) -> VoxelBox {
        let a = place(SIMD3(Int(box.lower.x), Int(box.lower.y), Int(box.lower.z)))
        let b = place(SIMD3(Int(box.upper.x), Int(box.upper.y), Int(box.upper.z)))
        return VoxelBox(
            lower: SIMD3(Int32(min(a.x, b.x)), Int32(min(a.y, b.y)), Int32(min(a.z, b.z))),
            upper: SIMD3(Int32(max(a.x, b.x)), Int32(max(a.y, b.y)), Int32(max(a.z, b.z))))
    }

    @Test(arguments: DisplayConvention.allCases)
    func storageOrderDoesNotChangeTheSlices(convention: DisplayConvention) throws {
        let all = Self.copies()
        let box = VoxelBox(lower: SIMD3(2, 1, 0), upper: SIMD3(20, 17, 8))
        let through = SIMD3(8, 5, 3)
        var first: [SliceImages.Plane: [UInt8]] = [:]
        for (name, copy) in all {
            let slices = SliceImages(
                reference: copy.volume, prediction: copy.volume, intensity: nil, convention: convention)
            for plane in SliceImages.Plane.allCases {
                let image = slices.render(
                    label: 1, plane: plane, voxel: copy.place(through), box: Self.placeBox(box, copy.place),
                    marginMM: 0, size: 120, mark: copy.place(through))
                let png = PNG.encode(image)
                if let expected = first[plane] {
                    #expect(png == expected, "\(name), \(plane.name): the PNG differs from the RAS copy's")
                } else {
                    first[plane] = png
                }
                let letters = slices.letters(plane)
                if plane == .axial {
                    let expected = convention == .radiological ? ("R", "L") : ("L", "R")
                    #expect(letters.left == expected.0 && letters.right == expected.1 && letters.top == "A")
                }
                if plane == .sagittal { #expect(letters.left == "A" && letters.top == "S" && letters.bottom == "I") }
            }
        }
    }

    @Test func radiologicalIsTheNeurologicalMirrored() {
        let copy = Self.copies()[0].1
        let box = VoxelBox(lower: SIMD3(0, 0, 0), upper: SIMD3(22, 18, 8))
        func image(_ convention: DisplayConvention) -> RGBImage {
            SliceImages(reference: copy.volume, prediction: copy.volume, intensity: nil, convention: convention)
                .render(label: 1, plane: .axial, voxel: SIMD3(8, 5, 3), box: box, marginMM: 0, size: 92)
        }
        let radiological = image(.radiological)
        let neurological = image(.neurological)
        #expect(radiological.width == neurological.width)
        var mirrored = neurological
        for y in 0..<neurological.height {
            for x in 0..<neurological.width { mirrored[x, y] = neurological[neurological.width - 1 - x, y] }
        }
        #expect(mirrored == radiological)
        // Label 1 (low i: low x, the patient's left in RAS+) is on the screen's right in the
        // radiological display.
        var (brightLeft, brightRight) = (0, 0)
        for y in 0..<radiological.height {
            for x in 0..<radiological.width where radiological[x, y].0 == 150 {
                if x < radiological.width / 2 { brightLeft += 1 } else { brightRight += 1 }
            }
        }
        #expect(brightRight > 0 && brightLeft == 0)
    }

    @Test func oneWindowForCTAndAPercentileOtherwise() {
        let ct: [Float] = (0..<1000).map { (n: Int) -> Float in n % 2 == 0 ? -1000 : Float(60 + n % 7) }
        #expect(IntensityWindow.automatic(for: ct) == .softTissue)
        let mr: [Float] = (0..<1000).map { (n: Int) -> Float in Float(n) - 400 }
        let window = IntensityWindow.automatic(for: mr)
        #expect(window.level == (-390 + 589) / 2 && window.width == 979)
        #expect(IntensityWindow(text: "400,40") == .softTissue)
        #expect(IntensityWindow(text: "0,40") == nil && IntensityWindow(text: "400") == nil)
    }

    @Test func everyFailureHasAPanel() throws {
        // PicturesTests.pair: label 3 is missed, label 4 spurious.
        let (ref, pred) = PicturesTests.pair()
        var settings = EvaluationSettings(threads: 1)
        settings.keepDetail = true
        let evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: settings)
        let slices = SliceImages(reference: ref, prediction: pred, intensity: nil)
        let html = HTMLReport.compare(
            evaluation: evaluation, report: makeReport(evaluation, reference: ref, prediction: pred), slices: slices)
        #expect(html.contains("<h3 class=\"missed\">3: missed"))
        #expect(html.contains("<h3 class=\"spurious\">4: spurious"))
        // Its panel shows the reference contour (green): the largest cross-section holds it.
        let missed = try #require(evaluation.labels.first { $0.label == 3 })
        let detail = try #require(missed.detail)
        // A one-voxel-thick slab: every voxel is a boundary voxel.
        #expect(detail.referenceBoundary.count == missed.referenceVoxels && detail.predictionBoundary.isEmpty)
        #expect(detail.distances.referenceToPrediction.allSatisfy { $0 == .infinity })
        let at = slices.largestCrossSection(of: ref, label: 3, box: detail.box)
        #expect(at.z == 11)
        for plane in SliceImages.Plane.allCases {
            let image = slices.render(label: 3, plane: plane, voxel: at, box: detail.box)
            let green = stride(from: 0, to: image.pixels.count, by: 3).contains {
                image.pixels[$0] == 0 && image.pixels[$0 + 1] == 220 && image.pixels[$0 + 2] == 0
            }
            #expect(green, "\(plane.name) panel of the missed label shows no reference contour")
        }
        // Rows: missed 1 + spurious 1 + two per matched worst structure (error, centre); each
        // row three planes and a locator.
        let matched = HTMLReport.worst(evaluation.labels, preset: .monai).count
        let rows = html.components(separatedBy: "<div class=\"row\">").count - 1
        #expect(rows == 2 + 2 * matched)
        #expect(html.components(separatedBy: "data:image/png;base64,").count - 1 == rows * 4)
    }

    @Test func largestErrorIsTheBiggestConnectedRegion() throws {
        // Reference: a 6×6×6 cube. Prediction: the cube less a 2×2×2 corner (8 FN), plus a
        // detached 3×3×3 island (27 FP).
        let ref = volume(20, 12, 12) { i, j, k in i >= 2 && i < 8 && j >= 2 && j < 8 && k >= 2 && k < 8 ? 1 : 0 }
        let pred = volume(20, 12, 12) { i, j, k in
            if i >= 2 && i < 8 && j >= 2 && j < 8 && k >= 2 && k < 8 { return i < 4 && j < 4 && k < 4 ? 0 : 1 }
            return i >= 14 && i < 17 && j >= 4 && j < 7 && k >= 4 && k < 7 ? 1 : 0
        }
        let slices = SliceImages(reference: ref, prediction: pred, intensity: nil)
        let box = VoxelBox(lower: SIMD3(2, 2, 2), upper: SIMD3(16, 7, 7))
        let error = try #require(slices.largestError(label: 1, box: box))
        #expect(error.count == 27 && !error.missing && error.voxel == SIMD3(15, 5, 5))
        #expect(slices.largestError(label: 1, box: box, preferring: SIMD3(14, 4, 4))?.voxel == SIMD3(14, 4, 4))
    }

    // MARK: Surfaces

    /// A minimal binary little-endian PLY reader: the header's counts, then float x y z
    /// distance_mm per vertex and uchar-counted int lists per face.
    static func parsePLY(_ bytes: [UInt8]) throws -> (vertices: [SIMD3<Float>], values: [Float], faces: [[Int]]) {
        let marker = Array("end_header\n".utf8)
        let end = try #require(
            (0...(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker })
        let header = String(decoding: bytes[0..<end], as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(header[0] == "ply" && header[1] == "format binary_little_endian 1.0")
        #expect(header.contains("comment SPACE=RAS"))
        let vertexCount = try #require(
            header.first { $0.hasPrefix("element vertex ") }.flatMap { Int($0.split(separator: " ")[2]) })
        let faceCount = try #require(
            header.first { $0.hasPrefix("element face ") }.flatMap { Int($0.split(separator: " ")[2]) })
        #expect(
            header.filter { $0.hasPrefix("property float") } == [
                "property float x", "property float y", "property float z", "property float distance_mm",
            ])
        var at = end + marker.count
        func u32() -> UInt32 {
            defer { at += 4 }
            return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16
                | UInt32(bytes[at + 3]) << 24
        }
        var vertices: [SIMD3<Float>] = []
        var values: [Float] = []
        for _ in 0..<vertexCount {
            let (x, y, z, d) = (u32(), u32(), u32(), u32())
            vertices.append(SIMD3(Float(bitPattern: x), Float(bitPattern: y), Float(bitPattern: z)))
            values.append(Float(bitPattern: d))
        }
        var faces: [[Int]] = []
        for _ in 0..<faceCount {
            let n = Int(bytes[at])
            at += 1
            faces.append((0..<n).map { _ in Int(Int32(bitPattern: u32())) })
        }
        #expect(at == bytes.count, "bytes left after the last face")
        return (vertices, values, faces)
    }

    @Test(arguments: [0, 3]) func surfacesParseAndLieOnTheVoxelFaces(copyIndex: Int) throws {
        // The RAS and the i/j-swapped copies (a left-handed affine); reference = copy,
        // prediction = the copy with label 1 grown by one voxel along +k.
        let copy = Self.copies()[copyIndex].1
        let ref = copy.volume
        var pred = ref
        let grid = ref.grid
        let refLabels = ref.int32Labels
        var predLabels = refLabels
        for index in refLabels.indices where refLabels[index] == 1 {
            let v = grid.voxel(index)
            if v.z + 1 < grid.nz { predLabels[index + grid.nx * grid.ny] = 1 }
        }
        pred.storage = .int32(predLabels)
        var settings = EvaluationSettings(threads: 1)
        settings.keepDetail = true
        let evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: settings)
        let result = try #require(evaluation.labels.first { $0.label == 1 })
        let detail = try #require(result.detail)
        let inverse = try #require(grid.affine.inverse)
        for side in [SurfaceMesh.Side.reference, .prediction] {
            let mask = side == .reference ? ref : pred
            let other = side == .reference ? pred : ref
            let mesh = SurfaceMesh.surface(of: side, label: 1, detail: detail, reference: ref, prediction: pred)
            let (vertices, values, faces) = try Self.parsePLY(mesh.ply(comment: "test"))
            // Faces: one per (voxel of the label, face neighbour outside it or outside the image),
            // counted here by brute force.
            var exposed = 0
            for index in mask.int32Labels.indices where mask.storage.label(at: index) == 1 {
                let v = grid.voxel(index)
                for axis in 0..<3 {
                    for step in [-1, 1] {
                        var n = v
                        n[axis] += step
                        let outside = n[axis] < 0 || n[axis] >= grid.dims[axis]
                        if outside || mask.storage.label(at: n.x + grid.nx * (n.y + grid.ny * n.z)) != 1 {
                            exposed += 1
                        }
                    }
                }
            }
            #expect(faces.count == exposed && vertices.count == 4 * exposed)
            #expect(faces.allSatisfy { $0.count == 4 && $0.allSatisfy { $0 >= 0 && $0 < vertices.count } })
            // The scalar range is the engine's: |distance_mm| takes exactly the values of the
            // boundary voxels' distances.
            let engine =
                side == .reference ? detail.distances.referenceToPrediction : detail.distances.predictionToReference
            #expect(Set(values.map { abs($0) }) == Set(engine.map { Float($0) }))
            #expect(values.contains { $0 > 0 } || values.allSatisfy { $0 <= 0 })
            // Each face lies on a voxel face: in voxel coordinates its corners share one
            // half-integer coordinate, the others are half-integers too, and the voxels on its
            // two sides are one in the mask, one not; the sign says whether that voxel is in
            // the other mask.
            for (number, face) in faces.enumerated() {
                let corners = face.map { index -> SIMD3<Double> in
                    let w = vertices[index]
                    let p = inverse.apply(Double(w.x), Double(w.y), Double(w.z))
                    return SIMD3(p.0, p.1, p.2)
                }
                for c in corners {
                    for axis in 0..<3 { #expect(abs(c[axis] - (c[axis] - 0.5).rounded() - 0.5) < 1e-3) }
                }
                let axis = try #require((0..<3).first { a in corners.allSatisfy { abs($0[a] - corners[0][a]) < 1e-3 } })
                let centre = corners.reduce(SIMD3<Double>.zero, +) / 4
                func label(_ p: SIMD3<Double>) -> (Int32, Int32)? {
                    let v = SIMD3(Int(p.x.rounded()), Int(p.y.rounded()), Int(p.z.rounded()))
                    guard (0..<3).allSatisfy({ v[$0] >= 0 && v[$0] < grid.dims[$0] }) else { return nil }
                    let index = v.x + grid.nx * (v.y + grid.ny * v.z)
                    return (mask.storage.label(at: index), other.storage.label(at: index))
                }
                var below = centre
                below[axis] -= 0.5
                var above = centre
                above[axis] += 0.5
                let sides = [label(below), label(above)]
                let inside = sides.compactMap { $0 }.filter { $0.0 == 1 }
                #expect(inside.count == 1, "face \(number) does not separate the structure from the rest")
                if let voxel = inside.first {
                    let value = values[face[0]]
                    #expect(value == 0 || (value < 0) == (voxel.1 == 1))
                }
            }
        }
    }

    // MARK: Distance map

    @Test func distanceMapHoldsEachLabelsOwnValues() throws {
        // Labels 1 and 2 touch (pred label 2 grows into label 1's reference), label 3 is
        // missed, label 4 spurious.
        let (ref, pred) = PicturesTests.pair()
        var settings = EvaluationSettings(threads: 1)
        settings.keepDetail = true
        let evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: settings)
        let map = ErrorMap.distances(evaluation, reference: ref, prediction: pred)
        var onReferenceBoundary = Set<Int>()
        for result in evaluation.labels {
            let detail = try #require(result.detail)
            for (index, distance) in zip(detail.referenceBoundary, detail.distances.referenceToPrediction) {
                onReferenceBoundary.insert(index)
                #expect(abs(map[index]) == distance, "label \(result.label), reference voxel \(index)")
                #expect((map[index] < 0) == (pred.storage.label(at: index) == result.label && distance > 0))
            }
        }
        var predictionChecked = 0
        for result in evaluation.labels {
            let detail = try #require(result.detail)
            for (index, distance) in zip(detail.predictionBoundary, detail.distances.predictionToReference)
            where !onReferenceBoundary.contains(index) {
                #expect(abs(map[index]) == distance, "label \(result.label), prediction voxel \(index)")
                predictionChecked += 1
            }
        }
        #expect(predictionChecked > 0)
        // Missed and spurious boundaries are +inf (or the penalty); off boundaries NaN.
        let missed = try #require(evaluation.labels.first { $0.label == 3 }?.detail)
        #expect(missed.referenceBoundary.allSatisfy { map[$0] == .infinity })
        let spurious = try #require(evaluation.labels.first { $0.label == 4 }?.detail)
        #expect(!spurious.predictionBoundary.isEmpty && spurious.predictionBoundary.allSatisfy { map[$0] == .infinity })
        let penalised = ErrorMap.distances(evaluation, reference: ref, prediction: pred, penaltyMM: 99)
        #expect(missed.referenceBoundary.allSatisfy { penalised[$0] == 99 })
        let boundary = Set(
            evaluation.labels.flatMap { ($0.detail?.referenceBoundary ?? []) + ($0.detail?.predictionBoundary ?? []) })
        #expect(map.indices.allSatisfy { boundary.contains($0) != map[$0].isNaN })
    }

    @Test func mapsKeepTheReferencesGeometryCodes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var h = header(12, 10, 8, spacing: (1, 1, 2))
        h.sformCode = 4
        h.qformCode = 1
        let labels = makeLabels(12, 10, 8) { i, j, k in i > 3 && i < 9 && j > 2 && k > 1 && k < 6 ? 1 : 0 }
        try NIfTIWriter.write(labels: labels, header: h, to: folder + "/ref.nii")
        let ref = try NIfTIReader.read(path: folder + "/ref.nii")
        var settings = EvaluationSettings(threads: 1)
        settings.keepDetail = true
        let evaluation = Evaluator.evaluate(reference: ref, prediction: ref, settings: settings)
        let image = ErrorMap.distanceImage(evaluation, reference: ref, prediction: ref)
        try NIfTIWriter.write(values: image.values, header: image.header, to: folder + "/d.nii")
        let back = try NIfTIReader.readHeader(path: folder + "/d.nii")
        #expect(back.sformCode == 4 && back.qformCode == 1)
        #expect(back.srowX == ref.header.srowX && back.qoffsetX == ref.header.qoffsetX)
        let errors = ErrorMap.errorImage(reference: ref, prediction: ref)
        #expect(errors.header.sformCode == 4 && errors.header.qformCode == 1)
    }

    // MARK: Batch

    @Test func batchPageLinksEveryCaseToItsReport() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (ref, pred) = PicturesTests.pair()
        var cases: [BatchCase] = []
        for id in ["a", "b c", "d/e", "d_e"] {
            let name = id.replacingOccurrences(of: "/", with: "_")
            try NIfTIWriter.write(labels: ref.int32Labels, header: ref.header, to: "\(folder)/ref_\(name).nii")
            try NIfTIWriter.write(labels: pred.int32Labels, header: pred.header, to: "\(folder)/pred_\(name).nii")
            cases.append(
                BatchCase(id: id, reference: "\(folder)/ref_\(name).nii", prediction: "\(folder)/pred_\(name).nii"))
        }
        cases.append(BatchCase(id: "broken", reference: "\(folder)/missing.nii", prediction: nil))
        var comparison = Comparison(settings: RunSettings(), threads: 2)
        comparison.keepDetail = true
        var run = BatchRun(comparison: comparison, cases: cases, threads: 2)
        let htmlPath = folder + "/site/batch.html"
        let pages = CaseReports(
            folder: folder + "/cases", settings: RunSettings(), caseIDs: cases.map(\.id), batchPage: htmlPath)
        #expect(Set(pages.fileNames.values) == ["a.html", "b_c.html", "d_e.html", "d_e_2.html", "broken.html"])
        try OutputFolder.prepare(pages.folder)
        run.onCase = { item, result in try OutputFile.write(pages.page(item, result), to: pages.path(of: item.id)) }
        let result = run.run()
        try FileManager.default.createDirectory(atPath: folder + "/site", withIntermediateDirectories: true)
        let html = HTMLReport.batch(result, gateFailures: [], caseLinks: pages.links(result, htmlPath: htmlPath))
        let hrefs = html.components(separatedBy: "<a href=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
            .filter { !$0.hasPrefix("#") }
        #expect(hrefs.count == 4 && Set(hrefs).count == 4)
        for href in hrefs {
            #expect(!href.hasPrefix("/"), "links are relative")
            let target = URL(fileURLWithPath: folder + "/site/").appendingPathComponent(href).standardizedFileURL.path
            #expect(FileManager.default.fileExists(atPath: target), "\(href) does not resolve")
            let page = try String(contentsOfFile: target, encoding: .utf8)
            #expect(page.contains("<h3 class=\"missed\">3: missed"))
            // The way back resolves to the batch page.
            let back = try #require(page.components(separatedBy: "<a href=\"").dropFirst().first?.prefix { $0 != "\"" })
            let batchPage = URL(fileURLWithPath: folder + "/cases/").appendingPathComponent(String(back))
            #expect(batchPage.standardizedFileURL.path == URL(fileURLWithPath: htmlPath).standardizedFileURL.path)
        }
        #expect(html.contains("id=\"casefilter\"") && html.contains("Failed cases (1)"))
        // Self-contained: the only URL is the SVG namespace name.
        let urls = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        #expect(!urls.contains("http://") && !urls.contains("https://") && !urls.contains("src=\"//"))
    }
}
