/// What +∞ distances count as in aggregates (`--penalty-mm`); rows always keep +∞.
public enum Penalty: Equatable, Sendable {
    /// +∞ is left out of aggregates and counted in `left_out`.
    case none
    case millimetres(Double)
    /// The diagonal of each case's reference image (its own grid).
    case diagonal

    /// `"diagonal"` or a non-negative number of mm.
    public init?(text: String) {
        if text == "diagonal" {
            self = .diagonal
        } else if let value = Double(text), value >= 0, value.isFinite {
            self = .millimetres(value)
        } else {
            return nil
        }
    }

    /// The value +∞ counts as for a case whose reference diagonal is `diagonalMM`.
    public func value(diagonalMM: Double?) -> Double? {
        switch self {
        case .none: return nil
        case .millimetres(let mm): return mm
        case .diagonal: return diagonalMM
        }
    }

    public var json: JSONValue {
        switch self {
        case .none: return .null
        case .millimetres(let mm): return .number(mm)
        case .diagonal: return .string("diagonal")
        }
    }

    init(json: JSONValue?) {
        if let text = json?.stringValue, text == "diagonal" {
            self = .diagonal
        } else if let mm = json?.doubleValue {
            self = .millimetres(mm)
        } else {
            self = .none
        }
    }
}

/// How `absent` rows (a structure in neither volume) enter aggregates (`--absent`).
public enum AbsentConvention: String, CaseIterable, Sendable {
    /// MaskEval's and MONAI's: Dice 1, distances 0, NSD 1 (METRICS.md).
    case perfect
    /// nnU-Net's: the structure's values are NaN for that case and left out.
    case nan
}

/// The bootstrap of the batch summary's confidence intervals (`--bootstrap N`, `--seed S`):
/// recorded with the rows so the intervals can be made again byte for byte.
public struct BootstrapSettings: Equatable, Sendable {
    /// Resamples; 0 switches the intervals off.
    public var resamples: Int
    public var seed: UInt64

    public init(resamples: Int = Bootstrap.defaultResamples, seed: UInt64 = Bootstrap.defaultSeed) {
        self.resamples = resamples
        self.seed = seed
    }

    /// The largest seed: 2⁵³ − 1, so every JSON reader keeps it exact.
    public static let maximumSeed: UInt64 = (1 << 53) - 1

    public var json: JSONValue { .object(["resamples": .int(resamples), "seed": .int(Int(seed))]) }

    init?(json value: JSONValue?) {
        guard let resamples = value?["resamples"]?.intValue, resamples >= 0, let seed = value?["seed"]?.intValue,
            seed >= 0
        else { return nil }
        self.init(resamples: resamples, seed: UInt64(seed))
    }
}

/// Every setting that changes a number, recorded in each result (compare JSON, batch rows
/// and summary) so that results made with other settings are never mixed.
public struct RunSettings: Equatable, Sendable {
    public var presets: [Compat] = [.monai]
    public var percentile: Double = 95
    public var toleranceMM: Double = 1
    public var toleranceByLabel: [Int32: Double] = [:]
    /// Labels asked for; nil: every non-zero label in either volume.
    public var labels: [Int32]?
    public var penalty: Penalty = .none
    public var absent: AbsentConvention = .perfect
    public var binary = false
    public var geometry: GeometryMode = .checked
    public var geometryToleranceMM = GeometryCheck.defaultToleranceMM
    /// Where the cases came from: two folders, a pairs file, or two files (compare).
    public var inputs: [String: String] = [:]
    /// The summary's confidence intervals (batch and merge); nil: none (compare).
    public var bootstrap: BootstrapSettings?
    /// `--regions`: structures are these unions of labels instead of labels (Structures.swift).
    public var regions: [Region]?
    /// `--ignore-label`: reference voxels of this label count in no metric (Structures.swift).
    public var ignoreLabel: Int32?
    /// `--lesions` (and `maskeval lesions`): rows are lesion aggregates (LesionRun.swift).
    public var lesions: LesionRunSettings?

    public init() {}

    public var primary: Compat { presets.first ?? .monai }

    /// The columns of every row evaluated with these settings.
    public var columns: [MetricColumn] {
        lesions.map { MetricColumn.lesion($0.matching) } ?? MetricColumn.all(presets: presets)
    }

    public func columnName(_ column: MetricColumn) -> String { column.name(percentile: percentile) }

    /// The settings the engine needs.
    public func evaluation(threads: Int) -> EvaluationSettings {
        EvaluationSettings(
            labels: labels, percentile: percentile, toleranceMM: toleranceMM, toleranceByLabel: toleranceByLabel,
            presets: presets, threads: threads)
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "compat": .string(presets.count > 1 ? "all" : primary.rawValue),
            "presets": .array(presets.map { .string($0.rawValue) }),
            "percentile": .number(percentile),
            "tolerance_mm": .number(toleranceMM),
            "penalty_mm": penalty.json,
            "absent": .string(absent.rawValue),
            "geometry": .string(geometry.rawValue),
            "geometry_tolerance_mm": .number(geometryToleranceMM),
            "binary": .bool(binary),
            "labels": labels.map { .array($0.map { .int(Int($0)) }) } ?? .null,
            "maskeval_version": .string(MaskEvalVersion.string),
        ]
        if !toleranceByLabel.isEmpty {
            object["tolerance_mm_by_label"] = .object(
                Dictionary(uniqueKeysWithValues: toleranceByLabel.map { (String($0.key), .number($0.value)) }))
        }
        if !inputs.isEmpty { object["inputs"] = .object(inputs.mapValues { .string($0) }) }
        if let bootstrap { object["bootstrap"] = bootstrap.json }
        object["regions"] = regions.map { .array($0.map(\.json)) } ?? .null
        object["ignore_label"] = ignoreLabel.map { .int(Int($0)) } ?? .null
        if let lesions { object["lesions"] = lesions.json }
        return .object(object)
    }

    /// Reads settings written by `json`; nil when `value` is not such an object.
    public init?(json value: JSONValue?) {
        guard let value, case .object = value, let presets = value["presets"]?.arrayValue else { return nil }
        self.presets = presets.compactMap { $0.stringValue.flatMap(Compat.init(rawValue:)) }
        guard !self.presets.isEmpty, let q = value["percentile"]?.doubleValue,
            let tolerance = value["tolerance_mm"]?.doubleValue
        else { return nil }
        percentile = q
        toleranceMM = tolerance
        penalty = Penalty(json: value["penalty_mm"])
        absent = value["absent"]?.stringValue.flatMap(AbsentConvention.init(rawValue:)) ?? .perfect
        geometry = value["geometry"]?.stringValue.flatMap(GeometryMode.init(rawValue:)) ?? .checked
        geometryToleranceMM = value["geometry_tolerance_mm"]?.doubleValue ?? GeometryCheck.defaultToleranceMM
        binary = value["binary"] == .bool(true)
        labels = value["labels"]?.arrayValue?.compactMap { $0.intValue.flatMap { Int32(exactly: $0) } }
        for (key, mm) in value["tolerance_mm_by_label"]?.objectValue ?? [:] {
            if let label = Int32(key), let mm = mm.doubleValue { toleranceByLabel[label] = mm }
        }
        for (key, text) in value["inputs"]?.objectValue ?? [:] { inputs[key] = text.stringValue ?? "" }
        bootstrap = BootstrapSettings(json: value["bootstrap"])
        regions = value["regions"]?.arrayValue.map { $0.compactMap(Region.init(json:)) }
        ignoreLabel = value["ignore_label"]?.intValue.flatMap { Int32(exactly: $0) }
        if let object = value["lesions"], object != .null {
            guard let lesions = LesionRunSettings(json: object) else { return nil }
            self.lesions = lesions
        }
    }

    /// Every setting that differs from `other` (version aside), for merge: each as
    /// "KEY MINE vs OTHERS" in the keys of `json` (`tolerance_mm 2.0 vs 1.0`), so the one a user
    /// changed is named among the others, not hidden behind the first.
    public func differences(from other: RunSettings) -> [String] {
        Self.describeDifferences(keys: Self.valueKeys + ["inputs", "bootstrap"], json, other.json)
    }

    /// Every setting that differs from `other` and changes a row's values (inputs, the
    /// bootstrap and the version aside), for `diff`, which pairs rows of two runs.
    public func valueDifferences(from other: RunSettings) -> [String] {
        Self.describeDifferences(keys: Self.valueKeys, json, other.json)
    }

    /// The `json` keys of the settings that change a row's values, in the order differences
    /// are named (`compat` is `presets` again).
    static let valueKeys = [
        "presets", "percentile", "tolerance_mm", "tolerance_mm_by_label", "labels", "penalty_mm", "absent", "binary",
        "geometry", "geometry_tolerance_mm", "regions", "ignore_label", "lesions",
    ]

    static func describeDifferences(keys: [String], _ mine: JSONValue, _ others: JSONValue) -> [String] {
        func text(_ value: JSONValue?) -> String {
            guard let value, value != .null else { return "none" }
            // One line: the rendering's lines joined (strings keep their escapes).
            return value.stringValue
                ?? value.rendered().split(separator: "\n").map { $0.drop { $0 == " " } }.joined()
        }
        return keys.compactMap { key in
            let (a, b) = (mine[key] ?? .null, others[key] ?? .null)
            return a == b ? nil : "\(key) \(text(a)) vs \(text(b))"
        }
    }
}
