import Foundation
import TestSupport
import Testing

@testable import Imaging

/// `--colour srgb` and CMYK JPEGs: the pixels lcms2 gives, checked against lcms2's own transicc on real profiles.
@Suite struct ColourProfileTests {
    /// 8-bit RGB samples over the whole range, `count` pixels.
    static func spread(_ count: Int) -> [UInt8] {
        (0..<(count * 3)).map { UInt8(truncatingIfNeeded: ($0 * 37 + $0 / 3 * 11) % 256) }
    }

    @Test func anAdobeRGBPictureConvertedToSRGBHasTransiccsPixels() throws {
        try #require(LittleCMS.transicc != nil, "\(LittleCMS.missingMessage)")
        let path = ExifTool.adobeRGBProfile
        try #require(FileManager.default.fileExists(atPath: path), "\(ExifTool.profileMissingMessage)")
        let profile = try #require(ICCProfile([UInt8](Data(contentsOf: URL(fileURLWithPath: path)))))
        let picture = PixelImage(width: 16, height: 8, layout: .rgb, uint8: Self.spread(128))
        var metadata = ImageMetadata()
        metadata.iccProfile = profile
        for format in ImageFormat.allCases where format != .jpeg {  // lossless: the stored values are known
            let bytes = try ImageCodec.encode(picture, as: format, quality: 100, metadata: metadata)
            #expect(try ImageCodec.decode(bytes, source: "kept") == picture)
            let converted = try ImageCodec.decode(bytes, source: "converted", colour: ColourPolicy(mode: .srgb))
            guard case .uint8(let samples) = converted.samples, case .uint8(let stored) = picture.samples else {
                Issue.record("8-bit samples expected")
                return
            }
            let colours = stride(from: 0, to: stored.count, by: 3).map { index in
                (0..<3).map { Double(stored[index + $0]) }
            }
            let reference = try LittleCMS.toSRGB(colours, from: path)
            var worst = 0.0
            for (pixel, expected) in reference.enumerated() {
                for channel in 0..<3 {
                    let want = min(max(expected[channel], 0), 255)
                    worst = max(worst, abs(Double(samples[pixel * 3 + channel]) - want))
                }
            }
            #expect(worst <= 1, "\(format): largest difference from transicc \(worst) grey levels")
            #expect(converted != picture)
        }
    }

    @Test func aCMYKJPEGGoesThroughItsProfileAsTransiccDoes() throws {
        try #require(LittleCMS.transicc != nil, "\(LittleCMS.missingMessage)")
        let path = LittleCMS.cmykProfile
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: apt-get install libgs-common")
        let profile = try #require(ICCProfile([UInt8](Data(contentsOf: URL(fileURLWithPath: path)))))
        #expect(profile.colourSpace == "CMYK")
        // Flat 8×8 blocks of one ink mix each, so that JPEG's loss does not blur the colours being compared.
        let mixes: [[UInt8]] = [
            [0, 0, 0, 0], [255, 0, 0, 0], [0, 255, 0, 0], [0, 0, 255, 0], [0, 0, 0, 255], [128, 64, 32, 16],
            [20, 200, 90, 40], [255, 255, 255, 255],
        ]
        let width = 8 * mixes.count
        var ink = [UInt8](repeating: 0, count: width * 8 * 4)
        for y in 0..<8 {
            for x in 0..<width { for c in 0..<4 { ink[(y * width + x) * 4 + c] = mixes[x / 8][c] } }
        }
        var metadata = ImageMetadata()
        metadata.iccProfile = profile
        let withProfile = try ImageCodec.encodeCMYKJPEG(ink: ink, width: width, height: 8, metadata: metadata)
        #expect(JPEGSegments.headerSegments(withProfile).filter { $0.marker == 0xE2 }.count == 3)
        let read = ImageMetadata(reading: withProfile)
        #expect(read.isCMYK && read.iccProfile == profile)
        let converted = try ImageCodec.decode(withProfile, source: "cmyk")
        #expect(converted.layout == .rgb)
        let reference = try LittleCMS.toSRGB(mixes.map { $0.map { Double($0) / 255 * 100 } }, from: path)
        guard case .uint8(let samples) = converted.samples else {
            Issue.record("8-bit samples expected")
            return
        }
        for (index, expected) in reference.enumerated() {
            let at = ((4 * width) + index * 8 + 4) * 3  // the middle of the block
            let got = (0..<3).map { Int(samples[at + $0]) }
            let want = expected.map { Int(min(max($0, 0), 255).rounded()) }
            #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 2 }, "ink \(mixes[index]): \(got), transicc \(want)")
        }
        // Without its profile, the stated one gives the same pixels, and without either the plain formula is used.
        let bare = try ImageCodec.encodeCMYKJPEG(ink: ink, width: width, height: 8)
        #expect(try ImageCodec.decode(bare, source: "stated", colour: ColourPolicy(cmykProfile: profile)) == converted)
        #expect(try ImageCodec.decode(bare, source: "plain") != converted)
        let output = read.enlarged(from: width, 8, to: width * 2, 16, layout: .rgb, policy: MetadataPolicy())
        #expect(output.profileIsSRGB && output.iccProfile == ICCProfile.sRGB)
        #expect(output.notes.contains { $0.contains("CMYK converted to sRGB through its profile") }, "\(output.notes)")
        #expect(try ImageCodec.encode(converted, as: .png, metadata: output).count > 0)
    }

    @Test func srgbResultsAreTaggedSRGB() throws {
        var metadata = ImageMetadata()
        metadata.iccProfile = ICCProfile(makeProfile("Some RGB"))
        let output = metadata.enlarged(
            from: 2,
            2,
            to: 4,
            4,
            layout: .rgb,
            policy: MetadataPolicy(colour: ColourPolicy(mode: .srgb))
        )
        let picture = PixelImage(width: 4, height: 4, layout: .rgb, uint8: Self.spread(16))
        let png = ImageMetadata(reading: try ImageCodec.encode(picture, as: .png, metadata: output))
        #expect(png.iccProfile == nil && png.pngColourChunks == [PNGChunk(type: "sRGB", payload: [0])])
        let jpeg = ImageMetadata(reading: try ImageCodec.encode(picture, as: .jpeg, metadata: output))
        #expect(jpeg.iccProfile == ICCProfile.sRGB && ICCProfile.sRGB?.colourSpace == "RGB")
        #expect(ICCProfile.greySRGB?.colourSpace == "GRAY")
        // A profile lcms2 cannot read is a clear error when a conversion is asked for.
        var broken = ImageMetadata()
        broken.iccProfile = ICCProfile(makeProfile("Broken RGB"))
        let bytes = try ImageCodec.encode(picture, as: .png, metadata: broken)
        #expect(throws: ImagingError.self) {
            try ImageCodec.decode(bytes, source: "broken", colour: ColourPolicy(mode: .srgb))
        }
        #expect(try ImageCodec.decode(bytes, source: "kept") == picture)
    }
}
