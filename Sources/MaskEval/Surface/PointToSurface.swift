import Foundation
import Synchronization

/// Exact distances from the samples of one mask's voxel-face surface (`MeshSurface`) to the
/// other mask's surface, for the `meshmetrics` preset.
///
/// The other surface ∂U is the boundary of U, the union of the other mask's closed voxel
/// boxes. A sample x sits inside one face, between voxels v and w, so:
/// - if exactly one of v, w is in the other mask, the face is on ∂U too: distance 0;
/// - if neither is, x lies outside U and d(x, ∂U) = d(x, U), the distance to the nearest box
///   of a voxel of the other mask;
/// - if both are, x lies inside U and d(x, ∂U) is the distance to the nearest box of a voxel
///   outside the other mask (the crop's padding stands for the rest of the image and beyond).
///
/// So every distance is a point-to-box distance, and the nearest point of a face (triangle)
/// of the other surface is found without listing faces. The samples of a face walk a table
/// of voxel offsets (one per face normal) holding each offset's exact box distance from each
/// sample, sorted by the nearer one, and stop at the first offset no nearer than either
/// sample's best hit of the wanted kind: every nearer offset was tried first, so the
/// distances are exact. A sample with no such answer within the table's radius ("far") gets
/// the nearest candidate from
/// `ShellIndex`: the voxels on either side of the other surface grouped in 8³ bricks,
/// visited only while a brick's lower bound is below the best distance found.
///
/// Distances are kept as their gaps along each axis in sixths of a voxel (integers, packed
/// in a `GapKey`), so the reduction can decide d ≤ τ exactly and count equal distances
/// together. Results are integer counts per distinct gap key: they do not depend on the
/// thread count or on the order of the work.
enum PointToSurface {
    /// Offsets per face normal: about a ball of radius 6 voxels on an isotropic grid.
    static let tableSize = 1024

    /// Packs per-axis gaps (sixths of a voxel, each below 2²¹) into one key.
    struct GapKey {
        static func pack(_ g: SIMD3<Int64>) -> UInt64 {
            precondition(g.x >= 0 && g.y >= 0 && g.z >= 0 && g.x < 1 << 21 && g.y < 1 << 21 && g.z < 1 << 21)
            return UInt64(g.x) | UInt64(g.y) << 21 | UInt64(g.z) << 42
        }
        static func unpack(_ key: UInt64) -> SIMD3<Int64> {
            let mask: UInt64 = (1 << 21) - 1
            return SIMD3(Int64(key & mask), Int64(key >> 21 & mask), Int64(key >> 42 & mask))
        }
        /// The distance in mm: √Σ (g_e·s_e/6)².
        static func distance(_ key: UInt64, spacing s: SIMD3<Double>) -> Double {
            let g = unpack(key)
            let x = Double(g.x) * s.x / 6
            let y = Double(g.y) * s.y / 6
            let z = Double(g.z) * s.z / 6
            return (x * x + y * y + z * z).squareRoot()
        }
    }

    /// The gap (sixths) between a sample at `position` (sixths, relative to a voxel centre)
    /// and the box of the voxel at offset `o` from that centre, along one axis.
    @inline(__always) static func gap(_ offset: Int64, _ position: Int64) -> Int64 {
        max(0, abs(6 * offset - position) - 3)
    }

    /// The offset tables of one grid spacing: one per face normal, holding for each offset
    /// the box distance from each of the face's samples (one or two), sorted by the nearer of
    /// them. Both samples of a face walk one table together and stop when the next offset
    /// is no nearer than either's best: about the cost of one walk instead of two.
    struct Table: Sendable {
        /// Per normal axis, the offsets, nearest (over the face's samples) first.
        var offsets: [[SIMD3<Int32>]]
        /// Per normal axis and sample (triangle), the gap key and distance of each offset.
        var keys: [[[UInt64]]]
        var distances: [[[Double]]]
        /// Per normal axis, the smaller distance over the samples of each offset.
        var nearest: [[Double]]
        /// Per normal axis: every offset whose nearer distance is at most this is listed.
        var radius: [Double]
        /// Samples per face with each normal: 0 for a flat axis, else 1 or 2.
        var samples: [Int]
        /// The three normals' tables end to end, for the walk (`FaceWalker`): normal n holds
        /// positions start[n]..<start[n + 1]; the offsets, the nearer distance, the two sample
        /// distances (position · 2 + triangle; −∞ for a missing second sample, which never
        /// improves), and the margin prefixes (`FaceWalker.prefix`).
        var start: [Int] = [0]
        var flatOffsets: [SIMD3<Int32>] = []
        var flatNearest: [Double] = []
        var pairDistances: [Double] = []
        var prefix: [Int] = []
        var prefixStride = 1
        /// Per pair slot (position · 2 + triangle): where a walk whose bound is that slot's
        /// distance d stops, the first position of the normal's table whose nearer distance is
        /// at least d (the table's end when none). The walk compares positions, not distances.
        var stopAt: [Int32] = []

        init(spacing s: SIMD3<Double>, flat: (x: Bool, y: Bool, z: Bool), size: Int = PointToSurface.tableSize) {
            let kinds = MeshSurface.kinds(flat: flat)
            let isFlat = [flat.x, flat.y, flat.z]
            let real = (0..<3).filter { !isFlat[$0] }
            // The same reach as the voxel search's table.
            let halves = SurfaceSearch.Table.halfWidths(spacing: s, flat: flat, size: size)
            // An offset outside the cube has a gap of at least halves[e] voxels along e.
            let covered = real.map { Double(halves[$0]) * s[$0] }.min() ?? .infinity
            offsets = []
            keys = []
            distances = []
            nearest = []
            radius = []
            samples = []
            for normal in 0..<3 {
                let positions = (0..<2).compactMap { kinds[normal * 2 + $0]?.position }
                    .map { SIMD3<Int64>(truncatingIfNeeded: $0) }
                // Up to two samples per face: entries carry both (the second unused for one).
                struct Entry {
                    var offset: SIMD3<Int32>
                    var keys: SIMD2<UInt64>
                    var distances: SIMD2<Double>
                    var nearest: Double
                }
                var all: [Entry] = []
                if !positions.isEmpty {
                    all.reserveCapacity((2 * halves[0] + 1) * (2 * halves[1] + 1) * (2 * halves[2] + 1))
                    for dk in -halves[2]...halves[2] {
                        for dj in -halves[1]...halves[1] {
                            for di in -halves[0]...halves[0] {
                                var entry = Entry(
                                    offset: SIMD3(Int32(di), Int32(dj), Int32(dk)), keys: .zero, distances: .zero,
                                    nearest: .infinity)
                                for (t, p) in positions.enumerated() {
                                    let key = GapKey.pack(
                                        SIMD3(
                                            PointToSurface.gap(Int64(di), p.x), PointToSurface.gap(Int64(dj), p.y),
                                            PointToSurface.gap(Int64(dk), p.z)))
                                    entry.keys[t] = key
                                    entry.distances[t] = GapKey.distance(key, spacing: s)
                                    entry.nearest = min(entry.nearest, entry.distances[t])
                                }
                                if entry.nearest < covered { all.append(entry) }
                            }
                        }
                    }
                }
                // By nearer distance, ties in (dk, dj, di) order, the order they were made in: a
                // stable sort of indices on the distance alone (cheaper than comparing tuples
                // and moving entries; the table of a 2 mm grid was 5 % of `compare` on the JHU
                // sample).
                let order = all.indices.sorted { all[$0].nearest < all[$1].nearest }
                all = order.map { all[$0] }
                let cut = all.count > size ? all[size - 1].nearest : (all.last?.nearest ?? 0)
                let kept = all.prefix { $0.nearest <= cut }
                offsets.append(kept.map(\.offset))
                keys.append((0..<positions.count).map { t in kept.map { $0.keys[t] } })
                distances.append((0..<positions.count).map { t in kept.map { $0.distances[t] } })
                nearest.append(kept.map(\.nearest))
                radius.append(cut)
                samples.append(positions.count)
            }
            for normal in 0..<3 { start.append(start[normal] + offsets[normal].count) }
            flatOffsets = offsets.flatMap { $0 }
            flatNearest = nearest.flatMap { $0 }
            pairDistances = [Double](repeating: -.infinity, count: 2 * start[3])
            for normal in 0..<3 {
                for t in 0..<samples[normal] {
                    for (p, d) in distances[normal][t].enumerated() { pairDistances[(start[normal] + p) * 2 + t] = d }
                }
            }
            // The walk skips each table's first two positions (`FaceWalker.faces`).
            for normal in 0..<3 where samples[normal] > 0 {
                var unit = SIMD3<Int32>.zero
                unit[normal] = 1
                let first = start[normal]
                precondition(
                    flatOffsets[first] == .zero && flatOffsets[first + 1] == unit && flatNearest[first + 1] == 0
                        && flatNearest[first + 2] > 0, "a face's own voxels lead its table")
            }
            // The first position of normal's table at or after `from` whose nearer distance is
            // at least d (binary search: each table is sorted by it).
            func firstAtLeast(_ d: Double, _ normal: Int, from: Int) -> Int {
                var (low, high) = (from, start[normal + 1])
                while low < high {
                    let middle = (low + high) / 2
                    if flatNearest[middle] < d { low = middle + 1 } else { high = middle }
                }
                return low
            }
            stopAt = [Int32](repeating: 0, count: 2 * start[3])
            for normal in 0..<3 {
                for position in start[normal]..<start[normal + 1] {
                    for t in 0..<2 {
                        let d = pairDistances[position * 2 + t]
                        stopAt[position * 2 + t] = Int32(firstAtLeast(d, normal, from: start[normal]))
                    }
                }
            }
            let reach = flatOffsets.map { max(abs(Int($0.x)), abs(Int($0.y)), abs(Int($0.z))) }
            prefixStride = (reach.max() ?? 0) + 1
            prefix = [Int](repeating: 0, count: 3 * prefixStride)
            for normal in 0..<3 {
                for m in 0..<prefixStride {
                    prefix[normal * prefixStride + m] =
                        (start[normal]..<start[normal + 1]).first { reach[$0] > m } ?? start[normal + 1]
                }
            }
        }
    }

    /// Tables already built, by spacing and flat axes (at most 64 kept).
    private static let cache = Mutex<[[UInt64]: Table]>([:])

    static func table(spacing: SIMD3<Double>, flat: (x: Bool, y: Bool, z: Bool)) -> Table {
        let key = [
            spacing.x.bitPattern, spacing.y.bitPattern, spacing.z.bitPattern, flat.x ? 1 : 0, flat.y ? 1 : 0,
            flat.z ? 1 : 0,
        ]
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let built = Table(spacing: spacing, flat: flat)
        cache.withLock { tables in
            if tables.count >= 64 { tables.removeAll() }
            tables[key] = built
        }
        return built
    }
}

/// The distinct distances of one direction with how many samples of each face normal
/// reached them: a histogram keyed by exact per-axis gaps.
public struct MeshHistogram: Sendable, Equatable {
    /// Distinct gap keys (`PointToSurface.GapKey`), sorted by distance, then key.
    var keys: [UInt64]
    /// Their distances in mm.
    public var distances: [Double]
    /// Per key, the number of samples on faces normal to i, j, k.
    public var counts: [SIMD3<Int>]

    init(_ merged: [UInt64: SIMD3<Int>], spacing: SIMD3<Double>) {
        let entries = merged.map { ($0.key, PointToSurface.GapKey.distance($0.key, spacing: spacing), $0.value) }
            .filter { $0.2 != .zero }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        keys = entries.map(\.0)
        distances = entries.map(\.1)
        counts = entries.map(\.2)
    }

    /// Samples per face normal.
    public var totals: SIMD3<Int> { counts.reduce(.zero, &+) }
}

/// D_PR and D_RP of the `meshmetrics` preset for one label, as histograms, with the sample
/// weights per face normal.
public struct MeshDistances: Sendable, Equatable {
    /// For each prediction surface sample, the distance (mm) to the reference surface.
    public var predictionToReference: MeshHistogram
    /// For each reference surface sample, the distance (mm) to the prediction surface.
    public var referenceToPrediction: MeshHistogram
    /// The weight (mm², or mm in 2-D) of a sample on a face normal to i, j, k.
    public var sampleAreas: SIMD3<Double>
    public var spacing: SIMD3<Double>
}

extension PointToSurface {
    /// A sample that found nothing within the table: searched in `ShellIndex` afterwards.
    struct FarSample {
        var direction: Int
        var kind: Int
        var voxel: Int
        /// Whether the wanted voxels are inside the other mask.
        var wantInside: Bool
    }

    /// D_PR and D_RP between the voxel-face surfaces of the crop's two masks.
    ///
    /// Both masks must be non-empty. Work is split over the crop's rows (j, k) on `threads`
    /// workers, each tallying into its own counters; every result is an integer count, so it
    /// does not depend on `threads`. Cost: O(crop voxels) for the faces (eight voxels at a
    /// time where they equal their neighbours), plus per face off the other surface the
    /// table positions walked (most stop within a few dozen), plus the far samples' brick
    /// visits.
    static func distances(crop: MeshCrop, spacing: SIMD3<Double>, threads: Int) -> MeshDistances {
        let table = Self.table(spacing: spacing, flat: crop.flat)
        let (nx, ny, nz) = (crop.nx, crop.ny, crop.nz)
        let strideJ = nx
        let strideK = nx * ny
        let kinds = MeshSurface.kinds(flat: crop.flat)
        let start = table.start
        let entries = start[3]
        let offsets = table.flatOffsets
        let linear = offsets.map { Int32(Int($0.x) + strideJ * Int($0.y) + strideK * Int($0.z)) }
        let stopAt = table.stopAt
        let pairDistances = table.pairDistances
        let prefix = table.prefix
        let prefixStride = table.prefixStride
        let radius = table.radius
        let samples = table.samples
        // Steps to the face neighbour along each axis; 0 along a flat axis (no faces there).
        let steps = [crop.flat.x ? 0 : 1, crop.flat.y ? 0 : strideJ, crop.flat.z ? 0 : strideK]
        let workers = max(1, threads)
        // Per worker: hits[((worker * 2 + direction) * entries + position) * 2 + triangle],
        // zero-distance samples zeros[(worker * 2 + direction) * 3 + normal], far samples.
        var hits = [Int](repeating: 0, count: workers * 2 * entries * 2)
        var zeros = [Int](repeating: 0, count: workers * 2 * 3)
        var farLists = [[FarSample]](repeating: [], count: workers)
        crop.flags.withUnsafeBufferPointer { f in
            linear.withUnsafeBufferPointer { linear in
                offsets.withUnsafeBufferPointer { offsets in
                    stopAt.withUnsafeBufferPointer { stopAt in
                        prefix.withUnsafeBufferPointer { prefix in
                            pairDistances.withUnsafeBufferPointer { pairDistances in
                                let walker = FaceWalker(
                                    flags: f, linear: linear, offsets: offsets, stopAt: stopAt,
                                    pairDistances: pairDistances, nx: nx, ny: ny, nz: nz,
                                    steps: SIMD3(steps[0], steps[1], steps[2]),
                                    start: SIMD4(start[0], start[1], start[2], start[3]),
                                    radius: SIMD3(radius[0], radius[1], radius[2]),
                                    samples: SIMD3(samples[0], samples[1], samples[2]), prefix: prefix,
                                    prefixStride: prefixStride)
                                hits.withUnsafeMutableBufferPointer { hits in
                                    zeros.withUnsafeMutableBufferPointer { zeros in
                                        farLists.withUnsafeMutableBufferPointer { farLists in
                                            let shared = UncheckedSendable((hits, zeros, farLists))
                                            parallelForWithWorker(ny * nz, threads: workers, grain: 16) {
                                                worker, line in
                                                let (hits, zeros, farLists) = shared.value
                                                walker.faces(
                                                    line: line, hits: hits.baseAddress! + worker * 2 * entries * 2,
                                                    zeros: zeros.baseAddress! + worker * 6, far: &farLists[worker])
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Merge the tallies: integer sums, independent of the split.
        var merged: [[UInt64: SIMD3<Int>]] = [[:], [:]]
        for direction in 0..<2 {
            var zero = SIMD3<Int>.zero
            var byPosition = [Int](repeating: 0, count: entries * 2)
            for worker in 0..<workers {
                for normal in 0..<3 { zero[normal] += zeros[(worker * 2 + direction) * 3 + normal] }
                let base = (worker * 2 + direction) * entries * 2
                for slot in 0..<(entries * 2) { byPosition[slot] += hits[base + slot] }
            }
            if zero != .zero { merged[direction][0] = zero }
            for normal in 0..<3 {
                for t in 0..<samples[normal] {
                    for position in start[normal]..<start[normal + 1] where byPosition[position * 2 + t] > 0 {
                        var add = SIMD3<Int>.zero
                        add[normal] = byPosition[position * 2 + t]
                        merged[direction][table.keys[normal][t][position - start[normal]], default: .zero] &+= add
                    }
                }
            }
        }
        let far = farLists.flatMap { $0 }
        if !far.isEmpty {
            let keys = farKeys(far, crop: crop, kinds: kinds, spacing: spacing, threads: workers)
            for (sample, key) in zip(far, keys) {
                var unit = SIMD3<Int>.zero
                unit[kinds[sample.kind]?.normal ?? 0] = 1
                merged[sample.direction][key, default: .zero] &+= unit
            }
        }
        return MeshDistances(
            predictionToReference: MeshHistogram(merged[0], spacing: spacing),
            referenceToPrediction: MeshHistogram(merged[1], spacing: spacing),
            sampleAreas: MeshSurface.sampleAreas(spacing: spacing, flat: crop.flat), spacing: spacing)
    }

    /// The hot loop of `distances` on one crop row: its faces, and the table walks of the
    /// faces that are not shared by both surfaces. Everything it reads is an unsafe buffer
    /// or a SIMD value (no arrays or class references inside the loop).
    struct FaceWalker {
        /// Table positions (after the face's own two) walked one at a time before the walk
        /// goes eight at a time. Measured (`compare --compat meshmetrics --threads 1`, perf
        /// stat): 24, 12 and 4 cost the same on the AAL pair; 12 was about 4 % below 24 on the
        /// CT-sized pair, 4 no better than 12.
        static let scalarPositions = 12
        let flags: UnsafeBufferPointer<UInt8>
        /// Per table position: the linear offset (crop strides) and the offset; per pair slot
        /// (position * 2 + t): the sample's distance and `Table.stopAt`.
        let linear: UnsafeBufferPointer<Int32>
        let offsets: UnsafeBufferPointer<SIMD3<Int32>>
        let stopAt: UnsafeBufferPointer<Int32>
        let pairDistances: UnsafeBufferPointer<Double>
        let nx: Int
        let ny: Int
        let nz: Int
        /// Linear step to the face neighbour along i, j, k (0 along a flat axis).
        let steps: SIMD3<Int>
        /// Normal n's table holds positions start[n]..<start[n + 1].
        let start: SIMD4<Int>
        let radius: SIMD3<Double>
        let samples: SIMD3<Int>
        /// prefix[normal · prefixStride + m]: the end of normal's first positions whose
        /// offsets are at most m voxels along every axis (m = prefixStride − 1: the table's end).
        let prefix: UnsafeBufferPointer<Int>
        let prefixStride: Int

        /// Tallies the faces between the voxels of crop row `line` (= j + ny·k) and their
        /// next neighbours: `hits[(direction * entries + position) * 2 + triangle]`,
        /// `zeros[direction * 3 + normal]`, and the far samples.
        func faces(
            line: Int, hits: UnsafeMutablePointer<Int>, zeros: UnsafeMutablePointer<Int>, far: inout [FarSample]
        ) {
            let f = flags
            let j = line % ny
            let k = line / ny
            let strideJ = nx
            let strideK = nx * ny
            let row = strideJ * j + strideK * k
            // Voxels to the crop's edge along j and k (unbounded along a flat axis).
            let marginJK = min(
                steps.y == 0 ? Int.max : min(j, ny - 1 - j), steps.z == 0 ? Int.max : min(k, nz - 1 - k))
            let entries = start[3]
            // Walks normal's table from voxel i for the face's samples (both triangles at
            // once); voxels count when their `bit` status is `wantInside`.
            func walk(_ normal: Int, _ i: Int, _ direction: Int, _ bit: UInt8, _ wantInside: Bool) {
                let index = row + i
                let want: UInt8 = wantInside ? bit : 0
                let two = samples[normal] == 2
                let end = start[normal + 1]
                var best0 = Double.infinity
                var best1 = two ? Double.infinity : -Double.infinity
                var hit0 = -1
                var hit1 = -1
                // The walk ends at the first position no nearer than either sample's best hit:
                // max(stop0, stop1), positions compared instead of distances (`Table.stopAt`).
                // A missing second sample never holds the walk (its stop is the table's start).
                var stop0 = end
                var stop1 = two ? end : start[normal]
                var stop = end
                // The table's first positions whose offsets stay within the voxel's margin
                // to the crop's edge read the flags unchecked; the rest check the bounds.
                // Measured on the AAL bench pair (`--compat meshmetrics --threads 1`, perf):
                // the checked reads were 30 % of this loop while one voxel in eight was far
                // enough from the edge for the whole table.
                let margin = min(marginJK, steps.x == 0 ? Int.max : min(i, nx - 1 - i))
                let safeEnd = prefix[normal * prefixStride + min(margin, prefixStride - 1)]
                @inline(__always) func consider(_ position: Int) {
                    let d0 = pairDistances[position * 2]
                    if d0 < best0 {
                        best0 = d0
                        hit0 = position
                        stop0 = Int(stopAt[position * 2])
                    }
                    let d1 = pairDistances[position * 2 + 1]
                    if d1 < best1 {
                        best1 = d1
                        hit1 = position
                        stop1 = Int(stopAt[position * 2 + 1])
                    }
                    stop = max(stop0, stop1)
                }
                // The first two positions, offsets 0 and +1 along the normal (the only ones at
                // distance 0 from the samples), are the face's own voxels: both on the same
                // side of the other surface, so never wanted.
                var position = start[normal] + 2
                // The nearest positions (where short walks end) one at a time; the limit moves
                // only with a hit.
                let origin = f.baseAddress! + index
                let scalarEnd = start[normal] + 2 + FaceWalker.scalarPositions
                var limit = min(min(stop, safeEnd), scalarEnd)
                while position < limit {
                    if origin[Int(linear[position])] & bit == want {
                        consider(position)
                        limit = min(min(stop, safeEnd), scalarEnd)
                    }
                    position += 1
                }
                // Then eight positions at a time: a voxel is wanted when its flag XOR `flip`
                // has `bit` set, so one OR over the eight and one branch; eight that hold a
                // wanted voxel are stepped through one by one (a hit moves the stop).
                let flip: UInt8 = wantInside ? 0 : bit
                limit = min(stop, safeEnd)
                while position + 8 <= limit {
                    let l = linear.baseAddress! + position
                    let any =
                        (origin[Int(l[0])] ^ flip) | (origin[Int(l[1])] ^ flip) | (origin[Int(l[2])] ^ flip)
                        | (origin[Int(l[3])] ^ flip) | (origin[Int(l[4])] ^ flip) | (origin[Int(l[5])] ^ flip)
                        | (origin[Int(l[6])] ^ flip) | (origin[Int(l[7])] ^ flip)
                    if any & bit == 0 {
                        position += 8
                        continue
                    }
                    let blockEnd = position + 8
                    while position < blockEnd && position < stop {
                        if origin[Int(linear[position])] & bit == want { consider(position) }
                        position += 1
                    }
                    limit = min(stop, safeEnd)
                }
                while position < limit {
                    if origin[Int(linear[position])] & bit == want {
                        consider(position)
                        limit = min(stop, safeEnd)
                    }
                    position += 1
                }
                // Past the margin, an offset outside the crop reads a zero of the flags' slack
                // instead (outside the crop: outside both masks), chosen without a branch.
                let outside = nx * ny * nz - index
                while position < stop {
                    let o = offsets[position]
                    let inI = UInt(bitPattern: i &+ Int(o.x)) < UInt(nx) ? 1 : 0
                    let inJ = UInt(bitPattern: j &+ Int(o.y)) < UInt(ny) ? 1 : 0
                    let inK = UInt(bitPattern: k &+ Int(o.z)) < UInt(nz) ? 1 : 0
                    let at = inI & inJ & inK != 0 ? Int(linear[position]) : outside
                    if origin[at] & bit == want { consider(position) }
                    position += 1
                }
                // The walk stopped when it ended before the table's end. Exact when it
                // stopped, or when the best is within the table's radius; otherwise far.
                let stopped = position < end
                let exact0 = hit0 >= 0 && (stopped || best0 <= radius[normal])
                let exact1 = hit1 >= 0 && (stopped || best1 <= radius[normal])
                let base = direction * entries * 2
                if exact0 {
                    hits[base + hit0 * 2] += 1
                } else {
                    far.append(FarSample(direction: direction, kind: normal * 2, voxel: index, wantInside: wantInside))
                }
                guard two else { return }
                if exact1 {
                    hits[base + hit1 * 2 + 1] += 1
                } else {
                    far.append(
                        FarSample(direction: direction, kind: normal * 2 + 1, voxel: index, wantInside: wantInside))
                }
            }
            // The face between voxel i of this row and its neighbour along `normal`.
            @inline(__always) func face(_ normal: Int, _ i: Int) {
                let index = row + i
                let fv = f[index]
                let faces = fv ^ f[index + steps[normal]]
                if faces == 0 { return }
                if faces == MeshSurface.inReference | MeshSurface.inPrediction {
                    // A face of both surfaces: its samples lie on the other one.
                    zeros[normal] += samples[normal]
                    zeros[3 + normal] += samples[normal]
                    return
                }
                // direction 0: prediction samples to the reference surface; 1: reference
                // samples to the prediction's.
                let direction = faces == MeshSurface.inPrediction ? 0 : 1
                let other = direction == 0 ? MeshSurface.inReference : MeshSurface.inPrediction
                walk(normal, i, direction, other, fv & other == 0)
            }
            let raw = UnsafeRawPointer(f.baseAddress!)
            var i = 0
            while i < nx {
                // Eight voxels at a time: the bytes where a voxel differs from a neighbour are
                // the voxels with a face; only those are looked at (none: one test). Measured
                // against testing all eight when any differs (best of 15, `--compat
                // meshmetrics --threads 1`): about 1 % less CPU on the AAL and CT-sized pairs.
                if i + 8 <= nx {
                    let here = raw.loadUnaligned(fromByteOffset: row + i, as: UInt64.self)
                    var differ =
                        (here ^ raw.loadUnaligned(fromByteOffset: row + i + steps.x, as: UInt64.self))
                        | (here ^ raw.loadUnaligned(fromByteOffset: row + i + steps.y, as: UInt64.self))
                        | (here ^ raw.loadUnaligned(fromByteOffset: row + i + steps.z, as: UInt64.self))
                    while differ != 0 {
                        let byte = differ.trailingZeroBitCount >> 3
                        face(0, i + byte)
                        face(1, i + byte)
                        face(2, i + byte)
                        differ &= ~(UInt64(0xFF) << (8 * byte))
                    }
                    i += 8
                    continue
                }
                face(0, i)
                face(1, i)
                face(2, i)
                i += 1
            }
        }
    }

    /// Gap keys of the far samples, from the shell of the wanted side of the other surface.
    static func farKeys(
        _ far: [FarSample], crop: MeshCrop, kinds: [MeshSurface.Kind?], spacing: SIMD3<Double>, threads: Int
    ) -> [UInt64] {
        // Shells: [other mask bit][inside], built only when asked for, one per worker at a
        // time (each is a serial pass over the crop).
        var needed: [Int] = []
        for sample in far {
            let bit = sample.direction == 0 ? MeshSurface.inReference : MeshSurface.inPrediction
            let id = Int(bit) * 2 + (sample.wantInside ? 1 : 0)
            if !needed.contains(id) { needed.append(id) }
        }
        var built = [ShellIndex?](repeating: nil, count: needed.count)
        built.withUnsafeMutableBufferPointer { out in
            let shared = UncheckedSendable(out)
            parallelFor(needed.count, threads: threads) { n in
                shared.value[n] = ShellIndex(crop: crop, bit: UInt8(needed[n] / 2), inside: needed[n] % 2 == 1)
            }
        }
        var shells: [Int: ShellIndex] = [:]
        for (n, id) in needed.enumerated() { shells[id] = built[n] }
        var keys = [UInt64](repeating: 0, count: far.count)
        let (nx, ny) = (crop.nx, crop.ny)
        keys.withUnsafeMutableBufferPointer { out in
            let shared = UncheckedSendable(out)
            parallelFor(far.count, threads: threads, grain: 16) { n in
                let sample = far[n]
                let bit = sample.direction == 0 ? MeshSurface.inReference : MeshSurface.inPrediction
                let id = Int(bit) * 2 + (sample.wantInside ? 1 : 0)
                guard let shell = shells[id], let kind = kinds[sample.kind] else { return }
                let v = SIMD3<Int64>(
                    Int64(sample.voxel % nx), Int64((sample.voxel / nx) % ny), Int64(sample.voxel / (nx * ny)))
                let position = 6 &* v &+ SIMD3<Int64>(truncatingIfNeeded: kind.position)
                shared.value[n] = shell.nearest(position, spacing: spacing)
            }
        }
        return keys
    }
}

/// The voxels on one side of a mask's surface, grouped by 8×8×8 bricks: the mask's voxels
/// with a face neighbour outside it (`inside`), or the voxels outside it with a face
/// neighbour in it. The nearest box of such a voxel is the nearest point of the surface for
/// a point on that side.
struct ShellIndex {
    var lower: [SIMD3<Int64>]
    var upper: [SIMD3<Int64>]
    var start: [Int]
    var voxels: [SIMD3<Int64>]

    /// Cost: O(crop voxels), eight at a time where none of them is on the wanted side or
    /// they and their neighbours all are (most of a crop is outside its masks), whole rows
    /// at a time where they and their neighbour rows hold no voxel of the mask.
    init(crop: MeshCrop, bit: UInt8, inside: Bool) {
        let (nx, ny, nz) = (crop.nx, crop.ny, crop.nz)
        let flat = crop.flat
        let (strideJ, strideK) = (nx, nx * ny)
        // Bricks of 8³ voxels, numbered in (k, j, i) order.
        let (bx, by, bz) = ((nx + 7) >> 3, (ny + 7) >> 3, (nz + 7) >> 3)
        let want: UInt8 = inside ? bit : 0
        let bits = UInt64(bit) &* 0x0101_0101_0101_0101
        let wanted = UInt64(want) &* 0x0101_0101_0101_0101
        // The shell voxels in scan order with their bricks, then grouped by brick (a counting
        // sort: scan order kept within each brick, as `nearest`'s ties need).
        var found: [SIMD3<Int64>] = []
        var bricks: [Int] = []
        crop.flags.withUnsafeBufferPointer { f in
            let raw = UnsafeRawPointer(f.baseAddress!)
            // Rows (j + ny·k) holding a voxel of the mask: a row without one has no inside
            // shell voxel, and no outside one unless a face-neighbour row has one (most rows
            // of a crop stretched by a far piece hold no mask at all).
            var occupied = [Bool](repeating: false, count: ny * nz)
            for line in 0..<(ny * nz) {
                var seen: UInt64 = 0
                var i = 0
                while i + 8 <= nx {
                    seen |= raw.loadUnaligned(fromByteOffset: nx * line + i, as: UInt64.self)
                    i += 8
                }
                while i < nx {
                    seen |= UInt64(f[nx * line + i])
                    i += 1
                }
                occupied[line] = seen & bits != 0
            }
            // A neighbour outside the crop is outside the mask: it differs from the wanted
            // side exactly when that side is the inside.
            @inline(__always) func differs(_ index: Int, _ inBounds: Bool) -> Bool {
                inBounds ? f[index] & bit != want : inside
            }
            for k in 0..<nz {
                for j in 0..<ny {
                    let line = j + ny * k
                    let near =
                        occupied[line]
                        || (!inside
                            && ((j > 0 && occupied[line - 1]) || (j < ny - 1 && occupied[line + 1])
                                || (k > 0 && occupied[line - ny]) || (k < nz - 1 && occupied[line + ny])))
                    if !near { continue }
                    let row = strideJ * j + strideK * k
                    let hasJ = flat.y || (j > 0 && j < ny - 1)
                    let hasK = flat.z || (k > 0 && k < nz - 1)
                    var i = 0
                    while i < nx {
                        @inline(__always) func side(_ offset: Int) -> UInt64 {
                            raw.loadUnaligned(fromByteOffset: row + i + offset, as: UInt64.self) & bits
                        }
                        // Eight voxels none of which is on the wanted side.
                        if i + 8 <= nx && side(0) == bits ^ wanted {
                            i += 8
                            continue
                        }
                        // Eight voxels on the wanted side whose neighbours are all on it too.
                        if hasJ && hasK && !flat.x && i >= 1 && i + 9 <= nx {
                            if side(0) == wanted && side(-1) == wanted && side(1) == wanted
                                && (flat.y || (side(-strideJ) == wanted && side(strideJ) == wanted))
                                && (flat.z || (side(-strideK) == wanted && side(strideK) == wanted))
                            {
                                i += 8
                                continue
                            }
                        }
                        let index = row + i
                        if f[index] & bit == want {
                            let shell =
                                (!flat.x && (differs(index - 1, i > 0) || differs(index + 1, i < nx - 1)))
                                || (!flat.y
                                    && (differs(index - strideJ, j > 0) || differs(index + strideJ, j < ny - 1)))
                                || (!flat.z
                                    && (differs(index - strideK, k > 0) || differs(index + strideK, k < nz - 1)))
                            if shell {
                                found.append(SIMD3(Int64(i), Int64(j), Int64(k)))
                                bricks.append((i >> 3) + bx * ((j >> 3) + by * (k >> 3)))
                            }
                        }
                        i += 1
                    }
                }
            }
        }
        let count = bx * by * bz
        // first[b]..<first[b + 1]: brick b's slots.
        var first = [Int](repeating: 0, count: count + 1)
        for brick in bricks { first[brick + 1] += 1 }
        for brick in 0..<count { first[brick + 1] += first[brick] }
        var fill = first
        var voxels = [SIMD3<Int64>](repeating: .zero, count: found.count)
        for (n, voxel) in found.enumerated() {
            voxels[fill[bricks[n]]] = voxel
            fill[bricks[n]] += 1
        }
        var lower: [SIMD3<Int64>] = []
        var upper: [SIMD3<Int64>] = []
        var start = [0]
        for brick in 0..<count where first[brick + 1] > first[brick] {
            let list = voxels[first[brick]..<first[brick + 1]]
            lower.append(list.reduce(list[list.startIndex]) { pointwiseMin($0, $1) })
            upper.append(list.reduce(list[list.startIndex]) { pointwiseMax($0, $1) })
            start.append(first[brick + 1])
        }
        self.lower = lower
        self.upper = upper
        self.start = start
        self.voxels = voxels
    }

    /// The gap key of the nearest candidate box to a point at `position` (sixths of a voxel,
    /// crop coordinates × 6). Bricks are visited nearest lower bound first for a first
    /// answer, then every brick whose lower bound is below it.
    func nearest(_ position: SIMD3<Int64>, spacing s: SIMD3<Double>) -> UInt64 {
        @inline(__always) func squared(_ g: SIMD3<Int64>) -> Double {
            let x = Double(g.x) * s.x
            let y = Double(g.y) * s.y
            let z = Double(g.z) * s.z
            return x * x + y * y + z * z
        }
        let bounds = (0..<lower.count).map { b -> Double in
            let below = 6 &* lower[b] &- 3 &- position
            let above = position &- 6 &* upper[b] &- 3
            return squared(pointwiseMax(pointwiseMax(below, above), .zero))
        }
        var best = Double.infinity
        var bestGap = SIMD3<Int64>(repeating: 0)
        func visit(_ b: Int) {
            for v in voxels[start[b]..<start[b + 1]] {
                let d = 6 &* v &- position
                let g = pointwiseMax(SIMD3(abs(d.x), abs(d.y), abs(d.z)) &- 3, .zero)
                let value = squared(g)
                if value < best {
                    best = value
                    bestGap = g
                }
            }
        }
        if let first = bounds.indices.min(by: { (bounds[$0], $0) < (bounds[$1], $1) }) { visit(first) }
        for b in bounds.indices where bounds[b] < best { visit(b) }
        return PointToSurface.GapKey.pack(bestGap)
    }
}
