import ArgumentParser
import Foundation
import JobQueue
import Logging

/// `superres store`: the PostgreSQL job store's schema and its queue's capacity.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Manage the PostgreSQL job store of `serve --store` and `superres worker`.",
        subcommands: [Migrate.self, Bench.self]
    )

    /// Connects to the store, runs `body` with the queue, and closes the connections.
    static func withQueue<Value: Sendable>(
        _ location: String?, _ body: @Sendable (SharedQueue) async throws(StoreError) -> Value
    ) async throws -> Value {
        guard let text = textSetting(location, "SUPERRES_STORE", ProcessInfo.processInfo.environment), !text.isEmpty
        else {
            printError("superres: store: --store (or SUPERRES_STORE) is required")
            throw ExitCode(64)
        }
        let parsed: StoreLocation
        do {
            parsed = try StoreLocation(text)
        } catch {
            printError("superres: store: \(error.message)")
            throw ExitCode(64)
        }
        var logger = Logger(label: "superres.store")
        logger.logLevel = .error
        let queue = SharedQueue(location: parsed, logger: logger)
        let pool = Task { await queue.run() }
        defer { pool.cancel() }
        do {
            return try await body(queue)
        } catch {
            printError("superres: store: \(error.message)")
            throw ExitCode(1)
        }
    }

    /// `superres store migrate`.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring the store's schema to this build's version (what `serve --store` does at start-up).")

        @Option(help: "postgres://USER[:PASSWORD]@HOST[:PORT]/DB (env SUPERRES_STORE).")
        var store: String?

        func run() async throws {
            let versions = try await StoreCommand.withQueue(store) { queue throws(StoreError) in
                try await queue.migrate()
            }
            if versions.from == versions.to {
                print("store: schema at version \(versions.to), nothing to do")
            } else {
                print("store: schema migrated from version \(versions.from) to \(versions.to)")
            }
        }
    }

    /// `superres store bench`.
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the queue alone: trivial jobs taken, renewed and completed by concurrent takers.")

        @Option(help: "postgres://USER[:PASSWORD]@HOST[:PORT]/DB (env SUPERRES_STORE).")
        var store: String?

        @Option(help: "Concurrent takers, comma-separated.")
        var takers: String = "1,4,16"

        @Option(help: "Jobs per run.")
        var jobs: Int = 2000

        @Option(help: "Bytes of each job's input, in KiB (default: 64 bytes).")
        var inputKb: Int?

        @Option(help: "Bytes of each job's result, in KiB (default: 64 bytes).")
        var resultKb: Int?

        func run() async throws {
            let counts = takers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.allSatisfy({ (1...256).contains($0) }), (1...1_000_000).contains(jobs) else {
                printError("superres: store bench: --takers must list 1 to 256, --jobs 1 to 1000000")
                throw ExitCode(64)
            }
            guard (0...65536).contains(inputKb ?? 0), (0...65536).contains(resultKb ?? 0) else {
                printError("superres: store bench: --input-kb and --result-kb must be 0 to 65536")
                throw ExitCode(64)
            }
            let jobs = jobs
            let inputBytes = inputKb.map { $0 * 1024 } ?? 64
            let resultBytes = resultKb.map { $0 * 1024 } ?? 64
            try await StoreCommand.withQueue(store) { queue throws(StoreError) in
                try await queue.migrate()
                print("input \(inputBytes) bytes, result \(resultBytes) bytes a job")
                print("takers  jobs   seconds  jobs/s")
                for count in counts {
                    let run = try await QueueBenchmark.run(
                        queue: queue, takers: count, jobs: jobs, inputBytes: inputBytes, resultBytes: resultBytes)
                    print(
                        String(
                            format: "%6d  %5d  %7.2f  %6.0f", run.takers, run.jobs, run.seconds, run.jobsPerSecond))
                }
            }
        }
    }
}
