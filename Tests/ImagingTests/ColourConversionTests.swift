import Foundation
import Testing

import Imaging

/// Fixture loading and the checksums/test patterns shared with tools/make_imaging_test_vectors.py.
enum PixelMathFixtures {
    struct Missing: Error, CustomStringConvertible {
        var name: String
        var description: String {
            "fixture \(name).json is missing; regenerate it with tools/make_imaging_test_vectors.py"
        }
    }

    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw Missing(name: name)
        }
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    /// c1 = Σ (i + 1) v[i], c2 = Σ ((i + 1) × 0x9E3779B97F4A7C15) v[i], modulo 2^64, as decimal strings.
    static func checksums<S: Sequence>(_ values: S) -> [String] where S.Element: FixedWidthInteger {
        var c1: UInt64 = 0
        var c2: UInt64 = 0
        var i: UInt64 = 0
        for v in values {
            i &+= 1
            let x = UInt64(truncatingIfNeeded: v)
            c1 &+= i &* x
            c2 &+= (i &* 0x9E37_79B9_7F4A_7C15) &* x
        }
        return [String(c1), String(c2)]
    }

    /// The integer hash behind the generated test images.
    static func hash(width: Int, height: Int, seed: Int) -> [UInt32] {
        var out = [UInt32]()
        out.reserveCapacity(width * height)
        let salt = UInt32(truncatingIfNeeded: seed &* 83_492_791)
        for y in 0..<height {
            for x in 0..<width {
                var h = (UInt32(x) &* 73_856_093) ^ (UInt32(y) &* 19_349_663) ^ salt
                h = h &* 0x85EB_CA6B
                h ^= h >> 13
                out.append(h)
            }
        }
        return out
    }

    /// The generated float test image: "u8" gives k / 255 for k in 0...255, "unit" gives k / 65535.
    static func pattern(width: Int, height: Int, seed: Int, kind: String) -> FloatPlane {
        let values = hash(width: width, height: height, seed: seed).map { h in
            kind == "u8" ? Float(h & 255) / 255 : Float(h & 0xFFFF) / 65535
        }
        return FloatPlane(width: width, height: height, values: values)
    }
}

private struct ColourFixture: Decodable {
    struct Luma: Decodable {
        var input: [UInt8]
        var bits: [String]
        var rounded: [Int]
    }
    /// Checksums of cv2's output over all 2^24 inputs in the order (c0 << 16 | c1 << 8 | c2).
    var exhaustive: [String: [String]]
    var u8: [String: [UInt8]]
    var f32: [String: [UInt32]]
    var matlabLuma: Luma
}

@Suite struct ColourConversionTests {
    private static let loaded = Result { try PixelMathFixtures.load("colour_vectors", as: ColourFixture.self) }

    static let byteConversions: [(String, @Sendable ([UInt8]) -> [UInt8])] = [
        ("bgrToYCrCb", { ColourConversion.bgrToYCrCb($0) }),
        ("rgbToYCrCb", { ColourConversion.rgbToYCrCb($0) }),
        ("ycrcbToBGR", { ColourConversion.ycrcbToBGR($0) }),
        ("ycrcbToRGB", { ColourConversion.ycrcbToRGB($0) }),
        ("rgbToGrey", { ColourConversion.rgbToGrey($0) }),
        ("bgrToGrey", { ColourConversion.bgrToGrey($0) }),
    ]

    static let floatConversions: [(String, @Sendable ([Float]) -> [Float])] = [
        ("bgrToYCrCb", { ColourConversion.bgrToYCrCb($0) }),
        ("rgbToYCrCb", { ColourConversion.rgbToYCrCb($0) }),
        ("ycrcbToBGR", { ColourConversion.ycrcbToBGR($0) }),
        ("ycrcbToRGB", { ColourConversion.ycrcbToRGB($0) }),
        ("rgbToGrey", { ColourConversion.rgbToGrey($0) }),
        ("bgrToGrey", { ColourConversion.bgrToGrey($0) }),
    ]

    @Test(arguments: 0..<6)
    func eightBitSampleMatchesOpenCV(conversion: Int) throws {
        let fixture = try Self.loaded.get()
        let (name, convert) = Self.byteConversions[conversion]
        let input = try #require(fixture.u8["input"])
        let expected = try #require(fixture.u8[name])
        let actual = convert(input)
        #expect(actual.count == expected.count)
        let stride = expected.count / (input.count / 3)
        let wrong = (0..<min(actual.count, expected.count)).filter { actual[$0] != expected[$0] }
        #expect(
            wrong.isEmpty,
            "\(name): \(wrong.count) samples differ, first at pixel \(wrong.first.map { $0 / stride } ?? -1)"
        )
    }

    /// Every one of the 2^24 inputs, compared with cv2 through checksums of the whole output.
    @Test(arguments: 0..<6)
    func eightBitAllTriplesMatchOpenCV(conversion: Int) throws {
        let fixture = try Self.loaded.get()
        let (name, convert) = Self.byteConversions[conversion]
        let input = [UInt8](unsafeUninitializedCapacity: 3 << 24) { buffer, count in
            for v in 0..<(1 << 24) {
                buffer[3 * v] = UInt8(truncatingIfNeeded: v >> 16)
                buffer[3 * v + 1] = UInt8(truncatingIfNeeded: v >> 8)
                buffer[3 * v + 2] = UInt8(truncatingIfNeeded: v)
            }
            count = 3 << 24
        }
        #expect(PixelMathFixtures.checksums(convert(input)) == fixture.exhaustive[name], "\(name) on all 2^24 triples")
    }

    @Test(arguments: 0..<6)
    func floatMatchesOpenCVBitForBit(conversion: Int) throws {
        let fixture = try Self.loaded.get()
        let (name, convert) = Self.floatConversions[conversion]
        let input = try #require(fixture.f32["input"]).map(Float.init(bitPattern:))
        let expected = try #require(fixture.f32[name])
        let actual = convert(input).map(\.bitPattern)
        #expect(actual.count == expected.count)
        let wrong = (0..<min(actual.count, expected.count)).filter { actual[$0] != expected[$0] }
        #expect(wrong.isEmpty, "\(name): \(wrong.count) of \(expected.count) floats differ")
    }

    @Test func fourChannelInputIgnoresAlpha() {
        let bgr: [UInt8] = [10, 200, 30, 255, 0, 128, 90, 45, 210]
        var bgra = [UInt8]()
        for p in 0..<3 { bgra += bgr[(3 * p)..<(3 * p + 3)] + [UInt8(77 * p)] }
        #expect(ColourConversion.bgrToYCrCb(bgra, channelCount: 4) == ColourConversion.bgrToYCrCb(bgr))
        #expect(ColourConversion.rgbToGrey(bgra, channelCount: 4) == ColourConversion.rgbToGrey(bgr))
        let floats = bgr.map { Float($0) / 255 }
        let floatsA = bgra.map { Float($0) / 255 }
        #expect(ColourConversion.rgbToYCrCb(floatsA, channelCount: 4) == ColourConversion.rgbToYCrCb(floats))
    }

    /// The one-pass planar conversion equals quantizing each plane to 8 bits and converting the merged samples.
    @Test func unitPlanesConvertAsQuantizedMergedSamples() {
        var state: UInt32 = 12345
        func next() -> Float {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24) * 1.2 - 0.1  // slightly beyond 0...1 to test saturation
        }
        let count = 5000
        let y = (0..<count).map { _ in next() }, cr = (0..<count).map { _ in next() }, cb = (0..<count).map { _ in next() }
        func quantize(_ v: Float) -> UInt8 { UInt8(min(max((v * 255).rounded(.toNearestOrEven), 0), 255)) }
        var merged: [UInt8] = []
        for i in 0..<count { merged += [quantize(y[i]), quantize(cr[i]), quantize(cb[i])] }
        #expect(ColourConversion.ycrcbUnitPlanesToRGB(y: y, cr: cr, cb: cb) == ColourConversion.ycrcbToRGB(merged))
    }

    @Test func greyPixelsHaveNeutralChroma() {
        let greys: [UInt8] = (0...255).flatMap { [UInt8($0), UInt8($0), UInt8($0)] }
        let ycrcb = ColourConversion.bgrToYCrCb(greys)
        for k in 0...255 {
            #expect(ycrcb[3 * k] == UInt8(k) && ycrcb[3 * k + 1] == 128 && ycrcb[3 * k + 2] == 128)
        }
        #expect(ColourConversion.ycrcbToRGB(ycrcb) == greys)
    }

    @Test func matlabLumaMatchesReference() throws {
        let luma = try Self.loaded.get().matlabLuma
        let actual = ColourConversion.matlabLuma(rgb: luma.input)
        let expected = luma.bits.map { Double(bitPattern: UInt64($0)!) }
        #expect(actual == expected)
        #expect(ColourConversion.matlabLuma(rgb: luma.input, rounded: true) == luma.rounded.map(Double.init))
        // The ends of the range: black is 16, white 235 (up to rounding of the coefficients' sum).
        let ends = ColourConversion.matlabLuma(rgb: [0, 0, 0, 255, 255, 255])
        #expect(ends[0] == 16)
        #expect(abs(ends[1] - 235) <= 1e-12)
    }
}
