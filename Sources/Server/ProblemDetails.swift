import Foundation

/// An `application/problem+json` body (RFC 9457): what went wrong, for a person and for a program.
package struct ProblemDetails: Codable, Sendable, Equatable {
    /// A URI naming the kind of problem, `urn:superres:problem:<code>`; stable for programs to match on.
    package var type: String
    /// A short summary of the kind of problem, the same for every occurrence.
    package var title: String
    /// The HTTP status code.
    package var status: Int
    /// What happened this time, in words a person understands.
    package var detail: String
    /// The request path the problem is about.
    package var instance: String?
    /// The request id, also in the `X-Request-Id` header and the server's log.
    package var requestId: String?

    /// A problem body with every member given.
    package init(
        type: String,
        title: String,
        status: Int,
        detail: String,
        instance: String? = nil,
        requestId: String? = nil
    ) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.instance = instance
        self.requestId = requestId
    }

    /// The media type of problem bodies.
    package static let mediaType = "application/problem+json"

    /// The body as JSON (keys sorted so that bodies are stable).
    func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("{\"status\":\(status)}".utf8)
    }
}
