import Foundation
@testable import Kernels
import Tensor
import TestSupport
import Testing

@Suite struct WinogradTests {
    /// Image sizes, channel counts and paddings, including 1×1 images, channel counts that are not multiples of 16
    /// and images smaller than one tile.
    static let cases: [(h: Int, w: Int, ci: Int, co: Int, padding: Padding)] = [
        (1, 1, 3, 5, .same), (2, 3, 1, 16, .same), (7, 5, 5, 17, .same), (13, 17, 16, 16, .same),
        (37, 29, 27, 33, .same), (9, 11, 64, 64, .same), (13, 17, 33, 3, .valid), (7, 5, 17, 27, .valid),
        (3, 3, 16, 1, .valid), (20, 14, 64, 48, .valid), (11, 8, 3, 64, .asymmetric), (25, 31, 17, 80, .same),
        (19, 23, 52, 52, .same),
    ]

    enum Padding: Sendable {
        case same
        case valid
        /// Top 1, left 0, bottom 0, right 1.
        case asymmetric

        func geometry(ci: Int, co: Int) -> ConvolutionGeometry {
            switch self {
            case .same: .same(kernelHeight: 3, kernelWidth: 3, inputChannels: ci, outputChannels: co)
            case .valid:
                ConvolutionGeometry(
                    kernelHeight: 3,
                    kernelWidth: 3,
                    inputChannels: ci,
                    outputChannels: co,
                    padTop: 0,
                    padLeft: 0,
                    padBottom: 0,
                    padRight: 0
                )
            case .asymmetric:
                ConvolutionGeometry(
                    kernelHeight: 3,
                    kernelWidth: 3,
                    inputChannels: ci,
                    outputChannels: co,
                    padTop: 1,
                    padLeft: 0,
                    padBottom: 0,
                    padRight: 1
                )
            }
        }
    }

    /// Relative to `Σ|x·w|` of each output: rounding in the transforms grows with the magnitude of the terms, not of
    /// their (possibly cancelling) sum. F(6, 3)'s larger transform coefficients cost about one decimal digit.
    static func tolerance(_ tileSize: WinogradConvolution.TileSize) -> Float {
        tileSize == .f4x4 ? 1e-5 : 5e-5
    }

    @Test(arguments: 0..<cases.count, WinogradConvolution.TileSize.allCases)
    func winogradMatchesReference(case index: Int, tileSize: WinogradConvolution.TileSize) throws {
        let c = Self.cases[index]
        var rng = SeededGenerator(seed: UInt64(1000 + index))
        let geometry = c.padding.geometry(ci: c.ci, co: c.co)
        let input = Tensor(shape: [1, c.h, c.w, c.ci], scalars: rng.floats(c.h * c.w * c.ci))
        let weights = Tensor(shape: [3, 3, c.ci, c.co], scalars: rng.floats(9 * c.ci * c.co))
        let outShape = geometry.outputShape(height: c.h, width: c.w)
        let residual = Tensor(shape: outShape.nhwc, scalars: rng.floats(max(0, outShape.elementCount)))
        let magnitudes = ReferenceKernels.convolution(
            Self.absolute(input),
            weights: Self.absolute(weights),
            geometry: geometry
        )
        for epilogue in Self.epilogues(channels: c.co, using: &rng) {
            let expected = ReferenceKernels.convolution(
                input,
                weights: weights,
                geometry: geometry,
                epilogue: epilogue,
                residual: residual
            )
            let fast = WinogradConvolution(
                weights: weights,
                geometry: geometry,
                epilogue: epilogue,
                tileSize: tileSize
            )
            let actual = fast(input, residual: epilogue.addsResidual ? residual : nil)
            #expect(actual.shape == expected.shape)
            let scale = max(1, abs(epilogue.scale ?? 1))
            let rtol = Self.tolerance(tileSize)
            var worst: (excess: Float, index: Int) = (0, -1)
            for i in 0..<expected.count {
                let allowed = rtol * magnitudes.scalars[i] * scale + 1e-6 * abs(expected.scalars[i])
                let excess = abs(actual.scalars[i] - expected.scalars[i]) - allowed
                if excess > worst.excess { worst = (excess, i) }
            }
            #expect(
                worst.index < 0,
                "\(c) \(tileSize) \(epilogue): output \(worst.index) off by \(worst.excess) more than allowed"
            )
        }
    }

    @Test func winogradMatricesComputeTheCorrelationExactly() {
        var rng = SeededGenerator(seed: 5)
        for m in [4, 6] {
            let matrices = WinogradMatrices(outputSize: m)
            let alpha = matrices.inputSize
            for _ in 0..<20 {
                let d = (0..<alpha).map { _ in Double.random(in: -1...1, using: &rng) }
                let g = (0..<3).map { _ in Double.random(in: -1...1, using: &rng) }
                var product = [Double](repeating: 0, count: alpha)
                for j in 0..<alpha {
                    var filtered = 0.0
                    for k in 0..<3 { filtered += matrices.filterTransform[j][k] * g[k] }
                    var transformed = 0.0
                    for k in 0..<alpha { transformed += matrices.inputTransform[j][k] * d[k] }
                    product[j] = filtered * transformed
                }
                for i in 0..<m {
                    var y = 0.0
                    for j in 0..<alpha { y += matrices.outputTransform[i][j] * product[j] }
                    var direct = 0.0
                    for k in 0..<3 { direct += d[i + k] * g[k] }
                    #expect(abs(y - direct) < 1e-12, "F(\(m), 3) output \(i): \(y) vs \(direct)")
                }
            }
        }
        // The published matrices: F(6, 3)'s first row of Bᵀ and G's rows for the points ±1/2.
        let f6 = WinogradMatrices(outputSize: 6)
        #expect(f6.inputTransform[0] == [1, 0, -5.25, 0, 5.25, 0, -1, 0])
        #expect(f6.filterTransform[5].map { ($0 * 180).rounded() } == [4, 2, 1])
        #expect(WinogradMatrices(outputSize: 4).inputTransform[0] == [4, 0, -5, 0, 1, 0])
    }

    /// Both micro-kernels, whichever one this build's Winograd runs (6 × 32 with AVX-512, two 6 × 16 passes with
    /// AVX2), give each sum exactly the scalar fused multiply-adds over the depth, in order, and store only `rows`.
    @Test(arguments: [1, 3, 6], [1, 7, 40])
    func microKernelsAreTheScalarFusedSums(rows: Int, depth: Int) {
        var rng = SeededGenerator(seed: UInt64(rows * 100 + depth))
        let rowStride = depth + 3
        let v = rng.floats(6 * rowStride)
        let u = rng.floats(32 * depth)  // [block][k][16 lanes]
        let targetStride = 40
        let sentinel: Float = -12345
        var wide = [Float](repeating: sentinel, count: 6 * targetStride)
        var narrow = wide
        v.withUnsafeBufferPointer { v in
            u.withUnsafeBufferPointer { u in
                let u0 = u.baseAddress!, u1 = u.baseAddress! + 16 * depth
                wide.withUnsafeMutableBufferPointer { t in
                    winogradKernel6x32(
                        v.baseAddress!, rowStride: rowStride, rows: rows, u0, u1, depth: depth, t.baseAddress!,
                        targetStride: targetStride)
                }
                narrow.withUnsafeMutableBufferPointer { t in
                    winogradKernel6x16(
                        v.baseAddress!, rowStride: rowStride, rows: rows, u0, depth: depth, t.baseAddress!,
                        targetStride: targetStride)
                    winogradKernel6x16(
                        v.baseAddress!, rowStride: rowStride, rows: rows, u1, depth: depth, t.baseAddress! + 16,
                        targetStride: targetStride)
                }
            }
        }
        var expected = [Float](repeating: sentinel, count: 6 * targetStride)
        for r in 0..<rows {
            for c in 0..<32 {
                var sum: Float = 0
                for k in 0..<depth {
                    sum = sum.addingProduct(v[r * rowStride + k], u[(c / 16) * 16 * depth + k * 16 + c % 16])
                }
                expected[r * targetStride + c] = sum
            }
        }
        #expect(wide == expected)
        #expect(narrow == expected)
    }

    /// The short last group of channels: `partialVector` reads exactly `count` values (zeros after) and
    /// `storeChannels` writes exactly `count`, for every count a group can have.
    @Test func partialLoadsAndStoresTouchOnlyTheirChannels() {
        let source = (0..<32).map { Float($0) + 0.5 }
        let value = WinogradVector((0..<16).map { -Float($0) - 1 })
        for count in 0..<16 {
            let loaded = source.withUnsafeBufferPointer { partialVector($0.baseAddress! + 3, count: count) }
            #expect((0..<16).map { loaded[$0] } == (0..<16).map { $0 < count ? source[3 + $0] : 0 })
            var target = [Float](repeating: 7, count: 32)
            target.withUnsafeMutableBufferPointer { storeChannels(value, $0.baseAddress! + 5, count: count) }
            #expect(target == (0..<32).map { (5..<(5 + count)).contains($0) ? value[$0 - 5] : 7 })
        }
    }

    @Test func winogradIsBitIdenticalAcrossRunsAndThreadCounts() {
        var rng = SeededGenerator(seed: 17)
        let g = ConvolutionGeometry.same(kernelHeight: 3, kernelWidth: 3, inputChannels: 40, outputChannels: 56)
        let weights = Tensor(shape: [3, 3, 40, 56], scalars: rng.floats(9 * 40 * 56))
        let epilogue = ConvolutionEpilogue(bias: rng.floats(56), activation: .leakyReLU(slope: 0.1), scale: 0.5)
        // 31 × 26: two to four blocks; 75 × 64: 143 tiles of 6 × 6 in 6 blocks, 304 of 4 × 4 in 13.
        for (height, width) in [(31, 26), (75, 64)] {
            let input = Tensor(shape: [1, height, width, 40], scalars: rng.floats(height * width * 40))
            for tileSize in WinogradConvolution.TileSize.allCases {
                let conv = WinogradConvolution(weights: weights, geometry: g, epilogue: epilogue, tileSize: tileSize)
                let first = conv(input, pool: ComputePool(threadCount: 2))
                #expect(conv(input, pool: ComputePool(threadCount: 2)).scalars == first.scalars)
                #expect(conv(input, pool: ComputePool(threadCount: 1)).scalars == first.scalars)
                #expect(conv(input, pool: ComputePool(threadCount: 3)).scalars == first.scalars)
            }
        }
    }

    /// Blocks are a multiple of 6 tiles, near 24, at least one per thread when tiles suffice, spread evenly.
    @Test(arguments: [1, 2, 3, 8])
    func blocksAreWholeMicroKernelPassesSpreadEvenly(threads: Int) {
        for tileCount in [1, 5, 6, 7, 13, 48, 100, 143, 1849, 10_000] {
            let size = WinogradConvolution.tilesPerBlock(tileCount: tileCount, threads: threads)
            let blocks = (tileCount + size - 1) / size
            #expect(size % 6 == 0 && size >= 6 && size <= 30, "\(tileCount) tiles: \(size)")
            if tileCount >= 6 * threads {
                #expect(blocks >= threads, "\(tileCount) tiles, \(threads) threads: \(blocks) blocks of \(size)")
            }
            // The busiest thread has at most one block more than an even share.
            let busiest = min(tileCount, (blocks + threads - 1) / threads * size)
            #expect(busiest <= (tileCount + threads - 1) / threads + size, "\(tileCount) tiles: \(blocks) × \(size)")
        }
    }

    @Test func weightPaletteDecodesEveryBitPattern() {
        var rng = SeededGenerator(seed: 31)
        let levels = rng.floats(254) + [0, -0.0]
        var weights = (0..<5000).map { _ in levels[Int(rng.next() % 256)] }
        weights[17] = -0.0
        let palette = WeightPalette(weights)!
        #expect(palette.values.count <= 256)
        var decoded = [Float](repeating: .nan, count: weights.count)
        decoded.withUnsafeMutableBufferPointer { palette.decode(0..<weights.count, into: $0.baseAddress!) }
        #expect(decoded.map(\.bitPattern) == weights.map(\.bitPattern))
        #expect(WeightPalette(rng.floats(1000)) == nil, "a thousand random floats have more than 256 values")
    }

    /// Transformed weights kept, or rebuilt at each call from the plain weights or (when they take at most 256 values,
    /// like EDSR's quantized ones) from their one-byte palette codes: the same results.
    @Test(arguments: [false, true])
    func winogradKeptAndRebuiltWeightsGiveIdenticalResults(quantized: Bool) {
        var rng = SeededGenerator(seed: 23)
        let g = ConvolutionGeometry.same(kernelHeight: 3, kernelWidth: 3, inputChannels: 35, outputChannels: 20)
        let input = Tensor(shape: [1, 15, 19, 35], scalars: rng.floats(15 * 19 * 35))
        var values = rng.floats(9 * 35 * 20)
        if quantized { values = values.map { ($0 * 100).rounded() / 100 } }  // 201 levels at most
        let weights = Tensor(shape: [3, 3, 35, 20], scalars: values)
        #expect((WeightPalette(values) != nil) == quantized)
        let epilogue = ConvolutionEpilogue(bias: rng.floats(20), activation: .relu)
        for tileSize in WinogradConvolution.TileSize.allCases {
            let kept = WinogradConvolution(
                weights: weights,
                geometry: g,
                epilogue: epilogue,
                tileSize: tileSize,
                keepsTransformedWeights: true
            )
            let rebuilt = WinogradConvolution(
                weights: weights,
                geometry: g,
                epilogue: epilogue,
                tileSize: tileSize,
                keepsTransformedWeights: false
            )
            let expected = kept(input).scalars
            #expect(rebuilt(input).scalars == expected)
            // Twice, so the second call reuses the scratch memory of the first.
            #expect(rebuilt(input).scalars == expected)
        }
    }

    @Test func winogradCallerBuffersAndInPlaceResidual() {
        var rng = SeededGenerator(seed: 29)
        let g = ConvolutionGeometry.same(kernelHeight: 3, kernelWidth: 3, inputChannels: 24, outputChannels: 24)
        let input = Tensor(shape: [1, 14, 9, 24], scalars: rng.floats(14 * 9 * 24))
        let weights = Tensor(shape: [3, 3, 24, 24], scalars: rng.floats(9 * 24 * 24))
        let residual = Tensor(shape: [1, 14, 9, 24], scalars: rng.floats(14 * 9 * 24))
        let epilogue = ConvolutionEpilogue(bias: rng.floats(24), scale: 0.1, addsResidual: true)
        for keeps in [true, false] {
            let conv = WinogradConvolution(
                weights: weights,
                geometry: g,
                epilogue: epilogue,
                keepsTransformedWeights: keeps
            )
            let expected = conv(input, residual: residual).scalars
            // Separate residual buffer, output into a caller buffer.
            var output = [Float](repeating: .nan, count: expected.count)
            input.scalars.withUnsafeBufferPointer { x in
                residual.scalars.withUnsafeBufferPointer { r in
                    output.withUnsafeMutableBufferPointer { y in
                        conv.run(input: x, height: 14, width: 9, output: y, residual: r)
                    }
                }
            }
            #expect(output == expected)
            // In place: the output buffer holds the residual and receives conv(x) + residual.
            var inPlace = residual.scalars
            input.scalars.withUnsafeBufferPointer { x in
                inPlace.withUnsafeMutableBufferPointer { y in
                    conv.run(input: x, height: 14, width: 9, output: y, residual: UnsafeBufferPointer(y))
                }
            }
            #expect(inPlace == expected)
        }
    }

    /// EDSR's body convolution (256 → 256, He-initialised weights, unit-variance inputs) against sums in Double.
    /// Measured: mean error 1.9e-6 (F4) and 3.9e-6 (F6) of the outputs' RMS (direct float summation: 5.8e-7), worst
    /// error 2.4e-6 and 5.1e-6 of `Σ|x·w|`.
    @Test func winogradAccuracyOnAnEDSRLikeLayer() {
        var rng = SeededGenerator(seed: 31)
        let channels = 256
        let (h, w) = (12, 13)
        let g = ConvolutionGeometry.same(
            kernelHeight: 3,
            kernelWidth: 3,
            inputChannels: channels,
            outputChannels: channels
        )
        let input = Tensor(shape: [1, h, w, channels], scalars: Self.gaussians(h * w * channels, sigma: 1, &rng))
        let heSigma = (2.0 / Double(9 * channels)).squareRoot()
        let weights = Tensor(
            shape: [3, 3, channels, channels],
            scalars: Self.gaussians(9 * channels * channels, sigma: heSigma, &rng)
        )
        let (exact, magnitudes) = Self.exactConvolution(input, weights, g)
        let scaleOfOutputs = (exact.reduce(0) { $0 + $1 * $1 } / Double(exact.count)).squareRoot()
        let bounds: [(WinogradConvolution.TileSize, mean: Double, worst: Double)] = [
            (.f4x4, 5e-6, 1e-5), (.f6x6, 1e-5, 2e-5),
        ]
        for (tileSize, meanBound, worstBound) in bounds {
            let actual = WinogradConvolution(
                weights: weights,
                geometry: g,
                epilogue: ConvolutionEpilogue(),
                tileSize: tileSize
            )(input)
            var sum = 0.0
            var worst = 0.0
            for i in 0..<exact.count {
                let error = abs(Double(actual.scalars[i]) - exact[i])
                sum += error / scaleOfOutputs
                worst = max(worst, error / magnitudes[i])
            }
            let mean = sum / Double(exact.count)
            #expect(mean < meanBound, "\(tileSize): mean error \(mean) of the outputs' RMS")
            #expect(worst < worstBound, "\(tileSize): worst error \(worst) of Σ|x·w|")
        }
    }

    // MARK: - Helpers

    static func epilogues(channels co: Int, using rng: inout SeededGenerator) -> [ConvolutionEpilogue] {
        [
            ConvolutionEpilogue(),
            ConvolutionEpilogue(bias: rng.floats(co)),
            ConvolutionEpilogue(bias: rng.floats(co), activation: .relu),
            ConvolutionEpilogue(activation: .leakyReLU(slope: 0.2)),
            ConvolutionEpilogue(bias: rng.floats(co), activation: .prelu(slopes: rng.floats(co, in: 0...0.5))),
            ConvolutionEpilogue(bias: rng.floats(co), scale: 0.1, addsResidual: true),
            ConvolutionEpilogue(activation: .relu, scale: 2, addsResidual: true),
            ConvolutionEpilogue(bias: rng.floats(co), activation: .swish),
        ]
    }

    static func absolute(_ tensor: Tensor) -> Tensor {
        Tensor(shape: tensor.shape, scalars: tensor.scalars.map(abs))
    }

    static func gaussians(_ count: Int, sigma: Double, _ rng: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in
            let u = Double.random(in: Double.ulpOfOne..<1, using: &rng)
            let v = Double.random(in: 0..<1, using: &rng)
            return Float(sigma * (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
        }
    }

    /// The convolution without epilogue summed in Double, and `Σ|x·w|` of each output.
    static func exactConvolution(
        _ input: Tensor,
        _ weights: Tensor,
        _ g: ConvolutionGeometry
    ) -> (sums: [Double], magnitudes: [Double]) {
        let (h, w) = (input.shape[1], input.shape[2])
        let out = g.outputShape(height: h, width: w)
        let (ci, co) = (g.inputChannels, g.outputChannels)
        var result = [Double](repeating: 0, count: out.elementCount)
        var magnitudes = [Double](repeating: 0, count: out.elementCount)
        for y in 0..<out.height {
            for x in 0..<out.width {
                for ky in 0..<3 {
                    let iy = y + ky - g.padTop
                    guard iy >= 0 && iy < h else { continue }
                    for kx in 0..<3 {
                        let ix = x + kx - g.padLeft
                        guard ix >= 0 && ix < w else { continue }
                        for c in 0..<ci {
                            let a = Double(input.scalars[(iy * w + ix) * ci + c])
                            let weightBase = ((ky * 3 + kx) * ci + c) * co
                            let outBase = (y * out.width + x) * co
                            for o in 0..<co {
                                let product = a * Double(weights.scalars[weightBase + o])
                                result[outBase + o] += product
                                magnitudes[outBase + o] += abs(product)
                            }
                        }
                    }
                }
            }
        }
        return (result, magnitudes)
    }
}
