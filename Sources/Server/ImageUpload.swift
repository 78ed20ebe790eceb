import Foundation
import HTTPTypes
import Hummingbird
import Imaging
import MultipartKit

/// The image of a `multipart/form-data` request (the field `image`, as the Flask service took it), checked from its
/// header but not decoded.
struct ImageUpload: Sendable {
    /// The file's bytes as uploaded.
    let bytes: [UInt8]
    /// The uploaded file's name (only the last path component), or "upload".
    let filename: String
    /// Format and size from the header.
    let header: ImageHeader

    /// The name the field must have.
    static let fieldName = "image"

    /// Reserves the body's declared length (or `maxBytes`) from `budget`, reads the body (up to `maxBytes`), then on
    /// one of the `io` threads finds the `image` field and probes its header against `maxPixels` (a 25 MB body takes
    /// a while to scan: not a job for the cooperative pool). Throws 503 without reading the body when the budget of
    /// bodies in memory is spent.
    static func read(
        from request: Request,
        maxBytes: Int,
        maxPixels: Int,
        budget: UploadBudget,
        io: WorkerThreads
    ) async throws(ServiceError) -> ImageUpload {
        let boundary = try multipartBoundary(of: request)
        let megabytes = String(format: "%g", Double(maxBytes) / Double(1 << 20))
        let tooLarge = ServiceError(
            .uploadTooLarge,
            "The upload is larger than the limit of \(megabytes) MB. Send a smaller file."
        )
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > maxBytes { throw tooLarge }
        let reservation = max(0, declared ?? maxBytes)
        guard budget.reserve(reservation) else {
            throw ServiceError(
                .queueFull,
                "Other uploads in progress fill the server's memory for request bodies "
                    + "(\(budget.capacity >> 20) MB). Try again in 5 seconds.",
                headers: [.retryAfter: "5"]
            )
        }
        defer { budget.release(reservation) }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // Hummingbird reports a body over the limit as NIOTooManyBytesError, which answers 413.
            throw tooLarge
        } catch {
            throw ServiceError(.malformedForm, "The request body could not be read: \(error).")
        }
        let parsed: Result<ImageUpload, ServiceError> = await io.run {
            do throws(ServiceError) {
                return .success(try parse(body, boundary: boundary, maxPixels: maxPixels))
            } catch {
                return .failure(error)
            }
        }
        return try parsed.get()
    }

    /// The `image` part of a multipart body, its header probed and checked against `maxPixels` (blocking).
    static func parse(_ body: ByteBuffer, boundary: String, maxPixels: Int) throws(ServiceError) -> ImageUpload {
        let part = try imagePart(of: body, boundary: boundary)
        let filename =
            part.filename.map { ($0 as NSString).lastPathComponent }.flatMap { $0.isEmpty ? nil : $0 }
            ?? "upload"
        let header: ImageHeader
        do {
            header = try ImageCodec.probe(part.bytes, source: filename)
        } catch {
            throw ServiceError(error, upload: filename)
        }
        let pixels = header.width * header.height
        guard pixels <= maxPixels else {
            throw ServiceError(
                .imageTooLarge,
                "\(filename) is \(header.width)×\(header.height) = \(pixels) pixels, over the limit of \(maxPixels) "
                    + "pixels. Send a smaller image."
            )
        }
        return ImageUpload(bytes: part.bytes, filename: filename, header: header)
    }

    /// The `boundary` parameter of a `multipart/form-data` content type.
    static func multipartBoundary(of request: Request) throws(ServiceError) -> String {
        let hint =
            "Send the image as multipart/form-data with the field '\(fieldName)', e.g. "
            + "curl -F image=@photo.png http://HOST/enhance."
        guard let contentType = request.headers[.contentType] else {
            throw ServiceError(.notMultipart, "The request has no Content-Type. \(hint)")
        }
        let parameters = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parameters.first?.lowercased() == "multipart/form-data" else {
            throw ServiceError(.notMultipart, "The request body is \(parameters.first ?? contentType). \(hint)")
        }
        for parameter in parameters.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let boundary = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            if !boundary.isEmpty && boundary.utf8.count <= 200 { return boundary }
        }
        throw ServiceError(.malformedForm, "The multipart/form-data Content-Type has no boundary parameter. \(hint)")
    }

    /// The `image` part's bytes and file name, parsed with MultipartKit.
    static func imagePart(
        of body: ByteBuffer,
        boundary: String
    ) throws(ServiceError) -> (bytes: [UInt8], filename: String?) {
        let collector = PartCollector()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in collector.header(name: name, value: value) }
        parser.onBody = { buffer in collector.body(&buffer) }
        parser.onPartComplete = { collector.completePart() }
        do {
            try parser.execute(body)
        } catch {
            throw ServiceError(
                .malformedForm,
                "The multipart body is not well formed: a part's headers or a boundary break the "
                    + "multipart/form-data syntax. Send the picture in a field named '\(fieldName)'."
            )
        }
        if let limit = collector.exceededLimit {
            throw ServiceError(.malformedForm, "The multipart body has \(limit). Send the picture in a field named "
                + "'\(fieldName)', with at most \(PartCollector.maxParts) fields.")
        }
        guard let part = collector.parts.first(where: { $0.name == fieldName }) else {
            let names = collector.parts.compactMap(\.name)
            if collector.partStarted {
                throw ServiceError(
                    .malformedForm,
                    "The multipart body ends before its last part is complete (no closing boundary)."
                )
            }
            let found =
                names.isEmpty
                ? "no fields"
                : "the field\(names.count == 1 ? "" : "s") "
                    + names.map { "'\($0)'" }.joined(separator: ", ")
            throw ServiceError(
                .missingImage,
                "The form has \(found) but no '\(fieldName)'. Send the picture in a field named '\(fieldName)'."
            )
        }
        guard part.body.readableBytes > 0 else {
            throw ServiceError(.missingImage, "The '\(fieldName)' field is empty. Choose a picture to send.")
        }
        return (Array(part.body.readableBytesView), part.filename)
    }
}

/// Gathers MultipartKit's parser callbacks into parts, within limits: a body of many tiny parts or huge part headers
/// must not cost more memory than the upload itself. Only the `image` field's body is kept.
private final class PartCollector {
    /// The most parts (form fields) a body may have.
    static let maxParts = 16
    /// The most header bytes (names and values) of one part.
    static let maxHeaderBytes = 8 * 1024

    private(set) var parts: [MultipartPart] = []
    private var current = MultipartPart(body: ByteBuffer())
    private var currentHeaderBytes = 0
    /// Whether a part has begun (headers or body seen) and not completed.
    private(set) var partStarted = false
    /// What limit the body broke, if any; the parser's further callbacks are then ignored.
    private(set) var exceededLimit: String?

    func header(name: String, value: String) {
        guard exceededLimit == nil else { return }
        currentHeaderBytes += name.utf8.count + value.utf8.count
        guard currentHeaderBytes <= Self.maxHeaderBytes else {
            exceededLimit = "a part with more than \(Self.maxHeaderBytes) bytes of headers"
            return
        }
        current.headers.add(name: name, value: value)
        partStarted = true
    }

    func body(_ buffer: inout ByteBuffer) {
        guard exceededLimit == nil else { return }
        // Other fields' contents are never used: only their names are kept (for the error message).
        if current.name == ImageUpload.fieldName { current.body.writeBuffer(&buffer) }
        partStarted = true
    }

    func completePart() {
        guard exceededLimit == nil else { return }
        guard parts.count < Self.maxParts else {
            exceededLimit = "more than \(Self.maxParts) parts"
            return
        }
        parts.append(current)
        current = MultipartPart(body: ByteBuffer())
        currentHeaderBytes = 0
        partStarted = false
    }
}

extension MultipartPart {
    /// The `filename` parameter of the part's Content-Disposition.
    fileprivate var filename: String? {
        guard let disposition = headers.first(name: "Content-Disposition") else { return nil }
        for parameter in disposition.split(separator: ";") {
            let pair = parameter.split(separator: "=", maxSplits: 1).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            if pair.count == 2, pair[0].lowercased() == "filename" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }
}
