import Foundation
import Imaging
import Models
import Pipeline
import TestSupport
import Testing

/// Self-ensemble (`--tta`): the eight flips and rotations, each turned back and averaged.
@Suite struct SelfEnsembleTests {
    /// A 3 × 2 picture of 2 channels, every sample different.
    static let values: [Int] = Array(0..<12)

    @Test(arguments: ExifOrientation.allCases)
    func eachTransformIsUndoneByItsInverse(_ transform: ExifOrientation) {
        let turned = transform.reordered(Self.values, width: 3, height: 2, channels: 2)
        #expect(turned.count == Self.values.count)
        let (w, h) = transform.swapsAxes ? (2, 3) : (3, 2)
        #expect(transform.inverse.reordered(turned, width: w, height: h, channels: 2) == Self.values)
    }

    @Test func theEightTransformsAreDistinct() {
        let results = ExifOrientation.allCases.map { $0.reordered(Self.values, width: 3, height: 2, channels: 2) }
        #expect(Set(results).count == 8)
        // Pixel (0, 0) of the picture turned 90° clockwise is the bottom-left pixel of the original.
        let turned = ExifOrientation.right.reordered(Self.values, width: 3, height: 2, channels: 2)
        #expect(Array(turned.prefix(2)) == [6, 7])
    }

    static func pixels(_ image: PixelImage) -> [Int] {
        guard case .uint8(let samples) = image.samples else { return [] }
        return samples.map(Int.init)
    }

    /// The ensemble of a flipped picture is the flipped ensemble (the eight runs are the same, in another order),
    /// and it differs from the single run by a few grey levels at most.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func ensembleCommutesWithFlipsAndStaysNearTheSingleRun() throws {
        let model = try ModelLoader.load(path: SharedData.path("models/opencv/FSRCNN_x3.pb"))
        let input = try ImageFile.read(SharedData.path("reference/inputs/bird_crop_37x29.png"))
        let channels = input.layout.channelCount
        let single = try Upscaler(model: model).upscale(input)
        let ensemble = Upscaler(model: model, options: UpscaleOptions(selfEnsemble: true))
        var progress: [(Int, Int)] = []
        let averaged = try ensemble.upscale(input, progress: { progress.append(($0, $1)) })
        #expect(averaged.width == single.width && averaged.height == single.height)
        #expect(progress.last.map { $0.0 == $0.1 && $0.1 % 8 == 0 } == true, "progress counts all eight runs")

        let a = Self.pixels(averaged)
        let s = Self.pixels(single)
        #expect(a != s, "the ensemble is not the single run")
        #expect(zip(a, s).map { abs($0 - $1) }.max() ?? 0 <= 16)

        guard case .uint8(let samples) = input.samples else {
            Issue.record("8-bit samples expected")
            return
        }
        let flipped = ExifOrientation.upMirrored.reordered(
            samples, width: input.width, height: input.height, channels: channels)
        let flippedInput = PixelImage(width: input.width, height: input.height, layout: input.layout, uint8: flipped)
        let fromFlipped = Self.pixels(try ensemble.upscale(flippedInput))
        let flippedBack = ExifOrientation.upMirrored.reordered(
            fromFlipped, width: averaged.width, height: averaged.height, channels: channels)
        let differences = zip(flippedBack, a).map { abs($0 - $1) }
        #expect((differences.max() ?? 0) <= 1, "float sums in another order round at most one level apart")
        #expect(Double(differences.filter { $0 == 0 }.count) / Double(a.count) >= 0.99)
    }
}
