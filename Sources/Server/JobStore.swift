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

    /// Stores a new job: its folder, input bytes, then its record (blocking).
    func create(record: JobRecord, input: [UInt8]) throws -> Job {
        let directory = root + "/" + record.id
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let job = Job(record: record, directory: directory)
        do {
            try Self.writeBytes(input, to: job.path(record.inputFileName))
            try job.persist()
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        jobs.withLock { $0[record.id] = job }
        return job
    }

    /// Forgets a job and deletes its folder (blocking).
    func delete(_ job: Job) {
        jobs.withLock { _ = $0.removeValue(forKey: job.id) }
        try? FileManager.default.removeItem(atPath: job.directory)
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

    /// Loads the jobs in the folder (blocking). Jobs that were queued or running when the last process stopped are
    /// marked failed ("interrupted by a restart"); expired jobs and folders without a record are deleted.
    func restore(logger: Logger, now: Date = Date()) -> (restored: Int, interrupted: Int) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var restored = 0
        var interrupted = 0
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
            let job = Job(record: record, directory: directory)
            if !record.state.isFinished {
                let problem = ProblemDetails(
                    type: ServiceError.Code.interrupted.type,
                    title: ServiceError.Code.interrupted.title,
                    status: ServiceError.Code.interrupted.status.code,
                    detail: record.state == .running
                        ? "The job was interrupted by a restart of the server while it ran. Submit the image again."
                        : "The job was interrupted by a restart of the server before it started. Submit the image again."
                )
                job.finish(.failed, expiry: expiry, error: problem, now: now) { error in
                    logger.error(
                        "cannot record an interrupted job",
                        metadata: ["job.id": "\(name)", "error": "\(error)"]
                    )
                }
                try? FileManager.default.removeItem(atPath: job.path(record.resultFileName))
                interrupted += 1
            }
            if job.record.expiresAt <= now {
                try? FileManager.default.removeItem(atPath: directory)
                continue
            }
            jobs.withLock { $0[name] = job }
            restored += 1
        }
        return (restored, interrupted)
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
