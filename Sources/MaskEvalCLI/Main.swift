import ArgumentParser
import Foundation
import MaskEval

/// Entry point: tidies the arguments, parses, runs, and turns every error into at most two
/// lines on stderr and the documented exit status (README, "Exit codes").
@main
enum Main {
    static func main() {
        // A reader that stops early (`| head -1`) ends the process the usual quiet way;
        // every other write error on stdout is reported (exit 74).
        signal(SIGPIPE, SIG_DFL)
        // Past a file-size limit (ulimit -f) a write fails with EFBIG and is reported (74),
        // instead of the signal ending the process with a temporary file left behind.
        signal(SIGXFSZ, SIG_IGN)
        // SIGINT, SIGTERM, SIGHUP: the temporary files of unfinished writes are removed.
        OutputFile.removeTemporariesOnSignals()
        do {
            let arguments = try Arguments.tidy(Array(CommandLine.arguments.dropFirst()))
            var command = try MaskEvalCommand.parseAsRoot(arguments)
            try command.run()
        } catch let failure as MaskEvalFailure {
            fail(failure.description, status: failure.exitStatus.rawValue)
        } catch let code as ExitCode {
            // The command has said what it had to say (gate failures, batch errors).
            exit(code.rawValue)
        } catch {
            let code = MaskEvalCommand.exitCode(for: error)
            if code == .success {
                do {
                    try StandardOutput.write(MaskEvalCommand.fullMessage(for: error) + "\n")
                } catch {
                    fail("\(error)", status: ExitStatus.cannotWrite.rawValue)
                }
                exit(0)
            }
            var message = MaskEvalCommand.message(for: error).replacingOccurrences(of: "\n", with: " ")
            // "compare -- -a.nii b.nii --format csv": everything after "--" is a file name.
            if CommandLine.arguments.contains("--"), message.contains("unexpected argument") {
                message += "; options go before '--' (every argument after it is a file name)"
            }
            fail(message + "\nRun 'maskeval help' for usage.", status: ExitStatus.usage.rawValue)
        }
        exit(0)
    }

    static func fail(_ message: String, status: Int32) -> Never {
        printError("maskeval: error: " + message)
        exit(status)
    }
}

/// One line on stderr.
func printError(_ line: String) {
    writeError(line + "\n")
}

/// Text on stderr. A stderr that cannot be written (closed: `2>&-`; a full disk) loses the
/// text but not the exit status: FileHandle's non-throwing `write(_:)` traps there (exit 132,
/// "Illegal instruction", for a gate failure or a missing input alike).
func writeError(_ text: String) {
    try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
}

struct MaskEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maskeval",
        abstract: "Evaluate 3-D segmentations: Dice, volumes and surface distances in mm, per structure.",
        discussion:
            "A file name that starts with '-' goes after '--', options before it: maskeval compare --format csv"
            + " -- -a.nii -b.nii",
        version: MaskEvalVersion.string,
        subcommands: [Compare.self, Batch.self, Merge.self, Diff.self, Lesions.self, Info.self]
    )
}

/// Argument fixes that swift-argument-parser does not make on its own.
enum Arguments {
    static var commandNames: [String] {
        MaskEvalCommand.configuration.subcommands.map { $0._commandName } + ["help"]
    }

    static func tidy(_ arguments: [String]) throws -> [String] {
        if let first = arguments.first, !first.hasPrefix("-"), !commandNames.contains(first) {
            let closest = commandNames.min { distance($0, first) < distance($1, first) } ?? "compare"
            throw InputError.usage(
                "unknown command '\(first)'"
                    + (distance(closest, first) <= 3 ? "; did you mean '\(closest)'?" : "")
                    + " (commands: \(commandNames.joined(separator: ", ")))")
        }
        var out: [String] = []
        var index = 0
        var afterSeparator = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            // `--html "$OUT"` with OUT unset: no option takes an empty value and no file has an
            // empty name; refused before any work (an empty --html passed the output check).
            if argument.isEmpty {
                let place = index >= 2 ? " after '\(arguments[index - 2])'" : ""
                throw InputError.usage(
                    "an empty argument\(place): file names and values cannot be empty (an unset shell variable?)")
            }
            if afterSeparator || argument == "--" {
                afterSeparator = true
                out.append(argument)
                continue
            }
            // "--output -" wrote a file called "-" while `| jq` read nothing: "-" is no stdin or
            // stdout here, and a file of that name goes after "--" as any name starting with '-'.
            if argument == "-" {
                let place = index >= 2 ? " after '\(arguments[index - 2])'" : ""
                throw InputError.usage(
                    "'-'\(place): MaskEval reads and writes named files, not stdin or stdout; leave out --output to "
                        + "print the report (a file called '-' goes after '--')")
            }
            // Only -h and --help ask for help: "-hippocampus.nii" must not print the help and
            // exit 0 without evaluating anything.
            if argument.count > 2, argument.hasPrefix("-"), !argument.hasPrefix("--"),
                argument.dropFirst().first?.isLetter == true
            {
                throw InputError.usage(
                    "unknown option '\(argument)'; a file name that starts with '-' goes after '--'")
            }
            // "--tolerance -1" reaches validation (and its message) instead of "missing value".
            if argument.hasPrefix("--"), !argument.contains("="), index < arguments.count,
                isNegativeNumber(arguments[index])
            {
                out.append(argument + "=" + arguments[index])
                index += 1
                continue
            }
            out.append(argument)
        }
        return out
    }

    static func isNegativeNumber(_ text: String) -> Bool {
        text.count > 1 && text.hasPrefix("-") && Double(text) != nil
    }

    /// Levenshtein distance, for suggestions.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
