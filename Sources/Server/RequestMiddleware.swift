import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id (`X-Request-Id`, taken from the client when it sends a sensible one), turns every
/// error into an `application/problem+json` answer, logs one line per request and counts it in the metrics.
struct RequestMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    let metrics: ServerMetrics
    let routes: RouteTable

    static let requestIDHeader = HTTPField.Name("X-Request-Id")!

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        if let incoming = request.headers[Self.requestIDHeader], Self.isAcceptableID(incoming) {
            context.logger[metadataKey: "hb.request.id"] = .string(incoming)
        }
        let requestID = context.id
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = problemResponse(for: error, request: request, context: context)
        }
        response.headers[Self.requestIDHeader] = requestID
        let route = context.endpointPath ?? "unmatched"
        let elapsed = start.duration(to: .now)
        let (seconds, attoseconds) = elapsed.components
        let nanoseconds = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
        metrics.recordRequest(
            route: route,
            method: request.method.rawValue,
            status: response.status.code,
            nanoseconds: nanoseconds
        )
        let level: Logger.Level = response.status.code >= 500 ? .warning : .info
        context.logger.log(
            level: level,
            "request",
            metadata: [
                "http.method": "\(request.method.rawValue)", "http.path": "\(request.uri.path)",
                "http.route": "\(route)", "http.status": "\(response.status.code)",
                "duration_ms": "\(String(format: "%.1f", Double(nanoseconds) / 1e6))",
            ]
        )
        return response
    }

    /// The problem answer for an error thrown by a route (or by the router for an unknown path).
    func problemResponse(for error: any Error, request: Request, context: Context) -> Response {
        let serviceError: ServiceError
        switch error {
        case let error as ServiceError:
            serviceError = error
        case let error as HTTPError where error.status == .notFound:
            let allowed = routes.methods(matching: request.uri.path)
            if allowed.isEmpty {
                serviceError = ServiceError(
                    .notFound,
                    "There is nothing at \(request.uri.path). The API is described at /openapi.yaml."
                )
            } else {
                let names = allowed.map(\.rawValue).sorted()
                serviceError = ServiceError(
                    .methodNotAllowed,
                    "\(request.uri.path) does not answer \(request.method.rawValue); it answers "
                        + "\(names.joined(separator: ", ")).",
                    headers: [.allow: names.joined(separator: ", ")]
                )
            }
        case let error as any HTTPResponseError:
            var problem = ProblemDetails(
                type: "about:blank",
                title: error.status.reasonPhrase,
                status: error.status.code,
                detail: error.status.reasonPhrase,
                instance: request.uri.path,
                requestId: context.id
            )
            if let error = error as? HTTPError, let message = error.body { problem.detail = message }
            return ServiceError.response(problem, status: error.status)
        default:
            context.logger.error("unexpected error", metadata: ["error": "\(error)"])
            serviceError = ServiceError(.internalError, "The server failed unexpectedly: \(error).")
        }
        var problem = serviceError.problem
        problem.instance = request.uri.path
        problem.requestId = context.id
        return ServiceError.response(problem, status: serviceError.status, headers: serviceError.headers)
    }

    /// Client ids are echoed in logs and headers: keep them short and printable.
    static func isAcceptableID(_ text: String) -> Bool {
        (1...128).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x5F || byte == 0x2E
            }
    }
}
