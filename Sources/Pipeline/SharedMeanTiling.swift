import Engine
import Kernels
import Models
import Tensor

/// Runs a network whose squeeze-and-excitation blocks average over the whole map (global average pooling) tile by
/// tile, with every mean taken over the whole picture: first, for each pool in turn, every tile runs up to that pool
/// and adds up the part of the pool's input map it owns (the earlier pools' whole-picture means given); then every
/// tile runs to the end with all the means given. Tiles then differ from one whole-picture run only by rounding
/// (realcugan-ncnn-vulkan's synchronised mode `-c 1` averages the tiles' own means instead, which is close but not
/// equal). Costs one partial run of every tile per pool more than plain tiling.
///
/// The network must lose a fixed border (`SuperResolutionModel.borderLoss`) rather than pad, and tiles must start at
/// multiples of `alignment` input pixels so that each tile's feature maps are the whole picture's maps shifted by a
/// whole number of pixels.
struct SharedMeanTiling {
    /// The network.
    let model: SuperResolutionModel
    /// The whole (padded) input.
    let input: NetworkInput
    /// Input pixels of context each tile carries beyond its core on every side (the network loses it again).
    let context: Int
    /// Tile cores start at multiples of this, and every core but the last is a multiple of it.
    let alignment: Int
    /// The picture part of the input: the first `coreWidth × coreHeight` pixels after `context` (what follows is
    /// alignment padding, which the network sees but whose output is dropped).
    let coreWidth: Int, coreHeight: Int
    /// Whether the tiles share the whole picture's means (false only to show, in tests, what sharing them changes:
    /// each tile then pools over its own map, as plain tiling would).
    var sharesMeans = true

    /// One tile: its core in picture pixels and its input region in input pixels.
    struct Tile {
        var core: (x: Int, y: Int, width: Int, height: Int)
        var input: (x: Int, y: Int, width: Int, height: Int)
    }

    /// The tiles of cores of about `layout` (rounded up to the alignment), row by row; one tile for nil.
    func plan(_ layout: TileLayout?) -> [[Tile]] {
        func round(_ size: Int) -> Int { (size + alignment - 1) / alignment * alignment }
        let tileWidth = layout.map { round($0.width) } ?? coreWidth
        let tileHeight = layout.map { round($0.height) } ?? coreHeight
        var rows: [[Tile]] = []
        for y in stride(from: 0, to: coreHeight, by: tileHeight) {
            var row: [Tile] = []
            let height = min(tileHeight, coreHeight - y)
            let lastRow = y + height == coreHeight
            for x in stride(from: 0, to: coreWidth, by: tileWidth) {
                let width = min(tileWidth, coreWidth - x)
                let lastColumn = x + width == coreWidth
                // The last tiles reach the input's end (its alignment padding); the others carry `context` more.
                let inputWidth = lastColumn ? input.width - x : width + 2 * context
                let inputHeight = lastRow ? input.height - y : height + 2 * context
                row.append(Tile(core: (x, y, width, height), input: (x, y, inputWidth, inputHeight)))
            }
            rows.append(row)
        }
        return rows
    }

    /// The network's output over every tile, a row of tiles at a time: `onRow(tiles, outputs)` with each tile's
    /// NHWC output (its core first, then the alignment padding's output on the last tiles).
    func run(
        _ rows: [[Tile]], progress: (Int, Int) -> Void, shouldCancel: () -> Bool,
        onRow: (_ tiles: [Tile], _ outputs: [Tensor]) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        let executor = model.executor
        let tileCount = rows.reduce(0) { $0 + $1.count }
        let pools = tileCount == 1 || !sharesMeans ? [] : executor.graph.nodes.indices.filter {
            executor.graph.nodes[$0].operation == .globalAveragePool
        }
        let total = tileCount * (pools.count + 1)
        var done = 0
        var means: [NodeID: Tensor] = [:]
        for pool in pools {
            let mapNode = executor.graph.nodes[pool].inputs[0]
            let owned = try ownership(of: mapNode, rows: rows)
            var sums: [Double] = []
            for (r, row) in rows.enumerated() {
                for (c, tile) in row.enumerated() {
                    if shouldCancel() { throw .cancelled }
                    let map = try value(of: mapNode, on: tile, means: means)
                    let part = ReferenceKernels.channelSums(map, rows: owned.rows[r], columns: owned.columns[c])
                    sums = sums.isEmpty ? part : zip(sums, part).map(+)
                    done += 1
                    progress(done, total)
                }
            }
            let count = Double(owned.wholeHeight * owned.wholeWidth)
            means[pool] = Tensor(shape: [1, 1, 1, sums.count], scalars: sums.map { Float($0 / count) })
        }
        for row in rows {
            var outputs: [Tensor] = []
            for tile in row {
                if shouldCancel() { throw .cancelled }
                let output = try value(of: executor.graph.outputs[0].node, on: tile, means: means)
                outputs.append(output)
                done += 1
                progress(done, total)
            }
            try onRow(row, outputs)
        }
    }

    /// The value of `node` on `tile`'s input, the pools in `means` given.
    private func value(of node: NodeID, on tile: Tile, means: [NodeID: Tensor]) throws(PipelineError) -> Tensor {
        try input.prepare(tile.input.y, tile.input.height)
        let region = input.region(x: tile.input.x, y: tile.input.y, width: tile.input.width, height: tile.input.height)
        do {
            return try model.executor.value(of: node, for: region, replacing: means)
        } catch {
            throw .network(error)
        }
    }

    /// Which rows (per row of tiles) and columns (per column of tiles) of `node`'s map each tile adds to the whole
    /// picture's sums, in the tile's own map coordinates: the tiles' maps overlap, and each overlap is split in the
    /// middle, so that every pixel of the whole picture's map is counted once.
    private func ownership(of node: NodeID, rows: [[Tile]]) throws(PipelineError)
        -> (rows: [Range<Int>], columns: [Range<Int>], wholeHeight: Int, wholeWidth: Int)
    {
        let graph = model.executor.graph
        func mapSize(_ height: Int, _ width: Int) throws(PipelineError) -> (height: Int, width: Int) {
            do {
                let shape = try graph.inferShapes(inputShape: [1, height, width, input.channels])[node]
                return (shape[1], shape[2])
            } catch {
                throw .network(error)
            }
        }
        let whole = try mapSize(input.height, input.width)
        // The map's resolution against the input's, as a fraction of the step between two aligned sizes: a tile
        // starting at input pixel x starts at map pixel x · ratio in the whole picture's map.
        let step = 4 * alignment
        let larger = try mapSize(input.height + step, input.width + step)
        let ratio = (height: larger.height - whole.height, width: larger.width - whole.width)
        func split(_ starts: [Int], _ lengths: [Int], wholeLength: Int, ratio: Int) throws(PipelineError) -> [Range<Int>]
        {
            var origins: [Int] = []
            for start in starts {
                guard (start * ratio) % step == 0 else {
                    throw .unsupportedImage("tile at \(start) does not fall on the network's map grid")
                }
                origins.append(start * ratio / step)
            }
            guard origins.first == 0, let lastOrigin = origins.last, let lastLength = lengths.last,
                lastOrigin + lastLength == wholeLength
            else { throw .unsupportedImage("the tiles' maps do not cover the whole picture's map") }
            var bounds = [0]
            for index in 1..<origins.count {
                let (low, high) = (origins[index], origins[index - 1] + lengths[index - 1])
                guard low <= high else { throw .unsupportedImage("the tiles' maps leave a gap: too little context") }
                bounds.append((low + high) / 2)
            }
            bounds.append(wholeLength)
            return origins.indices.map { (bounds[$0] - origins[$0])..<(bounds[$0 + 1] - origins[$0]) }
        }
        var heights: [Int] = []
        for row in rows { heights.append(try mapSize(row[0].input.height, row[0].input.width).height) }
        var widths: [Int] = []
        for tile in rows[0] { widths.append(try mapSize(tile.input.height, tile.input.width).width) }
        return (
            try split(rows.map { $0[0].input.y }, heights, wholeLength: whole.height, ratio: ratio.height),
            try split(rows[0].map(\.input.x), widths, wholeLength: whole.width, ratio: ratio.width),
            whole.height, whole.width
        )
    }
}
