/// Label lists as given to `--labels`: values, ranges and names, e.g. "1,3,5-9,liver".
public enum LabelList {
    /// The most labels a list may name (each becomes a row, so more is a mistake: the
    /// largest atlases have a few thousand structures).
    public static let maximumCount = 65_536
    /// The most values a list may spell out, repeats included (repeated huge ranges would
    /// otherwise take seconds and gigabytes before anything is checked).
    public static let maximumExpanded = 1_000_000

    public static func parse(_ text: String, names: LabelNames = LabelNames()) throws -> [Int32] {
        var labels: [Int32] = []
        var seen = Set<Int32>()
        var expanded = 0
        func add(_ label: Int32) throws {
            expanded += 1
            guard expanded <= maximumExpanded else {
                throw InputError.usage("--labels: spells out more than \(maximumExpanded) values")
            }
            guard seen.insert(label).inserted else { return }
            labels.append(label)
            guard labels.count <= maximumCount else {
                throw InputError.usage("--labels: more than \(maximumCount) labels")
            }
        }
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            let bounds = item.split(separator: "-", maxSplits: 1).map { String($0) }
            if bounds.count == 2, let low = Int32(bounds[0]), let high = Int32(bounds[1]), low <= high {
                guard Int(high) - Int(low) < maximumExpanded else {
                    throw InputError.usage("--labels: range '\(item)' holds more than \(maximumExpanded) labels")
                }
                for label in low...high { try add(label) }
            } else if bounds.count == 1, let value = Int32(item) {
                try add(value)
            } else if let label = names.label(named: item) {
                try add(label)
            } else {
                let known = names.names.isEmpty ? " (no --label-names given)" : ""
                throw InputError.usage("--labels: '\(item)' is not a label, a range like 5-9 or a known name\(known)")
            }
        }
        if seen.contains(0) { throw InputError.usage("--labels: 0 is background and has no surface metrics") }
        return labels
    }
}
