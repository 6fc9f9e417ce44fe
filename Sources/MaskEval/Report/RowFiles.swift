/// Batch rows as CSV or JSON, written so that `RowFile.read` gets back exactly the same rows
/// (numbers in shortest round-trip form) and shards merge into what one run writes.
///
/// CSV: `case,label,name,status,` the metric columns, `image_diagonal_mm,error`; the settings
/// go into a JSON file beside it (`settingsJSON`, written as `FILE.settings.json`). JSON: one
/// document with the settings, the shard, the columns, warnings and the rows. Both record
/// `row_count`, the number of rows written: a CSV cut at a line boundary is still a valid CSV,
/// and `RowFile.read` refuses it by that count.
public enum RowFiles {
    public static let schemaVersion = 2

    public static func csv(_ result: BatchResult) -> String {
        let settings = result.settings
        let columns = settings.columns
        var lines = [
            (["case", "label", "name", "status"] + columns.map(settings.columnName) + ["image_diagonal_mm", "error"])
                .joined(separator: ",")
        ]
        for row in result.rows {
            var cells = [CSV.field(row.caseID), String(row.label), CSV.field(row.name), row.status.rawValue]
            for column in columns { cells.append(cell(row.values[column], count: column.key.isWhole)) }
            cells.append(Format.exact(row.diagonalMM))
            cells.append(CSV.field(row.error))
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func cell(_ value: Double?, count: Bool) -> String {
        guard let value else { return "" }
        return count ? String(Int(value)) : Format.exact(value)
    }

    /// What a CSV row file cannot hold: settings, shard, warnings, and how many rows it has;
    /// with `csv` (the rows' text as written beside it), also their checksum `rows_crc32`
    /// (`RowTable.checksum`), which ties this settings file to those rows.
    public static func settingsJSON(_ result: BatchResult, csv: String? = nil) -> JSONValue {
        var document: [String: JSONValue] = [
            "schema_version": .int(schemaVersion),
            "maskeval_version": .string(MaskEvalVersion.string),
            "settings": result.settings.json,
            "shard": result.shard.map { .string($0.description) } ?? .null,
            "warnings": .array(result.warnings.map { .string($0) }),
            "row_count": .int(result.rows.count),
        ]
        if let csv { document["rows_crc32"] = .string(RowTable.checksum(csv: csv)) }
        return .object(document)
    }

    public static func json(_ result: BatchResult) -> JSONValue {
        let settings = result.settings
        let columns = settings.columns
        guard case .object(var document) = settingsJSON(result) else { return .null }
        document["metric_keys"] = .array(columns.map { .string(settings.columnName($0)) })
        document["rows"] = .array(
            result.rows.map { row in
                var object: [String: JSONValue] = [
                    "case": .string(row.caseID), "label": .int(Int(row.label)), "name": .string(row.name),
                    "status": .string(row.status.rawValue), "error": .string(row.error),
                    "image_diagonal_mm": .finite(row.diagonalMM),
                ]
                for column in columns { object[settings.columnName(column)] = value(row.values[column], column) }
                return .object(object)
            })
        return .object(document)
    }

    /// A value in JSON: counts as integers; +∞ and undefined as null.
    static func value(_ value: Double?, _ column: MetricColumn) -> JSONValue {
        guard let value else { return .null }
        return column.key.isWhole ? .int(Int(value)) : .finite(value)
    }
}
