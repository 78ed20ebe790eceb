// Real-ESRGAN (x4plus, x4plus-anime, animevideov3 x2/x3/x4) as xinntao/Real-ESRGAN-ncnn-vulkan feeds it
// (src/realesrgan.cpp, src/realesrgan_preproc.comp, src/realesrgan_postproc.comp): the picture mirrored by 10
// pixels past its edges (`prepadding = 10` in main.cpp; the program pads each tile, mirroring only at the picture's
// edges), RGB / 255; the output cropped by 10 · scale and written as floor(v · 255 + 0.5).

import Imaging
import Models

extension Upscaler {
    /// Pixels of mirrored context realesrgan-ncnn-vulkan adds at the picture's edges (its `prepadding`).
    public static let realESRGANPrepadding = 10

    func upscaleRealESRGAN(
        _ planes: ImagePlanes,
        progress: (Int, Int) -> Void,
        shouldCancel: () -> Bool
    ) throws(PipelineError) -> ImagePlanes.Colour {
        if let level = options.noiseLevel {
            throw .unsupportedImage("Real-ESRGAN takes no noise level (got \(level)); --noise is for SRMD models")
        }
        let margin = Self.realESRGANPrepadding
        let input = Self.extend(
            rgbUnit(planes),
            width: planes.width,
            height: planes.height,
            channels: 3,
            margin: margin,
            mode: .reflect
        )
        return try runPadded(
            input,
            planes: planes,
            channels: 3,
            margin: margin,
            progress: progress,
            shouldCancel: shouldCancel
        )
    }
}
