import HTTPTypes
import Hummingbird

/// The routes the server answers, as patterns such as `/api/v1/jobs/{id}` with their handlers: the router is built
/// from it, 405 is told from 404 with it, and the tests compare it with the OpenAPI document.
package struct RouteTable: Sendable {
    /// What answers a route.
    typealias Handler = @Sendable (Request, ServerRequestContext) async throws -> any ResponseGenerator

    /// One method and path pattern, and its handler.
    package struct Route: Sendable {
        /// The HTTP method.
        package var method: HTTPRequest.Method
        /// The path pattern (`{name}` stands for one segment), as `openapi.yaml` writes it.
        package var path: String
        /// What answers it (HEAD routes share their GET's handler; the router answers them itself).
        let handler: Handler

        /// The route `method path`, answered by `handler`.
        init(_ method: HTTPRequest.Method, _ path: String, handler: @escaping Handler) {
            self.method = method
            self.path = path
            self.handler = handler
        }
    }

    /// Every route, in the order given, then a HEAD route for each GET.
    package let routes: [Route]

    /// The table of `routes` and the HEAD routes of their GETs.
    init(_ routes: [Route]) {
        self.routes = routes + routes.filter { $0.method == .get }.map { Route(.head, $0.path, handler: $0.handler) }
    }

    /// The methods of the routes whose pattern matches `path`.
    func methods(matching path: String) -> [HTTPRequest.Method] {
        let segments = Self.segments(path)
        return routes.filter { route in
            let pattern = Self.segments(route.path)
            guard pattern.count == segments.count else { return false }
            return zip(pattern, segments).allSatisfy { expected, actual in
                expected.hasPrefix("{") || expected == actual
            }
        }.map(\.method)
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}
