import Foundation
import TestSupport
import Testing

@testable import Imaging

/// The JPEG quality read back from the quantisation tables.
@Suite struct JPEGQualityTests {
    /// libjpeg-turbo (our encoder, as OpenCV's and PIL's) at every quality from 20 to 95 on T91 images, colour and
    /// grey: the estimate is the quality given, and the tables are recognised as libjpeg's.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func libjpegQualitiesComeBackExactlyOnT91() throws {
        let folder = SharedData.path("datasets/T91")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }.sorted()
        #expect(names.count >= 90)
        for name in names.enumerated().filter({ $0.offset % 9 == 0 }).map(\.element) {
            let image = try ImageFile.read((folder as NSString).appendingPathComponent(name))
            let colour = ImageCodec.eightBitSamples(of: image)
            let channels = image.layout.channelCount
            // The green channel as a grey picture.
            let grey = PixelImage(
                width: image.width, height: image.height, layout: .grey,
                uint8: stride(from: min(1, channels - 1), to: colour.count, by: channels).map { colour[$0] })
            for quality in stride(from: 20, through: 95, by: 5) {
                for (picture, chroma) in [(image, JPEGChroma.subsampled), (image, .full), (grey, .subsampled)] {
                    let bytes = try ImageCodec.encode(picture, as: .jpeg, quality: quality, jpegChroma: chroma)
                    let estimate = try #require(JPEGQuality(jpeg: bytes), "\(name) q\(quality)")
                    #expect(estimate.quality == quality, "\(name) q\(quality) \(chroma) \(picture.layout)")
                    #expect(estimate.isExact && estimate.meanDifference == 0)
                }
            }
        }
    }

    @Test func tablesOfAnotherEncoderGiveTheNearestQuality() throws {
        // A DQT of libjpeg's q60 luma table with every value 10% larger: not exact, nearest quality a little lower.
        let table = JPEGQuality.scaled(JPEGQuality.standardLuma, quality: 60).map { min(255, $0 * 11 / 10) }
        var zigzag = [UInt8](repeating: 0, count: 64)
        for k in 0..<64 { zigzag[k] = UInt8(table[JPEGQuality.zigzagToNatural[k]]) }
        let dqt: [UInt8] = [0xFF, 0xDB, 0x00, 67, 0x00] + zigzag
        let bytes: [UInt8] = [0xFF, 0xD8] + dqt + [0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]
        let estimate = try #require(JPEGQuality(jpeg: bytes))
        #expect(!estimate.isExact)
        #expect((50...59).contains(estimate.quality), "\(estimate)")
        #expect(estimate.meanDifference > 0)
    }

    @Test func libjpegsScalingMatchesItsFormula() {
        // jpeg_quality_scaling: 50 is the standard table, 100 all ones, 1 the largest values clamped to 255.
        #expect(JPEGQuality.scaled(JPEGQuality.standardLuma, quality: 50) == JPEGQuality.standardLuma)
        #expect(JPEGQuality.scaled(JPEGQuality.standardLuma, quality: 100).allSatisfy { $0 == 1 })
        #expect(JPEGQuality.scaled(JPEGQuality.standardLuma, quality: 1).allSatisfy { $0 == 255 })
        #expect(JPEGQuality.scaled([16], quality: 75) == [8])
        #expect(JPEGQuality.scaled([16], quality: 25) == [32])
    }

    @Test func whatIsNotAJPEGWithTablesGivesNoEstimate() {
        #expect(JPEGQuality(jpeg: []) == nil)
        #expect(JPEGQuality(jpeg: Array("\u{89}PNG\r\n\u{1a}\n".utf8)) == nil)
        // A DQT segment cut inside its table, and one that declares a precision that does not exist.
        #expect(JPEGQuality(jpeg: [0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x20, 0x00] + [UInt8](repeating: 9, count: 29)) == nil)
        #expect(JPEGQuality(jpeg: [0xFF, 0xD8, 0xFF, 0xDB, 0x00, 67, 0x20] + [UInt8](repeating: 9, count: 64)) == nil)
    }
}
