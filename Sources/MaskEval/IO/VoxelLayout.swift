#if canImport(Glibc)
    import Glibc
#endif

/// Where a volume's voxels are and how to decode them, after every check a reader needs:
/// the one validation that the label reader and the intensity reader share.
struct VoxelLayout {
    /// The path as given (a `.nii`, `.nii.gz`, `.hdr` or `.img`).
    let path: String
    let header: NIfTIHeader
    /// The file holding the voxels: `path` itself, or the `.img` half of a pair.
    let dataPath: String
    /// Byte offset of the first voxel in the (decompressed) data file.
    let dataOffset: Int
    let type: VoxelType
    let nx: Int
    let ny: Int
    let nz: Int
    /// nx·ny·nz, checked for overflow.
    let voxelCount: Int
    /// voxelCount × the type's size, checked for overflow.
    let byteCount: Int
    /// True for a big-endian file of a multi-byte type.
    let swapBytes: Bool

    /// The longest axis the engine can index: voxel boxes and boundary coordinates are
    /// `Int32` (`VoxelBox`), so an axis may hold at most `Int32.max` voxels.
    static let maxAxisLength = Int(Int32.max)
    /// Extensions walked in one file before it is refused (each is at least 16 bytes, so a
    /// small gzip file could otherwise hold millions).
    static let maxExtensions = 4096

    var grid: Grid { Grid(nx: nx, ny: ny, nz: nz, affine: header.affine) }

    /// Reads and checks the header of `path` and finds its voxel data: the file names and
    /// kinds, the magic, the header problems (dims, voxel type, spacing, affine), each axis
    /// against `maxAxisLength`, the voxel and byte counts against overflow, `vox_offset`,
    /// the extensions, and — for an uncompressed data file — that the data fit in it.
    /// Nothing is inflated beyond the header and the extensions' 8-byte heads.
    static func read(path: String) throws -> VoxelLayout {
        let files = try NIfTIFiles.resolve(path)
        let (stored, offset, extensionsEnd, headerFile) = try ReadHandle.withOpened(
            path: files.header, buffer: ReadHandle.headerBuffer
        ) { file in
            let stored = try readStored(file, files: files)
            let offset = try dataOffset(stored, path: files.header)
            let end = files.isPair ? 0 : try walkExtensions(file, stored, voxOffset: offset)
            return (stored, offset, end, (compressed: file.isCompressed, size: file.sizeOnDisk))
        }
        let header = stored.header
        if let problem = header.problems.first(where: { $0.severity == .error }) {
            // Without the NIfTI magic the header was only guessed to be ANALYZE: say so.
            let analyze = header.niftiVersion == 0
            let reason = analyze ? "not a NIfTI file (no NIfTI magic; as ANALYZE: \(problem.message))" : problem.message
            throw ReadError.invalid(path: files.header, reason: reason)
        }
        guard let type = header.voxelType else {
            throw ReadError.unsupported(path: files.header, reason: VoxelType.name(ofCode: header.datatype))
        }
        if header.niftiVersion == 0 && stored.bitpix != type.byteCount * 8 {
            throw ReadError.invalid(
                path: files.header,
                reason: "not a NIfTI file (no NIfTI magic; as ANALYZE: bitpix \(stored.bitpix) does not match "
                    + "\(type.name))")
        }
        let (nx, ny, nz) = header.spatialDims
        for (axis, size) in [nx, ny, nz].enumerated() where size > maxAxisLength {
            throw ReadError.invalid(
                path: files.header,
                reason: "dim[\(axis + 1)] is \(size); an axis may hold at most \(maxAxisLength) voxels (Int32 indices)")
        }
        let (plane, overflow1) = nx.multipliedReportingOverflow(by: ny)
        let (voxels, overflow2) = plane.multipliedReportingOverflow(by: nz)
        let (bytes, overflow3) = voxels.multipliedReportingOverflow(by: type.byteCount)
        if overflow1 || overflow2 || overflow3 {
            throw ReadError.invalid(
                path: files.header, reason: "dims \(nx)×\(ny)×\(nz) of \(type.name) overflow a 64-bit byte count")
        }
        if !files.isPair && offset < extensionsEnd {
            throw ReadError.invalid(
                path: files.header,
                reason:
                    "vox_offset \(stored.voxOffset) lies inside the header and its extensions (\(extensionsEnd) bytes)")
        }
        let dataFile =
            files.isPair
            ? try ReadHandle.withOpened(path: files.data, buffer: ReadHandle.headerBuffer) {
                (compressed: $0.isCompressed, size: $0.sizeOnDisk)
            }
            : headerFile
        if !dataFile.compressed {
            let size = dataFile.size
            if offset > size {
                throw ReadError.invalid(
                    path: files.data,
                    reason: "vox_offset \(stored.voxOffset) is past the end of the file (\(size) bytes)")
            }
            if bytes > size - offset {
                throw ReadError.invalid(
                    path: files.data,
                    reason: "voxel data are truncated: \(nx)×\(ny)×\(nz) \(type.name) need \(bytes) bytes "
                        + "from byte \(offset), the file has \(size - offset)")
            }
        }
        return VoxelLayout(
            path: path, header: header, dataPath: files.data, dataOffset: offset, type: type, nx: nx, ny: ny, nz: nz,
            voxelCount: voxels, byteCount: bytes, swapBytes: stored.bigEndian && type.byteCount > 1)
    }

    /// The header of `path` as stored, after the name, kind and magic checks only.
    static func readStoredHeader(path: String) throws -> StoredHeader {
        let files = try NIfTIFiles.resolve(path)
        return try ReadHandle.withOpened(path: files.header, buffer: ReadHandle.headerBuffer) {
            try readStored($0, files: files)
        }
    }

    /// Decodes the header and checks that its magic fits the kind of file: a single `.nii`
    /// carries `n+1`/`n+2`; a `.hdr` carries `ni1`/`ni2`, or no magic (ANALYZE 7.5).
    private static func readStored(_ file: ReadHandle, files: NIfTIFiles) throws -> StoredHeader {
        let stored = try HeaderCodec.decode(try file.read(upTo: HeaderCodec.readSize), path: files.header)
        let found = stored.magic.isEmpty ? "none" : "'\(stored.magic)'"
        if !files.isPair {
            guard stored.isSingleFileMagic else {
                let reason =
                    stored.isPairMagic
                    ? "magic \(found) belongs to a .hdr/.img pair; a single file carries n+\(stored.magic.suffix(1))"
                    : "no NIfTI magic (\(found)); a single file carries n+1 or n+2 (ANALYZE 7.5 is read only as "
                        + "a .hdr/.img pair)"
                throw ReadError.invalid(path: files.header, reason: "not a NIfTI file: " + reason)
            }
            if (stored.size == HeaderCodec.nifti2Size) != (stored.magic == "n+2") {
                throw ReadError.invalid(
                    path: files.header,
                    reason: "not a NIfTI file: sizeof_hdr \(stored.size) does not match magic \(found)")
            }
        } else {
            if stored.isSingleFileMagic {
                throw ReadError.invalid(
                    path: files.header,
                    reason: "magic \(found) belongs to a single .nii file; a .hdr carries ni\(stored.magic.suffix(1))")
            }
            if stored.size == HeaderCodec.nifti2Size && stored.magic != "ni2" {
                throw ReadError.invalid(
                    path: files.header, reason: "not a NIfTI file: sizeof_hdr 540 with magic \(found), not ni2")
            }
        }
        return stored
    }

    /// `vox_offset` as a byte position: finite, whole, not negative, below 2^31 when stored
    /// as a float (NIfTI-1, ANALYZE), and past the header in a single file.
    private static func dataOffset(_ stored: StoredHeader, path: String) throws -> Int {
        let value: Int
        switch stored.voxOffset {
        case .float(let float):
            guard float.isFinite, float == float.rounded(), float >= 0, float < 2_147_483_648 else {
                throw ReadError.invalid(
                    path: path,
                    reason: "vox_offset is \(float); it must be a whole number of bytes from 0 to 2^31 − 1")
            }
            value = Int(float)
        case .integer(let integer):
            guard integer >= 0 else {
                throw ReadError.invalid(path: path, reason: "vox_offset is \(integer); it must not be negative")
            }
            value = Int(integer)
        }
        return value
    }

    /// Walks the extensions of a single file from the end of the header up to `voxOffset`,
    /// reading only each one's 8-byte head (size, code) and seeking over its content.
    /// Returns where they end (the header's end plus the 4-byte extender when there are none).
    private static func walkExtensions(_ file: ReadHandle, _ stored: StoredHeader, voxOffset: Int) throws -> Int {
        var position = stored.size + 4
        guard let flag = stored.extender, flag != 0 else { return position }
        var count = 0
        while voxOffset - position >= 8 {
            try file.seek(to: position)
            let head = try file.read(upTo: 8)
            guard head.count == 8 else {
                throw ReadError.invalid(
                    path: file.path, reason: "extension at byte \(position) is cut off by the file's end")
            }
            let size = Int(HeaderCodec.Fields(bytes: head, bigEndian: stored.bigEndian).int32(0))
            guard size >= 16, size % 16 == 0 else {
                throw ReadError.invalid(
                    path: file.path,
                    reason: "extension at byte \(position) has size \(size); it must be a multiple of 16 (at least 16)")
            }
            guard size <= voxOffset - position else {
                throw ReadError.invalid(
                    path: file.path,
                    reason: "extension at byte \(position) (\(size) bytes) runs past vox_offset \(stored.voxOffset)")
            }
            position += size
            count += 1
            if count > maxExtensions {
                throw ReadError.invalid(path: file.path, reason: "more than \(maxExtensions) header extensions")
            }
        }
        return position
    }
}

/// The files of a volume: one `.nii`/`.nii.gz`, or a `.hdr` and its `.img` (either given,
/// either gzip-compressed).
struct NIfTIFiles {
    var header: String
    var data: String
    var isPair: Bool

    /// Name endings the reader accepts.
    static let endings = [".nii", ".nii.gz", ".hdr", ".hdr.gz", ".img", ".img.gz"]

    static func resolve(_ path: String) throws -> NIfTIFiles {
        let lower = path.lowercased()
        guard endings.contains(where: { lower.hasSuffix($0) }) else {
            // Name the real problem first when there is nothing to read at all.
            if !RegularFile.exists(path) { throw RegularFile.missing(path) }
            close(try RegularFile.open(path).fd)
            throw ReadError.invalid(path: path, reason: "not a NIfTI file name (expected .nii, .nii.gz or .hdr/.img)")
        }
        if lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") {
            return NIfTIFiles(header: path, data: path, isPair: false)
        }
        let gz = lower.hasSuffix(".gz") ? 3 : 0
        let given = lower.dropLast(gz).hasSuffix(".hdr") ? "hdr" : "img"
        let other = given == "hdr" ? "img" : "hdr"
        let stem = String(path.dropLast(4 + gz))
        // The given file first (so that a missing or special one is named as such), then
        // its other half: plain, gzip-compressed, or in capitals.
        if !RegularFile.exists(path) { throw RegularFile.missing(path) }
        let upper = path.dropLast(gz).hasSuffix(given.uppercased())
        let names = upper ? [other.uppercased(), other] : [other, other.uppercased()]
        let candidates = names.flatMap { ["\(stem).\($0)", "\(stem).\($0).gz", "\(stem).\($0).GZ"] }
        guard let found = candidates.first(where: RegularFile.exists) else {
            if given == "hdr" { throw ReadError.missing(path: "\(stem).\(names[0])", of: path) }
            throw ReadError.missing(path: "\(stem).\(names[0])", of: path, half: "header")
        }
        return given == "hdr"
            ? NIfTIFiles(header: path, data: found, isPair: true) : NIfTIFiles(header: found, data: path, isPair: true)
    }
}
