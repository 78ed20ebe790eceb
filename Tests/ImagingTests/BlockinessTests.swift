import Foundation
import TestSupport
import Testing

@testable import Imaging

/// The 8×8 block-edge ratio against JPEGs of known quality.
@Suite struct BlockinessTests {
    /// Every 6th T91 picture's luma (BT.601), as the pipeline computes it.
    static func t91Lumas() throws -> [FloatPlane] {
        let folder = SharedData.path("datasets/T91")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }.sorted()
        return try stride(from: 0, to: names.count, by: 6).map { index in
            try luma(ImageFile.read((folder as NSString).appendingPathComponent(names[index])))
        }
    }

    static func luma(_ image: PixelImage) -> FloatPlane {
        let samples = ImageCodec.eightBitSamples(of: image).map(Float.init)
        let values =
            image.layout.isGrey ? samples : ColourConversion.rgbToGrey(samples, channelCount: image.layout.channelCount)
        return FloatPlane(width: image.width, height: image.height, values: values)
    }

    /// The grey plane saved as a JPEG of `quality` and decoded again.
    static func jpeg(_ plane: FloatPlane, quality: Int) throws -> FloatPlane {
        let image = PixelImage(
            width: plane.width, height: plane.height, layout: .grey, uint8: plane.values.map { UInt8($0.rounded()) })
        let bytes = try ImageCodec.encode(image, as: .jpeg, quality: quality)
        return luma(try ImageCodec.decode(bytes, source: "q\(quality)"))
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func compressionRaisesTheRatioAndCleanPicturesStayNearOne() throws {
        let lumas = try Self.t91Lumas()
        let clean = try lumas.map { try #require(Blockiness.ratio($0)) }
        #expect(abs(Self.median(clean) - 1) < 0.05, "clean T91 median \(Self.median(clean))")
        var previous = Self.median(clean)
        // (At quality 95 the blocks are below the pictures' own texture: the median stays at the clean one.)
        for quality in [70, 40, 20] {
            let ratios = try lumas.map { try #require(Blockiness.ratio(Self.jpeg($0, quality: quality))) }
            let median = Self.median(ratios)
            // Each lower quality shows the grid more plainly, in the median over the pictures.
            #expect(median > previous, "q\(quality): median \(median) not above \(previous)")
            previous = median
        }
        #expect(previous > 1.3, "q20 median \(previous)")
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func aCropOffTheGridHidesTheBlocks() throws {
        let plane = try #require(Self.t91Lumas().first)
        let compressed = try Self.jpeg(plane, quality: 30)
        let aligned = try #require(Blockiness.ratio(compressed))
        // Cropping 4 columns and rows puts the grid between the measured edges: inside 8-pixel blocks, not on them.
        let (w, h) = (compressed.width - 4, compressed.height - 4)
        var shifted = [Float]()
        for y in 4..<compressed.height { shifted += compressed.values[(y * compressed.width + 4)..<((y + 1) * compressed.width)] }
        let offGrid = try #require(Blockiness.ratio(FloatPlane(width: w, height: h, values: shifted)))
        #expect(aligned > 1.2 && offGrid < aligned - 0.15, "aligned \(aligned), off the grid \(offGrid)")
    }

    @Test func tooSmallOrFlatPlanesHaveNoRatio() {
        #expect(Blockiness.ratio(FloatPlane(width: 9, height: 9, repeating: 10)) == nil)
        #expect(Blockiness.ratio(FloatPlane(width: 64, height: 64, repeating: 10)) == nil)
        // A ramp has the same step everywhere: on the grid as inside the blocks.
        let ramp = FloatPlane(width: 64, height: 40, values: (0..<(64 * 40)).map { Float($0 % 64) * 2 })
        #expect(abs((Blockiness.ratio(ramp) ?? 0) - 1) < 1e-9)
    }
}
