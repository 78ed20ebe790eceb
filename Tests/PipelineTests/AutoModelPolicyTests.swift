import Foundation
import Imaging
import Models
import TestSupport
import Testing

@testable import Pipeline

/// `--model auto`: the rule from the estimate to the model, and the planner that applies it.
@Suite struct AutoModelPolicyTests {
    @Test func cleanPicturesGoToTheCleanModel() {
        let clean = DegradationEstimate(jpegQuality: nil, blockiness: 1.0, noiseSigma: 0.3)
        #expect(AutoModelPolicy.choose(clean) == .clean)
        #expect(clean.effectiveQuality == 100)
        #expect(AutoModelPolicy.srmdLevel(for: clean) == 0)
    }

    @Test func compressedAndNoisyPicturesGoToSRMD() throws {
        // The issue's measurements: SRMD wins by 0.6 dB and more at JPEG quality 40 and 70, and with noise σ 5.
        for estimate in [
            DegradationEstimate(jpegQuality: 40, blockiness: 1.4, noiseSigma: 0.1),
            DegradationEstimate(jpegQuality: 70, blockiness: 1.2, noiseSigma: 0.2),
            DegradationEstimate(jpegQuality: 95, blockiness: 1.02, noiseSigma: 4.5),
            DegradationEstimate(jpegQuality: nil, blockiness: 1.0, noiseSigma: 10),
        ] {
            guard case .denoise(let level) = AutoModelPolicy.choose(estimate) else {
                Issue.record("\(estimate.summary) went to the clean model")
                continue
            }
            #expect(AutoModelTable.levelRange.contains(level))
            #expect(level >= 3, "\(estimate.summary): level \(level)")
        }
    }

    @Test func theLevelFallsWithQualityAndRisesWithNoise() {
        var previous = Double.infinity
        for quality in stride(from: 10, through: 100, by: 5) {
            let level = AutoModelPolicy.level(for: DegradationEstimate(jpegQuality: quality, noiseSigma: 0))
            #expect(level <= previous + 1e-9, "quality \(quality): \(level) above \(previous)")
            previous = level
        }
        previous = -1
        for sigma in stride(from: 0.0, through: 30, by: 1) {
            let level = AutoModelPolicy.level(for: DegradationEstimate(jpegQuality: 90, noiseSigma: sigma))
            #expect(level >= previous - 1e-9, "σ \(sigma): \(level) below \(previous)")
            previous = level
        }
    }

    @Test func blockinessStandsInForTheQualityOfFilesThatAreNotJPEGs() {
        var previous = 101.0
        for blockiness in stride(from: 0.9, through: 2.2, by: 0.05) {
            let quality = DegradationEstimate(blockiness: blockiness).effectiveQuality
            #expect((1...100).contains(quality))
            #expect(quality <= previous, "blockiness \(blockiness): quality \(quality) above \(previous)")
            previous = quality
        }
        #expect(DegradationEstimate(blockiness: AutoModelTable.cleanBlockiness).effectiveQuality == 100)
        #expect(DegradationEstimate(blockiness: 2.0).effectiveQuality < 60)
        // A JPEG file's own quality wins over its blockiness.
        #expect(DegradationEstimate(jpegQuality: 85, blockiness: 2.0).effectiveQuality == 85)
    }

    @Test func theSummaryNamesWhatWasFound() {
        let estimate = DegradationEstimate(jpegQuality: 40, blockiness: 1.4567, noiseSigma: 3.14)
        #expect(estimate.summary == "JPEG quality 40, blockiness 1.46, noise σ ≈ 3.1")
        #expect(DegradationEstimate().summary == "no estimate (picture too small)")
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func anExplicitModelOrNoiseLevelIsNeverOverridden() throws {
        let srmd = try NCNNModelFiles.load("srmd-x3", param: "srmd_x3.param")
        let picture = try Self.compressed(quality: 30)
        // A fixed level stays fixed, however degraded the picture.
        let fixed = UpscalePlanner.forModel(Upscaler(model: srmd, options: UpscaleOptions(noiseLevel: 2)), name: "srmd-x3")
        let plan = try fixed.plan(for: picture.image, encoded: picture.bytes)
        #expect(plan.upscaler.options.noiseLevel == 2 && plan.choice == nil && plan.estimate == nil)
        #expect(!fixed.needsEstimate)
        // SRMD without a level follows the picture (`--noise auto`), and stays SRMD.
        let following = UpscalePlanner.forModel(Upscaler(model: srmd), name: "srmd-x3")
        let chosen = try following.plan(for: picture.image, encoded: picture.bytes)
        #expect(chosen.modelName == "srmd-x3" && chosen.estimate?.jpegQuality == 30)
        #expect((chosen.upscaler.options.noiseLevel ?? 0) >= 3, "\(chosen.summary)")
        // Any other model is run as it is.
        let nf = try NCNNModelFiles.load("srmdnf-x3", param: "srmdnf_x3.param")
        let clean = UpscalePlanner.forModel(Upscaler(model: nf), name: "srmdnf-x3")
        let cleanPlan = try clean.plan(for: picture.image, encoded: picture.bytes)
        #expect(cleanPlan.modelName == "srmdnf-x3" && cleanPlan.upscaler.options.noiseLevel == nil)
        #expect(cleanPlan.choice == nil)
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func autoTakesSRMDForAJPEGAndTheCleanModelForAPNG() throws {
        let models = [
            "srmd-x3": try NCNNModelFiles.load("srmd-x3", param: "srmd_x3.param"),
            "span-ch52-x4": try NCNNModelFiles.load("span-ch52-x4", param: "spanx4_ch52.param"),
            "span-ch52-x2": try NCNNModelFiles.load("span-ch52-x2", param: "spanx2_ch52.param"),
        ]
        let provider = ModelProvider(load: { name throws(ModelError) in
            guard let model = models[name] else { throw ModelError(.unreadable, source: name, "not in this test") }
            return model
        })
        let planner = try UpscalePlanner.auto(scale: 3, provider: provider)
        let jpeg = try Self.compressed(quality: 40)
        let plan = try planner.plan(for: jpeg.image, encoded: jpeg.bytes)
        guard case .denoise(let level) = plan.choice else {
            Issue.record("a quality-40 JPEG went to \(plan.summary)")
            return
        }
        #expect(plan.modelName == "srmd-x3" && plan.upscaler.options.noiseLevel == level)
        #expect(plan.summary.hasPrefix("JPEG quality 40, blockiness "), "\(plan.summary)")
        #expect(plan.summary.hasSuffix("→ srmd-x3, noise level \(level)"), "\(plan.summary)")
        let png = try ImageFile.read(SharedData.path("datasets/Set5/bird.png"))
        // The clean ×3 model is the ×4 SPAN, its result shrunk to three times the input.
        let cleanPlan = try planner.plan(for: png, encoded: try ImageCodec.encode(png, as: .png))
        #expect(cleanPlan.choice == .clean && cleanPlan.modelName == "span-ch52-x4", "\(cleanPlan.summary)")
        #expect(cleanPlan.outputSize == PixelSize(width: png.width * 3, height: png.height * 3))
        #expect(cleanPlan.summary.hasSuffix("span-ch52-x4 (clean), resized to \(cleanPlan.outputSize) (bicubic)"))
        // ×8: the ×2 network, then the ×4; the denoiser first for the JPEG.
        let eight = planner.with(request: .factor(8))
        #expect(try eight.plan(for: png, encoded: nil).steps.map(\.name) == ["span-ch52-x2", "span-ch52-x4"])
    }

    /// Set5's bird saved as a JPEG of `quality`: the bytes and the decoded picture.
    static func compressed(quality: Int) throws -> (image: PixelImage, bytes: [UInt8]) {
        let bird = try ImageFile.read(SharedData.path("datasets/Set5/bird.png"))
        let bytes = try ImageCodec.encode(bird, as: .jpeg, quality: quality)
        return (try ImageCodec.decode(bytes, source: "bird.jpg"), bytes)
    }
}
