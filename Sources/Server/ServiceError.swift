import Foundation
import HTTPTypes
import Hummingbird
import Imaging
import Pipeline

/// Why the service refused or failed a request; the only place where failures become HTTP statuses.
///
/// Every error answers with an `application/problem+json` body (RFC 9457) whose `type` is
/// `urn:superres:problem:<code>` and whose `detail` says, in words a person understands, what to do about it.
package struct ServiceError: Error, HTTPResponseError, CustomStringConvertible, Sendable {
    /// The kind of failure; its raw value is the last part of the problem type.
    package enum Code: String, Sendable, CaseIterable {
        /// A query parameter or path segment has a value the service does not accept.
        case badRequest = "bad-request"
        /// The multipart body has no `image` field (or it is empty).
        case missingImage = "missing-image"
        /// The multipart body could not be parsed.
        case malformedForm = "malformed-form"
        /// The request body is not `multipart/form-data`.
        case notMultipart = "not-multipart"
        /// The request body is larger than `--max-upload-mb`.
        case uploadTooLarge = "upload-too-large"
        /// The image has more pixels than `--max-pixels` (read from its header).
        case imageTooLarge = "image-too-large"
        /// The upload is not a PNG, JPEG, WebP or TIFF image, or a variant of one that is not read.
        case unsupportedImage = "unsupported-image"
        /// The upload is a PNG, JPEG, WebP or TIFF whose data is broken or cut short.
        case corruptImage = "corrupt-image"
        /// The image is valid but the model cannot enlarge it.
        case unprocessableImage = "unprocessable-image"
        /// The `model` or `scale` asked for is not one of the loaded models.
        case unknownModel = "unknown-model"
        /// The queue is full; try again after `Retry-After` seconds.
        case queueFull = "queue-full"
        /// The server is shutting down and takes no new work.
        case shuttingDown = "shutting-down"
        /// The server is not ready (models not loaded, or shutting down).
        case notReady = "not-ready"
        /// The upscale ran longer than `--job-timeout`.
        case jobTimeout = "job-timeout"
        /// A job was cut off by a shutdown or restart (reported in the job, never as a response).
        case interrupted = "interrupted"
        /// A job was cancelled by a client (reported in the job, never as a response).
        case cancelled = "cancelled"
        /// No job has this id (never existed, expired or deleted).
        case jobNotFound = "job-not-found"
        /// The job has no result yet, or never will (failed or cancelled).
        case jobHasNoResult = "job-has-no-result"
        /// No route has this path.
        case notFound = "not-found"
        /// The route exists but not with this method.
        case methodNotAllowed = "method-not-allowed"
        /// Something failed inside the server.
        case internalError = "internal-error"
        /// The data folder is at its quota (`--max-data-mb`).
        case dataFolderFull = "data-folder-full"
        /// The server wants an API key (`--api-keys-file`) and the request has none, or one it does not know.
        case unauthorized = "unauthorized"
        /// The caller (API key or client address) sent more requests than `--rate-limit` allows.
        case rateLimited = "rate-limited"
        /// The shared job store (PostgreSQL) cannot be reached; try again after `Retry-After` seconds.
        case storeUnavailable = "store-unavailable"

        /// The HTTP status of this kind of failure.
        package var status: HTTPResponse.Status {
            switch self {
            case .badRequest, .missingImage, .malformedForm, .unknownModel: .badRequest
            case .notMultipart, .unsupportedImage: .unsupportedMediaType
            case .uploadTooLarge, .imageTooLarge: .contentTooLarge
            case .corruptImage, .unprocessableImage: .unprocessableContent
            case .queueFull, .shuttingDown, .notReady, .interrupted, .storeUnavailable: .serviceUnavailable
            case .cancelled: .conflict
            case .jobTimeout: .gatewayTimeout
            case .jobNotFound, .notFound: .notFound
            case .jobHasNoResult: .conflict
            case .methodNotAllowed: .methodNotAllowed
            case .internalError: .internalServerError
            case .dataFolderFull: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
            case .unauthorized: .unauthorized
            case .rateLimited: .tooManyRequests
            }
        }

        /// The problem's title: the same for every occurrence of this kind.
        package var title: String {
            switch self {
            case .badRequest: "Invalid request parameter"
            case .missingImage: "No image in the request"
            case .malformedForm: "Malformed multipart body"
            case .notMultipart: "Not a multipart/form-data request"
            case .uploadTooLarge: "Upload too large"
            case .imageTooLarge: "Image too large"
            case .unsupportedImage: "Unsupported image format"
            case .corruptImage: "Corrupt image"
            case .unprocessableImage: "Image cannot be processed"
            case .unknownModel: "Unknown model or scale"
            case .queueFull: "Server busy"
            case .shuttingDown: "Server shutting down"
            case .notReady: "Server not ready"
            case .jobTimeout: "Processing took too long"
            case .interrupted: "Job interrupted"
            case .cancelled: "Job cancelled"
            case .jobNotFound: "No such job"
            case .jobHasNoResult: "Job has no result"
            case .notFound: "Not found"
            case .methodNotAllowed: "Method not allowed"
            case .internalError: "Internal server error"
            case .dataFolderFull: "Data folder full"
            case .unauthorized: "API key required"
            case .rateLimited: "Too many requests"
            case .storeUnavailable: "Job store unavailable"
            }
        }

        /// `urn:superres:problem:<code>`.
        package var type: String { "urn:superres:problem:\(rawValue)" }
    }

    /// The kind of failure.
    package let code: Code
    /// What happened this time, for a person.
    package let detail: String
    /// Extra response headers (`Retry-After`, `Allow`).
    package var headers: HTTPFields

    /// An error of kind `code`; `detail` says what happened and what to do.
    package init(_ code: Code, _ detail: String, headers: HTTPFields = [:]) {
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    /// The HTTP status.
    package var status: HTTPResponse.Status { code.status }

    /// "<code>: <detail>", for logs.
    package var description: String { "\(code.rawValue): \(detail)" }

    /// The problem body, without the request's path and id.
    package var problem: ProblemDetails {
        ProblemDetails(type: code.type, title: code.title, status: code.status.code, detail: detail)
    }

    /// The `application/problem+json` response.
    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var problem = self.problem
        problem.instance = request.uri.path
        problem.requestId = context.id
        return Self.response(problem, status: status, headers: headers)
    }

    /// An `application/problem+json` response carrying `problem`.
    static func response(_ problem: ProblemDetails, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response
    {
        var fields = headers
        fields[.contentType] = ProblemDetails.mediaType
        fields[.cacheControl] = "no-store"
        return Response(
            status: status,
            headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(data: problem.encoded()))
        )
    }
}

// MARK: - From the other layers' errors

extension ServiceError {
    /// The service error for an image that could not be probed, decoded or encoded.
    init(_ error: ImagingError, upload name: String) {
        switch error.code {
        case .unsupportedFormat:
            self.init(
                .unsupportedImage,
                "\(name): \(error.message). Send a PNG, JPEG, WebP or TIFF image."
            )
        case .corrupt, .truncated, .emptyImage:
            self.init(
                .corruptImage,
                "\(name) could not be read: \(error.message). The file may be damaged or incompletely uploaded."
            )
        case .tooLarge:
            self.init(.imageTooLarge, "\(name): \(error.message). Send a smaller image.")
        case .unreadable, .encodeFailed, .writeFailed:
            self.init(.internalError, "\(name): \(error.message)")
        case .cancelled:
            self.init(.cancelled, "\(name): \(error.message)")
        case .colourProfile:
            self.init(.unprocessableImage, "\(name): \(error.message)")
        }
    }

    /// The service error for an upscale that did not finish.
    init(_ error: PipelineError, upload name: String) {
        switch error {
        case .cancelled:
            self.init(.internalError, "\(name): the upscale was stopped")
        case .unsupportedImage(let message):
            self.init(.unprocessableImage, "\(name) cannot be enlarged by this model: \(message)")
        case .network(let error):
            self.init(.internalError, "\(name): the network failed: \(error)")
        case .badSize(let message):
            self.init(.badRequest, "\(name): \(message).")
        case .model(let error):
            self.init(.internalError, "\(name): a model could not be loaded: \(error)")
        case .input(let error):
            self.init(error, upload: name)
        }
    }
}

extension ByteBuffer {
    /// A buffer holding `data`'s bytes.
    init(data: Data) {
        self.init(bytes: data)
    }
}
