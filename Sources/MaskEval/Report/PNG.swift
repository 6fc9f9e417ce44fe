/// An 8-bit RGB image, rows top to bottom.
public struct RGBImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// width × height × 3 bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for index in 0..<(width * height) {
            pixels[index * 3] = fill.0
            pixels[index * 3 + 1] = fill.1
            pixels[index * 3 + 2] = fill.2
        }
    }

    public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        get {
            let at = (y * width + x) * 3
            return (pixels[at], pixels[at + 1], pixels[at + 2])
        }
        set {
            let at = (y * width + x) * 3
            pixels[at] = newValue.0
            pixels[at + 1] = newValue.1
            pixels[at + 2] = newValue.2
        }
    }
}

/// A PNG encoder: IHDR (8-bit RGB, no interlace), one IDAT of zlib-deflated scanlines with
/// filter 0, IEND; CRCs from zlib.
public enum PNG {
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func encode(_ image: RGBImage) -> [UInt8] {
        precondition(image.width > 0 && image.height > 0, "a PNG needs at least one pixel")
        var header: [UInt8] = []
        header += bigEndian(UInt32(image.width))
        header += bigEndian(UInt32(image.height))
        header += [8, 2, 0, 0, 0]  // bit depth, colour type RGB, deflate, filter set 0, no interlace
        var scanlines = [UInt8]()
        scanlines.reserveCapacity(image.height * (image.width * 3 + 1))
        for y in 0..<image.height {
            scanlines.append(0)  // filter type None
            scanlines += image.pixels[(y * image.width * 3)..<((y + 1) * image.width * 3)]
        }
        return signature + chunk("IHDR", header) + chunk("IDAT", Zlib.compress(scanlines)) + chunk("IEND", [])
    }

    /// The inverse of `encode` for the PNGs it writes (tests): nil when a CRC, the header or
    /// the data does not check out.
    public static func decode(_ bytes: [UInt8]) -> RGBImage? {
        guard bytes.count > 8, Array(bytes.prefix(8)) == signature else { return nil }
        var at = 8
        var width = 0
        var height = 0
        var data: [UInt8] = []
        while at + 12 <= bytes.count {
            let length = Int(readBigEndian(bytes, at))
            guard at + 12 + length <= bytes.count else { return nil }
            let type = Array(bytes[(at + 4)..<(at + 8)])
            let body = Array(bytes[(at + 8)..<(at + 8 + length)])
            guard readBigEndian(bytes, at + 8 + length) == Zlib.crc32(type + body) else { return nil }
            switch String(decoding: type, as: UTF8.self) {
            case "IHDR":
                guard length == 13, body[8] == 8, body[9] == 2 else { return nil }
                width = Int(readBigEndian(body, 0))
                height = Int(readBigEndian(body, 4))
            case "IDAT": data += body
            case "IEND":
                guard let raw = Zlib.uncompress(data, size: height * (width * 3 + 1)) else { return nil }
                var image = RGBImage(width: width, height: height)
                for y in 0..<height {
                    guard raw[y * (width * 3 + 1)] == 0 else { return nil }
                    let start = y * (width * 3 + 1) + 1
                    for x in 0..<(width * 3) { image.pixels[y * width * 3 + x] = raw[start + x] }
                }
                return image
            default: break
            }
            at += 12 + length
        }
        return nil
    }

    static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return bigEndian(UInt32(body.count)) + typeBytes + body + bigEndian(Zlib.crc32(typeBytes + body))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    static func readBigEndian(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    /// Base64 for data URIs.
    public static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 2 < bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out.append(alphabet[Int(n >> 18)])
            out.append(alphabet[Int((n >> 12) & 63)])
            out.append(alphabet[Int((n >> 6) & 63)])
            out.append(alphabet[Int(n & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let n = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out.append(alphabet[Int(n >> 18)])
            out.append(alphabet[Int((n >> 12) & 63)])
            out.append(rest == 2 ? alphabet[Int((n >> 6) & 63)] : "=")
            out.append("=")
        }
        return out
    }
}
