import Tensor

/// A stride-1 3×3 convolution by Winograd's minimal filtering, F(4×4, 3×3) or F(6×6, 3×3) (Lavin & Gray).
///
/// Input NHWC `[1, H, W, inputChannels]`, weights HWIO `[3, 3, inputChannels, outputChannels]`, output NHWC
/// `[1, H + padTop + padBottom - 2, W + padLeft + padRight - 2, outputChannels]`, zero padding, then the epilogue
/// (bias, activation, scale, residual) fused into the output transform.
///
/// The output is cut into m×m tiles, and the tiles into blocks that the pool's threads take whole, each in scratch
/// memory of its own. A block goes through three phases: the input transform gathers each tile's α×α patch (borders
/// read as zeros, no padded copy) into `V[ξ][tile][ci]`; for each of the α² transform points ξ a matrix product
/// `M[ξ][tile][co] = Σ_ci V[ξ][tile][ci] U[ξ][ci][co]` runs on a 6-tile × 32-channel register-blocked micro-kernel;
/// the output transform turns `M` back into pixels.
/// Every output value is computed by the same operations in the same order whatever the image size, the blocking or
/// the thread count, so results are bit-identical across runs and thread counts. They differ from the exact sums by
/// rounding: on EDSR-like data at most 2.4e-6 (F4) and 5.1e-6 (F6) of `Σ|x·w|`, 1.9e-6 and 3.9e-6 of the outputs'
/// RMS on average (direct float summation: 3e-7 and 6e-7).
package final class WinogradConvolution: InPlaceResidualConvolution {
    /// The output tile of the algorithm.
    package enum TileSize: Int, Sendable, CaseIterable {
        /// F(4×4, 3×3): 36 products per 16 outputs (2.25× fewer multiplications than direct).
        case f4x4 = 4
        /// F(6×6, 3×3): 64 products per 36 outputs (5.06× fewer multiplications than direct).
        case f6x6 = 6
    }

    /// The convolution's kernel size (3×3), channel counts and padding.
    package let geometry: ConvolutionGeometry
    /// What the output transform does to the sums before they are stored (bias, activation, scale, residual).
    package let epilogue: ConvolutionEpilogue
    /// The output tile the algorithm computes at once: F(4×4, 3×3) or F(6×6, 3×3).
    package let tileSize: TileSize
    /// Whether the transformed weights are kept (fast, `transformedWeightBytes` of memory) or rebuilt at each call
    /// into shared scratch memory (the raw weights are kept instead).
    package let keepsTransformedWeights: Bool

    /// The number of 16-channel output blocks.
    let blockCount: Int
    /// The input channel count rounded up to 16: the row stride of `V`.
    let inputStride: Int
    /// `U[ξ][outputBlock][ci][16]` (ξ slices `weightPointStride` apart), or empty when not kept.
    let transformedWeights: [Float]
    /// The HWIO weights when the transformed ones are not kept (and `palette` does not hold them), else empty.
    let rawWeights: [Float]
    /// The HWIO weights, one byte each, when the transformed ones are not kept and take at most 256 values.
    let palette: WeightPalette?
    /// `G`, α × 3, row-major.
    let filterMatrix: [Float]
    let vectorEpilogue: VectorEpilogue

    /// Whether the kernel can run `geometry`: a 3×3 kernel with any non-negative padding (stride and dilation are 1
    /// by construction of `ConvolutionGeometry`).
    package static func supports(_ geometry: ConvolutionGeometry) -> Bool {
        geometry.kernelHeight == 3 && geometry.kernelWidth == 3 && geometry.padTop >= 0 && geometry.padLeft >= 0
            && geometry.padBottom >= 0 && geometry.padRight >= 0 && geometry.inputChannels > 0
            && geometry.outputChannels > 0
    }

    /// Transforms (or keeps, see `keepsTransformedWeights`) HWIO `weights` for `geometry`; `tileSize` nil means
    /// F(6×6, 3×3), the faster on images larger than about 24×24 (see `preferredTileSize(for:inputShape:)`).
    package init(
        weights: Tensor,
        geometry: ConvolutionGeometry,
        epilogue: ConvolutionEpilogue = ConvolutionEpilogue(),
        tileSize: TileSize? = nil,
        keepsTransformedWeights: Bool = true
    ) {
        let g = geometry
        precondition(Self.supports(g), "Winograd needs a 3×3 kernel, not \(g.kernelHeight)×\(g.kernelWidth)")
        precondition(weights.shape == [3, 3, g.inputChannels, g.outputChannels], "weights shape \(weights.shape)")
        self.geometry = geometry
        self.epilogue = epilogue
        let tile = tileSize ?? Self.preferredTileSize(for: g)
        self.tileSize = tile
        self.keepsTransformedWeights = keepsTransformedWeights
        let lanes = WinogradVector.scalarCount
        blockCount = (g.outputChannels + lanes - 1) / lanes
        inputStride = (g.inputChannels + lanes - 1) / lanes * lanes
        let matrices = WinogradMatrices(outputSize: tile.rawValue)
        let filter = matrices.filterTransform.flatMap { $0.map(Float.init) }
        filterMatrix = filter
        if keepsTransformedWeights {
            let alpha = tile.rawValue + 2
            var transformed = [Float](
                repeating: 0,
                count: alpha * alpha * Self.weightPointStride(blockCount: blockCount, inputChannels: g.inputChannels)
            )
            let blocks = blockCount
            weights.scalars.withUnsafeBufferPointer { raw in
                transformed.withUnsafeMutableBufferPointer { target in
                    filter.withUnsafeBufferPointer { matrix in
                        Self.transformWeights(
                            raw.baseAddress!,
                            inputChannels: g.inputChannels,
                            outputChannels: g.outputChannels,
                            blockCount: blocks,
                            alpha: alpha,
                            filter: matrix.baseAddress!,
                            into: target.baseAddress!,
                            channels: 0..<g.inputChannels
                        )
                    }
                }
            }
            transformedWeights = transformed
            rawWeights = []
            palette = nil
        } else {
            transformedWeights = []
            palette = WeightPalette(weights.scalars)
            rawWeights = palette == nil ? weights.scalars : []
        }
        vectorEpilogue = VectorEpilogue(epilogue, outputChannels: g.outputChannels)
    }

    /// The bytes the transformed weights take (held by the convolution when kept, else borrowed at each call).
    package var transformedWeightBytes: Int { Self.transformedWeightBytes(for: geometry, tileSize: tileSize) }

    /// The bytes the transformed weights of `geometry` take with `tileSize` (known before any weights are transformed).
    package static func transformedWeightBytes(for geometry: ConvolutionGeometry, tileSize: TileSize) -> Int {
        let alpha = tileSize.rawValue + 2
        let blocks = (geometry.outputChannels + WinogradVector.scalarCount - 1) / WinogradVector.scalarCount
        return alpha * alpha * weightPointStride(blockCount: blocks, inputChannels: geometry.inputChannels)
            * MemoryLayout<Float>.stride
    }

    /// The distance in floats between the weight slices of two transform points: one cache line more than the
    /// slice, so that the α² values written for one filter do not all fall into the same cache set.
    static func weightPointStride(blockCount: Int, inputChannels: Int) -> Int {
        (blockCount * inputChannels + 1) * WinogradVector.scalarCount
    }

    /// The work of `run` (see `InPlaceResidualConvolution`): the three phases, block of tiles by block of tiles.
    package func convolve(
        input: UnsafeBufferPointer<Float>, height: Int, width: Int, outputShape outShape: FeatureMapShape,
        output: UnsafeMutableBufferPointer<Float>, residual: UnsafeBufferPointer<Float>?, pool: ComputePool
    ) {
        let g = geometry
        precondition(height > 0 && width > 0, "empty input")
        let inputStart = UnsafeRawPointer(input.baseAddress!)
        let outputStart = UnsafeRawPointer(output.baseAddress!)
        precondition(
            inputStart + input.count * MemoryLayout<Float>.stride <= outputStart
                || outputStart + outShape.elementCount * MemoryLayout<Float>.stride <= inputStart,
            "the input overlaps the output"
        )
        let lanes = WinogradVector.scalarCount
        let m = tileSize.rawValue
        let alpha = m + 2
        let tilesX = (outShape.width + m - 1) / m
        let tileCount = tilesX * ((outShape.height + m - 1) / m)
        let tilesPerBlock = Self.tilesPerBlock(tileCount: tileCount, threads: pool.threadCount)
        // One region of V and M per pool thread (any thread may take any block), or one when there is one block.
        let regions = tileCount > tilesPerBlock ? pool.threadCount : 1
        let outputStride = blockCount * lanes
        // Each transform point's slice is skewed by one cache line so the α² slices of a tile do not all fall into the
        // same cache set (their natural stride is a multiple of 4 KiB).
        let inputPointStride = tilesPerBlock * inputStride + lanes
        let outputPointStride = tilesPerBlock * outputStride + lanes
        let vCount = alpha * alpha * inputPointStride
        let mCount = alpha * alpha * outputPointStride
        let regionStride = vCount + mCount
        let uCount = keepsTransformedWeights ? 0 : transformedWeightBytes / MemoryLayout<Float>.stride
        let decodedCount = palette == nil ? 0 : palette!.count
        let scratchCount = regions * regionStride + uCount + decodedCount

        ConvolutionScratchArena.shared.withBuffer(bytes: scratchCount * MemoryLayout<Float>.stride) { raw in
            let scratch = raw.bindMemory(to: Float.self, capacity: scratchCount)
            if !keepsTransformedWeights {
                transformWeightsInParallel(
                    into: scratch + regions * regionStride,
                    decoding: scratch + regions * regionStride + uCount,
                    pool: pool)
            }
            transformedWeights.withUnsafeBufferPointer { kept in
                vectorEpilogue.withValues { values in
                        let job = WinogradJob(
                            input: input.baseAddress!,
                            inputEnd: input.baseAddress! + height * width * g.inputChannels,
                            output: output.baseAddress!,
                            residual: epilogue.addsResidual ? residual!.baseAddress! : nil,
                            weights: keepsTransformedWeights
                                ? kept.baseAddress! : UnsafePointer(scratch + regions * regionStride),
                            weightPointStride: Self.weightPointStride(
                                blockCount: blockCount,
                                inputChannels: g.inputChannels
                            ),
                            transformedInput: scratch,
                            products: scratch + vCount,
                            height: height,
                            width: width,
                            outputHeight: outShape.height,
                            outputWidth: outShape.width,
                            inputChannels: g.inputChannels,
                            outputChannels: g.outputChannels,
                            blockCount: blockCount,
                            inputStride: inputStride,
                            outputStride: outputStride,
                            padTop: g.padTop,
                            padLeft: g.padLeft,
                            tilesX: tilesX,
                            tilesPerBlock: tilesPerBlock,
                            inputPointStride: inputPointStride,
                            outputPointStride: outputPointStride,
                            epilogue: values
                        )
                        switch tileSize {
                        case .f4x4:
                            job.run(WinogradF4.self, tileCount: tileCount, regionStride: regionStride, pool: pool)
                        case .f6x6:
                            job.run(WinogradF6.self, tileCount: tileCount, regionStride: regionStride, pool: pool)
                        }
                }
            }
        }
    }

    /// Frees the scratch memory kept for later calls (transformed weights of convolutions that do not keep theirs,
    /// transformed tiles); returns the bytes freed. Buffers in use by running calls are not touched.
    @discardableResult
    package static func releaseScratchMemory() -> Int { ConvolutionScratchArena.shared.releaseUnused() }

    /// The scratch bytes kept for later calls.
    package static var retainedScratchBytes: Int { ConvolutionScratchArena.shared.unusedBytes }

    /// Tiles per block: about 24 (four passes of the 6-row micro-kernel), a multiple of 6, sized so that the blocks
    /// come close to a multiple of the thread count.
    ///
    /// A block's `V` and `M` (32 KB per tile at 52–64 channels, 128 KB at EDSR's 256) then stay near the core that
    /// makes them, while each block still uses every panel of `U` for 24 tiles. Alternating runs at 2 threads
    /// (AMD EPYC Zen 2, 2026-12-05, docs/PERFORMANCE.md): 24 ties with 12 and 48 on SPAN and wins on animevideov3,
    /// 12 is about 4% faster on SRMD-NF; EDSR (256 channels) 2.99–3.08 s at 24 against 3.73 at 12 and 4.47 at 6.
    static func tilesPerBlock(tileCount: Int, threads: Int) -> Int {
        let threads = max(1, threads)
        let preferredBlocks = (tileCount + preferredTilesPerBlock - 1) / preferredTilesPerBlock
        let blocks = max(1, (preferredBlocks + threads - 1) / threads * threads)
        let perBlock = (tileCount + blocks - 1) / blocks
        let roundedUp = max(6, (perBlock + 5) / 6 * 6)
        // Rounding up can leave a thread without a block; then round down.
        if (tileCount + roundedUp - 1) / roundedUp < min(threads, tileCount / 6) { return max(6, perBlock / 6 * 6) }
        return roundedUp
    }

    /// The block size when the image has tiles enough.
    static let preferredTilesPerBlock = 24

    /// Transforms the weights into `target`, spread over the pool by input channel; palette-coded weights are first
    /// decoded, each chunk of channels by the thread that transforms it, into `decoding` (HWIO, `palette.count` floats).
    private func transformWeightsInParallel(
        into target: UnsafeMutablePointer<Float>, decoding: UnsafeMutablePointer<Float>, pool: ComputePool
    ) {
        let g = geometry
        let alpha = tileSize.rawValue + 2
        let chunk = max(1, (g.inputChannels + 4 * pool.threadCount - 1) / (4 * pool.threadCount))
        let chunks = (g.inputChannels + chunk - 1) / chunk
        let blocks = blockCount
        let palette = palette
        rawWeights.withUnsafeBufferPointer { raw in
            filterMatrix.withUnsafeBufferPointer { matrix in
                pool.parallelFor(chunks) { index in
                    let channels = index * chunk..<min(g.inputChannels, (index + 1) * chunk)
                    var source = raw.baseAddress
                    if let palette {
                        for tap in 0..<9 {
                            let start = (tap * g.inputChannels + channels.lowerBound) * g.outputChannels
                            palette.decode(start..<(start + channels.count * g.outputChannels), into: decoding)
                        }
                        source = UnsafePointer(decoding)
                    }
                    Self.transformWeights(
                        source!,
                        inputChannels: g.inputChannels,
                        outputChannels: g.outputChannels,
                        blockCount: blocks,
                        alpha: alpha,
                        filter: matrix.baseAddress!,
                        into: target,
                        channels: channels
                    )
                }
            }
        }
    }

    /// Writes `U[ξ][block][ci][16] = (G g Gᵀ)[ξ]` for the input channels `channels`, 16 output channels at a time
    /// (lanes past the last output channel are zero).
    static func transformWeights(
        _ weights: UnsafePointer<Float>,
        inputChannels ci: Int,
        outputChannels co: Int,
        blockCount: Int,
        alpha: Int,
        filter: UnsafePointer<Float>,
        into target: UnsafeMutablePointer<Float>,
        channels: Range<Int>
    ) {
        let lanes = WinogradVector.scalarCount
        let pointStride = weightPointStride(blockCount: blockCount, inputChannels: ci)
        withUnsafeTemporaryAllocation(of: WinogradVector.self, capacity: 9 + 3 * alpha) { temporary in
            let taps = temporary.baseAddress!
            let half = taps + 9
            // Block-major, so that each transform point's slice is written in order.
            for block in 0..<blockCount {
                let first = block * lanes
                let valid = min(lanes, co - first)
                for channel in channels {
                    for tap in 0..<9 {
                        let source = weights + (tap * ci + channel) * co + first
                        taps[tap] = valid == lanes ? loadVector(source) : partialVector(source, count: valid)
                    }
                    // half[a][kx] = Σ_ky G[a][ky] g[ky][kx]
                    for a in 0..<alpha {
                        let g0 = filter[3 * a]
                        let g1 = filter[3 * a + 1]
                        let g2 = filter[3 * a + 2]
                        for kx in 0..<3 {
                            half[3 * a + kx] = (taps[kx] * g0).addingProduct(taps[3 + kx], g1).addingProduct(
                                taps[6 + kx],
                                g2
                            )
                        }
                    }
                    // U[a][b] = Σ_kx half[a][kx] G[b][kx]
                    for a in 0..<alpha {
                        for b in 0..<alpha {
                            let value = (half[3 * a] * filter[3 * b]).addingProduct(half[3 * a + 1], filter[3 * b + 1])
                                .addingProduct(half[3 * a + 2], filter[3 * b + 2])
                            storeVector(value, target + (a * alpha + b) * pointStride + (block * ci + channel) * lanes)
                        }
                    }
                }
            }
        }
    }
}

extension WinogradConvolution {
    /// The faster algorithm for `geometry` on inputs of `inputShape` (F(6×6, 3×3) when the shape is unknown).
    ///
    /// F6 does 64 products per 36 outputs against F4's 36 per 16, but each of its products costs about 15% more
    /// (bigger transforms, bigger weights to stream), and on small images its larger tiles waste more of the
    /// border: F4 is faster up to about 24×24 pixels. F4 is also about twice as accurate.
    package static func preferredTileSize(
        for geometry: ConvolutionGeometry,
        inputShape: FeatureMapShape? = nil
    )
        -> TileSize
    {
        guard let inputShape else { return .f6x6 }
        let out = geometry.outputShape(height: inputShape.height, width: inputShape.width)
        func products(_ m: Int) -> Int { ((out.height + m - 1) / m) * ((out.width + m - 1) / m) * (m + 2) * (m + 2) }
        return Double(products(6)) * 1.15 < Double(products(4)) ? .f6x6 : .f4x4
    }

    /// Whether `WinogradConvolution` beats `DirectConvolution` on this geometry (for an executor's choice).
    ///
    /// Measured on this 2-core Zen 5, 2 threads, F6 against direct: 256→256 2.8–4.3× faster from 64² to 500² (3.9–4.1×
    /// with caller-provided buffers), 64→64 2.3× (256²) to 5× (512²), 256→27 (EDSR's last layer) 1.3×; 3→256 (EDSR's
    /// first) even; 12→12 (FSRCNN) 1.3–2.5× slower: with few input channels the transforms cost more than the
    /// products they save and the three parallel phases per block dominate, so those stay direct (which is exact).
    package static func prefers(_ geometry: ConvolutionGeometry, inputShape: FeatureMapShape) -> Bool {
        supports(geometry) && geometry.inputChannels >= 16
    }
}
