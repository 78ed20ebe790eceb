// Resizing a network's output to the exact size asked for (`--scale 2.5`, `--width 1000`): the network enlarges by
// a whole factor, then one of these antialiased filters shrinks the result. The kernels are MATLAB `imresize`'s, in
// the same `contributions()` (antialiased when shrinking, symmetric borders), computed in the samples' own float type.

import Foundation

/// A kernel of MATLAB's `imresize`, as a function of the distance in source pixels.
enum ResampleKernel {
    /// Keys' cubic, a = -0.5 (`'bicubic'`).
    case cubic
    /// Lanczos with three lobes (`'lanczos3'`).
    case lanczos3
    /// The unit box (`'box'`): when shrinking, the mean over each output pixel's footprint.
    case box

    /// The kernel's support in source pixels at scale 1.
    var width: Double {
        switch self {
        case .cubic: 4
        case .lanczos3: 6
        case .box: 1
        }
    }

    /// The kernel's value at distance `x`.
    func callAsFunction(_ x: Double) -> Double {
        switch self {
        case .cubic:
            return Resize.matlabCubic(x)
        case .lanczos3:
            // MATLAB: (sin(πx)·sin(πx/3) + eps) / (π²x²/3 + eps), zero from |x| = 3 on.
            guard abs(x) < 3 else { return 0 }
            let eps = Double.ulpOfOne
            return (sin(Double.pi * x) * sin(Double.pi * x / 3) + eps) / (Double.pi * Double.pi * x * x / 3 + eps)
        case .box:
            return -0.5 <= x && x < 0.5 ? 1 : 0
        }
    }
}

/// The antialiased filter that shrinks a network's output to the size asked for.
package enum ResizeFilter: String, Sendable, CaseIterable, Codable {
    /// MATLAB's antialiased bicubic (Keys, a = -0.5): the evaluation protocol's own resampler.
    case bicubic
    /// Lanczos-3, antialiased: sharper than bicubic, with a little more ringing.
    case lanczos3
    /// The box filter, antialiased: each output pixel the mean of the area it covers.
    case area

    /// The filter superres uses unless told otherwise, chosen by PSNR on Set5, Set14 and BSD68 (docs/QUALITY.md).
    package static let `default` = ResizeFilter.bicubic

    var kernel: ResampleKernel {
        switch self {
        case .bicubic: .cubic
        case .lanczos3: .lanczos3
        case .area: .box
        }
    }
}

extension Resize {
    /// `plane` resized to `toWidth × toHeight` with `filter` (antialiased when shrinking, symmetric borders), in
    /// float; each dimension's scale is output ÷ input, and a dimension that keeps its size is left as it is.
    package static func resample(
        _ plane: FloatPlane, toWidth: Int, toHeight: Int, filter: ResizeFilter
    ) -> FloatPlane {
        precondition(plane.width > 0 && plane.height > 0, "cannot resize an empty \(plane.width)×\(plane.height)")
        precondition(toWidth > 0 && toHeight > 0, "cannot resize to \(toWidth)×\(toHeight)")
        var values = plane.values
        var (width, height) = (plane.width, plane.height)
        let scaleX = Double(toWidth) / Double(width)
        let scaleY = Double(toHeight) / Double(height)
        // As MATLAB: the dimension with the smaller scale first (less work after a shrink), rows first on ties.
        let verticalFirst = scaleY <= scaleX
        for vertical in verticalFirst ? [true, false] : [false, true] {
            let (length, outLength, scale) = vertical ? (height, toHeight, scaleY) : (width, toWidth, scaleX)
            guard outLength != length else { continue }
            let c = matlabContributions(inLength: length, outLength: outLength, scale: scale, kernel: filter.kernel)
            values = resizeAxis(
                values, width: width, height: height, vertical: vertical, c, weights: c.weights.map(Float.init))
            if vertical { height = toHeight } else { width = toWidth }
        }
        return FloatPlane(width: width, height: height, values: values)
    }
}
