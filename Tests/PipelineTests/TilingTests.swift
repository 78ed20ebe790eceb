import Foundation
import Engine
import Imaging
import Models
import Pipeline
import TestSupport
import Testing

@Suite struct TilingTests {
    /// Every model in shared/models except the 38 MB EDSR fixture (the same graph as edsr_small with more blocks;
    /// its margin of 67 pixels makes every tile of a test-sized image the whole image).
    static let models: [String] = {
        guard SharedData.isAvailable else { return [] }
        var names: [String] = []
        for folder in ["models/opencv", "models/fixtures"] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: SharedData.path(folder))) ?? []
            names += files.filter { $0.hasSuffix(".pb") && $0 != "edsr_full_x3.pb" }.map { "\(folder)/\($0)" }
        }
        return names.sorted()
    }()

    /// With the direct kernels (every output value summed in the same order wherever it lies) tiles change no bit.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"), arguments: models)
    func tiledEqualsWholeImage(_ modelPath: String) throws {
        let model = try ModelLoader.load(path: SharedData.path(modelPath), kernels: .direct)
        let input = try ImageFile.read(SharedData.path("reference/inputs/bird_crop_37x29.png"))
        let whole = try Upscaler(model: model, options: UpscaleOptions(tileSize: 0)).upscale(input)
        var tilesSeen = 0
        let tiled = try Upscaler(model: model, options: UpscaleOptions(tileSize: 8)).upscale(
            input, progress: { _, total in tilesSeen = total })
        #expect(tilesSeen == 5 * 4, "37×29 in 8-pixel tiles is 5 × 4 tiles")
        #expect(tiled == whole, "\(modelPath): tiled result differs from the whole-image result")
    }

    /// With Winograd (the default) a tile's transform grid starts at the tile's corner, so values round differently
    /// than in the whole image: the 8-bit results may differ by one level in rare pixels, never more.
    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"), arguments: models)
    func tiledMatchesWholeImageWithinOneLevelOnFastKernels(_ modelPath: String) throws {
        let model = try ModelLoader.load(path: SharedData.path(modelPath))
        let input = try ImageFile.read(SharedData.path("reference/inputs/bird_crop_37x29.png"))
        let whole = try Upscaler(model: model, options: UpscaleOptions(tileSize: 0)).upscale(input)
        let tiled = try Upscaler(model: model, options: UpscaleOptions(tileSize: 8)).upscale(input)
        guard case .uint8(let a) = whole.samples, case .uint8(let b) = tiled.samples else {
            Issue.record("expected 8-bit results")
            return
        }
        try #require(a.count == b.count)
        let differences = zip(a, b).map { abs(Int($0) - Int($1)) }
        #expect(differences.max() ?? 0 <= 1, "\(modelPath): tiles differ by more than one level")
        let identical = Double(differences.filter { $0 == 0 }.count) / Double(a.count)
        #expect(identical >= 0.999, "\(modelPath): only \(identical) of the values are identical")
    }

    @Test func automaticLayoutPrefersFullWidthBands() throws {
        // EDSR's widest maps are 256 channels with a margin of 67: a 500×500 input fits in two bands of 250 rows.
        let layout = TiledNetworkRunner.automaticLayout(
            channels: 256, margin: 67, width: 500, height: 500, budgetBytes: 176 << 20)
        #expect(layout == TileLayout(width: 500, height: 250))
        #expect(TiledNetworkRunner.automaticLayout(channels: 256, margin: 67, width: 300, height: 300) == nil)
        // Very wide: a band of 4 margins does not fit, so squares.
        let wide = try #require(
            TiledNetworkRunner.automaticLayout(channels: 256, margin: 67, width: 6000, height: 400, budgetBytes: 64 << 20))
        #expect(wide.width == wide.height)
        let tiles = TiledNetworkRunner.plan(width: 500, height: 500, layout: layout!, margin: 67)
        #expect(tiles.count == 2)
        #expect(tiles.map(\.inputHeight) == [317, 317])
    }

    @Test func planCoversTheImageOnceWithClippedMargins() {
        let tiles = TiledNetworkRunner.plan(width: 37, height: 29, tileSize: 16, margin: 5)
        #expect(tiles.count == 3 * 2)
        var covered = [Int](repeating: 0, count: 37 * 29)
        for tile in tiles {
            #expect(tile.inputX == max(0, tile.coreX - 5) && tile.inputY == max(0, tile.coreY - 5))
            #expect(tile.inputX + tile.inputWidth == min(37, tile.coreX + tile.coreWidth + 5))
            for y in tile.coreY..<(tile.coreY + tile.coreHeight) {
                for x in tile.coreX..<(tile.coreX + tile.coreWidth) { covered[y * 37 + x] += 1 }
            }
        }
        #expect(covered.allSatisfy { $0 == 1 })
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func cancellationStopsBetweenTiles() throws {
        let model = try ModelLoader.load(path: SharedData.path("models/opencv/FSRCNN_x3.pb"))
        let input = try ImageFile.read(SharedData.path("reference/inputs/bird_crop_37x29.png"))
        var finished = 0
        #expect(throws: PipelineError.self) {
            try Upscaler(model: model, options: UpscaleOptions(tileSize: 8)).upscale(
                input, progress: { done, _ in finished = done }, shouldCancel: { finished >= 3 })
        }
        #expect(finished == 3)
    }

    /// Every point where `upscale` asks `shouldCancel` (before each tile and between the whole-image steps) stops
    /// the work when the answer is yes: for a luma model with chroma and alpha to enlarge, and for EDSR.
    @Test(
        .enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"),
        arguments: ["models/opencv/FSRCNN_x3.pb", "models/fixtures/edsr_tiny_x3.pb"])
    func everyCancellationPointStopsTheUpscale(_ path: String) throws {
        let model = try ModelLoader.load(path: SharedData.path(path))
        let rgb = ImageLayoutTests.rgbImage(width: 24, height: 18, seed: 5)
        let planes = (0..<3).map { ImageLayoutTests.channels(rgb, $0) }
        var rgba: [UInt8] = []
        for pixel in 0..<rgb.pixelCount { rgba += planes.map { UInt8($0[pixel]) } + [200] }
        let input = PixelImage(width: 24, height: 18, layout: .rgba, uint8: rgba)
        let upscaler = Upscaler(model: model, options: UpscaleOptions(tileSize: 12))
        var asked = 0
        _ = try upscaler.upscale(input, shouldCancel: {
            asked += 1
            return false
        })
        // Four tiles plus at least four whole-image steps.
        #expect(asked >= 8, "\(asked)")
        for stopAt in 1...asked {
            var calls = 0
            #expect("stop at question \(stopAt) of \(asked)") {
                try upscaler.upscale(input, shouldCancel: {
                    calls += 1
                    return calls == stopAt
                })
            } throws: { error in
                if case PipelineError.cancelled = error { return true }
                return false
            }
            #expect(calls == stopAt, "the upscale went on after question \(stopAt)")
        }
    }
}
