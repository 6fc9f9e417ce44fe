/// The names of a volume's labels (read by `LabelNames.read` in Inputs/). Names match
/// case-insensitively where options refer to them (`--require`, `--labels`).
public struct LabelNames: Equatable, Sendable {
    public var names: [Int32: String]

    public init(_ names: [Int32: String] = [:]) { self.names = names }

    public subscript(label: Int32) -> String? { names[label] }

    /// The label called `name` (case-insensitive), if exactly one is.
    public func label(named name: String) -> Int32? {
        let wanted = name.lowercased()
        return names.first { $0.value.lowercased() == wanted }?.key
    }
}
