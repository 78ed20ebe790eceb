import Foundation
import Imaging
import ModelStore
import Models
import Pipeline
import TestSupport
import Testing

@testable import Evaluation

/// `eval --degrade`: the degradations of the LR, and `auto` measured on them.
@Suite struct DegradedEvaluationTests {
    @Test func specificationsReadBackAsWritten() throws {
        for text in ["jpeg:40", "noise:5", "noise:5+jpeg:95", "jpeg:70+noise:2.5", "none"] {
            #expect(try LowResolutionDegradation(parsing: text).description == text)
        }
        #expect(try LowResolutionDegradation(parsing: "noise:5+jpeg:95").steps == [.noise(sigma: 5), .jpeg(quality: 95)])
        for bad in ["jpeg", "jpeg:0", "jpeg:101", "jpeg:x", "noise:-1", "noise:nan", "blur:2", "jpeg:40+", ""] {
            let error = #expect(throws: EvaluationError.self, "\(bad)") { try LowResolutionDegradation(parsing: bad) }
            #expect(error?.code == .unsupportedDegradation)
        }
    }

    @Test func aJPEGStepLeavesTheFileWithItsQualityAndNoiseIsRepeatable() throws {
        let image = ProtocolTests.gradient(width: 48, height: 40)
        let (jpeg, bytes) = try LowResolutionDegradation(parsing: "jpeg:40").apply(to: image, seed: "a.png")
        #expect(JPEGQuality(jpeg: try #require(bytes))?.quality == 40)
        #expect(jpeg == (try ImageCodec.decode(try #require(bytes), source: "again")))
        let noise = try LowResolutionDegradation(parsing: "noise:10")
        let (first, noFile) = try noise.apply(to: image, seed: "a.png")
        #expect(noFile == nil)
        #expect(first == (try noise.apply(to: image, seed: "a.png").image))
        #expect(first != (try noise.apply(to: image, seed: "b.png").image))
        // The added noise has the σ asked for (clipping aside: the gradient stays inside 0...255 by more than 3σ
        // on most samples).
        guard case .uint8(let clean) = image.samples, case .uint8(let noisy) = first.samples else {
            Issue.record("8-bit samples expected")
            return
        }
        let differences = zip(clean, noisy).filter { $0.0 > 40 && $0.0 < 215 }.map { Double($0.1) - Double($0.0) }
        let mean = differences.reduce(0, +) / Double(differences.count)
        let sigma = (differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(differences.count)).squareRoot()
        #expect(abs(mean) < 0.5 && abs(sigma - 10) < 0.6, "mean \(mean), σ \(sigma)")
    }

    /// `auto` and its clean model (the ×4 SPAN, shrunk to ×3) on Set5 ×3 with the LR clean and as a quality-40 JPEG.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func autoGainsOnAJPEGAndMatchesTheCleanModelOnACleanInput() throws {
        let span: SuperResolutionModel
        let auto: UpscalePlanner
        do {
            span = try ModelLoader.load(nameOrPath: "span-ch52-x4")
            _ = try ModelLoader.load(nameOrPath: "srmd-x3")
            auto = try UpscalePlanner.auto(scale: 3)
        } catch {
            try Test.cancel("span-ch52-x4 and srmd-x3 are not installed (superres models pull span-ch52-x4 srmd-x3): \(error)")
        }
        let methods = [
            EvaluationMethod(name: "span-ch52-x4", upscaler: Upscaler(model: span)),
            EvaluationMethod(name: "auto", planner: auto),
        ]
        let set5 = SharedData.path("datasets/Set5")
        let clean = try Evaluator(scale: 3, models: methods).evaluate(datasetAt: set5)
        #expect(clean.map(\.dataset) == ["Set5", "Set5", "Set5"])
        #expect(abs(clean[2].psnr - clean[1].psnr) < 0.05, "clean: auto \(clean[2].psnr), span \(clean[1].psnr)")
        #expect(clean[2].images.allSatisfy { $0.choice?.hasPrefix("span-ch52-x4 (clean), resized to ") == true })
        // The ×4 network shrunk to ×3 is the x3 default because it beats SRMD-NF ×3 (33.82 dB): docs/QUALITY.md.
        #expect(clean[1].psnr >= 34.0, "Set5 ×3 span-ch52-x4 shrunk: \(clean[1].psnr)")
        let degraded = try Evaluator(
            scale: 3, models: methods, degradation: LowResolutionDegradation(parsing: "jpeg:40")
        ).evaluate(datasetAt: set5)
        #expect(degraded[0].dataset == "Set5 jpeg:40" && degraded[0].degradation == "jpeg:40")
        #expect(degraded[2].psnr > degraded[1].psnr + 0.4, "q40: auto \(degraded[2].psnr), span \(degraded[1].psnr)")
        #expect(degraded[2].images.allSatisfy { $0.estimate?.jpegQuality == 40 })
        #expect(degraded[2].images.allSatisfy { $0.choice?.hasPrefix("srmd-x3, noise level ") == true })
    }
}
