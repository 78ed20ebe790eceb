import Foundation
import Synchronization
import Imaging
import Models
import Pipeline
import TestSupport
import Testing

/// Results written a band of rows at a time (`FileBatch` over its memory budget): the same picture as the
/// whole-picture path, a crop's result inside the big one, and nothing left behind by a cancel.
@Suite(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
struct BandedUpscaleTests {
    static let models = ["models/opencv/FSRCNN-small_x2.pb", "models/fixtures/edsr_tiny_x3.pb"]

    /// A picture in `layout` with alpha and grey derived from the RGB test picture.
    static func picture(_ layout: PixelLayout, bitDepth: Int, width: Int = 53, height: Int = 47) -> PixelImage {
        let rgb = ImageLayoutTests.rgbImage(width: width, height: height, seed: 7)
        guard case .uint8(let colour) = rgb.samples else { preconditionFailure("8-bit test picture") }
        var samples: [Int] = []
        for p in 0..<rgb.pixelCount {
            let pixel = colour[(p * 3)..<(p * 3 + 3)].map(Int.init)
            samples += layout.isGrey ? [pixel.reduce(0, +) / 3] : pixel
            if layout.hasAlpha { samples.append((p * 11) % 256) }
        }
        return bitDepth == 8
            ? PixelImage(width: width, height: height, layout: layout, uint8: samples.map { UInt8($0) })
            : PixelImage(width: width, height: height, layout: layout, uint16: samples.map { UInt16(min(65535, $0 * 257 + $0 % 7)) })
    }

    /// Runs one job through a batch with `memory`; returns whether it was streamed and the job's result.
    static func run(
        _ input: String, output: String, format: ImageFormat, planner: UpscalePlanner, memory: MemoryBudget,
        shouldCancel: @escaping () -> Bool = { false }
    ) -> (streamed: Bool, result: Result<Void, any Error>?) {
        let batch = FileBatch(planner: planner, limits: DecodeLimits(), encoding: EncodeSettings(), memory: memory)
        let results = Mutex<Result<Void, any Error>?>(nil)
        var streamed = false
        _ = batch.run(
            [FileJob(input: input, output: output, format: format)],
            onStart: { _, _, bands in streamed = bands }, shouldCancel: shouldCancel,
            onFinish: { _, result in results.withLock { $0 = result } })
        return (streamed, results.withLock { $0 })
    }

    @Test(arguments: models, [PixelLayout.grey, .greyAlpha, .rgb, .rgba])
    func aStreamedResultIsTheWholePicturesResult(_ model: String, _ layout: PixelLayout) throws {
        let folder = TemporaryFolder()
        let upscaler = Upscaler(
            model: try ModelLoader.load(path: SharedData.path(model)), options: UpscaleOptions(tileSize: 13))
        for bitDepth in [8, 16] {
            let input = folder.appending("in-\(bitDepth).png")
            try ImageFile.write(Self.picture(layout, bitDepth: bitDepth), to: input)
            // The model's own scale, a shrink (3/4 of it) and a chain (twice the scale, then shrunk).
            for factor in [1.0, 0.75, 1.5] {
                let request = OutputRequest.factor(Double(upscaler.model.scale) * factor)
                let planner = UpscalePlanner(.fixed(NamedUpscaler(name: "m", upscaler: upscaler)), request: request)
                for format in [ImageFormat.png, .jpeg] {
                    let whole = folder.appending("whole.\(format.fileExtension)")
                    let banded = folder.appending("banded.\(format.fileExtension)")
                    let wholeRun = Self.run(input, output: whole, format: format, planner: planner, memory: .automatic)
                    let bandedRun = Self.run(
                        input, output: banded, format: format, planner: planner, memory: MemoryBudget(megabytes: 0))
                    #expect(!wholeRun.streamed && bandedRun.streamed)
                    try #require(wholeRun.result != nil && bandedRun.result != nil)
                    try wholeRun.result!.get()
                    try bandedRun.result!.get()
                    let label = "\(model) \(layout) \(bitDepth)-bit ×\(factor) \(format)"
                    if format == .png {
                        #expect(try ImageFile.read(banded) == ImageFile.read(whole), "\(label)")
                    } else {
                        #expect(try Data(contentsOf: URL(fileURLWithPath: banded)) == Data(contentsOf: URL(fileURLWithPath: whole)), "\(label)")
                    }
                }
            }
        }
    }

    /// Away from the crop's edges (farther than the network's context), a crop enlarged alone is the same region of
    /// the whole picture's result, up to rare one-level differences where Winograd's grid starts elsewhere.
    @Test func aCropsResultIsTheRegionOfTheWholeResult() throws {
        let model = try ModelLoader.load(path: SharedData.path("models/opencv/FSRCNN-small_x2.pb"))
        let upscaler = Upscaler(model: model, options: UpscaleOptions(tileSize: 24))
        let image = Self.picture(.rgb, bitDepth: 8, width: 96, height: 80)
        let (cropX, cropY, cropWidth, cropHeight) = (30, 20, 48, 44)
        guard case .uint8(let all) = image.samples else { preconditionFailure("8-bit") }
        var crop: [UInt8] = []
        for y in cropY..<(cropY + cropHeight) {
            let rowStart: Int = (y * 96 + cropX) * 3
            crop += all[rowStart..<(rowStart + cropWidth * 3)]
        }
        let whole = try upscaler.upscale(image)
        let part = try upscaler.upscale(PixelImage(width: cropWidth, height: cropHeight, layout: .rgb, uint8: crop))
        guard case .uint8(let big) = whole.samples, case .uint8(let small) = part.samples else {
            preconditionFailure("8-bit results")
        }
        let s = model.scale, inset = (model.tileMargin + 2) * s
        var compared = 0, differing = 0, largest = 0
        for y in inset..<(cropHeight * s - inset) {
            for x in inset..<(cropWidth * s - inset) {
                for c in 0..<3 {
                    let a = Int(small[(y * cropWidth * s + x) * 3 + c])
                    let b = Int(big[((y + cropY * s) * 96 * s + x + cropX * s) * 3 + c])
                    compared += 1
                    if a != b { differing += 1 }
                    largest = max(largest, abs(a - b))
                }
            }
        }
        #expect(compared > 10_000)
        #expect(largest <= 1 && Double(differing) <= 0.001 * Double(compared), "\(differing) of \(compared) differ")
    }

    @Test func aCancelledStreamLeavesNoFile() throws {
        let folder = TemporaryFolder()
        let input = folder.appending("in.png")
        try ImageFile.write(Self.picture(.rgb, bitDepth: 8), to: input)
        let upscaler = Upscaler(
            model: try ModelLoader.load(path: SharedData.path("models/opencv/FSRCNN-small_x2.pb")),
            options: UpscaleOptions(tileSize: 10))
        let planner = UpscalePlanner(.fixed(NamedUpscaler(name: "m", upscaler: upscaler)))
        var asked = 0
        let run = Self.run(
            input, output: folder.appending("out.png"), format: .png, planner: planner,
            memory: MemoryBudget(megabytes: 0),
            shouldCancel: {
                asked += 1
                return asked > 8
            })
        #expect(run.streamed)
        #expect(throws: PipelineError.self) { try run.result?.get() }
        #expect(asked > 8)
        #expect(folder.contents() == ["in.png"])
    }
}
