// An ICC profile as bytes, with the few header facts superres reports (colour space, description). Read by hand:
// only the 128-byte header and the tag table are looked at, every offset checked (lcms2 is for transforms).

/// An embedded ICC colour profile, kept byte for byte.
package struct ICCProfile: Sendable, Hashable {
    /// The profile as stored.
    package let bytes: [UInt8]
    /// The name a PNG iCCP chunk gave it, if it came from one.
    package let pngName: String?
    /// The data colour space from the header: "RGB", "GRAY", "CMYK", ...
    package let colourSpace: String
    /// The profile's description tag ("Display P3", "Adobe RGB (1998)", ...), when it has one.
    package let name: String?

    /// A profile over `bytes`, or nil when they are not an ICC profile (too short, no "acsp" signature, or a
    /// declared size beyond the bytes).
    package init?(_ bytes: [UInt8], pngName: String? = nil) {
        guard bytes.count >= 132, Self.unsigned(bytes, 36) == 0x6163_7370,  // "acsp"
            let declared = Self.unsigned(bytes, 0), declared >= 132, declared <= bytes.count
        else { return nil }
        self.bytes = Array(bytes.prefix(declared))
        self.pngName = pngName
        colourSpace = String(decoding: bytes[16..<20], as: UTF8.self).trimmingTrailingSpaces
        name = Self.description(Array(bytes.prefix(declared)))
    }

    /// The name to show: the description, else the PNG name, else the colour space.
    package var displayName: String { name ?? pngName ?? "unnamed \(colourSpace) profile" }

    /// The profile name a PNG iCCP chunk may carry: 1-79 printable Latin-1 characters, no leading, trailing or double
    /// spaces.
    package var pngChunkName: [UInt8] {
        let source = pngName ?? name ?? "ICC profile"
        var name: [UInt8] = []
        for scalar in source.unicodeScalars where scalar.value >= 32 && scalar.value <= 255 && scalar.value != 127 {
            if scalar == " " && (name.isEmpty || name.last == 0x20) { continue }
            name.append(UInt8(scalar.value))
            if name.count == 79 { break }
        }
        while name.last == 0x20 { name.removeLast() }
        return name.isEmpty ? Array("ICC profile".utf8) : name
    }

    /// The 'desc' tag's text: type 'desc' (ICC v2: a counted ASCII string) or 'mluc' (v4: UTF-16BE records, the
    /// first one taken).
    private static func description(_ bytes: [UInt8]) -> String? {
        guard let count = unsigned(bytes, 128), count < 10_000 else { return nil }
        for entry in 0..<count {
            let base = 132 + entry * 12
            guard let signature = unsigned(bytes, base), let offset = unsigned(bytes, base + 4),
                let size = unsigned(bytes, base + 8)
            else { return nil }
            guard signature == 0x6465_7363, size >= 12, offset <= bytes.count - size else { continue }  // "desc"
            let tag = Array(bytes[offset..<offset + size])
            switch unsigned(tag, 0) {
            case 0x6465_7363:  // 'desc'
                guard let length = unsigned(tag, 8), length > 0, length <= tag.count - 12 else { return nil }
                let text = tag[12..<12 + length].prefix { $0 != 0 }
                return String(decoding: text, as: UTF8.self).trimmingTrailingSpaces.nonEmpty
            case 0x6D6C_7563:  // 'mluc'
                guard let records = unsigned(tag, 8), records > 0, let length = unsigned(tag, 20),
                    let start = unsigned(tag, 24), start <= tag.count, length <= tag.count - start
                else { return nil }
                var units: [UInt16] = []
                var index = start
                while index + 1 < start + length {
                    units.append(UInt16(tag[index]) << 8 | UInt16(tag[index + 1]))
                    index += 2
                }
                return String(decoding: units.prefix { $0 != 0 }, as: UTF16.self).trimmingTrailingSpaces.nonEmpty
            default: return nil
            }
        }
        return nil
    }

    /// The big-endian 32-bit number at `offset`, or nil past the end.
    private static func unsigned(_ bytes: [UInt8], _ offset: Int) -> Int? {
        guard offset >= 0, offset <= bytes.count - 4 else { return nil }
        return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
    }
}

extension String {
    /// The text without trailing spaces.
    fileprivate var trimmingTrailingSpaces: String {
        var text = Substring(self)
        while text.last == " " { text.removeLast() }
        return String(text)
    }

    /// nil for an empty string.
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
