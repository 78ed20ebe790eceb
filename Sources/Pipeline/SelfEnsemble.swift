// Self-ensemble ("test-time augmentation"): the network is run on the eight flips and rotations of the picture,
// each result is turned back, and the eight are averaged in float before rounding (Lim et al. 2017, EDSR+). The eight
// are EXIF's eight orientations, whose pixel reordering `ExifOrientation` already does.

import Imaging

extension ImagePlanes {
    /// The whole picture flipped or rotated by `transform` (its alpha is not read by the families: it is enlarged
    /// from the original).
    func transformed(_ transform: ExifOrientation) throws(PipelineError) -> ImagePlanes {
        ImagePlanes(transform.upright(try rows.whole()))
    }
}

extension ImagePlanes.Colour {
    /// The same colour with every plane transformed (`width × height` is this colour's size).
    func transformed(_ transform: ExifOrientation, width: Int, height: Int) -> Self {
        func apply(_ values: [Float], _ channels: Int) -> [Float] {
            transform.reordered(values, width: width, height: height, channels: channels)
        }
        switch self {
        case .bgr255(let v): return .bgr255(apply(v, 3))
        case .rgb255(let v): return .rgb255(apply(v, 3))
        case .greyUnit(let v): return .greyUnit(apply(v, 1))
        case .ycrcbUnit(let y, let cr, let cb): return .ycrcbUnit(y: apply(y, 1), cr: apply(cr, 1), cb: apply(cb, 1))
        }
    }

    /// The sample-wise sum of `self` and `other` (the same form and size).
    func adding(_ other: Self) -> Self {
        func sum(_ a: [Float], _ b: [Float]) -> [Float] { zip(a, b).map { $0 + $1 } }
        switch (self, other) {
        case (.bgr255(let a), .bgr255(let b)): return .bgr255(sum(a, b))
        case (.rgb255(let a), .rgb255(let b)): return .rgb255(sum(a, b))
        case (.greyUnit(let a), .greyUnit(let b)): return .greyUnit(sum(a, b))
        case (.ycrcbUnit(let y1, let r1, let b1), .ycrcbUnit(let y2, let r2, let b2)):
            return .ycrcbUnit(y: sum(y1, y2), cr: sum(r1, r2), cb: sum(b1, b2))
        default:
            preconditionFailure("a family returns one form of colour")
        }
    }

    /// Every sample times `factor`.
    func scaled(by factor: Float) -> Self {
        func scale(_ a: [Float]) -> [Float] { a.map { $0 * factor } }
        switch self {
        case .bgr255(let v): return .bgr255(scale(v))
        case .rgb255(let v): return .rgb255(scale(v))
        case .greyUnit(let v): return .greyUnit(scale(v))
        case .ycrcbUnit(let y, let cr, let cb): return .ycrcbUnit(y: scale(y), cr: scale(cr), cb: scale(cb))
        }
    }
}
