import ArgumentParser
import Kernels
import Pipeline
import Server

/// How a node runs its jobs, shared by `serve` and `worker`: each flag, else its environment variable, else a default.
struct JobOptions: ParsableArguments {
    @Option(
        help:
            "Tile size in input pixels; 0 runs whole images (default: from the model's memory needs; env SUPERRES_TILE)."
    )
    var tile: Int?

    @Option(help: "Compute threads shared by the jobs (default: one per core; env SUPERRES_THREADS).")
    var threads: Int?

    @Option(
        help: "Convolution arithmetic: fp32 (default) or bf16, on CPUs with AMX or AVX-512 BF16 (env SUPERRES_PRECISION).")
    var precision: Precision?

    @Option(
        help: """
            Memory one job may use, in MiB (default: a quarter of the machine's memory, at most 1024; env \
            SUPERRES_MAX_MEMORY_MB). A job whose whole PNG or JPEG result would need more is written to the data \
            folder a band of rows at a time.
            """)
    var maxMemoryMb: Int?

    @Option(help: "Folder for job inputs and results (default ~/.local/state/superres; env SUPERRES_DATA_DIR).")
    var dataDir: String?

    @Option(help: "Longest time one image may take, in seconds (default 600; env SUPERRES_JOB_TIMEOUT).")
    var jobTimeout: Double?

    @Option(help: "Seconds a shutdown waits for running jobs (default 30; env SUPERRES_GRACE_PERIOD).")
    var gracePeriod: Double?

    /// Writes these settings into `configuration`; a value out of range is a startup error naming its flag.
    func apply(to configuration: inout ServerConfiguration, _ environment: [String: String]) throws(ServerStartupError) {
        if let value = try setting(tile, "SUPERRES_TILE", environment, Int.init) { configuration.tileSize = value }
        if let value = try setting(precision, "SUPERRES_PRECISION", environment, Precision.init(rawValue:)) {
            configuration.precision = value
        }
        if let value = try setting(maxMemoryMb, "SUPERRES_MAX_MEMORY_MB", environment, Int.init) {
            guard value > 0, value < 1 << 30 else { throw ServerStartupError("--max-memory-mb must be positive") }
            configuration.memoryPerJob = MemoryBudget(megabytes: value)
        }
        if let value = try setting(dataDir, "SUPERRES_DATA_DIR", environment, { $0 }) {
            configuration.dataDirectory = value
        }
        if let value = try setting(jobTimeout, "SUPERRES_JOB_TIMEOUT", environment, Double.init) {
            configuration.jobTimeout = try positiveDuration(seconds: value, "--job-timeout")
        }
        if let value = try setting(gracePeriod, "SUPERRES_GRACE_PERIOD", environment, Double.init) {
            guard value >= 0, value.isFinite else { throw ServerStartupError("--grace-period must be 0 or more") }
            configuration.shutdownGracePeriod = .milliseconds(Int64(value * 1000))
        }
    }

    /// Sizes the compute pool to `--threads` (or `SUPERRES_THREADS`) when one is given; an unusable value leaves it.
    func configurePool(_ environment: [String: String]) {
        if let threads = try? setting(threads, "SUPERRES_THREADS", environment, Int.init), threads > 0 {
            ComputePool.configure(threads: threads)
        }
    }
}

/// The shared PostgreSQL job store of a fleet and this node's place in it, for `serve --store` and `worker`.
struct StoreOptions: ParsableArguments {
    @Option(
        help: """
            Keep jobs, uploads and results in PostgreSQL (postgres://USER[:PASSWORD]@HOST[:PORT]/DB, or \
            postgres://USER@/DB?host=/socket/dir), shared with other nodes and `superres worker`s; with serve \
            --workers 0 a node only answers the API (env SUPERRES_STORE). See docs/SCALING.md.
            """)
    var store: String?

    @Option(
        help: """
            With --store: seconds a lease on a job lasts unless renewed, every third of it (default 30; env \
            SUPERRES_LEASE_SECONDS).
            """)
    var leaseSeconds: Double?

    @Option(help: "With --store: times a job is taken before an expired lease fails it (default 3).")
    var maxAttempts: Int?

    @Option(help: "With --store: this node's name among the workers and in /metrics (default: host name and process id).")
    var name: String?

    /// The store's location from `--store` or `SUPERRES_STORE`; nil when neither gives one.
    func location(_ environment: [String: String]) -> String? {
        textSetting(store, "SUPERRES_STORE", environment)
    }

    /// Writes the store settings into `configuration`; the lease settings without a store are a startup error.
    func apply(to configuration: inout ServerConfiguration, _ environment: [String: String]) throws(ServerStartupError) {
        configuration.store = location(environment)
        if let value = try setting(leaseSeconds, "SUPERRES_LEASE_SECONDS", environment, Double.init) {
            configuration.leaseSeconds = value
        }
        if let maxAttempts { configuration.maxAttempts = maxAttempts }
        configuration.workerName = name
        if configuration.store == nil && (leaseSeconds != nil || maxAttempts != nil || name != nil) {
            throw ServerStartupError("--lease-seconds, --max-attempts and --name need --store")
        }
    }
}
