// libFuzzer target: mutated NIfTI bytes through the reader and, when they parse, through
// the comparison engine against a small fixed reference. Built by scripts/fuzz; not part of
// the Swift package.
//
// Input: one mode byte, then the file's bytes. Mode bit 0: a .hdr/.img pair (the header's
// first 352 bytes, or 544 when sizeof_hdr reads 540 in either byte order, go to the .hdr,
// the rest to the .img); otherwise one .nii. Bit 1: also read it as an --image intensity
// volume. gzip is told by content, so gzip seeds reach the inflating path either way. The
// seeds (scripts/fuzz) include big-endian files, extensions, bad offsets and magics.
import Foundation

private let folder: String = {
    let path = NSTemporaryDirectory() + "maskeval-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()
private let reference: LabelVolume = {
    var labels = [Int32](repeating: 0, count: 8 * 8 * 8)
    for index in labels.indices where (index % 8) > 2 && (index / 8) % 8 < 5 { labels[index] = Int32(1 + index % 3) }
    return LabelVolume(grid: Grid(nx: 8, ny: 8, nz: 8, affine: .diagonal(1, 1.5, 2)), labels: labels)
}()

/// Where the input lands: one .nii, or a .hdr and its .img.
private func writeInput(_ bytes: Data) -> String? {
    guard let mode = bytes.first else { return nil }
    let file = bytes.dropFirst()
    if mode & 1 == 0 {
        let path = folder + "/input.nii"
        return (try? file.write(to: URL(fileURLWithPath: path))) != nil ? path : nil
    }
    let sizes =
        file.count >= 4
        ? [file.prefix(4).elementsEqual([0x1C, 2, 0, 0]), file.prefix(4).elementsEqual([0, 0, 2, 0x1C])] : []
    let split = sizes.contains(true) ? 544 : 352
    let path = folder + "/input.hdr"
    guard (try? file.prefix(split).write(to: URL(fileURLWithPath: path))) != nil,
        (try? file.dropFirst(split).write(to: URL(fileURLWithPath: folder + "/input.img"))) != nil
    else { return nil }
    return path
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Data(bytes: start, count: count)
    guard let path = writeInput(bytes) else { return 0 }
    if bytes[bytes.startIndex] & 2 != 0 {
        _ = try? NIfTIReader.readIntensities(path: path, maxVoxels: 1 << 14)
    }
    _ = try? NIfTIReader.readHeader(path: path)
    // Small volumes only (--max-voxels), so each execution takes milliseconds.
    guard let volume = try? NIfTIReader.read(path: path, maxVoxels: 1 << 14, threads: 1) else { return 0 }
    guard let onReference = try? Resample.nearest(volume, onto: reference.grid, threads: 1) else { return 0 }
    // At most six labels per run (random bytes give hundreds): each run stays in
    // milliseconds, and the label list path (--labels, absent labels) is exercised too.
    let present = Array(Set(onReference.labels).union(reference.labels)).filter { $0 != 0 }.sorted().prefix(5)
    var settings = EvaluationSettings(labels: present + [9999], presets: Compat.allCases, threads: 1)
    settings.keepDetail = true  // the maps and pictures' detail too
    let evaluation = Evaluator.evaluate(reference: reference, prediction: onReference, settings: settings)
    var run = RunSettings()
    run.presets = Compat.allCases
    let report = CompareReport(
        rows: LabelRow.rows(evaluation, caseID: "", names: LabelNames()), settings: run,
        reference: reference.description, prediction: volume.description)
    _ = report.json().rendered()
    _ = ErrorMap.distances(evaluation, reference: reference, prediction: onReference)
    let census = Census.count(
        reference: volume.labels, nx: volume.grid.nx, ny: volume.grid.ny, nz: volume.grid.nz, threads: 1)
    _ = InfoReport(volume: volume, labels: census).table()
    // The volume's own labels against themselves, on its own grid.
    if volume.grid.voxelCount <= 1 << 12 {
        _ = Evaluator.evaluate(reference: volume, prediction: volume, settings: settings)
    }
    return 0
}
