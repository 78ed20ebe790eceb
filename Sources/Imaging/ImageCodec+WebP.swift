// WebP through libwebp (via CImageShims): lossy and lossless, with or without alpha, always 8 bits.
import CImageShims

extension ImageCodec {
    /// Size from the RIFF/VP8/VP8L/VP8X headers.
    static func probeWebP(_ bytes: [UInt8], source: String) throws(ImagingError) -> ImageHeader {
        let info = try readWebPHeader(bytes, source: source)
        return ImageHeader(format: .webp, width: Int(info.width), height: Int(info.height))
    }

    /// Wraps superres_webp_read_header (WebPGetFeatures).
    private static func readWebPHeader(_ bytes: [UInt8], source: String) throws(ImagingError) -> superres_image_info {
        var info = superres_image_info()
        let (status, message) = bytes.withUnsafeBufferPointer { input in
            withMessageBuffer { superres_webp_read_header(input.baseAddress, input.count, &info, $0, $1) }
        }
        guard status == .ok else { throw shimError(status, format: .webp, source: source, detail: message) }
        return info
    }

    /// Decodes through superres_webp_decode (libwebp's incremental decoder) into RGB, or RGBA when the file has alpha.
    static func decodeWebP(
        _ bytes: [UInt8], source: String, limits: DecodeLimits, cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> PixelImage {
        let info = try readWebPHeader(bytes, source: source)
        let width = Int(info.width)
        let height = Int(info.height)
        let layout: PixelLayout = info.channels == 4 ? .rgba : .rgb
        let count = try checkSize(
            width: width,
            height: height,
            channels: layout.channelCount,
            format: .webp,
            limits: limits,
            source: source
        )
        var message = ""
        let (samples, status) = bytes.withUnsafeBufferPointer { input in
            readSamples(UInt8.self, count: count) { pixels, size in
                let (status, text) = withMessageBuffer {
                    superres_webp_decode(
                        input.baseAddress,
                        input.count,
                        pixels.assumingMemoryBound(to: UInt8.self),
                        size,
                        Int32(layout.channelCount),
                        cancellation?.handle,
                        $0,
                        $1
                    )
                }
                message = text
                return status
            }
        }
        guard status == .ok else { throw shimError(status, format: .webp, source: source, detail: message) }
        return PixelImage(width: width, height: height, layout: layout, uint8: samples)
    }

    /// Encodes through superres_webp_encode (WebPEncode): grey expands to RGB, alpha is kept; 100 is lossless.
    static func encodeWebP(
        _ image: PixelImage, quality: Int, metadata: ImageMetadata? = nil, cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> [UInt8] {
        let target: PixelLayout = image.layout.hasAlpha ? .rgba : .rgb
        let pixels = convert(eightBitSamples(of: image), from: image.layout, to: target)
        let width = UInt32(clamping: image.width)
        let height = UInt32(clamping: image.height)
        let lossless: Int32 = quality == 100 ? 1 : 0
        // Chosen by measurement (docs/PERFORMANCE.md, "JPEG and WebP"): lossy method 2 is 2.5× faster than
        // OpenCV's imwrite (method 4) for 1–2% more bytes; lossless method 1 at effort 50 is 1.7× faster than
        // OpenCV's lossless for 1% more.
        let setting = Float(quality == 100 ? 50 : quality)
        let method: Int32 = quality == 100 ? 1 : 2
        let encoded = try runEncoder(.webp) { output, message, size in
            pixels.withUnsafeBufferPointer {
                superres_webp_encode(
                    $0.baseAddress,
                    width,
                    height,
                    Int32(target.channelCount),
                    setting,
                    lossless,
                    method,
                    output,
                    cancellation?.handle,
                    message,
                    size
                )
            }
        }
        return try addChunks(metadata, to: encoded)
    }

    /// `encoded` with `metadata`'s ICC profile (RGB profiles only: WebP is always RGB), EXIF and XMP chunks, through
    /// libwebpmux; `encoded` itself when there are none.
    static func addChunks(_ metadata: ImageMetadata?, to encoded: [UInt8]) throws(ImagingError) -> [UInt8] {
        guard let metadata else { return encoded }
        let profile = metadata.iccProfile.flatMap { $0.colourSpace == "RGB" ? $0.bytes : nil } ?? []
        let exif = metadata.exif ?? []
        let xmp = metadata.xmp ?? []
        guard !(profile.isEmpty && exif.isEmpty && xmp.isEmpty) else { return encoded }
        return try runEncoder(.webp) { output, message, size in
            encoded.withUnsafeBufferPointer { webp in
                profile.withUnsafeBufferPointer { profile in
                    exif.withUnsafeBufferPointer { exif in
                        xmp.withUnsafeBufferPointer { xmp in
                            superres_webp_add_chunks(
                                webp.baseAddress, webp.count, profile.baseAddress, profile.count, exif.baseAddress,
                                exif.count, xmp.baseAddress, xmp.count, output, message, size)
                        }
                    }
                }
            }
        }
    }
}
