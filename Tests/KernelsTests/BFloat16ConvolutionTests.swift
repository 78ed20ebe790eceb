import Kernels
import Tensor
import TestSupport
import Testing

/// The bfloat16 kernels (AMX tiles, AVX-512 BF16 dot products) against the reference convolution on operands rounded
/// to bfloat16: they may differ only in the order of the float additions.
@Suite(.enabled(if: BFloat16Hardware.best != nil, "this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX)"))
struct BFloat16ConvolutionTests {
    /// Channel counts below, at and past the 32-channel tile rows and 16-channel output blocks; odd widths and
    /// heights (one row: the AMX kernel pairs rows), widths past one 16-pixel block, even kernels.
    static let geometries: [(h: Int, w: Int, kernel: Int, ci: Int, co: Int)] = [
        (7, 9, 3, 16, 16), (1, 37, 3, 17, 33), (5, 23, 3, 32, 48), (8, 7, 3, 33, 17), (4, 19, 5, 64, 32),
        (9, 40, 1, 48, 20), (6, 6, 4, 20, 64), (3, 33, 3, 256, 256), (11, 3, 3, 40, 100),
    ]

    static let epilogueNames = ["none", "bias+relu", "bias+prelu", "bias+leaky", "bias+scale+residual", "bias+swish"]

    static func epilogues(channels: Int, rng: inout SeededGenerator) -> [ConvolutionEpilogue] {
        [
            ConvolutionEpilogue(),
            ConvolutionEpilogue(bias: rng.floats(channels), activation: .relu),
            ConvolutionEpilogue(
                bias: rng.floats(channels), activation: .prelu(slopes: rng.floats(channels, in: 0...0.5))),
            ConvolutionEpilogue(bias: rng.floats(channels), activation: .leakyReLU(slope: 0.2)),
            ConvolutionEpilogue(bias: rng.floats(channels), scale: 0.1, addsResidual: true),
            ConvolutionEpilogue(bias: rng.floats(channels), activation: .swish),
        ]
    }

    static func rounded(_ tensor: Tensor) -> Tensor {
        Tensor(shape: tensor.shape, scalars: tensor.scalars.map(ReferenceKernels.roundedToBFloat16))
    }

    /// Checks one geometry on every epilogue and every bfloat16 path of this machine.
    static func check(
        h: Int, w: Int, kernel: Int, ci: Int, co: Int, seed: UInt64
    ) {
        var rng = SeededGenerator(seed: seed)
        let geometry = ConvolutionGeometry.same(
            kernelHeight: kernel, kernelWidth: kernel, inputChannels: ci, outputChannels: co)
        let input = Tensor(shape: [1, h, w, ci], scalars: rng.floats(h * w * ci, in: -2...2))
        let weights = Tensor(shape: [kernel, kernel, ci, co], scalars: rng.floats(kernel * kernel * ci * co))
        let outShape = geometry.outputShape(height: h, width: w)
        let residual = Tensor(shape: outShape.nhwc, scalars: rng.floats(outShape.elementCount))
        for (name, epilogue) in zip(epilogueNames, epilogues(channels: co, rng: &rng)) {
            let expected = ReferenceKernels.convolution(
                rounded(input), weights: rounded(weights), geometry: geometry, epilogue: epilogue, residual: residual)
            // Float sums of up to kernel² × ci products in another order: a few float ulps of the largest value.
            let largest = max(1, expected.scalars.map(abs).max() ?? 1)
            let tolerance = 1e-5 * largest * Float(kernel * kernel * ci).squareRoot()
            for hardware in BFloat16Hardware.available {
                let fast = BFloat16Convolution(
                    weights: weights, geometry: geometry, epilogue: epilogue, hardware: hardware)
                let actual = fast(input, residual: epilogue.addsResidual ? residual : nil)
                #expect(actual.shape == expected.shape)
                let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
                let context = "\(hardware) \(h)×\(w) k\(kernel) \(ci)→\(co) \(name) seed \(seed)"
                #expect(worst <= tolerance, "\(context): off by \(worst) (tolerance \(tolerance))")
            }
        }
    }

    @Test(arguments: 0..<geometries.count)
    func matchesReferenceOnRoundedOperands(case index: Int) {
        let c = Self.geometries[index]
        Self.check(h: c.h, w: c.w, kernel: c.kernel, ci: c.ci, co: c.co, seed: UInt64(500 + index))
    }

    /// Fresh shapes and values on every run; the seed is in the failure message to replay a case.
    @Test func matchesReferenceOnFreshRandomShapes() {
        var system = SystemRandomNumberGenerator()
        for _ in 0..<4 {
            let seed = system.next() as UInt64
            var rng = SeededGenerator(seed: seed)
            let h = Int.random(in: 1...12, using: &rng)
            let w = Int.random(in: 1...45, using: &rng)
            let kernel = [1, 3, 3, 5].randomElement(using: &rng)!
            let ci = Int.random(in: 16...80, using: &rng)
            let co = Int.random(in: 16...80, using: &rng)
            Self.check(h: h, w: w, kernel: kernel, ci: ci, co: co, seed: seed)
        }
    }

    @Test func roundingIsToNearestTiesToEven() {
        let ulp: Float = 1.0 / 128  // bfloat16 keeps 7 fraction bits
        #expect(ReferenceKernels.roundedToBFloat16(1) == 1)
        #expect(ReferenceKernels.roundedToBFloat16(1 + ulp / 2) == 1)  // tie: to the even neighbour, 1
        #expect(ReferenceKernels.roundedToBFloat16(1 + 3 * ulp / 2) == 1 + 2 * ulp)  // tie: to 1 + 2 ulp
        #expect(ReferenceKernels.roundedToBFloat16(1 + ulp * 0.51) == 1 + ulp)
        #expect(ReferenceKernels.roundedToBFloat16(-3.14159) == -3.140625)
        #expect(ReferenceKernels.roundedToBFloat16(0x1p-130) == 0x1p-130)  // a float subnormal that bfloat16 holds
        #expect(ReferenceKernels.roundedToBFloat16(.infinity) == .infinity)
        #expect(ReferenceKernels.roundedToBFloat16(.nan).isNaN)
        // The kernels round their operands the same way: a 1×1 identity convolution returns the rounded input.
        let values: [Float] = (0..<32).map { 1 + Float($0) * ulp / 4 } + [-3.14159, 1e-3, 65504, 0x1p-130]
        let channels = values.count
        var identity = [Float](repeating: 0, count: channels * channels)
        for c in 0..<channels { identity[c * channels + c] = 1 }
        let geometry = ConvolutionGeometry.same(
            kernelHeight: 1, kernelWidth: 1, inputChannels: channels, outputChannels: channels)
        for hardware in BFloat16Hardware.available {
            let convolution = BFloat16Convolution(
                weights: Tensor(shape: [1, 1, channels, channels], scalars: identity), geometry: geometry,
                epilogue: ConvolutionEpilogue(), hardware: hardware)
            let out = convolution(Tensor(shape: [1, 1, 1, channels], scalars: values))
            // AMX flushes float subnormals to zero; every other value must come back rounded.
            let expected = values.map { $0 == 0x1p-130 ? nil : ReferenceKernels.roundedToBFloat16($0) }
            for (actual, wanted) in zip(out.scalars, expected) where wanted != nil {
                #expect(actual == wanted!, "\(hardware)")
            }
        }
    }

    @Test func resultDoesNotDependOnThreadCountOrRun() {
        var rng = SeededGenerator(seed: 9)
        let g = ConvolutionGeometry.same(kernelHeight: 3, kernelWidth: 3, inputChannels: 64, outputChannels: 48)
        let input = Tensor(shape: [1, 21, 37, 64], scalars: rng.floats(21 * 37 * 64))
        let weights = Tensor(shape: [3, 3, 64, 48], scalars: rng.floats(3 * 3 * 64 * 48))
        for hardware in BFloat16Hardware.available {
            let conv = BFloat16Convolution(
                weights: weights, geometry: g, epilogue: ConvolutionEpilogue(), hardware: hardware)
            let one = conv(input, pool: ComputePool(threadCount: 1))
            let three = conv(input, pool: ComputePool(threadCount: 3))
            let again = conv(input, pool: ComputePool(threadCount: 3))
            #expect(one.scalars == three.scalars && three.scalars == again.scalars, "\(hardware)")
        }
    }

    @Test func residualAddedInPlaceEqualsOutOfPlace() {
        var rng = SeededGenerator(seed: 11)
        let g = ConvolutionGeometry.same(kernelHeight: 3, kernelWidth: 3, inputChannels: 32, outputChannels: 32)
        let input = Tensor(shape: [1, 9, 18, 32], scalars: rng.floats(9 * 18 * 32))
        let weights = Tensor(shape: [3, 3, 32, 32], scalars: rng.floats(3 * 3 * 32 * 32))
        let residual = Tensor(shape: [1, 9, 18, 32], scalars: rng.floats(9 * 18 * 32))
        let epilogue = ConvolutionEpilogue(bias: rng.floats(32), activation: .relu, scale: 0.5, addsResidual: true)
        for hardware in BFloat16Hardware.available {
            let conv = BFloat16Convolution(weights: weights, geometry: g, epilogue: epilogue, hardware: hardware)
            let outOfPlace = conv(input, residual: residual)
            var inPlace = residual.scalars
            input.scalars.withUnsafeBufferPointer { source in
                inPlace.withUnsafeMutableBufferPointer { target in
                    conv.run(
                        input: source, height: 9, width: 18, output: target, residual: UnsafeBufferPointer(target))
                }
            }
            #expect(inPlace == outOfPlace.scalars, "\(hardware)")
        }
    }
}
