// One Winograd call's three phases (input transform, products, output transform), spread over the compute pool.

import Tensor

/// The first `count` (< 16) values at `pointer`, zeros after; read 8 and 4 at a time, then one by one, and nothing
/// after them (another thread may be writing there).
@inline(__always)
func partialVector(_ pointer: UnsafePointer<Float>, count: Int) -> WinogradVector {
    let raw = UnsafeRawPointer(pointer)
    var value = WinogradVector()
    var lane = 0
    if count & 8 != 0 {
        value.lowHalf = raw.loadUnaligned(as: SIMD8<Float>.self)
        lane = 8
    }
    if count & 4 != 0 {
        let four = raw.loadUnaligned(fromByteOffset: 4 * lane, as: SIMD4<Float>.self)
        if lane == 8 { value.highHalf.lowHalf = four } else { value.lowHalf.lowHalf = four }
        lane += 4
    }
    while lane < count {
        value[lane] = pointer[lane]
        lane += 1
    }
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

/// Stores the first `count` (< 16) lanes of `value` at `pointer`, 8 and 4 lanes at a time, then one by one: nothing
/// after them is touched (it may be another tile's output, or a residual still to be read).
@inline(__always)
func storeChannels(_ value: WinogradVector, _ pointer: UnsafeMutablePointer<Float>, count: Int) {
    let raw = UnsafeMutableRawPointer(pointer)
    var lane = 0
    if count & 8 != 0 {
        raw.storeBytes(of: value.lowHalf, as: SIMD8<Float>.self)
        lane = 8
    }
    if count & 4 != 0 {
        let four = lane == 8 ? value.highHalf.lowHalf : value.lowHalf.lowHalf
        raw.storeBytes(of: four, toByteOffset: 4 * lane, as: SIMD4<Float>.self)
        lane += 4
    }
    while lane < count {
        pointer[lane] = value[lane]
        lane += 1
    }
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
    var transformedInput: UnsafeMutablePointer<Float>
    /// `M[ξ][slot][outputStride]` for the block's tiles.
    var products: UnsafeMutablePointer<Float>
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

    /// Runs every block of tiles: each pool thread takes whole blocks (input transform, products, output
    /// transform) in a region of V and M of its own, `regionStride` floats after the previous thread's, so a block's
    /// transformed tiles stay in the caches of the core that made them.
    func run<Tile: WinogradTile>(
        _ tile: Tile.Type, tileCount: Int, regionStride: Int, pool: ComputePool
    ) {
        let points = Tile.inputSize * Tile.inputSize
        let panels = (blockCount + 1) / 2
        let blocks = (tileCount + tilesPerBlock - 1) / tilesPerBlock
        pool.parallelForEachThread(blocks) { block, thread in
            var own = self
            own.transformedInput = transformedInput + thread * regionStride
            own.products = products + thread * regionStride
            let first = block * tilesPerBlock
            let count = min(tilesPerBlock, tileCount - first)
            for slot in 0..<count { own.transformInput(Tile.self, tile: first + slot, slot: slot) }
            for item in 0..<points * panels { own.multiply(point: item / panels, panel: item % panels, tiles: count) }
            for slot in 0..<count { own.transformOutput(Tile.self, tile: first + slot, slot: slot) }
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
                // A short last group of channels (52 = 3 × 16 + 4) is read 16 wide too when that stays inside the
                // input: its lanes past the last channel hold the next pixel's values, transformed into lanes of V
                // that the products never read (they sum over the `inputChannels` first lanes only).
                let rowEnd = input + (y * width + x0 + alpha - 1) * ci + channel + lanes
                if interior && (valid == lanes || rowEnd <= inputEnd) {
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
        #if SUPERRES_AVX512_REGISTERS
        let twoBlocksAtOnce = block + 1 < blockCount
        #else
        // 16 vector registers (AVX2): 6 × 32 sums are 24 registers and would spill, so each of the panel's two
        // blocks gets a 6 × 16 pass of its own (12). Every sum sees the same multiply-adds in the same order.
        let twoBlocksAtOnce = false
        #endif
        if twoBlocksAtOnce {
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
            return
        }
        for half in 0..<min(2, blockCount - block) {
            row = 0
            let u = u + half * ci * lanes
            let target = target + half * lanes
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
            if let residual { value = epilogue.combine(value, residual: loadVector(residual + offset)) }
            storeVector(value, output + offset)
        } else {
            if let residual {
                value = epilogue.combine(value, residual: partialVector(residual + offset, count: valid))
            }
            storeChannels(value, output + offset, count: valid)
        }
    }
}
