import Foundation
import TestSupport
import Testing

@testable import Imaging

/// Builds APP1 "Exif" segments for the orientation tests.
enum TestExif {
    /// An APP1 segment whose IFD0 holds an ImageWidth entry, then Orientation (as SHORT or LONG), in either byte order.
    static func segment(orientation: Int, littleEndian: Bool, asLong: Bool = false) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] {
            let bytes = [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            return littleEndian ? bytes.reversed() : bytes
        }
        func u32(_ v: Int) -> [UInt8] {
            let bytes = [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            return littleEndian ? bytes.reversed() : bytes
        }
        var tiff: [UInt8] = littleEndian ? [0x49, 0x49] : [0x4D, 0x4D]
        tiff += u16(42) + u32(8)
        tiff += u16(2)
        tiff += u16(0x0100) + u16(4) + u32(1) + u32(640)  // ImageWidth LONG
        let value = asLong ? u32(orientation) : u16(orientation) + [0, 0]
        tiff += u16(0x0112) + u16(asLong ? 4 : 3) + u32(1) + value
        tiff += u32(0)  // no next IFD
        return app1(Array("Exif".utf8) + [0, 0] + tiff)
    }

    /// An APP1 segment around `payload`.
    static func app1(_ payload: [UInt8]) -> [UInt8] {
        let length = payload.count + 2
        return [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }

    /// `jpeg` with `segment` inserted right after SOI.
    static func inserting(_ segment: [UInt8], into jpeg: [UInt8]) -> [UInt8] {
        Array(jpeg.prefix(2)) + segment + jpeg.dropFirst(2)
    }

    /// Where stored pixel (x, y) of a width × height image appears once upright, per the EXIF definitions of which
    /// visual side the stored 0th row and 0th column are.
    static func uprightPosition(x: Int, y: Int, width w: Int, height h: Int, orientation: Int) -> (Int, Int) {
        switch orientation {
        case 2: (w - 1 - x, y)
        case 3: (w - 1 - x, h - 1 - y)
        case 4: (x, h - 1 - y)
        case 5: (y, x)
        case 6: (h - 1 - y, x)
        case 7: (h - 1 - y, w - 1 - x)
        case 8: (y, w - 1 - x)
        default: (x, y)
        }
    }
}

@Suite struct CodecJPEGTests {
    /// A 24×16 JPEG (three distinct quadrant colours plus a gradient) and its decoded pixels without EXIF.
    static func base(layout: PixelLayout = .rgb) throws -> (jpeg: [UInt8], stored: PixelImage) {
        let image = CodecSamples.image(width: 24, height: 16, layout: layout, noise: 30, seed: 11)
        let jpeg = try ImageCodec.encode(image, as: .jpeg, quality: 90)
        return (jpeg, try ImageCodec.decode(jpeg, source: "base.jpg"))
    }

    @Test(arguments: 1...8, [true, false])
    func exifOrientationIsApplied(orientation: Int, littleEndian: Bool) throws {
        for layout in [PixelLayout.rgb, .grey] {
            let (jpeg, stored) = try Self.base(layout: layout)
            let tagged = TestExif.inserting(
                TestExif.segment(orientation: orientation, littleEndian: littleEndian),
                into: jpeg
            )
            let upright = try ImageCodec.decode(tagged, source: "exif.jpg")
            let swaps = orientation >= 5
            #expect(upright.width == (swaps ? 16 : 24) && upright.height == (swaps ? 24 : 16))
            #expect(upright.layout == stored.layout)
            #expect(
                try ImageCodec.probe(tagged, source: "exif.jpg")
                    == ImageHeader(format: .jpeg, width: upright.width, height: upright.height)
            )

            let channels = layout.channelCount
            let storedBytes = try CodecSamples.bytes(stored)
            var expected = [UInt8](repeating: 0, count: storedBytes.count)
            for y in 0..<16 {
                for x in 0..<24 {
                    let (ux, uy) = TestExif.uprightPosition(x: x, y: y, width: 24, height: 16, orientation: orientation)
                    for c in 0..<channels {
                        expected[(uy * upright.width + ux) * channels + c] = storedBytes[(y * 24 + x) * channels + c]
                    }
                }
            }
            #expect(try CodecSamples.bytes(upright) == expected, "orientation \(orientation), \(layout)")
        }
    }

    @Test func rightTurnMovesTheTopLeftCornerToTheTopRight() throws {
        // Orientation 6: the stored image must be turned 90° clockwise to be upright.
        let (jpeg, stored) = try Self.base()
        let upright = try ImageCodec.decode(
            TestExif.inserting(TestExif.segment(orientation: 6, littleEndian: false), into: jpeg),
            source: "six.jpg"
        )
        let storedBytes = try CodecSamples.bytes(stored)
        let uprightBytes = try CodecSamples.bytes(upright)
        let topRight = (upright.width - 1) * 3
        #expect(Array(uprightBytes[topRight..<topRight + 3]) == Array(storedBytes[0..<3]))
        // The stored bottom-left corner ends at the upright top-left.
        let bottomLeft = (stored.height - 1) * stored.width * 3
        #expect(Array(uprightBytes[0..<3]) == Array(storedBytes[bottomLeft..<bottomLeft + 3]))
    }

    @Test func orientationAsLongIsRead() throws {
        let (jpeg, _) = try Self.base()
        let tagged = TestExif.inserting(TestExif.segment(orientation: 8, littleEndian: true, asLong: true), into: jpeg)
        let upright = try ImageCodec.decode(tagged, source: "long.jpg")
        #expect(upright.width == 16 && upright.height == 24)
    }

    @Test func damagedExifIsIgnored() throws {
        let (jpeg, stored) = try Self.base()
        let good = TestExif.segment(orientation: 6, littleEndian: true)
        let exifStart = 4 + 6  // APP1 marker and length, then "Exif\0\0"
        var variants: [[UInt8]] = []
        variants.append(TestExif.app1(Array("Exif".utf8) + [0, 0]))  // no TIFF at all
        variants.append(TestExif.app1(Array("Exif".utf8) + [0, 0] + [0x49, 0x49, 42, 0]))  // TIFF header cut short
        var badOrder = good
        badOrder[exifStart] = 0x58  // "XI" is no byte order
        variants.append(badOrder)
        var farIFD = good
        farIFD.replaceSubrange(exifStart + 4..<exifStart + 8, with: [0xF0, 0xFF, 0xFF, 0x7F])  // IFD beyond the end
        variants.append(farIFD)
        var manyEntries = good
        // 65535 entries claimed, 2 present, neither of them the orientation: the walk must stop at the end.
        manyEntries.replaceSubrange(exifStart + 8..<exifStart + 10, with: [0xFF, 0xFF])
        manyEntries.replaceSubrange(exifStart + 22..<exifStart + 24, with: [0x31, 0x01])
        variants.append(manyEntries)
        variants.append(TestExif.segment(orientation: 0, littleEndian: true))
        variants.append(TestExif.segment(orientation: 9, littleEndian: false))
        variants.append(TestExif.app1(Array("Exif".utf8)))  // header without the two zero bytes
        for (index, segment) in variants.enumerated() {
            let decoded = try ImageCodec.decode(TestExif.inserting(segment, into: jpeg), source: "variant\(index).jpg")
            let unchanged = decoded == stored
            #expect(unchanged, "variant \(index)")
        }
    }

    @Test func greyStaysGrey() throws {
        let (jpeg, stored) = try Self.base(layout: .grey)
        #expect(stored.layout == .grey)
        #expect(try ImageCodec.probe(jpeg, source: "grey.jpg") == ImageHeader(format: .jpeg, width: 24, height: 16))
    }

    @Test func adobeCMYKBecomesRGB() throws {
        let url = try #require(
            Bundle.module.url(forResource: "cmyk-adobe", withExtension: "jpg", subdirectory: "Fixtures")
        )
        let image = try ImageFile.read(url.path)
        #expect(image.layout == .rgb && image.width == 32 && image.height == 32)
        let bytes = try CodecSamples.bytes(image)
        let expectations: [(x: Int, y: Int, rgb: [Int])] = [
            (8, 8, [255, 0, 0]), (24, 8, [0, 255, 0]), (8, 24, [0, 0, 255]), (24, 24, [127, 127, 127]),
        ]
        for (x, y, rgb) in expectations {
            let offset = (y * 32 + x) * 3
            let actual = bytes[offset..<offset + 3].map(Int.init)
            #expect(zip(actual, rgb).allSatisfy { abs($0 - $1) <= 6 }, "(\(x), \(y)): \(actual), expected \(rgb)")
        }
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "jpg", subdirectory: "Fixtures"))
        return Array(try Data(contentsOf: url))
    }

    @Test func progressiveDecodes() throws {
        let image = try ImageCodec.decode(try Self.fixture("progressive"), source: "progressive.jpg")
        #expect(image.width == 40 && image.height == 24 && image.layout == .rgb)
        let bytes = try CodecSamples.bytes(image)
        var expected: [UInt8] = []
        for y in 0..<24 {
            for x in 0..<40 { expected += [UInt8(6 * x + 8), UInt8(10 * y + 4), 128] }
        }
        let difference = CodecSamples.meanAbsoluteDifference(bytes, expected)
        #expect(difference < 1.5, "mean absolute difference \(difference)")
    }

    /// A progressive file whose last scan is repeated `copies` times (libjpeg only warns about the bogus progression).
    static func repeatingLastScan(_ jpeg: [UInt8], copies: Int) throws -> [UInt8] {
        let sos = try #require((0..<jpeg.count - 1).last { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDA })
        let eoi = jpeg.count - 2
        #expect(Array(jpeg[eoi...]) == [0xFF, 0xD9])
        let scan = jpeg[sos..<eoi]
        return Array(jpeg[..<eoi]) + (0..<copies).flatMap { _ in scan } + [0xFF, 0xD9]
    }

    @Test func tooManyScansAreRefused() throws {
        let progressive = try Self.fixture("progressive")
        let some = try ImageCodec.decode(try Self.repeatingLastScan(progressive, copies: 20), source: "scans.jpg")
        #expect(some.width == 40 && some.height == 24)
        let bomb = try Self.repeatingLastScan(progressive, copies: 600)
        let error = CodecSamples.expectError { _ = try ImageCodec.decode(bomb, source: "bomb.jpg") }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("500 progressive scans") == true, "\(String(describing: error))")
    }

    @Test func truncatedProgressiveIsTruncated() throws {
        let progressive = try Self.fixture("progressive")
        for length in stride(from: 100, to: progressive.count, by: 50) {
            let error = CodecSamples.expectError {
                _ = try ImageCodec.decode(Array(progressive.prefix(length)), source: "p.jpg")
            }
            #expect(error?.code == .truncated, "cut at \(length): \(String(describing: error))")
        }
    }

    @Test func truncatedAtManyLengths() throws {
        let (jpeg, _) = try Self.base()
        for length in Array(0..<40) + Array(stride(from: 40, to: jpeg.count, by: 7)) + [jpeg.count - 2, jpeg.count - 1]
        {
            let error = CodecSamples.expectError {
                _ = try ImageCodec.decode(Array(jpeg.prefix(length)), source: "cut.jpg")
            }
            #expect(error?.code == .truncated, "cut at \(length) of \(jpeg.count): \(String(describing: error))")
            #expect(error?.source == "cut.jpg")
        }
    }

    @Test func garbageAfterTheSignatureIsRejected() {
        var generator = SeededGenerator(seed: 21)
        for _ in 0..<20 {
            let bytes: [UInt8] =
                [0xFF, 0xD8, 0xFF] + (0..<500).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let error = CodecSamples.expectError { _ = try ImageCodec.decode(bytes, source: "junk.jpg") }
            #expect(
                error.map { [ImagingError.Code.corrupt, .truncated, .unsupportedFormat].contains($0.code) } == true,
                "\(String(describing: error))"
            )
        }
    }

    @Test func chromaIsHalfResolutionByDefaultAndFullWhenAsked() throws {
        // Columns alternating red and blue: 4:2:0 averages neighbouring chroma, 4:4:4 keeps it.
        var samples: [UInt8] = []
        for _ in 0..<32 {
            for x in 0..<32 { samples += x % 2 == 0 ? [230, 20, 20] : [20, 20, 230] }
        }
        let image = PixelImage(width: 32, height: 32, layout: .rgb, uint8: samples)
        func maxError(_ jpeg: [UInt8]) throws -> Int {
            let decoded = try ImageCodec.decode(jpeg, source: "chroma.jpg")
            guard case .uint8(let out) = decoded.samples else { return .max }
            return zip(out, samples).map { abs(Int($0) - Int($1)) }.max() ?? 0
        }
        let subsampled = try ImageCodec.encode(image, as: .jpeg, quality: 95)
        let full = try ImageCodec.encode(image, as: .jpeg, quality: 95, jpegChroma: .full)
        #expect(Self.lumaSampling(subsampled) == 0x22)
        #expect(Self.lumaSampling(full) == 0x11)
        #expect(try maxError(full) < 40 && maxError(subsampled) > 60)
    }

    /// The luma component's sampling factors (horizontal << 4 | vertical) from the SOF0 segment.
    static func lumaSampling(_ jpeg: [UInt8]) -> UInt8? {
        var offset = 2
        while offset + 4 < jpeg.count, jpeg[offset] == 0xFF {
            let marker = jpeg[offset + 1]
            let length = Int(jpeg[offset + 2]) << 8 | Int(jpeg[offset + 3])
            // SOF0: length, precision, height, width, component count, then id, sampling, table per component.
            if marker == 0xC0 { return jpeg[offset + 2 + 2 + 1 + 2 + 2 + 1 + 1] }
            offset += 2 + length
        }
        return nil
    }
}

