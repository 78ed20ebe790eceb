import Foundation
import Imaging
import Models
import Pipeline
import Tensor
import TestSupport
import Testing

/// superres against OpenCV 4.14's dnn_superres on every model in shared/models and every input in shared/reference.
@Suite(.serialized) struct OpenCVParityTests {
    static let cases = ReferenceManifest.allCases()

    static func load(_ c: ReferenceCase) throws -> SuperResolutionModel {
        try ModelLoader.load(
            path: SharedData.path(c.model), family: ModelFamily(rawValue: c.algo), scale: c.scale)
    }

    static func samples8(_ image: PixelImage) -> [UInt8] {
        guard case .uint8(let values) = image.samples else { return [] }
        return values
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"), arguments: cases)
    func matchesOpenCVWithinOneGreyLevel(_ c: ReferenceCase) throws {
        let model = try Self.load(c)
        let input = try ImageFile.read(SharedData.path("reference/" + c.input))
        let expected = try ImageFile.read(SharedData.path("reference/" + c.output))
        let actual = try Upscaler(model: model).upscale(input)
        #expect(actual.width == expected.width && actual.height == expected.height)
        #expect(actual.layout == expected.layout)
        let a = Self.samples8(actual)
        let b = Self.samples8(expected)
        try #require(a.count == b.count && !a.isEmpty)
        var maxDifference = 0
        var identical = 0
        for (x, y) in zip(a, b) {
            let d = abs(Int(x) - Int(y))
            maxDifference = max(maxDifference, d)
            if d == 0 { identical += 1 }
        }
        #expect(maxDifference <= 1, "\(c): max difference \(maxDifference)")
        #expect(Double(identical) / Double(a.count) >= 0.99, "\(c): \(identical) of \(a.count) identical")
    }

    static let rawCases = cases.filter { $0.rawOutput != nil }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"), arguments: rawCases)
    func rawNetworkOutputMatchesOpenCV(_ c: ReferenceCase) throws {
        let model = try Self.load(c)
        let input = try ImageFile.read(SharedData.path("reference/" + c.input))
        guard case .uint8(let rgb) = input.samples else { throw KernelTestFailure("8-bit input expected") }
        // EDSR input as dnn_superres makes it: BGR floats minus the DIV2K mean.
        var bgr = [Float](repeating: 0, count: input.pixelCount * 3)
        for p in 0..<input.pixelCount {
            for c in 0..<3 { bgr[p * 3 + c] = Float(rgb[p * 3 + 2 - c]) - EDSRProcessing.div2kMeanBGR[c] }
        }
        // The model's output is NHWC; OpenCV's blob is NCHW.
        let nhwc = try model.run(Tensor(shape: [1, input.height, input.width, 3], scalars: bgr))
        let (h, w, channels) = (nhwc.shape[1], nhwc.shape[2], nhwc.shape[3])
        var nchw = [Float](repeating: 0, count: nhwc.count)
        for channel in 0..<channels {
            for p in 0..<(h * w) { nchw[channel * h * w + p] = nhwc.scalars[p * channels + channel] }
        }
        let output = Tensor(shape: [1, channels, h, w], scalars: nchw)
        let data = try Data(contentsOf: URL(fileURLWithPath: SharedData.path("reference/" + c.rawOutput!)))
        let expected = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(output.shape == c.rawShapeNCHW)
        try #require(output.count == expected.count)
        var differenceSquared: Double = 0
        var referenceSquared: Double = 0
        for (x, y) in zip(output.scalars, expected) {
            differenceSquared += Double(x - y) * Double(x - y)
            referenceSquared += Double(y) * Double(y)
        }
        let relativeL2 = (differenceSquared / referenceSquared).squareRoot()
        #expect(relativeL2 < 1e-4, "\(c): relative L2 error \(relativeL2)")
    }
}

/// A failed precondition of a test, reported as an error.
struct KernelTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
