/// How the channels of a pixel are laid out, interleaved.
package enum PixelLayout: Int, Sendable, Hashable, CaseIterable {
    case grey = 1
    case greyAlpha = 2
    case rgb = 3
    case rgba = 4

    /// Samples per pixel.
    package var channelCount: Int { rawValue }
    /// Whether the last channel is alpha.
    package var hasAlpha: Bool { self == .greyAlpha || self == .rgba }
    /// Whether the colour channels are grey only.
    package var isGrey: Bool { self == .grey || self == .greyAlpha }

    /// The layout with the given channel count (1...4).
    package init?(channelCount: Int) { self.init(rawValue: channelCount) }
}

/// The sample values of an image, interleaved row by row, in RGB(A) or grey(+alpha) order.
package enum PixelSamples: Sendable, Equatable {
    /// 8-bit samples, 0...255.
    case uint8([UInt8])
    /// 16-bit samples, 0...65535.
    case uint16([UInt16])

    /// The number of samples.
    package var count: Int {
        switch self {
        case .uint8(let values): values.count
        case .uint16(let values): values.count
        }
    }

    /// Bits per sample: 8 or 16.
    package var bitDepth: Int {
        switch self {
        case .uint8: 8
        case .uint16: 16
        }
    }
}

/// A decoded picture: width × height pixels in one of four layouts, 8 or 16 bits per sample.
package struct PixelImage: Sendable, Equatable {
    /// Width in pixels.
    package let width: Int
    /// Height in pixels.
    package let height: Int
    /// The channels of each pixel and their order.
    package let layout: PixelLayout
    /// `width * height * layout.channelCount` samples, row-major, interleaved.
    package var samples: PixelSamples

    /// An image over the given samples; the count must match the size and layout.
    package init(width: Int, height: Int, layout: PixelLayout, samples: PixelSamples) {
        precondition(width > 0 && height > 0, "empty image \(width)×\(height)")
        precondition(
            samples.count == width * height * layout.channelCount,
            "\(samples.count) samples for a \(width)×\(height) \(layout) image"
        )
        self.width = width
        self.height = height
        self.layout = layout
        self.samples = samples
    }

    /// An 8-bit image over the given samples.
    package init(width: Int, height: Int, layout: PixelLayout, uint8 samples: [UInt8]) {
        self.init(width: width, height: height, layout: layout, samples: .uint8(samples))
    }

    /// An 16-bit image over the given samples.
    package init(width: Int, height: Int, layout: PixelLayout, uint16 samples: [UInt16]) {
        self.init(width: width, height: height, layout: layout, samples: .uint16(samples))
    }

    /// Bits per sample: 8 or 16.
    package var bitDepth: Int { samples.bitDepth }
    /// Number of pixels.
    package var pixelCount: Int { width * height }
}
