import ArgumentParser
import Foundation
import Logging
import Pipeline
import Server

/// `superres serve`: the HTTP service and its web page.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the web page and the HTTP API (POST /enhance, /api/v1/jobs, …).",
        discussion: """
            Every setting can also come from an environment variable (the flag wins): SUPERRES_HOST, SUPERRES_PORT, \
            SUPERRES_MODEL (comma-separated), SUPERRES_MAX_UPLOAD_MB, SUPERRES_MAX_PIXELS, SUPERRES_WORKERS, \
            SUPERRES_QUEUE, SUPERRES_DATA_DIR, SUPERRES_JOB_TIMEOUT, SUPERRES_EXPIRY, SUPERRES_GRACE_PERIOD, \
            SUPERRES_TILE, SUPERRES_THREADS, SUPERRES_PRECISION, SUPERRES_LOG_LEVEL, SUPERRES_LOG_FORMAT. Every model is loaded and checked before the server listens: \
            a missing or broken model stops it with one line on stderr and exit status 1. SIGTERM or SIGINT stop \
            it gracefully (exit status 0). See docs/OPERATIONS.md.
            """
    )

    @Option(help: "Address to listen on (default 127.0.0.1; env SUPERRES_HOST).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (default 8080; env SUPERRES_PORT).")
    var port: Int?

    @Option(
        name: .customLong("model"),
        help: """
            Model file, catalogue name, or auto (auto-x2/x3/x4: per upload, the clean model, SPAN, or SRMD with the \
            noise level its JPEG quality and noise call for, at any scale or size a request asks for; its models \
            are fetched on first use); repeat for several, the first is the default (default: auto; env \
            SUPERRES_MODEL).
            """
    )
    var models: [String] = []

    @Option(
        help: """
            Request bodies that may be in memory at once, in MB: an upload reserves its declared length before its \
            body is read, and is refused with 503 past this (default 512; env SUPERRES_MAX_INFLIGHT_MB).
            """)
    var maxInflightMb: Double?

    @Option(help: "Largest request body in MB (default 25; env SUPERRES_MAX_UPLOAD_MB).")
    var maxUploadMb: Double?

    @Option(help: "Largest input image in pixels, read from its header (default 16000000; env SUPERRES_MAX_PIXELS).")
    var maxPixels: Int?

    @Option(
        help: """
            Largest result in pixels, from the upload's header and the model's scale, refused with 413 before it is \
            queued (default 100000000; env SUPERRES_MAX_OUTPUT_PIXELS).
            """)
    var maxOutputPixels: Int?

    @Option(help: "Inference worker threads (default 1; env SUPERRES_WORKERS).")
    var workers: Int?

    @Option(help: "Images that may wait for a worker before new ones get 503 (default 16; env SUPERRES_QUEUE).")
    var queue: Int?

    @Option(help: "Hours a finished job and its files are kept (default 24; env SUPERRES_EXPIRY).")
    var expiry: Double?

    @Option(
        help: """
            Seconds a connection may send nothing (half a request, a stalled upload, idle between requests) before \
            it is closed (default 30; env SUPERRES_IDLE_TIMEOUT).
            """)
    var idleTimeout: Double?

    @Option(
        help: """
            Bytes a second a client must average while the server waits for its request, after 20 s of grace; \
            slower connections are closed (default 500; 0: none; env SUPERRES_MIN_TRANSFER_RATE).
            """)
    var minTransferRate: Int?

    @Option(
        help: """
            Connections open at once; more are closed as they arrive (default 16384, lowered to what the open-file \
            limit allows; env SUPERRES_MAX_CONNECTIONS).
            """)
    var maxConnections: Int?

    @Option(
        help: """
            Quota of the jobs' files in the data folder, in MB; a job that would go over it is refused with 507 \
            (default: none; env SUPERRES_MAX_DATA_MB).
            """)
    var maxDataMb: Double?

    @Option(
        help: """
            File of API keys, one `NAME TOKEN` per line: the API then needs `Authorization: Bearer TOKEN`, and each \
            key sees only its own jobs (default: no keys; env SUPERRES_API_KEYS_FILE).
            """)
    var apiKeysFile: String?

    @Option(
        help: """
            Requests a minute per API key (or client address) on the API, answered 429 beyond; 0: no limit \
            (default: none on a loopback address, 600 on any other; env SUPERRES_RATE_LIMIT).
            """)
    var rateLimit: Int?

    @OptionGroup var jobs: JobOptions

    @OptionGroup var fleet: StoreOptions

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try await start(listening: true)
    }

    /// Starts the node: with `listening`, the HTTP service; without, only the jobs of the store (a worker).
    func start(listening: Bool) async throws {
        let command = listening ? "serve" : "worker"
        let environment = ProcessInfo.processInfo.environment
        let configuration: ServerConfiguration
        let logger: Logger
        do throws(ServerStartupError) {
            configuration = try resolve(environment)
            logger = try logging.makeLogger(environment)
        } catch {
            printError("superres: \(command): \(error)")
            throw ExitCode(64)
        }
        jobs.configurePool(environment)
        // `auto` serves every size, so it loads the networks of every scale: fetch the missing ones first.
        if configuration.models.contains(where: { AutoModelName($0) != nil }) {
            try await FirstUseFetch.fetch(FirstUseFetch.missing(AutoModels.modelNames(for: nil)))
        }
        do {
            let server = try await SuperresServer.start(configuration: configuration, logger: logger)
            if listening {
                try await server.run()
            } else {
                try await server.runWithoutListening()
            }
        } catch {
            printError("superres: \(command): \(error)")
            throw ExitCode(1)
        }
    }

    /// The model served when neither `--model` nor `SUPERRES_MODEL` names one.
    static let defaultModel = "auto"

    /// Flags, then environment variables, then defaults.
    func resolve(_ environment: [String: String]) throws(ServerStartupError) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let value = try setting(host, "SUPERRES_HOST", environment, { $0 }) { configuration.host = value }
        if let value = try setting(port, "SUPERRES_PORT", environment, Int.init) { configuration.port = value }
        if !models.isEmpty {
            configuration.models = models
        } else if let list = environment["SUPERRES_MODEL"], !list.isEmpty {
            configuration.models = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        } else {
            // The default: auto ×3, SPAN for clean uploads and SRMD for compressed or noisy ones, at any size asked
            // for (fetched into the model store on first use).
            configuration.models = [ServeCommand.defaultModel]
        }
        if let value = try setting(maxUploadMb, "SUPERRES_MAX_UPLOAD_MB", environment, Double.init) {
            guard value > 0, value < 1e6 else { throw ServerStartupError("--max-upload-mb must be positive") }
            configuration.maxUploadBytes = Int(value * 1_048_576)
        }
        if let value = try setting(maxInflightMb, "SUPERRES_MAX_INFLIGHT_MB", environment, Double.init) {
            guard value > 0, value < 1e6 else { throw ServerStartupError("--max-inflight-mb must be positive") }
            configuration.maxInflightUploadBytes = Int(value * 1_048_576)
        }
        if let value = try setting(maxPixels, "SUPERRES_MAX_PIXELS", environment, Int.init) {
            configuration.maxPixels = value
        }
        if let value = try setting(maxOutputPixels, "SUPERRES_MAX_OUTPUT_PIXELS", environment, Int.init) {
            guard value > 0 else { throw ServerStartupError("--max-output-pixels must be positive") }
            configuration.maxOutputPixels = value
        }
        if let value = try setting(workers, "SUPERRES_WORKERS", environment, Int.init) { configuration.workers = value }
        if let value = try setting(queue, "SUPERRES_QUEUE", environment, Int.init) {
            configuration.queueCapacity = value
        }
        if let value = try setting(expiry, "SUPERRES_EXPIRY", environment, Double.init) {
            configuration.expiry = try positiveDuration(seconds: value * 3600, "--expiry")
        }
        if let value = try setting(idleTimeout, "SUPERRES_IDLE_TIMEOUT", environment, Double.init) {
            guard value > 0, value <= 86_400 else { throw ServerStartupError("--idle-timeout must be 0 < s ≤ 86400") }
            configuration.idleTimeout = .milliseconds(Int64(value * 1000))
        }
        if let value = try setting(minTransferRate, "SUPERRES_MIN_TRANSFER_RATE", environment, Int.init) {
            configuration.minTransferRate = value
        }
        if let value = try setting(maxConnections, "SUPERRES_MAX_CONNECTIONS", environment, Int.init) {
            configuration.maxConnections = value
        }
        if let value = try setting(maxDataMb, "SUPERRES_MAX_DATA_MB", environment, Double.init) {
            guard value > 0, value < 1e9 else { throw ServerStartupError("--max-data-mb must be positive") }
            configuration.maxDataBytes = Int(value * 1_048_576)
        }
        if let path = try setting(apiKeysFile, "SUPERRES_API_KEYS_FILE", environment, { $0 }) {
            configuration.apiKeys = try APIKeys(contentsOf: path)
        }
        if let value = try setting(rateLimit, "SUPERRES_RATE_LIMIT", environment, Int.init) {
            configuration.rateLimitPerMinute = value
        }
        try jobs.apply(to: &configuration, environment)
        try fleet.apply(to: &configuration, environment)
        return configuration
    }
}
