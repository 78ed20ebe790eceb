import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import HummingbirdTesting
import Imaging
import NIOCore
import TestSupport
import Testing

@testable import Server

/// The server on a real loopback listener: in process through Hummingbird's live test client, and as the built
/// `superres serve` binary (start-up check, request, graceful shutdown on SIGTERM).
@Suite(.enabled(if: Fixtures.available, Comment(rawValue: SharedData.missingMessage)))
struct LiveServerTests {
    @Test func enhanceAndEventsOverALoopbackSocket() async throws {
        let test = try await TestServer.make { $0.tileSize = 16 }
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 32)
        try await test.withClient(.live) { client in
            #expect(client.port != nil)
            let enhanced = try await client.post("/enhance", .image(png))
            #expect(enhanced.status == .ok)
            #expect(try ImageCodec.probe(enhanced.bytes, source: "r").width == 96)
            let id = try await client.submitJob(.image(png))
            let events = try await client.execute(uri: "/api/v1/jobs/\(id)/events", method: .get)
            #expect(events.headers[.contentType] == "text/event-stream; charset=utf-8")
            #expect(ServerSentEvent.parse(events.text).last?.name == "done")
            let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get)
            #expect(result.bytes == enhanced.bytes)
            expectProblem(try await client.post("/enhance", .image(Array("junk".utf8))), .unsupportedImage)
        }
    }

    @Test func connectionsThatSendNothingMoreAreClosedAfterTheIdleTimeout() async throws {
        let test = try await TestServer.make { $0.idleTimeout = .milliseconds(700) }
        defer { test.removeData() }
        try await test.withClient(.live) { client in
            let port = try #require(client.port)
            // Half a request line, then silence: a slowloris client.
            let stalled = try RawConnection(port: port)
            stalled.send("GET /heal")
            let start = ContinuousClock.now
            #expect(await stalled.readUntilClosed(timeout: 10) == "", "the server answers nothing and closes")
            let waited = start.duration(to: .now)
            #expect(waited >= .milliseconds(500) && waited < .seconds(5), "\(waited)")
            // Meanwhile, and after, other clients are served.
            let fresh = try RawConnection(port: port)
            fresh.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            #expect(await fresh.readUntilClosed(timeout: 10).hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func requestsSentSlowerThanTheMinimumRateAreCutOff() async throws {
        let test = try await TestServer.make { configuration in
            configuration.idleTimeout = .seconds(20)
            configuration.minTransferRate = 1000
            configuration.transferGrace = .milliseconds(600)
        }
        defer { test.removeData() }
        try await test.withClient(.live) { client in
            let port = try #require(client.port)
            // A header trickled one byte every 150 ms (never idle long enough for the idle timeout).
            let slowHeader = try RawConnection(port: port)
            slowHeader.send("GET /healthz HTTP/1.1\r\n")
            slowHeader.trickle(Array(String(repeating: "X-Slow: 1\r\n", count: 50).utf8), interval: .milliseconds(150))
            let (headerAnswer, headerWait) = await Self.untilClosed(slowHeader)
            #expect(headerAnswer == "", "the server answers nothing and closes")
            #expect(headerWait >= .milliseconds(500) && headerWait < .seconds(5), "header: \(headerWait)")
            // A body trickled the same way, after a header that came at once.
            let body = MultipartBody.image(try Fixtures.cropPNG())
            let bytes = Array(body.buffer.readableBytesView)
            let slowBody = try RawConnection(port: port)
            slowBody.send(
                "POST /api/v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: \(body.headers[.contentType]!)\r\n"
                    + "Content-Length: \(bytes.count)\r\n\r\n")
            slowBody.send(bytes: Array(bytes.prefix(200)))
            slowBody.trickle(Array(bytes.dropFirst(200)), interval: .milliseconds(150))
            let (bodyAnswer, bodyWait) = await Self.untilClosed(slowBody)
            #expect(!bodyAnswer.contains("202 Accepted"), "\(bodyAnswer)")
            #expect(bodyWait >= .milliseconds(500) && bodyWait < .seconds(5), "body: \(bodyWait)")
            // Meanwhile other clients are served, and a connection may idle between requests for longer than the
            // grace: only time spent waiting inside a request counts.
            let keepAlive = try RawConnection(port: port)
            keepAlive.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            try await Task.sleep(for: .milliseconds(1500))
            keepAlive.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            let both = await keepAlive.readUntilClosed(timeout: 10)
            #expect(both.components(separatedBy: "HTTP/1.1 200").count == 3, "\(both)")
        }
    }

    /// What the server sends on `connection` until it closes it, and how long that took.
    static func untilClosed(_ connection: RawConnection) async -> (String, Duration) {
        let start = ContinuousClock.now
        let answer = await connection.readUntilClosed(timeout: 15)
        return (answer, start.duration(to: .now))
    }

    @Test func connectionsPastTheCapAreClosedAsTheyArrive() async throws {
        let test = try await TestServer.make { $0.maxConnections = 3 }
        defer { test.removeData() }
        try await test.withClient(.live) { client in
            let port = try #require(client.port)
            let limiter = test.server.connections
            // Idle connections take every place, one at a time (the test client may hold one of its own).
            var held: [RawConnection] = []
            let deadline = ContinuousClock.now.advanced(by: .seconds(20))
            while limiter.current < 3, ContinuousClock.now < deadline {
                let before = limiter.current
                held.append(try RawConnection(port: port))
                while limiter.current == before, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            #expect(limiter.current == 3)
            let extra = try RawConnection(port: port)
            extra.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(await extra.readUntilClosed(timeout: 10) == "", "closed without an answer")
            // When one goes, a new client is served.
            held.removeLast()
            while limiter.current > 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let fresh = try RawConnection(port: port)
            fresh.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            #expect(await fresh.readUntilClosed(timeout: 10).hasPrefix("HTTP/1.1 200"))
            withExtendedLifetime(held) {}  // the others stay open to the end
        }
    }

    @Test func anEnhanceWhoseClientHasGoneStopsAtTheNextTile() async throws {
        let test = try await TestServer.make { $0.tileSize = 8 }
        defer { test.removeData() }
        let gate = Gate()
        test.server.engine.afterTile.withLock { $0 = { done, _ in if done == 1 { gate.wait() } } }
        let png = try Fixtures.cropPNG(side: 32)
        let body = MultipartBody.image(png)
        let bytes = Array(body.buffer.readableBytesView)
        try await test.withClient(.live) { client in
            let port = try #require(client.port)
            var connection: RawConnection? = try RawConnection(port: port)
            connection?.send(
                "POST /enhance HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary="
                    + "\(MultipartBody.boundary)\r\nContent-Length: \(bytes.count)\r\n\r\n")
            connection?.send(bytes: bytes)
            try await gate.waitUntilEntered()
            // The client goes away while its image is on the first of 16 tiles.
            connection = nil
            try await Task.sleep(for: .seconds(1))
            gate.open()
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            var metrics = ""
            while !metrics.contains("outcome=\"cancelled\"} 1"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                metrics = try await client.execute(uri: "/metrics", method: .get).text
            }
            #expect(metrics.contains("superres_upscales_total{model=\"FSRCNN_x3\",outcome=\"cancelled\"} 1"), "\(metrics)")
            #expect(!metrics.contains("outcome=\"succeeded\""))
            let ready = try await client.execute(uri: "/readyz", method: .get).json
            #expect(ready?["running"] as? Int == 0 && ready?["waiting"] as? Int == 0)
        }
    }

    @Test func uploadsPastTheInflightBudgetAreRefusedBeforeTheirBodyIsRead() async throws {
        let test = try await TestServer.make {
            $0.maxInflightUploadBytes = 1 << 20
            $0.maxUploadBytes = 1 << 20
        }
        defer { test.removeData() }
        let budget = test.server.uploadBudget
        try await test.withClient(.live) { client in
            let port = try #require(client.port)
            let head = { (length: Int) in
                "POST /enhance HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                    + "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: \(length)\r\n\r\n"
            }
            // A client declares 900 000 bytes, sends a few and stalls: its share is taken before its body is read.
            var stalled: RawConnection? = try RawConnection(port: port)
            stalled?.send(head(900_000) + "--b\r\n")
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while budget.inUse != 900_000, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(budget.inUse == 900_000)
            // 200 000 more do not fit in 1 MiB: 503 with Retry-After at once, though no byte of the body was sent.
            let refused = try RawConnection(port: port)
            refused.send(head(200_000))
            let answer = await refused.readUntilClosed(timeout: 10)
            #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer)")
            #expect(answer.lowercased().contains("retry-after: 5"), "\(answer)")
            // A small upload still fits, and is served.
            let small = try await client.post("/enhance", .image(try Fixtures.cropPNG(side: 16)))
            #expect(small.status == .ok, "\(small.text)")
            // When the stalled client goes, its share comes back.
            stalled = nil
            while budget.inUse != 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(budget.inUse == 0)
        }
    }

    @Test(.enabled(if: ServeProcess.binary != nil, "the superres binary is not built"))
    func aBadModelStopsServeBeforeItListens() async throws {
        let temporary = TemporaryFolder("superres-server-tests")
        let folder = temporary.path
        defer { temporary.remove() }
        let truncated = folder + "/cut.pb"
        let model = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.fsrcnnX3)))
        try Array(model.prefix(1000)).write(to: truncated)
        for path in [folder + "/missing.pb", truncated] {
            let process = try ServeProcess(arguments: ["--model", path, "--data-dir", folder + "/data", "--port", "0"])
            let status = try await process.waitForExit(timeout: .seconds(60))
            #expect(status == 1)
            let lines = process.standardError.split(separator: "\n")
            #expect(lines.count == 1, "\(process.standardError)")
            #expect(lines.first?.hasPrefix("superres: serve: model ") == true)
            #expect(lines.first?.contains(path) == true)
            #expect(!process.standardError.contains("listening"))
        }
    }

    @Test(.enabled(if: ServeProcess.binary != nil, "the superres binary is not built"))
    func theBinaryServesAndStopsGracefullyOnSIGTERM() async throws {
        let temporary = TemporaryFolder("superres-server-tests")
        let folder = temporary.path
        defer { temporary.remove() }
        let process = try ServeProcess(
            arguments: ["--model", Fixtures.fsrcnnX3, "--data-dir", folder, "--port", "0", "--grace-period", "20"],
            environment: ["SUPERRES_WORKERS": "2", "SUPERRES_LOG_FORMAT": "json"]
        )
        let port = try await process.waitForPort(timeout: .seconds(120))
        let png = try Fixtures.cropPNG(side: 24)
        let body = MultipartBody.image(png)
        let jobID: String = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
            let ready = try await client.get("/readyz")
            #expect(ready.status == .ok)
            let readiness = try JSONSerialization.jsonObject(with: Data((ready.body ?? ByteBuffer()).readableBytesView))
            #expect((readiness as? [String: Any])?["workers"] as? Int == 2)
            let enhanced = try await client.post("/enhance", headers: body.headers, body: body.buffer)
            #expect(enhanced.status == .ok)
            #expect(
                try ImageCodec.probe(Array((enhanced.body ?? ByteBuffer()).readableBytesView), source: "r").width == 72
            )
            let submitted = try await client.post("/api/v1/jobs", headers: body.headers, body: body.buffer)
            #expect(submitted.status == .accepted)
            let job = try JSONSerialization.jsonObject(with: Data((submitted.body ?? ByteBuffer()).readableBytesView))
            return try #require((job as? [String: Any])?["id"] as? String)
        }
        process.terminate()
        let status = try await process.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "\(process.standardError)")
        // Logs are JSON lines with the request id.
        let logLines = process.standardError.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(logLines.contains { $0["message"] as? String == "request" && $0["request.id"] != nil })
        #expect(logLines.contains { ($0["message"] as? String)?.hasPrefix("shutting down") == true })
        // The job was finished (within the grace period) and recorded.
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/jobs/\(jobID)/job.json"))
        #expect(try JobStore.decoder().decode(JobRecord.self, from: data).state == .succeeded)
    }
}

/// `superres serve` as a child process, its standard error going to a file (read at any time, nothing lost at exit).
final class ServeProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is used from the test's task only; the log file is read, never shared.
    private let process = Process()
    /// Holds the log file; removed with it when this object goes.
    private let logFolder = TemporaryFolder("superres-serve")
    private var logPath: String { logFolder.appending("serve.log") }

    /// The built binary beside the test bundle (`.build/<configuration>/superres`), if there is one.
    static let binary: String? = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("superres").path
        let candidates = [beside, SharedData.packageRoot.appendingPathComponent(".build/debug/superres").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    init(arguments: [String], environment: [String: String] = [:]) throws {
        guard let binary = Self.binary else { throw FixtureError("no superres binary") }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve"] + arguments
        var variables = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("SUPERRES_") || $0.key == "SUPERRES_SHARED"
        }
        variables.merge(environment) { $1 }
        process.environment = variables
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    var standardError: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Sends SIGTERM.
    func terminate() {
        process.terminate()
    }

    /// The port from the "listening" log line.
    func waitForPort(timeout: Duration) async throws -> Int {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let text = standardError
            if let range = text.range(of: "http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return port }
            }
            guard process.isRunning else { throw FixtureError("serve exited: \(text)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FixtureError("serve did not listen within \(timeout): \(standardError)")
    }

    /// The exit status once the process has ended.
    func waitForExit(timeout: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.interrupt()
                throw FixtureError("serve did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }
}

/// A plain TCP connection to the loopback server, for clients that do not speak HTTP properly.
final class RawConnection: @unchecked Sendable {
    // @unchecked Sendable: the descriptor is only used by one caller at a time (send, then one read).
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            close(descriptor)
            throw FixtureError("cannot connect to port \(port)")
        }
    }

    deinit { close(descriptor) }

    func send(bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBufferPointer { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            offset += count
        }
    }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(descriptor, $0.baseAddress, $0.count - 1, 0) }
    }

    /// Sends `bytes` one at a time, `interval` apart, on a thread of its own; stops at the first failed send (the
    /// server closed the connection; MSG_NOSIGNAL keeps that from raising SIGPIPE).
    func trickle(_ bytes: [UInt8], interval: Duration) {
        let microseconds = UInt32(interval.components.seconds * 1_000_000 + interval.components.attoseconds / 1_000_000_000_000)
        Thread {
            for byte in bytes {
                var one = byte
                guard Glibc.send(self.descriptor, &one, 1, Int32(MSG_NOSIGNAL)) == 1 else { return }
                usleep(microseconds)
            }
        }.start()
    }

    /// Everything the server sends until it closes the connection, or what came before `timeout` seconds passed.
    /// The blocking reads run on a thread of their own: the server's handlers need the cooperative pool meanwhile.
    func readUntilClosed(timeout: Int) async -> String {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.blockingRead(timeout: timeout)) }.start()
        }
    }

    private func blockingRead(timeout: Int) -> String {
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
