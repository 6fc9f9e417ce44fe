import Foundation

/// Aligned plain-text columns: text left-aligned, numbers right-aligned.
struct TextTable {
    enum Alignment { case left, right }
    var headers: [String]
    var alignments: [Alignment]
    var rows: [[String]] = []

    init(_ columns: [(String, Alignment)]) {
        headers = columns.map { $0.0 }
        alignments = columns.map { $0.1 }
    }

    mutating func add(_ row: [String]) {
        precondition(row.count == headers.count, "a row needs one cell per column")
        rows.append(row)
    }

    func rendered(indent: String = "") -> String {
        var widths = headers.map { $0.count }
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return alignments[index] == .left ? cell + pad : pad + cell
            }
            var text = indent + padded.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}

/// Number formatting shared by the text reports.
enum Format {
    /// Fixed decimals; `inf`, `-inf` and `nan` spelled out (METRICS.md: text shows `inf`).
    static func fixed(_ value: Double?, _ digits: Int) -> String {
        guard let value else { return "-" }
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return String(format: "%.\(digits)f", value)
    }

    /// Shortest form that round-trips, for CSV; `inf`/`nan` spelled out, empty for nil.
    static func exact(_ value: Double?) -> String {
        guard let value else { return "" }
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return String(value)
    }

    /// Compact form for spacings and affines: up to 6 significant digits, no trailing zeros.
    static func compact(_ value: Double) -> String {
        var text = String(format: "%.6g", value)
        if text == "-0" { text = "0" }
        return text
    }
}
