import Tensor

// The layout steps of U-Net shaped networks (Real-CUGAN): cropping a feature map, folding blocks of pixels into
// channels (a stride-s convolution with an s × s kernel is this fold and a 1 × 1 convolution), and the channel means
// of squeeze-and-excitation blocks. Each is a single pass over memory, simple enough to be its own reference.

/// How `ReferenceKernels.pad` fills the pixels it adds.
package enum PadMode: String, Sendable, Hashable {
    /// Mirrored about the edge pixel, which is not repeated (numpy's and ONNX's `reflect`): `c b | a b c`.
    case reflect
    /// The edge pixel repeated (`edge`, `replicate`): `a a | a b c`.
    case edge
}

/// What `ReferenceKernels.channelReduce` computes over each pixel's channels.
package enum ChannelReduction: String, Sendable, Hashable {
    case mean, maximum, sum
}

extension ReferenceKernels {
    /// Each pixel's channels reduced to one value (their mean, largest or sum, summed in channel order):
    /// `[1, H, W, C]` to `[1, H, W, 1]`.
    package static func channelReduce(_ input: Tensor, _ reduction: ChannelReduction) -> Tensor {
        let shape = FeatureMapShape(nhwc: input.shape)!
        let c = shape.channels
        var out = [Float](repeating: 0, count: shape.height * shape.width)
        for pixel in out.indices {
            let values = input.scalars[(pixel * c)..<((pixel + 1) * c)]
            switch reduction {
            case .maximum: out[pixel] = values.max() ?? 0
            case .sum: out[pixel] = values.reduce(0, +)
            case .mean: out[pixel] = values.reduce(0, +) / Float(c)
            }
        }
        return Tensor(shape: [1, shape.height, shape.width, 1], scalars: out)
    }

    /// The feature map with `top`, `left`, `bottom` and `right` pixels added at its edges, filled as `mode` says:
    /// `[1, H, W, C]` to `[1, H + top + bottom, W + left + right, C]`. Reflection needs pads smaller than the map.
    package static func pad(_ input: Tensor, top: Int, left: Int, bottom: Int, right: Int, mode: PadMode) -> Tensor {
        let shape = FeatureMapShape(nhwc: input.shape)!
        let (h, w, c) = (shape.height, shape.width, shape.channels)
        precondition(min(top, left, bottom, right) >= 0, "negative pad")
        precondition(mode == .edge || max(top, bottom) < h && max(left, right) < w, "reflection past the map")
        if top == 0 && left == 0 && bottom == 0 && right == 0 { return input }
        func source(_ i: Int, _ n: Int) -> Int {
            switch mode {
            case .edge: return min(max(i, 0), n - 1)
            case .reflect: return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i
            }
        }
        let (height, width) = (h + top + bottom, w + left + right)
        var out = [Float](repeating: 0, count: height * width * c)
        input.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = source(y - top, h) * w
                    for x in 0..<width {
                        (dst.baseAddress! + (y * width + x) * c).update(
                            from: src.baseAddress! + (row + source(x - left, w)) * c, count: c)
                    }
                }
            }
        }
        return Tensor(shape: [1, height, width, c], scalars: out)
    }

    /// The feature map without `top`, `left`, `bottom` and `right` pixels at its edges (all ≥ 0, leaving at least
    /// one pixel): `[1, H, W, C]` to `[1, H − top − bottom, W − left − right, C]`.
    package static func crop(_ input: Tensor, top: Int, left: Int, bottom: Int, right: Int) -> Tensor {
        let shape = FeatureMapShape(nhwc: input.shape)!
        let height = shape.height - top - bottom
        let width = shape.width - left - right
        precondition(top >= 0 && left >= 0 && bottom >= 0 && right >= 0 && height > 0 && width > 0, "bad crop")
        let c = shape.channels
        if height == shape.height && width == shape.width { return input }
        var out = [Float](repeating: 0, count: height * width * c)
        input.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    (dst.baseAddress! + y * width * c).update(
                        from: src.baseAddress! + ((y + top) * shape.width + left) * c, count: width * c)
                }
            }
        }
        return Tensor(shape: [1, height, width, c], scalars: out)
    }

    /// Folds each `s × s` block of pixels into one pixel of `s·s·C` channels: output pixel `(y, x)` channel
    /// `(dy·s + dx)·C + c` is input pixel `(y·s + dy, x·s + dx)` channel `c` (TensorFlow's `SpaceToDepth` order).
    /// Trailing rows and columns that fill no whole block are dropped, as a stride-s convolution drops them.
    package static func spaceToDepth(_ input: Tensor, blockSize s: Int) -> Tensor {
        let shape = FeatureMapShape(nhwc: input.shape)!
        let (height, width, c) = (shape.height / s, shape.width / s, shape.channels)
        precondition(s >= 1 && height > 0 && width > 0, "the map is smaller than one block")
        var out = [Float](repeating: 0, count: height * width * s * s * c)
        input.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    for x in 0..<width {
                        let pixel = dst.baseAddress! + (y * width + x) * s * s * c
                        for dy in 0..<s {
                            (pixel + dy * s * c).update(
                                from: src.baseAddress! + ((y * s + dy) * shape.width + x * s) * c, count: s * c)
                        }
                    }
                }
            }
        }
        return Tensor(shape: [1, height, width, s * s * c], scalars: out)
    }

    /// The mean of every channel over the whole map: `[1, H, W, C]` to `[1, 1, 1, C]` (summed in Double).
    package static func globalAveragePool(_ input: Tensor) -> Tensor {
        let sums = channelSums(input, rows: 0..<input.shape[1], columns: 0..<input.shape[2])
        let count = Double(input.shape[1] * input.shape[2])
        return Tensor(shape: [1, 1, 1, sums.count], scalars: sums.map { Float($0 / count) })
    }

    /// The sum of every channel over the pixels `rows × columns` of a `[1, H, W, C]` map, in Double.
    package static func channelSums(_ input: Tensor, rows: Range<Int>, columns: Range<Int>) -> [Double] {
        let shape = FeatureMapShape(nhwc: input.shape)!
        precondition(rows.clamped(to: 0..<shape.height) == rows && columns.clamped(to: 0..<shape.width) == columns)
        let c = shape.channels
        var sums = [Double](repeating: 0, count: c)
        var rowSums = [Float](repeating: 0, count: c)
        input.scalars.withUnsafeBufferPointer { src in
            for y in rows {
                // A row in Float (vectorizes), rows added up in Double.
                for k in 0..<c { rowSums[k] = 0 }
                for x in columns {
                    let pixel = src.baseAddress! + (y * shape.width + x) * c
                    for k in 0..<c { rowSums[k] += pixel[k] }
                }
                for k in 0..<c { sums[k] += Double(rowSums[k]) }
            }
        }
        return sums
    }
}
