import Foundation
import Imaging
import Models
import Pipeline
import TestSupport
import Testing

@testable import Evaluation

/// `superres upscale`'s pipeline scores like OpenCV: FSRCNN_x3 on Set5, the same LR PNGs fed to both, Y-PSNR within
/// 0.01 dB of OpenCV 4.14's (numbers from `tools/eval_reference.py opencv`, which also checks that our LR images are
/// MATLAB's imresize as its NumPy port computes it).
struct OpenCVScoreFixture: Decodable {
    struct Image: Decodable, Sendable, CustomTestStringConvertible {
        var image: String
        var psnr: Double
        var lrWidth: Int
        var lrHeight: Int
        var lrFNV1a64: String
        var lrMaxDifferenceFromNumPyReference: Int

        var testDescription: String { image }
    }
    var opencv: String
    var model: String
    var algo: String
    var scale: Int
    var meanPSNR: Double
    var images: [Image]

    static let loaded: Result<OpenCVScoreFixture, any Error> = Result {
        guard let url = Bundle.module.url(forResource: "Fixtures/opencv_fsrcnn_x3_set5", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try JSONDecoder().decode(OpenCVScoreFixture.self, from: Data(contentsOf: url))
    }
}

@Suite(.serialized) struct OpenCVScoreTests {
    /// FNV-1a (64-bit) of the interleaved RGB bytes, as the script computes it.
    static func fnv1a64(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    @Test func fixtureLRImagesWereMATLABsImresize() throws {
        let fixture = try OpenCVScoreFixture.loaded.get()
        #expect(fixture.images.count == 5)
        for image in fixture.images { #expect(image.lrMaxDifferenceFromNumPyReference == 0, "\(image.image)") }
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func fsrcnnTimesThreeOnSet5ScoresAsOpenCV() throws {
        let fixture = try OpenCVScoreFixture.loaded.get()
        let model = try ModelLoader.load(path: SharedData.path(fixture.model))
        let evaluator = try Evaluator(
            scale: fixture.scale,
            models: [EvaluationMethod(name: "FSRCNN_x3", upscaler: Upscaler(model: model))]
        )
        var ours: [Double] = []
        for expected in fixture.images {
            let hr = try ImageFile.read(SharedData.path("datasets/Set5/\(expected.image)"))
            let evaluated = try evaluator.evaluate(hr, name: expected.image)
            #expect(evaluated.lr.width == expected.lrWidth && evaluated.lr.height == expected.lrHeight)
            guard case .uint8(let lr) = evaluated.lr.samples else { throw CocoaError(.coderInvalidValue) }
            #expect(Self.fnv1a64(lr) == expected.lrFNV1a64, "\(expected.image): LR differs from the one OpenCV got")
            let psnr = evaluated.results[1].psnr
            #expect(abs(psnr - expected.psnr) <= 0.01, "\(expected.image): \(psnr) dB, OpenCV \(expected.psnr) dB")
            ours.append(psnr)
        }
        let mean = ours.reduce(0, +) / Double(ours.count)
        #expect(abs(mean - fixture.meanPSNR) <= 0.01, "mean \(mean) dB, OpenCV \(fixture.meanPSNR) dB")
    }
}
