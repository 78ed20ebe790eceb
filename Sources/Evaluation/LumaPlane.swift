import Imaging

/// The Y channel that the super-resolution literature measures PSNR and SSIM on, one Double per pixel, row-major.
package struct LumaPlane: Sendable, Equatable {
    /// Samples per row.
    package let width: Int
    /// Number of rows.
    package let height: Int
    /// `width * height` values on the 0...255 scale; sample (x, y) is at `y * width + x`.
    package var values: [Double]

    /// A plane over the given values; `values.count` must be `width * height`.
    package init(width: Int, height: Int, values: [Double]) {
        precondition(width >= 0 && height >= 0, "negative plane size \(width)×\(height)")
        precondition(values.count == width * height, "\(values.count) values for a \(width)×\(height) plane")
        self.width = width
        self.height = height
        self.values = values
    }

    /// MATLAB `rgb2ycbcr` luma of an 8-bit grey or RGB image (alpha ignored), rounded to integers as MATLAB does
    /// for `uint8` input: the convention behind the published tables (Set5 ×3 bicubic 30.39 dB).
    ///
    /// A grey sample g is taken as the colour (g, g, g), so its Y is `16 + 219 g / 255` rounded.
    package init(matlabLumaOf image: PixelImage) {
        guard case .uint8(let samples) = image.samples else {
            preconditionFailure("MATLAB luma needs 8-bit samples; \(image.bitDepth)-bit given")
        }
        let channels = image.layout.channelCount
        let rgb: [UInt8]
        let stride: Int
        if image.layout.isGrey {
            var expanded = [UInt8](repeating: 0, count: image.pixelCount * 3)
            for p in 0..<image.pixelCount {
                let g = samples[p * channels]
                expanded[p * 3] = g
                expanded[p * 3 + 1] = g
                expanded[p * 3 + 2] = g
            }
            rgb = expanded
            stride = 3
        } else {
            rgb = samples
            stride = channels
        }
        self.init(
            width: image.width,
            height: image.height,
            values: ColourConversion.matlabLuma(rgb: rgb, channelCount: stride, rounded: true)
        )
    }

    /// The plane without `border` pixels on each side (the protocol ignores a border of `scale` pixels).
    package func removingBorder(_ border: Int) -> LumaPlane {
        precondition(border >= 0, "negative border \(border)")
        let w = width - 2 * border
        let h = height - 2 * border
        precondition(w > 0 && h > 0, "a border of \(border) leaves nothing of a \(width)×\(height) plane")
        if border == 0 { return self }
        var out = [Double]()
        out.reserveCapacity(w * h)
        for y in border..<(height - border) {
            let start = y * width + border
            out.append(contentsOf: values[start..<(start + w)])
        }
        return LumaPlane(width: w, height: h, values: out)
    }
}
