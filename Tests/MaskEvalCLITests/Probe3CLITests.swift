import Foundation
import MaskEval
import Testing

/// The third new-user probe's findings (nothing silent, nothing misleading): each test
/// failed before its fix.
struct Probe3CLITests {
    /// A case without its prediction was announced as `ok` in the per-case progress line
    /// (only the end of the run said otherwise).
    @Test func progressLineSaysNoPrediction() throws {
        let folder = try Probe2CLITests.bratsFolders()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.removeItem(atPath: folder + "/pred/b.nii.gz")
        let run = try Run(["batch", folder + "/ref", folder + "/pred", "--bootstrap", "0"])
        #expect(run.status == 65, "\(run.stderr)")
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("case ") && $0.contains(" b no prediction (") }, "\(run.stderr)")
        #expect(lines.contains { $0.hasPrefix("case ") && $0.contains(" a ok (") }, "\(run.stderr)")
    }
}
