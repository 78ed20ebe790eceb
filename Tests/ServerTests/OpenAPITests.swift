import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

@testable import Server

/// The operations of `openapi.yaml`: path, method, and for each documented status the media types of its body.
///
/// A small reader for the layout this document keeps (two spaces per level, responses either inline or as
/// `$ref: '#/components/responses/…'`); it is not a general YAML parser.
struct OpenAPIDocument {
    struct Operation: CustomStringConvertible {
        var path: String
        var method: String
        var responses: [String: Set<String>]

        var description: String { "\(method.uppercased()) \(path)" }
    }

    var operations: [Operation] = []

    init(_ text: String) {
        let lines = text.components(separatedBy: "\n")
        func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        func key(_ line: String) -> String {
            var key = line.trimmingCharacters(in: .whitespaces)
            if key.hasSuffix(":") { key.removeLast() }
            return key.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        }
        // Component responses: name → media types.
        var componentResponses: [String: Set<String>] = [:]
        var section = ""
        var current: String?
        var inContent = false
        for line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let level = indent(line)
            if level == 2 { section = key(line) }
            guard section == "responses", line.hasPrefix("    ") else { continue }
            if level == 4 {
                current = key(line)
                componentResponses[current!] = []
                inContent = false
            } else if level == 6 {
                inContent = key(line) == "content"
            } else if level == 8, inContent, let current {
                componentResponses[current]?.insert(key(line))
            }
        }
        // Paths.
        var inPaths = false
        var path = ""
        var operation: Operation?
        var status: String?
        var inResponses = false
        var inBody = false
        func flush() {
            if let operation { operations.append(operation) }
            operation = nil
        }
        for line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let level = indent(line)
            if level == 0 {
                flush()
                inPaths = key(line) == "paths"
                continue
            }
            guard inPaths else { continue }
            let name = key(line)
            switch level {
            case 2:
                flush()
                path = name
            case 4:
                flush()
                if ["get", "post", "put", "delete", "patch"].contains(name) {
                    operation = Operation(path: path, method: name, responses: [:])
                }
            case 6:
                inResponses = name == "responses"
            case 8 where inResponses && operation != nil:
                status = name
                operation?.responses[name] = []
                inBody = false
            case 10 where inResponses && status != nil:
                if name.hasPrefix("$ref") {
                    let reference = name.components(separatedBy: "/").last ?? ""
                    operation?.responses[status!] = componentResponses[reference.trimmingCharacters(in: ["'"])] ?? []
                }
                inBody = name == "content"
            case 12 where inResponses && inBody && status != nil:
                operation?.responses[status!]?.insert(name)
            default:
                break
            }
        }
        flush()
    }
}

/// Every documented route exists and answers as documented; every route is documented.
@Suite(.enabled(if: Fixtures.available, Comment(rawValue: SharedData.missingMessage)))
struct OpenAPITests {
    /// The document as the server read it from its resources.
    static func document(of server: SuperresServer) -> (text: String, document: OpenAPIDocument) {
        let text = String(buffer: server.web.openAPI.bytes)
        return (text, OpenAPIDocument(text))
    }

    @Test func documentAndRoutesAgree() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let (_, document) = Self.document(of: test.server)
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
        let (text, _) = Self.document(of: test.server)
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
        let (_, document) = Self.document(of: test.server)
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
