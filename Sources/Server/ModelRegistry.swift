import Foundation
import Imaging
import Kernels
import ModelStore
import Models
import Pipeline

/// One model the server has loaded and checked, with the name clients ask for it by.
package struct LoadedModel: Sendable {
    /// The name used in `?model=` and in `/api/v1/models`: the file name without `.pb`, or the catalogue name.
    package let name: String
    /// The file it was loaded from.
    package let path: String
    /// The loaded network.
    package let model: SuperResolutionModel
    /// The upscaler running it (default options: the same pixels as `superres upscale`); for `auto`, the clean one.
    package let upscaler: Upscaler
    /// Chooses the network per upload: `auto` between the clean model and SRMD, SRMD's noise level, or fixed.
    package let planner: UpscalePlanner
    /// Every file behind the name (two for `auto`).
    package let paths: [String]

    /// A loaded model; `planner` nil means `UpscalePlanner.forModel(upscaler)` (SRMD follows each input's noise).
    package init(
        name: String, path: String, model: SuperResolutionModel, upscaler: Upscaler, planner: UpscalePlanner? = nil,
        paths: [String]? = nil
    ) {
        self.name = name
        self.path = path
        self.model = model
        self.upscaler = upscaler
        self.planner = planner ?? UpscalePlanner.forModel(upscaler, name: name)
        self.paths = paths ?? [path]
    }

    /// The network family; "auto" for the automatic choice.
    package var familyName: String {
        if case .auto = planner.mode { return "auto" }
        return model.family.rawValue
    }
    /// Output size ÷ input size.
    package var scale: Int { model.scale }
}

/// The models the server offers; the first one is the default.
package struct ModelRegistry: Sendable {
    /// Every loaded model, the default first.
    package let models: [LoadedModel]

    /// The model used when a request names none.
    package var defaultModel: LoadedModel { models[0] }

    /// A registry over already loaded models (at least one).
    package init(models: [LoadedModel]) {
        precondition(!models.isEmpty, "a registry needs a model")
        self.models = models
    }

    /// Turns what the user wrote after `--model` into the loaded network, its file and the name clients use.
    package typealias Loader = @Sendable (String) throws -> (model: SuperResolutionModel, path: String, name: String)

    /// Loads each model (blocking: call it on a worker thread), checks it by enlarging a small picture, and names it.
    package static func load(
        _ specifications: [String],
        options: UpscaleOptions = UpscaleOptions(),
        using loader: Loader = { try ModelRegistry.loadFileOrCatalogueModel($0) }
    ) throws(ServerStartupError) -> ModelRegistry {
        guard !specifications.isEmpty else {
            throw ServerStartupError("no model given: pass --model PATH (or set SUPERRES_MODEL)")
        }
        var loaded: [LoadedModel] = []
        var names: Set<String> = []
        func find(_ specification: String) throws(ServerStartupError) -> (
            model: SuperResolutionModel, path: String, name: String
        ) {
            do {
                return try loader(specification)
            } catch let error as ModelError {
                throw ServerStartupError("model \(error)")
            } catch {
                throw ServerStartupError("model \(specification): \(error)")
            }
        }
        func uniqueName(_ wanted: String) -> String {
            var name = wanted
            var suffix = 2
            while names.contains(name) {
                name = "\(wanted)-\(suffix)"
                suffix += 1
            }
            names.insert(name)
            return name
        }
        for specification in specifications {
            if let auto = AutoModelName(specification) {
                let scale = auto.scale()
                loaded.append(
                    try loadAuto(scale: scale, options: options, name: uniqueName(specification), find: find))
                continue
            }
            let found = try find(specification)
            let upscaler = Upscaler(model: found.model, options: options)
            try check(upscaler, path: found.path)
            let name = uniqueName(found.name)
            loaded.append(LoadedModel(name: name, path: found.path, model: found.model, upscaler: upscaler))
        }
        return ModelRegistry(models: loaded)
    }

    /// `auto` at `scale`: the clean model and SRMD of that scale, both checked.
    static func loadAuto(
        scale: Int,
        options: UpscaleOptions,
        name: String,
        find: (String) throws(ServerStartupError) -> (model: SuperResolutionModel, path: String, name: String)
    ) throws(ServerStartupError) -> LoadedModel {
        guard UpscalePlanner.autoScales.contains(scale) else {
            throw ServerStartupError("model \(name): auto works at ×2, ×3 and ×4 (SRMD's scales), not ×\(scale)")
        }
        let clean = try find(UpscalePlanner.cleanModelName(scale: scale))
        let denoiser = try find(UpscalePlanner.denoiserName(scale: scale))
        let cleanUpscaler = Upscaler(model: clean.model, options: options)
        let denoiserUpscaler = Upscaler(model: denoiser.model, options: options)
        try check(cleanUpscaler, path: clean.path)
        try check(denoiserUpscaler.withNoiseLevel(SRMDProcessing.defaultNoiseLevel), path: denoiser.path)
        guard clean.model.scale == scale, denoiser.model.scale == scale, denoiserUpscaler.takesNoiseLevel else {
            throw ServerStartupError(
                "model \(name): \(clean.path) and \(denoiser.path) must be the ×\(scale) clean model and SRMD")
        }
        let planner = UpscalePlanner(
            .auto(
                clean: NamedUpscaler(name: clean.name, upscaler: cleanUpscaler),
                denoiser: NamedUpscaler(name: denoiser.name, upscaler: denoiserUpscaler)))
        return LoadedModel(
            name: name, path: clean.path, model: clean.model, upscaler: cleanUpscaler, planner: planner,
            paths: [clean.path, denoiser.path])
    }

    /// A file is loaded as it is and named after itself (`FSRCNN_x3`); anything else is taken as a catalogue name
    /// (`espcn-x2`) installed in the model store (`ModelStore.locate`), and keeps that name.
    package static func loadFileOrCatalogueModel(
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
