/// Number formatting shared by the text reports.
public enum Format {
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
