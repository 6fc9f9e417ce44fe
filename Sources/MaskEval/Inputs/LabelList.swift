/// Label lists as given to `--labels`: values, ranges and names, e.g. "1,3,5-9,liver".
public enum LabelList {
    /// The most labels a list may expand to (label values are Int32; no image holds more
    /// distinct labels than this without being a mistake).
    public static let maximumCount = 1_000_000

    public static func parse(_ text: String, names: LabelNames = LabelNames()) throws -> [Int32] {
        var labels: [Int32] = []
        var seen = Set<Int32>()
        func add(_ label: Int32) throws {
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
                guard Int(high) - Int(low) < maximumCount else {
                    throw InputError.usage("--labels: range '\(item)' holds more than \(maximumCount) labels")
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
