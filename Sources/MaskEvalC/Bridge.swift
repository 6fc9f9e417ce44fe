import Foundation
import MaskEval

/// Every call from the C interface into the MaskEval library, in one place, so a change of
/// the library's API is a change of this file only. Each entry point does what the named
/// CLI command does and returns the same JSON; `CAPI.swift` only moves values across the C
/// boundary.
enum Bridge {
    static var version: String { MaskEvalVersion.string }

    // MARK: compare

    /// `maskeval compare` on two arrays in memory that share a grid with spacing
    /// `spacingMM` (one value per axis) and a diagonal affine. Reports paths
    /// `<reference array>` and `<prediction array>`.
    static func compareArrays(
        reference: ArrayInput, prediction: ArrayInput, spacingMM: [Double], options: CallOptions
    ) -> CallOutcome {
        outcome {
            let options = try options.checked()
            let threads = options.threads ?? activeCoreCount
            let grid = try arrayGrid(reference: reference, prediction: prediction, spacingMM: spacingMM)
            if let maxVoxels = options.maxVoxels, grid.voxelCount > maxVoxels {
                throw CallFailure(
                    .input, "\(reference.name): \(grid.voxelCount) voxels exceed --max-voxels \(maxVoxels)")
            }
            let comparison = try self.comparison(options, threads: threads)
            let settings = comparison.settings
            let evaluation = try withLabels(reference, prediction, grid: grid, threads: threads) { buffers in
                let engine = settings.evaluation(threads: threads)
                guard settings.binary else { return Evaluator.evaluate(buffers, grid: grid, settings: engine) }
                let (r, p) = buffers.visit(Binarize())
                return r.withUnsafeBufferPointer { r in
                    p.withUnsafeBufferPointer { p in Evaluator.evaluate(.uint8(r, p), grid: grid, settings: engine) }
                }
            }
            let rows = LabelRow.rows(evaluation, caseID: "", names: comparison.names)
            let report = CompareReport(
                rows: rows, settings: settings, reference: .init(path: reference.name, grid: grid),
                prediction: .init(path: prediction.name, grid: grid))
            let facts = RunNotes.CaseFacts(
                caseID: "", ignoredVoxels: evaluation.ignoredVoxels, smallestSpacingMM: grid.spacingMM.min())
            return .success(
                json: report.json().rendered(), text: { report.table() },
                engineSeconds: evaluation.timings.overlapSeconds + evaluation.timings.distanceSeconds,
                notes: RunNotes.lines(rows: rows, cases: [facts], settings: settings))
        }
    }

    /// `maskeval compare REF PRED --format json` (a nil prediction: a case without one).
    static func compareFiles(reference: String, prediction: String?, options: CallOptions) -> CallOutcome {
        outcome {
            let options = try options.checked()
            var comparison = try self.comparison(options, threads: options.threads ?? activeCoreCount)
            comparison.settings.inputs = ["reference": reference, "prediction": prediction ?? ""]
            let result = try comparison.run(reference: reference, prediction: prediction)
            let report = CompareReport(
                rows: result.rows, settings: comparison.settings, reference: result.reference,
                prediction: result.prediction)
            let t = result.evaluation.timings
            return .success(
                json: report.json().rendered(), text: { report.table() },
                engineSeconds: t.overlapSeconds + t.distanceSeconds,
                notes: RunNotes.lines(rows: result.rows, cases: [result.facts()], settings: comparison.settings))
        }
    }

    // MARK: batch

    /// The cases of `maskeval batch`: two folders paired by case id, or a `--pairs` CSV,
    /// with the `inputs` the run records.
    static func batchCases(referenceFolderOrPairs first: String, predictionFolder: String?) -> CallOutcome {
        outcome {
            var cases: [BatchCase]
            var warnings: [String] = []
            let inputs: [String: String]
            if let predictionFolder {
                let pairing = try CasePairing.pair(referenceFolder: first, predictionFolder: predictionFolder)
                (cases, warnings) = (pairing.cases, pairing.warnings)
                inputs = ["references": first, "predictions": predictionFolder]
            } else {
                cases = try PairsFile.read(path: first)
                inputs = ["pairs": first]
            }
            let json = JSONValue.object([
                "cases": .array(
                    cases.map { item in
                        .object([
                            "case": .string(item.id), "reference": item.reference.map { .string($0) } ?? .null,
                            "prediction": item.prediction.map { .string($0) } ?? .null,
                            "problem": item.problem.map { .string($0) } ?? .null,
                        ])
                    }),
                "warnings": .array(warnings.map { .string($0) }),
                "inputs": .object(inputs.mapValues { .string($0) }),
            ])
            return .success(json: json.rendered(), text: nil, engineSeconds: 0)
        }
    }

    /// The rows `maskeval batch` writes for one case: an error becomes an `error` row, not a
    /// failed call.
    static func batchCase(id: String, reference: String?, prediction: String?, options: CallOptions) -> CallOutcome {
        // What the pairing found wrong with the case (two files for one id): an error row.
        let problem = options.values["case-problem"]
        return outcome {
            let options = try options.checked()
            var comparison = try self.comparison(options, threads: options.threads ?? activeCoreCount)
            comparison.settings.bootstrap = BootstrapSettings()  // batch's default
            let run = BatchRun(
                comparison: comparison,
                cases: [BatchCase(id: id, reference: reference, prediction: prediction, problem: problem)],
                threads: comparison.threads, jobs: 1)
            let result = run.run()
            // The case's facts travel with its rows to `batchSummary`, so that the notes that
            // need more than rows (the ignore label, scaled labels, biou) reach Python's batch.
            guard case .object(var document) = RowFiles.json(result) else { throw CallFailure(.internal, "rows") }
            document["case_facts"] = .array(result.caseFacts.map(Self.json))
            return .success(json: JSONValue.object(document).rendered(), text: nil, engineSeconds: 0)
        }
    }

    /// A case's facts for the notes, as `batchCase` passes them on.
    private static func json(_ facts: RunNotes.CaseFacts) -> JSONValue {
        .object([
            "case": .string(facts.caseID), "ignored_voxels": .int(facts.ignoredVoxels),
            "smallest_spacing_mm": .number(facts.smallestSpacingMM),
            "scaled_labels": .array(facts.scaledLabels.map { .string($0) }),
        ])
    }

    /// The facts `json(_:)` wrote; nil for anything else.
    private static func facts(_ value: JSONValue) -> RunNotes.CaseFacts? {
        guard let caseID = value["case"]?.stringValue, let ignored = value["ignored_voxels"]?.intValue,
            let spacing = value["smallest_spacing_mm"]?.doubleValue
        else { return nil }
        let scaled = value["scaled_labels"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return RunNotes.CaseFacts(
            caseID: caseID, ignoredVoxels: ignored, smallestSpacingMM: spacing, scaledLabels: scaled)
    }

    /// What `batch --output rows.json --summary` write, and batch's stdout table as text, for
    /// the rows of all cases, given as `{"rows": [...], "warnings": [...], "cases": [ids],
    /// "case_facts": [...]}` with `batchCase`'s row and fact objects: `{"rows_document": …, "summary": …}`.
    static func batchSummary(rowsJSON: String, options: CallOptions) -> CallOutcome {
        outcome {
            let options = try options.checked()
            var comparison = try self.comparison(options, threads: options.threads ?? activeCoreCount)
            comparison.settings.bootstrap = BootstrapSettings()  // batch's default
            guard let document = try? JSONValue.parse(rowsJSON), document["rows"]?.arrayValue != nil else {
                throw CallFailure(.input, "rows_json: expected {\"rows\": [...]}")
            }
            let settings = comparison.settings
            let rows = try RowFile.rows(json: document, settings: settings, path: "rows_json")
            let warnings = document["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let facts = document["case_facts"]?.arrayValue?.compactMap(Self.facts) ?? []
            let result = BatchResult(
                rows: RowTable.expandErrorRows(rows, settings: settings), settings: settings, warnings: warnings,
                caseFacts: facts)
            let json = JSONValue.object([
                "rows_document": RowFiles.json(result),
                "summary": SummaryReport.json(result, gateFailures: []),
            ])
            // `cases`: the ids evaluated, so that a case without a row (both volumes empty) is
            // named as the CLI names it (the rows alone cannot show it).
            let caseIDs = document["cases"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let empty = RunNotes.casesWithoutRows(result.rows, caseIDs: caseIDs).map { [$0] } ?? []
            return .success(
                json: json.rendered(), text: { SummaryReport.table(result) }, engineSeconds: 0,
                // The API has no --allow-missing: a missing prediction is said, not failed.
                notes: empty + result.notes + result.caseLines(allowMissing: true))
        }
    }

    // MARK: helpers

    /// Runs `body`, turning every thrown error into the CLI's status and message.
    private static func outcome(_ body: () throws -> CallOutcome) -> CallOutcome {
        do {
            return try body()
        } catch let failure as CallFailure {
            return .failure(failure)
        } catch let failure as GeometryError {
            return .failure(CallFailure(.geometry, failure.description))
        } catch let failure as MaskEvalFailure {
            let kind: CallFailure.Kind
            switch failure.exitStatus {
            case .usage: kind = .usage
            case .dataError: kind = .input
            case .noInput: kind = .missing
            default: kind = .internal
            }
            return .failure(CallFailure(kind, failure.description, status: failure.exitStatus.rawValue))
        } catch {
            return .failure(CallFailure(.internal, "\(error)"))
        }
    }

    /// The comparison the options describe (as `DefinitionOptions.settings` in the CLI).
    private static func comparison(_ options: CallOptions, threads: Int) throws -> Comparison {
        let names = try options.labelNames.map { try LabelNames.read(path: $0) } ?? LabelNames()
        var settings = RunSettings()
        settings.presets = options.compat == "all" ? Compat.allCases : [Compat(rawValue: options.compat) ?? .monai]
        settings.percentile = options.percentile
        settings.toleranceMM = options.toleranceMM
        settings.labels = try options.labels.map { try LabelList.parse($0, names: names) }
        settings.binary = options.binary
        settings.geometry = options.resample ? .resampled : (options.ignoreGeometry ? .ignored : .checked)
        settings.geometryToleranceMM = options.geometryToleranceMM ?? GeometryCheck.defaultToleranceMM
        switch options.penalty {
        case nil: settings.penalty = .none
        case .mm(let value): settings.penalty = .millimetres(value)
        case .diagonal: settings.penalty = .diagonal
        }
        settings.inputs = options.inputs
        return Comparison(settings: settings, names: names, threads: threads, maxVoxels: options.maxVoxels)
    }

    /// The grid two arrays share, after checking rank, type, shape and spacing with messages
    /// worded like the CLI's header and geometry checks.
    private static func arrayGrid(reference: ArrayInput, prediction: ArrayInput, spacingMM: [Double]) throws -> Grid {
        for array in [reference, prediction] {
            guard (1...3).contains(array.rank) else {
                throw CallFailure(
                    .input, "\(array.name): \(array.rank)-D array: only 1-D, 2-D and 3-D label arrays are supported")
            }
            guard array.data != nil, array.shape.count == array.rank, array.strides.count == array.rank else {
                throw CallFailure(.usage, "\(array.name): data, shape or strides is NULL")
            }
            guard VoxelType(code: array.typeCode) != nil else {
                throw CallFailure(
                    .input, "\(array.name): element type code \(array.typeCode) is not a label type")
            }
            for (axis, size) in array.shape.enumerated() where size < 1 {
                throw CallFailure(.input, "\(array.name): axis \(axis) has size \(size); sizes must be positive")
            }
        }
        let dims = reference.shape + [Int](repeating: 1, count: 3 - reference.rank)
        let predictionDims = prediction.shape + [Int](repeating: 1, count: 3 - prediction.rank)
        guard reference.rank == prediction.rank, dims == predictionDims else {
            throw CallFailure(
                .input,
                "\(prediction.name): dims \(prediction.shape.map(String.init).joined(separator: "×")) differ from the "
                    + "reference's \(reference.shape.map(String.init).joined(separator: "×"))")
        }
        guard spacingMM.count == reference.rank else {
            throw CallFailure(
                .input, "spacing has \(spacingMM.count) values for \(reference.rank)-D arrays; give one per axis")
        }
        for (axis, value) in spacingMM.enumerated() where !(value.isFinite && value >= 1e-6 && value <= 1e6) {
            throw CallFailure(
                .input,
                "\(reference.name): voxel spacing along \(["i", "j", "k"][axis]) is \(value) (spacing[\(axis)]); "
                    + "it must be positive (1e-6 to 1e6 mm)")
        }
        let (voxels, overflow) = dims[0].multipliedReportingOverflow(by: dims[1])
        let (_, overflow2) = voxels.multipliedReportingOverflow(by: dims[2])
        if overflow || overflow2 {
            throw CallFailure(.input, "\(reference.name): dimensions \(dims[0])×\(dims[1])×\(dims[2]) overflow")
        }
        let spacing = spacingMM + [Double](repeating: 1, count: 3 - spacingMM.count)
        return Grid(nx: dims[0], ny: dims[1], nz: dims[2], affine: .diagonal(spacing[0], spacing[1], spacing[2]))
    }

    /// Calls `body` with both arrays' labels in voxel order (i fastest) as buffers of one
    /// type. Two arrays of one label type (uint8, int8, uint16, int16, int32) in native
    /// byte order, laid out i fastest without gaps (Fortran order, as nibabel gives them) and
    /// aligned, are handed over in place: no copy, no conversion. Other arrays of one such
    /// type are copied in their type (transposed from C order, byte-swapped); any other
    /// type, or two types, are converted to Int32, and a value that is not an integral
    /// Int32 label is the CLI's error for such a voxel (`NIfTIReader.read`).
    private static func withLabels<R>(
        _ reference: ArrayInput, _ prediction: ArrayInput, grid: Grid, threads: Int, _ body: (LabelBuffers) throws -> R
    ) throws -> R {
        let types = [reference, prediction].map { VoxelType(code: $0.typeCode) }
        let shared = types[0] == types[1] ? types[0].flatMap(LabelArray.Kind.init) : nil
        if let kind = shared, let buffers = inPlace(reference, prediction, kind: kind, grid: grid) {
            return try body(buffers)
        }
        let r = try labels(of: reference, grid: grid, keepingType: shared != nil, threads: threads)
        let p = try labels(of: prediction, grid: grid, keepingType: shared != nil, threads: threads)
        return try LabelArray.withBuffers(r, p, body)
    }

    /// Both arrays as they lie in memory, when they can be read so.
    private static func inPlace(_ reference: ArrayInput, _ prediction: ArrayInput, kind: LabelArray.Kind, grid: Grid)
        -> LabelBuffers?
    {
        let count = grid.voxelCount
        let dims = [grid.nx, grid.ny, grid.nz]
        func view<T: LabelValue>(_ array: ArrayInput, _: T.Type) -> UnsafeBufferPointer<T>? {
            guard let data = array.data, array.typeCode & VoxelType.byteSwappedFlag == 0,
                Int(bitPattern: data) % MemoryLayout<T>.alignment == 0
            else { return nil }
            var expected = 1
            for (axis, stride) in array.strides.enumerated() {
                if dims[axis] > 1 && stride != expected { return nil }
                expected *= dims[axis]
            }
            return UnsafeBufferPointer(start: data.assumingMemoryBound(to: T.self), count: count)
        }
        func pair<T: LabelValue>(_ type: T.Type) -> (UnsafeBufferPointer<T>, UnsafeBufferPointer<T>)? {
            guard let r = view(reference, type), let p = view(prediction, type) else { return nil }
            return (r, p)
        }
        switch kind {
        case .uint8: return pair(UInt8.self).map { .uint8($0.0, $0.1) }
        case .int8: return pair(Int8.self).map { .int8($0.0, $0.1) }
        case .uint16: return pair(UInt16.self).map { .uint16($0.0, $0.1) }
        case .int16: return pair(Int16.self).map { .int16($0.0, $0.1) }
        case .int32: return pair(Int32.self).map { .int32($0.0, $0.1) }
        }
    }

    /// The array's labels in voxel order, in its own type (`keepingType`, for the label
    /// types) or as Int32; a value that is not an integral Int32 label is the CLI's error
    /// for such a voxel (`NIfTIReader.read`).
    private static func labels(of array: ArrayInput, grid: Grid, keepingType: Bool, threads: Int) throws -> LabelArray {
        guard let data = array.data,
            let type = VoxelType(code: array.typeCode)
        else { throw CallFailure(.usage, "\(array.name): data is NULL") }
        let strides = array.strides + [Int](repeating: 0, count: 3 - array.strides.count)
        let result = ArrayLabels.convert(
            data, type: type, swapped: array.typeCode & VoxelType.byteSwappedFlag != 0,
            dims: (grid.nx, grid.ny, grid.nz), strides: (strides[0], strides[1], strides[2]), keepingType: keepingType,
            threads: threads)
        switch result {
        case .success(let labels): return labels
        case .failure(let bad):
            throw CallFailure(
                .input,
                "\(array.name): voxel (\(bad.i), \(bad.j), \(bad.k)) holds \(bad.value), which is not an integer label"
                    + " in the Int32 range")
        }
    }

    /// `--binary`: 1 for every non-zero label, one byte per voxel.
    private struct Binarize: LabelPairVisitor {
        func visit<T: LabelValue>(_ reference: UnsafeBufferPointer<T>, _ prediction: UnsafeBufferPointer<T>)
            -> ([UInt8], [UInt8])
        {
            (reference.map { $0 == 0 ? 0 : 1 }, prediction.map { $0 == 0 ? 0 : 1 })
        }
    }
}
