/// The per-label report of `maskeval compare` as table, CSV and JSON. Every number says
/// which definition it follows: the preset is in the settings and, with `--compat all`, per
/// label under `presets`.
public struct CompareReport: Sendable {
    public var evaluation: Evaluation
    public var reference: LabelVolume.Description
    public var prediction: LabelVolume.Description
    public var names: LabelNames
    /// Replaces +∞ in aggregates only (`--penalty-mm`).
    public var penaltyMM: Double?
    /// How the prediction's geometry was treated: "checked", "resampled" or "ignored".
    public var geometry: String
    public var binary: Bool

    public init(
        evaluation: Evaluation, reference: LabelVolume.Description, prediction: LabelVolume.Description,
        names: LabelNames = LabelNames(), penaltyMM: Double? = nil, geometry: String = "checked", binary: Bool = false
    ) {
        self.evaluation = evaluation
        self.reference = reference
        self.prediction = prediction
        self.names = names
        self.penaltyMM = penaltyMM
        self.geometry = geometry
        self.binary = binary
    }

    var settings: EvaluationSettings { evaluation.settings }
    var primary: Compat { settings.presets.first ?? .monai }

    /// `hd95_mm`, or `hdQ_mm` for another percentile.
    public var percentileKey: String { Self.percentileKey(settings.percentile) }

    public static func percentileKey(_ q: Double) -> String {
        let text = q == q.rounded() ? String(Int(q)) : String(q)
        return "hd\(text)_mm"
    }

    /// The label keys in their fixed order (CSV columns, JSON objects).
    public var labelKeys: [String] {
        [
            "label", "name", "status", "reference_voxels", "prediction_voxels", "intersection_voxels",
            "reference_volume_ml", "prediction_volume_ml", "volume_difference_ml", "relative_volume_difference",
            "dice", "jaccard",
        ] + surfaceKeys
    }

    var surfaceKeys: [String] {
        [
            "hausdorff_mm", percentileKey, "assd_mm", "masd_mm", "asd_reference_to_prediction_mm",
            "asd_prediction_to_reference_mm", "nsd",
        ]
    }

    /// The aggregated keys of the summary.
    var summaryKeys: [String] {
        [
            "reference_volume_ml", "prediction_volume_ml", "volume_difference_ml", "relative_volume_difference",
            "dice", "jaccard",
        ] + surfaceKeys
    }

    static func surfaceValues(_ s: SurfaceMetrics?) -> [Double?] {
        guard let s else { return [nil, nil, nil, nil, nil, nil, nil] }
        return [
            s.hausdorffMM, s.hdPercentileMM, s.assdMM, s.masdMM, s.asdReferenceToPredictionMM,
            s.asdPredictionToReferenceMM, s.nsd,
        ]
    }

    /// The numeric values of a label row, keyed as `labelKeys` (without label, name, status).
    func values(_ r: LabelResult) -> [String: Double?] {
        var out: [String: Double?] = [
            "reference_voxels": Double(r.referenceVoxels), "prediction_voxels": Double(r.predictionVoxels),
            "intersection_voxels": Double(r.intersectionVoxels), "reference_volume_ml": r.referenceVolumeML,
            "prediction_volume_ml": r.predictionVolumeML, "volume_difference_ml": r.volumeDifferenceML,
            "relative_volume_difference": r.relativeVolumeDifference, "dice": r.dice, "jaccard": r.jaccard,
        ]
        for (key, value) in zip(surfaceKeys, Self.surfaceValues(r.surface[primary])) { out[key] = value }
        return out
    }

    // MARK: summary

    /// Mean, median, min and max over finite values, with the count used and the count
    /// left out (non-finite or undefined); with `penaltyMM`, +∞ counts as that value.
    public struct Aggregate: Equatable, Sendable {
        public var mean: Double?
        public var median: Double?
        public var min: Double?
        public var max: Double?
        public var n: Int
        public var leftOut: Int
    }

    public static func aggregate(_ values: [Double?], penalty: Double?) -> Aggregate {
        let s = BatchSummary.statistics(values, penalty: penalty)
        return Aggregate(mean: s.mean, median: s.median, min: s.min, max: s.max, n: s.n, leftOut: s.leftOut)
    }

    public var statusCounts: [LabelStatus: Int] {
        var counts: [LabelStatus: Int] = [:]
        for status in LabelStatus.allCases { counts[status] = 0 }
        for r in evaluation.labels { counts[r.status, default: 0] += 1 }
        return counts
    }

    public func summary() -> [(String, Aggregate)] {
        let rows = evaluation.labels.map(values)
        return summaryKeys.map { key in (key, Self.aggregate(rows.map { $0[key] ?? nil }, penalty: penaltyMM)) }
    }

    // MARK: JSON

    public func json() -> JSONValue {
        var settingsObject: [String: JSONValue] = [
            "compat": .string(settings.presets.count > 1 ? "all" : primary.rawValue),
            "percentile": .number(settings.percentile),
            "tolerance_mm": .number(settings.toleranceMM),
            "penalty_mm": JSONValue.finite(penaltyMM),
            "geometry": .string(geometry),
            "binary": .bool(binary),
            "labels": settings.labels.map { .array($0.map { .int(Int($0)) }) } ?? .null,
        ]
        if !settings.toleranceByLabel.isEmpty {
            settingsObject["tolerance_mm_by_label"] = .object(
                Dictionary(uniqueKeysWithValues: settings.toleranceByLabel.map { (String($0.key), .number($0.value)) }))
        }
        let labels: [JSONValue] = evaluation.labels.map { r in
            var object: [String: JSONValue] = [
                "label": .int(Int(r.label)),
                "name": names[r.label].map { .string($0) } ?? .null,
                "status": .string(r.status.rawValue),
            ]
            for (key, value) in values(r) {
                if key.hasSuffix("_voxels"), let value {
                    object[key] = .int(Int(value))
                } else {
                    object[key] = .finite(value)
                }
            }
            if settings.presets.count > 1 {
                var presets: [String: JSONValue] = [:]
                for preset in settings.presets {
                    presets[preset.rawValue] = .object(
                        Dictionary(
                            uniqueKeysWithValues: zip(
                                surfaceKeys, Self.surfaceValues(r.surface[preset]).map(JSONValue.finite))))
                }
                object["presets"] = .object(presets)
            }
            return .object(object)
        }
        var metrics: [String: JSONValue] = [:]
        for (key, a) in summary() {
            metrics[key] = .object([
                "mean": .finite(a.mean), "median": .finite(a.median), "min": .finite(a.min), "max": .finite(a.max),
                "n": .int(a.n), "left_out": .int(a.leftOut),
            ])
        }
        let counts = statusCounts
        return .object([
            "schema_version": .int(1),
            "maskeval_version": .string(MaskEvalVersion.string),
            "reference": reference.json(),
            "prediction": prediction.json(),
            "settings": .object(settingsObject),
            "labels": .array(labels),
            "summary": .object([
                "status_counts": .object(
                    Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, .int($0.value)) })),
                "metrics": .object(metrics),
            ]),
        ])
    }

    // MARK: CSV

    public func csv() -> String {
        var lines = [labelKeys.joined(separator: ",")]
        for r in evaluation.labels {
            let v = values(r)
            let cells = labelKeys.map { key -> String in
                switch key {
                case "label": return String(r.label)
                case "name": return Self.csvField(names[r.label] ?? "")
                case "status": return r.status.rawValue
                default:
                    guard let value = v[key] ?? nil else { return "" }
                    return key.hasSuffix("_voxels") ? String(Int(value)) : Format.exact(value)
                }
            }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Names longer than 32 characters are cut in the table (CSV and JSON keep them whole).
    static func shortName(_ name: String) -> String {
        name.count <= 32 ? name : String(name.prefix(31)) + "…"
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: table

    public func table() -> String {
        let q = Format.compact(settings.percentile)
        let tau = Format.compact(settings.toleranceMM)
        var lines: [String] = []
        lines.append("Reference   \(reference.path)")
        lines.append("Prediction  \(prediction.path)" + (geometry == "checked" ? "" : " (\(geometry))"))
        lines.append(
            "Definitions \(settings.presets.count > 1 ? "presets " + settings.presets.map(\.rawValue).joined(separator: ", ") : primary.rawValue + " preset"); HD\(q) = percentile \(q); NSD at τ = \(tau) mm"
                + (settings.toleranceByLabel.isEmpty ? "" : " (per-label tolerances set)"))
        lines.append("")
        for preset in settings.presets {
            var columns: [(String, TextTable.Alignment)] = [("label", .right), ("name", .left), ("status", .left)]
            if preset == settings.presets.first {
                columns += [("ref_ml", .right), ("pred_ml", .right), ("dice", .right)]
            }
            columns += [("hd\(q)_mm", .right), ("assd_mm", .right), ("nsd@\(tau)mm", .right), ("hd_mm", .right)]
            var table = TextTable(columns)
            for r in evaluation.labels {
                let s = r.surface[preset]
                var row = [String(r.label), Self.shortName(names[r.label] ?? ""), r.status.rawValue]
                if preset == settings.presets.first {
                    row += [
                        Format.fixed(r.referenceVolumeML, 3), Format.fixed(r.predictionVolumeML, 3),
                        Format.fixed(r.dice, 4),
                    ]
                }
                row += [
                    Format.fixed(s?.hdPercentileMM, 3), Format.fixed(s?.assdMM, 3), Format.fixed(s?.nsd, 4),
                    Format.fixed(s?.hausdorffMM, 3),
                ]
                table.add(row)
            }
            if settings.presets.count > 1 { lines.append("Preset \(preset.rawValue):") }
            lines.append(table.rendered())
            lines.append("")
        }
        let counts = statusCounts
        let countText = LabelStatus.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        lines.append(
            "Summary over \(evaluation.labels.count) labels (\(countText))"
                + (penaltyMM.map { "; +inf counted as \(Format.compact($0)) mm" } ?? ""))
        var summaryTable = TextTable([
            ("metric", .left), ("mean", .right), ("median", .right), ("min", .right), ("max", .right), ("n", .right),
            ("left_out", .right),
        ])
        for (key, a) in summary() {
            summaryTable.add([
                key, Format.fixed(a.mean, 4), Format.fixed(a.median, 4), Format.fixed(a.min, 4), Format.fixed(a.max, 4),
                String(a.n), String(a.leftOut),
            ])
        }
        lines.append(summaryTable.rendered())
        return lines.joined(separator: "\n") + "\n"
    }
}

extension LabelVolume {
    /// What a report says about an input file.
    public struct Description: Sendable {
        public var path: String
        public var grid: Grid
        public func json() -> JSONValue {
            .object([
                "path": .string(path),
                "dims": .array(grid.dims.map { .int($0) }),
                "spacing_mm": .array([grid.spacingMM.x, grid.spacingMM.y, grid.spacingMM.z].map { .number($0) }),
                "affine": InfoReport.affineJSON(grid.affine),
            ])
        }
    }

    public var description: Description { Description(path: path, grid: grid) }
}
