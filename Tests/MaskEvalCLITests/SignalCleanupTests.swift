import Foundation
import Testing

/// A run killed by SIGINT, SIGTERM or SIGHUP while it writes an output removes its temporary
/// file (`.NAME.tmp-PID-XXXX`) and still dies by that signal; the target is neither created
/// nor replaced. `MASKEVAL_TEST_PAUSE_BEFORE_RENAME` (test only) holds each write between its
/// data and its rename, so that the signal lands while the temporary exists, every time.
@Suite(.serialized) struct SignalCleanupTests {
    static let good = HostileInputTests.corpus + "/good.nii"

    /// Spawns `maskeval ARGUMENTS` with the pause and the default action for the three
    /// signals (a test runner started in the background may ignore SIGINT, which the child
    /// would inherit), waits until a temporary of `target` appears, sends `signal`, and
    /// returns the wait status and the folder's temporaries left afterwards.
    static func killWhileWriting(_ arguments: [String], target: String, signal: Int32) throws
        -> (status: Int32, leftovers: [String], sawTemporary: Bool)
    {
        let folder = (target as NSString).deletingLastPathComponent
        let prefix = "." + (target as NSString).lastPathComponent + ".tmp-"
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for each in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, each) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([Run.binary] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment =
            ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
            + ["MASKEVAL_TEST_PAUSE_BEFORE_RENAME=30"]
        let envp = environment.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, Run.binary, &actions, &attributes, argv, envp) == 0 else {
            throw CocoaError(.executableLoad)
        }
        func temporaries() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix(prefix) }
        }
        // Up to 20 s for the run to reach its write (it then waits 30 s before the rename).
        var sawTemporary = false
        for _ in 0..<1000 {
            if !temporaries().isEmpty {
                sawTemporary = true
                break
            }
            usleep(20_000)
        }
        kill(pid, signal)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status, temporaries(), sawTemporary)
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func killedWriteLeavesNoTemporaryAndNoTarget(signal: Int32) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let target = folder + "/out.json"
        let run = try Self.killWhileWriting(
            ["compare", Self.good, Self.good, "--output", target], target: target, signal: signal)
        #expect(run.sawTemporary)
        // Ended by the signal itself (not an exit status), after the temporary was removed.
        #expect(run.status & 0x7F == signal, "wait status \(run.status)")
        #expect(run.leftovers.isEmpty, "\(run.leftovers)")
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test func killedWriteLeavesAnExistingTargetAsItWas() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let target = folder + "/rows.csv"
        let before = "an earlier run's rows\n"
        try before.write(toFile: target, atomically: false, encoding: .utf8)
        let run = try Self.killWhileWriting(
            ["compare", Self.good, Self.good, "--output", target], target: target, signal: SIGTERM)
        #expect(run.sawTemporary)
        #expect(run.status & 0x7F == SIGTERM, "wait status \(run.status)")
        #expect(run.leftovers.isEmpty, "\(run.leftovers)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == before)
    }
}
