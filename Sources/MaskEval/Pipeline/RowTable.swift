import Foundation

/// One row of a batch: a structure of a case, or one `error` row for a case that could not
/// be evaluated. Values are keyed like the compare report; a missing key is undefined
/// (null), +∞ is kept as such.
public struct ResultRow: Equatable, Sendable {
    public var caseID: String
    public var label: Int32?
    public var name: String
    /// A `LabelStatus` raw value, or "error".
    public var status: String
    public var values: [String: Double]
    public var error: String

    public init(
        caseID: String, label: Int32?, name: String, status: String, values: [String: Double] = [:], error: String = ""
    ) {
        self.caseID = caseID
        self.label = label
        self.name = name
        self.status = status
        self.values = values
        self.error = error
    }

    /// The metric keys of rows for percentile `q`, in column order.
    public static func metricKeys(percentile q: Double) -> [String] {
        [
            "reference_voxels", "prediction_voxels", "intersection_voxels", "reference_volume_ml",
            "prediction_volume_ml", "volume_difference_ml", "relative_volume_difference", "dice", "jaccard",
            "hausdorff_mm", CompareReport.percentileKey(q), "assd_mm", "masd_mm", "asd_reference_to_prediction_mm",
            "asd_prediction_to_reference_mm", "nsd",
        ]
    }

    /// Distance keys: null in JSON stands for +∞ on `missed` and `spurious` rows.
    static func isDistanceKey(_ key: String) -> Bool {
        key.hasSuffix("_mm")
    }
}

extension CompareReport {
    /// The rows of this report for `caseID`, in label order.
    public func rows(caseID: String) -> [ResultRow] {
        evaluation.labels.map { r in
            var values: [String: Double] = [:]
            for (key, value) in self.values(r) { if let value { values[key] = value } }
            return ResultRow(
                caseID: caseID, label: r.label, name: names[r.label] ?? "", status: r.status.rawValue, values: values)
        }
    }
}

/// Batch rows as CSV or JSON, written and read back exactly (numbers in shortest
/// round-trip form), so shards merge into what one run writes.
public enum RowTable {
    public static func csv(_ rows: [ResultRow], metricKeys: [String]) -> String {
        var lines = [(["case", "label", "name", "status"] + metricKeys + ["error"]).joined(separator: ",")]
        for row in rows {
            var cells = [
                CompareReport.csvField(row.caseID), row.label.map { String($0) } ?? "",
                CompareReport.csvField(row.name),
                row.status,
            ]
            for key in metricKeys {
                guard let value = row.values[key] else {
                    cells.append("")
                    continue
                }
                cells.append(key.hasSuffix("_voxels") ? String(Int(value)) : Format.exact(value))
            }
            cells.append(CompareReport.csvField(row.error))
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ rows: [ResultRow], metricKeys: [String], warnings: [String]) -> JSONValue {
        .object([
            "schema_version": .int(1),
            "maskeval_version": .string(MaskEvalVersion.string),
            "metric_keys": .array(metricKeys.map { .string($0) }),
            "warnings": .array(warnings.map { .string($0) }),
            "rows": .array(
                rows.map { row in
                    var object: [String: JSONValue] = [
                        "case": .string(row.caseID), "label": row.label.map { .int(Int($0)) } ?? .null,
                        "name": .string(row.name), "status": .string(row.status), "error": .string(row.error),
                    ]
                    for key in metricKeys {
                        guard let value = row.values[key] else {
                            object[key] = .null
                            continue
                        }
                        object[key] = key.hasSuffix("_voxels") ? .int(Int(value)) : .finite(value)
                    }
                    return .object(object)
                }),
        ])
    }

    /// Reads a batch output written by `csv` or `json`; returns the rows, the metric keys
    /// and any warnings (JSON only).
    public static func read(path: String) throws -> (rows: [ResultRow], metricKeys: [String], warnings: [String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError.missingFile(path: path)
        }
        let text = String(decoding: data, as: UTF8.self)
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
            return try readJSON(data, path: path)
        }
        return try readCSV(text, path: path)
    }

    private static func readJSON(_ data: Data, path: String) throws -> ([ResultRow], [String], [String]) {
        guard let object = try? JSONValue.parse(String(decoding: data, as: UTF8.self)),
            let keys = object["metric_keys"]?.arrayValue?.compactMap(\.stringValue),
            let rawRows = object["rows"]?.arrayValue
        else { throw InputError.badFile(path: path, reason: "not a maskeval batch JSON output") }
        var rows: [ResultRow] = []
        for raw in rawRows {
            var row = ResultRow(
                caseID: raw["case"]?.stringValue ?? "", label: raw["label"]?.intValue.map { Int32($0) },
                name: raw["name"]?.stringValue ?? "", status: raw["status"]?.stringValue ?? "",
                error: raw["error"]?.stringValue ?? "")
            for key in keys {
                if let number = raw[key]?.doubleValue {
                    row.values[key] = number
                } else if ResultRow.isDistanceKey(key), row.status == "missed" || row.status == "spurious" {
                    row.values[key] = .infinity
                }
            }
            rows.append(row)
        }
        return (rows, keys, object["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    private static func readCSV(_ text: String, path: String) throws -> ([ResultRow], [String], [String]) {
        let records = parseCSV(text)
        guard let header = records.first, header.count >= 5,
            Array(header.prefix(4)) == ["case", "label", "name", "status"],
            header.last == "error"
        else {
            throw InputError.badFile(
                path: path, reason: "not a maskeval batch CSV (header case,label,name,status,…,error)")
        }
        let keys = Array(header[4..<(header.count - 1)])
        var rows: [ResultRow] = []
        for (number, record) in records.dropFirst().enumerated() where !(record.count == 1 && record[0].isEmpty) {
            guard record.count == header.count else {
                throw InputError.badFile(
                    path: path, reason: "line \(number + 2) has \(record.count) fields, expected \(header.count)")
            }
            var row = ResultRow(
                caseID: record[0], label: Int32(record[1]), name: record[2], status: record[3],
                error: record[header.count - 1])
            for (offset, key) in keys.enumerated() {
                let cell = record[4 + offset]
                if cell.isEmpty { continue }
                guard let value = Double(cell) else {
                    throw InputError.badFile(path: path, reason: "line \(number + 2): '\(cell)' is not a number")
                }
                row.values[key] = value
            }
            rows.append(row)
        }
        return (rows, keys, [])
    }

    /// RFC 4180 fields: commas, quotes doubled inside quoted fields, newlines in quotes.
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var iterator = text.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" {
                            field.append("\"")
                        } else {
                            quoted = false
                            pending = next
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"": quoted = true
            case ",":
                record.append(field)
                field = ""
            case "\n", "\r\n":
                record.append(field)
                records.append(record)
                record = []
                field = ""
            case "\r": continue
            default: field.append(c)
            }
        }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }
}
