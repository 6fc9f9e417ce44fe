/// A quality gate (`--require`): `[SCOPE:][AGGREGATE:]METRIC OP VALUE`.
///
/// - Without an aggregate every row in scope must pass: `dice>=0.8`, `liver:hd95_mm<=5`,
///   `3:nsd>0.9`.
/// - With `mean:` or `median:` the aggregate over the rows in scope must pass:
///   `mean:dice>=0.85` (all structures of all cases), `liver:mean:hd95_mm<=5`.
/// The scope is a label value or a name (case-insensitive), with `--regions` a region's name.
/// In a lesion run the metrics are a structure's lesion aggregates (`lesion_dice`, `f1`, `tp`,
/// …). A non-finite or undefined value fails (+∞ counts as the penalty in aggregates when one
/// is set), except an undefined lesion rate of an `absent` structure (no lesion on either
/// side). A scope that matches no structure is a usage error (`resolve`), so a typo cannot
/// pass silently; a per-structure gate with no evaluated row in scope (two empty volumes)
/// fails, as an aggregate over no value does.
public struct Gate: Equatable, Sendable, CustomStringConvertible {
    public enum Scope: Equatable, Sendable {
        case label(Int32)
        case name(String)
    }

    public enum Comparison: String, Sendable, CaseIterable {
        case atLeast = ">="
        case atMost = "<="
        case greater = ">"
        case less = "<"

        func holds(_ value: Double, _ threshold: Double) -> Bool {
            switch self {
            case .atLeast: return value >= threshold
            case .atMost: return value <= threshold
            case .greater: return value > threshold
            case .less: return value < threshold
            }
        }
    }

    public var text: String
    public var scope: Scope?
    public var aggregate: Statistics.Aggregate?
    public var column: MetricColumn
    public var metricName: String
    public var comparison: Comparison
    public var threshold: Double
    /// The label the scope names, once resolved.
    public var label: Int32?

    public var description: String { text }

    /// Parses a gate for rows with `columns` named under `percentile`.
    public static func parse(_ text: String, columns: [MetricColumn], percentile: Double) throws -> Gate {
        var parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let body = parts.removeLast()
        var aggregate: Statistics.Aggregate?
        if let last = parts.last, let found = Statistics.Aggregate(rawValue: last.lowercased()) {
            aggregate = found
            parts.removeLast()
        }
        guard parts.count <= 1 else {
            throw InputError.usage("--require '\(text)': expected [SCOPE:][mean|median:]METRIC OP VALUE")
        }
        let scope: Scope? = parts.first.map { Int32($0).map(Scope.label) ?? .name($0) }
        for (wrong, right) in [("=>", ">="), ("=<", "<="), ("==", ">= or <=")] where body.contains(wrong) {
            throw InputError.usage("--require '\(text)': '\(wrong)' is not an operator; did you mean '\(right)'?")
        }
        // Two-character operators first, so ">=" is not read as ">".
        let operators = Comparison.allCases.sorted { $0.rawValue.count > $1.rawValue.count }
        for comparison in operators {
            guard let range = body.range(of: comparison.rawValue) else { continue }
            let metric = body[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            let valueText = body[range.upperBound...].trimmingCharacters(in: .whitespaces)
            guard let column = MetricColumn(name: metric, percentile: percentile), columns.contains(column) else {
                let known = columns.map { $0.name(percentile: percentile) }.joined(separator: ", ")
                throw InputError.usage("--require '\(text)': unknown metric '\(metric)' (one of \(known))")
            }
            guard let threshold = Double(valueText), threshold.isFinite else {
                throw InputError.usage("--require '\(text)': '\(valueText)' is not a number")
            }
            return Gate(
                text: text, scope: scope, aggregate: aggregate, column: column, metricName: metric,
                comparison: comparison, threshold: threshold)
        }
        if body.contains("=") {
            throw InputError.usage("--require '\(text)': '=' is not an operator; use >=, <=, > or <")
        }
        throw InputError.usage("--require '\(text)': expected METRIC>=VALUE, METRIC<=VALUE, > or <, e.g. dice>=0.8")
    }

    /// Binds the scope to a label: a value among `labels`, or a name of `names` (any case).
    /// A scope that matches nothing is a usage error listing what is known.
    public mutating func resolve(labels: Set<Int32>, names: LabelNames) throws {
        switch scope {
        case .none: return
        case .label(let value):
            guard labels.contains(value) else {
                let known = labels.sorted().prefix(20).map(String.init).joined(separator: ", ")
                throw InputError.usage(
                    "--require '\(text)': label \(value) is in neither volume nor --labels (labels: \(known)\(labels.count > 20 ? ", …" : ""))"
                )
            }
            label = value
        case .name(let name):
            if let found = names.label(named: name), !labels.contains(found) {
                // A known name whose label is not evaluated: "no structure is called
                // 'spleen'" contradicted the names file that defines it.
                throw InputError.usage(
                    "--require '\(text)': '\(name)' is label \(found), which is in neither volume nor --labels "
                        + "(ask for it with --labels \(found) to gate its absent row)")
            }
            guard let found = names.label(named: name), labels.contains(found) else {
                let known = labels.sorted().compactMap { names[$0] }
                let list =
                    known.isEmpty
                    ? "no label names are known; give --label-names or use a label value"
                    : "known names: " + known.prefix(20).joined(separator: ", ") + (known.count > 20 ? ", …" : "")
                throw InputError.usage("--require '\(text)': no structure is called '\(name)' (\(list))")
            }
            label = found
        }
    }

    func inScope(_ row: LabelRow) -> Bool {
        guard row.status.isEvaluated else { return false }
        return label.map { $0 == row.label } ?? true
    }

    func passes(_ value: Double?) -> Bool {
        guard let value, value.isFinite else { return false }
        return comparison.holds(value, threshold)
    }

    /// Every failure of `gates` on `rows`: per-row gates row by row, aggregate gates once.
    public static func failures(_ rows: [LabelRow], gates: [Gate], settings: RunSettings) -> [GateFailure] {
        var out: [GateFailure] = []
        for gate in gates where gate.aggregate == nil {
            // A gate with nothing to judge (no evaluated structure in its scope: two empty
            // volumes, every case failed) fails: a pipeline must not read that as a pass.
            if !rows.contains(where: gate.inScope) {
                out.append(GateFailure(gate: gate, row: nil, value: nil, n: 0))
                continue
            }
            for row in rows where gate.inScope(row) && !gate.passes(row.values[gate.column]) {
                // A structure without lesions on either side has no rate to judge (panoptica's
                // undefined precision, recall, f1, rq, sq, pq): nothing was to be found.
                if row.status == .absent && row.values[gate.column] == nil && gate.column.key.isLesion { continue }
                out.append(GateFailure(gate: gate, row: row, value: row.values[gate.column]))
            }
        }
        for gate in gates {
            guard let aggregate = gate.aggregate else { continue }
            let scoped = rows.filter(gate.inScope)
            let statistics = Summary.statistics(scoped, column: gate.column, settings: settings)
            let value = statistics.value(aggregate)
            if !gate.passes(value) { out.append(GateFailure(gate: gate, row: nil, value: value, n: statistics.n)) }
        }
        return out.sorted {
            ($0.row?.caseID ?? "\u{10FFFF}", $0.row?.label ?? 0) < ($1.row?.caseID ?? "\u{10FFFF}", $1.row?.label ?? 0)
        }
    }
}

/// A gate that failed: on one row, or on an aggregate (`row` nil), or a per-structure gate
/// with nothing to judge (`row` nil, `aggregate` nil). JSON: `gate`, `metric`, `value`, then
/// `case`, `label`, `name` for a row; else `aggregate` (`mean`, `median`, or null when the gate
/// had nothing to judge), `label` (null: all structures) and `n` (the values aggregated).
public struct GateFailure: Equatable, Sendable, CustomStringConvertible {
    public var gate: Gate
    public var row: LabelRow?
    public var value: Double?
    /// For aggregate gates: how many values entered the aggregate.
    public var n: Int = 0

    public var description: String {
        let whole = gate.column.key.isWhole && value.map { $0 == $0.rounded() && abs($0) < 1e15 } == true
        let shown = whole ? String(Int(value ?? 0)) : Format.exact(value).isEmpty ? "null" : Format.exact(value)
        let required = "required \(gate.metricName)\(gate.comparison.rawValue)\(Format.compact(gate.threshold))"
        guard let row else {
            let scope = gate.label.map { "label \($0)" } ?? "all structures"
            if gate.aggregate == nil {
                return "gate failed: \(gate.text): no evaluated structure in scope (\(scope)) to judge"
            }
            return
                "gate failed: \(gate.aggregate?.rawValue ?? "") \(gate.metricName) over \(scope) (n = \(n)) = \(shown), \(required)"
        }
        let place = row.caseID.isEmpty ? "" : "case \(Escape.terminal(row.caseID)), "
        let name = row.name.isEmpty ? "" : " (\(Escape.terminal(row.name)))"
        return "gate failed: \(place)label \(row.label)\(name): \(gate.metricName) = \(shown), \(required)"
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "metric": .string(gate.metricName), "value": .finite(value), "gate": .string(gate.text),
        ]
        if let row {
            object["case"] = .string(row.caseID)
            object["label"] = .int(Int(row.label))
            object["name"] = .string(row.name)
        } else {
            // null: a per-structure gate with no evaluated row in scope to judge.
            object["aggregate"] = gate.aggregate.map { .string($0.rawValue) } ?? .null
            object["label"] = gate.label.map { .int(Int($0)) } ?? .null
            object["n"] = .int(n)
        }
        return .object(object)
    }
}
