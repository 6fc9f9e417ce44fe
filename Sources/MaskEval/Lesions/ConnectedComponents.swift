import Dispatch
import Synchronization

/// Voxel connectivity of connected components: face (6), face + edge (18) or face + edge +
/// corner (26) neighbours.
public enum Connectivity: Int, CaseIterable, Sendable {
    case six = 6
    case eighteen = 18
    case twentySix = 26
}

/// The connected components of a binary mask.
public struct Components: Sendable {
    /// Per voxel, 0 for background, else the component id 1...count.
    public var labels: [Int32]
    /// The number of components.
    public var count: Int
}

/// Connected-component labelling of a binary mask: union-find over the runs of its rows, in
/// parallel over slabs of slices.
///
/// Ids are deterministic and independent of the thread count: component 1 holds the first
/// foreground voxel in file scan order (i fastest, then j, then k), component 2 the first
/// voxel not in component 1, and so on. This is the order cc3d and `scipy.ndimage.label`
/// number components in for the same (Fortran-ordered, i fastest) scan; with C-ordered numpy
/// arrays they scan k fastest instead, so their ids may be a permutation of ours.
///
/// How: a worker per slab of slices cuts each row into runs of foreground voxels and gives
/// each run the provisional label of a run it touches in the rows before it (the row below,
/// and the three rows of the slice below; `RunContact`), uniting the labels of the others in
/// a small equivalence table (union by smaller label, path halving), or a new label when it
/// touches none. Labels are numbered in scan order, slab after slab, so the smallest label
/// of a component is the one its first run opened. The runs at the slab faces are then
/// united serially, each set resolved to its smallest label, the roots numbered in order,
/// and each run's voxels written with its id. Cost: O(voxels / 8) to find the runs (eight
/// bytes tested at once), O(runs) unions, the output array of `voxels` Int32 (so a volume
/// must hold fewer than 2³¹ voxels). Per voxel, an earlier version tested up to 13
/// neighbours and united their labels: on lesion masks, whose rows hold long runs, a
/// `--match brats2023` run on the BraTS-like bench pair spent 12 % of its time there.
public enum ConnectedComponents {
    /// Labels the non-zero voxels of `mask` (nx·ny·nz values, i fastest).
    public static func label(
        mask: [Int32], nx: Int, ny: Int, nz: Int, connectivity: Connectivity = .twentySix, threads: Int = 1
    ) -> Components {
        label(
            mask: mask.map { $0 != 0 ? UInt8(1) : 0 }, nx: nx, ny: ny, nz: nz, connectivity: connectivity,
            threads: threads)
    }

    /// The runs of one slab: per row (slab-local row number j + ny · (k − first slice)), the
    /// runs `rowStart[row]..<rowStart[row + 1]`, each `first...last` in i with its label.
    private struct SlabRuns {
        var rowStart: [Int32] = [0]
        var first: [Int32] = []
        var last: [Int32] = []
        var label: [Int32] = []
        var table: [Int32] = []

        func runs(ofRow row: Int) -> Range<Int> { Int(rowStart[row])..<Int(rowStart[row + 1]) }
    }

    /// The earlier rows whose runs a run touches: (Δj, Δk) and the reach in i (1: runs that
    /// end one voxel before it or start one after it touch it too).
    private static func contacts(_ connectivity: Connectivity) -> [(dj: Int, dk: Int, reach: Int32)] {
        switch connectivity {
        case .six: return [(-1, 0, 0), (0, -1, 0)]
        case .eighteen: return [(-1, 0, 1), (-1, -1, 0), (0, -1, 1), (1, -1, 0)]
        case .twentySix: return [(-1, 0, 1), (-1, -1, 1), (0, -1, 1), (1, -1, 1)]
        }
    }

    /// Labels the non-zero bytes of `mask` (concrete, so the hot loops are not generic).
    public static func label(
        mask: [UInt8], nx: Int, ny: Int, nz: Int, connectivity: Connectivity = .twentySix, threads: Int = 1
    ) -> Components {
        label(mask: mask, nx: nx, ny: ny, nz: nz, connectivity: connectivity, threads: threads, pool: nil)
    }

    /// Labels `mask` into an array from `pool` when it has one large enough.
    static func label(
        mask: [UInt8], nx: Int, ny: Int, nz: Int, connectivity: Connectivity, threads: Int, pool: ComponentBuffers?
    ) -> Components {
        let start = DispatchTime.now()
        defer { ComponentClock.add(Evaluator.seconds(since: start)) }
        let count = nx * ny * nz
        precondition(mask.count == count, "mask size must match the dims")
        precondition(count < Int(Int32.max), "connected components need fewer than 2^31 voxels")
        let strideK = nx * ny
        let contacts = Self.contacts(connectivity)
        let slabCount = max(1, min(nz, threads * 4))
        let slabStarts = (0...slabCount).map { $0 * nz / slabCount }
        var slabs = [SlabRuns](repeating: SlabRuns(), count: slabCount)
        mask.withUnsafeBufferPointer { fg in
            slabs.withUnsafeMutableBufferPointer { slabBuffer in
                let shared = UncheckedSendable(slabBuffer)
                // Pass 1: the runs of each slab, labelled with the slab's own table.
                parallelFor(slabCount, threads: threads) { slab in
                    var runs = SlabRuns()
                    let kLow = slabStarts[slab]
                    for k in kLow..<slabStarts[slab + 1] {
                        for j in 0..<ny {
                            let row = (k - kLow) * ny + j
                            appendRuns(fg, from: j * nx + k * strideK, count: nx, to: &runs)
                            runs.rowStart.append(Int32(runs.first.count))
                            for run in runs.runs(ofRow: row) {
                                var label: Int32 = -1
                                for contact in contacts {
                                    let (nj, nk) = (j + contact.dj, k + contact.dk)
                                    guard nj >= 0, nj < ny, nk >= kLow else { continue }
                                    let touching = Self.touching(
                                        runs, row: (nk - kLow) * ny + nj, first: runs.first[run], last: runs.last[run],
                                        reach: contact.reach)
                                    for other in touching {
                                        if label < 0 {
                                            label = runs.label[other]
                                        } else if runs.label[other] != label {
                                            unite(label, runs.label[other], &runs.table)
                                        }
                                    }
                                }
                                if label < 0 {
                                    label = Int32(runs.table.count)
                                    runs.table.append(label)
                                }
                                runs.label[run] = label
                            }
                        }
                    }
                    // Each label straight to its set's smallest label (parents are smaller).
                    for l in runs.table.indices { runs.table[l] = runs.table[Int(runs.table[l])] }
                    shared.value[slab] = runs
                }
            }
        }
        // Global labels: slab offsets in slab order keep the scan order of labels.
        var offsetOf = [Int](repeating: 0, count: slabCount + 1)
        for slab in 0..<slabCount { offsetOf[slab + 1] = offsetOf[slab] + slabs[slab].table.count }
        var global = [Int32](repeating: 0, count: offsetOf[slabCount])
        for slab in 0..<slabCount {
            for (l, root) in slabs[slab].table.enumerated() {
                global[offsetOf[slab] + l] = Int32(offsetOf[slab]) + root
            }
        }
        // Pass 2: the runs of each slab's first slice against the last slice of the slab below.
        for slab in 1..<max(1, slabCount) where slabStarts[slab] > slabStarts[slab - 1] && slabStarts[slab] < nz {
            let here = slabs[slab]
            let below = slabs[slab - 1]
            let belowSlice = slabStarts[slab] - 1 - slabStarts[slab - 1]
            for j in 0..<ny {
                for run in here.runs(ofRow: j) {
                    for contact in contacts where contact.dk < 0 {
                        let nj = j + contact.dj
                        guard nj >= 0, nj < ny else { continue }
                        let touching = Self.touching(
                            below, row: belowSlice * ny + nj, first: here.first[run], last: here.last[run],
                            reach: contact.reach)
                        for other in touching {
                            unite(
                                Int32(offsetOf[slab]) + here.label[run], Int32(offsetOf[slab - 1]) + below.label[other],
                                &global)
                        }
                    }
                }
            }
        }
        // Roots in label order get ids 1, 2, … (stored negated); every other label has a
        // smaller parent, already resolved to its id.
        var componentCount: Int32 = 0
        for g in global.indices {
            let parent = Int(global[g])
            if parent == g {
                componentCount += 1
                global[g] = -componentCount
            } else {
                global[g] = global[parent]
            }
        }
        // Pass 3: each run's voxels get its id.
        var out = pool?.take(count) ?? [Int32](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { outBuffer in
            global.withUnsafeBufferPointer { ids in
                let shared = UncheckedSendable((outBuffer, ids))
                slabs.withUnsafeBufferPointer { slabBuffer in
                    parallelFor(slabCount, threads: threads) { slab in
                        let (o, ids) = shared.value
                        let runs = slabBuffer[slab]
                        let base = offsetOf[slab]
                        let rowBase = slabStarts[slab] * strideK
                        for row in 0..<(runs.rowStart.count - 1) {
                            let rowStart = rowBase + row * nx
                            for run in runs.runs(ofRow: row) {
                                let id = -ids[base + Int(runs.label[run])]
                                for index in (rowStart + Int(runs.first[run]))...(rowStart + Int(runs.last[run])) {
                                    o[index] = id
                                }
                            }
                        }
                    }
                }
            }
        }
        return Components(labels: out, count: Int(componentCount))
    }

    /// Appends the runs of non-zero bytes of `fg[start..<start + count]` (positions from 0),
    /// testing eight bytes at once for all zero (between runs) or all non-zero (inside one).
    @inline(__always)
    private static func appendRuns(
        _ fg: UnsafeBufferPointer<UInt8>, from start: Int, count: Int, to runs: inout SlabRuns
    ) {
        guard let base = fg.baseAddress else { return }
        let raw = UnsafeRawPointer(base + start)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var i = 0
        while i < count {
            if i + 8 <= count && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) == 0 {
                i += 8
                continue
            }
            if base[start + i] == 0 {
                i += 1
                continue
            }
            let first = i
            i += 1
            while i < count {
                // Eight non-zero bytes: no byte of the word is zero (the classic zero-byte test).
                if i + 8 <= count {
                    let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    if (word &- ones) & ~word & highs == 0 {
                        i += 8
                        continue
                    }
                }
                if base[start + i] == 0 { break }
                i += 1
            }
            runs.first.append(Int32(first))
            runs.last.append(Int32(i - 1))
            runs.label.append(-1)
        }
    }

    /// The runs of `row` that overlap `first − reach ... last + reach` (runs are sorted; a
    /// binary search finds the first).
    @inline(__always)
    private static func touching(_ runs: SlabRuns, row: Int, first: Int32, last: Int32, reach: Int32) -> Range<Int> {
        var low = Int(runs.rowStart[row])
        var high = Int(runs.rowStart[row + 1])
        // The first run ending at or after first − reach.
        while low < high {
            let middle = (low + high) / 2
            if runs.last[middle] < first - reach { low = middle + 1 } else { high = middle }
        }
        var end = low
        while end < Int(runs.rowStart[row + 1]) && runs.first[end] <= last + reach { end += 1 }
        return low..<end
    }

    /// Calls `body` for every non-zero byte of `mask` in `range`, in order, skipping zero
    /// bytes eight at a time (lesion masks are mostly empty: the later passes then cost a
    /// fraction of a byte-by-byte scan).
    @inline(__always)
    static func forEachForeground(_ mask: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ body: (Int) -> Void) {
        guard let base = mask.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        var index = range.lowerBound
        let end = range.upperBound
        while index < end {
            if index + 8 <= end && raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) == 0 {
                index += 8
                continue
            }
            if base[index] != 0 { body(index) }
            index += 1
        }
    }

    /// Unites the sets of labels `a` and `b` in `table`, keeping the smaller root (path
    /// halving on the way).
    @inline(__always)
    private static func unite(_ a: Int32, _ b: Int32, _ table: inout [Int32]) {
        var x = find(a, &table)
        var y = find(b, &table)
        if x == y { return }
        if x > y { swap(&x, &y) }
        table[Int(y)] = x
    }

    @inline(__always)
    private static func find(_ start: Int32, _ table: inout [Int32]) -> Int32 {
        var x = start
        while table[Int(x)] != x {
            let grand = table[Int(table[Int(x)])]
            table[Int(x)] = grand
            x = grand
        }
        return x
    }
}

/// Label arrays handed back by one structure for the next (used serially by one
/// evaluation): a structure's components reuse memory an earlier one already touched. Fresh
/// arrays cost their page faults: on the MS-like bench pair, whose WT and TC regions are the
/// same image-sized crop, `--match brats2023` faulted in 228 MB instead of 179 MB without
/// this (`perf record -e page-faults`).
final class ComponentBuffers {
    private var free: [[Int32]] = []

    /// `count` zeros, in the memory of the largest free array when it holds enough.
    func take(_ count: Int) -> [Int32] {
        guard let slot = free.indices.max(by: { free[$0].capacity < free[$1].capacity }),
            free[slot].capacity >= count
        else { return [Int32](repeating: 0, count: count) }
        var buffer = free.remove(at: slot)
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: repeatElement(0, count: count))
        return buffer
    }

    /// Takes `buffer` back for a later `take`.
    func give(_ buffer: [Int32]) { free.append(buffer) }
}

/// The time spent in `ConnectedComponents.label` since the last reset, for `--timings`
/// (evaluations are timed one at a time; concurrent ones add up).
enum ComponentClock {
    private static let nanoseconds = Atomic<Int>(0)
    static func reset() { nanoseconds.store(0, ordering: .relaxed) }
    static func add(_ seconds: Double) { nanoseconds.add(Int(seconds * 1e9), ordering: .relaxed) }
    static var seconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }
}
