import Foundation
@testable import Imaging
import TestSupport
import Testing

/// The fast PNG writer (row filters in parallel bands, libdeflate) against the image it was given, as libpng decodes
/// it, and against libpng's own writer.
@Suite struct CodecPNGWriterTests {
    static let layouts: [PixelLayout] = [.grey, .greyAlpha, .rgb, .rgba]
    /// Sizes with one row, one column, odd widths and enough rows for several bands per thread.
    static let sizes: [(width: Int, height: Int)] = [(1, 1), (1, 37), (53, 1), (7, 5), (61, 130)]

    @Test(arguments: [8, 16])
    func everyFilterAndLayoutDecodesToTheSamePixels(bitDepth: Int) throws {
        for layout in Self.layouts {
            for size in Self.sizes {
                let image = CodecSamples.image(width: size.width, height: size.height, layout: layout,
                    bitDepth: bitDepth, noise: 30)
                for filter in PNGRowFilter.allCases {
                    let bytes = try ImageCodec.encodePNG(image, filter: filter, deflateLevel: 1)
                    let decoded = try ImageCodec.decode(bytes, source: "mem")
                    #expect(decoded == image, "\(layout) \(bitDepth)-bit \(size) \(filter)")
                }
            }
        }
    }

    @Test func everyCompressionLevelDecodesToTheSamePixels() throws {
        let image = CodecSamples.image(width: 97, height: 41, layout: .rgba, bitDepth: 16, noise: 12)
        var sizes: [Int] = []
        for level in PNGCompression.levels {
            let compression = try #require(PNGCompression(level: level))
            let bytes = try ImageCodec.encode(image, as: .png, pngCompression: compression)
            #expect(try ImageCodec.decode(bytes, source: "mem") == image, "level \(level)")
            sizes.append(bytes.count)
        }
        // Level 0 stores: the zlib stream is at least the filtered data (one filter byte per row).
        #expect(sizes[0] >= 41 * (1 + 97 * 8))
        #expect(sizes[9] < sizes[1] && sizes[1] < sizes[0], "\(sizes)")
        #expect(PNGCompression(level: -1) == nil && PNGCompression(level: 10) == nil)
    }

    @Test func largeImagesSpanSeveralDataChunks() throws {
        // Noise does not compress: about 2.9 MB of data, so three IDAT chunks of at most 1 MiB.
        var generator = SeededGenerator(seed: 7)
        let samples = (0..<700 * 520 * 4).map { _ in UInt16.random(in: 0...UInt16.max, using: &generator) }
        let image = PixelImage(width: 700, height: 520, layout: .rgba, uint16: samples)
        let bytes = try ImageCodec.encode(image, as: .png)
        #expect(try ImageCodec.decode(bytes, source: "mem") == image)
        let chunks = Self.chunkTypes(bytes)
        #expect(chunks.first == "IHDR" && chunks.last == "IEND")
        #expect(chunks.filter { $0 == "IDAT" }.count >= 3, "\(chunks)")
    }

    @Test func chunksCarryValidCRCsAndTheHeaderDescribesTheImage() throws {
        let image = CodecSamples.image(width: 300, height: 7, layout: .greyAlpha, bitDepth: 16)
        let bytes = try ImageCodec.encode(image, as: .png)
        var offset = 8
        while offset < bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let stored = bytes[offset + 8 + length..<offset + 12 + length].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(stored == TestPNG.crc32(Array(bytes[offset + 4..<offset + 8 + length])))
            offset += 12 + length
        }
        #expect(offset == bytes.count)
        // IHDR: width, height, bit depth 16, colour type 4 (grey + alpha), deflate, adaptive filtering, no interlace.
        #expect(Array(bytes[16..<29]) == [0, 0, 1, 44, 0, 0, 0, 7, 16, 4, 0, 0, 0])
    }

    @Test func decodesLikeLibpngsOwnWriterAndIsSmallerThanItsFastestLevel() throws {
        for layout in Self.layouts {
            let image = CodecSamples.image(width: 240, height: 160, layout: layout, noise: 3)
            let fast = try ImageCodec.encode(image, as: .png)
            let reference = try ImageCodec.encodePNGWithLibpng(image, zlibLevel: 1)
            #expect(try ImageCodec.decode(fast, source: "fast") == ImageCodec.decode(reference, source: "libpng"))
            #expect(fast.count <= reference.count, "\(layout): \(fast.count) bytes against libpng's \(reference.count)")
        }
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func photosComeOutNoLargerThanWithOpenCVsSettings() throws {
        let folder = SharedData.path("datasets/Set5")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }
        try #require(names.count == 5)
        for name in names {
            let photo = try ImageFile.read(folder + "/" + name)
            let fast = try ImageCodec.encode(photo, as: .png)
            let opencv = ImageCodec.openCVDefaults
            let reference = try ImageCodec.encodePNGWithLibpng(
                photo, zlibLevel: opencv.zlibLevel, zlibStrategy: opencv.zlibStrategy, onlyFilter: opencv.onlyFilter)
            #expect(fast.count <= reference.count, "\(name): \(fast.count) bytes against OpenCV's \(reference.count)")
            #expect(try ImageCodec.decode(fast, source: name) == photo)
        }
    }

    static func chunkTypes(_ bytes: [UInt8]) -> [String] {
        var types: [String] = []
        var offset = 8
        while offset + 8 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            types.append(String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self))
            offset += 12 + length
        }
        return types
    }
}
