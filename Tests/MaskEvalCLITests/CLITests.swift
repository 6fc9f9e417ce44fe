import Foundation
import MaskEval
import Testing

/// Runs the built `maskeval` binary and checks stdout, stderr and the exit status.
struct Run {
    let status: Int32
    let stdout: String
    let stderr: String

    /// The binary next to the test bundle (`swift build` puts both in one folder), or
    /// $MASKEVAL_BIN.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["MASKEVAL_BIN"] { return path }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent("maskeval").path
    }()

    init(_ arguments: [String]) throws {
        try self.init(executable: Self.binary, arguments: arguments)
    }

    /// Runs `executable` with `arguments` (and extra `environment`), reading both pipes.
    init(executable: String, arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, b in b }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        Run.limit(process)
        // Read both pipes before waiting, so a large report cannot fill a pipe and block.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status = process.terminationStatus
        stdout = String(decoding: outData, as: UTF8.self)
        stderr = String(decoding: errData, as: UTF8.self)
    }

    /// Ends a run that hangs (the old reader blocked forever on a FIFO): after 60 s it is
    /// terminated, its status is a signal's, and the test fails instead of hanging.
    static func limit(_ process: Process) {
        let box = UncheckedSendable(process)
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) {
            if box.value.isRunning { box.value.terminate() }
        }
    }

    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
    }
}

let templates = "/usr/share/mricron/templates"
let hasAtlases = FileManager.default.fileExists(atPath: templates + "/aal.nii.gz")

func temporaryFolder() throws -> String {
    let path = NSTemporaryDirectory() + "maskeval-cli-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(
    _ labels: [Int32], _ dims: (Int, Int, Int), to path: String, spacing: Double = 1, origin: Double = 0,
    type: VoxelType = .int16, slope: Double = 0
) throws {
    var header = NIfTIHeader(
        dim: [3, dims.0, dims.1, dims.2, 1, 1, 1, 1], pixdim: [1, spacing, spacing, spacing, 0, 0, 0, 0],
        datatype: type.rawValue, sclSlope: slope, sformCode: 1,
        srowX: [spacing, 0, 0, origin], srowY: [0, spacing, 0, 0], srowZ: [0, 0, spacing, 0])
    header.qformCode = 0
    try NIfTIWriter.write(values: labels.map(Double.init), header: header, to: path)
}

func cube(_ n: Int, _ lo: Int, _ hi: Int, label: Int32 = 1) -> [Int32] {
    var out = [Int32](repeating: 0, count: n * n * n)
    for k in lo..<hi { for j in lo..<hi { for i in lo..<hi { out[i + n * (j + n * k)] = label } } }
    return out
}

@Suite(.serialized) struct InfoCommandTests {
    /// Dims, spacing, orientation and label counts of Debian's mricron atlases, as nibabel
    /// 5.4 reports them (shape, affine column norms, aff2axcodes, unique values − 1).
    static let atlases: [(String, [Int], [Double], String, Int)] = [
        ("aal", [181, 217, 181], [1, 1, 1], "RAS", 116),
        ("inia19-NeuroMaps", [168, 206, 128], [0.5, 0.5, 0.5], "RAS", 724),
        ("HarvardOxford-cort-maxprob-thr0-1mm", [182, 218, 182], [1, 1, 1], "LAS", 48),
        ("JHU-WhiteMatter-labels-1mm", [182, 218, 182], [1, 1, 1], "RAS", 48),
        ("JHU-WhiteMatter-labels-2mm", [91, 109, 91], [2, 2, 2], "RAS", 48),
        ("AICHAmc", [91, 109, 91], [2, 2, 2], "LAS", 192),
    ]

    @Test(.enabled(if: hasAtlases), arguments: atlases.indices)
    func atlasGeometryAndLabels(index: Int) throws {
        let (name, dims, spacing, orientation, labels) = Self.atlases[index]
        let run = try Run(["info", "\(templates)/\(name).nii.gz", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(run.json)
        #expect(json["dims"] as? [Int] == dims)
        #expect(json["spacing_mm"] as? [Double] == spacing)
        #expect(json["orientation"] as? String == orientation)
        #expect((json["labels"] as? [Any])?.count == labels)
    }

    @Test(.enabled(if: hasAtlases)) func tableListsLabelsWithNames() throws {
        let run = try Run(["info", "\(templates)/aal.nii.gz", "--label-names", "\(templates)/aal.nii.txt"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("Dims         181 × 217 × 181"))
        #expect(run.stdout.contains("Labels       116 non-zero"))
        #expect(run.stdout.contains("Precentral_L"))
    }

    /// Each bad input: the documented exit status and one line on stderr naming the file.
    @Test func badInputsGiveOneLineErrors() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var rng = SystemRandomNumberGenerator()
        try Data((0..<4000).map { _ in UInt8.random(in: 0...255, using: &rng) }).write(
            to: URL(fileURLWithPath: folder + "/random.nii"))
        try write(cube(30, 5, 20), (30, 30, 30), to: folder + "/good.nii.gz")
        let good = try Data(contentsOf: URL(fileURLWithPath: folder + "/good.nii.gz"))
        try good.prefix(good.count - 40).write(to: URL(fileURLWithPath: folder + "/truncated.nii.gz"))
        var fraction = [Double](repeating: 0, count: 8)
        fraction[5] = 1.5
        try NIfTIWriter.write(
            values: fraction,
            header: NIfTIHeader(
                dim: [3, 2, 2, 2, 1, 1, 1, 1], pixdim: [1, 1, 1, 1, 0, 0, 0, 0], datatype: VoxelType.float32.rawValue),
            to: folder + "/fraction.nii")
        try NIfTIWriter.write(
            values: [Double](repeating: 1, count: 16),
            header: NIfTIHeader(
                dim: [4, 2, 2, 2, 2, 1, 1, 1], pixdim: [1, 1, 1, 1, 1, 0, 0, 0], datatype: VoxelType.uint8.rawValue),
            to: folder + "/fourd.nii")
        try NIfTIWriter.write(
            values: [Double](repeating: 1, count: 8),
            header: NIfTIHeader(
                dim: [3, 2, 2, 2, 1, 1, 1, 1], pixdim: [1, 1, 0, 1, 0, 0, 0, 0], datatype: VoxelType.uint8.rawValue),
            to: folder + "/zero-spacing.nii")
        // A dangling symbolic link says where it points (the link itself exists).
        try FileManager.default.createSymbolicLink(
            atPath: folder + "/dangling.nii.gz", withDestinationPath: "gone.nii.gz")
        let cases: [(String, Int32, String)] = [
            ("missing.nii", 66, "no such file"),
            ("dangling.nii.gz", 66, "a symbolic link to 'gone.nii.gz', which does not exist"),
            ("random.nii", 65, "not a NIfTI file"),
            ("truncated.nii.gz", 65, "truncated or corrupt"),
            ("fraction.nii", 65, "voxel (1, 0, 1) holds 1.5"),
            ("fourd.nii", 65, "extra dimensions must have size 1"),
            ("zero-spacing.nii", 65, "spacing along j is 0.0"),
        ]
        for (name, status, fragment) in cases {
            let path = folder + "/" + name
            for arguments in [
                ["info", path], ["compare", path, folder + "/good.nii.gz"], ["compare", folder + "/good.nii.gz", path],
            ] {
                let run = try Run(arguments)
                #expect(run.status == status, "\(arguments): \(run.stderr)")
                let lines = run.stderr.split(separator: "\n")
                #expect(lines.count == 1, "\(arguments): \(run.stderr)")
                #expect(run.stderr.hasPrefix("maskeval: error: \(path): "), "\(run.stderr)")
                #expect(run.stderr.contains(fragment), "\(run.stderr)")
                #expect(run.stdout.isEmpty)
            }
        }
    }

    @Test func usageErrorsExit64() throws {
        for arguments in [
            ["info"], ["compare", "a.nii"], ["info", "a.nii", "--threads", "0"], ["frobnicate"],
            ["compare", "a.nii", "b.nii", "--percentile", "0"],
            ["compare", "a.nii", "b.nii", "--compat", "plastimatch"],
        ] {
            let run = try Run(arguments)
            #expect(run.status == 64, "\(arguments)")
            #expect(run.stderr.split(separator: "\n").count <= 2, "\(run.stderr)")
        }
    }
}

@Suite(.serialized) struct CompareCommandTests {
    @Test func jsonReportOfAPair() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(cube(20, 4, 12), (20, 20, 20), to: folder + "/ref.nii.gz", spacing: 1.5)
        try write(cube(20, 5, 12), (20, 20, 20), to: folder + "/pred.nii.gz", spacing: 1.5)
        let run = try Run([
            "compare", folder + "/ref.nii.gz", folder + "/pred.nii.gz", "--format", "json", "--labels", "1,2",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(run.json)
        let labels = try #require(json["labels"] as? [[String: Any]])
        #expect(labels.map { $0["status"] as? String } == ["matched", "absent"])
        // 8³ vs 7³ voxels, nested: Dice = 2·343/(512+343).
        // JSON text → Double may round in the last bit, hence the 1e-15.
        #expect(abs((labels[0]["dice"] as? Double ?? 0) - 2.0 * 343 / (512 + 343)) < 1e-15)
        #expect(abs((labels[0]["hausdorff_mm"] as? Double ?? 0) - (3 * 1.5 * 1.5).squareRoot()) < 1e-15)
        let settings = try #require(json["settings"] as? [String: Any])
        #expect(settings["compat"] as? String == "monai")
    }

    @Test func geometryMismatchAndTheWaysOut() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(cube(20, 4, 12), (20, 20, 20), to: folder + "/ref.nii")
        // The same structure on a grid whose origin moved 3 mm along i: its labels are stored
        // 3 voxels earlier along i.
        let reference = cube(20, 4, 12)
        let shifted = reference.indices.map { index in index % 20 + 3 < 20 ? reference[index + 3] : 0 }
        try write(shifted, (20, 20, 20), to: folder + "/shifted.nii", origin: 3)
        let mismatch = try Run(["compare", folder + "/ref.nii", folder + "/shifted.nii"])
        #expect(mismatch.status == 65)
        #expect(mismatch.stderr.contains("origin is shifted by 3 mm"), "\(mismatch.stderr)")
        #expect(mismatch.stderr.contains("--resample") && mismatch.stderr.split(separator: "\n").count == 1)
        let resampled = try Run([
            "compare", folder + "/ref.nii", folder + "/shifted.nii", "--resample", "--format", "json",
        ])
        #expect(resampled.status == 0, "\(resampled.stderr)")
        let labels = try #require(resampled.json?["labels"] as? [[String: Any]])
        // After resampling through both affines the cube is back in place.
        #expect(labels[0]["dice"] as? Double == 1)
        let ignored = try Run([
            "compare", folder + "/ref.nii", folder + "/shifted.nii", "--ignore-geometry", "--format", "json",
        ])
        #expect(ignored.status == 0)
        let rows = try #require(ignored.json?["labels"] as? [[String: Any]])
        #expect((rows[0]["dice"] as? Double ?? 1) < 1)
    }

    @Test func outputIsWrittenWholeOrNotAtAll() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(cube(10, 2, 6), (10, 10, 10), to: folder + "/ref.nii")
        let csv = folder + "/report.csv"
        let run = try Run(["compare", folder + "/ref.nii", folder + "/ref.nii", "--format", "csv", "--output", csv])
        #expect(run.status == 0 && run.stdout.isEmpty)
        let text = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(text.hasPrefix("label,name,status,"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["ref.nii", "report.csv"])
        let unwritable = try Run([
            "compare", folder + "/ref.nii", folder + "/ref.nii", "--output", folder + "/no/such/dir/r.csv",
        ])
        #expect(unwritable.status == 74)
        #expect(unwritable.stderr.contains("no/such/dir/r.csv: cannot write"))
        // The output is checked before the inputs are read: a missing input still gives 74.
        let first = try Run(["compare", folder + "/none.nii", folder + "/ref.nii", "--output", folder + "/no/r.csv"])
        #expect(first.status == 74)
    }

    @Test func labelNamesAndTable() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(cube(10, 2, 6, label: 7), (10, 10, 10), to: folder + "/ref.nii")
        try "{\"7\": \"left kidney\"}".write(toFile: folder + "/names.json", atomically: true, encoding: .utf8)
        let run = try Run([
            "compare", folder + "/ref.nii", folder + "/ref.nii", "--label-names", folder + "/names.json",
        ])
        #expect(run.status == 0)
        #expect(run.stdout.contains("left kidney") && run.stdout.contains("matched") && run.stdout.contains("1.0000"))
        let missing = try Run([
            "compare", folder + "/ref.nii", folder + "/ref.nii", "--label-names", folder + "/none.txt",
        ])
        #expect(missing.status == 66 && missing.stderr.contains("none.txt: no such file"))
    }

    @Test func threadCountDoesNotChangeTheJSON() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var a = [Int32](repeating: 0, count: 40 * 40 * 40)
        var b = a
        for index in a.indices {
            let (i, j, k) = (index % 40, (index / 40) % 40, index / 1600)
            a[index] = Int32((i / 7 + j / 9 + k / 5) % 6)
            b[index] = Int32(((i + 1) / 7 + j / 9 + (k + i % 2) / 5) % 6)
        }
        try write(a, (40, 40, 40), to: folder + "/a.nii.gz", spacing: 0.7)
        try write(b, (40, 40, 40), to: folder + "/b.nii.gz", spacing: 0.7)
        let outputs = try [1, 2, 4].map {
            try Run([
                "compare", folder + "/a.nii.gz", folder + "/b.nii.gz", "--format", "json", "--threads", String($0),
            ]).stdout
        }
        #expect(!outputs[0].isEmpty)
        #expect(outputs[1] == outputs[0] && outputs[2] == outputs[0])
    }
}
