import Foundation

/// Runs the built `superres` executable, as a user would, and captures what it prints.
package enum CommandRunner {
    /// The outcome of one run.
    package struct Result: Sendable {
        /// The exit status of the process (0 on success).
        package let status: Int32
        /// Everything the process wrote to standard output, as UTF-8 text.
        package let standardOutput: String
        /// Everything the process wrote to standard error, as UTF-8 text.
        package let standardError: String
        /// Standard output as bytes (for binary output).
        package let outputBytes: Data
    }

    /// The `superres` binary next to the test bundle (`swift test` builds it into the same folder).
    package static var binary: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = testBinary.deletingLastPathComponent()
        // On Linux the test runner is `<config>/superresPackageTests.xctest`; on macOS it sits inside a bundle.
        while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("superres").path),
            folder.pathComponents.count > 1
        {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("superres")
    }

    /// Whether the binary exists (it does whenever `swift test` built everything).
    package static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: binary.path) }

    /// Runs `superres` with `arguments` and the extra `environment`, waiting at most `timeout` seconds; `during`
    /// is called with the running process once it has started (to signal it, say).
    package static func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 120,
        during: (Process) -> Void = { _ in }
    ) throws -> Result {
        try runProgram(binary, arguments, environment: environment, timeout: timeout, during: during)
    }

    /// Runs the program at `executable` (a checker such as exiftool or transicc, or superres) with `arguments`, the
    /// extra `environment` and `input` on its standard input, waiting at most `timeout` seconds.
    package static func runProgram(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:], input: Data? = nil,
        timeout: TimeInterval = 120, during: (Process) -> Void = { _ in }
    ) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let feed = input.map { _ in Pipe() }
        process.standardInput = feed ?? FileHandle.nullDevice
        try process.run()
        if let feed, let input {
            // Written from another thread, so that a program that answers as it reads never blocks both sides.
            let writer = Thread {
                feed.fileHandleForWriting.write(input)
                try? feed.fileHandleForWriting.close()
            }
            writer.start()
        }
        // Drain both pipes while the process runs so a chatty child never blocks.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        during(process)
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            group.wait()
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self), outputBytes: outData)
    }

    /// A fresh empty folder under the temporary directory, removed by the caller.
    package static func temporaryFolder(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "superres-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
