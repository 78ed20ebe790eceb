import Foundation
import HTTPTypes
import HummingbirdTesting
import ModelStore
import Models
import TestSupport
import Testing

@testable import Server

/// The web page, models, health, readiness, metrics, unknown routes and request ids.
@Suite(.enabled(if: Fixtures.available, Comment(rawValue: SharedData.missingMessage)))
struct ServiceRoutesTests {
    @Test func thePageAndItsFilesComeFromTheResources() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        try await test.withClient { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.text.contains("<script src=\"/static/app.js\""))
            // Offline: nothing is loaded from another host.
            for name in ["app.js", "app.css", "favicon.svg"] {
                let file = try await client.execute(uri: "/static/\(name)", method: .get)
                #expect(file.status == .ok, "\(name)")
                #expect(!file.text.contains("https://"), "\(name) refers to another host")
            }
            #expect(!page.text.contains("https://"))
            #expect(
                try await client.execute(uri: "/static/app.js", method: .get).headers[.contentType]
                    == "text/javascript; charset=utf-8"
            )
            let etag = try #require(page.headers[.eTag])
            let again = try await client.execute(uri: "/", method: .get, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)
            expectProblem(try await client.execute(uri: "/static/nope.js", method: .get), .notFound)
            let head = try await client.execute(uri: "/", method: .head)
            #expect(head.status == .ok)
        }
    }

    @Test func modelsListsTheLoadedModelsAndTheDefault() async throws {
        let test = try await TestServer.make(models: [Fixtures.fsrcnnX3, Fixtures.edsrTinyX3, Fixtures.fsrcnnX2])
        defer { test.removeData() }
        try await test.withClient { client in
            let response = try await client.execute(uri: "/api/v1/models", method: .get)
            #expect(response.status == .ok)
            let list = try #require(response.json)
            #expect(list["default"] as? String == "FSRCNN_x3")
            let models = try #require(list["models"] as? [[String: Any]])
            #expect(models.map { $0["name"] as? String } == ["FSRCNN_x3", "edsr_tiny_x3", "FSRCNN_x2"])
            #expect(models.map { $0["scale"] as? Int } == [3, 3, 2])
            #expect(models.map { $0["default"] as? Bool } == [true, false, false])
            #expect(list["families"] as? [String] == ["edsr", "fsrcnn"])
            #expect(list["scales"] as? [Int] == [2, 3])
            let limits = try #require(list["limits"] as? [String: Int])
            #expect(limits["maxUploadBytes"] == 25 << 20)
            // The catalogue, with what of it this server has loaded.
            let catalogue = try #require(list["catalogue"] as? [[String: Any]])
            #expect(catalogue.count == ModelCatalogue.all.count)
            #expect(catalogue.allSatisfy { $0["installed"] is Bool && $0["loaded"] is Bool && $0["scale"] is Int })
        }
    }

    @Test func healthReadinessAndMetrics() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        try await test.withClient { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(health.json?["status"] as? String == "ok")
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.json?["status"] as? String == "ready")
            #expect(ready.json?["models"] as? [String] == ["FSRCNN_x3"])

            _ = try await client.post("/enhance", .image(try Fixtures.cropPNG(side: 20)))
            _ = try await client.post("/enhance", .image([1, 2, 3]))
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = metrics.text
            #expect(text.contains("superres_http_requests_total{route=\"/enhance\",method=\"POST\",status=\"200\"} 1"))
            #expect(text.contains("superres_http_requests_total{route=\"/enhance\",method=\"POST\",status=\"415\"} 1"))
            #expect(text.contains("superres_upscales_total{model=\"FSRCNN_x3\",outcome=\"succeeded\"} 1"))
            #expect(text.contains("superres_megapixels_processed_total{model=\"FSRCNN_x3\"} 0.0004"))
            #expect(text.contains("superres_upscale_duration_seconds_count{model=\"FSRCNN_x3\"} 1"))
            #expect(text.contains("superres_queue_depth 0"))
            #expect(text.contains("superres_jobs_running 0"))
            #expect(text.contains("superres_http_request_duration_seconds_bucket"))
        }
    }

    @Test func unknownPathsAre404AndWrongMethods405() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        try await test.withClient { client in
            let missing = try await client.execute(uri: "/nothing/here", method: .get)
            expectProblem(missing, .notFound)
            #expect(missing.problem?.instance == "/nothing/here")
            let wrong = try await client.execute(uri: "/enhance", method: .get)
            expectProblem(wrong, .methodNotAllowed)
            #expect(wrong.headers[.allow] == "POST")
            let put = try await client.execute(uri: "/api/v1/jobs/\(UUID().uuidString.lowercased())", method: .put)
            expectProblem(put, .methodNotAllowed)
            #expect(put.headers[.allow] == "DELETE, GET, HEAD")
        }
    }

    @Test func everyAnswerCarriesARequestID() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        try await test.withClient { client in
            let mine = try await client.execute(
                uri: "/nothing",
                method: .get,
                headers: [HTTPField.Name("X-Request-Id")!: "trace-42"]
            )
            #expect(mine.headers[HTTPField.Name("X-Request-Id")!] == "trace-42")
            #expect(mine.problem?.requestId == "trace-42")
            let odd = try await client.execute(
                uri: "/healthz",
                method: .get,
                headers: [HTTPField.Name("X-Request-Id")!: "bad id\u{7}"]
            )
            let given = try #require(odd.headers[HTTPField.Name("X-Request-Id")!])
            #expect(given != "bad id\u{7}" && !given.isEmpty)
        }
    }

    @Test func badModelsStopTheStartWithOneLine() async throws {
        let temporary = TemporaryFolder("superres-server-tests")
        let folder = temporary.path
        defer { temporary.remove() }
        let model = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.fsrcnnX3)))
        let truncated = folder + "/truncated.pb"
        try Array(model.prefix(model.count / 2)).write(to: truncated)
        let wrong = folder + "/picture.pb"
        try Fixtures.cropPNG(side: 8).write(to: wrong)
        for (path, words) in [
            (folder + "/missing.pb", "missing.pb"), (truncated, "truncated.pb"), (wrong, "picture.pb"),
        ] {
            do {
                _ = try await TestServer.make(models: [Fixtures.fsrcnnX3, path], dataDirectory: folder)
                Issue.record("\(path) was accepted")
            } catch let error as ServerStartupError {
                #expect(error.description.contains(words))
                #expect(!error.description.contains("\n"))
            }
        }
        // A value that is neither a file nor a catalogue name says where to look.
        do {
            _ = try await TestServer.make(models: ["no-such-model"], dataDirectory: folder)
            Issue.record("no-such-model was accepted")
        } catch let error as ServerStartupError {
            #expect(error.description.contains("no model of that name"))
        }
        await #expect(throws: ServerStartupError.self) { _ = try await TestServer.make(models: []) }
        await #expect(throws: ServerStartupError.self) {
            _ = try await TestServer.make { $0.workers = 0 }
        }
    }
}
