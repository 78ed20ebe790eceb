import TestSupport
import Testing

@testable import Imaging

/// A minimal PNG writer (stored deflate blocks, filter type 0) so the tests can make every colour type, bit depth,
/// palette, tRNS and Adam7 variant, and broken headers, with pixel values known independently of libpng.
struct TestPNG {
    /// PNG colour types.
    enum ColourType: UInt8 {
        case grey = 0, rgb = 2, palette = 3, greyAlpha = 4, rgba = 6

        var channels: Int {
            switch self {
            case .grey, .palette: 1
            case .greyAlpha: 2
            case .rgb: 3
            case .rgba: 4
            }
        }
    }

    var width: Int
    var height: Int
    var colourType: ColourType
    var bitDepth: Int
    /// Row-major samples (palette indices for palette images), `colourType.channels` per pixel.
    var samples: [Int]
    /// PLTE entries.
    var palette: [[UInt8]] = []
    /// The raw tRNS payload, if any.
    var transparency: [UInt8]?
    var interlaced = false
    /// Chunks (type, payload) inserted between IHDR and IDAT.
    var extraChunks: [(String, [UInt8])] = []

    func encoded() -> [UInt8] {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += Self.chunk(
            "IHDR",
            Self.ihdr(
                width: width,
                height: height,
                bitDepth: bitDepth,
                colourType: colourType.rawValue,
                interlaced: interlaced
            )
        )
        for (type, payload) in extraChunks { png += Self.chunk(type, payload) }
        if !palette.isEmpty { png += Self.chunk("PLTE", palette.flatMap { $0 }) }
        if let transparency { png += Self.chunk("tRNS", transparency) }
        png += Self.chunk("IDAT", Self.zlibStored(scanlines()))
        png += Self.chunk("IEND", [])
        return png
    }

    /// The filtered (filter 0) scanlines of the whole image or of its seven Adam7 passes.
    func scanlines() -> [UInt8] {
        let passes: [(x: Int, y: Int, dx: Int, dy: Int)] =
            interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)]
        var data: [UInt8] = []
        for pass in passes {
            let columns = Array(stride(from: pass.x, to: width, by: pass.dx))
            let rows = Array(stride(from: pass.y, to: height, by: pass.dy))
            if columns.isEmpty || rows.isEmpty { continue }
            for y in rows {
                data.append(0)
                var values: [Int] = []
                for x in columns {
                    let start = (y * width + x) * colourType.channels
                    values += samples[start..<start + colourType.channels]
                }
                data += Self.pack(values, bitDepth: bitDepth)
            }
        }
        return data
    }

    static func pack(_ values: [Int], bitDepth: Int) -> [UInt8] {
        switch bitDepth {
        case 16: return values.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case 8: return values.map { UInt8($0) }
        default:
            let perByte = 8 / bitDepth
            var bytes = [UInt8](repeating: 0, count: (values.count + perByte - 1) / perByte)
            for (index, value) in values.enumerated() {
                let shift = 8 - bitDepth * (index % perByte + 1)
                bytes[index / perByte] |= UInt8(value << shift)
            }
            return bytes
        }
    }

    static func ihdr(width: Int, height: Int, bitDepth: Int, colourType: UInt8, interlaced: Bool) -> [UInt8] {
        bigEndian32(width) + bigEndian32(height) + [UInt8(bitDepth), colourType, 0, 0, interlaced ? 1 : 0]
    }

    static func bigEndian32(_ value: Int) -> [UInt8] {
        [
            UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
        ]
    }

    static func chunk(_ type: String, _ payload: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + payload
        return bigEndian32(payload.count) + typed + bigEndian32(Int(crc32(typed)))
    }

    /// A zlib stream of stored (uncompressed) deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let count = min(65535, data.count - offset)
            let final: UInt8 = offset + count == data.count ? 1 : 0
            out += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[offset..<offset + count]
            offset += count
        } while offset < data.count
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return out + bigEndian32(Int(b << 16 | a))
    }

    /// A zlib stream of `count` zero bytes in one fixed-Huffman block: a literal 0, then matches of length 258 at
    /// distance 1 (13 bits each), so 8 MB of zeros take about 50 KB: the payload of a decompression bomb.
    static func zlibZeros(_ count: Int) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var bits: UInt64 = 0
        var used = 0
        func put(_ value: UInt64, _ width: Int) {  // LSB first
            bits |= value << UInt64(used)
            used += width
            while used >= 8 {
                out.append(UInt8(bits & 0xFF))
                bits >>= 8
                used -= 8
            }
        }
        func putCode(_ code: UInt64, _ width: Int) {  // Huffman codes go most significant bit first
            for shift in stride(from: width - 1, through: 0, by: -1) { put((code >> UInt64(shift)) & 1, 1) }
        }
        put(1, 1)  // BFINAL
        put(1, 2)  // BTYPE 01: fixed Huffman codes
        putCode(0x30, 8)  // literal 0
        var left = count - 1
        while left >= 258 {
            putCode(0b1100_0101, 8)  // length code 285: 258 bytes
            putCode(0, 5)  // distance code 0: distance 1
            left -= 258
        }
        for _ in 0..<left { putCode(0x30, 8) }
        putCode(0, 7)  // end of block (256)
        if used > 0 { put(0, 8 - used) }
        // Adler-32 of zeros: a = 1, b = count mod 65521.
        return out + bigEndian32(Int(UInt32(count % 65521) << 16 | 1))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// Seeded random samples below 2^bitDepth (or below `limit`).
    static func randomSamples(_ count: Int, bitDepth: Int, limit: Int? = nil, seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed)
        let upper = limit ?? (1 << bitDepth)
        return (0..<count).map { _ in Int.random(in: 0..<upper, using: &generator) }
    }
}

@Suite struct CodecPNGTests {
    static let sizes = [(13, 7), (1, 1), (9, 17)]

    /// Decodes and requires success.
    func decode(_ png: TestPNG) throws -> PixelImage {
        try ImageCodec.decode(png.encoded(), source: "test.png")
    }

    @Test(arguments: [1, 2, 4, 8, 16], [false, true])
    func greyAtEveryDepth(bitDepth: Int, interlaced: Bool) throws {
        for (width, height) in Self.sizes {
            let samples = TestPNG.randomSamples(width * height, bitDepth: bitDepth, seed: UInt64(bitDepth))
            let png = TestPNG(
                width: width,
                height: height,
                colourType: .grey,
                bitDepth: bitDepth,
                samples: samples,
                interlaced: interlaced
            )
            let image = try decode(png)
            #expect(image.width == width && image.height == height && image.layout == .grey)
            if bitDepth == 16 {
                #expect(image.samples == .uint16(samples.map { UInt16($0) }))
            } else {
                // Under 8 bits, values are scaled to the full 8-bit range (e.g. 2-bit 3 → 255).
                let scale = 255 / ((1 << bitDepth) - 1)
                #expect(image.samples == .uint8(samples.map { UInt8($0 * scale) }))
            }
        }
    }

    @Test(arguments: [TestPNG.ColourType.greyAlpha, .rgb, .rgba], [8, 16])
    func colourTypesAtBothDepths(colourType: TestPNG.ColourType, bitDepth: Int) throws {
        for (width, height) in Self.sizes {
            for interlaced in [false, true] {
                let samples = TestPNG.randomSamples(
                    width * height * colourType.channels,
                    bitDepth: bitDepth,
                    seed: UInt64(colourType.rawValue)
                )
                let png = TestPNG(
                    width: width,
                    height: height,
                    colourType: colourType,
                    bitDepth: bitDepth,
                    samples: samples,
                    interlaced: interlaced
                )
                let image = try decode(png)
                let layout: PixelLayout = [.greyAlpha: .greyAlpha, .rgb: .rgb, .rgba: .rgba][colourType]!
                #expect(image.layout == layout && image.width == width && image.height == height)
                #expect(
                    image.samples
                        == (bitDepth == 16 ? .uint16(samples.map { UInt16($0) }) : .uint8(samples.map { UInt8($0) }))
                )
            }
        }
    }

    @Test(arguments: [1, 2, 4, 8], [false, true])
    func paletteWithAndWithoutTransparency(bitDepth: Int, interlaced: Bool) throws {
        let entries = min(1 << bitDepth, 200)
        var generator = SeededGenerator(seed: 99)
        let palette = (0..<entries).map { _ in (0..<3).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        let (width, height) = (11, 6)
        let indices = TestPNG.randomSamples(width * height, bitDepth: bitDepth, limit: entries, seed: 5)
        var png = TestPNG(
            width: width,
            height: height,
            colourType: .palette,
            bitDepth: bitDepth,
            samples: indices,
            palette: palette,
            interlaced: interlaced
        )

        let opaque = try decode(png)
        #expect(opaque.layout == .rgb)
        #expect(opaque.samples == .uint8(indices.flatMap { palette[$0] }))

        // tRNS may be shorter than the palette: the entries after it are opaque.
        let alphas = (0..<max(entries / 2, 1)).map { UInt8(($0 * 97) % 256) }
        png.transparency = alphas
        let transparent = try decode(png)
        #expect(transparent.layout == .rgba)
        let expected = indices.flatMap { palette[$0] + [$0 < alphas.count ? alphas[$0] : 255] }
        #expect(transparent.samples == .uint8(expected))
    }

    @Test(arguments: [2, 8, 16])
    func greyTransparencyBecomesAlpha(bitDepth: Int) throws {
        let (width, height) = (10, 5)
        let samples = TestPNG.randomSamples(width * height, bitDepth: min(bitDepth, 2), seed: 3)  // values 0...3
        let key = 2
        var png = TestPNG(width: width, height: height, colourType: .grey, bitDepth: bitDepth, samples: samples)
        png.transparency = [0, UInt8(key)]
        let image = try decode(png)
        #expect(image.layout == .greyAlpha)
        switch bitDepth {
        case 16:
            #expect(image.samples == .uint16(samples.flatMap { [UInt16($0), $0 == key ? 0 : 65535] }))
        case 2:
            #expect(image.samples == .uint8(samples.flatMap { [UInt8($0 * 85), $0 == key ? 0 : 255] }))
        default:
            #expect(image.samples == .uint8(samples.flatMap { [UInt8($0), $0 == key ? 0 : 255] }))
        }
    }

    @Test(arguments: [8, 16])
    func rgbTransparencyBecomesAlpha(bitDepth: Int) throws {
        let (width, height) = (8, 8)
        let samples = TestPNG.randomSamples(width * height * 3, bitDepth: 1, seed: 4)  // channel values 0 or 1
        let key = [1, 0, 1]
        var png = TestPNG(width: width, height: height, colourType: .rgb, bitDepth: bitDepth, samples: samples)
        png.transparency = key.flatMap { [0, UInt8($0)] }
        let image = try decode(png)
        #expect(image.layout == .rgba)
        let maximum = bitDepth == 16 ? 65535 : 255
        let expected = (0..<width * height).flatMap { pixel -> [Int] in
            let rgb = Array(samples[pixel * 3..<pixel * 3 + 3])
            return rgb + [rgb == key ? 0 : maximum]
        }
        #expect(
            image.samples
                == (bitDepth == 16 ? .uint16(expected.map { UInt16($0) }) : .uint8(expected.map { UInt8($0) }))
        )
        #expect(expected.contains(0), "the test image must contain the transparent colour")
    }

    @Test func damagedAncillaryChunkIsIgnored() throws {
        let samples = TestPNG.randomSamples(16, bitDepth: 8, seed: 8)
        var bytes = TestPNG(
            width: 4,
            height: 4,
            colourType: .grey,
            bitDepth: 8,
            samples: samples,
            extraChunks: [("tEXt", Array("Comment\u{0}hello".utf8))]
        ).encoded()
        // Break the CRC of the tEXt chunk (it follows the 33-byte signature + IHDR).
        let crcOffset = 33 + 8 + 13
        bytes[crcOffset] ^= 0xFF
        let image = try ImageCodec.decode(bytes, source: "text.png")
        #expect(image.samples == .uint8(samples.map { UInt8($0) }))
    }

    @Test func hugeHeaderFailsFastWithoutAllocating() throws {
        // A valid IHDR (good CRC) claiming 50 000 × 50 000 RGBA 16-bit (20 GB of pixels), then IEND.
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        bytes += TestPNG.chunk(
            "IHDR",
            TestPNG.ihdr(width: 50_000, height: 50_000, bitDepth: 16, colourType: 6, interlaced: false)
        )
        bytes += TestPNG.chunk("IEND", [])
        #expect(
            try ImageCodec.probe(bytes, source: "huge.png") == ImageHeader(format: .png, width: 50_000, height: 50_000)
        )
        let clock = ContinuousClock()
        let start = clock.now
        let error = CodecSamples.expectError { _ = try ImageCodec.decode(bytes, source: "huge.png") }
        #expect(clock.now - start < .seconds(1))
        #expect(error?.code == .tooLarge)
        #expect(error?.source == "huge.png")
        #expect(error?.message.contains("50000×50000") == true)
        #expect(error?.message.contains("64000000") == true)
    }

    @Test func zeroWidthIsAnEmptyImage() {
        for (width, height) in [(0, 10), (10, 0)] {
            var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            bytes += TestPNG.chunk(
                "IHDR",
                TestPNG.ihdr(width: width, height: height, bitDepth: 8, colourType: 0, interlaced: false)
            )
            bytes += TestPNG.chunk("IEND", [])
            let decodeError = CodecSamples.expectError { _ = try ImageCodec.decode(bytes, source: "zero.png") }
            #expect(decodeError?.code == .emptyImage)
            #expect(decodeError?.source == "zero.png")
            let probeError = CodecSamples.expectError { _ = try ImageCodec.probe(bytes, source: "zero.png") }
            #expect(probeError?.code == .emptyImage)
        }
    }

    @Test func badHeaderCRCIsCorrupt() {
        var bytes = TestPNG(width: 3, height: 3, colourType: .grey, bitDepth: 8, samples: Array(repeating: 7, count: 9))
            .encoded()
        bytes[29] ^= 0x01  // first CRC byte of IHDR
        let error = CodecSamples.expectError { _ = try ImageCodec.decode(bytes, source: "crc.png") }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("CRC") == true)
    }

    @Test func brokenImageDataIsCorrupt() {
        var png = TestPNG(width: 3, height: 3, colourType: .grey, bitDepth: 8, samples: Array(repeating: 7, count: 9))
        png.extraChunks = []
        var bytes = png.encoded()
        // The IDAT payload starts after signature (8) + IHDR (25) + IDAT length and type (8): corrupt the zlib header.
        bytes[41] = 0x00
        bytes[42] = 0x00
        // Fix the IDAT CRC so that only the zlib stream is wrong.
        let idatLength = Int(bytes[33]) << 24 | Int(bytes[34]) << 16 | Int(bytes[35]) << 8 | Int(bytes[36])
        let crc = TestPNG.crc32(Array(bytes[37..<41 + idatLength]))
        bytes.replaceSubrange(41 + idatLength..<45 + idatLength, with: TestPNG.bigEndian32(Int(crc)))
        let error = CodecSamples.expectError { _ = try ImageCodec.decode(bytes, source: "zlib.png") }
        #expect(error?.code == .corrupt)
    }

    @Test func truncatedAtEveryLength() throws {
        let image = CodecSamples.image(width: 12, height: 9, layout: .rgba, noise: 50)
        let bytes = try ImageCodec.encode(image, as: .png)
        for length in 0..<bytes.count {
            let error = CodecSamples.expectError {
                _ = try ImageCodec.decode(Array(bytes.prefix(length)), source: "cut.png")
            }
            #expect(error?.code == .truncated, "cut at \(length) of \(bytes.count): \(String(describing: error))")
            #expect(error?.source == "cut.png")
        }
    }

    @Test func compressedTextBombsAreSkippedUnread() throws {
        // 300 zTXt chunks of 50 KB, each inflating to 8 MB (2.4 GB of text), and 200 private ancillary chunks: the
        // decoder skips the text without inflating it (it took 18 s of CPU for 1000 such chunks when libpng
        // inflated them) and keeps a bounded number of the others; the pixels come out as stored.
        let samples = TestPNG.randomSamples(48, bitDepth: 8, seed: 21)
        let text = Array("Comment\u{0}\u{0}".utf8) + TestPNG.zlibZeros(8_000_000)
        let bomb = TestPNG(
            width: 4, height: 4, colourType: .rgb, bitDepth: 8, samples: samples,
            extraChunks: Array(repeating: ("zTXt", text), count: 300) + Array(repeating: ("prVt", [1, 2, 3]), count: 200)
        ).encoded()
        #expect(bomb.count > 300 * 40_000 && bomb.count < 20_000_000)
        let image = try ImageCodec.decode(bomb, source: "bomb.png")
        #expect(image.samples == .uint8(samples.map { UInt8($0) }))
    }

    @Test func theBombsPayloadIsAValidZlibStream() throws {
        // The helper's stream, checked by a real inflater: as the image data of a 300×200 8-bit grey PNG (each row a
        // filter byte 0 and 300 samples 0: all zero bytes), libpng inflates it to a black image.
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += TestPNG.chunk("IHDR", TestPNG.ihdr(width: 300, height: 200, bitDepth: 8, colourType: 0, interlaced: false))
        png += TestPNG.chunk("IDAT", TestPNG.zlibZeros(200 * 301))
        png += TestPNG.chunk("IEND", [])
        let image = try ImageCodec.decode(png, source: "zeros.png")
        #expect(image.width == 300 && image.samples == .uint8(Array(repeating: 0, count: 300 * 200)))
    }
}

