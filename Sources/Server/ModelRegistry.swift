import Foundation
import Imaging
import Kernels
import Models
import Pipeline

/// One model the server has loaded and checked, with the name clients ask for it by.
public struct LoadedModel: Sendable {
    /// The name used in `?model=` and in `/api/v1/models`: the file name without `.pb`, or the catalogue name.
    public let name: String
    /// The file it was loaded from.
    public let path: String
    /// The loaded network.
    public let model: SuperResolutionModel
    /// The upscaler running it (default options: the same pixels as `superres upscale`).
    public let upscaler: Upscaler

    /// The network family.
    public var family: ModelFamily { model.family }
    /// Output size ÷ input size.
    public var scale: Int { model.scale }
}

/// The models the server offers; the first one is the default.
public struct ModelRegistry: Sendable {
    /// Every loaded model, the default first.
    public let models: [LoadedModel]

    /// The model used when a request names none.
    public var defaultModel: LoadedModel { models[0] }

    /// A registry over already loaded models (at least one).
    public init(models: [LoadedModel]) {
        precondition(!models.isEmpty, "a registry needs a model")
        self.models = models
    }

    /// Turns what the user wrote after `--model` into the loaded network, its file and the name clients use.
    public typealias Loader = @Sendable (String) throws -> (model: SuperResolutionModel, path: String, name: String)

    /// Loads each model (blocking: call it on a worker thread), checks it by enlarging a small picture, and names it.
    public static func load(
        _ specifications: [String],
        options: UpscaleOptions = UpscaleOptions(),
        using loader: Loader = { try ModelRegistry.loadFileOrCatalogueModel($0) }
    ) throws(ServerStartupError) -> ModelRegistry {
        guard !specifications.isEmpty else {
            throw ServerStartupError("no model given: pass --model PATH (or set SUPERRES_MODEL)")
        }
        var loaded: [LoadedModel] = []
        var names: Set<String> = []
        for specification in specifications {
            let found: (model: SuperResolutionModel, path: String, name: String)
            do {
                found = try loader(specification)
            } catch let error as ModelError {
                throw ServerStartupError("model \(error)")
            } catch {
                throw ServerStartupError("model \(specification): \(error)")
            }
            let upscaler = Upscaler(model: found.model, options: options)
            try check(upscaler, path: found.path)
            var name = found.name
            var suffix = 2
            while names.contains(name) {
                name = "\(found.name)-\(suffix)"
                suffix += 1
            }
            names.insert(name)
            loaded.append(LoadedModel(name: name, path: found.path, model: found.model, upscaler: upscaler))
        }
        return ModelRegistry(models: loaded)
    }

    /// A file is loaded as it is and named after itself (`FSRCNN_x3`); anything else is taken as a catalogue name
    /// (`espcn-x2`) installed in the model store (`ModelStore.locate`), and keeps that name.
    public static func loadFileOrCatalogueModel(
        _ specification: String, precision: Precision = .fp32
    ) throws -> (model: SuperResolutionModel, path: String, name: String) {
        let stem = ((specification as NSString).lastPathComponent as NSString).deletingPathExtension
        if FileManager.default.fileExists(atPath: specification) {
            return (try ModelLoader.load(path: specification, precision: precision), specification, stem)
        }
        let model = try ModelLoader.load(nameOrPath: specification, precision: precision)
        let path = try ModelStore.locate(specification)
        return (model, path, ModelCatalogue.entry(named: specification)?.name ?? stem)
    }

    /// Enlarges a 16×16 colour picture and checks the size of the result, so that a model that loads but cannot run
    /// stops the server before it listens.
    static func check(_ upscaler: Upscaler, path: String) throws(ServerStartupError) {
        let side = 16
        var samples = [UInt8](repeating: 0, count: side * side * 3)
        for index in samples.indices { samples[index] = UInt8(truncatingIfNeeded: index &* 37) }
        let picture = PixelImage(width: side, height: side, layout: .rgb, uint8: samples)
        let result: PixelImage
        do {
            result = try upscaler.upscale(picture)
        } catch {
            throw ServerStartupError("model \(path): the network failed on a test picture: \(error)")
        }
        let expected = side * upscaler.model.scale
        guard result.width == expected, result.height == expected else {
            throw ServerStartupError(
                "model \(path): a \(side)×\(side) test picture came out \(result.width)×\(result.height), "
                    + "not \(expected)×\(expected)"
            )
        }
    }

    /// The model for a request's `model` and `scale` parameters.
    ///
    /// No name: the default model if its scale fits (or no scale is asked), else the first model of that scale.
    func select(name: String?, scale: Int?) throws(ServiceError) -> LoadedModel {
        let offered = models.map { "\($0.name) (×\($0.scale))" }.joined(separator: ", ")
        if let name {
            guard let model = models.first(where: { $0.name == name }) else {
                throw ServiceError(.unknownModel, "There is no model named '\(name)'. Available: \(offered).")
            }
            if let scale, scale != model.scale {
                throw ServiceError(
                    .unknownModel,
                    "The model '\(name)' enlarges ×\(model.scale), not ×\(scale). Available: \(offered)."
                )
            }
            return model
        }
        guard let scale else { return defaultModel }
        if defaultModel.scale == scale { return defaultModel }
        guard let model = models.first(where: { $0.scale == scale }) else {
            throw ServiceError(.unknownModel, "No loaded model enlarges ×\(scale). Available: \(offered).")
        }
        return model
    }
}

/// Why `superres serve` could not start; printed as one line on standard error.
public struct ServerStartupError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, naming the file or setting.
    public let description: String

    /// An error saying `message`.
    public init(_ message: String) { description = message }
}
