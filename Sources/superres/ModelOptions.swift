import ArgumentParser
import Foundation
import Imaging
import Kernels
import ModelStore
import Models
import Pipeline

/// Model selection shared by the commands that run a model.
struct ModelOptions: ParsableArguments {
    @Option(
        help: """
            Model: auto (default: the clean model of the scale for clean inputs, SRMD with a fitting noise level \
            for compressed or noisy ones; auto-x2, auto-x3, auto-x4 name the scale), a catalogue name (see \
            `superres models list`) or a model file (.pb, or ncnn .param).
            """)
    var model: String = "auto"

    @Option(help: "Model family: edsr, espcn, fsrcnn or lapsrn (default: detected from the file).")
    var algo: ModelFamily?

    @Option(help: "Scale the model must have (default: read from the file; 3 for auto).")
    var scale: Int?

    @Option(
        help: """
            Convolution arithmetic: fp32 (default; OpenCV's pixels) or bf16 (faster on CPUs with AMX or AVX-512 \
            BF16, within about a grey level of fp32; an error on other CPUs).
            """)
    var precision: Precision = .fp32

    /// The scale `--model auto` (or auto-xN) asks for; nil when the model is not auto.
    func autoScale() throws -> Int? {
        guard let stated = AutoModelName(model) else { return nil }
        if algo != nil { throw CommandLineFailure("--algo names a family; --model \(model) chooses the model itself") }
        if let named = stated.scale, let scale, named != scale {
            throw CommandLineFailure("--model \(model) is ×\(named) but --scale is \(scale)")
        }
        return stated.scale(stated: scale)
    }

    /// How each input's model is chosen: `auto`, SRMD with its noise level from the input, or one fixed model.
    func planner(options: UpscaleOptions) throws -> UpscalePlanner {
        if let scale = try autoScale() {
            return try UpscalePlanner.auto(scale: scale, options: options, precision: precision)
        }
        let loaded = try load()
        let isFile = FileManager.default.fileExists(atPath: model)
        let name = isFile ? ((model as NSString).lastPathComponent as NSString).deletingPathExtension : model
        return UpscalePlanner.forModel(Upscaler(model: loaded, options: options), name: name)
    }

    func load() throws -> SuperResolutionModel {
        if precision == .bf16 && BFloat16Hardware.best == .avx512 {
            printError("superres: note: this CPU has AVX-512 BF16 but no AMX; bf16 runs slower than fp32 here")
        }
        return try ModelLoader.load(nameOrPath: model, family: algo, scale: scale, precision: precision)
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
extension JPEGChroma: ExpressibleByArgument {}

