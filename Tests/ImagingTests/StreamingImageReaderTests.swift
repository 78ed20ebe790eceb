import Foundation
import TestSupport
import Testing

@testable import Imaging

/// Files decoded a band of rows at a time (`StreamedInput`): the same pixels as the whole decode for every format and
/// layout that streams, the files that cannot stream said so (nil), and broken files as typed errors part way.
@Suite struct StreamingImageReaderTests {
    /// A picture with different values in every sample (the TIFF tests' picture, larger).
    static func picture(_ layout: PixelLayout, bitDepth: Int, width: Int = 61, height: Int = 53) -> PixelImage {
        CodecTIFFTests.picture(layout, bitDepth: bitDepth, width: width, height: height)
    }

    /// `bytes` written to a file of `folder` and examined.
    static func examine(
        _ bytes: [UInt8], in folder: TemporaryFolder, name: String = "in", limits: DecodeLimits = DecodeLimits(),
        colour: ColourPolicy = ColourPolicy()
    ) throws -> StreamedInput? {
        let path = folder.appending(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try StreamedInput.examine(
            path: path, bytes: bytes, metadata: ImageMetadata(reading: bytes), source: name, limits: limits,
            colour: colour)
    }

    /// The picture read through `input` in bands of uneven heights, put back together.
    static func readInBands(_ input: StreamedInput) throws -> PixelImage {
        let reader = try input.open()
        let heights = [1, 7, 3, 16, 2, 40]
        var samples8: [UInt8] = []
        var samples16: [UInt16] = []
        var step = 0
        while let band = try reader.readRows(heights[step % heights.count]) {
            #expect(band.width == input.shape.width && band.layout == input.shape.layout)
            switch band.samples {
            case .uint8(let values): samples8 += values
            case .uint16(let values): samples16 += values
            }
            step += 1
        }
        #expect(reader.nextRow == input.shape.height)
        let shape = input.shape
        return shape.bitDepth == 8
            ? PixelImage(width: shape.width, height: shape.height, layout: shape.layout, uint8: samples8)
            : PixelImage(width: shape.width, height: shape.height, layout: shape.layout, uint16: samples16)
    }

    @Test(arguments: [ImageFormat.png, .tiff], PixelLayout.allCases)
    func losslessFilesReadInBandsAreTheWholeDecode(format: ImageFormat, layout: PixelLayout) throws {
        let folder = TemporaryFolder()
        for bitDepth in [8, 16] {
            for compression in format == .tiff ? [TIFFCompression.none, .lzw] : [.deflate] {
                let bytes = try ImageCodec.encode(
                    Self.picture(layout, bitDepth: bitDepth), as: format, tiffCompression: compression)
                let input = try #require(try Self.examine(bytes, in: folder), "\(format) \(layout) \(bitDepth)")
                let whole = try ImageCodec.decode(bytes, source: "whole")
                #expect(input.shape == whole.shape)
                #expect(try Self.readInBands(input) == whole, "\(format) \(layout) \(bitDepth) \(compression)")
            }
        }
    }

    @Test func jpegsReadInScanlinesAreTheWholeDecode() throws {
        let folder = TemporaryFolder()
        for layout in [PixelLayout.grey, .rgb] {
            let bytes = try ImageCodec.encode(Self.picture(layout, bitDepth: 8, width: 77, height: 45), as: .jpeg)
            let input = try #require(try Self.examine(bytes, in: folder))
            #expect(try Self.readInBands(input) == ImageCodec.decode(bytes, source: "whole"), "\(layout)")
        }
        // Progressive and Adobe CMYK files from the fixtures.
        for name in ["progressive.jpg", "cmyk-adobe.jpg"] {
            let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
            let bytes = [UInt8](try Data(contentsOf: url))
            let input = try #require(try Self.examine(bytes, in: folder, name: name))
            #expect(try Self.readInBands(input) == ImageCodec.decode(bytes, source: name), "\(name)")
        }
    }

    @Test func tiledTIFFsAndSingleStripsAreReadByRows() throws {
        let folder = TemporaryFolder()
        for tile in [16, nil] {
            let bytes = TIFFBuilder(pages: [.init(width: 40, height: 37, value: 99, tile: tile)]).build()
            let input = try #require(try Self.examine(bytes, in: folder))
            #expect(try Self.readInBands(input) == ImageCodec.decode(bytes, source: "tiled"))
        }
    }

    @Test func filesThatCannotBeReadByRowsAreSaidSo() throws {
        let folder = TemporaryFolder()
        let image = Self.picture(.rgb, bitDepth: 8, width: 20, height: 12)
        #expect(try Self.examine(ImageCodec.encode(image, as: .webp), in: folder) == nil)
        var interlaced = TestPNG(width: 9, height: 9, colourType: .grey, bitDepth: 8, samples: Array(0..<81))
        interlaced.interlaced = true
        #expect(try Self.examine(interlaced.encoded(), in: folder) == nil)
        // A picture its EXIF orientation turns is decoded whole (and turned).
        var metadata = ImageMetadata()
        metadata.exif = ExifBuilder(orientation: 6).build()
        #expect(try Self.examine(ImageCodec.encode(image, as: .jpeg, metadata: metadata), in: folder) == nil)
        metadata.exif = ExifBuilder(orientation: 1).build()
        #expect(try Self.examine(ImageCodec.encode(image, as: .jpeg, metadata: metadata), in: folder) != nil)
    }

    @Test(arguments: [ImageFormat.png, .jpeg, .tiff])
    func aFileCutShortFailsPartWayWithATypedError(format: ImageFormat) throws {
        let folder = TemporaryFolder()
        // libtiff writes its directory after the pixels: the hand-made TIFF has it first, so only pixels are cut.
        let bytes =
            format == .tiff
            ? TIFFBuilder(pages: [.init(width: 64, height: 64, value: 7, tile: 16)]).build()
            : try ImageCodec.encode(Self.picture(.rgb, bitDepth: 8, width: 64, height: 64), as: format)
        let cut = Array(bytes[0..<(bytes.count * 2 / 3)])
        let input = try #require(try Self.examine(cut, in: folder), "\(format)")
        let reader = try input.open()
        var error: ImagingError?
        do {
            while try reader.readRows(8) != nil {}
        } catch let failure {
            error = failure
        }
        let failure = try #require(error, "\(format): the cut file was read to the end")
        #expect([.truncated, .corrupt].contains(failure.code), "\(format): \(failure)")
        #expect(failure.source == "in")
    }

    @Test func theDecodeLimitsApplyBeforeAnyRow() throws {
        let folder = TemporaryFolder()
        let bytes = try ImageCodec.encode(Self.picture(.rgb, bitDepth: 8, width: 40, height: 30), as: .png)
        #expect(throws: ImagingError.self) {
            try Self.examine(bytes, in: folder, limits: DecodeLimits(maxPixels: 1000))
        }
        // A file that changed since it was examined is an error, not a different picture.
        let input = try #require(try Self.examine(bytes, in: folder))
        let other = try ImageCodec.encode(Self.picture(.rgb, bitDepth: 8, width: 41, height: 30), as: .png)
        try Data(other).write(to: URL(fileURLWithPath: folder.appending("in")))
        #expect(throws: ImagingError.self) { try input.open() }
    }

    @Test func bandsAreConvertedToSRGBAsTheWholeDecodeIs() throws {
        let path = ExifTool.adobeRGBProfile
        try #require(FileManager.default.fileExists(atPath: path), "\(ExifTool.profileMissingMessage)")
        let profile = try #require(ICCProfile([UInt8](Data(contentsOf: URL(fileURLWithPath: path)))))
        var metadata = ImageMetadata()
        metadata.iccProfile = profile
        let folder = TemporaryFolder()
        let srgb = ColourPolicy(mode: .srgb)
        for format in [ImageFormat.png, .jpeg, .tiff] {
            for bitDepth in format == .jpeg ? [8] : [8, 16] {
                let bytes = try ImageCodec.encode(
                    Self.picture(.rgb, bitDepth: bitDepth), as: format, quality: 100, metadata: metadata)
                let input = try #require(try Self.examine(bytes, in: folder, colour: srgb))
                let whole = try ImageCodec.decode(bytes, source: "whole", colour: srgb)
                #expect(try whole != ImageCodec.decode(bytes, source: "kept"), "the profile changes the pixels")
                #expect(try Self.readInBands(input) == whole, "\(format) \(bitDepth)-bit")
            }
        }
    }

    @Test func rowsOfTheMiddleAreTheWholeDecodesRows() throws {
        let folder = TemporaryFolder()
        let image = Self.picture(.rgba, bitDepth: 16, width: 33, height: 50)
        let input = try #require(try Self.examine(ImageCodec.encode(image, as: .png), in: folder))
        let rows = try input.rows(17..<31)
        guard case .uint16(let all) = image.samples else { preconditionFailure("16-bit") }
        #expect(rows == PixelImage(width: 33, height: 14, layout: .rgba, uint16: Array(all[(17 * 33 * 4)..<(31 * 33 * 4)])))
    }
}
