// MATLAB's `imresize(image, scale, 'bicubic')`, the resampler that makes the low-resolution images of the standard
// super-resolution evaluation protocol. `tools/imresize_reference.py` is the NumPy reference it is tested against;
// both spell out the same float64 operations in the same order.

extension Resize {
    /// One dimension's resampling: `taps` source indices (already mirrored into range) and weights per output sample.
    struct MatlabContributions {
        var taps: Int
        var indices: [Int]
        var weights: [Double]
    }

    /// MATLAB's `cubic`: Keys' kernel with a = -0.5.
    @inline(__always)
    static func matlabCubic(_ x: Double) -> Double {
        let absx = abs(x)
        let absx2 = absx * absx
        let absx3 = absx2 * absx
        let near = (1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1 ? 1 : 0)
        let far = (-0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2) * (absx > 1 && absx <= 2 ? 1 : 0)
        return near + far
    }

    /// MATLAB's `contributions()` for the bicubic kernel, with antialiasing when shrinking.
    static func matlabContributions(inLength: Int, outLength: Int, scale: Double) -> MatlabContributions {
        matlabContributions(inLength: inLength, outLength: outLength, scale: scale, kernel: .cubic)
    }

    /// MATLAB's `contributions()` for `kernel`, with antialiasing when shrinking (the kernel stretched by 1/scale).
    static func matlabContributions(
        inLength: Int, outLength: Int, scale: Double, kernel: ResampleKernel
    ) -> MatlabContributions {
        let shrinking = scale < 1
        let kernelWidth = shrinking ? kernel.width / scale : kernel.width
        let taps = Int(kernelWidth.rounded(.up)) + 2
        var weights = [Double](repeating: 0, count: outLength * taps)
        var indices = [Int](repeating: 0, count: outLength * taps)
        let period = 2 * inLength
        for j in 0..<outLength {
            let u = Double(j + 1) / scale + 0.5 * (1 - 1 / scale)
            let left = (u - kernelWidth / 2).rounded(.down)
            var sum = 0.0
            for k in 0..<taps {
                let distance = u - (left + Double(k))
                let w = shrinking ? scale * kernel(scale * distance) : kernel(distance)
                weights[j * taps + k] = w
                sum += w
                // Symmetric mirror over [1, n, n, 1]: 1-based index i maps to aux[(i - 1) mod 2n].
                let wrapped = ((Int(left) + k - 1) % period + period) % period
                indices[j * taps + k] = wrapped < inLength ? wrapped : period - 1 - wrapped
            }
            for k in 0..<taps { weights[j * taps + k] /= sum }
        }
        // Drop the taps whose weight is zero for every output, as MATLAB does.
        let kept = (0..<taps).filter { k in (0..<outLength).contains { weights[$0 * taps + k] != 0 } }
        if kept.count == taps { return MatlabContributions(taps: taps, indices: indices, weights: weights) }
        var keptWeights = [Double](), keptIndices = [Int]()
        keptWeights.reserveCapacity(outLength * kept.count)
        keptIndices.reserveCapacity(outLength * kept.count)
        for j in 0..<outLength {
            for k in kept {
                keptWeights.append(weights[j * taps + k])
                keptIndices.append(indices[j * taps + k])
            }
        }
        return MatlabContributions(taps: kept.count, indices: keptIndices, weights: keptWeights)
    }

    /// MATLAB's output size for a scale factor: `ceil(scale * size)` in each dimension.
    package static func matlabOutputSize(width: Int, height: Int, scale: Double) -> (width: Int, height: Int) {
        precondition(scale > 0 && scale.isFinite, "scale \(scale) is not a positive number")
        return (Int((scale * Double(width)).rounded(.up)), Int((scale * Double(height)).rounded(.up)))
    }

    /// MATLAB `imresize(image, scale, 'bicubic')` on one channel in float64: Keys cubic (a = -0.5), antialiased when
    /// shrinking, symmetric borders, output `ceil(scale * size)` (see `matlabOutputSize(width:height:scale:)`).
    /// The result is not rounded; `matlabUInt8(_:)` converts it as MATLAB's `uint8` does.
    package static func matlabBicubic(
        _ values: [Double],
        width: Int,
        height: Int,
        scale: Double
    ) -> (width: Int, height: Int, values: [Double]) {
        let size = matlabOutputSize(width: width, height: height, scale: scale)
        let out = matlabBicubic(
            values,
            width: width,
            height: height,
            toWidth: size.width,
            toHeight: size.height,
            scaleX: scale,
            scaleY: scale
        )
        return (size.width, size.height, out)
    }

    /// MATLAB `imresize(image, [toHeight toWidth], 'bicubic')` on one channel in float64: each dimension's scale is
    /// `output / input`. The result is not rounded.
    package static func matlabBicubic(
        _ values: [Double],
        width: Int,
        height: Int,
        toWidth: Int,
        toHeight: Int
    ) -> [Double] {
        matlabBicubic(
            values,
            width: width,
            height: height,
            toWidth: toWidth,
            toHeight: toHeight,
            scaleX: Double(toWidth) / Double(width),
            scaleY: Double(toHeight) / Double(height)
        )
    }

    /// `matlabBicubic` on a float plane: computed in float64, rounded to float at the end.
    package static func matlabBicubic(_ plane: FloatPlane, scale: Double) -> FloatPlane {
        let result = matlabBicubic(
            plane.values.map(Double.init),
            width: plane.width,
            height: plane.height,
            scale: scale
        )
        return FloatPlane(width: result.width, height: result.height, values: result.values.map(Float.init))
    }

    /// `matlabBicubic` on a float plane to a given size: computed in float64, rounded to float at the end.
    package static func matlabBicubic(_ plane: FloatPlane, toWidth: Int, toHeight: Int) -> FloatPlane {
        let out = matlabBicubic(
            plane.values.map(Double.init),
            width: plane.width,
            height: plane.height,
            toWidth: toWidth,
            toHeight: toHeight
        )
        return FloatPlane(width: toWidth, height: toHeight, values: out.map(Float.init))
    }

    /// MATLAB's conversion of a double to `uint8`: clamp to 0...255, round half away from zero (NaN becomes 0).
    @inline(__always)
    package static func matlabUInt8(_ value: Double) -> UInt8 {
        guard value > 0 else { return 0 }
        return value >= 255 ? 255 : UInt8(value.rounded(.toNearestOrAwayFromZero))
    }

    /// `matlabUInt8(_:)` over an array.
    package static func matlabUInt8(_ values: [Double]) -> [UInt8] {
        values.map { matlabUInt8($0) }
    }

    static func matlabBicubic(
        _ values: [Double],
        width: Int,
        height: Int,
        toWidth: Int,
        toHeight: Int,
        scaleX: Double,
        scaleY: Double
    ) -> [Double] {
        precondition(width > 0 && height > 0, "cannot resize an empty \(width)×\(height) image")
        precondition(values.count == width * height, "\(values.count) samples for a \(width)×\(height) image")
        precondition(toWidth > 0 && toHeight > 0, "cannot resize to \(toWidth)×\(toHeight)")
        let rows = matlabContributions(inLength: height, outLength: toHeight, scale: scaleY)
        let columns = matlabContributions(inLength: width, outLength: toWidth, scale: scaleX)
        // MATLAB resizes the dimension with the smaller scale first; rows first on ties.
        if scaleY <= scaleX {
            let tall = resizeAxis(values, width: width, height: height, vertical: true, rows, weights: rows.weights)
            return resizeAxis(tall, width: width, height: toHeight, vertical: false, columns, weights: columns.weights)
        } else {
            let wide = resizeAxis(
                values, width: width, height: height, vertical: false, columns, weights: columns.weights)
            return resizeAxis(wide, width: toWidth, height: height, vertical: true, rows, weights: rows.weights)
        }
    }

    /// Resamples along one axis with `c`: down the columns when `vertical` (MATLAB dimension 1; the output height is
    /// the number of rows in `c`), else along the rows (dimension 2; the output width). Each output sample is its taps'
    /// weighted samples summed in tap order from zero; `weights` are `c.weights` in the samples' own type.
    static func resizeAxis<T: BinaryFloatingPoint>(
        _ values: [T], width: Int, height: Int, vertical: Bool, _ c: MatlabContributions, weights: [T]
    ) -> [T] {
        let outLength = c.indices.count / c.taps
        let count = vertical ? width * outLength : outLength * height
        return [T](unsafeUninitializedCapacity: count) { out, initialised in
            values.withUnsafeBufferPointer { src in
                if vertical {
                    for j in 0..<outLength {
                        let o = j * width
                        for x in 0..<width { out[o + x] = 0 }
                        for k in 0..<c.taps {
                            let w = weights[j * c.taps + k], s = c.indices[j * c.taps + k] * width
                            for x in 0..<width { out[o + x] += w * src[s + x] }
                        }
                    }
                } else {
                    weights.withUnsafeBufferPointer { weights in
                        c.indices.withUnsafeBufferPointer { indices in
                            for y in 0..<height {
                                let s = y * width, o = y * outLength
                                for j in 0..<outLength {
                                    var sum: T = 0
                                    let t = j * c.taps
                                    for k in 0..<c.taps { sum += weights[t + k] * src[s + indices[t + k]] }
                                    out[o + j] = sum
                                }
                            }
                        }
                    }
                }
            }
            initialised = count
        }
    }
}
