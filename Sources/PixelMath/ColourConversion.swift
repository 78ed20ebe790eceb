// Colour conversions that reproduce OpenCV 4.14's `cv::cvtColor` bit for bit (checked against cv2 on all 2^24
// 8-bit triples), plus the MATLAB luma that the super-resolution literature measures PSNR on.

/// Colour conversions on interleaved pixel buffers, as `cv::cvtColor` computes them.
///
/// 8-bit conversions use OpenCV's fixed-point arithmetic (14 fractional bits for YCrCb, 15 for grey, rounding by
/// adding half before the arithmetic shift, saturating to 0...255) and are exact. Float conversions take values in
/// 0...1 (chroma offset 0.5) and reproduce the rounding of OpenCV's x86-64 SIMD paths, including which products are
/// fused into one multiply-add.
package enum ColourConversion {
    // OpenCV's BT.601 coefficients (color.hpp, color_yuv.simd.hpp), scaled by 2^14.
    private static let yuvShift = 14
    private static let r2y = 4899, g2y = 9617, b2y = 1868
    private static let crScale = 11682, cbScale = 9241  // 0.713, 0.564
    private static let cr2r = 22987, cr2g = -11698, cb2g = -5636, cb2b = 29049  // 1.403, -0.714, -0.344, 1.773
    // RGB2Gray<uchar> uses 15 fractional bits; the three sum to 2^15 exactly.
    private static let greyShift = 15
    private static let r2grey = 9798, g2grey = 19235, b2grey = 3735

    // The float coefficients, as `float` constants in OpenCV.
    private static let r2yF: Float = 0.299, g2yF: Float = 0.587, b2yF: Float = 0.114
    private static let crScaleF: Float = 0.713, cbScaleF: Float = 0.564
    private static let cr2rF: Float = 1.403, cr2gF: Float = -0.714, cb2gF: Float = -0.344, cb2bF: Float = 1.773

    @inline(__always)
    private static func saturate(_ value: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: min(max(value, 0), 255))
    }

    // MARK: - 8-bit YCrCb

    /// `COLOR_BGR2YCrCb` on 8-bit data: interleaved B, G, R (every `channelCount` samples, 3 or 4) to Y, Cr, Cb.
    package static func bgrToYCrCb(_ bgr: [UInt8], channelCount: Int = 3) -> [UInt8] {
        toYCrCb(bgr, channelCount: channelCount, blueIndex: 0)
    }

    /// `COLOR_RGB2YCrCb` on 8-bit data: interleaved R, G, B (every `channelCount` samples, 3 or 4) to Y, Cr, Cb.
    package static func rgbToYCrCb(_ rgb: [UInt8], channelCount: Int = 3) -> [UInt8] {
        toYCrCb(rgb, channelCount: channelCount, blueIndex: 2)
    }

    /// `COLOR_YCrCb2BGR` on 8-bit data: interleaved Y, Cr, Cb to B, G, R.
    package static func ycrcbToBGR(_ ycrcb: [UInt8]) -> [UInt8] {
        fromYCrCb(ycrcb, blueIndex: 0)
    }

    /// `COLOR_YCrCb2RGB` on 8-bit data: interleaved Y, Cr, Cb to R, G, B.
    package static func ycrcbToRGB(_ ycrcb: [UInt8]) -> [UInt8] {
        fromYCrCb(ycrcb, blueIndex: 2)
    }

    private static func toYCrCb(_ source: [UInt8], channelCount: Int, blueIndex: Int) -> [UInt8] {
        precondition(channelCount == 3 || channelCount == 4, "channelCount \(channelCount) is not 3 or 4")
        precondition(source.count % channelCount == 0, "\(source.count) samples is not a whole number of pixels")
        // Constant strides and channel positions let the compiler vectorise each variant.
        switch (channelCount, blueIndex) {
        case (3, 0): return toYCrCbKernel(source, channelCount: 3, blueIndex: 0)
        case (3, _): return toYCrCbKernel(source, channelCount: 3, blueIndex: 2)
        case (_, 0): return toYCrCbKernel(source, channelCount: 4, blueIndex: 0)
        default: return toYCrCbKernel(source, channelCount: 4, blueIndex: 2)
        }
    }

    @inline(__always)
    private static func toYCrCbKernel(_ source: [UInt8], channelCount: Int, blueIndex: Int) -> [UInt8] {
        let pixels = source.count / channelCount
        let half = 1 << (yuvShift - 1)
        let chromaDelta = 128 << yuvShift
        return [UInt8](unsafeUninitializedCapacity: pixels * 3) { out, initialised in
            source.withUnsafeBufferPointer { src in
                for i in 0..<pixels {
                    let p = i * channelCount
                    let b = Int(src[p + blueIndex]), g = Int(src[p + 1]), r = Int(src[p + 2 - blueIndex])
                    let y = (b * b2y + g * g2y + r * r2y + half) >> yuvShift
                    let cr = ((r - y) * crScale + chromaDelta + half) >> yuvShift
                    let cb = ((b - y) * cbScale + chromaDelta + half) >> yuvShift
                    out[i * 3] = saturate(y)
                    out[i * 3 + 1] = saturate(cr)
                    out[i * 3 + 2] = saturate(cb)
                }
            }
            initialised = pixels * 3
        }
    }

    /// `ycrcbToRGB(_:)` of three planes of unit floats, each first quantized to 8 bits as OpenCV's
    /// `convertTo(CV_8U, 255)` does (×255, rounded half to even, saturated): one pass, no merged copy.
    package static func ycrcbUnitPlanesToRGB(y: [Float], cr: [Float], cb: [Float]) -> [UInt8] {
        precondition(y.count == cr.count && y.count == cb.count, "plane sizes differ")
        let pixels = y.count
        let half = 1 << (yuvShift - 1)
        @inline(__always) func quantize(_ value: Float) -> Int {
            let rounded = (value * 255).rounded(.toNearestOrEven)
            return rounded <= 0 ? 0 : rounded >= 255 ? 255 : Int(rounded)
        }
        return [UInt8](unsafeUninitializedCapacity: pixels * 3) { out, initialised in
            y.withUnsafeBufferPointer { yp in
                cr.withUnsafeBufferPointer { crp in
                    cb.withUnsafeBufferPointer { cbp in
                        for i in 0..<pixels {
                            let luma = quantize(yp[i]), red = quantize(crp[i]) - 128, blue = quantize(cbp[i]) - 128
                            out[i * 3 + 2] = saturate(luma + ((blue * cb2b + half) >> yuvShift))
                            out[i * 3 + 1] = saturate(luma + ((blue * cb2g + red * cr2g + half) >> yuvShift))
                            out[i * 3] = saturate(luma + ((red * cr2r + half) >> yuvShift))
                        }
                    }
                }
            }
            initialised = pixels * 3
        }
    }

    private static func fromYCrCb(_ source: [UInt8], blueIndex: Int) -> [UInt8] {
        precondition(source.count % 3 == 0, "\(source.count) samples is not a whole number of Y, Cr, Cb pixels")
        let pixels = source.count / 3
        let half = 1 << (yuvShift - 1)
        return [UInt8](unsafeUninitializedCapacity: pixels * 3) { out, initialised in
            source.withUnsafeBufferPointer { src in
                for i in 0..<pixels {
                    let y = Int(src[i * 3]), cr = Int(src[i * 3 + 1]) - 128, cb = Int(src[i * 3 + 2]) - 128
                    let b = y + ((cb * cb2b + half) >> yuvShift)
                    let g = y + ((cb * cb2g + cr * cr2g + half) >> yuvShift)
                    let r = y + ((cr * cr2r + half) >> yuvShift)
                    out[i * 3 + blueIndex] = saturate(b)
                    out[i * 3 + 1] = saturate(g)
                    out[i * 3 + 2 - blueIndex] = saturate(r)
                }
            }
            initialised = pixels * 3
        }
    }

    // MARK: - Float YCrCb

    /// `COLOR_BGR2YCrCb` on float data in 0...1 (Cr and Cb centred on 0.5), as OpenCV's SIMD path rounds it.
    ///
    /// OpenCV computes `Y = fma(b, 0.114, fma(g, 0.587, r * 0.299))` and `Cr = fma(r - Y, 0.713, 0.5)`; its scalar
    /// path, which it takes only for rows shorter than one SIMD vector (16 pixels with AVX-512), rounds differently.
    package static func bgrToYCrCb(_ bgr: [Float], channelCount: Int = 3) -> [Float] {
        toYCrCb(bgr, channelCount: channelCount, blueIndex: 0)
    }

    /// `COLOR_RGB2YCrCb` on float data in 0...1, as OpenCV's SIMD path rounds it
    /// (`Y = fma(r, 0.299, fma(g, 0.587, b * 0.114))`).
    package static func rgbToYCrCb(_ rgb: [Float], channelCount: Int = 3) -> [Float] {
        toYCrCb(rgb, channelCount: channelCount, blueIndex: 2)
    }

    /// `COLOR_YCrCb2BGR` on float data: `B = fma(Cb - 0.5, 1.773, Y)`, `G = fma(Cr - 0.5, -0.714, fma(Cb - 0.5,
    /// -0.344, Y))`, `R = fma(Cr - 0.5, 1.403, Y)`; no clamping.
    package static func ycrcbToBGR(_ ycrcb: [Float]) -> [Float] {
        fromYCrCb(ycrcb, blueIndex: 0)
    }

    /// `COLOR_YCrCb2RGB` on float data (see `ycrcbToBGR(_:)` for the arithmetic).
    package static func ycrcbToRGB(_ ycrcb: [Float]) -> [Float] {
        fromYCrCb(ycrcb, blueIndex: 2)
    }

    private static func toYCrCb(_ source: [Float], channelCount: Int, blueIndex: Int) -> [Float] {
        precondition(channelCount == 3 || channelCount == 4, "channelCount \(channelCount) is not 3 or 4")
        precondition(source.count % channelCount == 0, "\(source.count) samples is not a whole number of pixels")
        switch (channelCount, blueIndex) {
        case (3, 0): return toYCrCbKernel(source, channelCount: 3, blueIndex: 0)
        case (3, _): return toYCrCbKernel(source, channelCount: 3, blueIndex: 2)
        case (_, 0): return toYCrCbKernel(source, channelCount: 4, blueIndex: 0)
        default: return toYCrCbKernel(source, channelCount: 4, blueIndex: 2)
        }
    }

    @inline(__always)
    private static func toYCrCbKernel(_ source: [Float], channelCount: Int, blueIndex: Int) -> [Float] {
        let pixels = source.count / channelCount
        // OpenCV's vector code computes fma(s0, c0, fma(s1, c1, s2 * c2)) in memory order s0, s1, s2.
        let c0 = blueIndex == 0 ? b2yF : r2yF
        let c2 = blueIndex == 0 ? r2yF : b2yF
        return [Float](unsafeUninitializedCapacity: pixels * 3) { out, initialised in
            source.withUnsafeBufferPointer { src in
                for i in 0..<pixels {
                    let p = i * channelCount
                    let s0 = src[p], s1 = src[p + 1], s2 = src[p + 2]
                    let y = (s2 * c2).addingProduct(s1, g2yF).addingProduct(s0, c0)
                    let b = blueIndex == 0 ? s0 : s2
                    let r = blueIndex == 0 ? s2 : s0
                    out[i * 3] = y
                    out[i * 3 + 1] = Float(0.5).addingProduct(r - y, crScaleF)
                    out[i * 3 + 2] = Float(0.5).addingProduct(b - y, cbScaleF)
                }
            }
            initialised = pixels * 3
        }
    }

    private static func fromYCrCb(_ source: [Float], blueIndex: Int) -> [Float] {
        precondition(source.count % 3 == 0, "\(source.count) samples is not a whole number of Y, Cr, Cb pixels")
        let pixels = source.count / 3
        return [Float](unsafeUninitializedCapacity: pixels * 3) { out, initialised in
            source.withUnsafeBufferPointer { src in
                for i in 0..<pixels {
                    let y = src[i * 3], cr = src[i * 3 + 1] - 0.5, cb = src[i * 3 + 2] - 0.5
                    out[i * 3 + blueIndex] = y.addingProduct(cb, cb2bF)
                    out[i * 3 + 1] = y.addingProduct(cb, cb2gF).addingProduct(cr, cr2gF)
                    out[i * 3 + 2 - blueIndex] = y.addingProduct(cr, cr2rF)
                }
            }
            initialised = pixels * 3
        }
    }

    // MARK: - Grey

    /// `COLOR_RGB2GRAY` on 8-bit data: `(9798 R + 19235 G + 3735 B + 2^14) >> 15`, exact.
    package static func rgbToGrey(_ rgb: [UInt8], channelCount: Int = 3) -> [UInt8] {
        toGrey(rgb, channelCount: channelCount, blueIndex: 2)
    }

    /// `COLOR_BGR2GRAY` on 8-bit data, exact.
    package static func bgrToGrey(_ bgr: [UInt8], channelCount: Int = 3) -> [UInt8] {
        toGrey(bgr, channelCount: channelCount, blueIndex: 0)
    }

    private static func toGrey(_ source: [UInt8], channelCount: Int, blueIndex: Int) -> [UInt8] {
        precondition(channelCount == 3 || channelCount == 4, "channelCount \(channelCount) is not 3 or 4")
        precondition(source.count % channelCount == 0, "\(source.count) samples is not a whole number of pixels")
        switch (channelCount, blueIndex) {
        case (3, 0): return toGreyKernel(source, channelCount: 3, blueIndex: 0)
        case (3, _): return toGreyKernel(source, channelCount: 3, blueIndex: 2)
        case (_, 0): return toGreyKernel(source, channelCount: 4, blueIndex: 0)
        default: return toGreyKernel(source, channelCount: 4, blueIndex: 2)
        }
    }

    @inline(__always)
    private static func toGreyKernel(_ source: [UInt8], channelCount: Int, blueIndex: Int) -> [UInt8] {
        let pixels = source.count / channelCount
        let half = 1 << (greyShift - 1)
        return [UInt8](unsafeUninitializedCapacity: pixels) { out, initialised in
            source.withUnsafeBufferPointer { src in
                for i in 0..<pixels {
                    let p = i * channelCount
                    let b = Int(src[p + blueIndex]), g = Int(src[p + 1]), r = Int(src[p + 2 - blueIndex])
                    out[i] = UInt8(truncatingIfNeeded: (r * r2grey + g * g2grey + b * b2grey + half) >> greyShift)
                }
            }
            initialised = pixels
        }
    }

    /// `COLOR_RGB2GRAY` on float data, as the Intel IPP routine that OpenCV's x86-64 wheels call rounds it:
    /// `fma(B, 0.114, fma(R, 0.299, G * 0.587))`.
    package static func rgbToGrey(_ rgb: [Float], channelCount: Int = 3) -> [Float] {
        toGrey(rgb, channelCount: channelCount, blueIndex: 2)
    }

    /// `COLOR_BGR2GRAY` on float data, as IPP rounds it: `fma(R, 0.299, fma(B, 0.114, G * 0.587))`.
    package static func bgrToGrey(_ bgr: [Float], channelCount: Int = 3) -> [Float] {
        toGrey(bgr, channelCount: channelCount, blueIndex: 0)
    }

    private static func toGrey(_ source: [Float], channelCount: Int, blueIndex: Int) -> [Float] {
        precondition(channelCount == 3 || channelCount == 4, "channelCount \(channelCount) is not 3 or 4")
        precondition(source.count % channelCount == 0, "\(source.count) samples is not a whole number of pixels")
        let pixels = source.count / channelCount
        // IPP: fma(s2, k2, fma(s0, k0, s1 * k1)) in memory order s0, s1, s2.
        let k0 = blueIndex == 0 ? b2yF : r2yF
        let k2 = blueIndex == 0 ? r2yF : b2yF
        return [Float](unsafeUninitializedCapacity: pixels) { out, initialised in
            source.withUnsafeBufferPointer { src in
                for i in 0..<pixels {
                    let p = i * channelCount
                    out[i] = (src[p + 1] * g2yF).addingProduct(src[p], k0).addingProduct(src[p + 2], k2)
                }
            }
            initialised = pixels
        }
    }

    // MARK: - MATLAB luma (evaluation)

    /// MATLAB `rgb2ycbcr` luma of interleaved 8-bit R, G, B: `16 + (65.481 R + 128.553 G + 24.966 B)` with R, G, B
    /// in 0...1, in Double; the Y channel on which super-resolution papers report PSNR and SSIM.
    ///
    /// With `rounded`, the result is rounded half away from zero as MATLAB's `rgb2ycbcr` does for `uint8` input
    /// (the convention behind most published tables); without it, the value stays unrounded in 16...235.
    package static func matlabLuma(rgb: [UInt8], channelCount: Int = 3, rounded: Bool = false) -> [Double] {
        precondition(channelCount == 3 || channelCount == 4, "channelCount \(channelCount) is not 3 or 4")
        precondition(rgb.count % channelCount == 0, "\(rgb.count) samples is not a whole number of pixels")
        let pixels = rgb.count / channelCount
        return [Double](unsafeUninitializedCapacity: pixels) { out, initialised in
            rgb.withUnsafeBufferPointer { src in
                for i in 0..<pixels {
                    let p = i * channelCount
                    let r = Double(src[p]) / 255, g = Double(src[p + 1]) / 255, b = Double(src[p + 2]) / 255
                    let y = 16 + (65.481 * r + 128.553 * g + 24.966 * b)
                    out[i] = rounded ? y.rounded(.toNearestOrAwayFromZero) : y
                }
            }
            initialised = pixels
        }
    }
}
