import Foundation
import HTTPTypes
import Hummingbird
import Imaging
import Logging

extension SuperresServer {
    /// `POST /api/v1/jobs`: checks and stores the upload, queues it, answers 202 with the job and its links; a
    /// repeated `Idempotency-Key` answers 200 with the job it made before (once the request has been checked like
    /// any other: a malformed one is refused, whatever its key).
    func submitJob(_ request: Request, context: ServerRequestContext) async throws(ServiceError) -> Response {
        let idempotencyKey = try Self.idempotencyKey(request)
        if let fleet { return try await submitSharedJob(request, context: context, fleet: fleet, key: idempotencyKey) }
        let (parameters, model, upload) = try await acceptUpload(request)
        if let quota = configuration.maxDataBytes, store.bytesUsed + upload.bytes.count > quota {
            await admission.release(processingSeconds: nil)
            throw ServiceError(
                .dataFolderFull,
                "The server's data folder is at its quota of \(quota >> 20) MB. Try again when older jobs have "
                    + "expired, or delete finished jobs you no longer need."
            )
        }
        let record = newRecord(
            parameters: parameters, model: model, upload: upload, owner: context.caller, idempotencyKey: idempotencyKey)
        let store = store
        let bytes = upload.bytes
        let created: Result<(job: Job, created: Bool), any Error> = await io.run {
            Result { try store.create(record: record, input: bytes) }
        }
        let job: Job
        switch created {
        case .success(let value) where value.created:
            job = value.job
        case .success(let value):
            // The same key came twice at once: the other request made the job.
            await admission.release(processingSeconds: nil)
            let resource = JobResource(value.job.record)
            return Self.json(data: resource.json(), status: .ok, headers: [.location: resource.links.this])
        case .failure(let error):
            await admission.release(processingSeconds: nil)
            throw ServiceError(.internalError, "The upload could not be stored in the data directory: \(error).")
        }
        context.logger.info("job queued", metadata: Self.queuedMetadata(id: job.id, model: model, upload: upload))
        let work = UpscaleWork(
            input: .file(job.path(record.inputFileName)), upload: upload, model: model, parameters: parameters,
            outputPath: job.path(record.resultFileName))
        let logger = context.logger
        Task { await self.runJob(job, work: work, logger: logger) }
        let resource = JobResource(record)
        return Self.json(data: resource.json(), status: .accepted, headers: [.location: resource.links.this])
    }

    /// What the log says of a job just queued, in this node's data folder or in the shared store.
    static func queuedMetadata(id: String, model: LoadedModel, upload: ImageUpload) -> Logger.Metadata {
        ["job.id": "\(id)", "model": "\(model.name)", "input": "\(upload.header.width)x\(upload.header.height)"]
    }

    /// The record of a job just submitted: queued, as its parameters and upload say.
    func newRecord(
        parameters: UpscaleParameters, model: LoadedModel, upload: ImageUpload, owner: String?,
        idempotencyKey: String?
    ) -> JobRecord {
        let now = Date()
        return JobRecord(
            id: JobStore.makeID(),
            state: .queued,
            progress: 0,
            tilesDone: 0,
            tilesTotal: 0,
            model: model.name,
            scale: parameters.scale ?? Double(model.scale),
            width: parameters.width,
            height: parameters.height,
            format: parameters.format.rawValue,
            quality: parameters.quality,
            pngCompression: parameters.format == .png ? parameters.pngCompression.level : nil,
            tiffCompression: parameters.format == .tiff ? parameters.tiffCompression.rawValue : nil,
            dpi: parameters.dpiText,
            input: ImageSummary(
                format: upload.header.format.rawValue,
                width: upload.header.width,
                height: upload.header.height,
                bytes: upload.bytes.count,
                filename: upload.filename
            ),
            output: nil,
            createdAt: now,
            startedAt: nil,
            finishedAt: nil,
            expiresAt: now.addingTimeInterval(ServerConfiguration.seconds(configuration.expiry)),
            error: nil,
            cancelRequested: false,
            owner: owner,
            tta: parameters.selfEnsemble ? true : nil,
            metadata: parameters.stripMetadata ? "strip" : nil,
            colour: parameters.colour == .srgb ? "srgb" : nil,
            idempotencyKey: idempotencyKey
        )
    }

    /// The request's `Idempotency-Key` header: 1 to 200 visible ASCII characters, or none.
    static func idempotencyKey(_ request: Request) throws(ServiceError) -> String? {
        guard let name = HTTPField.Name("Idempotency-Key"), let value = request.headers[name] else { return nil }
        guard (1...200).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw ServiceError(
                .badRequest, "The Idempotency-Key header must be 1 to 200 visible ASCII characters without spaces.")
        }
        return value
    }

    /// Runs a job that was queued or running when the last process stopped, from its stored input, as it was
    /// submitted; fails it with a reason when its model is no longer loaded.
    func resume(_ job: Job) async {
        let record = job.record
        let model: LoadedModel
        do {
            model = try models.select(name: record.model, request: nil)
        } catch {
            let problem = ServiceError(
                .interrupted,
                "The job was interrupted by a restart of the server, which no longer has its model \(record.model). "
                    + "Submit the image again."
            ).problem
            job.finish(.failed, expiry: configuration.expiry, error: problem) { [logger] error in
                logger.error("cannot record the job's state", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
            }
            return
        }
        let work = Self.work(
            for: record, model: model, input: .file(job.path(record.inputFileName)),
            outputPath: job.path(record.resultFileName))
        await engine.admitResumed()
        logger.info("job resumed after a restart", metadata: ["job.id": "\(job.id)", "model": "\(model.name)"])
        let logger = logger
        Task { await self.runJob(job, work: work, logger: logger) }
    }

    /// Runs a queued job to its end and records the outcome.
    func runJob(_ job: Job, work: UpscaleWork, logger: Logger) async {
        let expiry = configuration.expiry
        let reportWriteError: @Sendable (any Error) -> Void = { error in
            logger.error("cannot record the job's state", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
        }
        _ = try? await engine.process(
            work,
            token: job.token,
            onStart: {
                job.update(event: "status", persisting: true, onPersistError: reportWriteError) { record in
                    record.state = .running
                    record.startedAt = Date()
                }
            },
            onPlan: { plan, metadataReport in
                job.update(event: "status") { record in
                    record.degradation = plan.estimate
                    record.choice = plan.choiceSummary
                    record.choiceSummary = plan.summary
                    record.metadataReport = metadataReport
                }
            },
            onProgress: { done, total in
                job.update(event: "progress") { record in
                    record.tilesDone = done
                    record.tilesTotal = total
                    record.progress = total > 0 ? Double(done) / Double(total) : 0
                }
            },
            onFinish: { result in
                // On the worker: the record is on disk before the job's place in the queue is given back.
                Self.recordOutcome(
                    result,
                    of: job,
                    format: work.format,
                    expiry: expiry,
                    logger: logger,
                    reportWriteError: reportWriteError
                )
            }
        )
    }

    /// Finishes `job` according to how its upscale ended (blocking: writes the record).
    static func recordOutcome(
        _ result: Result<UpscaleOutcome, any Error>,
        of job: Job,
        format: ImageFormat,
        expiry: Duration,
        logger: Logger,
        reportWriteError: (any Error) -> Void
    ) {
        switch result {
        case .success(let outcome):
            let output = ImageSummary(
                format: format.rawValue,
                width: outcome.outputWidth,
                height: outcome.outputHeight,
                bytes: outcome.outputBytes,
                filename: nil
            )
            job.finish(.succeeded, expiry: expiry, output: output, onPersistError: reportWriteError)
            logger.info(
                "job succeeded",
                metadata: [
                    "job.id": "\(job.id)", "output": "\(outcome.outputWidth)x\(outcome.outputHeight)",
                    "seconds": "\(String(format: "%.3f", outcome.processingSeconds))",
                ]
            )
        case .failure(let stopped as UpscaleStopped):
            switch stopped.reason {
            case .shutdown, .leaseLost:
                let problem = ServiceError(
                    .interrupted,
                    "The server shut down before the job finished. Submit the image again."
                ).problem
                job.finish(.failed, expiry: expiry, error: problem, onPersistError: reportWriteError)
            case .user, .none:
                let problem = ServiceError(.cancelled, "The job was cancelled.").problem
                job.finish(.cancelled, expiry: expiry, error: problem, onPersistError: reportWriteError)
            }
            logger.info("job stopped", metadata: ["job.id": "\(job.id)", "reason": "\(stopped.reason)"])
        case .failure(let error):
            let serviceError = error as? ServiceError ?? ServiceError(.internalError, "\(error)")
            job.finish(.failed, expiry: expiry, error: serviceError.problem, onPersistError: reportWriteError)
            logger.warning("job failed", metadata: ["job.id": "\(job.id)", "error": "\(serviceError)"])
        }
    }

    /// The job named by the `{id}` path parameter.
    func job(in context: ServerRequestContext) throws(ServiceError) -> Job {
        let id = context.parameters.get("id") ?? ""
        // Another key's job answers as if it did not exist: ids are not secrets to be probed for.
        guard JobStore.isValidID(id), let job = store.job(id), job.record.owner == context.caller else {
            let hours = ServerConfiguration.seconds(configuration.expiry) / 3600
            throw ServiceError(
                .jobNotFound,
                "There is no job \(id). Jobs are kept for \(String(format: "%g", hours)) hours after they finish."
            )
        }
        return job
    }

    /// `GET /api/v1/jobs/{id}`.
    func jobStatus(_ context: ServerRequestContext) async throws(ServiceError) -> Response {
        if let fleet { return Self.json(data: JobResource(try await sharedJob(in: context, fleet: fleet)).json()) }
        return Self.json(data: JobResource(try job(in: context).record).json())
    }

    /// `DELETE /api/v1/jobs/{id}`: cancels a queued job (200) or asks a running one to stop at its next tile (202);
    /// deletes a finished job and its files (204).
    func cancelJob(_ context: ServerRequestContext) async throws(ServiceError) -> Response {
        if let fleet { return try await cancelSharedJob(context, fleet: fleet) }
        let job = try job(in: context)
        let record = job.record
        switch record.state {
        case .queued:
            job.token.cancel(.user)
            let problem = ServiceError(.cancelled, "The job was cancelled before it started.").problem
            let expiry = configuration.expiry
            await io.run { job.finish(.cancelled, expiry: expiry, error: problem) }
            context.logger.info("job cancelled", metadata: ["job.id": "\(job.id)"])
            return Self.json(data: JobResource(job.record).json())
        case .running:
            job.token.cancel(.user)
            // Nil when the job finished meanwhile: then it is deleted like any finished job.
            if let updated = job.update(event: "status", { $0.cancelRequested = true }) {
                context.logger.info("job cancel requested", metadata: ["job.id": "\(job.id)"])
                return Self.json(data: JobResource(updated).json(), status: .accepted)
            }
            fallthrough
        case .succeeded, .failed, .cancelled:
            let store = store
            await io.run { store.delete(job) }
            context.logger.info("job deleted", metadata: ["job.id": "\(job.id)"])
            return Response(status: .noContent)
        }
    }

    /// `GET /api/v1/jobs/{id}/events`: Server-Sent Events, from the job's state now to its end.
    func jobEvents(_ context: ServerRequestContext) async throws(ServiceError) -> Response {
        if let fleet {
            let record = try await sharedJob(in: context, fleet: fleet)
            return Self.eventStream(fleet.events(of: record.id, now: record))
        }
        return Self.eventStream(try job(in: context).events())
    }

    /// A `text/event-stream` response of `events`, with a keep-alive comment every 15 s.
    static func eventStream(_ events: AsyncStream<JobEvent>) -> Response {
        let body = ResponseBody { writer in
            let (lines, continuation) = AsyncStream.makeStream(of: String.self)
            let pump = Task {
                for await event in events { continuation.yield(event.serialized()) }
                continuation.finish()
            }
            // A comment line now and then keeps proxies from closing a quiet stream.
            let heartbeat = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(15))
                    continuation.yield(": keep-alive\n\n")
                }
            }
            defer {
                pump.cancel()
                heartbeat.cancel()
            }
            try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
            for await line in lines {
                try await writer.write(ByteBuffer(string: line))
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store",
                .init("X-Accel-Buffering")!: "no",
            ],
            body: body
        )
    }

    /// `GET /api/v1/jobs/{id}/result`: the enlarged image once the job has succeeded; 409 before or otherwise.
    func jobResult(_ request: Request, context: ServerRequestContext) async throws(ServiceError) -> Response {
        if let fleet { return try await sharedJobResult(context, fleet: fleet) }
        let job = try job(in: context)
        let record = job.record
        try Self.checkHasResult(record)
        let body: ResponseBody
        do {
            body = try await FileIO().loadFile(path: job.path(record.resultFileName), context: context)
        } catch {
            throw ServiceError(.internalError, "The job's result file is missing from the data directory.")
        }
        return Response(status: .ok, headers: resultHeaders(record), body: body)
    }

    /// Throws 409 with the reason when `record` has no result (yet).
    static func checkHasResult(_ record: JobRecord) throws(ServiceError) {
        switch record.state {
        case .succeeded:
            break
        case .queued:
            throw ServiceError(.jobHasNoResult, "The job is waiting for a worker; its result is not ready yet.")
        case .running:
            let percent = Int((record.progress * 100).rounded())
            throw ServiceError(.jobHasNoResult, "The job is running (\(percent)% done); its result is not ready yet.")
        case .failed:
            throw ServiceError(
                .jobHasNoResult,
                "The job failed, so it has no result: \(record.error?.detail ?? "no reason recorded")."
            )
        case .cancelled:
            throw ServiceError(.jobHasNoResult, "The job was cancelled, so it has no result.")
        }
    }

    /// The headers of a job's result: its media type and a file name made from the upload's.
    func resultHeaders(_ record: JobRecord) -> HTTPFields {
        let name = Self.resultFileName(
            upload: record.input.filename ?? "image",
            suffix: Self.sizeSuffix(
                scale: record.scale, sized: record.width != nil || record.height != nil,
                width: record.output?.width ?? 0, height: record.output?.height ?? 0),
            format: record.format
        )
        return [
            .contentType: "image/\(record.format)",
            .contentDisposition: "inline; filename=\"\(name)\"",
            .cacheControl: "private, max-age=3600",
        ]
    }
}
