import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing
import Yams

@testable import Server

/// The operations of `openapi.yaml`: path, method, and for each documented status the media types of its body
/// (inline, or through `$ref: '#/components/responses/…'`), read with Yams.
struct OpenAPIDocument {
    struct Operation: CustomStringConvertible {
        var path: String
        var method: String
        var responses: [String: Set<String>]

        var description: String { "\(method.uppercased()) \(path)" }
    }

    var operations: [Operation] = []

    init(_ text: String) throws {
        let root = try #require(try Yams.compose(yaml: text), "openapi.yaml is empty")
        let components = root["components"]?["responses"]
        func mediaTypes(_ response: Node) -> Set<String> {
            if let reference = response["$ref"]?.string {
                let name = reference.split(separator: "/").last.map(String.init) ?? ""
                return components?[name].map(mediaTypes) ?? []
            }
            return Set(response["content"]?.mapping?.keys.compactMap(\.string) ?? [])
        }
        let methods: Set<String> = ["get", "post", "put", "delete", "patch"]
        for (path, item) in try #require(root["paths"]?.mapping, "openapi.yaml has no paths") {
            for (method, operation) in item.mapping ?? [:] {
                guard let method = method.string, methods.contains(method) else { continue }
                var responses: [String: Set<String>] = [:]
                for (status, response) in operation["responses"]?.mapping ?? [:] {
                    responses[status.string ?? "\(status)"] = mediaTypes(response)
                }
                operations.append(Operation(path: path.string ?? "", method: method, responses: responses))
            }
        }
    }
}

/// Every documented route exists and answers as documented; every route is documented.
@Suite(.enabled(if: Fixtures.available, Comment(rawValue: SharedData.missingMessage)))
struct OpenAPITests {
    /// The document as the server read it from its resources.
    static func document(of server: SuperresServer) throws -> (text: String, document: OpenAPIDocument) {
        let text = String(buffer: server.web.openAPI.bytes)
        return (text, try OpenAPIDocument(text))
    }

    @Test func documentAndRoutesAgree() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let (_, document) = try Self.document(of: test.server)
        let documented = Set(document.operations.map { "\($0.method.uppercased()) \($0.path)" })
        let served = Set(test.server.documentedRoutes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(documented == served)
        #expect(document.operations.count >= 13)
        for operation in document.operations {
            #expect(!operation.responses.isEmpty, "\(operation) documents no response")
        }
    }

    @Test func servedDocumentIsTheResource() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let (text, _) = try Self.document(of: test.server)
        try await test.withClient { client in
            let response = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(response.text == text)
            #expect(text.hasPrefix("openapi: 3.1"))
        }
    }

    /// Sends each documented operation a request that should succeed and one for every documented error status
    /// the route can produce, and checks the status and media type are among those documented.
    @Test func everyRouteAnswersAsDocumented() async throws {
        let test = try await TestServer.make { $0.maxPixels = 5000 }
        defer { test.removeData() }
        let (_, document) = try Self.document(of: test.server)
        let png = try Fixtures.cropPNG(side: 16)
        try await test.withClient { client in
            let id = try await client.submitJob(.image(png))
            _ = try await client.waitForJob(id)
            let unknown = UUID().uuidString.lowercased()
            var seen: [String: Set<String>] = [:]
            func check(_ operation: OpenAPIDocument.Operation, _ uri: String, body: MultipartBody? = nil) async throws {
                let method = HTTPRequest.Method(rawValue: operation.method.uppercased())!
                let response = try await client.execute(
                    uri: uri,
                    method: method,
                    headers: body?.headers ?? [:],
                    body: body?.buffer
                )
                let status = String(response.status.code)
                let mediaType = response.headers[.contentType]?.split(separator: ";").first.map(String.init)
                #expect(
                    operation.responses[status] != nil,
                    "\(operation) answered \(status) for \(uri), which is not documented"
                )
                if let documented = operation.responses[status], !documented.isEmpty {
                    #expect(
                        mediaType.map { documented.contains($0) } == true,
                        "\(operation) answered \(status) with \(mediaType ?? "no type"), documented: \(documented)"
                    )
                }
                seen[operation.description, default: []].insert(status)
            }
            for operation in document.operations {
                switch (operation.method, operation.path) {
                case ("get", "/static/{file}"):
                    try await check(operation, "/static/app.css")
                    try await check(operation, "/static/none.css")
                case ("post", "/enhance"), ("post", "/api/v1/jobs"):
                    let uri = operation.path
                    try await check(operation, uri, body: .image(png))
                    try await check(operation, uri, body: .image(png, field: "file"))
                    try await check(operation, uri, body: .image(Fixtures.headerOnlyPNG(width: 900, height: 900)))
                    try await check(operation, uri, body: .image(Array("GIF89a....".utf8)))
                    if operation.path == "/enhance" {
                        try await check(operation, uri, body: .image(Array(png.prefix(60))))
                    }
                case ("get", "/api/v1/jobs/{id}/result"):
                    try await check(operation, "/api/v1/jobs/\(id)/result")
                    try await check(operation, "/api/v1/jobs/\(unknown)/result")
                case ("delete", "/api/v1/jobs/{id}"):
                    let other = try await client.submitJob(.image(png))
                    _ = try await client.waitForJob(other)
                    try await check(operation, "/api/v1/jobs/\(other)")
                    try await check(operation, "/api/v1/jobs/\(unknown)")
                case (_, let path) where path.contains("{id}"):
                    try await check(operation, path.replacingOccurrences(of: "{id}", with: id))
                    try await check(operation, path.replacingOccurrences(of: "{id}", with: unknown))
                default:
                    try await check(operation, operation.path)
                }
            }
            // Every documented operation was exercised.
            #expect(Set(seen.keys) == Set(document.operations.map(\.description)))
        }
    }
}
