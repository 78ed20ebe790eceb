import Engine
import Models
import Tensor

/// Where one tile reads and writes, in input pixels.
package struct TileRegion: Sendable, Equatable {
    /// The part of the output this tile is responsible for (its core), in input coordinates.
    package var coreX: Int, coreY: Int, coreWidth: Int, coreHeight: Int
    /// The core plus up to `margin` pixels of context on each side, clipped to the image.
    package var inputX: Int, inputY: Int, inputWidth: Int, inputHeight: Int
}

/// The size of the tiles' cores: squares (`--tile N`) or full-width bands (the automatic choice).
package struct TileLayout: Sendable, Equatable, CustomStringConvertible {
    /// Core width in input pixels.
    package var width: Int
    /// Core height in input pixels.
    package var height: Int

    /// Cores of `width × height` pixels; sizes below 1 are raised to 1.
    package init(width: Int, height: Int) {
        self.width = max(1, width)
        self.height = max(1, height)
    }

    /// Square cores of `side` pixels.
    package static func square(_ side: Int) -> TileLayout { TileLayout(width: side, height: side) }

    /// The layout as `width×height`, e.g. "256×256".
    package var description: String { "\(width)×\(height)" }
}

/// Runs a network over an input in overlapping tiles so memory stays bounded.
///
/// Each tile carries `SuperResolutionModel.tileMargin` pixels of context. When that is the network's whole receptive
/// field (`tileMarginIsExact`), and the kernels compute every output value in the same order wherever it lies, the
/// stitched result is identical to running the whole image at once (on the direct kernels; Winograd's transform grid
/// starts at each tile's corner, so its results may differ by a grey level in rare pixels); networks whose field is
/// too wide to carry (Real-ESRGAN x4plus) get a fixed context margin and differ slightly near the seams.
package enum TiledNetworkRunner {
    /// The tiles covering `width × height` with cores of at most `layout` pixels and `margin` of context.
    package static func plan(width: Int, height: Int, layout: TileLayout, margin: Int) -> [TileRegion] {
        var tiles: [TileRegion] = []
        for y in stride(from: 0, to: height, by: layout.height) {
            for x in stride(from: 0, to: width, by: layout.width) {
                let w = min(layout.width, width - x)
                let h = min(layout.height, height - y)
                let x0 = max(0, x - margin)
                let y0 = max(0, y - margin)
                let x1 = min(width, x + w + margin)
                let y1 = min(height, y + h + margin)
                tiles.append(
                    TileRegion(
                        coreX: x, coreY: y, coreWidth: w, coreHeight: h,
                        inputX: x0, inputY: y0, inputWidth: x1 - x0, inputHeight: y1 - y0))
            }
        }
        return tiles
    }

    /// The tiles covering `width × height` with square cores of at most `tileSize` pixels a side.
    package static func plan(width: Int, height: Int, tileSize: Int, margin: Int) -> [TileRegion] {
        plan(width: width, height: height, layout: .square(tileSize), margin: margin)
    }

    /// The feature-map budget of automatic tiling: each of the network's widest maps stays near this size. With the
    /// executor's memory plan (two such maps live in EDSR's body) this keeps EDSR at 500×500 under 600 MB.
    package static let defaultBudgetBytes = 176 << 20

    /// A tiling that keeps each of the network's feature maps near `budgetBytes`, or nil (no tiling) when the whole
    /// image already fits.
    ///
    /// Full-width bands are preferred: a band recomputes `margin` rows on each inner edge only, where square tiles
    /// recompute margins on four sides. The image is cut into as few bands of equal height as fit the budget; when even
    /// a band of twice the margin does not fit (very wide images), square tiles are used. `maxRows` caps the height
    /// of a row of tiles (a streamed result holds one row of tiles' output at a time): beyond it the tiles become
    /// wide strips that still fit the budget.
    package static func automaticLayout(
        for model: SuperResolutionModel, width: Int, height: Int, budgetBytes: Int = defaultBudgetBytes,
        maxRows: Int? = nil
    ) -> TileLayout? {
        automaticLayout(
            channels: model.widestFeatureMap, margin: model.tileMargin, width: width, height: height,
            budgetBytes: budgetBytes, maxRows: maxRows)
    }

    /// The automatic layout for a network whose widest maps have `channels` channels and whose tiles need `margin`.
    package static func automaticLayout(
        channels: Int, margin: Int, width: Int, height: Int, budgetBytes: Int = defaultBudgetBytes,
        maxRows: Int? = nil
    ) -> TileLayout? {
        let pixels = budgetBytes / (4 * max(channels, 1))
        let rowCap = max(maxRows ?? Int.max, 1)
        if width * height <= pixels, height <= rowCap { return nil }
        let rowsThatFit = pixels / width
        if rowsThatFit >= max(4 * margin, 1), height >= 2 {
            for bands in 2...height {
                let core = (height + bands - 1) / bands
                let rows = core + (bands > 2 ? 2 : 1) * margin
                if rows <= rowsThatFit, core <= rowCap { return TileLayout(width: width, height: core) }
            }
        }
        let side = max(Int(Double(pixels).squareRoot()) - 2 * margin, 64)
        guard side > rowCap else { return .square(side) }
        // Strips: as many columns as the budget allows for rows of the capped height.
        let stripWidth = max(pixels / (rowCap + 2 * margin) - 2 * margin, 64)
        return TileLayout(width: min(stripWidth, width), height: rowCap)
    }

    /// Runs `model` on `input` tile by tile (`layout` nil: all at once) and hands over its NHWC output one band of
    /// full-width rows at a time, top to bottom: `onBand(firstRow, band)` with `band` `[1, rows, W·s, C']`, the
    /// caller's to change in place (and drop). Only one band of the output and one tile of the input are held.
    ///
    /// `progress(done, total)` is called after each tile; `shouldCancel` is asked before each tile.
    package static func runBands(
        _ model: SuperResolutionModel, input: NetworkInput, layout: TileLayout?,
        progress: (Int, Int) -> Void = { _, _ in }, shouldCancel: () -> Bool = { false },
        onBand: (_ firstRow: Int, _ band: inout Tensor) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        let s = model.scale
        let tiles = plan(
            width: input.width, height: input.height,
            layout: layout ?? TileLayout(width: input.width, height: input.height), margin: model.tileMargin)
        let outWidth = input.width * s
        var band: [Float] = []
        var outChannels = 0
        for (index, tile) in tiles.enumerated() {
            if shouldCancel() { throw .cancelled }
            try input.prepare(tile.inputY, tile.inputHeight)
            let tileInput = input.region(x: tile.inputX, y: tile.inputY, width: tile.inputWidth, height: tile.inputHeight)
            var tileOutput = try runWhole(model, tileInput)
            let tileShape = FeatureMapShape(nhwc: tileOutput.shape)!
            if tiles.count == 1 {
                progress(1, 1)
                try onBand(0, &tileOutput)
                return
            }
            if band.isEmpty {
                outChannels = tileShape.channels
                band = [Float](repeating: 0, count: tile.coreHeight * s * outWidth * outChannels)
            }
            // Copy the core rows of this tile into place in its band.
            let rowLength = tile.coreWidth * s * outChannels
            tileOutput.scalars.withUnsafeBufferPointer { src in
                band.withUnsafeMutableBufferPointer { dst in
                    for row in 0..<(tile.coreHeight * s) {
                        let sy = (tile.coreY - tile.inputY) * s + row
                        let sx = (tile.coreX - tile.inputX) * s
                        let from = src.baseAddress! + (sy * tileShape.width + sx) * outChannels
                        let to = dst.baseAddress! + (row * outWidth + tile.coreX * s) * outChannels
                        to.update(from: from, count: rowLength)
                    }
                }
            }
            progress(index + 1, tiles.count)
            // The last tile of a row of tiles finishes its band.
            if tile.coreX + tile.coreWidth == input.width {
                var finished = Tensor(shape: [1, tile.coreHeight * s, outWidth, outChannels], scalars: band)
                band = []
                try onBand(tile.coreY * s, &finished)
            }
        }
    }

    /// The network on one input (its output is NHWC).
    static func runWhole(_ model: SuperResolutionModel, _ input: Tensor) throws(PipelineError) -> Tensor {
        do {
            return try model.run(input)
        } catch {
            throw .network(error)
        }
    }

}

/// A network's input, made one region at a time: a family builds each tile's input from the picture (padding,
/// normalisation, constant maps) when the tile runs, so the whole input tensor is never held.
package struct NetworkInput {
    /// Width of the whole input, in pixels.
    package let width: Int
    /// Height of the whole input, in pixels.
    package let height: Int
    /// Values per pixel.
    package let channels: Int
    /// The NHWC values of a region (x, y, width, height), row by row.
    private let values: (_ x: Int, _ y: Int, _ width: Int, _ height: Int) -> [Float]
    /// Makes the input's rows `y..<y + height` readable (a streamed picture decodes down to them) before
    /// `values` is asked for a region within them.
    let prepare: (_ y: Int, _ height: Int) throws(PipelineError) -> Void

    /// An input of `width × height × channels` whose regions `values(x, y, width, height)` makes, after
    /// `prepare(y, height)` for the rows of the region.
    package init(
        width: Int, height: Int, channels: Int,
        prepare: @escaping (_ y: Int, _ height: Int) throws(PipelineError) -> Void = { _, _ in },
        values: @escaping (_ x: Int, _ y: Int, _ width: Int, _ height: Int) -> [Float]
    ) {
        self.width = width
        self.height = height
        self.channels = channels
        self.prepare = prepare
        self.values = values
    }

    /// The regions of NHWC `values` of `shape`.
    init(_ shape: FeatureMapShape, values: [Float]) {
        let c = shape.channels
        self.init(width: shape.width, height: shape.height, channels: c) { x, y, width, height in
            if x == 0, y == 0, width == shape.width, height == shape.height { return values }
            var out = [Float](repeating: 0, count: width * height * c)
            values.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for row in 0..<height {
                        (dst.baseAddress! + row * width * c).update(
                            from: src.baseAddress! + ((y + row) * shape.width + x) * c, count: width * c)
                    }
                }
            }
            return out
        }
    }

    /// The region as a `[1, height, width, channels]` tensor.
    func region(x: Int, y: Int, width: Int, height: Int) -> Tensor {
        Tensor(shape: [1, height, width, channels], scalars: values(x, y, width, height))
    }
}
