import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (a free port picked by the kernel) for download tests: it serves fixed
/// responses by path, including broken ones, one connection at a time on its own thread, and closes each
/// connection after one response.
final class LoopbackHTTPServer: @unchecked Sendable {
    /// What the server does for a path.
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

    /// The port it listens on.
    let port: UInt16
    /// `http://127.0.0.1:<port>`.
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    private let listener: Int32
    private let routes: [String: Response]
    // `@unchecked Sendable`: `lock` guards `requested` and `stopped`; `port`, `listener` and `routes` never change.
    private let lock = NSLock()
    private var requested: [String] = []
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    /// Starts listening; `routes` maps a request path (`/ESPCN_x2.pb`) to what to answer; other paths get 404.
    init(routes: [String: Response]) throws {
        self.routes = routes
        let socketType = Int32(SOCK_STREAM.rawValue)
        let fd = socket(AF_INET, socketType, 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// The paths requested so far, in order.
    var requests: [String] { lock.withLock { requested } }

    /// Stops accepting and waits for the serving thread to end; afterwards the port refuses connections.
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        finished.wait()
        close(listener)
    }

    deinit { stop() }

    private func serve() {
        defer { finished.signal() }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            if lock.withLock({ stopped }) {
                close(connection)
                return
            }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ connection: Int32) {
        // A request without a body: read up to the blank line ending its headers.
        var request = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.containsHeaderEnd, request.count < 65536 {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
            request += buffer[0..<count]
        }
        let firstLine = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = firstLine.split(separator: " ")
        let path = parts.count >= 2 ? String(parts[1]) : "/"
        lock.withLock { requested.append(path) }

        switch routes[path] ?? .status(404) {
        case .body(let data):
            send(connection, header(200, length: data.count) + data)
        case .wrongLength(let data, let announced):
            send(connection, header(200, length: announced) + data)
        case .unannounced(let data):
            send(connection, header(200, length: nil) + data)
        case .drop(let data, let afterBytes):
            send(connection, header(200, length: data.count) + data.prefix(afterBytes))
            // Reset rather than close cleanly, as a dropped network would leave it.
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        case .status(let code):
            send(connection, header(code, length: 0))
        }
    }

    private func header(_ status: Int, length: Int?) -> Data {
        var text = "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Error")\r\nConnection: close\r\n"
        text += "Content-Type: application/octet-stream\r\n"
        if let length { text += "Content-Length: \(length)\r\n" }
        return Data((text + "\r\n").utf8)
    }

    /// Writes everything it can; a client that went away just ends the response (MSG_NOSIGNAL: no SIGPIPE).
    private func send(_ connection: Int32, _ data: Data) {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(connection, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return }
                offset += sent
            }
        }
    }
}

extension [UInt8] {
    fileprivate var containsHeaderEnd: Bool {
        guard count >= 4 else { return false }
        for index in 0...(count - 4)
        where self[index] == 13 && self[index + 1] == 10 && self[index + 2] == 13 && self[index + 3] == 10 {
            return true
        }
        return false
    }
}
