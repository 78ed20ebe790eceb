// `superres batch`: every image of a folder through a superres service's jobs API, a few jobs at a time, resumable
// from the manifest in the output folder. Independent of the command line: the command gives a configuration and
// draws the progress it is told of; tests run it against an in-process server.
import AsyncHTTPClient
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a batch cannot start: settings that cannot work, a manifest of other settings, files that cannot be made.
package struct BatchError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    package enum Code: Sendable, Equatable {
        /// The configuration asks for something impossible (bad URL, no such folder, output inside the input, …).
        case usage
        /// The output folder's manifest was made with other settings, and `restart` was not asked for.
        case settingsChanged
        /// The manifest cannot be read.
        case manifest
        /// The input folder holds no image.
        case noImages
        /// A file or folder cannot be created, read or written.
        case file
    }

    /// The kind of failure.
    package let code: Code
    /// What is wrong and what to do about it, naming the file or setting.
    package let message: String

    /// An error of kind `code`.
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    package var description: String { message }

    /// Whether the command line is to blame (exit status 64).
    package var isUsageError: Bool { code == .usage || code == .settingsChanged }
}

/// How failed requests are retried: after the server's `Retry-After` (capped), else with exponential back-off.
package struct RetryPolicy: Sendable, Equatable {
    /// The wait after a first failure without `Retry-After`; it doubles with each failure in a row.
    package var firstDelay: Duration = .milliseconds(500)
    /// The longest wait without `Retry-After`.
    package var longestDelay: Duration = .seconds(30)
    /// The longest `Retry-After` honoured.
    package var longestRetryAfter: Duration = .seconds(60)
    /// Failures in a row after which a request is given up.
    package var maxAttempts = 10

    /// 0.5 s doubling up to 30 s, Retry-After up to 60 s, 10 attempts.
    package init() {}

    /// The wait after the `failures`-th failure in a row (1 for the first).
    package func delay(afterFailure failures: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return min(max(retryAfter, .zero), longestRetryAfter) }
        let doublings = min(max(failures - 1, 0), 20)
        return min(firstDelay * (1 << doublings), longestDelay)
    }
}

/// What a batch does: which folder, where to, through which server, with which settings.
package struct BatchConfiguration: Sendable {
    /// The folder of inputs, searched recursively (hidden files and folders skipped).
    package var inputFolder: String
    /// The folder of results (created if needed); it holds the manifest.
    package var outputFolder: String
    /// The service's base URL, http:// or https://.
    package var server: String
    /// Model, scale and format of every job.
    package var settings: BatchSettings
    /// Jobs submitted and not yet downloaded at once.
    package var concurrency = 4
    /// Sent as `Authorization: Bearer <key>` when set.
    package var apiKey: String?
    /// Starts a new manifest even when the output folder has one (of other settings, or unreadable).
    package var restart = false
    /// How often a job's status is asked for.
    package var pollInterval: Duration = .milliseconds(500)
    /// How failed requests are retried.
    package var retry = RetryPolicy()
    /// How long a submission already under way may take after a stop: its answer is worth recording, as the next
    /// run then follows that job instead of sending the image again.
    package var submitGrace: Duration = .seconds(5)

    /// A batch of `inputFolder` into `outputFolder` through `server`.
    package init(inputFolder: String, outputFolder: String, server: String, settings: BatchSettings = BatchSettings()) {
        self.inputFolder = inputFolder
        self.outputFolder = outputFolder
        self.server = server
        self.settings = settings
    }
}

/// An image found in the input folder.
package struct BatchInput: Sendable, Equatable {
    /// Its path relative to the input folder.
    package var relativePath: String
    /// png, jpeg, webp or tiff, from its extension.
    package var format: String
    /// Its size in bytes.
    package var size: Int
    /// Its modification time, in seconds since 1970.
    package var modified: Double
}

/// How a batch went.
package struct BatchSummary: Sendable {
    /// An input that failed, and why.
    package struct Failure: Sendable, Equatable {
        /// The input's path relative to the input folder.
        package var path: String
        /// Why it failed, in the server's words where it gave any.
        package var reason: String
    }

    /// Inputs found.
    package var total = 0
    /// Inputs enlarged by this run.
    package var succeeded = 0
    /// Inputs done by an earlier run, whose result is there.
    package var skipped = 0
    /// Inputs that failed in this run, in the order they did.
    package var failures: [Failure] = []
    /// Whether a stop left inputs unfinished (the manifest says where each one is).
    package var interrupted = false
    /// Why the batch stopped early on its own (a key the server refuses, a manifest it cannot write); nil if not.
    package var abortReason: String?
    /// Seconds the run took.
    package var seconds = 0.0

    /// Inputs that failed in this run.
    package var failed: Int { failures.count }

    /// `batch: 97 succeeded, 2 failed, 1 skipped (already done) in 12.3 s`.
    package var line: String {
        "batch: \(succeeded) succeeded, \(failed) failed, \(skipped) skipped (already done) in "
            + String(format: "%.1f", seconds) + " s"
    }
}

/// Runs a batch: finds the inputs, reconciles them with the manifest, then submits, follows and downloads at most
/// `concurrency` jobs at once, recording every step in the manifest before going on.
///
/// `run()` once per runner. `stop()` (or cancelling the task that runs it) stops it promptly: nothing new is
/// submitted, a submission under way gets `submitGrace` to be answered and recorded, jobs being followed stay
/// recorded as submitted for the next run, partial downloads are removed.
package final class BatchRunner: Sendable {
    /// What the batch does.
    package let configuration: BatchConfiguration
    private let onProgress: @Sendable (_ done: Int, _ total: Int) -> Void
    private let onLine: @Sendable (String) -> Void
    private let control = Mutex(Control())

    /// A request to stop and the task to cancel for it.
    private struct Control {
        var stopRequested = false
        var work: Task<Tally, Never>?
    }

    /// How the inputs of this run ended.
    private struct Tally: Sendable {
        var succeeded = 0
        var failures: [BatchSummary.Failure] = []
        var abortReason: String?
    }

    /// How one input ended.
    private enum Outcome: Sendable {
        case succeeded
        case failed(String)
        /// Failed for a reason that stops the whole batch.
        case fatal(String)
        /// Left unfinished by a stop.
        case stopped
    }

    /// What is known once the inputs are reconciled with the manifest.
    private struct Plan: Sendable {
        let store: ManifestStore
        let server: String
        let inputFolder: String
        let outputFolder: String
        let inputs: [String: BatchInput]
        /// Inputs to follow (submitted before) then to submit, by relative path.
        let work: [String]
        let total: Int
        let skipped: Int
    }

    /// A runner of `configuration`: `onProgress(done, total)` after each input ends (done counts the inputs
    /// skipped), `onLine` with a line about something worth telling (a lost job sent again, a server not answering).
    package init(
        configuration: BatchConfiguration,
        onProgress: @escaping @Sendable (_ done: Int, _ total: Int) -> Void = { _, _ in },
        onLine: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.onProgress = onProgress
        self.onLine = onLine
    }

    /// Asks the run to stop as soon as it can (from any thread, at any time).
    package func stop() {
        let work = control.withLock { control in
            control.stopRequested = true
            return control.work
        }
        work?.cancel()
    }

    /// Whether a stop was asked for.
    package var isStopRequested: Bool { control.withLock { $0.stopRequested } }

    /// Runs the batch; throws only when it cannot start (the inputs' failures are in the summary).
    package func run() async throws(BatchError) -> BatchSummary {
        let clock = ContinuousClock()
        let start = clock.now
        let plan = try prepare()
        try await plan.store.flush()
        var summary = BatchSummary()
        summary.total = plan.total
        summary.skipped = plan.skipped
        onProgress(plan.skipped, plan.total)
        if Task.isCancelled { stop() }
        if !plan.work.isEmpty {
            let client = JobsAPIClient.makeHTTPClient()
            let api = JobsAPIClient(server: plan.server, apiKey: configuration.apiKey, client: client)
            let task = Task { await self.process(plan, api: api) }
            let stopNow = control.withLock { control in
                control.work = task
                return control.stopRequested
            }
            if stopNow { task.cancel() }
            let tally = await withTaskCancellationHandler {
                await task.value
            } onCancel: {
                self.stop()
            }
            control.withLock { $0.work = nil }
            try? await client.shutdown()
            summary.succeeded = tally.succeeded
            summary.failures = tally.failures
            summary.abortReason = tally.abortReason
            let unfinished = plan.work.count - tally.succeeded - tally.failures.count
            summary.interrupted = unfinished > 0 && tally.abortReason == nil
        }
        let elapsed = start.duration(to: clock.now).components
        summary.seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        return summary
    }

    // MARK: - Jobs

    /// Runs the inputs of `plan`, at most `concurrency` at once, and tallies how they ended.
    private func process(_ plan: Plan, api: JobsAPIClient) async -> Tally {
        let limit = max(1, configuration.concurrency)
        return await withTaskGroup(of: (String, Outcome).self, returning: Tally.self) { group in
            var tally = Tally()
            var next = plan.work.startIndex
            var running = 0
            var done = plan.skipped
            while true {
                while running < limit, next < plan.work.endIndex, tally.abortReason == nil, !Task.isCancelled,
                    !isStopRequested
                {
                    let path = plan.work[next]
                    next += 1
                    running += 1
                    group.addTask { (path, await self.process(path, plan: plan, api: api)) }
                }
                guard let result = await group.next() else { break }
                running -= 1
                let (path, outcome) = result
                switch outcome {
                case .succeeded:
                    tally.succeeded += 1
                case .failed(let reason):
                    tally.failures.append(BatchSummary.Failure(path: path, reason: reason))
                case .fatal(let reason):
                    tally.failures.append(BatchSummary.Failure(path: path, reason: reason))
                    if tally.abortReason == nil {
                        tally.abortReason = reason
                        group.cancelAll()
                    }
                case .stopped:
                    continue
                }
                done += 1
                onProgress(done, plan.total)
            }
            return tally
        }
    }

    /// Takes one input to its end: submits it unless its job is known, follows the job, downloads the result;
    /// submits it again (with a new key) when the server has lost the job.
    private func process(_ path: String, plan: Plan, api: JobsAPIClient) async -> Outcome {
        var lostJobs = 0
        while true {
            guard let entry = plan.store.entry(path) else { return .failed("the manifest has no entry for it") }
            let jobID: String
            if entry.state == .submitted, let known = entry.jobID {
                jobID = known
            } else {
                switch await submit(path, entry: entry, plan: plan, api: api) {
                case .submitted(let id): jobID = id
                case .ended(let outcome): return outcome
                }
            }
            switch await follow(path, jobID: jobID, plan: plan, api: api) {
            case .ended(let outcome):
                return outcome
            case .lost:
                lostJobs += 1
                guard lostJobs <= 2 else {
                    return await fail(path, "the server lost its job \(lostJobs) times", leaving: .failed, plan)
                }
                onLine("\(path): the server no longer knows job \(jobID) (expired or lost); submitting it again")
                do throws(BatchError) {
                    try await plan.store.update { $0.renewKey(of: path) }
                } catch {
                    return .fatal("cannot write the manifest: \(error)")
                }
            }
        }
    }

    private enum Submission: Sendable {
        case submitted(String)
        case ended(Outcome)
    }

    /// Submits the input (its key is in the manifest already) until the server answers with a job, retrying what
    /// may succeed later; records the job before returning it.
    private func submit(_ path: String, entry: BatchEntry, plan: Plan, api: JobsAPIClient) async -> Submission {
        if Task.isCancelled { return .ended(.stopped) }
        let bytes: [UInt8]
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: plan.inputFolder + "/" + path))
            bytes = [UInt8](data)
        } catch {
            return .ended(await fail(path, "cannot read it: \(error.localizedDescription)", leaving: .failed, plan))
        }
        let format = configuration.settings.format ?? plan.inputs[path]?.format ?? "png"
        let filename = (path as NSString).lastPathComponent
        let settings = configuration.settings
        let key = entry.idempotencyKey
        var failures = 0
        while true {
            if Task.isCancelled { return .ended(.stopped) }
            let answer = await shielded { () async -> Result<RemoteJob, JobsAPIError> in
                do throws(JobsAPIError) {
                    let job = try await api.submit(
                        image: bytes,
                        filename: filename,
                        format: format,
                        settings: settings,
                        idempotencyKey: key
                    )
                    return .success(job)
                } catch {
                    return .failure(error)
                }
            }
            let error: JobsAPIError
            switch answer {
            case .success(let job):
                do throws(BatchError) {
                    try await plan.store.updateEntry(path) { entry in
                        entry.state = .submitted
                        entry.jobID = job.id
                        entry.error = nil
                    }
                } catch {
                    return .ended(.fatal("cannot write the manifest: \(error)"))
                }
                return .submitted(job.id)
            case .failure(let failure):
                error = failure
            }
            if error.kind == .cancelled { return .ended(.stopped) }
            if error.refusesEverySubmission {
                let reason = "the server refuses the batch: \(error)"
                return .ended(await fail(path, reason, leaving: .failed, fatal: true, plan))
            }
            guard error.isRetryable else {
                return .ended(await fail(path, "refused by the server: \(error)", leaving: .failed, plan))
            }
            guard await backOff(after: error, failures: &failures, telling: path) else {
                // Left pending with its key: if one of the attempts did make a job, the next run gets that job.
                return .ended(
                    await fail(path, "gave up after \(failures) attempts: \(error)", leaving: .pending, plan)
                )
            }
        }
    }

    /// Counts a failure that may pass and waits the back-off before the next attempt, telling of the first failure
    /// in a row as `<subject>: <error>` unless the server only asks to slow down. False, without waiting, once
    /// `maxAttempts` failures in a row are reached. A stop cuts the wait short; the caller's loop then sees it.
    private func backOff(after error: JobsAPIError, failures: inout Int, telling subject: String) async -> Bool {
        failures += 1
        guard failures < configuration.retry.maxAttempts else { return false }
        let delay = configuration.retry.delay(afterFailure: failures, retryAfter: error.retryAfter)
        if failures == 1, !error.isBackPressure { onLine("\(subject): \(error); trying again in \(Self.text(delay))") }
        try? await Task.sleep(for: delay)
        return true
    }

    /// Runs `operation` in a task of its own, which a stop does not cut off at once: a submission under way gets
    /// `submitGrace` more to be answered (and recorded), then it is cancelled too.
    private func shielded<Value: Sendable>(_ operation: @escaping @Sendable () async -> Value) async -> Value {
        let task = Task { await operation() }
        let grace = configuration.submitGrace
        return await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            Task {
                try? await Task.sleep(for: grace)
                task.cancel()
            }
        }
    }

    private enum Following: Sendable {
        case ended(Outcome)
        /// The server does not know the job (404): it expired, or the server lost it.
        case lost
    }

    /// Polls the job until it ends, then downloads its result.
    private func follow(_ path: String, jobID: String, plan: Plan, api: JobsAPIClient) async -> Following {
        var failures = 0
        while true {
            if Task.isCancelled { return .ended(.stopped) }
            let job: RemoteJob
            do throws(JobsAPIError) {
                job = try await api.status(of: jobID)
            } catch {
                if let end = await afterFailure(error, failures: &failures, path: path, jobID: jobID, plan) {
                    return end
                }
                continue
            }
            failures = 0
            switch job.state {
            case .queued, .running:
                do {
                    try await Task.sleep(for: configuration.pollInterval)
                } catch {
                    return .ended(.stopped)
                }
            case .failed:
                let reason = "the job failed: \(job.errorDetail ?? "the server gave no reason")"
                return .ended(await fail(path, reason, leaving: .failed, plan))
            case .cancelled:
                let reason = "the job was cancelled on the server\(job.errorDetail.map { ": \($0)" } ?? "")"
                return .ended(await fail(path, reason, leaving: .failed, plan))
            case .succeeded:
                return await download(path, jobID: jobID, plan: plan, api: api)
            }
        }
    }

    /// Downloads the job's result beside its output (`<output>.part-<random>`) and renames it into place, then
    /// records the input as done.
    private func download(_ path: String, jobID: String, plan: Plan, api: JobsAPIClient) async -> Following {
        guard let output = plan.store.entry(path)?.output else { return .ended(.failed("no entry in the manifest")) }
        let destination = plan.outputFolder + "/" + output
        let folder = (destination as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            let reason = "cannot create the folder \(folder): \(error.localizedDescription)"
            return .ended(await fail(path, reason, leaving: .submitted, plan))
        }
        Self.removeLeftoverParts(of: destination)
        var failures = 0
        while true {
            if Task.isCancelled { return .ended(.stopped) }
            let file: PartialFile
            do throws(BatchError) {
                file = try PartialFile(for: destination, marker: ".part-")
            } catch {
                return .ended(await fail(path, error.message, leaving: .submitted, plan))
            }
            do throws(JobsAPIError) {
                try await api.downloadResult(of: jobID, into: file)
            } catch {
                file.discard()
                if let end = await afterFailure(error, failures: &failures, path: path, jobID: jobID, plan) {
                    return end
                }
                continue
            }
            do throws(BatchError) {
                try file.commit()
            } catch {
                return .ended(await fail(path, error.message, leaving: .submitted, plan))
            }
            do throws(BatchError) {
                try await plan.store.updateEntry(path) { entry in
                    entry.state = .done
                    entry.error = nil
                }
            } catch {
                return .ended(.fatal("cannot write the manifest: \(error)"))
            }
            return .ended(.succeeded)
        }
    }

    /// After a failed status or download request of a known job: nil to try again (the back-off waited already),
    /// else how the input ends. Failures that may pass leave the job recorded, for the next run to follow.
    private func afterFailure(
        _ error: JobsAPIError,
        failures: inout Int,
        path: String,
        jobID: String,
        _ plan: Plan
    ) async -> Following? {
        if error.kind == .cancelled { return .ended(.stopped) }
        if error.status == 404 { return .lost }
        if error.kind == .file { return .ended(await fail(path, error.message, leaving: .submitted, plan)) }
        if error.refusesCaller {
            let reason = "the server refuses the batch: \(error)"
            return .ended(await fail(path, reason, leaving: .submitted, fatal: true, plan))
        }
        guard error.isRetryable else {
            return .ended(await fail(path, "job \(jobID): \(error)", leaving: .failed, plan))
        }
        guard await backOff(after: error, failures: &failures, telling: "\(path): job \(jobID)") else {
            let reason =
                "no answer about job \(jobID) after \(failures) attempts (\(error)); the job is kept for the next run"
            return .ended(await fail(path, reason, leaving: .submitted, plan))
        }
        return nil
    }

    /// Records why the input failed, leaving it in `state`: `.failed` (a new job next run), `.pending` (the same
    /// key next run) or `.submitted` (the same job followed next run). `.fatal` also stops the batch.
    private func fail(
        _ path: String,
        _ reason: String,
        leaving state: BatchEntry.State,
        fatal: Bool = false,
        _ plan: Plan
    ) async -> Outcome {
        do throws(BatchError) {
            try await plan.store.updateEntry(path) { entry in
                entry.state = state
                entry.error = reason
            }
        } catch {
            return .fatal("cannot write the manifest: \(error)")
        }
        return fatal ? .fatal(reason) : .failed(reason)
    }

    /// Removes the `.part-` files a stopped run left beside `destination`.
    private static func removeLeftoverParts(of destination: String) {
        let folder = (destination as NSString).deletingLastPathComponent
        let prefix = (destination as NSString).lastPathComponent + ".part-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: folder + "/" + name)
        }
    }

    /// "0.5 s", "30 s".
    private static func text(_ delay: Duration) -> String {
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) * 1e-18
        return String(format: "%g s", seconds)
    }

    // MARK: - Inputs and manifest

    /// Checks the configuration, finds the inputs, loads (or starts) the manifest and reconciles it with them.
    private func prepare() throws(BatchError) -> Plan {
        let settings = try Self.checked(configuration.settings)
        let server = try Self.normalizedServer(configuration.server)
        guard configuration.concurrency >= 1 else {
            throw BatchError(.usage, "the concurrency must be at least 1, not \(configuration.concurrency)")
        }
        let files = FileManager.default
        var isFolder: ObjCBool = false
        guard files.fileExists(atPath: configuration.inputFolder, isDirectory: &isFolder), isFolder.boolValue else {
            throw BatchError(.usage, "\(configuration.inputFolder): no such folder")
        }
        let inputFolder = Self.canonicalPath(configuration.inputFolder)
        let outputFolder = Self.canonicalPath(configuration.outputFolder)
        if outputFolder == inputFolder || outputFolder.hasPrefix(inputFolder == "/" ? "/" : inputFolder + "/") {
            throw BatchError(
                .usage,
                "the output folder \(configuration.outputFolder) is inside the input folder "
                    + "\(configuration.inputFolder), so its results would be taken for inputs; choose a folder "
                    + "outside it"
            )
        }
        if files.fileExists(atPath: outputFolder, isDirectory: &isFolder), !isFolder.boolValue {
            throw BatchError(.usage, "\(configuration.outputFolder) is a file, not a folder")
        }
        let inputs = try scanInputs(in: inputFolder)
        guard !inputs.isEmpty else {
            throw BatchError(
                .noImages,
                "\(configuration.inputFolder): no PNG, JPEG, WebP or TIFF images in this folder or its subfolders"
            )
        }
        let inputPaths = Set(inputs.map { inputFolder + "/" + $0.relativePath })
        var outputs: [String: String] = [:]
        for input in inputs {
            let output = Self.outputPath(for: input.relativePath, format: settings.format ?? input.format)
            if let other = outputs[output] {
                throw BatchError(
                    .usage,
                    "\(other) and \(input.relativePath) would both be written to \(output); rename one of them"
                )
            }
            outputs[output] = input.relativePath
            if inputPaths.contains(outputFolder + "/" + output) {
                throw BatchError(.usage, "the result of \(input.relativePath) would overwrite the input \(output)")
            }
        }
        do {
            try files.createDirectory(atPath: outputFolder, withIntermediateDirectories: true)
        } catch {
            throw BatchError(
                .file,
                "cannot create the output folder \(configuration.outputFolder): \(error.localizedDescription)"
            )
        }
        let manifestPath = BatchManifest.path(in: outputFolder)
        var manifest = BatchManifest(server: server, settings: settings)
        var resuming = false
        if !configuration.restart, let existing = try BatchManifest.load(from: manifestPath) {
            guard existing.server == server, existing.settings == settings else {
                throw BatchError(
                    .settingsChanged,
                    "\(manifestPath) records a batch with other settings ("
                        + Self.differences(existing, server: server, settings: settings)
                        + "); run with the same settings to resume it, or pass --restart to start a new batch"
                )
            }
            manifest = existing
            resuming = true
        }
        var follow: [String] = []
        var submit: [String] = []
        var skipped = 0
        for input in inputs {
            let path = input.relativePath
            let output = Self.outputPath(for: path, format: settings.format ?? input.format)
            guard let entry = manifest.entries[path], entry.inputSize == input.size,
                abs(entry.inputModified - input.modified) < 0.001, entry.output == output
            else {
                // New, or changed since: a new job (any earlier one was for other bytes).
                let generation = manifest.entries[path].map { $0.keyGeneration + 1 } ?? 0
                manifest.entries[path] = BatchEntry(
                    state: .pending,
                    idempotencyKey: BatchManifest.idempotencyKey(
                        runID: manifest.runID,
                        path: path,
                        generation: generation
                    ),
                    keyGeneration: generation,
                    output: output,
                    inputSize: input.size,
                    inputModified: input.modified
                )
                submit.append(path)
                continue
            }
            switch entry.state {
            case .done:
                if files.fileExists(atPath: outputFolder + "/" + output) {
                    skipped += 1
                    continue
                }
                // The result was removed: a new job.
                manifest.renewKey(of: path)
            case .submitted:
                if entry.jobID != nil {
                    follow.append(path)
                    continue
                }
                manifest.entries[path]?.state = .pending
            case .pending:
                // Perhaps sent without its answer recorded: sent again with the same key.
                break
            case .failed:
                manifest.renewKey(of: path)
            }
            submit.append(path)
        }
        if resuming {
            let jobs = follow.count == 1 ? "job" : "jobs"
            onLine(
                "resuming \(manifestPath): \(skipped) done, \(follow.count) submitted \(jobs) to follow, "
                    + "\(submit.count) to submit"
            )
        }
        return Plan(
            store: ManifestStore(manifest, path: manifestPath),
            server: server,
            inputFolder: inputFolder,
            outputFolder: outputFolder,
            inputs: Dictionary(inputs.map { ($0.relativePath, $0) }, uniquingKeysWith: { first, _ in first }),
            work: follow + submit,
            total: inputs.count,
            skipped: skipped
        )
    }

    /// The images of `folder` and its subfolders, by relative path; hidden files and folders are skipped, and links
    /// to folders are not followed (no loops).
    private func scanInputs(in folder: String) throws(BatchError) -> [BatchInput] {
        let files = FileManager.default
        var found: [BatchInput] = []
        var folders = [""]
        while let relative = folders.popLast() {
            let absolute = relative.isEmpty ? folder : folder + "/" + relative
            let names: [String]
            do {
                names = try files.contentsOfDirectory(atPath: absolute)
            } catch {
                guard !relative.isEmpty else {
                    throw BatchError(.file, "\(configuration.inputFolder): cannot list: \(error.localizedDescription)")
                }
                onLine("\(relative): cannot list this folder, skipped: \(error.localizedDescription)")
                continue
            }
            for name in names where !name.hasPrefix(".") {
                let path = relative.isEmpty ? name : relative + "/" + name
                let full = folder + "/" + path
                guard var attributes = try? files.attributesOfItem(atPath: full),
                    let type = attributes[.type] as? FileAttributeType
                else { continue }
                if type == .typeDirectory {
                    folders.append(path)
                    continue
                }
                if type == .typeSymbolicLink {
                    var isFolder: ObjCBool = false
                    guard files.fileExists(atPath: full, isDirectory: &isFolder), !isFolder.boolValue,
                        let target = try? files.attributesOfItem(atPath: (full as NSString).resolvingSymlinksInPath)
                    else { continue }
                    attributes = target
                } else if type != .typeRegular {
                    continue
                }
                guard let format = Self.normalizedFormat((name as NSString).pathExtension) else { continue }
                found.append(
                    BatchInput(
                        relativePath: path,
                        format: format,
                        size: (attributes[.size] as? NSNumber)?.intValue ?? 0,
                        modified: (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                    )
                )
            }
        }
        return found.sorted { $0.relativePath < $1.relativePath }
    }

    /// png, jpeg, webp or tiff for a format name or file extension (png, jpg, jpeg, webp, tif, tiff, any case);
    /// nil for anything else.
    package static func normalizedFormat(_ name: String) -> String? {
        switch name.lowercased() {
        case "png": "png"
        case "jpg", "jpeg": "jpeg"
        case "webp": "webp"
        case "tif", "tiff": "tiff"
        default: nil
        }
    }

    /// The result's path, relative to the output folder, of the input at `relativePath` made in `format`:
    /// `a/b.jpg` in png is `a/b.png`; jpeg results end in `.jpg`, tiff ones in `.tiff`.
    package static func outputPath(for relativePath: String, format: String) -> String {
        let fileExtension = format == "jpeg" ? "jpg" : format
        return (relativePath as NSString).deletingPathExtension + "." + fileExtension
    }

    /// The service's URL without a trailing slash; a usage error unless it is an http(s) URL with a host.
    package static func normalizedServer(_ text: String) throws(BatchError) -> String {
        var url = text.trimmingCharacters(in: .whitespaces)
        while url.hasSuffix("/") { url.removeLast() }
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty, parsed.query == nil,
            parsed.fragment == nil
        else {
            throw BatchError(
                .usage,
                "--server \(text) is not an http:// or https:// URL, such as http://127.0.0.1:8080"
            )
        }
        return url
    }

    /// The settings, normalised, or a usage error naming the one that cannot work.
    private static func checked(_ settings: BatchSettings) throws(BatchError) -> BatchSettings {
        var checked = settings
        if let model = settings.model, model.isEmpty { checked.model = nil }
        if let scale = settings.scale, !(scale.isFinite && scale >= 1 && scale <= 16) {
            throw BatchError(.usage, "the scale must be a number from 1 to 16, not \(scale)")
        }
        if let format = settings.format {
            guard let normalized = normalizedFormat(format) else {
                throw BatchError(.usage, "the format must be png, jpeg, webp or tiff, not \(format)")
            }
            checked.format = normalized
        }
        return checked
    }

    /// "model FSRCNN_x2 → the server's default; format each input's own → jpeg".
    private static func differences(_ manifest: BatchManifest, server: String, settings: BatchSettings) -> String {
        var parts: [String] = []
        if manifest.server != server { parts.append("server \(manifest.server) → \(server)") }
        let old = manifest.settings
        if old.model != settings.model {
            parts.append("model \(old.model ?? "the server's default") → \(settings.model ?? "the server's default")")
        }
        if old.scale != settings.scale {
            let describe = { (scale: Double?) -> String in
                scale.map { "×" + JobsAPIClient.formatScale($0) } ?? "the model's own"
            }
            parts.append("scale \(describe(old.scale)) → \(describe(settings.scale))")
        }
        if old.format != settings.format {
            parts.append("format \(old.format ?? "each input's own") → \(settings.format ?? "each input's own")")
        }
        return parts.joined(separator: "; ")
    }

    /// `path` made absolute, without `.` and `..`, its existing part's symbolic links resolved: folders compare
    /// equal however they were named.
    static func canonicalPath(_ path: String) -> String {
        let files = FileManager.default
        let absolute = path.hasPrefix("/") ? path : files.currentDirectoryPath + "/" + path
        var existing = (absolute as NSString).standardizingPath
        var missing: [String] = []
        while !existing.isEmpty, existing != "/", !files.fileExists(atPath: existing) {
            missing.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        var resolved = existing.isEmpty ? "/" : existing
        if let real = realpath(resolved, nil) {
            resolved = String(cString: real)
            free(real)
        }
        for name in missing { resolved = (resolved as NSString).appendingPathComponent(name) }
        return resolved
    }
}
