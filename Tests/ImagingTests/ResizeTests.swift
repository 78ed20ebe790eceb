import Foundation
import Testing

import Imaging

struct OpenCVResizeFixture: Decodable {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        var width: Int
        var height: Int
        var toWidth: Int
        var toHeight: Int
        var pattern: String
        var seed: Int
        var interpolation: String
        var backend: String
        /// Checksums of cv2's output float bit patterns.
        var checksums: [String]
        /// Checksums of cv2's output after `convertTo(CV_8U, 255)`.
        var uint8Checksums: [String]
        /// (index, float bit pattern) pairs of cv2's output.
        var samples: [[UInt32]]
        var maxAbsDiffFromIPP: Double?

        var testDescription: String {
            "\(interpolation)/\(backend) \(width)×\(height)→\(toWidth)×\(toHeight) \(pattern)#\(seed)"
        }
    }
    var opencv: String
    var cases: [Case]
}

struct MatlabResizeFixture: Decodable {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        var width: Int
        var height: Int
        var scale: Double?
        var toWidth: Int?
        var toHeight: Int?
        var pattern: String
        var integerValues: Bool
        var seed: Int
        var outWidth: Int
        var outHeight: Int
        var checksums: [String]
        var uint8Checksums: [String]
        var samples: [[String]]

        var testDescription: String {
            "\(width)×\(height) " + (scale.map { "scale \($0)" } ?? "to \(toWidth ?? 0)×\(toHeight ?? 0)")
        }
    }
    struct ProtocolCrop: Decodable, Sendable {
        var source: String
        var scale: Int
        var hr: [UInt8]
        var lrWidth: Int
        var lrHeight: Int
        var lr: [UInt8]
        var sr: [UInt8]
        var psnrY: Double
        var psnrYRounded: Double
    }
    var cases: [Case]
    var `protocol`: ProtocolCrop
}

private let openCVFixture = Result { try PixelMathFixtures.load("resize_opencv", as: OpenCVResizeFixture.self) }
private let matlabFixture = Result { try PixelMathFixtures.load("resize_matlab", as: MatlabResizeFixture.self) }

/// `saturate_cast<uchar>(v * 255)` as `convertTo(CV_8U, 255)` does: float product, round half to even.
private func openCVToUInt8(_ v: Float) -> UInt8 {
    UInt8(min(max((v * 255).rounded(.toNearestOrEven), 0), 255))
}

@Suite struct ResizeTests {
    static let openCVCases = (try? openCVFixture.get().cases) ?? []
    static let matlabCases = (try? matlabFixture.get().cases) ?? []

    @Test func fixturesLoad() throws {
        #expect(try openCVFixture.get().cases.count >= 40)
        #expect(try matlabFixture.get().cases.count >= 10)
    }

    /// Each case against cv2 4.14's output, bit for bit (IPP and OpenCV's own code), and after conversion to 8 bits.
    @Test(arguments: openCVCases)
    func openCVMatchesCV2(_ c: OpenCVResizeFixture.Case) throws {
        let input = PixelMathFixtures.pattern(width: c.width, height: c.height, seed: c.seed, kind: c.pattern)
        let backend: Resize.OpenCVBackend = c.backend == "intelIPP" ? .intelIPP : .native
        let output =
            c.interpolation == "linear"
            ? Resize.openCVLinear(input, toWidth: c.toWidth, toHeight: c.toHeight, backend: backend)
            : Resize.openCVCubic(input, toWidth: c.toWidth, toHeight: c.toHeight)
        #expect(output.width == c.toWidth && output.height == c.toHeight)
        let bits = output.values.map(\.bitPattern)
        for sample in c.samples {
            let (index, expected) = (Int(sample[0]), sample[1])
            #expect(
                bits[index] == expected,
                "sample \(index): \(output.values[index]) vs cv2 \(Float(bitPattern: expected))"
            )
        }
        #expect(PixelMathFixtures.checksums(bits) == c.checksums, "whole output, bit for bit")
        #expect(PixelMathFixtures.checksums(output.values.map(openCVToUInt8)) == c.uint8Checksums, "8-bit output")
    }

    @Test func integerScaleIsTheSizeVariant() {
        let plane = PixelMathFixtures.pattern(width: 11, height: 7, seed: 42, kind: "unit")
        for scale in [2, 3, 4] {
            for backend in Resize.OpenCVBackend.allCases {
                #expect(
                    Resize.openCVLinear(plane, scale: scale, backend: backend)
                        == Resize.openCVLinear(plane, toWidth: 11 * scale, toHeight: 7 * scale, backend: backend)
                )
            }
            #expect(
                Resize.openCVCubic(plane, scale: scale)
                    == Resize.openCVCubic(plane, toWidth: 11 * scale, toHeight: 7 * scale)
            )
        }
    }

    @Test(arguments: Resize.OpenCVBackend.allCases)
    func constantPlaneStaysConstant(backend: Resize.OpenCVBackend) {
        let plane = FloatPlane(width: 9, height: 6, repeating: 0.3)
        let linear = Resize.openCVLinear(plane, scale: 3, backend: backend)
        // IPP's fma(0, t, c) is exact; OpenCV's c·(1 - t) + c·t is within an ulp of c.
        #expect(linear.values.allSatisfy { abs($0 - 0.3) <= 0.3 * Float.ulpOfOne })
        let cubic = Resize.openCVCubic(plane, scale: 3)
        #expect(cubic.values.allSatisfy { abs($0 - 0.3) <= 4 * 0.3 * Float.ulpOfOne })
    }

    @Test(arguments: matlabCases)
    func matlabBicubicMatchesReference(_ c: MatlabResizeFixture.Case) throws {
        let hashes = PixelMathFixtures.hash(width: c.width, height: c.height, seed: c.seed)
        let input = hashes.map { h in
            c.integerValues
                ? Double(h & 255) : Double(c.pattern == "u8" ? Float(h & 255) / 255 : Float(h & 0xFFFF) / 65535)
        }
        let output: [Double]
        if let scale = c.scale {
            let result = Resize.matlabBicubic(input, width: c.width, height: c.height, scale: scale)
            #expect(result.width == c.outWidth && result.height == c.outHeight)
            output = result.values
        } else {
            output = Resize.matlabBicubic(
                input,
                width: c.width,
                height: c.height,
                toWidth: try #require(c.toWidth),
                toHeight: try #require(c.toHeight)
            )
        }
        #expect(output.count == c.outWidth * c.outHeight)
        let bits = output.map(\.bitPattern)
        for sample in c.samples {
            let (index, expected) = (try #require(Int(sample[0])), try #require(UInt64(sample[1])))
            #expect(bits[index] == expected, "sample \(index): \(output[index]) vs \(Double(bitPattern: expected))")
        }
        #expect(PixelMathFixtures.checksums(bits) == c.checksums, "whole output, bit for bit")
        #expect(PixelMathFixtures.checksums(Resize.matlabUInt8(output)) == c.uint8Checksums, "uint8 output")
    }

    /// The evaluation protocol (LR = uint8(imresize(HR, 1/3)), SR = uint8(imresize(LR, 3)), PSNR on MATLAB Y,
    /// border 3) on a crop of Set5 bird, against the Python reference.
    @Test func evaluationProtocolMatchesReference() throws {
        let crop = try matlabFixture.get().protocol
        let side = 48
        func channels(_ rgb: [UInt8], count: Int) -> [[Double]] {
            (0..<3).map { c in (0..<count).map { Double(rgb[3 * $0 + c]) } }
        }
        func interleave(_ planes: [[UInt8]]) -> [UInt8] {
            (0..<planes[0].count).flatMap { i in planes.map { $0[i] } }
        }
        let lrPlanes = channels(crop.hr, count: side * side).map { plane -> [UInt8] in
            let r = Resize.matlabBicubic(plane, width: side, height: side, scale: 1.0 / 3)
            #expect(r.width == crop.lrWidth && r.height == crop.lrHeight)
            return Resize.matlabUInt8(r.values)
        }
        let lr = interleave(lrPlanes)
        #expect(lr == crop.lr)
        let sr = interleave(
            channels(lr, count: crop.lrWidth * crop.lrHeight).map { plane in
                Resize.matlabUInt8(
                    Resize.matlabBicubic(plane, width: crop.lrWidth, height: crop.lrHeight, scale: 3).values
                )
            }
        )
        #expect(sr == crop.sr)

        func psnr(_ a: [Double], _ b: [Double], border: Int) -> Double {
            var sum = 0.0
            var n = 0
            for y in border..<(side - border) {
                for x in border..<(side - border) {
                    let d = a[y * side + x] - b[y * side + x]
                    sum += d * d
                    n += 1
                }
            }
            return 10 * log10(255 * 255 / (sum / Double(n)))
        }
        let hrY = ColourConversion.matlabLuma(rgb: crop.hr), srY = ColourConversion.matlabLuma(rgb: sr)
        #expect(abs(psnr(hrY, srY, border: crop.scale) - crop.psnrY) <= 1e-9)
        let hrYR = ColourConversion.matlabLuma(rgb: crop.hr, rounded: true)
        let srYR = ColourConversion.matlabLuma(rgb: sr, rounded: true)
        #expect(abs(psnr(hrYR, srYR, border: crop.scale) - crop.psnrYRounded) <= 1e-9)
    }

    @Test func matlabOutputSizeIsCeilingOfScaledSize() {
        #expect(Resize.matlabOutputSize(width: 255, height: 256, scale: 1.0 / 3) == (85, 86))
        #expect(Resize.matlabOutputSize(width: 85, height: 10, scale: 3) == (255, 30))
        #expect(Resize.matlabOutputSize(width: 37, height: 29, scale: 0.5) == (19, 15))
    }

    @Test func matlabUInt8RoundsHalfAwayFromZeroAndClamps() {
        let cases: [(Double, UInt8)] = [
            (0.5, 1), (1.5, 2), (2.5, 3), (2.4999999, 2), (-0.4, 0), (-3, 0), (254.5, 255), (300, 255), (.nan, 0),
        ]
        for (value, expected) in cases { #expect(Resize.matlabUInt8(value) == expected, "\(value)") }
    }

    /// Shrinking then enlarging a smooth ramp by MATLAB's bicubic returns close to the ramp away from the borders.
    @Test func matlabBicubicPreservesLinearRampsInside() {
        let (w, h) = (24, 18)
        let ramp = (0..<(w * h)).map { Double($0 % w) * 2 + Double($0 / w) }
        let up = Resize.matlabBicubic(ramp, width: w, height: h, scale: 2)
        #expect(up.width == 48 && up.height == 36)
        // Output (x, y) sits at input ((x + 0.5) / 2 - 0.5, ...); cubic reproduces linear functions exactly.
        for y in 4..<(up.height - 4) {
            for x in 4..<(up.width - 4) {
                let expected = ((Double(x) + 0.5) / 2 - 0.5) * 2 + ((Double(y) + 0.5) / 2 - 0.5)
                #expect(abs(up.values[y * up.width + x] - expected) <= 1e-12)
            }
        }
    }
}

@Suite struct FloatPlaneTests {
    @Test func subscriptIsRowMajor() {
        var plane = FloatPlane(width: 3, height: 2, values: [0, 1, 2, 3, 4, 5])
        #expect(plane[x: 2, y: 0] == 2 && plane[x: 0, y: 1] == 3 && plane[x: 2, y: 1] == 5)
        plane[x: 1, y: 1] = 40
        #expect(plane.values == [0, 1, 2, 3, 40, 5])
        #expect(plane.count == 6)
    }

    @Test func repeatingFillsEverySample() {
        let plane = FloatPlane(width: 4, height: 3, repeating: 0.25)
        #expect(plane.values.count == 12 && plane.values.allSatisfy { $0 == 0.25 })
        #expect(plane == FloatPlane(width: 4, height: 3, values: [Float](repeating: 0.25, count: 12)))
    }
}
