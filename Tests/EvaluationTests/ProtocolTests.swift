import Foundation
import Imaging
import Models
import Pipeline
import TestSupport
import Testing

@testable import Evaluation

/// The image side of the protocol: crop, LR, bicubic baseline, and the published Set5 bicubic number.
@Suite struct ProtocolTests {
    static func gradient(width: Int, height: Int, layout: PixelLayout = .rgb) -> PixelImage {
        let channels = layout.channelCount
        var samples = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    samples[(y * width + x) * channels + c] = UInt8((x * 7 + y * 11 + c * 50) % 256)
                }
            }
        }
        return PixelImage(width: width, height: height, layout: layout, uint8: samples)
    }

    @Test func cropKeepsTheTopLeftMultipleOfTheScale() throws {
        let image = Self.gradient(width: 11, height: 8)
        let cropped = try Degradation.cropToMultiple(image, of: 3)
        #expect(cropped.width == 9 && cropped.height == 6)
        guard case .uint8(let source) = image.samples, case .uint8(let crop) = cropped.samples else {
            Issue.record("8-bit samples expected")
            return
        }
        for y in 0..<6 {
            for x in 0..<9 {
                for c in 0..<3 { #expect(crop[(y * 9 + x) * 3 + c] == source[(y * 11 + x) * 3 + c]) }
            }
        }
        #expect(try Degradation.cropToMultiple(Self.gradient(width: 12, height: 9), of: 3).width == 12)
        #expect(throws: EvaluationError.self) {
            try Degradation.cropToMultiple(Self.gradient(width: 2, height: 9), of: 3)
        }
    }

    @Test(arguments: [2, 3, 4])
    func lowResolutionIsTheCropDividedByTheScale(_ scale: Int) throws {
        let hr = try Degradation.cropToMultiple(Self.gradient(width: 50, height: 37), of: scale)
        for kernel in LowResolutionKernel.allCases {
            let lr = Degradation.downscale(hr, scale: scale, kernel: kernel)
            #expect(lr.width == 50 / scale && lr.height == 37 / scale && lr.layout == .rgb)
            let up = Degradation.bicubicUpscale(lr, scale: scale)
            #expect(up.width == hr.width && up.height == hr.height)
        }
    }

    @Test func matlabLowResolutionMatchesImresizePerChannel() throws {
        let hr = Self.gradient(width: 24, height: 18)
        let lr = Degradation.downscale(hr, scale: 3)
        guard case .uint8(let samples) = hr.samples, case .uint8(let out) = lr.samples else {
            Issue.record("8-bit samples expected")
            return
        }
        for c in 0..<3 {
            let plane = (0..<hr.pixelCount).map { Double(samples[$0 * 3 + c]) }
            let expected = Resize.matlabUInt8(Resize.matlabBicubic(plane, width: 24, height: 18, scale: 1.0 / 3).values)
            #expect((0..<lr.pixelCount).map { out[$0 * 3 + c] } == expected)
        }
    }

    /// OpenCV's INTER_CUBIC at an odd integer factor samples the centre pixel of each block exactly.
    @Test func openCVCubicAtOddScaleIsCentreSampling() throws {
        let hr = Self.gradient(width: 15, height: 9, layout: .grey)
        let lr = Degradation.downscale(hr, scale: 3, kernel: .openCVCubic)
        guard case .uint8(let source) = hr.samples, case .uint8(let out) = lr.samples else {
            Issue.record("8-bit samples expected")
            return
        }
        for y in 0..<3 {
            for x in 0..<5 { #expect(out[y * 5 + x] == source[(3 * y + 1) * 15 + 3 * x + 1]) }
        }
    }

    /// At an even factor the weights are (-3, 19, 19, -3) / 32: exact halves occur and cv2 rounds them to even.
    @Test func openCVCubicRoundsExactHalvesToEven() {
        for (edge, expected) in [(UInt8(1), UInt8(0)), (3, 2), (5, 2), (7, 4)] {
            // Row [e, 0, 0, 0]: output 0 is (16e) / 32 = e / 2.
            let hr = PixelImage(width: 4, height: 2, layout: .grey, uint8: [edge, 0, 0, 0, edge, 0, 0, 0])
            let lr = Degradation.downscale(hr, scale: 2, kernel: .openCVCubic)
            #expect(lr.samples == .uint8([expected, 0]), "edge \(edge)")
        }
    }

    @Test func preparedDropsAlphaAndRefuses16Bit() throws {
        let rgba = PixelImage(width: 1, height: 2, layout: .rgba, uint8: [1, 2, 3, 4, 5, 6, 7, 8])
        let prepared = try Degradation.prepared(rgba, source: "x")
        #expect(prepared.layout == .rgb && prepared.samples == .uint8([1, 2, 3, 5, 6, 7]))
        let deep = PixelImage(width: 1, height: 1, layout: .grey, uint16: [300])
        #expect(throws: EvaluationError.self) { try Degradation.prepared(deep, source: "x") }
    }

    @Test func greyImagesStayGreyThroughTheProtocol() throws {
        let evaluator = try Evaluator(scale: 2)
        let result = try evaluator.evaluate(Self.gradient(width: 41, height: 30, layout: .grey), name: "grey.png")
        #expect(result.hr.layout == .grey && result.lr.layout == .grey && result.outputs[0].image.layout == .grey)
        #expect(result.hr.width == 40 && result.lr.width == 20)
        #expect(result.results[0].psnr.isFinite && result.results[0].ssim > 0)
    }

    /// A ×2 model at ×3 runs twice (×4) and its result is shrunk to the HR size, as `upscale --scale 3` does.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func modelOfAnotherScaleIsChainedAndShrunk() throws {
        let model = try ModelLoader.load(path: SharedData.path("models/opencv/FSRCNN-small_x2.pb"))
        let method = EvaluationMethod(name: "FSRCNN-small_x2", upscaler: Upscaler(model: model))
        let evaluator = try Evaluator(scale: 3, models: [method])
        let bird = try ImageFile.read(SharedData.path("datasets/Set5/bird.png"))
        let result = try evaluator.evaluate(bird, name: "bird.png")
        let output = result.outputs[1].image
        #expect(output.width == result.hr.width && output.height == result.hr.height)
        // Two passes of a ×2 network, shrunk: close to bicubic at ×3, far better than noise.
        #expect(result.results[1].psnr > result.results[0].psnr - 1.5, "\(result.results.map(\.psnr))")
    }

    /// The published bicubic baseline: Set5 ×3, 30.39 dB.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func set5BicubicTimesThreeIsThePublishedNumber() throws {
        let rows = try Evaluator(scale: 3).evaluate(datasetAt: SharedData.path("datasets/Set5"))
        #expect(rows.count == 1 && rows[0].model == "bicubic" && rows[0].dataset == "Set5")
        #expect(rows[0].images.count == 5)
        #expect(abs(rows[0].psnr - 30.39) <= 0.05, "Set5 ×3 bicubic \(rows[0].psnr) dB")
        #expect(rows[0].ssim > 0.85 && rows[0].ssim < 0.90, "SSIM \(rows[0].ssim)")
    }
}
