import Foundation
import HTTPTypes
import Hummingbird
import Imaging
import MultipartForms

/// The image of a `multipart/form-data` request (the field `image`, as the Flask service took it), checked from its
/// header but not decoded.
package struct ImageUpload: Sendable {
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
        // Sized to the declared length up front, so a body is held once, not in a buffer that doubles as it grows
        // (a 20 MB upload would otherwise briefly take up to 32 MB).
        var body = ByteBufferAllocator().buffer(capacity: min(declared ?? 64 << 10, maxBytes))
        do {
            for try await part in request.body {
                guard part.readableBytes <= maxBytes - body.readableBytes else { throw tooLarge }
                var part = part
                body.writeBuffer(&part)
            }
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(.malformedForm, "The request body could not be read: \(error).")
        }
        let collected = body
        let parsed: Result<ImageUpload, ServiceError> = await io.run {
            do throws(ServiceError) {
                return .success(try parse(collected, boundary: boundary, maxPixels: maxPixels))
            } catch {
                return .failure(error)
            }
        }
        return try parsed.get()
    }

    /// The `image` part of a multipart body, its header probed and checked against `maxPixels` (blocking).
    package static func parse(_ body: ByteBuffer, boundary: String, maxPixels: Int) throws(ServiceError) -> ImageUpload {
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
        let pixels = header.pixelCount
        guard pixels <= maxPixels else {
            throw ServiceError(
                .imageTooLarge,
                "\(filename) is \(header.width)×\(header.height) pixels, over the limit of \(maxPixels) "
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

    /// The most parts (form fields) a body may have.
    static let maxParts = MultipartForm.uploadMaxParts
    /// The most header bytes (names and values) of one part.
    static let maxHeaderBytes = MultipartForm.uploadMaxHeaderBytes

    /// The `image` part's bytes (the one copy of them) and file name.
    static func imagePart(
        of body: ByteBuffer,
        boundary: String
    ) throws(ServiceError) -> (bytes: [UInt8], filename: String?) {
        let parts: [MultipartForm.Part]
        do {
            parts = try MultipartForm.parse(
                body, boundary: boundary, maxParts: maxParts, maxHeaderBytes: maxHeaderBytes)
        } catch {
            let hint = "Send the picture in a field named '\(fieldName)'"
            switch error {
            case .malformed(let reason):
                throw ServiceError(
                    .malformedForm, "The multipart body is not well formed: \(reason). \(hint).")
            case .tooManyParts(let limit):
                throw ServiceError(
                    .malformedForm, "The multipart body has more than \(limit) parts. \(hint), with at most \(limit) "
                        + "fields.")
            case .headersTooLarge(let limit):
                throw ServiceError(
                    .malformedForm, "The multipart body has a part with more than \(limit) bytes of headers. \(hint).")
            case .unterminated:
                throw ServiceError(
                    .malformedForm, "The multipart body ends before its last part is complete (no closing boundary).")
            }
        }
        guard let part = parts.first(where: { $0.name == fieldName }) else {
            let names = parts.compactMap(\.name)
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
        guard !part.content.isEmpty,
            let bytes = body.getBytes(at: body.readerIndex + part.content.lowerBound, length: part.content.count)
        else {
            throw ServiceError(.missingImage, "The '\(fieldName)' field is empty. Choose a picture to send.")
        }
        return (bytes, part.filename)
    }
}
