import Foundation
import Imaging
import Kernels
import ModelStore
import Models

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

/// How one input will be enlarged: the network chosen for it and why.
package struct UpscalePlan: Sendable {
    /// The upscaler to run.
    package let upscaler: Upscaler
    /// The model's name.
    package let modelName: String
    /// What the input was estimated to have gone through; nil when the choice did not need it.
    package let estimate: DegradationEstimate?
    /// The automatic choice; nil for a fixed model with a fixed noise level.
    package let choice: AutoChoice?

    /// The choice for people: "srmd-x3, noise level 12" or "srmdnf-x3 (clean)".
    package var choiceSummary: String {
        let noise = upscaler.options.noiseLevel.map { ", noise level \($0)" } ?? ""
        switch choice {
        case .clean?: return "\(modelName) (clean)"
        case .denoise?: return "\(modelName)\(noise)"
        case nil: return modelName + noise
        }
    }

    /// "JPEG quality 40, blockiness 1.61, noise σ ≈ 0.0 → srmd-x3, noise level 12"; the model alone without an
    /// estimate.
    package var summary: String {
        guard let estimate else { return choiceSummary }
        return "\(estimate.summary) → \(choiceSummary)"
    }
}

/// Chooses the network for each input: always the same one, SRMD with the noise level the input calls for
/// (`--noise auto`), or, for `--model auto`, the scale's clean model or SRMD by `AutoModelPolicy`.
package struct UpscalePlanner: Sendable {
    /// The ways of choosing.
    package enum Mode: Sendable {
        /// One model with fixed options for every input.
        case fixed(NamedUpscaler)
        /// An SRMD model whose noise level follows each input's estimate.
        case srmdAutoNoise(NamedUpscaler)
        /// The clean model or SRMD, by each input's estimate.
        case auto(clean: NamedUpscaler, denoiser: NamedUpscaler)
    }

    /// How this planner chooses.
    package let mode: Mode

    /// A planner choosing by `mode`.
    package init(_ mode: Mode) {
        self.mode = mode
    }

    /// A planner that always runs `upscaler`.
    package init(fixed upscaler: Upscaler, name: String) {
        self.init(.fixed(NamedUpscaler(name: name, upscaler: upscaler)))
    }

    /// The catalogue's clean model of each scale `auto` supports, chosen by measurement (docs/QUALITY.md).
    package static func cleanModelName(scale: Int) -> String { "srmdnf-x\(scale)" }

    /// The denoising model of each scale `auto` supports.
    package static func denoiserName(scale: Int) -> String { "srmd-x\(scale)" }

    /// The scales `auto` supports (those with both an SRMD and a clean catalogue model).
    package static let autoScales = 2...4

    /// The `auto` planner at `scale`: the clean model and SRMD of that scale from the model store.
    package static func auto(
        scale: Int, options: UpscaleOptions = UpscaleOptions(), precision: Precision = .fp32
    ) throws -> UpscalePlanner {
        guard autoScales.contains(scale) else {
            throw AutoModelError(
                description: "model auto works at ×2, ×3 and ×4 (SRMD's scales), not ×\(scale); name a model instead")
        }
        guard options.noiseLevel == nil else {
            throw AutoModelError(
                description: "model auto chooses the noise level itself; for a fixed level name SRMD (srmd-x\(scale))")
        }
        let cleanName = cleanModelName(scale: scale)
        let denoiserName = denoiserName(scale: scale)
        let clean = try ModelLoader.load(nameOrPath: cleanName, precision: precision)
        let denoiser = try ModelLoader.load(nameOrPath: denoiserName, precision: precision)
        return UpscalePlanner(
            .auto(
                clean: NamedUpscaler(name: cleanName, upscaler: Upscaler(model: clean, options: options)),
                denoiser: NamedUpscaler(name: denoiserName, upscaler: Upscaler(model: denoiser, options: options))))
    }

    /// The planner for a named or given model: SRMD without a noise level follows each input (`--noise auto`),
    /// anything else is fixed.
    package static func forModel(_ upscaler: Upscaler, name: String) -> UpscalePlanner {
        if upscaler.takesNoiseLevel && upscaler.options.noiseLevel == nil {
            return UpscalePlanner(.srmdAutoNoise(NamedUpscaler(name: name, upscaler: upscaler)))
        }
        return UpscalePlanner(fixed: upscaler, name: name)
    }

    /// Output size ÷ input size.
    package var scale: Int {
        switch mode {
        case .fixed(let named), .srmdAutoNoise(let named): named.upscaler.model.scale
        case .auto(let clean, _): clean.upscaler.model.scale
        }
    }

    /// Whether plans need the input's degradation estimate (and so the file's bytes).
    package var needsEstimate: Bool {
        if case .fixed = mode { return false }
        return true
    }

    /// The plan for `image`, decoded from `encoded` (the file's bytes; nil when there is no file). `estimate`, when
    /// given, is used instead of analysing the picture again.
    package func plan(
        for image: PixelImage, encoded: [UInt8]?, estimate given: DegradationEstimate? = nil
    ) -> UpscalePlan {
        switch mode {
        case .fixed(let named):
            return UpscalePlan(upscaler: named.upscaler, modelName: named.name, estimate: given, choice: nil)
        case .srmdAutoNoise(let named):
            let estimate = given ?? DegradationEstimate.analyse(image, encoded: encoded)
            let level = AutoModelPolicy.srmdLevel(for: estimate)
            return UpscalePlan(
                upscaler: named.upscaler.withNoiseLevel(level), modelName: named.name, estimate: estimate,
                choice: .denoise(level: level))
        case .auto(let clean, let denoiser):
            let estimate = given ?? DegradationEstimate.analyse(image, encoded: encoded)
            let choice = AutoModelPolicy.choose(estimate)
            switch choice {
            case .clean:
                return UpscalePlan(upscaler: clean.upscaler, modelName: clean.name, estimate: estimate, choice: choice)
            case .denoise(let level):
                return UpscalePlan(
                    upscaler: denoiser.upscaler.withNoiseLevel(level), modelName: denoiser.name, estimate: estimate,
                    choice: choice)
            }
        }
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
