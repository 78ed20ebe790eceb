// OpenCV's `cv::resize` on one CV_32F channel, reproduced to the bit: bilinear (both the Intel IPP routine that
// OpenCV's x86-64 wheels call and OpenCV's own C++ code) and bicubic. MATLAB's imresize lives in Resize+Matlab.swift.

/// Resampling of single-channel float planes, as OpenCV and MATLAB compute it.
///
/// Output-size convention (OpenCV): `cv::resize(src, dst, Size(toWidth, toHeight))`; with an integer `scale`,
/// `toWidth = width * scale`, `toHeight = height * scale`, which is what `cv::resize(src, dst, Size(), scale, scale)`
/// gives. Output sample `d` samples the source at `(d + 0.5) * (inputLength / outputLength) - 0.5`.
package enum Resize {
    /// Which implementation of `cv::resize` on CV_32F data to reproduce.
    package enum OpenCVBackend: Sendable, Hashable, CaseIterable {
        /// Intel IPP's resize, which OpenCV's x86-64 builds with IPP (the pip wheels, and so the parity references)
        /// call for CV_32F bilinear resizing whenever the source is at least 2×2. It interpolates
        /// `fma(S1 - S0, t, S0)` along rows, then the same down the columns, with `t` the fraction of the source
        /// coordinate computed in double precision and replicated borders. Falls back to `.native`, as OpenCV does,
        /// for sources one pixel wide or high.
        case intelIPP
        /// OpenCV's own C++ code (builds without IPP): `t` rounded to float as `(float)((d + 0.5) * scale - 0.5)`
        /// minus its floor, rows `S0 * (1 - t) + S1 * t`, then columns the same, each product rounded separately.
        /// OpenCV switches an exact 2× shrink in both directions to INTER_AREA; that case is not reproduced.
        case native
    }

    // MARK: - OpenCV bilinear

    /// `cv::resize(src, dst, Size(toWidth, toHeight))` with INTER_LINEAR on CV_32F, bit for bit; only the output
    /// rows `rows` when given (the same values as those rows of the whole result: a band of a streamed picture).
    package static func openCVLinear(
        _ plane: FloatPlane,
        toWidth: Int,
        toHeight: Int,
        rows: Range<Int>? = nil,
        backend: OpenCVBackend = .intelIPP,
        part: PlanePart? = nil
    ) -> FloatPlane {
        precondition(plane.width > 0 && plane.height > 0, "cannot resize an empty \(plane.width)×\(plane.height) plane")
        precondition(toWidth > 0 && toHeight > 0, "cannot resize to \(toWidth)×\(toHeight)")
        let rows = rows ?? 0..<toHeight
        precondition(rows.lowerBound >= 0 && rows.upperBound <= toHeight, "rows \(rows) outside 0..<\(toHeight)")
        let part = part ?? PlanePart(firstRow: 0, wholeHeight: plane.height)
        if backend == .intelIPP && plane.width >= 2 && part.wholeHeight >= 2 {
            return ippLinear(plane, toWidth: toWidth, toHeight: toHeight, rows: rows, part: part)
        }
        return nativeLinear(plane, toWidth: toWidth, toHeight: toHeight, rows: rows, part: part)
    }

    /// `cv::resize(src, dst, Size(), scale, scale)` with INTER_LINEAR on CV_32F: the call dnn_superres makes to
    /// enlarge the Cr and Cb channels. Output `width * scale` × `height * scale`.
    package static func openCVLinear(_ plane: FloatPlane, scale: Int, backend: OpenCVBackend = .intelIPP) -> FloatPlane {
        precondition(scale > 0, "scale \(scale) is not positive")
        return openCVLinear(plane, toWidth: plane.width * scale, toHeight: plane.height * scale, backend: backend)
    }

    // MARK: - OpenCV bicubic

    /// `cv::resize(src, dst, Size(toWidth, toHeight), 0, 0, INTER_CUBIC)` on CV_32F as OpenCV's own C++ code
    /// computes it (Keys cubic, A = -0.75, replicated borders), bit for bit.
    ///
    /// OpenCV's x86-64 wheels route this through Intel IPP, whose weights round differently: its results differ
    /// from these by a few float ulps (under 3e-6 on data in 0...1). Only the output rows `rows` when given.
    package static func openCVCubic(
        _ plane: FloatPlane, toWidth: Int, toHeight: Int, rows: Range<Int>? = nil, part: PlanePart? = nil
    ) -> FloatPlane {
        precondition(plane.width > 0 && plane.height > 0, "cannot resize an empty \(plane.width)×\(plane.height) plane")
        precondition(toWidth > 0 && toHeight > 0, "cannot resize to \(toWidth)×\(toHeight)")
        let rows = rows ?? 0..<toHeight
        precondition(rows.lowerBound >= 0 && rows.upperBound <= toHeight, "rows \(rows) outside 0..<\(toHeight)")
        return nativeCubic(
            plane, toWidth: toWidth, toHeight: toHeight, rows: rows,
            part: part ?? PlanePart(firstRow: 0, wholeHeight: plane.height))
    }

    /// The rows of a plane `sourceHeight` tall that `openCVLinear` or `openCVCubic` read to make the output rows
    /// `rows` of a `toHeight` result (a little more than they read): the part of a streamed plane to hold.
    package static func sourceRows(for rows: Range<Int>, from sourceHeight: Int, to toHeight: Int) -> Range<Int> {
        guard !rows.isEmpty else { return 0..<0 }
        let scale = Double(sourceHeight) / Double(toHeight)
        let first = Int(((Double(rows.lowerBound) + 0.5) * scale - 0.5).rounded(.down)) - 2
        let last = Int(((Double(rows.upperBound - 1) + 0.5) * scale - 0.5).rounded(.down)) + 3
        return max(first, 0)..<min(max(last, 0) + 1, sourceHeight)
    }

    /// `cv::resize(src, dst, Size(), scale, scale, INTER_CUBIC)` on CV_32F (see `openCVCubic(_:toWidth:toHeight:)`).
    package static func openCVCubic(_ plane: FloatPlane, scale: Int) -> FloatPlane {
        precondition(scale > 0, "scale \(scale) is not positive")
        return openCVCubic(plane, toWidth: plane.width * scale, toHeight: plane.height * scale)
    }

    // MARK: - IPP bilinear

    /// Per output position: the two clamped source indices and the float fraction, as IPP computes them.
    private static func ippLinearTable(input: Int, output: Int) -> (lower: [Int], upper: [Int], fraction: [Float]) {
        let ratio = Double(input) / Double(output)
        var lower = [Int](repeating: 0, count: output)
        var upper = [Int](repeating: 0, count: output)
        var fraction = [Float](repeating: 0, count: output)
        for d in 0..<output {
            let coordinate = (Double(d) + 0.5) * ratio - 0.5
            let whole = coordinate.rounded(.down)
            let index = Int(whole)
            lower[d] = min(max(index, 0), input - 1)
            upper[d] = min(max(index + 1, 0), input - 1)
            fraction[d] = Float(coordinate - whole)
        }
        return (lower, upper, fraction)
    }

    private static func ippLinear(
        _ plane: FloatPlane, toWidth: Int, toHeight: Int, rows outputRows: Range<Int>, part: PlanePart
    ) -> FloatPlane {
        let (sw, sh) = (plane.width, part.wholeHeight)
        let columns = ippLinearTable(input: sw, output: toWidth)
        let rows = ippLinearTable(input: sh, output: toHeight)
        // The source rows the output rows read (all of them for the whole result).
        let first = outputRows.isEmpty ? 0 : rows.lower[outputRows].min()!
        let end = outputRows.isEmpty ? 0 : rows.upper[outputRows].max()! + 1
        part.check(first..<end, in: plane)

        // Rows first: every source row read interpolated to the output width.
        var horizontal = [Float](repeating: 0, count: (end - first) * toWidth)
        plane.values.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { dst in
                columns.lower.withUnsafeBufferPointer { x0 in
                    columns.upper.withUnsafeBufferPointer { x1 in
                        columns.fraction.withUnsafeBufferPointer { t in
                            for y in first..<end {
                                let s = (y - part.firstRow) * sw, o = (y - first) * toWidth
                                for d in 0..<toWidth {
                                    let a = src[s + x0[d]], b = src[s + x1[d]]
                                    dst[o + d] = a.addingProduct(b - a, t[d])
                                }
                            }
                        }
                    }
                }
            }
        }

        // Then down the columns.
        let values = [Float](unsafeUninitializedCapacity: toWidth * outputRows.count) { out, initialised in
            horizontal.withUnsafeBufferPointer { h in
                for d in outputRows {
                    let r0 = (rows.lower[d] - first) * toWidth, r1 = (rows.upper[d] - first) * toWidth
                    let t = rows.fraction[d]
                    let o = (d - outputRows.lowerBound) * toWidth
                    for x in 0..<toWidth {
                        let a = h[r0 + x], b = h[r1 + x]
                        out[o + x] = a.addingProduct(b - a, t)
                    }
                }
            }
            initialised = toWidth * outputRows.count
        }
        return FloatPlane(width: toWidth, height: outputRows.count, values: values)
    }

    // MARK: - OpenCV's own bilinear

    /// OpenCV's `(float)((d + 0.5) * scale - 0.5)`, its floor and the float fraction left over.
    @inline(__always)
    private static func openCVSourcePosition(_ d: Int, scale: Double) -> (index: Int, fraction: Float) {
        let position = Float((Double(d) + 0.5) * scale - 0.5)
        let index = Int(position.rounded(.down))
        return (index, position - Float(index))
    }

    /// OpenCV's `scale` from `source` to `output` samples: resize() works from `inv_scale = dsize / ssize` and takes
    /// `scale = 1 / inv_scale`.
    @inline(__always)
    private static func openCVScale(from source: Int, to output: Int) -> Double {
        1 / (Double(output) / Double(source))
    }

    /// The source rows `first..<end` that the output rows `outputRows` read through the taps `taps` around each
    /// one's source position (clamped to the whole plane's rows); traps unless `plane` holds them.
    private static func openCVSourceRows(
        _ outputRows: Range<Int>, taps: ClosedRange<Int>, scaleY: Double, plane: FloatPlane, part: PlanePart
    ) -> (first: Int, end: Int) {
        let sourceRow = { (d: Int, k: Int) in
            min(max(openCVSourcePosition(d, scale: scaleY).index + k, 0), part.wholeHeight - 1)
        }
        let first = outputRows.isEmpty ? 0 : sourceRow(outputRows.lowerBound, taps.lowerBound)
        let end = outputRows.isEmpty ? 0 : sourceRow(outputRows.upperBound - 1, taps.upperBound) + 1
        part.check(first..<end, in: plane)
        return (first, end)
    }

    private static func nativeLinear(
        _ plane: FloatPlane, toWidth: Int, toHeight: Int, rows outputRows: Range<Int>, part: PlanePart
    ) -> FloatPlane {
        let (sw, sh) = (plane.width, part.wholeHeight)
        let scaleX = openCVScale(from: sw, to: toWidth), scaleY = openCVScale(from: sh, to: toHeight)

        // Column table: left source index, weights, and xmax (from there on, copy the clamped source sample).
        var xIndex = [Int](repeating: 0, count: toWidth)
        var xWeights = [Float](repeating: 0, count: 2 * toWidth)
        var xmax = toWidth
        for d in 0..<toWidth {
            var (sx, fx) = openCVSourcePosition(d, scale: scaleX)
            if sx < 0 {
                sx = 0
                fx = 0
            }
            if sx + 1 >= sw {
                xmax = min(xmax, d)
                if sx >= sw - 1 {
                    sx = sw - 1
                    fx = 0
                }
            }
            xIndex[d] = sx
            xWeights[2 * d] = 1 - fx
            xWeights[2 * d + 1] = fx
        }

        // The source rows the output rows read.
        let (first, end) = openCVSourceRows(outputRows, taps: 0...1, scaleY: scaleY, plane: plane, part: part)
        var horizontal = [Float](repeating: 0, count: (end - first) * toWidth)
        plane.values.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { dst in
                for y in first..<end {
                    let s = (y - part.firstRow) * sw, o = (y - first) * toWidth
                    for d in 0..<xmax {
                        let sx = s + xIndex[d]
                        dst[o + d] = src[sx] * xWeights[2 * d] + src[sx + 1] * xWeights[2 * d + 1]
                    }
                    for d in xmax..<toWidth {
                        dst[o + d] = src[s + xIndex[d]]
                    }
                }
            }
        }

        let values = [Float](unsafeUninitializedCapacity: toWidth * outputRows.count) { out, initialised in
            horizontal.withUnsafeBufferPointer { h in
                for d in outputRows {
                    let (sy, fy) = openCVSourcePosition(d, scale: scaleY)
                    let r0 = (min(max(sy, 0), sh - 1) - first) * toWidth
                    let r1 = (min(max(sy + 1, 0), sh - 1) - first) * toWidth
                    let b0 = 1 - fy, b1 = fy
                    let o = (d - outputRows.lowerBound) * toWidth
                    for x in 0..<toWidth {
                        out[o + x] = h[r0 + x] * b0 + h[r1 + x] * b1
                    }
                }
            }
            initialised = toWidth * outputRows.count
        }
        return FloatPlane(width: toWidth, height: outputRows.count, values: values)
    }

    // MARK: - OpenCV's own bicubic

    /// OpenCV's `interpolateCubic`: the four Keys weights (A = -0.75) for fraction `x`, in float, the last one
    /// taken as 1 minus the others.
    @inline(__always)
    private static func openCVCubicWeights(_ x: Float) -> (Float, Float, Float, Float) {
        let a: Float = -0.75
        let x1 = x + 1, xm = 1 - x
        let c0 = ((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a
        let c1 = ((a + 2) * x - (a + 3)) * x * x + 1
        let c2 = ((a + 2) * xm - (a + 3)) * xm * xm + 1
        let c3 = 1 - c0 - c1 - c2
        return (c0, c1, c2, c3)
    }

    private static func nativeCubic(
        _ plane: FloatPlane, toWidth: Int, toHeight: Int, rows outputRows: Range<Int>, part: PlanePart
    ) -> FloatPlane {
        let (sw, sh) = (plane.width, part.wholeHeight)
        let scaleX = openCVScale(from: sw, to: toWidth), scaleY = openCVScale(from: sh, to: toHeight)

        // Four clamped taps and four weights per output column.
        var xTaps = [Int](repeating: 0, count: 4 * toWidth)
        var xWeights = [Float](repeating: 0, count: 4 * toWidth)
        for d in 0..<toWidth {
            let (sx, fx) = openCVSourcePosition(d, scale: scaleX)
            let (w0, w1, w2, w3) = openCVCubicWeights(fx)
            for k in 0..<4 { xTaps[4 * d + k] = min(max(sx - 1 + k, 0), sw - 1) }
            xWeights[4 * d] = w0
            xWeights[4 * d + 1] = w1
            xWeights[4 * d + 2] = w2
            xWeights[4 * d + 3] = w3
        }

        // The source rows the output rows read.
        let (first, end) = openCVSourceRows(outputRows, taps: -1...2, scaleY: scaleY, plane: plane, part: part)
        var horizontal = [Float](repeating: 0, count: (end - first) * toWidth)
        plane.values.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { dst in
                xTaps.withUnsafeBufferPointer { taps in
                    xWeights.withUnsafeBufferPointer { w in
                        for y in first..<end {
                            let s = (y - part.firstRow) * sw, o = (y - first) * toWidth
                            for d in 0..<toWidth {
                                let k = 4 * d
                                // HResizeCubic sums left to right.
                                dst[o + d] =
                                    src[s + taps[k]] * w[k] + src[s + taps[k + 1]] * w[k + 1]
                                    + src[s + taps[k + 2]] * w[k + 2] + src[s + taps[k + 3]] * w[k + 3]
                            }
                        }
                    }
                }
            }
        }

        // VResizeCubicVec_32f handles whole groups of 4 floats as S0*b0 + (S1*b1 + (S2*b2 + S3*b3)); the last
        // `toWidth % 4` columns go through the scalar loop, which sums left to right.
        let vectorWidth = toWidth - toWidth % 4
        let values = [Float](unsafeUninitializedCapacity: toWidth * outputRows.count) { out, initialised in
            horizontal.withUnsafeBufferPointer { h in
                for d in outputRows {
                    let (sy, fy) = openCVSourcePosition(d, scale: scaleY)
                    let (b0, b1, b2, b3) = openCVCubicWeights(fy)
                    let r0 = (min(max(sy - 1, 0), sh - 1) - first) * toWidth
                    let r1 = (min(max(sy, 0), sh - 1) - first) * toWidth
                    let r2 = (min(max(sy + 1, 0), sh - 1) - first) * toWidth
                    let r3 = (min(max(sy + 2, 0), sh - 1) - first) * toWidth
                    let o = (d - outputRows.lowerBound) * toWidth
                    for x in 0..<vectorWidth {
                        out[o + x] = h[r0 + x] * b0 + (h[r1 + x] * b1 + (h[r2 + x] * b2 + h[r3 + x] * b3))
                    }
                    for x in vectorWidth..<toWidth {
                        out[o + x] = h[r0 + x] * b0 + h[r1 + x] * b1 + h[r2 + x] * b2 + h[r3 + x] * b3
                    }
                }
            }
            initialised = toWidth * outputRows.count
        }
        return FloatPlane(width: toWidth, height: outputRows.count, values: values)
    }
}

/// Which rows of a taller plane a `FloatPlane` holds: rows `firstRow..<firstRow + plane.height` of a plane
/// `wholeHeight` tall (a streamed picture's window). The resizes compute as on the whole plane.
package struct PlanePart: Sendable, Equatable {
    /// The whole plane's row that the part's row 0 is.
    package let firstRow: Int
    /// The whole plane's height.
    package let wholeHeight: Int

    /// Rows from `firstRow` of a plane `wholeHeight` tall.
    package init(firstRow: Int, wholeHeight: Int) {
        self.firstRow = firstRow
        self.wholeHeight = wholeHeight
    }

    /// Traps unless `plane` holds the whole plane's rows `rows` (a caller's mistake, never an input's).
    func check(_ rows: Range<Int>, in plane: FloatPlane) {
        precondition(
            rows.isEmpty || (rows.lowerBound >= firstRow && rows.upperBound <= firstRow + plane.height),
            "rows \(rows) are not in the part \(firstRow)..<\(firstRow + plane.height)")
    }
}
