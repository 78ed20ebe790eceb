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
    /// Every file behind the name (every network `auto` may run).
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
    /// The pictures it was trained for: the catalogue's word for a catalogue model (or a file of one), photo
    /// otherwise (`auto` and files the catalogue does not know).
    package var content: ModelCatalogue.Content {
        if case .auto = planner.mode { return .photo }
        let file = (path as NSString).lastPathComponent
        let entry = ModelCatalogue.entry(named: name)
            ?? ModelCatalogue.all.first { $0.files.first?.name == file }
        return entry?.content ?? .photo
    }

    /// Output size ÷ input size when a request asks for no other (`auto`: its scale, whatever its models' own).
    package var scale: Int { planner.scale }
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

    /// `auto` at `scale`: the clean models and SRMD of every scale it may run (so that any `scale`, `width` or
    /// `height` a request asks for is served without loading anything later), each checked.
    static func loadAuto(
        scale: Int,
        options: UpscaleOptions,
        name: String,
        find: (String) throws(ServerStartupError) -> (model: SuperResolutionModel, path: String, name: String)
    ) throws(ServerStartupError) -> LoadedModel {
        guard AutoModels.scales.contains(scale) else {
            throw ServerStartupError("model \(name): auto-x2, auto-x3 and auto-x4 exist, not auto-x\(scale)")
        }
        var loaded: [String: SuperResolutionModel] = [:]
        var paths: [String] = []
        for part in AutoModels.modelNames(for: nil) {
            let found = try find(part)
            let upscaler = Upscaler(model: found.model, options: options)
            let isDenoiser = AutoModels.denoisers.values.contains(part)
            let checked = isDenoiser ? upscaler.withNoiseLevel(SRMDProcessing.defaultNoiseLevel) : upscaler
            try check(checked, path: found.path)
            guard !isDenoiser || upscaler.takesNoiseLevel else {
                throw ServerStartupError(
                    "model \(name): \(found.path) must be SRMD (\(part)), which takes a noise level")
            }
            loaded[part] = found.model
            paths.append(found.path)
        }
        let models = loaded
        let provider = ModelProvider(load: { part throws(ModelError) in
            guard let model = models[part] else {
                throw ModelError(.unreadable, source: part, "not loaded when the server started")
            }
            return model
        })
        let planner: UpscalePlanner
        do {
            planner = try UpscalePlanner.auto(scale: scale, options: options, provider: provider)
        } catch {
            throw ServerStartupError("model \(name): \(error)")
        }
        guard let cleanName = AutoModels.cleanModels[scale], let clean = models[cleanName] else {
            throw ServerStartupError("model \(name): auto has no clean model at ×\(scale)")
        }
        return LoadedModel(
            name: name, path: paths[0], model: clean, upscaler: Upscaler(model: clean, options: options),
            planner: planner, paths: paths)
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

    /// The model for a request's `model` and size parameters.
    ///
    /// A name picks that model, which then runs at any size asked for (chained or shrunk). Without a name: the
    /// default model, unless it is a fixed model and another loaded model has the whole scale asked for natively.
    func select(name: String?, request: OutputRequest?) throws(ServiceError) -> LoadedModel {
        if let name {
            guard let model = models.first(where: { $0.name == name }) else {
                let offered = models.map { "\($0.name) (×\($0.scale))" }.joined(separator: ", ")
                throw ServiceError(.unknownModel, "There is no model named '\(name)'. Available: \(offered).")
            }
            return model
        }
        guard case .factor(let factor)? = request, defaultModel.familyName != "auto",
            Double(defaultModel.scale) != factor,
            let native = models.first(where: { Double($0.scale) == factor })
        else { return defaultModel }
        return native
    }
}
