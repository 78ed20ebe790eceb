import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Imaging
import Logging
import NIOCore
import TestSupport
import Testing

@testable import Server

/// Models and pictures for the server tests, read from the shared folder.
enum Fixtures {
    static let fsrcnnX3 = SharedData.path("models/opencv/FSRCNN_x3.pb")
    static let fsrcnnX2 = SharedData.path("models/opencv/FSRCNN_x2.pb")
    static let edsrTinyX3 = SharedData.path("models/fixtures/edsr_tiny_x3.pb")
    static let butterfly = SharedData.path("datasets/Set5/butterfly.png")

    /// Whether the shared models and pictures are there; tests skip with `SharedData.missingMessage` otherwise.
    static var available: Bool {
        [fsrcnnX3, fsrcnnX2, edsrTinyX3, butterfly].allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }

    /// A `side`×`side` RGB crop of butterfly.png, decoded.
    static func crop(side: Int = 40, x: Int = 100, y: Int = 100) throws -> PixelImage {
        let image = try ImageFile.read(butterfly)
        guard case .uint8(let samples) = image.samples else { throw FixtureError("butterfly.png is not 8-bit") }
        let channels = image.layout.channelCount
        var out: [UInt8] = []
        out.reserveCapacity(side * side * channels)
        for row in y..<(y + side) {
            let start = (row * image.width + x) * channels
            out += samples[start..<(start + side * channels)]
        }
        return PixelImage(width: side, height: side, layout: image.layout, uint8: out)
    }

    /// The crop encoded as PNG.
    static func cropPNG(side: Int = 40) throws -> [UInt8] {
        try ImageCodec.encode(crop(side: side), as: .png)
    }

    /// A PNG whose header is intact and whose image data is scrambled (passes the probe, fails the decode).
    static func corruptPNG() throws -> [UInt8] {
        var bytes = try cropPNG(side: 32)
        // Keep the signature and IHDR (8 + 25 bytes) and the next chunk's length and type; scramble the rest.
        for index in 41..<bytes.count { bytes[index] = UInt8(truncatingIfNeeded: index &* 131 &+ 7) }
        return bytes
    }

    /// A PNG that is only its signature and IHDR chunk, declaring a `width`×`height` image.
    /// A TIFF (found by the fuzzer) whose header says 4294967295×4294967043 pixels: more than an Int holds.
    static func fourBillionSquaredTIFF() throws -> [UInt8] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return Array(try Data(contentsOf: root.appendingPathComponent("fuzz/corpus/tiff/refused-4g-by-4g-header.tif")))
    }

    static func headerOnlyPNG(width: Int, height: Int) -> [UInt8] {
        var chunk: [UInt8] = Array("IHDR".utf8)
        for value in [UInt32(width), UInt32(height)] {
            chunk += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }
        chunk += [8, 2, 0, 0, 0]
        let crc = crc32(chunk)
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        bytes += chunk
        bytes += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        return bytes
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// A multipart/form-data body.
struct MultipartBody {
    static let boundary = "superres-test-boundary-7MA4YWxkTrZu0gW"

    var parts: [(name: String, filename: String?, contentType: String?, bytes: [UInt8])] = []

    static func image(_ bytes: [UInt8], field: String = "image", filename: String = "photo.png") -> MultipartBody {
        MultipartBody(parts: [(field, filename, "image/png", bytes)])
    }

    var headers: HTTPFields {
        [.contentType: "multipart/form-data; boundary=\(Self.boundary)"]
    }

    var buffer: ByteBuffer {
        var bytes: [UInt8] = []
        for part in parts {
            var head = "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
            if let filename = part.filename { head += "; filename=\"\(filename)\"" }
            head += "\r\n"
            if let type = part.contentType { head += "Content-Type: \(type)\r\n" }
            head += "\r\n"
            bytes += Array(head.utf8) + part.bytes + Array("\r\n".utf8)
        }
        bytes += Array("--\(Self.boundary)--\r\n".utf8)
        return ByteBuffer(bytes: bytes)
    }
}

/// A server over a fresh data directory, deleted afterwards.
struct TestServer {
    let server: SuperresServer
    let dataDirectory: String
    /// The temporary folder made for the data when none was given (removed when the last copy of the value goes).
    private let temporaryFolder: TemporaryFolder?

    static func make(
        models: [String] = [Fixtures.fsrcnnX3],
        dataDirectory: String? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        let folder: TemporaryFolder?
        let directory: String
        if let dataDirectory {
            folder = nil
            directory = dataDirectory
        } else {
            let made = TemporaryFolder("superres-server-tests")
            folder = made
            directory = made.path
        }
        var configuration = ServerConfiguration()
        configuration.models = models
        configuration.dataDirectory = directory
        configuration.port = 0
        configuration.shutdownGracePeriod = .seconds(5)
        configure(&configuration)
        var logger = Logger(label: "superres.test")
        logger.logLevel = .warning
        let server = try await SuperresServer.start(configuration: configuration, logger: logger)
        return TestServer(server: server, dataDirectory: directory, temporaryFolder: folder)
    }

    /// Runs `body` against the server through Hummingbird's router test client (no socket).
    func withClient<Value: Sendable>(
        _ setup: TestingSetup = .router,
        _ body: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        try await server.makeApplication().test(setup, body)
    }

    func removeData() {
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

extension TestResponse {
    /// The body's bytes.
    var bytes: [UInt8] { Array(body.readableBytesView) }

    /// The body as text.
    var text: String { String(buffer: body) }

    /// The body decoded as a problem (nil when it is not one).
    var problem: ProblemDetails? {
        guard headers[.contentType] == ProblemDetails.mediaType else { return nil }
        return try? JSONDecoder().decode(ProblemDetails.self, from: Data(bytes))
    }

    /// The body as a JSON object.
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }
}

extension TestClientProtocol {
    /// Posts `body` as multipart/form-data to `uri`.
    func post(_ uri: String, _ body: MultipartBody) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: body.headers, body: body.buffer)
    }

    /// Submits a job and returns its id.
    func submitJob(_ body: MultipartBody, query: String = "") async throws -> String {
        let response = try await post("/api/v1/jobs" + query, body)
        #expect(response.status == .accepted, "\(response.text)")
        guard let id = response.json?["id"] as? String else { throw FixtureError("no job id in \(response.text)") }
        return id
    }

    /// Polls a job until `done` says so (or 60 s pass); returns its last JSON.
    func waitForJob(
        _ id: String,
        until done: ([String: Any]) -> Bool = { ["succeeded", "failed", "cancelled"].contains($0["state"] as? String) }
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while ContinuousClock.now < deadline {
            let response = try await execute(uri: "/api/v1/jobs/\(id)", method: .get)
            if let json = response.json, done(json) { return json }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw FixtureError("job \(id) did not reach the expected state in 60 s")
    }
}

/// Expects `response` to be a problem of kind `code`, with a non-empty detail.
func expectProblem(
    _ response: TestResponse,
    _ code: ServiceError.Code,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(response.status == code.status, "\(response.text)", sourceLocation: sourceLocation)
    #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
    guard let problem = response.problem else {
        Issue.record("not a problem body: \(response.text)", sourceLocation: sourceLocation)
        return
    }
    #expect(problem.type == code.type, sourceLocation: sourceLocation)
    #expect(problem.status == code.status.code, sourceLocation: sourceLocation)
    #expect(problem.title == code.title, sourceLocation: sourceLocation)
    #expect(problem.detail.count > 10, sourceLocation: sourceLocation)
    #expect(problem.requestId != nil, sourceLocation: sourceLocation)
}

/// A gate a test opens to let a held worker go on.
final class Gate: @unchecked Sendable {
    // @unchecked Sendable: DispatchSemaphore is thread-safe; `entered` is guarded by `lock`.
    private let semaphore = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var entered = false

    /// Blocks the calling (worker) thread until `open()`; records that it got here.
    func wait() {
        lock.withLock { entered = true }
        semaphore.wait()
    }

    var hasEntered: Bool { lock.withLock { entered } }

    func open() {
        semaphore.signal()
    }

    /// Waits (polling) until a worker is held at the gate.
    func waitUntilEntered() async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while !hasEntered {
            guard ContinuousClock.now < deadline else { throw FixtureError("no worker reached the gate") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
