import Kernels
import Tensor
import TestSupport
import Testing

/// SPAN's attention gate taken into a convolution's epilogue (`ConvolutionEpilogue.residualGate`): every kernel's
/// fused result equals the same kernel without the gate followed by the one-pass gate node, bit for bit, in a
/// separate output buffer and in place over the residual.
@Suite struct ResidualGateTests {
    /// Whole 16-channel blocks and partial ones, rows of pixels not a multiple of the kernels' pixel blocks; 16 or
    /// more channels, so every kernel (bfloat16 too) takes each.
    static let geometries: [(h: Int, w: Int, ci: Int, co: Int)] = [(9, 13, 48, 48), (7, 8, 16, 17), (5, 21, 20, 33)]
    static let offset: Float = 0.5

    struct Operands {
        let geometry: ConvolutionGeometry
        let input: Tensor
        let weights: Tensor
        let residual: Tensor
        let bias: [Float]
        var plain: ConvolutionEpilogue { ConvolutionEpilogue(bias: bias) }
        var gated: ConvolutionEpilogue { plain.gatingResidual(offset: offset) }
    }

    static func operands(_ index: Int) -> Operands {
        let c = geometries[index]
        var rng = SeededGenerator(seed: UInt64(4000 + index))
        let geometry = ConvolutionGeometry.same(
            kernelHeight: 3,
            kernelWidth: 3,
            inputChannels: c.ci,
            outputChannels: c.co
        )
        let outShape = geometry.outputShape(height: c.h, width: c.w)
        return Operands(
            geometry: geometry,
            input: Tensor(shape: [1, c.h, c.w, c.ci], scalars: rng.floats(c.h * c.w * c.ci, in: -2...2)),
            weights: Tensor(shape: [3, 3, c.ci, c.co], scalars: rng.floats(9 * c.ci * c.co, in: -0.3...0.3)),
            residual: Tensor(shape: outShape.nhwc, scalars: rng.floats(outShape.elementCount, in: -2...2)),
            bias: rng.floats(c.co)
        )
    }

    /// `conv` run through caller buffers: into a fresh buffer, and into the residual's own buffer.
    static func separateAndInPlace(
        _ conv: some InPlaceResidualConvolution,
        _ o: Operands
    ) -> (separate: [Float], inPlace: [Float]) {
        let h = o.input.shape[1]
        let w = o.input.shape[2]
        var separate = [Float](repeating: .nan, count: o.residual.count)
        var inPlace = o.residual.scalars
        o.input.scalars.withUnsafeBufferPointer { x in
            o.residual.scalars.withUnsafeBufferPointer { r in
                separate.withUnsafeMutableBufferPointer {
                    conv.run(input: x, height: h, width: w, output: $0, residual: r)
                }
            }
            inPlace.withUnsafeMutableBufferPointer { y in
                conv.run(input: x, height: h, width: w, output: y, residual: UnsafeBufferPointer(y))
            }
        }
        return (separate, inPlace)
    }

    @Test(arguments: 0..<geometries.count)
    func referenceEqualsItsFourOperations(case index: Int) {
        let o = Self.operands(index)
        let fused = ReferenceKernels.convolution(
            o.input,
            weights: o.weights,
            geometry: o.geometry,
            epilogue: o.gated,
            residual: o.residual
        )
        let plain = ReferenceKernels.convolution(o.input, weights: o.weights, geometry: o.geometry, epilogue: o.plain)
        let expected = ReferenceKernels.sigmoidGate(plain, o.residual, offset: Self.offset)
        #expect(fused.shape == expected.shape && fused.scalars == expected.scalars)
        // The gate changes the values: it is not a plain sum.
        let sum = ReferenceKernels.binary(.add, plain, o.residual)
        #expect(fused.scalars != sum.scalars)
    }

    @Test(arguments: 0..<geometries.count)
    func directEqualsConvolutionThenGate(case index: Int) {
        let o = Self.operands(index)
        let plain = DirectConvolution(weights: o.weights, geometry: o.geometry, epilogue: o.plain)(o.input)
        let expected = ElementwiseKernels.sigmoidGate(plain, o.residual, offset: Self.offset)
        let fused = DirectConvolution(weights: o.weights, geometry: o.geometry, epilogue: o.gated)(
            o.input,
            residual: o.residual
        )
        #expect(fused.shape == expected.shape && fused.scalars == expected.scalars)
    }

    @Test(arguments: 0..<geometries.count)
    func winogradEqualsConvolutionThenGate(case index: Int) throws {
        let o = Self.operands(index)
        try #require(WinogradConvolution.supports(o.geometry))
        for tile in WinogradConvolution.TileSize.allCases {
            let plain = WinogradConvolution(weights: o.weights, geometry: o.geometry, epilogue: o.plain, tileSize: tile)
            let expected = ElementwiseKernels.sigmoidGate(plain(o.input), o.residual, offset: Self.offset).scalars
            let fused = WinogradConvolution(weights: o.weights, geometry: o.geometry, epilogue: o.gated, tileSize: tile)
            let (separate, inPlace) = Self.separateAndInPlace(fused, o)
            #expect(separate == expected, "\(tile) into its own buffer")
            #expect(inPlace == expected, "\(tile) in place over the residual")
        }
    }

    @Test(
        .enabled(if: BFloat16Hardware.best != nil, "this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX)"),
        arguments: 0..<geometries.count
    )
    func bfloat16EqualsConvolutionThenGate(case index: Int) throws {
        let o = Self.operands(index)
        try #require(BFloat16Convolution.supports(o.geometry))
        for hardware in BFloat16Hardware.available {
            let plain = BFloat16Convolution(
                weights: o.weights,
                geometry: o.geometry,
                epilogue: o.plain,
                hardware: hardware
            )
            let expected = ElementwiseKernels.sigmoidGate(plain(o.input), o.residual, offset: Self.offset).scalars
            let fused = BFloat16Convolution(
                weights: o.weights,
                geometry: o.geometry,
                epilogue: o.gated,
                hardware: hardware
            )
            let (separate, inPlace) = Self.separateAndInPlace(fused, o)
            #expect(separate == expected, "\(hardware) into its own buffer")
            #expect(inPlace == expected, "\(hardware) in place over the residual")
        }
    }
}
