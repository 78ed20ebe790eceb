import Foundation
import HummingbirdTesting
import TestSupport
import Testing

@testable import Server

/// Jobs in the data directory across restarts: kept until they expire, never silently lost.
@Suite(.enabled(if: Fixtures.available, Comment(rawValue: SharedData.missingMessage)))
struct PersistenceTests {
    /// Writes a job folder as a previous process would have left it.
    func leaveJob(
        in directory: String,
        state: JobState,
        finishedHoursAgo: Double? = nil,
        result: Bool = false
    ) throws
        -> String
    {
        let id = JobStore.makeID()
        let folder = directory + "/jobs/" + id
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let now = Date()
        let finishedAt = finishedHoursAgo.map { now.addingTimeInterval(-$0 * 3600) }
        let record = JobRecord(
            id: id,
            state: state,
            progress: state == .running ? 0.5 : 0,
            tilesDone: 0,
            tilesTotal: 0,
            model: "FSRCNN_x3",
            scale: 3,
            format: "png",
            quality: 95,
            input: ImageSummary(format: "png", width: 16, height: 16, bytes: 100, filename: "old.png"),
            output: result ? ImageSummary(format: "png", width: 48, height: 48, bytes: 3, filename: nil) : nil,
            createdAt: now.addingTimeInterval(-7200),
            startedAt: state == .queued ? nil : now.addingTimeInterval(-7100),
            finishedAt: finishedAt,
            expiresAt: (finishedAt ?? now).addingTimeInterval(24 * 3600),
            error: nil,
            cancelRequested: false
        )
        try Fixtures.cropPNG(side: 16).write(to: folder + "/input.png")
        if result { try [1, 2, 3].write(to: folder + "/result.png") }
        try JobStore.encoder().encode(record).write(to: URL(fileURLWithPath: folder + "/job.json"))
        return id
    }

    @Test func jobsCutOffByARestartAreReportedFailed() async throws {
        let directory = TestServer.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let running = try leaveJob(in: directory, state: .running)
        let queued = try leaveJob(in: directory, state: .queued)
        let test = try await TestServer.make(dataDirectory: directory)
        try await test.withClient { client in
            for (id, words) in [(running, "while it ran"), (queued, "before it started")] {
                let response = try await client.execute(uri: "/api/v1/jobs/\(id)", method: .get)
                #expect(response.status == .ok)
                let job = try #require(response.json)
                #expect(job["state"] as? String == "failed")
                let error = try #require(job["error"] as? [String: Any])
                #expect(error["type"] as? String == "urn:superres:problem:interrupted")
                let detail = try #require(error["detail"] as? String)
                #expect(detail.contains("interrupted by a restart"))
                #expect(detail.contains(words))
                let events = ServerSentEvent.parse(
                    try await client.execute(uri: "/api/v1/jobs/\(id)/events", method: .get).text
                )
                #expect(events.map(\.name) == ["failed"])
            }
        }
        // The new state is on disk too.
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/jobs/\(running)/job.json"))
        #expect(try JobStore.decoder().decode(JobRecord.self, from: data).state == .failed)
    }

    @Test func finishedJobsSurviveARestartUntilTheyExpire() async throws {
        let directory = TestServer.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fresh = try leaveJob(in: directory, state: .succeeded, finishedHoursAgo: 1, result: true)
        let stale = try leaveJob(in: directory, state: .succeeded, finishedHoursAgo: 30, result: true)
        // A folder whose upload never got a record (cut off before the 202) and a stray file.
        try FileManager.default.createDirectory(
            atPath: directory + "/jobs/" + JobStore.makeID(),
            withIntermediateDirectories: true
        )
        let test = try await TestServer.make(dataDirectory: directory)
        try await test.withClient { client in
            let result = try await client.execute(uri: "/api/v1/jobs/\(fresh)/result", method: .get)
            #expect(result.status == .ok)
            #expect(result.bytes == [1, 2, 3])
            expectProblem(try await client.execute(uri: "/api/v1/jobs/\(stale)", method: .get), .jobNotFound)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory + "/jobs")
        #expect(left == [fresh])
    }

    @Test func aJobSubmittedBeforeARestartCanBeFetchedAfterIt() async throws {
        let directory = TestServer.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await TestServer.make(dataDirectory: directory)
        let id = try await first.withClient { client in
            let id = try await client.submitJob(.image(try Fixtures.cropPNG(side: 16)))
            _ = try await client.waitForJob(id)
            return id
        }
        let second = try await TestServer.make(dataDirectory: directory)
        try await second.withClient { client in
            let job = try await client.execute(uri: "/api/v1/jobs/\(id)", method: .get)
            #expect(job.json?["state"] as? String == "succeeded")
            let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get)
            #expect(result.status == .ok)
            #expect(result.headers[.contentType] == "image/png")
        }
    }

    @Test func expiredJobsAreSweptWhileServing() async throws {
        let test = try await TestServer.make { $0.expiry = .milliseconds(300) }
        defer { test.removeData() }
        try await test.withClient { client in
            let id = try await client.submitJob(.image(try Fixtures.cropPNG(side: 16)))
            _ = try await client.waitForJob(id)
            // The sweeper runs every max(1 s, expiry / 4).
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            var status = try await client.execute(uri: "/api/v1/jobs/\(id)", method: .get).status
            while status == .ok, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                status = try await client.execute(uri: "/api/v1/jobs/\(id)", method: .get).status
            }
            #expect(status == .notFound)
            #expect(!FileManager.default.fileExists(atPath: test.dataDirectory + "/jobs/" + id))
        }
    }

    @Test func anUnwritableDataDirectoryStopsTheStart() async throws {
        let file = TestServer.makeTemporaryDirectory() + "/not-a-folder"
        try [0].write(to: file)
        await #expect(throws: ServerStartupError.self) {
            _ = try await TestServer.make(dataDirectory: file)
        }
    }
}

extension [UInt8] {
    func write(to path: String) throws {
        try Data(self).write(to: URL(fileURLWithPath: path))
    }
}
