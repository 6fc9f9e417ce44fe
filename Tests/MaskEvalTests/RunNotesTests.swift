import Foundation
import Testing

@testable import MaskEval

/// The notes every command prints (`RunNotes`), the summary table's case counts, the pair
/// halves of the output checks and the `brats` keyword: the new-user probe's findings at the
/// library level.
struct RunNotesTests {
    static func row(_ id: String, _ label: Int32, _ status: RowStatus, values: [MetricColumn: Double] = [:])
        -> LabelRow
    {
        LabelRow(caseID: id, label: label, name: "", status: status, values: values)
    }

    static func facts(_ id: String, ignored: Int, spacing: Double = 1) -> RunNotes.CaseFacts {
        RunNotes.CaseFacts(caseID: id, ignoredVoxels: ignored, smallestSpacingMM: spacing)
    }

    /// One case (compare, lesions): the note of 57a212f, word for word; a batch names the
    /// cases without the label, or all of them; a label present everywhere says nothing.
    @Test func ignoreLabelNote() {
        var settings = RunSettings()
        settings.ignoreLabel = 99
        let rows = [Self.row("", 1, .matched)]
        #expect(
            RunNotes.lines(rows: rows, cases: [Self.facts("", ignored: 0)], settings: settings) == [
                "note: the ignore label 99 is not in the reference; no voxel was left out"
            ])
        #expect(RunNotes.lines(rows: rows, cases: [Self.facts("", ignored: 5)], settings: settings).isEmpty)
        let cases = [Self.facts("b", ignored: 0), Self.facts("a", ignored: 3), Self.facts("c", ignored: 0)]
        #expect(
            RunNotes.ignoreLabel(cases, settings: settings)
                == "note: the ignore label 99 is not in the reference of 2 of the 3 cases (b, c); no voxel was left out there"
        )
        let none = [Self.facts("a", ignored: 0), Self.facts("b", ignored: 0)]
        #expect(
            RunNotes.ignoreLabel(none, settings: settings)
                == "note: the ignore label 99 is not in the reference of any of the 2 cases; no voxel was left out")
        settings.ignoreLabel = nil
        #expect(RunNotes.ignoreLabel(none, settings: settings) == nil)
    }

    /// A tolerance-map entry for a label no structure has is named; entries that are used,
    /// or a map with regions (numbered by region), say nothing.
    @Test func unusedToleranceNote() {
        var settings = RunSettings()
        settings.toleranceByLabel = [1: 2, 7: 3, 9: 1.5]
        let rows = [Self.row("", 1, .matched), Self.row("", 2, .missed)]
        #expect(
            RunNotes.lines(rows: rows, cases: [], settings: settings) == [
                "note: --tolerance-map gives τ for labels 7, 9, which no structure has (in neither volume nor "
                    + "--labels); the structures evaluated use their own entries or the default τ (1 mm)"
            ])
        settings.toleranceByLabel = [8: 2]
        #expect(
            RunNotes.unusedTolerances(rows, settings: settings)
                == "note: --tolerance-map gives τ for label 8, which no structure has (in neither volume nor "
                + "--labels); the structures evaluated use the default τ (1 mm)")
        settings.toleranceByLabel = [1: 2, 2: 3]
        #expect(RunNotes.unusedTolerances(rows, settings: settings) == nil)
        settings.toleranceByLabel = [8: 2]
        settings.regions = [Region(name: "WT", labels: [1, 2])]
        #expect(RunNotes.unusedTolerances(rows, settings: settings) == nil)
    }

    /// A region absent in one case of a batch is ordinary (ET in a case without enhancing
    /// tumour); absent in every case it is named. A failed case (error rows) was not evaluated
    /// and is not counted.
    @Test func absentRegionNote() {
        var settings = RunSettings()
        settings.regions = [Region(name: "WT", labels: [1, 2]), Region(name: "ET", labels: [4])]
        let some = [
            Self.row("a", 1, .matched), Self.row("a", 2, .absent), Self.row("b", 1, .matched),
            Self.row("b", 2, .matched),
        ]
        #expect(RunNotes.absentRegions(some, settings: settings) == nil)
        let every = [
            Self.row("a", 1, .matched), Self.row("a", 2, .absent), Self.row("b", 1, .matched),
            Self.row("b", 2, .absent), Self.row("c", 2, .error),
        ]
        let note = RunNotes.lines(rows: every, cases: [], settings: settings)
        #expect(
            note == [
                "note: no label of region 'ET' (4) is in either volume of any of the 2 cases; reported absent "
                    + "(Dice 1; left out of aggregates under --absent nan)"
            ])
        settings.lesions = LesionRunSettings()
        let one = [Self.row("", 1, .matched), Self.row("", 2, .absent)]
        #expect(
            RunNotes.absentRegions(one, settings: settings)
                == "note: no label of region 'ET' (4) is in either volume; reported absent "
                + "(no lesion on either side; gates on its undefined rates are skipped)")
    }

    /// A label asked for with `--labels` and in neither volume is named as a region is.
    @Test func absentLabelNote() {
        var settings = RunSettings()
        settings.labels = [1, 99]
        let rows = [Self.row("a", 1, .matched), Self.row("a", 99, .absent)]
        #expect(
            RunNotes.absentRegions(rows, settings: settings)
                == "note: no voxel of label 99 is in either volume; reported absent "
                + "(Dice 1; left out of aggregates under --absent nan)")
        settings.labels = nil
        #expect(RunNotes.absentRegions(rows, settings: settings) == nil)
    }

    /// The `biou` note across cases names the labels once and counts the cases.
    @Test func boundaryIoUNoteAcrossCases() throws {
        var settings = RunSettings()
        settings.presets = [.meshmetrics]
        settings.toleranceMM = 0.5
        let biou = try #require(settings.columns.first { $0.key == .boundaryIoU })
        let rows = [
            Self.row("a", 1, .matched), Self.row("b", 1, .matched), Self.row("b", 2, .matched, values: [biou: 0.5]),
        ]
        let note = try #require(
            RunNotes.boundaryIoU(rows, cases: [Self.facts("a", ignored: 0, spacing: 2)], settings: settings))
        #expect(note.hasPrefix("note: biou is undefined (null) for label(s) 1 in 2 cases: "), "\(note)")
        #expect(note.contains("τ (0.5 mm) is at most half the voxel spacing (2 mm)"), "\(note)")
        #expect(RunNotes.boundaryIoU([rows[2]], cases: [], settings: settings) == nil)
    }

    /// The `--binary` hint does not point to an option `--regions` excludes.
    @Test func binaryHintNeedsLabels() {
        var settings = RunSettings()
        let rows = [Self.row("", 1, .missed), Self.row("", 255, .spurious)]
        #expect(RunNotes.binaryHint(rows, settings: settings)?.contains("use --binary") == true)
        settings.regions = [Region(name: "A", labels: [1])]
        #expect(RunNotes.binaryHint(rows, settings: settings) == nil)
    }

    /// The `all` line's `error` and `no_pred` count cases: a failed case has one error row per
    /// structure and counted three times.
    @Test func summaryAllLineCountsCases() throws {
        var rows: [LabelRow] = []
        for label: Int32 in 1...3 {
            rows.append(Self.row("good", label, .matched, values: [MetricColumn(.dice): 0.9]))
            rows.append(Self.row("bad", label, .error))
            rows.append(Self.row("missing", label, .noPrediction, values: [MetricColumn(.dice): 0]))
        }
        var settings = RunSettings()
        settings.bootstrap = BootstrapSettings(resamples: 0)
        let table = SummaryReport.table(BatchResult(rows: rows, settings: settings))
        let lines = table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let header = try #require(lines.first)
        let all = try #require(lines.first { $0.first == "all" })
        // No name cell in the `all` line.
        #expect(all[try #require(header.firstIndex(of: "error")) - 1] == "1", "\(table)")
        #expect(all[try #require(header.firstIndex(of: "no_pred")) - 1] == "1", "\(table)")
        #expect(all[try #require(header.firstIndex(of: "matched")) - 1] == "3", "\(table)")
        settings.lesions = LesionRunSettings()
        let lesionTable = SummaryReport.table(BatchResult(rows: rows, settings: settings))
        let lesionLines = lesionTable.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let lesionAll = try #require(lesionLines.first { $0.first == "all" })
        #expect(Array(lesionAll[1...3]) == ["3", "1", "1"], "\(lesionTable)")
    }

    /// A gate failure without a row or an aggregate has `aggregate` null, not "".
    @Test func gateFailureAggregateIsNull() throws {
        let gate = try Gate.parse("dice>=0.5", columns: RunSettings().columns, percentile: 95)
        let failure = GateFailure(gate: gate, row: nil, value: nil, n: 0)
        #expect(failure.json["aggregate"] == .null)
        let mean = try Gate.parse("mean:dice>=0.5", columns: RunSettings().columns, percentile: 95)
        #expect(GateFailure(gate: mean, row: nil, value: 0.1, n: 2).json["aggregate"] == .string("mean"))
    }

    /// A `.hdr`/`.img` path stands for both halves: all the names the reader tries for an
    /// input, the `.img` the writer adds for an output header.
    @Test func pairHalves() {
        #expect(OutputFile.pairHalves("x.hdr", reading: false) == ["x.hdr", "x.img"])
        #expect(OutputFile.pairHalves("x.HDR.gz", reading: false) == ["x.HDR.gz", "x.IMG.gz"])
        #expect(OutputFile.pairHalves("x.img", reading: false) == ["x.img"])
        #expect(OutputFile.pairHalves("x.nii.gz", reading: true) == ["x.nii.gz"])
        #expect(OutputFile.pairHalves(".hdr", reading: true) == [".hdr"])
        let read = OutputFile.pairHalves("d/x.img.gz", reading: true)
        #expect(read.first == "d/x.img.gz" && read.contains("d/x.hdr") && read.contains("d/x.HDR.gz"), "\(read)")
    }

    @Test func checkDistinctSeesBothHalves() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in ["in.hdr", "in.img"] {
            FileManager.default.createFile(atPath: folder + "/" + name, contents: Data())
        }
        #expect(throws: InputError.self) {
            try OutputFile.checkDistinct(
                outputs: [("--lesion-map", folder + "/in.hdr")], inputs: [("ref", folder + "/in.img")])
        }
        #expect(throws: InputError.self) {
            try OutputFile.checkDistinct(
                outputs: [("--output", folder + "/in.img")], inputs: [("ref", folder + "/in.hdr")])
        }
        #expect(throws: InputError.self) {
            try OutputFile.checkDistinct(
                outputs: [("--output", folder + "/o.img"), ("--error-map", folder + "/o.hdr")], inputs: [])
        }
        try OutputFile.checkDistinct(
            outputs: [("--output", folder + "/o.hdr.txt"), ("--error-map", folder + "/o.hdr")],
            inputs: [("ref", folder + "/other.img")])
    }

    @Test func volumeOutputNames() throws {
        for good in ["m.nii", "m.nii.gz", "m.hdr", "M.HDR.GZ", "/dev/null"] {
            try OutputFile.checkVolumeName(good, option: "--lesion-map")
        }
        for bad in ["m.img", "m.img.gz", "m.txt", "m"] {
            #expect(throws: InputError.self) { try OutputFile.checkVolumeName(bad, option: "--lesion-map") }
        }
    }

    /// `BRATS` is the keyword when no such file exists; a file is read as one.
    @Test func bratsKeywordInAnyCase() throws {
        var settings = RunSettings()
        try settings.applyStructures(regions: "BraTS", ignoreLabel: nil)
        #expect(settings.regions == Region.brats)
        #expect(Regions.isBraTSKeyword("brats") && !Regions.isBraTSKeyword("brats.json"))
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/brats.json"
        try Data(#"{"A": [5]}"#.utf8).write(to: URL(fileURLWithPath: file))
        try settings.applyStructures(regions: file, ignoreLabel: nil)
        #expect(settings.regions == [Region(name: "A", labels: [5])])
    }
}
