import Foundation
import Imaging
import Kernels
import ModelStore
import Models
import Pipeline
import TestSupport
import Testing

/// What `--precision bf16` costs in pixels: its outputs against fp32's on every model and input of shared/reference
/// (the EDSR fixtures at full size included) and on the ncnn models, in 8-bit grey levels.
@Suite(
    .serialized,
    .enabled(if: BFloat16Hardware.best != nil, "this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX)"))
struct PrecisionTests {
    static let cases = ReferenceManifest.allCases()

    /// Mean and largest absolute difference of two 8-bit images, in grey levels.
    static func difference(_ a: PixelImage, _ b: PixelImage) throws -> (mean: Double, max: Int) {
        guard case .uint8(let x) = a.samples, case .uint8(let y) = b.samples, x.count == y.count, !x.isEmpty else {
            throw KernelTestFailure("two 8-bit images of one size expected")
        }
        var total = 0
        var largest = 0
        for (p, q) in zip(x, y) {
            let d = abs(Int(p) - Int(q))
            total += d
            largest = max(largest, d)
        }
        return (Double(total) / Double(x.count), largest)
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"), arguments: cases)
    func bfloat16StaysWithinHalfAGreyLevelOfFP32(_ c: ReferenceCase) throws {
        let input = try ImageFile.read(SharedData.path("reference/" + c.input))
        var outputs: [PixelImage] = []
        for precision in Precision.allCases {
            let model = try ModelLoader.load(
                path: SharedData.path(c.model), family: ModelFamily(rawValue: c.algo), scale: c.scale,
                precision: precision)
            outputs.append(try Upscaler(model: model).upscale(input))
        }
        let (mean, largest) = try Self.difference(outputs[1], outputs[0])
        #expect(mean <= 0.5, "\(c): bf16 is \(mean) grey levels from fp32 on average (largest \(largest))")
        #expect(largest <= 24, "\(c): bf16 is \(largest) grey levels from fp32 at worst")
    }

    /// The ncnn models of the catalogue that are installed (scripts/test pulls them), with their `.param` paths.
    static let installedNCNNModels: [String] = ["srmdnf-x3", "realesr-animevideov3-x3"].filter { name in
        (try? ModelStore.locate(name))?.hasSuffix(".param") ?? false
    }

    @Test(
        .enabled(
            if: SharedData.isAvailable && !installedNCNNModels.isEmpty,
            "needs shared/ and the ncnn models (superres models pull srmdnf-x3 realesr-animevideov3-x3)"),
        arguments: installedNCNNModels)
    func bfloat16StaysWithinHalfAGreyLevelOnNCNNModels(_ name: String) throws {
        let path = try ModelStore.locate(name)
        let input = try ImageFile.read(SharedData.path("reference/inputs/butterfly_lr_x3.png"))
        var outputs: [PixelImage] = []
        for precision in Precision.allCases {
            let model = try ModelLoader.load(path: path, precision: precision)
            outputs.append(try Upscaler(model: model).upscale(input))
        }
        let (mean, largest) = try Self.difference(outputs[1], outputs[0])
        #expect(mean <= 0.5, "\(name): bf16 is \(mean) grey levels from fp32 on average (largest \(largest))")
    }
}
