import Foundation
import TestSupport
import Testing

@testable import Imaging

/// `CodecCancellation` stops every decoder and encoder part way: at once when requested before, and inside the
/// work when its deadline passes during it (a check only at the start could not catch that).
@Suite struct CodecCancellationTests {
    /// 2400×1800 of noise: tens of milliseconds to decode or encode in every format, even on a fast machine.
    static let large: PixelImage = {
        var generator = SeededGenerator(seed: 42)
        let samples = (0..<(2400 * 1800 * 3)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return PixelImage(width: 2400, height: 1800, layout: .rgb, uint8: samples)
    }()

    static let encoded: [ImageFormat: [UInt8]] = {
        var files: [ImageFormat: [UInt8]] = [:]
        for format in ImageFormat.allCases { files[format] = try? ImageCodec.encode(large, as: format, quality: 90) }
        return files
    }()

    static func expectCancelled(_ body: () throws -> Void, _ comment: Comment) {
        do {
            try body()
            Issue.record("not stopped: \(comment)")
        } catch let error as ImagingError {
            #expect(error.code == .cancelled, "\(comment): \(error)")
            #expect(error.message.contains("stopped"), "\(comment): \(error)")
        } catch {
            Issue.record("\(comment): \(error)")
        }
    }

    @Test(arguments: ImageFormat.allCases)
    func aRequestMadeBeforeStopsDecodeAndEncode(_ format: ImageFormat) throws {
        let bytes = try #require(Self.encoded[format])
        let cancellation = CodecCancellation()
        // Not requested: the same pixels as without it.
        let plain = try ImageCodec.decode(bytes, source: "large")
        #expect(try ImageCodec.decode(bytes, source: "large", cancellation: cancellation) == plain)
        cancellation.cancel()
        #expect(cancellation.isCancelled)
        Self.expectCancelled({ _ = try ImageCodec.decode(bytes, source: "large", cancellation: cancellation) },
            "decode \(format)")
        Self.expectCancelled({ _ = try ImageCodec.encode(Self.large, as: format, cancellation: cancellation) },
            "encode \(format)")
    }

    @Test(arguments: ImageFormat.allCases)
    func aDeadlinePassingDuringTheWorkStopsIt(_ format: ImageFormat) throws {
        let bytes = try #require(Self.encoded[format])
        let decodeCancellation = CodecCancellation()
        decodeCancellation.setTimeout(.milliseconds(2))
        Self.expectCancelled({ _ = try ImageCodec.decode(bytes, source: "large", cancellation: decodeCancellation) },
            "decode \(format)")
        let encodeCancellation = CodecCancellation()
        encodeCancellation.setTimeout(.milliseconds(2))
        Self.expectCancelled({ _ = try ImageCodec.encode(Self.large, as: format, cancellation: encodeCancellation) },
            "encode \(format)")
        // A deadline removed in time does not stop anything.
        let lifted = CodecCancellation()
        lifted.setTimeout(.milliseconds(1))
        lifted.setTimeout(nil)
        Thread.sleep(forTimeInterval: 0.005)
        #expect(!lifted.isCancelled)
        #expect(try ImageCodec.decode(bytes, source: "large", cancellation: lifted).width == 2400)
    }
}
