/// Voxel counts and boxes of one label in a reference and (optionally) a prediction.
public struct LabelCensus: Equatable, Sendable {
    public var label: Int32
    public var referenceVoxels = 0
    public var predictionVoxels = 0
    public var intersectionVoxels = 0
    public var referenceBox = VoxelBox.empty
    public var predictionBox = VoxelBox.empty

    public init(label: Int32) { self.label = label }
}

/// One parallel pass over one or two volumes that gives, for every non-zero label, the
/// voxel counts, the intersection count and the bounding boxes (never one scan per label).
public enum Census {
    /// Counts every non-zero label of `reference` and `prediction` (same voxel count).
    /// Labels come back in ascending order.
    public static func count(
        reference: [Int32], prediction: [Int32]? = nil, nx: Int, ny: Int, nz: Int, threads: Int
    ) -> [LabelCensus] {
        reference.withUnsafeBufferPointer { ref in
            (prediction ?? []).withUnsafeBufferPointer { pred in
                count(
                    reference: ref, prediction: prediction == nil ? nil : pred, nx: nx, ny: ny, nz: nz, threads: threads
                )
            }
        }
    }

    /// `count` on one volume's labels in their storage.
    public static func count(reference: LabelStorage, nx: Int, ny: Int, nz: Int, threads: Int) -> [LabelCensus] {
        reference.withBuffer(Single(nx: nx, ny: ny, nz: nz, threads: threads))
    }

    private struct Single: LabelBufferVisitor {
        let nx: Int, ny: Int, nz: Int, threads: Int
        func visit<T: LabelValue>(_ labels: UnsafeBufferPointer<T>) -> [LabelCensus] {
            count(reference: labels, prediction: nil, nx: nx, ny: ny, nz: nz, threads: threads)
        }
    }

    /// Counts every non-zero label of `reference` and `prediction` (same voxel count), of
    /// any label type. Labels come back in ascending order.
    ///
    /// Rows are read as runs of equal (reference, prediction) pairs, so the per-label
    /// bookkeeping costs one update per run, not per voxel. Cost: O(voxels) reads plus
    /// O(runs) updates, split over `threads` workers by slices.
    static func count<T: LabelValue>(
        reference: UnsafeBufferPointer<T>, prediction: UnsafeBufferPointer<T>?, nx: Int, ny: Int, nz: Int,
        threads: Int
    ) -> [LabelCensus] {
        precondition(reference.count == nx * ny * nz, "reference size must match the dims")
        precondition(prediction.map { $0.count == reference.count } ?? true, "volumes must be the same size")
        var low = Int32.max
        var high = Int32.min
        for volume in [reference, prediction].compactMap({ $0 }) {
            let range = minMax(volume, threads: threads)
            low = min(low, range.0)
            high = max(high, range.1)
        }
        if low > high { return [] }
        let span = Int(high) - Int(low) + 1
        if useDenseIndex(span: span, voxels: reference.count, threads: min(threads, nz)) {
            return run(reference, prediction, nx, ny, nz, threads, DenseIndex(low: low, span: span))
        }
        let distinct = distinctLabels(reference).union(prediction.map { distinctLabels($0) } ?? [])
        return run(reference, prediction, nx, ny, nz, threads, SparseIndex(labels: distinct.sorted()))
    }

    /// Whether to count through a table indexed by label value (one slot per value in the
    /// span, per worker: 72 bytes each) rather than a dictionary of the labels present.
    /// The tables must stay small next to the volume: labels 1 and 1,000,000 on 16 workers
    /// would otherwise ask for 1.2 GB, and a 16³ volume of random labels for 72 MB.
    static func useDenseIndex(span: Int, voxels: Int, threads: Int) -> Bool {
        span <= 1 << 20 && span * max(1, threads) <= max(1 << 12, voxels / 64)
    }

    private static func run<T: LabelValue, Index: LabelIndexing>(
        _ ref: UnsafeBufferPointer<T>, _ prediction: UnsafeBufferPointer<T>?, _ nx: Int, _ ny: Int, _ nz: Int,
        _ threads: Int, _ index: Index
    ) -> [LabelCensus] {
        let slots = index.slotCount
        let workers = max(1, min(threads, nz))
        // Per worker: [ref, pred, inter] counts, then ref and pred boxes as 6 Int32 each.
        var counts = [Int](repeating: 0, count: workers * slots * 3)
        var boxes = [Int32](repeating: 0, count: workers * slots * 12)
        for w in 0..<workers {
            for s in 0..<slots {
                let base = (w * slots + s) * 12
                for side in 0..<2 {
                    for axis in 0..<3 {
                        boxes[base + side * 6 + axis] = .max
                        boxes[base + side * 6 + 3 + axis] = .min
                    }
                }
            }
        }
        let hasPrediction = prediction != nil
        let pred = prediction ?? ref
        counts.withUnsafeMutableBufferPointer { countBuffer in
            boxes.withUnsafeMutableBufferPointer { boxBuffer in
                let shared = UncheckedSendable((ref, pred, countBuffer, boxBuffer))
                parallelForWithWorker(nz, threads: workers) { worker, k in
                    let (ref, pred, countBuffer, boxBuffer) = shared.value
                    let countBase = worker * slots * 3
                    let boxBase = worker * slots * 12
                    for j in 0..<ny {
                        let row = (k * ny + j) * nx
                        var i = 0
                        while i < nx {
                            let r = ref[row + i]
                            let p = hasPrediction ? pred[row + i] : 0
                            let end =
                                hasPrediction
                                ? runEnd(ref, pred, from: row + i + 1, limit: row + nx, r, p) - row
                                : runEnd(ref, ref, from: row + i + 1, limit: row + nx, r, r) - row
                            let length = end - i
                            if r != 0 {
                                let s = index.slot(of: Int32(truncatingIfNeeded: r))
                                countBuffer[countBase + s * 3] += length
                                if r == p { countBuffer[countBase + s * 3 + 2] += length }
                                extend(boxBuffer, boxBase + s * 12, i, end - 1, j, k)
                            }
                            if p != 0 {
                                let s = index.slot(of: Int32(truncatingIfNeeded: p))
                                countBuffer[countBase + s * 3 + 1] += length
                                extend(boxBuffer, boxBase + s * 12 + 6, i, end - 1, j, k)
                            }
                            i = end
                        }
                    }
                }
            }
        }
        var result: [LabelCensus] = []
        for s in 0..<slots {
            var census = LabelCensus(label: index.label(ofSlot: s))
            for w in 0..<workers {
                let c = (w * slots + s) * 3
                census.referenceVoxels += counts[c]
                census.predictionVoxels += counts[c + 1]
                census.intersectionVoxels += counts[c + 2]
                let b = (w * slots + s) * 12
                census.referenceBox = census.referenceBox.union(box(boxes, b))
                census.predictionBox = census.predictionBox.union(box(boxes, b + 6))
            }
            if census.referenceVoxels > 0 || census.predictionVoxels > 0 { result.append(census) }
        }
        return result
    }

    /// The first index from `start` (below `limit`) where `a` differs from `x` or `b` from
    /// `y`; `limit` when none does. Reads eight bytes of each at a time: a mixed word's first
    /// differing byte gives the element (labels are 1, 2 or 4 bytes, stored little-endian in
    /// memory order either way). Measured on the CT-sized bench pair (UInt8 labels, runs of
    /// background hundreds of voxels long): the element-by-element loop was most of the census.
    @inline(__always)
    static func runEnd<T: LabelValue>(
        _ a: UnsafeBufferPointer<T>, _ b: UnsafeBufferPointer<T>, from start: Int, limit: Int, _ x: T, _ y: T
    ) -> Int {
        let size = MemoryLayout<T>.stride
        var index = start
        if size <= 4, let baseA = a.baseAddress, let baseB = b.baseAddress {
            let perWord = 8 / size
            // The element's bit pattern repeated over a word.
            let mask: UInt64 = size == 4 ? 0xFFFF_FFFF : (1 << (8 * UInt64(size))) - 1
            let repeatUnit: UInt64 =
                size == 1 ? 0x0101_0101_0101_0101 : (size == 2 ? 0x0001_0001_0001_0001 : 0x1_0000_0001)
            let wordX = (UInt64(truncatingIfNeeded: x) & mask) &* repeatUnit
            let wordY = (UInt64(truncatingIfNeeded: y) & mask) &* repeatUnit
            let rawA = UnsafeRawPointer(baseA)
            let rawB = UnsafeRawPointer(baseB)
            while index + perWord <= limit {
                let differ =
                    (rawA.loadUnaligned(fromByteOffset: index * size, as: UInt64.self) ^ wordX)
                    | (rawB.loadUnaligned(fromByteOffset: index * size, as: UInt64.self) ^ wordY)
                if differ != 0 {
                    return index + UInt64(littleEndian: differ).trailingZeroBitCount / (8 * size)
                }
                index += perWord
            }
        }
        while index < limit && a[index] == x && b[index] == y { index += 1 }
        return index
    }

    @inline(__always)
    private static func extend(
        _ box: UnsafeMutableBufferPointer<Int32>, _ at: Int, _ i0: Int, _ i1: Int, _ j: Int, _ k: Int
    ) {
        box[at] = min(box[at], Int32(i0))
        box[at + 1] = min(box[at + 1], Int32(j))
        box[at + 2] = min(box[at + 2], Int32(k))
        box[at + 3] = max(box[at + 3], Int32(i1))
        box[at + 4] = max(box[at + 4], Int32(j))
        box[at + 5] = max(box[at + 5], Int32(k))
    }

    private static func box(_ boxes: [Int32], _ base: Int) -> VoxelBox {
        VoxelBox(
            lower: SIMD3(boxes[base], boxes[base + 1], boxes[base + 2]),
            upper: SIMD3(boxes[base + 3], boxes[base + 4], boxes[base + 5]))
    }

    /// The smallest and largest value as `Int32` (parallel, 1 Mi-voxel chunks).
    static func minMax<T: LabelValue>(_ source: UnsafeBufferPointer<T>, threads: Int) -> (Int32, Int32) {
        let chunk = 1 << 20
        let chunks = (source.count + chunk - 1) / chunk
        var lows = [Int32](repeating: .max, count: chunks)
        var highs = [Int32](repeating: .min, count: chunks)
        lows.withUnsafeMutableBufferPointer { lowOut in
            highs.withUnsafeMutableBufferPointer { highOut in
                let shared = UncheckedSendable((lowOut, highOut))
                parallelFor(chunks, threads: threads) { c in
                    let (lowOut, highOut) = shared.value
                    let range = (c * chunk)..<min(source.count, (c + 1) * chunk)
                    guard !range.isEmpty else { return }
                    var low = T.max
                    var high = T.min
                    for index in range {
                        low = min(low, source[index])
                        high = max(high, source[index])
                    }
                    lowOut[c] = Int32(truncatingIfNeeded: low)
                    highOut[c] = Int32(truncatingIfNeeded: high)
                }
            }
        }
        return (lows.min() ?? .max, highs.max() ?? .min)
    }

    /// The distinct non-zero values, collected run by run (used when labels span too wide a
    /// range for a lookup table).
    static func distinctLabels<T: LabelValue>(_ values: UnsafeBufferPointer<T>) -> Set<Int32> {
        var found = Set<Int32>()
        var previous: T = 0
        for value in values where value != previous {
            if value != 0 { found.insert(Int32(truncatingIfNeeded: value)) }
            previous = value
        }
        return found
    }
}

/// Maps a label value to a dense slot number.
protocol LabelIndexing {
    var slotCount: Int { get }
    func slot(of label: Int32) -> Int
    func label(ofSlot slot: Int) -> Int32
}

/// Labels within a narrow span of values: the slot is the offset from the lowest.
struct DenseIndex: LabelIndexing {
    let low: Int32
    let span: Int
    var slotCount: Int { span }
    @inline(__always) func slot(of label: Int32) -> Int { Int(label) - Int(low) }
    func label(ofSlot slot: Int) -> Int32 { Int32(Int(low) + slot) }
}

/// Labels spread over a wide range: a dictionary from value to slot.
struct SparseIndex: LabelIndexing {
    let labels: [Int32]
    let slots: [Int32: Int]
    init(labels: [Int32]) {
        self.labels = labels
        slots = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
    }
    var slotCount: Int { labels.count }
    @inline(__always) func slot(of label: Int32) -> Int {
        // The index is built from the labels the census found: any other value is a bug.
        guard let slot = slots[label] else { preconditionFailure("label \(label) is not in the census index") }
        return slot
    }
    func label(ofSlot slot: Int) -> Int32 { labels[slot] }
}
