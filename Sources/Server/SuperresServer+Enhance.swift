import Foundation
import HTTPTypes
import Hummingbird
import Imaging
import Pipeline

extension SuperresServer {
    /// `POST /enhance`: the Flask service's API. Multipart field `image` in, the enlarged image out (PNG unless
    /// `format` says otherwise), the same pixels as `superres upscale` with the same model.
    func enhance(_ request: Request, context: ServerRequestContext) async throws(ServiceError) -> Response {
        if let fleet, configuration.workers == 0 {
            return try await enhanceThroughFleet(request, context: context, fleet: fleet)
        }
        let (parameters, model, upload) = try await acceptUpload(request)
        let token = CancelToken()
        let key = remember(token)
        defer { forget(key) }
        // A client that goes away (closes its side of the connection) stops the upscale at the next tile, or before
        // it starts when it is still waiting for a worker.
        // (Weakly: a keep-alive connection gathers one small callback per request, not one token per request.)
        context.channel.pipeline.handler(type: ConnectionWatcher.self).whenSuccess { watcher in
            watcher.onClientGone { [weak token] in token?.cancel(.user) }
        }
        let work = UpscaleWork(
            input: .bytes(upload.bytes), upload: upload, model: model, parameters: parameters, outputPath: nil)
        let outcome: UpscaleOutcome
        do {
            // A client that goes away stops the upscale at the next tile.
            outcome = try await withTaskCancellationHandler {
                try await engine.process(work, token: token)
            } onCancel: {
                token.cancel(.user)
            }
        } catch let error as ServiceError {
            throw error
        } catch let stopped as UpscaleStopped {
            if stopped.reason == .shutdown {
                throw ServiceError(.shuttingDown, "The server shut down before \(upload.filename) was finished.")
            }
            throw ServiceError(.cancelled, "The upscale of \(upload.filename) was cancelled.")
        } catch {
            throw ServiceError(.internalError, "\(upload.filename): \(error)")
        }
        context.logger.info(
            "enhanced",
            metadata: [
                "model": "\(model.name)", "input": "\(outcome.inputWidth)x\(outcome.inputHeight)",
                "output": "\(outcome.outputWidth)x\(outcome.outputHeight)",
                "seconds": "\(String(format: "%.3f", outcome.processingSeconds))",
            ]
        )
        let suffix = Self.sizeSuffix(
            scale: parameters.scale ?? Double(model.scale), sized: parameters.width != nil || parameters.height != nil,
            width: outcome.outputWidth, height: outcome.outputHeight)
        let name = Self.resultFileName(upload: upload.filename, suffix: suffix, format: parameters.format.rawValue)
        return Response(
            status: .ok,
            headers: [
                .contentType: parameters.format.mediaType,
                .contentDisposition: "inline; filename=\"\(name)\"",
                .cacheControl: "no-store",
                .init("Server-Timing")!: outcome.serverTiming,
                .init("X-Superres-Model")!: model.name,
                .init("X-Superres-Choice")!: outcome.plan.map(Self.choiceHeader) ?? model.name,
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: outcome.encoded ?? []))
        )
    }

    /// The network an upload got, in ASCII for a header: `srmd-x3; noise=15; jpeg-quality=40; sigma=0.1`; a chain
    /// names each network (`span-ch52-x2+span-ch52-x4`).
    static func choiceHeader(_ plan: UpscalePlan) -> String {
        var parts = [plan.steps.map(\.name).joined(separator: "+")]
        if let level = plan.upscaler.options.noiseLevel { parts.append("noise=\(level)") }
        if let estimate = plan.estimate {
            if let quality = estimate.jpegQuality { parts.append("jpeg-quality=\(quality)") }
            if let blockiness = estimate.blockiness { parts.append("blockiness=\(String(format: "%.2f", blockiness))") }
            if let sigma = estimate.noiseSigma { parts.append("sigma=\(String(format: "%.1f", sigma))") }
        }
        return parts.joined(separator: "; ")
    }

    /// The request's `image` upload, read within the server's byte, pixel and memory limits (`ImageUpload.read`).
    func readUpload(_ request: Request) async throws(ServiceError) -> ImageUpload {
        try await ImageUpload.read(
            from: request, maxBytes: configuration.maxUploadBytes, maxPixels: configuration.maxPixels,
            budget: uploadBudget, io: io)
    }

    /// The upload's upright size and the size the query asks its result to have.
    static func sizes(
        of upload: ImageUpload, model: LoadedModel, parameters: UpscaleParameters
    ) throws(ServiceError) -> (input: PixelSize, output: PixelSize) {
        let input = PixelSize(width: upload.header.width, height: upload.header.height)
        do {
            return (input, try model.planner.with(request: parameters.request).outputSize(for: input))
        } catch {
            throw ServiceError(error, upload: upload.filename)
        }
    }

    /// What `POST /enhance` and `POST /api/v1/jobs` both do first: read the query, pick the model, refuse during
    /// shutdown, read and check the upload (size and pixel limits from the header), then take a place in this
    /// node's queue (unless not `admitting`: a job for the shared store, whose queue is the fleet's).
    func acceptUpload(
        _ request: Request, admitting: Bool = true
    ) async throws(ServiceError) -> (UpscaleParameters, LoadedModel, ImageUpload) {
        let parameters = try UpscaleParameters(request.uri.queryParameters)
        let model = try models.select(name: parameters.model, request: parameters.request)
        guard isReady else {
            throw ServiceError(.shuttingDown, "The server is shutting down and takes no new images. Try again shortly.")
        }
        let upload = try await readUpload(request)
        let (input, output) = try Self.sizes(of: upload, model: model, parameters: parameters)
        do {
            try OutputLimits(maxPixels: configuration.maxOutputPixels).check(
                outputWidth: output.width, outputHeight: output.height, format: parameters.format,
                source: upload.filename, size: OutputRequest.sizeSummary(from: input, to: output))
        } catch {
            throw ServiceError(error, upload: upload.filename)
        }
        if admitting { try await engine.admit() }
        return (parameters, model, upload)
    }
}
