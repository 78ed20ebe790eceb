import Foundation
import ModelStore
import Models
import TestSupport
import Testing

/// Pulls through a stand-in transport serving shared/models/opencv, with the broken answers a network can give
/// (`HTTPDownloadTests` runs the real HTTP client against a real server).
@Suite(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
struct CatalogueStoreTests {
    static let name = "espcn-x2"
    var entry: ModelCatalogue.Entry { ModelCatalogue.entry(named: Self.name)! }
    var original: Data { FileManager.default.contents(atPath: SharedData.path("models/opencv/ESPCN_x2.pb"))! }

    /// Options that send downloads to `server`.
    func options(_ server: StubTransport) -> ModelStore.PullOptions {
        var options = ModelStore.PullOptions(environment: [:])
        options.baseURL = server.baseURL
        options.connectTimeout = 5
        options.idleTimeout = 5
        options.transport = server
        return options
    }

    @Test func storeFolderFollowsTheEnvironment() {
        #expect(
            ModelStore.directory(environment: ["SUPERRES_MODELS": "/m", "XDG_DATA_HOME": "/x", "HOME": "/h"]) == "/m"
        )
        #expect(ModelStore.directory(environment: ["XDG_DATA_HOME": "/x", "HOME": "/h"]) == "/x/superres/models")
        #expect(
            ModelStore.directory(environment: ["XDG_DATA_HOME": "rel", "HOME": "/h"])
                == "/h/.local/share/superres/models"
        )
        #expect(ModelStore.directory(environment: ["HOME": "/h"]) == "/h/.local/share/superres/models")
    }

    @Test func pullVerifyLocateAndLoad() async throws {
        let server = StubTransport(routes: ["/ESPCN_x2.pb": .body(original)])
        let store = TemporaryFolder()
        let progressSeen = ProgressRecorder()
        var options = options(server)
        options.progress = { name, done, total in progressSeen.record(name, done, total) }

        let outcome = try await ModelStore.pull(entry, into: store.path, options: options)
        let installed = store.appending("ESPCN_x2.pb")
        #expect(outcome == .installed(installed))
        #expect(store.contents() == ["ESPCN_x2.pb"])
        #expect(FileManager.default.contents(atPath: installed) == original)
        #expect(server.requests == ["/ESPCN_x2.pb"])
        #expect(progressSeen.last?.0 == Self.name)
        #expect(progressSeen.last?.1 == 86_446 && progressSeen.last?.2 == 86_446)
        #expect(ModelStore.verify(entry, in: store.path) == .ok)
        #expect(ModelStore.state(of: entry, in: store.path) == .installed)
        #expect(try ModelStore.locate(Self.name, in: store.path) == installed)

        // Pulling again finds the verified copy and downloads nothing.
        #expect(try await ModelStore.pull(entry, into: store.path, options: options) == .alreadyInstalled(installed))
        #expect(server.requests.count == 1)
        // --force downloads again.
        options.force = true
        #expect(try await ModelStore.pull(entry, into: store.path, options: options) == .installed(installed))
        #expect(server.requests.count == 2)
        #expect(store.contents() == ["ESPCN_x2.pb"])

        let model = try ModelLoader.load(path: installed)
        #expect(model.family == .espcn && model.scale == 2)
    }

    @Test func corruptedDownloadLeavesNothing() async throws {
        var corrupted = original
        corrupted[corrupted.count / 2] ^= 0x40
        let server = StubTransport(routes: ["/ESPCN_x2.pb": .body(corrupted)])
        let store = TemporaryFolder()
        let error = await #expect(throws: ModelStoreError.self) {
            try await ModelStore.pull(entry, into: store.path, options: options(server))
        }
        #expect(error?.code == .checksumMismatch)
        #expect(error?.description.contains("59f77351e1d7c0057bf6fe088b4a8a07e42c468c8c8aebb674a6b4ea1823221d") == true)
        #expect(store.contents().isEmpty)
        #expect(ModelStore.verify(entry, in: store.path) == .missing)
    }

    @Test func announcedSizeMismatchIsRefused() async throws {
        let server = StubTransport(routes: [
            "/ESPCN_x2.pb": .wrongLength(original + Data(count: 10), contentLength: original.count + 10)
        ])
        let store = TemporaryFolder()
        let error = await #expect(throws: ModelStoreError.self) {
            try await ModelStore.pull(entry, into: store.path, options: options(server))
        }
        #expect(error?.code == .sizeMismatch)
        #expect(error?.message.contains("announced 86456 bytes, expected 86446") == true)
        #expect(store.contents().isEmpty)
    }

    /// A Content-Length shorter than the file: the client stops where the header says, and the size check fails.
    @Test func shortContentLengthGivesWrongSize() async throws {
        let server = StubTransport(routes: [
            "/ESPCN_x2.pb": .wrongLength(original, contentLength: original.count - 1000)
        ])
        let store = TemporaryFolder()
        let error = await #expect(throws: ModelStoreError.self) {
            try await ModelStore.pull(entry, into: store.path, options: options(server))
        }
        #expect(error?.code == .sizeMismatch)
        #expect(store.contents().isEmpty)
    }

    /// With no Content-Length the transfer is still bounded by the catalogue's size.
    @Test func unannouncedOversizedBodyIsCutOff() async throws {
        let server = StubTransport(routes: ["/ESPCN_x2.pb": .unannounced(original + Data(count: 200_000))])
        let store = TemporaryFolder()
        let error = await #expect(throws: ModelStoreError.self) {
            try await ModelStore.pull(entry, into: store.path, options: options(server))
        }
        #expect(error?.code == .sizeMismatch)
        #expect(error?.message.contains("more than the expected 86446 bytes") == true)
        #expect(store.contents().isEmpty)
    }

    @Test func droppedConnectionLeavesNothing() async throws {
        let server = StubTransport(routes: ["/ESPCN_x2.pb": .drop(original, afterBytes: original.count / 2)])
        let store = TemporaryFolder()
        let error = await #expect(throws: ModelStoreError.self) {
            try await ModelStore.pull(entry, into: store.path, options: options(server))
        }
        #expect(error?.code == .network || error?.code == .sizeMismatch)
        #expect(store.contents().isEmpty)
        #expect(error?.remedy?.contains("Nothing was installed") == true)
    }

    @Test func httpErrorStatusIsReported() async throws {
        let server = StubTransport(routes: [:])
        let store = TemporaryFolder()
        let error = await #expect(throws: ModelStoreError.self) {
            try await ModelStore.pull(entry, into: store.path, options: options(server))
        }
        #expect(error?.code == .badResponse)
        #expect(error?.message.contains("HTTP 404") == true)
        #expect(store.contents().isEmpty)
    }

    /// Connection refused (the host is offline): fails at once, naming the URL, the folder and the file.
    @Test func offlinePullFailsFastWithInstructions() async throws {
        let server = StubTransport(routes: [:], refusing: true)
        let store = TemporaryFolder()
        let modelsFolder = store.appending("models")
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: ModelStoreError.self) {
            try await ModelStore.pull(entry, into: modelsFolder, options: options(server))
        }
        let elapsed = clock.now - start
        #expect(elapsed < .seconds(10))
        #expect(error?.code == .network)
        let text = error?.description ?? ""
        #expect(text.contains("http://127.0.0.1:\(server.port)/ESPCN_x2.pb"))
        #expect(text.contains(entry.downloadURL()!.absoluteString), "the canonical URL")
        #expect(text.contains("in the folder \(modelsFolder) as the file ESPCN_x2.pb"))
        #expect(text.contains("superres models pull espcn-x2"))
        #expect(store.contents(of: modelsFolder).isEmpty)
    }

    @Test func locateResolvesPathsAndExplainsMissingModels() async throws {
        let store = TemporaryFolder()
        let file = SharedData.path("models/opencv/FSRCNN_x3.pb")
        #expect(try ModelStore.locate(file, in: store.path) == file)

        let missing = #expect(throws: ModelError.self) { try ModelStore.locate("lapsrn-x4", in: store.path) }
        #expect(missing?.description.contains("superres models pull lapsrn-x4") == true)
        #expect(missing?.description.contains(store.path) == true)

        let unknown = #expect(throws: ModelError.self) { try ModelStore.locate("nosuchmodel-x9", in: store.path) }
        #expect(unknown?.description.contains("superres models list") == true)
        let noFile = #expect(throws: ModelError.self) { try ModelStore.locate("/no/such/model.pb", in: store.path) }
        #expect(noFile?.message == "no such file")

        // A truncated copy is reported as damaged, not handed to the loader.
        try Data(count: 100).write(to: URL(fileURLWithPath: store.appending("LapSRN_x4.pb")))
        let damaged = #expect(throws: ModelError.self) { try ModelStore.locate("lapsrn-x4", in: store.path) }
        #expect(damaged?.description.contains("damaged") == true)
    }

    @Test func installFromAFileAndVerifyDetectsCorruption() async throws {
        let store = TemporaryFolder()
        let fsrcnn = try #require(ModelCatalogue.entry(named: "fsrcnn-small-x4"))
        let source = SharedData.path("models/opencv/FSRCNN-small_x4.pb")
        let installed = try ModelStore.install(fsrcnn, from: source, into: store.path)
        #expect(installed == store.appending("FSRCNN-small_x4.pb"))
        #expect(ModelStore.verify(fsrcnn, in: store.path) == .ok)

        // The wrong file (right name, other content) is refused and the good copy stays.
        let wrong = #expect(throws: ModelStoreError.self) {
            try ModelStore.install(fsrcnn, from: SharedData.path("models/opencv/FSRCNN-small_x3.pb"), into: store.path)
        }
        #expect(wrong?.code == .sizeMismatch)
        #expect(store.contents() == ["FSRCNN-small_x4.pb"])

        // Flip one byte in place: same size, so only the re-hash notices.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: installed))
        try handle.seek(toOffset: 5000)
        let byte = try #require(try handle.read(upToCount: 1))
        try handle.seek(toOffset: 5000)
        try handle.write(contentsOf: Data([byte[0] ^ 1]))
        try handle.close()
        #expect(ModelStore.state(of: fsrcnn, in: store.path) == .installed)
        guard case .corrupt(let why) = ModelStore.verify(fsrcnn, in: store.path) else {
            Issue.record("a flipped byte must make the copy corrupt")
            return
        }
        #expect(why.contains("92a9f57c28494813b4dc073b51a300cb909401454d77541bcdc96b4d55901d02"))
    }

    @Test func loaderResolvesNames() async throws {
        let store = TemporaryFolder()
        let fsrcnn = try #require(ModelCatalogue.entry(named: "fsrcnn-x2"))
        try ModelStore.install(fsrcnn, from: SharedData.path("models/opencv/FSRCNN_x2.pb"), into: store.path)
        let byName = try ModelLoader.load(nameOrPath: "fsrcnn-x2", store: store.path)
        #expect(byName.family == .fsrcnn && byName.scale == 2 && byName.source == store.appending("FSRCNN_x2.pb"))
        let file = SharedData.path("models/opencv/ESPCN_x3.pb")
        let byPath = try ModelLoader.load(nameOrPath: file, scale: 3, store: store.path)
        #expect(byPath.family == .espcn && byPath.source == file)
        let wrongScale = #expect(throws: ModelError.self) {
            try ModelLoader.load(nameOrPath: "fsrcnn-x2", scale: 3, store: store.path)
        }
        #expect(wrongScale?.code == .mismatch)
        let notInstalled = #expect(throws: ModelError.self) {
            try ModelLoader.load(nameOrPath: "espcn-x4", store: store.path)
        }
        #expect(notInstalled?.description.contains("superres models pull espcn-x4") == true)

        // An ncnn entry (here: zero-filled files of the right sizes) goes to the ncnn reader, which refuses them.
        let srmdnf = try #require(ModelCatalogue.entry(named: "srmdnf-x3"))
        let folder = ModelStore.folder(of: srmdnf, in: store.path)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (file, path) in zip(srmdnf.files, ModelStore.paths(of: srmdnf, in: store.path)) {
            try Data(count: file.size).write(to: URL(fileURLWithPath: path))
        }
        #expect(try ModelStore.locate("srmdnf-x3", in: store.path) == folder + "/srmdnf_x3.param")
        let ncnn = #expect(throws: ModelError.self) { try ModelLoader.load(nameOrPath: "srmdnf-x3", store: store.path) }
        #expect(ncnn?.code == .malformed)
        #expect(ncnn?.source.hasSuffix("srmdnf_x3.param") == true)
        #expect(ModelStore.verify(srmdnf, in: store.path) != .ok)
    }
}

/// Keeps the last progress report of a download (reports come from a background thread).
final class ProgressRecorder: @unchecked Sendable {
    // `@unchecked Sendable`: `lock` guards `reports`.
    private let lock = NSLock()
    private var reports: [(String, Int, Int)] = []

    func record(_ name: String, _ done: Int, _ total: Int) { lock.withLock { reports.append((name, done, total)) } }

    var last: (String, Int, Int)? { lock.withLock { reports.last } }
}
