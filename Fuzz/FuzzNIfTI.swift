// libFuzzer target: mutated NIfTI bytes through the reader and, when they parse, through
// the comparison engine against a small fixed reference. Built by scripts/fuzz; not part of
// the Swift package.
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

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Data(bytes: start, count: count)
    // The first byte picks plain or gzip-compressed naming (nifticlib decides by the name).
    let gz = count > 0 && bytes[bytes.startIndex] & 1 == 1
    let path = folder + (gz ? "/input.nii.gz" : "/input.nii")
    guard (try? bytes.write(to: URL(fileURLWithPath: path))) != nil else { return 0 }
    // Small volumes only (--max-voxels), so each execution takes milliseconds.
    guard let volume = try? NIfTIReader.read(path: path, maxVoxels: 1 << 14, threads: 1) else { return 0 }
    guard let onReference = try? Resample.nearest(volume, onto: reference.grid, threads: 1) else { return 0 }
    // At most six labels per run (random bytes give hundreds): each run stays in
    // milliseconds, and the label list path (--labels, absent labels) is exercised too.
    let present = Array(Set(onReference.labels).union(reference.labels)).filter { $0 != 0 }.sorted().prefix(5)
    let settings = EvaluationSettings(labels: present + [9999], presets: Compat.allCases, threads: 1)
    let evaluation = Evaluator.evaluate(reference: reference, prediction: onReference, settings: settings)
    let report = CompareReport(evaluation: evaluation, reference: reference.description, prediction: volume.description)
    _ = report.json().rendered()
    _ = InfoReport(volume: volume, threads: 1).table()
    // The volume's own labels against themselves, on its own grid.
    if volume.grid.voxelCount <= 1 << 12 {
        _ = Evaluator.evaluate(reference: volume, prediction: volume, settings: settings)
    }
    return 0
}
