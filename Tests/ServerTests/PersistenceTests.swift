import Foundation
import HummingbirdTesting
import Imaging
import Models
import Pipeline
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
        result: Bool = false,
        model: String = "FSRCNN_x3"
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
            model: model,
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

    @Test func jobsCutOffByARestartAreFinishedAfterIt() async throws {
        // As `kill -9` or a power cut leaves them: accepted (202), queued or halfway through, inputs on disk.
        let temporary = TemporaryFolder("superres-server-tests")
        let directory = temporary.path
        defer { temporary.remove() }
        let running = try leaveJob(in: directory, state: .running)
        let queued = try (0..<3).map { _ in try leaveJob(in: directory, state: .queued) }
        let inputGone = try leaveJob(in: directory, state: .queued)
        try FileManager.default.removeItem(atPath: directory + "/jobs/\(inputGone)/input.png")
        let modelGone = try leaveJob(in: directory, state: .queued, model: "EDSR_x4")
        // A result that was being renamed into place, and a temporary file of an interrupted write.
        try [9, 9].write(to: directory + "/jobs/\(running)/result.png")
        try [7].write(to: directory + "/jobs/\(running)/.result.png.tmp-3k2j")
        let expected = try ImageCodec.encode(
            Upscaler(model: ModelLoader.load(path: Fixtures.fsrcnnX3)).upscale(
                ImageCodec.decode(Fixtures.cropPNG(side: 16), source: "crop")),
            as: .png)
        let test = try await TestServer.make(dataDirectory: directory)
        try await test.withClient { client in
            for id in [running] + queued {
                let job = try await client.waitForJob(id)
                #expect(job["state"] as? String == "succeeded", "\(job)")
                let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get)
                #expect(result.status == .ok)
                #expect(result.bytes == expected, "the same bytes as an upscale that was never interrupted")
            }
            for (id, words) in [(inputGone, "input is gone"), (modelGone, "no longer has its model EDSR_x4")] {
                let job = try #require(try await client.execute(uri: "/api/v1/jobs/\(id)", method: .get).json)
                #expect(job["state"] as? String == "failed")
                let error = try #require(job["error"] as? [String: Any])
                #expect(error["type"] as? String == "urn:superres:problem:interrupted")
                #expect((error["detail"] as? String)?.contains(words) == true, "\(error)")
            }
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory + "/jobs/\(running)").sorted()
        #expect(left == ["input.png", "job.json", "result.png"])
        // The outcome is on disk too.
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/jobs/\(running)/job.json"))
        #expect(try JobStore.decoder().decode(JobRecord.self, from: data).state == .succeeded)
    }

    @Test func finishedJobsSurviveARestartUntilTheyExpire() async throws {
        let temporary = TemporaryFolder("superres-server-tests")
        let directory = temporary.path
        defer { temporary.remove() }
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
        let temporary = TemporaryFolder("superres-server-tests")
        let directory = temporary.path
        defer { temporary.remove() }
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
            // Finished, or already swept: on a busy machine 300 ms can pass between two polls.
            let finished = ContinuousClock.now.advanced(by: .seconds(60))
            while ContinuousClock.now < finished {
                let response = try await client.execute(uri: "/api/v1/jobs/\(id)", method: .get)
                if response.status == .notFound { break }
                if let state = response.json?["state"] as? String, state != "queued", state != "running" {
                    #expect(state == "succeeded")
                    break
                }
                try await Task.sleep(for: .milliseconds(10))
            }
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
        let folder = TemporaryFolder("superres-server-tests")
        let file = folder.appending("not-a-folder")
        try [0].write(to: file)
        await #expect(throws: ServerStartupError.self) {
            _ = try await TestServer.make(dataDirectory: file)
        }
    }

    /// The bytes of the files in the jobs folder, as `du` would count them (sizes, not blocks).
    static func folderBytes(_ directory: String) throws -> Int {
        var total = 0
        for job in try FileManager.default.contentsOfDirectory(atPath: directory + "/jobs") {
            let folder = directory + "/jobs/" + job
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
                total += (try FileManager.default.attributesOfItem(atPath: folder + "/" + name)[.size] as? NSNumber)?
                    .intValue ?? 0
            }
        }
        return total
    }

    @Test func jobsOverTheDataQuotaAre507UntilSpaceIsFreed() async throws {
        let temporary = TemporaryFolder("superres-server-tests")
        let directory = temporary.path
        defer { temporary.remove() }
        let png = try Fixtures.cropPNG(side: 16)
        let first = try await TestServer.make(dataDirectory: directory)
        let id = try await first.withClient { client in
            let id = try await client.submitJob(.image(png))
            _ = try await client.waitForJob(id)
            return id
        }
        // The store counts what is on disk: input, record and result.
        let used = try Self.folderBytes(directory)
        #expect(first.server.store.bytesUsed == used)
        // A restart with a quota that the next upload would cross: 507, nothing stored, no queue place kept.
        let second = try await TestServer.make(dataDirectory: directory) { $0.maxDataBytes = used + png.count - 1 }
        #expect(second.server.store.bytesUsed == used)
        try await second.withClient { client in
            let full = try await client.post("/api/v1/jobs", .image(png))
            expectProblem(full, .dataFolderFull)
            #expect(full.status.code == 507)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/jobs") == [id])
            #expect(await second.server.admission.inFlight == 0)
            // Deleting the finished job frees its space: the next upload is taken.
            #expect(try await client.execute(uri: "/api/v1/jobs/\(id)", method: .delete).status == .noContent)
            #expect(second.server.store.bytesUsed == 0)
            let next = try await client.submitJob(.image(png))
            _ = try await client.waitForJob(next)
            #expect(second.server.store.bytesUsed == (try Self.folderBytes(directory)))
        }
    }
}

extension [UInt8] {
    func write(to path: String) throws {
        try Data(self).write(to: URL(fileURLWithPath: path))
    }
}
