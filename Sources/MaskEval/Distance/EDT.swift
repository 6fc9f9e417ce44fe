/// Exact anisotropic Euclidean distance transform, read only where it is needed.
///
/// Separable lower-envelope passes (P. F. Felzenszwalb and D. P. Huttenlocher, "Distance
/// Transforms of Sampled Functions", Theory of Computing 8, 2012): the squared distance in
/// mm² to the nearest source voxel is built one axis at a time, each pass exact, so the
/// result equals the brute-force minimum of (di·sᵢ)² + (dj·sⱼ)² + (dk·sₖ)² (tested).
///
/// Tricks, each exact:
/// - pass 1 (along i) is two linear sweeps, not an envelope;
/// - pass 2 (along j) skips slices k with no source (their values stay +∞);
/// - pass 3 (along k) runs only on lines (i, j) holding a query voxel, and the distances
///   are read only at query voxels.
/// Lines are independent inside each pass: each pass is split over `threads` workers with a
/// join between passes; the result does not depend on the thread count.
enum DistanceTransform {
    /// Distances (mm) from every voxel whose `flags & query != 0` to the nearest voxel whose
    /// `flags & source != 0`, in scan order (i fastest). +∞ for every query when there is no
    /// source.
    ///
    /// Cost: O(n) time and 8n bytes for n = nx·ny·nz, plus O(max(nx, ny, nz)) per worker.
    static func distances(
        flags: UnsafeBufferPointer<UInt8>, nx: Int, ny: Int, nz: Int, spacing: SIMD3<Double>,
        source: UInt8, query: UInt8, threads: Int
    ) -> [Double] {
        let count = nx * ny * nz
        precondition(flags.count == count, "flags must cover the grid")
        var field = [Double](repeating: .infinity, count: count)
        let longest = max(nx, ny, nz)
        let workers = max(1, threads)
        var scratchF = [Double](repeating: 0, count: workers * longest)
        var scratchZ = [Double](repeating: 0, count: workers * (longest + 1))
        var scratchV = [Int](repeating: 0, count: workers * longest)
        var sliceHasSource = [Bool](repeating: false, count: nz)
        var lineHasQuery = [Bool](repeating: false, count: nx * ny)
        for k in 0..<nz {
            for j in 0..<ny {
                let row = (k * ny + j) * nx
                for i in 0..<nx {
                    let f = flags[row + i]
                    if f & source != 0 { sliceHasSource[k] = true }
                    if f & query != 0 { lineHasQuery[j * nx + i] = true }
                }
            }
        }
        if !sliceHasSource.contains(true) {
            return collect(field, flags: flags, query: query)
        }
        field.withUnsafeMutableBufferPointer { g in
            scratchF.withUnsafeMutableBufferPointer { fBuffer in
                scratchZ.withUnsafeMutableBufferPointer { zBuffer in
                    scratchV.withUnsafeMutableBufferPointer { vBuffer in
                        let shared = UncheckedSendable((g, fBuffer, zBuffer, vBuffer))
                        // Pass 1, along i: distance to the nearest source in the row.
                        let si = spacing.x
                        parallelFor(ny * nz, threads: workers, grain: 64) { rowIndex in
                            let (g, _, _, _) = shared.value
                            let k = rowIndex / ny
                            guard sliceHasSource[k] else { return }
                            rowPass(flags: flags, g: g, start: rowIndex * nx, nx: nx, source: source, si: si)
                        }
                        // Pass 2, along j, for every column (i, k) of a slice with a source.
                        parallelForWithWorker(nz, threads: workers) { worker, k in
                            let (g, fBuffer, zBuffer, vBuffer) = shared.value
                            guard sliceHasSource[k] else { return }
                            let f = fBuffer.baseAddress.unsafelyUnwrapped + worker * longest
                            let z = zBuffer.baseAddress.unsafelyUnwrapped + worker * (longest + 1)
                            let v = vBuffer.baseAddress.unsafelyUnwrapped + worker * longest
                            let base = k * nx * ny
                            for i in 0..<nx {
                                envelope(
                                    g: g.baseAddress.unsafelyUnwrapped + base + i, stride: nx, n: ny,
                                    spacing: spacing.y, f: f, z: z, v: v)
                            }
                        }
                        // Pass 3, along k, only on lines that hold a query voxel.
                        parallelForWithWorker(ny, threads: workers) { worker, j in
                            let (g, fBuffer, zBuffer, vBuffer) = shared.value
                            let f = fBuffer.baseAddress.unsafelyUnwrapped + worker * longest
                            let z = zBuffer.baseAddress.unsafelyUnwrapped + worker * (longest + 1)
                            let v = vBuffer.baseAddress.unsafelyUnwrapped + worker * longest
                            for i in 0..<nx where lineHasQuery[j * nx + i] {
                                envelope(
                                    g: g.baseAddress.unsafelyUnwrapped + j * nx + i, stride: nx * ny, n: nz,
                                    spacing: spacing.z, f: f, z: z, v: v)
                            }
                        }
                    }
                }
            }
        }
        return collect(field, flags: flags, query: query)
    }

    /// Square roots of the field at the query voxels, in scan order.
    private static func collect(_ field: [Double], flags: UnsafeBufferPointer<UInt8>, query: UInt8) -> [Double] {
        var out: [Double] = []
        for index in 0..<field.count where flags[index] & query != 0 {
            out.append(field[index].squareRoot())
        }
        return out
    }

    /// Pass 1 on one row: forward and backward sweeps of the index distance to the nearest
    /// source, stored squared in mm² (+∞ where the row has none).
    @inline(__always)
    private static func rowPass(
        flags: UnsafeBufferPointer<UInt8>, g: UnsafeMutableBufferPointer<Double>, start: Int, nx: Int,
        source: UInt8, si: Double
    ) {
        var last = -1
        for i in 0..<nx where flags[start + i] & source != 0 {
            // Fill from the previous source (or the row start) up to this one.
            let from = last < 0 ? 0 : last + 1
            for x in from..<i {
                let d = Double(last < 0 ? i - x : min(x - last, i - x)) * si
                g[start + x] = d * d
            }
            g[start + i] = 0
            last = i
        }
        if last >= 0 {
            for x in (last + 1)..<max(last + 1, nx) {
                let d = Double(x - last) * si
                g[start + x] = d * d
            }
        }
    }

    /// One line of an envelope pass, in place: g[q] ← min over p of g[p] + ((q − p)·s)².
    /// Parabolas with an infinite apex are skipped, so a line with no finite value stays +∞.
    @inline(__always)
    private static func envelope(
        g: UnsafeMutablePointer<Double>, stride: Int, n: Int, spacing: Double,
        f: UnsafeMutablePointer<Double>, z: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Int>
    ) {
        var k = -1
        for q in 0..<n {
            let value = g[q * stride]
            f[q] = value
            guard value.isFinite else { continue }
            let xq = Double(q) * spacing
            if k < 0 {
                k = 0
                v[0] = q
                z[0] = -.infinity
                z[1] = .infinity
                continue
            }
            // z[0] = −∞, so the loop stops at k = 0 at the latest.
            var p = v[k]
            var xp = Double(p) * spacing
            var s = ((value + xq * xq) - (f[p] + xp * xp)) / (2 * (xq - xp))
            while s <= z[k] {
                k -= 1
                p = v[k]
                xp = Double(p) * spacing
                s = ((value + xq * xq) - (f[p] + xp * xp)) / (2 * (xq - xp))
            }
            k += 1
            v[k] = q
            z[k] = s
            z[k + 1] = .infinity
        }
        guard k >= 0 else { return }
        var segment = 0
        for q in 0..<n {
            let xq = Double(q) * spacing
            while z[segment + 1] < xq { segment += 1 }
            let p = v[segment]
            // (q − p)·s from the integer difference: the value is then the same sum of the
            // same squares as a direct computation, (Δi·sᵢ)² + (Δj·sⱼ)² + (Δk·sₖ)².
            let dx = Double(q - p) * spacing
            g[q * stride] = f[p] + dx * dx
        }
    }
}
