import Foundation
import ModelStore
import Synchronization

/// A stand-in for the network: answers GETs from fixed responses by path, including the broken answers a server or
/// a connection can give, and records the paths asked for.
final class StubTransport: DownloadTransport {
    /// What the stand-in does for a path.
    enum Response: Sendable {
        /// 200 with the body and its true Content-Length.
        case body(Data)
        /// 200 with the body but a Content-Length header of `contentLength`.
        case wrongLength(Data, contentLength: Int)
        /// 200 with no Content-Length: the body ends when the connection closes.
        case unannounced(Data)
        /// 200 with the true Content-Length, but the connection is dropped after `bytes` bytes of the body.
        case drop(Data, afterBytes: Int)
        /// An empty response with this status.
        case status(Int)
    }

    /// The port the URLs name (nothing listens there: the stand-in answers instead).
    let port = 9
    /// `http://127.0.0.1:<port>`.
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    private let routes: [String: Response]
    private let refusing: Bool
    private let requested = Mutex<[String]>([])

    /// `routes` maps a request path (`/ESPCN_x2.pb`) to what to answer; other paths get 404. `refusing`: every
    /// connection is refused, as when the host is offline.
    init(routes: [String: Response], refusing: Bool = false) {
        self.routes = routes
        self.refusing = refusing
    }

    /// The paths asked for, in order.
    var requests: [String] { requested.withLock { $0 } }

    func get(
        _ url: URL,
        timeouts: DownloadTimeouts,
        head: (_ status: Int, _ contentLength: Int?) throws -> Void,
        body: (_ bytes: [UInt8]) throws -> Void
    ) async throws {
        if refusing { throw DownloadFailure.transport("connection refused", received: 0) }
        requested.withLock { $0.append(url.path) }
        switch routes[url.path] ?? .status(404) {
        case .body(let data):
            try head(200, data.count)
            try Self.send(data, to: body)
        case .wrongLength(let data, let length):
            try head(200, length)
            try Self.send(data.prefix(length), to: body)
        case .unannounced(let data):
            try head(200, nil)
            try Self.send(data, to: body)
        case .drop(let data, let bytes):
            try head(200, data.count)
            try Self.send(data.prefix(bytes), to: body)
            throw DownloadFailure.transport("the connection was dropped", received: bytes)
        case .status(let code):
            try head(code, 0)
        }
    }

    /// Hands `data` over in pieces of 16 KiB, as a network would.
    private static func send(_ data: Data, to body: ([UInt8]) throws -> Void) throws {
        let bytes = [UInt8](data)
        for start in stride(from: 0, to: bytes.count, by: 16 << 10) {
            try body(Array(bytes[start..<min(start + (16 << 10), bytes.count)]))
        }
    }
}
