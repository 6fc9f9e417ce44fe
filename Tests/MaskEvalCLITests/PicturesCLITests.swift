import Foundation
import MaskEval
import Testing

/// The picture options of `compare` and `batch` through the binary (issue 18).
@Suite struct PicturesCLITests {
    static func pair(in folder: String) throws -> (String, String) {
        let dims = (14, 12, 10)
        func labels(_ grow: Int) -> [Int32] {
            var out = [Int32](repeating: 0, count: 14 * 12 * 10)
            for k in 2..<7 { for j in 2..<(8 + grow) { for i in 3..<9 { out[i + 14 * (j + 12 * k)] = 1 } } }
            if grow == 0 { out[12 + 14 * (10 + 12 * 8)] = 2 }  // missed in the prediction
            return out
        }
        try write(labels(0), dims, to: folder + "/ref.nii")
        try write(labels(1), dims, to: folder + "/pred.nii")
        return (folder + "/ref.nii", folder + "/pred.nii")
    }

    @Test func compareWritesSurfacesAndTheMissedPanel() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (ref, pred) = try Self.pair(in: folder)
        let run = try Run([
            "compare", ref, pred, "--html", folder + "/r.html", "--surfaces", folder + "/surfaces/new",
            "--display", "neurological",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder + "/surfaces/new").sorted()
        #expect(files == ["1_prediction.ply", "1_reference.ply"])
        let html = try String(contentsOfFile: folder + "/r.html", encoding: .utf8)
        #expect(html.contains("<h3 class=\"missed\">2: missed"))
        #expect(html.contains("Neurological display"))
    }

    @Test func badWindowAndMisplacedOptionsAreUsageErrors() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (ref, pred) = try Self.pair(in: folder)
        let bad = try Run(["compare", ref, pred, "--html", folder + "/r.html", "--image", ref, "--window", "0,40"])
        #expect(bad.status == 64 && bad.stderr.contains("--window takes W,L"))
        let noImage = try Run(["compare", ref, pred, "--html", folder + "/r.html", "--window", "400,40"])
        #expect(noImage.status == 64 && noImage.stderr.contains("give --image too"))
        let noHTML = try Run(["batch", folder, folder, "--html-cases", folder + "/cases"])
        #expect(noHTML.status == 64 && noHTML.stderr.contains("give --html too"))
        try Data().write(to: URL(fileURLWithPath: folder + "/file"))
        let notFolder = try Run(["compare", ref, pred, "--surfaces", folder + "/file"])
        #expect(notFolder.status == 74 && notFolder.stderr.contains("it is not a folder"))
    }

    @Test func batchLinksEachCasesReport() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (ref, pred) = try Self.pair(in: folder)
        for side in ["refs", "preds"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(side)", withIntermediateDirectories: true)
        }
        for id in ["a", "b"] {
            try FileManager.default.copyItem(atPath: ref, toPath: "\(folder)/refs/\(id).nii")
            try FileManager.default.copyItem(atPath: pred, toPath: "\(folder)/preds/\(id).nii")
        }
        try FileManager.default.createDirectory(atPath: folder + "/out", withIntermediateDirectories: true)
        let run = try Run([
            "batch", folder + "/refs", folder + "/preds", "--html", folder + "/out/batch.html", "--html-cases",
            folder + "/out/cases",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let html = try String(contentsOfFile: folder + "/out/batch.html", encoding: .utf8)
        #expect(html.contains("<a href=\"cases/a.html\">") && html.contains("<a href=\"cases/b.html\">"))
        #expect(FileManager.default.fileExists(atPath: folder + "/out/cases/a.html"))
        #expect(FileManager.default.fileExists(atPath: folder + "/out/cases/b.html"))
    }
}
