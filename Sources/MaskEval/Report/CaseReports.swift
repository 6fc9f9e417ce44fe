import Foundation

/// The `--surfaces` files of a comparison: for each matched structure, its reference and
/// prediction boundary surfaces as PLY (`SurfaceMesh`), named `<label>_<name>_<side>.ply`.
public enum Surfaces {
    /// File names and contents, in label order. Needs a comparison run with `keepDetail`.
    public static func files(_ result: Comparison.Result) -> [(name: String, bytes: [UInt8])] {
        var files: [(name: String, bytes: [UInt8])] = []
        forEach(result) { files.append(($0, $1)) }
        return files
    }

    /// Each file's name and contents in turn, so that only one is in memory at a time (an
    /// atlas of 100+ structures makes hundreds of MB of surfaces).
    public static func forEach(
        _ result: Comparison.Result, _ body: (_ name: String, _ bytes: [UInt8]) throws -> Void
    ) rethrows {
        let names = Dictionary(result.rows.map { ($0.label, $0.name) }, uniquingKeysWith: { first, _ in first })
        for label in result.evaluation.labels where label.status == .matched {
            guard let detail = label.detail else { continue }
            for side in [SurfaceMesh.Side.reference, .prediction] {
                let mesh = SurfaceMesh.surface(
                    of: side, label: label.label, detail: detail, reference: result.referenceVolume,
                    prediction: result.predictionVolume)
                let name = names[label.label] ?? ""
                try body(
                    SurfaceMesh.fileName(label: label.label, name: name, side: side),
                    mesh.ply(comment: "label \(label.label) \(name) \(side.rawValue) surface"))
            }
        }
    }
}

/// The per-case compare reports of `batch --html-cases`: one self-contained page per case,
/// written right after the case is evaluated (`BatchRun.onCase`), and the links to them.
public struct CaseReports: Sendable {
    public var folder: String
    public var settings: RunSettings
    public var convention: DisplayConvention
    /// The href of the batch page from a case page, for a link back (nil: none).
    public var back: String?
    /// The file name of each case's page: `HTMLReport.caseFileName`, with `_2`, `_3`, … added
    /// in id order where two ids reduce to one name.
    public private(set) var fileNames: [String: String] = [:]

    /// `caseIDs`: every case of the batch; `batchPage`: the path of the batch page.
    public init(
        folder: String, settings: RunSettings, caseIDs: [String], batchPage: String? = nil,
        convention: DisplayConvention = .radiological
    ) {
        self.folder = folder
        self.settings = settings
        self.convention = convention
        back = batchPage.map { OutputFolder.relative($0, from: folder) }
        var taken = Set<String>()
        for id in caseIDs.sorted() where fileNames[id] == nil {
            let base = HTMLReport.caseFileName(id)
            var name = base
            var n = 1
            while !taken.insert(name.lowercased()).inserted {
                n += 1
                name = String(base.dropLast(5)) + "_\(n).html"
            }
            fileNames[id] = name
        }
    }

    public func path(of caseID: String) -> String {
        OutputFolder.path(folder, fileNames[caseID] ?? HTMLReport.caseFileName(caseID))
    }

    /// The page of one case.
    public func page(_ item: BatchCase, _ result: Comparison.Result) -> String {
        var settings = self.settings
        settings.inputs = ["reference": item.reference ?? "", "prediction": item.prediction ?? "<no prediction>"]
        let report = CompareReport(
            rows: result.rows, settings: settings, reference: result.reference, prediction: result.prediction)
        let slices = SliceImages(
            reference: result.referenceVolume, prediction: result.predictionVolume, intensity: result.image,
            convention: convention)
        return HTMLReport.compare(
            evaluation: result.evaluation, report: report, slices: slices, title: item.id, back: back)
    }

    /// Links (relative to the batch page at `htmlPath`) to the pages of the cases that have one:
    /// every case evaluated without an error.
    public func links(_ result: BatchResult, htmlPath: String) -> [String: String] {
        let from = PathName.folder(of: htmlPath)
        var links: [String: String] = [:]
        for row in result.rows where row.status != .error {
            links[row.caseID] = OutputFolder.relative(path(of: row.caseID), from: from.isEmpty ? "." : from)
        }
        return links
    }
}
