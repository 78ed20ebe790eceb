import Foundation
import Models

/// Runs the helper programs the store relies on (`python3 -m pip`, `unzip`) as subprocesses.
enum HelperProgram {
    /// How a helper ended.
    struct Outcome {
        var status: Int32
        /// Its standard output and error together (empty when they were passed through to ours).
        var output: String

        /// The last `count` non-empty lines of the output, for an error message.
        func tail(_ count: Int = 4) -> String {
            output.split(whereSeparator: \.isNewline).suffix(count).joined(separator: "\n")
        }
    }

    /// The full path of `name` (or `name` itself if it contains a slash) when it is an executable file.
    static func find(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let fileManager = FileManager.default
        if name.contains("/") { return fileManager.isExecutableFile(atPath: name) ? name : nil }
        let searchPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in searchPath.split(separator: ":") where !folder.isEmpty {
            let candidate = (String(folder) as NSString).appendingPathComponent(name)
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` with `arguments` to the end. With `passThrough`, its output goes to our standard error
    /// (where the user watches pip's progress); otherwise it is collected.
    static func run(
        _ executable: String,
        _ arguments: [String],
        passThrough: Bool = false,
        model: String
    ) throws(ModelStoreError) -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        if passThrough {
            process.standardOutput = FileHandle.standardError
            process.standardError = FileHandle.standardError
        } else {
            process.standardOutput = pipe
            process.standardError = pipe
        }
        do {
            try process.run()
        } catch {
            throw ModelStoreError(.toolFailed, model: model, "cannot run \(executable)", underlying: error)
        }
        var output = Data()
        if !passThrough {
            // Reading to the end before waiting keeps a chatty child from blocking on a full pipe.
            try? pipe.fileHandleForWriting.close()
            output = pipe.fileHandleForReading.readDataToEndOfFile()
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self))
    }
}
