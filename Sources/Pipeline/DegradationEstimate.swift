import Foundation
import Imaging

/// What an input picture went through before it reached superres, as far as its file and its pixels tell: the JPEG
/// quality its quantisation tables were made with, how strongly it shows the JPEG block grid, and its noise level.
package struct DegradationEstimate: Sendable, Equatable, Codable {
    /// The libjpeg quality of a JPEG file's quantisation tables; nil for other files (or tables of no known quality).
    package var jpegQuality: Int?
    /// The block-edge ratio of the luma (`Blockiness.ratio`): about 1 for a picture that never was a JPEG.
    package var blockiness: Double?
    /// The noise standard deviation of the luma in grey levels of 255 (`NoiseLevel.estimate`).
    package var noiseSigma: Double?

    /// The largest side of the region the pixel measures read: a larger picture is judged on its centre (its noise
    /// and block grid are the same throughout), which keeps the measures' memory bounded for huge scans.
    package static let largestSide = 3072

    /// Estimates the degradation of `image`, decoded from `encoded` (the file's bytes, for the JPEG tables; nil
    /// when the pixels did not come from a file). Pictures wider or taller than `largestSide` are measured on a
    /// centred region of at most that size, placed on the 8×8 block grid.
    package static func analyse(_ image: PixelImage, encoded: [UInt8]?) -> DegradationEstimate {
        let region = measuredRegion(width: image.width, height: image.height)
        return measure(
            luma(of: image, x: region.x, y: region.y, width: region.width, height: region.height), encoded: encoded)
    }

    /// `analyse` of the file `input` (whose bytes are `encoded`), decoding only down to the bottom of the region
    /// measured and holding only its rows: the same estimate as of the decoded picture.
    package static func analyse(_ input: StreamedInput, encoded: [UInt8]?) throws(ImagingError) -> DegradationEstimate {
        let region = measuredRegion(width: input.shape.width, height: input.shape.height)
        let rows = try input.rows(region.y..<(region.y + region.height))
        return measure(luma(of: rows, x: region.x, y: 0, width: region.width, height: region.height), encoded: encoded)
    }

    /// The region of a `width × height` picture the pixel measures read: all of it, or a centred region of at most
    /// `largestSide` on a side, on the 8×8 block grid.
    private static func measuredRegion(width: Int, height: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        let regionWidth = min(width, largestSide), regionHeight = min(height, largestSide)
        return ((width - regionWidth) / 2 / 8 * 8, (height - regionHeight) / 2 / 8 * 8, regionWidth, regionHeight)
    }

    /// The estimate from the measured `luma` and the file's JPEG tables.
    private static func measure(_ luma: FloatPlane, encoded: [UInt8]?) -> DegradationEstimate {
        DegradationEstimate(
            jpegQuality: encoded.flatMap { JPEGQuality(jpeg: $0) }?.quality,
            blockiness: Blockiness.ratio(luma),
            noiseSigma: NoiseLevel.estimate(luma)
        )
    }

    /// The JPEG quality the picture behaves like: the file's own for a JPEG, else the one its blockiness points to
    /// (`AutoModelTable.qualityForBlockiness`, fitted on T91), else 100 (never compressed).
    package var effectiveQuality: Double {
        if let jpegQuality { return Double(jpegQuality) }
        guard let blockiness else { return 100 }
        return AutoModelTable.quality(forBlockiness: blockiness)
    }

    /// One line for people: "JPEG quality 40, blockiness 1.46, noise σ ≈ 3.1".
    package var summary: String {
        var parts: [String] = []
        if let jpegQuality { parts.append("JPEG quality \(jpegQuality)") }
        if let blockiness {
            let quality = effectiveQuality
            let looksLike = jpegQuality == nil && quality < 100 ? " (like JPEG quality ≈ \(Int(quality.rounded())))" : ""
            parts.append("blockiness \(Self.format(blockiness, digits: 2))\(looksLike)")
        }
        if let noiseSigma { parts.append("noise σ ≈ \(Self.format(noiseSigma, digits: 1))") }
        return parts.isEmpty ? "no estimate (picture too small)" : parts.joined(separator: ", ")
    }

    static func format(_ value: Double, digits: Int) -> String { String(format: "%.\(digits)f", value) }

    /// The luma (BT.601 weights, 0...255) of the region `x, y, width, height` of an 8- or 16-bit image: OpenCV's
    /// `RGB2GRAY` on its 8-bit samples, converted a few rows at a time so that a large picture is never held in
    /// float whole.
    static func luma(of image: PixelImage, x: Int, y: Int, width: Int, height: Int) -> FloatPlane {
        let channels = image.layout.channelCount
        let rowsPerChunk = max(1, (1 << 20) / width)
        var values: [Float] = []
        values.reserveCapacity(width * height)
        for first in stride(from: y, to: y + height, by: rowsPerChunk) {
            var samples: [Float] = []
            samples.reserveCapacity(rowsPerChunk * width * channels)
            for row in first..<min(first + rowsPerChunk, y + height) {
                let range = ((row * image.width + x) * channels)..<((row * image.width + x + width) * channels)
                switch image.samples {
                case .uint8(let v): samples += v[range].map(Float.init)
                case .uint16(let v): samples += v[range].map { Float(ImageCodec.eightBit($0)) }
                }
            }
            values +=
                image.layout.isGrey
                ? stride(from: 0, to: samples.count, by: channels).map { samples[$0] }
                : ColourConversion.rgbToGrey(samples, channelCount: channels)
        }
        return FloatPlane(width: width, height: height, values: values)
    }
}
