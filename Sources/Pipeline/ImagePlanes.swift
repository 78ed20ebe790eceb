import Imaging

/// A picture as the networks read it: its rows (all held, or a window over a file decoded a band at a time), whether
/// it is grey, its alpha, its bit depth.
struct ImagePlanes {
    let width: Int
    let height: Int
    let isGrey: Bool
    let hasAlpha: Bool
    let bitDepth: Int
    /// The rows, interleaved as decoded (colour in RGB order or grey, then alpha).
    let rows: PictureRows

    /// The result of a network, in one of the forms the families produce.
    enum Colour {
        /// BGR (or grey replicated to BGR) floats on the 0...255 scale: EDSR's output plus the mean.
        case bgr255([Float])
        /// RGB (or grey replicated to RGB) floats on the 0...255 scale: the ncnn families' output.
        case rgb255([Float])
        /// Grey floats on the 0...1 scale: a Y-only model's output for a grey picture.
        case greyUnit([Float])
        /// Y from the network, Cr and Cb enlarged, all on the 0...1 scale.
        case ycrcbUnit(y: [Float], cr: [Float], cb: [Float])
    }

    /// The planes of `rows`.
    init(_ rows: PictureRows) {
        width = rows.shape.width
        height = rows.shape.height
        isGrey = rows.shape.layout.isGrey
        hasAlpha = rows.shape.layout.hasAlpha
        bitDepth = rows.shape.bitDepth
        self.rows = rows
    }

    /// The planes of a decoded picture, all held.
    init(_ image: PixelImage) { self.init(PictureRows(image)) }

    // MARK: Network inputs

    /// Makes the picture's rows `range` (clamped to the picture) held for the network's input.
    func loadNetworkRows(_ range: Range<Int>) throws(PipelineError) {
        try rows.load(range.clamped(to: 0..<height), for: .network)
    }

    /// BGR floats on the 0...255 scale (grey replicated; 16-bit samples divided by 257) of the region `x, y,
    /// width, height`, whose rows must be held.
    func bgrFloats255(x: Int, y: Int, width regionWidth: Int, height regionHeight: Int) -> [Float] {
        rows.checkHeld(y..<(y + regionHeight))
        let (samples8, samples16) = (rows.samples8, rows.samples16)
        let channels = rows.shape.layout.channelCount
        var out = [Float](repeating: 0, count: regionWidth * regionHeight * 3)
        for row in 0..<regionHeight {
            let start = rows.index(column: x, row: y + row)
            for column in 0..<regionWidth {
                let p = start + column * channels
                let o = (row * regionWidth + column) * 3
                for c in 0..<3 {
                    let source = isGrey ? p : p + (2 - c)
                    out[o + c] = bitDepth == 8 ? Float(samples8[source]) : Float(samples16[source]) / 257
                }
            }
        }
        return out
    }

    /// The colour samples of the region `x, y, width, height` (held rows), interleaved: 1 or 3 per pixel, no alpha.
    private func colourSamples<Sample>(
        _ samples: [Sample], x: Int, y: Int, width regionWidth: Int, height regionHeight: Int
    ) -> [Sample] {
        let channels = rows.shape.layout.channelCount
        let keep = isGrey ? 1 : 3
        var out: [Sample] = []
        out.reserveCapacity(regionWidth * regionHeight * keep)
        for row in y..<(y + regionHeight) {
            let start = rows.index(column: x, row: row)
            if channels == keep {
                out += samples[start..<(start + regionWidth * channels)]
            } else {
                for p in stride(from: start, to: start + regionWidth * channels, by: channels) {
                    out += samples[p..<(p + keep)]
                }
            }
        }
        return out
    }

    /// Y, Cr, Cb on the 0...1 scale of the region `x, y, width, height` (held rows) as dnn_superres computes them
    /// (8-bit: OpenCV's integer YCrCb, then `× (1/255)` in float as `convertTo` does); Cr and Cb are nil for grey
    /// pictures.
    func ycrcbUnit(x: Int, y: Int, width regionWidth: Int, height regionHeight: Int) -> (
        y: [Float], cr: [Float]?, cb: [Float]?
    ) {
        rows.checkHeld(y..<(y + regionHeight))
        let pixels = regionWidth * regionHeight
        let unit8 = Float(1.0 / 255.0)
        if isGrey {
            let y =
                bitDepth == 8
                ? colourSamples(rows.samples8, x: x, y: y, width: regionWidth, height: regionHeight).map {
                    Float($0) * unit8
                }
                : colourSamples(rows.samples16, x: x, y: y, width: regionWidth, height: regionHeight).map {
                    Float($0) / 65535
                }
            return (y, nil, nil)
        }
        var luma = [Float](repeating: 0, count: pixels)
        var cr = luma
        var cb = luma
        if bitDepth == 8 {
            let ycrcb = ColourConversion.rgbToYCrCb(
                colourSamples(rows.samples8, x: x, y: y, width: regionWidth, height: regionHeight))
            for p in 0..<pixels {
                luma[p] = Float(ycrcb[p * 3]) * unit8
                cr[p] = Float(ycrcb[p * 3 + 1]) * unit8
                cb[p] = Float(ycrcb[p * 3 + 2]) * unit8
            }
        } else {
            let ycrcb = ColourConversion.rgbToYCrCb(
                colourSamples(rows.samples16, x: x, y: y, width: regionWidth, height: regionHeight).map {
                    Float($0) / 65535
                })
            for p in 0..<pixels {
                luma[p] = ycrcb[p * 3]
                cr[p] = ycrcb[p * 3 + 1]
                cb[p] = ycrcb[p * 3 + 2]
            }
        }
        return (luma, cr, cb)
    }

    /// The alpha plane of the picture's rows `range` (loaded here), in the image's own range.
    func alphaPlane(rows range: Range<Int>) throws(PipelineError) -> FloatPlane {
        try rows.load(range, for: .alpha)
        rows.checkHeld(range)
        let channels = rows.shape.layout.channelCount
        let start = rows.index(column: 0, row: range.lowerBound) + channels - 1
        let end = rows.index(column: 0, row: range.upperBound)
        let (samples8, samples16) = (rows.samples8, rows.samples16)
        let values: [Float] =
            bitDepth == 8
            ? stride(from: start, to: end, by: channels).map { Float(samples8[$0]) }
            : stride(from: start, to: end, by: channels).map { Float(samples16[$0]) }
        return FloatPlane(width: width, height: range.count, values: values)
    }

    // MARK: Back to pixels

    /// OpenCV's `saturate_cast<uchar>` of a float: round half to even, clamp.
    static func saturate8(_ value: Float) -> UInt8 {
        let rounded = value.rounded(.toNearestOrEven)
        return rounded <= 0 ? 0 : rounded >= 255 ? 255 : UInt8(rounded)
    }

    static func saturate16(_ value: Float) -> UInt16 {
        let rounded = value.rounded(.toNearestOrEven)
        return rounded <= 0 ? 0 : rounded >= 65535 ? 65535 : UInt16(rounded)
    }

    /// Puts the enlarged colour and alpha back into a picture of this one's layout and depth.
    func assemble(colour: Colour, alpha: FloatPlane?, width: Int, height: Int) -> PixelImage {
        let pixels = width * height
        // Interleaved colour samples on the output's own scale, before rounding.
        var colourSamples8: [UInt8] = []
        var colourSamples16: [UInt16] = []
        switch colour {
        case .bgr255(let bgr):
            if bitDepth == 8 {
                let bgr8 = bgr.map(Self.saturate8)
                if isGrey {
                    colourSamples8 = ColourConversion.bgrToGrey(bgr8)
                } else {
                    colourSamples8 = [UInt8](repeating: 0, count: pixels * 3)
                    for p in 0..<pixels { for c in 0..<3 { colourSamples8[p * 3 + c] = bgr8[p * 3 + 2 - c] } }
                }
            } else {
                let unit = bgr.map { $0 / 255 }
                let values = isGrey ? ColourConversion.bgrToGrey(unit) : rgbFromBGR(unit)
                colourSamples16 = values.map { Self.saturate16($0 * 65535) }
            }
        case .rgb255(let rgb):
            if bitDepth == 8 {
                let rgb8 = rgb.map(Self.saturate8)
                colourSamples8 = isGrey ? ColourConversion.rgbToGrey(rgb8) : rgb8
            } else {
                let unit = rgb.map { $0 / 255 }
                colourSamples16 = (isGrey ? ColourConversion.rgbToGrey(unit) : unit).map { Self.saturate16($0 * 65535) }
            }
        case .greyUnit(let grey):
            if bitDepth == 8 {
                colourSamples8 = grey.map { Self.saturate8($0 * 255) }
            } else {
                colourSamples16 = grey.map { Self.saturate16($0 * 65535) }
            }
        case .ycrcbUnit(let y, let cr, let cb):
            if bitDepth == 8 {
                colourSamples8 = ColourConversion.ycrcbUnitPlanesToRGB(y: y, cr: cr, cb: cb)
            } else {
                var merged = [Float](repeating: 0, count: pixels * 3)
                for p in 0..<pixels {
                    merged[p * 3] = y[p]
                    merged[p * 3 + 1] = cr[p]
                    merged[p * 3 + 2] = cb[p]
                }
                colourSamples16 = ColourConversion.ycrcbToRGB(merged).map { Self.saturate16($0 * 65535) }
            }
        }
        let colourChannels = isGrey ? 1 : 3
        let layout = PixelLayout(channelCount: colourChannels + (alpha == nil ? 0 : 1))!
        if bitDepth == 8 {
            return PixelImage(width: width, height: height, layout: layout,
                uint8: Self.interleave(colourSamples8, channels: colourChannels, alpha: alpha.map { $0.values.map(Self.saturate8) }))
        }
        return PixelImage(width: width, height: height, layout: layout,
            uint16: Self.interleave(colourSamples16, channels: colourChannels, alpha: alpha.map { $0.values.map(Self.saturate16) }))
    }

    private func rgbFromBGR(_ bgr: [Float]) -> [Float] {
        var rgb = bgr
        for start in stride(from: 0, to: bgr.count, by: 3) {
            rgb[start] = bgr[start + 2]
            rgb[start + 2] = bgr[start]
        }
        return rgb
    }

    private static func interleave<T>(_ colour: [T], channels: Int, alpha: [T]?) -> [T] {
        guard let alpha else { return colour }
        var out: [T] = []
        out.reserveCapacity(colour.count + alpha.count)
        for p in 0..<alpha.count {
            out.append(contentsOf: colour[(p * channels)..<((p + 1) * channels)])
            out.append(alpha[p])
        }
        return out
    }
}

extension ImagePlanes.Colour {
    /// The bands of one picture (all of one form), top to bottom, as one colour.
    static func joined(_ bands: [Self]) -> Self? {
        guard let first = bands.first else { return nil }
        func values(_ pick: (Self) -> [Float]) -> [Float] {
            var all: [Float] = []
            all.reserveCapacity(bands.reduce(0) { $0 + pick($1).count })
            for band in bands { all += pick(band) }
            return all
        }
        func mismatch() -> Never { preconditionFailure("bands of one picture come in one form") }
        switch first {
        case .bgr255:
            return .bgr255(values { if case .bgr255(let v) = $0 { v } else { mismatch() } })
        case .rgb255:
            return .rgb255(values { if case .rgb255(let v) = $0 { v } else { mismatch() } })
        case .greyUnit:
            return .greyUnit(values { if case .greyUnit(let v) = $0 { v } else { mismatch() } })
        case .ycrcbUnit:
            let planes = bands.map(\.planes)
            return .ycrcbUnit(
                y: planes.flatMap { $0[0] }, cr: planes.flatMap { $0[1] }, cb: planes.flatMap { $0[2] })
        }
    }

    /// The colour's planes, one array per channel (B, G, R or R, G, B for the interleaved forms).
    var planes: [[Float]] {
        func split(_ values: [Float]) -> [[Float]] {
            let pixels = values.count / 3
            return (0..<3).map { c in (0..<pixels).map { values[$0 * 3 + c] } }
        }
        switch self {
        case .bgr255(let v), .rgb255(let v): return split(v)
        case .greyUnit(let v): return [v]
        case .ycrcbUnit(let y, let cr, let cb): return [y, cr, cb]
        }
    }

    /// A colour of this one's form made of `planes` (as `planes` gives them).
    func withPlanes(_ planes: [[Float]]) -> Self {
        func merge() -> [Float] {
            let pixels = planes[0].count
            var out = [Float](repeating: 0, count: pixels * 3)
            for c in 0..<3 {
                for p in 0..<pixels { out[p * 3 + c] = planes[c][p] }
            }
            return out
        }
        switch self {
        case .bgr255: return .bgr255(merge())
        case .rgb255: return .rgb255(merge())
        case .greyUnit: return .greyUnit(planes[0])
        case .ycrcbUnit: return .ycrcbUnit(y: planes[0], cr: planes[1], cb: planes[2])
        }
    }
}
