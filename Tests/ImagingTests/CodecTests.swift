import TestSupport
import Testing

@testable import Imaging

/// Images and comparisons shared by the codec tests.
enum CodecSamples {
    /// A smooth, seeded test picture (gradients plus a little noise) so lossy codecs can be held to tight tolerances;
    /// `noise` 0 gives a pure gradient. Alpha, when present, spans the full range including 0 and the maximum.
    static func image(
        width: Int,
        height: Int,
        layout: PixelLayout,
        bitDepth: Int = 8,
        noise: Double = 4,
        seed: UInt64 = 1
    ) -> PixelImage {
        var generator = SeededGenerator(seed: seed)
        let maximum = bitDepth == 16 ? 65535.0 : 255.0
        var values: [Int] = []
        values.reserveCapacity(width * height * layout.channelCount)
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x) / Double(max(width - 1, 1))
                let v = Double(y) / Double(max(height - 1, 1))
                let colours = [u, v, 1 - (u + v) / 2]
                for channel in 0..<layout.channelCount {
                    let base: Double
                    if layout.hasAlpha && channel == layout.channelCount - 1 {
                        base = Double((x * 7 + y * 13) % 5) / 4  // 0, 0.25, ..., 1
                        values.append(Int((base * maximum).rounded()))
                        continue
                    }
                    base = layout.isGrey ? (u + v) / 2 : colours[channel]
                    let jitter = noise == 0 ? 0 : Double.random(in: -noise...noise, using: &generator) / 255
                    values.append(Int((min(max(base + jitter, 0), 1) * maximum).rounded()))
                }
            }
        }
        return bitDepth == 16
            ? PixelImage(width: width, height: height, layout: layout, uint16: values.map { UInt16($0) })
            : PixelImage(width: width, height: height, layout: layout, uint8: values.map { UInt8($0) })
    }

    /// The 8-bit samples of an 8-bit image (fails the test otherwise).
    static func bytes(_ image: PixelImage) throws -> [UInt8] {
        guard case .uint8(let values) = image.samples else {
            Issue.record("expected 8-bit samples, got \(image.bitDepth)-bit")
            throw CodecTestFailure()
        }
        return values
    }

    /// Mean absolute difference of two equally long sample arrays.
    static func meanAbsoluteDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count)
        let total = zip(a, b).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        return Double(total) / Double(max(a.count, 1))
    }

    /// 16-bit to 8-bit as the encoders do it.
    static func reduced(_ value: UInt16) -> UInt8 { UInt8((UInt32(value) * 255 + 32767) / 65535) }

    /// Samples of `values` (8-bit, `from` layout) rearranged to `to`: grey copied to RGB, alpha dropped or opaque.
    static func rearranged(_ values: [UInt8], from: PixelLayout, to: PixelLayout) -> [UInt8] {
        let pixels = values.count / from.channelCount
        var result: [UInt8] = []
        for pixel in 0..<pixels {
            let p = Array(values[pixel * from.channelCount..<(pixel + 1) * from.channelCount])
            let colour = from.isGrey ? [p[0], p[0], p[0]] : Array(p[0..<3])
            let alpha = from.hasAlpha ? p[p.count - 1] : 255
            result += to.isGrey ? [p[0]] : colour
            if to.hasAlpha { result.append(alpha) }
        }
        return result
    }

    /// Runs `body`, which must throw an ImagingError (and nothing else), and returns it.
    static func expectError(
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) -> ImagingError? {
        do {
            try body()
            Issue.record("expected an ImagingError, got success", sourceLocation: sourceLocation)
            return nil
        } catch let error as ImagingError {
            return error
        } catch {
            Issue.record("expected an ImagingError, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}

/// Thrown by helpers after recording an issue.
struct CodecTestFailure: Error {}

@Suite struct ImageFormatTests {
    @Test func fileExtensionsInAnyCase() {
        #expect(ImageFormat(fileExtension: "png") == .png)
        #expect(ImageFormat(fileExtension: "PNG") == .png)
        #expect(ImageFormat(fileExtension: "jpg") == .jpeg)
        #expect(ImageFormat(fileExtension: "JPEG") == .jpeg)
        #expect(ImageFormat(fileExtension: ".WebP") == .webp)
        #expect(ImageFormat(fileExtension: "TIF") == .tiff && ImageFormat(fileExtension: "tiff") == .tiff)
        #expect(ImageFormat(fileExtension: "gif") == nil)
        #expect(ImageFormat(fileExtension: "") == nil)
        #expect(ImageFormat.allCases.map(\.fileExtension) == ["png", "jpg", "webp", "tif"])
        #expect(ImageFormat.allCases.map(\.mediaType) == ["image/png", "image/jpeg", "image/webp", "image/tiff"])
    }

    @Test func sniffsMagicNumbers() throws {
        let image = CodecSamples.image(width: 4, height: 4, layout: .rgb)
        for format in ImageFormat.allCases {
            let bytes = try ImageCodec.encode(image, as: format)
            #expect(ImageFormat(sniffing: bytes) == format)
        }
        #expect(ImageFormat(sniffing: []) == nil)
        #expect(ImageFormat(sniffing: [0x89, 0x50, 0x4E]) == nil)
        #expect(ImageFormat(sniffing: Array("GIF89a".utf8)) == nil)
        #expect(ImageFormat(sniffing: Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVE".utf8)) == nil)
        #expect(ImageFormat(sniffing: Array("RIFF\u{1}\u{2}\u{3}\u{4}WEBPVP8 ".utf8)) == .webp)
    }
}

@Suite struct CodecRoundTripTests {
    @Test(arguments: PixelLayout.allCases, [8, 16])
    func pngIsExact(layout: PixelLayout, bitDepth: Int) throws {
        let image = CodecSamples.image(width: 37, height: 23, layout: layout, bitDepth: bitDepth, noise: 40)
        let bytes = try ImageCodec.encode(image, as: .png)
        #expect(try ImageCodec.probe(bytes, source: "mem") == ImageHeader(format: .png, width: 37, height: 23))
        let decoded = try ImageCodec.decode(bytes, source: "mem")
        #expect(decoded == image)
    }

    @Test(arguments: PixelLayout.allCases)
    func webpLosslessIsExact(layout: PixelLayout) throws {
        // Noisy, with fully transparent pixels: lossless must keep the colour under alpha 0 too.
        let image = CodecSamples.image(width: 29, height: 17, layout: layout, noise: 60, seed: 7)
        let bytes = try ImageCodec.encode(image, as: .webp, quality: 100)
        let decoded = try ImageCodec.decode(bytes, source: "mem")
        let expectedLayout: PixelLayout = layout.hasAlpha ? .rgba : .rgb
        #expect(decoded.layout == expectedLayout)
        #expect(decoded.width == 29 && decoded.height == 17)
        let expected = CodecSamples.rearranged(try CodecSamples.bytes(image), from: layout, to: expectedLayout)
        #expect(try CodecSamples.bytes(decoded) == expected)
    }

    @Test func sixteenBitsAreRoundedToEight() throws {
        let values: [UInt16] = [0, 128, 129, 256, 257, 32767, 32768, 65407, 65408, 65535, 1000, 50000]
        let image = PixelImage(width: 4, height: 1, layout: .rgb, uint16: values)
        let expected = values.map(CodecSamples.reduced)
        #expect(expected.prefix(4) == [0, 0, 1, 1])
        #expect(expected[9] == 255)
        let webp = try ImageCodec.decode(try ImageCodec.encode(image, as: .webp, quality: 100), source: "mem")
        #expect(try CodecSamples.bytes(webp) == expected)
        let jpeg = try ImageCodec.decode(try ImageCodec.encode(image, as: .jpeg, quality: 100), source: "mem")
        #expect(jpeg.bitDepth == 8)
    }

    @Test(arguments: PixelLayout.allCases, [8, 16])
    func jpegIsClose(layout: PixelLayout, bitDepth: Int) throws {
        let image = CodecSamples.image(width: 64, height: 48, layout: layout, bitDepth: bitDepth, noise: 2)
        let bytes = try ImageCodec.encode(image, as: .jpeg, quality: 95)
        let decoded = try ImageCodec.decode(bytes, source: "mem")
        let expectedLayout: PixelLayout = layout.isGrey ? .grey : .rgb
        #expect(decoded.layout == expectedLayout)
        #expect(decoded.width == 64 && decoded.height == 48 && decoded.bitDepth == 8)
        let eightBit: [UInt8] =
            switch image.samples {
            case .uint8(let v): v
            case .uint16(let v): v.map(CodecSamples.reduced)
            }
        let expected = CodecSamples.rearranged(eightBit, from: layout, to: expectedLayout)
        let difference = CodecSamples.meanAbsoluteDifference(try CodecSamples.bytes(decoded), expected)
        #expect(difference < 2.0, "mean absolute difference \(difference)")
    }

    @Test func webpLossyIsClose() throws {
        let image = CodecSamples.image(width: 64, height: 48, layout: .rgba, noise: 2)
        let decoded = try ImageCodec.decode(try ImageCodec.encode(image, as: .webp, quality: 90), source: "mem")
        #expect(decoded.layout == .rgba)
        let difference = CodecSamples.meanAbsoluteDifference(
            try CodecSamples.bytes(decoded),
            try CodecSamples.bytes(image)
        )
        #expect(difference < 4.0, "mean absolute difference \(difference)")
    }

    @Test func lowerQualityGivesSmallerFiles() throws {
        let image = CodecSamples.image(width: 96, height: 96, layout: .rgb, noise: 30)
        for format in [ImageFormat.jpeg, .webp] {
            let small = try ImageCodec.encode(image, as: format, quality: 20)
            let large = try ImageCodec.encode(image, as: format, quality: 95)
            #expect(small.count < large.count, "\(format): \(small.count) vs \(large.count) bytes")
        }
    }

    @Test(arguments: ImageFormat.allCases)
    func invalidQualityIsRejected(format: ImageFormat) {
        let image = CodecSamples.image(width: 4, height: 4, layout: .rgb)
        for quality in [0, -5, 101] {
            let error = CodecSamples.expectError { _ = try ImageCodec.encode(image, as: format, quality: quality) }
            #expect(error?.code == .encodeFailed)
            #expect(error?.message.contains("\(quality)") == true)
        }
    }

    @Test func oversizedWebPIsRefused() {
        let image = PixelImage(width: 16384, height: 1, layout: .grey, uint8: [UInt8](repeating: 0, count: 16384))
        let error = CodecSamples.expectError { _ = try ImageCodec.encode(image, as: .webp) }
        #expect(error?.code == .encodeFailed)
        #expect(error?.message.contains("16383") == true)
    }

    @Test func decodeLimitsApplyToEveryFormat() throws {
        let image = CodecSamples.image(width: 20, height: 10, layout: .rgb)
        for format in ImageFormat.allCases {
            let bytes = try ImageCodec.encode(image, as: format)
            #expect(try ImageCodec.decode(bytes, source: "mem", limits: DecodeLimits(maxPixels: 200)).pixelCount == 200)
            let error = CodecSamples.expectError {
                _ = try ImageCodec.decode(
                    bytes,
                    source: "small.\(format.fileExtension)",
                    limits: DecodeLimits(maxPixels: 199)
                )
            }
            #expect(error?.code == .tooLarge)
            #expect(error?.source == "small.\(format.fileExtension)")
            #expect(error?.message.contains("20×10") == true && error?.message.contains("199") == true)
        }
    }

    @Test func probeReadsOnlyTheHeader() throws {
        let image = CodecSamples.image(width: 300, height: 200, layout: .rgb, noise: 30)
        for format in ImageFormat.allCases {
            let bytes = try ImageCodec.encode(image, as: format)
            let header = ImageHeader(format: format, width: 300, height: 200)
            #expect(try ImageCodec.probe(bytes, source: "mem") == header)
            // The pixel data is not needed: a file cut in the middle still probes (but a TIFF, whose directory
            // libtiff writes after the pixels).
            if format != .tiff {
                #expect(try ImageCodec.probe(Array(bytes.prefix(bytes.count / 2)), source: "mem") == header)
            }
        }
    }
}
