import Foundation
import HTTPTypes
import Hummingbird
import JobQueue
import Logging

/// The jobs API over the shared store (`serve --store`): any node answers for any job, whichever node took it in
/// and whichever worker runs it.
extension SuperresServer {
    /// `POST /api/v1/jobs` on a fleet node: the upload is checked here and stored with its job in PostgreSQL in one
    /// transaction, under the fleet's queue limit (`--queue`, counted across every node).
    func submitSharedJob(
        _ request: Request, context: ServerRequestContext, fleet: FleetCoordinator, key: String?
    ) async throws(ServiceError) -> Response {
        let (parameters, model, upload) = try await acceptUpload(request, admitting: false)
        let record = newRecord(
            parameters: parameters, model: model, upload: upload, owner: context.caller, idempotencyKey: key)
        let submission = try await FleetCoordinator.storeCall {
            try await fleet.queue.submit(
                id: record.id, model: record.model, owner: record.owner, idempotencyKey: key,
                record: FleetCoordinator.text(of: record), expiresAt: record.expiresAt, input: upload.bytes,
                queueLimit: configuration.queueCapacity)
        }
        switch submission {
        case .created:
            context.logger.info(
                "job queued in the store", metadata: Self.queuedMetadata(id: record.id, model: model, upload: upload))
            var stored = record
            stored.attempts = 0
            let resource = JobResource(stored)
            return Self.json(data: resource.json(), status: .accepted, headers: [.location: resource.links.this])
        case .existing(let earlier):
            let resource = JobResource(try FleetCoordinator.record(of: earlier))
            return Self.json(data: resource.json(), status: .ok, headers: [.location: resource.links.this])
        case .queueFull(let depth):
            metrics.rejections.increment()
            throw ServiceError(
                .queueFull,
                "The fleet's queue holds \(depth) images, its limit. Try again in a few seconds.",
                headers: [.retryAfter: "5"])
        }
    }

    /// The stored job named by the `{id}` path parameter, as its caller may see it; a queued job that no live
    /// worker can take says so in `waiting`.
    func sharedJob(in context: ServerRequestContext, fleet: FleetCoordinator) async throws(ServiceError) -> JobRecord {
        let id = context.parameters.get("id") ?? ""
        guard JobStore.isValidID(id), var record = try await fleet.record(id), record.owner == context.caller else {
            let hours = ServerConfiguration.seconds(configuration.expiry) / 3600
            throw ServiceError(
                .jobNotFound,
                "There is no job \(id). Jobs are kept for \(String(format: "%g", hours)) hours after they finish."
            )
        }
        if record.state == .queued, (try? await fleet.queue.hasLiveWorker(for: record.model)) == false {
            record.waiting =
                "No worker serving the model \(record.model) is connected to the job store; the job waits until "
                + "one is (start one with `superres worker --store … --model \(record.model)`)."
        }
        return record
    }

    /// `DELETE /api/v1/jobs/{id}` on a fleet node: cancels a queued job (200), asks the worker running it to stop
    /// at its next tile (202, heard by the worker at once through the store's events), deletes a finished one (204).
    func cancelSharedJob(_ context: ServerRequestContext, fleet: FleetCoordinator) async throws(ServiceError) -> Response
    {
        let answer = try await FleetCoordinator.storeCall { () async throws -> Response? in
            var record = try await sharedJob(in: context, fleet: fleet)
            for _ in 0..<3 {
                switch record.state {
                case .queued:
                    var cancelled = record
                    let now = Date()
                    cancelled.state = .cancelled
                    cancelled.finishedAt = now
                    cancelled.expiresAt = now.addingTimeInterval(ServerConfiguration.seconds(configuration.expiry))
                    cancelled.error = ServiceError(.cancelled, "The job was cancelled before it started.").problem
                    cancelled.waiting = nil
                    if try await fleet.queue.cancelQueued(
                        record.id, record: FleetCoordinator.text(of: cancelled), expiresAt: cancelled.expiresAt)
                    {
                        context.logger.info("job cancelled", metadata: ["job.id": "\(record.id)"])
                        return Self.json(data: JobResource(cancelled).json())
                    }
                case .running:
                    if try await fleet.queue.requestCancel(record.id) {
                        record.cancelRequested = true
                        context.logger.info("job cancel requested", metadata: ["job.id": "\(record.id)"])
                        return Self.json(data: JobResource(record).json(), status: .accepted)
                    }
                case .succeeded, .failed, .cancelled:
                    _ = try await fleet.queue.deleteFinished(record.id)
                    context.logger.info("job deleted", metadata: ["job.id": "\(record.id)"])
                    return Response(status: .noContent)
                }
                // The job moved on meanwhile (taken, or finished): act on its new state.
                record = try await sharedJob(in: context, fleet: fleet)
            }
            return nil
        }
        if let answer { return answer }
        throw ServiceError(.storeUnavailable, "The job kept changing state; try again.", headers: [.retryAfter: "1"])
    }

    /// `GET /api/v1/jobs/{id}/result` on a fleet node: the result bytes from the store.
    func sharedJobResult(_ context: ServerRequestContext, fleet: FleetCoordinator) async throws(ServiceError)
        -> Response
    {
        let record = try await sharedJob(in: context, fleet: fleet)
        try Self.checkHasResult(record)
        let bytes = try await FleetCoordinator.storeCall { try await fleet.queue.blob(record.id, kind: "result") }
        guard let bytes else {
            throw ServiceError(.internalError, "The job's result is missing from the job store.")
        }
        return Response(
            status: .ok,
            headers: resultHeaders(record),
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    /// `POST /enhance` on an API node without workers: the upload goes through the fleet as a job, and the answer
    /// waits for it (a client that goes away cancels it).
    func enhanceThroughFleet(
        _ request: Request, context: ServerRequestContext, fleet: FleetCoordinator
    ) async throws(ServiceError) -> Response {
        let submitted = try await submitSharedJob(request, context: context, fleet: fleet, key: nil)
        guard let location = submitted.headers[.location], let id = location.split(separator: "/").last.map(String.init)
        else {
            throw ServiceError(.internalError, "The job was stored without an id.")
        }
        guard let record = try await fleet.record(id) else {
            throw ServiceError(.internalError, "The job vanished from the store.")
        }
        var final = record
        let stream = fleet.events(of: id, now: record)
        let cancelIfGone: @Sendable () -> Void = {
            Task { _ = try? await fleet.queue.cancelQueued(id, record: FleetCoordinator.text(of: record), expiresAt: Date()) }
            Task { _ = try? await fleet.queue.requestCancel(id) }
        }
        await withTaskCancellationHandler {
            for await event in stream { final = event.record }
        } onCancel: {
            cancelIfGone()
        }
        defer { Task { _ = try? await fleet.queue.deleteFinished(id) } }
        switch final.state {
        case .succeeded:
            guard let bytes = try? await fleet.queue.blob(id, kind: "result") else {
                throw ServiceError(.storeUnavailable, "The result could not be read from the job store.")
            }
            var headers = resultHeaders(final)
            headers[.cacheControl] = "no-store"
            if let name = HTTPField.Name("X-Superres-Model") { headers[name] = final.model }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        case .failed:
            let problem = final.error
            throw ServiceError(
                ServiceError.Code(rawValue: problem?.type.replacingOccurrences(of: "urn:superres:problem:", with: "") ?? "")
                    ?? .internalError,
                problem?.detail ?? "The upscale failed.")
        case .cancelled:
            throw ServiceError(.cancelled, "The upscale was cancelled.")
        case .queued, .running:
            throw ServiceError(.storeUnavailable, "Lost track of the job \(id); its result may still come.")
        }
    }
}
