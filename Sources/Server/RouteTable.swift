import HTTPTypes

/// The routes the server answers, as patterns such as `/api/v1/jobs/{id}`: to tell 405 from 404 and to let the
/// tests compare the routes with the OpenAPI document.
public struct RouteTable: Sendable {
    /// One method and path pattern.
    public struct Route: Sendable, Hashable {
        public var method: HTTPRequest.Method
        public var path: String
    }

    /// Every route, in the order added.
    public private(set) var routes: [Route] = []

    mutating func add(_ method: HTTPRequest.Method, _ path: String) {
        routes.append(Route(method: method, path: path))
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
