import Dispatch
import Synchronization

/// Voxel connectivity of connected components: face (6), face + edge (18) or face + edge +
/// corner (26) neighbours.
public enum Connectivity: Int, CaseIterable, Sendable {
    case six = 6
    case eighteen = 18
    case twentySix = 26

    /// The neighbours scanned before a voxel (k, then j, then i decreasing): half the
    /// neighbourhood, (Δi, Δj, Δk) with Δk < 0, or Δk = 0 and Δj < 0, or Δk = Δj = 0 and Δi < 0.
    var backwardOffsets: [SIMD3<Int>] {
        var out: [SIMD3<Int>] = []
        for dk in -1...0 {
            for dj in -1...1 {
                for di in -1...1 {
                    let before = dk < 0 || (dk == 0 && (dj < 0 || (dj == 0 && di < 0)))
                    guard before else { continue }
                    let nonZero = abs(di) + abs(dj) + abs(dk)
                    switch self {
                    case .six where nonZero > 1: continue
                    case .eighteen where nonZero > 2: continue
                    default: out.append(SIMD3(di, dj, dk))
                    }
                }
            }
        }
        return out
    }
}

/// The connected components of a binary mask.
public struct Components: Sendable {
    /// Per voxel, 0 for background, else the component id 1...count.
    public var labels: [Int32]
    /// The number of components.
    public var count: Int
}

/// Connected-component labelling of a binary mask: a two-pass union-find over provisional
/// labels, in parallel over slabs of slices.
///
/// Ids are deterministic and independent of the thread count: component 1 holds the first
/// foreground voxel in file scan order (i fastest, then j, then k), component 2 the first
/// voxel not in component 1, and so on. This is the order cc3d and `scipy.ndimage.label`
/// number components in for the same (Fortran-ordered, i fastest) scan; with C-ordered numpy
/// arrays they scan k fastest instead, so their ids may be a permutation of ours.
///
/// How: a worker per slab of slices gives each foreground voxel the provisional label of a
/// foreground backward neighbour (uniting the labels of the others in a small equivalence
/// table, union by smaller label, path halving), or a new label when it has none. Labels are
/// numbered in scan order, slab after slab, so the smallest label of a component is the one
/// its first voxel opened. The slab faces are then united serially, each set resolved to its
/// smallest label, and the roots numbered in order. Cost: O(voxels) work, the output array
/// of `voxels` Int32 (so a volume must hold fewer than 2³¹ voxels) and tables of one entry
/// per provisional label. Zero words of the mask are skipped eight voxels at a time.
public enum ConnectedComponents {
    /// Labels the non-zero voxels of `mask` (nx·ny·nz values, i fastest).
    public static func label(
        mask: [Int32], nx: Int, ny: Int, nz: Int, connectivity: Connectivity = .twentySix, threads: Int = 1
    ) -> Components {
        label(
            mask: mask.map { $0 != 0 ? UInt8(1) : 0 }, nx: nx, ny: ny, nz: nz, connectivity: connectivity,
            threads: threads)
    }

    /// Labels the non-zero bytes of `mask` (concrete, so the hot loops are not generic).
    public static func label(
        mask: [UInt8], nx: Int, ny: Int, nz: Int, connectivity: Connectivity = .twentySix, threads: Int = 1
    ) -> Components {
        let start = DispatchTime.now()
        defer { ComponentClock.add(Evaluator.seconds(since: start)) }
        let count = nx * ny * nz
        precondition(mask.count == count, "mask size must match the dims")
        precondition(count < Int(Int32.max), "connected components need fewer than 2^31 voxels")
        let strideJ = nx
        let strideK = nx * ny
        let offsets = connectivity.backwardOffsets
        let linear = offsets.map { $0.x + $0.y * strideJ + $0.z * strideK }
        // With the left neighbour (i − 1) in the component, a backward neighbour that is also
        // a neighbour of i − 1 (or i − 1 itself) is already in its set: only the others are
        // checked (26: the four with Δi = +1; 18: four of nine; 6: two of three).
        let limit = connectivity == .six ? 1 : (connectivity == .eighteen ? 2 : 3)
        let ahead = offsets.filter { o in
            let d = SIMD3(o.x + 1, o.y, o.z)
            let l1 = abs(d.x) + abs(d.y) + abs(d.z)
            return !(l1 == 0 || (max(abs(d.x), abs(d.y), abs(d.z)) <= 1 && l1 <= limit))
        }
        let aheadLinear = ahead.map { $0.x + $0.y * strideJ + $0.z * strideK }
        let slabCount = max(1, min(nz, threads * 4))
        let slabStarts = (0...slabCount).map { $0 * nz / slabCount }
        // Provisional labels (slab-local until offset) are written for foreground voxels only.
        var out = [Int32](repeating: 0, count: count)
        var tables = [[Int32]](repeating: [], count: slabCount)
        var components = 0
        mask.withUnsafeBufferPointer { maskBuffer in
            let m = UncheckedSendable(maskBuffer)
            out.withUnsafeMutableBufferPointer { outBuffer in
                let outs = UncheckedSendable(outBuffer)
                tables.withUnsafeMutableBufferPointer { tableBuffer in
                    let shared = UncheckedSendable(tableBuffer)
                    // Pass 1: each slab on its own, with its own equivalence table.
                    parallelFor(slabCount, threads: threads) { slab in
                        let o = outs.value
                        let fg = m.value
                        guard let fgRaw = fg.baseAddress.map(UnsafeRawPointer.init) else { return }
                        var table: [Int32] = []
                        let kLow = slabStarts[slab]
                        for k in kLow..<slabStarts[slab + 1] {
                            for j in 0..<ny {
                                let row = j * strideJ + k * strideK
                                // Rows whose backward neighbours all lie inside the slab and the image.
                                let interiorRow = j > 0 && j < ny - 1 && k > kLow
                                var leftIn = false
                                var i = -1
                                while i < nx - 1 {
                                    i += 1
                                    let index = row + i
                                    guard fg[index] != 0 else {
                                        leftIn = false
                                        // Skip a zero word (eight background voxels) at once.
                                        if i + 9 <= nx
                                            && fgRaw.loadUnaligned(fromByteOffset: index + 1, as: UInt64.self) == 0
                                        {
                                            i += 8
                                        }
                                        continue
                                    }
                                    var label: Int32 = -1
                                    if leftIn {
                                        label = o[index - 1]
                                        for (n, offset) in ahead.enumerated() {
                                            if !interiorRow || i == nx - 1 {
                                                let ni = i + offset.x
                                                let nj = j + offset.y
                                                let nk = k + offset.z
                                                guard ni < nx, nj >= 0, nj < ny, nk >= kLow else { continue }
                                            }
                                            let neighbour = index + aheadLinear[n]
                                            // Inside a blob the neighbour mostly holds the same label.
                                            if fg[neighbour] != 0 && o[neighbour] != label {
                                                unite(label, o[neighbour], &table)
                                            }
                                        }
                                    } else {
                                        for (n, offset) in offsets.enumerated() {
                                            if !interiorRow || i == 0 || i == nx - 1 {
                                                let ni = i + offset.x
                                                let nj = j + offset.y
                                                let nk = k + offset.z
                                                guard ni >= 0, ni < nx, nj >= 0, nj < ny, nk >= kLow else { continue }
                                            }
                                            let neighbour = index + linear[n]
                                            guard fg[neighbour] != 0 else { continue }
                                            if label < 0 {
                                                label = o[neighbour]
                                            } else if o[neighbour] != label {
                                                unite(label, o[neighbour], &table)
                                            }
                                        }
                                        if label < 0 {
                                            label = Int32(table.count)
                                            table.append(label)
                                        }
                                    }
                                    o[index] = label
                                    leftIn = true
                                }
                            }
                        }
                        // Each label straight to its set's smallest label (parents are smaller).
                        for l in table.indices { table[l] = table[Int(table[l])] }
                        shared.value[slab] = table
                    }
                }
                // Global labels: slab offsets in slab order keep the scan order of labels.
                var offsetOf = [Int](repeating: 0, count: slabCount + 1)
                for slab in 0..<slabCount { offsetOf[slab + 1] = offsetOf[slab] + tables[slab].count }
                var global = [Int32](repeating: 0, count: offsetOf[slabCount])
                for slab in 0..<slabCount {
                    for (l, root) in tables[slab].enumerated() {
                        global[offsetOf[slab] + l] = Int32(offsetOf[slab]) + root
                    }
                }
                // Pass 2: the faces between slabs, serially, on the global table.
                let o = outBuffer
                let fg = maskBuffer
                for slab in 1..<max(1, slabCount) {
                    let k = slabStarts[slab]
                    guard k > 0, k < nz else { continue }
                    let here = Int32(offsetOf[slab])
                    let below = Int32(offsetOf[slab - 1])
                    for j in 0..<ny {
                        let row = j * strideJ + k * strideK
                        for i in 0..<nx where fg[row + i] != 0 {
                            for offset in offsets where offset.z < 0 {
                                let ni = i + offset.x
                                let nj = j + offset.y
                                guard ni >= 0, ni < nx, nj >= 0, nj < ny else { continue }
                                let neighbour = ni + nj * strideJ + (k - 1) * strideK
                                if fg[neighbour] != 0 { unite(here + o[row + i], below + o[neighbour], &global) }
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
                // Pass 3: provisional labels to ids.
                global.withUnsafeBufferPointer { ids in
                    parallelFor(slabCount, threads: threads) { slab in
                        let o = outs.value
                        let base = offsetOf[slab]
                        forEachForeground(m.value, slabStarts[slab] * strideK..<slabStarts[slab + 1] * strideK) {
                            index in
                            o[index] = -ids[base + Int(o[index])]
                        }
                    }
                }
                components = Int(componentCount)
            }
        }
        return Components(labels: out, count: components)
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

/// The time spent in `ConnectedComponents.label` since the last reset, for `--timings`
/// (evaluations are timed one at a time; concurrent ones add up).
enum ComponentClock {
    private static let nanoseconds = Atomic<Int>(0)
    static func reset() { nanoseconds.store(0, ordering: .relaxed) }
    static func add(_ seconds: Double) { nanoseconds.add(Int(seconds * 1e9), ordering: .relaxed) }
    static var seconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }
}
