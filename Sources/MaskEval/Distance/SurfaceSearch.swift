import Foundation
import Synchronization

/// Exact nearest-surface distances by searching outwards from each query point, with the
/// distance transform as the fallback for points far from the other surface.
///
/// A good prediction's surface lies on or next to the reference's: most query points find a
/// source within a voxel or two. So each query walks a table of neighbour offsets sorted by
/// physical distance (all offsets within a radius D, ties included) and stops at the first
/// source: that distance is exact, because every closer offset was tried first. Queries with
/// no source within D are "far": they get a brute-force minimum over all sources when that
/// is cheap, else the exact distance transform (`DistanceTransform`) is run on the crop.
///
/// Measured with `maskeval compare --timings` on the bench pairs (scripts/bench_data.py,
/// 2 cores): the distance phase of the AAL pair went from 0.35 s (two transforms per label)
/// to 0.056 s with a 128-offset table; on the CT-sized pair from 4.2 s to 3.7 s, then to
/// 1.3 s with a 1024-offset table and the boundaries of all labels found in one pass
/// (`BoundaryMap`). The JSON reports stayed byte-identical; tests compare the search with
/// the transform and with brute force.
enum SurfaceSearch {
    /// Offsets per table: about a ball of radius 6 voxels on an isotropic grid. Queries stop
    /// at their first hit, so a larger table only costs for queries far from every source.
    static let tableSize = 1024

    /// Tables already built, by spacing and flat axes: batches of cases on one grid (and
    /// the fuzzer) build each once. At most 64 are kept.
    private static let cache = Mutex<[TableKey: Table]>([:])

    private struct TableKey: Hashable {
        let spacing: [UInt64]
        let flat: [Bool]
    }

    /// The table for a grid, from the cache when it was built before.
    static func table(spacing: SIMD3<Double>, flat: (x: Bool, y: Bool, z: Bool)) -> Table {
        let key = TableKey(
            spacing: [spacing.x.bitPattern, spacing.y.bitPattern, spacing.z.bitPattern], flat: [flat.x, flat.y, flat.z])
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let built = Table(spacing: spacing, flat: flat)
        cache.withLock { tables in
            if tables.count >= 64 { tables.removeAll() }
            tables[key] = built
        }
        return built
    }

    /// The offsets of one grid spacing, nearest first.
    struct Table: Sendable {
        var di: [Int]
        var dj: [Int]
        var dk: [Int]
        var distance: [Double]
        /// Every offset within this distance is in the table.
        var radius: Double
        var half: (i: Int, j: Int, k: Int)
        /// Where a walk for points at least some distance away may start.
        var startLookup: StartLookup

        /// Voxels each way of the cube that holds about 2·`size` offsets (the ball of that
        /// volume for the spacing, plus one voxel of slack), at most 24 each way and 0 along a
        /// flat axis. Shared with the mesh search (`PointToSurface`). The cap keeps the table
        /// small for extreme spacings (0.001 × 0.001 × 1000 mm would otherwise ask for 10¹²
        /// offsets); the radius only counts what the cube covers, so a capped table is exact.
        static func halfWidths(spacing s: SIMD3<Double>, flat: (x: Bool, y: Bool, z: Bool), size: Int) -> [Int] {
            let spacing = [s.x, s.y, s.z]
            let isFlat = [flat.x, flat.y, flat.z]
            let real = (0..<3).filter { !isFlat[$0] }
            let cell = real.reduce(1.0) { $0 * spacing[$1] }
            let estimate: Double
            switch real.count {
            case 3: estimate = Foundation.cbrt(3 * Double(2 * size) * cell / (4 * Double.pi))
            case 2: estimate = (Double(2 * size) * cell / Double.pi).squareRoot()
            default: estimate = Double(size) * cell
            }
            return (0..<3).map { axis in
                let voxels = (estimate / spacing[axis]).rounded(.up)
                return isFlat[axis] ? 0 : (voxels.isFinite && voxels < 23 ? Int(voxels) + 1 : 24)
            }
        }

        /// The nearest `size` offsets and all ties at the cut, sorted by distance (then
        /// dk, dj, di, so the table is deterministic). Axes marked flat (image extent 1)
        /// get no offsets.
        init(spacing s: SIMD3<Double>, flat: (x: Bool, y: Bool, z: Bool), size: Int = SurfaceSearch.tableSize) {
            let spacing = [s.x, s.y, s.z]
            let real = (0..<3).filter { ![flat.x, flat.y, flat.z][$0] }
            let halves = Self.halfWidths(spacing: s, flat: flat, size: size)
            var all: [(Int, Int, Int, Double)] = []
            for dk in -halves[2]...halves[2] {
                for dj in -halves[1]...halves[1] {
                    for di in -halves[0]...halves[0] {
                        let x = Double(di) * s.x
                        let y = Double(dj) * s.y
                        let z = Double(dk) * s.z
                        all.append((di, dj, dk, (x * x + y * y + z * z).squareRoot()))
                    }
                }
            }
            all.sort { ($0.3, $0.2, $0.1, $0.0) < ($1.3, $1.2, $1.1, $1.0) }
            // Offsets beyond the cube are missing: the radius stays below its faces.
            let covered = real.map { Double(halves[$0] + 1) * spacing[$0] }.min() ?? .infinity
            var cut = all.count > size ? all[size - 1].3 : all[all.count - 1].3
            if cut >= covered { cut = all.last { $0.3 < covered }?.3 ?? 0 }
            let kept = all.filter { $0.3 <= cut }
            di = kept.map { $0.0 }
            dj = kept.map { $0.1 }
            dk = kept.map { $0.2 }
            distance = kept.map { $0.3 }
            radius = cut
            half = (di.map(abs).max() ?? 0, dj.map(abs).max() ?? 0, dk.map(abs).max() ?? 0)
            startLookup = StartLookup(distance: distance, radius: cut)
        }
    }

    /// Distances (mm) from each query point (linear indices into the grid, in scan order)
    /// to the nearest source point; +∞ for all when there is none.
    ///
    /// `box` holds every query and every source (a label's union box; the whole grid for a
    /// crop's own flags); `sources` lists the sources (the probes read them as `SourceBits`
    /// over the box, and the brute-force fallback walks the list); `transform` computes the
    /// exact transform for every query, in the same order, over `transformVoxels` voxels,
    /// when the search would cost more.
    ///
    /// Each query resumes where its neighbour's result allows (`firstPosition`): the
    /// previous query of its block, Δ mm away at distance d, bounds its own distance below
    /// by d − Δ, so the table offsets nearer than that cannot hit and are skipped. The first
    /// hit is the same offset as a full walk's, so the distance is the same.
    ///
    /// Queries with no source within the table's radius ("far") are answered by the
    /// cheapest of the ways of `FarMethod`, or by `forced` (tests). The choices depend only
    /// on the data (fixed samples of the queries), never on timing, and every way is exact,
    /// so results do not depend on the thread count.
    static func distances(
        nx: Int, ny: Int, nz: Int, spacing: SIMD3<Double>, box: VoxelBox, queries: [Int], sources: [Int],
        table: Table, threads: Int, transformVoxels: Int, far forced: FarMethod? = nil, transform: () -> [Double]
    ) -> [Double] {
        if sources.isEmpty { return [Double](repeating: .infinity, count: queries.count) }
        if queries.isEmpty { return [] }
        // A grid not much larger than the table: the transform's O(voxels) beats walking the
        // table, whose offsets mostly fall outside such a grid.
        if nx * ny * nz <= 2 * table.distance.count { return transform() }
        let bits = SourceBits(sources: sources, nx: nx, ny: ny, box: box, pad: table.half)
        let count = table.distance.count
        let linear = (0..<count).map { table.di[$0] + bits.nx * (table.dj[$0] + bits.ny * table.dk[$0]) }
        let starts = table.startLookup
        let strideJ = nx
        let strideK = nx * ny
        let origin = bits.origin
        let localJ = bits.nx
        let localK = bits.nx * bits.ny
        let lower = (x: Int(box.lower.x), y: Int(box.lower.y), z: Int(box.lower.z))
        let upper = (x: Int(box.upper.x), y: Int(box.upper.y), z: Int(box.upper.z))

        return bits.words.withUnsafeBufferPointer { words in
            linear.withUnsafeBufferPointer { linear in
                table.distance.withUnsafeBufferPointer { distance in
                    /// The first table position at or after `start` whose offset holds a
                    /// source, or −1. Every probe lies in the padded box: no bounds test.
                    func probe(_ local: Int, from start: Int) -> Int {
                        var position = start
                        while position < count {
                            let bit = local &+ linear[position]
                            if words[bit &>> 6] &>> UInt64(bit & 63) & 1 != 0 { return position }
                            position &+= 1
                        }
                        return -1
                    }
                    /// (i, j, k) of a query or source, which must lie in the box.
                    func coordinates(_ index: Int) -> (Int, Int, Int) {
                        let (i, j, k) = (index % strideJ, (index / strideJ) % ny, index / strideK)
                        precondition(
                            i >= lower.x && j >= lower.y && k >= lower.z && i <= upper.x && j <= upper.y
                                && k <= upper.z, "a point outside its box")
                        return (i, j, k)
                    }
                    func local(_ i: Int, _ j: Int, _ k: Int) -> Int {
                        (i - origin.x) + localJ * (j - origin.y) + localK * (k - origin.z)
                    }
                    let shells = distance[min(count - 1, 26)]
                    let rows = BitRows(words: words, nx: bits.nx, ny: bits.ny, nz: bits.nz, spacing: spacing)

                    // A fixed sample decides: when more than a quarter of it is far from
                    // every source the transform is cheaper than walking the whole table
                    // for each far query.
                    let step = max(1, queries.count / 64)
                    let farInSample = stride(from: 0, to: queries.count, by: step).filter {
                        let (i, j, k) = coordinates(queries[$0])
                        return probe(local(i, j, k), from: 0) < 0
                    }.count
                    let sampleCount = (queries.count + step - 1) / step
                    if forced == .transform || (forced == nil && farInSample * 4 > sampleCount && queries.count > 256) {
                        return transform()
                    }

                    var out = [Double](repeating: -1, count: queries.count)
                    // Blocks of consecutive queries (each resumes from its previous query), at
                    // least 8 per worker so that a big label keeps every worker busy.
                    let block = min(4096, max(256, queries.count / (8 * max(1, threads))))
                    out.withUnsafeMutableBufferPointer { result in
                        let shared = UncheckedSendable(result)
                        parallelFor((queries.count + block - 1) / block, threads: threads) { b in
                            // The previous query of this block and a lower bound of its
                            // distance (the table radius when it is far).
                            var previous = (i: 0, j: 0, k: 0, distance: -1.0)
                            var cursor = ScanCursor(nx: nx, ny: ny)
                            for q in (b * block)..<min(queries.count, (b + 1) * block) {
                                let (i, j, k) = cursor.coordinates(queries[q])
                                precondition(
                                    i >= lower.x && j >= lower.y && k >= lower.z && i <= upper.x && j <= upper.y
                                        && k <= upper.z, "a point outside its box")
                                var start = 0
                                // Worth it only beyond the first shells of the table.
                                if previous.distance > shells {
                                    let dx = Double(i - previous.i) * spacing.x
                                    let dy = Double(j - previous.j) * spacing.y
                                    let dz = Double(k - previous.k) * spacing.z
                                    let gap = (dx * dx + dy * dy + dz * dz).squareRoot()
                                    start = firstPosition(starts, atLeast: previous.distance - gap, slack: gap)
                                }
                                let position = probe(local(i, j, k), from: start)
                                shared.value[q] = position < 0 ? -1 : distance[position]
                                previous = (i, j, k, position < 0 ? table.radius : distance[position])
                            }
                        }
                    }
                    let far = out.indices.filter { out[$0] < 0 }
                    if far.isEmpty { return out }
                    /// Far queries: the cheapest exact way for them. A scan of the bit rows
                    /// outwards costs about 8 steps per row visited (estimated on a fixed
                    /// sample of them), brute force far × sources pair checks, the transform
                    /// about 8 steps per voxel of its crop.
                    func cheapestFarMethod() -> FarMethod {
                        let bruteCost = far.count * sources.count
                        let transformCost = 8 * transformVoxels
                        let other: FarMethod = transformCost < bruteCost ? .transform : .bruteForce
                        // The sample's scans stop once the rows alone would cost more than
                        // the other ways (they start with no known source, so far queries
                        // can visit many rows).
                        let farStep = max(1, far.count / 16)
                        let sampled = (far.count + farStep - 1) / farStep
                        let budget = min(bruteCost, transformCost) / 8 * sampled / far.count
                        var sampleRows = 0
                        for f in stride(from: 0, to: far.count, by: farStep) {
                            let (i, j, k) = coordinates(queries[far[f]])
                            sampleRows +=
                                rows.nearest(
                                    i - origin.x, j - origin.y, k - origin.z, within: nil, rowLimit: budget - sampleRows
                                ).rows
                            if sampleRows > budget { return other }
                        }
                        return 8 * sampleRows * far.count / sampled <= min(bruteCost, transformCost) ? .rows : other
                    }
                    let method = forced ?? cheapestFarMethod()
                    if method == .transform { return transform() }
                    if method == .rows {
                        out.withUnsafeMutableBufferPointer { result in
                            let shared = UncheckedSendable(result)
                            let farBlock = 64
                            parallelFor((far.count + farBlock - 1) / farBlock, threads: threads) { b in
                                // The source nearest to the previous far query bounds the
                                // next one's distance from above.
                                var known: (i: Int, j: Int, k: Int)?
                                for f in (b * farBlock)..<min(far.count, (b + 1) * farBlock) {
                                    let (i, j, k) = coordinates(queries[far[f]])
                                    let found = rows.nearest(i - origin.x, j - origin.y, k - origin.z, within: known)
                                    shared.value[far[f]] = found.squared.squareRoot()
                                    known = found.at
                                }
                            }
                        }
                        return out
                    }
                    let points = sources.map { coordinates($0) }
                    // Sources in scan order (boundary lists are) are sorted by slice k: each far
                    // query then walks them outwards from its own slice and stops on each side
                    // at the first slice whose (Δk·sₖ)² alone reaches the best so far; the
                    // sum of squares is monotone, so no skipped source is nearer.
                    let sortedByK = zip(points, points.dropFirst()).allSatisfy { $0.2 <= $1.2 }
                    out.withUnsafeMutableBufferPointer { result in
                        let shared = UncheckedSendable(result)
                        points.withUnsafeBufferPointer { points in
                            parallelFor(far.count, threads: threads, grain: 16) { f in
                                let (i, j, k) = coordinates(queries[far[f]])
                                var best = Double.infinity
                                // Integer differences scaled by the spacing: the same
                                // arithmetic as the offset table and the transform.
                                @inline(__always) func consider(_ p: (Int, Int, Int)) {
                                    let dx = Double(i - p.0) * spacing.x
                                    let dy = Double(j - p.1) * spacing.y
                                    let dz = Double(k - p.2) * spacing.z
                                    best = min(best, dx * dx + dy * dy + dz * dz)
                                }
                                if sortedByK {
                                    // The first source of slice k or later.
                                    var low = 0
                                    var high = points.count
                                    while low < high {
                                        let middle = (low + high) / 2
                                        if points[middle].2 < k { low = middle + 1 } else { high = middle }
                                    }
                                    var up = low
                                    while up < points.count {
                                        let dz = Double(points[up].2 - k) * spacing.z
                                        if dz * dz >= best { break }
                                        consider(points[up])
                                        up += 1
                                    }
                                    var down = low - 1
                                    while down >= 0 {
                                        let dz = Double(k - points[down].2) * spacing.z
                                        if dz * dz >= best { break }
                                        consider(points[down])
                                        down -= 1
                                    }
                                } else {
                                    for p in points { consider(p) }
                                }
                                shared.value[far[f]] = best.squareRoot()
                            }
                        }
                    }
                    return out
                }
            }
        }
    }

    /// How the queries beyond the offset table are answered; each way is exact, and all give
    /// the same distances (tested). `SurfaceSearch.distances` picks the cheapest by an
    /// estimate from the data unless told.
    enum FarMethod: CaseIterable, Sendable {
        /// `BitRows.nearest` for each far query.
        case rows
        /// Every source for each far query.
        case bruteForce
        /// The transform for every query.
        case transform
    }

    /// The first table position that may hold a point at distance `bound` or more: the
    /// bound less a margin far above the rounding error of the distances and of `bound`
    /// (differences of values up to `slack` plus the bound itself), looked up in
    /// `Table.startLookup`, which may start a few positions early, never late. So no
    /// position skipped can hold a nearer point. 0 when the bound is not positive.
    @inline(__always)
    static func firstPosition(_ starts: StartLookup, atLeast bound: Double, slack: Double) -> Int {
        let threshold = bound - 1e-9 * (bound + 2 * slack)
        guard threshold > 0 else { return 0 }
        return starts.position(atLeast: threshold)
    }

    /// Table position by distance: `first[b]` is the first position whose distance is at
    /// least b·`width`, for b in 0...`buckets`, so a threshold's bucket gives a position at
    /// or before its own first position. O(1) per look-up instead of a binary search
    /// (which was a tenth of the search's time on the CT-sized pair, perf).
    struct StartLookup: Sendable {
        var first: [Int]
        var width: Double
        static let buckets = 1024

        init(distance: [Double], radius: Double) {
            width = radius > 0 ? radius / Double(Self.buckets) : 1
            var first: [Int] = []
            var position = 0
            for b in 0...Self.buckets {
                let edge = Double(b) * width
                while position < distance.count && distance[position] < edge { position += 1 }
                first.append(position)
            }
            self.first = first
        }

        @inline(__always) func position(atLeast threshold: Double) -> Int {
            let bucket = threshold / width
            return bucket >= Double(Self.buckets) ? first[Self.buckets] : first[Int(bucket)]
        }
    }
}

/// The rows of a `SourceBits` box, scanned with word operations: the exact nearest source of
/// a voxel however far it is, for queries beyond the offset table.
struct BitRows {
    let words: UnsafeBufferPointer<UInt64>
    let nx: Int
    let ny: Int
    let nz: Int
    let spacing: SIMD3<Double>

    /// The squared distance (mm²) from box voxel (i, j, k) to the nearest set bit, that bit's
    /// voxel, and the rows visited. Planes are visited outwards from k, rows outwards from j,
    /// and in each row only the nearest set bit on either side of i counts; a plane or row
    /// whose own part of the distance already reaches the best so far is skipped, and so are
    /// all beyond it. `within`, a set voxel, gives the first best. +∞ when no bit is set.
    /// With `rowLimit`, the scan stops after that many rows (an estimate's cut-off; the
    /// distance is then only an upper bound).
    ///
    /// The squared distance is the same sum of the same squares as the offset table's and
    /// brute force's, ((Δi·sᵢ)² + (Δj·sⱼ)²) + (Δk·sₖ)², and rounding is monotone, so a
    /// skipped plane or row holds nothing nearer.
    func nearest(_ i: Int, _ j: Int, _ k: Int, within known: (i: Int, j: Int, k: Int)?, rowLimit: Int = .max) -> (
        squared: Double, at: (i: Int, j: Int, k: Int)?, rows: Int
    ) {
        var best = Double.infinity
        var at = known
        if let known {
            let x = Double(known.i - i) * spacing.x
            let y = Double(known.j - j) * spacing.y
            let z = Double(known.k - k) * spacing.z
            best = x * x + y * y + z * z
        }
        var rows = 0
        var dk = 0
        while dk <= max(k, nz - 1 - k) {
            let z = Double(dk) * spacing.z
            let z2 = z * z
            if z2 >= best { break }
            for side in 0..<(dk == 0 ? 1 : 2) {
                let kk = side == 0 ? k - dk : k + dk
                guard kk >= 0 && kk < nz else { continue }
                var dj = 0
                while dj <= max(j, ny - 1 - j) {
                    let y = Double(dj) * spacing.y
                    let y2 = y * y
                    if y2 + z2 >= best { break }
                    for side in 0..<(dj == 0 ? 1 : 2) {
                        let jj = side == 0 ? j - dj : j + dj
                        guard jj >= 0 && jj < ny else { continue }
                        rows += 1
                        if rows > rowLimit { return (best, at, rows) }
                        let base = nx * (jj + ny * kk)
                        // Only bits within the best distance so far can improve it.
                        var reach = nx
                        if best.isFinite {
                            let room = ((best - (y2 + z2)).squareRoot() / spacing.x).rounded(.up) + 1
                            if room < Double(nx) { reach = Int(room) }
                        }
                        let left = previousSet(base + i, from: base + max(0, i - reach))
                        let right = nextSet(base + i, before: base + min(nx, i + reach + 1))
                        if left >= 0 {
                            let x = Double(left - base - i) * spacing.x
                            let d = x * x + y2 + z2
                            if d < best { (best, at) = (d, (left - base, jj, kk)) }
                        }
                        if right >= 0 {
                            let x = Double(right - base - i) * spacing.x
                            let d = x * x + y2 + z2
                            if d < best { (best, at) = (d, (right - base, jj, kk)) }
                        }
                    }
                    dj += 1
                }
            }
            dk += 1
        }
        return (best, at, rows)
    }

    /// The first set bit at or after `bit`, before `end`; −1 when none.
    @inline(__always) func nextSet(_ bit: Int, before end: Int) -> Int {
        guard bit < end else { return -1 }
        var w = bit >> 6
        var word = words[w] & (~UInt64(0) << UInt64(bit & 63))
        while true {
            if word != 0 {
                let found = w << 6 + word.trailingZeroBitCount
                return found < end ? found : -1
            }
            w += 1
            if w << 6 >= end { return -1 }
            word = words[w]
        }
    }

    /// The last set bit at or before `bit`, at or after `start`; −1 when none.
    @inline(__always) func previousSet(_ bit: Int, from start: Int) -> Int {
        guard bit >= start else { return -1 }
        var w = bit >> 6
        var word = words[w] & (~UInt64(0) >> UInt64(63 - (bit & 63)))
        while true {
            if word != 0 {
                let found = w << 6 + 63 - word.leadingZeroBitCount
                return found >= start ? found : -1
            }
            if w << 6 <= start { return -1 }
            w -= 1
            word = words[w]
        }
    }
}

/// The source points of one search as one bit per voxel of their box, padded on every side
/// by the offset table's half widths: every probe of a query inside the box lands in the
/// padded box (no bounds test; voxels outside the grid are simply unset), and a probe
/// reads one bit of a small array instead of the grid's flags and labels.
///
/// Cost: O(sources) to set, (box voxels + padding)/8 bytes.
struct SourceBits {
    var words: [UInt64]
    /// Extents of the padded box.
    let nx: Int
    let ny: Int
    let nz: Int
    /// Grid coordinates of the padded box's first voxel (negative where it extends past the grid).
    let origin: (x: Int, y: Int, z: Int)

    /// `sources`: linear indices into a grid whose rows hold `nx` voxels and slices `ny` rows,
    /// all inside `box`.
    init(sources: [Int], nx gridNX: Int, ny gridNY: Int, box: VoxelBox, pad: (i: Int, j: Int, k: Int)) {
        let size = box.size
        nx = size.x + 2 * pad.i
        ny = size.y + 2 * pad.j
        nz = size.z + 2 * pad.k
        origin = (Int(box.lower.x) - pad.i, Int(box.lower.y) - pad.j, Int(box.lower.z) - pad.k)
        var words = [UInt64](repeating: 0, count: (nx * ny * nz + 63) / 64)
        let (localJ, localK) = (nx, nx * ny)
        let origin = origin
        let (nx, ny, nz) = (nx, ny, nz)
        words.withUnsafeMutableBufferPointer { words in
            var cursor = ScanCursor(nx: gridNX, ny: gridNY)
            for index in sources {
                let (gi, gj, gk) = cursor.coordinates(index)
                let (i, j, k) = (gi - origin.x, gj - origin.y, gk - origin.z)
                precondition(i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz, "a source outside its box")
                let bit = i + localJ * j + localK * k
                words[bit >> 6] |= 1 << UInt64(bit & 63)
            }
        }
        self.words = words
    }
}

/// Grid coordinates (i, j, k) of linear indices given mostly in scan order, without a
/// division per point: the cursor keeps the row of the previous point and steps forward
/// row by row (wrapping into the next slice) when the next point lies at most
/// `stepRows` rows further on. A point further away or behind gets the divisions. Either
/// way the coordinates are the same. On the AAL pair (`compare --compat deepmind --threads 1`,
/// perf) the divisions of sources and queries were about 30 % of `SurfaceSearch.distances`,
/// about 3 % with the cursor.
struct ScanCursor {
    let nx: Int
    let ny: Int
    /// The linear index of voxel (0, j, k) of the current row; −1 before the first point.
    private var rowStart = -1
    private var j = 0
    private var k = 0
    /// Rows stepped one by one before a division is cheaper.
    static let stepRows = 8

    init(nx: Int, ny: Int) {
        self.nx = nx
        self.ny = ny
    }

    @inline(__always) mutating func coordinates(_ index: Int) -> (Int, Int, Int) {
        var offset = index &- rowStart
        if rowStart < 0 || offset < 0 || offset >= Self.stepRows &* nx {
            let row = index / nx
            (j, k) = (row % ny, row / ny)
            rowStart = row &* nx
            return (index &- rowStart, j, k)
        }
        while offset >= nx {
            offset &-= nx
            rowStart &+= nx
            j &+= 1
            if j == ny { (j, k) = (0, k &+ 1) }
        }
        return (offset, j, k)
    }
}
