/// The boundary voxels of every label of both volumes, found in one parallel pass over the
/// whole grid instead of one crop per label.
///
/// A voxel is on the boundary of its label when one of its 6 face neighbours carries another
/// label or lies outside the image (METRICS.md); an image axis of extent 1 has no neighbours
/// (`Grid.flatAxes`: unless all three are).
/// The boundary voxels of each wanted label are listed in scan order. One pass over the volumes
/// finds them, slice by slice, into a list per slice; a second pass over those lists only
/// (not the volumes) scatters them into one list per label. A row is read 8 bytes at a time:
/// a word that is all background, or equal to its words shifted one voxel left and right
/// and to the words of the rows above, below, in front and behind, holds no boundary voxel;
/// in the other words, the boundary voxels come straight from the word's lane masks (labels
/// of 1, 2 or 4 bytes alike). O(voxels) time, 8 bytes per boundary voxel twice.
struct BoundaryMap {
    /// Per slot (the order of `labels`), the grid indices of its boundary voxels.
    private var referenceIndices: [Int]
    private var predictionIndices: [Int]
    private var referenceStart: [Int]
    private var predictionStart: [Int]

    func reference(slot: Int) -> ArraySlice<Int> { referenceIndices[referenceStart[slot]..<referenceStart[slot + 1]] }
    func prediction(slot: Int) -> ArraySlice<Int> {
        predictionIndices[predictionStart[slot]..<predictionStart[slot + 1]]
    }

    /// The map of two volumes' labels (of any label type; one specialisation per type).
    init<T: LabelValue>(
        reference ref: UnsafeBufferPointer<T>, prediction pred: UnsafeBufferPointer<T>, grid: Grid, labels: [Int32],
        threads: Int
    ) {
        let nz = grid.nz
        let slots = labels.count
        let lookup = SlotLookup(labels)
        // counts[(k * slots + slot) * 2 + side]; found[k * 2 + side]: slice k's boundary
        // voxels of wanted labels, in scan order.
        var counts = [Int](repeating: 0, count: nz * slots * 2)
        var found = [[Int]](repeating: [], count: nz * 2)
        precondition(slots <= Self.slotMask + 1 && grid.voxelCount <= Int.max >> Self.slotBits, "too many labels")
        // Each worker lists a slice's voxels (index and slot in one word) in its own scratch (a slice holds at most
        // nx · ny), then keeps an exact copy: no list grows by doubling and copying.
        let workers = max(1, min(threads, nz))
        let scratch = (0..<workers).map { _ in UnsafeMutablePointer<Int>.allocate(capacity: grid.nx * grid.ny) }
        defer { for buffer in scratch { buffer.deallocate() } }
        counts.withUnsafeMutableBufferPointer { countBuffer in
            found.withUnsafeMutableBufferPointer { foundBuffer in
                let shared = UncheckedSendable((countBuffer, foundBuffer, scratch))
                parallelForWithWorker(nz, threads: workers) { worker, k in
                    let (countBuffer, foundBuffer, scratch) = shared.value
                    let list = scratch[worker]
                    for (side, volume) in [(0, ref), (1, pred)] {
                        var n = 0
                        Self.scanSlice(volume, k: k, grid: grid) { index, v in
                            if let slot = lookup.slot(of: Int32(truncatingIfNeeded: v)) {
                                countBuffer[(k * slots + slot) * 2 + side] += 1
                                list[n] = index << Self.slotBits | slot
                                n += 1
                            }
                        }
                        foundBuffer[k * 2 + side] = Array(UnsafeBufferPointer(start: list, count: n))
                    }
                }
            }
        }
        // Where each slice's list of each slot starts.
        var referenceStart = [Int](repeating: 0, count: slots + 1)
        var predictionStart = [Int](repeating: 0, count: slots + 1)
        var offsets = [Int](repeating: 0, count: nz * slots * 2)
        var referenceTotal = 0
        var predictionTotal = 0
        for slot in 0..<slots {
            referenceStart[slot] = referenceTotal
            predictionStart[slot] = predictionTotal
            for k in 0..<nz {
                let c = (k * slots + slot) * 2
                offsets[c] = referenceTotal
                offsets[c + 1] = predictionTotal
                referenceTotal += counts[c]
                predictionTotal += counts[c + 1]
            }
        }
        referenceStart[slots] = referenceTotal
        predictionStart[slots] = predictionTotal
        var referenceIndices = Self.unfilled(referenceTotal)
        var predictionIndices = Self.unfilled(predictionTotal)
        referenceIndices.withUnsafeMutableBufferPointer { refOut in
            predictionIndices.withUnsafeMutableBufferPointer { predOut in
                let shared = UncheckedSendable((refOut, predOut))
                parallelFor(nz, threads: threads) { k in
                    let (refOut, predOut) = shared.value
                    for (side, out) in [(0, refOut), (1, predOut)] {
                        var cursor = (0..<slots).map { offsets[(k * slots + $0) * 2 + side] }
                        for packed in found[k * 2 + side] {
                            let slot = packed & Self.slotMask
                            out[cursor[slot]] = packed >> Self.slotBits
                            cursor[slot] += 1
                        }
                    }
                }
            }
        }
        self.referenceIndices = referenceIndices
        self.predictionIndices = predictionIndices
        self.referenceStart = referenceStart
        self.predictionStart = predictionStart
    }

    /// The found lists hold index << slotBits | slot, so the scatter needs neither the
    /// volume nor the lookup again.
    private static let slotBits = 21
    private static let slotMask = (1 << slotBits) - 1

    /// An array of `count` indices that the scatter fills completely (every slot's slice
    /// lists add up to its share): not zero-filled first, and on huge pages when large.
    private static func unfilled(_ count: Int) -> [Int] {
        [Int](unsafeUninitializedCapacity: count) { buffer, initialized in
            HugePages.advise(UnsafeMutableRawPointer(buffer.baseAddress), count: count * MemoryLayout<Int>.stride)
            initialized = count
        }
    }

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
