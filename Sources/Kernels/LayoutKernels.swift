import Tensor

extension ReferenceKernels {
    /// TensorFlow `DepthToSpace` (NHWC, "DCR" order): output pixel `(y*s+dy, x*s+dx)` channel `c` is input pixel
    /// `(y, x)` channel `(dy*s + dx)*C + c`. Input `[1, H, W, s*s*C]`, output `[1, H*s, W*s, C]`.
    package static func depthToSpace(_ input: Tensor, blockSize s: Int) -> Tensor {
        let shape = FeatureMapShape(nhwc: input.shape)!
        precondition(shape.channels % (s * s) == 0, "channels not divisible by block size squared")
        let c = shape.channels / (s * s)
        let outShape = FeatureMapShape(height: shape.height * s, width: shape.width * s, channels: c)
        var out = [Float](repeating: 0, count: outShape.elementCount)
        for y in 0..<shape.height {
            for x in 0..<shape.width {
                for dy in 0..<s {
                    for dx in 0..<s {
                        for k in 0..<c {
                            out[((y * s + dy) * outShape.width + x * s + dx) * c + k] =
                                input.scalars[(y * shape.width + x) * shape.channels + (dy * s + dx) * c + k]
                        }
                    }
                }
            }
        }
        return Tensor(shape: outShape.nhwc, scalars: out)
    }

    /// Permutes the axes: output axis `i` is input axis `permutation[i]`.
    package static func transpose(_ input: Tensor, permutation: [Int]) -> Tensor {
        precondition(permutation.sorted() == Array(0..<input.rank), "bad permutation \(permutation)")
        let rank = input.rank
        let outShape = permutation.map { input.shape[$0] }
        var inStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { inStrides[axis] = inStrides[axis + 1] * input.shape[axis + 1] }
        let count = input.count
        var out = [Float](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: rank)
        for flat in 0..<count {
            var source = 0
            for axis in 0..<rank { source += index[axis] * inStrides[permutation[axis]] }
            out[flat] = input.scalars[source]
            advanceIndex(&index, within: outShape)
        }
        return Tensor(shape: outShape, scalars: out)
    }
}

/// Fast layout kernels: whole runs of channels copied, rows spread over the compute pool, outputs not zero-filled
/// first (every value is written once).
package enum LayoutKernels {
    /// `DepthToSpace` as `ReferenceKernels.depthToSpace`.
    package static func depthToSpace(_ input: Tensor, blockSize s: Int, pool: ComputePool = .shared) -> Tensor {
        let shape = FeatureMapShape(nhwc: input.shape)!
        let c = shape.channels / (s * s)
        let outShape = FeatureMapShape(height: shape.height * s, width: shape.width * s, channels: c)
        let out = rows(of: input, count: outShape.elementCount, rows: shape.height, pool: pool) { y, src, dst in
            for x in 0..<shape.width {
                let from = src + (y * shape.width + x) * shape.channels
                for dy in 0..<s {
                    (dst + ((y * s + dy) * outShape.width + x * s) * c).update(from: from + dy * s * c, count: s * c)
                }
            }
        }
        return Tensor(shape: outShape.nhwc, scalars: out)
    }

    /// `Crop` as `ReferenceKernels.crop`.
    package static func crop(
        _ input: Tensor, top: Int, left: Int, bottom: Int, right: Int, pool: ComputePool = .shared
    ) -> Tensor {
        let shape = FeatureMapShape(nhwc: input.shape)!
        let height = shape.height - top - bottom
        let width = shape.width - left - right
        precondition(min(top, left, bottom, right) >= 0 && height > 0 && width > 0, "bad crop")
        let c = shape.channels
        let out = rows(of: input, count: height * width * c, rows: height, pool: pool) { y, src, dst in
            (dst + y * width * c).update(from: src + ((y + top) * shape.width + left) * c, count: width * c)
        }
        return Tensor(shape: [1, height, width, c], scalars: out)
    }

    /// `SpaceToDepth` as `ReferenceKernels.spaceToDepth`.
    package static func spaceToDepth(_ input: Tensor, blockSize s: Int, pool: ComputePool = .shared) -> Tensor {
        let shape = FeatureMapShape(nhwc: input.shape)!
        let (height, width, c) = (shape.height / s, shape.width / s, shape.channels)
        precondition(s >= 1 && height > 0 && width > 0, "the map is smaller than one block")
        let out = rows(of: input, count: height * width * s * s * c, rows: height, pool: pool) { y, src, dst in
            for x in 0..<width {
                let pixel = dst + (y * width + x) * s * s * c
                for dy in 0..<s {
                    (pixel + dy * s * c).update(from: src + ((y * s + dy) * shape.width + x * s) * c, count: s * c)
                }
            }
        }
        return Tensor(shape: [1, height, width, s * s * c], scalars: out)
    }

    /// PyTorch's `PixelShuffle` (CRD order) as `ReferenceKernels.pixelShuffle`.
    package static func pixelShuffle(_ input: Tensor, blockSize s: Int, pool: ComputePool = .shared) -> Tensor {
        let shape = FeatureMapShape(nhwc: input.shape)!
        let c = shape.channels / (s * s)
        let outWidth = shape.width * s
        let out = rows(of: input, count: shape.elementCount, rows: shape.height, pool: pool) { y, src, dst in
            for x in 0..<shape.width {
                let pixel = src + (y * shape.width + x) * shape.channels
                for i in 0..<s {
                    for j in 0..<s {
                        let target = dst + ((y * s + i) * outWidth + x * s + j) * c
                        for k in 0..<c { target[k] = pixel[k * s * s + i * s + j] }
                    }
                }
            }
        }
        return Tensor(shape: [1, shape.height * s, outWidth, c], scalars: out)
    }

    /// Channel concatenation as `ReferenceKernels.concatenateChannels`, rows spread over the pool.
    package static func concatenateChannels(_ inputs: [Tensor], pool: ComputePool = .shared) -> Tensor {
        let shape = concatenatedShape(inputs)
        var output = MemoryPolicy.uninitializedFloats(count: shape.reduce(1, *))
        concatenateChannels(inputs, into: &output, pool: pool)
        return Tensor(shape: shape, scalars: output)
    }

    /// The shape of the maps `inputs` joined along the channels.
    package static func concatenatedShape(_ inputs: [Tensor]) -> [Int] {
        let shapes = inputs.map { FeatureMapShape(nhwc: $0.shape)! }
        precondition(
            shapes.allSatisfy { $0.height == shapes[0].height && $0.width == shapes[0].width }, "maps of different sizes")
        return [1, shapes[0].height, shapes[0].width, shapes.reduce(0) { $0 + $1.channels }]
    }

    /// `concatenateChannels` into `output` (of `concatenatedShape(inputs)`'s size; every value overwritten), for a
    /// caller that reuses its buffers.
    package static func concatenateChannels(_ inputs: [Tensor], into output: inout [Float], pool: ComputePool = .shared) {
        let shape = concatenatedShape(inputs)
        let (height, width, total) = (shape[1], shape[2], shape[3])
        precondition(output.count == height * width * total, "the output buffer does not fit")
        var pieces: [(source: SendablePointer<Float>, channels: Int, offset: Int)] = []
        var offset = 0
        withPointers(to: inputs.map(\.scalars)) { sources in
            for (source, input) in zip(sources, inputs) {
                let channels = input.shape[3]
                pieces.append((SendablePointer(source), channels, offset))
                offset += channels
            }
            output.withUnsafeMutableBufferPointer { dst in
                guard let base = dst.baseAddress else { return }
                let to = SendableMutablePointer(base)
                pool.parallelFor(height) { y in
                    for piece in pieces {
                        for x in 0..<width {
                            let pixel = y * width + x
                            (to.pointer + pixel * total + piece.offset).update(
                                from: piece.source.pointer + pixel * piece.channels, count: piece.channels)
                        }
                    }
                }
            }
        }
    }

    /// `count` floats written by `fill` (which must write every one), with huge pages asked for when large.
    private static func uninitialized(count: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { dst, initialized in
            MemoryPolicy.adviseHugePages(for: dst)
            if count > 0 { fill(dst.baseAddress!) }
            initialized = count
        }
    }

    /// Calls `body` with a base pointer for each array, valid during the call.
    private static func withPointers<R>(to arrays: [[Float]], _ body: ([UnsafePointer<Float>]) -> R) -> R {
        func nest(_ index: Int, _ gathered: [UnsafePointer<Float>]) -> R {
            guard index < arrays.count else { return body(gathered) }
            return arrays[index].withUnsafeBufferPointer { nest(index + 1, gathered + [$0.baseAddress!]) }
        }
        return nest(0, [])
    }

    /// `count` values made by `fill(row, input, output)` for each of `rows` rows (each writing its own part), the
    /// rows spread over `pool`.
    private static func rows(
        of input: Tensor, count: Int, rows: Int, pool: ComputePool,
        _ fill: (Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    ) -> [Float] {
        uninitialized(count: count) { dst in
            input.scalars.withUnsafeBufferPointer { src in
                let from = SendablePointer(src.baseAddress!)
                let to = SendableMutablePointer(dst)
                pool.parallelFor(rows) { row in fill(row, from.pointer, to.pointer) }
            }
        }
    }

    /// NHWC `[1, H, W, C]` to NCHW `[1, C, H, W]`; other permutations fall back to the reference kernel.
    package static func transpose(_ input: Tensor, permutation: [Int]) -> Tensor {
        // Moving only axes of size 1 keeps the values in the same order: a new shape, no copy (a one-channel NHWC map
        // seen as NCHW, the output of every Y-channel network).
        let outShape = permutation.map { input.shape[$0] }
        if permutation.filter({ input.shape[$0] != 1 }) == input.shape.indices.filter({ input.shape[$0] != 1 }) {
            return input.reshaped(to: outShape)
        }
        guard permutation == [0, 3, 1, 2], let shape = FeatureMapShape(nhwc: input.shape) else {
            return ReferenceKernels.transpose(input, permutation: permutation)
        }
        let plane = shape.height * shape.width
        var out = [Float](repeating: 0, count: input.count)
        input.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for p in 0..<plane {
                    for c in 0..<shape.channels { dst[c * plane + p] = src[p * shape.channels + c] }
                }
            }
        }
        return Tensor(shape: [1, shape.channels, shape.height, shape.width], scalars: out)
    }
}
