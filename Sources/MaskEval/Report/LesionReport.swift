import Foundation

/// The `lesions` report: per structure, its aggregates and one row per reference lesion and
/// per unmatched predicted lesion; as a table, CSV or JSON.
public struct LesionReport: Sendable {
    public var evaluation: LesionEvaluation
    public var referencePath: String
    public var predictionPath: String
    /// The run's settings (regions, ignore label), when known; the JSON records them.
    public var settings: RunSettings?
    public var gates: [Gate]
    public var gateFailures: [GateFailure]
    /// Each structure's row label (its value; a region's position), in structure order, when
    /// known: the JSON gives it beside the name, which `--label-names` or a region sets.
    public var labels: [Int32]?

    public static let schemaVersion = 1

    public init(
        evaluation: LesionEvaluation, referencePath: String, predictionPath: String, settings: RunSettings? = nil,
        gates: [Gate] = [], gateFailures: [GateFailure] = [], labels: [Int32]? = nil
    ) {
        self.labels = labels
        self.evaluation = evaluation
        self.referencePath = referencePath
        self.predictionPath = predictionPath
        self.settings = settings
        self.gates = gates
        self.gateFailures = gateFailures
    }

    /// The columns of a lesion row, in CSV order.
    public static let rowKeys = [
        "structure", "side", "id", "status", "counted", "voxels", "volume_ml", "centroid_x_mm", "centroid_y_mm",
        "centroid_z_mm", "matched_ids", "dice", "iou", "hd95_mm", "assd_mm",
    ]

    /// The aggregate keys of a structure, for gates (`"WT:lesion_dice>=0.8"`).
    public var aggregateKeys: [String] {
        var seen = Set<String>()
        return evaluation.structures.flatMap { $0.aggregates.map(\.key) }.filter { seen.insert($0).inserted }
    }

    static func cells(_ row: LesionRow) -> [String: String] {
        [
            "structure": row.structure, "side": row.side, "id": String(row.id), "status": row.status.rawValue,
            "counted": row.counted ? "true" : "false", "voxels": String(row.voxels),
            "volume_ml": exact(row.volumeML), "centroid_x_mm": exact(row.centroidMM.x),
            "centroid_y_mm": exact(row.centroidMM.y), "centroid_z_mm": exact(row.centroidMM.z),
            "matched_ids": row.matchedIDs.map(String.init).joined(separator: " "), "dice": exact(row.dice),
            "iou": exact(row.iou), "hd95_mm": exact(row.hd95MM), "assd_mm": exact(row.assdMM),
        ]
    }

    /// Shortest round-trip form; `inf` spelled out; empty for undefined.
    static func exact(_ value: Double?) -> String {
        guard let value else { return "" }
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return String(value)
    }

    static func fixed(_ value: Double?, _ digits: Int) -> String {
        guard let value else { return "-" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded() && abs(value) < 1e9 && digits == 0 { return String(Int(value)) }
        return String(format: "%.\(digits)f", value)
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One CSV table: a row per lesion (aggregate columns empty), then a row per structure
    /// with `side` = `structure` and only the structure name and its aggregates filled.
    public func csv() -> String {
        let aggregateKeys = self.aggregateKeys
        var lines = [(Self.rowKeys + aggregateKeys).joined(separator: ",")]
        for structure in evaluation.structures {
            for row in structure.rows {
                let cells = Self.cells(row)
                lines.append(
                    (Self.rowKeys.map { Self.csvField(cells[$0] ?? "") } + aggregateKeys.map { _ in "" }).joined(
                        separator: ","))
            }
        }
        for structure in evaluation.structures {
            var cells = Self.rowKeys.map { _ in "" }
            cells[0] = Self.csvField(structure.name)
            cells[1] = "structure"
            let values = aggregateKeys.map { key in Self.exact(structure.aggregate(key)) }
            lines.append((cells + values).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public func json() -> JSONValue {
        let settings = evaluation.settings
        var settingsObject: [String: JSONValue] = [
            "match": .string(settings.matching.description), "connectivity": .int(settings.connectivity.rawValue),
            "minimum_voxels": settings.minimumVoxels.map { .int($0) } ?? .null,
            "minimum_ml": settings.minimumML.map { .number($0) } ?? .null,
        ]
        if case .brats2023(let variant) = settings.matching {
            settingsObject["hd95_penalty_mm"] = .number(settings.penaltyMM)
            settingsObject["dilation_iterations"] = .int(variant.dilationIterations)
            settingsObject["left_out_at_most_mm3"] =
                settings.minimumVoxels == nil && settings.minimumML == nil ? .number(variant.maxLeftOutMM3) : .null
        }
        if let run = self.settings {
            settingsObject["regions"] = run.regions.map { .array($0.map(\.json)) } ?? .null
            settingsObject["ignore_label"] = run.ignoreLabel.map { .int(Int($0)) } ?? .null
            settingsObject["geometry_tolerance_mm"] = .number(run.geometryToleranceMM)
            settingsObject["labels"] = run.labels.map { .array($0.map { .int(Int($0)) }) } ?? .null
            settingsObject["binary"] = .bool(run.binary)
            settingsObject["maskeval_version"] = .string(MaskEvalVersion.string)
        }
        let structures = evaluation.structures.enumerated().map { index, structure -> JSONValue in
            var aggregates: [String: JSONValue] = [:]
            for (key, value) in structure.aggregates {
                if let value, value == value.rounded(), ["tp", "fp", "fn"].contains(key) || key.hasSuffix("_lesions") {
                    aggregates[key] = .int(Int(value))
                } else {
                    aggregates[key] = .finite(value)
                }
            }
            let lesions = structure.rows.map { row -> JSONValue in
                .object([
                    "side": .string(row.side), "id": .int(row.id), "status": .string(row.status.rawValue),
                    "counted": .bool(row.counted), "voxels": .int(row.voxels), "volume_ml": .number(row.volumeML),
                    "centroid_mm": .array([
                        .number(row.centroidMM.x), .number(row.centroidMM.y), .number(row.centroidMM.z),
                    ]),
                    "matched_ids": .array(row.matchedIDs.map { .int($0) }), "dice": .finite(row.dice),
                    "iou": .finite(row.iou), "hd95_mm": .finite(row.hd95MM), "assd_mm": .finite(row.assdMM),
                ])
            }
            var object: [String: JSONValue] = [
                "name": .string(structure.name), "aggregates": .object(aggregates), "lesions": .array(lesions),
            ]
            if let labels, labels.indices.contains(index) { object["label"] = .int(Int(labels[index])) }
            return .object(object)
        }
        var document: [String: JSONValue] = [
            "schema_version": .int(Self.schemaVersion), "maskeval_version": .string(MaskEvalVersion.string),
            "reference": .string(referencePath), "prediction": .string(predictionPath),
            "settings": .object(settingsObject), "structures": .array(structures),
        ]
        if !gates.isEmpty {
            document["gates"] = .array(gates.map { .string($0.text) })
            document["gate_failures"] = .array(gateFailures.map(\.json))
        }
        return .object(document)
    }

    /// Per structure: one line of aggregates, then the lesion rows.
    public func table() -> String {
        // Without a line, two empty volumes printed nothing at all, like a crash.
        if evaluation.structures.isEmpty { return "(no structures: neither volume has a non-zero label to evaluate)\n" }
        var out = ""
        for structure in evaluation.structures {
            let summary = structure.aggregates.map { key, value -> String in
                let isCount = ["tp", "fp", "fn"].contains(key) || key.hasSuffix("_lesions")
                return "\(key) \(Self.fixed(value, isCount ? 0 : 4))"
            }
            out += "\(structure.name): " + summary.joined(separator: ", ") + "\n"
            if structure.rows.isEmpty {
                out += "  (no lesions)\n\n"
                continue
            }
            let headers = [
                "side", "id", "status", "voxels", "vol_ml", "centroid_mm", "matched", "dice", "iou", "hd95_mm",
                "assd_mm",
            ]
            var rows: [[String]] = []
            for row in structure.rows {
                let c = row.centroidMM
                rows.append([
                    row.side == "reference" ? "ref" : "pred", String(row.id),
                    row.status.rawValue + (row.counted ? "" : "*"), String(row.voxels), Self.fixed(row.volumeML, 3),
                    String(format: "%.1f,%.1f,%.1f", c.x, c.y, c.z),
                    row.matchedIDs.isEmpty ? "-" : row.matchedIDs.map(String.init).joined(separator: " "),
                    Self.fixed(row.dice, 4), Self.fixed(row.iou, 4), Self.fixed(row.hd95MM, 3),
                    Self.fixed(row.assdMM, 3),
                ])
            }
            var widths = headers.map(\.count)
            for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
            func line(_ cells: [String]) -> String {
                var text =
                    "  "
                    + cells.enumerated().map { i, cell in
                        let pad = String(repeating: " ", count: widths[i] - cell.count)
                        return i <= 2 || i == 6 ? cell + pad : pad + cell
                    }.joined(separator: "  ")
                while text.hasSuffix(" ") { text.removeLast() }
                return text
            }
            out += line(headers) + "\n" + rows.map(line).joined(separator: "\n") + "\n"
            if structure.rows.contains(where: { !$0.counted }) {
                out += "  * left out by the volume threshold\n"
            }
            out += "\n"
        }
        return out
    }
}
