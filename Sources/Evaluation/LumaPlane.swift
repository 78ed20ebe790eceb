import Imaging
import PixelMath

/// The Y channel that the super-resolution literature measures PSNR and SSIM on, one Double per pixel on the 0...255
/// scale, row-major.
package typealias LumaPlane = Plane<Double>

extension LumaPlane {
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
}
