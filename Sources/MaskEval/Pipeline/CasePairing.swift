import Foundation

/// One case of a batch: its id and files (nil when a side is missing), or why it cannot be
/// evaluated.
public struct BatchCase: Equatable, Sendable {
    public var id: String
    public var reference: String?
    public var prediction: String?
    /// Set when the case is known to be broken before reading (two files for one id).
    public var problem: String?

    public init(id: String, reference: String?, prediction: String?, problem: String? = nil) {
        self.id = id
        self.reference = reference
        self.prediction = prediction
        self.problem = problem
    }
}

/// Pairs the volumes of two folders by case id.
public enum CasePairing {
    /// NIfTI endings; a case id is a file name without one of them.
    static let niftiEndings = [".nii.gz", ".nii", ".hdr.gz", ".hdr"]
    /// Endings of volumes in formats MaskEval does not read: reported, never skipped silently.
    static let otherVolumeEndings = [
        ".nrrd", ".nhdr", ".mha", ".mhd", ".mgz", ".mgh", ".dcm", ".npy", ".npz", ".h5", ".hdf5", ".tif", ".tiff",
        ".vtk", ".img.gz",
    ]

    /// The case id of a file: its name without `.nii`, `.nii.gz`, `.hdr` or `.hdr.gz`.
    static func caseID(_ name: String) -> String? {
        for ending in niftiEndings where name.lowercased().hasSuffix(ending) {
            return String(name.dropLast(ending.count))
        }
        return nil
    }

    public struct Pairing: Sendable {
        public var cases: [BatchCase]
        public var warnings: [String]
    }

    /// Pairs the NIfTI files of two folders by case id, sorted by id. A reference without a
    /// prediction is a case with `prediction == nil`; a prediction without a reference, a
    /// file in another volume format and an id with two files are warnings (the last also
    /// makes the case an error). A pairing that matches no case at all is an error showing
    /// an example of each side.
    public static func pair(referenceFolder: String, predictionFolder: String) throws -> Pairing {
        let references = try files(in: referenceFolder)
        let predictions = try files(in: predictionFolder)
        var cases: [BatchCase] = []
        var warnings = references.warnings + predictions.warnings
        for (id, paths) in references.byID.sorted(by: { $0.key < $1.key }) {
            let predictionPaths = predictions.byID[id] ?? []
            var problem: String?
            if paths.count > 1 || predictionPaths.count > 1 {
                let both = paths.count > 1 ? paths : predictionPaths
                problem = "case \(id) has \(both.count) files: \(both.joined(separator: ", "))"
            }
            cases.append(
                BatchCase(id: id, reference: paths.first, prediction: predictionPaths.first, problem: problem))
        }
        for (id, paths) in predictions.byID.sorted(by: { $0.key < $1.key }) where references.byID[id] == nil {
            warnings.append("\(paths[0]): prediction without a reference (case \(id)); not evaluated")
        }
        if !references.byID.isEmpty && !cases.contains(where: { $0.prediction != nil }) {
            let reference = references.byID.sorted { $0.key < $1.key }.first?.value.first ?? ""
            let prediction = predictions.byID.sorted { $0.key < $1.key }.first?.value.first
            throw InputError.badFile(
                path: predictionFolder,
                reason: "no prediction pairs with a reference (e.g. reference \(reference)"
                    + (prediction.map { ", prediction \($0)" } ?? ", and the folder has no NIfTI file")
                    + "); files pair by name without .nii/.nii.gz")
        }
        if references.byID.isEmpty {
            throw InputError.badFile(path: referenceFolder, reason: "the folder holds no NIfTI file (.nii, .nii.gz, .hdr)")
        }
        return Pairing(cases: cases, warnings: warnings)
    }

    static func files(in folder: String) throws -> (byID: [String: [String]], warnings: [String]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw InputError.missingFile(path: folder)
        }
        guard isDirectory.boolValue else { throw InputError.badFile(path: folder, reason: "not a folder") }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw InputError.unreadable(path: folder, reason: "cannot list the folder")
        }
        var out: [String: [String]] = [:]
        var warnings: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = (folder as NSString).appendingPathComponent(name)
            if let id = caseID(name) {
                out[id, default: []].append(path)
            } else if otherVolumeEndings.contains(where: { name.lowercased().hasSuffix($0) }) {
                warnings.append("\(path): not a NIfTI file (only .nii, .nii.gz and .hdr/.img are read); not evaluated")
            }
        }
        return (out, warnings)
    }

    /// Shard `k` of `n` (1-based): the cases whose position in id order is k − 1 modulo n.
    public static func shard(_ cases: [BatchCase], _ shard: Shard) -> [BatchCase] {
        cases.sorted { $0.id < $1.id }.enumerated().filter { $0.offset % shard.count == shard.index - 1 }.map(
            \.element)
    }
}

/// Shard K of N (`--shard K/N`, 1 ≤ K ≤ N).
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init?(text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 1, k <= n else {
            return nil
        }
        index = k
        count = n
    }

    public init(index: Int, count: Int) {
        precondition(count >= 1 && index >= 1 && index <= count, "shard must be K/N with 1 ≤ K ≤ N")
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }
}
