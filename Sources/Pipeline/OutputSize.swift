// Any output size: the networks enlarge by whole factors (×2, ×3, ×4), so a request for ×2.5, ×6 or a width of
// 1000 pixels runs the model (or a chain of two) that reaches it, then shrinks the result with an antialiased filter.

import Foundation
import PixelMath

/// A width and height in pixels.
package struct PixelSize: Sendable, Hashable, CustomStringConvertible {
    /// Pixels per row.
    package var width: Int
    /// Rows.
    package var height: Int

    /// A size of `width × height`.
    package init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// "1000×750".
    package var description: String { "\(width)×\(height)" }

    /// Pixels in all, `width × height`.
    package var pixels: Int { width * height }
}

/// The size a user asks for: an enlargement factor, or a width and/or height with the aspect ratio kept.
package enum OutputRequest: Sendable, Hashable, CustomStringConvertible {
    /// Width and height times this factor, each rounded to the nearest pixel.
    case factor(Double)
    /// This width, this height, or (both given) the largest size with the input's aspect ratio that fits both.
    case size(width: Int?, height: Int?)

    /// The largest enlargement superres runs (two ×4 networks in a chain).
    package static let maximumFactor = 16.0

    /// "×2.5", "width 1000", "1000×800 at most".
    package var description: String {
        switch self {
        case .factor(let factor): "×\(Self.format(factor))"
        case .size(let width?, nil): "width \(width)"
        case .size(nil, let height?): "height \(height)"
        case .size(let width?, let height?): "\(width)×\(height) at most"
        case .size(nil, nil): "no size"
        }
    }

    /// A factor without trailing zeros: 3, 2.5, 1.333.
    package static func format(_ factor: Double) -> String {
        factor == factor.rounded() && abs(factor) < 1e9 ? String(Int(factor)) : String(format: "%.4g", factor)
    }

    /// Checks the request on its own (before any image is seen): a factor from 1 to 16, sizes of at least 1 pixel.
    package func validated() throws(PipelineError) -> OutputRequest {
        switch self {
        case .factor(let factor):
            guard factor.isFinite, factor >= 1, factor <= Self.maximumFactor else {
                throw .badSize(
                    "the scale must be a number from 1 to \(Int(Self.maximumFactor)), not \(Self.format(factor))")
            }
        case .size(let width, let height):
            guard width != nil || height != nil else { throw .badSize("a size needs a width or a height") }
            if let width, width < 1 { throw .badSize("the width must be at least 1 pixel, not \(width)") }
            if let height, height < 1 { throw .badSize("the height must be at least 1 pixel, not \(height)") }
        }
        return self
    }

    /// The output size for an input of `input`: never smaller than the input (superres enlarges) nor more than 16
    /// times it, else `badSize`.
    package func outputSize(for input: PixelSize) throws(PipelineError) -> PixelSize {
        let (w, h) = (Double(input.width), Double(input.height))
        func rounded(_ value: Double) -> Int { max(1, Int(value.rounded(.toNearestOrAwayFromZero))) }
        let size: PixelSize
        switch try validated() {
        case .factor(let factor):
            size = PixelSize(width: rounded(w * factor), height: rounded(h * factor))
        case .size(let width?, nil):
            size = PixelSize(width: width, height: rounded(h * Double(width) / w))
        case .size(nil, let height?):
            size = PixelSize(width: rounded(w * Double(height) / h), height: height)
        case .size(let width?, let height?):
            // The dimension that binds is exact; the other follows the aspect ratio.
            size = Double(width) / w <= Double(height) / h
                ? PixelSize(width: width, height: min(height, rounded(h * Double(width) / w)))
                : PixelSize(width: min(width, rounded(w * Double(height) / h)), height: height)
        case .size(nil, nil):
            throw .badSize("a size needs a width or a height")
        }
        guard size.width >= input.width, size.height >= input.height else {
            throw .badSize("\(description) would make the \(input) input smaller (\(size)); superres only enlarges")
        }
        let factor = Self.factor(from: input, to: size)
        guard factor <= Self.maximumFactor else {
            throw .badSize(
                "\(description) is ×\(Self.format(factor)) for the \(input) input; superres enlarges at most "
                    + "×\(Int(Self.maximumFactor))")
        }
        return size
    }

    /// "64×48 enlarged ×3 is 192×144", or "64×48 enlarged to 160×120" when `output` is not a whole multiple of
    /// `input`: how a result got its size, for messages.
    package static func sizeSummary(from input: PixelSize, to output: PixelSize) -> String {
        let k = output.width / input.width
        if output.width == input.width * k, output.height == input.height * k {
            return "\(input) enlarged ×\(k) is \(output)"
        }
        return "\(input) enlarged to \(output)"
    }

    /// The enlargement a network chain must reach to make `output` from `input`: the larger of the two ratios.
    package static func factor(from input: PixelSize, to output: PixelSize) -> Double {
        max(Double(output.width) / Double(input.width), Double(output.height) / Double(input.height))
    }
}
