// The jobs and their folders in the data directory:
//
//     <data-dir>/jobs/<id>/job.json       the JobRecord (written atomically on every change of state)
//     <data-dir>/jobs/<id>/input.<ext>    the upload as it came
//     <data-dir>/jobs/<id>/result.<ext>   the result (written to a temporary name, then renamed)
//
// The input is written before job.json, so a folder without job.json was never acknowledged and is removed.
import Foundation
import Imaging
import Logging
import Synchronization

/// The jobs the server knows, in memory and on disk. File operations block: call them from worker or I/O threads.
final class JobStore: Sendable {
    /// The file holding a job's record.
    static let recordFileName = "job.json"

    /// `<data-dir>/jobs`.
    let root: String
    /// How long finished jobs are kept.
    let expiry: Duration
    private let jobs = Mutex<[String: Job]>([:])
    /// The bytes of the jobs' files, kept up to date as jobs are stored, finish and are deleted.
    private let usedBytes = Atomic<Int>(0)

    /// The bytes the jobs' files take in the folder (inputs, results, records).
    var bytesUsed: Int { usedBytes.load(ordering: .relaxed) }

    /// Counts `bytes` more (or fewer, when negative) in the folder.
    func account(_ bytes: Int) { usedBytes.wrappingAdd(bytes, ordering: .relaxed) }

    /// The bytes of the files in `directory` (not recursive: job folders are flat).
    static func size(of directory: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.reduce(0) { total, name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            return total + ((attributes?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    /// A store over `<dataDirectory>/jobs`, which is created if needed (blocking).
    init(dataDirectory: String, expiry: Duration) throws(ServerStartupError) {
        root = dataDirectory + "/jobs"
        self.expiry = expiry
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw ServerStartupError(
                "data directory \(dataDirectory): cannot create \(root): \(error.localizedDescription)"
            )
        }
        guard FileManager.default.isWritableFile(atPath: root) else {
            throw ServerStartupError("data directory \(dataDirectory): \(root) is not writable")
        }
    }

    /// The job with this id, if it is known.
    func job(_ id: String) -> Job? {
        jobs.withLock { $0[id] }
    }

    /// Every known job.
    var all: [Job] {
        jobs.withLock { Array($0.values) }
    }

    /// A new job's id: a random UUID in lower case.
    static func makeID() -> String { UUID().uuidString.lowercased() }

    /// Whether `text` has the form of a job id (so it is safe in a path).
    static func isValidID(_ text: String) -> Bool {
        text.utf8.count == 36 && UUID(uuidString: text) != nil && text == text.lowercased()
    }

    /// Serialises `create`'s check for an earlier job with the same idempotency key and the creation itself.
    private let creationLock = Mutex(())

    /// Stores a new job: its folder, input bytes, then its record (blocking). A record with an idempotency key that
    /// an earlier job of the same owner has makes nothing: that job is returned, with `created` false.
    func create(record: JobRecord, input: [UInt8]) throws -> (job: Job, created: Bool) {
        try creationLock.withLock { _ in
            if let key = record.idempotencyKey,
                let earlier = all.first(where: { $0.record.idempotencyKey == key && $0.record.owner == record.owner })
            {
                return (earlier, false)
            }
            return (try store(record: record, input: input), true)
        }
    }

    /// Writes a new job's folder, input bytes, then its record (blocking).
    private func store(record: JobRecord, input: [UInt8]) throws -> Job {
        let directory = root + "/" + record.id
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        // The new folder's name must last as well as the files in it (they are synced as they are written).
        ImageFile.syncFolder(root)
        let job = Job(record: record, directory: directory) { [weak self] in self?.account($0) }
        do {
            try Self.writeBytes(input, to: job.path(record.inputFileName))
            try job.persist()
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        jobs.withLock { $0[record.id] = job }
        account(input.count)  // the record accounts for itself as it is written
        return job
    }

    /// Forgets a job and deletes its folder (blocking).
    func delete(_ job: Job) {
        jobs.withLock { _ = $0.removeValue(forKey: job.id) }
        let size = Self.size(of: job.directory)
        try? FileManager.default.removeItem(atPath: job.directory)
        account(-size)
    }

    /// Deletes every finished job whose expiry has passed (blocking); returns how many.
    @discardableResult
    func deleteExpired(now: Date = Date()) -> Int {
        let expired = all.filter { job in
            let record = job.record
            return record.state.isFinished && record.expiresAt <= now
        }
        for job in expired { delete(job) }
        return expired.count
    }

    /// What `restore` found.
    struct Restored {
        /// Jobs loaded (finished or not).
        var restored = 0
        /// Jobs that were queued or running when the last process stopped, queued again: run them.
        var resumable: [Job] = []
        /// Unfinished jobs that could not be resumed (their input is gone), now failed.
        var lost = 0
    }

    /// Loads the jobs in the folder (blocking). Jobs that were queued or running when the last process stopped
    /// (killed, or the machine lost power) are queued again from their stored input and returned to be run; only
    /// those whose input is gone are marked failed. Expired jobs, folders without a record and temporary files left
    /// by interrupted writes are deleted.
    func restore(logger: Logger, now: Date = Date()) -> Restored {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var outcome = Restored()
        for name in names.sorted() {
            let directory = root + "/" + name
            guard Self.isValidID(name) else {
                if !name.hasPrefix(".") {
                    logger.warning(
                        "ignoring an unexpected entry in the jobs folder",
                        metadata: ["path": "\(directory)"]
                    )
                }
                continue
            }
            let recordPath = directory + "/" + Self.recordFileName
            guard let data = FileManager.default.contents(atPath: recordPath),
                let record = try? Self.decoder().decode(JobRecord.self, from: data), record.id == name
            else {
                logger.warning(
                    "deleting a job folder without a readable record (an upload cut off before it was accepted)",
                    metadata: ["job.id": "\(name)"]
                )
                try? FileManager.default.removeItem(atPath: directory)
                continue
            }
            Self.removeTemporaryFiles(in: directory)
            let job = Job(record: record, directory: directory) { [weak self] in self?.account($0) }
            if !record.state.isFinished {
                try? FileManager.default.removeItem(atPath: job.path(record.resultFileName))
            }
            // Counted before any change: the record's rewrites and a failed job's input removal account for
            // themselves.
            account(Self.size(of: directory))
            if !record.state.isFinished {
                if FileManager.default.fileExists(atPath: job.path(record.inputFileName)) {
                    _ = job.update(event: "status", persisting: true, onPersistError: { error in
                        logger.error("cannot record a resumed job", metadata: ["job.id": "\(name)", "error": "\(error)"])
                    }) { record in
                        record.state = .queued
                        record.progress = 0
                        record.tilesDone = 0
                        record.tilesTotal = 0
                        record.startedAt = nil
                    }
                    outcome.resumable.append(job)
                } else {
                    let problem = ServiceError(
                        .interrupted,
                        "The job was interrupted by a restart of the server and its stored input is gone. "
                            + "Submit the image again."
                    ).problem
                    job.finish(.failed, expiry: expiry, error: problem, now: now) { error in
                        logger.error(
                            "cannot record an interrupted job",
                            metadata: ["job.id": "\(name)", "error": "\(error)"]
                        )
                    }
                    outcome.lost += 1
                }
            }
            if job.record.expiresAt <= now && job.record.state.isFinished {
                account(-Self.size(of: directory))
                try? FileManager.default.removeItem(atPath: directory)
                continue
            }
            jobs.withLock { $0[name] = job }
            outcome.restored += 1
        }
        return outcome
    }

    /// Deletes `.<name>.tmp-<random>` files: writes that a stopped process never renamed into place.
    private static func removeTemporaryFiles(in directory: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    /// Writes `bytes` to a new file at `path`: a temporary name, fsync, then rename.
    private static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        try ImageFile.writeAtomically(bytes, to: path)
    }

    /// The encoder of `job.json`.
    static func encoder() -> JSONEncoder { JobJSON.encoder(pretty: true) }

    /// The decoder of `job.json`.
    static func decoder() -> JSONDecoder { JobJSON.decoder() }
}
