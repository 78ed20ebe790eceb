// JPEG through libjpeg-turbo (via CImageShims), turned upright with the EXIF orientation read in Swift.
import CImageShims

extension ImageCodec {
    /// Size from libjpeg's header parse (up to the first scan), with width and height swapped when the EXIF
    /// orientation turns the image by a quarter.
    static func probeJPEG(_ bytes: [UInt8], source: String) throws(ImagingError) -> ImageHeader {
        let info = try bytes.withUnsafeBufferPointer { (input) throws(ImagingError) -> superres_image_info in
            try InMemoryDecoder(.jpeg, reading: input, maxPixels: DecodeLimits().maxPixels, source: source).info
        }
        let (width, height) = (Int(info.width), Int(info.height))
        let swaps = ExifOrientation(jpeg: bytes)?.swapsAxes ?? false
        return ImageHeader(format: .jpeg, width: swaps ? height : width, height: swaps ? width : height)
    }

    /// Decodes through superres_jpeg_decoder_read_header/read_pixels (libjpeg-turbo), CMYK through `profile` (the
    /// file's own, read by the caller) or `colour`'s, then turns the image upright.
    static func decodeJPEG(
        _ bytes: [UInt8], source: String, limits: DecodeLimits, colour: ColourPolicy = ColourPolicy(),
        profile: ICCProfile? = nil, cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> PixelImage {
        let stored = try bytes.withUnsafeBufferPointer { (input) throws(ImagingError) -> PixelImage in
            let decoder = try InMemoryDecoder(.jpeg, reading: input, maxPixels: limits.maxPixels, source: source)
            let info = decoder.info
            let width = Int(info.width)
            let height = Int(info.height)
            // CMYK goes through its profile (or the stated one) to sRGB; the transform must outlive read_pixels.
            let cmykTransform = info.cmyk == 0 ? nil : cmykToSRGB(profile, inverted: info.cmyk == 2, colour: colour)
            if let cmykTransform { superres_jpeg_decoder_set_cmyk_transform(decoder.handle, cmykTransform.handle) }
            defer { withExtendedLifetime(cmykTransform) {} }
            guard let layout = PixelLayout(channelCount: Int(info.channels)), info.bit_depth == 8 else {
                throw ImagingError(
                    .corrupt,
                    source: source,
                    message: "libjpeg produced \(info.channels) channels of \(info.bit_depth) bits"
                )
            }
            let count = try checkSize(
                width: width,
                height: height,
                channels: layout.channelCount,
                format: .jpeg,
                limits: limits,
                source: source
            )
            let (samples, status) = readSamples(UInt8.self, count: count) { pixels, size in
                superres_jpeg_decoder_read_pixels(
                    decoder.handle,
                    pixels.assumingMemoryBound(to: UInt8.self),
                    size,
                    cancellation?.handle
                )
            }
            guard status == .ok else { throw shimError(status, format: .jpeg, source: source, detail: decoder.message) }
            return PixelImage(width: width, height: height, layout: layout, uint8: samples)
        }
        guard let orientation = ExifOrientation(jpeg: bytes) else { return stored }
        return orientation.upright(stored)
    }

    /// The transform from a CMYK JPEG's own `profile`, else `colour.cmykProfile`, to sRGB; nil when neither can be
    /// used (the plain formula then).
    static func cmykToSRGB(_ profile: ICCProfile?, inverted: Bool, colour: ColourPolicy) -> ColourTransform? {
        let embedded = profile.flatMap { $0.colourSpace == "CMYK" ? $0 : nil }
        for profile in [embedded, colour.cmykProfile].compactMap({ $0 }) {
            if let transform = try? ColourTransform(profile: profile, input: inverted ? .cmyk8Inverted : .cmyk8, output: .rgb8) {
                return transform
            }
        }
        return nil
    }

    /// Encodes through superres_jpeg_encode (libjpeg-turbo): grey stays grey, colour becomes RGB, alpha is dropped.
    static func encodeJPEG(
        _ image: PixelImage, quality: Int, chroma: JPEGChroma, metadata: ImageMetadata? = nil,
        cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> [UInt8] {
        let target: PixelLayout = image.layout.isGrey ? .grey : .rgb
        let pixels = convert(eightBitSamples(of: image), from: image.layout, to: target)
        let width = UInt32(clamping: image.width)
        let height = UInt32(clamping: image.height)
        return try runEncoder(.jpeg) { output, message, size in
            withJPEGExtras(metadata) { extras in
                pixels.withUnsafeBufferPointer {
                    superres_jpeg_encode(
                        $0.baseAddress,
                        width,
                        height,
                        Int32(target.channelCount),
                        Int32(quality),
                        chroma == .full ? 1 : 0,
                        extras,
                        output,
                        cancellation?.handle,
                        message,
                        size
                    )
                }
            }
        }
    }

    /// A CMYK JPEG as Adobe applications write it (inverted values, an APP14 segment) from `ink` amounts (0 = none,
    /// 4 per pixel), with `metadata`: superres never writes CMYK, its tests make such inputs with it.
    static func encodeCMYKJPEG(
        ink: [UInt8], width: Int, height: Int, metadata: ImageMetadata? = nil
    ) throws(ImagingError) -> [UInt8] {
        let inverted = ink.map { 255 - $0 }
        return try runEncoder(.jpeg) { output, message, size in
            withJPEGExtras(metadata) { extras in
                inverted.withUnsafeBufferPointer {
                    superres_jpeg_encode(
                        $0.baseAddress, UInt32(width), UInt32(height), 4, 95, 1, extras, output, nil, message, size)
                }
            }
        }
    }

    /// Calls `body` with the JPEG extras (density and segments) of `metadata`, or NULL when there is none.
    static func withJPEGExtras<Result>(
        _ metadata: ImageMetadata?, _ body: (UnsafePointer<superres_jpeg_extras>?) -> Result
    ) -> Result {
        guard let metadata, !metadata.isEmpty else { return body(nil) }
        let segments = metadata.jpegSegmentBytes()
        let density = metadata.jpegDensity
        return segments.withUnsafeBufferPointer { buffer in
            var extras = superres_jpeg_extras(
                x_dpi: density?.x ?? 0, y_dpi: density?.y ?? 0, segments: buffer.baseAddress,
                segments_size: buffer.count)
            return body(&extras)
        }
    }
}
