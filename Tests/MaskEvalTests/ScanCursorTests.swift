import Testing

@testable import MaskEval

/// `ScanCursor` steps rows instead of dividing: on any sequence of indices (scan order with
/// gaps of every size, slice wraps, repeats, jumps back) it gives the coordinates that the
/// divisions give.
struct ScanCursorTests {
    @Test(arguments: 0..<24)
    func matchesDivision(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) &* 104_729 &+ 3)
        let nx = Int.random(in: 1...40, using: &rng)
        let ny = Int.random(in: 1...12, using: &rng)
        let nz = Int.random(in: 1...9, using: &rng)
        let count = nx * ny * nz
        // Mostly forward: small steps within a row, steps of a few rows (slice wraps when
        // ny is small), steps past the cursor's stepping limit, repeats and jumps back.
        var indices: [Int] = []
        var index = Int.random(in: 0..<count, using: &rng)
        for _ in 0..<400 {
            indices.append(index)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5: index += Int.random(in: 0...2, using: &rng)
            case 5..<8: index += Int.random(in: 0...(ScanCursor.stepRows * nx + 1), using: &rng)
            case 8: index += Int.random(in: 0...(4 * nx * ny), using: &rng)
            default: index = Int.random(in: 0..<count, using: &rng)
            }
            if index >= count { index = Int.random(in: 0..<count, using: &rng) }
        }
        var cursor = ScanCursor(nx: nx, ny: ny)
        for index in indices {
            let (i, j, k) = cursor.coordinates(index)
            #expect(
                [i, j, k] == [index % nx, (index / nx) % ny, index / (nx * ny)],
                "index \(index) of a \(nx)×\(ny)×\(nz) grid")
        }
    }
}
