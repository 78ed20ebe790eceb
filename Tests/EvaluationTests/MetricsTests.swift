import Foundation
import Imaging
import Testing

@testable import Evaluation

/// PSNR and SSIM against scikit-image on small deterministic images (`tools/eval_reference.py metrics`).
struct MetricsFixture: Decodable {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        /// "plane": `a` and `b` are Y values used directly; "rgb": interleaved 8-bit RGB, scored on MATLAB's Y.
        var kind: String
        var width: Int
        var height: Int
        var border: Int
        var a: [UInt8]
        var b: [UInt8]
        var psnr: Double
        var ssim: Double

        var testDescription: String { name }

        func planes() -> (LumaPlane, LumaPlane) {
            if kind == "rgb" {
                return (
                    LumaPlane(matlabLumaOf: PixelImage(width: width, height: height, layout: .rgb, uint8: a)),
                    LumaPlane(matlabLumaOf: PixelImage(width: width, height: height, layout: .rgb, uint8: b))
                )
            }
            return (
                LumaPlane(width: width, height: height, values: a.map(Double.init)),
                LumaPlane(width: width, height: height, values: b.map(Double.init))
            )
        }
    }
    var skimage: String
    var cases: [Case]

    static let loaded: Result<MetricsFixture, any Error> = Result {
        guard let url = Bundle.module.url(forResource: "Fixtures/metrics", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try JSONDecoder().decode(MetricsFixture.self, from: Data(contentsOf: url))
    }

    static var cases: [Case] { (try? loaded.get().cases) ?? [] }
}

@Suite struct MetricsTests {
    @Test func fixtureIsPresent() throws {
        let fixture = try MetricsFixture.loaded.get()
        #expect(fixture.cases.count >= 8)
    }

    @Test(arguments: MetricsFixture.cases)
    func psnrMatchesScikitImage(_ c: MetricsFixture.Case) {
        let (a, b) = c.planes()
        let psnr = QualityMetrics.psnr(a, b, border: c.border)
        #expect(abs(psnr - c.psnr) <= 1e-9, "PSNR \(psnr), scikit-image \(c.psnr)")
    }

    @Test(arguments: MetricsFixture.cases)
    func ssimMatchesScikitImage(_ c: MetricsFixture.Case) {
        let (a, b) = c.planes()
        let ssim = QualityMetrics.ssim(a, b, border: c.border)
        #expect(abs(ssim - c.ssim) <= 1e-9, "SSIM \(ssim), scikit-image \(c.ssim)")
    }

    @Test func identicalPlanesScoreInfinityAndOne() {
        let values = (0..<(20 * 16)).map { Double(($0 * 37) % 256) }
        let plane = LumaPlane(width: 20, height: 16, values: values)
        #expect(QualityMetrics.psnr(plane, plane, border: 2) == .infinity)
        #expect(abs(QualityMetrics.ssim(plane, plane, border: 2) - 1) <= 1e-12)
    }

    @Test func psnrOfAKnownError() {
        // Every sample off by 5 outside a border of 1: MSE 25, PSNR 10 log10(255² / 25).
        let a = LumaPlane(width: 6, height: 5, values: [Double](repeating: 100, count: 30))
        var values = [Double](repeating: 0, count: 30)
        for y in 0..<5 {
            for x in 0..<6 { values[y * 6 + x] = (x == 0 || y == 0 || x == 5 || y == 4) ? 0 : 105 }
        }
        let b = LumaPlane(width: 6, height: 5, values: values)
        #expect(abs(QualityMetrics.psnr(a, b, border: 1) - 10 * log10(255.0 * 255 / 25)) <= 1e-12)
    }

    @Test func gaussianWindowIsMatlabs() {
        let window = QualityMetrics.gaussianWindow(size: 11, sigma: 1.5)
        #expect(window.count == 11)
        #expect(abs(window.reduce(0, +) - 1) <= 1e-15)
        // fspecial('gaussian', 11, 1.5): the centre weight of the 2-D window (the product of the 1-D centres).
        #expect(abs(window[5] * window[5] - 0.070_762_237_763_947) <= 1e-14)
        #expect(window[0] == window[10])
    }

    @Test func greyIsTheLumaOfEqualChannels() {
        let grey = PixelImage(width: 4, height: 1, layout: .grey, uint8: [0, 1, 128, 255])
        let rgb = PixelImage(
            width: 4,
            height: 1,
            layout: .rgb,
            uint8: [0, 0, 0, 1, 1, 1, 128, 128, 128, 255, 255, 255]
        )
        #expect(LumaPlane(matlabLumaOf: grey) == LumaPlane(matlabLumaOf: rgb))
        #expect(LumaPlane(matlabLumaOf: grey).values == [16, 17, 126, 235])
    }
}
