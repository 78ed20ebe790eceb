// The PNG encoder's effort levels. Measured on 1920×1080 upscaled photos (docs/PERFORMANCE.md, "PNG encoding"):
// Paeth filtering then libdeflate level 1 is about 1.7× faster than OpenCV's imwrite (zlib level 1, RLE) and 10%
// smaller; higher levels shrink the file a few percent more at several times the time.
import CImageShims

/// How hard the PNG encoder compresses: level 0 (stored, no compression) to 9 (smallest file, slowest).
package struct PNGCompression: Sendable, Hashable, CustomStringConvertible {
    /// The level, 0...9.
    package let level: Int

    /// The default: level 1, the fastest that compresses (smaller than OpenCV's default PNGs, and faster).
    package static let `default` = PNGCompression(uncheckedLevel: 1)

    /// The levels users may ask for.
    package static let levels = 0...9

    /// A level in 0...9; nil otherwise.
    package init?(level: Int) {
        guard Self.levels.contains(level) else { return nil }
        self.level = level
    }

    private init(uncheckedLevel: Int) { level = uncheckedLevel }

    /// The level as a number, e.g. "1".
    package var description: String { "\(level)" }

    /// The row filter: none when storing, otherwise Paeth (the smallest output at every measured level).
    var filter: PNGRowFilter { level == 0 ? .none : .paeth }

    /// libdeflate's level (0...12) for this level: 1-6 alike, then 8, 10 and 12 for the slow, small end.
    var deflateLevel: Int32 {
        let levels: [Int32] = [0, 1, 2, 3, 4, 5, 6, 8, 10, 12]
        return levels[level]
    }
}

/// The PNG standard's row filters, and libpng's per-row choice among them.
enum PNGRowFilter: CaseIterable {
    case none, sub, up, average, paeth
    /// Per row, the filter with the smallest sum of absolute signed outputs (libpng's heuristic).
    case adaptive

    /// The shim's value.
    var shimValue: superres_png_filter {
        switch self {
        case .none: .none
        case .sub: .sub
        case .up: .up
        case .average: .average
        case .paeth: .paeth
        case .adaptive: .adaptive
        }
    }
}
