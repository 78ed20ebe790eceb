import Foundation
import HTTPTypes
import Hummingbird
import Pipeline

extension SuperresServer {
    /// Every route the server answers, documented in `openapi.yaml`: the router and the route table (405/Allow, the
    /// OpenAPI check) are both built from this one list.
    var routes: [RouteTable.Route] {
        [
            .init(.get, "/") { request, _ in try self.staticFile("index.html", request: request) },
            .init(.get, "/static/{file}") { request, context in
                try self.staticFile(context.parameters.get("file") ?? "", request: request)
            },
            .init(.get, "/openapi.yaml") { request, _ in WebResources.response(self.web.openAPI, request: request) },
            .init(.get, "/healthz") { _, _ in self.health() },
            .init(.get, "/readyz") { _, _ in try await self.readiness() },
            .init(.get, "/metrics") { _, _ in await self.metricsText() },
            .init(.get, "/api/v1/models") { _, _ in self.modelList() },
            .init(.post, "/enhance") { request, context in try await self.enhance(request, context: context) },
            .init(.post, "/api/v1/inspect") { request, _ in try await self.inspect(request) },
            .init(.post, "/api/v1/jobs") { request, context in try await self.submitJob(request, context: context) },
            .init(.get, "/api/v1/jobs/{id}") { _, context in try await self.jobStatus(context) },
            .init(.delete, "/api/v1/jobs/{id}") { _, context in try await self.cancelJob(context) },
            .init(.get, "/api/v1/jobs/{id}/events") { _, context in try await self.jobEvents(context) },
            .init(.get, "/api/v1/jobs/{id}/result") { request, context in
                try await self.jobResult(request, context: context)
            },
        ]
    }

    /// The router of `routes`, behind the request and access middleware.
    func makeRouter() -> Router<ServerRequestContext> {
        let table = routeTable
        let router = Router(context: ServerRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: RequestMiddleware(metrics: metrics, routes: table))
        router.add(middleware: AccessMiddleware(keys: configuration.apiKeys, limiter: rateLimiter))
        for route in table.routes where route.method != .head {
            let handler = route.handler
            router.on(RouterPath(route.path), method: route.method) { request, context -> Response in
                try await handler(request, context).response(from: request, context: context)
            }
        }
        return router
    }

    /// The routes `makeRouter` adds, with HEAD for every GET (the router answers those itself).
    var routeTable: RouteTable { RouteTable(routes) }

    /// The public routes of the route table (what `openapi.yaml` must document).
    package var documentedRoutes: [RouteTable.Route] {
        routeTable.routes.filter { $0.method != .head }
    }

    // MARK: - Status

    func staticFile(_ name: String, request: Request) throws(ServiceError) -> Response {
        guard let file = web.files[name] else {
            throw ServiceError(.notFound, "There is no file \(name) in the web page's resources.")
        }
        return WebResources.response(file, request: request)
    }

    func health() -> Response {
        Self.json(["status": "ok"])
    }

    func readiness() async throws(ServiceError) -> Response {
        guard isReady else {
            throw ServiceError(.notReady, "The server is shutting down and takes no new work.")
        }
        if let fleet, await !fleet.queue.isReachable() {
            throw ServiceError(
                .notReady, "The job store \(fleet.queue.location) does not answer; this node takes no work until it does.")
        }
        struct Readiness: Encodable {
            var status = "ready"
            var models: [String]
            var workers: Int
            var running: Int
            var waiting: Int
            var queueCapacity: Int
        }
        let inFlight = await admission.inFlight
        let running = workers.running
        return Self.json(
            Readiness(
                models: models.models.map(\.name),
                workers: configuration.workers,
                running: running,
                waiting: max(0, inFlight - running),
                queueCapacity: configuration.queueCapacity
            )
        )
    }

    func metricsText() async -> Response {
        metrics.queueDepth.record(workers.waiting)
        metrics.running.record(workers.running)
        var text = metrics.exposition()
        if let fleet, let statistics = try? await fleet.queue.statistics() {
            text += FleetMetrics.exposition(statistics)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }

    func modelList() -> Response {
        struct Entry: Encodable {
            var name: String
            var family: String
            var scale: Int
            var isDefault: Bool
            var file: String
            var parameters: Int
            var content: String

            enum CodingKeys: String, CodingKey {
                case name, family, scale, file, parameters, content
                case isDefault = "default"
            }
        }
        struct Limits: Encodable {
            var maxUploadBytes: Int
            var maxPixels: Int
            var maxOutputPixels: Int
        }
        struct List: Encodable {
            var defaultModel: String
            var models: [Entry]
            var families: [String]
            var scales: [Int]
            var limits: Limits
            var catalogue: [CatalogueListing]

            enum CodingKeys: String, CodingKey {
                case models, families, scales, limits, catalogue
                case defaultModel = "default"
            }
        }
        let entries = models.models.enumerated().map { index, model in
            Entry(
                name: model.name,
                family: model.familyName,
                scale: model.scale,
                isDefault: index == 0,
                file: (model.path as NSString).lastPathComponent,
                parameters: model.model.parameterCount,
                content: model.content.rawValue
            )
        }
        return Self.json(
            List(
                defaultModel: models.defaultModel.name,
                models: entries,
                families: Array(Set(entries.map(\.family))).sorted(),
                scales: Array(Set(entries.map(\.scale))).sorted(),
                limits: Limits(
                    maxUploadBytes: configuration.maxUploadBytes, maxPixels: configuration.maxPixels,
                    maxOutputPixels: configuration.maxOutputPixels),
                catalogue: catalogue
            )
        )
    }

    // MARK: - Helpers

    /// A JSON answer.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return json(data: data, status: status, headers: headers)
    }

    /// A JSON answer from encoded bytes.
    static func json(data: Data, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        if fields[.cacheControl] == nil { fields[.cacheControl] = "no-store" }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(data: data)))
    }

    /// A file name for the result of `upload`: `<stem>_x<scale>.<ext>`, reduced to safe characters.
    static func resultFileName(upload: String, suffix: String, format: String) -> String {
        let stem = (upload as NSString).deletingPathExtension
        let safe = String(
            stem.unicodeScalars.map { scalar -> Character in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "_"
            }
        ).prefix(80)
        return "\(safe.isEmpty ? "image" : String(safe))_\(suffix).\(JobRecord.fileExtension(format))"
    }

    /// What a result's name says of its size: `x3`, `x2.5`, or `1000x750` when a width or height was asked for.
    static func sizeSuffix(scale: Double, sized: Bool, width: Int, height: Int) -> String {
        sized ? "\(width)x\(height)" : "x\(OutputRequest.format(scale))"
    }
}
