/// The NIfTI-1, NIfTI-2 and ANALYZE 7.5 header layouts, decoded and encoded in Swift from
/// and to bytes, in either byte order. nifticlib's own header reader casts `vox_offset` to
/// an int and clamps it, reads big-endian headers unswapped and reads every extension into
/// memory; these are the fields as stored, so each can be checked (`VoxelLayout`).
struct StoredHeader: Equatable {
    /// Where the voxel data start, as stored: a float in NIfTI-1 and ANALYZE, a 64-bit
    /// integer in NIfTI-2.
    enum Offset: Equatable, CustomStringConvertible {
        case float(Float)
        case integer(Int64)

        var description: String {
            switch self {
            case .float(let value):
                return value.isFinite && value == value.rounded() ? String(Int64(value)) : "\(value)"
            case .integer(let value): return String(value)
            }
        }
    }

    var header: NIfTIHeader
    /// True when the file is big-endian (sizeof_hdr reads byte-swapped).
    var bigEndian: Bool
    /// "n+1", "ni1", "n+2", "ni2", or the bytes found where the magic belongs (ANALYZE).
    var magic: String
    var voxOffset: Offset
    /// 348 (NIfTI-1, ANALYZE) or 540 (NIfTI-2).
    var size: Int
    var bitpix: Int
    /// The first byte of the 4-byte extender after the header (non-zero: extensions
    /// follow), nil when the file ends before it.
    var extender: UInt8?

    /// True for a magic that says "single file" (`n+1`, `n+2`).
    var isSingleFileMagic: Bool { magic == "n+1" || magic == "n+2" }
    var isPairMagic: Bool { magic == "ni1" || magic == "ni2" }
}

enum HeaderCodec {
    static let nifti1Size = 348
    static let nifti2Size = 540
    /// Bytes to read for any header and its extender.
    static let readSize = nifti2Size + 4

    /// Decodes the first bytes of a header file. Throws `.invalid` when `sizeof_hdr` is
    /// neither 348 nor 540 in either byte order, or the file ends inside the header.
    static func decode(_ bytes: [UInt8], path: String) throws -> StoredHeader {
        guard bytes.count >= 4 else {
            throw ReadError.invalid(
                path: path, reason: "not a NIfTI file (\(bytes.count) bytes, no header)")
        }
        let little = Fields(bytes: bytes, bigEndian: false)
        let sizeofHdr = little.int32(0)
        let size: Int
        let bigEndian: Bool
        switch sizeofHdr {
        case Int32(nifti1Size), Int32(nifti2Size): (size, bigEndian) = (Int(sizeofHdr), false)
        case Int32(nifti1Size).byteSwapped, Int32(nifti2Size).byteSwapped:
            (size, bigEndian) = (Int(sizeofHdr.byteSwapped), true)
        default:
            throw ReadError.invalid(
                path: path, reason: "not a NIfTI file (sizeof_hdr is \(sizeofHdr), not 348 or 540 in either byte order)"
            )
        }
        guard bytes.count >= size else {
            throw ReadError.invalid(
                path: path, reason: "header is truncated (\(bytes.count) of \(size) bytes)")
        }
        let f = Fields(bytes: bytes, bigEndian: bigEndian)
        let extender = bytes.count >= size + 4 ? bytes[size] : nil
        return size == nifti2Size ? decode2(f, extender: extender) : decode1(f, extender: extender)
    }

    private static func decode1(_ f: Fields, extender: UInt8?) -> StoredHeader {
        let magic = f.magic(344, length: 4)
        let version = (magic == "n+1" || magic == "ni1") ? 1 : 0
        let header = NIfTIHeader(
            niftiVersion: version,
            dim: (0..<8).map { Int(f.int16(40 + 2 * $0)) },
            pixdim: (0..<8).map { Double(f.float32(76 + 4 * $0)) },
            datatype: Int(f.int16(70)),
            sclSlope: Double(f.float32(112)), sclInter: Double(f.float32(116)),
            qformCode: Int(f.int16(252)), sformCode: Int(f.int16(254)),
            quaternB: Double(f.float32(256)), quaternC: Double(f.float32(260)), quaternD: Double(f.float32(264)),
            qoffsetX: Double(f.float32(268)), qoffsetY: Double(f.float32(272)), qoffsetZ: Double(f.float32(276)),
            srowX: (0..<4).map { Double(f.float32(280 + 4 * $0)) },
            srowY: (0..<4).map { Double(f.float32(296 + 4 * $0)) },
            srowZ: (0..<4).map { Double(f.float32(312 + 4 * $0)) },
            xyzUnits: Int(f.bytes[123] & 0x07),
            descrip: f.text(148, length: 80))
        return StoredHeader(
            header: header, bigEndian: f.bigEndian, magic: magic, voxOffset: .float(f.float32(108)),
            size: nifti1Size, bitpix: Int(f.int16(72)), extender: extender)
    }

    private static func decode2(_ f: Fields, extender: UInt8?) -> StoredHeader {
        let magic = f.magic(4, length: 4)
        // Sizes beyond Int are beyond any file; clamping keeps them refusable.
        let header = NIfTIHeader(
            niftiVersion: 2,
            dim: (0..<8).map { Int(f.int64(16 + 8 * $0)) },
            pixdim: (0..<8).map { f.float64(104 + 8 * $0) },
            datatype: Int(f.int16(12)),
            sclSlope: f.float64(176), sclInter: f.float64(184),
            qformCode: Int(f.int32(344)), sformCode: Int(f.int32(348)),
            quaternB: f.float64(352), quaternC: f.float64(360), quaternD: f.float64(368),
            qoffsetX: f.float64(376), qoffsetY: f.float64(384), qoffsetZ: f.float64(392),
            srowX: (0..<4).map { f.float64(400 + 8 * $0) },
            srowY: (0..<4).map { f.float64(432 + 8 * $0) },
            srowZ: (0..<4).map { f.float64(464 + 8 * $0) },
            xyzUnits: Int(f.int32(500) & 0x07),
            descrip: f.text(240, length: 80))
        return StoredHeader(
            header: header, bigEndian: f.bigEndian, magic: magic, voxOffset: .integer(f.int64(168)),
            size: nifti2Size, bitpix: Int(f.int16(14)), extender: extender)
    }

    /// A little-endian header of `header.niftiVersion` (1 unless 2) and its 4-byte extender
    /// (no extensions); `vox_offset` is 352 or 544 for a single file, 0 for a pair.
    static func encode(_ header: NIfTIHeader, pair: Bool) -> [UInt8] {
        let type = header.voxelType
        let bitpix = (type?.byteCount ?? 0) * 8
        let qfac = header.pixdim[0] == -1 ? -1.0 : 1.0
        let quatern =
            header.qformCode > 0
            ? [header.quaternB, header.quaternC, header.quaternD, header.qoffsetX, header.qoffsetY, header.qoffsetZ]
            : [0, 0, 0, 0, 0, 0]
        let srow = header.sformCode > 0 ? header.srowX + header.srowY + header.srowZ : [Double](repeating: 0, count: 12)
        var w: Writer
        if header.niftiVersion == 2 {
            w = Writer(count: nifti2Size + 4)
            w.int32(Int32(nifti2Size), at: 0)
            w.put([0x6E, pair ? 0x69 : 0x2B, 0x32, 0, 0x0D, 0x0A, 0x1A, 0x0A], at: 4)
            w.int16(Int16(header.datatype), at: 12)
            w.int16(Int16(bitpix), at: 14)
            for (index, size) in header.dim.prefix(8).enumerated() { w.int64(Int64(size), at: 16 + 8 * index) }
            for index in 0..<8 { w.float64(index == 0 ? qfac : header.pixdim[index], at: 104 + 8 * index) }
            w.int64(pair ? 0 : Int64(nifti2Size + 4), at: 168)
            w.float64(header.sclSlope, at: 176)
            w.float64(header.sclInter, at: 184)
            w.text(header.descrip, at: 240, length: 80)
            w.int32(Int32(header.qformCode), at: 344)
            w.int32(Int32(header.sformCode), at: 348)
            for (index, value) in quatern.enumerated() { w.float64(value, at: 352 + 8 * index) }
            for (index, value) in srow.enumerated() { w.float64(value, at: 400 + 8 * index) }
            w.int32(Int32(header.xyzUnits & 0x07), at: 500)
        } else {
            w = Writer(count: nifti1Size + 4)
            w.int32(Int32(nifti1Size), at: 0)
            w.put([0x72], at: 38)  // regular = 'r', as ANALYZE readers expect
            for (index, size) in header.dim.prefix(8).enumerated() {
                precondition(Int16(exactly: size) != nil, "a NIfTI-1 dim holds at most 32767")
                w.int16(Int16(size), at: 40 + 2 * index)
            }
            w.int16(Int16(header.datatype), at: 70)
            w.int16(Int16(bitpix), at: 72)
            for index in 0..<8 { w.float32(Float(index == 0 ? qfac : header.pixdim[index]), at: 76 + 4 * index) }
            w.float32(pair ? 0 : Float(nifti1Size + 4), at: 108)
            w.float32(Float(header.sclSlope), at: 112)
            w.float32(Float(header.sclInter), at: 116)
            w.put([UInt8(header.xyzUnits & 0x07)], at: 123)
            w.text(header.descrip, at: 148, length: 80)
            w.int16(Int16(header.qformCode), at: 252)
            w.int16(Int16(header.sformCode), at: 254)
            for (index, value) in quatern.enumerated() { w.float32(Float(value), at: 256 + 4 * index) }
            for (index, value) in srow.enumerated() { w.float32(Float(value), at: 280 + 4 * index) }
            w.put([0x6E, pair ? 0x69 : 0x2B, 0x31, 0], at: 344)
        }
        return w.bytes
    }

    /// Reads fixed-width fields at byte offsets in the file's byte order.
    struct Fields {
        let bytes: [UInt8]
        let bigEndian: Bool

        private func load<T: FixedWidthInteger>(_ offset: Int, as _: T.Type) -> T {
            var value = T.zero
            withUnsafeMutableBytes(of: &value) { target in
                for index in 0..<MemoryLayout<T>.size { target[index] = bytes[offset + index] }
            }
            return bigEndian ? T(bigEndian: value) : T(littleEndian: value)
        }

        func int16(_ offset: Int) -> Int16 { load(offset, as: Int16.self) }
        func int32(_ offset: Int) -> Int32 { load(offset, as: Int32.self) }
        func int64(_ offset: Int) -> Int64 { load(offset, as: Int64.self) }
        func float32(_ offset: Int) -> Float { Float(bitPattern: load(offset, as: UInt32.self)) }
        func float64(_ offset: Int) -> Double { Double(bitPattern: load(offset, as: UInt64.self)) }

        /// Text up to the first NUL.
        func text(_ offset: Int, length: Int) -> String {
            String(decoding: bytes[offset..<(offset + length)].prefix { $0 != 0 }, as: UTF8.self)
        }

        /// The magic as printable text: bytes up to the first NUL, others as \xNN.
        func magic(_ offset: Int, length: Int) -> String {
            bytes[offset..<(offset + length)].prefix { $0 != 0 }.map { byte in
                (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
            }.joined()
        }
    }

    /// Writes little-endian fields into a zeroed header.
    struct Writer {
        var bytes: [UInt8]
        init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }

        mutating func put(_ values: [UInt8], at offset: Int) {
            for (index, value) in values.enumerated() { bytes[offset + index] = value }
        }
        private mutating func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            let raw = withUnsafeBytes(of: value.littleEndian) { Array($0) }
            put(raw, at: offset)
        }
        mutating func int16(_ value: Int16, at offset: Int) { store(value, at: offset) }
        mutating func int32(_ value: Int32, at offset: Int) { store(value, at: offset) }
        mutating func int64(_ value: Int64, at offset: Int) { store(value, at: offset) }
        mutating func float32(_ value: Float, at offset: Int) { store(value.bitPattern, at: offset) }
        mutating func float64(_ value: Double, at offset: Int) { store(value.bitPattern, at: offset) }
        mutating func text(_ value: String, at offset: Int, length: Int) {
            put(Array(value.utf8.prefix(length - 1)), at: offset)
        }
    }
}
