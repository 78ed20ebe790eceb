import Foundation
import Imaging
import JobQueue
import Logging
import Pipeline
import Synchronization

extension SuperresServer {
    /// The fleet's background work on this node until cancelled: the event listener, the sweeper and, with
    /// workers, their heartbeat and one taker per worker.
    func runFleet(_ fleet: FleetCoordinator) async {
        let takers = configuration.workers
        await withDiscardingTaskGroup { group in
            group.addTask { await fleet.listen() }
            group.addTask { await fleet.sweep() }
            if takers > 0 {
                group.addTask { await self.heartbeat(fleet) }
                for _ in 0..<takers {
                    group.addTask { await self.takeJobs(fleet) }
                }
            }
        }
    }

    /// Writes this worker's heartbeat (its models and counts) every few seconds until cancelled.
    private func heartbeat(_ fleet: FleetCoordinator) async {
        let names = models.models.map(\.name)
        var failures = RepeatedFailureLog("cannot write the worker's heartbeat", logger: logger)
        while !Task.isCancelled {
            do {
                try await fleet.queue.heartbeat(
                    worker: fleet.workerName, models: names, counts: fleet.counts.withLock { $0 })
                failures.succeeded()
            } catch {
                if Task.isCancelled { return }
                failures.failed(error)
            }
            try? await Task.sleep(for: .seconds(3))
        }
    }

    /// Takes jobs of this node's models from the store and runs them, one at a time, until cancelled (the job in
    /// hand is finished first).
    private func takeJobs(_ fleet: FleetCoordinator) async {
        let names = models.models.map(\.name)
        var failures = RepeatedFailureLog("cannot take jobs from the store", logger: logger)
        while !Task.isCancelled {
            let generation = fleet.queuedGeneration.load(ordering: .relaxed)
            let taken: TakenJob?
            do {
                taken = try await fleet.queue.take(
                    worker: fleet.workerName, models: names, leaseSeconds: fleet.configuration.leaseSeconds)
                failures.succeeded()
            } catch {
                if Task.isCancelled { return }
                failures.failed(error)
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            guard let taken else {
                // Idle: look again in 2 s, or as soon as a job is queued anywhere.
                for _ in 0..<20 {
                    if Task.isCancelled || fleet.queuedGeneration.load(ordering: .relaxed) != generation { break }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                continue
            }
            fleet.counts.withLock { $0.leasesTaken += 1 }
            // Unstructured, so that a shutdown that stops the taking does not cut the job's store calls short.
            await Task { await self.runTakenJob(taken, fleet: fleet) }.value
        }
    }

    /// Runs a job taken from the store: renews its lease while it works, reports progress, and records the end in
    /// one transaction that checks the lease (or gives the job back when this node shuts down first).
    private func runTakenJob(_ taken: TakenJob, fleet: FleetCoordinator) async {
        let id = taken.job.id
        var logger = logger
        logger[metadataKey: "job.id"] = "\(id)"
        let record: JobRecord
        do {
            record = try FleetCoordinator.record(of: taken.job)
        } catch {
            logger.error("a taken job's record cannot be read", metadata: ["error": "\(error)"])
            await fleet.finish(id, state: .failed, record: nil, error: error, output: nil, result: nil, logger: logger)
            return
        }
        let model: LoadedModel
        do {
            model = try models.select(name: record.model, request: nil)
        } catch {
            await fleet.finish(
                id, state: .failed, record: record, error: error, output: nil, result: nil, logger: logger)
            return
        }
        let token = CancelToken()
        fleet.hold(id, token: token)
        defer { fleet.letGo(id) }
        if taken.job.cancelRequested { token.cancel(.user) }
        logger.info("job taken", metadata: ["model": "\(model.name)", "attempt": "\(taken.job.attempts)"])

        let scratch = configuration.dataDirectory + "/fleet/" + id
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let work = Self.work(for: record, model: model, input: .bytes(taken.input), outputPath: scratch + "/result")

        // Progress goes to the store through one writer, newest record first (older ones are dropped).
        let live = Mutex(record)
        let (updates, updateSink) = AsyncStream.makeStream(
            of: (JobRecord, String).self, bufferingPolicy: .bufferingNewest(1))
        let writer = Task {
            for await (update, event) in updates {
                _ = try? await fleet.queue.update(
                    id, worker: fleet.workerName, record: FleetCoordinator.text(of: update), event: event)
            }
        }
        let renewal = Task {
            await fleet.renewLease(of: id, token: token, logger: logger)
        }
        let lastProgress = Mutex(ContinuousClock.now - .seconds(1))
        await engine.admitResumed()
        let started = ContinuousClock.now
        let result: Result<UpscaleOutcome, any Error>
        do {
            result = .success(
                try await engine.process(
                    work,
                    token: token,
                    onStart: {
                        let now = live.withLock { record in
                            record.state = .running
                            record.startedAt = Date()
                            return record
                        }
                        updateSink.yield((now, "status"))
                    },
                    onPlan: { plan, metadataReport in
                        let now = live.withLock { record in
                            record.degradation = plan.estimate
                            record.choice = plan.choiceSummary
                            record.choiceSummary = plan.summary
                            record.metadataReport = metadataReport
                            return record
                        }
                        updateSink.yield((now, "status"))
                    },
                    onProgress: { done, total in
                        let now = live.withLock { record in
                            record.tilesDone = done
                            record.tilesTotal = total
                            record.progress = total > 0 ? Double(done) / Double(total) : 0
                            return record
                        }
                        // At most four writes a second, and always the last tile.
                        let due = lastProgress.withLock { last in
                            guard done == total || last.duration(to: .now) >= .milliseconds(250) else { return false }
                            last = .now
                            return true
                        }
                        if due { updateSink.yield((now, "progress")) }
                    }))
        } catch {
            result = .failure(error)
        }
        updateSink.finish()
        await writer.value
        renewal.cancel()
        let seconds = ServerConfiguration.seconds(started.duration(to: .now))
        fleet.counts.withLock { $0.busySeconds += seconds }
        let final = live.withLock { $0 }
        switch result {
        case .success(let outcome):
            let bytes = outcome.encoded ?? FileManager.default.contents(atPath: scratch + "/result").map(Array.init)
            guard let bytes else {
                await fleet.finish(
                    id, state: .failed, record: final,
                    error: ServiceError(.internalError, "The result file vanished from the worker's scratch folder."),
                    output: nil, result: nil, logger: logger)
                return
            }
            let output = ImageSummary(
                format: work.format.rawValue, width: outcome.outputWidth, height: outcome.outputHeight,
                bytes: bytes.count, filename: nil)
            await fleet.finish(
                id, state: .succeeded, record: final, error: nil, output: output, result: bytes, logger: logger)
        case .failure(let stopped as UpscaleStopped):
            switch stopped.reason {
            case .leaseLost:
                logger.warning("the job's lease was lost (it went back to the queue): its work is dropped")
            case .shutdown:
                var reset = final
                reset.state = .queued
                reset.progress = 0
                reset.tilesDone = 0
                reset.tilesTotal = 0
                reset.startedAt = nil
                let released = try? await fleet.queue.release(
                    id, worker: fleet.workerName, record: FleetCoordinator.text(of: reset))
                logger.notice("shutting down: the job goes back to the queue", metadata: ["released": "\(released ?? false)"])
            case .user, .none:
                await fleet.finish(
                    id, state: .cancelled, record: final, error: ServiceError(.cancelled, "The job was cancelled."),
                    output: nil, result: nil, logger: logger)
            }
        case .failure(let error):
            let serviceError = error as? ServiceError ?? ServiceError(.internalError, "\(error)")
            await fleet.finish(
                id, state: .failed, record: final, error: serviceError, output: nil, result: nil, logger: logger)
        }
    }

    /// The upscale a job's record asks for.
    static func work(
        for record: JobRecord, model: LoadedModel, input: UpscaleWork.Input, outputPath: String
    ) -> UpscaleWork {
        UpscaleWork(
            input: input,
            sourceName: record.input.filename ?? record.inputFileName,
            model: model,
            format: ImageFormat(fileExtension: record.format) ?? .png,
            encoding: EncodeSettings(
                quality: record.quality,
                pngCompression: record.pngCompression.flatMap { PNGCompression(level: $0) } ?? .default,
                tiffCompression: record.tiffCompression.flatMap(TIFFCompression.init) ?? .deflate),
            outputPath: outputPath,
            selfEnsemble: record.tta ?? false,
            request: record.request,
            metadata: MetadataPolicy(
                density: record.dpi.flatMap(DensityChoice.init(argument:)) ?? .keep, strip: record.metadata == "strip",
                colour: ColourPolicy(mode: record.colour == "srgb" ? .srgb : .keep))
        )
    }
}

extension FleetCoordinator {
    /// Renews the lease on job `id` every third of its length until cancelled; a cancel asked for stops the job at
    /// its next tile, a lease found gone drops it. While the store is away it keeps trying.
    func renewLease(of id: String, token: CancelToken, logger: Logger) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(configuration.leaseSeconds / 3))
            if Task.isCancelled { return }
            do {
                switch try await queue.renew(id, worker: workerName, leaseSeconds: configuration.leaseSeconds) {
                case nil:
                    token.cancel(.leaseLost)
                    return
                case let cancelRequested?:
                    counts.withLock { $0.leasesRenewed += 1 }
                    if cancelRequested { token.cancel(.user) }
                }
            } catch {
                logger.warning("cannot renew the job's lease; trying again", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Records a job's end in `state` (a success only while no cancel was asked for), retrying while the store is
    /// away, for as long as the lease could still be this worker's.
    func finish(
        _ id: String, state: JobState, record: JobRecord?, error: (any Error)?, output: ImageSummary?,
        result: [UInt8]?, logger: Logger
    ) async {
        let now = Date()
        var final = record
        final?.finishedAt = now
        final?.expiresAt = now.addingTimeInterval(ServerConfiguration.seconds(configuration.expiry))
        final?.state = state
        final?.output = output
        final?.worker = workerName
        if let error {
            let serviceError = error as? ServiceError ?? ServiceError(.internalError, "\(error)")
            final?.error = serviceError.problem
        }
        if state == .succeeded {
            final?.progress = 1
            let total = final?.tilesTotal ?? 0
            final?.tilesDone = total
        }
        let text = final.map(Self.text(of:)) ?? "{}"
        let event = JobEvent.name(finishing: state)
        let deadline = ContinuousClock.now.advanced(by: .seconds(max(60, configuration.leaseSeconds * 4)))
        while true {
            do {
                let completion = try await queue.complete(
                    id, worker: workerName, state: state.rawValue, record: text, result: result,
                    expiresAt: final?.expiresAt ?? now, event: event)
                switch completion {
                case .recorded:
                    counts.withLock { counts in
                        if state == .succeeded { counts.succeeded += 1 } else { counts.failed += 1 }
                    }
                    logger.info("job \(state.rawValue)", metadata: ["bytes": "\(result?.count ?? 0)"])
                case .leaseLost:
                    logger.warning("the job's lease was taken over before its end was recorded: nothing written")
                case .cancelRequested:
                    await finish(
                        id, state: .cancelled, record: record,
                        error: ServiceError(.cancelled, "The job was cancelled."), output: nil, result: nil,
                        logger: logger)
                }
                return
            } catch {
                guard ContinuousClock.now < deadline else {
                    logger.error("the job's end could not be recorded; its lease will expire", metadata: ["error": "\(error)"])
                    return
                }
                logger.warning("cannot record the job's end; trying again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
