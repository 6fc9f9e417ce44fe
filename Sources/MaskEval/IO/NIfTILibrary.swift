import CNIfTI

#if canImport(Glibc)
    import Glibc
#endif

/// The one wrapper around nifticlib: every C call of MaskEval is in this file. C return
/// codes become `NIfTIError`s; nothing C-shaped leaves it.
enum NIfTILibrary {
    /// nifticlib prints its own diagnostics on stderr at debug level 1; MaskEval turns
    /// every failure into one line of its own, so the library is silenced once.
    private static let silenced: Bool = {
        nifti_set_debug_level(0)
        return true
    }()

    /// Reads the header exactly as stored (byte-swapped to native order, but without
    /// nifticlib's fix-ups such as zero pixdim → 1).
    static func readHeader(path: String) throws -> NIfTIHeader {
        _ = silenced
        var version: Int32 = 0
        guard let raw = nifti_read_header(path, &version, 0) else {
            throw NIfTIError.invalid(path: path, reason: "not a NIfTI or ANALYZE file (header unreadable)")
        }
        defer { free(raw) }
        if version == 2 {
            let h = raw.assumingMemoryBound(to: nifti_2_header.self).pointee
            return NIfTIHeader(
                niftiVersion: 2,
                dim: array(h.dim, of: Int64.self).map { Int($0) },
                pixdim: array(h.pixdim, of: Double.self),
                datatype: Int(h.datatype),
                sclSlope: h.scl_slope, sclInter: h.scl_inter,
                qformCode: Int(h.qform_code), sformCode: Int(h.sform_code),
                quaternB: h.quatern_b, quaternC: h.quatern_c, quaternD: h.quatern_d,
                qoffsetX: h.qoffset_x, qoffsetY: h.qoffset_y, qoffsetZ: h.qoffset_z,
                srowX: array(h.srow_x, of: Double.self),
                srowY: array(h.srow_y, of: Double.self),
                srowZ: array(h.srow_z, of: Double.self),
                xyzUnits: Int(h.xyzt_units & 0x07),
                descrip: string(h.descrip))
        }
        let h = raw.assumingMemoryBound(to: nifti_1_header.self).pointee
        let magic = string(h.magic)
        return NIfTIHeader(
            niftiVersion: (magic == "n+1" || magic == "ni1") ? 1 : 0,
            dim: array(h.dim, of: Int16.self).map { Int($0) },
            pixdim: array(h.pixdim, of: Float.self).map { Double($0) },
            datatype: Int(h.datatype),
            sclSlope: Double(h.scl_slope), sclInter: Double(h.scl_inter),
            qformCode: Int(h.qform_code), sformCode: Int(h.sform_code),
            quaternB: Double(h.quatern_b), quaternC: Double(h.quatern_c),
            quaternD: Double(h.quatern_d),
            qoffsetX: Double(h.qoffset_x), qoffsetY: Double(h.qoffset_y),
            qoffsetZ: Double(h.qoffset_z),
            srowX: array(h.srow_x, of: Float.self).map { Double($0) },
            srowY: array(h.srow_y, of: Float.self).map { Double($0) },
            srowZ: array(h.srow_z, of: Float.self).map { Double($0) },
            xyzUnits: Int(h.xyzt_units & 0x07),
            descrip: string(h.descrip))
    }

    /// Loads the voxel data and hands it to `body` as raw bytes in native byte order.
    /// The nifticlib image is freed when `body` returns.
    static func withVoxelData<T>(
        path: String, expectedVoxels: Int, _ body: (UnsafeRawBufferPointer) throws -> T
    ) throws -> T {
        _ = silenced
        guard let image = nifti_image_read(path, 0) else {
            throw NIfTIError.invalid(path: path, reason: "not a valid NIfTI file (header rejected)")
        }
        defer { nifti_image_free(image) }
        guard Int(image.pointee.nvox) == expectedVoxels else {
            throw NIfTIError.invalid(
                path: path, reason: "header declares \(image.pointee.nvox) voxels, expected \(expectedVoxels)")
        }
        // The voxels are read here with nifticlib's znz layer rather than nifti_image_load:
        // nifti_image_load silently turns NaN and infinite floats into 0, which would make
        // a corrupt label volume look valid.
        let bytes = Int(image.pointee.nvox) * Int(image.pointee.nbyper)
        guard let iname = image.pointee.iname else {
            throw NIfTIError.invalid(path: path, reason: "no image file name")
        }
        let data = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 16)
        defer { data.deallocate() }
        guard let file = znzopen(iname, "rb", nifti_is_gzfile(iname)) else {
            throw NIfTIError.unreadable(path: String(cString: iname), reason: String(cString: strerror(errno)))
        }
        var handle: znzFile? = file
        defer { _ = Xznzclose(&handle) }
        let offset = Int(image.pointee.iname_offset)
        // gzseek returns the new offset, fseek 0: only a negative result is a failure.
        guard offset >= 0, znzseek(file, off_t(offset), SEEK_SET) >= 0 else {
            throw NIfTIError.invalid(path: path, reason: "voxel data offset \(offset) is past the end of the file")
        }
        var read = 0
        while read < bytes {
            let chunk = min(bytes - read, 1 << 28)
            let got = znzread(data + read, 1, chunk, file)
            // znzread returns (size_t)-1 on a gzip error: as an Int that is -1.
            if got <= 0 { break }
            read += got
        }
        guard read == bytes else {
            throw NIfTIError.invalid(
                path: path, reason: "voxel data is truncated or corrupt (read \(read) of \(bytes) bytes)")
        }
        let swap = Int(image.pointee.swapsize)
        if image.pointee.byteorder != nifti_short_order() && swap > 1 {
            nifti_swap_Nbytes(image.pointee.nvox, Int32(swap), data)
        }
        return try body(UnsafeRawBufferPointer(start: UnsafeRawPointer(data), count: bytes))
    }

    /// Writes a volume through `nifti_image_write`. `fill` receives the zeroed voxel buffer
    /// (`header.datatype`, native order) to write into.
    static func write(
        header: NIfTIHeader, to path: String, fill: (UnsafeMutableRawBufferPointer) -> Void
    ) throws {
        _ = silenced
        var dims = [Int64](repeating: 1, count: 8)
        for index in 0..<8 { dims[index] = Int64(header.dim[index]) }
        guard let image = nifti_make_new_nim(dims, Int32(header.datatype), 1) else {
            throw NIfTIError.cannotWrite(path: path, reason: "nifticlib could not allocate the image")
        }
        defer { nifti_image_free(image) }
        let nim = image
        withUnsafeMutableBytes(of: &nim.pointee.pixdim) { buffer in
            let pixdim = buffer.bindMemory(to: Double.self)
            for index in 0..<8 { pixdim[index] = header.pixdim[index] }
        }
        nim.pointee.dx = header.pixdim[1]
        nim.pointee.dy = header.pixdim[2]
        nim.pointee.dz = header.pixdim[3]
        nim.pointee.scl_slope = header.sclSlope
        nim.pointee.scl_inter = header.sclInter
        nim.pointee.qform_code = Int32(header.qformCode)
        nim.pointee.sform_code = Int32(header.sformCode)
        nim.pointee.quatern_b = header.quaternB
        nim.pointee.quatern_c = header.quaternC
        nim.pointee.quatern_d = header.quaternD
        nim.pointee.qoffset_x = header.qoffsetX
        nim.pointee.qoffset_y = header.qoffsetY
        nim.pointee.qoffset_z = header.qoffsetZ
        nim.pointee.qfac = header.pixdim[0] < 0 ? -1 : 1
        nim.pointee.xyz_units = Int32(header.xyzUnits)
        var sform = nifti_dmat44()
        withUnsafeMutableBytes(of: &sform.m) { buffer in
            let m = buffer.bindMemory(to: Double.self)
            for column in 0..<4 {
                m[column] = header.srowX[column]
                m[4 + column] = header.srowY[column]
                m[8 + column] = header.srowZ[column]
            }
            m[15] = 1
        }
        nim.pointee.sto_xyz = sform
        withUnsafeMutableBytes(of: &nim.pointee.descrip) { buffer in
            let bytes = Array(header.descrip.utf8.prefix(79))
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let lower = path.lowercased()
        let pair = lower.hasSuffix(".hdr") || lower.hasSuffix(".hdr.gz")
        guard nifti_set_filenames(nim, path, 0, 1) == 0 else {
            throw NIfTIError.cannotWrite(path: path, reason: "not a NIfTI file name")
        }
        // After the names: nifti_set_filenames derives a NIfTI-1 type from the extension.
        nim.pointee.nifti_type =
            header.niftiVersion == 2
            ? (pair ? NIFTI_FTYPE_NIFTI2_2 : NIFTI_FTYPE_NIFTI2_1)
            : (pair ? NIFTI_FTYPE_NIFTI1_2 : NIFTI_FTYPE_NIFTI1_1)
        let bytes = Int(nim.pointee.nvox) * Int(nim.pointee.nbyper)
        guard let data = nim.pointee.data else {
            throw NIfTIError.cannotWrite(path: path, reason: "nifticlib allocated no voxel buffer")
        }
        fill(UnsafeMutableRawBufferPointer(start: data, count: bytes))
        // Files are written here rather than by nifti_image_write: nifticlib 3.0.1
        // truncates a single-file NIfTI-2 to its voxel data and writes a NIfTI-2 pair with a
        // NIfTI-1 header, and its writer reports no errors. The header itself comes from
        // nifticlib's own conversion of the image.
        let version = header.niftiVersion == 2 ? 2 : 1
        if pair, let iname = nim.pointee.iname {
            try writeFile(image: nim, version: version, path: path, pair: true, data: nil, bytes: 0)
            try writeFile(
                image: nim, version: version, path: String(cString: iname), pair: true, data: data, bytes: bytes)
        } else {
            try writeFile(image: nim, version: version, path: path, pair: false, data: data, bytes: bytes)
        }
    }

    /// Writes a header (when `data` is nil or the file is single), then the voxel data.
    private static func writeFile(
        image: UnsafeMutablePointer<nifti_image>, version: Int, path: String, pair: Bool,
        data: UnsafeMutableRawPointer?, bytes: Int
    ) throws {
        let compressed = path.lowercased().hasSuffix(".gz") ? Int32(1) : 0
        guard let file = znzopen(path, "wb", compressed) else {
            throw NIfTIError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        var handle: znzFile? = file
        var written = 0
        var expected = 0
        let writesHeader = !pair || data == nil
        if !writesHeader {
            // The .img half of a pair: data only.
        } else if version == 2 {
            var header = nifti_2_header()
            guard nifti_convert_nim2n2hdr(image, &header) == 0 else {
                _ = Xznzclose(&handle)
                throw NIfTIError.cannotWrite(path: path, reason: "nifticlib could not build the header")
            }
            header.vox_offset = pair ? 0 : 544
            withUnsafeMutableBytes(of: &header.magic) { magic in
                let bytes = [0x6E, pair ? 0x69 : 0x2B, 0x32, 0, 0x0D, 0x0A, 0x1A, 0x0A]
                for (index, byte) in bytes.enumerated() { magic[index] = UInt8(byte) }
            }
            written += withUnsafeBytes(of: &header) { znzwrite($0.baseAddress, 1, 540, file) }
            expected += 540
        } else {
            var header = nifti_1_header()
            guard nifti_convert_nim2n1hdr(image, &header) == 0 else {
                _ = Xznzclose(&handle)
                throw NIfTIError.cannotWrite(path: path, reason: "nifticlib could not build the header")
            }
            header.vox_offset = pair ? 0 : 352
            withUnsafeMutableBytes(of: &header.magic) { magic in
                for (index, byte) in [0x6E, pair ? 0x69 : 0x2B, 0x31, 0].enumerated() { magic[index] = UInt8(byte) }
            }
            written += withUnsafeBytes(of: &header) { znzwrite($0.baseAddress, 1, 348, file) }
            expected += 348
        }
        if writesHeader {
            let extender: [UInt8] = [0, 0, 0, 0]
            written += extender.withUnsafeBytes { znzwrite($0.baseAddress, 1, 4, file) }
            expected += 4
        }
        if let data {
            written += znzwrite(data, 1, bytes, file)
            expected += bytes
        }
        let closed = Xznzclose(&handle)
        guard written == expected, closed == 0 else {
            throw NIfTIError.cannotWrite(path: path, reason: "wrote \(written) of \(expected) bytes")
        }
    }

    private static func array<Tuple, Element>(_ tuple: Tuple, of _: Element.Type) -> [Element] {
        withUnsafeBytes(of: tuple) { Array($0.bindMemory(to: Element.self)) }
    }

    private static func string<Tuple>(_ tuple: Tuple) -> String {
        withUnsafeBytes(of: tuple) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// zlib, through the same wrapper: deflate and CRC-32 for the PNG encoder.
enum Zlib {
    /// A zlib stream (RFC 1950) of `bytes` at the best compression.
    static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var capacity = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(capacity))
        let status = out.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                compress2(target.baseAddress, &capacity, source.baseAddress, uLong(source.count), Z_BEST_COMPRESSION)
            }
        }
        precondition(status == Z_OK, "compress2 cannot fail with a compressBound buffer")
        return Array(out.prefix(Int(capacity)))
    }

    /// Inflates a zlib stream whose inflated size is known; nil when it is not valid.
    static func uncompress(_ bytes: [UInt8], size: Int) -> [UInt8]? {
        var length = uLong(size)
        var out = [UInt8](repeating: 0, count: max(size, 1))
        let status = out.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                CNIfTI.uncompress(target.baseAddress, &length, source.baseAddress, uLong(source.count))
            }
        }
        return status == Z_OK && Int(length) == size ? Array(out.prefix(size)) : nil
    }

    /// CRC-32 (the PNG and gzip polynomial) of `bytes`, continuing from `start`.
    static func crc32(_ bytes: [UInt8], start: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(CNIfTI.crc32(uLong(start), buffer.baseAddress, uInt(buffer.count)))
        }
    }
}
