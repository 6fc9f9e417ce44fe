import Foundation

/// A quality gate (`--require "dice>=0.8"`, `--require "liver:hd95_mm<=5"`): every row in
/// its scope must satisfy it. A non-finite or undefined value fails every gate.
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
    }

    public var text: String
    public var scope: Scope?
    public var metric: String
    public var comparison: Comparison
    public var threshold: Double

    public var description: String { text }

    /// Parses `[SCOPE:]METRIC OP VALUE`, with METRIC one of `metricKeys`.
    public static func parse(_ text: String, metricKeys: [String]) throws -> Gate {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        var scope: Scope?
        if let colon = body.lastIndex(of: ":") {
            let scopeText = body[..<colon].trimmingCharacters(in: .whitespaces)
            scope = Int32(scopeText).map { .label($0) } ?? .name(scopeText)
            body = body[body.index(after: colon)...]
        }
        // Two-character operators first, so ">=" is not read as ">".
        let operators = Comparison.allCases.sorted { $0.rawValue.count > $1.rawValue.count }
        for comparison in operators {
            guard let range = body.range(of: comparison.rawValue) else { continue }
            let metric = body[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            let valueText = body[range.upperBound...].trimmingCharacters(in: .whitespaces)
            guard metricKeys.contains(metric) else {
                throw InputError.usage(
                    "--require '\(text)': unknown metric '\(metric)' (one of \(metricKeys.joined(separator: ", ")))")
            }
            guard let threshold = Double(valueText), threshold.isFinite else {
                throw InputError.usage("--require '\(text)': '\(valueText)' is not a number")
            }
            return Gate(text: text, scope: scope, metric: metric, comparison: comparison, threshold: threshold)
        }
        throw InputError.usage("--require '\(text)': expected METRIC>=VALUE, METRIC<=VALUE, > or <, e.g. dice>=0.8")
    }

    public func applies(to row: ResultRow) -> Bool {
        guard row.status != "error", let label = row.label else { return false }
        switch scope {
        case .none: return true
        case .label(let value): return value == label
        case .name(let name): return name == row.name
        }
    }

    /// True when the row passes (rows out of scope pass).
    public func passes(_ row: ResultRow) -> Bool {
        guard applies(to: row) else { return true }
        guard let value = row.values[metric], value.isFinite else { return false }
        switch comparison {
        case .atLeast: return value >= threshold
        case .atMost: return value <= threshold
        case .greater: return value > threshold
        case .less: return value < threshold
        }
    }

    /// Every failing (row, gate), in row order.
    public static func failures(_ rows: [ResultRow], gates: [Gate]) -> [GateFailure] {
        var out: [GateFailure] = []
        for row in rows {
            for gate in gates where !gate.passes(row) {
                out.append(GateFailure(row: row, gate: gate))
            }
        }
        return out
    }
}

/// A row that failed a gate.
public struct GateFailure: Equatable, Sendable, CustomStringConvertible {
    public var row: ResultRow
    public var gate: Gate

    public var value: Double? { row.values[gate.metric] }

    public var description: String {
        let where_ = row.caseID.isEmpty ? "" : "case \(row.caseID), "
        let label = row.label.map { String($0) } ?? "-"
        let name = row.name.isEmpty ? "" : " (\(row.name))"
        return
            "gate failed: \(where_)label \(label)\(name): \(gate.metric) = \(Format.exact(value).isEmpty ? "null" : Format.exact(value)), required \(gate.metric)\(gate.comparison.rawValue)\(Format.compact(gate.threshold))"
    }

    public func json() -> JSONValue {
        .object([
            "case": .string(row.caseID), "label": row.label.map { .int(Int($0)) } ?? .null, "name": .string(row.name),
            "metric": .string(gate.metric), "value": .finite(value), "gate": .string(gate.text),
        ])
    }
}

/// Per-label NSD tolerances (`--tolerance-map FILE`): lines "LABEL MM" (value or name), or
/// a JSON object {"1": 2.0, "liver": 3}.
public enum ToleranceMap {
    public static func read(path: String, names: LabelNames) throws -> [Int32: Double] {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError.missingFile(path: path) }
        let text = String(decoding: data, as: UTF8.self)
        var entries: [(String, Double)] = []
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw InputError.badFile(path: path, reason: "not a JSON object of label → mm")
            }
            for (key, value) in object {
                guard let number = value as? NSNumber else {
                    throw InputError.badFile(path: path, reason: "tolerance of '\(key)' is not a number")
                }
                entries.append((key, number.doubleValue))
            }
        } else {
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
                guard fields.count >= 2, let mm = Double(fields[fields.count - 1]) else {
                    throw InputError.badFile(path: path, reason: "line \(number + 1): expected 'LABEL MM'")
                }
                entries.append((fields.dropLast().joined(separator: " "), mm))
            }
        }
        var map: [Int32: Double] = [:]
        let byName = Dictionary(names.names.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        for (key, mm) in entries {
            guard mm >= 0, mm.isFinite else {
                throw InputError.badFile(path: path, reason: "tolerance of '\(key)' must be ≥ 0 mm")
            }
            guard let label = Int32(key) ?? byName[key] else {
                throw InputError.badFile(path: path, reason: "'\(key)' is neither a label value nor a known label name")
            }
            map[label] = mm
        }
        return map
    }
}
