// The EXIF orientation of a picture, read from its EXIF data (ExifBlock), and applied to pixels. A damaged segment
// means "no orientation", never a crash.

/// The EXIF orientation tag (0x0112): how the stored pixels must be turned to appear upright. Case names say where
/// the stored image's top ends up, as in CGImagePropertyOrientation.
package enum ExifOrientation: Int, Sendable, CaseIterable {
    /// 1: stored upright.
    case up = 1
    /// 2: mirrored left to right.
    case upMirrored = 2
    /// 3: turned by 180°.
    case down = 3
    /// 4: mirrored top to bottom.
    case downMirrored = 4
    /// 5: transposed (mirrored along the main diagonal).
    case leftMirrored = 5
    /// 6: must be turned 90° clockwise.
    case right = 6
    /// 7: transversed (mirrored along the anti-diagonal).
    case rightMirrored = 7
    /// 8: must be turned 90° counter-clockwise.
    case left = 8

    /// Whether the upright image has width and height swapped.
    package var swapsAxes: Bool { rawValue >= 5 }

    /// The orientation that turns the upright image back as it was stored (each is its own inverse but the two
    /// quarter turns).
    package var inverse: ExifOrientation {
        switch self {
        case .right: .left
        case .left: .right
        default: self
        }
    }

    /// The orientation in a JPEG's first APP1 "Exif" segment before the first scan; nil when there is none or it
    /// cannot be read.
    package init?(jpeg bytes: [UInt8]) {
        let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
        guard let segment = JPEGSegments.headerSegments(bytes).first(where: {
            $0.marker == 0xE1 && bytes[$0.payload].starts(with: exifHeader)
        }) else { return nil }
        self.init(tiff: Array(bytes[segment.payload].dropFirst(exifHeader.count)))
    }

    /// The orientation tag of IFD0 in a TIFF structure (as inside an EXIF segment), either byte order.
    package init?(tiff: [UInt8]) {
        guard let orientation = ExifBlock(tiff)?.orientation else { return nil }
        self = orientation
    }

    /// For a pixel of the upright image, the stored pixel it shows; `width` and `height` are the stored size.
    func storedPixel(uprightX x: Int, uprightY y: Int, width: Int, height: Int) -> (x: Int, y: Int) {
        switch self {
        case .up: (x, y)
        case .upMirrored: (width - 1 - x, y)
        case .down: (width - 1 - x, height - 1 - y)
        case .downMirrored: (x, height - 1 - y)
        case .leftMirrored: (y, x)
        case .right: (y, height - 1 - x)
        case .rightMirrored: (width - 1 - y, height - 1 - x)
        case .left: (width - 1 - y, x)
        }
    }

    /// `image` as stored, turned upright.
    package func upright(_ image: PixelImage) -> PixelImage {
        if self == .up { return image }
        let width = swapsAxes ? image.height : image.width
        let height = swapsAxes ? image.width : image.height
        let channels = image.layout.channelCount
        let samples: PixelSamples =
            switch image.samples {
            case .uint8(let values):
                .uint8(reordered(values, width: image.width, height: image.height, channels: channels))
            case .uint16(let values):
                .uint16(reordered(values, width: image.width, height: image.height, channels: channels))
            }
        return PixelImage(width: width, height: height, layout: image.layout, samples: samples)
    }

    /// The samples (`channels` interleaved per pixel) of the upright picture; `width` and `height` are the stored
    /// size. Any sample type: images here, float planes for self-ensemble (the eight orientations are the eight
    /// flips and rotations).
    package func reordered<Sample>(_ stored: [Sample], width: Int, height: Int, channels: Int) -> [Sample] {
        if self == .up || stored.isEmpty { return stored }
        precondition(
            stored.count == width * height * channels, "\(stored.count) samples for \(width)×\(height)×\(channels)")
        let uprightWidth = swapsAxes ? height : width
        let uprightHeight = swapsAxes ? width : height
        return [Sample](unsafeUninitializedCapacity: stored.count) { output, initialized in
            stored.withUnsafeBufferPointer { input in
                var to = 0
                for y in 0..<uprightHeight {
                    for x in 0..<uprightWidth {
                        let source = storedPixel(uprightX: x, uprightY: y, width: width, height: height)
                        let from = (source.y * width + source.x) * channels
                        for channel in 0..<channels {
                            (output.baseAddress! + to + channel).initialize(to: input[from + channel])
                        }
                        to += channels
                    }
                }
            }
            initialized = stored.count
        }
    }
}
