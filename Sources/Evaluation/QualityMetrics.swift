import Foundation

/// PSNR and SSIM as the super-resolution literature computes them on the Y channel.
package enum QualityMetrics {
    /// Peak signal-to-noise ratio in dB, `10 log10(peak² / MSE)`, over the planes less `border` pixels on each
    /// side; `+infinity` for identical planes.
    package static func psnr(_ a: LumaPlane, _ b: LumaPlane, border: Int = 0, peak: Double = 255) -> Double {
        precondition(
            a.width == b.width && a.height == b.height,
            "PSNR of \(a.width)×\(a.height) and \(b.width)×\(b.height)"
        )
        let x = a.removingBorder(border)
        let y = b.removingBorder(border)
        var sum = 0.0
        for i in 0..<x.values.count {
            let d = x.values[i] - y.values[i]
            sum += d * d
        }
        let mse = sum / Double(x.values.count)
        return mse == 0 ? .infinity : 10 * log10(peak * peak / mse)
    }

    /// SSIM's settings; the defaults are Wang et al. 2004's (and MATLAB's `ssim_index`).
    package struct SSIMSettings: Sendable {
        /// Side of the square Gaussian window.
        package var windowSize: Int = 11
        /// Standard deviation of the Gaussian window.
        package var sigma: Double = 1.5
        /// K1 of SSIM's constant `C1 = (K1 L)²`.
        package var k1: Double = 0.01
        /// K2 of SSIM's constant `C2 = (K2 L)²`.
        package var k2: Double = 0.03
        /// Dynamic range L of the values.
        package var dynamicRange: Double = 255

        /// The standard settings: an 11×11 window, sigma 1.5, K1 0.01, K2 0.03, range 255.
        package init() {}
    }

    /// Mean structural similarity (Wang et al. 2004) over the planes less `border` pixels on each side: a normalised
    /// Gaussian window, local statistics with 'valid' filtering (only windows wholly inside the plane), population
    /// variances, `C1 = (K1 L)²`, `C2 = (K2 L)²`.
    ///
    /// Equals MATLAB's `ssim_index` and scikit-image's `structural_similarity(a, b, gaussian_weights=True,
    /// sigma=1.5, use_sample_covariance=False, data_range=255)` up to rounding.
    package static func ssim(
        _ a: LumaPlane,
        _ b: LumaPlane,
        border: Int = 0,
        settings: SSIMSettings = SSIMSettings()
    ) -> Double {
        precondition(
            a.width == b.width && a.height == b.height,
            "SSIM of \(a.width)×\(a.height) and \(b.width)×\(b.height)"
        )
        let x = a.removingBorder(border)
        let y = b.removingBorder(border)
        let n = settings.windowSize
        precondition(
            x.width >= n && x.height >= n,
            "SSIM needs at least \(n)×\(n) pixels; \(x.width)×\(x.height) given"
        )
        let window = gaussianWindow(size: n, sigma: settings.sigma)
        let count = x.values.count
        var xx = [Double](repeating: 0, count: count)
        var yy = xx
        var xy = xx
        for i in 0..<count {
            let p = x.values[i]
            let q = y.values[i]
            xx[i] = p * p
            yy[i] = q * q
            xy[i] = p * q
        }
        let (w, h) = (x.width, x.height)
        let muX = validFilter(x.values, width: w, height: h, window)
        let muY = validFilter(y.values, width: w, height: h, window)
        let meanXX = validFilter(xx, width: w, height: h, window)
        let meanYY = validFilter(yy, width: w, height: h, window)
        let meanXY = validFilter(xy, width: w, height: h, window)
        let c1 = (settings.k1 * settings.dynamicRange) * (settings.k1 * settings.dynamicRange)
        let c2 = (settings.k2 * settings.dynamicRange) * (settings.k2 * settings.dynamicRange)
        var total = 0.0
        for i in 0..<muX.count {
            let mx = muX[i]
            let my = muY[i]
            let varianceX = meanXX[i] - mx * mx
            let varianceY = meanYY[i] - my * my
            let covariance = meanXY[i] - mx * my
            total +=
                ((2 * mx * my + c1) * (2 * covariance + c2))
                / ((mx * mx + my * my + c1) * (varianceX + varianceY + c2))
        }
        return total / Double(muX.count)
    }

    /// The normalised 1-D Gaussian whose outer product with itself is MATLAB's `fspecial('gaussian', n, sigma)`.
    static func gaussianWindow(size: Int, sigma: Double) -> [Double] {
        let centre = Double(size - 1) / 2
        let raw = (0..<size).map { i in exp(-(Double(i) - centre) * (Double(i) - centre) / (2 * sigma * sigma)) }
        let sum = raw.reduce(0, +)
        return raw.map { $0 / sum }
    }

    /// Separable correlation with `window` along rows then columns, keeping only full windows:
    /// output `(width - n + 1) × (height - n + 1)`.
    static func validFilter(_ values: [Double], width: Int, height: Int, _ window: [Double]) -> [Double] {
        let n = window.count
        let outWidth = width - n + 1
        let outHeight = height - n + 1
        var horizontal = [Double](repeating: 0, count: outWidth * height)
        for y in 0..<height {
            let row = y * width
            for x in 0..<outWidth {
                var sum = 0.0
                for k in 0..<n { sum += window[k] * values[row + x + k] }
                horizontal[y * outWidth + x] = sum
            }
        }
        var out = [Double](repeating: 0, count: outWidth * outHeight)
        for y in 0..<outHeight {
            for k in 0..<n {
                let weight = window[k]
                let source = (y + k) * outWidth
                for x in 0..<outWidth { out[y * outWidth + x] += weight * horizontal[source + x] }
            }
        }
        return out
    }
}
