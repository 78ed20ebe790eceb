import Foundation
import Hummingbird
import HummingbirdTesting
import ModelStore
import NIOCore
import Synchronization
import TestSupport
import Testing

/// The real HTTP client (`HTTPDownloadTransport`) against a real server on a loopback port: a whole download, an
/// error status, a stalled body and a closed port.
@Suite(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
struct HTTPDownloadTests {
    static let name = "espcn-x2"
    var entry: ModelCatalogue.Entry { ModelCatalogue.entry(named: Self.name)! }
    var original: [UInt8] {
        [UInt8](FileManager.default.contents(atPath: SharedData.path("models/opencv/ESPCN_x2.pb"))!)
    }

    /// A server answering `/ESPCN_x2.pb` with `body`; `stallAfter` bytes sent, it stops sending (keeps the
    /// connection open) for 30 s, or until `released` is counted up (so that the server can stop when the test is
    /// done rather than wait for the handler).
    static func app(
        body: [UInt8], stallAfter: Int? = nil, released: Counter = Counter(), requests: Counter
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/ESPCN_x2.pb") { _, _ -> Response in
            requests.add()
            guard let stallAfter else { return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: body))) }
            let head = ByteBuffer(bytes: body.prefix(stallAfter))
            return Response(
                status: .ok, headers: [.contentLength: "\(body.count)"],
                body: .init { writer in
                    try await writer.write(head)
                    for _ in 0..<600 where released.value == 0 { try await Task.sleep(for: .milliseconds(50)) }
                    try await writer.finish(nil)
                })
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func options(port: Int, idle: TimeInterval = 5) -> ModelStore.PullOptions {
        var options = ModelStore.PullOptions(environment: [:])
        options.baseURL = URL(string: "http://127.0.0.1:\(port)")
        options.connectTimeout = 5
        options.idleTimeout = idle
        return options
    }

    @Test func downloadsAndInstalls() async throws {
        let requests = Counter()
        let store = TemporaryFolder()
        let entry = entry
        try await Self.app(body: original, requests: requests).test(.live) { client in
            let port = try #require(client.port)
            let outcome = try await ModelStore.pull(entry, into: store.path, options: Self.options(port: port))
            #expect(outcome == .installed(store.appending("ESPCN_x2.pb")))
            #expect(ModelStore.verify(entry, in: store.path) == .ok)
        }
        #expect(requests.value == 1)
    }

    @Test func errorStatusIsReported() async throws {
        let requests = Counter()
        let store = TemporaryFolder()
        let entry = entry
        try await Self.app(body: original, requests: requests).test(.live) { client in
            var options = Self.options(port: try #require(client.port))
            options.baseURL = options.baseURL?.appendingPathComponent("missing")
            let error = await #expect(throws: ModelStoreError.self) {
                try await ModelStore.pull(entry, into: store.path, options: options)
            }
            #expect(error?.code == .badResponse)
            #expect(error?.message.contains("HTTP 404 (Not Found)") == true)
        }
        #expect(store.contents().isEmpty)
    }

    /// Half the body, then silence: the idle timeout ends the download and nothing is left behind.
    @Test func stalledBodyTimesOut() async throws {
        let requests = Counter()
        let store = TemporaryFolder()
        let entry = entry
        let released = Counter()
        let app = Self.app(body: original, stallAfter: original.count / 2, released: released, requests: requests)
        try await app.test(.live) { client in
            let start = ContinuousClock.now
            let error = await #expect(throws: ModelStoreError.self) {
                try await ModelStore.pull(
                    entry, into: store.path, options: Self.options(port: try #require(client.port), idle: 1))
            }
            #expect(start.duration(to: .now) < .seconds(20))
            #expect(error?.code == .network)
            #expect(error?.message.contains("stalled") == true, "\(String(describing: error))")
            released.add()
        }
        #expect(store.contents().isEmpty)
    }

    /// Nothing listens on the port: a network error within the connect timeout, naming the URL.
    @Test func closedPortFailsWithinTheConnectTimeout() async throws {
        let requests = Counter()
        let portOfTheStoppedServer = Counter()
        try await Self.app(body: [], requests: requests).test(.live) { client in
            portOfTheStoppedServer.add(try #require(client.port))
        }
        let closedPort = portOfTheStoppedServer.value
        let store = TemporaryFolder()
        let start = ContinuousClock.now
        let error = await #expect(throws: ModelStoreError.self) {
            try await ModelStore.pull(entry, into: store.path, options: Self.options(port: closedPort))
        }
        #expect(start.duration(to: .now) < .seconds(10))
        #expect(error?.code == .network)
        #expect(error?.message.contains("http://127.0.0.1:\(closedPort)/ESPCN_x2.pb") == true)
        #expect(store.contents().isEmpty)
    }
}

/// A number several tasks add to.
final class Counter: Sendable {
    private let count = Mutex(0)

    /// Adds `amount` (default 1).
    func add(_ amount: Int = 1) { count.withLock { $0 += amount } }

    /// The sum so far.
    var value: Int { count.withLock { $0 } }
}
