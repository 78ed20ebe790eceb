import Tensor

/// A convolution prepared for the fast direct kernel: weights packed once, at model load, into blocks of 16 output
/// channels (`[block][ky][kx][ci][16]`), so the inner loop reads one contiguous SIMD vector per tap.
///
/// Each output value is summed over `ky`, `kx`, input channel in that order with fused multiply-adds, exactly as
/// `ReferenceKernels.convolution` does, so results do not depend on image size, tile position or thread count.
package final class DirectConvolution: Sendable {
    /// The SIMD vector the kernel works in: 16 floats, one per output channel of a block.
    package typealias Vector = SIMD16<Float>
    static let lanes = Vector.scalarCount

    /// The convolution's kernel size, channel counts and padding.
    package let geometry: ConvolutionGeometry
    /// What is done to the sums before they are stored (bias, activation, scale, residual).
    package let epilogue: ConvolutionEpilogue
    let blockCount: Int
    let packedWeights: [Float]
    let vectorEpilogue: VectorEpilogue

    /// Packs HWIO `weights` for `geometry`; `epilogue` runs on the sums before they are stored.
    package init(weights: Tensor, geometry: ConvolutionGeometry, epilogue: ConvolutionEpilogue) {
        let g = geometry
        precondition(weights.shape == [g.kernelHeight, g.kernelWidth, g.inputChannels, g.outputChannels])
        self.geometry = geometry
        self.epilogue = epilogue
        let lanes = Self.lanes
        blockCount = (g.outputChannels + lanes - 1) / lanes
        let taps = g.kernelHeight * g.kernelWidth * g.inputChannels
        var packed = [Float](repeating: 0, count: blockCount * taps * lanes)
        for tap in 0..<taps {
            for co in 0..<g.outputChannels {
                packed[((co / lanes) * taps + tap) * lanes + co % lanes] = weights.scalars[tap * g.outputChannels + co]
            }
        }
        packedWeights = packed
        vectorEpilogue = VectorEpilogue(epilogue, outputChannels: g.outputChannels)
    }

    /// Runs the convolution on an NHWC input; `residual` (output-shaped) is required iff the epilogue adds one.
    package func callAsFunction(_ input: Tensor, residual: Tensor? = nil, pool: ComputePool = .shared) -> Tensor {
        let g = geometry
        let inShape = FeatureMapShape(nhwc: input.shape)!
        precondition(inShape.channels == g.inputChannels, "input has \(inShape.channels) channels, not \(g.inputChannels)")
        let outShape = g.outputShape(height: inShape.height, width: inShape.width)
        precondition(!epilogue.addsResidual || residual?.shape == outShape.nhwc, "residual shape")
        guard outShape.height > 0, outShape.width > 0 else { return Tensor(shape: outShape.nhwc, repeating: 0) }
        let count = outShape.elementCount
        let residualScalars = residual?.scalars ?? []
        let scratchCount = paddedCount(height: inShape.height, width: inShape.width)
        var scratch = [Float](unsafeUninitializedCapacity: scratchCount) { _, initialized in initialized = scratchCount }
        // Not zero-filled first: every output value is written exactly once.
        let output = [Float](unsafeUninitializedCapacity: count) { outputBuffer, initialized in
            input.scalars.withUnsafeBufferPointer { inputBuffer in
                residualScalars.withUnsafeBufferPointer { residualBuffer in
                    scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                        run(
                            input: inputBuffer, height: inShape.height, width: inShape.width, output: outputBuffer,
                            residual: epilogue.addsResidual ? residualBuffer : nil, paddingScratch: scratchBuffer,
                            pool: pool)
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: outShape.nhwc, scalars: output)
    }

    /// The floats `run` needs in `paddingScratch` for an input of `height × width` (0 when the geometry has no
    /// padding).
    package func paddedCount(height: Int, width: Int) -> Int {
        let g = geometry
        if g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0 { return 0 }
        return (height + g.padTop + g.padBottom) * (width + g.padLeft + g.padRight) * g.inputChannels
    }

    /// Runs the convolution from and into caller-owned NHWC buffers (batch one), so an executor can reuse memory.
    ///
    /// `input` holds `height × width × inputChannels` values; `output` receives `geometry.outputShape(height:width:)`
    /// and must not overlap `input` or `residual` (required iff the epilogue adds one). `paddingScratch` holds
    /// `paddedCount(height:width:)` floats of any content: the zero-padded input is built there.
    package func run(
        input: UnsafeBufferPointer<Float>,
        height: Int,
        width: Int,
        output: UnsafeMutableBufferPointer<Float>,
        residual: UnsafeBufferPointer<Float>?,
        paddingScratch: UnsafeMutableBufferPointer<Float>,
        pool: ComputePool = .shared
    ) {
        let g = geometry
        let outShape = g.checkedOutputShape(
            height: height, width: width, inputCount: input.count, outputCount: output.count,
            residualCount: residual?.count, addsResidual: epilogue.addsResidual)
        guard outShape.height > 0, outShape.width > 0 else { return }
        let paddedCount = paddedCount(height: height, width: width)
        precondition(paddingScratch.count >= paddedCount, "padding scratch too small")
        let source: UnsafePointer<Float>
        if paddedCount == 0 {
            source = input.baseAddress!
        } else {
            Self.pad(input.baseAddress!, height: height, width: width, geometry: g, into: paddingScratch.baseAddress!)
            source = UnsafePointer(paddingScratch.baseAddress!)
        }
        packedWeights.withUnsafeBufferPointer { weightBuffer in
            vectorEpilogue.withValues { values in
                let job = Pass(
                    input: source,
                    paddedWidth: width + g.padLeft + g.padRight,
                    weights: weightBuffer.baseAddress!, output: output.baseAddress!,
                    residual: epilogue.addsResidual ? residual!.baseAddress! : nil,
                    outputShape: outShape, geometry: g, blockCount: blockCount, epilogue: values)
                let pairCount = (blockCount + 1) / 2
                if g.kernelHeight == 1 && g.kernelWidth == 1 && pairCount > 1 {
                    // A 1 × 1 layer with many outputs reads little per output: one row with all its blocks per work
                    // item, so the row is read once (from cache) and each thread writes whole output rows.
                    pool.parallelFor(outShape.height) { row in
                        for pair in 0..<pairCount { job.run(row: row, pair: pair) }
                    }
                } else {
                    // Block-pair major: consecutive work items reuse the same weights from cache.
                    pool.parallelFor(pairCount * outShape.height) { item in
                        job.run(row: item % outShape.height, pair: item / outShape.height)
                    }
                }
            }
        }
    }

    /// Writes the input with the convolution's zero border into `target`, so the inner loops never test bounds.
    static func pad(
        _ input: UnsafePointer<Float>, height: Int, width: Int, geometry g: ConvolutionGeometry,
        into target: UnsafeMutablePointer<Float>
    ) {
        let paddedWidth = width + g.padLeft + g.padRight
        let c = g.inputChannels
        target.update(repeating: 0, count: g.padTop * paddedWidth * c)
        for y in 0..<height {
            let row = target + ((y + g.padTop) * paddedWidth) * c
            row.update(repeating: 0, count: g.padLeft * c)
            (row + g.padLeft * c).update(from: input + y * width * c, count: width * c)
            (row + (g.padLeft + width) * c).update(repeating: 0, count: g.padRight * c)
        }
        (target + (g.padTop + height) * paddedWidth * c).update(repeating: 0, count: g.padBottom * paddedWidth * c)
    }
}

extension DirectConvolution {
    /// Raw views of one call's buffers, valid only inside `run`.
    fileprivate struct Pass: @unchecked Sendable {
        // @unchecked Sendable: the pointers outlive the loop (the caller waits for it) and each work item writes a
        // disjoint set of output rows × channel blocks.
        let input: UnsafePointer<Float>
        let paddedWidth: Int
        let weights: UnsafePointer<Float>
        let output: UnsafeMutablePointer<Float>
        let residual: UnsafePointer<Float>?
        let outputShape: FeatureMapShape
        let geometry: ConvolutionGeometry
        let blockCount: Int
        let epilogue: EpilogueValues

        /// Computes output row `row` for the channel blocks `2 * pair` and `2 * pair + 1` (if it exists).
        func run(row y: Int, pair: Int) {
            let g = geometry
            let lanes = DirectConvolution.lanes
            let ci = g.inputChannels
            let taps = g.kernelHeight * g.kernelWidth * ci
            let block0 = 2 * pair
            let hasSecond = block0 + 1 < blockCount
            let w0 = weights + block0 * taps * lanes
            let w1 = weights + (hasSecond ? block0 + 1 : block0) * taps * lanes
            var x = 0
            let width = outputShape.width
            #if SUPERRES_AVX512_REGISTERS
            if hasSecond {
                while x + 6 <= width {
                    sixPixelsTwoBlocks(y: y, x: x, w0: w0, w1: w1, block0: block0)
                    x += 6
                }
                while x < width {
                    onePixel(y: y, x: x, weights: w0, block: block0)
                    onePixel(y: y, x: x, weights: w1, block: block0 + 1)
                    x += 1
                }
            } else {
                while x + 8 <= width {
                    eightPixelsOneBlock(y: y, x: x, w: w0, block: block0)
                    x += 8
                }
                while x < width {
                    onePixel(y: y, x: x, weights: w0, block: block0)
                    x += 1
                }
            }
            #else
            // 16 vector registers (AVX2): 6 pixels × 2 blocks (24 sums) or 8 pixels × 1 block (16) would spill, so
            // each block gets passes of 6 pixels (12 sums). Every sum sees the same multiply-adds in the same order.
            for block in block0..<(hasSecond ? block0 + 2 : block0 + 1) {
                let w = block == block0 ? w0 : w1
                x = 0
                while x + 6 <= width {
                    sixPixelsOneBlock(y: y, x: x, w: w, block: block)
                    x += 6
                }
                while x < width {
                    onePixel(y: y, x: x, weights: w, block: block)
                    x += 1
                }
            }
            #endif
        }

        @inline(__always)
        private func inputBase(y: Int, x: Int, ky: Int, kx: Int) -> UnsafePointer<Float> {
            input + ((y + ky) * paddedWidth + x + kx) * geometry.inputChannels
        }

        @inline(__always)
        private func load(_ pointer: UnsafePointer<Float>) -> Vector {
            UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
        }

        private func sixPixelsTwoBlocks(
            y: Int, x: Int, w0: UnsafePointer<Float>, w1: UnsafePointer<Float>, block0: Int
        ) {
            let g = geometry
            let ci = g.inputChannels
            let lanes = DirectConvolution.lanes
            var a00 = Vector(), a01 = Vector(), a10 = Vector(), a11 = Vector(), a20 = Vector(), a21 = Vector()
            var a30 = Vector(), a31 = Vector(), a40 = Vector(), a41 = Vector(), a50 = Vector(), a51 = Vector()
            var tap = 0
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    let p = inputBase(y: y, x: x, ky: ky, kx: kx)
                    for channel in 0..<ci {
                        let v0 = load(w0 + tap * lanes)
                        let v1 = load(w1 + tap * lanes)
                        let s0 = Vector(repeating: p[channel])
                        let s1 = Vector(repeating: p[ci + channel])
                        let s2 = Vector(repeating: p[2 * ci + channel])
                        let s3 = Vector(repeating: p[3 * ci + channel])
                        let s4 = Vector(repeating: p[4 * ci + channel])
                        let s5 = Vector(repeating: p[5 * ci + channel])
                        a00 = a00.addingProduct(s0, v0)
                        a01 = a01.addingProduct(s0, v1)
                        a10 = a10.addingProduct(s1, v0)
                        a11 = a11.addingProduct(s1, v1)
                        a20 = a20.addingProduct(s2, v0)
                        a21 = a21.addingProduct(s2, v1)
                        a30 = a30.addingProduct(s3, v0)
                        a31 = a31.addingProduct(s3, v1)
                        a40 = a40.addingProduct(s4, v0)
                        a41 = a41.addingProduct(s4, v1)
                        a50 = a50.addingProduct(s5, v0)
                        a51 = a51.addingProduct(s5, v1)
                        tap += 1
                    }
                }
            }
            store(a00, y: y, x: x, block: block0)
            store(a01, y: y, x: x, block: block0 + 1)
            store(a10, y: y, x: x + 1, block: block0)
            store(a11, y: y, x: x + 1, block: block0 + 1)
            store(a20, y: y, x: x + 2, block: block0)
            store(a21, y: y, x: x + 2, block: block0 + 1)
            store(a30, y: y, x: x + 3, block: block0)
            store(a31, y: y, x: x + 3, block: block0 + 1)
            store(a40, y: y, x: x + 4, block: block0)
            store(a41, y: y, x: x + 4, block: block0 + 1)
            store(a50, y: y, x: x + 5, block: block0)
            store(a51, y: y, x: x + 5, block: block0 + 1)
        }

        private func eightPixelsOneBlock(y: Int, x: Int, w: UnsafePointer<Float>, block: Int) {
            let g = geometry
            let ci = g.inputChannels
            let lanes = DirectConvolution.lanes
            var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
            var a4 = Vector(), a5 = Vector(), a6 = Vector(), a7 = Vector()
            var tap = 0
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    let p = inputBase(y: y, x: x, ky: ky, kx: kx)
                    for channel in 0..<ci {
                        let v = load(w + tap * lanes)
                        a0 = a0.addingProduct(Vector(repeating: p[channel]), v)
                        a1 = a1.addingProduct(Vector(repeating: p[ci + channel]), v)
                        a2 = a2.addingProduct(Vector(repeating: p[2 * ci + channel]), v)
                        a3 = a3.addingProduct(Vector(repeating: p[3 * ci + channel]), v)
                        a4 = a4.addingProduct(Vector(repeating: p[4 * ci + channel]), v)
                        a5 = a5.addingProduct(Vector(repeating: p[5 * ci + channel]), v)
                        a6 = a6.addingProduct(Vector(repeating: p[6 * ci + channel]), v)
                        a7 = a7.addingProduct(Vector(repeating: p[7 * ci + channel]), v)
                        tap += 1
                    }
                }
            }
            store(a0, y: y, x: x, block: block)
            store(a1, y: y, x: x + 1, block: block)
            store(a2, y: y, x: x + 2, block: block)
            store(a3, y: y, x: x + 3, block: block)
            store(a4, y: y, x: x + 4, block: block)
            store(a5, y: y, x: x + 5, block: block)
            store(a6, y: y, x: x + 6, block: block)
            store(a7, y: y, x: x + 7, block: block)
        }

        /// AVX2's pass: 6 pixels of one block, 12 vector registers of sums. Kept apart from `eightPixelsOneBlock`
        /// (AVX-512's, whose 8 independent sums keep both FMA ports busy) because each must stay register-blocked.
        private func sixPixelsOneBlock(y: Int, x: Int, w: UnsafePointer<Float>, block: Int) {
            let g = geometry
            let ci = g.inputChannels
            let lanes = DirectConvolution.lanes
            var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector(), a4 = Vector(), a5 = Vector()
            var tap = 0
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    let p = inputBase(y: y, x: x, ky: ky, kx: kx)
                    for channel in 0..<ci {
                        let v = load(w + tap * lanes)
                        a0 = a0.addingProduct(Vector(repeating: p[channel]), v)
                        a1 = a1.addingProduct(Vector(repeating: p[ci + channel]), v)
                        a2 = a2.addingProduct(Vector(repeating: p[2 * ci + channel]), v)
                        a3 = a3.addingProduct(Vector(repeating: p[3 * ci + channel]), v)
                        a4 = a4.addingProduct(Vector(repeating: p[4 * ci + channel]), v)
                        a5 = a5.addingProduct(Vector(repeating: p[5 * ci + channel]), v)
                        tap += 1
                    }
                }
            }
            store(a0, y: y, x: x, block: block)
            store(a1, y: y, x: x + 1, block: block)
            store(a2, y: y, x: x + 2, block: block)
            store(a3, y: y, x: x + 3, block: block)
            store(a4, y: y, x: x + 4, block: block)
            store(a5, y: y, x: x + 5, block: block)
        }

        private func onePixel(y: Int, x: Int, weights w: UnsafePointer<Float>, block: Int) {
            let g = geometry
            let ci = g.inputChannels
            let lanes = DirectConvolution.lanes
            var acc = Vector()
            var tap = 0
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    let p = inputBase(y: y, x: x, ky: ky, kx: kx)
                    for channel in 0..<ci {
                        acc = acc.addingProduct(Vector(repeating: p[channel]), load(w + tap * lanes))
                        tap += 1
                    }
                }
            }
            store(acc, y: y, x: x, block: block)
        }

        /// Runs the epilogue on 16 sums of pixel (y, x), channels `block * 16 ..< +16`, and stores the valid lanes.
        ///
        /// With a single block of fewer than 16 channels, all 16 lanes are stored unless they would pass the row's
        /// end: the extra lanes land on the following pixels' channels, which the same work item stores later (pixels
        /// are stored left to right), so no scalar loop is needed.
        @inline(__always)
        private func store(_ sums: Vector, y: Int, x: Int, block: Int) {
            let lanes = DirectConvolution.lanes
            let co = geometry.outputChannels
            let firstChannel = block * lanes
            var value = epilogue.apply(sums, firstChannel: firstChannel)
            let offset = (y * outputShape.width + x) * co + firstChannel
            let valid = min(lanes, co - firstChannel)
            let whole = valid == lanes || (blockCount == 1 && x * co + lanes <= outputShape.width * co)
            if let residual {
                if whole {
                    value = epilogue.combine(value, residual: load(residual + offset))
                } else {
                    value = epilogue.combine(value, residual: partialVector(residual + offset, count: valid))
                }
            }
            if whole {
                UnsafeMutableRawPointer(output + offset).storeBytes(of: value, as: Vector.self)
            } else {
                storeChannels(value, output + offset, count: valid)
            }
        }
    }
}
