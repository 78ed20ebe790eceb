import Foundation
import HTTPTypes
import HummingbirdTesting
import Imaging
import Pipeline
import TestSupport
import Testing

@testable import Server

/// `--model auto` in the service: the choice per upload, in the job JSON, the `/enhance` headers and the model list.
@Suite(.enabled(if: Fixtures.available, Comment(rawValue: SharedData.missingMessage)))
struct AutoModelServiceTests {
    /// A server with `auto` (×3) as its default model beside FSRCNN_x3, or the test is cancelled when the store
    /// lacks one of auto's networks (SPAN ×2 and ×4, SRMD ×2 to ×4).
    static func autoServer() async throws -> TestServer {
        do {
            return try await TestServer.make(models: ["auto", Fixtures.fsrcnnX3])
        } catch let error as ServerStartupError {
            try Test.cancel("auto needs span-ch52-x2/-x4 and srmd-x2/-x3/-x4 in the model store: \(error)")
        }
    }

    /// A 96×80 crop of Set5's butterfly.
    static func butterflyCrop() throws -> PixelImage {
        let butterfly = try ImageFile.read(Fixtures.butterfly)
        guard case .uint8(let samples) = butterfly.samples else { throw FixtureError("8-bit expected") }
        var crop = [UInt8]()
        for y in 60..<140 { crop += samples[((y * butterfly.width + 60) * 3)..<((y * butterfly.width + 156) * 3)] }
        return PixelImage(width: 96, height: 80, layout: .rgb, uint8: crop)
    }

    /// The crop as a JPEG of `quality`.
    static func butterflyJPEG(quality: Int) throws -> [UInt8] {
        try ImageCodec.encode(try butterflyCrop(), as: .jpeg, quality: quality)
    }

    @Test func aJobRecordsTheEstimateAndTheChoice() async throws {
        let test = try await Self.autoServer()
        defer { test.removeData() }
        let jpeg = try Self.butterflyJPEG(quality: 35)
        try await test.withClient { client in
            let models = try await client.execute(uri: "/api/v1/models", method: .get).json
            #expect(models?["default"] as? String == "auto")
            let list = try #require(models?["models"] as? [[String: Any]])
            #expect(list.first?["family"] as? String == "auto" && list.first?["scale"] as? Int == 3)
            #expect(list.map { $0["content"] as? String } == ["photo", "photo"])
            let catalogue = try #require(models?["catalogue"] as? [[String: Any]])
            let anime = catalogue.first { $0["name"] as? String == "realesr-animevideov3-x3" }
            #expect(anime?["content"] as? String == "drawing")
            #expect(catalogue.first { $0["name"] as? String == "span-ch52-x4" }?["content"] as? String == "photo")
            let id = try await client.submitJob(.image(jpeg, filename: "old.jpg"))
            let job = try await client.waitForJob(id)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            #expect(job["model"] as? String == "auto")
            let degradation = try #require(job["degradation"] as? [String: Any])
            #expect(degradation["jpegQuality"] as? Int == 35)
            #expect(degradation["noiseSigma"] is Double && degradation["blockiness"] is Double)
            let choice = try #require(job["choice"] as? String)
            #expect(choice.hasPrefix("srmd-x3, noise level "), "\(choice)")
            let summary = try #require(job["choiceSummary"] as? String)
            #expect(summary.hasPrefix("JPEG quality 35, ") && summary.hasSuffix("→ \(choice)"), "\(summary)")
            // The result is the one SRMD gives at that level.
            let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get)
            #expect(try ImageCodec.decode(result.bytes, source: "result").width == 288)
        }
    }

    @Test func enhanceNamesTheNetworkThatRanAndAFixedModelStaysFixed() async throws {
        let test = try await Self.autoServer()
        defer { test.removeData() }
        let jpeg = try Self.butterflyJPEG(quality: 35)
        try await test.withClient { client in
            let auto = try await client.post("/enhance", .image(jpeg, filename: "old.jpg"))
            #expect(auto.status == .ok, "\(auto.text)")
            #expect(auto.headers[HTTPField.Name("X-Superres-Model")!] == "auto")
            let choice = try #require(auto.headers[HTTPField.Name("X-Superres-Choice")!])
            #expect(choice.hasPrefix("srmd-x3; noise=") && choice.contains("; jpeg-quality=35; "), "\(choice)")
            // A clean picture gets the ×3 default, the ×4 SPAN shrunk to three times the size; ×8 chains two SPANs.
            let png = try ImageCodec.encode(try Self.butterflyCrop(), as: .png)
            let clean = try await client.post("/enhance?model=auto", .image(png, filename: "clean.png"))
            #expect(clean.status == .ok, "\(clean.text)")
            let cleanChoice = clean.headers[HTTPField.Name("X-Superres-Choice")!] ?? ""
            #expect(cleanChoice.hasPrefix("span-ch52-x4; "), "\(cleanChoice)")
            #expect(try ImageCodec.probe(clean.bytes, source: "r").width == 96 * 3)
            let eight = try await client.post("/enhance?model=auto&scale=8", .image(png, filename: "clean.png"))
            #expect(eight.headers[HTTPField.Name("X-Superres-Choice")!]?.hasPrefix("span-ch52-x2+span-ch52-x4; ") == true)
            #expect(try ImageCodec.probe(eight.bytes, source: "r").width == 96 * 8)
            let named = try await client.post("/enhance?model=FSRCNN_x3", .image(jpeg, filename: "old.jpg"))
            #expect(named.status == .ok)
            #expect(named.headers[HTTPField.Name("X-Superres-Choice")!] == "FSRCNN_x3")
        }
    }
}
