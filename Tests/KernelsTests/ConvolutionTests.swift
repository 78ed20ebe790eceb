import Kernels
import Synchronization
import Tensor
import TestSupport
import Testing

@Suite struct ConvolutionTests {
    /// Random geometries, including odd sizes, even kernels, 1-channel inputs and channel counts that are not
    /// multiples of the SIMD width.
    static let geometries: [(h: Int, w: Int, kernel: Int, ci: Int, co: Int)] = [
        (7, 9, 3, 5, 5), (13, 11, 3, 12, 12), (6, 17, 5, 1, 56), (10, 8, 4, 64, 4), (9, 9, 1, 32, 5),
        (5, 23, 3, 3, 27), (8, 7, 3, 17, 33), (4, 4, 4, 1, 4), (3, 14, 3, 16, 16), (12, 13, 1, 5, 32),
        (3, 40, 3, 8, 1), (5, 33, 3, 4, 2), (4, 19, 5, 3, 9),
        // 1 × 1 with many channels (Real-CUGAN's folded strides and deconvolution phases), rows not a multiple of 6.
        (3, 17, 1, 64, 48), (2, 13, 1, 40, 256),
    ]

    @Test(arguments: 0..<geometries.count)
    func directMatchesReference(case index: Int) {
        let c = Self.geometries[index]
        var rng = SeededGenerator(seed: UInt64(100 + index))
        let geometry = ConvolutionGeometry.same(
            kernelHeight: c.kernel, kernelWidth: c.kernel, inputChannels: c.ci, outputChannels: c.co)
        let input = Tensor(shape: [1, c.h, c.w, c.ci], scalars: rng.floats(c.h * c.w * c.ci))
        let weights = Tensor(
            shape: [c.kernel, c.kernel, c.ci, c.co], scalars: rng.floats(c.kernel * c.kernel * c.ci * c.co))
        let epilogues: [ConvolutionEpilogue] = [
            ConvolutionEpilogue(),
            ConvolutionEpilogue(bias: rng.floats(c.co), activation: .relu),
            ConvolutionEpilogue(bias: rng.floats(c.co), activation: .prelu(slopes: rng.floats(c.co, in: 0...0.5))),
            ConvolutionEpilogue(bias: rng.floats(c.co), activation: .leakyReLU(slope: 0.2)),
            ConvolutionEpilogue(bias: rng.floats(c.co), scale: 0.1, addsResidual: true),
            ConvolutionEpilogue(bias: rng.floats(c.co), activation: .swish, scale: 0.5, addsResidual: true),
        ]
        for epilogue in epilogues {
            let outShape = geometry.outputShape(height: c.h, width: c.w)
            let residual = Tensor(shape: outShape.nhwc, scalars: rng.floats(outShape.elementCount))
            let expected = ReferenceKernels.convolution(
                input, weights: weights, geometry: geometry, epilogue: epilogue, residual: residual)
            let fast = DirectConvolution(weights: weights, geometry: geometry, epilogue: epilogue)
            let actual = fast(input, residual: epilogue.addsResidual ? residual : nil)
            #expect(actual.shape == expected.shape)
            guard epilogue.activation != .swish else {
                // The vectorized swish (`VectorMath`) against Foundation's exp: within float rounding.
                let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) / (1e-2 + abs($1)) }.max() ?? 0
                #expect(worst < 1e-5, "\(c) swish: \(worst)")
                continue
            }
            // Same taps, same order, same fused multiply-adds: the fast kernel must agree bit for bit.
            #expect(actual.scalars == expected.scalars, "\(c) \(epilogue)")
        }
    }

    @Test func samePaddingOfEvenKernelPadsOneBeforeTwoAfter() {
        let g = ConvolutionGeometry.same(kernelHeight: 4, kernelWidth: 4, inputChannels: 1, outputChannels: 1)
        #expect(g.padTop == 1 && g.padLeft == 1 && g.padBottom == 2 && g.padRight == 2)
        #expect(g.outputShape(height: 10, width: 7) == FeatureMapShape(height: 10, width: 7, channels: 1))
    }

    @Test func referenceConvolutionOnAHandComputedCase() {
        // 3×3 input 1..9, 3×3 kernel of ones, SAME padding: each output is the sum of its 3×3 neighbourhood.
        let input = Tensor(shape: [1, 3, 3, 1], scalars: (1...9).map(Float.init))
        let weights = Tensor(shape: [3, 3, 1, 1], repeating: 1)
        let g = ConvolutionGeometry.same(kernelHeight: 3, kernelWidth: 3, inputChannels: 1, outputChannels: 1)
        let out = ReferenceKernels.convolution(input, weights: weights, geometry: g)
        #expect(out.scalars == [12, 21, 16, 27, 45, 33, 24, 39, 28])
    }

    @Test func resultDoesNotDependOnThreadCount() {
        var rng = SeededGenerator(seed: 7)
        let g = ConvolutionGeometry.same(kernelHeight: 3, kernelWidth: 3, inputChannels: 32, outputChannels: 48)
        let input = Tensor(shape: [1, 19, 23, 32], scalars: rng.floats(19 * 23 * 32))
        let weights = Tensor(shape: [3, 3, 32, 48], scalars: rng.floats(3 * 3 * 32 * 48))
        let conv = DirectConvolution(weights: weights, geometry: g, epilogue: ConvolutionEpilogue())
        let one = conv(input, pool: ComputePool(threadCount: 1))
        let three = conv(input, pool: ComputePool(threadCount: 3))
        #expect(one.scalars == three.scalars)
    }
}

@Suite struct LayoutAndElementwiseTests {
    @Test func depthToSpaceUsesDCROrder() {
        // One pixel, block 2, one output channel: channel (dy*2+dx) lands at (dy, dx).
        let input = Tensor(shape: [1, 1, 1, 4], scalars: [10, 11, 12, 13])
        let out = ReferenceKernels.depthToSpace(input, blockSize: 2)
        #expect(out.shape == [1, 2, 2, 1])
        #expect(out.scalars == [10, 11, 12, 13])
    }

    @Test(arguments: [2, 3, 4])
    func fastDepthToSpaceMatchesReference(blockSize: Int) {
        var rng = SeededGenerator(seed: UInt64(blockSize))
        let c = 3 * blockSize * blockSize
        let input = Tensor(shape: [1, 5, 7, c], scalars: rng.floats(5 * 7 * c))
        #expect(
            LayoutKernels.depthToSpace(input, blockSize: blockSize)
                == ReferenceKernels.depthToSpace(input, blockSize: blockSize))
    }

    @Test(arguments: [2, 3, 4])
    func fastPixelShuffleMatchesReference(blockSize: Int) {
        var rng = SeededGenerator(seed: UInt64(50 + blockSize))
        let c = 3 * blockSize * blockSize
        let input = Tensor(shape: [1, 6, 5, c], scalars: rng.floats(6 * 5 * c))
        let fast = LayoutKernels.pixelShuffle(input, blockSize: blockSize)
        #expect(fast == ReferenceKernels.pixelShuffle(input, blockSize: blockSize))
        #expect(fast.shape == [1, 6 * blockSize, 5 * blockSize, 3])
        // CRD: output (0, 1) channel 1 is input (0, 0) channel 1·s² + 0·s + 1.
        #expect(fast.scalars[3 + 1] == input.scalars[blockSize * blockSize + 1])
    }

    /// Maps of different channel counts, big enough (over 4 MiB) that the output asks for huge pages.
    @Test func fastConcatenationMatchesReference() {
        var rng = SeededGenerator(seed: 77)
        let small = [5, 16, 1].map { Tensor(shape: [1, 7, 9, $0], scalars: rng.floats(7 * 9 * $0)) }
        #expect(LayoutKernels.concatenateChannels(small) == ReferenceKernels.concatenateChannels(small))
        let big = [48, 48, 3].map { Tensor(shape: [1, 96, 128, $0], scalars: rng.floats(96 * 128 * $0)) }
        let fast = LayoutKernels.concatenateChannels(big)
        #expect(fast == ReferenceKernels.concatenateChannels(big))
        #expect(fast.shape == [1, 96, 128, 99])
        #expect(fast.scalars[48] == big[1].scalars[0] && fast.scalars[98] == big[2].scalars[2])
    }

    @Test(arguments: [(0, 0, 0, 0), (1, 2, 3, 0), (4, 4, 4, 4), (0, 5, 0, 1)])
    func fastCropMatchesReference(top: Int, left: Int, bottom: Int, right: Int) {
        var rng = SeededGenerator(seed: 5)
        let input = Tensor(shape: [1, 9, 11, 6], scalars: rng.floats(9 * 11 * 6))
        let fast = LayoutKernels.crop(input, top: top, left: left, bottom: bottom, right: right)
        #expect(fast == ReferenceKernels.crop(input, top: top, left: left, bottom: bottom, right: right))
        #expect(fast.shape == [1, 9 - top - bottom, 11 - left - right, 6])
        #expect(fast.scalars.first == input.scalars[(top * 11 + left) * 6])
    }

    @Test(arguments: [(2, 7, 9), (2, 8, 8), (3, 7, 10)])
    func fastSpaceToDepthMatchesReferenceAndUndoesDepthToSpace(blockSize s: Int, height: Int, width: Int) {
        var rng = SeededGenerator(seed: UInt64(s * 100 + height))
        let input = Tensor(shape: [1, height, width, 5], scalars: rng.floats(height * width * 5))
        let folded = LayoutKernels.spaceToDepth(input, blockSize: s)
        #expect(folded == ReferenceKernels.spaceToDepth(input, blockSize: s))
        #expect(folded.shape == [1, height / s, width / s, s * s * 5])
        // DepthToSpace gives back the part of the map that fills whole blocks.
        let back = LayoutKernels.depthToSpace(folded, blockSize: s)
        let kept = ReferenceKernels.crop(input, top: 0, left: 0, bottom: height % s, right: width % s)
        #expect(back == kept)
    }

    @Test func globalAveragePoolAndChannelSums() {
        let input = Tensor(shape: [1, 2, 3, 2], scalars: [1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60])
        #expect(ReferenceKernels.globalAveragePool(input).scalars == [3.5, 35])
        #expect(ReferenceKernels.globalAveragePool(input).shape == [1, 1, 1, 2])
        #expect(ReferenceKernels.channelSums(input, rows: 1..<2, columns: 1..<3) == [11, 110])
    }

    @Test func transposeToNCHW() {
        var rng = SeededGenerator(seed: 3)
        let input = Tensor(shape: [1, 4, 5, 3], scalars: rng.floats(60))
        let fast = LayoutKernels.transpose(input, permutation: [0, 3, 1, 2])
        let reference = ReferenceKernels.transpose(input, permutation: [0, 3, 1, 2])
        #expect(fast == reference)
        #expect(fast.shape == [1, 3, 4, 5])
        // Element (c=2, y=1, x=3) comes from NHWC (y=1, x=3, c=2).
        let nchwIndex: Int = 2 * 20 + 1 * 5 + 3
        let nhwcIndex: Int = (1 * 5 + 3) * 3 + 2
        #expect(fast.scalars[nchwIndex] == input.scalars[nhwcIndex])
    }

    /// Permutations that move only axes of size 1 (a one-channel map to NCHW) and general ones, against the reference.
    @Test(arguments: [
        ([1, 4, 5, 1], [0, 3, 1, 2]), ([1, 1, 7, 1], [0, 3, 1, 2]), ([1, 6, 1, 3], [0, 3, 1, 2]),
        ([2, 3, 1, 4], [1, 0, 2, 3]), ([1, 4, 5, 2], [0, 2, 1, 3]),
    ])
    func transposeMatchesReference(shape: [Int], permutation: [Int]) {
        var rng = SeededGenerator(seed: UInt64(shape.reduce(1, *)))
        let input = Tensor(shape: shape, scalars: rng.floats(shape.reduce(1, *)))
        #expect(
            LayoutKernels.transpose(input, permutation: permutation)
                == ReferenceKernels.transpose(input, permutation: permutation))
    }

    @Test func broadcastingFastPathsMatchReference() {
        var rng = SeededGenerator(seed: 11)
        let a = Tensor(shape: [1, 6, 7, 5], scalars: rng.floats(210))
        let sameShape = Tensor(shape: [1, 6, 7, 5], scalars: rng.floats(210))
        let scalar = Tensor(scalar: 0.5)
        let vector = Tensor(shape: [5], scalars: rng.floats(5))
        // Per-channel vectors as squeeze-and-excitation makes them: 16-channel runs and a tail.
        let wide = Tensor(shape: [1, 5, 3, 37], scalars: rng.floats(555))
        let wideVector = Tensor(shape: [1, 1, 1, 37], scalars: rng.floats(37))
        for op in [BinaryOperation.add, .subtract, .multiply, .maximum, .minimum] {
            for b in [sameShape, scalar, vector] {
                #expect(ElementwiseKernels.binary(op, a, b) == ReferenceKernels.binary(op, a, b))
            }
            #expect(ElementwiseKernels.binary(op, scalar, a) == ReferenceKernels.binary(op, scalar, a))
            #expect(ElementwiseKernels.binary(op, wide, wideVector) == ReferenceKernels.binary(op, wide, wideVector))
        }
        #expect(broadcastShape([1, 6, 7, 5], [7, 1]) == [1, 6, 7, 5])
        #expect(broadcastShape([3], [4]) == nil)
    }

    @Test func unaryOperations() {
        let x = Tensor(shape: [4], scalars: [-2, -0.5, 0, 3])
        #expect(ElementwiseKernels.unary(.relu, x).scalars == [0, 0, 0, 3])
        #expect(ElementwiseKernels.unary(.abs, x).scalars == [2, 0.5, 0, 3])
        #expect(ElementwiseKernels.unary(.negate, x).scalars == [2, 0.5, -0, -3])
        let t = ElementwiseKernels.unary(.tanh, x).scalars
        #expect(abs(t[0] - -0.9640276) < 1e-6 && t[2] == 0)
    }

    /// The vectorized tanh against Foundation's on random values of every magnitude, with a tail that is not a multiple
    /// of 16.
    @Test(arguments: [37, 70_001])
    func vectorizedTanhMatchesFoundation(count: Int) {
        var rng = SeededGenerator(seed: UInt64(count))
        var values = rng.floats(count, in: -12...12)
        for index in stride(from: 0, to: count, by: 3) { values[index] *= 0.01 }  // many small values
        values[0] = 0
        values[1] = -30
        values[2] = 1e-30
        let fast = ElementwiseKernels.unary(.tanh, Tensor(shape: [count], scalars: values)).scalars
        let reference = ReferenceKernels.unary(.tanh, Tensor(shape: [count], scalars: values)).scalars
        var worst: Float = 0
        for (a, b) in zip(fast, reference) { worst = max(worst, abs(a - b) / max(abs(b), 1e-3)) }
        #expect(worst < 4e-7, "largest relative difference \(worst)")
        #expect(fast[0] == 0 && fast[1] == -1 && fast[2] == 1e-30)
    }

    /// The vectorized sigmoid and swish against the reference (Foundation's exp) over the range the networks see and
    /// far beyond it, with a tail that is not a multiple of 16.
    @Test(arguments: [UnaryOperation.sigmoid, .swish], [37, 70_001])
    func vectorizedSigmoidAndSwishMatchTheReference(_ op: UnaryOperation, count: Int) {
        var rng = SeededGenerator(seed: UInt64(count))
        var values = rng.floats(count, in: -20...20)
        for index in stride(from: 0, to: count, by: 3) { values[index] *= 0.01 }
        values[0] = 0
        values[1] = -200
        values[2] = 200
        values[3] = -87.5
        let fast = ElementwiseKernels.unary(op, Tensor(shape: [count], scalars: values)).scalars
        let reference = ReferenceKernels.unary(op, Tensor(shape: [count], scalars: values)).scalars
        var worst: Float = 0
        for (a, b) in zip(fast, reference) { worst = max(worst, abs(a - b) / max(abs(b), 1e-3)) }
        #expect(worst < 1e-6, "\(op): largest relative difference \(worst)")
        #expect(fast[0] == (op == .sigmoid ? 0.5 : 0) && abs(fast[1]) < 1e-30 && fast[2] == (op == .sigmoid ? 1 : 200))
    }

    /// The one-pass gate against the four reference operations, same shapes (vectorized) and broadcast (composed).
    @Test func sigmoidGateMatchesItsFourOperations() {
        var rng = SeededGenerator(seed: 21)
        let a = Tensor(shape: [1, 5, 7, 13], scalars: rng.floats(455, in: -9...9))
        let b = Tensor(shape: [1, 5, 7, 13], scalars: rng.floats(455))
        let vector = Tensor(shape: [13], scalars: rng.floats(13))
        for other in [b, vector] {
            let fast = ElementwiseKernels.sigmoidGate(a, other, offset: 0.5)
            let reference = ReferenceKernels.sigmoidGate(a, other, offset: 0.5)
            #expect(fast.shape == reference.shape)
            let worst = zip(fast.scalars, reference.scalars).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 1
            #expect(worst < 1e-6, "\(other.shape): \(worst)")
        }
    }

    @Test func poolRunsEveryIndexExactlyOnce() {
        let pool = ComputePool(threadCount: 4)
        var hits = [Int](repeating: 0, count: 1000)
        hits.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            nonisolated(unsafe) let shared = base
            pool.parallelFor(1000, grain: 7) { shared[$0] += 1 }
        }
        #expect(hits.allSatisfy { $0 == 1 })
    }

    /// Each index runs once, on a thread numbered inside the pool, and never while another body holds that number.
    @Test func poolNamesTheThreadOfEachIndex() {
        let pool = ComputePool(threadCount: 3)
        let busy = (0..<3).map { _ in AtomicBox() }
        let strays = Atomic<Int>(0)
        let overlaps = Atomic<Int>(0)
        var hits = [Int](repeating: 0, count: 300)
        hits.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let shared = buffer.baseAddress!
            pool.parallelForEachThread(300) { index, thread in
                guard (0..<3).contains(thread) else {
                    strays.add(1, ordering: .relaxed)
                    return
                }
                if busy[thread].value.add(1, ordering: .acquiringAndReleasing).newValue != 1 {
                    overlaps.add(1, ordering: .relaxed)
                }
                shared[index] += 1
                for _ in 0..<(index % 7) * 100 { _ = busy[thread].value.load(ordering: .relaxed) }
                busy[thread].value.subtract(1, ordering: .acquiringAndReleasing)
            }
        }
        #expect(hits.allSatisfy { $0 == 1 })
        #expect(strays.load(ordering: .relaxed) == 0)
        #expect(overlaps.load(ordering: .relaxed) == 0)
    }
}

/// An atomic integer that can live in an array.
private final class AtomicBox: Sendable {
    let value = Atomic<Int>(0)
}
