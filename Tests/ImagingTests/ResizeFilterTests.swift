import Foundation
import Testing

import Imaging

/// The antialiased filters that shrink a network's result to the size asked for (`Resize.resample`).
struct ResizeFilterTests {
    /// A smooth but busy test plane of `width × height` (values 0...255).
    static func plane(width: Int, height: Int) -> FloatPlane {
        var values = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let a = sin(Double(x) * 0.37 + Double(y) * 0.11) * 90
                let b = cos(Double(x * y) * 0.013) * 30
                values[y * width + x] = Float(128 + a + b)
            }
        }
        return FloatPlane(width: width, height: height, values: values)
    }

    @Test(arguments: ResizeFilter.allCases)
    func aConstantPlaneStaysConstant(_ filter: ResizeFilter) {
        let plane = FloatPlane(width: 40, height: 30, repeating: 77.5)
        for (w, h) in [(30, 23), (13, 10), (40, 17), (21, 30)] {
            let out = Resize.resample(plane, toWidth: w, toHeight: h, filter: filter)
            #expect(out.width == w && out.height == h)
            #expect(out.values.allSatisfy { abs($0 - 77.5) < 1e-3 }, "\(filter) to \(w)×\(h)")
        }
    }

    /// Bicubic is MATLAB's `imresize`, which `matlabBicubic` reproduces bit for bit in Double: the float version
    /// agrees to float precision.
    @Test func bicubicIsMatlabsImresize() {
        let plane = Self.plane(width: 53, height: 41)
        for (w, h) in [(40, 31), (18, 14), (53, 20), (37, 41)] {
            let float = Resize.resample(plane, toWidth: w, toHeight: h, filter: .bicubic)
            let double = Resize.matlabBicubic(
                plane.values.map(Double.init), width: 53, height: 41, toWidth: w, toHeight: h)
            let worst = zip(float.values, double).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 2e-3, "\(w)×\(h): \(worst)")
        }
    }

    /// Area at exactly half the size is the mean of each 2×2 block.
    @Test func areaAtHalfSizeIsTheMeanOfEachBlock() {
        let plane = Self.plane(width: 24, height: 18)
        let out = Resize.resample(plane, toWidth: 12, toHeight: 9, filter: .area)
        for y in 0..<9 {
            for x in 0..<12 {
                let mean =
                    (plane[x: 2 * x, y: 2 * y] + plane[x: 2 * x + 1, y: 2 * y] + plane[x: 2 * x, y: 2 * y + 1]
                        + plane[x: 2 * x + 1, y: 2 * y + 1]) / 4
                #expect(abs(out[x: x, y: y] - mean) < 1e-3, "(\(x), \(y))")
            }
        }
    }

    /// Lanczos-3 away from the borders against the textbook sum: output sample j sits at input position
    /// (j + ½)/s − ½ and takes s·L₃(s·d) of every input sample at distance d, normalised.
    @Test func lanczos3MatchesTheDefinitionInsideThePicture() {
        let width = 60
        let row = (0..<width).map { Float(128 + 100 * sin(Double($0) * 0.45)) }
        let plane = FloatPlane(width: width, height: 1, values: row)
        let outWidth = 45
        let out = Resize.resample(plane, toWidth: outWidth, toHeight: 1, filter: .lanczos3)
        let s = Double(outWidth) / Double(width)
        func lanczos3(_ x: Double) -> Double {
            if x == 0 { return 1 }
            guard abs(x) < 3 else { return 0 }
            return 3 * sin(Double.pi * x) * sin(Double.pi * x / 3) / (Double.pi * Double.pi * x * x)
        }
        for j in 6..<(outWidth - 6) {
            let u = (Double(j) + 0.5) / s - 0.5
            var sum = 0.0
            var weights = 0.0
            for i in 0..<width {
                let w = s * lanczos3(s * (u - Double(i)))
                sum += w * Double(row[i])
                weights += w
            }
            #expect(abs(Double(out[x: j, y: 0]) - sum / weights) < 1e-2, "sample \(j)")
        }
    }

    @Test(arguments: ResizeFilter.allCases)
    func aSizeThatIsKeptIsLeftAlone(_ filter: ResizeFilter) {
        let plane = Self.plane(width: 20, height: 16)
        #expect(Resize.resample(plane, toWidth: 20, toHeight: 16, filter: filter) == plane)
        // Only the width changes: every column is resampled, rows untouched in count.
        let narrow = Resize.resample(plane, toWidth: 15, toHeight: 16, filter: filter)
        #expect(narrow.width == 15 && narrow.height == 16)
    }
}
