/// Operations on sets of rows that `batch` and `merge` share, so both give the same result
/// for the same cases.
public enum RowTable {
    /// The CRC-32 (zlib's, as Python's `zlib.crc32`) of a CSV row file's text, as 8 hex
    /// digits: LF line ends, no BOM, trailing line ends left out (the reader's normalised
    /// text, so an editor's CRLF or last newline does not count). Recorded in the settings
    /// file (`rows_crc32`): a sidecar from another run (two runs on one `--output`, a run
    /// ended between its two renames) would otherwise lend the rows its settings unseen.
    public static func checksum(csv text: String) -> String {
        var trimmed = Substring(text)
        while trimmed.last == "\n" { trimmed = trimmed.dropLast() }
        let crc = Zlib.crc32(Array(trimmed.utf8))
        let hex = String(crc, radix: 16)
        return String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }

    /// Gives each `error` case one row per structure of the others (or of `--labels`), so
    /// every case has the same structures and the label column stays integral; a run in
    /// which no structure is known keeps one row with label 0.
    public static func expandErrorRows(_ rows: [LabelRow], settings: RunSettings) -> [LabelRow] {
        var names: [Int32: String] = [:]
        for row in rows where row.status != .error && names[row.label]?.isEmpty ?? true { names[row.label] = row.name }
        for (label, name) in settings.names(over: LabelNames()).names where names[label] == nil { names[label] = name }
        let labels = settings.structureLabels.map { Array(Set($0).union(names.keys)).sorted() } ?? names.keys.sorted()
        var out: [LabelRow] = []
        var expanded = Set<String>()
        for row in rows {
            guard row.status == .error else {
                out.append(row)
                continue
            }
            guard expanded.insert(row.caseID).inserted else { continue }
            if labels.isEmpty {
                out.append(LabelRow(caseID: row.caseID, label: 0, name: "", status: .error, error: row.error))
            } else {
                for label in labels {
                    out.append(
                        LabelRow(
                            caseID: row.caseID, label: label, name: names[label] ?? "", status: .error, error: row.error
                        ))
                }
            }
        }
        return out
    }

    /// One row file as read back: its rows, the settings and shard it records, warnings,
    /// and what the reader notes about the file itself (for stderr).
    public struct File: Sendable {
        public var path: String
        public var result: BatchResult
        public var notes: [String] = []
    }

    /// Puts the row files of a batch's shards back together into what one run writes.
    /// Refuses (exit 65) files made with other settings, a case that appears twice and, when
    /// the files are shards K/N, a missing shard unless `partial`.
    public static func merge(_ files: [File], partial: Bool) throws -> BatchResult {
        guard let first = files.first else { throw InputError.usage("give at least one row file") }
        var owner: [String: String] = [:]
        for file in files {
            let differences = file.result.settings.differences(from: first.result.settings)
            if !differences.isEmpty {
                throw InputError.badFile(
                    path: file.path,
                    reason: "made with other settings than \(first.path): \(differences.joined(separator: "; "))"
                        + " (this file's value first)")
            }
            for id in Set(file.result.rows.map(\.caseID)) {
                if let other = owner[id] {
                    throw InputError.badFile(
                        path: file.path, reason: "case \(id) is also in \(other); merge each shard once")
                }
                owner[id] = file.path
            }
        }
        let shards = files.compactMap { file in file.result.shard.map { (file.path, $0) } }
        if !shards.isEmpty {
            let count = shards[0].1.count
            if let odd = shards.first(where: { $0.1.count != count }) {
                throw InputError.badFile(
                    path: odd.0,
                    reason: "is shard \(odd.1), but \(shards[0].0) is shard \(shards[0].1): merge the shards of one run"
                )
            }
            var seen: [Int: String] = [:]
            for (path, shard) in shards {
                if let other = seen[shard.index] {
                    throw InputError.badFile(path: path, reason: "shard \(shard) is also \(other)")
                }
                seen[shard.index] = path
            }
            let missing = (1...count).filter { seen[$0] == nil }
            if !missing.isEmpty && !partial {
                throw InputError.badFile(
                    path: first.path,
                    reason: (missing.count == 1 ? "shard " : "shards ")
                        + missing.map { "\($0)/\(count)" }.joined(separator: ", ")
                        + (missing.count == 1 ? " is missing " : " are missing ")
                        + "(--partial merges what is there)")
            }
        }
        // One run writes cases in id order, each case's rows in label order: a stable sort
        // by case id restores that.
        let rows = files.flatMap(\.result.rows).enumerated().sorted {
            ($0.element.caseID, $0.offset) < ($1.element.caseID, $1.offset)
        }.map(\.element)
        let collapsed = expandErrorRows(rows, settings: first.result.settings)
        return BatchResult(
            rows: collapsed, settings: first.result.settings, shard: nil, warnings: files.flatMap(\.result.warnings))
    }
}
