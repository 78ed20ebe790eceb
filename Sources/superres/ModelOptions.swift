import ArgumentParser
import Foundation
import Imaging
import Kernels
import ModelStore
import Models
import Pipeline

/// Model selection and the size of the result, for `superres upscale`.
struct ModelOptions: ParsableArguments {
    @Option(
        help: """
            Model: auto (default: for clean inputs the best clean model of the enlargement, SPAN; for compressed or \
            noisy ones SRMD with a fitting noise level; fetched into the model store on first use), auto-x2, \
            auto-x3 or auto-x4 (auto at that scale), a catalogue or added name (see `superres models list`) or a \
            model file (.pb, ncnn .param, or .onnx).
            """)
    var model: String = "auto"

    @Option(help: "Model family: edsr, espcn, fsrcnn or lapsrn (default: detected from the file).")
    var algo: ModelFamily?

    @Option(
        help: """
            Enlargement: any number from 1 to 16, such as 1.5, 2.5, 3 or 8 (default: the model's own scale; 3 for \
            auto). A model that enlarges less runs again on its result (auto chains ×2 then ×4 for ×8); a result \
            larger than asked is shrunk by --downscale-filter.
            """)
    var scale: Double?

    @Option(
        help: "Output width in pixels; the height keeps the aspect ratio (with --height: the largest that fits both).")
    var width: Int?

    @Option(help: "Output height in pixels; the width follows the aspect ratio.")
    var height: Int?

    @Option(
        help: """
            The antialiased filter that shrinks a network's result to the size asked for: bicubic (default, the \
            best measured on Set5, Set14 and BSD68), lanczos3 or area.
            """)
    var downscaleFilter: ResizeFilter = .default

    @Option(
        help: """
            Convolution arithmetic: fp32 (default; OpenCV's pixels) or bf16 (faster on CPUs with AMX or AVX-512 \
            BF16, within about a grey level of fp32; an error on other CPUs).
            """)
    var precision: Precision = .fp32

    @Option(
        help: """
            For an ONNX model: the values it takes and gives for black to white, 0-1 (default) or 0-255 (a model \
            added with `models add` keeps what was stated there).
            """)
    var inputRange: ONNXConvention.Range?

    @Option(help: "For an ONNX model: its channel order, rgb (default) or bgr.")
    var channels: ONNXConvention.Channels?

    /// The ONNX convention stated by `--input-range` and `--channels`, nil when neither is given.
    var convention: ONNXConvention? {
        guard inputRange != nil || channels != nil else { return nil }
        return ONNXConvention(range: inputRange ?? .unit, channels: channels ?? .rgb)
    }

    /// The size asked for by `--scale`, `--width` and `--height`; nil for the model's own scale.
    func request() throws -> OutputRequest? {
        let request: OutputRequest
        switch (scale, width, height) {
        case (nil, nil, nil): return nil
        case (let scale?, nil, nil): request = .factor(scale)
        case (nil, _, _): request = .size(width: width, height: height)
        default: throw CommandLineFailure("give --scale or a size (--width, --height), not both")
        }
        do {
            return try request.validated()
        } catch {
            throw CommandLineFailure("\(error)")
        }
    }

    /// The scale `--model auto` (or auto-xN) stands for; nil when the model is not auto.
    func autoScale() throws -> Int? {
        guard let stated = AutoModelName(model) else { return nil }
        if algo != nil { throw CommandLineFailure("--algo names a family; --model \(model) chooses the model itself") }
        if let named = stated.scale, let scale, Double(named) != scale {
            throw CommandLineFailure("--model \(model) is ×\(named) but --scale is \(OutputRequest.format(scale))")
        }
        if let named = stated.scale, !AutoModels.scales.contains(named) {
            throw CommandLineFailure("--model \(model): auto-x2, auto-x3 and auto-x4 exist; --scale takes any factor")
        }
        return stated.scale ?? AutoModelName.defaultScale
    }

    /// The catalogue models this run may need that are not installed yet: those of `auto` for the size asked for.
    func missingDefaultModels() throws -> [ModelCatalogue.Entry] {
        guard try autoScale() != nil else { return [] }
        let factor: Double? =
            switch try request() {
            case .factor(let factor)?: factor
            case .size?: nil
            case nil: Double(try autoScale() ?? AutoModelName.defaultScale)
            }
        return FirstUseFetch.missing(AutoModels.modelNames(for: factor))
    }

    /// How each input's model and size are chosen: `auto`, SRMD with its noise level from the input, or one fixed
    /// model, at the size asked for.
    func planner(options: UpscaleOptions) throws -> UpscalePlanner {
        let request = try request()
        if let scale = try autoScale() {
            return try UpscalePlanner.auto(
                scale: scale, request: request, options: options, filter: downscaleFilter,
                provider: ModelProvider(precision: precision))
        }
        let loaded = try load()
        let isFile = FileManager.default.fileExists(atPath: model)
        let name = isFile ? ((model as NSString).lastPathComponent as NSString).deletingPathExtension : model
        return UpscalePlanner.forModel(Upscaler(model: loaded, options: options), name: name)
            .with(request: request, filter: downscaleFilter)
    }

    func load() throws -> SuperResolutionModel {
        if precision == .bf16 && BFloat16Hardware.best == .avx512 {
            printError("superres: note: this CPU has AVX-512 BF16 but no AMX; bf16 runs slower than fp32 here")
        }
        return try ModelLoader.load(nameOrPath: model, family: algo, precision: precision, convention: convention)
    }
}

/// `--noise`: auto (from the input) or a fixed level.
enum NoiseSetting: ExpressibleByArgument, Equatable {
    case auto
    case level(Int)

    init?(argument: String) {
        if argument == "auto" {
            self = .auto
        } else if let level = Int(argument) {
            self = .level(level)
        } else {
            return nil
        }
    }

    /// The fixed level; nil for auto.
    var level: Int? {
        if case .level(let level) = self { return level }
        return nil
    }

    var defaultValueDescription: String { "auto" }
}

extension ModelFamily: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension ChromaInterpolation: ExpressibleByArgument {}
extension ColourMode: ExpressibleByArgument {}
extension TIFFCompression: ExpressibleByArgument {}
extension JPEGChroma: ExpressibleByArgument {}

extension ResizeFilter: ExpressibleByArgument {}

extension ONNXConvention.Range: ExpressibleByArgument {}
extension ONNXConvention.Channels: ExpressibleByArgument {}
