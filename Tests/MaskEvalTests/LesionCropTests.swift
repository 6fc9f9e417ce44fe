import Testing

@testable import MaskEval

/// The structure crop (`StructureCrop`) and the row-wise dilation are fast paths: their
/// results must be those of the whole-image evaluation, bit for bit, for any thread count.
struct LesionCropTests {
    /// A random pair of label volumes with blobs of labels 1–3: boxes and balls of random
    /// size, some touching the image faces, the prediction a shifted and thinned copy plus
    /// its own blobs; a sheared, anisotropic affine with an off-origin translation.
    static func randomPair(seed: UInt64) -> (LabelVolume, LabelVolume) {
        var rng = SeededGenerator(seed: seed)
        let nx = Int.random(in: 6...30, using: &rng)
        let ny = Int.random(in: 5...24, using: &rng)
        let nz = Int.random(in: 4...20, using: &rng)
        let affine = Affine(rows: [
            [Double.random(in: 0.5...2, using: &rng), 0.1, 0, -37.5],
            [0, -Double.random(in: 0.5...2, using: &rng), 0, 12.25],
            [0, 0.05, Double.random(in: 1...3, using: &rng), 3], [0, 0, 0, 1],
        ])
        let grid = Grid(nx: nx, ny: ny, nz: nz, affine: affine)
        var ref = [Int32](repeating: 0, count: grid.voxelCount)
        var pred = ref
        func blob(_ labels: inout [Int32], _ rng: inout SeededGenerator) {
            let value = Int32.random(in: 1...3, using: &rng)
            let centre = SIMD3(
                Int.random(in: -1...nx, using: &rng), Int.random(in: -1...ny, using: &rng),
                Int.random(in: -1...nz, using: &rng))
            let radius = Int.random(in: 0...4, using: &rng)
            let ball = Bool.random(using: &rng)
            let low = pointwiseMax(centre &- radius, .zero)
            let high = pointwiseMin(centre &+ radius, SIMD3(nx - 1, ny - 1, nz - 1))
            guard all(low .<= high) else { return }
            for k in low.z...high.z {
                for j in low.y...high.y {
                    for i in low.x...high.x {
                        let d = SIMD3(i, j, k) &- centre
                        if ball && (d &* d).wrappedSum() > radius * radius { continue }
                        labels[i + nx * (j + ny * k)] = value
                    }
                }
            }
        }
        for _ in 0..<Int.random(in: 0...6, using: &rng) { blob(&ref, &rng) }
        let shift = Int.random(in: -1...1, using: &rng)
        for index in ref.indices where ref[index] != 0 && Double.random(in: 0..<1, using: &rng) < 0.85 {
            let moved = index + shift
            if moved >= 0 && moved < pred.count { pred[moved] = ref[index] }
        }
        for _ in 0..<Int.random(in: 0...3, using: &rng) { blob(&pred, &rng) }
        return (LabelVolume(grid: grid, labels: ref), LabelVolume(grid: grid, labels: pred))
    }

    /// Every value of a structure's result, as text (Doubles print their shortest exact form).
    static func text(_ result: LesionStructureResult) -> String {
        "\(result.name) \(result.rows) \(result.aggregates)"
    }

    static let matchings: [LesionMatching] = [
        .iou(threshold: 0.5, strict: false), .iou(threshold: 0.3, strict: true), .brats2023(.glioma),
        .brats2023(.metastasis),
    ]

    /// The evaluation on each structure's crop equals the whole-image one (masks built voxel
    /// by voxel, `StructureCrop.whole`), rows, aggregates and lesion map, for 1 and 3 threads,
    /// with and without reused component arrays.
    @Test(arguments: matchings)
    func cropEqualsWholeImage(matching: LesionMatching) {
        for trial in 0..<25 {
            let seed = 0x0C40_9000 + UInt64(trial)
            let (reference, prediction) = Self.randomPair(seed: seed)
            let grid = reference.grid
            let connectivity = Connectivity.allCases[trial % 3]
            let structures = Region.perLabel([1, 2, 3]) + Region.brats + [Region(name: "none", labels: [9])]
            var whole: [LesionStructureResult] = []
            for structure in structures {
                let settings = LesionSettings(matching: matching, connectivity: connectivity, threads: 1)
                let mask = { (volume: LabelVolume) in volume.int32Labels.map { structure.labels.contains($0) ? UInt8(1) : 0 }
                }
                whole.append(
                    LesionEvaluator.evaluateCrop(
                        name: structure.name, reference: mask(reference), prediction: mask(prediction),
                        crop: .whole(grid), grid: grid, settings: settings, pool: nil))
            }
            let wholeMap = LesionEvaluator.lesionMap(
                LesionEvaluation(settings: LesionSettings(matching: matching), grid: grid, structures: whole))
            for threads in [1, 3] {
                let settings = LesionSettings(matching: matching, connectivity: connectivity, threads: threads)
                let cropped = LesionEvaluator.evaluate(
                    reference: reference, prediction: prediction, structures: structures, settings: settings)
                for (got, expected) in zip(cropped.structures, whole) {
                    #expect(Self.text(got) == Self.text(expected), "seed \(seed) threads \(threads) \(got.name)")
                }
                #expect(LesionEvaluator.lesionMap(cropped) == wholeMap, "seed \(seed) threads \(threads)")
                // Without the lesion map, component arrays are reused from one structure to the next.
                let reused = LesionEvaluator.evaluate(
                    reference: reference, prediction: prediction, structures: structures, settings: settings,
                    keepComponents: false)
                for (got, expected) in zip(reused.structures, whole) {
                    #expect(Self.text(got) == Self.text(expected), "seed \(seed) threads \(threads) \(got.name)")
                }
            }
        }
    }

    /// The mask entry point crops too: the same result as through the label volumes.
    @Test func maskEntryPointEqualsLabelVolumes() {
        for trial in 0..<10 {
            let (reference, prediction) = Self.randomPair(seed: 0x0C40_A000 + UInt64(trial))
            let settings = LesionSettings(matching: .brats2023(.glioma), threads: 2)
            let viaVolumes = LesionEvaluator.evaluate(
                reference: reference, prediction: prediction, structures: [Region(name: "2", labels: [2])],
                settings: settings)
            let viaMasks = LesionEvaluator.evaluateMasks(
                name: "2", reference: reference.int32Labels.map { $0 == 2 ? UInt8(1) : 0 },
                prediction: prediction.int32Labels.map { $0 == 2 ? UInt8(1) : 0 }, grid: reference.grid, settings: settings)
            #expect(Self.text(viaMasks) == Self.text(viaVolumes.structures[0]), "trial \(trial)")
        }
    }

    /// `dilate18` equals the definition (a voxel is set when a mask voxel lies within the
    /// 18-neighbourhood, iterated; the image edge is background) on random masks, including
    /// masks touching the faces, for any thread count.
    @Test func dilationEqualsBruteForce() {
        var rng = SeededGenerator(seed: 0xD11A_7E18)
        for trial in 0..<30 {
            let (nx, ny, nz) = LesionComponentsTests.randomDims(1...12, 1...10, 1...9, &rng)
            let density = Double.random(in: 0...0.08, using: &rng)
            let mask = LesionComponentsTests.randomRuns(nx * ny * nz, longest: 1, &rng) { rng in
                Double.random(in: 0..<1, using: &rng) < density ? UInt8(1) : 0
            }
            let iterations = Int.random(in: 0...3, using: &rng)
            var expected = mask
            for _ in 0..<iterations {
                var next = expected
                for k in 0..<nz {
                    for j in 0..<ny {
                        for i in 0..<nx where expected[i + nx * (j + ny * k)] != 0 {
                            for dk in -1...1 {
                                for dj in -1...1 {
                                    for di in -1...1 where abs(di) + abs(dj) + abs(dk) <= 2 {
                                        let (a, b, c) = (i + di, j + dj, k + dk)
                                        guard a >= 0, a < nx, b >= 0, b < ny, c >= 0, c < nz else { continue }
                                        next[a + nx * (b + ny * c)] = 1
                                    }
                                }
                            }
                        }
                    }
                }
                expected = next
            }
            for threads in [1, 3] {
                let got = BraTS2023.dilate18(mask, nx: nx, ny: ny, nz: nz, iterations: iterations, threads: threads)
                #expect(got == expected, "trial \(trial) \(nx)×\(ny)×\(nz) iterations \(iterations) threads \(threads)")
            }
        }
    }

    /// The crop: the box widened by the margin and clipped to the image; empty for no voxels.
    @Test func cropBox() {
        let grid = Grid(nx: 10, ny: 8, nz: 6, affine: .diagonal(1, 1, 1))
        let box = VoxelBox(lower: SIMD3(0, 3, 2), upper: SIMD3(4, 7, 3))
        let crop = StructureCrop(box: box, margin: 3, grid: grid)
        #expect(crop.origin == SIMD3(0, 0, 0) && crop.nx == 8 && crop.ny == 8 && crop.nz == 6)
        let inner = StructureCrop(box: box, margin: 1, grid: grid)
        #expect(inner.origin == SIMD3(0, 2, 1) && inner.nx == 6 && inner.ny == 6 && inner.nz == 4)
        #expect(StructureCrop(box: .empty, margin: 1, grid: grid).voxelCount == 0)
    }
}

/// `LabelBoxes` against a voxel-by-voxel scan, for label types of 1, 2 and 4 bytes, values
/// in the table and beyond it (large and negative), and any thread count.
struct LabelBoxesTests {
    static func bruteForce(_ values: [Int], nx: Int, ny: Int, nz: Int) -> [Int: VoxelBox] {
        var boxes: [Int: VoxelBox] = [:]
        for k in 0..<nz {
            for j in 0..<ny {
                for i in 0..<nx where values[i + nx * (j + ny * k)] != 0 {
                    let p = SIMD3(Int32(i), Int32(j), Int32(k))
                    boxes[values[i + nx * (j + ny * k)], default: .empty] = boxes[
                        values[i + nx * (j + ny * k)], default: .empty
                    ].union(VoxelBox(lower: p, upper: p))
                }
            }
        }
        return boxes
    }

    static func check<T: FixedWidthInteger>(_ type: T.Type, palette: [T], seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for trial in 0..<15 {
            let (nx, ny, nz) = LesionComponentsTests.randomDims(1...70, 1...9, 1...9, &rng)
            let density = Double.random(in: 0...0.2, using: &rng)
            // Runs of one value, as label volumes have.
            let values = LesionComponentsTests.randomRuns(nx * ny * nz, longest: 6, &rng) { rng in
                Double.random(in: 0..<1, using: &rng) < density ? palette.randomElement(using: &rng) ?? 0 : T(0)
            }
            let expected = bruteForce(values.map { Int($0) }, nx: nx, ny: ny, nz: nz)
            for threads in [1, 4] {
                let got = values.withUnsafeBufferPointer { LabelBoxes($0, nx: nx, ny: ny, nz: nz, threads: threads) }
                #expect(got.boxes == expected, "\(T.self) seed \(seed) trial \(trial) threads \(threads)")
            }
        }
    }

    @Test func matchesBruteForce() {
        Self.check(UInt8.self, palette: [1, 2, 3, 255], seed: 0xB0C5_0001)
        Self.check(Int16.self, palette: [1, 7, -3, 4095, 4096, 30000], seed: 0xB0C5_0002)
        Self.check(Int32.self, palette: [1, 2, 5000, -70000, Int32.max], seed: 0xB0C5_0003)
    }

    /// A structure's box: the union of its labels' boxes; label 0 means the whole image.
    @Test func structureBox() {
        let grid = Grid(nx: 4, ny: 3, nz: 2, affine: .diagonal(1, 1, 1))
        var values = [Int32](repeating: 0, count: 24)
        values[1] = 2  // (1, 0, 0)
        values[23] = 5  // (3, 2, 1)
        let boxes = values.withUnsafeBufferPointer { LabelBoxes($0, nx: 4, ny: 3, nz: 2, threads: 1) }
        #expect(boxes.box(of: [2], grid: grid) == VoxelBox(lower: SIMD3(1, 0, 0), upper: SIMD3(1, 0, 0)))
        #expect(boxes.box(of: [2, 5, 9], grid: grid) == VoxelBox(lower: SIMD3(1, 0, 0), upper: SIMD3(3, 2, 1)))
        #expect(boxes.box(of: [9], grid: grid).isEmpty)
        #expect(boxes.box(of: [0], grid: grid) == VoxelBox(lower: .zero, upper: SIMD3(3, 2, 1)))
    }
}
