import Foundation
import JobQueue
import Logging
import Synchronization

/// A node's part in a fleet that shares its jobs through PostgreSQL: the queue, the job events this node hears
/// (for its clients' event streams and its workers' cancels), the jobs its workers hold, and the sweeper.
final class FleetCoordinator: Sendable {
    /// The shared queue.
    let queue: SharedQueue
    /// The node's settings: its lease (`leaseSeconds`, `maxAttempts`) and how long finished jobs are kept (`expiry`).
    let configuration: ServerConfiguration
    /// This node's name among the workers.
    let workerName: String
    let logger: Logger

    private struct Subscriber {
        var continuation: AsyncStream<JobEvent>.Continuation
        var sequence: Int
        var last: JobRecord
    }

    /// Clients following jobs' events, by job id and subscription key.
    private let subscribers = Mutex<[String: [Int: Subscriber]]>([:])
    private let nextSubscriber = Atomic<Int>(0)
    /// Serialises event delivery.
    private let deliveryLock = Mutex(())
    /// Tokens of the jobs this node's workers run, by job id: a cancel heard for one of them stops it.
    private let heldJobs = Mutex<[String: CancelToken]>([:])
    /// Grows with every `queued` event: idle workers look for work when it changes.
    let queuedGeneration = Atomic<Int>(0)
    /// What this node's workers have done, written with their heartbeat.
    let counts = Mutex(WorkerCounts())
    /// The task running the connection pool.
    private let pool: Task<Void, Never>

    init(queue: SharedQueue, configuration: ServerConfiguration, logger: Logger, pool: Task<Void, Never>) {
        self.queue = queue
        self.configuration = configuration
        self.pool = pool
        workerName =
            configuration.workerName
            ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        self.logger = logger
    }

    /// Closes the connection pool (after the node's last store call).
    func close() {
        pool.cancel()
    }

    // MARK: - Records

    /// The record of a stored job: its JSON with the queue's columns (state, attempts, worker, cancel) laid over.
    static func record(of stored: StoredJob) throws(ServiceError) -> JobRecord {
        guard var record = try? JobStore.decoder().decode(JobRecord.self, from: Data(stored.record.utf8)) else {
            throw ServiceError(.internalError, "The job store holds a record of job \(stored.id) this build cannot read.")
        }
        record.state = JobState(rawValue: stored.state) ?? record.state
        record.attempts = stored.attempts
        record.worker = stored.worker
        record.cancelRequested = record.cancelRequested || stored.cancelRequested
        return record
    }

    /// A record as the store keeps it.
    static func text(of record: JobRecord) -> String {
        (try? JobJSON.encoder(pretty: false).encode(record)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The service error for a store that failed.
    static func unavailable(_ error: StoreError) -> ServiceError {
        ServiceError(
            .storeUnavailable, "The job store is unreachable (\(error.message)). Try again shortly.",
            headers: [.retryAfter: "5"])
    }

    /// Runs `body`'s store calls for the API: a store that failed answers `unavailable` (503), a `ServiceError`
    /// passes as it is, and any other error is an internal error.
    static func storeCall<Value>(_ body: () async throws -> Value) async throws(ServiceError) -> Value {
        do {
            return try await body()
        } catch let error as StoreError {
            throw unavailable(error)
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError(.internalError, "\(error)")
        }
    }

    /// The stored job `id` as a record, or nil when the store has none.
    func record(_ id: String) async throws(ServiceError) -> JobRecord? {
        try await Self.storeCall { () async throws -> JobRecord? in
            guard let stored = try await queue.job(id) else { return nil }
            return try Self.record(of: stored)
        }
    }

    // MARK: - Events

    /// A stream of job `id`'s events, starting with `record` (its state now), to its final event. Events come from
    /// any node through the store's notifications, and a re-read every few seconds covers any that were missed.
    func events(of id: String, now record: JobRecord) -> AsyncStream<JobEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: JobEvent.self, bufferingPolicy: .bufferingNewest(256))
        let first = JobEvent(
            name: record.state.isFinished ? JobEvent.name(finishing: record.state) : "status", record: record,
            sequence: 0)
        continuation.yield(first)
        if record.state.isFinished {
            continuation.finish()
            return stream
        }
        let key = nextSubscriber.wrappingAdd(1, ordering: .relaxed).oldValue
        subscribers.withLock {
            $0[id, default: [:]][key] = Subscriber(continuation: continuation, sequence: 0, last: record)
        }
        continuation.onTermination = { [weak self] _ in
            self?.subscribers.withLock { subscribers in
                subscribers[id]?.removeValue(forKey: key)
                if subscribers[id]?.isEmpty == true { subscribers.removeValue(forKey: id) }
            }
        }
        return stream
    }

    /// Reads job `id` and sends its record to the clients following it when it changed (`event` names a
    /// progress event; finished states name themselves).
    func refresh(_ id: String, event: String) async {
        guard subscribers.withLock({ $0[id] != nil }) else { return }
        guard let record = try? await record(id) else { return }
        let name =
            record.state.isFinished
            ? JobEvent.name(finishing: record.state) : (event == "progress" ? "progress" : "status")
        // Delivered outside `subscribers`' lock (a finished stream's onTermination takes it) but inside
        // `deliveryLock`, so that each client sees its events in order.
        deliveryLock.withLock { _ in
            let deliveries = subscribers.withLock { subscribers -> [(AsyncStream<JobEvent>.Continuation, JobEvent)] in
                guard var following = subscribers[id] else { return [] }
                var deliveries: [(AsyncStream<JobEvent>.Continuation, JobEvent)] = []
                for (key, var subscriber) in following where subscriber.last != record {
                    subscriber.sequence += 1
                    subscriber.last = record
                    deliveries.append(
                        (subscriber.continuation, JobEvent(name: name, record: record, sequence: subscriber.sequence)))
                    if record.state.isFinished {
                        following.removeValue(forKey: key)
                    } else {
                        following[key] = subscriber
                    }
                }
                subscribers[id] = following.isEmpty ? nil : following
                return deliveries
            }
            for (continuation, event) in deliveries {
                continuation.yield(event)
                if event.isFinal { continuation.finish() }
            }
        }
    }

    /// Re-reads every followed job (after missed notifications).
    func refreshAll() async {
        for id in subscribers.withLock({ Array($0.keys) }) { await refresh(id, event: "status") }
    }

    /// Handles one notification from the store.
    func handle(jobID: String, event: String) async {
        switch event {
        case "queued":
            queuedGeneration.wrappingAdd(1, ordering: .relaxed)
        case "cancel":
            heldJobs.withLock { $0[jobID] }?.cancel(.user)
        default:
            break
        }
        await refresh(jobID, event: event)
    }

    // MARK: - Held jobs

    /// Registers a job this node's worker has taken, so a cancel heard for it stops it.
    func hold(_ id: String, token: CancelToken) {
        heldJobs.withLock { $0[id] = token }
    }

    /// Forgets a job this node's worker no longer runs.
    func letGo(_ id: String) {
        _ = heldJobs.withLock { $0.removeValue(forKey: id) }
    }

    /// Stops every job this node's workers run (shutdown after the grace period).
    func stopHeldJobs() {
        for token in heldJobs.withLock({ Array($0.values) }) { token.cancel(.shutdown) }
    }

    /// How many jobs this node's workers run now.
    var heldCount: Int { heldJobs.withLock { $0.count } }

    // MARK: - Background work

    /// Listens to job events until cancelled.
    func listen() async {
        await queue.listen(
            reconnected: { [weak self] in
                guard let self else { return }
                self.queuedGeneration.wrappingAdd(1, ordering: .relaxed)
                Task { await self.refreshAll() }
            },
            handle: { [weak self] id, event in
                guard let self else { return }
                Task { await self.handle(jobID: id, event: event) }
            })
    }

    /// Every few seconds until cancelled: re-reads followed jobs (events missed while the store was away) and, on
    /// one node at a time, gives expired leases' jobs back to the queue (or fails them after `maxAttempts`) and
    /// deletes expired jobs.
    func sweep() async {
        let interval = Duration.seconds(max(0.5, min(5, configuration.leaseSeconds / 4)))
        let decide = Self.decision(maxAttempts: configuration.maxAttempts, expiry: configuration.expiry)
        var failures = RepeatedFailureLog("cannot sweep the job store", logger: logger)
        var lastRefresh = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if lastRefresh.duration(to: .now) > .seconds(5) {
                lastRefresh = .now
                await refreshAll()
            }
            do {
                let sweep = try await queue.sweep(decide: decide)
                failures.succeeded()
                for id in sweep.requeued {
                    logger.warning("a job's lease expired: queued again", metadata: ["job.id": "\(id)"])
                }
                for id in sweep.failed {
                    logger.warning("a job's lease expired on its last attempt: failed", metadata: ["job.id": "\(id)"])
                }
                if sweep.deleted > 0 { logger.info("expired jobs deleted", metadata: ["count": "\(sweep.deleted)"]) }
            } catch {
                if Task.isCancelled { return }
                failures.failed(error)
            }
        }
    }

    /// What an expired lease's job becomes: queued again with its progress cleared, or failed with a reason once
    /// it has been taken `maxAttempts` times.
    static func decision(maxAttempts: Int, expiry: Duration) -> @Sendable (String, Int) -> ExpiredLease {
        { stored, attempts in
            guard var record = try? JobStore.decoder().decode(JobRecord.self, from: Data(stored.utf8)) else {
                return .fail(record: stored, expiresAt: Date().addingTimeInterval(ServerConfiguration.seconds(expiry)))
            }
            if attempts < maxAttempts {
                record.state = .queued
                record.progress = 0
                record.tilesDone = 0
                record.tilesTotal = 0
                record.startedAt = nil
                return .requeue(record: text(of: record))
            }
            let now = Date()
            record.state = .failed
            record.finishedAt = now
            record.expiresAt = now.addingTimeInterval(ServerConfiguration.seconds(expiry))
            record.error =
                ServiceError(
                    .interrupted,
                    "The job was taken \(attempts) times and each time its worker stopped answering before it "
                        + "finished (its lease expired); it is not tried again. Submit the image again."
                ).problem
            return .fail(record: text(of: record), expiresAt: record.expiresAt)
        }
    }
}

extension FleetCoordinator {
    /// Connects to the store at `location` and brings its schema up to date (under the migrations' advisory lock);
    /// a store that cannot be reached within 30 seconds stops the start with one clear error.
    static func connect(
        _ location: String, configuration: ServerConfiguration, logger: Logger
    ) async throws(ServerStartupError) -> FleetCoordinator {
        let parsed: StoreLocation
        do {
            parsed = try StoreLocation(location)
        } catch {
            throw ServerStartupError("--store: \(error.message)")
        }
        let queue = SharedQueue(location: parsed, logger: logger)
        let pool = Task { await queue.run() }
        let migrated: Result<(from: Int, to: Int), StoreError> = await withTaskGroup(
            of: Result<(from: Int, to: Int), StoreError>?.self
        ) { group in
            group.addTask {
                do throws(StoreError) {
                    return .success(try await queue.migrate())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(30))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(StoreError(.unavailable, "no answer from \(parsed) within 30 seconds"))
        }
        switch migrated {
        case .success(let versions):
            logger.info(
                "job store ready",
                metadata: ["store": "\(parsed)", "schema.from": "\(versions.from)", "schema": "\(versions.to)"])
        case .failure(let error):
            pool.cancel()
            throw ServerStartupError("--store \(parsed): \(error.message)")
        }
        return FleetCoordinator(queue: queue, configuration: configuration, logger: logger, pool: pool)
    }
}
