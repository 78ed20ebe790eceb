import Imaging
import Models
import Pipeline
import TestSupport
import Testing

/// Grey, alpha and 16-bit pictures keep their layout and depth through every model family.
@Suite struct ImageLayoutTests {
    static let modelPaths = ["models/opencv/FSRCNN-small_x2.pb", "models/fixtures/edsr_tiny_x3.pb"]

    static func rgbImage(width: Int, height: Int, seed: UInt64) -> PixelImage {
        var rng = SeededGenerator(seed: seed)
        // A smooth picture with some noise, so networks see structure.
        var samples: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let base = 40 + 3 * x + 2 * y
                for c in 0..<3 { samples.append(UInt8(clamping: base + 30 * c + Int.random(in: -8...8, using: &rng))) }
            }
        }
        return PixelImage(width: width, height: height, layout: .rgb, uint8: samples)
    }

    static func channels(_ image: PixelImage, _ channel: Int) -> [Int] {
        let n = image.layout.channelCount
        switch image.samples {
        case .uint8(let v): return stride(from: channel, to: v.count, by: n).map { Int(v[$0]) }
        case .uint16(let v): return stride(from: channel, to: v.count, by: n).map { Int(v[$0]) }
        }
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"), arguments: modelPaths)
    func alphaIsEnlargedSeparatelyAndKept(_ path: String) throws {
        let model = try ModelLoader.load(path: SharedData.path(path))
        let rgb = Self.rgbImage(width: 20, height: 14, seed: 1)
        guard case .uint8(let colour) = rgb.samples else {
            Issue.record("8-bit samples expected")
            return
        }
        // Alpha: a left-to-right ramp.
        var rgba: [UInt8] = []
        for p in 0..<rgb.pixelCount {
            rgba += colour[(p * 3)..<(p * 3 + 3)]
            rgba.append(UInt8((p % 20) * 12))
        }
        let input = PixelImage(width: 20, height: 14, layout: .rgba, uint8: rgba)
        let upscaler = Upscaler(model: model)
        let withAlpha = try upscaler.upscale(input)
        let without = try upscaler.upscale(rgb)
        #expect(withAlpha.layout == .rgba)
        #expect(withAlpha.width == 20 * model.scale && withAlpha.height == 14 * model.scale)
        // Colour is unaffected by alpha.
        for c in 0..<3 { #expect(Self.channels(withAlpha, c) == Self.channels(without, c)) }
        // Alpha is the bicubic enlargement of the input alpha.
        let alphaPlane = FloatPlane(width: 20, height: 14, values: (0..<rgb.pixelCount).map { Float(($0 % 20) * 12) })
        let expected = Resize.openCVCubic(alphaPlane, scale: model.scale).values.map {
            Int(min(255, max(0, $0.rounded(.toNearestOrEven))))
        }
        #expect(Self.channels(withAlpha, 3) == expected)
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"), arguments: modelPaths)
    func greyStaysGrey(_ path: String) throws {
        let model = try ModelLoader.load(path: SharedData.path(path))
        let rgb = Self.rgbImage(width: 16, height: 12, seed: 2)
        let grey = PixelImage(
            width: 16, height: 12, layout: .grey, uint8: Self.channels(rgb, 1).map { UInt8($0) })
        let result = try Upscaler(model: model).upscale(grey)
        #expect(result.layout == .grey)
        #expect(result.width == 16 * model.scale)
        // The grey result equals the colour model's result on the grey picture made colour, turned grey.
        let asColour = PixelImage(
            width: 16, height: 12, layout: .rgb,
            uint8: Self.channels(grey, 0).flatMap { [UInt8($0), UInt8($0), UInt8($0)] })
        let colourResult = try Upscaler(model: model).upscale(asColour)
        let greyFromColour = ColourConversion.rgbToGrey(
            Self.channels(colourResult, 0).indices.flatMap { i in
                (0..<3).map { UInt8(Self.channels(colourResult, $0)[i]) }
            })
        let difference = zip(Self.channels(result, 0), greyFromColour).map { abs($0 - Int($1)) }.max() ?? 0
        #expect(difference <= 1)
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"), arguments: modelPaths)
    func sixteenBitStaysSixteenBitAndAgreesWithEightBit(_ path: String) throws {
        let model = try ModelLoader.load(path: SharedData.path(path))
        let rgb = Self.rgbImage(width: 18, height: 10, seed: 3)
        let wide = PixelImage(
            width: 18, height: 10, layout: .rgb, uint16: Self.channels(rgb, 0).indices.flatMap { i in
                (0..<3).map { UInt16(Self.channels(rgb, $0)[i] * 257) }
            })
        let result16 = try Upscaler(model: model).upscale(wide)
        let result8 = try Upscaler(model: model).upscale(rgb)
        #expect(result16.bitDepth == 16 && result16.layout == .rgb)
        // Same picture: the 16-bit result, brought to 8 bits, stays within a couple of levels of the 8-bit one
        // (the 8-bit path rounds YCrCb to integers, the 16-bit one does not).
        var worst = 0
        for c in 0..<3 {
            for (a, b) in zip(Self.channels(result16, c), Self.channels(result8, c)) {
                worst = max(worst, abs(Int((Double(a) / 257).rounded()) - b))
            }
        }
        #expect(worst <= 3, "16-bit and 8-bit results differ by \(worst) levels")
        // And it really uses the 16-bit range (values that are not multiples of 257).
        #expect(Self.channels(result16, 0).contains { $0 % 257 != 0 })
    }
}
