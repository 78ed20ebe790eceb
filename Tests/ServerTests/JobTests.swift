import Foundation
import HTTPTypes
import HummingbirdTesting
import Imaging
import Models
import Pipeline
import TestSupport
import Testing

@testable import Server

/// The jobs API: submit, follow, download, cancel, delete.
@Suite(.enabled(if: Fixtures.available, Comment(rawValue: SharedData.missingMessage)))
struct JobTests {
    @Test func aJobRunsToItsResult() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 40)
        let expected = try Upscaler(model: ModelLoader.load(path: Fixtures.fsrcnnX3))
            .upscale(ImageCodec.decode(png, source: "crop"))
        try await test.withClient { client in
            let submitted = try await client.post("/api/v1/jobs", .image(png, filename: "wing.png"))
            #expect(submitted.status == .accepted)
            let job = try #require(submitted.json)
            let id = try #require(job["id"] as? String)
            #expect(submitted.headers[.location] == "/api/v1/jobs/\(id)")
            #expect(job["state"] as? String == "queued")
            let links = try #require(job["links"] as? [String: String])
            #expect(links["events"] == "/api/v1/jobs/\(id)/events")
            #expect(links["result"] == "/api/v1/jobs/\(id)/result")

            let finished = try await client.waitForJob(id)
            #expect(finished["state"] as? String == "succeeded")
            #expect(finished["progress"] as? Double == 1)
            let output = try #require(finished["output"] as? [String: Any])
            #expect(output["width"] as? Int == 120)
            let input = try #require(finished["input"] as? [String: Any])
            #expect(input["filename"] as? String == "wing.png")
            #expect(input["width"] as? Int == 40)
            let timings = try #require(finished["timings"] as? [String: Any])
            #expect((timings["processingSeconds"] as? Double ?? -1) >= 0)
            #expect(finished["startedAt"] is String && finished["finishedAt"] is String)

            let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get)
            #expect(result.status == .ok)
            #expect(result.headers[.contentType] == "image/png")
            #expect(result.headers[.contentDisposition] == "inline; filename=\"wing_x3.png\"")
            #expect(try ImageCodec.decode(result.bytes, source: "result") == expected)
            // The result was written under its final name, with no temporary file left behind.
            let folder = test.dataDirectory + "/jobs/" + id
            let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
            #expect(files == ["input.png", "job.json", "result.png"])
        }
    }

    /// A job whose whole result would not fit the memory a job may use is written a band at a time: the same
    /// picture, the same record, no temporary file left.
    @Test(arguments: ["png", "jpg"])
    func aJobOverItsMemoryIsWrittenInBands(_ format: String) async throws {
        let test = try await TestServer.make { $0.memoryPerJob = MemoryBudget(megabytes: 0) }
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 40)
        let expected = try Upscaler(model: ModelLoader.load(path: Fixtures.fsrcnnX3))
            .upscale(ImageCodec.decode(png, source: "crop"))
        try await test.withClient { client in
            let id = try await client.submitJob(.image(png, filename: "wing.png"), query: "?format=\(format)")
            let finished = try await client.waitForJob(id)
            #expect(finished["state"] as? String == "succeeded")
            let output = try #require(finished["output"] as? [String: Any])
            #expect(output["width"] as? Int == 120 && output["height"] as? Int == 120)
            let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get)
            #expect(result.status == .ok)
            #expect(output["bytes"] as? Int == result.bytes.count)
            if format == "png" {
                #expect(try ImageCodec.decode(result.bytes, source: "result") == expected)
            } else {
                #expect(result.bytes == (try ImageCodec.encode(expected, as: .jpeg, settings: EncodeSettings())))
            }
            let folder = test.dataDirectory + "/jobs/" + id
            let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
            #expect(files == ["input.png", "job.json", "result.\(format)"])
        }
    }

    @Test func eventsReportProgressThenDone() async throws {
        let test = try await TestServer.make { $0.tileSize = 16 }
        defer { test.removeData() }
        // Slow the tiles down so the job is still running when the event stream connects, even on a busy machine.
        test.server.engine.afterTile.withLock { $0 = { _, _ in Thread.sleep(forTimeInterval: 0.1) } }
        let png = try Fixtures.cropPNG(side: 40)
        try await test.withClient { client in
            let id = try await client.submitJob(.image(png))
            let response = try await client.execute(uri: "/api/v1/jobs/\(id)/events", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream; charset=utf-8")
            let events = ServerSentEvent.parse(response.text)
            let names = events.map(\.name)
            #expect(names.first == "status")
            #expect(names.last == "done")
            // 40×40 in 16-pixel tiles: 9 tiles, each reported.
            let progress = events.filter { $0.name == "progress" }.compactMap { $0.json?["tilesDone"] as? Int }
            #expect(progress == Array(1...9) || progress.last == 9)
            #expect(events.last?.json?["state"] as? String == "succeeded")
            let ids = events.compactMap { Int($0.id ?? "") }
            #expect(ids == ids.sorted())
            // A client that connects after the end gets the final event at once.
            let late = ServerSentEvent.parse(
                try await client.execute(uri: "/api/v1/jobs/\(id)/events", method: .get).text
            )
            #expect(late.map(\.name) == ["done"])
        }
    }

    @Test func aJobWithFormatAndModelParameters() async throws {
        let test = try await TestServer.make(models: [Fixtures.fsrcnnX3, Fixtures.fsrcnnX2])
        defer { test.removeData() }
        let png = try Fixtures.cropPNG(side: 20)
        try await test.withClient { client in
            let id = try await client.submitJob(.image(png, filename: "a.png"), query: "?scale=2&format=webp")
            let finished = try await client.waitForJob(id)
            #expect(finished["model"] as? String == "FSRCNN_x2")
            #expect(finished["format"] as? String == "webp")
            let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get)
            #expect(result.headers[.contentType] == "image/webp")
            #expect(result.headers[.contentDisposition] == "inline; filename=\"a_x2.webp\"")
            #expect(try ImageCodec.probe(result.bytes, source: "r").width == 40)
        }
    }

    @Test func submissionsAreCheckedLikeEnhance() async throws {
        let test = try await TestServer.make { $0.maxPixels = 2000 }
        defer { test.removeData() }
        try await test.withClient { client in
            expectProblem(try await client.post("/api/v1/jobs", .image([1, 2, 3], field: "photo")), .missingImage)
            expectProblem(try await client.post("/api/v1/jobs", .image(Array("BM....".utf8))), .unsupportedImage)
            expectProblem(try await client.post("/api/v1/jobs", .image(try Fixtures.cropPNG(side: 50))), .imageTooLarge)
            expectProblem(try await client.post("/api/v1/jobs?model=x", .image(try Fixtures.cropPNG())), .unknownModel)
        }
    }

    @Test func anImageBrokenPastItsHeaderFailsTheJob() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        try await test.withClient { client in
            let id = try await client.submitJob(.image(try Fixtures.corruptPNG(), filename: "broken.png"))
            let finished = try await client.waitForJob(id)
            #expect(finished["state"] as? String == "failed")
            let error = try #require(finished["error"] as? [String: Any])
            #expect(error["type"] as? String == ServiceError.Code.corruptImage.type)
            #expect((error["detail"] as? String)?.contains("broken.png") == true)
            let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get)
            expectProblem(result, .jobHasNoResult)
            #expect(result.problem?.detail.contains("failed") == true)
            let events = ServerSentEvent.parse(
                try await client.execute(uri: "/api/v1/jobs/\(id)/events", method: .get).text
            )
            #expect(events.map(\.name) == ["failed"])
        }
    }

    @Test func cancellingARunningJobStopsItAtTheNextTile() async throws {
        let test = try await TestServer.make { $0.tileSize = 8 }
        defer { test.removeData() }
        let gate = Gate()
        test.server.engine.afterTile.withLock { $0 = { done, _ in if done == 1 { gate.wait() } } }
        let png = try Fixtures.cropPNG(side: 32)
        try await test.withClient { client in
            let id = try await client.submitJob(.image(png))
            try await gate.waitUntilEntered()
            let running = try await client.execute(uri: "/api/v1/jobs/\(id)", method: .get)
            #expect(running.json?["state"] as? String == "running")
            #expect(running.json?["tilesDone"] as? Int == 1)
            expectProblem(
                try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get),
                .jobHasNoResult
            )

            let cancel = try await client.execute(uri: "/api/v1/jobs/\(id)", method: .delete)
            #expect(cancel.status == .accepted)
            #expect(cancel.json?["cancelRequested"] as? Bool == true)
            gate.open()
            let finished = try await client.waitForJob(id)
            #expect(finished["state"] as? String == "cancelled")
            #expect((finished["tilesDone"] as? Int ?? 0) < 16)
            // Nothing will read the input again: it is gone at once, the record stays until the job expires.
            let folder = test.dataDirectory + "/jobs/\(id)"
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["job.json"])
            expectProblem(
                try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get),
                .jobHasNoResult
            )
        }
    }

    /// A DELETE that found the job running (202) and the worker finishing its work race for the job's lock: the job
    /// must end cancelled, without a result, whichever the worker's outcome.
    @Test func aCancelAskedForWhileTheWorkCompletedEndsTheJobCancelled() async throws {
        let temporary = TemporaryFolder("superres-server-tests")
        let directory = temporary.path
        defer { temporary.remove() }
        let store = try JobStore(dataDirectory: directory, expiry: .seconds(3600))
        let now = Date()
        let record = JobRecord(
            id: JobStore.makeID(), state: .running, progress: 0.5, tilesDone: 1, tilesTotal: 2, model: "FSRCNN_x3",
            scale: 3, format: "png", quality: 95,
            input: ImageSummary(format: "png", width: 16, height: 16, bytes: 100, filename: "a.png"), output: nil,
            createdAt: now, startedAt: now, finishedAt: nil, expiresAt: now.addingTimeInterval(3600), error: nil,
            cancelRequested: false)
        let job = try store.create(record: record, input: try Fixtures.cropPNG(side: 16)).job
        var events = job.events().makeAsyncIterator()
        #expect(await events.next()?.name == "status")
        #expect(job.update(event: "status", { $0.cancelRequested = true })?.cancelRequested == true)
        #expect(await events.next()?.name == "status")
        // The worker wrote its result, then records success.
        try [1, 2, 3].write(to: job.path(record.resultFileName))
        let output = ImageSummary(format: "png", width: 48, height: 48, bytes: 3, filename: nil)
        let finished = try #require(job.finish(.succeeded, expiry: .seconds(60), output: output))
        #expect(finished.state == .cancelled)
        #expect(finished.output == nil)
        #expect(finished.error?.type == ServiceError.Code.cancelled.type)
        #expect(await events.next()?.name == "cancelled")
        let folder = directory + "/jobs/\(record.id)"
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["job.json"])
        // Once finished, a change (such as a later DELETE's cancel request) is refused: DELETE then deletes.
        #expect(job.update(event: "status", { $0.cancelRequested = true }) == nil)
    }

    @Test func cancellingAQueuedJobIsImmediate() async throws {
        let test = try await TestServer.make { $0.tileSize = 8 }
        defer { test.removeData() }
        let gate = Gate()
        test.server.engine.afterTile.withLock { $0 = { done, _ in if done == 1 { gate.wait() } } }
        let png = try Fixtures.cropPNG(side: 16)
        try await test.withClient { client in
            let first = try await client.submitJob(.image(png))
            try await gate.waitUntilEntered()
            let second = try await client.submitJob(.image(png))
            let queued = try await client.execute(uri: "/api/v1/jobs/\(second)", method: .get)
            #expect(queued.json?["state"] as? String == "queued")
            let cancel = try await client.execute(uri: "/api/v1/jobs/\(second)", method: .delete)
            #expect(cancel.status == .ok)
            #expect(cancel.json?["state"] as? String == "cancelled")
            #expect(!FileManager.default.fileExists(atPath: test.dataDirectory + "/jobs/\(second)/input.png"))
            let events = ServerSentEvent.parse(
                try await client.execute(uri: "/api/v1/jobs/\(second)/events", method: .get).text
            )
            #expect(events.map(\.name) == ["cancelled"])
            test.server.engine.afterTile.withLock { $0 = nil }
            gate.open()
            #expect(try await client.waitForJob(first)["state"] as? String == "succeeded")
            // The cancelled job never ran.
            #expect(try await client.waitForJob(second)["startedAt"] == nil)
        }
    }

    @Test func deletingAFinishedJobRemovesItAndItsFiles() async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        try await test.withClient { client in
            let id = try await client.submitJob(.image(try Fixtures.cropPNG(side: 16)))
            _ = try await client.waitForJob(id)
            let deleted = try await client.execute(uri: "/api/v1/jobs/\(id)", method: .delete)
            #expect(deleted.status == .noContent)
            #expect(!FileManager.default.fileExists(atPath: test.dataDirectory + "/jobs/" + id))
            expectProblem(try await client.execute(uri: "/api/v1/jobs/\(id)", method: .get), .jobNotFound)
            expectProblem(try await client.execute(uri: "/api/v1/jobs/\(id)", method: .delete), .jobNotFound)
        }
    }

    @Test(arguments: ["", "/events", "/result"])
    func unknownJobsAre404(suffix: String) async throws {
        let test = try await TestServer.make()
        defer { test.removeData() }
        try await test.withClient { client in
            let unknown = UUID().uuidString.lowercased()
            expectProblem(try await client.execute(uri: "/api/v1/jobs/\(unknown)\(suffix)", method: .get), .jobNotFound)
            expectProblem(
                try await client.execute(uri: "/api/v1/jobs/..%2F..%2Fetc\(suffix)", method: .get),
                .jobNotFound
            )
            expectProblem(try await client.execute(uri: "/api/v1/jobs/NOT-AN-ID\(suffix)", method: .get), .jobNotFound)
        }
    }

    @Test func drainStopsWorkPastTheGracePeriodAndRecordsIt() async throws {
        let test = try await TestServer.make {
            $0.tileSize = 8
            $0.shutdownGracePeriod = .milliseconds(100)
        }
        defer { test.removeData() }
        let gate = Gate()
        test.server.engine.afterTile.withLock { $0 = { done, _ in if done == 1 { gate.wait() } } }
        let png = try Fixtures.cropPNG(side: 32)
        try await test.withClient { client in
            let running = try await client.submitJob(.image(png))
            try await gate.waitUntilEntered()
            let queued = try await client.submitJob(.image(png))
            let server = test.server
            async let drained: Void = server.drain()
            // The grace period passes with the first job held; once the drain has set the tokens, the gate opens
            // (waited for, not slept on: on a loaded machine the drain may start late).
            let deadline = ContinuousClock.now + .seconds(30)
            while server.store.job(running)?.token.isCancelled != true, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            gate.open()
            await drained
            for id in [running, queued] {
                let job = try #require(server.store.job(id)?.record)
                #expect(job.state == .failed)
                #expect(job.error?.type == ServiceError.Code.interrupted.type)
                #expect(job.error?.detail.contains("shut down") == true)
            }
            // Recorded on disk, as a restart would read it.
            let data = try Data(contentsOf: URL(fileURLWithPath: test.dataDirectory + "/jobs/\(running)/job.json"))
            #expect(try JobStore.decoder().decode(JobRecord.self, from: data).state == .failed)
        }
    }
}

/// One Server-Sent Event.
struct ServerSentEvent {
    var id: String?
    var name: String
    var data: String

    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any]
    }

    /// The events of a `text/event-stream` body (comments and `retry` lines skipped).
    static func parse(_ text: String) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for block in text.components(separatedBy: "\n\n") {
            var id: String?
            var name = "message"
            var data: [String] = []
            var sawField = false
            for line in block.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix(":") { continue }
                let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
                let field = parts[0]
                let value = parts.count > 1 ? String(parts[1].drop(while: { $0 == " " })) : ""
                switch field {
                case "id": id = value
                case "event": name = value
                case "data": data.append(value)
                default: continue
                }
                sawField = true
            }
            if sawField && !data.isEmpty {
                events.append(ServerSentEvent(id: id, name: name, data: data.joined(separator: "\n")))
            }
        }
        return events
    }
}
