// SRMD and SRMD-NF as nihui/srmd-ncnn-vulkan feeds them (src/srmd.cpp, src/srmd_preproc.comp,
// src/srmd_postproc.comp): the picture edge-replicated by 12 pixels (`prepadding = 12` in main.cpp), RGB / 255,
// then the 15 values of the bicubic degradation vector as constant maps, then (SRMD, not SRMD-NF) the noise
// level / 255 as one more map; the output cropped by 12 · scale and written as floor(v · 255 + 0.5).

import Models

/// SRMD and SRMD-NF: RGB in [0, 1] plus the degradation maps (and SRMD's noise-level map), edge-replicated padding.
package struct SRMDProcessing: FamilyProcessing {
    /// Pixels of edge-replicated context srmd-ncnn-vulkan adds around the picture (its `prepadding`).
    package static let prepadding = 12

    /// The default noise level of srmd-ncnn-vulkan's `-n` (SRMD models; SRMD-NF has none).
    package static let defaultNoiseLevel = 3

    /// The noise levels SRMD takes: the range it was trained on (Zhang, Zuo & Zhang, CVPR 2018: σ ∈ [0, 75]).
    /// srmd-ncnn-vulkan's `-n` stops at 10, but JPEG artefacts need more (issue #19 measured 10–15 at quality 40–70).
    package static let noiseLevels = 0...75

    /// The PCA projection of the bicubic degradation kernel that SRMD was trained with for clean bicubic inputs,
    /// as srmd_preproc.comp hard-codes it (`degradation_vector`).
    package static let degradation: [Float] = [
        -1.12360956e-08, -1.36899159e-08, 1.85637958e-02, 2.86066886e-08, 3.35292965e-02, 8.37272935e-08,
        -2.54424009e-07, -3.16234976e-02, -1.35169253e-02, -1.10466090e-08, 3.84753793e-02, 3.79465739e-08,
        -2.44916752e-01, -8.02213490e-01, -5.40549755e-01,
    ]

    func takesNoiseLevel(_ model: SuperResolutionModel) -> Bool {
        model.inputChannels == 3 + Self.degradation.count + 1
    }

    /// The noise level `options` feed `model` (nil for SRMD-NF), checked against the model.
    func noiseLevel(for model: SuperResolutionModel, options: UpscaleOptions) throws(PipelineError) -> Int? {
        if takesNoiseLevel(model) {
            let level = options.noiseLevel ?? Self.defaultNoiseLevel
            guard Self.noiseLevels.contains(level) else {
                throw .unsupportedImage(
                    level == -1
                        ? "noise level -1 means no denoising: that is the SRMD-NF model (srmdnf-x\(model.scale)), not SRMD"
                        : "SRMD noise levels are 0...75, not \(level)"
                )
            }
            return level
        }
        if let level = options.noiseLevel, level != -1 {
            throw .unsupportedImage(
                "SRMD-NF takes no noise level (it is srmd-ncnn-vulkan's -n -1); for denoising level \(level) use "
                    + "the SRMD model (srmd-x\(model.scale))"
            )
        }
        return nil
    }

    func enlargeBands(
        _ planes: ImagePlanes, with upscaler: Upscaler, progress: (Int, Int) -> Void, shouldCancel: () -> Bool,
        onBand: (_ firstRow: Int, _ rows: Int, _ colour: ImagePlanes.Colour) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        let model = upscaler.model
        let noise = try noiseLevel(for: model, options: upscaler.options)
        let margin = Self.prepadding
        // The constant maps after R, G, B: the degradation vector, then the noise level (`float(noise) / 255.f`).
        var constants = Self.degradation
        if let noise { constants.append(Float(noise) / 255) }
        guard constants.count + 3 == model.inputChannels else {
            throw .unsupportedImage(
                "this SRMD network takes \(model.inputChannels) channels; SRMD takes 18 (SRMD-NF) or 19")
        }
        try NCNNPadding.runPaddedBands(
            NCNNPadding.paddedInput(planes, margin: margin, mode: .replicate, constants: constants), planes: planes,
            margin: margin, upscaler: upscaler, progress: progress, shouldCancel: shouldCancel, onBand: onBand)
    }
}
