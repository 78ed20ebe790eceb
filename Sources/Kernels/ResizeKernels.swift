// Layout kernels of the ncnn networks (Real-ESRGAN, SRMD): resampling as ncnn's `Interp` layer computes it,
// channel concatenation and PyTorch's pixel shuffle. All NHWC with a batch of one.

import Tensor

/// How a feature map is resampled by an integer or fractional factor (the `Interp` layer of ncnn models).
package enum ResampleMode: String, Sendable, Hashable {
    /// Nearest neighbour (ncnn `Interp` resize_type 1): output `(y, x)` reads input
    /// `(min(Int(y · hs), H − 1), min(Int(x · ws), W − 1))`, `hs = 1 / scaleY` (or `H / outputHeight`).
    case nearest
    /// ncnn's bicubic (`Interp` resize_type 3, align_corner 0): Keys' cubic with A = −0.75, source coordinate
    /// `(d + 0.5) / scale − 0.5` computed in double and rounded to float (`scale` the layer's factor, or
    /// `out / in` for its output-size form), the taps past an edge folded onto the edge pixels (the weights added up
    /// as ncnn does), a horizontal pass then a vertical one.
    case bicubic
    /// Bilinear with half-pixel centres, as PyTorch's `interpolate(mode="bilinear", align_corners=False)` and ONNX
    /// `Resize` (linear, half_pixel) compute it: source `max((d + 0.5) / scale − 0.5, 0)`, its floor and the next
    /// pixel (the last one repeated at the edge), weighted by the fraction; a horizontal pass then a vertical one.
    case bilinear
    /// `bilinear` with ONNX's `asymmetric` coordinates (TensorFlow 1's resize): source `d / scale`.
    case bilinearAsymmetric
    /// `bicubic` with ONNX's `asymmetric` coordinates: source `d / scale`.
    case bicubicAsymmetric

    /// Whether source coordinates are `(d + 0.5) / scale − 0.5` (half-pixel centres) rather than `d / scale`.
    var usesHalfPixelCentres: Bool { self != .bilinearAsymmetric && self != .bicubicAsymmetric }
}

extension ReferenceKernels {
    /// Resamples an NHWC feature map `[1, H, W, C]` to `[1, outputHeight, outputWidth, C]` exactly as ncnn's
    /// `Interp` does (`src/layer/interp.cpp`: `cubic_coeffs`, `resize_bicubic_image`, the nearest loop).
    ///
    /// `scaleY`/`scaleX` are the layer's scale factors: ncnn maps output to input coordinates with `1 / scale`
    /// (checked against ncnn 1.0.20261020: 7 → 17 columns at ×2.5 samples at steps of 0.4, not 7/17). When absent,
    /// `H / outputHeight` is used, as for ncnn's output-size form; the two agree whenever the output size is exactly
    /// `H · scale`, as in every Real-ESRGAN model. An output of the input's size is the input.
    package static func resample(
        _ input: Tensor,
        mode: ResampleMode,
        outputHeight: Int,
        outputWidth: Int,
        scaleY: Float? = nil,
        scaleX: Float? = nil
    ) -> Tensor {
        let shape = FeatureMapShape(nhwc: input.shape)!
        precondition(outputHeight > 0 && outputWidth > 0, "empty resample output")
        if outputHeight == shape.height && outputWidth == shape.width { return input }
        let halfPixel = mode.usesHalfPixelCentres
        switch mode {
        case .nearest:
            let hs = scaleY.map { 1 / $0 } ?? Float(shape.height) / Float(outputHeight)
            let ws = scaleX.map { 1 / $0 } ?? Float(shape.width) / Float(outputWidth)
            return nearest(input, shape: shape, outputHeight: outputHeight, outputWidth: outputWidth, hs: hs, ws: ws)
        case .bilinear, .bilinearAsymmetric:
            let stepY = scaleY.map { 1 / $0 } ?? Float(shape.height) / Float(outputHeight)
            let stepX = scaleX.map { 1 / $0 } ?? Float(shape.width) / Float(outputWidth)
            return bilinear(
                input, shape: shape,
                rows: linearTable(input: shape.height, output: outputHeight, step: stepY, halfPixel: halfPixel),
                columns: linearTable(input: shape.width, output: outputWidth, step: stepX, halfPixel: halfPixel))
        case .bicubic, .bicubicAsymmetric:
            let stepY = scaleY.map { 1 / Double($0) } ?? Double(shape.height) / Double(outputHeight)
            let stepX = scaleX.map { 1 / Double($0) } ?? Double(shape.width) / Double(outputWidth)
            return bicubic(
                input, shape: shape,
                rows: cubicTable(input: shape.height, output: outputHeight, step: stepY, halfPixel: halfPixel),
                columns: cubicTable(input: shape.width, output: outputWidth, step: stepX, halfPixel: halfPixel))
        }
    }

    private static func nearest(
        _ input: Tensor,
        shape: FeatureMapShape,
        outputHeight: Int,
        outputWidth: Int,
        hs: Float,
        ws: Float
    ) -> Tensor {
        let c = shape.channels
        let columns = (0..<outputWidth).map { min(Int(Float($0) * ws), shape.width - 1) }
        var out = [Float](repeating: 0, count: outputHeight * outputWidth * c)
        input.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outputHeight {
                    let row = min(Int(Float(y) * hs), shape.height - 1) * shape.width
                    for x in 0..<outputWidth {
                        (dst.baseAddress! + (y * outputWidth + x) * c).update(
                            from: src.baseAddress! + (row + columns[x]) * c,
                            count: c
                        )
                    }
                }
            }
        }
        return Tensor(shape: [1, outputHeight, outputWidth, c], scalars: out)
    }

    /// Per output position the two source indices and the second one's weight (half-pixel centres or `d · step`,
    /// clamped).
    static func linearTable(
        input length: Int, output: Int, step: Float, halfPixel: Bool = true
    ) -> (index: [Int], fraction: [Float]) {
        var index: [Int] = []
        var fraction: [Float] = []
        for d in 0..<output {
            let source = max(halfPixel ? (Float(d) + 0.5) * step - 0.5 : Float(d) * step, 0)
            let low = min(Int(source), length - 1)
            index += [low, min(low + 1, length - 1)]
            fraction.append(low == length - 1 ? 0 : source - Float(low))
        }
        return (index, fraction)
    }

    /// Bilinear resampling by the tables of `linearTable` for the rows and the columns.
    private static func bilinear(
        _ input: Tensor, shape: FeatureMapShape, rows: (index: [Int], fraction: [Float]),
        columns cols: (index: [Int], fraction: [Float])
    ) -> Tensor {
        let c = shape.channels
        let (outputHeight, outputWidth) = (rows.fraction.count, cols.fraction.count)
        // Horizontal pass over every input row, then vertical: a·(1 − λ) + b·λ, as onnxruntime's loops.
        var horizontal = [Float](repeating: 0, count: shape.height * outputWidth * c)
        for y in 0..<shape.height {
            for x in 0..<outputWidth {
                let a = (y * shape.width + cols.index[2 * x]) * c
                let b = (y * shape.width + cols.index[2 * x + 1]) * c
                let lambda = cols.fraction[x]
                for k in 0..<c {
                    horizontal[(y * outputWidth + x) * c + k] =
                        input.scalars[a + k] * (1 - lambda) + input.scalars[b + k] * lambda
                }
            }
        }
        let rowLength = outputWidth * c
        var out = [Float](repeating: 0, count: outputHeight * rowLength)
        for y in 0..<outputHeight {
            let a = rows.index[2 * y] * rowLength
            let b = rows.index[2 * y + 1] * rowLength
            let lambda = rows.fraction[y]
            for k in 0..<rowLength {
                out[y * rowLength + k] = horizontal[a + k] * (1 - lambda) + horizontal[b + k] * lambda
            }
        }
        return Tensor(shape: [1, outputHeight, outputWidth, c], scalars: out)
    }

    /// Bicubic resampling by the tables of `cubicTable` (four taps per output) for the rows and the columns.
    private static func bicubic(
        _ input: Tensor, shape: FeatureMapShape, rows: (index: [Int], weight: [Float]),
        columns cols: (index: [Int], weight: [Float])
    ) -> Tensor {
        let c = shape.channels
        let (outputHeight, outputWidth) = (rows.weight.count / 4, cols.weight.count / 4)
        // Horizontal pass over every input row: S[-1]·a0 + S[0]·a1 + S[1]·a2 + S[2]·a3, left to right.
        var horizontal = [Float](repeating: 0, count: shape.height * outputWidth * c)
        input.scalars.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { dst in
                for y in 0..<shape.height {
                    for x in 0..<outputWidth {
                        let t = x * 4
                        let s0 = src.baseAddress! + (y * shape.width + cols.index[t]) * c
                        let s1 = src.baseAddress! + (y * shape.width + cols.index[t + 1]) * c
                        let s2 = src.baseAddress! + (y * shape.width + cols.index[t + 2]) * c
                        let s3 = src.baseAddress! + (y * shape.width + cols.index[t + 3]) * c
                        let (a0, a1, a2, a3) = (
                            cols.weight[t], cols.weight[t + 1], cols.weight[t + 2], cols.weight[t + 3]
                        )
                        let d = dst.baseAddress! + (y * outputWidth + x) * c
                        for k in 0..<c { d[k] = s0[k] * a0 + s1[k] * a1 + s2[k] * a2 + s3[k] * a3 }
                    }
                }
            }
        }
        // Vertical pass: rows0·b0 + rows1·b1 + rows2·b2 + rows3·b3.
        let rowLength = outputWidth * c
        var out = [Float](repeating: 0, count: outputHeight * rowLength)
        horizontal.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outputHeight {
                    let t = y * 4
                    let r0 = src.baseAddress! + rows.index[t] * rowLength
                    let r1 = src.baseAddress! + rows.index[t + 1] * rowLength
                    let r2 = src.baseAddress! + rows.index[t + 2] * rowLength
                    let r3 = src.baseAddress! + rows.index[t + 3] * rowLength
                    let (b0, b1, b2, b3) = (rows.weight[t], rows.weight[t + 1], rows.weight[t + 2], rows.weight[t + 3])
                    let d = dst.baseAddress! + y * rowLength
                    for k in 0..<rowLength { d[k] = r0[k] * b0 + r1[k] * b1 + r2[k] * b2 + r3[k] * b3 }
                }
            }
        }
        return Tensor(shape: [1, outputHeight, outputWidth, c], scalars: out)
    }

    /// ncnn's `cubic_coeffs`: per output position, four source indices (`sx − 1 … sx + 2`) and their weights;
    /// `step` is input pixels per output pixel.
    ///
    /// Near the edges ncnn moves `sx` inward and folds the weights of the taps that fall outside onto the edge
    /// pixel, in the order its four `if`s do (equal to clamping the indices, up to the float rounding of the sums,
    /// which this reproduces). Inputs narrower than 4 pixels, where ncnn would read outside the row, clamp.
    /// The weights agree with ncnn 1.0.20261020's to a few 1e-6: the polynomial cancels terms near 10, so its last
    /// bits depend on how the compiler orders and fuses the operations.
    static func cubicTable(
        input w: Int, output: Int, step scale: Double, halfPixel: Bool = true
    ) -> (index: [Int], weight: [Float]) {
        var index = [Int](repeating: 0, count: output * 4)
        var weight = [Float](repeating: 0, count: output * 4)
        let a: Float = -0.75
        for d in 0..<output {
            var fx = Float(halfPixel ? (Double(d) + 0.5) * scale - 0.5 : Double(d) * scale)
            var sx = Int(fx.rounded(.down))
            fx -= Float(sx)
            let fx0 = fx + 1
            let fx1 = fx
            let fx2 = 1 - fx
            let c0 = a * fx0 * fx0 * fx0 - 5 * a * fx0 * fx0 + 8 * a * fx0 - 4 * a
            let c1 = (a + 2) * fx1 * fx1 * fx1 - (a + 3) * fx1 * fx1 + 1
            let c2 = (a + 2) * fx2 * fx2 * fx2 - (a + 3) * fx2 * fx2 + 1
            var k = [c0, c1, c2, 1 - c0 - c1 - c2]
            if sx <= -1 {
                sx = 1
                k = [1 - k[3], k[3], 0, 0]
            }
            if sx == 0 {
                sx = 1
                k = [k[0] + k[1], k[2], k[3], 0]
            }
            if sx == w - 2 {
                sx = w - 3
                k = [0, k[0], k[1], k[2] + k[3]]
            }
            if sx >= w - 1 {
                sx = w - 3
                k = [0, 0, k[0], 1 - k[0]]
            }
            for tap in 0..<4 {
                index[d * 4 + tap] = min(max(sx - 1 + tap, 0), w - 1)
                weight[d * 4 + tap] = k[tap]
            }
        }
        return (index, weight)
    }

    /// Concatenates NHWC feature maps of equal height and width along the channels.
    package static func concatenateChannels(_ inputs: [Tensor]) -> Tensor {
        let shapes = inputs.map { FeatureMapShape(nhwc: $0.shape)! }
        let pixels = shapes[0].height * shapes[0].width
        let total = shapes.reduce(0) { $0 + $1.channels }
        var out = [Float](repeating: 0, count: pixels * total)
        var offset = 0
        out.withUnsafeMutableBufferPointer { dst in
            for (tensor, shape) in zip(inputs, shapes) {
                let channels = shape.channels
                tensor.scalars.withUnsafeBufferPointer { src in
                    for p in 0..<pixels {
                        (dst.baseAddress! + p * total + offset).update(
                            from: src.baseAddress! + p * channels,
                            count: channels
                        )
                    }
                }
                offset += channels
            }
        }
        return Tensor(shape: [1, shapes[0].height, shapes[0].width, total], scalars: out)
    }

    /// PyTorch `PixelShuffle` ("CRD" order): output pixel `(y*s+i, x*s+j)` channel `c` is input pixel `(y, x)`
    /// channel `c*s*s + i*s + j`. Input `[1, H, W, C*s*s]`, output `[1, H*s, W*s, C]`.
    package static func pixelShuffle(_ input: Tensor, blockSize s: Int) -> Tensor {
        let shape = FeatureMapShape(nhwc: input.shape)!
        let c = shape.channels / (s * s)
        let outWidth = shape.width * s
        var out = [Float](repeating: 0, count: shape.elementCount)
        input.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<shape.height {
                    for x in 0..<shape.width {
                        let pixel = src.baseAddress! + (y * shape.width + x) * shape.channels
                        for i in 0..<s {
                            for j in 0..<s {
                                let target = dst.baseAddress! + ((y * s + i) * outWidth + x * s + j) * c
                                for k in 0..<c { target[k] = pixel[k * s * s + i * s + j] }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [1, shape.height * s, outWidth, c], scalars: out)
    }
}
