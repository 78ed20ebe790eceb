// The client side of the service's jobs API for `superres batch`, over AsyncHTTPClient: `POST /api/v1/jobs`
// (multipart/form-data, with an Idempotency-Key), `GET /api/v1/jobs/{id}` and `GET /api/v1/jobs/{id}/result`.
// Failures come back as `JobsAPIError`, which says whether trying again can help.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A job as the service shows it (`POST /api/v1/jobs`, `GET /api/v1/jobs/{id}`): the parts a batch needs.
package struct RemoteJob: Sendable, Equatable, Decodable {
    /// Where a job is in its life.
    package enum State: String, Sendable, Decodable {
        /// Waiting for a worker.
        case queued
        /// Being enlarged.
        case running
        /// Finished; the result can be downloaded.
        case succeeded
        /// Stopped by an error.
        case failed
        /// Stopped by a client.
        case cancelled
    }

    /// The job's id.
    package var id: String
    /// Where the job is in its life.
    package var state: State
    /// 0...1.
    package var progress: Double
    /// Why the job failed or was cancelled (its problem's `detail`).
    package var errorDetail: String?

    private enum CodingKeys: String, CodingKey {
        case id, state, progress, error
    }

    private struct Problem: Decodable {
        var detail: String?
    }

    /// Reads the job's JSON; members the batch does not use are ignored.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        state = try container.decode(State.self, forKey: .state)
        progress = try container.decodeIfPresent(Double.self, forKey: .progress) ?? 0
        errorDetail = try container.decodeIfPresent(Problem.self, forKey: .error)?.detail
    }
}

/// Why a request to the jobs API failed, and whether trying again can help.
package struct JobsAPIError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    package enum Kind: Sendable, Equatable {
        /// No answer: the connection could not be made, was dropped, or timed out.
        case connection
        /// The server answered with this status (not 2xx).
        case status(Int)
        /// A 2xx answer that is not what the API promises.
        case badResponse
        /// The calling task was cancelled.
        case cancelled
        /// The downloaded result could not be written to its file.
        case file
    }

    /// What went wrong.
    package var kind: Kind
    /// The server's words (its problem's `detail`) or the client's.
    package var message: String
    /// The problem's `type` (`urn:superres:problem:<code>`) of an error answer, when it has one.
    package var problemType: String?
    /// How long the server asked the client to wait (`Retry-After`).
    package var retryAfter: Duration?

    /// An error of `kind`.
    package init(_ kind: Kind, _ message: String, problemType: String? = nil, retryAfter: Duration? = nil) {
        self.kind = kind
        self.message = message
        self.problemType = problemType
        self.retryAfter = retryAfter
    }

    /// The HTTP status of an error answer.
    package var status: Int? {
        switch kind {
        case .status(let code): code
        default: nil
        }
    }

    /// Whether the same request may succeed later: no answer, a garbled one, 408, 429 or any 5xx.
    package var isRetryable: Bool {
        switch kind {
        case .connection, .badResponse: true
        case .status(let code): code == 408 || code == 429 || code >= 500
        case .cancelled, .file: false
        }
    }

    /// Whether the server asks the client to slow down (503, 429): expected under load, not worth a message.
    package var isBackPressure: Bool { status == 503 || status == 429 }

    /// Whether the server refuses the caller itself (401, 403): no request of the batch can succeed.
    package var refusesCaller: Bool { status == 401 || status == 403 }

    /// Whether a submission was refused for a reason that holds for every image of the batch, not this one: the
    /// caller refused, no jobs route at that URL (404, 405), an unknown model, a request the server cannot parse.
    package var refusesEverySubmission: Bool {
        if refusesCaller || status == 404 || status == 405 { return true }
        let prefix = "urn:superres:problem:"
        return problemType == prefix + "unknown-model" || problemType == prefix + "not-multipart"
    }

    /// The message, with the HTTP status of an error answer.
    package var description: String {
        guard let status else { return message }
        return "\(message) (HTTP \(status))"
    }
}

/// The jobs API of one superres service.
package struct JobsAPIClient: Sendable {
    /// The service's base URL, without a trailing slash (it may have a path, behind a proxy).
    package let server: String
    /// Sent as `Authorization: Bearer <key>` when set.
    package let apiKey: String?
    /// The HTTP client (owned by the caller, who shuts it down).
    package let client: HTTPClient
    /// How long a submission may take to be answered (the upload included).
    package var submitTimeout: TimeAmount = .seconds(300)
    /// How long a status request may take.
    package var statusTimeout: TimeAmount = .seconds(30)
    /// How long a download may wait for the answer's head (its body is bounded by the client's read timeout).
    package var downloadTimeout: TimeAmount = .seconds(60)

    /// A client of the service at `server` (checked and without a trailing slash).
    package init(server: String, apiKey: String?, client: HTTPClient) {
        self.server = server
        self.apiKey = apiKey
        self.client = client
    }

    /// An HTTP client fit for the API: connect timeout 10 s, 120 s without a byte before a request fails, no
    /// redirects (a POST redirected would lose its body; give the service's own URL).
    package static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// `POST /api/v1/jobs?format=…&model=…&scale=…` with `image` as the multipart field `image`; the job made (or,
    /// for a key the server has seen, the job it made then).
    package func submit(
        image: [UInt8],
        filename: String,
        format: String,
        settings: BatchSettings,
        idempotencyKey: String
    ) async throws(JobsAPIError) -> RemoteJob {
        let boundary = "superres-batch-" + UUID().uuidString.lowercased()
        var request = HTTPClientRequest(url: server + "/api/v1/jobs?" + Self.query(format: format, settings: settings))
        request.method = .POST
        addCommonHeaders(to: &request.headers)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        request.headers.add(name: "Idempotency-Key", value: idempotencyKey)
        request.body = .bytes(
            Self.multipartBody(image: image, filename: filename, mediaType: "image/\(format)", boundary: boundary)
        )
        let response = try await execute(request, timeout: submitTimeout)
        return try await job(from: response)
    }

    /// `GET /api/v1/jobs/{id}`.
    package func status(of id: String) async throws(JobsAPIError) -> RemoteJob {
        let url = try jobURL(id)
        var request = HTTPClientRequest(url: url)
        addCommonHeaders(to: &request.headers)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await execute(request, timeout: statusTimeout)
        return try await job(from: response)
    }

    /// `GET /api/v1/jobs/{id}/result`, streamed into `file` (which the caller commits or discards).
    package func downloadResult(of id: String, into file: PartialFile) async throws(JobsAPIError) {
        let url = try jobURL(id) + "/result"
        var request = HTTPClientRequest(url: url)
        addCommonHeaders(to: &request.headers)
        let response = try await execute(request, timeout: downloadTimeout)
        guard (200..<300).contains(response.status.code) else { throw await Self.failure(of: response) }
        do {
            for try await buffer in response.body {
                try Task.checkCancellation()
                let written = buffer.withUnsafeReadableBytes { file.append($0) }
                guard written else { throw JobsAPIError(.file, file.failure ?? "cannot write \(file.temporary)") }
            }
        } catch let error as JobsAPIError {
            throw error
        } catch {
            throw Self.transportFailure(error)
        }
    }

    // MARK: - Requests and answers

    /// `<server>/api/v1/jobs/<id>`; an id the server could not have given (it came from an edited manifest)
    /// answers as an unknown job does.
    private func jobURL(_ id: String) throws(JobsAPIError) -> String {
        guard Self.isPlausibleID(id) else { throw JobsAPIError(.status(404), "\(id) is not a job id") }
        return server + "/api/v1/jobs/" + id
    }

    /// Whether `id` is safe in a path: 1 to 200 letters, digits, `-`, `_` or `.`, not a dot segment.
    static func isPlausibleID(_ id: String) -> Bool {
        guard (1...200).contains(id.utf8.count), id != ".", id != ".." else { return false }
        return id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
    }

    private func addCommonHeaders(to headers: inout HTTPHeaders) {
        headers.add(name: "User-Agent", value: "superres-batch")
        if let apiKey { headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
    }

    /// Sends `request`; transport failures become `JobsAPIError`.
    private func execute(
        _ request: HTTPClientRequest,
        timeout: TimeAmount
    ) async throws(JobsAPIError)
        -> HTTPClientResponse
    {
        do {
            return try await client.execute(request, timeout: timeout)
        } catch {
            throw Self.transportFailure(error)
        }
    }

    /// The job in a 2xx answer; the error an other answer stands for.
    private func job(from response: HTTPClientResponse) async throws(JobsAPIError) -> RemoteJob {
        guard (200..<300).contains(response.status.code) else { throw await Self.failure(of: response) }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw Self.transportFailure(error)
        }
        let job: RemoteJob
        do {
            job = try JSONDecoder().decode(RemoteJob.self, from: Data(body.readableBytesView))
        } catch {
            throw JobsAPIError(
                .badResponse,
                "the server's answer (HTTP \(response.status.code)) is not a job: \(Self.excerpt(body))"
            )
        }
        guard Self.isPlausibleID(job.id) else {
            throw JobsAPIError(.badResponse, "the server's answer has no usable job id: \(Self.excerpt(body))")
        }
        return job
    }

    /// The error an answer other than 2xx stands for: its problem's detail, else its text, and its Retry-After.
    static func failure(of response: HTTPClientResponse) async -> JobsAPIError {
        let code = Int(response.status.code)
        let retryAfter = Self.retryAfter(response.headers.first(name: "Retry-After"))
        let body = try? await response.body.collect(upTo: 64 << 10)
        struct Problem: Decodable {
            var type: String?
            var detail: String?
        }
        if let body, let problem = try? JSONDecoder().decode(Problem.self, from: Data(body.readableBytesView)),
            let detail = problem.detail, !detail.isEmpty
        {
            return JobsAPIError(.status(code), detail, problemType: problem.type, retryAfter: retryAfter)
        }
        let text = body.map(excerpt) ?? ""
        let message = text.isEmpty ? "\(code) \(response.status.reasonPhrase)" : text
        return JobsAPIError(.status(code), message, retryAfter: retryAfter)
    }

    /// The first 200 characters of a body's text, on one line.
    static func excerpt(_ body: ByteBuffer) -> String {
        let text = String(decoding: body.readableBytesView.prefix(800), as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }

    /// `Retry-After` as seconds or an HTTP date; nil when absent or unreadable.
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return seconds >= 0 ? .seconds(min(seconds, 86_400)) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        let seconds = min(max(date.timeIntervalSinceNow, 0), 86_400)
        return .milliseconds(Int64(seconds * 1000))
    }

    /// A transport failure (or cancellation) in words.
    static func transportFailure(_ error: any Error) -> JobsAPIError {
        if error is CancellationError || Task.isCancelled { return JobsAPIError(.cancelled, "stopped") }
        if let error = error as? HTTPClientError {
            if error == .cancelled { return JobsAPIError(.cancelled, "stopped") }
            if error == .connectTimeout { return JobsAPIError(.connection, "cannot connect to the server in time") }
            if error == .deadlineExceeded || error == .readTimeout {
                return JobsAPIError(.connection, "the server did not answer in time")
            }
            if error == .remoteConnectionClosed {
                return JobsAPIError(.connection, "the server closed the connection before answering")
            }
        }
        if error is NIOTooManyBytesError { return JobsAPIError(.badResponse, "the server's answer is far too long") }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") {
            return JobsAPIError(.connection, "connection refused (is the server running?)")
        }
        return JobsAPIError(.connection, "cannot reach the server: \(text)")
    }

    /// The query of a submission: the format always (the server's default is PNG, a batch keeps each input's
    /// format unless told otherwise), the model and scale when given.
    static func query(format: String, settings: BatchSettings) -> String {
        var items = ["format=" + escape(format)]
        if let model = settings.model { items.append("model=" + escape(model)) }
        if let scale = settings.scale { items.append("scale=" + formatScale(scale)) }
        return items.joined(separator: "&")
    }

    /// `2` for 2.0, `2.5` for 2.5: the forms the server reads.
    static func formatScale(_ scale: Double) -> String {
        guard scale.isFinite, abs(scale) < 1e6, scale == scale.rounded() else { return String(scale) }
        return String(Int(scale))
    }

    /// Percent-encodes everything but the unreserved characters of RFC 3986.
    static func escape(_ text: String) -> String {
        let unreserved = CharacterSet(charactersIn: "-._~").union(
            CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        )
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// A multipart/form-data body of one field, `image`, holding `image` as a file named `filename`.
    static func multipartBody(image: [UInt8], filename: String, mediaType: String, boundary: String) -> ByteBuffer {
        // A quote, backslash or line break would end the header value early: the server only keeps the name.
        let safeName = String(filename.map { $0 == "\"" || $0 == "\\" || $0.isNewline ? "_" : $0 })
        let head =
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"\(safeName)\"\r\n"
            + "Content-Type: \(mediaType)\r\n\r\n"
        let tail = "\r\n--\(boundary)--\r\n"
        var buffer = ByteBufferAllocator().buffer(capacity: head.utf8.count + image.count + tail.utf8.count)
        buffer.writeString(head)
        buffer.writeBytes(image)
        buffer.writeString(tail)
        return buffer
    }
}
