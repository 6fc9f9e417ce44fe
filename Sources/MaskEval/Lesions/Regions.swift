import Foundation

/// A named structure evaluated as the union of some labels in both volumes (nnU-Net's
/// "regions": for BraTS, whole tumour = {1, 2, 3}).
public struct Region: Equatable, Sendable {
    public var name: String
    public var labels: [Int32]

    public init(name: String, labels: [Int32]) {
        self.name = name
        self.labels = labels
    }

    /// The BraTS 2023 convention (labels 1 NCR, 2 ED, 3 ET): WT = {1, 2, 3}, TC = {1, 3},
    /// ET = {3}; the unions `get_tissue_wise_mask` builds in the challenge's
    /// `brats_2023_metrics/surface_distance/brats_metrics.py` (and `eval.py`'s
    /// `get_TissueWiseSeg`). nnU-Net's relabelled BraTS datasets use other values; read
    /// their dataset.json instead.
    public static let brats: [Region] = [
        Region(name: "WT", labels: [1, 2, 3]), Region(name: "TC", labels: [1, 3]), Region(name: "ET", labels: [3]),
    ]

    /// One region per label, named by its value.
    public static func perLabel(_ labels: [Int32]) -> [Region] {
        labels.map { Region(name: String($0), labels: [$0]) }
    }
}

/// What a regions file holds: the regions, and nnU-Net's ignore label when it names one.
public struct RegionFile: Equatable, Sendable {
    public var regions: [Region]
    public var ignoreLabel: Int32?
}

public enum Regions {
    /// The non-zero labels present in any of `volumes`, ascending: one pass per volume in
    /// its storage type, a set insert only when the value changes (labels come in runs).
    public static func labelsPresent(_ volumes: [LabelVolume]) -> [Int32] {
        var set = Set<Int32>()
        for volume in volumes { set.formUnion(volume.storage.withBuffer(Present())) }
        return set.sorted()
    }

    private struct Present: LabelBufferVisitor {
        func visit<T: LabelValue>(_ labels: UnsafeBufferPointer<T>) -> Set<Int32> { Census.distinctLabels(labels) }
    }

    /// The region's mask of a volume: 1 where its label is one of `labels`, else 0.
    public static func mask(_ volume: LabelVolume, labels: [Int32], threads: Int = 1) -> LabelVolume {
        let bytes = binaryMask(volume.storage, labels: labels, threads: threads)
        return LabelVolume(path: volume.path, header: volume.header, grid: volume.grid, storage: .uint8(bytes))
    }

    /// 1 where the label is one of `labels`, else 0, one byte per voxel.
    static func binaryMask(_ storage: LabelStorage, labels: [Int32], threads: Int = 1) -> [UInt8] {
        storage.withBuffer(BinaryMask(labels: labels, threads: threads))
    }

    private struct BinaryMask: LabelBufferVisitor {
        let labels: [Int32]
        let threads: Int
        func visit<T: LabelValue>(_ source: UnsafeBufferPointer<T>) -> [UInt8] {
            binaryMask(source, labels: labels, threads: threads)
        }
    }

    /// `binaryMask` on labels of any type.
    static func binaryMask<T: LabelValue>(_ source: UnsafeBufferPointer<T>, labels: [Int32], threads: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: source.count)
        let wanted = Set(labels)
        let sorted = labels.sorted()
        // A table for small non-negative label ranges; a set lookup otherwise.
        let table: [Bool]? =
            (sorted.first ?? 0) >= 0 && (sorted.last ?? 0) < 4096
            ? (0...Int(sorted.last ?? 0)).map { wanted.contains(Int32($0)) } : nil
        let count = source.count
        let chunk = 1 << 16
        let skipZeros = !wanted.contains(0)
        // Background voxels skipped 16 bytes at a time.
        let (width, step) = (MemoryLayout<T>.stride, 16 / MemoryLayout<T>.stride)
        out.withUnsafeMutableBufferPointer { target in
            let shared = UncheckedSendable(target)
            parallelFor((count + chunk - 1) / chunk, threads: threads) { block in
                let t = shared.value
                guard let raw = source.baseAddress.map(UnsafeRawPointer.init) else { return }
                var index = block * chunk
                let end = min(count, (block + 1) * chunk)
                while index < end {
                    // 16 bytes of background voxels at once (label volumes are mostly 0).
                    if skipZeros && index + step <= end
                        && raw.loadUnaligned(fromByteOffset: index * width, as: UInt64.self) == 0
                        && raw.loadUnaligned(fromByteOffset: index * width + 8, as: UInt64.self) == 0
                    {
                        index += step
                        continue
                    }
                    defer { index += 1 }
                    let value = Int32(truncatingIfNeeded: source[index])
                    let inside: Bool
                    if let table {
                        inside = value >= 0 && Int(value) < table.count && table[Int(value)]
                    } else {
                        inside = wanted.contains(value)
                    }
                    t[index] = inside ? 1 : 0
                }
            }
        }
        return out
    }

    /// Each region's two binary (0/1) volumes: the union of its labels in the reference and
    /// in the prediction (which must share the reference's grid).
    public static func regionVolumes(
        reference: LabelVolume, prediction: LabelVolume, regions: [Region], threads: Int = 1
    ) -> [(name: String, reference: LabelVolume, prediction: LabelVolume)] {
        regions.map { region in
            (
                region.name, mask(reference, labels: region.labels, threads: threads),
                mask(prediction, labels: region.labels, threads: threads)
            )
        }
    }

    /// Evaluates every region with every metric and preset of `settings` (its `labels` is
    /// ignored): one `LabelResult` per region, in order, whose `label` is 1 (the region's
    /// value in its binary masks) and whose name is the region's. Empty regions are
    /// `absent` (Dice 1, distances 0), as `--labels` reports an asked-for empty label.
    /// One region's two masks are in memory at a time.
    public static func evaluate(
        reference: LabelVolume, prediction: LabelVolume, regions: [Region], settings: EvaluationSettings
    ) -> [(name: String, result: LabelResult)] {
        regions.map { region in
            let masks = regionVolumes(
                reference: reference, prediction: prediction, regions: [region], threads: settings.threads)[0]
            let result = EngineBridge.evaluateBinary(
                reference: masks.reference, prediction: masks.prediction, settings: settings)
            return (region.name, result)
        }
    }
}

/// nnU-Net's ignore label: reference voxels with that label take part in no metric.
public enum IgnoreLabel {
    /// Sets every voxel where the reference holds `label` to background in both volumes,
    /// and returns how many voxels that was.
    ///
    /// This reproduces nnU-Net v2's `compute_metrics` (`nnunetv2/evaluation/
    /// evaluate_predictions.py`): `ignore_mask = seg_ref == ignore_label`, and
    /// `compute_tp_fp_fn_tn` counts TP, FP and FN only where the mask is false, so Dice and
    /// IoU come out the same. nnU-Net's TN also leaves those voxels out, whereas here they
    /// become background in both volumes: whoever reports TN subtracts the returned count.
    /// Prediction voxels holding `label` outside the ignore mask stay as they are (nnU-Net
    /// never evaluates the ignore label as a class; do not ask for it). The surfaces of both
    /// masks lose the ignored voxels too (nnU-Net has no surface metrics to compare with).
    @discardableResult
    public static func apply(_ label: Int32, reference: inout LabelVolume, prediction: inout LabelVolume) -> Int {
        precondition(reference.storage.count == prediction.storage.count, "volumes must share a grid")
        var ignored = 0
        var (ref, pred) = (reference.int32Labels, prediction.int32Labels)
        for index in ref.indices where ref[index] == label {
            ref[index] = 0
            pred[index] = 0
            ignored += 1
        }
        // Zeros fit every storage type: each volume keeps its own.
        reference.storage = LabelStorage.int32(ref).converted(to: reference.storage.kind)
        prediction.storage = LabelStorage.int32(pred).converted(to: prediction.storage.kind)
        return ignored
    }
}
