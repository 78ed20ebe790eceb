// The register-blocked matrix products at the heart of the Winograd convolution.

/// `rows` (≤ 6) rows of `V` (at `rowStride`) times a `depth × 32` panel of `U` (two 16-wide blocks), into `target`.
///
/// Rows past `rows` repeat the last row and are not stored, so every stored value comes from the same sequence of
/// fused multiply-adds over the input channels.
@inline(never)
func winogradKernel6x32(
    _ v: UnsafePointer<Float>,
    rowStride: Int,
    rows: Int,
    _ u0: UnsafePointer<Float>,
    _ u1: UnsafePointer<Float>,
    depth: Int,
    _ target: UnsafeMutablePointer<Float>,
    targetStride: Int
) {
    typealias Vector = WinogradVector
    let p0 = v
    let p1 = v + min(1, rows - 1) * rowStride
    let p2 = v + min(2, rows - 1) * rowStride
    let p3 = v + min(3, rows - 1) * rowStride
    let p4 = v + min(4, rows - 1) * rowStride
    let p5 = v + min(5, rows - 1) * rowStride
    var a00 = Vector()
    var a01 = Vector()
    var a10 = Vector()
    var a11 = Vector()
    var a20 = Vector()
    var a21 = Vector()
    var a30 = Vector()
    var a31 = Vector()
    var a40 = Vector()
    var a41 = Vector()
    var a50 = Vector()
    var a51 = Vector()
    for k in 0..<depth {
        let w0 = loadVector(u0 + 16 * k)
        let w1 = loadVector(u1 + 16 * k)
        let s0 = Vector(repeating: p0[k])
        a00 = a00.addingProduct(s0, w0)
        a01 = a01.addingProduct(s0, w1)
        let s1 = Vector(repeating: p1[k])
        a10 = a10.addingProduct(s1, w0)
        a11 = a11.addingProduct(s1, w1)
        let s2 = Vector(repeating: p2[k])
        a20 = a20.addingProduct(s2, w0)
        a21 = a21.addingProduct(s2, w1)
        let s3 = Vector(repeating: p3[k])
        a30 = a30.addingProduct(s3, w0)
        a31 = a31.addingProduct(s3, w1)
        let s4 = Vector(repeating: p4[k])
        a40 = a40.addingProduct(s4, w0)
        a41 = a41.addingProduct(s4, w1)
        let s5 = Vector(repeating: p5[k])
        a50 = a50.addingProduct(s5, w0)
        a51 = a51.addingProduct(s5, w1)
    }
    let t = targetStride
    storeVector(a00, target)
    storeVector(a01, target + 16)
    guard rows > 1 else { return }
    storeVector(a10, target + t)
    storeVector(a11, target + t + 16)
    guard rows > 2 else { return }
    storeVector(a20, target + 2 * t)
    storeVector(a21, target + 2 * t + 16)
    guard rows > 3 else { return }
    storeVector(a30, target + 3 * t)
    storeVector(a31, target + 3 * t + 16)
    guard rows > 4 else { return }
    storeVector(a40, target + 4 * t)
    storeVector(a41, target + 4 * t + 16)
    guard rows > 5 else { return }
    storeVector(a50, target + 5 * t)
    storeVector(a51, target + 5 * t + 16)
}

/// `winogradKernel6x32` for a last, 16-wide output block.
@inline(never)
func winogradKernel6x16(
    _ v: UnsafePointer<Float>,
    rowStride: Int,
    rows: Int,
    _ u0: UnsafePointer<Float>,
    depth: Int,
    _ target: UnsafeMutablePointer<Float>,
    targetStride: Int
) {
    typealias Vector = WinogradVector
    let p0 = v
    let p1 = v + min(1, rows - 1) * rowStride
    let p2 = v + min(2, rows - 1) * rowStride
    let p3 = v + min(3, rows - 1) * rowStride
    let p4 = v + min(4, rows - 1) * rowStride
    let p5 = v + min(5, rows - 1) * rowStride
    var a0 = Vector()
    var a1 = Vector()
    var a2 = Vector()
    var a3 = Vector()
    var a4 = Vector()
    var a5 = Vector()
    for k in 0..<depth {
        let w0 = loadVector(u0 + 16 * k)
        a0 = a0.addingProduct(Vector(repeating: p0[k]), w0)
        a1 = a1.addingProduct(Vector(repeating: p1[k]), w0)
        a2 = a2.addingProduct(Vector(repeating: p2[k]), w0)
        a3 = a3.addingProduct(Vector(repeating: p3[k]), w0)
        a4 = a4.addingProduct(Vector(repeating: p4[k]), w0)
        a5 = a5.addingProduct(Vector(repeating: p5[k]), w0)
    }
    let t = targetStride
    storeVector(a0, target)
    guard rows > 1 else { return }
    storeVector(a1, target + t)
    guard rows > 2 else { return }
    storeVector(a2, target + 2 * t)
    guard rows > 3 else { return }
    storeVector(a3, target + 3 * t)
    guard rows > 4 else { return }
    storeVector(a4, target + 4 * t)
    guard rows > 5 else { return }
    storeVector(a5, target + 5 * t)
}
