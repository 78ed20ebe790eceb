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

    @Option(name: .customLong("model"), help: "Model file or catalogue name this worker serves; repeat for several.")
    var models: [String] = []

    @Option(help: "Jobs run at once.")
    var workers: Int = 1

    @OptionGroup var jobs: JobOptions

    @OptionGroup var fleet: StoreOptions

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        guard fleet.location(ProcessInfo.processInfo.environment) != nil else {
            printError("superres: worker: --store (or SUPERRES_STORE) is required: the PostgreSQL job store to work for")
            throw ExitCode(64)
        }
        guard workers >= 1 else {
            printError("superres: worker: --workers must be at least 1")
            throw ExitCode(64)
        }
        // A node of `serve` that does not listen: the same settings, read the same way.
        var node = try ServeCommand.parse([])
        node.models = models
        node.port = 0
        node.workers = workers
        node.jobs = jobs
        node.fleet = fleet
        node.logging = logging
        try await node.start(listening: false)
    }
}
