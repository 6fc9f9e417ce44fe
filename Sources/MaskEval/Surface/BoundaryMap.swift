/// The boundary voxels of every label of both volumes, found in one parallel pass over the
/// whole grid instead of one crop per label.
///
/// A voxel is on the boundary of its label when one of its 6 face neighbours carries another
/// label or lies outside the image (METRICS.md); an image axis of extent 1 has no neighbours
/// (`Grid.flatAxes`: unless all three are).
/// The boundary voxels of each wanted label are listed in scan order. One pass over the volumes
/// finds them, slice by slice, into a list per slice grouped by label; a label's list is its
/// groups end to end, copied out when asked for. A row is read 8 bytes at a time:
/// a word that is all background, or equal to its words shifted one voxel left and right
/// and to the words of the rows above, below, in front and behind, holds no boundary voxel;
/// in the other words, the boundary voxels come straight from the word's lane masks (labels
/// of 1, 2 or 4 bytes alike). O(voxels) time, 8 bytes per boundary voxel.
struct BoundaryMap {
    private let slots: Int
    /// Per slice and side (k · 2 + side, 0 the reference): the slice's boundary voxels of
    /// wanted labels, grouped by slot (in slot order), each group in scan order.
    private let lists: [[Int]]
    /// Per slice, slot and side ((k · slots + slot) · 2 + side): where the slot's group
    /// starts in the slice's list, and how many voxels it holds.
    private let starts: [Int]
    private let counts: [Int]

    /// The boundary voxels of slot `slot` (the order of `labels`), in scan order.
    func reference(slot: Int) -> [Int] { gather(slot: slot, side: 0) }
    func prediction(slot: Int) -> [Int] { gather(slot: slot, side: 1) }

    /// One slot's groups of every slice, end to end (slices in order: scan order).
    private func gather(slot: Int, side: Int) -> [Int] {
        let nz = lists.count / 2
        var total = 0
        for k in 0..<nz { total += counts[(k * slots + slot) * 2 + side] }
        return [Int](unsafeUninitializedCapacity: total) { out, initialized in
            var at = 0
            for k in 0..<nz {
                let c = (k * slots + slot) * 2 + side
                let count = counts[c]
                guard count > 0, let base = out.baseAddress else { continue }
                lists[k * 2 + side].withUnsafeBufferPointer { list in
                    (base + at).initialize(from: list.baseAddress! + starts[c], count: count)
                }
                at += count
            }
            initialized = total
        }
    }

    /// The map of two volumes' labels (of any label type; one specialisation per type).
    init<T: LabelValue>(
        reference ref: UnsafeBufferPointer<T>, prediction pred: UnsafeBufferPointer<T>, grid: Grid, labels: [Int32],
        threads: Int
    ) {
        let nz = grid.nz
        let slots = labels.count
        let lookup = SlotLookup(labels)
        var counts = [Int](repeating: 0, count: nz * slots * 2)
        var starts = [Int](repeating: 0, count: nz * slots * 2)
        var lists = [[Int]](repeating: [], count: nz * 2)
        precondition(slots <= Self.slotMask + 1 && grid.voxelCount <= Int.max >> Self.slotBits, "too many labels")
        // Each worker lists a slice's voxels (index and slot in one word) in its own scratch
        // (a slice holds at most nx · ny), then keeps them grouped by slot in an exact-size
        // list (a counting sort): no list grows by doubling, and no second pass over all
        // slices scatters them into one array per label.
        let workers = max(1, min(threads, nz))
        let scratch = (0..<workers).map { _ in UnsafeMutablePointer<Int>.allocate(capacity: grid.nx * grid.ny) }
        defer { for buffer in scratch { buffer.deallocate() } }
        counts.withUnsafeMutableBufferPointer { countBuffer in
            starts.withUnsafeMutableBufferPointer { startBuffer in
                lists.withUnsafeMutableBufferPointer { listBuffer in
                    let shared = UncheckedSendable((countBuffer, startBuffer, listBuffer, scratch))
                    parallelForWithWorker(nz, threads: workers) { worker, k in
                        let (countBuffer, startBuffer, listBuffer, scratch) = shared.value
                        let found = scratch[worker]
                        for (side, volume) in [(0, ref), (1, pred)] {
                            var n = 0
                            Self.scanSlice(volume, k: k, grid: grid) { index, v in
                                if let slot = lookup.slot(of: Int32(truncatingIfNeeded: v)) {
                                    countBuffer[(k * slots + slot) * 2 + side] += 1
                                    found[n] = index << Self.slotBits | slot
                                    n += 1
                                }
                            }
                            guard n > 0 else { continue }
                            var cursor = [Int](repeating: 0, count: slots)
                            var offset = 0
                            for slot in 0..<slots {
                                let c = (k * slots + slot) * 2 + side
                                startBuffer[c] = offset
                                cursor[slot] = offset
                                offset += countBuffer[c]
                            }
                            listBuffer[k * 2 + side] = [Int](unsafeUninitializedCapacity: n) { out, initialized in
                                for e in 0..<n {
                                    let slot = found[e] & Self.slotMask
                                    out[cursor[slot]] = found[e] >> Self.slotBits
                                    cursor[slot] += 1
                                }
                                initialized = n
                            }
                        }
                    }
                }
            }
        }
        self.slots = slots
        self.lists = lists
        self.starts = starts
        self.counts = counts
    }

    /// A slice's found voxels hold index << slotBits | slot, so the counting sort needs
    /// neither the volume nor the lookup again.
    private static let slotBits = 21
    private static let slotMask = (1 << slotBits) - 1

    /// Calls `body(index, value)` for every boundary voxel of slice `k` (non-zero, a face
    /// neighbour differs or lies outside the grid), in scan order.
    @inline(__always)
    static func scanSlice<T: LabelValue>(
        _ volume: UnsafeBufferPointer<T>, k: Int, grid: Grid, _ body: (Int, T) -> Void
    ) {
        let (nx, ny, nz) = (grid.nx, grid.ny, grid.nz)
        let flat = grid.flatAxes
        let width = MemoryLayout<T>.stride
        let perWord = 8 / width
        let rowBytes = nx * width
        let planeBytes = nx * ny * width
        guard let base = volume.baseAddress, perWord >= 1 else { return }
        let raw = UnsafeRawPointer(base)
        @inline(__always) func word(_ offset: Int) -> UInt64 {
            raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        }
        @inline(__always) func vector(_ offset: Int) -> SIMD16<UInt8> {
            raw.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
        }
        let edgeSlice = !flat.z && (k == 0 || k == nz - 1)
        for j in 0..<ny {
            let row = nx * (j + ny * k)
            // On the grid's outer rows every labelled voxel is a boundary voxel.
            let edgeRow = edgeSlice || (!flat.y && (j == 0 || j == ny - 1))
            @inline(__always) func visit(_ i: Int) {
                let index = row + i
                let v = volume[index]
                guard v != 0, edgeRow || Self.isBoundary(volume, index, v, i, j, k, nx, ny, nz, flat) else { return }
                body(index, v)
            }
            if flat.x || perWord == 1 || nx < perWord + 2 {
                for i in 0..<nx { visit(i) }
                continue
            }
            visit(0)
            var i = 1
            // Words of voxels i..<i + perWord, whose left and right neighbours are in the row.
            while i + perWord <= nx - 1 {
                let offset = (row + i) * width
                let c = word(offset)
                if c == 0 {
                    i += perWord
                    continue
                }
                var differs = ~UInt64(0)
                if !edgeRow {
                    differs = (c ^ word(offset - width)) | (c ^ word(offset + width))
                    if !flat.y { differs |= (c ^ word(offset - rowBytes)) | (c ^ word(offset + rowBytes)) }
                    if !flat.z { differs |= (c ^ word(offset - planeBytes)) | (c ^ word(offset + planeBytes)) }
                }
                if differs == 0 {
                    i += perWord
                    continue
                }
                // A voxel is a boundary voxel when its lane is non-zero and differs from a
                // neighbour's: one test per word, then only the boundary voxels are visited.
                var bits = UInt64(littleEndian: Self.nonZeroLanes(c, width) & Self.nonZeroLanes(differs, width))
                while bits != 0 {
                    let index = row + i + bits.trailingZeroBitCount / (8 * width)
                    body(index, volume[index])
                    bits &= bits - 1
                }
                i += perWord
            }
            while i < nx {
                visit(i)
                i += 1
            }
        }
    }

    /// The top bit of each lane of `x` (lanes of `width` bytes: 1, 2, 4 or 8) that is not
    /// zero; 0 in the others. No carry crosses a lane: each lane adds its low bits to a
    /// value below its top bit.
    @inline(__always)
    static func nonZeroLanes(_ x: UInt64, _ width: Int) -> UInt64 {
        let low: UInt64
        switch width {
        case 1: low = 0x7F7F_7F7F_7F7F_7F7F
        case 2: low = 0x7FFF_7FFF_7FFF_7FFF
        case 4: low = 0x7FFF_FFFF_7FFF_FFFF
        default: low = 0x7FFF_FFFF_FFFF_FFFF
        }
        return (((x & low) &+ low) | x) & ~low
    }

    @inline(__always)
    static func isBoundary<T: LabelValue>(
        _ volume: UnsafeBufferPointer<T>, _ index: Int, _ v: T, _ i: Int, _ j: Int, _ k: Int, _ nx: Int,
        _ ny: Int, _ nz: Int, _ flat: (x: Bool, y: Bool, z: Bool)
    ) -> Bool {
        if !flat.x && (i == 0 || i == nx - 1 || volume[index - 1] != v || volume[index + 1] != v) { return true }
        if !flat.y && (j == 0 || j == ny - 1 || volume[index - nx] != v || volume[index + nx] != v) { return true }
        let plane = nx * ny
        if !flat.z && (k == 0 || k == nz - 1 || volume[index - plane] != v || volume[index + plane] != v) {
            return true
        }
        return false
    }
}

/// Label value → slot in a label list: a table when the values span at most 2^20, else a
/// dictionary.
struct SlotLookup {
    private let low: Int32
    private let table: [Int32]
    private let dictionary: [Int32: Int]

    init(_ labels: [Int32]) {
        let low = labels.min() ?? 0
        let high = labels.max() ?? 0
        self.low = low
        if !labels.isEmpty && Int(high) - Int(low) < 1 << 20 {
            var table = [Int32](repeating: -1, count: Int(high) - Int(low) + 1)
            for (slot, label) in labels.enumerated() { table[Int(label) - Int(low)] = Int32(slot) }
            self.table = table
            dictionary = [:]
        } else {
            table = []
            dictionary = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        }
    }

    @inline(__always) func slot(of label: Int32) -> Int? {
        if table.isEmpty { return dictionary[label] }
        let offset = Int(label) - Int(low)
        guard offset >= 0, offset < table.count else { return nil }
        let slot = table[offset]
        return slot < 0 ? nil : Int(slot)
    }
}
