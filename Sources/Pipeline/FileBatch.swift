// Several files through one model with the stages overlapped: while the network enlarges image i, one thread
// decodes image i+1 and another encodes and writes image i−1. The network keeps the compute threads; decoding and
// encoding are mostly single-threaded library calls that would otherwise leave cores idle between images.
import Foundation
import Imaging
import Synchronization

/// One file to enlarge: where it is read from, where the result goes and in which format.
package struct FileJob: Sendable, Equatable {
    /// The input image file.
    package var input: String
    /// The output file, written atomically.
    package var output: String
    /// The output format.
    package var format: ImageFormat

    /// A job reading `input` and writing `output` as `format`.
    package init(input: String, output: String, format: ImageFormat) {
        self.input = input
        self.output = output
        self.format = format
    }
}

/// Seconds each stage was busy over a batch (the stages overlap, so these add up to more than the wall time).
package struct StageTimes: Sendable, Equatable {
    /// Reading and decoding the inputs.
    package var decode: Double = 0
    /// The network, with the colour conversions and tiling around it (and the writing of a streamed result).
    package var upscale: Double = 0
    /// Encoding the outputs and writing them (temporary file, fsync, rename).
    package var encode: Double = 0

    /// Zero for every stage.
    package init() {}
}

/// Enlarges a list of files with the network an `UpscalePlanner` chooses for each, decode, network and encode
/// overlapped.
///
/// At most one image is in each stage at a time (plus one finished image waiting for the next stage), so memory is
/// bounded by a few images whatever the number of files. Results are reported in the order of the jobs, on the
/// encoding thread; a failed job does not stop the others.
package struct FileBatch: Sendable {
    /// Chooses the model and options each file goes through.
    package let planner: UpscalePlanner
    /// Limits applied to each input's header before decoding.
    package let limits: DecodeLimits
    /// How the outputs are encoded.
    package let encoding: EncodeSettings
    /// Limits on each result, checked before its upscale starts.
    package let outputLimits: OutputLimits
    /// The memory one upscale may take: results whose whole picture would not fit are written a band at a time.
    package let memory: MemoryBudget
    /// What each result carries of its input's colour profile, EXIF, XMP and resolution.
    package let metadata: MetadataPolicy

    /// A batch runner.
    package init(
        planner: UpscalePlanner, limits: DecodeLimits, encoding: EncodeSettings,
        outputLimits: OutputLimits = OutputLimits(), memory: MemoryBudget = .automatic,
        metadata: MetadataPolicy = MetadataPolicy()
    ) {
        self.planner = planner
        self.limits = limits
        self.encoding = encoding
        self.outputLimits = outputLimits
        self.memory = memory
        self.metadata = metadata
    }

    /// An input ready for the network: its pixels (or its file, decoded a band at a time as the network reaches
    /// them), the plan for it, its metadata and its result's.
    private struct Decoded: Sendable {
        let picture: InputPicture
        let plan: UpscalePlan
        let metadata: ImageMetadata
        let outputMetadata: ImageMetadata
    }

    /// The metadata of the result under `plan` of a picture of shape `image`, from the input's `metadata`.
    package func outputMetadata(_ metadata: ImageMetadata, image: PixelShape, plan: UpscalePlan) -> ImageMetadata {
        metadata.enlarged(
            from: image.width, image.height, to: plan.outputSize.width, plan.outputSize.height, layout: image.layout,
            policy: self.metadata)
    }

    /// The input of `job` (whose file holds `bytes`) and its plan: the file itself, read a band of rows at a time,
    /// when its result is made in bands by one network and the file can be read by rows (PNG, JPEG, TIFF; upright);
    /// else the decoded picture. The metadata is read once.
    package func prepare(
        _ job: FileJob, bytes: [UInt8]
    ) throws -> (picture: InputPicture, plan: UpscalePlan, metadata: ImageMetadata) {
        let metadata = ImageMetadata(reading: bytes)
        // A file the row decoders refuse goes the whole decode's way, which says what is wrong with it.
        if let input = try? StreamedInput.examine(
            path: job.input, bytes: bytes, metadata: metadata, source: job.input, limits: limits,
            colour: self.metadata.colour),
            memory.streams(
                input.shape, output: try planner.outputSize(for: PixelSize(width: input.shape.width, height: input.shape.height)),
                format: job.format)
        {
            let plan = try planner.plan(for: input, encoded: bytes)
            if plan.steps.count == 1, !plan.upscaler.options.selfEnsemble {
                return (.streamed(input), plan, metadata)
            }
        }
        let (image, _) = try ImageCodec.decodeWithMetadata(
            bytes, source: job.input, limits: limits, colour: self.metadata.colour, metadata: metadata)
        return (.decoded(image), try planner.plan(for: image, encoded: bytes), metadata)
    }

    /// What the network stage hands the encoding stage.
    private enum Enlarged: Sendable {
        /// A whole result, to encode and write.
        case image(PixelImage)
        /// A result already written a band at a time.
        case written
    }

    /// Runs every job. `onStart(index, plan, streamed)` (the plan nil when the file could not be read; `streamed`
    /// when the result is written a band at a time), `onMetadata(index, input, lines)` (the input's metadata and what
    /// the result keeps, updates or drops of it, just before `onStart`) and `onProgress(index, done, total)` are called on the
    /// calling
    /// thread (which runs the network); `onFinish(index, result)` on the encoding thread, in job order, with the
    /// error of a failed job. `shouldCancel` is asked between tiles: a cancelled job fails with
    /// `PipelineError.cancelled` and leaves no file. Returns when every job is finished, with the busy time of each
    /// stage.
    package func run(
        _ jobs: [FileJob],
        onStart: (Int, UpscalePlan?, Bool) -> Void = { _, _, _ in },
        onMetadata: (Int, ImageMetadata, [String]) -> Void = { _, _, _ in },
        onProgress: (Int, Int, Int) -> Void = { _, _, _ in },
        shouldCancel: () -> Bool = { false },
        onFinish: @escaping @Sendable (Int, Result<Void, any Error>) -> Void = { _, _ in }
    ) -> StageTimes {
        let decoded = Handoff<Result<Decoded, any Error>>()
        let enlarged = Handoff<Result<(Enlarged, ImageMetadata), any Error>>()
        let decodeTime = BusyTime()
        let encodeTime = BusyTime()
        let encoding = encoding

        let decoder = Thread {
            for job in jobs {
                let start = ContinuousClock.now
                // The degradation estimate (for automatic choices) is made here too, off the network's threads.
                let result = Result<Decoded, any Error> {
                    let (picture, plan, metadata) = try prepare(job, bytes: try ImageFile.readBytes(job.input))
                    return Decoded(
                        picture: picture, plan: plan, metadata: metadata,
                        outputMetadata: outputMetadata(metadata, image: picture.shape, plan: plan))
                }
                decodeTime.add(start.duration(to: .now).seconds)
                guard decoded.put(result) else { return }
            }
            decoded.close()
        }
        decoder.name = "superres-decode"
        let encoderDone = Handoff<Void>()
        let encoder = Thread {
            for (index, job) in jobs.enumerated() {
                guard let result = enlarged.take() else { break }
                let start = ContinuousClock.now
                let written = result.flatMap { enlarged, metadata in
                    Result<Void, any Error> {
                        guard case .image(let image) = enlarged else { return }
                        try ImageFile.write(
                            image, to: job.output, format: job.format, quality: encoding.quality,
                            pngCompression: encoding.pngCompression, jpegChroma: encoding.jpegChroma,
                            tiffCompression: encoding.tiffCompression, metadata: metadata)
                    }
                }
                encodeTime.add(start.duration(to: .now).seconds)
                onFinish(index, written)
            }
            _ = encoderDone.put(())
        }
        encoder.name = "superres-encode"
        decoder.start()
        encoder.start()

        var times = StageTimes()
        for index in jobs.indices {
            guard let input = decoded.take() else { break }
            let job = jobs[index]
            let streams = (try? input.get()).map { memory.streams($0.picture.shape, output: $0.plan.outputSize, format: job.format) }
            if let decoded = try? input.get() {
                let size = decoded.plan.outputSize
                onMetadata(
                    index, decoded.metadata,
                    decoded.metadata.report(
                        output: decoded.outputMetadata, format: job.format, width: size.width, height: size.height))
            }
            onStart(index, try? input.get().plan, streams ?? false)
            let start = ContinuousClock.now
            let result = input.flatMap { decoded in
                Result<(Enlarged, ImageMetadata), any Error> {
                    let plan = decoded.plan
                    try outputLimits.check(
                        outputWidth: plan.outputSize.width, outputHeight: plan.outputSize.height, format: job.format,
                        source: job.input,
                        size: plan.sizeSummary)
                    try memory.check(decoded.picture.shape, output: plan.outputSize, format: job.format, source: job.input)
                    let progress = { onProgress(index, $0, $1) }
                    if case .decoded(let image) = decoded.picture, streams != true {
                        let result = try plan.upscale(image, progress: progress, shouldCancel: shouldCancel)
                        return (.image(result), decoded.outputMetadata)
                    }
                    try plan.limitingMemory(to: memory).write(
                        decoded.picture, to: job.output, format: job.format, encoding: encoding,
                        metadata: decoded.outputMetadata, progress: progress, shouldCancel: shouldCancel)
                    return (.written, decoded.outputMetadata)
                }
            }
            times.upscale += start.duration(to: .now).seconds
            _ = enlarged.put(result)
        }
        enlarged.close()
        _ = encoderDone.take()
        times.decode = decodeTime.total
        times.encode = encodeTime.total
        return times
    }
}

/// Seconds added up from several threads.
private final class BusyTime: Sendable {
    private let seconds = Mutex(0.0)

    func add(_ value: Double) { seconds.withLock { $0 += value } }

    var total: Double { seconds.withLock { $0 } }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) * 1e-18
    }
}
