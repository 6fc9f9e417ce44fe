/// The BraTS 2023 lesion-wise Dice and HD95, following the challenge's metric code
/// (github.com/rachitsaluja/BraTS-2023-Metrics, `brats_2023_metrics/surface_distance/
/// brats_metrics.py`, the same steps as the earlier `eval.py`). Rule by rule, with the
/// function each comes from:
///
/// - Components: 26-connected (`cc3d.connected_components(..., connectivity=26)` in
///   `get_lesion_wise_score`), in both volumes.
/// - Reference lesions combined by dilation: the whole reference mask is dilated
///   `dilationIterations` times with the 18-neighbour structure
///   (`scipy.ndimage.binary_dilation` with `generate_binary_structure(3, 2)`), the dilated
///   mask's 26-connected components are taken, and every reference voxel joins the lesion of
///   the dilated component it lies in (`get_gt_seg_combined_by_dilation`): reference
///   components closer than the dilation reach are one lesion.
/// - Matching: a predicted component matches a reference lesion when it has a voxel in that
///   lesion's dilation (the lesion dilated again, `gt_tmp_dilation`); this equals the lesion's
///   dilated component, since dilations of different lesions lie in different components.
///   Many predicted components may match one lesion, and one component may match several.
/// - Per reference lesion: Dice of the lesion against the union of its matched components
///   (`get_dice_score`; 0 when none matched) and the DeepMind robust Hausdorff at 95 %
///   (`compute_surface_distances` + `compute_robust_hausdorff(..., 95)`, MaskEval's
///   `deepmind` preset), +∞ when none matched.
/// - Lesions whose volume (voxels × the spacing product, mm³) is at most the variant's
///   threshold (`get_challenge_parameters`: 50 mm³ GLI, 2 mm³ MET) are left out of the
///   counts and the means (`fn_sub`, `gt_tp_sub`, `metric_df_thresh` in
///   `get_lesion_wise_results`).
/// - False positives: predicted components matching no lesion (`score_store['fp']`), of any
///   size.
/// - Aggregates over the kept lesions (TP + FN) and the FP components:
///   `lesion_dice` = Σ Dice / (kept + FP) (FP and FN count 0),
///   `lesion_hd95_mm` = (Σ HD95 with +∞ → 374 + 374 · FP) / (kept + FP)
///   (`metric_df.replace(np.inf, 374)`); with nothing to average (0/0 gives NaN there),
///   Dice 1 and HD95 0 (`if math.isnan(...)`).
/// - Spacing: the challenge reads the prediction's `get_zooms()`; MaskEval uses the reference
///   grid's spacing (the two grids match within the geometry tolerance).
public enum BraTS2023 {
    /// The challenge's HD95 for an unmatched lesion, mm (`get_lesion_wise_results`).
    public static let penaltyMM = 374.0

    static func evaluate(
        name: String, reference: [UInt8], prediction: [UInt8], grid: Grid, variant: BraTSVariant,
        settings: LesionSettings, pool: ComponentBuffers?
    ) -> LesionStructureResult {
        let nx = grid.nx
        let ny = grid.ny
        let nz = grid.nz
        let connectivity = settings.connectivity
        // The reference's own components are not needed: its lesions are the reference voxels
        // of each dilated component (`get_gt_seg_combined_by_dilation` gives every original
        // component inside one dilated component that component's number).
        var predStorage = pool?.take() ?? []
        var dilatedStorage = pool?.take() ?? []
        var predCC = ConnectedComponents.label(
            mask: prediction, nx: nx, ny: ny, nz: nz, connectivity: connectivity, threads: settings.threads,
            reusing: &predStorage)
        let dilated = dilate18(reference, nx: nx, ny: ny, nz: nz, iterations: variant.dilationIterations)
        var dilatedCC = ConnectedComponents.label(
            mask: dilated, nx: nx, ny: ny, nz: nz, connectivity: connectivity, threads: settings.threads,
            reusing: &dilatedStorage)
        let lesionCount = dilatedCC.count
        // Matches: predicted components with a voxel in the lesion's dilated component;
        // intersections: lesion voxels covered by the prediction.
        var matched = [Set<Int32>](repeating: [], count: lesionCount + 1)
        var intersection = [Int](repeating: 0, count: lesionCount + 1)
        var last = (d: -1, p: Int32(-1))  // a set insert only when the pair changes
        prediction.withUnsafeBufferPointer { fg in
            ConnectedComponents.forEachForeground(fg, 0..<fg.count) { index in
                let p = predCC.labels[index]
                let d = Int(dilatedCC.labels[index])
                if d != 0 && (d != last.d || p != last.p) {
                    matched[d].insert(p)
                    last = (d, p)
                }
                if reference[index] != 0 { intersection[d] += 1 }
            }
        }
        // Lesions: reference voxels labelled by their dilated component (in place).
        var lesions: [Int32] = []
        swap(&lesions, &dilatedCC.labels)  // unique: set in place, no copy
        dilated.withUnsafeBufferPointer { fg in
            ConnectedComponents.forEachForeground(fg, 0..<fg.count) { index in
                if reference[index] == 0 { lesions[index] = 0 }
            }
        }
        var lesionComponents = Components(labels: lesions, count: lesionCount)
        lesions = []  // the components hold the only reference
        let lesionStats = ComponentStats(lesionComponents, mask: reference, grid: grid)
        let predStats = ComponentStats(predCC, mask: prediction, grid: grid)
        var predMatched = [[Int]](repeating: [], count: predCC.count + 1)
        for lesion in stride(from: 1, through: lesionCount, by: 1) {
            for p in matched[lesion] { predMatched[Int(p)].append(lesion) }
        }

        // HD95 per matched lesion, in parallel (one engine call each, on the pair's crop).
        let matchedLesions = (0...lesionCount).filter { $0 > 0 && !matched[$0].isEmpty }
        var hd95 = [Double](repeating: .infinity, count: matchedLesions.count)
        lesionComponents.labels.withUnsafeBufferPointer { l in
            predCC.labels.withUnsafeBufferPointer { p in
                hd95.withUnsafeMutableBufferPointer { out in
                    let shared = UncheckedSendable(out)
                    let buffers = UncheckedSendable((l, p))
                    parallelFor(matchedLesions.count, threads: settings.threads) { slot in
                        let lesion = matchedLesions[slot]
                        var box = lesionStats.boxes[lesion]
                        for c in matched[lesion] { box = box.union(predStats.boxes[Int(c)]) }
                        let (refMask, predMask) = LesionEvaluator.cropPair(
                            reference: buffers.value.0, referenceIDs: [Int32(lesion)], prediction: buffers.value.1,
                            predictionIDs: matched[lesion], box: box, grid: grid)
                        let surface = EngineBridge.pairSurface(
                            reference: refMask, prediction: predMask, presets: [.deepmind], percentile: 95)
                        shared.value[slot] = surface[.deepmind]?.hdPercentileMM ?? .infinity
                    }
                }
            }
        }
        var hd95Of: [Int: Double] = [:]
        for (slot, lesion) in matchedLesions.enumerated() { hd95Of[lesion] = hd95[slot] }

        let ml = grid.voxelVolumeML
        var rows: [LesionRow] = []
        var mapRef = [Int32](repeating: 0, count: lesionCount + 1)
        var mapPred = [Int32](repeating: 0, count: predCC.count + 1)
        var nextMapID: Int32 = 1
        var diceSum = 0.0
        var hdSum = 0.0
        var kept = 0
        var tp = 0
        var fn = 0
        for lesion in stride(from: 1, through: lesionCount, by: 1) {
            mapRef[lesion] = nextMapID
            nextMapID += 1
            let ids = matched[lesion].map { Int($0) }.sorted()
            for p in ids where mapPred[p] == 0 { mapPred[p] = mapRef[lesion] }
            let voxels = lesionStats.voxels[lesion]
            let predVoxels = ids.reduce(0) { $0 + predStats.voxels[$1] }
            let dice = 2 * Double(intersection[lesion]) / Double(voxels + predVoxels)
            let hd = hd95Of[lesion] ?? .infinity
            let counted = settings.keeps(voxels: voxels, volumeML: Double(voxels) * ml)
            if counted {
                kept += 1
                diceSum += dice
                hdSum += hd.isFinite ? hd : settings.penaltyMM
                if ids.isEmpty { fn += 1 } else { tp += 1 }
            }
            var row = LesionRow(
                structure: name, side: "reference", id: lesion, voxels: voxels, volumeML: Double(voxels) * ml,
                centroidMM: lesionStats.centroidMM(lesion, grid: grid), matchedIDs: ids,
                status: ids.isEmpty ? .fn : .tp, counted: counted)
            row.dice = dice
            row.hd95MM = hd
            rows.append(row)
        }
        var fp = 0
        for p in stride(from: 1, through: predCC.count, by: 1) where predMatched[p].isEmpty {
            fp += 1
            mapPred[p] = nextMapID
            nextMapID += 1
            var row = LesionRow(
                structure: name, side: "prediction", id: p, voxels: predStats.voxels[p],
                volumeML: Double(predStats.voxels[p]) * ml, centroidMM: predStats.centroidMM(p, grid: grid),
                matchedIDs: [], status: .fp, counted: true)
            row.dice = 0
            row.hd95MM = .infinity
            rows.append(row)
        }
        let denominator = kept + fp
        let lesionDice = denominator == 0 ? 1 : diceSum / Double(denominator)
        let lesionHD95 = denominator == 0 ? 0 : (hdSum + Double(fp) * settings.penaltyMM) / Double(denominator)
        let aggregates: [(key: String, value: Double?)] = [
            ("reference_lesions", Double(lesionCount)), ("prediction_lesions", Double(predCC.count)),
            ("tp", Double(tp)), ("fp", Double(fp)), ("fn", Double(fn)),
            ("left_out_lesions", Double(lesionCount - kept)), ("lesion_dice", lesionDice),
            ("lesion_hd95_mm", lesionHD95),
        ]
        return LesionStructureResult(
            name: name, rows: rows, aggregates: aggregates, mapIDs: (mapRef, mapPred),
            referenceComponents: &lesionComponents, predictionComponents: &predCC, masks: (reference, prediction), pool: pool)
    }

    /// `iterations` dilations of a binary mask by the 18-neighbour structure (face and edge
    /// neighbours), with the image edge as background (scipy's `binary_dilation` defaults).
    ///
    /// The 18-neighbourhood is the union of the three 3×3 squares through the voxel in the
    /// coordinate planes, and a square is two 1-D dilations: with Dᵢ, Dⱼ, Dₖ the 1-D
    /// dilations by one voxel along each axis, one pass is Dⱼ(Dᵢ M) ∪ Dₖ(Dᵢ M) ∪ Dₖ(Dⱼ M):
    /// five streaming passes over the mask's box (widened by one voxel per pass) instead of
    /// 18 scattered reads per voxel (57 % of a `--match brats2023` run before; `perf record`
    /// on the 256×256×160 MS-like bench pair).
    static func dilate18(_ mask: [UInt8], nx: Int, ny: Int, nz: Int, iterations: Int) -> [UInt8] {
        let count = nx * ny * nz
        var current = [UInt8](repeating: 0, count: count)
        var box = VoxelBox.empty
        mask.withUnsafeBufferPointer { m in
            current.withUnsafeMutableBufferPointer { c in
                var index = 0
                for k in 0..<nz {
                    for j in 0..<ny {
                        var rowHas = false
                        var low = 0
                        var high = 0
                        for i in 0..<nx {
                            if m[index] != 0 {
                                c[index] = 1
                                if !rowHas { low = i }
                                high = i
                                rowHas = true
                            }
                            index += 1
                        }
                        if rowHas {
                            box = box.union(
                                VoxelBox(
                                    lower: SIMD3(Int32(low), Int32(j), Int32(k)),
                                    upper: SIMD3(Int32(high), Int32(j), Int32(k))))
                        }
                    }
                }
            }
        }
        if box.isEmpty || iterations <= 0 { return current }
        let strides = [1, nx, nx * ny]
        let extents = [nx, ny, nz]
        var alongI = [UInt8](repeating: 0, count: count)
        var alongJ = [UInt8](repeating: 0, count: count)
        var next = [UInt8](repeating: 0, count: count)
        let high = SIMD3<Int32>(Int32(nx - 1), Int32(ny - 1), Int32(nz - 1))
        for _ in 0..<iterations {
            box = VoxelBox(
                lower: pointwiseMax(box.lower &- 1, SIMD3(repeating: 0)), upper: pointwiseMin(box.upper &+ 1, high))
            let lower = [Int(box.lower.x), Int(box.lower.y), Int(box.lower.z)]
            let upper = [Int(box.upper.x), Int(box.upper.y), Int(box.upper.z)]
            /// out = D_axis(input) over the box; `combine`: OR into out instead of storing.
            func pass(
                _ input: UnsafeMutableBufferPointer<UInt8>, _ out: UnsafeMutableBufferPointer<UInt8>, axis: Int,
                combine: Bool
            ) {
                let stride = strides[axis]
                for k in lower[2]...upper[2] {
                    for j in lower[1]...upper[1] {
                        let row = j * strides[1] + k * strides[2]
                        let coordinate = axis == 1 ? j : k
                        let hasBefore = axis == 0 || coordinate > 0
                        let hasAfter = axis == 0 || coordinate < extents[axis] - 1
                        for i in lower[0]...upper[0] {
                            let index = row + i
                            var v = input[index]
                            if axis == 0 {
                                if i > 0 { v |= input[index - 1] }
                                if i < nx - 1 { v |= input[index + 1] }
                            } else {
                                if hasBefore { v |= input[index - stride] }
                                if hasAfter { v |= input[index + stride] }
                            }
                            out[index] = combine ? (out[index] | v) : v
                        }
                    }
                }
            }
            current.withUnsafeMutableBufferPointer { c in
                alongI.withUnsafeMutableBufferPointer { di in
                    alongJ.withUnsafeMutableBufferPointer { dj in
                        next.withUnsafeMutableBufferPointer { n in
                            pass(c, di, axis: 0, combine: false)
                            pass(c, dj, axis: 1, combine: false)
                            pass(di, n, axis: 1, combine: false)
                            pass(di, n, axis: 2, combine: true)
                            pass(dj, n, axis: 2, combine: true)
                        }
                    }
                }
            }
            swap(&current, &next)
        }
        return current
    }
}
