/// The version printed by `maskeval --version` and stored in every JSON report.
public enum MaskEvalVersion {
    public static let string = "0.2.0"
}
