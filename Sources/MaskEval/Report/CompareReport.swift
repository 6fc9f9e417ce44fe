/// The report of `maskeval compare` as table, CSV and JSON: renderings of one case's rows
/// and their summary. Every number says which definition it follows: the presets are in the
/// settings, and each further preset's surface metrics are columns named `PRESET.KEY`.
public struct CompareReport: Sendable {
    public var rows: [LabelRow]
    public var settings: RunSettings
    public var reference: LabelVolume.Description
    public var prediction: LabelVolume.Description
    public var gates: [Gate]
    public var gateFailures: [GateFailure]

    public init(
        rows: [LabelRow], settings: RunSettings, reference: LabelVolume.Description,
        prediction: LabelVolume.Description, gates: [Gate] = [], gateFailures: [GateFailure] = []
    ) {
        self.rows = rows
        self.settings = settings
        self.reference = reference
        self.prediction = prediction
        self.gates = gates
        self.gateFailures = gateFailures
    }

    public var summary: Summary { Summary(rows: rows, settings: settings) }

    // MARK: JSON

    public func json() -> JSONValue {
        let columns = settings.columns
        let labels: [JSONValue] = rows.map { row in
            var object: [String: JSONValue] = [
                "label": .int(Int(row.label)),
                "name": row.name.isEmpty ? .null : .string(row.name),
                "status": .string(row.status.rawValue),
            ]
            for column in columns { object[settings.columnName(column)] = RowFiles.value(row.values[column], column) }
            return .object(object)
        }
        var document: [String: JSONValue] = [
            "schema_version": .int(RowFiles.schemaVersion),
            "maskeval_version": .string(MaskEvalVersion.string),
            "reference": Self.describe(reference),
            "prediction": Self.describe(prediction),
            "settings": settings.json,
            "labels": .array(labels),
            "summary": SummaryReport.aggregates(summary, rows: rows),
        ]
        if !gates.isEmpty {
            document["gates"] = .array(gates.map { .string($0.text) })
            document["gate_failures"] = .array(gateFailures.map(\.json))
        }
        return .object(document)
    }

    static func describe(_ volume: LabelVolume.Description) -> JSONValue {
        let grid = volume.grid
        return .object([
            "path": .string(volume.path),
            "dims": .array(grid.dims.map { .int($0) }),
            "spacing_mm": .array([grid.spacingMM.x, grid.spacingMM.y, grid.spacingMM.z].map { .number($0) }),
            "affine": InfoReport.affineJSON(grid.affine),
        ])
    }

    // MARK: CSV

    public func csv() -> String {
        let columns = settings.columns
        var lines = [(["label", "name", "status"] + columns.map(settings.columnName)).joined(separator: ",")]
        for row in rows {
            let cells =
                [String(row.label), CSV.field(row.name), row.status.rawValue]
                + columns.map { RowFiles.cell(row.values[$0], count: $0.key.isCount) }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: table

    /// Names longer than 32 characters are cut in tables (CSV and JSON keep them whole);
    /// control characters are shown escaped.
    static func shortName(_ name: String) -> String {
        let safe = Escape.terminal(name)
        return safe.count <= 32 ? safe : String(safe.prefix(31)) + "…"
    }

    public func table() -> String {
        let q = Format.compact(settings.percentile)
        let tau = Format.compact(settings.toleranceMM)
        let presets = settings.presets
        var lines: [String] = []
        lines.append("Reference   \(Escape.terminal(reference.path))")
        lines.append(
            "Prediction  \(Escape.terminal(prediction.path))"
                + (settings.geometry == .checked ? "" : " (\(settings.geometry.rawValue))"))
        lines.append(
            "Definitions \(presets.count > 1 ? "presets " + presets.map(\.rawValue).joined(separator: ", ") : settings.primary.rawValue + " preset"); HD\(q) = percentile \(q); NSD at τ = \(tau) mm"
                + (settings.toleranceByLabel.isEmpty ? "" : " (per-label tolerances set)"))
        lines.append("")
        for preset in presets {
            let own: Compat? = preset == settings.primary ? nil : preset
            var columns: [(String, TextTable.Alignment)] = [("label", .right), ("name", .left), ("status", .left)]
            if own == nil { columns += [("ref_ml", .right), ("pred_ml", .right), ("dice", .right)] }
            columns += [("hd\(q)_mm", .right), ("assd_mm", .right), ("nsd@\(tau)mm", .right), ("hd_mm", .right)]
            if preset == .meshmetrics { columns.append(("biou@\(tau)mm", .right)) }
            var table = TextTable(columns)
            for row in rows {
                func value(_ key: MetricKey) -> Double? { row.values[MetricColumn(key, preset: key.isSurface ? own : nil)] }
                var cells = [String(row.label), Self.shortName(row.name), row.status.rawValue]
                if own == nil {
                    cells += [
                        Format.fixed(value(.referenceVolumeML), 3), Format.fixed(value(.predictionVolumeML), 3),
                        Format.fixed(value(.dice), 4),
                    ]
                }
                cells += [
                    Format.fixed(value(.hdPercentile), 3), Format.fixed(value(.assd), 3), Format.fixed(value(.nsd), 4),
                    Format.fixed(value(.hausdorff), 3),
                ]
                if preset == .meshmetrics { cells.append(Format.fixed(value(.boundaryIoU), 4)) }
                table.add(cells)
            }
            if presets.count > 1 { lines.append("Preset \(preset.rawValue):") }
            lines.append(table.rendered())
            lines.append("")
        }
        let counts = Summary.statusCounts(rows)
        let countText = RowStatus.allCases.filter { $0.isEvaluated && $0 != .noPrediction }.map {
            "\(counts[$0] ?? 0) \($0.rawValue)"
        }.joined(separator: ", ")
        var penalty = ""
        switch settings.penalty {
        case .none: break
        case .millimetres(let mm): penalty = "; +inf counted as \(Format.compact(mm)) mm"
        case .diagonal: penalty = "; +inf counted as the image diagonal"
        }
        lines.append("Summary over \(rows.count) labels (\(countText))\(penalty)")
        var summaryTable = TextTable([
            ("metric", .left), ("mean", .right), ("median", .right), ("min", .right), ("max", .right), ("n", .right),
            ("left_out", .right),
        ])
        for (column, a) in summary.statistics(of: rows) {
            summaryTable.add([
                settings.columnName(column), Format.fixed(a.mean, 4), Format.fixed(a.median, 4), Format.fixed(a.min, 4),
                Format.fixed(a.max, 4), String(a.n), String(a.leftOut),
            ])
        }
        lines.append(summaryTable.rendered())
        return lines.joined(separator: "\n") + "\n"
    }
}
