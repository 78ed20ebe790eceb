import Foundation
import Imaging
import Models
import Pipeline

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One way of enlarging the LR image: the bicubic baseline, a model, or a planner that chooses per image (`auto`).
package struct EvaluationMethod: Sendable {
    /// "bicubic", or the model's name.
    package let name: String
    /// Chooses the model for each image; nil for the bicubic baseline.
    package let planner: UpscalePlanner?

    /// MATLAB `imresize` bicubic, rounded to `uint8`: the baseline of every table.
    package static let bicubic = EvaluationMethod(name: "bicubic", planner: nil)

    /// A model, run through the same `Upscaler` as `superres upscale`.
    package init(name: String, upscaler: Upscaler) {
        self.init(name: name, planner: UpscalePlanner(fixed: upscaler, name: name))
    }

    /// A per-image choice of model (`auto`, or SRMD with `--noise auto`), as `superres upscale` makes it.
    package init(name: String, planner: UpscalePlanner?) {
        self.name = name
        self.planner = planner
    }

    /// A display name for a model file: its name without folder and extension ("FSRCNN_x3").
    package static func name(forModelAt path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }
}

/// One image through the protocol: its HR, LR, every method's output and scores.
package struct EvaluatedImage: Sendable {
    /// The image's file name.
    package var name: String
    /// The HR image cropped to a multiple of the scale.
    package var hr: PixelImage
    /// The LR input (degraded, when the evaluator degrades).
    package var lr: PixelImage
    /// The degradation estimated from the LR input and its file (the JPEG's tables).
    package var estimate: DegradationEstimate
    /// Each method's output, in the evaluator's order (bicubic first).
    package var outputs: [(method: String, image: PixelImage)]
    /// Each method's scores, in the same order.
    package var results: [ImageResult]
}

/// Runs the standard super-resolution evaluation protocol on data sets:
///
/// 1. HR cropped to a multiple of the scale (top-left origin);
/// 2. LR = MATLAB `imresize(HR, 1/scale, 'bicubic')` per channel in Double, MATLAB `uint8` rounding (or OpenCV's
///    INTER_CUBIC, see `LowResolutionKernel`);
/// 3. SR = each model's output on the LR; bicubic = MATLAB `imresize(LR, scale, 'bicubic')`, `uint8`;
/// 4. PSNR and SSIM on MATLAB's rounded Y (BT.601, 16...235), `scale` pixels of border removed.
package struct Evaluator: Sendable {
    /// The upscaling factor: HR is cropped to a multiple of it, and as many border pixels are left out of the scores.
    package let scale: Int
    /// The downscaling that makes each LR input from its HR image (MATLAB bicubic by default).
    package let kernel: LowResolutionKernel
    /// What happens to each LR input after the downscale (none by default: the standard protocol).
    package let degradation: LowResolutionDegradation
    /// Bicubic first, then the models in the order given.
    package let methods: [EvaluationMethod]

    /// An evaluator of `models` at `scale`: a model of another scale is chained (below `scale`) or its result shrunk
    /// by `filter` (above it), as `superres upscale --scale` does.
    package init(
        scale: Int,
        models: [EvaluationMethod] = [],
        kernel: LowResolutionKernel = .matlab,
        degradation: LowResolutionDegradation = .none,
        filter: ResizeFilter = .default
    ) throws(EvaluationError) {
        precondition(scale >= 1, "scale \(scale) is not positive")
        var names = Set(["bicubic"])
        var methods = [EvaluationMethod.bicubic]
        for model in models {
            guard let planner = model.planner?.with(request: .factor(Double(scale)), filter: filter) else { continue }
            // Two files with the same name (from different folders) get distinct labels.
            var name = model.name
            var suffix = 2
            while names.contains(name) {
                name = "\(model.name)#\(suffix)"
                suffix += 1
            }
            names.insert(name)
            methods.append(EvaluationMethod(name: name, planner: planner))
        }
        self.scale = scale
        self.kernel = kernel
        self.degradation = degradation
        self.methods = methods
    }

    /// The image files of a data set folder (PNG, JPEG, WebP), sorted by name, as full paths.
    package static func imageFiles(in folder: String) throws(EvaluationError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw EvaluationError(
                .datasetUnreadable,
                source: folder,
                message: "cannot list the folder",
                underlying: error
            )
        }
        let images = names.filter { ImageFormat(fileExtension: ($0 as NSString).pathExtension) != nil }.sorted()
        guard !images.isEmpty else {
            throw EvaluationError(
                .datasetUnreadable,
                source: folder,
                message: "no PNG, JPEG, WebP or TIFF images in this folder"
            )
        }
        return images.map { (folder as NSString).appendingPathComponent($0) }
    }

    /// Evaluates every method on every image of the folder: one row per method, named after the folder.
    ///
    /// `progress(done, total, name)` is called before each image; `inspect` gets each evaluated image (to save it).
    package func evaluate(
        datasetAt folder: String,
        progress: (Int, Int, String) -> Void = { _, _, _ in },
        inspect: (EvaluatedImage) throws(EvaluationError) -> Void = { _ in }
    ) throws(EvaluationError) -> [ResultRow] {
        let files = try Self.imageFiles(in: folder)
        let folderName = URL(fileURLWithPath: folder).standardizedFileURL.lastPathComponent
        let dataset = degradation.steps.isEmpty ? folderName : "\(folderName) \(degradation)"
        warmUp()
        var perMethod = [[ImageResult]](repeating: [], count: methods.count)
        for (index, file) in files.enumerated() {
            let name = (file as NSString).lastPathComponent
            progress(index, files.count, name)
            let image: PixelImage
            do {
                image = try ImageFile.read(file)
            } catch {
                throw EvaluationError(.datasetUnreadable, source: file, message: error.message, underlying: error)
            }
            let evaluated = try evaluate(image, name: name, source: file)
            for (m, result) in evaluated.results.enumerated() { perMethod[m].append(result) }
            try inspect(evaluated)
        }
        return zip(methods, perMethod).map { method, images in
            var row = ResultRow(dataset: dataset, model: method.name, scale: scale, images: images)
            row.degradation = degradation.steps.isEmpty ? nil : degradation.description
            return row
        }
    }

    /// One image through the protocol with every method.
    package func evaluate(
        _ image: PixelImage,
        name: String,
        source: String? = nil
    ) throws(EvaluationError) -> EvaluatedImage {
        let source = source ?? name
        let hr = try Degradation.cropToMultiple(Degradation.prepared(image, source: source), of: scale, source: source)
        let clean = Degradation.downscale(hr, scale: scale, kernel: kernel)
        let (lr, encoded) = try degradation.apply(to: clean, seed: name)
        let estimate = DegradationEstimate.analyse(lr, encoded: encoded)
        let hrLuma = LumaPlane(matlabLumaOf: hr)
        var outputs: [(method: String, image: PixelImage)] = []
        var results: [ImageResult] = []
        for method in methods {
            var choice: String?
            let (output, wall, cpu) = try Self.timed { () throws(EvaluationError) -> PixelImage in
                guard let planner = method.planner else { return Degradation.bicubicUpscale(lr, scale: scale) }
                // The image's estimate, made once above, serves every planner (times are the models alone).
                do {
                    let plan = try planner.plan(for: lr, encoded: encoded, estimate: estimate)
                    if plan.choice != nil { choice = plan.choiceSummary }
                    return try plan.upscale(lr)
                } catch {
                    throw EvaluationError(
                        .modelFailed,
                        source: source,
                        message: "\(method.name): \(error)",
                        underlying: error
                    )
                }
            }
            let luma = LumaPlane(matlabLumaOf: output)
            precondition(luma.width == hrLuma.width && luma.height == hrLuma.height, "\(method.name) output size")
            results.append(
                ImageResult(
                    image: name,
                    psnr: QualityMetrics.psnr(hrLuma, luma, border: scale),
                    ssim: QualityMetrics.ssim(hrLuma, luma, border: scale),
                    seconds: wall,
                    cpuSeconds: cpu,
                    width: hr.width,
                    height: hr.height,
                    estimate: estimate,
                    choice: choice
                )
            )
            outputs.append((method.name, output))
        }
        return EvaluatedImage(name: name, hr: hr, lr: lr, estimate: estimate, outputs: outputs, results: results)
    }

    /// Runs each model once on a small image so that one-time set-up (threads, buffers) is not timed.
    func warmUp() {
        let side = 24
        let pixels = (0..<(side * side * 3)).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let image = PixelImage(width: side, height: side, layout: .rgb, uint8: pixels)
        for method in methods { _ = try? method.planner?.plan(for: image, encoded: nil).upscale(image) }
    }

    /// `body`'s result with the wall-clock and process CPU seconds it took.
    static func timed<T>(
        _ body: () throws(EvaluationError) -> T
    ) throws(EvaluationError) -> (T, wall: Double, cpu: Double) {
        let clock = ContinuousClock()
        let cpuStart = processCPUSeconds()
        let start = clock.now
        let value = try body()
        let elapsed = clock.now - start
        let cpu = processCPUSeconds() - cpuStart
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return (value, wall, cpu)
    }

    /// CPU time of the whole process so far, all threads.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
