// The job queue many machines share, in PostgreSQL.
//
//     superres_jobs     one row a job: its state, model, lease (worker, expiry), attempts and its record (JSON text)
//     superres_blobs    the input and result bytes (bytea), apart, so that reading jobs never reads images
//     superres_workers  the workers alive (heartbeat), the models they serve and what they have done
//     superres_counters leases expired and jobs retried, for /metrics
//     superres_schema   the migrations applied
//
// The columns state, attempts, worker and cancel_requested are the truth about a job's place in the queue; the
// record holds the rest (what was asked, progress, outcome). Every change that a client may wait for is announced
// by NOTIFY on `superres_events` with the payload "<job id> <event>", sent when its transaction commits.
import Foundation
import Logging
import PostgresNIO

/// A job as the store holds it.
package struct StoredJob: Sendable, Equatable {
    /// The job's id.
    package var id: String
    /// queued, running, succeeded, failed or cancelled.
    package var state: String
    /// The model the job asks for.
    package var model: String
    /// The API key that submitted it, if any.
    package var owner: String?
    /// The job's record (JSON), as last written.
    package var record: String
    /// How many times a worker has taken the job.
    package var attempts: Int
    /// The worker holding the job (running), or the last one that held it.
    package var worker: String?
    /// Whether a cancel was asked for while it ran.
    package var cancelRequested: Bool
}

/// A job a worker has taken, with its input.
package struct TakenJob: Sendable {
    /// The job as it was when taken (state running, attempts counted).
    package var job: StoredJob
    /// The uploaded bytes.
    package var input: [UInt8]
}

/// What a submission did.
package enum Submission: Sendable {
    /// The job was stored and queued.
    case created
    /// A job with the same idempotency key (and owner) was stored before: this one.
    case existing(StoredJob)
    /// The queue holds `depth` jobs already, its limit: nothing was stored.
    case queueFull(depth: Int)
}

/// What a worker's attempt to record a job's end did.
package enum Completion: Sendable, Equatable {
    /// Stored, with the state change, in one transaction.
    case recorded
    /// The worker no longer holds the job's lease (it expired and the job went back to the queue or elsewhere):
    /// nothing was written.
    case leaseLost
    /// A cancel was asked for: a success was not recorded; record the job cancelled instead.
    case cancelRequested
}

/// What becomes of a job whose lease expired (its worker died or lost the database for too long).
package enum ExpiredLease: Sendable {
    /// Back to the queue with this record.
    case requeue(record: String)
    /// Failed for good with this record, kept until `expiresAt`.
    case fail(record: String, expiresAt: Date)
}

/// A worker's row in `superres_workers`.
package struct WorkerRow: Sendable, Equatable {
    /// The worker's name.
    package var name: String
    /// The models it serves.
    package var models: [String]
    /// Whether its heartbeat is recent.
    package var alive: Bool
    /// Jobs it finished with a result.
    package var succeeded: Int
    /// Jobs it finished without one.
    package var failed: Int
    /// Leases it took.
    package var leasesTaken: Int
    /// Leases it renewed.
    package var leasesRenewed: Int
    /// Seconds it spent working on jobs.
    package var busySeconds: Double
}

/// What a worker has done so far, written with its heartbeat.
package struct WorkerCounts: Sendable, Equatable {
    /// Jobs finished with a result.
    package var succeeded = 0
    /// Jobs finished without one.
    package var failed = 0
    /// Leases taken.
    package var leasesTaken = 0
    /// Leases renewed.
    package var leasesRenewed = 0
    /// Seconds spent working on jobs.
    package var busySeconds = 0.0

    /// No work yet.
    package init() {}
}

/// The queue's state for `/metrics`.
package struct QueueStatistics: Sendable, Equatable {
    /// Jobs per state.
    package var jobs: [String: Int]
    /// Leases that expired (their worker stopped renewing them).
    package var leasesExpired: Int
    /// Jobs put back in the queue after an expired lease.
    package var retries: Int
    /// Every worker that has a row.
    package var workers: [WorkerRow]
}

/// The job queue in PostgreSQL: schema migrations, submissions, leases, blobs, events and sweeping.
///
/// Every call throws `StoreError` when PostgreSQL cannot be reached or refuses; the pool reconnects by itself, so a
/// later call works again once the database is back.
package final class SharedQueue: Sendable {
    /// Where the store is.
    package let location: StoreLocation
    /// The connection pool: `run()` must be running for any call to work.
    let client: PostgresClient
    let logger: Logger

    /// The NOTIFY channel of job events.
    package static let eventChannel = "superres_events"
    /// Seconds after its last heartbeat a worker counts as gone.
    package static let workerTimeoutSeconds = 20.0
    /// Advisory lock keys: migrations, submissions (the global queue limit), the sweeper.
    static let migrationLock = 0x5375_7065_7200_0001
    static let submissionLock = 0x5375_7065_7200_0002
    static let sweepLock = 0x5375_7065_7200_0003

    /// A queue over the store at `location` (nothing is connected until `run()` runs and a call needs it).
    package init(location: StoreLocation, logger: Logger) {
        self.location = location
        self.logger = logger
        client = PostgresClient(configuration: location.configuration, backgroundLogger: logger)
    }

    /// Runs the connection pool until the calling task is cancelled.
    package func run() async {
        await client.run()
    }

    // MARK: - Schema

    /// The migrations, in order: migration `i` brings the schema to version `i + 1`. Never edit one that shipped;
    /// add another.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE superres_jobs (
                id text PRIMARY KEY,
                state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
                model text NOT NULL,
                owner text,
                idempotency_key text,
                record text NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                worker text,
                lease_expires timestamptz,
                cancel_requested boolean NOT NULL DEFAULT false,
                created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                expires_at timestamptz NOT NULL
            )
            """,
            "CREATE INDEX superres_jobs_queued ON superres_jobs (model, created_at) WHERE state = 'queued'",
            "CREATE INDEX superres_jobs_leased ON superres_jobs (lease_expires) WHERE state = 'running'",
            """
            CREATE INDEX superres_jobs_expiry ON superres_jobs (expires_at)
                WHERE state IN ('succeeded', 'failed', 'cancelled')
            """,
            """
            CREATE UNIQUE INDEX superres_jobs_idempotency ON superres_jobs (coalesce(owner, ''), idempotency_key)
                WHERE idempotency_key IS NOT NULL
            """,
            """
            CREATE TABLE superres_blobs (
                job_id text NOT NULL REFERENCES superres_jobs (id) ON DELETE CASCADE,
                kind text NOT NULL CHECK (kind IN ('input', 'result')),
                bytes bytea NOT NULL,
                PRIMARY KEY (job_id, kind)
            )
            """,
            // Images are compressed already: store them out of line without trying pglz on them.
            "ALTER TABLE superres_blobs ALTER COLUMN bytes SET STORAGE EXTERNAL",
            """
            CREATE TABLE superres_workers (
                name text PRIMARY KEY,
                models text[] NOT NULL,
                started_at timestamptz NOT NULL,
                seen_at timestamptz NOT NULL,
                jobs_succeeded bigint NOT NULL DEFAULT 0,
                jobs_failed bigint NOT NULL DEFAULT 0,
                leases_taken bigint NOT NULL DEFAULT 0,
                leases_renewed bigint NOT NULL DEFAULT 0,
                busy_seconds double precision NOT NULL DEFAULT 0
            )
            """,
            "CREATE TABLE superres_counters (name text PRIMARY KEY, value bigint NOT NULL)",
            "INSERT INTO superres_counters (name, value) VALUES ('leases_expired', 0), ('retries', 0)",
        ]
    ]

    /// The schema version this build writes and reads.
    package static var schemaVersion: Int { migrations.count }

    /// Brings the schema to `schemaVersion`, each migration in its own transaction, under an advisory lock so that
    /// nodes starting at once take turns; returns the version found and the version now.
    @discardableResult
    package func migrate() async throws(StoreError) -> (from: Int, to: Int) {
        let logger = logger
        do {
            return try await client.withConnection { connection in
                try await connection.query("SELECT pg_advisory_lock(\(Self.migrationLock))", logger: logger)
                do {
                    let result = try await Self.applyMigrations(on: connection, logger: logger)
                    try await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLock))", logger: logger)
                    return result
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLock))", logger: logger)
                    throw error
                }
            }
        } catch {
            throw StoreError.wrapping(error, doing: "migrating the store \(location)")
        }
    }

    private static func applyMigrations(
        on connection: PostgresConnection, logger: Logger
    ) async throws -> (from: Int, to: Int) {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS superres_schema (
                version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var current = 0
        for try await version in try await connection.query(
            "SELECT coalesce(max(version), 0)::bigint FROM superres_schema", logger: logger
        ).decode(Int.self) {
            current = version
        }
        guard current <= schemaVersion else {
            throw StoreError(
                .schemaTooNew,
                "the store's schema is at version \(current), newer than this build's \(schemaVersion): "
                    + "upgrade superres on this machine")
        }
        for (index, statements) in migrations.enumerated() where index + 1 > current {
            try await connection.withTransaction(logger: logger) { transaction in
                for statement in statements {
                    try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await transaction.query(
                    "INSERT INTO superres_schema (version) VALUES (\(index + 1))", logger: logger)
            }
            logger.info("store schema migrated", metadata: ["version": "\(index + 1)"])
        }
        return (current, schemaVersion)
    }

    /// The schema version in the database (0 before the first migration).
    package func currentSchemaVersion() async throws(StoreError) -> Int {
        try await perform("reading the store's schema version") { client, logger in
            let exists = try await Self.single(
                client.query("SELECT (to_regclass('superres_schema') IS NOT NULL)", logger: logger), as: Bool.self)
            guard exists == true else { return 0 }
            return try await Self.single(
                client.query("SELECT coalesce(max(version), 0)::bigint FROM superres_schema", logger: logger),
                as: Int.self) ?? 0
        }
    }

    // MARK: - Submissions and reading

    /// Stores a new queued job and its input in one transaction, unless the queue already holds `queueLimit` jobs
    /// (counted across every node) or a job with the same `idempotencyKey` and owner exists.
    package func submit(
        id: String, model: String, owner: String?, idempotencyKey: String?, record: String, expiresAt: Date,
        input: [UInt8], queueLimit: Int
    ) async throws(StoreError) -> Submission {
        try await perform("storing a job") { client, logger in
            try await client.withTransaction(logger: logger) { connection -> Submission in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.submissionLock))", logger: logger)
                if let idempotencyKey {
                    let rows = try await connection.query(
                        """
                        SELECT \(unescaped: Self.jobColumns) FROM superres_jobs
                        WHERE coalesce(owner, '') = coalesce(\(owner), '') AND idempotency_key = \(idempotencyKey)
                        """, logger: logger)
                    if let existing = try await Self.jobs(rows).first { return .existing(existing) }
                }
                let depth =
                    try await Self.single(
                        connection.query("SELECT count(*) FROM superres_jobs WHERE state = 'queued'", logger: logger),
                        as: Int.self) ?? 0
                guard depth < queueLimit else { return .queueFull(depth: depth) }
                try await connection.query(
                    """
                    INSERT INTO superres_jobs (id, state, model, owner, idempotency_key, record, expires_at)
                    VALUES (\(id), 'queued', \(model), \(owner), \(idempotencyKey), \(record), \(expiresAt))
                    """, logger: logger)
                try await connection.query(
                    """
                    INSERT INTO superres_blobs (job_id, kind, bytes) VALUES (\(id), 'input', \(ByteBuffer(bytes: input)))
                    """, logger: logger)
                try await connection.query(
                    "SELECT pg_notify(\(Self.eventChannel), \(id + " queued"))", logger: logger)
                return .created
            }
        }
    }

    /// The job `id`, or nil when the store has none.
    package func job(_ id: String) async throws(StoreError) -> StoredJob? {
        try await perform("reading a job") { client, logger in
            try await Self.jobs(
                client.query(
                    "SELECT \(unescaped: Self.jobColumns) FROM superres_jobs WHERE id = \(id)", logger: logger)
            ).first
        }
    }

    /// The stored bytes of `kind` (input or result) of job `id`, or nil when there are none.
    package func blob(_ id: String, kind: String) async throws(StoreError) -> [UInt8]? {
        try await perform("reading a job's \(kind)") { client, logger in
            guard
                let buffer = try await Self.single(
                    client.query(
                        "SELECT bytes FROM superres_blobs WHERE job_id = \(id) AND kind = \(kind)", logger: logger),
                    as: ByteBuffer.self)
            else { return nil }
            return Array(buffer.readableBytesView)
        }
    }

    /// Whether a worker whose heartbeat is recent serves `model`.
    package func hasLiveWorker(for model: String) async throws(StoreError) -> Bool {
        try await perform("reading the workers") { client, logger in
            let count = try await Self.single(
                client.query(
                    """
                    SELECT count(*) FROM superres_workers
                    WHERE \(model) = ANY(models) AND seen_at > now() - make_interval(secs => \(Self.workerTimeoutSeconds))
                    """, logger: logger),
                as: Int.self)
            return (count ?? 0) > 0
        }
    }

    /// Answers quickly whether PostgreSQL answers (`SELECT 1` within `timeout`).
    package func isReachable(timeout: Duration = .seconds(2)) async -> Bool {
        let client = client
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                (try? await client.query("SELECT 1")) != nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    // MARK: - Cancelling and deleting

    /// Cancels job `id` if it is still queued, writing `record`; false when it was no longer queued.
    package func cancelQueued(_ id: String, record: String, expiresAt: Date) async throws(StoreError) -> Bool {
        try await perform("cancelling a job") { client, logger in
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query(
                    """
                    UPDATE superres_jobs SET state = 'cancelled', record = \(record), expires_at = \(expiresAt)
                    WHERE id = \(id) AND state = 'queued' RETURNING id
                    """, logger: logger)
                guard try await Self.single(rows, as: String.self) != nil else { return false }
                try await connection.query(
                    "DELETE FROM superres_blobs WHERE job_id = \(id) AND kind = 'input'", logger: logger)
                try await connection.query(
                    "SELECT pg_notify(\(Self.eventChannel), \(id + " cancelled"))", logger: logger)
                return true
            }
        }
    }

    /// Asks the worker running job `id` to stop (it hears it at once, or at its next lease renewal); false when
    /// the job was not running.
    package func requestCancel(_ id: String) async throws(StoreError) -> Bool {
        try await perform("cancelling a job") { client, logger in
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query(
                    """
                    UPDATE superres_jobs SET cancel_requested = true WHERE id = \(id) AND state = 'running' RETURNING id
                    """, logger: logger)
                guard try await Self.single(rows, as: String.self) != nil else { return false }
                try await connection.query(
                    "SELECT pg_notify(\(Self.eventChannel), \(id + " cancel"))", logger: logger)
                return true
            }
        }
    }

    /// Deletes job `id` and its bytes if it has finished; false otherwise.
    package func deleteFinished(_ id: String) async throws(StoreError) -> Bool {
        try await perform("deleting a job") { client, logger in
            let rows = try await client.query(
                """
                DELETE FROM superres_jobs WHERE id = \(id) AND state IN ('succeeded', 'failed', 'cancelled') RETURNING id
                """, logger: logger)
            return try await Self.single(rows, as: String.self) != nil
        }
    }

    // MARK: - Workers

    /// Takes the oldest queued job of one of `models` for `worker`, under a lease of `leaseSeconds`; nil when
    /// there is none. Workers taking at once never take the same job (`FOR UPDATE SKIP LOCKED`).
    package func take(worker: String, models: [String], leaseSeconds: Double) async throws(StoreError) -> TakenJob? {
        try await perform("taking a job") { client, logger in
            try await client.withTransaction(logger: logger) { connection -> TakenJob? in
                let rows = try await connection.query(
                    """
                    UPDATE superres_jobs SET state = 'running', worker = \(worker), attempts = attempts + 1,
                        lease_expires = clock_timestamp() + make_interval(secs => \(leaseSeconds))
                    WHERE id = (
                        SELECT id FROM superres_jobs WHERE state = 'queued' AND model = ANY(\(models))
                        ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
                    )
                    RETURNING \(unescaped: Self.jobColumns)
                    """, logger: logger)
                guard let job = try await Self.jobs(rows).first else { return nil }
                guard
                    let input = try await Self.single(
                        connection.query(
                            "SELECT bytes FROM superres_blobs WHERE job_id = \(job.id) AND kind = 'input'",
                            logger: logger),
                        as: ByteBuffer.self)
                else {
                    throw StoreError(.malformed, "job \(job.id) is queued but its input is missing from the store")
                }
                try await connection.query(
                    "SELECT pg_notify(\(Self.eventChannel), \(job.id + " status"))", logger: logger)
                return TakenJob(job: job, input: Array(input.readableBytesView))
            }
        }
    }

    /// Extends `worker`'s lease on job `id`; returns whether a cancel was asked for, or nil when the lease is no
    /// longer the worker's.
    package func renew(_ id: String, worker: String, leaseSeconds: Double) async throws(StoreError) -> Bool? {
        try await perform("renewing a lease") { client, logger in
            try await Self.single(
                client.query(
                    """
                    UPDATE superres_jobs SET lease_expires = clock_timestamp() + make_interval(secs => \(leaseSeconds))
                    WHERE id = \(id) AND worker = \(worker) AND state = 'running' RETURNING cancel_requested
                    """, logger: logger),
                as: Bool.self)
        }
    }

    /// Writes the record of a running job (its progress) while `worker` holds its lease, and announces it as
    /// `event`; false when the lease is gone.
    @discardableResult
    package func update(_ id: String, worker: String, record: String, event: String) async throws(StoreError) -> Bool {
        try await perform("recording a job's progress") { client, logger in
            let rows = try await client.query(
                """
                WITH changed AS (
                    UPDATE superres_jobs SET record = \(record)
                    WHERE id = \(id) AND worker = \(worker) AND state = 'running' RETURNING id
                )
                SELECT pg_notify(\(Self.eventChannel), id || ' ' || \(event)) FROM changed
                """, logger: logger)
            var changed = false
            for try await _ in rows { changed = true }
            return changed
        }
    }

    /// Records the end of job `id` (`state` succeeded, failed or cancelled, its record and result) and the state
    /// change in one transaction that first checks `worker` still holds the lease: a worker whose lease was taken
    /// over can never overwrite the new owner's work.
    package func complete(
        _ id: String, worker: String, state: String, record: String, result: [UInt8]?, expiresAt: Date,
        event: String
    ) async throws(StoreError) -> Completion {
        try await perform("recording a job's end") { client, logger in
            try await client.withTransaction(logger: logger) { connection -> Completion in
                let rows = try await connection.query(
                    """
                    SELECT cancel_requested FROM superres_jobs
                    WHERE id = \(id) AND worker = \(worker) AND state = 'running' FOR UPDATE
                    """, logger: logger)
                guard let cancelRequested = try await Self.single(rows, as: Bool.self) else { return .leaseLost }
                if cancelRequested && state == "succeeded" { return .cancelRequested }
                try await connection.query(
                    """
                    UPDATE superres_jobs SET state = \(state), record = \(record), lease_expires = NULL,
                        expires_at = \(expiresAt)
                    WHERE id = \(id)
                    """, logger: logger)
                if let result {
                    try await connection.query(
                        """
                        INSERT INTO superres_blobs (job_id, kind, bytes) VALUES (\(id), 'result', \(ByteBuffer(bytes: result)))
                        ON CONFLICT (job_id, kind) DO UPDATE SET bytes = excluded.bytes
                        """, logger: logger)
                } else {
                    try await connection.query("DELETE FROM superres_blobs WHERE job_id = \(id)", logger: logger)
                }
                try await connection.query(
                    "SELECT pg_notify(\(Self.eventChannel), \(id + " " + event))", logger: logger)
                return .recorded
            }
        }
    }

    /// Gives a job back to the queue at once (a worker that stops before finishing it), writing `record`; false
    /// when `worker` no longer held it. The attempt is not counted against the job.
    @discardableResult
    package func release(_ id: String, worker: String, record: String) async throws(StoreError) -> Bool {
        try await perform("giving a job back") { client, logger in
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query(
                    """
                    UPDATE superres_jobs SET state = 'queued', worker = NULL, lease_expires = NULL,
                        attempts = greatest(attempts - 1, 0), record = \(record)
                    WHERE id = \(id) AND worker = \(worker) AND state = 'running' RETURNING id
                    """, logger: logger)
                guard try await Self.single(rows, as: String.self) != nil else { return false }
                try await connection.query(
                    "SELECT pg_notify(\(Self.eventChannel), \(id + " queued"))", logger: logger)
                return true
            }
        }
    }

    /// Writes `worker`'s heartbeat: the models it serves and what it has done.
    package func heartbeat(worker: String, models: [String], counts: WorkerCounts) async throws(StoreError) {
        _ = try await perform("writing a worker's heartbeat") { client, logger in
            try await client.query(
                """
                INSERT INTO superres_workers (name, models, started_at, seen_at, jobs_succeeded, jobs_failed,
                    leases_taken, leases_renewed, busy_seconds)
                VALUES (\(worker), \(models), now(), now(), \(counts.succeeded), \(counts.failed), \(counts.leasesTaken),
                    \(counts.leasesRenewed), \(counts.busySeconds))
                ON CONFLICT (name) DO UPDATE SET models = excluded.models, seen_at = now(),
                    jobs_succeeded = excluded.jobs_succeeded, jobs_failed = excluded.jobs_failed,
                    leases_taken = excluded.leases_taken, leases_renewed = excluded.leases_renewed,
                    busy_seconds = excluded.busy_seconds
                """, logger: logger)
        }
    }

    /// Marks `worker` gone (a worker that stops cleanly), so no job waits for it.
    package func retire(worker: String) async throws(StoreError) {
        _ = try await perform("retiring a worker") { client, logger in
            try await client.query(
                "UPDATE superres_workers SET seen_at = 'epoch' WHERE name = \(worker)", logger: logger)
        }
    }

    // MARK: - Sweeping

    /// What one sweep did.
    package struct Sweep: Sendable, Equatable {
        /// Whether this node held the sweeper's lock (another node was sweeping otherwise).
        package var swept = false
        /// Jobs put back in the queue.
        package var requeued: [String] = []
        /// Jobs failed after their last attempt.
        package var failed: [String] = []
        /// Finished jobs deleted after their expiry.
        package var deleted = 0
    }

    /// On one node at a time (an advisory lock): gives jobs whose lease expired back to the queue or fails them, as
    /// `decide(record, attempts)` says, and deletes finished jobs past their expiry.
    package func sweep(decide: @escaping @Sendable (String, Int) -> ExpiredLease) async throws(StoreError) -> Sweep {
        try await perform("sweeping the queue") { client, logger in
            try await client.withTransaction(logger: logger) { connection -> Sweep in
                var sweep = Sweep()
                let locked = try await Self.single(
                    connection.query("SELECT pg_try_advisory_xact_lock(\(Self.sweepLock))", logger: logger),
                    as: Bool.self)
                guard locked == true else { return sweep }
                sweep.swept = true
                let expired = try await Self.jobs(
                    connection.query(
                        """
                        SELECT \(unescaped: Self.jobColumns) FROM superres_jobs
                        WHERE state = 'running' AND lease_expires < clock_timestamp()
                        ORDER BY lease_expires LIMIT 1000 FOR UPDATE SKIP LOCKED
                        """, logger: logger))
                for job in expired {
                    switch decide(job.record, job.attempts) {
                    case .requeue(let record):
                        try await connection.query(
                            """
                            UPDATE superres_jobs SET state = 'queued', worker = NULL, lease_expires = NULL,
                                record = \(record)
                            WHERE id = \(job.id)
                            """, logger: logger)
                        try await connection.query(
                            "SELECT pg_notify(\(Self.eventChannel), \(job.id + " queued"))", logger: logger)
                        sweep.requeued.append(job.id)
                    case .fail(let record, let expiresAt):
                        try await connection.query(
                            """
                            UPDATE superres_jobs SET state = 'failed', lease_expires = NULL, record = \(record),
                                expires_at = \(expiresAt)
                            WHERE id = \(job.id)
                            """, logger: logger)
                        try await connection.query(
                            "DELETE FROM superres_blobs WHERE job_id = \(job.id)", logger: logger)
                        try await connection.query(
                            "SELECT pg_notify(\(Self.eventChannel), \(job.id + " failed"))", logger: logger)
                        sweep.failed.append(job.id)
                    }
                }
                if !expired.isEmpty {
                    try await connection.query(
                        """
                        UPDATE superres_counters SET value = value + CASE name
                            WHEN 'leases_expired' THEN \(expired.count) ELSE \(sweep.requeued.count) END
                        """, logger: logger)
                }
                let deleted = try await connection.query(
                    """
                    DELETE FROM superres_jobs
                    WHERE state IN ('succeeded', 'failed', 'cancelled') AND expires_at < clock_timestamp() RETURNING id
                    """, logger: logger)
                for try await _ in deleted { sweep.deleted += 1 }
                return sweep
            }
        }
    }

    /// The queue's state: jobs per state, expired leases and retries, the workers.
    package func statistics() async throws(StoreError) -> QueueStatistics {
        try await perform("reading the queue's statistics") { client, logger in
            var jobs: [String: Int] = [:]
            for try await (state, count) in try await client.query(
                "SELECT state, count(*) FROM superres_jobs GROUP BY state", logger: logger
            ).decode((String, Int).self) {
                jobs[state] = count
            }
            var counters: [String: Int] = [:]
            for try await (name, value) in try await client.query(
                "SELECT name, value FROM superres_counters", logger: logger
            ).decode((String, Int).self) {
                counters[name] = value
            }
            var workers: [WorkerRow] = []
            for try await row in try await client.query(
                """
                SELECT name, models, seen_at > now() - make_interval(secs => \(Self.workerTimeoutSeconds)),
                    jobs_succeeded, jobs_failed, leases_taken, leases_renewed, busy_seconds
                FROM superres_workers ORDER BY name
                """, logger: logger
            ).decode((String, [String], Bool, Int, Int, Int, Int, Double).self) {
                workers.append(
                    WorkerRow(
                        name: row.0, models: row.1, alive: row.2, succeeded: row.3, failed: row.4, leasesTaken: row.5,
                        leasesRenewed: row.6, busySeconds: row.7))
            }
            return QueueStatistics(
                jobs: jobs, leasesExpired: counters["leases_expired"] ?? 0, retries: counters["retries"] ?? 0,
                workers: workers)
        }
    }

    // MARK: - Events

    /// Listens to job events until the calling task is cancelled, calling `handle(jobID, event)` for each; after
    /// the connection is lost it connects again (every second until it can) and calls `reconnected`, since events
    /// sent meanwhile were missed.
    package func listen(
        reconnected: @escaping @Sendable () -> Void, handle: @escaping @Sendable (String, String) -> Void
    ) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.eventChannel) { notifications in
                        if failures > 0 {
                            logger.info("listening to job events again")
                            reconnected()
                        }
                        failures = 0
                        for try await notification in notifications {
                            let parts = notification.payload.split(separator: " ", maxSplits: 1)
                            guard parts.count == 2 else { continue }
                            handle(String(parts[0]), String(parts[1]))
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                if failures == 0 {
                    logger.warning(
                        "lost the store's job events; connecting again",
                        metadata: ["error": "\(StoreError.wrapping(error, doing: "listening"))"])
                }
                failures += 1
            }
            if failures == 0 { failures = 1 }  // the sequence ended without an error: the connection went away
            try? await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: - Helpers

    /// The columns `StoredJob` is read from, in order.
    static let jobColumns = "id, state, model, owner, record, attempts, worker, cancel_requested"

    /// The rows of a query over `jobColumns`.
    static func jobs(_ rows: PostgresRowSequence) async throws -> [StoredJob] {
        var jobs: [StoredJob] = []
        for try await row in rows.decode((String, String, String, String?, String, Int, String?, Bool).self) {
            jobs.append(
                StoredJob(
                    id: row.0, state: row.1, model: row.2, owner: row.3, record: row.4, attempts: row.5,
                    worker: row.6, cancelRequested: row.7))
        }
        return jobs
    }

    /// The first column of the first row, or nil when there is no row (or the value is NULL).
    static func single<Value: PostgresDecodable>(
        _ rows: PostgresRowSequence, as type: Value.Type
    ) async throws -> Value? where Value._DecodableType == Value {
        var value: Value?
        for try await row in rows {
            if value == nil { value = try row.decode(Value?.self) }
        }
        return value
    }

    /// Runs `body` with the client, turning its errors into `StoreError`s that name `action`.
    private func perform<Result: Sendable>(
        _ action: String, _ body: (PostgresClient, Logger) async throws -> Result
    ) async throws(StoreError) -> Result {
        do {
            return try await body(client, logger)
        } catch {
            throw StoreError.wrapping(error, doing: action)
        }
    }
}
