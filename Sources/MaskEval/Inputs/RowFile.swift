/// Reads a row file written by `batch --output` (CSV with its `.settings.json`, or JSON)
/// back into exactly the rows that were written. Every value is checked: a label outside
/// Int32, a count that is not a non-negative integer, or a NaN refuses the file (exit 65);
/// so is a file with other than the `row_count` rows batch recorded (a CSV cut at a line
/// boundary reads as a valid, shorter table: its lost cases would vanish from a merge), and
/// a CSV whose settings file records another checksum (`rows_crc32`: the settings of
/// another run would be trusted for these rows).
public enum RowFile {
    /// The settings file read with a CSV row file (and written beside one): `FILE.settings.json`.
    public static func settingsPath(of path: String) -> String { path + ".settings.json" }

    /// The files `read` may read for `path`, as (what, path) pairs for the output checks: the
    /// row file and its settings file, neither of which an output may overwrite.
    public static func inputFiles(_ path: String, named what: String) -> [(String, String)] {
        [(what, path), ("\(what)'s settings file", settingsPath(of: path))]
    }

    public static func read(path: String) throws -> RowTable.File {
        let text = try TextInput.read(path: path, what: "row file")
        if TextInput.looksLikeJSON(text) {
            let document = try TextInput.json(text, path: path, what: "row file")
            let result = try result(document, rows: nil, path: path)
            let notes = try checkRowCount(
                result.rows.count, document: document, path: path, recordedIn: "its row_count")
            return RowTable.File(path: path, result: result, notes: notes)
        }
        let settingsPath = settingsPath(of: path)
        let settingsText: String
        do {
            settingsText = try TextInput.read(path: settingsPath, what: "settings file of a CSV row file")
        } catch let failure as MaskEvalFailure where failure.exitStatus == .noInput {
            throw InputError.badFile(
                path: path, reason: "its settings file \(settingsPath) is missing (batch writes it beside the rows)")
        }
        let sidecar = try TextInput.json(settingsText, path: settingsPath, what: "settings")
        let result = try result(sidecar, rows: text, path: path)
        let notes = try checkRowCount(
            result.rows.count, document: sidecar, path: path, recordedIn: "its settings file's row_count")
        if let recorded = sidecar["rows_crc32"], recorded != .null {
            let actual = RowTable.checksum(csv: text)
            guard recorded.stringValue == actual else {
                throw InputError.badFile(
                    path: path,
                    reason: "its settings file \(settingsPath) was written with other rows (rows_crc32 "
                        + "\(recorded.stringValue ?? "?") there, \(actual) here): the two come from different runs "
                        + "(two batches on one --output, or a run ended between writing them) or the rows were "
                        + "edited; run batch again for these cases")
            }
        }
        return RowTable.File(path: path, result: result, notes: notes)
    }

    /// Refuses (exit 65) a file whose rows are not the `row_count` that `document` records;
    /// a note instead when it records none (a file of an older maskeval, read as before).
    static func checkRowCount(_ count: Int, document: JSONValue, path: String, recordedIn place: String) throws
        -> [String]
    {
        guard let recorded = document["row_count"], recorded != .null else {
            return [
                "note: \(path) records no row_count (written by an older maskeval): a copy cut at a line boundary "
                    + "cannot be told from a whole one; re-run batch (or merge) to record it"
            ]
        }
        guard let expected = recorded.intValue, expected >= 0 else {
            throw InputError.badFile(path: path, reason: "\(place) is not a count of rows")
        }
        if count != expected {
            throw InputError.badFile(
                path: path,
                reason: "has \(count) row(s), but \(place) says \(expected) were written: "
                    + (count < expected ? "the file is truncated (cases lost)" : "rows were added to it"))
        }
        return []
    }

    static func result(_ document: JSONValue, rows csv: String?, path: String) throws -> BatchResult {
        guard let settings = RunSettings(json: document["settings"]) else {
            throw InputError.badFile(path: path, reason: "not a maskeval row file (no settings; written by batch)")
        }
        var shard: Shard?
        if let text = document["shard"]?.stringValue {
            guard let parsed = Shard(text: text) else {
                throw InputError.badFile(path: path, reason: "shard '\(text)' is not K/N")
            }
            shard = parsed
        }
        let warnings = document["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let rows =
            try csv.map { try readCSV($0, settings: settings, path: path) }
            ?? readJSON(document, settings: settings, path: path)
        return BatchResult(rows: rows, settings: settings, shard: shard, warnings: warnings)
    }

    /// The rows of a JSON row document read with `settings` (for callers that hold the
    /// settings themselves, such as the C interface).
    public static func rows(json document: JSONValue, settings: RunSettings, path: String) throws -> [LabelRow] {
        try readJSON(document, settings: settings, path: path)
    }

    static func readJSON(_ document: JSONValue, settings: RunSettings, path: String) throws -> [LabelRow] {
        guard let rawRows = document["rows"]?.arrayValue else {
            throw InputError.badFile(path: path, reason: "not a maskeval batch JSON output (no rows)")
        }
        return try rawRows.enumerated().map { number, raw in
            var cells: [String: String] = [:]
            for key in ["case", "name", "status", "error"] { cells[key] = raw[key]?.stringValue ?? "" }
            cells["label"] = raw["label"].map(text) ?? ""
            cells["image_diagonal_mm"] = raw["image_diagonal_mm"].map(text) ?? ""
            for column in settings.columns {
                let name = settings.columnName(column)
                cells[name] = raw[name].map(text) ?? ""
            }
            return try row(cells, settings: settings, place: "row \(number + 1)", path: path)
        }
    }

    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .int(let v): return String(v)
        case .number(let v): return String(v)
        case .string(let v): return v
        default: return ""
        }
    }

    static func readCSV(_ text: String, settings: RunSettings, path: String) throws -> [LabelRow] {
        let records = CSV.parse(text)
        let expected =
            ["case", "label", "name", "status"] + settings.columns.map(settings.columnName) + [
                "image_diagonal_mm", "error",
            ]
        guard let header = records.first, header == expected else {
            throw InputError.badFile(path: path, reason: "its columns are not those its settings file describes")
        }
        return try records.dropFirst().enumerated().compactMap { number, record in
            if record.count == 1 && record[0].isEmpty { return nil }
            guard record.count == header.count else {
                throw InputError.badFile(
                    path: path, reason: "line \(number + 2) has \(record.count) fields, expected \(header.count)")
            }
            return try row(
                Dictionary(uniqueKeysWithValues: zip(header, record)), settings: settings, place: "line \(number + 2)",
                path: path)
        }
    }

    /// One row from its cells by column name, every value checked.
    static func row(_ cells: [String: String], settings: RunSettings, place: String, path: String) throws -> LabelRow {
        func bad(_ reason: String) -> InputError { .badFile(path: path, reason: "\(place): \(reason)") }
        guard let labelText = cells["label"], let label = Int32(labelText) else {
            throw bad("label '\(cells["label"] ?? "")' is not an integer label")
        }
        guard let status = RowStatus(rawValue: cells["status"] ?? "") else {
            throw bad("unknown status '\(Escape.terminal(cells["status"] ?? ""))'")
        }
        var row = LabelRow(
            caseID: cells["case"] ?? "", label: label, name: cells["name"] ?? "", status: status,
            error: cells["error"] ?? "")
        if let text = cells["image_diagonal_mm"], !text.isEmpty {
            guard let value = Double(text), value.isFinite, value >= 0 else {
                throw bad("image_diagonal_mm '\(text)' is not a distance")
            }
            row.diagonalMM = value
        }
        for column in settings.columns {
            let name = settings.columnName(column)
            guard let text = cells[name], !text.isEmpty else {
                // null in JSON: +∞ on distance columns of empty-mask rows, else undefined.
                if column.key.isDistance && [.missed, .spurious, .noPrediction].contains(status) {
                    row.values[column] = .infinity
                }
                continue
            }
            guard let value = Double(text), !value.isNaN else { throw bad("\(name) '\(text)' is not a number") }
            if column.key.isCount {
                guard value >= 0, value <= 9_007_199_254_740_992, value == value.rounded() else {
                    throw bad("\(name) '\(text)' is not a voxel count")
                }
            } else if value.isInfinite && !(column.key.isDistance && value > 0) {
                throw bad("\(name) '\(text)' is not a finite number")
            }
            row.values[column] = value
        }
        return row
    }
}
