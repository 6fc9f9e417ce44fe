import Foundation

/// Which structures a run evaluates — labels, or `--regions` (unions of labels) — and
/// `--ignore-label`: the policy `compare`, `batch` and `lesions` share (docs/lesions.md,
/// "Structures").
///
/// - Regions replace labels, as in nnU-Net: with `--regions` the rows are the regions only,
///   in file order; a region's row has `label` = its position (1, 2, …) and `name` = its name.
///   Each region is the union of its labels in the reference and in the prediction, evaluated
///   as one binary structure with every metric and preset of the settings.
/// - The ignore label L (nnU-Net v2 `compute_metrics`: `ignore_mask = seg_ref == ignore_label`,
///   counts only where the mask is false): every voxel where the reference holds L becomes
///   background in both volumes before anything is counted, so TP, FP and FN (and Dice, IoU,
///   volumes, sensitivity, precision) are nnU-Net's; `tn_voxels` leaves those voxels out as
///   nnU-Net's TN does (and specificity with it). Surface distances are computed on the two
///   masks with the ignored voxels removed: a prediction running into the ignored area is cut
///   there, and the reference's faces towards the ignored area are surface (nnU-Net computes
///   no distances). L is never a structure of its own (prediction voxels of L outside the
///   mask belong to no structure), and a region that holds L is refused.
/// - `--binary` maps every remaining non-zero voxel to 1 (L aside), after the ignore label.
extension Comparison {
    /// Evaluates a pair on one grid under `settings`: the ignore label, `--binary`, then
    /// labels or regions. The volumes are left as evaluated (ignored voxels background).
    public static func evaluate(
        _ ref: inout LabelVolume, _ pred: inout LabelVolume, settings: RunSettings, threads: Int,
        keepDetail: Bool = false
    ) -> Evaluation {
        let ignored = settings.ignoreLabel.map { IgnoreLabel.apply($0, reference: &ref, prediction: &pred) } ?? 0
        if settings.binary {
            ref.storage = ref.storage.binarized()
            pred.storage = pred.storage.binarized(background: settings.ignoreLabel ?? 0)
        }
        var engine = settings.evaluation(threads: threads)
        engine.keepDetail = keepDetail
        var evaluation: Evaluation
        if let regions = settings.regions {
            let start = DispatchTime.now()
            let results = Regions.evaluate(reference: ref, prediction: pred, regions: regions, settings: engine)
            var labels = results.map(\.result)
            for index in labels.indices { labels[index].label = Int32(index + 1) }
            evaluation = Evaluation(
                settings: engine, grid: ref.grid, labels: labels,
                timings: PhaseTimings(overlapSeconds: Evaluator.seconds(since: start)))
        } else {
            if let ignore = settings.ignoreLabel, engine.labels == nil {
                engine.labels = Regions.labelsPresent([ref, pred]).filter { $0 != ignore }
            }
            evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: engine)
        }
        for index in evaluation.labels.indices where evaluation.labels[index].imageVoxels > 0 {
            evaluation.labels[index].imageVoxels -= ignored
        }
        evaluation.ignoredVoxels = ignored
        return evaluation
    }
}

extension RunSettings {
    /// The row names: the regions' names by position, else `names`.
    public func names(over names: LabelNames) -> LabelNames {
        guard let regions else { return names }
        return LabelNames(Dictionary(uniqueKeysWithValues: regions.enumerated().map { (Int32($0 + 1), $1.name) }))
    }

    /// The structures every case has: the regions' positions, else `--labels`; nil: whatever
    /// the volumes hold.
    public var structureLabels: [Int32]? {
        regions.map { $0.indices.map { Int32($0 + 1) } } ?? labels
    }

    /// Checks that the structures and the ignore label fit together: the ignore label is not 0,
    /// neither `--labels` nor a region holds it, and the regions' names differ.
    public func checkStructures() throws {
        // Ignoring 0 would drop every background voxel of the reference from both volumes, so
        // no false positive outside a structure would count: a silent, inflated Dice.
        if ignoreLabel == 0 { throw InputError.usage("the ignore label cannot be 0 (background); give a label value") }
        if let ignore = ignoreLabel, labels?.contains(ignore) == true {
            throw InputError.usage("--labels asks for the ignore label \(ignore), which is no structure")
        }
        guard let regions else { return }
        var seen = Set<String>()
        for region in regions {
            if let ignore = ignoreLabel, region.labels.contains(ignore) {
                throw InputError.usage("region '\(region.name)' holds the ignore label \(ignore)")
            }
            if !seen.insert(region.name.lowercased()).inserted {
                throw InputError.usage("two regions are called '\(region.name)'")
            }
        }
    }
}

extension Region {
    /// `{"name": …, "labels": […]}`, as run settings record it.
    public var json: JSONValue { .object(["name": .string(name), "labels": .array(labels.map { .int(Int($0)) })]) }

    init?(json: JSONValue) {
        guard let name = json["name"]?.stringValue, let labels = json["labels"]?.arrayValue else { return nil }
        self.init(name: name, labels: labels.compactMap { $0.intValue.flatMap { Int32(exactly: $0) } })
    }
}
