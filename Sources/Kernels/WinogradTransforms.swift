// The transforms of Winograd's minimal filtering algorithms F(4×4, 3×3) and F(6×6, 3×3) (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016): the matrices, built exactly from their interpolation points,
// and the SIMD butterflies that apply them to 16 channels at a time.

/// The matrices of the 1-D algorithm F(m, 3): `y = Aᵀ [(G g) ⊙ (Bᵀ d)]` computes the correlation
/// `y[i] = Σₖ d[i + k] g[k]` of `α = m + 2` inputs with a 3-tap filter.
///
/// The 2-D algorithm nests it: `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`. The points are `0, ±1, ±2` (F(4, 3)) and also
/// `±1/2` (F(6, 3)), plus infinity, as in ncnn and OpenCV; row `j` of `Bᵀ` holds the coefficients of
/// `∏_{q ≠ pⱼ} (x − q)`, the rows of `G` carry the Lagrange denominators, and the columns of `Aᵀ` for `|p| < 1` are
/// scaled by `|p|^(1 − m)` (with `G` compensating) so that every matrix stays well conditioned in float.
package struct WinogradMatrices: Sendable {
    /// `m`, the outputs per tile side.
    package let outputSize: Int
    /// `α = m + 2`, the inputs per tile side and the number of transform points.
    package var inputSize: Int { outputSize + 2 }
    /// The finite interpolation points, in the order of the rows of `Bᵀ` (infinity comes last).
    package let points: [Double]
    /// `Bᵀ`, α × α, row-major.
    package let inputTransform: [[Double]]
    /// `G`, α × 3.
    package let filterTransform: [[Double]]
    /// `Aᵀ`, m × α.
    package let outputTransform: [[Double]]

    /// The matrices of F(`outputSize`, 3); 4 and 6 are the sizes the kernels implement.
    package init(outputSize m: Int) {
        precondition(m == 4 || m == 6, "F(\(m), 3) is not implemented")
        outputSize = m
        let points: [Double] = m == 4 ? [0, 1, -1, 2, -2] : [0, 1, -1, 2, -2, 0.5, -0.5]
        self.points = points
        let alpha = m + 2

        /// Ascending coefficients of `∏ (x − q)` over `roots`, padded to `α` terms.
        func polynomial(roots: [Double]) -> [Double] {
            var coefficients = [Double](repeating: 0, count: alpha)
            coefficients[0] = 1
            for root in roots {
                for power in stride(from: alpha - 1, through: 0, by: -1) {
                    coefficients[power] =
                        (power > 0 ? coefficients[power - 1] : 0) - root * coefficients[power]
                }
            }
            return coefficients
        }

        var bT: [[Double]] = []
        var g: [[Double]] = []
        var aT = [[Double]](repeating: [Double](repeating: 0, count: alpha), count: m)
        for (j, p) in points.enumerated() {
            let others = points.enumerated().filter { $0.offset != j }.map(\.element)
            var numerator = polynomial(roots: others)
            let denominator = others.reduce(1.0) { $0 * (p - $1) }
            // The point 0's row is signed so that its constant term is positive (ncnn's and Lavin's convention).
            let sign: Double = p == 0 && numerator[0] < 0 ? -1 : 1
            numerator = numerator.map { $0 * sign }
            var columnScale = 1.0
            if abs(p) < 1 && p != 0 { for _ in 1..<m { columnScale /= abs(p) } }
            bT.append(numerator)
            g.append([1, p, p * p].map { $0 / (denominator * sign * columnScale) })
            var power = columnScale
            for i in 0..<m {
                aT[i][j] = power
                power *= p
            }
        }
        bT.append(polynomial(roots: points))
        g.append([0, 0, 1])
        aT[m - 1][alpha - 1] = 1
        inputTransform = bT
        filterTransform = g
        outputTransform = aT
    }
}

/// One Winograd algorithm's SIMD transforms; each applies the 1-D matrix to vectors of 16 channels laid out at a
/// stride (in floats), so the same code does the row and the column passes.
protocol WinogradTile {
    /// `m`: outputs per tile side.
    static var outputSize: Int { get }
    /// `α = m + 2`: inputs per tile side.
    static var inputSize: Int { get }
    /// Writes `Bᵀ d` for the α vectors `d[k] = source[k * sourceStride]`.
    static func transformInput(
        _ source: UnsafePointer<Float>,
        _ sourceStride: Int,
        _ target: UnsafeMutablePointer<Float>,
        _ targetStride: Int
    )
    /// Writes `Aᵀ m` (m vectors) for the α vectors `m[k] = source[k * sourceStride]`.
    static func transformOutput(
        _ source: UnsafePointer<Float>,
        _ sourceStride: Int,
        _ target: UnsafeMutablePointer<Float>,
        _ targetStride: Int
    )
}

typealias WinogradVector = SIMD16<Float>

@inline(__always)
func loadVector(_ pointer: UnsafePointer<Float>) -> WinogradVector {
    UnsafeRawPointer(pointer).loadUnaligned(as: WinogradVector.self)
}

@inline(__always)
func storeVector(_ value: WinogradVector, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: WinogradVector.self)
}

/// F(4×4, 3×3): 6×6 input tiles, 36 products per tile, 2.25× fewer multiplications than direct convolution.
enum WinogradF4: WinogradTile {
    static var outputSize: Int { 4 }
    static var inputSize: Int { 6 }

    @inline(__always)
    static func transformInput(
        _ source: UnsafePointer<Float>,
        _ sourceStride: Int,
        _ target: UnsafeMutablePointer<Float>,
        _ targetStride: Int
    ) {
        let s = sourceStride
        let d0 = loadVector(source)
        let d1 = loadVector(source + s)
        let d2 = loadVector(source + 2 * s)
        let d3 = loadVector(source + 3 * s)
        let d4 = loadVector(source + 4 * s)
        let d5 = loadVector(source + 5 * s)
        let t1 = d4.addingProduct(d2, -4)
        let t2 = d3.addingProduct(d1, -4)
        let t3 = d4 - d2
        let t4 = (d3 - d1) * 2
        let t = targetStride
        storeVector(d4.addingProduct(d0, 4).addingProduct(d2, -5), target)
        storeVector(t1 + t2, target + t)
        storeVector(t1 - t2, target + 2 * t)
        storeVector(t3 + t4, target + 3 * t)
        storeVector(t3 - t4, target + 4 * t)
        storeVector(d5.addingProduct(d1, 4).addingProduct(d3, -5), target + 5 * t)
    }

    @inline(__always)
    static func transformOutput(
        _ source: UnsafePointer<Float>,
        _ sourceStride: Int,
        _ target: UnsafeMutablePointer<Float>,
        _ targetStride: Int
    ) {
        let s = sourceStride
        let m0 = loadVector(source)
        let m1 = loadVector(source + s)
        let m2 = loadVector(source + 2 * s)
        let m3 = loadVector(source + 3 * s)
        let m4 = loadVector(source + 4 * s)
        let m5 = loadVector(source + 5 * s)
        let a = m1 + m2
        let b = m1 - m2
        let c = m3 + m4
        let d = m3 - m4
        let t = targetStride
        storeVector(m0 + a + c, target)
        storeVector(b.addingProduct(d, 2), target + t)
        storeVector(a.addingProduct(c, 4), target + 2 * t)
        storeVector(b.addingProduct(d, 8) + m5, target + 3 * t)
    }
}

/// F(6×6, 3×3): 8×8 input tiles, 64 products per tile, 5.06× fewer multiplications than direct convolution.
enum WinogradF6: WinogradTile {
    static var outputSize: Int { 6 }
    static var inputSize: Int { 8 }

    @inline(__always)
    static func transformInput(
        _ source: UnsafePointer<Float>,
        _ sourceStride: Int,
        _ target: UnsafeMutablePointer<Float>,
        _ targetStride: Int
    ) {
        let s = sourceStride
        let d0 = loadVector(source)
        let d1 = loadVector(source + s)
        let d2 = loadVector(source + 2 * s)
        let d3 = loadVector(source + 3 * s)
        let d4 = loadVector(source + 4 * s)
        let d5 = loadVector(source + 5 * s)
        let d6 = loadVector(source + 6 * s)
        let d7 = loadVector(source + 7 * s)
        let t1 = (d2 + d6).addingProduct(d4, -4.25)
        let t2 = (d1 + d5).addingProduct(d3, -4.25)
        let t3 = d6.addingProduct(d2, 0.25).addingProduct(d4, -1.25)
        let t4 = (d1 * 0.5).addingProduct(d3, -2.5).addingProduct(d5, 2)
        let t5 = d6.addingProduct(d2.addingProduct(d4, -1.25), 4)
        let t6 = (d1 * 2).addingProduct(d3, -2.5).addingProduct(d5, 0.5)
        let t = targetStride
        storeVector((d0 - d6).addingProduct(d4 - d2, 5.25), target)
        storeVector(t1 + t2, target + t)
        storeVector(t1 - t2, target + 2 * t)
        storeVector(t3 + t4, target + 3 * t)
        storeVector(t3 - t4, target + 4 * t)
        storeVector(t5 + t6, target + 5 * t)
        storeVector(t5 - t6, target + 6 * t)
        storeVector((d7 - d1).addingProduct(d3 - d5, 5.25), target + 7 * t)
    }

    @inline(__always)
    static func transformOutput(
        _ source: UnsafePointer<Float>,
        _ sourceStride: Int,
        _ target: UnsafeMutablePointer<Float>,
        _ targetStride: Int
    ) {
        let s = sourceStride
        let m0 = loadVector(source)
        let m1 = loadVector(source + s)
        let m2 = loadVector(source + 2 * s)
        let m3 = loadVector(source + 3 * s)
        let m4 = loadVector(source + 4 * s)
        let m5 = loadVector(source + 5 * s)
        let m6 = loadVector(source + 6 * s)
        let m7 = loadVector(source + 7 * s)
        let a = m1 + m2
        let b = m1 - m2
        let c = m3 + m4
        let d = m3 - m4
        let e = m5 + m6
        let f = m5 - m6
        let t = targetStride
        storeVector((m0 + a + c).addingProduct(e, 32), target)
        storeVector(b.addingProduct(d, 2).addingProduct(f, 16), target + t)
        storeVector(a.addingProduct(c, 4).addingProduct(e, 8), target + 2 * t)
        storeVector(b.addingProduct(d, 8).addingProduct(f, 4), target + 3 * t)
        storeVector(a.addingProduct(c, 16).addingProduct(e, 2), target + 4 * t)
        storeVector(b.addingProduct(d, 32) + f + m7, target + 5 * t)
    }
}
