import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads one catalogue file over HTTP(S): into a temporary file in the destination folder, checking the size
/// and hashing as the bytes arrive, then renamed into place; on any failure the temporary file is removed.
struct ModelDownloader: Sendable {
    /// Seconds to wait for the server's first answer (connect, TLS, headers) before giving up.
    var connectTimeout: TimeInterval
    /// Seconds without a byte arriving, once the transfer has started, before giving up.
    var idleTimeout: TimeInterval

    /// Downloads `url` to `destination`, which must end up with `file`'s size and checksum.
    /// `progress` is called with (bytes so far, bytes expected) from a background thread.
    func download(
        _ url: URL,
        file: ModelCatalogue.File,
        to destination: String,
        model: String,
        progress: (@Sendable (Int, Int) -> Void)?
    ) throws(ModelStoreError) {
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
        let transfer = Transfer(expected: file, handle: handle, progress: progress)
        let failure = transfer.run(url, connectTimeout: connectTimeout, idleTimeout: idleTimeout)
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            if failure == nil {
                throw ModelStoreError(.fileSystem, model: model, "cannot write \(temporary)", underlying: error)
            }
        }
        if let failure { throw failure.error(model: model, url: url, expected: file.size) }

        let received = transfer.received
        guard received == file.size else {
            throw ModelStoreError(
                .sizeMismatch,
                model: model,
                "the download from \(url.absoluteString) has \(received) bytes, expected \(file.size)"
            )
        }
        let checksum = transfer.checksum
        guard checksum == file.checksum else {
            throw ModelStoreError(
                .checksumMismatch,
                model: model,
                "the file downloaded from \(url.absoluteString) is corrupt: its \(checksum.kind.rawValue) is "
                    + "\(checksum.hexDigest), expected \(file.checksum.hexDigest)"
            )
        }
        try StoreFiles.rename(temporary, to: destination, model: model)
        keep = true
    }
}

extension ModelDownloader {
    /// Why a transfer stopped early.
    enum Failure: Equatable {
        case timedOut(afterConnecting: Bool)
        case status(Int)
        case announcedSize(Int)
        case tooLarge
        case write(String)
        case transport(String, received: Int)

        func error(model: String, url: URL, expected: Int) -> ModelStoreError {
            let from = url.absoluteString
            switch self {
            case .timedOut(false):
                return ModelStoreError(.network, model: model, "no answer from \(from) (timed out connecting)")
            case .timedOut(true):
                return ModelStoreError(.network, model: model, "the download from \(from) stalled (timed out)")
            case .status(let code):
                return ModelStoreError(
                    .badResponse,
                    model: model,
                    "\(from) answered HTTP \(code) (\(HTTPURLResponse.localizedString(forStatusCode: code)))"
                )
            case .announcedSize(let announced):
                return ModelStoreError(
                    .sizeMismatch,
                    model: model,
                    "\(from) announced \(announced) bytes, expected \(expected); not downloaded"
                )
            case .tooLarge:
                return ModelStoreError(
                    .sizeMismatch,
                    model: model,
                    "\(from) sent more than the expected \(expected) bytes; download stopped"
                )
            case .write(let why):
                return ModelStoreError(.fileSystem, model: model, "cannot write the download: \(why)")
            case .transport(let why, let received):
                let part = received > 0 ? " after \(received) of \(expected) bytes" : ""
                return ModelStoreError(.network, model: model, "download from \(from) failed\(part): \(why)")
            }
        }
    }

    /// One transfer: a URLSession data task whose delegate writes, counts and hashes the bytes.
    /// `@unchecked Sendable`: every mutable field is read and written only while holding `lock` (the delegate
    /// runs on the session's serial queue, the watchdog on a global queue, `run` on the caller's thread).
    final class Transfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        private let expected: ModelCatalogue.File
        private let handle: FileHandle
        private let progress: (@Sendable (Int, Int) -> Void)?
        private let lock = NSLock()
        private let done = DispatchSemaphore(value: 0)
        private var hasher: ChecksumHasher
        private var receivedBytes = 0
        private var answered = false
        private var failure: Failure?

        init(expected: ModelCatalogue.File, handle: FileHandle, progress: (@Sendable (Int, Int) -> Void)?) {
            self.expected = expected
            self.handle = handle
            self.progress = progress
            hasher = ChecksumHasher(kind: expected.checksum.kind, size: expected.size)
        }

        /// Bytes written so far.
        var received: Int { lock.withLock { receivedBytes } }
        /// The checksum of the bytes written.
        var checksum: Checksum { lock.withLock { hasher.finalize() } }

        /// Runs the transfer to the end; returns why it stopped early, or nil when the server sent the whole body.
        func run(_ url: URL, connectTimeout: TimeInterval, idleTimeout: TimeInterval) -> Failure? {
            let configuration = URLSessionConfiguration.ephemeral
            configuration.timeoutIntervalForRequest = idleTimeout
            configuration.timeoutIntervalForResource = 24 * 3600
            configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
            let queue = OperationQueue()
            queue.maxConcurrentOperationCount = 1
            let session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
            var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: idleTimeout)
            request.setValue("superres", forHTTPHeaderField: "User-Agent")
            let task = session.dataTask(with: request)
            task.resume()
            // URLSession's own timeout is an idle timeout; the connect phase gets a shorter watchdog of its own so
            // an unreachable host fails in seconds.
            DispatchQueue.global().asyncAfter(deadline: .now() + connectTimeout) { [self] in
                let cancel = lock.withLock { () -> Bool in
                    guard !answered, failure == nil else { return false }
                    failure = .timedOut(afterConnecting: false)
                    return true
                }
                if cancel { task.cancel() }
            }
            done.wait()
            session.finishTasksAndInvalidate()
            return lock.withLock { failure }
        }

        func urlSession(
            _ session: URLSession,
            dataTask: URLSessionDataTask,
            didReceive response: URLResponse,
            completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
        ) {
            let verdict: Failure? = lock.withLock {
                answered = true
                if failure != nil { return failure }
                if let http = response as? HTTPURLResponse, http.statusCode != 200 {
                    failure = .status(http.statusCode)
                } else if response.expectedContentLength >= 0, response.expectedContentLength != expected.size {
                    failure = .announcedSize(Int(response.expectedContentLength))
                }
                return failure
            }
            completionHandler(verdict == nil ? .allow : .cancel)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            let report: (Int, Int)? = lock.withLock {
                guard failure == nil else { return nil }
                // Bound the transfer by the catalogue's size whatever the server announced.
                guard receivedBytes + data.count <= expected.size else {
                    failure = .tooLarge
                    return nil
                }
                do {
                    try handle.write(contentsOf: data)
                } catch {
                    failure = .write("\(error)")
                    return nil
                }
                hasher.update(data)
                receivedBytes += data.count
                return (receivedBytes, expected.size)
            }
            if let report {
                progress?(report.0, report.1)
            } else {
                dataTask.cancel()
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            lock.withLock {
                if failure == nil, let error {
                    if let urlError = error as? URLError, urlError.code == .timedOut {
                        failure = .timedOut(afterConnecting: answered)
                    } else {
                        failure = .transport(Self.describe(error), received: receivedBytes)
                    }
                }
            }
            done.signal()
        }

        /// Short words for the usual network failures.
        static func describe(_ error: any Error) -> String {
            guard let urlError = error as? URLError else { return "\(error)" }
            switch urlError.code {
            case .cannotConnectToHost: return "connection refused"
            case .cannotFindHost, .dnsLookupFailed: return "cannot resolve the host name (offline?)"
            case .notConnectedToInternet: return "not connected to the internet"
            case .networkConnectionLost: return "the connection was dropped"
            case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate:
                return "TLS failed (\(urlError.localizedDescription))"
            default: return urlError.localizedDescription
            }
        }
    }
}
