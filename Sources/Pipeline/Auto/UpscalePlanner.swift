import Foundation
import Imaging
import Kernels
import ModelStore
import Models
import PixelMath
import Synchronization

/// `--model auto` cannot be set up as asked (a scale without SRMD, a fixed noise level).
package struct AutoModelError: Error, CustomStringConvertible, Sendable {
    /// What is wrong and what to do instead.
    package let description: String
}

/// An upscaler with the name people know its model by.
package struct NamedUpscaler: Sendable {
    /// The catalogue name or the file name of the model.
    package let name: String
    /// The model with its options.
    package let upscaler: Upscaler

    /// A named upscaler.
    package init(name: String, upscaler: Upscaler) {
        self.name = name
        self.upscaler = upscaler
    }
}

/// Loads models by name once and keeps them: the catalogue models `auto` needs, on first use.
package final class ModelProvider: Sendable {
    /// Loads one model by catalogue name.
    package typealias Load = @Sendable (String) throws(ModelError) -> SuperResolutionModel

    private let load: Load
    private let loaded = Mutex<[String: SuperResolutionModel]>([:])

    /// A provider loading with `load` (by default from the model store, fp32).
    package init(load: @escaping Load = { name throws(ModelError) in try ModelLoader.load(nameOrPath: name) }) {
        self.load = load
    }

    /// A provider loading from the model store with `precision`.
    package convenience init(precision: Precision) {
        self.init(load: { name throws(ModelError) in try ModelLoader.load(nameOrPath: name, precision: precision) })
    }

    /// The model called `name`, loaded on the first call (under the lock, so it is loaded once).
    package func model(named name: String) throws(ModelError) -> SuperResolutionModel {
        try loaded.withLock { (models: inout [String: SuperResolutionModel]) throws(ModelError) in
            if let model = models[name] { return model }
            let model = try load(name)
            models[name] = model
            return model
        }
    }
}

/// The networks of `--model auto` at every enlargement: the clean model (the best measured on Set5, Set14 and
/// BSD68, docs/QUALITY.md) and SRMD (the denoiser) for each whole scale, and how they chain beyond ×4.
package struct AutoModels: Sendable {
    /// The clean model for each whole scale. ×3 has no SPAN: the ×4 SPAN shrunk to ×3 beats SRMD-NF ×3.
    package static let cleanModels: [Int: String] = [2: "span-ch52-x2", 3: "span-ch52-x4", 4: "span-ch52-x4"]
    /// SRMD, the denoiser, for each whole scale.
    package static let denoisers: [Int: String] = [2: "srmd-x2", 3: "srmd-x3", 4: "srmd-x4"]
    /// The scales `auto` names (`auto-x2`, `auto-x3`, `auto-x4`).
    package static let scales = 2...4

    /// Loads the models on first use.
    package let provider: ModelProvider
    /// The options every network runs with.
    package let options: UpscaleOptions

    /// `auto` with models from `provider`.
    package init(provider: ModelProvider = ModelProvider(), options: UpscaleOptions = UpscaleOptions()) {
        self.provider = provider
        self.options = options
    }

    /// The whole scale of the first network for an enlargement of `factor` (1...16): the smallest that reaches it,
    /// or, beyond ×4, the one that a ×4 second network completes.
    package static func firstScale(for factor: Double) -> Int {
        let needed = factor <= 4 ? factor : factor / 4
        return min(max(Int(needed.rounded(.up)), scales.lowerBound), scales.upperBound)
    }

    /// The catalogue names an enlargement of `factor` may run (every name when nil), clean models first.
    package static func modelNames(for factor: Double?) -> [String] {
        let first = factor.map { [firstScale(for: $0)] } ?? Array(scales)
        let chained = factor.map { $0 > 4 } ?? true
        var names = first.compactMap { cleanModels[$0] } + (chained ? [cleanModels[4]!] : [])
        names += first.compactMap { denoisers[$0] }
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }

    func named(_ name: String, noiseLevel: Int? = nil) throws(PipelineError) -> NamedUpscaler {
        let model: SuperResolutionModel
        do {
            model = try provider.model(named: name)
        } catch {
            throw .model(error)
        }
        var options = options
        options.noiseLevel = noiseLevel
        return NamedUpscaler(name: name, upscaler: Upscaler(model: model, options: options))
    }

    /// The networks for `choice` at `factor`: the clean model or SRMD at the first scale, then a clean ×4 beyond ×4.
    func route(_ choice: AutoChoice, factor: Double) throws(PipelineError) -> [NamedUpscaler] {
        let first = Self.firstScale(for: factor)
        var steps: [NamedUpscaler]
        switch choice {
        case .clean: steps = [try named(Self.cleanModels[first]!)]
        case .denoise(let level): steps = [try named(Self.denoisers[first]!, noiseLevel: level)]
        }
        let reached = Double(steps.reduce(1) { $0 * $1.upscaler.model.scale })
        if reached < factor { steps.append(try named(Self.cleanModels[4]!)) }
        return steps
    }
}

/// How one input will be enlarged: the networks chosen for it (one, or two in a chain), the size of the result and
/// why.
package struct UpscalePlan: Sendable {
    /// The networks, run one after the other; the last one's result is shrunk to `outputSize` by `filter`.
    package let steps: [NamedUpscaler]
    /// The size of the result.
    package let outputSize: PixelSize
    /// The antialiased filter that shrinks the last network's result to `outputSize` when it is larger.
    package let filter: ResizeFilter
    /// The input's size.
    package let inputSize: PixelSize
    /// What the input was estimated to have gone through; nil when the choice did not need it.
    package let estimate: DegradationEstimate?
    /// The automatic choice; nil for a fixed model with a fixed noise level.
    package let choice: AutoChoice?

    /// The first network (the one the choice is about).
    package var upscaler: Upscaler { steps[0].upscaler }
    /// The first network's name.
    package var modelName: String { steps[0].name }

    /// The choice for people: "srmd-x3, noise level 12" or "span-ch52-x4 (clean)", then any further network and the
    /// final resize: "span-ch52-x2 (clean), then span-ch52-x4, resized to 1000×750 (bicubic)".
    package var choiceSummary: String {
        let noise = upscaler.options.noiseLevel.map { ", noise level \($0)" } ?? ""
        var text: String
        switch choice {
        case .clean?: text = "\(modelName) (clean)"
        case .denoise?, nil: text = modelName + noise
        }
        for step in steps.dropFirst() { text += ", then \(step.name)" }
        if outputSize != naturalSize { text += ", resized to \(outputSize) (\(filter.rawValue))" }
        return text
    }

    /// The size the networks make before the final resize, for an input of `outputSize` ÷ the request.
    private var naturalSize: PixelSize {
        let product = steps.reduce(1) { $0 * $1.upscaler.model.scale }
        return PixelSize(width: inputSize.width * product, height: inputSize.height * product)
    }

    /// "64×48 enlarged ×3 is 192×144", or "64×48 enlarged to 160×120" when the result is not a whole multiple.
    package var sizeSummary: String { OutputRequest.sizeSummary(from: inputSize, to: outputSize) }

    /// "JPEG quality 40, blockiness 1.61, noise σ ≈ 0.0 → srmd-x3, noise level 12"; the model alone without an
    /// estimate.
    package var summary: String {
        guard let estimate else { return choiceSummary }
        return "\(estimate.summary) → \(choiceSummary)"
    }

    /// The same plan with the last network's bands and tiles sized for `memory` (a streamed result).
    package func limitingMemory(to memory: MemoryBudget) -> UpscalePlan {
        var steps = steps
        let last = steps.removeLast()
        steps.append(
            NamedUpscaler(
                name: last.name,
                upscaler: last.upscaler.limitingMemory(band: memory.bandBytes, network: memory.networkBytes)))
        return UpscalePlan(
            steps: steps, outputSize: outputSize, filter: filter, inputSize: inputSize, estimate: estimate,
            choice: choice)
    }

    /// The same plan with self-ensemble on every network.
    package func withSelfEnsemble() -> UpscalePlan {
        UpscalePlan(
            steps: steps.map { NamedUpscaler(name: $0.name, upscaler: $0.upscaler.withSelfEnsemble()) },
            outputSize: outputSize, filter: filter, inputSize: inputSize, estimate: estimate, choice: choice)
    }

    /// Runs the networks on `image` (of `inputSize`) and shrinks the result to `outputSize`. `progress(done, total)`
    /// counts the network's tiles; a chain counts each network as an equal share of 1000 (the later networks' tiles
    /// are not known before the earlier ones finish).
    package func upscale(
        _ image: PixelImage, progress: (Int, Int) -> Void = { _, _ in }, shouldCancel: () -> Bool = { false }
    ) throws(PipelineError) -> PixelImage {
        var current = image
        for (index, step) in steps.enumerated() {
            let last = index == steps.count - 1
            current = try step.upscaler.upscale(
                current, to: last ? outputSize : nil, filter: filter,
                progress: { let (done, total) = chainProgress(index, $0, $1); progress(done, total) },
                shouldCancel: shouldCancel)
        }
        return current
    }

    /// The result as `upscale` makes it, handed over in bands of full-width rows, top to bottom
    /// (`onRows(firstRow, band)`): the last network's result is never held whole (the earlier ones of a chain are).
    package func upscaleBands(
        _ image: PixelImage, progress: (Int, Int) -> Void = { _, _ in }, shouldCancel: () -> Bool = { false },
        onRows: (_ firstRow: Int, _ band: PixelImage) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        var current = image
        for (index, step) in steps.dropLast().enumerated() {
            current = try step.upscaler.upscale(
                current, filter: filter,
                progress: { let (done, total) = chainProgress(index, $0, $1); progress(done, total) },
                shouldCancel: shouldCancel)
        }
        try steps[steps.count - 1].upscaler.upscaleBands(
            current, to: outputSize, filter: filter,
            progress: { let (done, total) = chainProgress(steps.count - 1, $0, $1); progress(done, total) },
            shouldCancel: shouldCancel, onRows: onRows)
    }

    /// `upscaleBands` of the file `input`, decoded a band of rows at a time as a single network reaches them (a
    /// chain's first network runs on the whole picture, decoded first).
    package func upscaleBands(
        _ input: StreamedInput, progress: (Int, Int) -> Void = { _, _ in }, shouldCancel: () -> Bool = { false },
        onRows: (_ firstRow: Int, _ band: PixelImage) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        guard steps.count == 1 else {
            let image: PixelImage
            do throws(ImagingError) { image = try input.rows(0..<input.shape.height) } catch { throw .input(error) }
            try upscaleBands(image, progress: progress, shouldCancel: shouldCancel, onRows: onRows)
            return
        }
        try steps[0].upscaler.upscaleBands(
            ImagePlanes(PictureRows(streaming: input)), to: outputSize, filter: filter, progress: progress,
            shouldCancel: shouldCancel, onRows: onRows)
    }

    /// Step `index`'s progress `done` of `total` as progress of the whole chain (each step an equal share).
    private func chainProgress(_ index: Int, _ done: Int, _ total: Int) -> (Int, Int) {
        let share = 1000
        guard steps.count > 1 else { return (done, total) }
        return (index * share + (total > 0 ? done * share / total : share), steps.count * share)
    }
}

/// Chooses the networks for each input and the size of its result: always the same model, SRMD with the noise level
/// the input calls for (`--noise auto`), or, for `--model auto`, the scale's clean model or SRMD by
/// `AutoModelPolicy`; beyond the model's own scale it chains networks, short of it the result is shrunk.
package struct UpscalePlanner: Sendable {
    /// The ways of choosing.
    package enum Mode: Sendable {
        /// One model with fixed options for every input.
        case fixed(NamedUpscaler)
        /// An SRMD model whose noise level follows each input's estimate.
        case srmdAutoNoise(NamedUpscaler)
        /// The clean model or SRMD, by each input's estimate, at any enlargement.
        case auto(AutoModels)
    }

    /// How this planner chooses.
    package let mode: Mode
    /// The enlargement asked for; the model's own scale (×3 for `auto`) unless one was given.
    package let request: OutputRequest
    /// The filter that shrinks a network's result to the size asked for.
    package let filter: ResizeFilter
    /// The whole scale the planner stands for (`auto-x3`: 3; a fixed model: its own).
    package let scale: Int

    /// A planner choosing by `mode`; `scale` is `auto`'s (3 unless given) and ignored for the other modes.
    package init(
        _ mode: Mode, scale autoScale: Int = 3, request: OutputRequest? = nil, filter: ResizeFilter = .default
    ) {
        self.mode = mode
        switch mode {
        case .fixed(let named), .srmdAutoNoise(let named): scale = named.upscaler.model.scale
        case .auto: scale = autoScale
        }
        self.request = request ?? .factor(Double(scale))
        self.filter = filter
    }

    /// A planner that always runs `upscaler`.
    package init(fixed upscaler: Upscaler, name: String) {
        self.init(.fixed(NamedUpscaler(name: name, upscaler: upscaler)))
    }

    /// The same planner asked for another size (nil: the planner's own scale) or with another filter.
    package func with(request: OutputRequest?, filter: ResizeFilter? = nil) -> UpscalePlanner {
        UpscalePlanner(mode, scale: scale, request: request, filter: filter ?? self.filter)
    }

    /// The `auto` planner at `scale` (×2, ×3 or ×4 unless `request` asks for another size), its models loaded from
    /// the model store on first use.
    package static func auto(
        scale: Int = AutoModelName.defaultScale, request: OutputRequest? = nil,
        options: UpscaleOptions = UpscaleOptions(), filter: ResizeFilter = .default,
        provider: ModelProvider = ModelProvider()
    ) throws(AutoModelError) -> UpscalePlanner {
        guard AutoModels.scales.contains(scale) else {
            throw AutoModelError(
                description: "model auto-x\(scale) does not exist: auto-x2, auto-x3 and auto-x4 do (and --scale takes "
                    + "any factor from 1 to 16 with plain auto)")
        }
        guard options.noiseLevel == nil else {
            throw AutoModelError(
                description: "model auto chooses the noise level itself; for a fixed level name SRMD (srmd-x\(scale))")
        }
        return UpscalePlanner(
            .auto(AutoModels(provider: provider, options: options)), scale: scale, request: request, filter: filter)
    }

    /// The planner for a named or given model: SRMD without a noise level follows each input (`--noise auto`),
    /// anything else is fixed.
    package static func forModel(_ upscaler: Upscaler, name: String) -> UpscalePlanner {
        if upscaler.takesNoiseLevel && upscaler.options.noiseLevel == nil {
            return UpscalePlanner(.srmdAutoNoise(NamedUpscaler(name: name, upscaler: upscaler)))
        }
        return UpscalePlanner(fixed: upscaler, name: name)
    }

    /// Whether plans need the input's degradation estimate (and so the file's bytes).
    package var needsEstimate: Bool {
        if case .fixed = mode { return false }
        return true
    }

    /// The size of the result for an input of `input`, or why the request cannot be met.
    package func outputSize(for input: PixelSize) throws(PipelineError) -> PixelSize {
        try request.outputSize(for: input)
    }

    /// The plan for `image`, decoded from `encoded` (the file's bytes; nil when there is no file). `estimate`, when
    /// given, is used instead of analysing the picture again. Throws when the size asked for cannot be made from
    /// this picture, or a model `auto` needs cannot be loaded.
    package func plan(
        for image: PixelImage, encoded: [UInt8]?, estimate given: DegradationEstimate? = nil
    ) throws(PipelineError) -> UpscalePlan {
        try plan(for: PixelSize(width: image.width, height: image.height), given: given) { () throws(PipelineError) in
            DegradationEstimate.analyse(image, encoded: encoded)
        }
    }

    /// The plan for the file `input` (whose bytes are `encoded`), decoded a band at a time: an estimate reads only
    /// the rows of the picture's centre it measures. Errors of the file are `PipelineError.input`.
    package func plan(for input: StreamedInput, encoded: [UInt8]?) throws(PipelineError) -> UpscalePlan {
        try plan(for: PixelSize(width: input.shape.width, height: input.shape.height), given: nil) {
            () throws(PipelineError) in
            do throws(ImagingError) {
                return try DegradationEstimate.analyse(input, encoded: encoded)
            } catch {
                throw .input(error)
            }
        }
    }

    /// The plan for an input of size `input`: `given` is the estimate if known, else `makeEstimate` is asked for it
    /// by the modes that choose by it.
    private func plan(
        for input: PixelSize, given: DegradationEstimate?,
        estimate makeEstimate: () throws(PipelineError) -> DegradationEstimate
    ) throws(PipelineError) -> UpscalePlan {
        let output = try outputSize(for: input)
        let factor = OutputRequest.factor(from: input, to: output)
        func plan(_ steps: [NamedUpscaler], _ estimate: DegradationEstimate?, _ choice: AutoChoice?) -> UpscalePlan {
            UpscalePlan(
                steps: steps, outputSize: output, filter: filter, inputSize: input, estimate: estimate, choice: choice)
        }
        switch mode {
        case .fixed(let named):
            return plan(try Self.repeated(named, toReach: factor), given, nil)
        case .srmdAutoNoise(let named):
            let estimate: DegradationEstimate
            if let given { estimate = given } else { estimate = try makeEstimate() }
            let level = AutoModelPolicy.srmdLevel(for: estimate)
            // Later networks of a chain get the first one's cleaner result: no denoising there.
            var steps = try Self.repeated(named, toReach: factor)
            steps = steps.enumerated().map { index, step in
                NamedUpscaler(name: step.name, upscaler: step.upscaler.withNoiseLevel(index == 0 ? level : 0))
            }
            return plan(steps, estimate, .denoise(level: level))
        case .auto(let models):
            let estimate: DegradationEstimate
            if let given { estimate = given } else { estimate = try makeEstimate() }
            let choice = AutoModelPolicy.choose(estimate)
            return plan(try models.route(choice, factor: factor), estimate, choice)
        }
    }

    /// `named` as many times as it takes to reach `factor` (a ×2 model twice for ×4).
    static func repeated(_ named: NamedUpscaler, toReach factor: Double) throws(PipelineError) -> [NamedUpscaler] {
        let scale = named.upscaler.model.scale
        var steps = [named]
        var reached = scale
        while Double(reached) < factor {
            guard scale > 1 else {
                throw .badSize("\(named.name) does not enlarge (×1); it cannot make ×\(OutputRequest.format(factor))")
            }
            steps.append(named)
            reached *= scale
        }
        return steps
    }
}

/// `auto`, `auto-x2`, `auto-x3` or `auto-x4`: the automatic choice, at a stated scale or not.
package struct AutoModelName: Sendable, Equatable {
    /// The scale `auto` alone means.
    package static let defaultScale = 3
    /// The scale in the name; nil for plain `auto`.
    package let scale: Int?

    /// The scale to run at: the name's, else `stated` (`--scale`), else ×3.
    package func scale(stated: Int? = nil) -> Int { scale ?? stated ?? Self.defaultScale }

    /// Nil when `text` is not an auto name (a model file named "auto" is still a file).
    package init?(_ text: String) {
        if FileManager.default.fileExists(atPath: text) { return nil }
        if text == "auto" {
            scale = nil
        } else if text.hasPrefix("auto-x"), let value = Int(text.dropFirst("auto-x".count)) {
            scale = value
        } else {
            return nil
        }
    }
}
