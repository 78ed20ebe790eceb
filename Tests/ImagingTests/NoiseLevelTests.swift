import Foundation
import TestSupport
import Testing

@testable import Imaging

/// The noise-level estimate (Liu, Tanaka & Okutomi 2013) against Gaussian noise of known standard deviation.
@Suite struct NoiseLevelTests {
    /// Gaussian samples (Box–Muller) from a seeded generator.
    static func gaussian(_ count: Int, sigma: Double, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
            let u2 = Double.random(in: 0..<1, using: &generator)
            return sigma * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        }
    }

    /// `luma` plus noise, rounded and clipped to 8 bits as a saved picture is.
    static func noisy(_ luma: FloatPlane, sigma: Double, seed: UInt64) -> FloatPlane {
        let noise = gaussian(luma.values.count, sigma: sigma, seed: seed)
        let values = zip(luma.values, noise).map { Float(min(255, max(0, (Double($0) + $1).rounded()))) }
        return FloatPlane(width: luma.width, height: luma.height, values: values)
    }

    @Test func aSmoothPictureGivesTheNoiseBack() {
        // A gentle gradient: nothing but the noise to find.
        let ramp: [Float] = (0..<(200 * 150)).map { index in
            let x = index % 200
            let y = index / 200
            return Float(60 + x / 4 + y / 5)
        }
        let luma = FloatPlane(width: 200, height: 150, values: ramp)
        for sigma in [2.0, 5.0, 10.0, 20.0] {
            let estimate = try? #require(NoiseLevel.estimate(Self.noisy(luma, sigma: sigma, seed: 7)))
            // The smallest eigenvalue of a sample covariance runs a few percent low.
            #expect(abs((estimate ?? -99) - sigma) < max(0.4, 0.05 * sigma), "σ \(sigma): \(estimate ?? -1)")
        }
        #expect((NoiseLevel.estimate(luma) ?? 99) < 0.5)
        #expect(NoiseLevel.estimate(FloatPlane(width: 8, height: 100, values: [Float](repeating: 0, count: 800))) == nil)
    }

    /// T91 (textured photographs) with noise of σ 2, 5, 10 and 20: over the images the median and the mean error
    /// stay within one grey level.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func texturedPicturesOfT91StayWithinOneGreyLevel() throws {
        let folder = SharedData.path("datasets/T91")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }.sorted()
        let chosen = names.enumerated().filter { $0.offset % 6 == 0 }.map(\.element)
        #expect(chosen.count >= 15)
        let lumas = try chosen.map { name -> FloatPlane in
            let image = try ImageFile.read((folder as NSString).appendingPathComponent(name))
            let samples = ImageCodec.eightBitSamples(of: image).map(Float.init)
            let values =
                image.layout.isGrey
                ? stride(from: 0, to: samples.count, by: image.layout.channelCount).map { samples[$0] }
                : ColourConversion.rgbToGrey(samples, channelCount: image.layout.channelCount)
            return FloatPlane(width: image.width, height: image.height, values: values)
        }
        for sigma in [2.0, 5.0, 10.0, 20.0] {
            var errors: [Double] = []
            for (index, luma) in lumas.enumerated() {
                let estimate = try #require(NoiseLevel.estimate(Self.noisy(luma, sigma: sigma, seed: UInt64(index))))
                errors.append(estimate - sigma)
            }
            errors.sort()
            let median = errors[errors.count / 2]
            let mean = errors.reduce(0, +) / Double(errors.count)
            #expect(abs(median) <= 1, "σ \(sigma): median error \(median), errors \(errors)")
            #expect(abs(mean) <= 1, "σ \(sigma): mean error \(mean)")
        }
    }
}
