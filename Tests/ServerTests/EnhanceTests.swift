import Foundation
import HTTPTypes
import HummingbirdTesting
import Imaging
import Kernels
import Models
import NIOCore
import Pipeline
import TestSupport
import Testing

@testable import Server

/// `POST /enhance`: the Flask service's API, its results and every way it refuses a request.
@Suite(.enabled(if: Fixtures.available, Comment(rawValue: SharedData.missingMessage)))
struct EnhanceTests {
    @Test func answersThePixelsOfTheUpscaler() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 40)
        let expected = try Upscaler(model: ModelLoader.load(path: Fixtures.fsrcnnX3))
            .upscale(ImageCodec.decode(png, source: "crop"))
        try await test.withClient { client in
            let response = try await client.post("/enhance", .image(png, filename: "crop.png"))
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.headers[.contentType] == "image/png")
            #expect(response.headers[.contentDisposition] == "inline; filename=\"crop_x3.png\"")
            #expect(response.headers[HTTPField.Name("X-Superres-Model")!] == "FSRCNN_x3")
            let timing = try #require(response.headers[HTTPField.Name("Server-Timing")!])
            #expect(Self.timingNames(timing) == ["queue", "decode", "upscale", "encode"], "\(timing)")
            let result = try ImageCodec.decode(response.bytes, source: "response")
            #expect(result.width == 120 && result.height == 120)
            #expect(result == expected)
            // The CLI's encoder and settings: the same bytes as `superres upscale` writes.
            #expect(response.bytes == (try ImageCodec.encode(expected, as: .png)))
        }
    }

    /// The metric names of a Server-Timing value such as `queue;dur=0.1, decode;dur=4.2`, each with a duration ≥ 0.
    static func timingNames(_ value: String) -> [String] {
        value.split(separator: ",").compactMap { entry in
            let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: ";")
            guard parts.count == 2, parts[1].hasPrefix("dur="), let duration = Double(parts[1].dropFirst(4)),
                duration >= 0
            else { return nil }
            return String(parts[0])
        }
    }

    @Test func resultsOverTheOutputLimitsAreRefusedBeforeAnyWork() async throws {
        // 5500×8 ×3 is 16500 pixels wide: too wide for WebP, not for PNG or the default pixel limit.
        let wide = try ImageCodec.encode(
            PixelImage(width: 5500, height: 8, layout: .grey, uint8: Array(repeating: 128, count: 44_000)), as: .png)
        let defaults = try await TestServer.make()
        defer { defaults.removeData() }
        try await defaults.withClient { client in
            let webp = try await client.post("/enhance?format=webp", .image(wide, filename: "wide.png"))
            expectProblem(webp, .imageTooLarge)
            #expect(webp.text.contains("16383"), "\(webp.text)")
            let png = try await client.post("/enhance?format=png", .image(wide, filename: "wide.png"))
            #expect(png.status == .ok, "\(png.text)")
        }
        let test = try await TestServer.make { $0.maxOutputPixels = 100 * 100 }
        defer { test.removeData() }
        try await test.withClient { client in
            // 40×40 ×3 is 120×120 = 14400 pixels, over this server's 10000.
            let crop = try Fixtures.cropPNG(side: 40)
            let big = try await client.post("/enhance", .image(crop, filename: "crop.png"))
            expectProblem(big, .imageTooLarge)
            #expect(big.text.contains("10000 output pixels"), "\(big.text)")
            let job = try await client.post("/api/v1/jobs", .image(crop, filename: "crop.png"))
            expectProblem(job, .imageTooLarge)
            // Refused at intake: nothing was queued or enlarged.
            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(!metrics.contains("outcome=\"succeeded\""), "\(metrics)")
            let small = try await client.post("/enhance", .image(try Fixtures.cropPNG(side: 30)))
            #expect(small.status == .ok, "\(small.text)")
        }
    }

    /// `tta=true`: the upscaler's self-ensemble, on `/enhance` and on jobs (kept in the job's record).
    @Test func selfEnsembleIsAskedForWithTTA() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 24)
        let model = try ModelLoader.load(path: Fixtures.fsrcnnX3)
        let input = try ImageCodec.decode(png, source: "crop")
        let plain = try Upscaler(model: model).upscale(input)
        let ensemble = try Upscaler(model: model, options: UpscaleOptions(selfEnsemble: true)).upscale(input)
        #expect(plain != ensemble)
        try await test.withClient { client in
            let response = try await client.post("/enhance?tta=true", .image(png))
            #expect(response.status == .ok, "\(response.text)")
            #expect(try ImageCodec.decode(response.bytes, source: "tta") == ensemble)
            let off = try await client.post("/enhance?tta=false", .image(png))
            #expect(try ImageCodec.decode(off.bytes, source: "no tta") == plain)
            expectProblem(try await client.post("/enhance?tta=maybe", .image(png)), .badRequest)

            let id = try await client.submitJob(.image(png), query: "?tta=1")
            let job = try await client.waitForJob(id)
            #expect(job["state"] as? String == "succeeded")
            #expect(job["tta"] as? Bool == true)
            let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get)
            #expect(try ImageCodec.decode(result.bytes, source: "job") == ensemble)
        }
    }

    /// `metadata=keep|strip`: the result carries the upload's profile, EXIF and XMP, or the profile only; a job's
    /// record says what was kept.
    @Test func theResultKeepsOrStripsTheUploadsMetadata() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        var metadata = ImageMetadata()
        metadata.iccProfile = ICCProfile(makeProfile("Test RGB"))
        metadata.exif = ExifBuilder(orientation: 1).build()
        metadata.xmp = Array("<x:xmpmeta dc:title=\"kept\"/>".utf8)
        metadata.density = PixelDensity(x: 300, y: 300)
        let picture = try ImageCodec.decode(try Fixtures.cropPNG(side: 24), source: "crop")
        let upload = try ImageCodec.encode(picture, as: .png, metadata: metadata)
        let sent = metadata
        try await test.withClient { client in
            for format in ["png", "jpg", "webp"] {
                let kept = ImageMetadata(reading: try await client.post("/enhance?format=\(format)", .image(upload)).bytes)
                #expect(kept.iccProfile?.bytes == sent.iccProfile?.bytes, "\(format)")
                #expect(kept.exif != nil && kept.xmp == sent.xmp, "\(format)")
                let stripped = ImageMetadata(
                    reading: try await client.post("/enhance?format=\(format)&metadata=strip", .image(upload)).bytes)
                #expect(stripped.iccProfile?.bytes == sent.iccProfile?.bytes, "\(format)")
                #expect(stripped.exif == nil && stripped.xmp == nil, "\(format)")
            }
            expectProblem(try await client.post("/enhance?metadata=some", .image(upload)), .badRequest)
            // A TIFF result at the same print size: 300 dpi × 3.
            let tiff = try await client.post("/enhance?format=tif&tiff_compression=lzw&dpi=scale", .image(upload))
            #expect(tiff.status == .ok && ImageFormat(sniffing: tiff.bytes) == .tiff, "\(tiff.text)")
            #expect(ImageMetadata(reading: tiff.bytes).density == PixelDensity(x: 900, y: 900))
            expectProblem(try await client.post("/enhance?dpi=lots", .image(upload)), .badRequest)
            expectProblem(try await client.post("/enhance?tiff_compression=zip", .image(upload)), .badRequest)
            let id = try await client.submitJob(.image(upload), query: "?metadata=strip")
            let job = try await client.waitForJob(id)
            #expect(job["state"] as? String == "succeeded")
            #expect(job["metadata"] as? String == "strip")
            let report = job["metadataReport"] as? [String] ?? []
            #expect(report.contains("colour profile Test RGB: kept"), "\(report)")
            #expect(report.contains("EXIF: dropped (metadata stripped on request)"), "\(report)")
            let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get)
            let stored = ImageMetadata(reading: result.bytes)
            #expect(stored.iccProfile != nil && stored.exif == nil && stored.density == sent.density)
        }
    }

    /// `POST /api/v1/inspect`: what an upload carries and what its result keeps, without enlarging it.
    @Test func inspectSaysWhatTheUploadCarries() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        var metadata = ImageMetadata()
        metadata.iccProfile = ICCProfile(makeProfile("Test RGB"))
        metadata.exif = ExifBuilder(orientation: 6).build()
        let picture = try ImageCodec.decode(try Fixtures.cropPNG(side: 24), source: "crop")
        let upload = try ImageCodec.encode(picture, as: .jpeg, metadata: metadata)
        try await test.withClient { client in
            let response = try await client.post("/api/v1/inspect?format=webp", .image(upload))
            #expect(response.status == .ok, "\(response.text)")
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(response.bytes)) as? [String: Any])
            #expect(answer["format"] as? String == "jpeg" && answer["pages"] as? Int == 1)
            #expect(answer["colourProfile"] as? String == "Test RGB")
            let keep = answer["keep"] as? [String] ?? []
            let strip = answer["strip"] as? [String] ?? []
            #expect(keep.contains { $0.hasPrefix("EXIF: kept (orientation 1, size 72×72") }, "\(keep)")
            #expect(strip.contains("EXIF: dropped (metadata stripped on request)"), "\(strip)")
            expectProblem(try await client.post("/api/v1/inspect?colour=cmyk", .image(upload)), .badRequest)
            expectProblem(
                try await client.post("/api/v1/inspect", .image(Array("not a picture".utf8))), .unsupportedImage)
        }
    }

    @Test func pngCompressionChangesTheBytesNotThePixels() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 32)
        try await test.withClient { client in
            var sizes: [Int] = []
            var images: [PixelImage] = []
            for level in [0, 1, 9] {
                let response = try await client.post("/enhance?png_compression=\(level)", .image(png))
                #expect(response.status == .ok, "\(response.text)")
                sizes.append(response.bytes.count)
                images.append(try ImageCodec.decode(response.bytes, source: "level \(level)"))
            }
            #expect(images[0] == images[1] && images[1] == images[2])
            #expect(sizes[2] < sizes[1] && sizes[1] < sizes[0], "\(sizes)")
            for bad in ["10", "-1", "fast"] {
                let response = try await client.post("/enhance?png_compression=\(bad)", .image(png))
                #expect(response.status == .badRequest, "png_compression=\(bad)")
                #expect(response.text.contains("png_compression"), "\(response.text)")
            }
        }
    }

    @Test(.enabled(if: BFloat16Hardware.best != nil, "this CPU has no bfloat16 instructions"))
    func servesInTheConfiguredPrecision() async throws {
        let espcn = SharedData.path("models/opencv/ESPCN_x3.pb")
        let test = try await TestServer.make(models: [espcn]) { $0.precision = .bf16 }
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 40)
        let crop = try ImageCodec.decode(png, source: "crop")
        let bf16 = try Upscaler(model: ModelLoader.load(path: espcn, precision: .bf16)).upscale(crop)
        let fp32 = try Upscaler(model: ModelLoader.load(path: espcn)).upscale(crop)
        #expect(bf16 != fp32, "ESPCN's 64→32 convolution runs in bfloat16")
        try await test.withClient { client in
            let response = try await client.post("/enhance", .image(png, filename: "crop.png"))
            #expect(response.status == .ok, "\(response.text)")
            #expect(try ImageCodec.decode(response.bytes, source: "response") == bf16)
        }
    }

    @Test func edsrResultMatchesTheUpscalerToo() async throws {
        let test = try await TestServer.make(models: [Fixtures.edsrTinyX3])
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 24)
        let expected = try Upscaler(model: ModelLoader.load(path: Fixtures.edsrTinyX3))
            .upscale(ImageCodec.decode(png, source: "crop"))
        try await test.withClient { client in
            let response = try await client.post("/enhance", .image(png))
            #expect(response.status == .ok, "\(response.text)")
            #expect(try ImageCodec.decode(response.bytes, source: "response") == expected)
        }
    }

    @Test(arguments: [("jpg", "image/jpeg"), ("jpeg", "image/jpeg"), ("webp", "image/webp"), ("png", "image/png")])
    func encodesTheRequestedFormat(format: String, mediaType: String) async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 24)
        try await test.withClient { client in
            let response = try await client.post("/enhance?format=\(format)&quality=90", .image(png))
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.headers[.contentType] == mediaType)
            let header = try ImageCodec.probe(response.bytes, source: "response")
            #expect(header.format.mediaType == mediaType)
            #expect(header.width == 72)
        }
    }

    @Test func picksTheModelByNameOrScale() async throws {
        let test = try await TestServer.make(models: [Fixtures.fsrcnnX3, Fixtures.fsrcnnX2])
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 20)
        try await test.withClient { client in
            let byScale = try await client.post("/enhance?scale=2", .image(png))
            #expect(byScale.headers[HTTPField.Name("X-Superres-Model")!] == "FSRCNN_x2")
            #expect(try ImageCodec.probe(byScale.bytes, source: "r").width == 40)
            let byName = try await client.post("/enhance?model=FSRCNN_x2", .image(png))
            #expect(try ImageCodec.probe(byName.bytes, source: "r").width == 40)
            let byDefault = try await client.post("/enhance", .image(png))
            #expect(try ImageCodec.probe(byDefault.bytes, source: "r").width == 60)
            let both = try await client.post("/enhance?model=FSRCNN_x3&scale=3", .image(png))
            #expect(both.status == .ok)
        }
    }

    /// Any `scale` and a `width` or `height`: the exact size, the same pixels as `superres upscale` gives, and a
    /// result name that says the size.
    @Test func anyScaleOrSizeGivesTheCommandLinesPixels() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 20)
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let input = folder.appending("crop.png")
        try Data(png).write(to: URL(fileURLWithPath: input))
        let cases: [(query: String, arguments: [String], width: Int, suffix: String)] = [
            ("scale=2.5", ["--scale", "2.5"], 50, "x2.5"), ("scale=x4", ["--scale", "4"], 80, "x4"),
            ("width=45", ["--width", "45"], 45, "45x45"), ("height=33", ["--height", "33"], 33, "33x33"),
            ("scale=1", ["--scale", "1"], 20, "x1"),
        ]
        try await test.withClient { client in
            for c in cases {
                let response = try await client.post("/enhance?\(c.query)", .image(png, filename: "crop.png"))
                #expect(response.status == .ok, "\(c.query): \(response.text)")
                #expect(response.headers[.contentDisposition] == "inline; filename=\"crop_\(c.suffix).png\"")
                let served = try ImageCodec.decode(response.bytes, source: "response")
                #expect(served.width == c.width && served.height == c.width, "\(c.query)")
                guard CommandRunner.isAvailable else { continue }
                let output = folder.appending("cli-\(c.suffix).png")
                let cli = try CommandRunner.run(
                    ["upscale", input, "-o", output, "--model", Fixtures.fsrcnnX3] + c.arguments)
                #expect(cli.status == 0, "\(cli.standardError)")
                #expect(try ImageFile.read(output) == served, "\(c.query): the service and the CLI differ")
            }
            // A job keeps the size asked for, and its result is named after it.
            let id = try await client.submitJob(.image(png, filename: "a.png"), query: "?width=45")
            let finished = try await client.waitForJob(id)
            #expect(finished["width"] as? Int == 45 && finished["height"] == nil, "\(finished)")
            let output = try #require(finished["output"] as? [String: Any])
            #expect(output["width"] as? Int == 45 && output["height"] as? Int == 45)
            let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get)
            #expect(result.headers[.contentDisposition] == "inline; filename=\"a_45x45.png\"")
        }
    }

    @Test func refusesUnknownModelsAndBadParameters() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 16)
        try await test.withClient { client in
            expectProblem(try await client.post("/enhance?model=nope", .image(png)), .unknownModel)
            expectProblem(try await client.post("/enhance?scale=three", .image(png)), .badRequest)
            expectProblem(try await client.post("/enhance?scale=17", .image(png)), .badRequest)
            expectProblem(try await client.post("/enhance?scale=0.5", .image(png)), .badRequest)
            expectProblem(try await client.post("/enhance?scale=2&width=40", .image(png)), .badRequest)
            expectProblem(try await client.post("/enhance?width=0", .image(png)), .badRequest)
            let smaller = try await client.post("/enhance?width=8", .image(png))
            expectProblem(smaller, .badRequest)
            #expect(smaller.text.contains("only enlarges"), "\(smaller.text)")
            expectProblem(try await client.post("/enhance?height=400", .image(png)), .badRequest)
            expectProblem(try await client.post("/enhance?format=gif", .image(png)), .badRequest)
            expectProblem(try await client.post("/enhance?quality=0", .image(png)), .badRequest)
            // Empty values are not the defaults: the document's enums and ranges have no empty member.
            for empty in ["format=", "scale=", "width=", "height=", "quality=", "png_compression="] {
                expectProblem(try await client.post("/enhance?\(empty)", .image(png)), .badRequest)
            }
            // An empty model means the default one.
            #expect(try await client.post("/enhance?model=", .image(png)).status == .ok)
        }
    }

    @Test func missingOrMisnamedFieldIs400() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 16)
        try await test.withClient { client in
            let wrongName = try await client.post("/enhance", .image(png, field: "file"))
            expectProblem(wrongName, .missingImage)
            #expect(wrongName.problem?.detail.contains("'file'") == true)
            // RFC 2046 asks for at least one part: a body that is only the closing boundary is malformed.
            let noParts = try await client.post("/enhance", MultipartBody(parts: []))
            expectProblem(noParts, .malformedForm)
            let empty = try await client.post("/enhance", .image([]))
            expectProblem(empty, .missingImage)
            let textOnly = MultipartBody(parts: [("comment", nil, nil, Array("hello".utf8))])
            expectProblem(try await client.post("/enhance", textOnly), .missingImage)
        }
    }

    @Test func formsWithManyPartsOrHugePartHeadersAre400() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 16)
        try await test.withClient { client in
            // Thousands of empty fields: each would cost a part's bookkeeping.
            var many = MultipartBody.image(png)
            for index in 0..<5000 { many.parts.append(("f\(index)", nil, nil, [])) }
            let tooMany = try await client.post("/enhance", many)
            expectProblem(tooMany, .malformedForm)
            #expect(tooMany.problem?.detail.contains("more than 16 parts") == true, "\(tooMany.text)")
            // One part whose headers are 20 KB.
            let longName = MultipartBody(parts: [(String(repeating: "n", count: 20_000), nil, nil, png)])
            let huge = try await client.post("/enhance", longName)
            expectProblem(huge, .malformedForm)
            #expect(huge.problem?.detail.contains("bytes of headers") == true, "\(huge.text)")
            // Up to 16 fields, the image among them, is fine; the others' contents are ignored.
            var fine = MultipartBody.image(png)
            for index in 0..<15 { fine.parts.append(("note\(index)", nil, nil, Array(repeating: 65, count: 1000))) }
            #expect(try await client.post("/enhance", fine).status == .ok)
        }
    }

    @Test func malformedMultipartIs400AndOtherBodiesAre415() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 16)
        try await test.withClient { client in
            // Cut before the closing boundary.
            var cut = MultipartBody.image(png).buffer
            cut.moveWriterIndex(to: cut.writerIndex - 60)
            let truncated = try await client.execute(
                uri: "/enhance",
                method: .post,
                headers: MultipartBody.image(png).headers,
                body: cut
            )
            expectProblem(truncated, .malformedForm)
            let noBoundary = try await client.execute(
                uri: "/enhance",
                method: .post,
                headers: [.contentType: "multipart/form-data"],
                body: MultipartBody.image(png).buffer
            )
            expectProblem(noBoundary, .malformedForm)
            let raw = try await client.execute(
                uri: "/enhance",
                method: .post,
                headers: [.contentType: "image/png"],
                body: ByteBuffer(bytes: png)
            )
            expectProblem(raw, .notMultipart)
            let none = try await client.execute(uri: "/enhance", method: .post, body: ByteBuffer(bytes: png))
            expectProblem(none, .notMultipart)
        }
    }

    @Test func unsupportedFormatIs415AndCorruptImagesAre422() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 32)
        try await test.withClient { client in
            let gif = Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 64)
            let unsupported = try await client.post("/enhance", .image(gif, filename: "anim.gif"))
            expectProblem(unsupported, .unsupportedImage)
            #expect(unsupported.problem?.detail.contains("GIF is not supported") == true)
            expectProblem(try await client.post("/enhance", .image(Array("hello world".utf8))), .unsupportedImage)

            let truncated = try await client.post("/enhance", .image(Array(png.prefix(png.count / 2))))
            expectProblem(truncated, .corruptImage)
            expectProblem(try await client.post("/enhance", .image(Array(png.prefix(5)))), .corruptImage)
            expectProblem(try await client.post("/enhance", .image(try Fixtures.corruptPNG())), .corruptImage)
        }
    }

    @Test func uploadsOverTheLimitAre413() async throws {
        let test = try await TestServer.make { $0.maxUploadBytes = 4096 }
        defer { test.removeData() }
        let big = [UInt8](repeating: 7, count: 10_000)
        try await test.withClient { client in
            let response = try await client.post("/enhance", .image(big))
            expectProblem(response, .uploadTooLarge)
            #expect(response.problem?.detail.contains("limit") == true)
        }
    }

    @Test func imagesWithTooManyPixelsAre413BeforeDecoding() async throws {
        let test = try await TestServer.make { $0.maxPixels = 1000 }
        defer { test.removeData() }
        try await test.withClient { client in
            // Only a header: a decode would fail, so a 413 shows the limit was checked first.
            let huge = Fixtures.headerOnlyPNG(width: 30_000, height: 30_000)
            let response = try await client.post("/enhance", .image(huge, filename: "huge.png"))
            expectProblem(response, .imageTooLarge)
            #expect(response.problem?.detail.contains("30000×30000") == true)
            expectProblem(try await client.post("/enhance", .image(try Fixtures.cropPNG(side: 40))), .imageTooLarge)
        }
    }

    @Test func aTIFFHeaderClaimingFourBillionSquaredIs413NotACrash() async throws {
        // TIFF sizes are 32-bit: 4294967295 × 4294967043 pixels do not fit in an Int. The server once trapped here.
        let test = try await TestServer.make()
        defer { test.removeData() }
        try await test.withClient { client in
            for path in ["/enhance", "/api/v1/jobs"] {
                let response = try await client.post(path, .image(try Fixtures.fourBillionSquaredTIFF(), filename: "huge.tif"))
                expectProblem(response, .imageTooLarge)
                #expect(response.problem?.detail.contains("4294967295×4294967043") == true, "\(response.text)")
            }
        }
    }

    @Test func fullQueueIs503WithRetryAfter() async throws {
        let test = try await TestServer.make {
            $0.workers = 1
            $0.queueCapacity = 1
        }
        defer { test.removeData() }
        let server = test.server
        // Take every place (one running, one waiting).
        try await server.engine.admit()
        try await server.engine.admit()
        let png = try Fixtures.cropPNG(side: 16)
        try await test.withClient { client in
            let response = try await client.post("/enhance", .image(png))
            expectProblem(response, .queueFull)
            let retry = try #require(response.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...120).contains(retry))
            expectProblem(try await client.post("/api/v1/jobs", .image(png)), .queueFull)
            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(metrics.contains("superres_queue_rejections_total 2"))
            await server.admission.release(processingSeconds: nil)
            await server.admission.release(processingSeconds: nil)
            #expect(try await client.post("/enhance", .image(png)).status == .ok)
        }
    }

    @Test func anUpscaleOverTheTimeLimitIs504() async throws {
        let test = try await TestServer.make {
            $0.tileSize = 8
            $0.jobTimeout = .milliseconds(50)
        }
        defer { test.removeData() }
        // Hold the first tile past the limit; the check before the second tile stops it.
        test.server.engine.afterTile.withLock { $0 = { _, _ in Thread.sleep(forTimeInterval: 0.2) } }
        let png = try Fixtures.cropPNG(side: 24)
        try await test.withClient { client in
            let response = try await client.post("/enhance", .image(png, filename: "slow.png"))
            expectProblem(response, .jobTimeout)
            #expect(response.problem?.detail.contains("slow.png") == true)
            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(metrics.contains("outcome=\"timeout\""))
        }
    }

    @Test func shutdownRefusesNewImages() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 16)
        try await test.withClient { client in
            await test.server.drain()
            expectProblem(try await client.post("/enhance", .image(png)), .shuttingDown)
            expectProblem(try await client.post("/api/v1/jobs", .image(png)), .shuttingDown)
            expectProblem(try await client.execute(uri: "/readyz", method: .get), .notReady)
        }
    }
}
