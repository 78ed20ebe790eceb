/// Vectorized elementary functions for the element-wise kernels (the reference kernels use Foundation's).
package enum VectorMath {
    /// The vector these functions work on: 16 floats, computed lane by lane.
    package typealias Vector = SIMD16<Float>

    /// e^x − 1 for x in [-87, 88], accurate near 0 too: with x = k·ln 2 + r it is (2^k − 1) + 2^k·q(r), where
    /// q(r) = e^r − 1 is a polynomial with no constant term (so nothing cancels when k = 0).
    ///
    /// Written with plain lane-wise arithmetic and bit casts only (the generic SIMD rounding and conversion
    /// functions are not specialized and cost more than the whole function).
    @inline(__always)
    package static func expm1(_ x: Vector) -> Vector {
        var clamped = x
        clamped.replace(with: -87, where: x .< -87)
        clamped.replace(with: 88, where: x .> 88)
        // Adding 1.5·2^23 rounds to an integer (to nearest, ties to even) held in the low bits of the mantissa.
        let magic = Vector(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let k = shifted - magic
        let kBits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        var r = clamped.addingProduct(k, Vector(repeating: -0.693_145_751_953_125))
        r = r.addingProduct(k, Vector(repeating: -1.428_606_765_330_187e-6))
        var q = Vector(repeating: 1.0 / 5040)
        q = q * r + 1.0 / 720
        q = q * r + 1.0 / 120
        q = q * r + 1.0 / 24
        q = q * r + 1.0 / 6
        q = q * r + 0.5
        q = q * r + 1
        q = q * r
        let scale = unsafeBitCast((kBits &+ 127) &<< 23, to: Vector.self)
        return (scale - 1).addingProduct(scale, q)
    }

    /// tanh(x) = e' / (e' + 2) with e' = e^{2|x|} − 1, sign restored; within a few units in the last place of the
    /// exact value (±1 from |x| = 10 on, as in float the exact value rounds to ±1 there).
    @inline(__always)
    package static func tanh(_ x: Vector) -> Vector {
        var a = x
        a.replace(with: -x, where: x .< 0)
        a.replace(with: 10, where: a .> 10)
        let e = expm1(2 * a)
        var t = e / (e + 2)
        t.replace(with: -t, where: x .< 0)
        return t
    }

    /// The logistic function 1 / (1 + e^−x), as ncnn's Sigmoid computes it, with e^−x = expm1(−x) + 1.
    @inline(__always)
    package static func sigmoid(_ x: Vector) -> Vector {
        1 / (2 + expm1(-x))
    }

    /// x · sigmoid(x), written as ncnn's Swish layer computes it: x / (1 + e^−x).
    @inline(__always)
    package static func swish(_ x: Vector) -> Vector {
        x / (2 + expm1(-x))
    }
}
