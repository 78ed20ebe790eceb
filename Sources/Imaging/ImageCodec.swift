// Entry points of the codecs: format sniffing, size checks before allocation, and the sample conversions the
// encoders share. The per-format code is in ImageCodec+PNG/JPEG/WebP.swift; every C call goes through CImageShims.
import CImageShims

/// Bounds on what a decode may allocate, checked against the header before any pixel buffer exists.
package struct DecodeLimits: Sendable {
    /// The largest width × height accepted; 64 megapixels by default (a 16-bit RGBA image of that size is 512 MB).
    package var maxPixels: Int

    /// Limits allowing up to `maxPixels` pixels.
    package init(maxPixels: Int = 64_000_000) {
        self.maxPixels = maxPixels
    }
}

/// What an image file's header says, read without decoding pixels.
package struct ImageHeader: Sendable, Equatable {
    /// The file's format.
    package let format: ImageFormat
    /// Width in pixels of the decoded image (after any EXIF orientation).
    package let width: Int
    /// Height in pixels of the decoded image (after any EXIF orientation).
    package let height: Int

    /// Width × height, or `Int.max` when a hostile header's sizes multiply past it (TIFF allows 2³²−1 each way).
    package var pixelCount: Int {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        return overflow || pixels < 0 ? Int.max : pixels
    }
}

/// Decodes and encodes PNG, JPEG, WebP and TIFF in memory.
///
/// Decoding gives 8-bit samples, or 16-bit ones for 16-bit PNGs. Palettes become RGB (RGBA with a tRNS chunk),
/// tRNS on grey or RGB becomes alpha, grey under 8 bits is scaled to 8. JPEGs come out upright (EXIF orientation
/// applied; PNG's eXIf and WebP's EXIF orientation too), CMYK ones as RGB. Colour management is not done here: samples
/// are returned as stored, and `ImageMetadata` reads the profile and the rest for writing them back.
package enum ImageCodec {
    /// Reads format and size from the header only (no pixel allocation).
    package static func probe(_ bytes: [UInt8], source: String) throws(ImagingError) -> ImageHeader {
        var header: ImageHeader
        switch try sniff(bytes, source: source) {
        case .png: header = try probePNG(bytes, source: source)
        case .jpeg: header = try probeJPEG(bytes, source: source)
        case .webp: header = try probeWebP(bytes, source: source)
        case .tiff: header = try probeTIFF(bytes, source: source)
        }
        try checkNotEmpty(width: header.width, height: header.height, format: header.format, source: source)
        if containerOrientation(of: ImageMetadata(reading: bytes), format: header.format)?.swapsAxes == true {
            header = ImageHeader(format: header.format, width: header.height, height: header.width)
        }
        return header
    }

    /// Decodes a PNG, JPEG, WebP or TIFF file's bytes (a TIFF's first page); `source` names the file in errors.
    ///
    /// `colour`: with `.srgb`, pixels under an RGB or grey profile are converted to sRGB; CMYK JPEGs always become
    /// sRGB through their profile, else `colour.cmykProfile`, else the plain formula.
    ///
    /// The header's size is checked against `limits` before any pixel buffer is allocated; `cancellation` can stop
    /// the decode part way (`.cancelled`).
    package static func decode(
        _ bytes: [UInt8],
        source: String,
        limits: DecodeLimits = DecodeLimits(),
        colour: ColourPolicy = ColourPolicy(),
        cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> PixelImage {
        try decodeWithMetadata(bytes, source: source, limits: limits, colour: colour, cancellation: cancellation).image
    }

    /// `decode`, and the file's metadata, read once for both (the orientation, the profile of `colour`, CMYK);
    /// `metadata`, when the caller has read it already.
    package static func decodeWithMetadata(
        _ bytes: [UInt8],
        source: String,
        limits: DecodeLimits = DecodeLimits(),
        colour: ColourPolicy = ColourPolicy(),
        cancellation: CodecCancellation? = nil,
        metadata known: ImageMetadata? = nil
    ) throws(ImagingError) -> (image: PixelImage, metadata: ImageMetadata) {
        let format = try sniff(bytes, source: source)
        let metadata = known ?? ImageMetadata(reading: bytes)
        let stored =
            switch format {
            case .png: try decodePNG(bytes, source: source, limits: limits, cancellation: cancellation)
            case .jpeg:
                try decodeJPEG(
                    bytes, source: source, limits: limits, colour: colour, profile: metadata.iccProfile,
                    cancellation: cancellation)
            case .webp: try decodeWebP(bytes, source: source, limits: limits, cancellation: cancellation)
            case .tiff: try decodeTIFF(bytes, source: source, limits: limits, cancellation: cancellation)
            }
        let orientation = containerOrientation(of: metadata, format: format)
        let upright = orientation.map { $0.upright(stored) } ?? stored
        guard colour.mode == .srgb, let profile = metadata.iccProfile,
            profile.colourSpace == (upright.layout.isGrey ? "GRAY" : "RGB")
        else { return (upright, metadata) }
        return (try convertToSRGB(upright, from: profile, source: source), metadata)
    }

    /// The EXIF orientation of a PNG (eXIf chunk), WebP (EXIF chunk) or TIFF (its Orientation tag), which the pixels
    /// are turned by after decoding; nil for JPEG, whose decoder turns its pixels itself.
    static func containerOrientation(of metadata: ImageMetadata, format: ImageFormat) -> ExifOrientation? {
        format == .jpeg ? nil : metadata.orientation
    }

    /// Encodes `image` as `format`.
    ///
    /// `metadata` (from `ImageMetadata.enlarged`) is written into the file: PNG chunks, JPEG segments and JFIF
    /// density, WebP chunks.
    /// `quality` is 1...100 for every format. PNG ignores it (lossless, 8 or 16 bits as given, `pngCompression`).
    /// JPEG: 8-bit grey or RGB, alpha dropped, 16-bit samples rounded to 8, chroma as `jpegChroma` (4:2:0 by
    /// default, as OpenCV and libjpeg). WebP: 8-bit RGB or RGBA (grey expanded), lossy for 1...99, lossless for 100.
    package static func encode(
        _ image: PixelImage,
        as format: ImageFormat,
        quality: Int = 95,
        pngCompression: PNGCompression = .default,
        jpegChroma: JPEGChroma = .subsampled,
        tiffCompression: TIFFCompression = .deflate,
        metadata: ImageMetadata? = nil,
        cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> [UInt8] {
        guard (1...100).contains(quality) else {
            throw ImagingError(
                .encodeFailed,
                source: encoderSource(format),
                message: "quality \(quality) is outside 1...100"
            )
        }
        return switch format {
        case .png: try encodePNG(image, compression: pngCompression, metadata: metadata, cancellation: cancellation)
        case .jpeg:
            try encodeJPEG(image, quality: quality, chroma: jpegChroma, metadata: metadata, cancellation: cancellation)
        case .webp: try encodeWebP(image, quality: quality, metadata: metadata, cancellation: cancellation)
        case .tiff:
            try encodeTIFF(
                image, compression: tiffCompression, quality: quality, metadata: metadata, cancellation: cancellation)
        }
    }
}

/// The resolution of a JPEG's colour (chroma) planes.
package enum JPEGChroma: String, Sendable, CaseIterable {
    /// Half width and half height (4:2:0): OpenCV's and libjpeg's default, the fastest and smallest.
    case subsampled = "420"
    /// Full resolution (4:4:4): sharper colour edges, about 20% larger and slower at quality 95.
    case full = "444"
}

// MARK: - Shared checks

extension ImageCodec {
    /// The format of `bytes` by signature, or the error saying why there is none.
    static func sniff(_ bytes: [UInt8], source: String) throws(ImagingError) -> ImageFormat {
        if let format = ImageFormat(sniffing: bytes) { return format }
        if bytes.isEmpty { throw ImagingError(.truncated, source: source, message: "the file is empty (0 bytes)") }
        if let format = ImageFormat.allCases.first(where: { $0.agreesWithSignature(bytes) }) {
            throw ImagingError(
                .truncated,
                source: source,
                message: "only \(bytes.count) bytes, cut inside the \(format.displayName) signature"
            )
        }
        throw ImagingError(.unsupportedFormat, source: source, message: describeUnknown(bytes))
    }

    /// Names common formats we do not read, so that the message helps more than "unknown".
    private static func describeUnknown(_ bytes: [UInt8]) -> String {
        func starts(_ text: String, at offset: Int = 0) -> Bool {
            let expected = Array(text.utf8)
            return bytes.count >= offset + expected.count && Array(bytes[offset..<offset + expected.count]) == expected
        }
        let known: [(prefix: String, offset: Int, name: String)] = [
            ("GIF8", 0, "GIF"), ("BM", 0, "BMP"), ("II+\u{0}", 0, "BigTIFF"), ("MM\u{0}+", 0, "BigTIFF"),
            ("ftypavif", 4, "AVIF"), ("ftyphei", 4, "HEIF"), ("ftypmif1", 4, "HEIF"),
        ]
        let name = known.first { starts($0.prefix, at: $0.offset) }?.name
        if let name { return "\(name) is not supported (PNG, JPEG, WebP and TIFF are)" }
        let start = bytes.prefix(8).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return byte < 16 ? "0" + hex : hex
        }
        return "not a PNG, JPEG, WebP or TIFF file (starts with \(start.joined(separator: " ")))"
    }

    /// Throws `.emptyImage` for a zero width or height.
    static func checkNotEmpty(width: Int, height: Int, format: ImageFormat, source: String) throws(ImagingError) {
        guard width > 0, height > 0 else {
            throw ImagingError(
                .emptyImage,
                source: source,
                message: "the \(format.displayName) header declares an empty image (\(width)×\(height))"
            )
        }
    }

    /// Throws `.emptyImage` or `.tooLarge` unless `width`×`height` is a non-empty size within `limits`; returns the
    /// number of samples of a `channels`-channel image of that size.
    static func checkSize(
        width: Int,
        height: Int,
        channels: Int,
        format: ImageFormat,
        limits: DecodeLimits,
        source: String
    ) throws(ImagingError) -> Int {
        try checkNotEmpty(width: width, height: height, format: format, source: source)
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        let (samples, samplesOverflow) = pixels.multipliedReportingOverflow(by: max(channels, 1))
        guard !overflow, !samplesOverflow, pixels <= limits.maxPixels, samples <= Int.max / 2 else {
            let count = overflow ? "more than \(Int.max)" : "\(pixels)"
            throw ImagingError(
                .tooLarge,
                source: source,
                message: "the \(format.displayName) is \(width)×\(height) = \(count) pixels, "
                    + "over the limit of \(limits.maxPixels) pixels"
            )
        }
        return samples
    }

    /// The `source` of encoder errors, which have no file of their own.
    static func encoderSource(_ format: ImageFormat) -> String { "\(format.displayName) encoder" }

    /// The error for a failed shim call.
    static func shimError(
        _ status: superres_status,
        format: ImageFormat,
        source: String,
        detail: String,
        encoding: Bool = false
    ) -> ImagingError {
        let name = format.displayName
        let detail = detail.isEmpty ? "no detail from the library" : detail
        if status == .cancelled {
            return ImagingError(
                .cancelled, source: source, message: "the \(name) \(encoding ? "encode" : "decode") was stopped")
        }
        if encoding {
            return ImagingError(.encodeFailed, source: source, message: "could not encode the \(name): \(detail)")
        }
        return switch status {
        case .truncated: ImagingError(.truncated, source: source, message: "truncated \(name) data: \(detail)")
        case .unsupported: ImagingError(.unsupportedFormat, source: source, message: "unsupported \(name): \(detail)")
        case .tooLarge: ImagingError(.tooLarge, source: source, message: "\(name) too large: \(detail)")
        case .noMemory:
            ImagingError(.tooLarge, source: source, message: "not enough memory to decode the \(name): \(detail)")
        case .empty: ImagingError(.emptyImage, source: source, message: "empty \(name) image: \(detail)")
        default: ImagingError(.corrupt, source: source, message: "corrupt \(name) data: \(detail)")
        }
    }

    /// Runs `body` with a zeroed message buffer for a shim (pointer and size) and returns its result with the message.
    static func withMessageBuffer<Result>(
        _ body: (UnsafeMutablePointer<CChar>, Int) -> Result
    ) -> (Result, message: String) {
        var buffer = [CChar](repeating: 0, count: Int(SUPERRES_MESSAGE_SIZE))
        let result = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        return (result, message(from: buffer))
    }

    /// The text of a NUL-terminated C message (invalid UTF-8 repaired).
    static func message(from buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The text at a shim's message pointer.
    static func message(from pointer: UnsafePointer<CChar>) -> String {
        String(cString: pointer)
    }

    /// Calls an encoder shim with an output buffer and a message buffer; returns the encoded bytes.
    static func runEncoder(
        _ format: ImageFormat,
        _ body: (UnsafeMutablePointer<superres_buffer>, UnsafeMutablePointer<CChar>, Int) -> superres_status
    ) throws(ImagingError) -> [UInt8] {
        var output = superres_buffer(data: nil, size: 0, capacity: 0)
        defer { superres_buffer_free(&output) }
        let (status, message) = withUnsafeMutablePointer(to: &output) { output in
            withMessageBuffer { body(output, $0, $1) }
        }
        guard status == .ok, let data = output.data else {
            throw shimError(status, format: format, source: encoderSource(format), detail: message, encoding: true)
        }
        return Array(UnsafeBufferPointer(start: data, count: output.size))
    }

    /// Fills a new array of `count` samples with `read`, which writes `count * MemoryLayout<Sample>.size` bytes at
    /// the pointer it is given; returns nil (and the shim's status) when `read` fails.
    static func readSamples<Sample: FixedWidthInteger>(
        _: Sample.Type,
        count: Int,
        _ read: (UnsafeMutableRawPointer, Int) -> superres_status
    ) -> (samples: [Sample], status: superres_status) {
        var status = superres_status.ok
        let samples = [Sample](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = read(UnsafeMutableRawPointer(buffer.baseAddress!), count * MemoryLayout<Sample>.stride)
            // Trivial samples: a partly written buffer may be dropped as is.
            initialized = status == .ok ? count : 0
        }
        return (samples, status)
    }
}

// MARK: - Sample conversions for the encoders

extension ImageCodec {
    /// 8-bit samples of `image`; 16-bit ones are rounded with (v × 255 + 32767) / 65535.
    package static func eightBitSamples(of image: PixelImage) -> [UInt8] {
        switch image.samples {
        case .uint8(let samples): samples
        case .uint16(let samples): samples.map(eightBit)
        }
    }

    /// A 16-bit sample on the 8-bit scale, rounded to nearest.
    package static func eightBit(_ sample: UInt16) -> UInt8 { UInt8((UInt32(sample) * 255 + 32767) / 65535) }

    /// Rearranges 8-bit samples from one layout to another: grey is copied into R, G and B, missing alpha is
    /// opaque, surplus alpha is dropped. Colour never becomes grey (the encoders have no need for it).
    static func convert(_ samples: [UInt8], from source: PixelLayout, to target: PixelLayout) -> [UInt8] {
        precondition(source.isGrey || !target.isGrey, "no colour-to-grey conversion")
        if source == target { return samples }
        let inChannels = source.channelCount
        let outChannels = target.channelCount
        let pixelCount = samples.count / inChannels
        return [UInt8](unsafeUninitializedCapacity: pixelCount * outChannels) { output, initialized in
            samples.withUnsafeBufferPointer { input in
                for pixel in 0..<pixelCount {
                    let from = pixel * inChannels
                    let to = pixel * outChannels
                    let alpha: UInt8 = source.hasAlpha ? input[from + inChannels - 1] : 255
                    if target.isGrey {
                        output[to] = input[from]
                    } else if source.isGrey {
                        output[to] = input[from]
                        output[to + 1] = input[from]
                        output[to + 2] = input[from]
                    } else {
                        output[to] = input[from]
                        output[to + 1] = input[from + 1]
                        output[to + 2] = input[from + 2]
                    }
                    if target.hasAlpha { output[to + outChannels - 1] = alpha }
                }
            }
            initialized = pixelCount * outChannels
        }
    }
}
