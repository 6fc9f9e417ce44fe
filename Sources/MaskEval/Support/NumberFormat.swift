import Foundation

/// Numbers in messages: compact, and with enough digits to show a difference.
enum NumberFormat {
    /// Up to `digits` significant digits, no trailing zeros ("1.5", "0.001", "1e+06").
    static func compact(_ value: Double, digits: Int = 6) -> String {
        var text = String(format: "%.\(digits)g", value)
        if text == "-0" { text = "0" }
        return text
    }

    /// `a` and `b` joined by "×", with the fewest significant digits (6 to 17) that make
    /// the two texts differ when the values do: never "1×1×1 differs from 1×1×1".
    static func distinguishing(_ a: [Double], _ b: [Double]) -> (String, String) {
        func text(_ values: [Double], _ digits: Int) -> String {
            values.map { compact($0, digits: digits) }.joined(separator: "×")
        }
        for digits in 6...17 where text(a, digits) != text(b, digits) || a == b {
            return (text(a, digits), text(b, digits))
        }
        return (text(a, 17), text(b, 17))
    }
}
