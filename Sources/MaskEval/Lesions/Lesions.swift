import Foundation

/// How predicted lesions are paired with reference lesions.
public enum LesionMatching: Equatable, Sendable {
    /// One-to-one: a predicted component matches a reference one when their IoU is at least
    /// `threshold` (`strict`: greater than it), greedily by IoU (panoptica's
    /// `NaiveThresholdMatching` with `Metric.IOU`).
    case iou(threshold: Double, strict: Bool)
    /// The BraTS 2023 lesion-wise rules (`brats_2023_metrics/surface_distance/brats_metrics.py`).
    case brats2023(BraTSVariant)

    /// Parses `iou:T`, `iou>:T`, `iou` (T = 0.5), `brats2023` and `brats2023:met`.
    public static func parse(_ text: String) throws -> LesionMatching {
        if text == "brats2023" || text == "brats2023:gli" { return .brats2023(.glioma) }
        if text == "brats2023:met" { return .brats2023(.metastasis) }
        if text == "iou" { return .iou(threshold: 0.5, strict: false) }
        for (prefix, strict) in [("iou>:", true), ("iou:", false)] where text.hasPrefix(prefix) {
            if let value = Double(text.dropFirst(prefix.count)), value >= 0, value <= 1 {
                // No IoU exceeds 1: such a run would report every lesion missed and every
                // prediction spurious, whatever the masks.
                if strict && value == 1 {
                    throw InputError.usage(
                        "--match \(text): no IoU is above 1, so nothing could match; iou:1 matches identical components")
                }
                return .iou(threshold: value, strict: strict)
            }
            throw InputError.usage("--match \(text): the IoU threshold must be a number in [0, 1]")
        }
        throw InputError.usage("--match takes iou:T, iou>:T, brats2023 or brats2023:met, not '\(text)'")
    }

    public var description: String {
        switch self {
        case .iou(let threshold, let strict): return (strict ? "iou>:" : "iou:") + String(threshold)
        case .brats2023(.glioma): return "brats2023"
        case .brats2023(.metastasis): return "brats2023:met"
        }
    }
}

/// The challenge parameters of `get_challenge_parameters` in the BraTS 2023 metric code.
public enum BraTSVariant: Equatable, Sendable {
    /// BraTS-GLI (also SSA and PED): dilation 3, lesions of at most 50 mm³ left out.
    case glioma
    /// BraTS-MET: dilation 1, lesions of at most 2 mm³ left out.
    case metastasis

    /// Iterations of the 18-neighbour (`generate_binary_structure(3, 2)`) dilation.
    public var dilationIterations: Int { self == .glioma ? 3 : 1 }
    /// Reference lesions with volume ≤ this (mm³, voxels × spacing product) are left out.
    public var maxLeftOutMM3: Double { self == .glioma ? 50 : 2 }
}

/// Settings of a lesion evaluation.
public struct LesionSettings: Sendable {
    public var matching: LesionMatching
    /// Components are `connectivity`-connected (BraTS uses 26, as does panoptica through cc3d).
    public var connectivity: Connectivity
    /// Components with fewer voxels are left out (see `LesionRow.counted`).
    public var minimumVoxels: Int?
    /// Components with a smaller volume (mL) are left out.
    public var minimumML: Double?
    /// The HD95 (mm) of an unmatched lesion in the BraTS aggregate (the challenge: 374).
    public var penaltyMM: Double
    public var threads: Int

    public init(
        matching: LesionMatching = .iou(threshold: 0.5, strict: false), connectivity: Connectivity = .twentySix,
        minimumVoxels: Int? = nil, minimumML: Double? = nil, penaltyMM: Double = BraTS2023.penaltyMM,
        threads: Int = activeCoreCount
    ) {
        self.matching = matching
        self.connectivity = connectivity
        self.minimumVoxels = minimumVoxels
        self.minimumML = minimumML
        self.penaltyMM = penaltyMM
        self.threads = threads
    }

    /// Whether a component of `voxels` voxels (`volumeML` mL) is kept. With no user
    /// threshold, the BraTS rules keep reference lesions above the variant's volume and the
    /// IoU rules keep everything.
    func keeps(voxels: Int, volumeML: Double) -> Bool {
        if minimumVoxels != nil || minimumML != nil {
            return voxels >= (minimumVoxels ?? 0) && volumeML >= (minimumML ?? 0)
        }
        if case .brats2023(let variant) = matching { return volumeML * 1000 > variant.maxLeftOutMM3 }
        return true
    }
}

/// A lesion's status.
public enum LesionStatus: String, Sendable {
    /// A reference lesion with a match, or a predicted lesion matched to one.
    case tp
    /// A reference lesion without a match.
    case fn
    /// A predicted lesion matched to no reference lesion.
    case fp
    /// A component left out by the volume threshold (IoU rules: neither matched nor counted).
    case small
}

/// One row of the lesion report: a reference lesion, or an unmatched predicted lesion.
public struct LesionRow: Sendable {
    public var structure: String
    /// "reference" or "prediction".
    public var side: String
    /// The component id on its side (1-based, first voxel in scan order).
    public var id: Int
    public var voxels: Int
    public var volumeML: Double
    /// The centroid of the component's voxel centres in world mm (through the affine).
    public var centroidMM: SIMD3<Double>
    /// The matched components of the other side.
    public var matchedIDs: [Int]
    public var status: LesionStatus
    /// False when the volume threshold leaves the lesion out of the aggregates.
    public var counted: Bool
    /// 2|R∩P|/(|R|+|P|) of the lesion and its match. IoU rules: matched pairs only (panoptica
    /// `sq_dsc` per instance). BraTS rules: the reference lesion against the union of all
    /// its matched components, 0 with none (`get_dice_score`); FP rows 0.
    public var dice: Double?
    /// |R∩P|/|R∪P| of a matched pair (IoU rules only; panoptica `sq` per instance).
    public var iou: Double?
    /// mm. IoU rules: one 95th percentile of both directed boundary-voxel distance sets pooled
    /// (panoptica HD95, MaskEval's `medpy` preset). BraTS rules: DeepMind's area-weighted
    /// robust Hausdorff at 95 % (`compute_robust_hausdorff`, the `deepmind` preset), +∞ for
    /// an unmatched lesion (374 in the aggregate). nil where not computed.
    public var hd95MM: Double?
    /// mm, IoU rules only: the mean of the two directed mean distances (panoptica's ASSD;
    /// MaskEval's `masd_mm`).
    public var assdMM: Double?
}

/// The lesion rows and aggregates of one structure (a label or a region).
public struct LesionStructureResult: Sendable {
    public var name: String
    public var rows: [LesionRow]
    /// Aggregates in report order: counts and rates (nil: undefined, e.g. precision with no
    /// predicted lesion). IoU rules: `reference_lesions`, `prediction_lesions`, `tp`, `fp`,
    /// `fn`, `precision`, `recall`, `f1`, `rq`, `sq`, `pq`, `sq_dice`, `pq_dice` (definitions
    /// and edge cases as panoptica's `panoptica_result.py`). BraTS rules: the counts,
    /// `left_out_lesions`, `lesion_dice`, `lesion_hd95_mm` (see `BraTS2023`).
    public var aggregates: [(key: String, value: Double?)]
    /// The lesion map ids of this structure's components: reference ids, then predicted ids
    /// (matched components take their reference lesion's map id).
    var referenceMapIDs: [Int32] = []
    var predictionMapIDs: [Int32] = []
    /// The components of each side on `crop` (kept for the lesion map only).
    var referenceComponents: Components?
    var predictionComponents: Components?
    /// The box of the image the structure was evaluated on.
    var crop = StructureCrop(origin: .zero, nx: 0, ny: 0, nz: 0)

    public func aggregate(_ key: String) -> Double? { aggregates.first { $0.key == key }?.value ?? nil }

    /// A structure's result with its map ids. Its components (on `crop`) stay with it for
    /// the lesion map when there is no `pool`, else their arrays go back to `pool`.
    init(
        name: String, rows: [LesionRow], aggregates: [(key: String, value: Double?)], mapIDs: ([Int32], [Int32]),
        components: (reference: Components, prediction: Components), crop: StructureCrop, pool: ComponentBuffers?
    ) {
        self.name = name
        self.rows = rows
        self.aggregates = aggregates
        (referenceMapIDs, predictionMapIDs) = mapIDs
        if let pool {
            pool.give(components.reference.labels)
            pool.give(components.prediction.labels)
        } else {
            referenceComponents = components.reference
            predictionComponents = components.prediction
            self.crop = crop
        }
    }
}

/// The result of `LesionEvaluator.evaluate`.
public struct LesionEvaluation: Sendable {
    public var settings: LesionSettings
    public var grid: Grid
    public var structures: [LesionStructureResult]
    /// Wall-clock seconds spent labelling connected components (all structures, both sides).
    public var componentSeconds = 0.0
    /// Wall-clock seconds of the whole evaluation (masks, components, matching, metrics).
    public var totalSeconds = 0.0
}

/// Per-component voxel count, box (on the crop) and centroid.
struct ComponentStats {
    var voxels: [Int]
    var boxes: [VoxelBox]
    /// Sums of the voxels' image coordinates (integers, so exact in any order).
    var sums: [SIMD3<Double>]

    /// One scan of the mask's foreground on `crop`, row by row (zero words skipped), reading
    /// the component ids.
    init(_ components: Components, mask: [UInt8], crop: StructureCrop) {
        let n = components.count
        var voxels = [Int](repeating: 0, count: n + 1)
        var boxes = [VoxelBox](repeating: .empty, count: n + 1)
        var sums = [SIMD3<Double>](repeating: .zero, count: n + 1)
        let strideJ = crop.nx
        let strideK = crop.nx * crop.ny
        let origin = SIMD3<Double>(Double(crop.origin.x), Double(crop.origin.y), Double(crop.origin.z))
        components.labels.withUnsafeBufferPointer { labels in
            mask.withUnsafeBufferPointer { fg in
                for k in 0..<crop.nz {
                    for j in 0..<crop.ny {
                        let row = j * strideJ + k * strideK
                        ConnectedComponents.forEachForeground(fg, row..<(row + crop.nx)) { index in
                            let id = Int(labels[index])
                            let i = index - row
                            voxels[id] += 1
                            let p = SIMD3<Int32>(Int32(i), Int32(j), Int32(k))
                            boxes[id].lower = pointwiseMin(boxes[id].lower, p)
                            boxes[id].upper = pointwiseMax(boxes[id].upper, p)
                            sums[id] += SIMD3(Double(i), Double(j), Double(k)) + origin
                        }
                    }
                }
            }
        }
        self.voxels = voxels
        self.boxes = boxes
        self.sums = sums
    }

    func centroidMM(_ id: Int, grid: Grid) -> SIMD3<Double> {
        let c = sums[id] / Double(max(1, voxels[id]))
        let world = grid.affine.apply(c.x, c.y, c.z)
        return SIMD3(world.0, world.1, world.2)
    }
}

public enum LesionEvaluator {
    /// Evaluates every structure: per structure, the binary reference and prediction masks
    /// (the union of the region's labels), their connected components and the matching of
    /// `settings.matching`.
    /// `keepComponents`: keep each structure's component labels for `lesionMap` (false: their
    /// arrays serve the next structure).
    ///
    /// One pass over each volume gives every label's box (`LabelBoxes`); each structure is
    /// then evaluated on its `StructureCrop` only (its masks cut straight from the labels).
    public static func evaluate(
        reference: LabelVolume, prediction: LabelVolume, structures: [Region], settings: LesionSettings,
        keepComponents: Bool = true
    ) -> LesionEvaluation {
        precondition(reference.grid.dims == prediction.grid.dims, "volumes must share a grid")
        let start = DispatchTime.now()
        ComponentClock.reset()
        let grid = reference.grid
        let volumes = [reference, prediction]
        let boxes = volumes.map { $0.storage.withBuffer(BoxesOf(grid: grid, threads: settings.threads)) }
        let margin = StructureCrop.margin(for: settings.matching)
        let pool = keepComponents ? nil : ComponentBuffers()
        var results: [LesionStructureResult] = []
        for structure in structures {
            let box = boxes[0].box(of: structure.labels, grid: grid).union(
                boxes[1].box(of: structure.labels, grid: grid))
            let crop = StructureCrop(box: box, margin: margin, grid: grid)
            let masks = volumes.map {
                $0.storage.withBuffer(
                    CropCut(crop: crop, labels: structure.labels, grid: grid, threads: settings.threads))
            }
            let (ref, pred) = (masks[0], masks[1])
            results.append(
                evaluateCrop(
                    name: structure.name, reference: ref, prediction: pred, crop: crop, grid: grid, settings: settings,
                    pool: pool))
        }
        var evaluation = LesionEvaluation(settings: settings, grid: grid, structures: results)
        evaluation.componentSeconds = ComponentClock.seconds
        evaluation.totalSeconds = Evaluator.seconds(since: start)
        return evaluation
    }

    /// One structure from its two binary masks (non-zero = inside).
    public static func evaluateMasks(
        name: String, reference: [Int32], prediction: [Int32], grid: Grid, settings: LesionSettings
    ) -> LesionStructureResult {
        evaluateMasks(
            name: name, reference: reference.map { $0 != 0 ? UInt8(1) : 0 },
            prediction: prediction.map { $0 != 0 ? UInt8(1) : 0 }, grid: grid, settings: settings)
    }

    /// One structure from its two binary masks, one byte per voxel (non-zero = inside),
    /// evaluated on the crop of their foreground.
    public static func evaluateMasks(
        name: String, reference: [UInt8], prediction: [UInt8], grid: Grid, settings: LesionSettings
    ) -> LesionStructureResult {
        let box = [reference, prediction].map { mask in
            mask.withUnsafeBufferPointer { StructureCrop.foregroundBox($0, nx: grid.nx, ny: grid.ny, nz: grid.nz) }
        }.reduce(VoxelBox.empty) { $0.union($1) }
        let crop = StructureCrop(box: box, margin: StructureCrop.margin(for: settings.matching), grid: grid)
        return evaluateCrop(
            name: name, reference: crop.cut(reference, imageGrid: grid, threads: settings.threads),
            prediction: crop.cut(prediction, imageGrid: grid, threads: settings.threads), crop: crop, grid: grid,
            settings: settings, pool: nil)
    }

    /// One structure from its two masks on `crop` (`StructureCrop.whole` for the image); its
    /// components stay with the result without a `pool` (see `LesionStructureResult`).
    static func evaluateCrop(
        name: String, reference: [UInt8], prediction: [UInt8], crop: StructureCrop, grid: Grid,
        settings: LesionSettings, pool: ComponentBuffers?
    ) -> LesionStructureResult {
        precondition(
            reference.count == crop.voxelCount && prediction.count == crop.voxelCount, "masks must fill the crop")
        switch settings.matching {
        case .iou(let threshold, let strict):
            return IoUMatching.evaluate(
                name: name, reference: reference, prediction: prediction, crop: crop, grid: grid,
                threshold: threshold, strict: strict, settings: settings, pool: pool)
        case .brats2023(let variant):
            return BraTS2023.evaluate(
                name: name, reference: reference, prediction: prediction, crop: crop, grid: grid, variant: variant,
                settings: settings, pool: pool)
        }
    }

    /// The two binary masks of a pair of component sets (ids flagged in the tables) over
    /// `box` (on `crop`) widened by one voxel and clipped, as volumes with the grid's
    /// spacing and the affine moved to their first voxel. The crop's margin makes the clip
    /// the image's.
    static func cropPair(
        reference: UnsafeBufferPointer<Int32>, referenceIDs: [Bool], prediction: UnsafeBufferPointer<Int32>,
        predictionIDs: [Bool], box: VoxelBox, crop: StructureCrop, grid: Grid
    ) -> (LabelVolume, LabelVolume) {
        let lower = pointwiseMax(box.lower &- 1, SIMD3(repeating: 0))
        let upper = pointwiseMin(box.upper &+ 1, SIMD3(Int32(crop.nx - 1), Int32(crop.ny - 1), Int32(crop.nz - 1)))
        let cx = Int(upper.x - lower.x + 1)
        let cy = Int(upper.y - lower.y + 1)
        let cz = Int(upper.z - lower.z + 1)
        var ref = [Int32](repeating: 0, count: cx * cy * cz)
        var pred = [Int32](repeating: 0, count: cx * cy * cz)
        let strideJ = crop.nx
        let strideK = crop.nx * crop.ny
        var out = 0
        for k in Int(lower.z)...Int(upper.z) {
            for j in Int(lower.y)...Int(upper.y) {
                let row = j * strideJ + k * strideK
                for i in Int(lower.x)...Int(upper.x) {
                    if referenceIDs[Int(reference[row + i])] { ref[out] = 1 }
                    if predictionIDs[Int(prediction[row + i])] { pred[out] = 1 }
                    out += 1
                }
            }
        }
        var affine = grid.affine
        let origin = grid.affine.apply(
            Double(Int(lower.x) + crop.origin.x), Double(Int(lower.y) + crop.origin.y),
            Double(Int(lower.z) + crop.origin.z))
        affine[0, 3] = origin.0
        affine[1, 3] = origin.1
        affine[2, 3] = origin.2
        let pairGrid = Grid(nx: cx, ny: cy, nz: cz, affine: affine)
        return (LabelVolume(grid: pairGrid, labels: ref), LabelVolume(grid: pairGrid, labels: pred))
    }

    /// A table of `count + 1` flags (id 0 never set) with the ids of `ids` set.
    static func idTable<S: Sequence>(_ ids: S, count: Int) -> [Bool] where S.Element: BinaryInteger {
        var table = [Bool](repeating: false, count: count + 1)
        for id in ids where id > 0 { table[Int(id)] = true }
        return table
    }

    /// The lesion map: on the reference grid, each reference lesion's voxels hold its map id,
    /// each predicted lesion's voxels (where the reference has none) the id of the reference
    /// lesion it matches, or a new id after all reference lesions; ids run on across structures.
    public static func lesionMap(_ evaluation: LesionEvaluation) -> [Int32] {
        var map = [Int32](repeating: 0, count: evaluation.grid.voxelCount)
        var offset: Int32 = 0
        for structure in evaluation.structures {
            guard let ref = structure.referenceComponents, let pred = structure.predictionComponents else { continue }
            let crop = structure.crop
            let imageStrideJ = evaluation.grid.nx
            let imageStrideK = evaluation.grid.nx * evaluation.grid.ny
            var index = 0  // on the crop
            for k in 0..<crop.nz {
                for j in 0..<crop.ny {
                    let row = crop.origin.x + (crop.origin.y + j) * imageStrideJ + (crop.origin.z + k) * imageStrideK
                    for image in row..<(row + crop.nx) {
                        defer { index += 1 }
                        guard map[image] == 0 else { continue }
                        let r = Int(ref.labels[index])
                        if r > 0 {
                            map[image] = offset + structure.referenceMapIDs[r]
                            continue
                        }
                        let p = Int(pred.labels[index])
                        if p > 0 { map[image] = offset + structure.predictionMapIDs[p] }
                    }
                }
            }
            offset += max(structure.referenceMapIDs.max() ?? 0, structure.predictionMapIDs.max() ?? 0)
        }
        return map
    }
}

/// panoptica's IoU matching and its panoptic metrics.
enum IoUMatching {
    static func evaluate(
        name: String, reference: [UInt8], prediction: [UInt8], crop: StructureCrop, grid: Grid, threshold: Double,
        strict: Bool, settings: LesionSettings, pool: ComponentBuffers?
    ) -> LesionStructureResult {
        let refCC = ConnectedComponents.label(
            mask: reference, nx: crop.nx, ny: crop.ny, nz: crop.nz, connectivity: settings.connectivity,
            threads: settings.threads, pool: pool)
        let predCC = ConnectedComponents.label(
            mask: prediction, nx: crop.nx, ny: crop.ny, nz: crop.nz, connectivity: settings.connectivity,
            threads: settings.threads, pool: pool)
        let refStats = ComponentStats(refCC, mask: reference, crop: crop)
        let predStats = ComponentStats(predCC, mask: prediction, crop: crop)
        let ml = grid.voxelVolumeML
        let refKept = (0...refCC.count).map {
            $0 > 0 && settings.keeps(voxels: refStats.voxels[$0], volumeML: Double(refStats.voxels[$0]) * ml)
        }
        let predKept = (0...predCC.count).map {
            $0 > 0 && settings.keeps(voxels: predStats.voxels[$0], volumeML: Double(predStats.voxels[$0]) * ml)
        }

        // Intersections of every overlapping (reference, prediction) pair.
        // Runs of one pair along a row cost one dictionary update.
        var intersections: [Int: Int] = [:]
        refCC.labels.withUnsafeBufferPointer { r in
            predCC.labels.withUnsafeBufferPointer { p in
                reference.withUnsafeBufferPointer { fg in
                    var runKey = -1
                    var runLength = 0
                    ConnectedComponents.forEachForeground(fg, 0..<fg.count) { index in
                        guard p[index] != 0 else { return }
                        let key = Int(r[index]) << 32 | Int(p[index])
                        if key == runKey {
                            runLength += 1
                            return
                        }
                        if runLength > 0 { intersections[runKey, default: 0] += runLength }
                        runKey = key
                        runLength = 1
                    }
                    if runLength > 0 { intersections[runKey, default: 0] += runLength }
                }
            }
        }
        // Candidates by IoU descending; ties by predicted id, then reference id (the order
        // panoptica's stable sort leaves np.unique's (pred, ref) table in).
        struct Candidate {
            var iou: Double
            var ref: Int
            var pred: Int
        }
        var candidates: [Candidate] = []
        for (key, overlap) in intersections {
            let r = key >> 32
            let p = key & 0xFFFF_FFFF
            guard refKept[r], predKept[p] else { continue }
            let union = refStats.voxels[r] + predStats.voxels[p] - overlap
            candidates.append(Candidate(iou: Double(overlap) / Double(union), ref: r, pred: p))
        }
        candidates.sort { ($0.iou, -$0.pred, -$0.ref) > ($1.iou, -$1.pred, -$1.ref) }
        var refMatch = [Int](repeating: 0, count: refCC.count + 1)
        var predMatch = [Int](repeating: 0, count: predCC.count + 1)
        var pairIoU = [Double](repeating: 0, count: refCC.count + 1)
        for c in candidates where refMatch[c.ref] == 0 && predMatch[c.pred] == 0 {
            guard strict ? c.iou > threshold : c.iou >= threshold else { continue }
            refMatch[c.ref] = c.pred
            predMatch[c.pred] = c.ref
            pairIoU[c.ref] = c.iou
        }

        // Per matched pair: Dice, IoU, and the surface metrics panoptica computes.
        let matchedRefs = (1...max(1, refCC.count)).filter { $0 <= refCC.count && refMatch[$0] != 0 }
        var surface = [[Compat: SurfaceMetrics]](repeating: [:], count: matchedRefs.count)
        refCC.labels.withUnsafeBufferPointer { r in
            predCC.labels.withUnsafeBufferPointer { p in
                surface.withUnsafeMutableBufferPointer { out in
                    let shared = UncheckedSendable(out)
                    let buffers = UncheckedSendable((r, p))
                    parallelFor(matchedRefs.count, threads: settings.threads) { slot in
                        let ref = matchedRefs[slot]
                        let pred = refMatch[ref]
                        let (refMask, predMask) = LesionEvaluator.cropPair(
                            reference: buffers.value.0,
                            referenceIDs: LesionEvaluator.idTable([ref], count: refCC.count),
                            prediction: buffers.value.1,
                            predictionIDs: LesionEvaluator.idTable([pred], count: predCC.count),
                            box: refStats.boxes[ref].union(predStats.boxes[pred]), crop: crop, grid: grid)
                        shared.value[slot] = EngineBridge.pairSurface(
                            reference: refMask, prediction: predMask, presets: [.medpy], percentile: 95)
                    }
                }
            }
        }
        var rows: [LesionRow] = []
        var mapRef = [Int32](repeating: 0, count: refCC.count + 1)
        var mapPred = [Int32](repeating: 0, count: predCC.count + 1)
        var nextMapID: Int32 = 1
        var slotOf: [Int: Int] = [:]
        for (slot, ref) in matchedRefs.enumerated() { slotOf[ref] = slot }
        var iouSum = 0.0
        var diceSum = 0.0
        for r in stride(from: 1, through: refCC.count, by: 1) {
            mapRef[r] = nextMapID
            nextMapID += 1
            let p = refMatch[r]
            var row = LesionRow(
                structure: name, side: "reference", id: r, voxels: refStats.voxels[r],
                volumeML: Double(refStats.voxels[r]) * ml, centroidMM: refStats.centroidMM(r, grid: grid),
                matchedIDs: p == 0 ? [] : [p], status: refKept[r] ? (p == 0 ? .fn : .tp) : .small,
                counted: refKept[r])
            if p != 0, let slot = slotOf[r] {
                mapPred[p] = mapRef[r]
                let overlap = intersections[r << 32 | p] ?? 0
                row.dice = 2 * Double(overlap) / Double(refStats.voxels[r] + predStats.voxels[p])
                row.iou = pairIoU[r]
                row.hd95MM = surface[slot][.medpy]?.hdPercentileMM
                row.assdMM = surface[slot][.medpy]?.masdMM
                iouSum += pairIoU[r]
                diceSum += row.dice ?? 0
            }
            rows.append(row)
        }
        for p in stride(from: 1, through: predCC.count, by: 1) where predMatch[p] == 0 {
            mapPred[p] = nextMapID
            nextMapID += 1
            rows.append(
                LesionRow(
                    structure: name, side: "prediction", id: p, voxels: predStats.voxels[p],
                    volumeML: Double(predStats.voxels[p]) * ml, centroidMM: predStats.centroidMM(p, grid: grid),
                    matchedIDs: [], status: predKept[p] ? .fp : .small, counted: predKept[p]))
        }
        let nRef = refKept.filter { $0 }.count
        let nPred = predKept.filter { $0 }.count
        let tp = matchedRefs.count
        let fp = nPred - tp
        let fn = nRef - tp
        // panoptica_result.py: prec, rec, rq; sq and pq through its zero-TP edge cases
        // (edge_case_handling.py: IoU and Dice give NaN with no instances at all, else 0).
        let anyInstances = nRef + nPred > 0
        let rq: Double? = tp == 0 ? (anyInstances ? 0 : nil) : Double(tp) / (Double(tp) + 0.5 * Double(fp + fn))
        let sq: Double? = tp == 0 ? (anyInstances ? 0 : nil) : iouSum / Double(tp)
        let sqDice: Double? = tp == 0 ? (anyInstances ? 0 : nil) : diceSum / Double(tp)
        let aggregates: [(key: String, value: Double?)] = [
            ("reference_lesions", Double(nRef)), ("prediction_lesions", Double(nPred)), ("tp", Double(tp)),
            ("fp", Double(fp)), ("fn", Double(fn)),
            ("precision", tp + fp == 0 ? nil : Double(tp) / Double(tp + fp)),
            ("recall", tp + fn == 0 ? nil : Double(tp) / Double(tp + fn)),
            ("f1", tp + fp + fn == 0 ? nil : 2 * Double(tp) / Double(2 * tp + fp + fn)),
            ("rq", rq), ("sq", sq), ("pq", sq.flatMap { s in rq.map { s * $0 } }), ("sq_dice", sqDice),
            ("pq_dice", sqDice.flatMap { s in rq.map { s * $0 } }),
        ]
        return LesionStructureResult(
            name: name, rows: rows, aggregates: aggregates, mapIDs: (mapRef, mapPred),
            components: (refCC, predCC), crop: crop, pool: pool)
    }
}

/// Every label's box in one volume, whatever its storage type.
private struct BoxesOf: LabelBufferVisitor {
    let grid: Grid
    let threads: Int
    func visit<T: LabelValue>(_ labels: UnsafeBufferPointer<T>) -> LabelBoxes {
        LabelBoxes(labels, nx: grid.nx, ny: grid.ny, nz: grid.nz, threads: threads)
    }
}

/// One structure's mask over its crop, whatever the volume's storage type.
private struct CropCut: LabelBufferVisitor {
    let crop: StructureCrop
    let labels: [Int32]
    let grid: Grid
    let threads: Int
    func visit<T: LabelValue>(_ values: UnsafeBufferPointer<T>) -> [UInt8] {
        crop.cut(values, labels: labels, imageGrid: grid, threads: threads)
    }
}
