import Foundation

/// The lesion settings of a run (`maskeval lesions`, `batch --lesions`), recorded in its
/// settings so that rows made under other rules are never mixed.
public struct LesionRunSettings: Equatable, Sendable {
    public var matching: LesionMatching
    public var connectivity: Connectivity
    public var minimumVoxels: Int?
    public var minimumML: Double?
    public var penaltyMM: Double

    public init(
        matching: LesionMatching = .iou(threshold: 0.5, strict: false), connectivity: Connectivity = .twentySix,
        minimumVoxels: Int? = nil, minimumML: Double? = nil, penaltyMM: Double = BraTS2023.penaltyMM
    ) {
        self.matching = matching
        self.connectivity = connectivity
        self.minimumVoxels = minimumVoxels
        self.minimumML = minimumML
        self.penaltyMM = penaltyMM
    }

    public func engine(threads: Int) -> LesionSettings {
        LesionSettings(
            matching: matching, connectivity: connectivity, minimumVoxels: minimumVoxels, minimumML: minimumML,
            penaltyMM: penaltyMM, threads: threads)
    }

    public var json: JSONValue {
        .object([
            "match": .string(matching.description), "connectivity": .int(connectivity.rawValue),
            "minimum_voxels": minimumVoxels.map { .int($0) } ?? .null,
            "minimum_ml": minimumML.map { .number($0) } ?? .null, "hd95_penalty_mm": .number(penaltyMM),
        ])
    }

    init?(json value: JSONValue) {
        guard let text = value["match"]?.stringValue, let matching = try? LesionMatching.parse(text),
            let connectivity = value["connectivity"]?.intValue.flatMap(Connectivity.init(rawValue:)),
            let penalty = value["hd95_penalty_mm"]?.doubleValue
        else { return nil }
        self.init(
            matching: matching, connectivity: connectivity, minimumVoxels: value["minimum_voxels"]?.intValue,
            minimumML: value["minimum_ml"]?.doubleValue, penaltyMM: penalty)
    }
}

extension MetricColumn {
    /// The columns of a lesion run under `matching`, in report order: the aggregates
    /// `LesionEvaluator` gives each structure (IoU rules: panoptica's; BraTS: the challenge's).
    public static func lesion(_ matching: LesionMatching) -> [MetricColumn] {
        let keys: [MetricKey]
        switch matching {
        case .iou:
            keys = [
                .referenceLesions, .predictionLesions, .tp, .fp, .fn, .precision, .recall, .f1, .rq, .sq, .pq, .sqDice,
                .pqDice,
            ]
        case .brats2023:
            keys = [.referenceLesions, .predictionLesions, .tp, .fp, .fn, .leftOutLesions, .lesionDice, .lesionHD95]
        }
        return keys.map { MetricColumn($0) }
    }
}

extension RunSettings {
    /// A lesion run's structures: the regions (BraTS's WT, TC, ET by default under
    /// `brats2023` when neither `--regions`, `--labels` nor `--binary` is given), else
    /// `--binary` (every non-zero label as one structure, label 1), else `--labels`, else every
    /// non-zero label of either volume; the ignore label is never one. Row labels as for
    /// `compare`: regions by position, labels by value. A label's structure is called by its
    /// name in `names` (`--label-names`), else by its value.
    public func lesionStructures(reference: LabelVolume, prediction: LabelVolume, names: LabelNames = LabelNames())
        -> [(label: Int32, region: Region)]
    {
        if let regions { return regions.enumerated().map { (Int32($0 + 1), $1) } }
        func structure(_ label: Int32) -> (Int32, Region) {
            (label, Region(name: names[label] ?? String(label), labels: [label]))
        }
        if let labels { return labels.map(structure) }
        let present = Regions.labelsPresent([reference, prediction]).filter { $0 != ignoreLabel }
        if binary { return [(1, Region(name: names[1] ?? "1", labels: present))] }
        return present.map(structure)
    }

    /// `brats2023` without `--regions`, `--labels` or `--binary` evaluates BraTS's regions.
    public mutating func applyLesionDefaults() {
        if case .brats2023? = lesions?.matching, regions == nil, labels == nil, !binary { regions = Region.brats }
    }
}

extension Comparison {
    /// One case of a lesion run.
    public struct LesionResult: Sendable {
        public var evaluation: LesionEvaluation
        /// One row per structure: its lesion aggregates as values (`MetricColumn.lesion`).
        public var rows: [LabelRow]
        public var reference: LabelVolume.Description
        public var prediction: LabelVolume.Description
        public var readSeconds: Double
        /// The reference as evaluated (for the lesion map's header).
        public var referenceVolume: LabelVolume
        /// Reference voxels of the ignore label left out (`--ignore-label`; 0 without one).
        public var ignoredVoxels = 0
    }

    /// Reads a pair as `run` does and evaluates it lesion-wise under `settings.lesions`
    /// (which must be set): the ignore label, the structures, components and matching. A nil
    /// `prediction` is a case without a prediction file (rows `no_prediction` where the
    /// reference has lesions). `keepComponents`: keep the component labels for `lesionMap`.
    public func runLesions(
        reference: String, prediction: String?, caseID: String = "", keepComponents: Bool = false
    ) throws -> LesionResult {
        var (ref, pred, _, readSeconds, predictionDescription) = try load(
            reference: reference, prediction: prediction, image: nil)
        let ignored = settings.ignoreLabel.map { IgnoreLabel.apply($0, reference: &ref, prediction: &pred) } ?? 0
        let structures = settings.lesionStructures(reference: ref, prediction: pred, names: names)
        let lesionSettings = settings.lesions ?? LesionRunSettings()
        let evaluation = LesionEvaluator.evaluate(
            reference: ref, prediction: pred, structures: structures.map(\.region),
            settings: lesionSettings.engine(threads: threads), keepComponents: keepComponents)
        let names = settings.names(over: self.names)
        let rows = zip(structures, evaluation.structures).map { structure, result in
            LabelRow(
                lesions: result, caseID: caseID, label: structure.label, name: names[structure.label] ?? "",
                noPrediction: prediction == nil, diagonalMM: ref.grid.diagonalMM)
        }
        return LesionResult(
            evaluation: evaluation, rows: rows, reference: ref.description, prediction: predictionDescription,
            readSeconds: readSeconds, referenceVolume: ref, ignoredVoxels: ignored)
    }
}

extension LabelRow {
    /// A structure's lesion aggregates as a row. Status by lesion counts: `matched` with
    /// lesions on both sides, `missed` (or `no_prediction`) with reference lesions only,
    /// `spurious` with predicted lesions only, `absent` with none.
    init(
        lesions result: LesionStructureResult, caseID: String, label: Int32, name: String, noPrediction: Bool,
        diagonalMM: Double?
    ) {
        var values: [MetricColumn: Double] = [:]
        for (key, value) in result.aggregates {
            if let metric = MetricKey(rawValue: key), let value { values[MetricColumn(metric)] = value }
        }
        let reference = (result.aggregate("reference_lesions") ?? 0) > 0
        let prediction = (result.aggregate("prediction_lesions") ?? 0) > 0
        let status: RowStatus
        switch (reference, prediction) {
        case (true, true): status = .matched
        case (true, false): status = noPrediction ? .noPrediction : .missed
        case (false, true): status = .spurious
        case (false, false): status = .absent
        }
        self.init(caseID: caseID, label: label, name: name, status: status, values: values, diagonalMM: diagonalMM)
    }
}
