import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The C functions declared in include/maskeval.h. This file only moves values across the
// boundary (C strings, opaque handles, pointers); what a call computes is in Bridge.swift,
// the one file that calls the MaskEval library. No function here traps on caller input: every
// problem becomes a result with the CLI's status and message.

/// The options behind a `maskeval_options *`: CLI option names and their values as text.
final class OptionsBox {
    var values: [String: String] = [:]
}

/// What a call returns behind a `maskeval_result *`; the C strings are owned here and freed
/// with it.
final class ResultBox {
    let status: Int32
    let errorKind: Int32
    let json: UnsafeMutablePointer<CChar>?
    let message: UnsafeMutablePointer<CChar>?
    let engineSeconds: Double
    /// The run's notes, one per line; nil when there are none.
    let notes: UnsafeMutablePointer<CChar>?
    /// The text is made on first request (a caller that never shows the table does not pay
    /// for it: ~2 ms for the AAL pair's 116 rows), under `lock`.
    private let makeText: (() -> String)?
    private var madeText: UnsafeMutablePointer<CChar>?
    private let lock = NSLock()

    init(_ outcome: CallOutcome) {
        switch outcome {
        case .success(let json, let text, let engineSeconds, let notes):
            status = 0
            errorKind = 0
            self.json = strdup(json)
            makeText = text
            message = nil
            self.engineSeconds = engineSeconds
            self.notes = notes.isEmpty ? nil : strdup(notes.joined(separator: "\n"))
        case .failure(let failure):
            status = failure.status
            errorKind = failure.kind.rawValue
            json = nil
            makeText = nil
            message = strdup(failure.message)
            engineSeconds = 0
            notes = nil
        }
    }

    var text: UnsafeMutablePointer<CChar>? {
        lock.lock()
        defer { lock.unlock() }
        if madeText == nil, let makeText { madeText = strdup(makeText()) }
        return madeText
    }

    deinit {
        free(json)
        free(madeText)
        free(message)
        free(notes)
    }
}

/// The version strings, made once (immutable data, the only global state).
private nonisolated(unsafe) let versionCString: UnsafeMutablePointer<CChar>? = strdup(Bridge.version)

@_cdecl("maskeval_version")
public func maskevalVersion() -> UnsafePointer<CChar>? {
    UnsafePointer(versionCString)
}

@_cdecl("maskeval_abi_version")
public func maskevalABIVersion() -> Int32 { 1 }

@_cdecl("maskeval_options_new")
public func maskevalOptionsNew() -> OpaquePointer? {
    OpaquePointer(Unmanaged.passRetained(OptionsBox()).toOpaque())
}

@_cdecl("maskeval_options_free")
public func maskevalOptionsFree(_ options: OpaquePointer?) {
    guard let options else { return }
    Unmanaged<OptionsBox>.fromOpaque(UnsafeRawPointer(options)).release()
}

@_cdecl("maskeval_options_set")
public func maskevalOptionsSet(
    _ options: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?
) -> Int32 {
    guard let options, let name else { return CallFailure.Kind.usage.status }
    let key = String(cString: name)
    guard CallOptions.names.contains(key) else { return CallFailure.Kind.usage.status }
    let box = Unmanaged<OptionsBox>.fromOpaque(UnsafeRawPointer(options)).takeUnretainedValue()
    box.values[key] = value.map { String(cString: $0) }
    return 0
}

/// The options of a call (the defaults for NULL).
private func callOptions(_ options: OpaquePointer?) -> CallOptions {
    guard let options else { return CallOptions(values: [:]) }
    return CallOptions(values: Unmanaged<OptionsBox>.fromOpaque(UnsafeRawPointer(options)).takeUnretainedValue().values)
}

private func result(_ outcome: CallOutcome) -> OpaquePointer? {
    OpaquePointer(Unmanaged.passRetained(ResultBox(outcome)).toOpaque())
}

private func box(_ result: OpaquePointer?) -> ResultBox? {
    guard let result else { return nil }
    return Unmanaged<ResultBox>.fromOpaque(UnsafeRawPointer(result)).takeUnretainedValue()
}

/// An array argument as Swift sees it; nil pointers and ranks outside 1…3 are refused by
/// `Bridge` with a message.
private func arrayInput(
    _ role: String, _ data: UnsafeRawPointer?, _ type: Int32, _ rank: Int32, _ shape: UnsafePointer<Int64>?,
    _ strides: UnsafePointer<Int64>?
) -> ArrayInput {
    let count = (1...3).contains(rank) ? Int(rank) : 0
    let shapeValues = shape.map { pointer in (0..<count).map { Int(pointer[$0]) } } ?? []
    let strideValues = strides.map { pointer in (0..<count).map { Int(pointer[$0]) } } ?? []
    return ArrayInput(
        name: "<\(role) array>", data: data, typeCode: type, rank: Int(rank), shape: shapeValues,
        strides: strideValues)
}

@_cdecl("maskeval_compare_arrays")
public func maskevalCompareArrays(
    _ reference: UnsafeRawPointer?, _ referenceType: Int32, _ referenceRank: Int32,
    _ referenceShape: UnsafePointer<Int64>?, _ referenceStrides: UnsafePointer<Int64>?,
    _ prediction: UnsafeRawPointer?, _ predictionType: Int32, _ predictionRank: Int32,
    _ predictionShape: UnsafePointer<Int64>?, _ predictionStrides: UnsafePointer<Int64>?,
    _ spacingMM: UnsafePointer<Double>?, _ spacingCount: Int32, _ options: OpaquePointer?
) -> OpaquePointer? {
    let ref = arrayInput("reference", reference, referenceType, referenceRank, referenceShape, referenceStrides)
    let pred = arrayInput("prediction", prediction, predictionType, predictionRank, predictionShape, predictionStrides)
    let spacing = spacingMM.map { pointer in (0..<max(0, Int(spacingCount))).map { pointer[$0] } } ?? []
    return result(
        Bridge.compareArrays(reference: ref, prediction: pred, spacingMM: spacing, options: callOptions(options)))
}

@_cdecl("maskeval_compare_files")
public func maskevalCompareFiles(
    _ reference: UnsafePointer<CChar>?, _ prediction: UnsafePointer<CChar>?, _ options: OpaquePointer?
) -> OpaquePointer? {
    guard let reference else { return result(.failure(CallFailure(.usage, "reference_path is NULL"))) }
    return result(
        Bridge.compareFiles(
            reference: String(cString: reference), prediction: prediction.map { String(cString: $0) },
            options: callOptions(options)))
}

@_cdecl("maskeval_batch_cases")
public func maskevalBatchCases(_ first: UnsafePointer<CChar>?, _ predictionFolder: UnsafePointer<CChar>?)
    -> OpaquePointer?
{
    guard let first else { return result(.failure(CallFailure(.usage, "reference_folder_or_pairs is NULL"))) }
    return result(
        Bridge.batchCases(
            referenceFolderOrPairs: String(cString: first),
            predictionFolder: predictionFolder.map { String(cString: $0) }))
}

@_cdecl("maskeval_batch_case")
public func maskevalBatchCase(
    _ caseID: UnsafePointer<CChar>?, _ reference: UnsafePointer<CChar>?, _ prediction: UnsafePointer<CChar>?,
    _ options: OpaquePointer?
) -> OpaquePointer? {
    guard let caseID else { return result(.failure(CallFailure(.usage, "case_id is NULL"))) }
    return result(
        Bridge.batchCase(
            id: String(cString: caseID), reference: reference.map { String(cString: $0) },
            prediction: prediction.map { String(cString: $0) }, options: callOptions(options)))
}

@_cdecl("maskeval_batch_summary")
public func maskevalBatchSummary(_ rows: UnsafePointer<CChar>?, _ options: OpaquePointer?) -> OpaquePointer? {
    guard let rows else { return result(.failure(CallFailure(.usage, "rows_json is NULL"))) }
    return result(Bridge.batchSummary(rowsJSON: String(cString: rows), options: callOptions(options)))
}

@_cdecl("maskeval_result_status")
public func maskevalResultStatus(_ result: OpaquePointer?) -> Int32 {
    box(result)?.status ?? CallFailure.Kind.usage.status
}

@_cdecl("maskeval_result_error_kind")
public func maskevalResultErrorKind(_ result: OpaquePointer?) -> Int32 {
    box(result)?.errorKind ?? CallFailure.Kind.usage.rawValue
}

@_cdecl("maskeval_result_json")
public func maskevalResultJSON(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    box(result)?.json.map { UnsafePointer($0) }
}

@_cdecl("maskeval_result_text")
public func maskevalResultText(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    box(result)?.text.map { UnsafePointer($0) }
}

@_cdecl("maskeval_result_message")
public func maskevalResultMessage(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    box(result)?.message.map { UnsafePointer($0) }
}

@_cdecl("maskeval_result_notes")
public func maskevalResultNotes(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    box(result)?.notes.map { UnsafePointer($0) }
}

@_cdecl("maskeval_result_engine_seconds")
public func maskevalResultEngineSeconds(_ result: OpaquePointer?) -> Double {
    box(result)?.engineSeconds ?? 0
}

@_cdecl("maskeval_result_free")
public func maskevalResultFree(_ result: OpaquePointer?) {
    guard let result else { return }
    Unmanaged<ResultBox>.fromOpaque(UnsafeRawPointer(result)).release()
}
