import Foundation
import Hummingbird
import JobQueue
import Kernels
import Logging
import Models
import NIOCore
import Pipeline
import ServiceLifecycle
import Synchronization

/// The `superres serve` service: models, workers, jobs and routes, ready to be run by Hummingbird.
///
/// `start` loads and checks every model and restores the jobs of the data directory before anything listens, so
/// that a bad model stops the server with one clear error. `run()` then serves until SIGTERM or SIGINT.
package final class SuperresServer: Sendable {
    /// The resolved settings (flags, environment, defaults) this server was started with.
    package let configuration: ServerConfiguration
    /// The models loaded and checked at start-up that requests can choose from; the first is the default.
    package let models: ModelRegistry
    let logger: Logger
    let metrics: ServerMetrics
    /// The inference workers: `configuration.workers` threads.
    let workers: WorkerThreads
    /// Two threads for blocking file work (storing uploads, job records, sweeping).
    let io: WorkerThreads
    let admission: AdmissionQueue
    /// The request bodies that may be in memory at once (`--max-inflight-mb`).
    let uploadBudget: UploadBudget
    /// The connections open at once (`--max-connections`).
    let connections: ConnectionLimiter
    /// Requests a minute per caller (`--rate-limit`); nil when there is no limit.
    let rateLimiter: RateLimiter?
    let engine: UpscaleEngine
    let store: JobStore
    let web: WebResources
    /// The model catalogue and what of it is installed, as at start-up.
    let catalogue: [CatalogueListing]
    /// The shared job store's side of this node (`--store`); nil keeps jobs in this process and its data folder.
    let fleet: FleetCoordinator?
    /// Whether the server takes work (false before start-up finishes and from the start of a shutdown).
    let ready = Atomic<Bool>(false)
    /// Tokens of the `POST /enhance` upscales in flight, so that a shutdown can stop them.
    private let enhanceTokens = Mutex<[Int: CancelToken]>([:])
    private let nextToken = Atomic<Int>(0)

    private init(
        configuration: ServerConfiguration,
        models: ModelRegistry,
        logger: Logger,
        workers: WorkerThreads,
        io: WorkerThreads,
        store: JobStore,
        web: WebResources,
        catalogue: [CatalogueListing],
        fleet: FleetCoordinator?
    ) {
        self.configuration = configuration
        self.models = models
        self.logger = logger
        self.workers = workers
        self.io = io
        self.store = store
        self.web = web
        self.catalogue = catalogue
        self.fleet = fleet
        metrics = ServerMetrics()
        admission = AdmissionQueue(workers: max(1, configuration.workers), capacity: configuration.queueCapacity)
        uploadBudget = UploadBudget(capacity: configuration.maxInflightUploadBytes)
        connections = ConnectionLimiter(capacity: configuration.maxConnections)
        let rateLimit = configuration.effectiveRateLimit
        rateLimiter = rateLimit > 0 ? RateLimiter(perMinute: rateLimit) : nil
        engine = UpscaleEngine(
            workers: workers,
            admission: admission,
            metrics: metrics,
            maxPixels: configuration.maxPixels,
            timeout: configuration.jobTimeout,
            memory: configuration.memoryPerJob,
            logger: logger
        )
    }

    /// Checks the settings, loads and checks the models (on the inference threads), prepares the data directory and
    /// restores its jobs. Nothing listens yet.
    ///
    /// `loader` turns each `--model` value into a model, its file and its name (by default: a file path, or a
    /// catalogue name installed in the model store, in the configuration's precision).
    package static func start(
        configuration: ServerConfiguration,
        logger: Logger = Logger(label: "superres.server"),
        loader: ModelRegistry.Loader? = nil
    ) async throws(ServerStartupError) -> SuperresServer {
        let precision = configuration.precision
        let loader =
            loader ?? { specification in
                try ModelRegistry.loadFileOrCatalogueModel(specification, precision: precision)
            }
        try validate(configuration)
        var configuration = configuration
        let (connections, openFiles) = OpenFileLimit.fit(connections: configuration.maxConnections)
        if connections < configuration.maxConnections {
            logger.warning(
                "the open-file limit holds fewer connections than --max-connections: raise `ulimit -Hn`",
                metadata: [
                    "max_connections": "\(configuration.maxConnections)", "open_file_limit": "\(openFiles)",
                    "connections": "\(connections)",
                ])
            configuration.maxConnections = connections
        }
        let workers = WorkerThreads(count: max(1, configuration.workers))
        let io = WorkerThreads(count: 2)
        let specifications = configuration.models
        let options = UpscaleOptions(tileSize: configuration.tileSize)
        let models: ModelRegistry
        do {
            models = try await workers.run { () throws -> ModelRegistry in
                try ModelRegistry.load(specifications, options: options, using: loader)
            }
        } catch let error as ServerStartupError {
            throw error
        } catch {
            throw ServerStartupError("\(error)")
        }
        for model in models.models {
            logger.info(
                "model loaded and checked",
                metadata: [
                    "model": "\(model.name)", "family": "\(model.familyName)", "scale": "\(model.scale)",
                    "path": "\(model.path)", "precision": "\(precision.rawValue)",
                ]
            )
        }
        let dataDirectory = configuration.dataDirectory
        let expiry = configuration.expiry
        let prepared:
            Result<(JobStore, WebResources, [CatalogueListing], JobStore.Restored), ServerStartupError> =
                await io.run {
                    do {
                        let store = try JobStore(dataDirectory: dataDirectory, expiry: expiry)
                        let restored = store.restore(logger: logger)
                        let web = try WebResources.load()
                        let catalogue = CatalogueListing.current(loaded: models)
                        return .success((store, web, catalogue, restored))
                    } catch let error as ServerStartupError {
                        return .failure(error)
                    } catch {
                        return .failure(ServerStartupError("\(error)"))
                    }
                }
        let (store, web, catalogue, restored) = try prepared.get()
        var fleet: FleetCoordinator?
        if let location = configuration.store {
            fleet = try await FleetCoordinator.connect(location, configuration: configuration, logger: logger)
        }
        logger.info(
            "data directory ready",
            metadata: [
                "path": "\(dataDirectory)", "jobs.restored": "\(restored.restored)",
                "jobs.resumed": "\(restored.resumable.count)", "jobs.lost": "\(restored.lost)",
            ]
        )
        let server = SuperresServer(
            configuration: configuration,
            models: models,
            logger: logger,
            workers: workers,
            io: io,
            store: store,
            web: web,
            catalogue: catalogue,
            fleet: fleet
        )
        let access: Logger.Metadata = [
            "host": "\(configuration.host)", "api.keys": "\(configuration.apiKeys?.keys.count ?? 0)",
            "rate_limit_per_minute": "\(configuration.effectiveRateLimit)",
        ]
        if configuration.apiKeys == nil && !ServerConfiguration.isLoopback(configuration.host) {
            logger.warning(
                "the API is open to every client that can reach this address: pass --api-keys-file to require keys",
                metadata: access)
        } else {
            logger.info("access control", metadata: access)
        }
        for job in restored.resumable { await server.resume(job) }
        server.ready.store(true, ordering: .releasing)
        return server
    }

    /// Refuses settings that cannot work.
    static func validate(_ configuration: ServerConfiguration) throws(ServerStartupError) {
        if !(0...65535).contains(configuration.port) {
            throw ServerStartupError("--port \(configuration.port) is not a TCP port (0...65535)")
        }
        if configuration.store == nil && configuration.workers < 1 {
            throw ServerStartupError("--workers must be at least 1 (0 only with --store: an API node)")
        }
        if configuration.workers < 0 { throw ServerStartupError("--workers must be 0 or more") }
        if !(configuration.leaseSeconds >= 2 && configuration.leaseSeconds <= 3600) {
            throw ServerStartupError("--lease-seconds must be 2 to 3600")
        }
        if !(1...100).contains(configuration.maxAttempts) {
            throw ServerStartupError("--max-attempts must be 1 to 100")
        }
        if configuration.queueCapacity < 0 { throw ServerStartupError("--queue must be 0 or more") }
        if configuration.maxUploadBytes < 1 { throw ServerStartupError("--max-upload-mb must be positive") }
        if configuration.maxPixels < 1 { throw ServerStartupError("--max-pixels must be positive") }
        if configuration.maxInflightUploadBytes < configuration.maxUploadBytes {
            throw ServerStartupError("--max-inflight-mb must be at least --max-upload-mb (one upload must fit)")
        }
        if configuration.maxOutputPixels < 1 { throw ServerStartupError("--max-output-pixels must be positive") }
        if configuration.maxConnections < 1 { throw ServerStartupError("--max-connections must be at least 1") }
        if configuration.jobTimeout <= .zero { throw ServerStartupError("--job-timeout must be positive") }
        if configuration.expiry <= .zero { throw ServerStartupError("--expiry must be positive") }
        if let tile = configuration.tileSize, tile < 0 { throw ServerStartupError("--tile must be 0 or more") }
        if !(0...1 << 30).contains(configuration.minTransferRate) {
            throw ServerStartupError("--min-transfer-rate must be 0 (none) or a positive number of bytes a second")
        }
        if configuration.transferGrace <= .zero { throw ServerStartupError("the transfer grace must be positive") }
        if let limit = configuration.rateLimitPerMinute, !(0...1_000_000).contains(limit) {
            throw ServerStartupError("--rate-limit must be 0 (no limit) to 1000000 requests a minute")
        }
    }

    /// Whether the server takes work.
    package var isReady: Bool { ready.load(ordering: .acquiring) }

    /// The HTTP application. With `includingJobService`, the job sweeper and drain run inside it (for tests);
    /// `run()` instead runs them beside it so that a shutdown drains the jobs before the listener closes.
    package func makeApplication(
        includingJobService: Bool = true,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let logger = logger
        let host = configuration.host
        let connections = connections
        let idle = configuration.idleTimeout.components
        let idleNanoseconds = idle.seconds * 1_000_000_000 + idle.attoseconds / 1_000_000_000
        let minimumRate = configuration.minTransferRate
        let grace = configuration.transferGrace.components
        let graceAmount = TimeAmount.nanoseconds(grace.seconds * 1_000_000_000 + grace.attoseconds / 1_000_000_000)
        let perConnection: @Sendable () -> [any RemovableChannelHandler] = {
            var handlers: [any RemovableChannelHandler] = [connections.handler(), ConnectionWatcher()]
            if minimumRate > 0 { handlers.append(TransferRateGuard(minimumRate: minimumRate, grace: graceAmount)) }
            return handlers
        }
        return Application(
            router: makeRouter(),
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: perConnection(),
                    idleTimeout: .nanoseconds(idleNanoseconds))),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: configuration.serverName
            ),
            services: includingJobService ? [jobService] : [],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.notice("listening", metadata: ["url": "http://\(host):\(port)/"])
                await onServerRunning(port)
            },
            logger: logger
        )
    }

    /// The service that expires old jobs and, on shutdown, drains the running ones.
    package var jobService: JobService { JobService(server: self) }

    /// Serves until SIGTERM or SIGINT, then stops taking work, lets running jobs finish within the grace period
    /// (stopping the rest, which are recorded as interrupted) and closes the listener.
    package func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let application = makeApplication(includingJobService: false, onServerRunning: onServerRunning)
        // Services shut down in reverse order: the job service drains first, while the listener still answers
        // (with 503 for new work); then the listener closes.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [application, jobService],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// Runs only the jobs of the shared store (a `superres worker`: no HTTP listener) until SIGTERM or SIGINT, then
    /// lets the jobs in hand finish within the grace period and gives the rest back to the queue.
    package func runWithoutListening() async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [jobService], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    // MARK: - Shutdown

    /// Stops taking work, waits up to the grace period for the work in flight, then stops what is left at its next
    /// tile and waits for the workers to let go.
    func drain() async {
        ready.store(false, ordering: .releasing)
        await admission.close()
        let inFlight = await admission.inFlight
        logger.notice(
            "shutting down: no new work is taken",
            metadata: [
                "in_flight": "\(inFlight)",
                "grace_seconds": "\(ServerConfiguration.seconds(configuration.shutdownGracePeriod))",
            ]
        )
        let clock = ContinuousClock()
        let graceEnd = clock.now.advanced(by: configuration.shutdownGracePeriod)
        while await admission.inFlight > 0, clock.now < graceEnd {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let left = await admission.inFlight
        if left > 0 {
            logger.warning("grace period over: stopping the work still in flight", metadata: ["in_flight": "\(left)"])
            for job in store.all where !job.record.state.isFinished { job.token.cancel(.shutdown) }
            fleet?.stopHeldJobs()
            for token in enhanceTokens.withLock({ Array($0.values) }) { token.cancel(.shutdown) }
            // Workers stop at their next tile; a tile can take a while on a big image, so wait a bounded time.
            let stopEnd = clock.now.advanced(by: .seconds(30))
            while await admission.inFlight > 0, clock.now < stopEnd {
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        let stuck = await admission.inFlight
        if stuck > 0 {
            logger.error(
                "work still running at exit; its jobs will be reported as interrupted at the next start",
                metadata: ["in_flight": "\(stuck)"]
            )
        } else {
            logger.notice("all work finished or stopped")
        }
    }

    /// Registers a `POST /enhance` token so that a shutdown can stop it; returns the key for `forget`.
    func remember(_ token: CancelToken) -> Int {
        let key = nextToken.wrappingAdd(1, ordering: .relaxed).oldValue
        enhanceTokens.withLock { $0[key] = token }
        return key
    }

    /// Removes a token registered with `remember`.
    func forget(_ key: Int) {
        _ = enhanceTokens.withLock { $0.removeValue(forKey: key) }
    }
}

/// Deletes expired jobs every little while and, on graceful shutdown, drains the work in flight.
package struct JobService: Service {
    let server: SuperresServer

    /// Deletes expired jobs periodically (every quarter of the expiry, 1–60 s) until shutdown, then drains.
    package func run() async throws {
        if let fleet = server.fleet {
            // The store's events, sweeper and (with workers) the takers, until a graceful shutdown; then the jobs in
            // hand get the grace period, and what is left goes back to the queue.
            let background = Task { await server.runFleet(fleet) }
            try? await gracefulShutdown()
            background.cancel()
            await server.drain()
            await background.value
            if server.configuration.workers > 0 {
                try? await fleet.queue.retire(worker: fleet.workerName)
            }
            fleet.close()
            return
        }
        let expiry = ServerConfiguration.seconds(server.configuration.expiry)
        let interval = Duration.seconds(min(60, max(1, expiry / 4)))
        let store = server.store
        let logger = server.logger
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                let deleted = await server.io.run { store.deleteExpired() }
                if deleted > 0 { logger.info("expired jobs deleted", metadata: ["count": "\(deleted)"]) }
            }
        }
        await server.drain()
    }
}
