import ArgumentParser
import Evaluation
import Foundation
import Imaging
import Kernels
import ModelStore
import Models
import Pipeline

/// `superres eval --dataset DIR --scale N [--model NAME|PATH...]`
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure models against bicubic with the standard super-resolution protocol (PSNR and SSIM on Y).",
        discussion: """
            Each HR image is cropped to a multiple of the scale; the LR input is MATLAB's imresize bicubic \
            (antialiased, per RGB channel, rounded to uint8), or OpenCV's INTER_CUBIC with --lr-kernel \
            opencv-cubic. Bicubic (MATLAB imresize of the LR) is always measured beside the models. PSNR and SSIM \
            (Gaussian 11×11, σ 1.5) are computed on MATLAB's rgb2ycbcr Y rounded to integers, with a border of \
            `scale` pixels removed. Times are wall-clock seconds of each upscale on the CPU (the model alone: no \
            decoding, degrading or scoring).
            """
    )

    @Option(name: .customLong("dataset"), help: "Folder of HR images (repeat for several data sets).")
    var datasets: [String] = []

    @Option(
        name: .customLong("from-json"),
        help: "Write the tables and chart (--markdown, --plot) of an earlier run from its --json file; nothing is run.")
    var fromJSON: String?

    @Option(
        help: """
            Scale factor. A model of another scale runs as `superres upscale --scale` runs it: chained when it \
            enlarges less, its result shrunk by --downscale-filter when more.
            """)
    var scale: Int?

    @Option(
        help: "The antialiased filter that shrinks a model's result to the scale: bicubic (default), lanczos3 or area.")
    var downscaleFilter: ResizeFilter = .default

    @Option(
        name: .customLong("model"),
        help: """
            Model name or file (.pb, .param), or auto (auto-x2/x3/x4: the per-image choice of `superres upscale`); \
            repeat for several. Bicubic is always included.
            """
    )
    var models: [String] = []

    @Option(
        name: .customLong("degrade"),
        help: """
            What happens to the LR after the downscale: jpeg:Q (saved as a JPEG of quality Q and read back), \
            noise:S (Gaussian, σ S), joined by + in order (noise:5+jpeg:95), or none (default). Repeat for several; \
            each gives its own tables.
            """
    )
    var degradations: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: """
            Noise levels for SRMD models: auto (default: chosen per image, as `superres upscale` does) or levels \
            0...75; several (--noise 5 10 15) measure SRMD once per level.
            """
    )
    var noise: [NoiseSetting] = [.auto]

    @Option(help: "Write the results as JSON ({\"rows\": [...]}, per-image values included).")
    var json: String?

    @Option(help: "Write the results as Markdown tables.")
    var markdown: String?

    @Option(help: "Write an SVG chart of PSNR against time per megapixel.")
    var plot: String?

    @Option(help: "Write HR, LR, bicubic and each model's output, and a side-by-side crop, per image into this folder.")
    var saveImages: String?

    @Option(help: "How the LR input is made: matlab (standard) or opencv-cubic.")
    var lrKernel: LowResolutionKernel = .matlab

    @OptionGroup var compute: ComputeThreadsOption

    @Option(help: "Convolution arithmetic of the models: fp32 (default) or bf16.")
    var precision: Precision = .fp32

    @Flag(help: "Print per-image values as well as the means (JSON always has them; Markdown gets them too).")
    var perImage = false

    @Flag(
        help: """
            Also evaluate each model (other than auto and the SRMD models that take a noise level) with \
            self-ensemble: the eight flips and rotations averaged (listed again as NAME +tta; eight times the work).
            """)
    var tta = false

    /// The scale evaluated at (`--scale` is required unless `--from-json` is given).
    var evaluationScale: Int { scale ?? AutoModelName.defaultScale }

    func validate() throws {
        try compute.check()
        if fromJSON != nil { return }
        guard let scale else { throw ValidationError("give --scale") }
        if !(1...16).contains(scale) { throw ValidationError("--scale must be 1...16") }
        if datasets.isEmpty { throw ValidationError("give at least one --dataset") }
        for case .level(let level) in noise where !SRMDProcessing.noiseLevels.contains(level) {
            throw ValidationError("--noise levels must be auto or 0...75")
        }
    }

    func run() throws {
        compute.configurePool()
        if let fromJSON {
            let report = try CommandLineFailure.reporting {
                try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: URL(fileURLWithPath: fromJSON)))
            }
            print(report.consoleTable(perImage: perImage), terminator: "")
            try write(report)
            return
        }
        let methods = try CommandLineFailure.reporting { try evaluationMethods() }
        let degradations = try CommandLineFailure.reporting {
            try (self.degradations.isEmpty ? ["none"] : self.degradations).map {
                spec throws(EvaluationError) in try LowResolutionDegradation(parsing: spec)
            }
        }
        var report = EvaluationReport(lrKernel: lrKernel)
        let interactive = isatty(STDERR_FILENO) == 1
        for degradation in degradations {
            let evaluator = try CommandLineFailure.reporting {
                try Evaluator(
                    scale: evaluationScale, models: methods, kernel: lrKernel, degradation: degradation,
                    filter: downscaleFilter)
            }
            try evaluate(with: evaluator, into: &report, interactive: interactive)
        }
        print(report.consoleTable(perImage: perImage), terminator: "")
        try write(report)
    }

    /// One method per model, SRMD models once per noise level; `auto` as the per-image choice.
    func evaluationMethods() throws -> [EvaluationMethod] {
        var methods: [EvaluationMethod] = []
        for nameOrPath in models {
            if let stated = AutoModelName(nameOrPath) {
                if let named = stated.scale, named != evaluationScale {
                    throw CommandLineFailure(
                        "--model \(nameOrPath) is ×\(named); the evaluation is at ×\(evaluationScale)")
                }
                let planner = try UpscalePlanner.auto(
                    scale: AutoModels.scales.contains(evaluationScale) ? evaluationScale : AutoModelName.defaultScale,
                    provider: ModelProvider(precision: precision))
                methods.append(EvaluationMethod(name: "auto", planner: planner))
                continue
            }
            let model = try ModelLoader.load(nameOrPath: nameOrPath, precision: precision)
            let isFile = FileManager.default.fileExists(atPath: nameOrPath)
            let name = isFile ? EvaluationMethod.name(forModelAt: nameOrPath) : nameOrPath
            let upscaler = Upscaler(model: model)
            guard upscaler.takesNoiseLevel else {
                methods.append(EvaluationMethod(name: name, upscaler: upscaler))
                if tta {
                    let ensemble = Upscaler(model: model, options: UpscaleOptions(selfEnsemble: true))
                    methods.append(EvaluationMethod(name: "\(name) +tta", upscaler: ensemble))
                }
                continue
            }
            for setting in noise {
                switch setting {
                case .auto:
                    methods.append(EvaluationMethod(name: name, planner: UpscalePlanner.forModel(upscaler, name: name)))
                case .level(let level):
                    let label = noise.count == 1 ? name : "\(name) n\(level)"
                    methods.append(EvaluationMethod(name: label, upscaler: upscaler.withNoiseLevel(level)))
                }
            }
        }
        return methods
    }

    /// Every data set through `evaluator`, its rows added to `report`.
    func evaluate(with evaluator: Evaluator, into report: inout EvaluationReport, interactive: Bool) throws {
        for dataset in datasets {
            let datasetName = URL(fileURLWithPath: dataset).standardizedFileURL.lastPathComponent
            let rows = try CommandLineFailure.reporting {
                try evaluator.evaluate(
                    datasetAt: dataset,
                    progress: { done, total, name in
                        if interactive {
                            let degraded = evaluator.degradation.steps.isEmpty ? "" : " \(evaluator.degradation)"
                            printError("\(datasetName)\(degraded) ×\(evaluator.scale) [\(done + 1)/\(total)] \(name)")
                        }
                    },
                    inspect: { evaluated throws(EvaluationError) in
                        guard let saveImages else { return }
                        try ComparisonImages.write(
                            evaluated,
                            to: (saveImages as NSString).appendingPathComponent(datasetName)
                        )
                    }
                )
            }
            // Two folders of the same name (a/Set5, b/Set5) are told apart by their paths.
            let label = rows.first?.dataset ?? datasetName
            let clash = report.rows.contains { $0.dataset == label }
            report.rows +=
                clash
                ? rows.map { row in
                    var renamed = row
                    renamed.dataset = row.degradation.map { "\(dataset) \($0)" } ?? dataset
                    return renamed
                } : rows
        }
    }

    /// The report in the files asked for.
    func write(_ report: EvaluationReport) throws {
        try CommandLineFailure.reporting {
            if let json {
                try report.jsonData().write(to: URL(fileURLWithPath: json), options: .atomic)
            }
            if let markdown {
                try Data(report.markdown(perImage: perImage).utf8).write(
                    to: URL(fileURLWithPath: markdown),
                    options: .atomic
                )
            }
            if let plot {
                try Data(QualityChart(report: report, threads: ComputePool.shared.threadCount).svg().utf8).write(
                    to: URL(fileURLWithPath: plot),
                    options: .atomic
                )
            }
        }
    }
}

extension LowResolutionKernel: ExpressibleByArgument {}
