/// The boundary voxels of every label of both volumes, found in one parallel pass over the
/// whole grid instead of one crop per label.
///
/// A voxel is on the boundary of its label when one of its 6 face neighbours carries another
/// label or lies outside the image (METRICS.md); an image axis of extent 1 has no neighbours
/// (`Grid.flatAxes`: unless all three are).
/// `flags` marks such voxels (`CropFlag.referenceBoundary`, `.predictionBoundary`), and the
/// boundary voxels of each wanted label are listed in scan order. Two passes over the volume
/// (flag and count, then list), each split by slices: O(voxels) time, 1 byte per voxel plus
/// 8 bytes per boundary voxel.
struct BoundaryMap {
    var flags: [UInt8]
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
        let (nx, ny, nz) = (grid.nx, grid.ny, grid.nz)
        let slots = labels.count
        let lookup = SlotLookup(labels)
        var flags = [UInt8](repeating: 0, count: grid.voxelCount)
        // counts[(k * slots + slot) * 2 + side]
        var counts = [Int](repeating: 0, count: nz * slots * 2)
        let flat = grid.flatAxes
        flags.withUnsafeMutableBufferPointer { flagBuffer in
            counts.withUnsafeMutableBufferPointer { countBuffer in
                let shared = UncheckedSendable((flagBuffer, countBuffer))
                parallelFor(nz, threads: threads) { k in
                    let (flagBuffer, countBuffer) = shared.value
                    for (side, volume, bit) in [
                        (0, ref, CropFlag.referenceBoundary), (1, pred, CropFlag.predictionBoundary),
                    ] {
                        for j in 0..<ny {
                            let row = nx * (j + ny * k)
                            for i in 0..<nx {
                                let index = row + i
                                let v = volume[index]
                                guard v != 0,
                                    Self.isBoundary(volume, index, v, i, j, k, nx, ny, nz, flat)
                                else { continue }
                                flagBuffer[index] |= bit
                                if let slot = lookup.slot(of: Int32(truncatingIfNeeded: v)) {
                                    countBuffer[(k * slots + slot) * 2 + side] += 1
                                }
                            }
                        }
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
        var referenceIndices = [Int](repeating: 0, count: referenceTotal)
        var predictionIndices = [Int](repeating: 0, count: predictionTotal)
        flags.withUnsafeBufferPointer { flagBuffer in
            referenceIndices.withUnsafeMutableBufferPointer { refOut in
                predictionIndices.withUnsafeMutableBufferPointer { predOut in
                    let shared = UncheckedSendable((refOut, predOut))
                    parallelFor(nz, threads: threads) { k in
                        let (refOut, predOut) = shared.value
                        var cursor = [Int](repeating: 0, count: slots * 2)
                        for slot in 0..<slots {
                            cursor[slot * 2] = offsets[(k * slots + slot) * 2]
                            cursor[slot * 2 + 1] = offsets[(k * slots + slot) * 2 + 1]
                        }
                        let start = k * nx * ny
                        for index in start..<(start + nx * ny) where flagBuffer[index] != 0 {
                            let f = flagBuffer[index]
                            if f & CropFlag.referenceBoundary != 0,
                                let slot = lookup.slot(of: Int32(truncatingIfNeeded: ref[index]))
                            {
                                refOut[cursor[slot * 2]] = index
                                cursor[slot * 2] += 1
                            }
                            if f & CropFlag.predictionBoundary != 0,
                                let slot = lookup.slot(of: Int32(truncatingIfNeeded: pred[index]))
                            {
                                predOut[cursor[slot * 2 + 1]] = index
                                cursor[slot * 2 + 1] += 1
                            }
                        }
                    }
                }
            }
        }
        self.flags = flags
        self.referenceIndices = referenceIndices
        self.predictionIndices = predictionIndices
        self.referenceStart = referenceStart
        self.predictionStart = predictionStart
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
