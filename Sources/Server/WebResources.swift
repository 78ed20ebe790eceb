import Foundation
import HTTPTypes
import Hummingbird

/// The web page and the OpenAPI document, read once from the module's resources (SwiftPM `.copy("Web")` and
/// `.copy("openapi.yaml")`) and served from memory. Nothing is fetched from elsewhere, so the page works offline.
struct WebResources: Sendable {
    /// One file ready to serve.
    struct File: Sendable {
        var bytes: ByteBuffer
        var contentType: String
        /// A strong validator for `If-None-Match`.
        var etag: String
    }

    /// Files of the `Web` folder by name (`index.html`, `app.js`, …).
    var files: [String: File]
    /// `openapi.yaml`.
    var openAPI: File

    /// Reads the resources (blocking).
    static func load() throws(ServerStartupError) -> WebResources {
        guard let folder = Bundle.module.url(forResource: "Web", withExtension: nil) else {
            throw ServerStartupError("the web page's files are missing from the resource bundle (Web)")
        }
        guard let openAPIURL = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let openAPIData = FileManager.default.contents(atPath: openAPIURL.path)
        else {
            throw ServerStartupError("openapi.yaml is missing from the resource bundle")
        }
        var files: [String: File] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where !name.hasPrefix(".") {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else {
                continue
            }
            files[name] = file(data, contentType: contentType(of: name))
        }
        guard files["index.html"] != nil else {
            throw ServerStartupError("the web page (Web/index.html) is missing from the resource bundle")
        }
        return WebResources(files: files, openAPI: file(openAPIData, contentType: "application/yaml"))
    }

    private static func file(_ data: Data, contentType: String) -> File {
        // FNV-1a, enough to tell versions of a file apart.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return File(bytes: ByteBuffer(data: data), contentType: contentType, etag: "\"\(String(hash, radix: 16))\"")
    }

    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "json", "webmanifest": "application/json"
        default: "application/octet-stream"
        }
    }

    /// The answer for `file`: 304 when the client's copy is current.
    static func response(_ file: File, request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: file.contentType,
            .eTag: file.etag,
            .cacheControl: "no-cache",
        ]
        if request.headers[.ifNoneMatch] == file.etag {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: file.bytes))
    }
}
