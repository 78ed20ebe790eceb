import Engine
import Models
import Tensor

/// Where one tile reads and writes, in input pixels.
public struct TileRegion: Sendable, Equatable {
    /// The part of the output this tile is responsible for (its core), in input coordinates.
    public var coreX: Int, coreY: Int, coreWidth: Int, coreHeight: Int
    /// The core plus up to `margin` pixels of context on each side, clipped to the image.
    public var inputX: Int, inputY: Int, inputWidth: Int, inputHeight: Int
}

/// Runs a network over an input in overlapping tiles so memory stays bounded.
///
/// Each tile carries `SuperResolutionModel.tileMargin` pixels of context. When that is the network's whole receptive
/// field (`tileMarginIsExact`), and the kernels compute every output value in the same order wherever it lies, the
/// stitched result is identical to running the whole image at once; networks whose field is too wide to carry
/// (Real-ESRGAN x4plus) get a fixed context margin and differ slightly near the seams.
public enum TiledNetworkRunner {
    /// The tiles covering `width × height` with cores of at most `tileSize` pixels a side and `margin` of context.
    public static func plan(width: Int, height: Int, tileSize: Int, margin: Int) -> [TileRegion] {
        let size = max(1, tileSize)
        var tiles: [TileRegion] = []
        for y in stride(from: 0, to: height, by: size) {
            for x in stride(from: 0, to: width, by: size) {
                let w = min(size, width - x)
                let h = min(size, height - y)
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

    /// A tile size that keeps each of the network's feature maps near `budgetBytes`, or nil (no tiling) when the
    /// whole image already fits.
    public static func automaticTileSize(
        for model: SuperResolutionModel, width: Int, height: Int, budgetBytes: Int = 128 << 20
    ) -> Int? {
        let channels = max(model.widestFeatureMap, 1)
        let pixels = budgetBytes / (4 * channels)
        if width * height <= pixels { return nil }
        let side = Int(Double(pixels).squareRoot())
        return max(side - 2 * model.tileMargin, 64)
    }

    /// Runs `model` on the NHWC `input` (`[1, H, W, C]`), tile by tile (`tileSize` nil or ≤ 0: all at once), and
    /// returns the NHWC output `[1, H·s, W·s, C']`.
    ///
    /// `progress(done, total)` is called after each tile; `shouldCancel` is asked before each tile.
    public static func run(
        _ model: SuperResolutionModel, input: Tensor, tileSize: Int?,
        progress: (Int, Int) -> Void = { _, _ in }, shouldCancel: () -> Bool = { false }
    ) throws(PipelineError) -> Tensor {
        guard let shape = FeatureMapShape(nhwc: input.shape) else {
            throw .unsupportedImage("network input \(input.shape) is not NHWC")
        }
        let s = model.scale
        let size = (tileSize ?? 0) > 0 ? tileSize! : max(shape.width, shape.height)
        let tiles = plan(width: shape.width, height: shape.height, tileSize: size, margin: model.tileMargin)
        if tiles.count == 1 {
            if shouldCancel() { throw .cancelled }
            let result = try runWhole(model, input)
            progress(1, 1)
            return result
        }
        var output: [Float] = []
        var outChannels = 0
        let outWidth = shape.width * s
        for (index, tile) in tiles.enumerated() {
            if shouldCancel() { throw .cancelled }
            let tileInput = crop(input.scalars, shape: shape, x: tile.inputX, y: tile.inputY,
                width: tile.inputWidth, height: tile.inputHeight)
            let tileOutput = try runWhole(model, tileInput)
            let tileShape = FeatureMapShape(nhwc: tileOutput.shape)!
            if output.isEmpty {
                outChannels = tileShape.channels
                output = [Float](repeating: 0, count: shape.height * s * outWidth * outChannels)
            }
            // Copy the core rows of this tile into place.
            let rowLength = tile.coreWidth * s * outChannels
            tileOutput.scalars.withUnsafeBufferPointer { src in
                output.withUnsafeMutableBufferPointer { dst in
                    for row in 0..<(tile.coreHeight * s) {
                        let sy = (tile.coreY - tile.inputY) * s + row
                        let sx = (tile.coreX - tile.inputX) * s
                        let from = src.baseAddress! + (sy * tileShape.width + sx) * outChannels
                        let to = dst.baseAddress! + ((tile.coreY * s + row) * outWidth + tile.coreX * s) * outChannels
                        to.update(from: from, count: rowLength)
                    }
                }
            }
            progress(index + 1, tiles.count)
        }
        return Tensor(shape: [1, shape.height * s, outWidth, outChannels], scalars: output)
    }

    /// The network on one input, output converted to NHWC.
    static func runWhole(_ model: SuperResolutionModel, _ input: Tensor) throws(PipelineError) -> Tensor {
        let raw: Tensor
        do {
            raw = try model.run(input)
        } catch {
            throw .network(error)
        }
        guard model.outputIsNCHW else { return raw }
        let (c, h, w) = (raw.shape[1], raw.shape[2], raw.shape[3])
        var nhwc = [Float](repeating: 0, count: raw.count)
        raw.scalars.withUnsafeBufferPointer { src in
            nhwc.withUnsafeMutableBufferPointer { dst in
                for channel in 0..<c {
                    for p in 0..<(h * w) { dst[p * c + channel] = src[channel * h * w + p] }
                }
            }
        }
        return Tensor(shape: [1, h, w, c], scalars: nhwc)
    }

    static func crop(_ values: [Float], shape: FeatureMapShape, x: Int, y: Int, width: Int, height: Int) -> Tensor {
        let c = shape.channels
        var out = [Float](repeating: 0, count: width * height * c)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<height {
                    (dst.baseAddress! + row * width * c).update(
                        from: src.baseAddress! + ((y + row) * shape.width + x) * c, count: width * c)
                }
            }
        }
        return Tensor(shape: [1, height, width, c], scalars: out)
    }
}
