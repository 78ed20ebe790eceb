import ArgumentParser
import Foundation

/// `superres worker`: takes jobs of its models from the shared store and runs them; no HTTP listener.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Take jobs from a PostgreSQL job store (see `serve --store`) and run them.",
        discussion: """
            Jobs are taken with a lease that the worker renews while it works; a worker that dies loses its lease \
            and the job goes back to the queue (up to --max-attempts times). Only jobs of the models given here are \
            taken. SIGTERM or SIGINT: no new jobs, the jobs in hand get the grace period, the rest go back to the \
            queue. See docs/SCALING.md.
            """
    )

    @Option(help: "The job store: postgres://USER[:PASSWORD]@HOST[:PORT]/DB (env SUPERRES_STORE).")
    var store: String?

    @Option(name: .customLong("model"), help: "Model file or catalogue name this worker serves; repeat for several.")
    var models: [String] = []

    @Option(help: "Jobs run at once (default 1).")
    var workers: Int = 1

    @Option(help: "Compute threads shared by the jobs (default: one per core; env SUPERRES_THREADS).")
    var threads: Int?

    @Option(help: "Tile size in input pixels (default: from each model's memory needs).")
    var tile: Int?

    @Option(help: "Seconds a lease lasts unless renewed; renewed every third of it (default 30).")
    var leaseSeconds: Double?

    @Option(help: "Times a job is taken before an expired lease fails it (default 3).")
    var maxAttempts: Int?

    @Option(help: "This worker's name in the store and in /metrics (default: host name and process id).")
    var name: String?

    @Option(help: "Folder for the results being written (default ~/.local/state/superres; env SUPERRES_DATA_DIR).")
    var dataDir: String?

    @Option(help: "Longest time one image may take, in seconds (default 600).")
    var jobTimeout: Double?

    @Option(help: "Memory one job may use, in MiB (default: a quarter of the machine's memory, at most 1024).")
    var maxMemoryMb: Int?

    @Option(help: "Seconds a shutdown waits for the jobs in hand (default 30).")
    var gracePeriod: Double?

    @Option(help: "Convolution arithmetic: fp32 (default) or bf16.")
    var precision: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let store = store ?? environment["SUPERRES_STORE"], !store.isEmpty else {
            printError("superres: worker: --store (or SUPERRES_STORE) is required: the PostgreSQL job store to work for")
            throw ExitCode(64)
        }
        var arguments = ["--store", store, "--workers", String(workers), "--port", "0"]
        for model in models { arguments += ["--model", model] }
        let optional: [(String, String?)] = [
            ("--threads", threads.map(String.init)), ("--tile", tile.map(String.init)),
            ("--lease-seconds", leaseSeconds.map { String($0) }), ("--max-attempts", maxAttempts.map(String.init)),
            ("--name", name), ("--data-dir", dataDir), ("--job-timeout", jobTimeout.map { String($0) }),
            ("--max-memory-mb", maxMemoryMb.map(String.init)), ("--grace-period", gracePeriod.map { String($0) }),
            ("--precision", precision),
        ]
        for case (let flag, let value?) in optional { arguments += [flag, value] }
        arguments += logging.arguments
        guard workers >= 1 else {
            printError("superres: worker: --workers must be at least 1")
            throw ExitCode(64)
        }
        let serve: ServeCommand
        do {
            serve = try ServeCommand.parse(arguments)
        } catch {
            printError("superres: worker: \(ServeCommand.message(for: error))")
            throw ExitCode(64)
        }
        try await serve.start(listening: false)
    }
}
