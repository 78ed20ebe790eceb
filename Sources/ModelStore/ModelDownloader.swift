import AsyncHTTPClient
import Foundation
import Models
import NIOCore
import NIOHTTP1

/// Where model downloads come from: HTTP through AsyncHTTPClient, or a stand-in that tests give.
package protocol DownloadTransport: Sendable {
    /// GETs `url`: calls `head` once with the status and the announced length (nil when the server sends none), then
    /// `body` with each piece of the body in order, and returns when the body has ended. An error thrown by `head`
    /// or `body` stops the transfer and is rethrown; the transport's own failures are thrown as `DownloadFailure`.
    func get(
        _ url: URL,
        timeouts: DownloadTimeouts,
        head: (_ status: Int, _ contentLength: Int?) throws -> Void,
        body: (_ bytes: [UInt8]) throws -> Void
    ) async throws
}

/// How long a download may wait.
package struct DownloadTimeouts: Sendable, Equatable {
    /// Seconds to wait for the server's answer (connect, TLS, response head); an unreachable host fails after this.
    package var connect: TimeInterval
    /// Seconds without a byte arriving, once the body has started, before giving up.
    package var idle: TimeInterval
}

/// Why a transfer stopped early, as the downloader reports it.
package enum DownloadFailure: Error, Equatable, Sendable {
    /// No answer in time (`afterConnecting` false), or the body stalled (true).
    case timedOut(afterConnecting: Bool)
    /// The server answered with another status than 200.
    case status(Int)
    /// The server announced a length other than the catalogue's.
    case announcedSize(Int)
    /// The server sent more bytes than the catalogue's size.
    case tooLarge
    /// The temporary file could not be written.
    case write(String)
    /// The connection failed or broke off (`received` bytes had arrived).
    case transport(String, received: Int)

    /// The store error a user sees for this failure.
    func error(model: String, url: URL, expected: Int) -> ModelStoreError {
        let from = url.absoluteString
        switch self {
        case .timedOut(false):
            return ModelStoreError(.network, model: model, "no answer from \(from) (timed out connecting)")
        case .timedOut(true):
            return ModelStoreError(.network, model: model, "the download from \(from) stalled (timed out)")
        case .status(let code):
            let reason = HTTPResponseStatus(statusCode: code).reasonPhrase
            return ModelStoreError(.badResponse, model: model, "\(from) answered HTTP \(code) (\(reason))")
        case .announcedSize(let announced):
            return ModelStoreError(
                .sizeMismatch, model: model, "\(from) announced \(announced) bytes, expected \(expected); not downloaded")
        case .tooLarge:
            return ModelStoreError(
                .sizeMismatch, model: model, "\(from) sent more than the expected \(expected) bytes; download stopped")
        case .write(let why):
            return ModelStoreError(.fileSystem, model: model, "cannot write the download: \(why)")
        case .transport(let why, let received):
            let part = received > 0 ? " after \(received) of \(expected) bytes" : ""
            return ModelStoreError(.network, model: model, "download from \(from) failed\(part): \(why)")
        }
    }
}

/// Downloads one catalogue file: into a temporary file in the destination folder, bounded by the catalogue's size,
/// then checked (size and checksum) and renamed into place; on any failure the temporary file is removed.
struct ModelDownloader: Sendable {
    /// Where the bytes come from.
    var transport: any DownloadTransport
    /// How long to wait.
    var timeouts: DownloadTimeouts

    /// Downloads `url` to `destination`, which must end up with `file`'s size and checksum.
    /// `progress` is called with (bytes so far, bytes expected).
    func download(
        _ url: URL,
        file: ModelCatalogue.File,
        to destination: String,
        model: String,
        progress: (@Sendable (Int, Int) -> Void)?
    ) async throws(ModelStoreError) {
        let folder = (destination as NSString).deletingLastPathComponent
        let temporary = try StoreFiles.makeTemporaryFile(for: file.name, in: folder, model: model)
        var keep = false
        defer { if !keep { try? FileManager.default.removeItem(atPath: temporary) } }

        let handle: FileHandle
        do {
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        } catch {
            throw ModelStoreError(.fileSystem, model: model, "cannot write \(temporary)", underlying: error)
        }
        var received = 0
        var failure: DownloadFailure?
        do {
            try await transport.get(
                url, timeouts: timeouts,
                head: { status, contentLength in
                    if status != 200 { throw DownloadFailure.status(status) }
                    if let contentLength, contentLength != file.size {
                        throw DownloadFailure.announcedSize(contentLength)
                    }
                },
                body: { bytes in
                    // Bounded by the catalogue's size whatever the server announced.
                    guard received + bytes.count <= file.size else { throw DownloadFailure.tooLarge }
                    do {
                        try handle.write(contentsOf: bytes)
                    } catch {
                        throw DownloadFailure.write("\(error)")
                    }
                    received += bytes.count
                    progress?(received, file.size)
                })
        } catch let stopped as DownloadFailure {
            failure = stopped
        } catch {
            failure = .transport("\(error)", received: received)
        }
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            if failure == nil {
                throw ModelStoreError(.fileSystem, model: model, "cannot write \(temporary)", underlying: error)
            }
        }
        if let failure { throw failure.error(model: model, url: url, expected: file.size) }
        try StoreFiles.checkAndPlace(
            temporary, as: file, at: destination, what: "the file downloaded from \(url.absoluteString)", model: model)
        keep = true
    }
}

/// Downloads over HTTP(S) with AsyncHTTPClient: redirects followed, the body streamed, one client per download.
package struct HTTPDownloadTransport: DownloadTransport {
    /// A transport on AsyncHTTPClient's shared event loops.
    package init() {}

    /// GETs `url` with its own HTTPClient (up to 5 redirects), streaming the body; failures become `DownloadFailure`.
    package func get(
        _ url: URL,
        timeouts: DownloadTimeouts,
        head: (_ status: Int, _ contentLength: Int?) throws -> Void,
        body: (_ bytes: [UInt8]) throws -> Void
    ) async throws {
        let connect = TimeAmount.milliseconds(Int64((timeouts.connect * 1000).rounded()))
        var configuration = HTTPClient.Configuration()
        // `read` is an idle timeout: it bounds the wait for each piece of the response, not the whole transfer.
        configuration.timeout = .init(
            connect: connect, read: .milliseconds(Int64((timeouts.idle * 1000).rounded())))
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var received = 0
        var failure: (any Error)?
        do {
            var request = HTTPClientRequest(url: url.absoluteString)
            request.headers.add(name: "User-Agent", value: "superres")
            // The deadline covers connecting and the response head; the body is bounded by the idle timeout.
            let response = try await client.execute(request, timeout: connect)
            try head(Int(response.status.code), response.headers.first(name: "content-length").flatMap { Int($0) })
            for try await buffer in response.body {
                received += buffer.readableBytes
                try body(Array(buffer.readableBytesView))
            }
        } catch {
            failure = error
        }
        try? await client.shutdown()
        guard let failure else { return }
        switch failure {
        case let stopped as DownloadFailure:
            throw stopped
        case let error as HTTPClientError where error == .deadlineExceeded || error == .connectTimeout:
            throw DownloadFailure.timedOut(afterConnecting: false)
        case let error as HTTPClientError where error == .readTimeout:
            throw DownloadFailure.timedOut(afterConnecting: true)
        default:
            throw DownloadFailure.transport(Self.describe(failure), received: received)
        }
    }

    /// Short words for the usual network failures.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("remoteConnectionClosed") { return "the connection was dropped" }
        if text.contains("NIOConnectionError") || text.contains("DNS") {
            return "cannot resolve or reach the host (offline?): \(text)"
        }
        return text
    }
}
