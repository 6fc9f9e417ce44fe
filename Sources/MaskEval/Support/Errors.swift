/// Process exit statuses, documented in the README and used by every command.
///
/// The values follow BSD `sysexits.h` where one fits (64 usage, 65 data, 66 no input,
/// 70 software, 74 I/O), so pipelines can tell a bad file from a bug.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// A quality gate (`--require`) failed; the report itself is complete.
    case gateFailed = 1
    case usage = 64
    /// Bad input data: not NIfTI, corrupt, unsupported voxel type, non-integral labels,
    /// bad spacing, geometry mismatch.
    case dataError = 65
    /// An input file is missing or unreadable.
    case noInput = 66
    case internalError = 70
    /// An output file cannot be written.
    case cannotWrite = 74
}

/// Every error MaskEval throws carries the exit status it maps to and a one-line message
/// that names the file and the problem.
public protocol MaskEvalFailure: Error, CustomStringConvertible {
    var exitStatus: ExitStatus { get }
}

/// Errors met while reading an input file: NIfTI volumes (header, layout, voxels) and the
/// text inputs read through `InputFile`.
public enum ReadError: MaskEvalFailure, Equatable {
    /// No file at `path`; `of` names the file given when `path` is its other half (`half`:
    /// the "voxel data" of a `.hdr`, the "header" of an `.img`).
    case missing(path: String, of: String? = nil, half: String = "voxel data")
    /// The file exists but cannot be opened or read (permission, a symbolic link loop, I/O).
    case unreadable(path: String, reason: String)
    /// Not a regular file: a FIFO, a device, a socket or a directory (`kind` says which).
    case notRegular(path: String, kind: String)
    case invalid(path: String, reason: String)
    case unsupported(path: String, reason: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .missing, .unreadable, .notRegular: return .noInput
        case .invalid, .unsupported: return .dataError
        }
    }

    public var description: String {
        switch self {
        case .missing(let path, nil, _): return "\(shown(path)): no such file"
        case .missing(let path, let of?, let half): return "\(shown(path)): no such file (the \(half) of \(of))"
        case .unreadable(let path, let reason): return "\(shown(path)): cannot read: \(reason)"
        case .notRegular(let path, let kind): return "\(shown(path)): not a regular file (\(kind))"
        case .invalid(let path, let reason): return "\(shown(path)): \(reason)"
        case .unsupported(let path, let reason): return "\(shown(path)): unsupported: \(reason)"
        }
    }
}

/// The former name of `ReadError`, kept while callers move over.
public typealias NIfTIError = ReadError

/// Errors of the command-line inputs that are not NIfTI files (label-name files, label
/// lists, option values).
public enum InputError: MaskEvalFailure, Equatable {
    case usage(String)
    case badFile(path: String, reason: String)
    case missingFile(path: String)
    /// Exists but cannot be opened or is not a regular file (exit 66).
    case unreadable(path: String, reason: String)

    public var exitStatus: ExitStatus {
        switch self {
        case .usage: return .usage
        case .badFile: return .dataError
        case .missingFile, .unreadable: return .noInput
        }
    }

    public var description: String {
        switch self {
        case .usage(let message): return message
        case .badFile(let path, let reason): return "\(shown(path)): \(reason)"
        case .missingFile(let path): return "\(shown(path)): no such file"
        case .unreadable(let path, let reason): return "\(shown(path)): cannot read: \(reason)"
        }
    }
}

/// An output could not be written (exit 74).
public struct OutputError: MaskEvalFailure, Equatable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var exitStatus: ExitStatus { .cannotWrite }
    public var description: String { "\(shown(path)): cannot write: \(reason)" }
}

/// A path as messages name it: an empty one (`maskeval compare "$REF" "$PRED"` with an unset
/// variable) is spelled out, or the message would begin with a bare ": no such file".
func shown(_ path: String) -> String {
    path.isEmpty ? "'' (an empty file name)" : path
}
