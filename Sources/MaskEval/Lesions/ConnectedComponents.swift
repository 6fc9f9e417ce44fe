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

/// Connected-component labelling of a binary mask: a two-pass union-find, in parallel over
/// slabs of slices.
///
/// Ids are deterministic and independent of the thread count: component 1 holds the first
/// foreground voxel in file scan order (i fastest, then j, then k), component 2 the first
/// voxel not in component 1, and so on. This is the order cc3d and `scipy.ndimage.label`
/// number components in for the same (Fortran-ordered, i fastest) scan; with C-ordered numpy
/// arrays they scan k fastest instead, so their ids may be a permutation of ours.
///
/// How: every foreground voxel starts as its own set, keyed by its voxel index; a worker
/// per slab of slices unites each voxel with its foreground backward neighbours inside the
/// slab (union by smaller index, path halving), then the slab faces are united serially.
/// Because unions always keep the smaller index as the root, each component's root is its
/// first voxel in scan order, which gives the ids. Cost: O(voxels · α) work and two arrays
/// of `voxels` Int32 (so a volume must hold fewer than 2³¹ voxels).
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
        // Slabs of whole slices; each worker owns the parent entries of its slab's voxels.
        let slabCount = max(1, min(nz, threads * 4))
        let slabStarts = (0...slabCount).map { $0 * nz / slabCount }
        // Parent entries are written and read for foreground voxels only: no fill needed.
        var parent = [Int32](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        var out = [Int32](repeating: 0, count: count)
        var componentCount = 0
        mask.withUnsafeBufferPointer { maskBuffer in
            let m = UncheckedSendable(maskBuffer)
            parent.withUnsafeMutableBufferPointer { parentBuffer in
                let parents = UncheckedSendable(parentBuffer)
                // Pass 1: each slab on its own. A voxel first points at one foreground
                // backward neighbour (a smaller index), then unites with the others.
                parallelFor(slabCount, threads: threads) { slab in
                    let p = parents.value
                    let fg = m.value
                    guard let fgRaw = fg.baseAddress.map(UnsafeRawPointer.init) else { return }
                    let kLow = slabStarts[slab]
                    for k in kLow..<slabStarts[slab + 1] {
                        for j in 0..<ny {
                            let row = j * strideJ + k * strideK
                            // Rows whose backward neighbours are all inside the slab and the image.
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
                                        && fgRaw.loadUnaligned(
                                            fromByteOffset: index + 1, as: UInt64.self) == 0
                                    {
                                        i += 8
                                    }
                                    continue
                                }
                                if leftIn {
                                    p[index] = p[index - 1]  // an ancestor of i − 1: runs stay shallow
                                    if interiorRow && i < nx - 1 {
                                        for offset in aheadLinear where fg[index + offset] != 0 {
                                            unite(index, index + offset, p)
                                        }
                                    } else {
                                        for (n, offset) in ahead.enumerated() {
                                            let ni = i + offset.x
                                            let nj = j + offset.y
                                            let nk = k + offset.z
                                            guard ni < nx, nj >= 0, nj < ny, nk >= kLow else { continue }
                                            if fg[index + aheadLinear[n]] != 0 { unite(index, index + aheadLinear[n], p) }
                                        }
                                    }
                                } else {
                                    p[index] = Int32(index)
                                    if interiorRow && i > 0 && i < nx - 1 {
                                        for offset in linear where fg[index + offset] != 0 {
                                            if Int(p[index]) == index {
                                                p[index] = Int32(index + offset)  // a singleton: point, no find
                                            } else {
                                                unite(index, index + offset, p)
                                            }
                                        }
                                    } else {
                                        for (n, offset) in offsets.enumerated() {
                                            let ni = i + offset.x
                                            let nj = j + offset.y
                                            let nk = k + offset.z
                                            guard ni >= 0, ni < nx, nj >= 0, nj < ny, nk >= kLow else { continue }
                                            let neighbour = index + linear[n]
                                            guard fg[neighbour] != 0 else { continue }
                                            if Int(p[index]) == index {
                                                p[index] = Int32(neighbour)
                                            } else {
                                                unite(index, neighbour, p)
                                            }
                                        }
                                    }
                                }
                                leftIn = true
                            }
                        }
                    }
                    // Every voxel straight to its slab-local root, in one scan: parents are
                    // smaller indices, so a voxel's parent is already resolved when it is reached.
                    forEachForeground(fg, kLow * strideK..<slabStarts[slab + 1] * strideK) { index in
                        p[index] = p[Int(p[index])]
                    }
                }
                // Pass 2: the faces between slabs, serially.
                let p = parentBuffer
                let fg = maskBuffer
                for slab in 1..<max(1, slabCount) {
                    let k = slabStarts[slab]
                    guard k > 0, k < nz else { continue }
                    for j in 0..<ny {
                        let row = j * strideJ + k * strideK
                        for i in 0..<nx where fg[row + i] != 0 {
                            for offset in offsets where offset.z < 0 {
                                let ni = i + offset.x
                                let nj = j + offset.y
                                guard ni >= 0, ni < nx, nj >= 0, nj < ny else { continue }
                                let neighbour = ni + nj * strideJ + (k - 1) * strideK
                                if fg[neighbour] != 0 { unite(row + i, neighbour, p) }
                            }
                        }
                    }
                }
                out.withUnsafeMutableBufferPointer { outBuffer in
                    let outs = UncheckedSendable(outBuffer)
                    // Pass 3: every voxel's root + 1 (parents are only read here).
                    parallelFor(slabCount, threads: threads) { slab in
                        let p = parents.value
                        let o = outs.value
                        let fg = m.value
                        let first = slabStarts[slab] * strideK
                        forEachForeground(fg, first..<slabStarts[slab + 1] * strideK) { index in
                            let up = Int(p[index])
                            if up >= first && up < index {
                                o[index] = o[up]  // resolved earlier in this scan
                                return
                            }
                            var root = up
                            while Int(p[root]) != root { root = Int(p[root]) }
                            o[index] = Int32(root + 1)
                        }
                    }
                    // Roots per slab, then ids in scan order.
                    var rootsPerSlab = [Int](repeating: 0, count: slabCount)
                    rootsPerSlab.withUnsafeMutableBufferPointer { roots in
                        let counts = UncheckedSendable(roots)
                        parallelFor(slabCount, threads: threads) { slab in
                            let o = outs.value
                            let fg = m.value
                            var n = 0
                            forEachForeground(fg, slabStarts[slab] * strideK..<slabStarts[slab + 1] * strideK) { index in
                                if Int(o[index]) == index + 1 { n += 1 }
                            }
                            counts.value[slab] = n
                        }
                    }
                    var firstID = [Int](repeating: 1, count: slabCount)
                    for slab in 1..<max(1, slabCount) { firstID[slab] = firstID[slab - 1] + rootsPerSlab[slab - 1] }
                    componentCount = rootsPerSlab.reduce(0, +)
                    // A root's parent entry becomes −1 − id (below −1, so never a voxel index).
                    parallelFor(slabCount, threads: threads) { slab in
                        let p = parents.value
                        let o = outs.value
                        let fg = m.value
                        var id = firstID[slab]
                        forEachForeground(fg, slabStarts[slab] * strideK..<slabStarts[slab + 1] * strideK) { index in
                            if Int(o[index]) == index + 1 {
                                p[index] = Int32(-1 - id)
                                id += 1
                            }
                        }
                    }
                    // Pass 4: every voxel takes its root's id.
                    parallelFor(slabCount, threads: threads) { slab in
                        let p = parents.value
                        let o = outs.value
                        let fg = m.value
                        forEachForeground(fg, slabStarts[slab] * strideK..<slabStarts[slab + 1] * strideK) { index in
                            o[index] = -1 - p[Int(o[index]) - 1]
                        }
                    }
                }
            }
        }
        return Components(labels: out, count: componentCount)
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

    /// Unites the sets of `a` and `b`, keeping the smaller root (path halving on the way).
    @inline(__always)
    private static func unite(_ a: Int, _ b: Int, _ parent: UnsafeMutableBufferPointer<Int32>) {
        var x = find(a, parent)
        var y = find(b, parent)
        if x == y { return }
        if x > y { swap(&x, &y) }
        parent[y] = Int32(x)
    }

    @inline(__always)
    private static func find(_ start: Int, _ parent: UnsafeMutableBufferPointer<Int32>) -> Int {
        var x = start
        while Int(parent[x]) != x {
            let grand = parent[Int(parent[x])]
            parent[x] = grand
            x = Int(grand)
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
