// The record of a `superres batch` run, `OUTDIR/.superres-batch.json`: the settings and, per input, how far it got.
// It is rewritten (temporary file, fsync, rename) after every change of an entry, so that a run stopped at any point
// (Ctrl-C, a crash, a power cut) resumes where it was: inputs done are skipped, jobs submitted are followed again
// rather than sent twice, and a submission whose answer was lost is sent again with the same idempotency key.
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The settings every job of a batch is submitted with; a manifest made with other settings is not resumed.
package struct BatchSettings: Codable, Sendable, Equatable {
    /// The model's name on the server; nil for the server's default model.
    package var model: String?
    /// The enlargement, 1...16; nil for the model's own.
    package var scale: Double?
    /// The results' format: png, jpeg, webp or tiff; nil for each input's own.
    package var format: String?

    /// Settings as given (`format` already normalised, see `BatchRunner.normalizedFormat`).
    package init(model: String? = nil, scale: Double? = nil, format: String? = nil) {
        self.model = model
        self.scale = scale
        self.format = format
    }
}

/// What the batch has done for one input.
package struct BatchEntry: Codable, Sendable, Equatable {
    /// How far an input got.
    package enum State: String, Codable, Sendable {
        /// Not submitted yet, or submitted without its answer being recorded: it is sent (again) with its
        /// idempotency key, which a server that already made a job for that key answers with that job.
        case pending
        /// Submitted: `jobID` is the server's job, followed until its result is downloaded.
        case submitted
        /// The result is in the output folder.
        case done
        /// Refused or failed by the server; the next run submits it again as a new job.
        case failed
    }

    /// How far the input got.
    package var state: State
    /// Sent as `Idempotency-Key` with every submission of this input; a new key for each new job wanted.
    package var idempotencyKey: String
    /// How many keys this input had before this one (the key's last part).
    package var keyGeneration: Int
    /// The server's job, once a submission was answered.
    package var jobID: String?
    /// The result's path relative to the output folder.
    package var output: String
    /// Why the input failed, or why its job could not be followed to its end, for the summary.
    package var error: String?
    /// The input's size in bytes when the entry was made: a changed input is done again.
    package var inputSize: Int
    /// The input's modification time (seconds since 1970) when the entry was made.
    package var inputModified: Double
}

/// The manifest of a batch: its server, settings and one entry per input, by path relative to the input folder.
package struct BatchManifest: Codable, Sendable, Equatable {
    /// The manifest's file name inside the output folder (hidden, so never taken for an input).
    package static let fileName = ".superres-batch.json"
    /// The layout this code writes, and the newest it reads.
    package static let currentVersion = 1

    /// The layout's version.
    package var version: Int
    /// A random id of this manifest, the first part of its idempotency keys (so another batch never shares them).
    package var runID: String
    /// The service's base URL, without a trailing slash.
    package var server: String
    /// The settings every job is submitted with.
    package var settings: BatchSettings
    /// Per input, by its path relative to the input folder.
    package var entries: [String: BatchEntry]

    /// An empty manifest of a new batch, with a fresh run id.
    package init(server: String, settings: BatchSettings, runID: String = UUID().uuidString.lowercased()) {
        version = Self.currentVersion
        self.runID = runID
        self.server = server
        self.settings = settings
        entries = [:]
    }

    /// `<outputFolder>/.superres-batch.json`.
    package static func path(in outputFolder: String) -> String {
        outputFolder.hasSuffix("/") ? outputFolder + fileName : outputFolder + "/" + fileName
    }

    /// The idempotency key of an input's `generation`-th job: run id, a hash of the path, generation. Stable, so
    /// that the key is known before the request is sent and a retry of that request is recognised by the server.
    package static func idempotencyKey(runID: String, path: String, generation: Int) -> String {
        // FNV-1a, 64 bits: enough to tell a batch's paths apart in a key (the run id keeps batches apart).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "\(runID)-\(String(repeating: "0", count: 16 - hex.count))\(hex)-\(generation)"
    }

    /// Gives the input at `path` a new idempotency key (a new job is wanted) and makes it pending again.
    package mutating func renewKey(of path: String) {
        guard var entry = entries[path] else { return }
        entry.keyGeneration += 1
        entry.idempotencyKey = Self.idempotencyKey(runID: runID, path: path, generation: entry.keyGeneration)
        entry.state = .pending
        entry.jobID = nil
        entry.error = nil
        entries[path] = entry
    }

    /// The manifest stored at `path`; nil when there is none.
    package static func load(from path: String) throws(BatchError) -> BatchManifest? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw BatchError(.manifest, "\(path): cannot read the batch manifest: \(error.localizedDescription)")
        }
        let manifest: BatchManifest
        do {
            manifest = try JSONDecoder().decode(BatchManifest.self, from: data)
        } catch {
            throw BatchError(
                .manifest,
                "\(path) is not a superres batch manifest (\(error.localizedDescription)); remove it or pass "
                    + "--restart to start a new batch"
            )
        }
        guard manifest.version <= currentVersion else {
            throw BatchError(
                .manifest,
                "\(path) was written by a newer superres (manifest version \(manifest.version)); use that version, "
                    + "or pass --restart to start a new batch"
            )
        }
        return manifest
    }

    /// Writes the manifest to `path` atomically: a temporary file beside it, fsync, rename, fsync of the folder.
    package func write(to path: String) throws(BatchError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(self)
        } catch {
            throw BatchError(.manifest, "\(path): cannot encode the batch manifest: \(error)")
        }
        let file = try PartialFile(for: path, marker: ".tmp-")
        let written = data.withUnsafeBytes { file.append($0) }
        guard written else {
            file.discard()
            throw BatchError(.file, file.failure ?? "cannot write \(file.temporary)")
        }
        try file.commit()
    }
}

/// The manifest of a running batch, changed by many tasks at once and written to its file in order of change on a
/// queue of its own (blocking file work stays off Swift's cooperative threads). A write stands for every change
/// made before it, so changes made together share one write.
package final class ManifestStore: Sendable {
    /// A manifest as it was after a number of changes.
    private struct Snapshot: Sendable {
        var changes: Int
        var manifest: BatchManifest
    }

    private struct State: Sendable {
        var manifest: BatchManifest
        /// Changes made so far (the first manifest counts as one).
        var changes = 1
        /// The number of changes the file on disk holds.
        var written = 0
    }

    /// The manifest's file.
    package let path: String
    private let state: Mutex<State>
    private let queue = DispatchQueue(label: "superres.batch.manifest")

    /// A store of `manifest`, to be written to `path` (by `flush` or the first `update`).
    package init(_ manifest: BatchManifest, path: String) {
        self.path = path
        state = Mutex(State(manifest: manifest))
    }

    /// The manifest as changed so far.
    package var manifest: BatchManifest { state.withLock { $0.manifest } }

    /// The entry of the input at `path`.
    package func entry(_ path: String) -> BatchEntry? { state.withLock { $0.manifest.entries[path] } }

    /// Applies `change`, and returns once the file holds it.
    package func update(_ change: (inout BatchManifest) -> Void) async throws(BatchError) {
        let wanted = state.withLock { state in
            change(&state.manifest)
            state.changes += 1
            return state.changes
        }
        try await flush(through: wanted)
    }

    /// Applies `change` to the entry of the input at `path` (if it has one), and returns once the file holds it.
    package func updateEntry(_ path: String, _ change: (inout BatchEntry) -> Void) async throws(BatchError) {
        try await update { manifest in
            guard var entry = manifest.entries[path] else { return }
            change(&entry)
            manifest.entries[path] = entry
        }
    }

    /// Returns once the file holds every change made so far.
    package func flush() async throws(BatchError) {
        try await flush(through: state.withLock { $0.changes })
    }

    private func flush(through wanted: Int) async throws(BatchError) {
        let result: Result<Void, BatchError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: self.writeIfNeeded(through: wanted))
            }
        }
        try result.get()
    }

    /// On the queue: writes the manifest as it is now, unless a write since change `wanted` already holds it.
    private func writeIfNeeded(through wanted: Int) -> Result<Void, BatchError> {
        let snapshot = state.withLock { state -> Snapshot? in
            state.written >= wanted ? nil : Snapshot(changes: state.changes, manifest: state.manifest)
        }
        guard let snapshot else { return .success(()) }
        do throws(BatchError) {
            try snapshot.manifest.write(to: path)
        } catch {
            return .failure(error)
        }
        state.withLock { $0.written = max($0.written, snapshot.changes) }
        return .success(())
    }
}

/// A file written under a temporary name beside its destination (`<destination><marker><random>`), then synced and
/// renamed into place by `commit()`, so that the destination is the old file or the whole new one, never part of
/// one. Removed by `discard()`, or when dropped uncommitted. Used by one task at a time.
package final class PartialFile {
    /// Where the file goes once complete.
    package let destination: String
    /// The name it is written under until then.
    package let temporary: String
    /// Why a write failed; nil while all went well.
    package private(set) var failure: String?
    private var descriptor: Int32
    private var finished = false

    /// Creates the temporary file (a fresh random name, created exclusively).
    package init(for destination: String, marker: String) throws(BatchError) {
        var temporary = ""
        var descriptor: Int32 = -1
        // O_EXCL makes a name collision fail rather than share a file; try a few fresh names.
        for _ in 0..<8 {
            temporary = destination + marker + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else { throw BatchError(.file, "cannot create \(temporary): \(lastErrorText())") }
        self.destination = destination
        self.temporary = temporary
        self.descriptor = descriptor
    }

    deinit {
        if !finished { discard() }
    }

    /// Appends `bytes`, retrying short writes and interruptions; false (and `failure` set) when the write failed.
    package func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard failure == nil, descriptor >= 0 else { return false }
        guard let base = bytes.baseAddress else { return true }
        var written = 0
        while written < bytes.count {
            let count = posixWrite(descriptor, base + written, bytes.count - written)
            if count >= 0 {
                written += count
            } else if errno != EINTR {
                failure = "cannot write \(temporary): \(lastErrorText())"
                return false
            }
        }
        return true
    }

    /// Syncs, closes and renames the file to its destination (replacing any file there); on failure the temporary
    /// file is removed and the error thrown.
    package func commit() throws(BatchError) {
        guard !finished else { throw BatchError(.file, "\(temporary) was already committed or discarded") }
        var failure = self.failure
        if failure == nil, fsync(descriptor) != 0 { failure = "cannot sync \(temporary): \(lastErrorText())" }
        if close(descriptor) != 0, failure == nil { failure = "cannot close \(temporary): \(lastErrorText())" }
        descriptor = -1
        if failure == nil, rename(temporary, destination) != 0 {
            failure = "cannot rename \(temporary) to \(destination): \(lastErrorText())"
        }
        finished = true
        if let failure {
            unlink(temporary)
            throw BatchError(.file, failure)
        }
        syncFolder(of: destination)
    }

    /// Closes and removes the temporary file.
    package func discard() {
        guard !finished else { return }
        finished = true
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporary)
    }

    /// Makes a rename in the folder of `path` durable; best effort, as some file systems refuse to sync folders.
    private func syncFolder(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let descriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }
}

/// `strerror(errno)`.
private func lastErrorText() -> String { String(cString: strerror(errno)) }

/// POSIX `write`, by a name no method shadows.
private func posixWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(descriptor, buffer, count)
    #else
    return Darwin.write(descriptor, buffer, count)
    #endif
}
