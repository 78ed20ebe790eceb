import Foundation
import JobQueue
import Logging
import Testing

/// The queue against a real PostgreSQL: `SUPERRES_TEST_STORE` names it (scripts/with-postgres starts a throwaway
/// cluster and sets it). Serialized: the queue limit and the sweeper see every test's jobs.
@Suite(.serialized, .enabled(if: StoreForTests.url != nil, StoreForTests.absence))
struct SharedQueueTests {
    @Test func twoNodesMigratingAtOnceBothSucceed() async throws {
        try await StoreForTests.withQueues(2) { queues in
            async let first = queues[0].migrate()
            async let second = queues[1].migrate()
            let (a, b) = try await (first, second)
            #expect(a.to == SharedQueue.schemaVersion && b.to == SharedQueue.schemaVersion)
            #expect(try await queues[0].currentSchemaVersion() == SharedQueue.schemaVersion)
        }
    }

    @Test func aJobGoesInTakenOnceAndComesOutWithItsResult() async throws {
        try await StoreForTests.withQueues(1) { queues in
            let queue = queues[0]
            let model = StoreForTests.uniqueModel()
            let id = try await StoreForTests.submit(queue, model: model, input: [1, 2, 3])
            #expect(try await queue.job(id)?.state == "queued")
            let taken = try #require(try await queue.take(worker: "w1", models: [model], leaseSeconds: 30))
            #expect(taken.job.id == id && taken.job.attempts == 1 && taken.input == [1, 2, 3])
            #expect(try await queue.take(worker: "w2", models: [model], leaseSeconds: 30) == nil)
            #expect(try await queue.renew(id, worker: "w1", leaseSeconds: 30) == false)
            #expect(try await queue.renew(id, worker: "w2", leaseSeconds: 30) == nil)
            let completion = try await queue.complete(
                id, worker: "w1", state: "succeeded", record: "{\"done\":true}", result: [9, 9],
                expiresAt: Date().addingTimeInterval(60), event: "done")
            #expect(completion == .recorded)
            let stored = try #require(try await queue.job(id))
            #expect(stored.state == "succeeded" && stored.record == "{\"done\":true}" && stored.worker == "w1")
            #expect(try await queue.blob(id, kind: "result") == [9, 9])
            #expect(try await queue.deleteFinished(id))
            #expect(try await queue.job(id) == nil)
            #expect(try await queue.blob(id, kind: "input") == nil)
        }
    }

    @Test func aRepeatedIdempotencyKeyAnswersTheFirstJob() async throws {
        try await StoreForTests.withQueues(1) { queues in
            let queue = queues[0]
            let model = StoreForTests.uniqueModel()
            let key = "key-\(UUID().uuidString)"
            let first = try await StoreForTests.submit(queue, model: model, key: key)
            let again = try await queue.submit(
                id: UUID().uuidString.lowercased(), model: model, owner: nil, idempotencyKey: key, record: "{}",
                expiresAt: Date().addingTimeInterval(60), input: [0], queueLimit: 1000)
            guard case .existing(let job) = again else {
                Issue.record("a repeated key made another job: \(again)")
                return
            }
            #expect(job.id == first)
            // Another owner's key is another key.
            let other = try await queue.submit(
                id: UUID().uuidString.lowercased(), model: model, owner: "bob", idempotencyKey: key, record: "{}",
                expiresAt: Date().addingTimeInterval(60), input: [0], queueLimit: 1000)
            guard case .created = other else {
                Issue.record("another owner's key answered an existing job: \(other)")
                return
            }
        }
    }

    @Test func theQueueLimitCountsEveryQueuedJob() async throws {
        try await StoreForTests.withQueues(2) { queues in
            let model = StoreForTests.uniqueModel()
            let before = try await queues[0].statistics().jobs["queued"] ?? 0
            _ = try await StoreForTests.submit(queues[0], model: model, queueLimit: before + 2)
            _ = try await StoreForTests.submit(queues[1], model: model, queueLimit: before + 2)
            let third = try await queues[1].submit(
                id: UUID().uuidString.lowercased(), model: model, owner: nil, idempotencyKey: nil, record: "{}",
                expiresAt: Date().addingTimeInterval(60), input: [0], queueLimit: before + 2)
            guard case .queueFull(let depth) = third else {
                Issue.record("the third job was accepted past the limit: \(third)")
                return
            }
            #expect(depth == before + 2)
            // Clean up: take them so they do not count in later tests.
            while let taken = try await queues[0].take(worker: "cleaner", models: [model], leaseSeconds: 30) {
                _ = try await queues[0].complete(
                    taken.job.id, worker: "cleaner", state: "failed", record: "{}", result: nil,
                    expiresAt: Date(), event: "failed")
            }
        }
    }

    @Test func anExpiredLeaseGoesBackToTheQueueAndTheOldWorkerCannotOverwrite() async throws {
        try await StoreForTests.withQueues(1) { queues in
            let queue = queues[0]
            let model = StoreForTests.uniqueModel()
            let id = try await StoreForTests.submit(queue, model: model)
            _ = try #require(try await queue.take(worker: "dying", models: [model], leaseSeconds: 0.2))
            try await Task.sleep(for: .milliseconds(500))
            let sweep = try await StoreForTests.sweepUntilSwept(queue) { _, attempts in
                .requeue(record: "{\"requeued\":\(attempts)}")
            }
            #expect(sweep.requeued.contains(id))
            let again = try #require(try await queue.take(worker: "healthy", models: [model], leaseSeconds: 30))
            #expect(again.job.id == id && again.job.attempts == 2 && again.job.record == "{\"requeued\":1}")
            let late = try await queue.complete(
                id, worker: "dying", state: "succeeded", record: "{}", result: [6, 6, 6],
                expiresAt: Date().addingTimeInterval(60), event: "done")
            #expect(late == .leaseLost)
            #expect(try await queue.renew(id, worker: "dying", leaseSeconds: 30) == nil)
            let done = try await queue.complete(
                id, worker: "healthy", state: "succeeded", record: "{}", result: [1],
                expiresAt: Date().addingTimeInterval(60), event: "done")
            #expect(done == .recorded)
            #expect(try await queue.blob(id, kind: "result") == [1])
            let statistics = try await queue.statistics()
            #expect(statistics.leasesExpired >= 1 && statistics.retries >= 1)
        }
    }

    @Test func theLastAttemptsExpiredLeaseFailsTheJob() async throws {
        try await StoreForTests.withQueues(1) { queues in
            let queue = queues[0]
            let model = StoreForTests.uniqueModel()
            let id = try await StoreForTests.submit(queue, model: model)
            _ = try #require(try await queue.take(worker: "w", models: [model], leaseSeconds: 0.2))
            try await Task.sleep(for: .milliseconds(500))
            let sweep = try await StoreForTests.sweepUntilSwept(queue) { _, attempts in
                .fail(record: "{\"failedAfter\":\(attempts)}", expiresAt: Date().addingTimeInterval(60))
            }
            #expect(sweep.failed.contains(id))
            let stored = try #require(try await queue.job(id))
            #expect(stored.state == "failed" && stored.record == "{\"failedAfter\":1}")
            #expect(try await queue.blob(id, kind: "input") == nil)
        }
    }

    @Test func aCancelAskedForTurnsASuccessAway() async throws {
        try await StoreForTests.withQueues(1) { queues in
            let queue = queues[0]
            let model = StoreForTests.uniqueModel()
            let id = try await StoreForTests.submit(queue, model: model)
            #expect(try await queue.requestCancel(id) == false)  // queued, not running
            _ = try #require(try await queue.take(worker: "w", models: [model], leaseSeconds: 30))
            #expect(try await queue.requestCancel(id))
            #expect(try await queue.renew(id, worker: "w", leaseSeconds: 30) == true)
            let completion = try await queue.complete(
                id, worker: "w", state: "succeeded", record: "{}", result: [1], expiresAt: Date(), event: "done")
            #expect(completion == .cancelRequested)
            let cancelled = try await queue.complete(
                id, worker: "w", state: "cancelled", record: "{}", result: nil, expiresAt: Date(), event: "cancelled")
            #expect(cancelled == .recorded)
            #expect(try await queue.job(id)?.state == "cancelled")
            // A queued job is cancelled at once.
            let queued = try await StoreForTests.submit(queue, model: model)
            #expect(try await queue.cancelQueued(queued, record: "{}", expiresAt: Date()))
            #expect(try await queue.cancelQueued(queued, record: "{}", expiresAt: Date()) == false)
        }
    }

    @Test func concurrentTakersNeverTakeTheSameJob() async throws {
        try await StoreForTests.withQueues(4) { queues in
            let model = StoreForTests.uniqueModel()
            var ids: Set<String> = []
            for _ in 0..<60 { ids.insert(try await StoreForTests.submit(queues[0], model: model)) }
            let taken = try await withThrowingTaskGroup(of: [String].self) { group in
                for (index, queue) in queues.enumerated() {
                    for taker in 0..<3 {
                        group.addTask {
                            var mine: [String] = []
                            let name = "taker-\(index)-\(taker)"
                            while let job = try await queue.take(worker: name, models: [model], leaseSeconds: 30) {
                                mine.append(job.job.id)
                                _ = try await queue.complete(
                                    job.job.id, worker: name, state: "succeeded", record: "{}", result: [0],
                                    expiresAt: Date(), event: "done")
                            }
                            return mine
                        }
                    }
                }
                var all: [String] = []
                for try await mine in group { all += mine }
                return all
            }
            #expect(taken.count == 60)
            #expect(Set(taken) == ids)
        }
    }

    @Test func eventsArriveThroughListenNotify() async throws {
        try await StoreForTests.withQueues(2) { queues in
            let model = StoreForTests.uniqueModel()
            let (events, sink) = AsyncStream.makeStream(of: String.self)
            let listener = Task {
                await queues[1].listen(reconnected: {}) { id, event in sink.yield("\(id) \(event)") }
            }
            defer { listener.cancel() }
            try await Task.sleep(for: .milliseconds(300))  // LISTEN is in place
            let id = try await StoreForTests.submit(queues[0], model: model)
            var seen: [String] = []
            for await event in events where event.hasPrefix(id) {
                seen.append(event)
                break
            }
            #expect(seen == ["\(id) queued"])
        }
    }

    @Test func badURLsAreRefusedWithAReason() {
        for (text, expected) in [
            ("mysql://u@h/db", "not a postgres:// URL"), ("postgres://h/db", "names no user"),
            ("postgres://u@h", "names no database"), ("postgres://u@h:0/db", "port"),
            ("postgres://u@h/db?sslmode=sometimes", "sslmode"),
        ] {
            #expect {
                _ = try StoreLocation(text)
            } throws: { error in
                (error as? StoreError)?.message.contains(expected) == true
            }
        }
        #expect((try? StoreLocation("postgres://u:secret@h:6543/db"))?.description == "postgres://u:***@h:6543/db")
        #expect((try? StoreLocation("postgres://u@/db?host=/run/pg"))?.configuration.unixSocketPath == "/run/pg/.s.PGSQL.5432")
    }
}

/// The test store and helpers.
enum StoreForTests {
    /// `SUPERRES_TEST_STORE`, if set.
    static let url = ProcessInfo.processInfo.environment["SUPERRES_TEST_STORE"].flatMap { $0.isEmpty ? nil : $0 }
    /// Why the suite is skipped.
    static let absence: Comment =
        "SUPERRES_TEST_STORE is not set: run the tests through scripts/with-postgres (scripts/test does)"

    /// A model name no other test uses.
    static func uniqueModel() -> String { "test-model-\(UUID().uuidString.prefix(8))" }

    /// Runs `body` with `count` queues (separate connection pools, as separate nodes have) on a migrated store.
    static func withQueues(_ count: Int, _ body: ([SharedQueue]) async throws -> Void) async throws {
        let location = try StoreLocation(try #require(url))
        var logger = Logger(label: "test.store")
        logger.logLevel = .warning
        let queues = (0..<count).map { _ in SharedQueue(location: location, logger: logger) }
        let pools = queues.map { queue in Task { await queue.run() } }
        defer { for pool in pools { pool.cancel() } }
        try await queues[0].migrate()
        try await body(queues)
    }

    /// Submits a job with a 1-byte record; returns its id.
    static func submit(
        _ queue: SharedQueue, model: String, key: String? = nil, input: [UInt8] = [0], queueLimit: Int = 100_000
    ) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let outcome = try await queue.submit(
            id: id, model: model, owner: nil, idempotencyKey: key, record: "{}",
            expiresAt: Date().addingTimeInterval(600), input: input, queueLimit: queueLimit)
        guard case .created = outcome else { throw StoreError(.malformed, "the job was not created: \(outcome)") }
        return id
    }

    /// Sweeps until this queue holds the sweeper's lock (another test's or node's sweep may hold it a moment).
    static func sweepUntilSwept(
        _ queue: SharedQueue, decide: @escaping @Sendable (String, Int) -> ExpiredLease
    ) async throws -> SharedQueue.Sweep {
        for _ in 0..<50 {
            let sweep = try await queue.sweep(decide: decide)
            if sweep.swept { return sweep }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw StoreError(.unavailable, "the sweeper's lock stayed taken for 5 s")
    }
}
