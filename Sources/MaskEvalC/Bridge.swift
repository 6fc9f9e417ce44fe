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
            var ref = LabelVolume(
                grid: grid, labels: try labels(of: reference, grid: grid, threads: threads), path: reference.name)
            var pred = LabelVolume(
                grid: grid, labels: try labels(of: prediction, grid: grid, threads: threads), path: prediction.name)
            let comparison = try self.comparison(options, threads: threads)
            if comparison.binary {
                ref.labels = ref.labels.map { $0 == 0 ? 0 : 1 }
                pred.labels = pred.labels.map { $0 == 0 ? 0 : 1 }
            }
            let evaluation = Evaluator.evaluate(reference: ref, prediction: pred, settings: comparison.settings)
            let report = CompareReport(
                evaluation: evaluation, reference: ref.description, prediction: pred.description,
                names: try names(options), penaltyMM: penaltyMM(options, grid: grid),
                geometry: comparison.geometry.rawValue, binary: comparison.binary)
            return .success(
                json: report.json().rendered(), text: report.table(),
                engineSeconds: evaluation.timings.overlapSeconds + evaluation.timings.distanceSeconds)
        }
    }

    /// `maskeval compare REF PRED --format json` (a nil prediction: an empty one).
    static func compareFiles(reference: String, prediction: String?, options: CallOptions) -> CallOutcome {
        outcome {
            let options = try options.checked()
            let comparison = try self.comparison(options, threads: options.threads ?? activeCoreCount)
            let outcome = try comparison.run(reference: reference, prediction: prediction)
            let report = CompareReport(
                evaluation: outcome.evaluation, reference: outcome.reference, prediction: outcome.prediction,
                names: try names(options), penaltyMM: penaltyMM(options, grid: outcome.reference.grid),
                geometry: comparison.geometry.rawValue, binary: comparison.binary)
            let t = outcome.evaluation.timings
            return .success(
                json: report.json().rendered(), text: report.table(),
                engineSeconds: t.overlapSeconds + t.distanceSeconds)
        }
    }

    // MARK: batch

    /// The cases of `maskeval batch`: two folders paired by case id, or a `--pairs` CSV.
    static func batchCases(referenceFolderOrPairs first: String, predictionFolder: String?) -> CallOutcome {
        outcome {
            var cases: [BatchCase]
            var warnings: [String] = []
            if let predictionFolder {
                (cases, warnings) = try CasePairing.pair(referenceFolder: first, predictionFolder: predictionFolder)
            } else {
                cases = try CasePairing.read(pairs: first)
            }
            let json = JSONValue.object([
                "cases": .array(
                    cases.map { item in
                        .object([
                            "case": .string(item.id), "reference": item.reference.map { .string($0) } ?? .null,
                            "prediction": item.prediction.map { .string($0) } ?? .null,
                        ])
                    }),
                "warnings": .array(warnings.map { .string($0) }),
            ])
            return .success(json: json.rendered(), text: nil, engineSeconds: 0)
        }
    }

    /// The rows `maskeval batch` writes for one case (as `Batch.evaluate` in the CLI): an
    /// error becomes one `error` row, not a failed call.
    static func batchCase(id: String, reference: String?, prediction: String?, options: CallOptions) -> CallOutcome {
        outcome {
            let options = try options.checked()
            let comparison = try self.comparison(options, threads: options.threads ?? activeCoreCount)
            let names = try self.names(options)
            var engineSeconds = 0.0
            let rows: [ResultRow]
            do {
                guard let reference else {
                    throw InputError.badFile(path: prediction ?? id, reason: "no reference")
                }
                let outcome = try comparison.run(reference: reference, prediction: prediction)
                let report = CompareReport(
                    evaluation: outcome.evaluation, reference: outcome.reference, prediction: outcome.prediction,
                    names: names, geometry: comparison.geometry.rawValue, binary: comparison.binary)
                rows = report.rows(caseID: id)
                engineSeconds = outcome.evaluation.timings.overlapSeconds + outcome.evaluation.timings.distanceSeconds
            } catch {
                let message = (error as? MaskEvalFailure)?.description ?? "\(error)"
                rows = [ResultRow(caseID: id, label: nil, name: "", status: "error", error: message)]
            }
            let keys = ResultRow.metricKeys(percentile: options.percentile)
            let json = RowTable.json(rows, metricKeys: keys, warnings: [])
            return .success(json: json.rendered(), text: nil, engineSeconds: engineSeconds)
        }
    }

    /// `batch --summary`'s JSON (and batch's stdout table as text) for the rows of all cases,
    /// given as `{"metric_keys": [...], "rows": [...]}` with `batchCase`'s row objects.
    static func batchSummary(rowsJSON: String, options: CallOptions) -> CallOutcome {
        outcome {
            let options = try options.checked()
            guard let object = try? JSONValue.parse(rowsJSON), let keys = object["metric_keys"]?.arrayValue,
                let rawRows = object["rows"]?.arrayValue
            else { throw CallFailure(.input, "rows_json: expected {\"metric_keys\": [...], \"rows\": [...]}") }
            let metricKeys = keys.compactMap(\.stringValue)
            // As `RowTable` reads rows back: null distances of missed/spurious rows are +inf.
            let rows = rawRows.map { raw -> ResultRow in
                var row = ResultRow(
                    caseID: raw["case"]?.stringValue ?? "", label: raw["label"]?.intValue.map { Int32($0) },
                    name: raw["name"]?.stringValue ?? "", status: raw["status"]?.stringValue ?? "",
                    error: raw["error"]?.stringValue ?? "")
                for key in metricKeys {
                    if let number = raw[key]?.doubleValue {
                        row.values[key] = number
                    } else if key.hasSuffix("_mm"), row.status == "missed" || row.status == "spurious" {
                        row.values[key] = .infinity
                    }
                }
                return row
            }
            let summary = BatchSummary(rows: rows, metricKeys: metricKeys, penaltyMM: penaltyMM(options, grid: nil))
            return .success(json: summary.json(gateFailures: []).rendered(), text: summary.table(), engineSeconds: 0)
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

    /// The comparison the options describe (as `MetricOptions.comparison` in the CLI).
    private static func comparison(_ options: CallOptions, threads: Int) throws -> Comparison {
        let presets = options.compat == "all" ? Compat.allCases : [Compat(rawValue: options.compat) ?? .monai]
        var comparison = Comparison(
            settings: EvaluationSettings(
                labels: try options.labels.map(LabelList.parse), percentile: options.percentile,
                toleranceMM: options.toleranceMM, presets: presets, threads: threads))
        comparison.geometry = options.resample ? .resampled : (options.ignoreGeometry ? .ignored : .checked)
        comparison.geometryToleranceMM = options.geometryToleranceMM ?? GeometryCheck.defaultToleranceMM
        comparison.binary = options.binary
        comparison.maxVoxels = options.maxVoxels
        return comparison
    }

    private static func names(_ options: CallOptions) throws -> LabelNames {
        try options.labelNames.map { try LabelNames.read(path: $0) } ?? LabelNames()
    }

    private static func penaltyMM(_ options: CallOptions, grid: Grid?) -> Double? {
        switch options.penalty {
        case nil: return nil
        case .mm(let value): return value
        case .diagonal: return grid?.diagonalMM
        }
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
            guard ElementType(rawValue: array.typeCode & ~ElementType.byteSwappedFlag) != nil else {
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

    /// The array's labels in voxel order; a value that is not an integral Int32 label is the
    /// CLI's error for such a voxel (`NIfTIReader.read`).
    private static func labels(of array: ArrayInput, grid: Grid, threads: Int) throws -> [Int32] {
        guard let data = array.data,
            let type = ElementType(rawValue: array.typeCode & ~ElementType.byteSwappedFlag)
        else { throw CallFailure(.usage, "\(array.name): data is NULL") }
        let strides = array.strides + [Int](repeating: 0, count: 3 - array.strides.count)
        let result = ArrayLabels.convert(
            data, type: type, swapped: array.typeCode & ElementType.byteSwappedFlag != 0,
            dims: (grid.nx, grid.ny, grid.nz), strides: (strides[0], strides[1], strides[2]), threads: threads)
        switch result {
        case .success(let labels): return labels
        case .failure(let bad):
            throw CallFailure(
                .input,
                "\(array.name): voxel (\(bad.i), \(bad.j), \(bad.k)) holds \(bad.value), which is not an integer label"
                    + " in the Int32 range")
        }
    }
}
