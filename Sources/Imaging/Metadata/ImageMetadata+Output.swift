// The metadata of an enlarged picture (what is kept, updated or dropped) and its bytes in each output format.
import CImageShims

/// What the enlarged picture's resolution is.
package enum DensityChoice: Sendable, Hashable {
    /// The same dots per inch: the print is `scale` times larger (the default).
    case keep
    /// `scale` times the dots per inch: the same print size.
    case scale
    /// This many dots per inch.
    case fixed(Double)

    /// `keep`, `scale` or a number of dots per inch (1...65535); nil for anything else.
    package init?(argument: String) {
        switch argument {
        case "keep": self = .keep
        case "scale": self = .scale
        default:
            guard let value = Double(argument), value.isFinite, value >= 1, value <= 65535 else { return nil }
            self = .fixed(value)
        }
    }
}

/// How the metadata of an input is carried to its enlarged picture.
package struct MetadataPolicy: Sendable, Hashable {
    /// The output resolution.
    package var density: DensityChoice
    /// Whether EXIF, XMP and text chunks are left out (the colour profile is kept: it is colour, not metadata).
    package var strip: Bool
    /// What decoding did with the colours (the result's profile follows it).
    package var colour: ColourPolicy

    /// A policy (by default: keep everything, same dpi, stored colour values).
    package init(density: DensityChoice = .keep, strip: Bool = false, colour: ColourPolicy = ColourPolicy()) {
        self.density = density
        self.strip = strip
        self.colour = colour
    }
}

extension ImageMetadata {
    /// The metadata of the picture enlarged from `sourceWidth × sourceHeight` (upright) to `width × height` in
    /// `layout`: EXIF and XMP updated (orientation 1, new size, new resolution, no thumbnail) or stripped, the
    /// resolution as `policy` says, a profile whose colour space no longer matches the pixels dropped with a note.
    package func enlarged(
        from sourceWidth: Int,
        _ sourceHeight: Int,
        to width: Int,
        _ height: Int,
        layout: PixelLayout,
        policy: MetadataPolicy
    ) -> ImageMetadata {
        var output = ImageMetadata()
        output.notes = notes
        switch policy.density {
        case .keep: output.density = density
        case .scale:
            output.density = density.map {
                PixelDensity(
                    x: $0.x * Double(width) / Double(sourceWidth),
                    y: $0.y * Double(height) / Double(sourceHeight)
                )
            }
            if density == nil {
                output.notes.append("the input states no resolution, so --dpi scale has none to scale")
            }
        case .fixed(let dpi): output.density = PixelDensity(x: dpi, y: dpi)
        }
        let expected = layout.isGrey ? "GRAY" : "RGB"
        if isCMYK {
            // The decoder turned the CMYK pixels into sRGB.
            let embedded = iccProfile.flatMap { $0.colourSpace == "CMYK" && $0.converts(cmyk: true) ? $0 : nil }
            let stated = policy.colour.cmykProfile.flatMap { $0.converts(cmyk: true) ? $0 : nil }
            let how: String
            if let embedded {
                how = "its profile \"\(embedded.displayName)\""
            } else if let stated {
                how = "the stated CMYK profile \"\(stated.displayName)\""
            } else {
                how = "the plain formula (it has no usable CMYK profile; give one with --cmyk-profile)"
            }
            output.notes.append("CMYK converted to sRGB through \(how)")
            output.tagSRGB(grey: layout.isGrey)
        } else if policy.colour.mode == .srgb {
            // The decoder converted pixels under a matching profile; pixels without one are taken as sRGB already.
            if let profile = iccProfile, profile.colourSpace != expected {
                output.notes.append(
                    "the \(profile.colourSpace) colour profile \"\(profile.displayName)\" does not describe the "
                        + "pixels, which were taken as sRGB"
                )
            }
            output.tagSRGB(grey: layout.isGrey)
        } else {
            if let profile = iccProfile {
                if profile.colourSpace == expected {
                    output.iccProfile = profile
                } else {
                    output.notes.append(
                        "the \(profile.colourSpace) colour profile \"\(profile.displayName)\" does not describe "
                            + "the \(layout.isGrey ? "grey" : "RGB") result and was dropped"
                    )
                }
            }
            output.pngColourChunks = pngColourChunks
        }
        guard !policy.strip else { return output }
        output.exif = exif.flatMap { ExifBlock($0)?.updated(width: width, height: height, density: output.density) }
        if let exif, output.exif == nil {
            output.notes.append("EXIF (\(exif.count) bytes) is damaged in a way that cannot be updated and was dropped")
        }
        output.xmp = xmp.map { XMPPacket.updated($0, width: width, height: height, density: output.density) }
        output.pngTextChunks = pngTextChunks
        return output
    }
}

extension ImageMetadata {
    /// Declares the pixels sRGB: lcms2's sRGB profile (grey: sRGB's tone curve), an `sRGB` chunk in a PNG.
    mutating func tagSRGB(grey: Bool) {
        iccProfile = grey ? ICCProfile.greySRGB : ICCProfile.sRGB
        profileIsSRGB = true
        pngColourChunks = []
    }
}

// MARK: - Bytes per format

extension ImageMetadata {
    /// The ancillary chunks of a PNG, in the order they go after IHDR: iCCP (or sRGB), gAMA, cHRM, pHYs, eXIf,
    /// iTXt XMP, then the text chunks.
    package func pngChunkBytes() -> [UInt8] {
        var output: [UInt8] = []
        if profileIsSRGB {
            Self.appendPNGChunk("sRGB", [0], to: &output)  // perceptual
        } else if let profile = iccProfile {
            var payload = profile.pngChunkName + [0, 0]
            if let compressed = Self.deflate(profile.bytes) {
                payload += compressed
                Self.appendPNGChunk("iCCP", payload, to: &output)
            }
        }
        // sRGB and iCCP must not both be present: with a profile, the profile is the truth.
        for chunk in pngColourChunks where !(chunk.type == "sRGB" && iccProfile != nil) {
            Self.appendPNGChunk(chunk.type, chunk.payload, to: &output)
        }
        if let density {
            var payload: [UInt8] = []
            for value in [density.x, density.y] {
                let perMetre = UInt32(clamping: Int((value / 0.0254).rounded()))
                payload += [
                    UInt8(perMetre >> 24), UInt8(perMetre >> 16 & 0xFF), UInt8(perMetre >> 8 & 0xFF),
                    UInt8(perMetre & 0xFF),
                ]
            }
            Self.appendPNGChunk("pHYs", payload + [1], to: &output)
        }
        if let exif { Self.appendPNGChunk("eXIf", exif, to: &output) }
        if let xmp {
            // iTXt: keyword, NUL, uncompressed (0), method 0, empty language tag and translated keyword, the text.
            Self.appendPNGChunk("iTXt", Array("XML:com.adobe.xmp".utf8) + [0, 0, 0, 0, 0] + xmp, to: &output)
        }
        for chunk in pngTextChunks { Self.appendPNGChunk(chunk.type, chunk.payload, to: &output) }
        return output
    }

    /// The largest payload of a JPEG marker segment.
    private static let jpegSegmentPayload = 65533

    /// The marker segments of a JPEG after its JFIF header: APP1 EXIF, APP1 XMP, APP2 ICC profile pieces. Parts too
    /// large for a segment (EXIF, XMP) are left out; `unwritable(as:)` names them.
    package func jpegSegmentBytes() -> [UInt8] {
        var output: [UInt8] = []
        func append(_ marker: UInt8, _ payload: [UInt8]) {
            let length = payload.count + 2
            output += [0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
        }
        if let exif, exif.count + Self.jpegExifHeader.count <= Self.jpegSegmentPayload {
            append(0xE1, Self.jpegExifHeader + exif)
        }
        if let xmp, xmp.count + Self.jpegXMPHeader.count <= Self.jpegSegmentPayload {
            append(0xE1, Self.jpegXMPHeader + xmp)
        }
        if let profile = iccProfile {
            let pieceSize = Self.jpegSegmentPayload - Self.jpegICCHeader.count - 2
            let pieces = stride(from: 0, to: profile.bytes.count, by: pieceSize).map {
                Array(profile.bytes[$0..<min($0 + pieceSize, profile.bytes.count)])
            }
            if pieces.count <= 255 {
                for (index, piece) in pieces.enumerated() {
                    append(0xE2, Self.jpegICCHeader + [UInt8(index + 1), UInt8(pieces.count)] + piece)
                }
            }
        }
        return output
    }

    /// What a file of `format` cannot carry of this metadata, in words (empty when everything fits).
    package func unwritable(as format: ImageFormat) -> [String] {
        var lost: [String] = []
        if format != .png {
            if !pngTextChunks.isEmpty {
                let names = pngTextChunks.compactMap { chunk in
                    chunk.payload.firstIndex(of: 0).map { String(decoding: chunk.payload[..<$0], as: UTF8.self) }
                }
                lost.append(
                    "\(pngTextChunks.count) PNG text chunk(s) (\(names.joined(separator: ", "))): "
                        + "\(format.displayName) has no place for them"
                )
            }
            if pngColourChunks.contains(where: { $0.type != "sRGB" }) && iccProfile == nil {
                lost.append("PNG gAMA/cHRM colour chunks: \(format.displayName) has no place for them")
            }
        }
        if format == .jpeg {
            if let exif, exif.count + Self.jpegExifHeader.count > Self.jpegSegmentPayload {
                lost.append("EXIF of \(exif.count) bytes: more than a JPEG segment holds")
            }
            if let xmp, xmp.count + Self.jpegXMPHeader.count > Self.jpegSegmentPayload {
                lost.append("XMP of \(xmp.count) bytes: more than a JPEG segment holds")
            }
            if let density, density.x > 65535 || density.y > 65535 {
                lost.append("a resolution of \(density.description): over JPEG's 65535")
            }
        }
        if format == .webp, let profile = iccProfile, profile.colourSpace != "RGB" {
            lost.append("the \(profile.colourSpace) colour profile: WebP pictures are RGB")
        }
        if format == .webp, density != nil, exif.flatMap({ ExifBlock($0)?.density }) == nil {
            lost.append("the resolution (\(density!.description)): WebP states one only in EXIF, which has none")
        }
        return lost
    }

    /// The JFIF density to write: whole dots per inch, nil when there is none or it does not fit.
    package var jpegDensity: (x: UInt16, y: UInt16)? {
        guard let density, density.x <= 65535, density.y <= 65535 else { return nil }
        let x = UInt16(max(1, density.x.rounded()))
        let y = UInt16(max(1, density.y.rounded()))
        return (x, y)
    }

    /// Appends a PNG chunk (length, type, payload, CRC-32 of type and payload).
    private static func appendPNGChunk(_ type: String, _ payload: [UInt8], to output: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        let length = UInt32(payload.count)
        output += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        output += typeBytes
        output += payload
        var crc = typeBytes.withUnsafeBufferPointer { superres_crc32(0, $0.baseAddress, $0.count) }
        crc = payload.withUnsafeBufferPointer { superres_crc32(crc, $0.baseAddress, $0.count) }
        output += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
    }

    /// `bytes` as one zlib stream, or nil when zlib fails (out of memory).
    private static func deflate(_ bytes: [UInt8]) -> [UInt8]? {
        var output = superres_buffer()
        defer { superres_buffer_free(&output) }
        let status = bytes.withUnsafeBufferPointer { superres_zlib_deflate($0.baseAddress, $0.count, &output) }
        guard status == .ok, let data = output.data else { return nil }
        return Array(UnsafeBufferPointer(start: data, count: output.size))
    }
}
