import Imaging

/// A picture taken apart for the networks: its colour samples (8 or 16 bit, grey or RGB) and its alpha plane.
struct ImagePlanes {
    let width: Int
    let height: Int
    let isGrey: Bool
    let bitDepth: Int
    /// Colour samples, interleaved (1 or 3 per pixel, RGB order), as read.
    let colour8: [UInt8]
    let colour16: [UInt16]
    /// Alpha in the image's own range (0...255 or 0...65535), if the image has alpha.
    let alpha: FloatPlane?

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

    /// Planes from their parts (a transformed copy).
    init(
        width: Int, height: Int, isGrey: Bool, bitDepth: Int, colour8: [UInt8], colour16: [UInt16],
        alpha: FloatPlane?
    ) {
        self.width = width
        self.height = height
        self.isGrey = isGrey
        self.bitDepth = bitDepth
        self.colour8 = colour8
        self.colour16 = colour16
        self.alpha = alpha
    }

    init(_ image: PixelImage) {
        width = image.width
        height = image.height
        isGrey = image.layout.isGrey
        bitDepth = image.bitDepth
        let channels = image.layout.channelCount
        let colourChannels = isGrey ? 1 : 3
        let pixels = image.pixelCount
        switch image.samples {
        case .uint8(let samples):
            colour8 = Self.strip(samples, channels: channels, keep: colourChannels)
            colour16 = []
            alpha = image.layout.hasAlpha
                ? FloatPlane(width: width, height: height, values: (0..<pixels).map { Float(samples[$0 * channels + channels - 1]) })
                : nil
        case .uint16(let samples):
            colour8 = []
            colour16 = Self.strip(samples, channels: channels, keep: colourChannels)
            alpha = image.layout.hasAlpha
                ? FloatPlane(width: width, height: height, values: (0..<pixels).map { Float(samples[$0 * channels + channels - 1]) })
                : nil
        }
    }

    private static func strip<T>(_ samples: [T], channels: Int, keep: Int) -> [T] {
        if channels == keep { return samples }
        var out: [T] = []
        out.reserveCapacity(samples.count / channels * keep)
        for start in stride(from: 0, to: samples.count, by: channels) {
            out.append(contentsOf: samples[start..<(start + keep)])
        }
        return out
    }

    // MARK: Network inputs

    /// BGR floats on the 0...255 scale (grey replicated; 16-bit samples divided by 257) of the region `x, y,
    /// width, height`.
    func bgrFloats255(x: Int, y: Int, width regionWidth: Int, height regionHeight: Int) -> [Float] {
        var out = [Float](repeating: 0, count: regionWidth * regionHeight * 3)
        for row in 0..<regionHeight {
            for column in 0..<regionWidth {
                let p = (y + row) * width + x + column
                let o = (row * regionWidth + column) * 3
                for c in 0..<3 {
                    let source = isGrey ? p : p * 3 + (2 - c)
                    out[o + c] = bitDepth == 8 ? Float(colour8[source]) : Float(colour16[source]) / 257
                }
            }
        }
        return out
    }

    /// Y, Cr, Cb on the 0...1 scale as dnn_superres computes them (8-bit: OpenCV's integer YCrCb, then `× (1/255)`
    /// in float as `convertTo` does); Cr and Cb are nil for grey pictures.
    func ycrcbUnit() -> (y: [Float], cr: [Float]?, cb: [Float]?) {
        let pixels = width * height
        let unit8 = Float(1.0 / 255.0)
        if isGrey {
            let y = bitDepth == 8 ? colour8.map { Float($0) * unit8 } : colour16.map { Float($0) / 65535 }
            return (y, nil, nil)
        }
        var y = [Float](repeating: 0, count: pixels)
        var cr = y
        var cb = y
        if bitDepth == 8 {
            let ycrcb = ColourConversion.rgbToYCrCb(colour8)
            for p in 0..<pixels {
                y[p] = Float(ycrcb[p * 3]) * unit8
                cr[p] = Float(ycrcb[p * 3 + 1]) * unit8
                cb[p] = Float(ycrcb[p * 3 + 2]) * unit8
            }
        } else {
            let ycrcb = ColourConversion.rgbToYCrCb(colour16.map { Float($0) / 65535 })
            for p in 0..<pixels {
                y[p] = ycrcb[p * 3]
                cr[p] = ycrcb[p * 3 + 1]
                cb[p] = ycrcb[p * 3 + 2]
            }
        }
        return (y, cr, cb)
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
