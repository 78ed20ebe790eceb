// An XMP packet's orientation, size and resolution properties set for the enlarged picture. Done on the text:
// no XML library is on the package list, and a rewrite through one would reformat the whole packet; here only the
// values of the named properties change, in either of XMP's two spellings (attribute or element).

/// Updates the few XMP properties an enlargement changes; everything else stays as written.
package enum XMPPacket {
    /// `packet` with tiff:Orientation 1, exif:PixelXDimension/PixelYDimension and tiff:ImageWidth/ImageLength set to
    /// the new size, tiff:XResolution/YResolution set to `density` when given; properties not present are not added.
    package static func updated(_ packet: [UInt8], width: Int, height: Int, density: PixelDensity?) -> [UInt8] {
        var text = String(decoding: packet, as: UTF8.self)
        var values: [(String, String)] = [
            ("tiff:Orientation", "1"),
            ("exif:PixelXDimension", String(width)),
            ("exif:PixelYDimension", String(height)),
            ("tiff:ImageWidth", String(width)),
            ("tiff:ImageLength", String(height)),
        ]
        if let density {
            values.append(("tiff:XResolution", rational(density.x)))
            values.append(("tiff:YResolution", rational(density.y)))
        }
        for (name, value) in values { text = replacing(name, with: value, in: text) }
        return Array(text.utf8)
    }

    /// An XMP rational: "300/1", or hundredths.
    private static func rational(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))/1" : "\(Int((value * 100).rounded()))/100"
    }

    /// The property `name` set to `value` wherever it appears as `name="…"`, `name='…'` or `<name>…</name>`.
    static func replacing(_ name: String, with value: String, in text: String) -> String {
        // The names are this file's own constants (letters and a colon), so the patterns always compile.
        guard let attribute = try? Regex("(\(name)\\s*=\\s*)(\"[^\"]*\"|'[^']*')"),
            let element = try? Regex("(<\(name)>)[^<]*(</\(name)>)")
        else { return text }
        var result = text.replacing(attribute) { match in
            let quote = match.output[2].substring?.first ?? "\""
            return "\(match.output[1].substring ?? "")\(quote)\(value)\(quote)"
        }
        result = result.replacing(element) { match in
            "\(match.output[1].substring ?? "")\(value)\(match.output[2].substring ?? "")"
        }
        return result
    }
}
