import Synchronization

/// A batch: many cases evaluated with one `Comparison` (lesion-wise with `settings.lesions`:
/// one row of lesion aggregates per case and structure), `jobs` cases at once, each with
/// `threads / jobs` threads, so memory stays bounded by `jobs` pairs of volumes. Failures
/// never vanish: a case that cannot be read gives `error` rows (one per structure the other
/// cases have), a case without a prediction file gives `no_prediction` rows.
public struct BatchRun: Sendable {
    public var comparison: Comparison
    public var cases: [BatchCase]
    /// Cases evaluated at once (default: up to 4, at most the thread count).
    public var jobs: Int?
    public var threads: Int
    public var shard: Shard?
    public var warnings: [String] = []
    /// Called right after each case is evaluated, on the worker that evaluated it, with the
    /// case's full result (volumes, evaluation) while it is still in memory: per-case
    /// reports are written here, so the batch never holds more than `jobs` cases. An error
    /// it throws turns the case into an `error` case. Set `comparison.keepDetail` when it
    /// draws pictures.
    public var onCase: (@Sendable (BatchCase, Comparison.Result) throws -> Void)?

    public init(comparison: Comparison, cases: [BatchCase], threads: Int, jobs: Int? = nil, shard: Shard? = nil) {
        self.comparison = comparison
        self.cases = cases
        self.threads = threads
        self.jobs = jobs
        self.shard = shard
    }

    /// What a progress callback hears after each case.
    public struct Progress: Sendable {
        public var finished: Int
        public var total: Int
        public var caseID: String
        public var error: String?
        /// True when the case has a reference but no prediction (its rows are `no_prediction`).
        public var missingPrediction = false

        /// The case's outcome in a progress line: `error: MESSAGE`, `no prediction` or `ok`
        /// (a case without its prediction read as `ok`).
        public var outcome: String {
            error.map { "error: \($0)" } ?? (missingPrediction ? "no prediction" : "ok")
        }
    }

    /// The cases this run evaluates (its shard), in id order.
    public var selectedCases: [BatchCase] {
        shard.map { CasePairing.shard(cases, $0) } ?? cases.sorted { $0.id < $1.id }
    }

    public func run(progress: @escaping @Sendable (Progress) -> Void = { _ in }) -> BatchResult {
        let work = selectedCases
        let jobs = max(1, min(jobs ?? min(4, threads), max(1, work.count)))
        var perCase = comparison
        perCase.threads = max(1, threads / jobs)
        let counter = ProgressCounter()
        var results = [(rows: [LabelRow], facts: RunNotes.CaseFacts?)](repeating: ([], nil), count: work.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let shared = UncheckedSendable(buffer)  // each worker writes its own cases
            parallelFor(work.count, threads: jobs) { index in
                let (rows, facts) = Self.evaluate(work[index], comparison: perCase, onCase: onCase)
                shared.value[index] = (rows, facts)
                let error = rows.first { $0.status == .error }?.error
                progress(
                    Progress(
                        finished: counter.next(), total: work.count, caseID: work[index].id, error: error,
                        missingPrediction: work[index].prediction == nil))
            }
        }
        let settings = comparison.settings
        return BatchResult(
            rows: RowTable.expandErrorRows(results.flatMap(\.rows), settings: settings), settings: settings,
            shard: shard, warnings: warnings, caseFacts: results.compactMap(\.facts))
    }

    /// The rows of one case and its facts for the notes; a case that cannot be evaluated gives
    /// one `error` row (label 0 until `RowTable.expandErrorRows` gives it the structures of the
    /// other cases) and no facts.
    static func evaluate(
        _ item: BatchCase, comparison: Comparison,
        onCase: (@Sendable (BatchCase, Comparison.Result) throws -> Void)? = nil
    ) -> (rows: [LabelRow], facts: RunNotes.CaseFacts?) {
        do {
            if let problem = item.problem { throw InputError.badFile(path: item.reference ?? item.id, reason: problem) }
            guard let reference = item.reference else {
                throw InputError.badFile(path: item.prediction ?? item.id, reason: "no reference")
            }
            if comparison.settings.lesions != nil {
                let result = try comparison.runLesions(
                    reference: reference, prediction: item.prediction, caseID: item.id)
                return (result.rows, result.facts(caseID: item.id))
            }
            let result = try comparison.run(reference: reference, prediction: item.prediction, caseID: item.id)
            try onCase?(item, result)
            return (result.rows, result.facts(caseID: item.id))
        } catch {
            let message = (error as? MaskEvalFailure)?.description ?? "\(error)"
            return ([LabelRow(caseID: item.id, label: 0, name: "", status: .error, error: message)], nil)
        }
    }
}

/// Counts finished cases across workers.
final class ProgressCounter: Sendable {
    private let count = Atomic<Int>(0)
    func next() -> Int { count.wrappingAdd(1, ordering: .relaxed).newValue }
}

/// The rows of a batch (or of merged shards) with the settings that made them.
public struct BatchResult: Sendable {
    public var rows: [LabelRow]
    public var settings: RunSettings
    /// The shard these rows are, when they are one.
    public var shard: Shard?
    public var warnings: [String]
    /// What each evaluated case tells the notes beyond its rows (none after `merge`).
    public var caseFacts: [RunNotes.CaseFacts]

    public init(
        rows: [LabelRow], settings: RunSettings, shard: Shard? = nil, warnings: [String] = [],
        caseFacts: [RunNotes.CaseFacts] = []
    ) {
        self.rows = rows
        self.settings = settings
        self.shard = shard
        self.warnings = warnings
        self.caseFacts = caseFacts
    }

    public var summary: Summary { Summary(rows: rows, settings: settings) }

    /// The notes of the run (`RunNotes`), for stderr.
    public var notes: [String] { RunNotes.lines(rows: rows, cases: caseFacts, settings: settings) }

    /// What a batch says after its table besides the notes: each failed case with its error,
    /// then the cases without a prediction (an error unless `allowMissing`, which the exit
    /// status follows). For the CLI's stderr and the Python package's warnings alike.
    public func caseLines(allowMissing: Bool) -> [String] {
        let summary = self.summary
        var lines = summary.errorCases.map { id in
            let message = rows.first { $0.caseID == id && $0.status == .error }?.error ?? ""
            return "case \(Escape.terminal(id)) failed: \(message)"
        }
        let missing = summary.casesWithoutPrediction
        if !missing.isEmpty {
            lines.append(
                "\(allowMissing ? "note" : "error"): \(missing.count) case(s) without a prediction: "
                    + missing.prefix(10).map(Escape.terminal).joined(separator: ", ")
                    + (allowMissing ? "" : " (counted as missed; --allow-missing accepts this)"))
        }
        return lines
    }

    /// The exit status of a finished batch: 65 when a case errored, or lacked its prediction
    /// without `allowMissing`; else 1 when a gate failed; else 0.
    public func exitStatus(gateFailures: [GateFailure], allowMissing: Bool) -> ExitStatus {
        let summary = self.summary
        if !summary.errorCases.isEmpty { return .dataError }
        if !allowMissing && !summary.casesWithoutPrediction.isEmpty { return .dataError }
        return gateFailures.isEmpty ? .success : .gateFailed
    }
}
