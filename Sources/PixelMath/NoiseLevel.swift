/// The standard deviation of white Gaussian noise in a picture, estimated from the picture alone as Liu, Tanaka &
/// Okutomi do ("Single-image noise level estimation for blind denoising", IEEE TIP 2013): the smallest eigenvalue
/// of the covariance of 7×7 patches, over the weak-texture patches only (those whose gradient energy is what noise
/// of that level alone would give), chosen again with each new estimate. Of three published estimators it is the
/// one that holds on textured pictures (tools/noise_estimators_t91.py). Where fewer than 2·49 patches pass (small
/// or busy pictures, such as the low-resolution inputs of an upscaler), the flattest 2·49 are used instead of all of
/// them, so that texture is not read as noise.
package enum NoiseLevel {
    /// The side of the patches.
    package static let patchSize = 7

    /// The gradient-energy bound of a noise-only patch, per unit of noise variance: the 1 − 10⁻⁶ quantile of the
    /// Gamma distribution with shape 45/2 and scale 2·35/45, where 45 and 35 are the rank and the trace of
    /// DhᵀDh + DvᵀDv for 7×7 patches and central differences (scipy.stats.gamma.ppf).
    static let textureBound = 81.82076743668523

    /// At most this many patches are used; larger pictures are sampled on a regular grid.
    package static let maxPatches = 120_000

    /// The noise standard deviation of `plane` (samples on a 0...255 scale); nil for a plane under 9×9 pixels.
    package static func estimate(_ plane: FloatPlane, iterations: Int = 3) -> Double? {
        let p = patchSize
        let (width, height) = (plane.width, plane.height)
        guard width >= p + 2, height >= p + 2 else { return nil }
        let values = plane.values
        let across = width - p + 1
        let down = height - p + 1
        let step = max(1, Int((Double(across * down) / Double(maxPatches)).squareRoot().rounded(.up)))
        // Squared central differences, and their sums over each patch's inner columns (rows) by summed-area tables.
        let horizontal = SummedArea(width: width - 2, height: height) { x, y in
            let d = 0.5 * Double(values[y * width + x + 2] - values[y * width + x])
            return d * d
        }
        let vertical = SummedArea(width: width, height: height - 2) { x, y in
            let d = 0.5 * Double(values[(y + 2) * width + x] - values[y * width + x])
            return d * d
        }
        var origins: [(x: Int, y: Int, texture: Double)] = []
        for y in stride(from: 0, to: down, by: step) {
            for x in stride(from: 0, to: across, by: step) {
                let texture =
                    horizontal.sum(x: x, y: y, width: p - 2, height: p)
                    + vertical.sum(x: x, y: y, width: p, height: p - 2)
                origins.append((x, y, texture))
            }
        }
        var variance = smallestEigenvalue(covariance(values, width: width, origins: origins))
        for _ in 0..<iterations {
            let bound = variance * textureBound
            var weak = origins.filter { $0.texture < bound }
            if weak.count == origins.count { break }
            // Too few patches pass (a small or busy picture): the flattest 2·49 stand in for them, so that texture
            // does not count as noise; a covariance needs at least that many.
            let fewest = 2 * p * p
            if weak.count < fewest {
                guard origins.count > fewest else { break }
                weak = Array(origins.sorted { $0.texture < $1.texture }.prefix(fewest))
                origins = weak
                variance = smallestEigenvalue(covariance(values, width: width, origins: origins))
                break
            }
            origins = weak
            variance = smallestEigenvalue(covariance(values, width: width, origins: origins))
        }
        return max(variance, 0).squareRoot()
    }

    /// The 49×49 covariance of the patches at `origins`.
    static func covariance(_ values: [Float], width: Int, origins: [(x: Int, y: Int, texture: Double)]) -> [Double] {
        let n = patchSize * patchSize
        var mean = [Double](repeating: 0, count: n)
        var scatter = [Double](repeating: 0, count: n * n)
        var patch = [Double](repeating: 0, count: n)
        for origin in origins {
            for row in 0..<patchSize {
                let base = (origin.y + row) * width + origin.x
                for column in 0..<patchSize { patch[row * patchSize + column] = Double(values[base + column]) }
            }
            for i in 0..<n {
                mean[i] += patch[i]
                let pi = patch[i]
                for j in i..<n { scatter[i * n + j] += pi * patch[j] }
            }
        }
        let count = Double(origins.count)
        for i in 0..<n { mean[i] /= count }
        var result = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                let value = (scatter[i * n + j] - count * mean[i] * mean[j]) / max(count - 1, 1)
                result[i * n + j] = value
                result[j * n + i] = value
            }
        }
        return result
    }

    /// The smallest eigenvalue of a symmetric matrix (row-major, `n × n`), by cyclic Jacobi rotations.
    static func smallestEigenvalue(_ matrix: [Double]) -> Double {
        let n = Int(Double(matrix.count).squareRoot())
        var a = matrix
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<n { off += a[i * n + j] * a[i * n + j] } }
            if off < 1e-18 { break }
            for pIndex in 0..<(n - 1) {
                for q in (pIndex + 1)..<n {
                    let apq = a[pIndex * n + q]
                    if abs(apq) < 1e-300 { continue }
                    let theta = (a[q * n + q] - a[pIndex * n + pIndex]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + pIndex]
                        let akq = a[k * n + q]
                        a[k * n + pIndex] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[pIndex * n + k]
                        let aqk = a[q * n + k]
                        a[pIndex * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                }
            }
        }
        return (0..<n).map { a[$0 * n + $0] }.min() ?? 0
    }
}

/// Sums of a function of the pixel position over rectangles, in constant time each.
struct SummedArea {
    let width: Int
    let height: Int
    /// `(width + 1) × (height + 1)` prefix sums; entry (x, y) is the sum over [0, x) × [0, y).
    private var table: [Double]

    init(width: Int, height: Int, value: (Int, Int) -> Double) {
        self.width = width
        self.height = height
        table = [Double](repeating: 0, count: (width + 1) * (height + 1))
        for y in 0..<height {
            var row = 0.0
            for x in 0..<width {
                row += value(x, y)
                table[(y + 1) * (width + 1) + x + 1] = table[y * (width + 1) + x + 1] + row
            }
        }
    }

    /// The sum over the rectangle at (x, y) of the given size.
    func sum(x: Int, y: Int, width w: Int, height h: Int) -> Double {
        let stride = width + 1
        return table[(y + h) * stride + x + w] - table[y * stride + x + w] - table[(y + h) * stride + x]
            + table[y * stride + x]
    }
}
