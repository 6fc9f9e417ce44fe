import Foundation

/// `--pairs FILE`: CSV with a header naming the columns case, reference and prediction (in
/// any order). Relative paths are taken from the CSV file's folder; an empty prediction is a
/// case without a prediction.
public enum PairsFile {
    public static func read(path: String) throws -> [BatchCase] {
        let text = try TextInput.read(path: path, what: "pairs file")
        let records = CSV.parse(text).filter { !($0.count == 1 && $0[0].trimmingCharacters(in: .whitespaces).isEmpty) }
        guard let header = records.first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }),
            let caseColumn = header.firstIndex(of: "case"), let referenceColumn = header.firstIndex(of: "reference"),
            let predictionColumn = header.firstIndex(of: "prediction")
        else {
            throw InputError.badFile(path: path, reason: "expected a header with columns case,reference,prediction")
        }
        let folder = PathName.folder(of: path)
        func resolve(_ file: String) -> String? {
            let trimmed = file.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { return nil }
            return trimmed.hasPrefix("/") || folder.isEmpty
                ? trimmed : (folder as NSString).appendingPathComponent(trimmed)
        }
        var seen = Set<String>()
        var cases: [BatchCase] = []
        for (number, record) in records.dropFirst().enumerated() {
            guard record.count == header.count else {
                throw InputError.badFile(
                    path: path, reason: "line \(number + 2) has \(record.count) fields, expected \(header.count)")
            }
            let id = record[caseColumn].trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty, seen.insert(id).inserted else {
                throw InputError.badFile(
                    path: path, reason: "line \(number + 2): case id '\(Escape.terminal(id))' is empty or repeated")
            }
            guard let reference = resolve(record[referenceColumn]) else {
                throw InputError.badFile(path: path, reason: "line \(number + 2): case \(id) has no reference")
            }
            cases.append(BatchCase(id: id, reference: reference, prediction: resolve(record[predictionColumn])))
        }
        guard !cases.isEmpty else { throw InputError.badFile(path: path, reason: "the pairs file lists no case") }
        return cases.sorted { $0.id < $1.id }
    }
}
