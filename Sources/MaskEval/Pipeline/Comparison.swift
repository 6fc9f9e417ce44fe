import Foundation

/// How a prediction's grid is brought onto the reference's.
public enum GeometryMode: String, Sendable, CaseIterable {
    /// Grids must match (METRICS.md); a mismatch is an error.
    case checked
    /// Nearest-neighbour resampling of the prediction onto the reference grid.
    case resampled
    /// Arrays compared as they are, with the reference spacing.
    case ignored
}

/// Everything `compare` does to one pair of files, for the command and for each batch case:
/// read both (side by side), bring the prediction onto the reference grid, evaluate, and turn
/// the evaluation into rows.
public struct Comparison: Sendable {
    public var settings: RunSettings
    public var names: LabelNames
    public var threads: Int
    public var maxVoxels: Int?
    /// Keep boundary voxels and distances for maps and pictures.
    public var keepDetail = false

    public init(settings: RunSettings, names: LabelNames = LabelNames(), threads: Int, maxVoxels: Int? = nil) {
        self.settings = settings
        self.names = names
        self.threads = threads
        self.maxVoxels = maxVoxels
    }

    public struct Result: Sendable {
        public var evaluation: Evaluation
        public var rows: [LabelRow]
        public var reference: LabelVolume.Description
        public var prediction: LabelVolume.Description
        public var readSeconds: Double
        /// The volumes as evaluated (the prediction on the reference grid).
        public var referenceVolume: LabelVolume
        public var predictionVolume: LabelVolume
        /// The intensity image for pictures, checked to lie on the reference grid.
        public var image: IntensityVolume?
    }

    /// Reads and evaluates one pair. A nil `prediction` is a case without a prediction file:
    /// an empty prediction on the reference grid whose rows say `no_prediction`. An `image`
    /// is read with the pair and must lie on the reference grid.
    public func run(reference: String, prediction: String?, caseID: String = "", image: String? = nil) throws
        -> Result
    {
        var (ref, pred, intensity, readSeconds, predictionDescription) = try load(
            reference: reference, prediction: prediction, image: image)
        let evaluation = Self.evaluate(&ref, &pred, settings: settings, threads: threads, keepDetail: keepDetail)
        let rows = LabelRow.rows(
            evaluation, caseID: caseID, names: settings.names(over: names), noPrediction: prediction == nil)
        return Result(
            evaluation: evaluation, rows: rows, reference: ref.description, prediction: predictionDescription,
            readSeconds: readSeconds, referenceVolume: ref, predictionVolume: pred, image: intensity)
    }

    /// Reads a pair (and the image) and brings the prediction onto the reference grid.
    func load(reference: String, prediction: String?, image: String?) throws -> (
        LabelVolume, LabelVolume, IntensityVolume?, Double, LabelVolume.Description
    ) {
        let start = DispatchTime.now()
        var ref: LabelVolume
        var pred: LabelVolume
        if let prediction {
            (ref, pred) = try NIfTIReader.readPair(
                reference: reference, prediction: prediction, maxVoxels: maxVoxels, threads: threads)
        } else {
            ref = try NIfTIReader.read(path: reference, maxVoxels: maxVoxels, threads: threads)
            pred = LabelVolume(grid: ref.grid, storage: .zeros(count: ref.grid.voxelCount), path: "<no prediction>")
        }
        let intensity = try image.map { try Self.readImage($0, onto: ref.grid, maxVoxels: maxVoxels) }
        let readSeconds = Evaluator.seconds(since: start)
        let predictionDescription = pred.description
        switch settings.geometry {
        case .resampled:
            pred = try Resample.nearest(pred, onto: ref.grid, threads: threads)
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
                reference: ref.grid, prediction: pred.grid, predictionPath: pred.path,
                toleranceMM: settings.geometryToleranceMM)
        }
        return (ref, pred, intensity, readSeconds, predictionDescription)
    }

    /// Reads an intensity image that must lie on `grid` (pictures are drawn on the reference
    /// grid; resample the image onto it first if it does not).
    static func readImage(_ path: String, onto grid: Grid, maxVoxels: Int?) throws -> IntensityVolume {
        let image = try NIfTIReader.readIntensities(path: path, maxVoxels: maxVoxels)
        do {
            try GeometryCheck.check(
                reference: grid, prediction: image.grid, predictionPath: path,
                toleranceMM: GeometryCheck.defaultToleranceMM)
        } catch let error as GeometryError {
            throw GeometryError(
                path: path,
                problem:
                    "the --image is not on the reference grid: \(error.problem); resample it onto the reference first",
                suggestsWaysOut: false)
        }
        return image
    }
}

extension LabelVolume {
    /// What a report says about an input file.
    public struct Description: Sendable {
        public var path: String
        public var grid: Grid
        /// What scl_slope/scl_inter did to the stored labels (`NIfTIHeader.labelScaling`).
        public var labelScaling: String?

        public init(path: String, grid: Grid, labelScaling: String? = nil) {
            self.path = path
            self.grid = grid
            self.labelScaling = labelScaling
        }
    }

    public var description: Description { Description(path: path, grid: grid, labelScaling: header.labelScaling) }
}
