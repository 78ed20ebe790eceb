// What the ncnn families (SRMD, Real-ESRGAN) share: their reference programs (srmd-ncnn-vulkan,
// realesrgan-ncnn-vulkan) feed RGB / 255, pad the picture before the network and crop the padding off the result,
// and write `floor(v · 255 + 0.5)` clamped to 0...255.

import Tensor

/// The input and output handling the ncnn reference programs share.
enum NCNNPadding {
    /// How the reference programs extend the picture past its edges before the network sees it.
    enum EdgeExtension {
        /// Repeat the edge pixel (srmd_preproc.comp: `clamp(x, 0, w - 1)`).
        case replicate
        /// Mirror without repeating the edge pixel (realesrgan_preproc.comp: `abs(x)`, then `(w-1) - abs(x - (w-1))`).
        case reflect
    }

    /// The picture's colour as interleaved RGB floats: 8-bit samples times `1 / 255.f` (the shaders' `norm_val`),
    /// 16-bit samples over 65535; grey is repeated into R, G and B.
    static func rgbUnit(_ planes: ImagePlanes) -> [Float] {
        let pixels = planes.width * planes.height
        let norm: Float = 1 / 255
        var rgb = [Float](repeating: 0, count: pixels * 3)
        for p in 0..<pixels {
            for c in 0..<3 {
                let source = planes.isGrey ? p : p * 3 + c
                rgb[p * 3 + c] =
                    planes.bitDepth == 8 ? Float(planes.colour8[source]) * norm : Float(planes.colour16[source]) / 65535
            }
        }
        return rgb
    }

    /// `values` (`width × height × channels`, interleaved) with `margin` pixels added on every side.
    ///
    /// Pictures smaller than the margin, where the shaders' mirror would leave the picture, are clamped to it.
    static func extend(
        _ values: [Float],
        width: Int,
        height: Int,
        channels: Int,
        margin: Int,
        mode: EdgeExtension
    ) -> [Float] {
        func source(_ i: Int, _ size: Int) -> Int {
            switch mode {
            case .replicate:
                return min(max(i, 0), size - 1)
            case .reflect:
                let mirrored = (size - 1) - abs(abs(i) - (size - 1))
                return min(max(mirrored, 0), size - 1)
            }
        }
        let outWidth = width + 2 * margin
        let outHeight = height + 2 * margin
        let columns = (0..<outWidth).map { source($0 - margin, width) }
        var out = [Float](repeating: 0, count: outWidth * outHeight * channels)
        for y in 0..<outHeight {
            let row = source(y - margin, height) * width
            for x in 0..<outWidth {
                let from = (row + columns[x]) * channels
                let to = (y * outWidth + x) * channels
                for c in 0..<channels { out[to + c] = values[from + c] }
            }
        }
        return out
    }

    /// Runs the network on a padded input, crops `margin · scale` output pixels off every side and returns the RGB
    /// result on the 0...255 scale: for 8-bit pictures `floor(v · 255 + 0.5)` clamped to 0...255 as the reference
    /// programs' postproc shaders round, for 16-bit pictures (and under self-ensemble) `v · 255` unrounded.
    static func runPadded(
        _ input: [Float],
        planes: ImagePlanes,
        channels: Int,
        margin: Int,
        upscaler: Upscaler,
        progress: (Int, Int) -> Void,
        shouldCancel: () -> Bool
    ) throws(PipelineError) -> ImagePlanes.Colour {
        let (w, h, s) = (planes.width, planes.height, upscaler.model.scale)
        let paddedWidth = w + 2 * margin
        let paddedHeight = h + 2 * margin
        let output = try upscaler.runNetwork(
            Tensor(shape: [1, paddedHeight, paddedWidth, channels], scalars: input),
            progress: progress,
            shouldCancel: shouldCancel
        )
        let outWidth = paddedWidth * s
        let (cropX, cropY) = (margin * s, margin * s)
        let rowLength = w * s * 3
        var rgb = [Float](repeating: 0, count: rowLength * h * s)
        // Self-ensemble averages the eight results in float; they are rounded once, after.
        let rounds = planes.bitDepth == 8 && !upscaler.options.selfEnsemble
        output.scalars.withUnsafeBufferPointer { src in
            for y in 0..<(h * s) {
                let from = ((y + cropY) * outWidth + cropX) * 3
                let to = y * rowLength
                for i in 0..<rowLength {
                    let value = src[from + i] * 255
                    rgb[to + i] = rounds ? min(max((value + 0.5).rounded(.down), 0), 255) : value
                }
            }
        }
        return .rgb255(rgb)
    }
}
