import Synchronization
import Tensor

/// A stride-1 3×3 convolution by Winograd's minimal filtering, F(4×4, 3×3) or F(6×6, 3×3) (Lavin & Gray).
///
/// Input NHWC `[1, H, W, inputChannels]`, weights HWIO `[3, 3, inputChannels, outputChannels]`, output NHWC
/// `[1, H + padTop + padBottom - 2, W + padLeft + padRight - 2, outputChannels]`, zero padding, then the epilogue
/// (bias, activation, scale, residual) fused into the output transform.
///
/// The output is cut into m×m tiles. A block of tiles goes through three phases, each spread over the pool: the
/// input transform gathers each tile's α×α patch (borders read as zeros, no padded copy) into `V[ξ][tile][ci]`;
/// for each of the α² transform points ξ a matrix product `M[ξ][tile][co] = Σ_ci V[ξ][tile][ci] U[ξ][ci][co]`
/// runs on a 6-tile × 32-channel register-blocked micro-kernel; the output transform turns `M` back into pixels.
/// Every output value is computed by the same operations in the same order whatever the image size, the blocking or
/// the thread count, so results are bit-identical across runs and thread counts. They differ from the exact sums by
/// rounding: on EDSR-like data at most 2.4e-6 (F4) and 5.1e-6 (F6) of `Σ|x·w|`, 1.9e-6 and 3.9e-6 of the outputs'
/// RMS on average (direct float summation: 3e-7 and 6e-7).
public final class WinogradConvolution: InPlaceResidualConvolution {
    /// The output tile of the algorithm.
    public enum TileSize: Int, Sendable, CaseIterable {
        /// F(4×4, 3×3): 36 products per 16 outputs (2.25× fewer multiplications than direct).
        case f4x4 = 4
        /// F(6×6, 3×3): 64 products per 36 outputs (5.06× fewer multiplications than direct).
        case f6x6 = 6
    }

    public let geometry: ConvolutionGeometry
    public let epilogue: ConvolutionEpilogue
    public let tileSize: TileSize
    /// Whether the transformed weights are kept (fast, `transformedWeightBytes` of memory) or rebuilt at each call
    /// into shared scratch memory (the raw weights are kept instead).
    public let keepsTransformedWeights: Bool

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
    public static func supports(_ geometry: ConvolutionGeometry) -> Bool {
        geometry.kernelHeight == 3 && geometry.kernelWidth == 3 && geometry.padTop >= 0 && geometry.padLeft >= 0
            && geometry.padBottom >= 0 && geometry.padRight >= 0 && geometry.inputChannels > 0
            && geometry.outputChannels > 0
    }

    /// Transforms (or keeps, see `keepsTransformedWeights`) HWIO `weights` for `geometry`; `tileSize` nil means
    /// F(6×6, 3×3), the faster on images larger than about 24×24 (see `preferredTileSize(for:inputShape:)`).
    public init(
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
    public var transformedWeightBytes: Int { Self.transformedWeightBytes(for: geometry, tileSize: tileSize) }

    /// The bytes the transformed weights of `geometry` take with `tileSize` (known before any weights are transformed).
    public static func transformedWeightBytes(for geometry: ConvolutionGeometry, tileSize: TileSize) -> Int {
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

    /// Runs the convolution from and into caller-owned NHWC buffers (batch one), so an executor can reuse memory.
    ///
    /// `input` holds `height × width × inputChannels` values and must not overlap `output`, which receives
    /// `geometry.outputShape(height:width:)`. `residual` (required iff the epilogue adds one) holds the output's
    /// shape and may be `output` itself, for an in-place `y = conv(x) + y`; otherwise it must not overlap `output`.
    public func run(
        input: UnsafeBufferPointer<Float>,
        height: Int,
        width: Int,
        output: UnsafeMutableBufferPointer<Float>,
        residual: UnsafeBufferPointer<Float>?,
        pool: ComputePool = .shared
    ) {
        let g = geometry
        let outShape = g.checkedOutputShape(
            height: height, width: width, inputCount: input.count, outputCount: output.count,
            residualCount: residual?.count, addsResidual: epilogue.addsResidual)
        guard outShape.height > 0, outShape.width > 0 else { return }
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
        let tilesPerBlock = Self.tilesPerBlock(
            tileCount: tileCount,
            alpha: alpha,
            inputStride: inputStride,
            outputStride: blockCount * lanes
        )
        let outputStride = blockCount * lanes
        // Each transform point's slice is skewed by one cache line so the α² slices of a tile do not all fall into the
        // same cache set (their natural stride is a multiple of 4 KiB).
        let inputPointStride = tilesPerBlock * inputStride + lanes
        let outputPointStride = tilesPerBlock * outputStride + lanes
        let vCount = alpha * alpha * inputPointStride
        let mCount = alpha * alpha * outputPointStride
        let uCount = keepsTransformedWeights ? 0 : transformedWeightBytes / MemoryLayout<Float>.stride
        let decodedCount = palette == nil ? 0 : palette!.count
        let scratchCount = vCount + mCount + uCount + decodedCount

        WinogradScratchArena.shared.withBuffer(bytes: scratchCount * MemoryLayout<Float>.stride) { raw in
            let scratch = raw.bindMemory(to: Float.self, capacity: scratchCount)
            if !keepsTransformedWeights {
                transformWeightsInParallel(
                    into: scratch + vCount + mCount, decoding: scratch + vCount + mCount + uCount, pool: pool)
            }
            transformedWeights.withUnsafeBufferPointer { kept in
                vectorEpilogue.withValues { values in
                        let job = WinogradJob(
                            input: input.baseAddress!,
                            inputEnd: input.baseAddress! + height * width * g.inputChannels,
                            output: output.baseAddress!,
                            residual: epilogue.addsResidual ? residual!.baseAddress! : nil,
                            weights: keepsTransformedWeights
                                ? kept.baseAddress! : UnsafePointer(scratch + vCount + mCount),
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
                        case .f4x4: job.run(WinogradF4.self, tileCount: tileCount, pool: pool)
                        case .f6x6: job.run(WinogradF6.self, tileCount: tileCount, pool: pool)
                        }
                }
            }
        }
    }

    /// Frees the scratch memory kept for later calls (transformed weights of convolutions that do not keep theirs,
    /// transformed tiles); returns the bytes freed. Buffers in use by running calls are not touched.
    @discardableResult
    public static func releaseScratchMemory() -> Int { WinogradScratchArena.shared.releaseUnused() }

    /// The scratch bytes kept for later calls.
    public static var retainedScratchBytes: Int { WinogradScratchArena.shared.unusedBytes }

    /// Tiles per block: as many as fit in `blockBudgetBytes` of transformed tiles (`V` and `M`), so that each panel
    /// of transformed weights, read from memory once per block, serves many tiles; blocks of equal size (a multiple
    /// of the micro-kernel's 6 rows) so that the last one is not nearly empty.
    static func tilesPerBlock(tileCount: Int, alpha: Int, inputStride: Int, outputStride: Int) -> Int {
        let bytesPerTile = alpha * alpha * (inputStride + outputStride) * MemoryLayout<Float>.stride
        let override = blockBudgetOverride.load(ordering: .relaxed)
        let budget = override > 0 ? override : blockBudgetBytes
        let largest = max(6, min(maximumTilesPerBlock, budget / bytesPerTile) / 6 * 6)
        let blocks = (tileCount + largest - 1) / largest
        let balanced = (tileCount + blocks - 1) / blocks
        return min(tileCount, (balanced + 5) / 6 * 6)
    }

    /// The bytes of `V` and `M` per block (EDSR's 256 channels, F6: 126 tiles); 4 MiB is 20% slower at 256×256.
    static let blockBudgetBytes = 16 << 20
    static let maximumTilesPerBlock = 384
    private static let blockBudgetOverride = Atomic<Int>(0)

    /// Replaces the per-block budget of transformed tiles (nil: the default), for tuning.
    @_spi(Benchmarks)
    public static func setBlockBudgetForBenchmarks(bytes: Int?) {
        blockBudgetOverride.store(bytes ?? 0, ordering: .relaxed)
    }

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

/// The first `count` (< 16) values at `pointer`, zeros after.
@inline(__always)
func partialVector(_ pointer: UnsafePointer<Float>, count: Int) -> WinogradVector {
    var value = WinogradVector()
    for lane in 0..<count { value[lane] = pointer[lane] }
    return value
}

/// The first `count` values at `pointer`, zeros after; one full-width load masked when all 16 lanes lie before
/// `end`, else lane by lane.
@inline(__always)
func loadChannels(_ pointer: UnsafePointer<Float>, count: Int, end: UnsafePointer<Float>) -> WinogradVector {
    if count == WinogradVector.scalarCount { return loadVector(pointer) }
    guard pointer + WinogradVector.scalarCount <= end else { return partialVector(pointer, count: count) }
    let lanes: SIMD16<Int32> = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    return loadVector(pointer).replacing(with: 0, where: lanes .>= SIMD16<Int32>(repeating: Int32(count)))
}

/// Raw views of one call's buffers, valid only inside `WinogradConvolution.run`.
struct WinogradJob: @unchecked Sendable {
    // @unchecked Sendable: the pointers outlive the loops (the caller waits for them). Within a phase, work items
    // write disjoint parts of V (one tile each), M (one transform point × output panel each) or the output (one tile
    // each); the residual is read only at the output positions of the same tile that writes them.
    let input: UnsafePointer<Float>
    /// One past the input's last value.
    let inputEnd: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let residual: UnsafePointer<Float>?
    /// `U[ξ][block][ci][16]`, ξ slices `weightPointStride` apart.
    let weights: UnsafePointer<Float>
    let weightPointStride: Int
    /// `V[ξ][slot][inputStride]` for the block's tiles.
    let transformedInput: UnsafeMutablePointer<Float>
    /// `M[ξ][slot][outputStride]` for the block's tiles.
    let products: UnsafeMutablePointer<Float>
    let height: Int
    let width: Int
    let outputHeight: Int
    let outputWidth: Int
    let inputChannels: Int
    let outputChannels: Int
    let blockCount: Int
    let inputStride: Int
    let outputStride: Int
    let padTop: Int
    let padLeft: Int
    let tilesX: Int
    let tilesPerBlock: Int
    /// The distance between the slices of two transform points in `V` and in `M`.
    let inputPointStride: Int
    let outputPointStride: Int
    let epilogue: EpilogueValues

    func run<Tile: WinogradTile>(_ tile: Tile.Type, tileCount: Int, pool: ComputePool) {
        let alpha = Tile.inputSize
        let panels = (blockCount + 1) / 2
        // Tiles are handed out in runs of consecutive ones when each is little work (few channels), so that the
        // threads do not take turns on neighbouring tiles, whose edge pixels share cache lines.
        let vectorsPerPixel = blockCount + inputStride / WinogradVector.scalarCount
        let grain = max(1, min(32 / vectorsPerPixel, tilesPerBlock / (4 * pool.threadCount)))
        var start = 0
        while start < tileCount {
            let count = min(tilesPerBlock, tileCount - start)
            let first = start
            pool.parallelFor(count, grain: grain) { slot in transformInput(Tile.self, tile: first + slot, slot: slot) }
            pool.parallelFor(alpha * alpha * panels) { item in
                multiply(point: item / panels, panel: item % panels, tiles: count)
            }
            pool.parallelFor(count, grain: grain) { slot in
                transformOutput(Tile.self, tile: first + slot, slot: slot)
            }
            start += count
        }
    }

    /// Gathers tile `tile`'s α×α input patch (zeros outside the image) and writes `Bᵀ d B` to `V[ξ][slot]`.
    @inline(__always)
    func transformInput<Tile: WinogradTile>(_: Tile.Type, tile: Int, slot: Int) {
        let alpha = Tile.inputSize
        let m = Tile.outputSize
        let lanes = WinogradVector.scalarCount
        let ci = inputChannels
        let y0 = (tile / tilesX) * m - padTop
        let x0 = (tile % tilesX) * m - padLeft
        let interior = y0 >= 0 && x0 >= 0 && y0 + alpha <= height && x0 + alpha <= width
        // V[ξ] for ξ = row * α + column is at pointStride * ξ.
        let pointStride = inputPointStride
        let base = transformedInput + slot * inputStride
        // Row pass image row by image row, all channels of a row before the next: each row of the patch is one
        // contiguous run of the NHWC input, read in order.
        for row in 0..<alpha {
            let y = y0 + row
            let rowTarget = base + row * alpha * pointStride
            var channel = 0
            while channel < ci {
                let valid = min(lanes, ci - channel)
                let target = rowTarget + channel
                if interior && valid == lanes {
                    Tile.transformInput(input + (y * width + x0) * ci + channel, ci, target, pointStride)
                } else {
                    for column in 0..<alpha {
                        let x = x0 + column
                        var value = WinogradVector()
                        if y >= 0 && y < height && x >= 0 && x < width {
                            let source = input + (y * width + x) * ci + channel
                            value = loadChannels(source, count: valid, end: inputEnd)
                        }
                        storeVector(value, target + column * pointStride)
                    }
                    Tile.transformInput(target, pointStride, target, pointStride)
                }
                channel += lanes
            }
        }
        // Column pass in place.
        var channel = 0
        while channel < ci {
            for column in 0..<alpha {
                let target = base + channel + column * pointStride
                Tile.transformInput(target, alpha * pointStride, target, alpha * pointStride)
            }
            channel += lanes
        }
    }

    /// `M[ξ][tiles][32 channels of panel] = V[ξ][tiles] · U[ξ][panel]`.
    @inline(__always)
    func multiply(point: Int, panel: Int, tiles: Int) {
        let lanes = WinogradVector.scalarCount
        let ci = inputChannels
        let v = UnsafePointer(transformedInput + point * inputPointStride)
        let block = 2 * panel
        let u = weights + point * weightPointStride + block * ci * lanes
        let target = products + point * outputPointStride + block * lanes
        var row = 0
        if block + 1 < blockCount {
            while row < tiles {
                winogradKernel6x32(
                    v + row * inputStride,
                    rowStride: inputStride,
                    rows: min(6, tiles - row),
                    u,
                    u + ci * lanes,
                    depth: ci,
                    target + row * outputStride,
                    targetStride: outputStride
                )
                row += 6
            }
        } else {
            while row < tiles {
                winogradKernel6x16(
                    v + row * inputStride,
                    rowStride: inputStride,
                    rows: min(6, tiles - row),
                    u,
                    depth: ci,
                    target + row * outputStride,
                    targetStride: outputStride
                )
                row += 6
            }
        }
    }

    /// Turns `M[ξ][slot]` into tile `tile`'s m×m outputs (`Aᵀ M A`), runs the epilogue and stores them.
    @inline(__always)
    func transformOutput<Tile: WinogradTile>(_: Tile.Type, tile: Int, slot: Int) {
        let alpha = Tile.inputSize
        let m = Tile.outputSize
        let lanes = WinogradVector.scalarCount
        let y0 = (tile / tilesX) * m
        let x0 = (tile % tilesX) * m
        let rows = min(m, outputHeight - y0)
        let columns = min(m, outputWidth - x0)
        let pointStride = outputPointStride
        let base = products + slot * outputStride
        for block in 0..<blockCount {
            let source = base + block * lanes
            // Rows in place: M[r][0..<m] = Aᵀ M[r][0..<α]; then columns: M[0..<m][c] = Aᵀ M[0..<α][c].
            for row in 0..<alpha {
                let rowBase = source + row * alpha * pointStride
                Tile.transformOutput(rowBase, pointStride, rowBase, pointStride)
            }
            for column in 0..<columns {
                let columnBase = source + column * pointStride
                Tile.transformOutput(columnBase, alpha * pointStride, columnBase, alpha * pointStride)
            }
        }
        // Pixel by pixel, all channels of a pixel together: each output row of the tile is written in order.
        for row in 0..<rows {
            for column in 0..<columns {
                let source = base + (row * alpha + column) * pointStride
                for block in 0..<blockCount {
                    store(loadVector(source + block * lanes), y: y0 + row, x: x0 + column, block: block)
                }
            }
        }
    }

    /// Runs the epilogue on 16 sums of pixel (y, x), channels `block * 16 ..< +16`, and stores the valid lanes.
    @inline(__always)
    private func store(_ sums: WinogradVector, y: Int, x: Int, block: Int) {
        let lanes = WinogradVector.scalarCount
        let firstChannel = block * lanes
        var value = epilogue.apply(sums, firstChannel: firstChannel)
        let offset = (y * outputWidth + x) * outputChannels + firstChannel
        let valid = min(lanes, outputChannels - firstChannel)
        if valid == lanes {
            if let residual { value += loadVector(residual + offset) }
            storeVector(value, output + offset)
        } else {
            for lane in 0..<valid {
                var scalar = value[lane]
                if let residual { scalar += residual[offset + lane] }
                output[offset + lane] = scalar
            }
        }
    }
}

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

extension WinogradConvolution {
    /// The faster algorithm for `geometry` on inputs of `inputShape` (F(6×6, 3×3) when the shape is unknown).
    ///
    /// F6 does 64 products per 36 outputs against F4's 36 per 16, but each of its products costs about 15% more
    /// (bigger transforms, bigger weights to stream), and on small images its larger tiles waste more of the
    /// border: F4 is faster up to about 24×24 pixels. F4 is also about twice as accurate.
    public static func preferredTileSize(
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
    public static func prefers(_ geometry: ConvolutionGeometry, inputShape: FeatureMapShape) -> Bool {
        supports(geometry) && geometry.inputChannels >= 16
    }
}

extension WinogradConvolution {
    /// Runs the matrix-product micro-kernel `repetitions` times over the same cache-resident operands (6 tiles ×
    /// 32 channels × `depth`); returns the floating-point operations done. For measuring the kernel's peak.
    @_spi(Benchmarks)
    public static func runMicroKernel(depth: Int, repetitions: Int) -> Int {
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 6 * depth)
        let u = UnsafeMutablePointer<Float>.allocate(capacity: 32 * depth)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 6 * 32)
        defer {
            v.deallocate()
            u.deallocate()
            m.deallocate()
        }
        v.initialize(repeating: 0.5, count: 6 * depth)
        u.initialize(repeating: 0.25, count: 32 * depth)
        for _ in 0..<repetitions {
            winogradKernel6x32(v, rowStride: depth, rows: 6, u, u + 16 * depth, depth: depth, m, targetStride: 32)
        }
        return 2 * 6 * 32 * depth * repetitions
    }
}
