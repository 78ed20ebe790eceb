import Foundation
import TestSupport
import Testing

@testable import Imaging

/// TIFF through libtiff: every layout, depth and compression superres writes comes back as it went, the first page
/// of several is read, and broken files are typed errors.
@Suite struct CodecTIFFTests {
    static func picture(_ layout: PixelLayout, bitDepth: Int, width: Int = 37, height: Int = 23) -> PixelImage {
        let count = width * height * layout.channelCount
        if bitDepth == 16 {
            return PixelImage(
                width: width,
                height: height,
                layout: layout,
                uint16: (0..<count).map { UInt16(truncatingIfNeeded: $0 &* 2749 &+ 17) }
            )
        }
        return PixelImage(
            width: width,
            height: height,
            layout: layout,
            uint8: (0..<count).map { UInt8(truncatingIfNeeded: $0 * 31) }
        )
    }

    @Test(arguments: PixelLayout.allCases, [8, 16])
    func losslessCompressionsGiveBackEverySample(layout: PixelLayout, bitDepth: Int) throws {
        let image = Self.picture(layout, bitDepth: bitDepth)
        for compression in [TIFFCompression.none, .lzw, .deflate] {
            let bytes = try ImageCodec.encode(image, as: .tiff, tiffCompression: compression)
            #expect(ImageFormat(sniffing: bytes) == .tiff)
            #expect(try ImageCodec.probe(bytes, source: "t") == ImageHeader(format: .tiff, width: 37, height: 23))
            #expect(
                try ImageCodec.decode(bytes, source: "\(compression)") == image,
                "\(layout) \(bitDepth) \(compression)"
            )
        }
    }

    @Test func jpegCompressionIsCloseAndDropsAlpha() throws {
        let image = Self.picture(.rgba, bitDepth: 16, width: 64, height: 48)
        let bytes = try ImageCodec.encode(image, as: .tiff, quality: 95, tiffCompression: .jpeg)
        let decoded = try ImageCodec.decode(bytes, source: "jpeg")
        #expect(decoded.layout == .rgb && decoded.bitDepth == 8)
        let grey = try ImageCodec.decode(
            try ImageCodec.encode(Self.picture(.grey, bitDepth: 8), as: .tiff, tiffCompression: .jpeg),
            source: "grey"
        )
        #expect(grey.layout == .grey)
    }

    @Test func theFirstOfSeveralPagesIsRead() throws {
        let bytes = TIFFBuilder(pages: [
            .init(width: 5, height: 3, value: 10), .init(width: 7, height: 2, value: 20),
            .init(width: 2, height: 2, value: 30),
        ]).build()
        let image = try ImageCodec.decode(bytes, source: "pages")
        #expect(image == PixelImage(width: 5, height: 3, layout: .grey, uint8: [UInt8](repeating: 10, count: 15)))
        #expect(ImageMetadata(reading: bytes).pageCount == 3)
        #expect(ImageMetadata(reading: bytes).pagesLine?.contains("3") == true)
    }

    @Test func tiledFilesAreRead() throws {
        let bytes = TIFFBuilder(pages: [.init(width: 40, height: 20, value: 99, tile: 16)]).build()
        let image = try ImageCodec.decode(bytes, source: "tiled")
        #expect(image == PixelImage(width: 40, height: 20, layout: .grey, uint8: [UInt8](repeating: 99, count: 800)))
    }

    /// Bad input of every kind the issue names is a typed error, never a crash.
    @Test func brokenFilesAreTypedErrors() throws {
        let good = TIFFBuilder(pages: [.init(width: 40, height: 20, value: 99, tile: 16)]).build()
        // Cut anywhere.
        for length in stride(from: 0, to: good.count, by: 7) {
            #expect(throws: ImagingError.self) { try ImageCodec.decode(Array(good.prefix(length)), source: "cut") }
        }
        // The first directory's offset past the end of the file.
        var bogus = good
        bogus.replaceSubrange(4..<8, with: [0xF0, 0xFF, 0xFF, 0x0F])
        #expect(throws: ImagingError.self) { try ImageCodec.decode(bogus, source: "bogus") }
        // A header that claims 100000 × 100000: refused before any pixel buffer exists.
        let huge = TIFFBuilder(pages: [.init(width: 100_000, height: 100_000, value: 1)]).build(pixels: false)
        do {
            _ = try ImageCodec.decode(huge, source: "huge")
            Issue.record("a 100000×100000 header was decoded")
        } catch {
            #expect(error.code == .tooLarge, "\(error)")
        }
        // A tile size of 0.
        var zeroTile = good
        let tileWidthEntry = try #require(Self.entryOffset(of: 322, in: zeroTile))
        zeroTile.replaceSubrange(tileWidthEntry + 8..<tileWidthEntry + 10, with: [0, 0])
        #expect(throws: ImagingError.self) { try ImageCodec.decode(zeroTile, source: "zero tile") }
        #expect(throws: ImagingError.self) { try ImageCodec.probe(zeroTile, source: "zero tile") }
    }

    /// Where the entry of `tag` is in a little-endian file's first directory.
    static func entryOffset(of tag: Int, in file: [UInt8]) -> Int? {
        let first = Int(file[4]) | Int(file[5]) << 8
        let count = Int(file[first]) | Int(file[first + 1]) << 8
        return (0..<count).map { first + 2 + $0 * 12 }.first { Int(file[$0]) | Int(file[$0 + 1]) << 8 == tag }
    }

    @Test func aBandedTIFFIsTheWholeOne() throws {
        let folder = TemporaryFolder()
        let image = Self.picture(.rgb, bitDepth: 16, width: 50, height: 41)
        var metadata = ImageMetadata()
        metadata.exif = ExifBuilder(orientation: 1).build()
        metadata.density = PixelDensity(x: 300, y: 300)
        let path = folder.appending("banded.tif")
        let writer = try StreamingImageWriter(
            path: path,
            format: .tiff,
            width: 50,
            height: 41,
            layout: .rgb,
            bitDepth: 16,
            settings: EncodeSettings(),
            metadata: metadata
        )
        guard case .uint16(let samples) = image.samples else {
            Issue.record("the picture is not 16-bit")
            return
        }
        for first in stride(from: 0, to: 41, by: 10) {
            let rows = min(10, 41 - first)
            try writer.append(
                PixelImage(
                    width: 50,
                    height: rows,
                    layout: .rgb,
                    uint16: Array(samples[first * 150..<(first + rows) * 150])
                )
            )
        }
        try writer.finish()
        let bytes = try ImageFile.readBytes(path)
        #expect(try ImageCodec.decode(bytes, source: "banded") == image)
        #expect(bytes == (try ImageCodec.encode(image, as: .tiff, metadata: metadata)))
        let read = ImageMetadata(reading: bytes)
        #expect(read.density == PixelDensity(x: 300, y: 300))
        #expect(read.exif.flatMap { ExifBlock($0)?.pixelDimensions?.width } == 80)
    }
}
