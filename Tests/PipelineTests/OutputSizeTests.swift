import Foundation
import Imaging
import Models
import Pipeline
import TestSupport
import Testing

/// Any output size: the size a request gives, the networks a plan chains, and the shrink to the exact size.
@Suite struct OutputSizeTests {
    static func size(_ request: OutputRequest, _ width: Int, _ height: Int) throws(PipelineError) -> PixelSize {
        try request.outputSize(for: PixelSize(width: width, height: height))
    }

    @Test func factorsAndSizesGiveTheExactSizeAskedFor() throws {
        #expect(try Self.size(.factor(2.5), 101, 37) == PixelSize(width: 253, height: 93))
        #expect(try Self.size(.factor(3), 288, 200) == PixelSize(width: 864, height: 600))
        #expect(try Self.size(.factor(1), 5, 7) == PixelSize(width: 5, height: 7))
        #expect(try Self.size(.size(width: 1000, height: nil), 288, 200) == PixelSize(width: 1000, height: 694))
        #expect(try Self.size(.size(width: nil, height: 301), 288, 288) == PixelSize(width: 301, height: 301))
        // Both: the largest size with the picture's aspect ratio inside the box; the binding side is exact.
        #expect(try Self.size(.size(width: 1000, height: 500), 288, 200) == PixelSize(width: 720, height: 500))
        #expect(try Self.size(.size(width: 600, height: 900), 288, 200) == PixelSize(width: 600, height: 417))
        #expect(OutputRequest.factor(from: PixelSize(width: 10, height: 10), to: PixelSize(width: 25, height: 30)) == 3)
    }

    @Test func impossibleSizesAreRefusedWithAReason() {
        let cases: [(OutputRequest, String)] = [
            (.factor(0.5), "from 1 to 16"), (.factor(17), "from 1 to 16"), (.factor(.nan), "from 1 to 16"),
            (.factor(.infinity), "from 1 to 16"), (.size(width: 100, height: nil), "only enlarges"),
            (.size(width: 0, height: nil), "at least 1 pixel"), (.size(width: nil, height: nil), "width or a height"),
            (.size(width: 288 * 17, height: nil), "at most ×16"),
        ]
        for (request, reason) in cases {
            do {
                _ = try Self.size(request, 288, 200)
                Issue.record("\(request) was accepted")
            } catch {
                guard case .badSize(let message) = error else {
                    Issue.record("\(request): \(error)")
                    continue
                }
                #expect(message.contains(reason), "\(request): \(message)")
            }
        }
    }

    @Test func autoRunsTheSmallestScaleThatReachesAndChainsBeyondFour() {
        #expect(AutoModels.firstScale(for: 1) == 2)
        #expect(AutoModels.firstScale(for: 2) == 2)
        #expect(AutoModels.firstScale(for: 2.5) == 3)
        #expect(AutoModels.firstScale(for: 4) == 4)
        #expect(AutoModels.firstScale(for: 6) == 2)
        #expect(AutoModels.firstScale(for: 8) == 2)
        #expect(AutoModels.firstScale(for: 12) == 3)
        #expect(AutoModels.firstScale(for: 16) == 4)
        #expect(AutoModels.modelNames(for: 3) == ["span-ch52-x4", "srmd-x3"])
        #expect(AutoModels.modelNames(for: 8) == ["span-ch52-x2", "span-ch52-x4", "srmd-x2"])
        #expect(Set(AutoModels.modelNames(for: nil)) == ["span-ch52-x2", "span-ch52-x4", "srmd-x2", "srmd-x3", "srmd-x4"])
    }

    static func fsrcnnX2() throws -> Upscaler {
        Upscaler(model: try ModelLoader.load(path: SharedData.path("models/opencv/FSRCNN-small_x2.pb")))
    }

    static func samples(_ image: PixelImage) -> [Int] {
        switch image.samples {
        case .uint8(let s): s.map(Int.init)
        case .uint16(let s): s.map(Int.init)
        }
    }

    /// A named ×2 model at ×4 runs twice, and the result is exactly the two runs by hand; at ×3 it runs twice and
    /// is shrunk; at ×2 it runs once.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func aModelRunsAgainToReachTheScale() throws {
        let upscaler = try Self.fsrcnnX2()
        let input = try ImageFile.read(SharedData.path("reference/inputs/bird_crop_37x29.png"))
        let planner = UpscalePlanner(fixed: upscaler, name: "FSRCNN-small_x2")
        let four = try planner.with(request: .factor(4)).plan(for: input, encoded: nil)
        #expect(four.steps.count == 2 && four.outputSize == PixelSize(width: 148, height: 116))
        let byHand = try upscaler.upscale(try upscaler.upscale(input))
        #expect(try four.upscale(input) == byHand)
        let three = try planner.with(request: .factor(3)).plan(for: input, encoded: nil)
        #expect(three.steps.count == 2 && three.summary.hasSuffix("resized to 111×87 (bicubic)"), "\(three.summary)")
        let enlarged = try three.upscale(input)
        #expect(enlarged.width == 111 && enlarged.height == 87)
        #expect(try planner.plan(for: input, encoded: nil).steps.count == 1)
    }

    /// The shrink runs in float before rounding and clamping, so it is close to shrinking the rounded result of the
    /// network at its own scale: for an RGB model (SPAN) within a grey level but where the network overshoots
    /// 0...255; for a Y-channel model (FSRCNN) within a few levels, since its Cr and Cb are rounded to 8 bits before
    /// OpenCV's integer conversion to RGB, which amplifies their rounding (×1.4 in R, ×1.8 in B).
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func theShrinkIsTheFilterOnTheNetworksResult() throws {
        let input = try ImageFile.read(SharedData.path("reference/inputs/bird_crop_37x29.png"))
        let fsrcnn = try Self.fsrcnnX2()
        try Self.expectShrinkMatches(fsrcnn, input, to: PixelSize(width: 55, height: 44), within: 0.98, worst: 4)
        let span = try NCNNModelFiles.load("span-ch52-x2", param: "spanx2_ch52.param")
        try Self.expectShrinkMatches(
            Upscaler(model: span), input, to: PixelSize(width: 55, height: 44), within: 0.998, worst: 2)
    }

    /// `upscaler`'s result shrunk to `target` in float against its rounded full-size result shrunk by the same
    /// filter: at least `within` of the samples a grey level apart or less, none more than `worst`.
    static func expectShrinkMatches(
        _ upscaler: Upscaler, _ input: PixelImage, to target: PixelSize, within: Double, worst: Int
    ) throws {
        let full = try upscaler.upscale(input)
        for filter in ResizeFilter.allCases {
            let shrunk = try upscaler.upscale(input, to: target, filter: filter)
            #expect(shrunk.width == target.width && shrunk.height == target.height && shrunk.layout == full.layout)
            let channels = full.layout.channelCount
            let fullSamples = Self.samples(full)
            var expected = [Int](repeating: 0, count: target.pixels * channels)
            for c in 0..<channels {
                let plane = FloatPlane(
                    width: full.width, height: full.height,
                    values: (0..<(full.width * full.height)).map { Float(fullSamples[$0 * channels + c]) })
                let out = Resize.resample(plane, toWidth: target.width, toHeight: target.height, filter: filter)
                for p in 0..<target.pixels {
                    expected[p * channels + c] = Int(min(max(out.values[p].rounded(), 0), 255))
                }
            }
            let differences = zip(Self.samples(shrunk), expected).map { abs($0 - $1) }
            let close = Double(differences.filter { $0 <= 1 }.count) / Double(differences.count)
            let largest = differences.max() ?? 0
            #expect(close >= within && largest <= worst, "\(upscaler.model.family) \(filter): \(close), \(largest)")
        }
    }

    /// Grey, grey+alpha, RGBA and 16-bit pictures come out at the exact size in their own layout, alpha kept.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func everyLayoutComesOutAtTheSizeAskedFor() throws {
        let upscaler = try Self.fsrcnnX2()
        let (w, h) = (23, 17)
        let target = PixelSize(width: 35, height: 26)
        for layout in [PixelLayout.grey, .greyAlpha, .rgb, .rgba] {
            let channels = layout.channelCount
            var samples8 = [UInt8](repeating: 0, count: w * h * channels)
            for i in samples8.indices { samples8[i] = UInt8(truncatingIfNeeded: i &* 29) }
            if layout.hasAlpha { for p in 0..<(w * h) { samples8[p * channels + channels - 1] = 200 } }
            let samples16 = samples8.map { UInt16($0) * 257 }
            for image in [
                PixelImage(width: w, height: h, layout: layout, uint8: samples8),
                PixelImage(width: w, height: h, layout: layout, uint16: samples16),
            ] {
                let out = try upscaler.upscale(image, to: target)
                #expect(out.width == 35 && out.height == 26 && out.layout == layout && out.bitDepth == image.bitDepth)
                if layout.hasAlpha {
                    let alpha = stride(from: channels - 1, to: 35 * 26 * channels, by: channels).map {
                        Self.samples(out)[$0]
                    }
                    #expect(Set(alpha) == [image.bitDepth == 8 ? 200 : 200 * 257], "\(layout) \(image.bitDepth)-bit")
                }
            }
        }
    }
}
