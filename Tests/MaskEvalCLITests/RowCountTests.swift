import Foundation
import MaskEval
import Testing

/// Row files record how many rows batch wrote (`row_count`, in a CSV's settings file or the
/// JSON document): a CSV cut exactly after a newline is still a valid table, and `merge` and
/// `diff` once read it without a word, its lost cases gone from every mean.
@Suite(.serialized) struct RowCountTests {
    /// Reference and prediction folders of `count` small cases (three structures each).
    static func folders(cases count: Int) throws -> String {
        let folder = try temporaryFolder()
        for side in ["ref", "pred"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + side, withIntermediateDirectories: true)
        }
        for index in 0..<count {
            let name = "/case\(index).nii.gz"
            try write(abdomen(seed: index, prediction: false, n: 16), (16, 16, 16), to: folder + "/ref" + name)
            try write(abdomen(seed: index, prediction: true, n: 16), (16, 16, 16), to: folder + "/pred" + name)
        }
        return folder
    }

    static func text(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// `text` without its last line (the cut of an interrupted copy at a line boundary).
    static func droppingLastLine(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        lines.removeLast()
        return lines.map { $0 + "\n" }.joined()
    }

    static func batch(_ folder: String, output: String, _ extra: [String] = []) throws {
        let run = try Run(
            ["batch", folder + "/ref", folder + "/pred", "--bootstrap", "0", "--output", output] + extra)
        #expect(run.status == 0, "\(run.stderr)")
    }

    @Test func rowCountIsRecordedBesideEveryRowFile() throws {
        let folder = try Self.folders(cases: 3)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.batch(folder, output: folder + "/rows.csv")
        try Self.batch(folder, output: folder + "/rows.json")
        let lines = try Self.text(folder + "/rows.csv").split(separator: "\n").count
        let settings = try JSONValue.parse(Self.text(folder + "/rows.csv.settings.json"))
        #expect(settings["row_count"]?.intValue == lines - 1)
        let document = try JSONValue.parse(Self.text(folder + "/rows.json"))
        #expect(document["row_count"]?.intValue == document["rows"]?.arrayValue?.count)
        #expect(document["row_count"]?.intValue == 9)
        // merge writes it too.
        let merge = try Run(["merge", folder + "/rows.csv", "--output", folder + "/merged.csv"])
        #expect(merge.status == 0, "\(merge.stderr)")
        let merged = try JSONValue.parse(Self.text(folder + "/merged.csv.settings.json"))
        #expect(merged["row_count"]?.intValue == 9)
    }

    /// A CSV row file cut after a newline: merge and diff refuse it (65), naming the file and
    /// saying it is truncated; a JSON one cut so no longer parses (65 too).
    @Test(arguments: ["csv", "json"])
    func rowFileCutAtALineBoundaryIsRefused(format: String) throws {
        let folder = try Self.folders(cases: 3)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let whole = folder + "/whole." + format
        let cut = folder + "/cut." + format
        try Self.batch(folder, output: whole)
        try Self.droppingLastLine(try Self.text(whole)).write(toFile: cut, atomically: false, encoding: .utf8)
        if format == "csv" {
            try FileManager.default.copyItem(atPath: whole + ".settings.json", toPath: cut + ".settings.json")
        }
        for arguments in [["merge", cut], ["diff", whole, cut], ["diff", cut, whole]] {
            let run = try Run(arguments)
            #expect(run.status == 65, "\(arguments): \(run.stderr)")
            #expect(run.stderr.hasPrefix("maskeval: error: \(cut): "), "\(arguments): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            if format == "csv" {
                #expect(
                    run.stderr.contains(
                        "has 8 row(s), but its settings file's row_count says 9 were written: the file "
                            + "is truncated (cases lost)"), "\(run.stderr)")
            }
        }
        // The whole file still merges and diffs.
        #expect(try Run(["merge", whole]).status == 0)
        #expect(try Run(["diff", whole, whole]).status == 0)
    }

    /// Shards: one cut at a line boundary fails the merge, naming that shard.
    @Test func cutShardFailsTheMerge() throws {
        let folder = try Self.folders(cases: 4)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let shards = (1...2).map { folder + "/rows-\($0).csv" }
        for (index, shard) in shards.enumerated() {
            try Self.batch(folder, output: shard, ["--shard", "\(index + 1)/2"])
        }
        try Self.droppingLastLine(try Self.text(shards[1])).write(toFile: shards[1], atomically: false, encoding: .utf8)
        let run = try Run(["merge"] + shards)
        #expect(run.status == 65, "\(run.stderr)")
        #expect(
            run.stderr.contains("\(shards[1]): has 5 row(s), but its settings file's row_count says"), "\(run.stderr)")
    }

    /// A row file of an older maskeval (no row_count) is read as before, with a note that
    /// says its truncation cannot be seen; a row_count that is not a count is refused.
    @Test func rowFileWithoutRowCountIsReadWithANote() throws {
        let folder = try Self.folders(cases: 2)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rows = folder + "/rows.csv"
        try Self.batch(folder, output: rows)
        let settings = try Self.text(rows + ".settings.json")
        let old = settings.split(separator: "\n").filter { !$0.contains("\"row_count\"") }.joined(separator: "\n")
        #expect(old != settings)
        try old.write(toFile: rows + ".settings.json", atomically: false, encoding: .utf8)
        let note = "maskeval: note: \(rows) records no row_count (written by an older maskeval)"
        for arguments in [["merge", rows], ["diff", rows, rows]] {
            let run = try Run(arguments)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains(note), "\(arguments): \(run.stderr)")
        }
        let lying = settings.replacingOccurrences(of: "\"row_count\": 6,", with: "\"row_count\": \"six\",")
        #expect(lying != settings, "\(settings)")
        try lying.write(toFile: rows + ".settings.json", atomically: false, encoding: .utf8)
        let run = try Run(["merge", rows])
        #expect(run.status == 65 && run.stderr.contains("its settings file's row_count is not a count of rows"))
    }

    /// A CSV's settings file records the rows' checksum (`rows_crc32`, zlib's CRC-32 of the
    /// text): the settings file of another run (other tolerance, same number of rows) beside
    /// these rows is refused (65) by merge and diff, where it once lent them its settings
    /// unseen; CRLF line ends and a dropped last newline (an editor's) still read.
    @Test func settingsFileOfAnotherRunIsRefused() throws {
        let folder = try Self.folders(cases: 3)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let one = folder + "/one.csv"
        let two = folder + "/two.csv"
        try Self.batch(folder, output: one)
        try Self.batch(folder, output: two, ["--tolerance", "2"])
        let rows = try Self.text(one)
        let settings = try JSONValue.parse(Self.text(one + ".settings.json"))
        #expect(settings["rows_crc32"]?.stringValue == RowTable.checksum(csv: rows))
        #expect(settings["row_count"] == (try JSONValue.parse(Self.text(two + ".settings.json")))["row_count"])
        // An editor's CRLF and missing last newline: the same rows.
        let crlf = folder + "/crlf.csv"
        try String(rows.dropLast()).replacingOccurrences(of: "\n", with: "\r\n")
            .write(toFile: crlf, atomically: false, encoding: .utf8)
        try FileManager.default.copyItem(atPath: one + ".settings.json", toPath: crlf + ".settings.json")
        let edited = try Run(["merge", crlf])
        #expect(edited.status == 0, "\(edited.stderr)")
        // Two's settings beside one's rows.
        try FileManager.default.removeItem(atPath: one + ".settings.json")
        try FileManager.default.copyItem(atPath: two + ".settings.json", toPath: one + ".settings.json")
        for arguments in [["merge", one], ["diff", two, one]] {
            let run = try Run(arguments)
            #expect(run.status == 65, "\(arguments): \(run.stderr)")
            #expect(
                run.stderr.hasPrefix(
                    "maskeval: error: \(one): its settings file \(one).settings.json was written with other rows"),
                "\(run.stderr)")
        }
    }
}
