/// Bounds on an enlarged image, checked from the input's size and the scale before any work is done, so that a
/// request that cannot succeed fails at once rather than after the whole upscale.
package struct OutputLimits: Sendable, Equatable {
    /// The largest width × height of a result; 100 megapixels by default (a 16-bit RGBA result of that size is 800 MB).
    package var maxPixels: Int

    /// Limits allowing results of up to `maxPixels` pixels.
    package init(maxPixels: Int = 100_000_000) {
        self.maxPixels = maxPixels
    }

    /// Throws `.tooLarge` when a `width × height` input enlarged `scale` times is over `maxPixels`, or over the
    /// largest side `format` can hold (WebP 16383, JPEG 65500 pixels); `source` names the input in the message.
    package func check(
        width: Int,
        height: Int,
        scale: Int,
        format: ImageFormat,
        source: String
    ) throws(ImagingError) {
        let (outWidth, widthOverflow) = width.multipliedReportingOverflow(by: scale)
        let (outHeight, heightOverflow) = height.multipliedReportingOverflow(by: scale)
        guard !widthOverflow, !heightOverflow else {
            throw ImagingError(
                .tooLarge, source: source,
                message: "\(width)×\(height) enlarged ×\(scale) is over the limit of \(maxPixels) output pixels")
        }
        try check(
            outputWidth: outWidth, outputHeight: outHeight, format: format, source: source,
            size: "\(width)×\(height) enlarged ×\(scale) is \(outWidth)×\(outHeight)")
    }

    /// Throws `.tooLarge` when a result of `outputWidth × outputHeight` is over `maxPixels` or over the largest side
    /// `format` can hold; `size` says in words how the result got its size.
    package func check(
        outputWidth: Int,
        outputHeight: Int,
        format: ImageFormat,
        source: String,
        size: String? = nil
    ) throws(ImagingError) {
        let (pixels, pixelOverflow) = outputWidth.multipliedReportingOverflow(by: outputHeight)
        let size = size ?? "the result is \(outputWidth)×\(outputHeight)"
        guard !pixelOverflow, pixels <= maxPixels else {
            throw ImagingError(
                .tooLarge, source: source,
                message: "\(size), over the limit of \(maxPixels) output pixels")
        }
        guard max(outputWidth, outputHeight) <= format.maxSide else {
            throw ImagingError(
                .tooLarge, source: source,
                message: "\(size), but \(format.displayName) holds at most \(format.maxSide) pixels per side; "
                    + "choose another format")
        }
    }
}

extension ImageFormat {
    /// The largest width or height the format (or its library) can encode.
    package var maxSide: Int {
        switch self {
        case .png: Int(Int32.max)
        case .jpeg: 65_500
        case .webp: 16_383
        case .tiff: Int(UInt32.max)
        }
    }
}
