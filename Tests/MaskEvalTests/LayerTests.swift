import Foundation
import Testing

/// The folders of `Sources/MaskEval` form layers; a file may use the types of its own layer
/// and of the layers below, never above (README, "Architecture"). The types of each folder
/// are read from the sources themselves, so a new type is covered without editing this test.
@Suite struct LayerTests {
    /// Lowest first; folders on one level are siblings and may not use each other either.
    static let levels: [[String]] = [
        ["Support"], ["Volume"], ["IO"], ["Distance"], ["Surface"], ["Metrics"], ["Lesions"], ["Pipeline"], ["Inputs", "Report"],
    ]

    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    static func files(in folder: String) -> [(name: String, text: String)] {
        let url = sources.appendingPathComponent("MaskEval").appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { $0.hasSuffix(".swift") }.sorted().compactMap { name in
            (try? String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)).map { (name, $0) }
        }
    }

    /// Code without comments and string literals (a doc comment may name any type).
    static func code(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("//") { return "" }
            var out = ""
            var inString = false
            for c in line {
                if c == "\"" { inString.toggle(); continue }
                if !inString { out.append(c) }
            }
            return out
        }.joined(separator: "\n")
    }

    /// The top-level type names a folder declares (nested ones such as `Comparison.Result`
    /// are reached through their parent).
    static func declaredTypes(_ folder: String) -> Set<String> {
        let pattern = try! NSRegularExpression(
            pattern: "^(?:(?:public|final|internal|private|fileprivate)\\s+)*(?:struct|enum|class|protocol|actor|typealias)\\s+([A-Z][A-Za-z0-9]*)",
            options: .anchorsMatchLines)
        var names = Set<String>()
        for file in files(in: folder) {
            let text = code(file.text)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { names.insert(String(text[range])) }
            }
        }
        return names
    }

    static func uses(_ text: String, _ name: String) -> Bool {
        text.range(of: "(?<![A-Za-z0-9_.])\(name)(?![A-Za-z0-9_])", options: .regularExpression) != nil
    }

    @Test func everyFolderIsInALayer() throws {
        let folders = try FileManager.default.contentsOfDirectory(
            atPath: Self.sources.appendingPathComponent("MaskEval").path)
        #expect(Set(folders) == Set(Self.levels.flatMap { $0 }))
    }

    @Test func noFolderUsesALayerAboveIt() {
        var violations: [String] = []
        for (level, folders) in Self.levels.enumerated() {
            // Types of the layers above and of the sibling folders on this level.
            for folder in folders {
                var forbidden: [String: String] = [:]
                for higher in Self.levels[(level + 1)...].flatMap({ $0 }) + folders.filter({ $0 != folder }) {
                    for name in Self.declaredTypes(higher) { forbidden[name] = higher }
                }
                for name in Self.declaredTypes(folder) { forbidden[name] = nil }  // nested names shared
                for file in Self.files(in: folder) {
                    let text = Self.code(file.text)
                    for (name, owner) in forbidden.sorted(by: { $0.key < $1.key }) where Self.uses(text, name) {
                        violations.append("\(folder)/\(file.name) uses \(name) (\(owner))")
                    }
                }
            }
        }
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
    }

    @Test func onlyIOCallsC() {
        for folder in Self.levels.flatMap({ $0 }) where folder != "IO" {
            for file in Self.files(in: folder) {
                #expect(!file.text.contains("import CNIfTI"), "\(folder)/\(file.name)")
            }
        }
    }

    @Test func reportsComputeNothingAndReadNoFiles() {
        for file in Self.files(in: "Report") {
            let text = Self.code(file.text)
            for call in ["Census.count", "BoundaryMap(", "SurfaceSearch.", "Evaluator.", "FileManager", "fopen(", "contentsOfFile"] {
                #expect(!text.contains(call), "Report/\(file.name) calls \(call)")
            }
        }
    }

    @Test func theCommandLineOnlyParsesAndCalls() throws {
        let folder = Self.sources.appendingPathComponent("MaskEvalCLI")
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        var lines = 0
        while let name = enumerator?.nextObject() as? String {
            guard name.hasSuffix(".swift") else { continue }
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            #expect(!text.contains("DispatchQueue"), "\(name)")
            #expect(!text.contains("concurrentPerform"), "\(name)")
            lines += text.split(separator: "\n").count
        }
        #expect(lines > 0)
    }
}
