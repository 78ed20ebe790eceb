import Testing

import Imaging

/// The resizes of a streamed picture: rows of OpenCV's resizes on their own, and MATLAB's resample fed a band of
/// rows at a time, give exactly the values of the whole-plane result.
struct BandedResizeTests {
    /// Cuts `0..<count` into consecutive bands of varied sizes (1 up to `largest` rows).
    static func bands(_ count: Int, largest: Int, seed: Int) -> [Range<Int>] {
        var bands: [Range<Int>] = []
        var start = 0
        var step = seed
        while start < count {
            step = (step * 7 + 3) % largest + 1
            let end = min(count, start + step)
            bands.append(start..<end)
            start = end
        }
        return bands
    }

    @Test(arguments: [(40, 30, 120, 90), (17, 23, 51, 69), (9, 5, 20, 11), (33, 33, 66, 66)])
    func openCVRowsAreTheRowsOfTheWholeResult(_ size: (Int, Int, Int, Int)) {
        let (width, height, toWidth, toHeight) = size
        let plane = ResizeFilterTests.plane(width: width, height: height)
        let wholeCubic = Resize.openCVCubic(plane, toWidth: toWidth, toHeight: toHeight).values
        let wholeIPP = Resize.openCVLinear(plane, toWidth: toWidth, toHeight: toHeight).values
        let wholeNative = Resize.openCVLinear(plane, toWidth: toWidth, toHeight: toHeight, backend: .native).values
        for rows in Self.bands(toHeight, largest: 13, seed: width) {
            let slice = Array((rows.lowerBound * toWidth)..<(rows.upperBound * toWidth))
            let cubic = Resize.openCVCubic(plane, toWidth: toWidth, toHeight: toHeight, rows: rows)
            #expect(cubic.height == rows.count && cubic.values == slice.map { wholeCubic[$0] }, "cubic \(rows)")
            let ipp = Resize.openCVLinear(plane, toWidth: toWidth, toHeight: toHeight, rows: rows)
            #expect(ipp.values == slice.map { wholeIPP[$0] }, "IPP bilinear \(rows)")
            let native = Resize.openCVLinear(plane, toWidth: toWidth, toHeight: toHeight, rows: rows, backend: .native)
            #expect(native.values == slice.map { wholeNative[$0] }, "native bilinear \(rows)")
        }
    }

    /// Shrinks taller than wide and wider than tall (the two pass orders), one dimension kept, and both.
    @Test(arguments: ResizeFilter.allCases)
    func rowsFedInBandsGiveTheWholeResample(_ filter: ResizeFilter) {
        let cases = [(120, 90, 90, 67), (90, 120, 80, 77), (64, 48, 64, 30), (64, 48, 41, 48), (64, 48, 64, 48)]
        for (width, height, toWidth, toHeight) in cases {
            let plane = ResizeFilterTests.plane(width: width, height: height)
            let whole = Resize.resample(plane, toWidth: toWidth, toHeight: toHeight, filter: filter).values
            var resampler = RowResampler(width: width, height: height, toWidth: toWidth, toHeight: toHeight, filter: filter)
            var streamed: [Float] = []
            for rows in Self.bands(height, largest: 17, seed: toWidth) {
                streamed += resampler.push(Array(plane.values[(rows.lowerBound * width)..<(rows.upperBound * width)]))
            }
            #expect(resampler.isFinished)
            #expect(streamed == whole, "\(width)×\(height) → \(toWidth)×\(toHeight)")
        }
    }

    @Test func rowsComeAsSoonAsTheirSourceRowsHaveArrived() {
        // Bicubic from 100 rows to 50: output row j reads source rows up to about 2j + 4.
        let plane = ResizeFilterTests.plane(width: 10, height: 100)
        var resampler = RowResampler(width: 10, height: 100, toWidth: 10, toHeight: 50, filter: .bicubic)
        let first = resampler.push(Array(plane.values[0..<(20 * 10)]))
        #expect(first.count / 10 >= 7 && first.count / 10 <= 9, "\(first.count / 10) rows out of 20 source rows")
        let rest = resampler.push(Array(plane.values[(20 * 10)...]))
        #expect((first.count + rest.count) / 10 == 50)
    }
}
