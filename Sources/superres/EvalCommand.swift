import ArgumentParser
import Evaluation
import Foundation
import Kernels
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
    var datasets: [String]

    @Option(help: "Scale factor; every model must be a model of this scale.")
    var scale: Int

    @Option(
        name: .customLong("model"),
        help: "Model name or file (.pb); repeat for several. Bicubic is always included."
    )
    var models: [String] = []

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

    @Option(help: "Compute threads (default: one per core).")
    var threads: Int?

    @Option(help: "Convolution arithmetic of the models: fp32 (default) or bf16.")
    var precision: Precision = .fp32

    @Flag(help: "Print per-image values as well as the means (JSON always has them; Markdown gets them too).")
    var perImage = false

    func validate() throws {
        if !(1...16).contains(scale) { throw ValidationError("--scale must be 1...16") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if datasets.isEmpty { throw ValidationError("give at least one --dataset") }
    }

    func run() throws {
        if let threads { ComputePool.configure(threads: threads) }
        let methods = try CommandLineFailure.reporting {
            try models.map { nameOrPath -> EvaluationMethod in
                let model = try ModelLoader.load(nameOrPath: nameOrPath, precision: precision)
                let isFile = FileManager.default.fileExists(atPath: nameOrPath)
                let name = isFile ? EvaluationMethod.name(forModelAt: nameOrPath) : nameOrPath
                return EvaluationMethod(name: name, upscaler: Upscaler(model: model))
            }
        }
        let evaluator = try CommandLineFailure.reporting {
            try Evaluator(scale: scale, models: methods, kernel: lrKernel)
        }
        var report = EvaluationReport(lrKernel: lrKernel)
        let interactive = isatty(STDERR_FILENO) == 1
        for dataset in datasets {
            let datasetName = URL(fileURLWithPath: dataset).standardizedFileURL.lastPathComponent
            let rows = try CommandLineFailure.reporting {
                try evaluator.evaluate(
                    datasetAt: dataset,
                    progress: { done, total, name in
                        if interactive { printError("\(datasetName) ×\(scale) [\(done + 1)/\(total)] \(name)") }
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
            let clash = report.rows.contains { $0.dataset == datasetName }
            report.rows +=
                clash
                ? rows.map { row in
                    var renamed = row
                    renamed.dataset = dataset
                    return renamed
                } : rows
        }
        print(report.consoleTable(perImage: perImage), terminator: "")
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
