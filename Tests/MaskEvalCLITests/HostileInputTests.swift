import Foundation
import MaskEval
import Testing

/// The hostile corpus made by scripts/make_hostile.py: every file, as reference and as
/// prediction for `compare` and through `info`, gets its documented exit code, at most two
/// lines on stderr naming the file, nothing on stdout, and finishes within seconds.
@Suite(.serialized) struct HostileInputTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Corpus/hostile").path

    static let expected: [(String, Int32)] = {
        let url = URL(fileURLWithPath: corpus + "/expected.json")
        guard let data = try? Data(contentsOf: url),
            let object = try? JSONValue.parse(String(decoding: data, as: UTF8.self)),
            case .object(let members) = object
        else { return [] }
        return members.map { ($0.key, Int32($0.value.intValue ?? -1)) }.sorted { $0.0 < $1.0 }
    }()

    @Test func corpusIsThere() {
        #expect(Self.expected.count >= 23)
    }

    @Test(arguments: expected.map(\.0))
    func hostileFile(name: String) throws {
        let status = Self.expected.first { $0.0 == name }?.1 ?? -1
        let path = Self.corpus + "/" + name
        let good = Self.corpus + "/good.nii"
        // A fuzz-ok-* input (valid, once a crash or a hang) is compared with itself, as the
        // fuzzer did: its grid need not be good.nii's.
        let runs =
            status == 0
            ? [
                ["info", path], ["compare", path, path, "--format", "json"],
                ["compare", path, path, "--compat", "all"],
            ]
            : [
                ["info", path], ["compare", path, good], ["compare", good, path],
                ["compare", path, path, "--format", "json"],
            ]
        for arguments in runs {
            let start = Date()
            let run = try Run(arguments)
            #expect(Date().timeIntervalSince(start) < 10, "\(arguments)")
            #expect(run.status == status, "\(arguments): \(run.stderr)")
            if status == 0 {
                #expect(!run.stdout.isEmpty && run.stderr.isEmpty, "\(arguments): \(run.stderr)")
                continue
            }
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count >= 1 && lines.count <= 2, "\(arguments): \(run.stderr)")
            // The message names the file (or, for a lonely .hdr, its missing .img).
            let stem = (name as NSString).deletingPathExtension
            #expect(run.stderr.contains(stem), "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
    }

    @Test(arguments: [
        ("other_dims.nii", "dims 10×10×11 differ"), ("shifted_origin.nii", "origin is shifted by 4 mm"),
        ("flipped_axis.nii", "orientation (affine LAS vs the reference's RAS)"),
    ])
    func mismatchedPairs(name: String, fragment: String) throws {
        let run = try Run(["compare", Self.corpus + "/good.nii", Self.corpus + "/" + name])
        #expect(run.status == 65)
        #expect(run.stderr.contains(name) && run.stderr.contains(fragment), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1 && run.stdout.isEmpty)
        let resampled = try Run(["compare", Self.corpus + "/good.nii", Self.corpus + "/" + name, "--resample"])
        #expect(resampled.status == 0, "\(resampled.stderr)")
    }

    @Test func maxVoxelsRefusesBeforeReading() throws {
        let run = try Run(["info", Self.corpus + "/good.nii", "--max-voxels", "999"])
        #expect(run.status == 65 && run.stderr.contains("1000 voxels exceed --max-voxels 999"))
    }
}
