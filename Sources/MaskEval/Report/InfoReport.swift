/// What `maskeval info` shows about one file: header, geometry, problems and one row per
/// label (value, voxel count, volume, bounding box).
public struct InfoReport: Sendable {
    public var volume: LabelVolume
    public var labels: [LabelCensus]
    public var names: LabelNames

    /// `labels`: the census of the volume (`Inspection`).
    public init(volume: LabelVolume, labels: [LabelCensus], names: LabelNames = LabelNames()) {
        self.volume = volume
        self.names = names
        self.labels = labels
    }

    private var header: NIfTIHeader { volume.header }

    private var formatName: String {
        header.niftiVersion == 0 ? "ANALYZE 7.5" : "NIfTI-\(header.niftiVersion)"
    }

    private var affineDescription: String {
        switch header.affineSource {
        case .sform: return "sform (sform_code \(header.sformCode))"
        case .qform: return "qform (qform_code \(header.qformCode))"
        case .pixdim: return "pixdim (no qform or sform)"
        }
    }

    public func table() -> String {
        let grid = volume.grid
        let s = grid.spacingMM
        var lines = [
            "File         \(Escape.terminal(volume.path))",
            "Format       \(formatName), \(VoxelType.name(ofCode: header.datatype))"
                + (header.hasScaling
                    ? ", scl_slope \(Format.compact(header.sclSlope)) scl_inter \(Format.compact(header.sclInter))"
                    : ""),
            "Dims         \(grid.nx) × \(grid.ny) × \(grid.nz)",
            "Spacing      \(Format.compact(s.x)) × \(Format.compact(s.y)) × \(Format.compact(s.z)) mm",
            "Orientation  \(grid.affine.orientationCode)",
            "Affine       from \(affineDescription)",
        ]
        for row in grid.affine.rows.prefix(3) {
            lines.append("               [" + row.map(Format.compact).joined(separator: ", ") + "]")
        }
        let problems = header.problems
        lines.append("Problems     " + (problems.isEmpty ? "none" : problems[0].description))
        for problem in problems.dropFirst() { lines.append("             \(problem)") }
        lines.append("Labels       \(labels.count) non-zero")
        if !labels.isEmpty {
            var table = TextTable([
                ("label", .right), ("name", .left), ("voxels", .right), ("volume_ml", .right),
                ("bbox_min (i,j,k)", .left), ("bbox_max (i,j,k)", .left),
            ])
            let voxelML = grid.voxelVolumeML
            for census in labels {
                let box = census.referenceBox
                table.add([
                    String(census.label), CompareReport.shortName(names[census.label] ?? ""), String(census.referenceVoxels),
                    Format.fixed(Double(census.referenceVoxels) * voxelML, 3),
                    "\(box.lower.x),\(box.lower.y),\(box.lower.z)", "\(box.upper.x),\(box.upper.y),\(box.upper.z)",
                ])
            }
            lines.append("")
            lines.append(table.rendered())
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row per label: value, name, voxels, volume and bounding box.
    public func csv() -> String {
        var lines = ["label,name,voxels,volume_ml,bbox_min_i,bbox_min_j,bbox_min_k,bbox_max_i,bbox_max_j,bbox_max_k"]
        let voxelML = volume.grid.voxelVolumeML
        for census in labels {
            let box = census.referenceBox
            lines.append(
                ([String(census.label), CSV.field(names[census.label] ?? ""), String(census.referenceVoxels),
                  Format.exact(Double(census.referenceVoxels) * voxelML)]
                    + [box.lower.x, box.lower.y, box.lower.z, box.upper.x, box.upper.y, box.upper.z].map { String($0) })
                    .joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public func json() -> JSONValue {
        let grid = volume.grid
        let voxelML = grid.voxelVolumeML
        return .object([
            "schema_version": .int(1),
            "maskeval_version": .string(MaskEvalVersion.string),
            "path": .string(volume.path),
            "format": .string(formatName),
            "voxel_type": .string(VoxelType.name(ofCode: header.datatype)),
            "dims": .array(grid.dims.map { .int($0) }),
            "spacing_mm": .array([grid.spacingMM.x, grid.spacingMM.y, grid.spacingMM.z].map { .number($0) }),
            "affine": Self.affineJSON(grid.affine),
            "affine_source": .string(header.affineSource.rawValue),
            "orientation": .string(grid.affine.orientationCode),
            "scl_slope": .number(header.sclSlope),
            "scl_inter": .number(header.sclInter),
            "problems": .array(
                header.problems.map {
                    .object(["severity": .string($0.severity.rawValue), "message": .string($0.message)])
                }),
            "labels": .array(
                labels.map { census in
                    let box = census.referenceBox
                    return .object([
                        "label": .int(Int(census.label)),
                        "name": census.label == 0 ? .null : (names[census.label].map { .string($0) } ?? .null),
                        "voxels": .int(census.referenceVoxels),
                        "volume_ml": .number(Double(census.referenceVoxels) * voxelML),
                        "bbox_min": .array([box.lower.x, box.lower.y, box.lower.z].map { .int(Int($0)) }),
                        "bbox_max": .array([box.upper.x, box.upper.y, box.upper.z].map { .int(Int($0)) }),
                    ])
                }),
        ])
    }

    static func affineJSON(_ affine: Affine) -> JSONValue {
        .array(affine.rows.map { .array($0.map { .number($0) }) })
    }
}
