// What an image file carries besides its pixels (colour profile, EXIF, XMP, density, PNG colour and text chunks),
// read from the container without decoding pixels. Reading never fails: a damaged part is left out and a note says
// so, because the pixels can still be enlarged.
import CImageShims

/// Dots per inch across and down.
package struct PixelDensity: Sendable, Hashable {
    /// Dots per inch across.
    package var x: Double
    /// Dots per inch down.
    package var y: Double

    /// A density of `x` by `y` dots per inch.
    package init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    /// "300 dpi", or "300×150 dpi" when the axes differ.
    package var description: String {
        func text(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(Double(Int((value * 100).rounded())) / 100)
        }
        return x == y ? "\(text(x)) dpi" : "\(text(x))×\(text(y)) dpi"
    }

    /// Whether both axes are positive and finite.
    var isUsable: Bool { x.isFinite && y.isFinite && x > 0 && y > 0 }
}

/// One PNG chunk: its four-letter type and payload.
package struct PNGChunk: Sendable, Hashable {
    /// The chunk type, e.g. "gAMA".
    package let type: String
    /// The chunk's data (no length, type or CRC).
    package let payload: [UInt8]
}

/// The metadata of an image file: what superres keeps, converts or drops when it writes the enlarged picture.
package struct ImageMetadata: Sendable, Equatable {
    /// The embedded ICC colour profile.
    package var iccProfile: ICCProfile?
    /// The EXIF data as a TIFF structure (starting "II*\0" or "MM\0*", without JPEG's "Exif\0\0").
    package var exif: [UInt8]?
    /// The XMP packet (UTF-8 XML).
    package var xmp: [UInt8]?
    /// The resolution the file states.
    package var density: PixelDensity?
    /// PNG colour chunks other than iCCP: sRGB, gAMA, cHRM (written back to PNG output only).
    package var pngColourChunks: [PNGChunk] = []
    /// PNG text chunks (tEXt, zTXt, iTXt other than XMP), written back to PNG output only.
    package var pngTextChunks: [PNGChunk] = []
    /// Parts found but not kept, in words (a damaged profile, extended XMP, ...).
    package var notes: [String] = []
    /// The number of pages of a TIFF file (1 for every other format); only the first is enlarged.
    package var pageCount = 1
    /// Whether the file is a CMYK (or YCCK) JPEG, whose pixels decode to sRGB.
    package var isCMYK = false
    /// Whether `iccProfile` is the sRGB profile superres made for pixels it converted to sRGB (a PNG then says
    /// so with an `sRGB` chunk rather than the profile).
    package var profileIsSRGB = false

    /// No metadata.
    package init() {}

    /// Whether there is nothing to write.
    package var isEmpty: Bool {
        iccProfile == nil && exif == nil && xmp == nil && density == nil && pngColourChunks.isEmpty
            && pngTextChunks.isEmpty
    }

    /// The metadata of an encoded PNG, JPEG, WebP or TIFF file (empty for anything else).
    package init(reading bytes: [UInt8]) {
        self.init()
        switch ImageFormat(sniffing: bytes) {
        case .png: readPNG(bytes)
        case .jpeg: readJPEG(bytes)
        case .webp: readWebP(bytes)
        case .tiff: readTIFF(bytes)
        case nil: break
        }
        if let exif, ExifBlock(exif) == nil {
            self.exif = nil
            notes.append("EXIF (\(exif.count) bytes) is damaged and was dropped")
        }
        if density == nil, let exif, let stated = ExifBlock(exif)?.density { density = stated }
    }

    /// The EXIF orientation, if the EXIF data states one.
    package var orientation: ExifOrientation? {
        exif.flatMap { ExifBlock($0)?.orientation }
    }
}

// MARK: - PNG

extension ImageMetadata {
    /// The largest profile or text accepted after decompression; larger ones are dropped with a note.
    static let maxInflatedBytes = 16 << 20

    /// Walks the chunk list (only lengths and types: IDAT data is skipped, not read).
    private mutating func readPNG(_ bytes: [UInt8]) {
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            guard length <= bytes.count - offset - 12 else {
                notes.append("the PNG chunk list is cut inside a \(type) chunk; chunks after it were not read")
                return
            }
            let start = offset + 8
            offset += 12 + length
            // Only the chunks read below are copied (never the image data).
            guard ["iCCP", "sRGB", "gAMA", "cHRM", "pHYs", "eXIf", "iTXt", "tEXt", "zTXt", "IEND"].contains(type)
            else { continue }
            let payload = Array(bytes[start..<start + length])
            switch type {
            case "iCCP": readICCP(payload)
            case "sRGB", "gAMA", "cHRM": pngColourChunks.append(PNGChunk(type: type, payload: payload))
            case "pHYs":
                guard payload.count == 9, payload[8] == 1 else { continue }
                let x = payload[0..<4].reduce(0) { $0 << 8 | Int($1) }
                let y = payload[4..<8].reduce(0) { $0 << 8 | Int($1) }
                // Dots per metre are whole numbers: 300 dpi is stored as 11811, read back to the hundredth.
                let stated = PixelDensity(
                    x: Self.hundredths(Double(x) * 0.0254),
                    y: Self.hundredths(Double(y) * 0.0254)
                )
                if stated.isUsable { density = stated }
            case "eXIf": exif = Self.tiffStructure(payload)
            case "iTXt", "tEXt", "zTXt":
                // The XMP chunk (a damaged one is dropped with a note); every other text chunk is kept as it is.
                if type == "iTXt", payload.starts(with: Self.pngXMPKeyword) {
                    xmp = readXMPText(payload) ?? xmp
                } else {
                    pngTextChunks.append(PNGChunk(type: type, payload: payload))
                }
            case "IEND": return
            default: continue
            }
        }
    }

    /// iCCP: a profile name (1-79 Latin-1 bytes), NUL, method 0, then the zlib-compressed profile.
    private mutating func readICCP(_ payload: [UInt8]) {
        guard let nul = payload.prefix(80).firstIndex(of: 0), nul > 0, nul + 2 <= payload.count,
            payload[nul + 1] == 0
        else {
            notes.append("the PNG iCCP chunk is damaged; the colour profile was dropped")
            return
        }
        let name = String(payload[..<nul].map { Character(Unicode.Scalar($0)) })
        switch Self.inflate(Array(payload[(nul + 2)...])) {
        case .success(let profile):
            if let parsed = ICCProfile(profile, pngName: name) {
                iccProfile = parsed
            } else {
                notes.append("the PNG iCCP profile \"\(name)\" is not a valid ICC profile and was dropped")
            }
        case .failure(let reason):
            notes.append("the PNG iCCP profile \"\(name)\" could not be decompressed (\(reason)) and was dropped")
        }
    }

    /// The keyword of PNG's XMP chunk and its NUL.
    static let pngXMPKeyword: [UInt8] = Array("XML:com.adobe.xmp".utf8) + [0]

    /// The XMP packet of an iTXt chunk with the keyword "XML:com.adobe.xmp"; nil (and a note) when it is damaged.
    private mutating func readXMPText(_ payload: [UInt8]) -> [UInt8]? {
        let keyword = Array(Self.pngXMPKeyword.dropLast())
        guard payload.count > keyword.count + 2, payload.starts(with: keyword), payload[keyword.count] == 0 else {
            notes.append("the PNG XMP chunk is damaged and was dropped")
            return nil
        }
        let compressed = payload[keyword.count + 1] == 1
        // After the flag and method: language tag NUL, translated keyword NUL, then the text.
        var index = keyword.count + 3
        for _ in 0..<2 {
            guard let nul = payload[index...].firstIndex(of: 0) else {
                notes.append("the PNG XMP chunk is damaged and was dropped")
                return nil
            }
            index = nul + 1
        }
        let text = Array(payload[index...])
        guard compressed else { return text }
        switch Self.inflate(text) {
        case .success(let packet): return packet
        case .failure(let reason):
            notes.append("the PNG XMP chunk could not be decompressed (\(reason)) and was dropped")
            return nil
        }
    }

    /// Inflates a zlib stream of at most `maxInflatedBytes`, or says why not.
    static func inflate(_ compressed: [UInt8]) -> Result<[UInt8], InflateFailure> {
        var output = superres_buffer()
        defer { superres_buffer_free(&output) }
        var message = [CChar](repeating: 0, count: 128)
        let status = compressed.withUnsafeBufferPointer {
            superres_zlib_inflate($0.baseAddress, $0.count, maxInflatedBytes, &output, &message, message.count)
        }
        guard status == .ok else { return .failure(InflateFailure(ImageCodec.message(from: message))) }
        guard let data = output.data else { return .success([]) }
        return .success(Array(UnsafeBufferPointer(start: data, count: output.size)))
    }

    /// `value` rounded to two decimals.
    static func hundredths(_ value: Double) -> Double { (value * 100).rounded() / 100 }

    /// Why a zlib stream could not be inflated.
    struct InflateFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// EXIF data as a TIFF structure: some writers put JPEG's "Exif\0\0" in front, which is taken off.
    static func tiffStructure(_ payload: [UInt8]) -> [UInt8] {
        let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]
        return payload.starts(with: exifHeader) ? Array(payload.dropFirst(exifHeader.count)) : payload
    }
}

// MARK: - JPEG

extension ImageMetadata {
    static let jpegExifHeader: [UInt8] = Array("Exif".utf8) + [0, 0]
    static let jpegXMPHeader: [UInt8] = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0]
    static let jpegExtendedXMPHeader: [UInt8] = Array("http://ns.adobe.com/xmp/extension/".utf8) + [0]
    static let jpegICCHeader: [UInt8] = Array("ICC_PROFILE".utf8) + [0]
    static let jfifHeader: [UInt8] = Array("JFIF".utf8) + [0]

    /// APP0 JFIF density, APP1 EXIF and XMP, APP2 ICC profile pieces (joined by their sequence numbers).
    private mutating func readJPEG(_ bytes: [UInt8]) {
        var iccPieces: [Int: [UInt8]] = [:]
        var iccCount = 0
        var extendedXMP = 0
        for segment in JPEGSegments.headerSegments(bytes) {
            let payload = bytes[segment.payload]
            switch segment.marker {
            case 0xE0 where payload.starts(with: Self.jfifHeader) && payload.count >= 12:
                let base = payload.startIndex + 7
                let unit = payload[base]
                let x = Double(Int(payload[base + 1]) << 8 | Int(payload[base + 2]))
                let y = Double(Int(payload[base + 3]) << 8 | Int(payload[base + 4]))
                let scale = unit == 1 ? 1.0 : unit == 2 ? 2.54 : 0
                let stated = PixelDensity(x: Self.hundredths(x * scale), y: Self.hundredths(y * scale))
                if stated.isUsable { density = stated }
            case 0xE1 where payload.starts(with: Self.jpegExifHeader) && exif == nil:
                exif = Array(payload.dropFirst(Self.jpegExifHeader.count))
            case 0xE1 where payload.starts(with: Self.jpegXMPHeader) && xmp == nil:
                xmp = Array(payload.dropFirst(Self.jpegXMPHeader.count))
            case 0xE1 where payload.starts(with: Self.jpegExtendedXMPHeader):
                extendedXMP += payload.count
            case 0xC0...0xCF where ![0xC4, 0xC8, 0xCC].contains(segment.marker) && payload.count >= 6:
                isCMYK = payload[payload.startIndex + 5] == 4
            case 0xE2 where payload.starts(with: Self.jpegICCHeader) && payload.count > 14:
                let sequence = Int(payload[payload.startIndex + 12])
                iccCount = Int(payload[payload.startIndex + 13])
                iccPieces[sequence] = Array(payload.dropFirst(14))
            default: continue
            }
        }
        if extendedXMP > 0 {
            notes.append("extended XMP (\(extendedXMP) bytes in further APP1 segments) was dropped")
        }
        guard !iccPieces.isEmpty else { return }
        guard iccCount > 0, iccPieces.count == iccCount, (1...iccCount).allSatisfy({ iccPieces[$0] != nil }) else {
            notes.append(
                "the JPEG's ICC profile is incomplete (\(iccPieces.count) of \(iccCount) pieces) and was dropped"
            )
            return
        }
        let joined = (1...iccCount).flatMap { iccPieces[$0]! }
        if let profile = ICCProfile(joined) {
            iccProfile = profile
        } else {
            notes.append("the JPEG's ICC profile is not a valid ICC profile and was dropped")
        }
    }
}

// MARK: - TIFF

extension ImageMetadata {
    /// The first directory's ICCProfile (34675), XMLPacket (700), resolution and EXIF-level tags (as an EXIF block
    /// with the file's Exif and GPS directories), and the number of pages.
    private mutating func readTIFF(_ bytes: [UInt8]) {
        guard let file = ExifBlock(bytes) else {
            notes.append("the TIFF's first directory could not be read for metadata")
            return
        }
        pageCount = max(1, file.directoryCount)
        let entries = file.firstDirectory(keeping: ExifBlock.tiffMetadataTags)
        if let profile = entries.first(where: { $0.tag == 34675 }) {
            if let parsed = ICCProfile(profile.value) {
                iccProfile = parsed
            } else {
                notes.append("the TIFF's ICC profile is not a valid ICC profile and was dropped")
            }
        }
        if let packet = entries.first(where: { $0.tag == 700 }) { xmp = packet.value }
        exif = ExifBlock.fromTIFF(file)
        density = file.density
    }
}

// MARK: - WebP

extension ImageMetadata {
    /// The ICCP, EXIF and "XMP " chunks, through libwebp's demuxer.
    private mutating func readWebP(_ bytes: [UInt8]) {
        func chunk(_ fourCC: String) -> [UInt8]? {
            var output = superres_buffer()
            defer { superres_buffer_free(&output) }
            let status = bytes.withUnsafeBufferPointer {
                superres_webp_read_chunk($0.baseAddress, $0.count, fourCC, &output)
            }
            guard status == .ok, let data = output.data else { return nil }
            return Array(UnsafeBufferPointer(start: data, count: output.size))
        }
        if let profile = chunk("ICCP") {
            if let parsed = ICCProfile(profile) {
                iccProfile = parsed
            } else {
                notes.append("the WebP's ICCP chunk is not a valid ICC profile and was dropped")
            }
        }
        exif = chunk("EXIF").map(Self.tiffStructure)
        xmp = chunk("XMP ")
    }
}
