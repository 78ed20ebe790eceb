import Foundation
import Imaging
import Synchronization

/// Something that happened to a job, as sent on its Server-Sent Events stream.
struct JobEvent: Sendable {
    /// The SSE event name: status, progress, done, failed or cancelled.
    var name: String
    var record: JobRecord
    /// A number that grows with every event of the job (the SSE `id`).
    var sequence: Int

    /// Whether this is the job's last event.
    var isFinal: Bool { record.state.isFinished }

    /// The event in `text/event-stream` form.
    func serialized() -> String {
        let data = String(decoding: JobResource(record).json(), as: UTF8.self)
        return "id: \(sequence)\nevent: \(name)\ndata: \(data)\n\n"
    }

    /// The event name for a record that has reached `state` (a finished state names itself).
    static func name(finishing state: JobState) -> String {
        switch state {
        case .succeeded: "done"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .queued, .running: "status"
        }
    }
}

/// One job's live state: its record, the clients following its events, and the token that stops it.
///
/// The record changes from the worker thread (start, progress, finish) and from requests (cancel); every change
/// goes through the mutex and is sent to every subscriber in order.
final class Job: Sendable {
    let id: String
    /// The job's folder: `job.json`, the input, and the result.
    let directory: String
    /// Stops the upscale at its next tile.
    let token = CancelToken()

    private struct State {
        var record: JobRecord
        var sequence = 0
        var subscribers: [Int: AsyncStream<JobEvent>.Continuation] = [:]
        var nextSubscriber = 0
    }

    private let state: Mutex<State>
    /// Serialises writes of `job.json`, so that the last write is always the latest record.
    private let persistLock = Mutex(())
    /// Serialises event delivery.
    private let deliveryLock = Mutex(())

    /// Told how many bytes the job's files grew (or shrank, when negative) when it finishes: the store's quota.
    private let accountFiles: @Sendable (Int) -> Void

    init(record: JobRecord, directory: String, accountFiles: @escaping @Sendable (Int) -> Void = { _ in }) {
        id = record.id
        self.directory = directory
        self.accountFiles = accountFiles
        state = Mutex(State(record: record))
    }

    /// The size of the file `name` in the job's folder, 0 when there is none.
    private func fileSize(_ name: String) -> Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path(name))
        return (attributes?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// The record now.
    var record: JobRecord { state.withLock { $0.record } }

    /// Path of a file in the job's folder.
    func path(_ name: String) -> String { directory + "/" + name }

    /// Applies `change` unless the job has finished, tells the subscribers with an event named `event`, and returns
    /// the new record (nil when the job had already finished and nothing changed).
    ///
    /// With `persisting`, the new record is written to `job.json` before anyone can see it (blocking: call from a
    /// worker or I/O thread), so that a client that saw a state finds it on disk too; a failed write is passed to
    /// `onPersistError` and the change goes ahead.
    @discardableResult
    func update(
        event: String,
        persisting: Bool = false,
        onPersistError: (any Error) -> Void = { _ in },
        _ change: (inout JobRecord) -> Void
    ) -> JobRecord? {
        // Every change goes through `deliveryLock`, so the record cannot change between the copy and the commit.
        // Events are delivered outside `state`'s lock (a finished stream calls its onTermination, which takes it)
        // but inside `deliveryLock`, so that subscribers see them in sequence order.
        deliveryLock.withLock { _ -> JobRecord? in
            var record = state.withLock { $0.record }
            guard !record.state.isFinished else { return nil }
            change(&record)
            if persisting {
                do {
                    try write(record)
                } catch {
                    onPersistError(error)
                }
            }
            let (event, subscribers) = state.withLock { state -> (JobEvent, [AsyncStream<JobEvent>.Continuation]) in
                state.record = record
                state.sequence += 1
                // A change that finishes the job is announced by its final event, whatever the caller named.
                let name = record.state.isFinished ? JobEvent.name(finishing: record.state) : event
                let event = JobEvent(name: name, record: record, sequence: state.sequence)
                let subscribers = Array(state.subscribers.values)
                if event.isFinal { state.subscribers = [:] }
                return (event, subscribers)
            }
            for subscriber in subscribers {
                subscriber.yield(event)
                if event.isFinal { subscriber.finish() }
            }
            return record
        }
    }

    /// Finishes the job in `state` (succeeded, failed or cancelled), writing the record first (blocking); nil when
    /// it had already finished. The input of a failed or cancelled job is deleted at once: nothing will read it again.
    /// A job whose cancel was asked for while it ran (`DELETE` answered 202) ends cancelled even when its work
    /// completed: the decision is taken under the job's lock, so it agrees with what `DELETE` saw.
    @discardableResult
    func finish(
        _ finalState: JobState,
        expiry: Duration,
        output: ImageSummary? = nil,
        error: ProblemDetails? = nil,
        now: Date = Date(),
        onPersistError: (any Error) -> Void = { _ in }
    ) -> JobRecord? {
        precondition(finalState.isFinished, "finish with \(finalState)")
        let finished = update(
            event: JobEvent.name(finishing: finalState), persisting: true, onPersistError: onPersistError
        ) { record in
            record.finishedAt = now
            record.expiresAt = now.addingTimeInterval(ServerConfiguration.seconds(expiry))
            if finalState == .succeeded && record.cancelRequested {
                record.state = .cancelled
                record.output = nil
                record.error = ServiceError(.cancelled, "The job was cancelled.").problem
                return
            }
            record.state = finalState
            record.output = output
            record.error = error
            if finalState == .succeeded {
                record.progress = 1
                record.tilesDone = record.tilesTotal
            }
        }
        if let finished {
            if finished.state == .succeeded {
                accountFiles(fileSize(finished.resultFileName))
            } else {
                let size = fileSize(finished.inputFileName)
                try? FileManager.default.removeItem(atPath: path(finished.inputFileName))
                try? FileManager.default.removeItem(atPath: path(finished.resultFileName))
                accountFiles(-size)
            }
        }
        return finished
    }

    /// A stream of the job's events: the record as it is now (named `status`, or the final event when the job has
    /// finished), then every change until the final event.
    func events() -> AsyncStream<JobEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: JobEvent.self, bufferingPolicy: .bufferingNewest(256))
        state.withLock { state in
            let record = state.record
            let name = record.state.isFinished ? JobEvent.name(finishing: record.state) : "status"
            continuation.yield(JobEvent(name: name, record: record, sequence: state.sequence))
            if record.state.isFinished {
                continuation.finish()
                return
            }
            let key = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[key] = continuation
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.subscribers.removeValue(forKey: key) }
            }
        }
        return stream
    }

    /// Writes `job.json` atomically with the current record (blocking: call from a worker or I/O thread).
    func persist() throws {
        try write(record)
    }

    /// Writes `record` to `job.json` atomically.
    private func write(_ record: JobRecord) throws {
        try persistLock.withLock { _ in
            let data = try JobStore.encoder().encode(record)
            let before = fileSize(JobStore.recordFileName)
            try ImageFile.writeAtomically(Array(data), to: path(JobStore.recordFileName))
            accountFiles(data.count - before)
        }
    }
}
