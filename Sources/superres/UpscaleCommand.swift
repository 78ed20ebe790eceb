import ArgumentParser
import Foundation
import Imaging
import Kernels
import ModelStore
import Models
import Pipeline

/// `superres upscale INPUT... -o OUTPUT`
struct UpscaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upscale",
        abstract: "Enlarge images (files or folders of PNG, JPEG, WebP and TIFF).",
        discussion: """
            With one input file, OUTPUT is the output file (its extension picks the format unless --format is \
            given). With several inputs or a folder, OUTPUT is a folder (created if needed) and each result keeps \
            its input's name. Outputs are written to a temporary file and renamed, so a failure or Ctrl-C never \
            leaves a partial file (Ctrl-C stops at the next tile and exits with status 130, SIGTERM with 143). A \
            result too large for --max-memory-mb as a whole picture is written to its PNG or JPEG file a band of \
            rows at a time, so its size is not limited by memory.
            """)

    @Argument(help: "Input images or folders.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output file (one input) or folder.")
    var output: String

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Tile size in input pixels (0: whole image at once; default: chosen from the model's memory needs).")
    var tile: Int?

    @OptionGroup var compute: ComputeThreadsOption

    @Option(help: "Output format: png, jpg, webp or tif (default: from the output name, else the input's format).")
    var format: String?

    @Option(help: "JPEG/WebP quality 1–100 (WebP 100 is lossless).")
    var quality: Int = 95

    @Option(
        help: """
            PNG compression 0–9: 0 stores, 1 (default) is the fastest that compresses (smaller than OpenCV's \
            PNGs), 9 the smallest file at many times the time.
            """)
    var pngCompression: Int = PNGCompression.default.level

    @Option(help: "TIFF compression: none, lzw, deflate (default) or jpeg (lossy, at --quality; 8-bit, no alpha).")
    var tiffCompression: TIFFCompression = .deflate

    @Option(help: "JPEG chroma: 420 (half resolution, default, as OpenCV) or 444 (full resolution, larger).")
    var jpegChroma: JPEGChroma = .subsampled

    @Flag(help: "Print the time spent decoding, upscaling and encoding (busy seconds of each stage) on stderr.")
    var timings = false

    @Option(help: "Chroma enlargement for Y-channel models: bilinear (OpenCV's, default) or bicubic.")
    var chroma: ChromaInterpolation = .bilinear

    @Option(help: "Refuse images with more pixels than this (checked from the header).")
    var maxPixels: Int = 64_000_000

    @Option(help: "Refuse results with more pixels than this (checked before the upscale starts).")
    var maxOutputPixels: Int = OutputLimits().maxPixels

    @Option(
        help: """
            Memory one upscale may use, in MiB (default: a quarter of the machine's memory, at most 1024). A result \
            whose whole picture would need more is written to its PNG or JPEG file a band of rows at a time.
            """)
    var maxMemoryMb: Int?

    @Flag(
        help: """
            Decode each input and print what its upscale would do (models, output size, memory, whether the result \
            is written in bands) without running it.
            """)
    var dryRun = false

    @Option(
        parsing: .unconditional,
        help: """
            SRMD denoising level 0–75, or auto (default: the level the input's estimated JPEG quality and noise \
            call for, see `superres info IMAGE`); -1 (no denoising) is the SRMD-NF model (srmdnf-xN), which takes \
            no level.
            """)
    var noise: NoiseSetting = .auto

    @Flag(
        name: .shortAndLong,
        help: """
            Print, for each input, its estimated degradation, the model (and noise level) chosen for it, and what \
            its result keeps, updates or drops of the colour profile, EXIF, XMP and resolution.
            """)
    var verbose = false

    @Option(
        help: """
            Output resolution: keep (default: the input's dots per inch, so the print is larger), scale (the input's \
            dpi times the scale: the same print size) or a number of dots per inch.
            """)
    var dpi: String = "keep"

    @Flag(
        help: """
            Leave the input's EXIF, XMP and text chunks out of the results (the colour profile is kept: it is \
            colour, not metadata). By default they are kept, with the orientation, size and resolution updated.
            """)
    var stripMetadata = false

    @Option(
        help: """
            Colours: keep (default: the network runs on the stored values and the result carries the input's \
            colour profile) or srgb (convert from the input's profile to sRGB with lcms2 first; the result is \
            tagged sRGB).
            """)
    var colour: ColourMode = .keep

    @Option(
        help: """
            An ICC profile for CMYK JPEGs that carry none (CMYK is always converted to sRGB: through the file's own \
            profile, else this one, else the plain formula).
            """)
    var cmykProfile: String?

    @Flag(
        help: """
            Self-ensemble: run the network on the eight flips and rotations of each picture and average the results \
            (a little sharper and cleaner; eight times the time).
            """)
    var tta = false

    func validate() throws {
        if let tile, tile < 0 { throw ValidationError("--tile must be 0 or more") }
        try compute.check()
        if !(1...100).contains(quality) { throw ValidationError("--quality must be 1...100") }
        if PNGCompression(level: pngCompression) == nil { throw ValidationError("--png-compression must be 0...9") }
        if let format, ImageFormat(fileExtension: format) == nil {
            throw ValidationError("--format must be png, jpg, webp or tif")
        }
        if maxPixels < 1 { throw ValidationError("--max-pixels must be positive") }
        if maxOutputPixels < 1 { throw ValidationError("--max-output-pixels must be positive") }
        if let maxMemoryMb, maxMemoryMb < 1 { throw ValidationError("--max-memory-mb must be positive") }
        if DensityChoice(argument: dpi) == nil {
            throw ValidationError("--dpi must be keep, scale or a number of dots per inch from 1 to 65535")
        }
        if case .level(let level) = noise, level != -1, !SRMDProcessing.noiseLevels.contains(level) {
            throw ValidationError("--noise must be auto, -1 or 0...75")
        }
        // The size asked for and `auto`'s scale are usage too (exit 64), checked before any file is read.
        do {
            _ = try modelOptions.request()
            _ = try modelOptions.autoScale()
        } catch let failure as CommandLineFailure {
            throw ValidationError(failure.description)
        }
    }

    func run() async throws {
        compute.configurePool()
        let jobs = try CommandLineFailure.reporting { try planJobs() }
        try await fetchDefaultModels()
        let options = UpscaleOptions(tileSize: tile, chroma: chroma, noiseLevel: noise.level, selfEnsemble: tta)
        let planner = try CommandLineFailure.reporting { try modelOptions.planner(options: options) }
        let encoding = EncodeSettings(
            quality: quality, pngCompression: PNGCompression(level: pngCompression) ?? .default,
            jpegChroma: jpegChroma, tiffCompression: tiffCompression)
        let memory = maxMemoryMb.map { MemoryBudget(megabytes: $0) } ?? .automatic
        let cmyk = try CommandLineFailure.reporting { try loadCMYKProfile() }
        let batch = FileBatch(
            planner: planner, limits: DecodeLimits(maxPixels: maxPixels),
            encoding: encoding, outputLimits: OutputLimits(maxPixels: maxOutputPixels), memory: memory,
            metadata: MetadataPolicy(
                density: DensityChoice(argument: dpi) ?? .keep, strip: stripMetadata,
                colour: ColourPolicy(mode: colour, cmykProfile: cmyk)))
        if dryRun { return try printDryRun(jobs, batch: batch) }
        let interruption = Interruption.install()
        let bar = ProgressBar(label: "")
        let failures = FailureCount()
        let clock = ContinuousClock()
        let start = clock.now
        let times = batch.run(
            jobs,
            onStart: { index, plan, streamed in
                let name = (jobs[index].input as NSString).lastPathComponent
                if verbose, let plan {
                    bar.printLine(
                        "superres: \(jobs[index].input): \(plan.summary)\(streamed ? "; written in bands" : "")")
                }
                bar.restart(
                    label: jobs.count > 1 ? "[\(index + 1)/\(jobs.count)] \(name)" : "",
                    outputPixels: plan?.outputSize.pixels)
            },
            onMetadata: { index, metadata, lines in
                // The pages of a TIFF left out are always said; the rest with -v.
                let shown = verbose ? lines : metadata.pagesLine.map { [$0] } ?? []
                for line in shown { bar.printLine("superres: \(jobs[index].input): \(line)") }
            },
            onProgress: { _, done, total in bar.update(done, of: total) },
            shouldCancel: { interruption.isRequested },
            onFinish: { index, result in
                guard case .failure(let error) = result else { return }
                failures.add()
                if interruption.isRequested, case PipelineError.cancelled = error { return }
                bar.printLine("superres: \(describe(error, input: jobs[index].input))")
            }
        )
        bar.finish()
        if timings {
            let wall = start.duration(to: clock.now)
            let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18
            func format(_ value: Double) -> String { String(format: "%.3f", value) }
            printError(
                "superres: \(jobs.count) image\(jobs.count == 1 ? "" : "s") in \(format(seconds)) s; busy time: "
                    + "decode \(format(times.decode)) s, upscale \(format(times.upscale)) s, "
                    + "encode and write \(format(times.encode)) s")
        }
        if interruption.isRequested {
            printError("superres: interrupted; unfinished results were not written")
            throw ExitCode(interruption.exitStatus)
        }
        if failures.count > 0 { throw ExitCode(1) }
    }

    /// The `--cmyk-profile` file as a CMYK ICC profile (nil without the option); a clear error when it is not one.
    func loadCMYKProfile() throws -> ICCProfile? {
        guard let cmykProfile else { return nil }
        let bytes = try ImageFile.readBytes(cmykProfile)
        guard let profile = ICCProfile(bytes), profile.colourSpace == "CMYK", profile.converts(cmyk: true) else {
            throw ImagingError(
                .colourProfile, source: cmykProfile, message: "--cmyk-profile: not a CMYK ICC profile lcms2 can use")
        }
        return profile
    }

    /// `--dry-run`: decodes and plans each job and prints what its upscale would do and need.
    func printDryRun(_ jobs: [FileJob], batch: FileBatch) throws {
        var failed = false
        for job in jobs {
            do {
                let (picture, plan, metadata) = try batch.prepare(job, bytes: try ImageFile.readBytes(job.input))
                let image = picture.shape
                let streamedInput = if case .streamed = picture { true } else { false }
                let size = plan.outputSize
                try batch.outputLimits.check(
                    outputWidth: size.width, outputHeight: size.height, format: job.format, source: job.input,
                    size: plan.sizeSummary)
                try batch.memory.check(image, output: size, format: job.format, source: job.input)
                let whole = MemoryBudget.wholePictureBytes(for: image, output: size)
                let streams = batch.memory.streams(image, output: size, format: job.format)
                let banded = plan.limitingMemory(to: batch.memory).bandedBytes(for: image, streamedInput: streamedInput)
                let how =
                    streams
                    ? "written in bands (about \(megabytes(banded)), the input "
                        + "\(streamedInput ? "read from its file a band at a time" : "decoded whole")): the whole "
                        + "picture would need about \(megabytes(whole)), over the \(megabytes(batch.memory.bytes)) budget"
                    : "made whole (about \(megabytes(whole)), within the \(megabytes(batch.memory.bytes)) budget)"
                print("\(job.input) → \(job.output): \(image.width)×\(image.height) to \(size) \(job.format.displayName)")
                print("  \(plan.summary)")
                print("  \(how)")
                let output = batch.outputMetadata(metadata, image: image, plan: plan)
                for line in metadata.report(output: output, format: job.format, width: size.width, height: size.height) {
                    print("  \(line)")
                }
            } catch {
                failed = true
                printError("superres: \(describe(error, input: job.input))")
            }
        }
        if failed { throw ExitCode(1) }
    }

    private func megabytes(_ bytes: Int) -> String { "\((bytes + (1 << 19)) >> 20) MiB" }

    /// Fetches the models `auto` needs for this run that are not in the store yet (`FirstUseFetch`).
    func fetchDefaultModels() async throws {
        let missing = try CommandLineFailure.reporting { try modelOptions.missingDefaultModels() }
        try await FirstUseFetch.fetch(missing)
    }

    /// Expands folders, decides whether OUTPUT is a file or a folder, and picks each output's name and format.
    func planJobs() throws -> [FileJob] {
        let fileManager = FileManager.default
        var files: [String] = []
        var sawFolder = false
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw CommandLineFailure("\(input): no such file or folder")
            }
            if isDirectory.boolValue {
                sawFolder = true
                let names = try fileManager.contentsOfDirectory(atPath: input).sorted()
                let images = names.filter { ImageFormat(fileExtension: ($0 as NSString).pathExtension) != nil }
                if images.isEmpty { throw CommandLineFailure("\(input): no PNG, JPEG, WebP or TIFF images in this folder") }
                files += images.map { (input as NSString).appendingPathComponent($0) }
            } else {
                files.append(input)
            }
        }
        let requested = format.flatMap { ImageFormat(fileExtension: $0) }
        var outputIsFolder = sawFolder || files.count > 1 || output.hasSuffix("/")
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue { outputIsFolder = true }
        if !outputIsFolder {
            let fromName = ImageFormat(fileExtension: (output as NSString).pathExtension)
            guard let chosen = requested ?? fromName else {
                throw CommandLineFailure("\(output): cannot tell the output format from the name; use --format")
            }
            return [FileJob(input: files[0], output: output, format: chosen)]
        }
        try fileManager.createDirectory(atPath: output, withIntermediateDirectories: true)
        var jobs: [FileJob] = []
        var seen: Set<String> = []
        for file in files {
            let inputFormat = ImageFormat(fileExtension: (file as NSString).pathExtension) ?? .png
            let chosen = requested ?? inputFormat
            let stem = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
            let target = (output as NSString).appendingPathComponent("\(stem).\(chosen.fileExtension)")
            guard seen.insert(target).inserted else {
                throw CommandLineFailure("\(file): another input also writes \(target)")
            }
            jobs.append(FileJob(input: file, output: target, format: chosen))
        }
        return jobs
    }
}
