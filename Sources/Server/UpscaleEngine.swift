import Foundation
import Imaging
import Logging
import Pipeline
import Synchronization

/// One image to enlarge: where it comes from, with which model, into which format, and where the result goes.
struct UpscaleWork: Sendable {
    /// Where the input bytes are.
    enum Input: Sendable {
        case bytes([UInt8])
        case file(String)
    }

    var input: Input
    /// Names the image in messages (the uploaded file's name).
    var sourceName: String
    var model: LoadedModel
    var format: ImageFormat
    /// Quality and compression of the result.
    var encoding: EncodeSettings
    /// Where the encoded result is written (atomically); nil keeps it in memory.
    var outputPath: String?
    /// Self-ensemble (`tta=true`): the eight flips and rotations through the network, averaged.
    var selfEnsemble = false
    /// The size asked for (`scale`, `width`, `height`); nil for the model's own scale.
    var request: OutputRequest?
    /// What the result carries of the input's colour profile, EXIF, XMP and resolution (`metadata=`).
    var metadata = MetadataPolicy()
}

extension UpscaleWork {
    /// The upscale a request asks for: its `upload`, read from `input`, with `model`, as its query `parameters` say.
    init(input: Input, upload: ImageUpload, model: LoadedModel, parameters: UpscaleParameters, outputPath: String?) {
        self.init(
            input: input, sourceName: upload.filename, model: model, format: parameters.format,
            encoding: parameters.encoding, outputPath: outputPath, selfEnsemble: parameters.selfEnsemble,
            request: parameters.request, metadata: parameters.metadataPolicy)
    }
}

/// What an upscale produced.
struct UpscaleOutcome: Sendable {
    /// The encoded result when it was kept in memory.
    var encoded: [UInt8]?
    var inputWidth: Int
    var inputHeight: Int
    var outputWidth: Int
    var outputHeight: Int
    /// Size of the encoded result.
    var outputBytes: Int
    /// Decode, upscale and encode time on the worker.
    var processingSeconds: Double
    /// Seconds between admission and the start on a worker.
    var queueSeconds: Double = 0
    /// Seconds reading and decoding the input.
    var decodeSeconds: Double = 0
    /// Seconds in the network (with its colour conversions).
    var upscaleSeconds: Double = 0
    /// Seconds encoding (and storing) the result.
    var encodeSeconds: Double = 0
    /// The network chosen for the input and why.
    var plan: UpscalePlan?

    /// The `Server-Timing` header's value: queue, decode, upscale and encode in milliseconds.
    var serverTiming: String {
        func entry(_ name: String, _ seconds: Double) -> String { "\(name);dur=\(String(format: "%.1f", seconds * 1000))" }
        return [
            entry("queue", queueSeconds), entry("decode", decodeSeconds), entry("upscale", upscaleSeconds),
            entry("encode", encodeSeconds),
        ].joined(separator: ", ")
    }
}

/// Runs upscales on the inference worker threads, bounded by the admission queue, with the per-job time limit.
final class UpscaleEngine: Sendable {
    let workers: WorkerThreads
    let admission: AdmissionQueue
    let metrics: ServerMetrics
    let maxPixels: Int
    let timeout: Duration
    /// The memory one job may use: stored results that would not fit whole are written a band at a time.
    let memory: MemoryBudget
    let logger: Logger
    /// A seam for tests: called on the worker after each tile (e.g. to hold a job while it runs).
    let afterTile = Mutex<(@Sendable (Int, Int) -> Void)?>(nil)

    init(
        workers: WorkerThreads,
        admission: AdmissionQueue,
        metrics: ServerMetrics,
        maxPixels: Int,
        timeout: Duration,
        memory: MemoryBudget = .automatic,
        logger: Logger
    ) {
        self.workers = workers
        self.admission = admission
        self.metrics = metrics
        self.maxPixels = maxPixels
        self.timeout = timeout
        self.memory = memory
        self.logger = logger
    }

    /// Takes a place in the queue or throws 503 (`.queueFull`, `.shuttingDown`); pair with `process`.
    func admit() async throws(ServiceError) {
        do {
            try await admission.admit()
        } catch {
            if error.code == .queueFull { metrics.rejections.increment() }
            throw error
        }
    }

    /// Takes a place for a job accepted before a restart (never refused); pair with `process`.
    func admitResumed() async {
        await admission.admitResumed()
    }

    /// Decodes, enlarges and encodes `work` on a worker thread, then gives the admission place back.
    ///
    /// `onStart` runs on the worker when it takes the work, `onProgress(done, total)` after each tile, and
    /// `onFinish` with the outcome still on the worker, before the place is given back (so a shutdown that waits
    /// for the places also waits for what `onFinish` records). Throws a `ServiceError`, or `UpscaleStopped` when
    /// `token` stopped it.
    func process(
        _ work: UpscaleWork,
        token: CancelToken,
        onStart: @escaping @Sendable () -> Void = {},
        onPlan: @escaping @Sendable (UpscalePlan, [String]) -> Void = { _, _ in },
        onProgress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
        onFinish: @escaping @Sendable (Result<UpscaleOutcome, any Error>) -> Void = { _ in }
    ) async throws -> UpscaleOutcome {
        let maxPixels = maxPixels
        let timeout = timeout
        let memory = memory
        let afterTile = afterTile.withLock { $0 }
        let progress: @Sendable (Int, Int) -> Void = { done, total in
            onProgress(done, total)
            afterTile?(done, total)
        }
        let admitted = ContinuousClock.now
        let result: Result<UpscaleOutcome, any Error> = await workers.run {
            let queueSeconds = ServerConfiguration.seconds(admitted.duration(to: .now))
            let result = Result {
                var outcome = try Self.run(
                    work,
                    token: token,
                    maxPixels: maxPixels,
                    timeout: timeout,
                    memory: memory,
                    onStart: onStart,
                    onPlan: onPlan,
                    onProgress: progress
                )
                outcome.queueSeconds = queueSeconds
                return outcome
            }
            onFinish(result)
            return result
        }
        let seconds: Double?
        let outcome: String
        switch result {
        case .success(let value):
            seconds = value.processingSeconds
            outcome = "succeeded"
            metrics.recordUpscale(
                model: work.model.name,
                outcome: outcome,
                seconds: seconds,
                megapixels: Double(value.inputWidth * value.inputHeight) / 1e6
            )
        case .failure(let error):
            seconds = nil
            if error is UpscaleStopped {
                outcome = "cancelled"
            } else if let error = error as? ServiceError, error.code == .jobTimeout {
                outcome = "timeout"
            } else {
                outcome = "failed"
            }
            metrics.recordUpscale(model: work.model.name, outcome: outcome, seconds: nil, megapixels: nil)
        }
        await admission.release(processingSeconds: seconds)
        return try result.get()
    }

    /// The work itself, on a worker thread.
    private static func run(
        _ work: UpscaleWork,
        token: CancelToken,
        maxPixels: Int,
        timeout: Duration,
        memory: MemoryBudget,
        onStart: () -> Void,
        onPlan: (UpscalePlan, [String]) -> Void,
        onProgress: (Int, Int) -> Void
    ) throws -> UpscaleOutcome {
        if token.isCancelled { throw UpscaleStopped(reason: token.reason) }
        onStart()
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: timeout)
        token.codecs.setTimeout(timeout)
        let name = work.sourceName
        /// Why a codec stopped: the job timeout, or a cancel request.
        func stopped(_ image: (width: Int, height: Int)?) -> any Error {
            guard clock.now >= deadline else { return UpscaleStopped(reason: token.reason) }
            let limit = Int(ServerConfiguration.seconds(timeout).rounded())
            let size = image.map { " (\($0.width)×\($0.height))" } ?? ""
            return ServiceError(
                .jobTimeout,
                "\(name)\(size) took longer than the limit of \(limit) s to enlarge and was stopped. Try a smaller "
                    + "image or a faster model.")
        }
        let bytes: [UInt8]
        switch work.input {
        case .bytes(let data):
            bytes = data
        case .file(let path):
            do {
                bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw ServiceError(.internalError, "\(name): the stored upload could not be read: \(error)")
            }
        }
        let image: PixelImage
        let inputMetadata: ImageMetadata
        do {
            (image, inputMetadata) = try ImageCodec.decodeWithMetadata(
                bytes, source: name, limits: DecodeLimits(maxPixels: maxPixels), colour: work.metadata.colour,
                cancellation: token.codecs)
        } catch {
            if error.code == .cancelled { throw stopped(nil) }
            throw ServiceError(error, upload: name)
        }
        let decoded = clock.now
        // The network for this picture (`auto` looks at its JPEG tables, blockiness and noise first).
        let chosen: UpscalePlan
        do {
            chosen = try work.model.planner.with(request: work.request).plan(for: image, encoded: bytes)
        } catch {
            throw ServiceError(error, upload: name)
        }
        let plan = work.selfEnsemble ? chosen.withSelfEnsemble() : chosen
        let size = plan.outputSize
        let metadata = inputMetadata.enlarged(
            from: image.width, image.height, to: size.width, size.height, layout: image.layout, policy: work.metadata)
        onPlan(
            plan,
            inputMetadata.report(output: metadata, format: work.format, width: size.width, height: size.height))
        var timedOut = false
        func shouldCancel() -> Bool {
            if token.isCancelled { return true }
            if clock.now > deadline {
                timedOut = true
                return true
            }
            return false
        }
        if let path = work.outputPath, memory.streams(image.shape, output: plan.outputSize, format: work.format) {
            // Too large to hold whole: enlarged and written to the data folder a band of rows at a time.
            do {
                try plan.limitingMemory(to: memory).write(
                    .decoded(image), to: path, format: work.format, encoding: work.encoding, metadata: metadata,
                    progress: onProgress, shouldCancel: shouldCancel)
            } catch PipelineError.cancelled {
                if timedOut { throw stopped((image.width, image.height)) }
                throw UpscaleStopped(reason: token.reason)
            } catch let error as PipelineError {
                throw ServiceError(error, upload: name)
            } catch {
                throw ServiceError(.internalError, "\(name): the result could not be stored: \(error)")
            }
            let written = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            return UpscaleOutcome(
                encoded: nil, inputWidth: image.width, inputHeight: image.height,
                outputWidth: plan.outputSize.width, outputHeight: plan.outputSize.height, outputBytes: written,
                processingSeconds: ServerConfiguration.seconds(start.duration(to: clock.now)),
                decodeSeconds: ServerConfiguration.seconds(start.duration(to: decoded)),
                upscaleSeconds: ServerConfiguration.seconds(decoded.duration(to: clock.now)), encodeSeconds: 0,
                plan: plan)
        }
        let enlarged: PixelImage
        do {
            enlarged = try plan.upscale(image, progress: onProgress, shouldCancel: shouldCancel)
        } catch .cancelled {
            if timedOut { throw stopped((image.width, image.height)) }
            throw UpscaleStopped(reason: token.reason)
        } catch {
            throw ServiceError(error, upload: name)
        }
        let upscaled = clock.now
        let encoded: [UInt8]
        do {
            encoded = try ImageCodec.encode(
                enlarged, as: work.format, settings: work.encoding, metadata: metadata, cancellation: token.codecs)
        } catch {
            if error.code == .cancelled { throw stopped((image.width, image.height)) }
            throw ServiceError(.internalError, "\(name): the result could not be encoded: \(error.message)")
        }
        if let path = work.outputPath {
            do {
                try ImageFile.writeAtomically(encoded, to: path)
            } catch {
                throw ServiceError(.internalError, "\(name): the result could not be stored: \(error.message)")
            }
        }
        let elapsed = start.duration(to: clock.now)
        return UpscaleOutcome(
            encoded: work.outputPath == nil ? encoded : nil,
            inputWidth: image.width,
            inputHeight: image.height,
            outputWidth: enlarged.width,
            outputHeight: enlarged.height,
            outputBytes: encoded.count,
            processingSeconds: ServerConfiguration.seconds(elapsed),
            decodeSeconds: ServerConfiguration.seconds(start.duration(to: decoded)),
            upscaleSeconds: ServerConfiguration.seconds(decoded.duration(to: upscaled)),
            encodeSeconds: ServerConfiguration.seconds(upscaled.duration(to: clock.now)),
            plan: plan
        )
    }
}
