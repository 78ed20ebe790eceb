import BatchClient
import Foundation
import Imaging
import Logging
import Server
import Synchronization
import TestSupport
import Testing

/// `superres batch`'s runner against a real server on a loopback port: results in the inputs' formats, the
/// manifest, resuming after a stop without sending an image twice, failures in the server's words, settings that do
/// not match the manifest's.
@Suite(.serialized, .enabled(if: BatchFixtures.available, Comment(rawValue: SharedData.missingMessage)))
struct BatchRunnerTests {
    @Test func aFolderOfImagesIsEnlargedIntoTheOutputFolder() async throws {
        let folders = try BatchFolders(writing: BatchFixtures.inputs)
        try await withLiveServer { server in
            let progress = ProgressLog()
            let runner = BatchRunner(
                configuration: folders.configuration(server: server.url),
                onProgress: { done, total in progress.record(done, of: total) }
            )
            let summary = try await runner.run()
            #expect(summary.total == 6)
            #expect(summary.succeeded == 6, "\(summary.failures)")
            #expect(summary.failed == 0 && summary.skipped == 0 && !summary.interrupted && summary.abortReason == nil)
            #expect(summary.line.hasPrefix("batch: 6 succeeded, 0 failed, 0 skipped (already done) in "))
            #expect(progress.done.first == 0 && progress.done.last == 6 && progress.totals == [6])
            for input in BatchFixtures.inputs {
                let bytes = try ImageFile.readBytes(folders.output + "/" + input.output)
                let result = try ImageCodec.decode(bytes, source: input.output)
                #expect(result.width == 2 * BatchFixtures.side && result.height == 2 * BatchFixtures.side)
                #expect(try ImageCodec.probe(bytes, source: input.output).format == input.format, "\(input.output)")
            }
            let manifest = try folders.manifest()
            // Hidden files and folders and files that are not images are not inputs.
            #expect(Set(manifest.entries.keys) == Set(BatchFixtures.inputs.map(\.path)))
            #expect(manifest.entries.values.allSatisfy { $0.state == .done && $0.jobID != nil && $0.error == nil })
            #expect(manifest.server == server.url && manifest.settings == BatchSettings())
            #expect(server.jobsMade == 6)
            #expect(folders.leftovers.isEmpty, "\(folders.leftovers)")

            // Everything is done: a second run sends nothing.
            let again = try await BatchRunner(configuration: folders.configuration(server: server.url)).run()
            #expect(again.skipped == 6 && again.succeeded == 0 && again.failed == 0 && !again.interrupted)
            #expect(server.jobsMade == 6)
        }
    }

    @Test func aStoppedBatchResumesWithoutSubmittingAnyImageTwice() async throws {
        let folders = try BatchFolders(writing: BatchFixtures.inputs)
        try await withLiveServer { server in
            var configuration = folders.configuration(server: server.url)
            // Two at a time: when the third result is in, the fifth and sixth images have not been sent.
            configuration.concurrency = 2
            let holder = RunnerHolder()
            let first = BatchRunner(
                configuration: configuration,
                onProgress: { done, _ in if done >= 3 { holder.stop() } }
            )
            holder.set(first)
            let stopped = try await first.run()
            #expect(stopped.interrupted)
            #expect(stopped.succeeded >= 3 && stopped.succeeded <= 4 && stopped.failed == 0, "\(stopped.failures)")
            let manifest = try folders.manifest()
            let states = manifest.entries.values
            #expect(states.filter { $0.state == .done }.count == stopped.succeeded)
            // The others are recorded as submitted with their job, or not sent yet (pending with their key).
            #expect(states.allSatisfy { $0.state == .done || $0.state == .submitted || $0.state == .pending })
            #expect(states.filter { $0.state == .submitted }.allSatisfy { $0.jobID != nil })
            #expect(folders.leftovers.isEmpty, "\(folders.leftovers)")

            let lines = LineLog()
            let resumed = try await BatchRunner(
                configuration: configuration,
                onLine: { lines.record($0) }
            ).run()
            #expect(!resumed.interrupted && resumed.failed == 0, "\(resumed.failures)")
            #expect(resumed.skipped == stopped.succeeded)
            #expect(resumed.succeeded == 6 - stopped.succeeded)
            #expect(lines.all.contains { $0.hasPrefix("resuming ") }, "\(lines.all)")
            for input in BatchFixtures.inputs {
                #expect(FileManager.default.fileExists(atPath: folders.output + "/" + input.output), "\(input.output)")
            }
            #expect(try folders.manifest().entries.values.allSatisfy { $0.state == .done })
            // One job per image over both runs.
            #expect(server.jobsMade == 6)
        }
    }

    @Test func aSubmissionWhoseAnswerWasNotRecordedIsNotMadeTwice() async throws {
        let folders = try BatchFolders(writing: Array(BatchFixtures.inputs.prefix(2)))
        try await withLiveServer { server in
            let configuration = folders.configuration(server: server.url)
            let first = try await BatchRunner(configuration: configuration).run()
            #expect(first.succeeded == 2)
            // As if a run had sent the first image and stopped before recording the answer: the entry is pending
            // with its key, and there is no result.
            let input = BatchFixtures.inputs[0]
            var manifest = try folders.manifest()
            let entry = try #require(manifest.entries[input.path])
            manifest.entries[input.path]?.state = .pending
            manifest.entries[input.path]?.jobID = nil
            try manifest.write(to: folders.manifestPath)
            try FileManager.default.removeItem(atPath: folders.output + "/" + input.output)

            let second = try await BatchRunner(configuration: configuration).run()
            #expect(second.succeeded == 1 && second.skipped == 1 && second.failed == 0, "\(second.failures)")
            // The server answered the key with the job it had made for it.
            #expect(try folders.manifest().entries[input.path]?.jobID == entry.jobID)
            #expect(server.jobsMade == 2)
            #expect(FileManager.default.fileExists(atPath: folders.output + "/" + input.output))
        }
    }

    @Test func aCorruptFileFailsWithTheServersReasonAndTheOthersSucceed() async throws {
        let folders = try BatchFolders(writing: Array(BatchFixtures.inputs.prefix(4)))
        // Not an image: refused when submitted. An image broken past its header: accepted, then its job fails.
        try Array("this is not an image\n".utf8).write(to: folders.input + "/junk.png")
        try BatchFixtures.corruptPNG().write(to: folders.input + "/nested/broken.png")
        try await withLiveServer { server in
            let configuration = folders.configuration(server: server.url)
            let summary = try await BatchRunner(configuration: configuration).run()
            #expect(summary.total == 6 && summary.succeeded == 4 && summary.failed == 2, "\(summary.failures)")
            #expect(summary.abortReason == nil && !summary.interrupted)
            let reasons = Dictionary(uniqueKeysWithValues: summary.failures.map { ($0.path, $0.reason) })
            let junk = try #require(reasons["junk.png"])
            #expect(junk.contains("Send a PNG, JPEG, WebP or TIFF image") && junk.contains("HTTP 415"), "\(junk)")
            let broken = try #require(reasons["nested/broken.png"])
            #expect(broken.contains("broken.png could not be read"), "\(broken)")
            let manifest = try folders.manifest()
            #expect(manifest.entries["junk.png"]?.state == .failed && manifest.entries["junk.png"]?.error == junk)
            #expect(manifest.entries["nested/broken.png"]?.state == .failed)
            #expect(!FileManager.default.fileExists(atPath: folders.output + "/junk.png"))
            #expect(!FileManager.default.fileExists(atPath: folders.output + "/nested/broken.png"))
            for input in BatchFixtures.inputs.prefix(4) {
                #expect(manifest.entries[input.path]?.state == .done)
            }
            // The junk was refused before a job was made; the broken image had one.
            #expect(server.jobsMade == 5)

            // The next run tries the failed ones again, as new jobs, and skips the rest.
            let again = try await BatchRunner(configuration: configuration).run()
            #expect(again.skipped == 4 && again.succeeded == 0 && again.failed == 2)
            #expect(try folders.manifest().entries["nested/broken.png"]?.keyGeneration == 1)
            #expect(server.jobsMade == 6)
        }
    }

    @Test func aManifestOfOtherSettingsIsRefusedWithoutRestart() async throws {
        let folders = try BatchFolders(writing: Array(BatchFixtures.inputs.prefix(2)))
        try await withLiveServer { server in
            let configuration = folders.configuration(server: server.url)
            let first = try await BatchRunner(configuration: configuration).run()
            #expect(first.succeeded == 2)
            let firstManifest = try folders.manifest()

            // The same server written with a trailing slash is the same batch.
            var sameServer = configuration
            sameServer.server = server.url + "/"
            #expect(try await BatchRunner(configuration: sameServer).run().skipped == 2)

            var jpeg = configuration
            jpeg.settings.format = "jpg"
            let refused = BatchRunner(configuration: jpeg)
            let error = await #expect(throws: BatchError.self) { try await refused.run() }
            #expect(error?.code == .settingsChanged && error?.isUsageError == true)
            #expect(error?.message.contains("format each input's own → jpeg") == true, "\(String(describing: error))")
            #expect(error?.message.contains("--restart") == true)
            #expect(try folders.manifest() == firstManifest)
            #expect(server.jobsMade == 2)

            jpeg.restart = true
            let restarted = try await BatchRunner(configuration: jpeg).run()
            #expect(restarted.succeeded == 2 && restarted.skipped == 0, "\(restarted.failures)")
            let manifest = try folders.manifest()
            #expect(manifest.settings.format == "jpeg" && manifest.runID != firstManifest.runID)
            for input in BatchFixtures.inputs.prefix(2) {
                let output = BatchRunner.outputPath(for: input.path, format: "jpeg")
                let bytes = try ImageFile.readBytes(folders.output + "/" + output)
                #expect(try ImageCodec.probe(bytes, source: output).format == .jpeg, "\(output)")
            }
            #expect(server.jobsMade == 4)
        }
    }
}

/// What is refused before anything is sent (no server needed).
@Suite struct BatchRunnerUsageTests {
    @Test func impossibleSettingsAreUsageErrors() async throws {
        let root = TemporaryFolder("superres-batch-usage")
        let input = root.appending("in")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try Array("not read before the server is asked".utf8).write(to: input + "/a.png")
        try Array("x".utf8).write(to: input + "/a.jpg")
        let elsewhere = root.appending("o")
        // Nothing is sent: port 9 (discard) is never asked.
        func batch(
            _ input: String,
            _ output: String,
            server: String = "http://127.0.0.1:9",
            settings: BatchSettings = BatchSettings()
        ) -> BatchConfiguration {
            BatchConfiguration(inputFolder: input, outputFolder: output, server: server, settings: settings)
        }
        let cases: [(String, BatchConfiguration, BatchError.Code)] = [
            ("no scheme", batch(input, elsewhere, server: "host:8080"), .usage),
            ("not http", batch(input, elsewhere, server: "ftp://host"), .usage),
            ("missing folder", batch(root.appending("none"), elsewhere), .usage),
            ("output inside input", batch(input, input + "/out"), .usage),
            ("output is input", batch(input, input + "/./"), .usage),
            // a.png and a.jpg would both give a.png.
            ("two inputs, one output", batch(input, elsewhere, settings: BatchSettings(format: "png")), .usage),
            ("scale", batch(input, elsewhere, settings: BatchSettings(scale: 40)), .usage),
            ("format", batch(input, elsewhere, settings: BatchSettings(format: "gif")), .usage),
            ("no images", batch(elsewhere, root.appending("p")), .noImages),
        ]
        try FileManager.default.createDirectory(atPath: root.appending("o"), withIntermediateDirectories: true)
        for (name, configuration, code) in cases {
            let error = await #expect(throws: BatchError.self, "\(name)") {
                try await BatchRunner(configuration: configuration).run()
            }
            #expect(error?.code == code, "\(name): \(String(describing: error))")
        }
        #expect(!FileManager.default.fileExists(atPath: input + "/out"), "nothing is made for a refused batch")
    }

    @Test func outputsKeepTheRelativePathWithTheFormatsExtension() {
        #expect(BatchRunner.outputPath(for: "a/b.jpeg", format: "jpeg") == "a/b.jpg")
        #expect(BatchRunner.outputPath(for: "a/b.JPG", format: "png") == "a/b.png")
        #expect(BatchRunner.outputPath(for: "c.tif", format: "tiff") == "c.tiff")
        #expect(BatchRunner.normalizedFormat("TIF") == "tiff" && BatchRunner.normalizedFormat("gif") == nil)
    }

    @Test func retriesHonourRetryAfterAndBackOffExponentially() {
        let policy = RetryPolicy()
        #expect(policy.delay(afterFailure: 1, retryAfter: nil) == .milliseconds(500))
        #expect(policy.delay(afterFailure: 3, retryAfter: nil) == .seconds(2))
        #expect(policy.delay(afterFailure: 9, retryAfter: nil) == .seconds(30))
        #expect(policy.delay(afterFailure: 1, retryAfter: .seconds(7)) == .seconds(7))
        #expect(policy.delay(afterFailure: 1, retryAfter: .seconds(600)) == .seconds(60))
    }
}

// MARK: - Fixtures

/// The model and pictures of the batch tests, read from the shared folder.
enum BatchFixtures {
    /// FSRCNN ×2: small and fast.
    static let model = SharedData.path("models/opencv/FSRCNN_x2.pb")
    /// The side of the inputs, in pixels.
    static let side = 32

    /// One input of the test folder: a crop of a Set5 picture, encoded as `format`.
    struct Input: Sendable {
        /// Its path in the input folder.
        var path: String
        /// The Set5 picture it is cut from.
        var picture: String
        var x: Int
        var y: Int
        var format: ImageFormat
        /// Its result's path in the output folder.
        var output: String
    }

    /// Six inputs, in subfolders and in every format, with an upper-case extension among them.
    static let inputs: [Input] = [
        Input(path: "baby.png", picture: "baby", x: 100, y: 100, format: .png, output: "baby.png"),
        Input(path: "bird.jpg", picture: "bird", x: 80, y: 80, format: .jpeg, output: "bird.jpg"),
        Input(
            path: "nested/butterfly.png",
            picture: "butterfly",
            x: 100,
            y: 100,
            format: .png,
            output: "nested/butterfly.png"
        ),
        Input(
            path: "nested/deeper/head.tif",
            picture: "head",
            x: 100,
            y: 100,
            format: .tiff,
            output: "nested/deeper/head.tiff"
        ),
        Input(path: "nested/wing.PNG", picture: "butterfly", x: 140, y: 60, format: .png, output: "nested/wing.png"),
        Input(path: "woman.webp", picture: "woman", x: 80, y: 120, format: .webp, output: "woman.webp"),
    ]

    static func picture(_ name: String) -> String { SharedData.path("datasets/Set5/\(name).png") }

    /// Whether the shared model and pictures are there; the tests say `SharedData.missingMessage` otherwise.
    static var available: Bool {
        ([model] + Set(inputs.map(\.picture)).map(picture)).allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }

    /// The input's crop, decoded.
    static func crop(_ input: Input) throws -> PixelImage {
        let image = try ImageFile.read(picture(input.picture))
        guard case .uint8(let samples) = image.samples else { throw BatchTestError("\(input.picture) is not 8-bit") }
        let channels = image.layout.channelCount
        var out: [UInt8] = []
        out.reserveCapacity(side * side * channels)
        for row in input.y..<(input.y + side) {
            let start = (row * image.width + input.x) * channels
            out += samples[start..<(start + side * channels)]
        }
        return PixelImage(width: side, height: side, layout: image.layout, uint8: out)
    }

    /// A PNG whose header is intact and whose image data is scrambled: accepted, then its job fails.
    static func corruptPNG() throws -> [UInt8] {
        var bytes = try ImageCodec.encode(crop(inputs[0]), as: .png)
        // Keep the signature and IHDR (8 + 25 bytes) and the next chunk's length and type; scramble the rest.
        for index in 41..<bytes.count { bytes[index] = UInt8(truncatingIfNeeded: index &* 131 &+ 7) }
        return bytes
    }
}

/// An input and an output folder in a fresh temporary folder.
struct BatchFolders {
    let root = TemporaryFolder("superres-batch-tests")
    var input: String { root.appending("in") }
    var output: String { root.appending("out") }
    var manifestPath: String { BatchManifest.path(in: output) }

    /// Writes `inputs` into the input folder, with files that are not inputs beside them (hidden, not images).
    init(writing inputs: [BatchFixtures.Input]) throws {
        for input in inputs {
            try ImageCodec.encode(BatchFixtures.crop(input), as: input.format).write(to: self.input + "/" + input.path)
        }
        let hidden = try ImageCodec.encode(BatchFixtures.crop(BatchFixtures.inputs[0]), as: .png)
        try hidden.write(to: self.input + "/.hidden.png")
        try hidden.write(to: self.input + "/.cache/skipped.png")
        try Array("not an image".utf8).write(to: self.input + "/notes.txt")
    }

    /// A batch of the input folder into the output folder, polling often (the jobs are small).
    func configuration(server: String) -> BatchConfiguration {
        var configuration = BatchConfiguration(inputFolder: input, outputFolder: output, server: server)
        configuration.pollInterval = .milliseconds(100)
        return configuration
    }

    /// The output folder's manifest.
    func manifest() throws -> BatchManifest {
        guard let manifest = try BatchManifest.load(from: manifestPath) else {
            throw BatchTestError("no manifest at \(manifestPath)")
        }
        return manifest
    }

    /// Temporary files left in the output folder (partial downloads, manifest writes).
    var leftovers: [String] {
        let names = (try? FileManager.default.subpathsOfDirectory(atPath: output)) ?? []
        return names.filter { $0.contains(".part-") || $0.contains(".tmp-") }
    }
}

extension Array where Element == UInt8 {
    /// Writes the bytes to `path`, creating its folder.
    func write(to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(self).write(to: URL(fileURLWithPath: path))
    }
}

/// A `SuperresServer` serving FSRCNN ×2 on a loopback port, run by `SuperresServer.run` in a task of its own.
struct LiveServer: Sendable {
    /// `http://127.0.0.1:<port>`.
    let url: String
    let dataFolder: TemporaryFolder
    let task: Task<Void, Never>

    /// Loads the model and waits until the server listens.
    static func start() async throws -> LiveServer {
        let data = TemporaryFolder("superres-batch-server")
        var configuration = ServerConfiguration()
        configuration.models = [BatchFixtures.model]
        configuration.dataDirectory = data.path
        configuration.port = 0
        configuration.shutdownGracePeriod = .seconds(5)
        var logger = Logger(label: "superres.batch-tests")
        logger.logLevel = .warning
        let server = try await SuperresServer.start(configuration: configuration, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            try? await server.run { port in continuation.yield(port) }
            continuation.finish()
        }
        for await port in ports {
            return LiveServer(url: "http://127.0.0.1:\(port)", dataFolder: data, task: task)
        }
        throw BatchTestError("the server stopped before it listened")
    }

    /// Jobs the server has made: their folders in its data directory.
    var jobsMade: Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataFolder.path + "/jobs")) ?? []
        return names.filter { UUID(uuidString: $0) != nil }.count
    }

    /// Stops the server (as a cancelled service group does), waiting at most 10 s for it.
    func stop() async {
        let running = task
        running.cancel()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await running.value }
            group.addTask { try? await Task.sleep(for: .seconds(10)) }
            await group.next()
            group.cancelAll()
        }
    }
}

/// Runs `body` with a live server, stopped afterwards whatever happens.
func withLiveServer(_ body: (LiveServer) async throws -> Void) async throws {
    let server = try await LiveServer.start()
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

/// Lets a progress callback stop the runner it belongs to.
final class RunnerHolder: Sendable {
    private let runner = Mutex<BatchRunner?>(nil)

    func set(_ runner: BatchRunner) { self.runner.withLock { $0 = runner } }

    func stop() { runner.withLock { $0 }?.stop() }
}

/// The progress a runner reported.
final class ProgressLog: Sendable {
    private let calls = Mutex<[(done: Int, total: Int)]>([])

    func record(_ done: Int, of total: Int) { calls.withLock { $0.append((done, total)) } }

    var done: [Int] { calls.withLock { $0.map(\.done) } }

    /// The distinct totals reported, in order.
    var totals: [Int] {
        calls.withLock { calls in
            calls.map(\.total).reduce(into: [Int]()) { totals, total in
                if totals.last != total { totals.append(total) }
            }
        }
    }
}

/// The lines a runner reported.
final class LineLog: Sendable {
    private let lines = Mutex<[String]>([])

    func record(_ line: String) { lines.withLock { $0.append(line) } }

    var all: [String] { lines.withLock { $0 } }
}

struct BatchTestError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
