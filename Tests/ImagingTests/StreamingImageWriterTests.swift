import Foundation
import Testing

import Imaging
import TestSupport

/// Pictures written a band of rows at a time: the file holds the same picture as the whole-picture encoder's, and
/// nothing is left at the path unless every row was written.
struct StreamingImageWriterTests {
    /// A `width × height` picture in `layout` and `bitDepth` with varied samples.
    static func picture(width: Int, height: Int, layout: PixelLayout, bitDepth: Int) -> PixelImage {
        let count = width * height * layout.channelCount
        var rng = SeededGenerator(seed: UInt64(width * 31 + height * 7 + layout.channelCount + bitDepth))
        if bitDepth == 8 {
            let samples = (0..<count).map { i in UInt8(truncatingIfNeeded: i * 5 / 3 + Int(rng.next() % 24)) }
            return PixelImage(width: width, height: height, layout: layout, uint8: samples)
        }
        let samples = (0..<count).map { i in UInt16(truncatingIfNeeded: i * 397 + Int(rng.next() % 4000)) }
        return PixelImage(width: width, height: height, layout: layout, uint16: samples)
    }

    /// The rows `rows` of `image` as a picture of their own.
    static func band(_ image: PixelImage, _ rows: Range<Int>) -> PixelImage {
        let rowSamples = image.width * image.layout.channelCount
        let range = (rows.lowerBound * rowSamples)..<(rows.upperBound * rowSamples)
        switch image.samples {
        case .uint8(let v):
            return PixelImage(width: image.width, height: rows.count, layout: image.layout, uint8: Array(v[range]))
        case .uint16(let v):
            return PixelImage(width: image.width, height: rows.count, layout: image.layout, uint16: Array(v[range]))
        }
    }

    /// Writes `image` in bands of varied heights through a streaming writer.
    static func stream(_ image: PixelImage, to path: String, as format: ImageFormat, settings: EncodeSettings) throws {
        let writer = try StreamingImageWriter(
            path: path, format: format, width: image.width, height: image.height, layout: image.layout,
            bitDepth: image.bitDepth, settings: settings)
        for rows in BandedResizeTests.bands(image.height, largest: 9, seed: image.width) {
            try writer.append(band(image, rows))
        }
        try writer.finish()
    }

    @Test(arguments: [PixelLayout.grey, .greyAlpha, .rgb, .rgba], [8, 16])
    func aStreamedPNGHoldsThePicture(_ layout: PixelLayout, _ bitDepth: Int) throws {
        let folder = TemporaryFolder()
        let image = Self.picture(width: 37, height: 41, layout: layout, bitDepth: bitDepth)
        for level in [0, 1, 9] {
            let path = folder.appending("out-\(level).png")
            try Self.stream(image, to: path, as: .png, settings: EncodeSettings(pngCompression: PNGCompression(level: level)!))
            #expect(try ImageFile.read(path) == image, "level \(level)")
        }
        #expect(folder.contents() == ["out-0.png", "out-1.png", "out-9.png"])
    }

    @Test(arguments: [PixelLayout.grey, .rgb, .rgba], [JPEGChroma.subsampled, .full])
    func aStreamedJPEGIsTheWholeEncodersFile(_ layout: PixelLayout, _ chroma: JPEGChroma) throws {
        let folder = TemporaryFolder()
        let image = Self.picture(width: 45, height: 38, layout: layout, bitDepth: 8)
        let settings = EncodeSettings(quality: 87, jpegChroma: chroma)
        let path = folder.appending("out.jpg")
        try Self.stream(image, to: path, as: .jpeg, settings: settings)
        let whole = try ImageCodec.encode(image, as: .jpeg, settings: settings)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == whole)
    }

    @Test func anUnfinishedOrBrokenStreamLeavesNothing() throws {
        let folder = TemporaryFolder()
        let image = Self.picture(width: 20, height: 10, layout: .rgb, bitDepth: 8)
        let path = folder.appending("out.png")
        try Data("an earlier file".utf8).write(to: URL(fileURLWithPath: path))
        // Finishing before the last row, a band of the wrong width or layout, and a writer dropped part way.
        let early = try StreamingImageWriter(
            path: path, format: .png, width: 20, height: 10, layout: .rgb, bitDepth: 8, settings: EncodeSettings())
        try early.append(Self.band(image, 0..<4))
        #expect(throws: ImagingError.self) { try early.finish() }
        let wrong = try StreamingImageWriter(
            path: path, format: .jpeg, width: 20, height: 10, layout: .rgb, bitDepth: 8, settings: EncodeSettings())
        #expect(throws: ImagingError.self) { try wrong.append(Self.picture(width: 19, height: 2, layout: .rgb, bitDepth: 8)) }
        #expect(throws: ImagingError.self) { try wrong.append(Self.picture(width: 20, height: 2, layout: .rgba, bitDepth: 8)) }
        #expect(throws: ImagingError.self) { try wrong.append(Self.picture(width: 20, height: 11, layout: .rgb, bitDepth: 8)) }
        do {
            let dropped = try StreamingImageWriter(
                path: path, format: .png, width: 20, height: 10, layout: .rgb, bitDepth: 8, settings: EncodeSettings())
            try dropped.append(Self.band(image, 0..<3))
        }
        let abandoned = try StreamingImageWriter(
            path: path, format: .png, width: 20, height: 10, layout: .rgb, bitDepth: 8, settings: EncodeSettings())
        abandoned.abandon()
        #expect(throws: ImagingError.self) { try abandoned.append(Self.band(image, 0..<3)) }
        // The earlier file is untouched and no temporary file is left.
        #expect(folder.contents() == ["out.png"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "an earlier file")
    }

    @Test func webPAndImpossibleSizesAreRefusedUpFront() {
        let folder = TemporaryFolder()
        #expect(!StreamingImageWriter.supports(.webp))
        #expect(throws: ImagingError.self) {
            try StreamingImageWriter(
                path: folder.appending("a.webp"), format: .webp, width: 10, height: 10, layout: .rgb, bitDepth: 8,
                settings: EncodeSettings())
        }
        #expect(throws: ImagingError.self) {
            try StreamingImageWriter(
                path: folder.appending("a.jpg"), format: .jpeg, width: 70_000, height: 10, layout: .rgb, bitDepth: 8,
                settings: EncodeSettings())
        }
        #expect(throws: ImagingError.self) {
            try StreamingImageWriter(
                path: folder.appending("missing/a.png"), format: .png, width: 10, height: 10, layout: .rgb,
                bitDepth: 8, settings: EncodeSettings())
        }
        #expect(folder.contents().isEmpty)
    }
}
