/// How an enlarged image is encoded: the choices of `ImageCodec.encode` beyond the format.
package struct EncodeSettings: Sendable, Hashable {
    /// JPEG/WebP quality 1...100 (WebP 100 is lossless); PNG ignores it.
    package var quality: Int
    /// PNG compression effort.
    package var pngCompression: PNGCompression
    /// JPEG chroma resolution.
    package var jpegChroma: JPEGChroma
    /// TIFF compression.
    package var tiffCompression: TIFFCompression

    /// Settings with the given values (by default: quality 95, PNG level 1, 4:2:0 JPEG chroma, Deflate TIFF).
    package init(
        quality: Int = 95, pngCompression: PNGCompression = .default, jpegChroma: JPEGChroma = .subsampled,
        tiffCompression: TIFFCompression = .deflate
    ) {
        self.quality = quality
        self.pngCompression = pngCompression
        self.jpegChroma = jpegChroma
        self.tiffCompression = tiffCompression
    }
}

extension ImageCodec {
    /// Encodes `image` as `format` with `settings` and `metadata`; `cancellation` can stop the encode part way
    /// (`.cancelled`).
    package static func encode(
        _ image: PixelImage,
        as format: ImageFormat,
        settings: EncodeSettings,
        metadata: ImageMetadata? = nil,
        cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> [UInt8] {
        try encode(
            image, as: format, quality: settings.quality, pngCompression: settings.pngCompression,
            jpegChroma: settings.jpegChroma, tiffCompression: settings.tiffCompression, metadata: metadata,
            cancellation: cancellation)
    }
}
