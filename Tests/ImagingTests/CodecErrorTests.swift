import Foundation
import Imaging
import TestSupport
import Testing

@Suite struct CodecErrorTests {
    @Test func emptyInputIsTruncated() {
        for probe in [false, true] {
            let error = CodecSamples.expectError {
                if probe {
                    _ = try ImageCodec.probe([], source: "upload")
                } else {
                    _ = try ImageCodec.decode([], source: "upload")
                }
            }
            #expect(error?.code == .truncated)
            #expect(error?.source == "upload")
            #expect(error?.description == "upload: the file is empty (0 bytes)")
        }
    }

    @Test func cutInsideTheSignatureIsTruncated() {
        for bytes: [UInt8] in [
            [0x89, 0x50], [0xFF, 0xD8], Array("RIFF\u{0}\u{0}".utf8), Array("RIFF\u{0}\u{0}\u{0}\u{0}WE".utf8),
        ] {
            let error = CodecSamples.expectError { _ = try ImageCodec.decode(bytes, source: "short") }
            #expect(error?.code == .truncated, "\(bytes)")
        }
    }

    @Test func wrongMagicIsUnsupported() {
        let cases: [(bytes: [UInt8], mentions: String)] = [
            (Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8), "GIF"),
            (Array("BM\u{0}\u{0}\u{0}\u{0}".utf8), "BMP"),
            (Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8), "52 49 46 46"),
            (Array("hello, world".utf8), "68 65 6C 6C"),
            ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x00, 0, 0], "89 50 4E 47"),
        ]
        for (bytes, mentions) in cases {
            let error = CodecSamples.expectError { _ = try ImageCodec.decode(bytes, source: "odd.bin") }
            #expect(error?.code == .unsupportedFormat)
            #expect(error?.source == "odd.bin")
            #expect(error?.message.contains(mentions) == true, "\(String(describing: error))")
        }
    }

    @Test(arguments: 1...30)
    func randomGarbageIsRejected(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        let bytes = (0..<(seed * 37)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let error = CodecSamples.expectError { _ = try ImageCodec.decode(bytes, source: "garbage-\(seed)") }
        #expect(error?.code == .unsupportedFormat || error?.code == .truncated)
        #expect(error?.source == "garbage-\(seed)")
    }

    @Test(arguments: ImageFormat.allCases)
    func garbageBehindAValidSignatureIsRejected(format: ImageFormat) throws {
        var generator = SeededGenerator(seed: 77)
        let header = Array(
            try ImageCodec.encode(CodecSamples.image(width: 4, height: 4, layout: .rgb), as: format).prefix(12)
        )
        for length in [10, 100, 1000] {
            let bytes = header + (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let error = CodecSamples.expectError { _ = try ImageCodec.decode(bytes, source: "junk") }
            #expect(
                error.map { [ImagingError.Code.corrupt, .truncated, .unsupportedFormat].contains($0.code) } == true,
                "\(String(describing: error))"
            )
        }
    }

    @Test func truncatedWebPAtManyLengths() throws {
        for quality in [80, 100] {
            let image = CodecSamples.image(width: 40, height: 30, layout: .rgba, noise: 40)
            let webp = try ImageCodec.encode(image, as: .webp, quality: quality)
            let lengths = Array(0..<40) + Array(stride(from: 40, to: webp.count, by: 11)) + [webp.count - 1]
            for length in lengths {
                let error = CodecSamples.expectError {
                    _ = try ImageCodec.decode(Array(webp.prefix(length)), source: "cut.webp")
                }
                #expect(
                    error?.code == .truncated,
                    "q\(quality), cut at \(length) of \(webp.count): \(String(describing: error))"
                )
                #expect(error?.source == "cut.webp")
            }
        }
    }

    /// Flipped bytes anywhere in valid files: decoding may succeed or throw, but never crash, and errors name the
    /// source.
    @Test(arguments: ImageFormat.allCases)
    func damagedFilesNeverCrash(format: ImageFormat) throws {
        let image = CodecSamples.image(width: 33, height: 21, layout: .rgba, noise: 30)
        let valid = try ImageCodec.encode(image, as: format, quality: format == .webp ? 100 : 90)
        var generator = SeededGenerator(seed: 1234)
        var failures = 0
        for round in 0..<300 {
            var bytes = valid
            for _ in 0..<(1 + round % 4) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            do {
                let decoded = try ImageCodec.decode(bytes, source: "damaged")
                #expect(decoded.pixelCount > 0)
            } catch {
                failures += 1
                #expect(error.source == "damaged")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(failures > 0, "some damage must be detected")
    }

    @Test func animatedWebPIsUnsupported() throws {
        let frame = try ImageCodec.encode(
            CodecSamples.image(width: 4, height: 4, layout: .rgb),
            as: .webp,
            quality: 100
        )
        let vp8l = Array(frame[12...])  // the VP8L chunk, after "RIFF", size, "WEBP"
        func chunk(_ type: String, _ payload: [UInt8]) -> [UInt8] {
            let size = payload.count
            let padding: [UInt8] = size % 2 == 1 ? [0] : []
            return Array(type.utf8) + [UInt8(size & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size >> 16 & 0xFF), 0]
                + payload + padding
        }
        let threeBytes: (Int) -> [UInt8] = { [UInt8($0 & 0xFF), UInt8($0 >> 8 & 0xFF), UInt8($0 >> 16 & 0xFF)] }
        let vp8x = chunk("VP8X", [0x02, 0, 0, 0] + threeBytes(3) + threeBytes(3))  // animation flag, 4×4 canvas
        let anim = chunk("ANIM", [0, 0, 0, 0, 0, 0])
        let anmf = chunk(
            "ANMF",
            threeBytes(0) + threeBytes(0) + threeBytes(3) + threeBytes(3) + threeBytes(100) + [0] + vp8l
        )
        let body = Array("WEBP".utf8) + vp8x + anim + anmf
        let size = body.count
        let file =
            Array("RIFF".utf8) + [UInt8(size & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size >> 16 & 0xFF), 0] + body
        let error = CodecSamples.expectError { _ = try ImageCodec.decode(file, source: "anim.webp") }
        #expect(error?.code == .unsupportedFormat)
        #expect(error?.message.contains("animated") == true, "\(String(describing: error))")
    }

    /// libpng and libjpeg print warnings to stderr by default; ours must stay silent and carry on.
    @Test func warningsAreNotPrinted() throws {
        let image = CodecSamples.image(width: 16, height: 16, layout: .rgb, noise: 20)
        let jpeg = try ImageCodec.encode(image, as: .jpeg)
        let clean = try ImageCodec.decode(jpeg, source: "clean.jpg")
        // Bytes between two segments: libjpeg warns "Corrupt JPEG data: 3 extraneous bytes before marker".
        let app0Length = Int(jpeg[4]) << 8 | Int(jpeg[5])
        let afterApp0 = 4 + app0Length
        let extraneous = Array(jpeg[..<afterApp0]) + [0x00, 0x11, 0x22] + jpeg[afterApp0...]
        // A damaged ancillary chunk: libpng warns "tEXt: CRC error".
        var png = TestPNG(
            width: 2,
            height: 2,
            colourType: .grey,
            bitDepth: 8,
            samples: [1, 2, 3, 4],
            extraChunks: [("tEXt", Array("a\u{0}b".utf8))]
        ).encoded()
        png[33 + 8 + 3] ^= 0xFF

        var decoded: PixelImage?
        let printed = try capturingStandardError {
            decoded = try ImageCodec.decode(extraneous, source: "extra.jpg")
            _ = try ImageCodec.decode(png, source: "text.png")
            _ = CodecSamples.expectError { _ = try ImageCodec.decode(Array(jpeg.dropLast(20)), source: "cut.jpg") }
        }
        #expect(decoded == clean)
        // Tests running in parallel may have printed too, so look for the libraries' words only.
        for word in ["libpng", "CRC", "Corrupt JPEG", "extraneous", "Premature end"] {
            #expect(!printed.contains(word), "printed: \(printed)")
        }
    }

    /// What is written to file descriptor 2 while `body` runs (by anyone in the process); it is then written to the
    /// real stderr too, so that other tests' output is not lost.
    func capturingStandardError(_ body: () throws -> Void) throws -> String {
        let folder = TemporaryFolder("superres-stderr")
        let path = folder.appending("stderr")
        fflush(nil)  // every C stream, stderr included
        let saved = dup(2)
        let capture = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(saved >= 0 && capture >= 0)
        dup2(capture, 2)
        close(capture)
        defer {
            fflush(nil)  // every C stream, stderr included
            dup2(saved, 2)
            close(saved)
        }
        try body()
        fflush(nil)  // every C stream, stderr included
        let captured = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
        captured.withUnsafeBytes { _ = write(saved, $0.baseAddress, $0.count) }
        return String(decoding: captured, as: UTF8.self)
    }
}
