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

    /// The network input of `planes` with `margin` pixels added on every side by `mode`: per pixel R, G, B (8-bit
    /// samples times `1 / 255.f`, the shaders' `norm_val`; 16-bit samples over 65535; grey repeated into R, G and
    /// B), then `constants`. Made a tile at a time.
    ///
    /// Pictures smaller than the margin, where the shaders' mirror would leave the picture, are clamped to it.
    /// `trailing` adds that many more columns on the right and rows at the bottom (Real-CUGAN's alignment).
    static func paddedInput(
        _ planes: ImagePlanes, margin: Int, mode: EdgeExtension, constants: [Float] = [],
        trailing: (columns: Int, rows: Int) = (0, 0)
    ) -> NetworkInput {
        func source(_ i: Int, _ size: Int) -> Int {
            switch mode {
            case .replicate:
                return min(max(i, 0), size - 1)
            case .reflect:
                let mirrored = (size - 1) - abs(abs(i) - (size - 1))
                return min(max(mirrored, 0), size - 1)
            }
        }
        let (w, h) = (planes.width, planes.height)
        let channels = 3 + constants.count
        let norm: Float = 1 / 255
        // The picture's rows that the input's rows `y..<y + height` read.
        func pictureRows(_ y: Int, _ height: Int) -> Range<Int> {
            let rows = (y..<(y + height)).map { source($0 - margin, h) }
            return (rows.min() ?? 0)..<((rows.max() ?? -1) + 1)
        }
        return NetworkInput(
            width: w + 2 * margin + trailing.columns, height: h + 2 * margin + trailing.rows, channels: channels,
            prepare: { y, height throws(PipelineError) in try planes.loadNetworkRows(pictureRows(y, height)) }
        ) { x, y, width, height in
            let picture = planes.rows
            picture.checkHeld(pictureRows(y, height))
            let (samples8, samples16) = (picture.samples8, picture.samples16)
            let pixelStride = picture.shape.layout.channelCount
            let columns = (x..<(x + width)).map { source($0 - margin, w) * pixelStride }
            var out = [Float](repeating: 0, count: width * height * channels)
            for row in 0..<height {
                let sourceRow = picture.index(column: 0, row: source(y + row - margin, h))
                for (i, column) in columns.enumerated() {
                    let p = sourceRow + column
                    let to = (row * width + i) * channels
                    for c in 0..<3 {
                        let sample = planes.isGrey ? p : p + c
                        out[to + c] =
                            planes.bitDepth == 8 ? Float(samples8[sample]) * norm : Float(samples16[sample]) / 65535
                    }
                    for (k, value) in constants.enumerated() { out[to + 3 + k] = value }
                }
            }
            return out
        }
    }

    /// Runs the network on the padded `input`, crops `margin · scale` output pixels off every side and hands over
    /// the RGB result on the 0...255 scale a band at a time: for 8-bit pictures `floor(v · 255 + 0.5)` clamped to
    /// 0...255 as the reference programs' postproc shaders round, for 16-bit pictures (and under self-ensemble)
    /// `v · 255` unrounded.
    static func runPaddedBands(
        _ input: NetworkInput,
        planes: ImagePlanes,
        margin: Int,
        upscaler: Upscaler,
        progress: (Int, Int) -> Void,
        shouldCancel: () -> Bool,
        onBand: (_ firstRow: Int, _ rows: Int, _ colour: ImagePlanes.Colour) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        let (w, h, s) = (planes.width, planes.height, upscaler.model.scale)
        let outWidth = input.width * s
        let crop = margin * s
        let rowLength = w * s * 3
        // Self-ensemble averages the eight results in float; they are rounded once, after.
        let rounds = planes.bitDepth == 8 && !upscaler.options.selfEnsemble
        try upscaler.runNetworkBands(input, progress: progress, shouldCancel: shouldCancel) {
            firstRow, band throws(PipelineError) in
            // The band's rows inside the picture, in the picture's output rows.
            let first = max(firstRow, crop), end = min(firstRow + band.shape[1], crop + h * s)
            guard first < end else { return }
            // Cropped and scaled in place: each row moves to the front, never past values still to be read.
            band.scalars.withUnsafeMutableBufferPointer { values in
                for y in first..<end {
                    let from = ((y - firstRow) * outWidth + crop) * 3
                    let to = (y - first) * rowLength
                    for i in 0..<rowLength {
                        let value = values[from + i] * 255
                        values[to + i] = rounds ? min(max((value + 0.5).rounded(.down), 0), 255) : value
                    }
                }
            }
            band.scalars.removeLast(band.scalars.count - rowLength * (end - first))
            try onBand(first - crop, end - first, .rgb255(band.scalars))
        }
    }
}
