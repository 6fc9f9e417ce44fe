import Foundation

/// How a prediction's grid is brought onto the reference's.
public enum GeometryMode: String, Sendable {
    /// Grids must match (METRICS.md); a mismatch is an error.
    case checked
    /// Nearest-neighbour resampling of the prediction onto the reference grid.
    case resampled
    /// Arrays compared as they are, with the reference spacing.
    case ignored
}

/// Everything `compare` does to one pair of files, for the command and for each batch case.
public struct Comparison: Sendable {
    public var geometry: GeometryMode = .checked
    public var geometryToleranceMM = GeometryCheck.defaultToleranceMM
    public var binary = false
    public var maxVoxels: Int?
    public var settings: EvaluationSettings

    public init(settings: EvaluationSettings) { self.settings = settings }

    public struct Outcome: Sendable {
        public var evaluation: Evaluation
        public var reference: LabelVolume.Description
        public var prediction: LabelVolume.Description
        public var readSeconds: Double
        /// The volumes as evaluated (the prediction on the reference grid), for maps and
        /// report images.
        public var referenceVolume: LabelVolume
        public var predictionVolume: LabelVolume
    }

    /// Reads both files (side by side), brings the prediction onto the reference grid and
    /// evaluates. A nil `prediction` is an empty prediction on the reference grid (every
    /// structure `missed`).
    public func run(reference: String, prediction: String?) throws -> Outcome {
        let start = DispatchTime.now()
        var ref: LabelVolume
        var pred: LabelVolume
        if let prediction {
            (ref, pred) = try NIfTIReader.readPair(
                reference: reference, prediction: prediction, maxVoxels: maxVoxels, threads: settings.threads)
        } else {
            ref = try NIfTIReader.read(path: reference, maxVoxels: maxVoxels, threads: settings.threads)
            pred = LabelVolume(
                grid: ref.grid, labels: [Int32](repeating: 0, count: ref.grid.voxelCount), path: "<no prediction>")
        }
        let readSeconds = Evaluator.seconds(since: start)
        let predictionDescription = pred.description
        switch geometry {
        case .resampled:
            pred = try Resample.nearest(pred, onto: ref.grid, threads: settings.threads)
        case .ignored:
            guard pred.grid.dims == ref.grid.dims else {
                throw GeometryError(
                    path: pred.path,
                    problem: "dims \(pred.grid.dims.map(String.init).joined(separator: "×")) differ from the "
                        + "reference's \(ref.grid.dims.map(String.init).joined(separator: "×")); "
                        + "--ignore-geometry needs equal dims")
            }
        case .checked:
            try GeometryCheck.check(
                reference: ref.grid, prediction: pred.grid, predictionPath: pred.path, toleranceMM: geometryToleranceMM)
        }
        if binary {
            ref.labels = ref.labels.map { $0 == 0 ? 0 : 1 }
            pred.labels = pred.labels.map { $0 == 0 ? 0 : 1 }
        }
        let evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: settings)
        return Outcome(
            evaluation: evaluation, reference: ref.description, prediction: predictionDescription,
            readSeconds: readSeconds, referenceVolume: ref, predictionVolume: pred)
    }
}

/// One case of a batch: its id and files (nil when a side is missing).
public struct BatchCase: Equatable, Sendable {
    public var id: String
    public var reference: String?
    public var prediction: String?

    public init(id: String, reference: String?, prediction: String?) {
        self.id = id
        self.reference = reference
        self.prediction = prediction
    }
}

public enum CasePairing {
    /// The case id of a file: its name without `.nii`, `.nii.gz`, `.hdr` or `.img(.gz)`.
    static func caseID(_ name: String) -> String? {
        for ending in [".nii.gz", ".nii", ".hdr.gz", ".hdr"] where name.lowercased().hasSuffix(ending) {
            return String(name.dropLast(ending.count))
        }
        return nil
    }

    /// Pairs the NIfTI files of two folders by case id, sorted by id. A reference without a
    /// prediction is a case with `prediction == nil`; a prediction without a reference is a
    /// warning.
    public static func pair(referenceFolder: String, predictionFolder: String) throws -> (
        cases: [BatchCase], warnings: [String]
    ) {
        let references = try files(in: referenceFolder)
        let predictions = try files(in: predictionFolder)
        var cases: [BatchCase] = []
        var warnings: [String] = []
        for (id, path) in references.sorted(by: { $0.key < $1.key }) {
            cases.append(BatchCase(id: id, reference: path, prediction: predictions[id]))
        }
        for (id, path) in predictions.sorted(by: { $0.key < $1.key }) where references[id] == nil {
            warnings.append("\(path): prediction without a reference (case \(id)); not evaluated")
        }
        return (cases, warnings)
    }

    static func files(in folder: String) throws -> [String: String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            throw InputError.missingFile(path: folder)
        }
        guard isDirectory.boolValue else { throw InputError.badFile(path: folder, reason: "not a folder") }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw InputError.badFile(path: folder, reason: "cannot list the folder")
        }
        var out: [String: String] = [:]
        for name in names.sorted() where !name.hasPrefix(".") {
            guard let id = caseID(name) else { continue }
            out[id] = (folder as NSString).appendingPathComponent(name)
        }
        return out
    }

    /// Reads `--pairs FILE`: CSV with a header naming the columns case, reference and
    /// prediction (in any order). Relative paths are taken from the CSV file's folder.
    public static func read(pairs path: String) throws -> [BatchCase] {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError.missingFile(path: path) }
        let records = RowTable.parseCSV(String(decoding: data, as: UTF8.self)).filter {
            !($0.count == 1 && $0[0].isEmpty)
        }
        guard let header = records.first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }),
            let caseColumn = header.firstIndex(of: "case"), let referenceColumn = header.firstIndex(of: "reference"),
            let predictionColumn = header.firstIndex(of: "prediction")
        else {
            throw InputError.badFile(path: path, reason: "expected a header with columns case,reference,prediction")
        }
        let folder = (path as NSString).deletingLastPathComponent
        func resolve(_ file: String) -> String? {
            let trimmed = file.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { return nil }
            return trimmed.hasPrefix("/") || folder.isEmpty
                ? trimmed : (folder as NSString).appendingPathComponent(trimmed)
        }
        var seen = Set<String>()
        var cases: [BatchCase] = []
        for (number, record) in records.dropFirst().enumerated() {
            guard record.count == header.count else {
                throw InputError.badFile(
                    path: path, reason: "line \(number + 2) has \(record.count) fields, expected \(header.count)")
            }
            let id = record[caseColumn].trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty, seen.insert(id).inserted else {
                throw InputError.badFile(path: path, reason: "line \(number + 2): case id '\(id)' is empty or repeated")
            }
            guard let reference = resolve(record[referenceColumn]) else {
                throw InputError.badFile(path: path, reason: "line \(number + 2): case \(id) has no reference")
            }
            cases.append(BatchCase(id: id, reference: reference, prediction: resolve(record[predictionColumn])))
        }
        return cases.sorted { $0.id < $1.id }
    }

    /// Shard `k` of `n` (1-based): the cases whose position in id order is k − 1 modulo n.
    public static func shard(_ cases: [BatchCase], k: Int, n: Int) -> [BatchCase] {
        precondition(n >= 1 && k >= 1 && k <= n, "shard must be K/N with 1 ≤ K ≤ N")
        return cases.sorted { $0.id < $1.id }.enumerated().filter { $0.offset % n == k - 1 }.map(\.element)
    }
}
