import Engine
import Kernels
import Tensor
import TestSupport
import Testing

@Suite struct GraphOptimizerTests {
    /// A small EDSR-like graph: conv → +bias → relu → conv → +bias → ×0.1 → + input, then FSRCNN's PReLU spelling
    /// and LapSRN's leaky ReLU spelling, DepthToSpace and Transpose.
    static func sampleGraph(seed: UInt64) -> Graph {
        var rng = SeededGenerator(seed: seed)
        var g = Graph()
        func const(_ shape: [Int], _ range: ClosedRange<Float> = -0.5...0.5) -> NodeID {
            g.add("c\(g.nodes.count)", .constant(Tensor(shape: shape, scalars: rng.floats(shape.elementCount, in: range))))
        }
        let geometry = ConvolutionGeometry.same(kernelHeight: 3, kernelWidth: 3, inputChannels: 8, outputChannels: 8)
        let x = g.add("input", .input)
        let w1 = const([3, 3, 8, 8])
        let c1 = g.add("conv1", .convolution(geometry, ConvolutionEpilogue()), [x, w1])
        let bias1 = const([8])
        let b1 = g.add("bias1", .binary(.add), [c1, bias1])
        let r1 = g.add("relu1", .unary(.relu), [b1])
        let w2 = const([3, 3, 8, 8])
        let c2 = g.add("conv2", .convolution(geometry, ConvolutionEpilogue()), [r1, w2])
        let bias2 = const([8])
        let b2 = g.add("bias2", .binary(.add), [c2, bias2])
        let k = g.add("k", .constant(Tensor(scalar: 0.1)))
        let s2 = g.add("scale", .binary(.multiply), [b2, k])
        let res = g.add("residual", .binary(.add), [x, s2])
        // PReLU: relu(y) + alpha * (y - |y|) * 0.5
        let w3 = const([3, 3, 8, 8])
        let c3 = g.add("conv3", .convolution(geometry, ConvolutionEpilogue()), [res, w3])
        let bias3 = const([8])
        let y = g.add("bias3", .binary(.add), [c3, bias3])
        let pos = g.add("prelu_relu", .unary(.relu), [y])
        let absY = g.add("prelu_abs", .unary(.abs), [y])
        let diff = g.add("prelu_sub", .binary(.subtract), [y, absY])
        let alpha = const([8], 0...0.5)
        let scaled = g.add("prelu_mul", .binary(.multiply), [alpha, diff])
        let halfConstant = g.add("half", .constant(Tensor(scalar: 0.5)))
        let half = g.add("prelu_half", .binary(.multiply), [scaled, halfConstant])
        let prelu = g.add("prelu", .binary(.add), [pos, half])
        // Leaky: relu(z) - 0.2 * relu(-1 * z)
        let w4 = const([4, 4, 8, 12])
        let geometry4 = ConvolutionGeometry.same(kernelHeight: 4, kernelWidth: 4, inputChannels: 8, outputChannels: 12)
        let z = g.add("conv4", .convolution(geometry4, ConvolutionEpilogue()), [prelu, w4])
        let reluZ = g.add("leaky_relu", .unary(.relu), [z])
        let minusOne = g.add("m1", .constant(Tensor(scalar: -1)))
        let negZ = g.add("leaky_neg", .binary(.multiply), [minusOne, z])
        let reluNeg = g.add("leaky_relu_neg", .unary(.relu), [negZ])
        let point2 = g.add("p2", .constant(Tensor(scalar: 0.2)))
        let slope = g.add("leaky_slope", .binary(.multiply), [point2, reluNeg])
        let leaky = g.add("leaky", .binary(.subtract), [reluZ, slope])
        let d2s = g.add("d2s", .depthToSpace(blockSize: 2), [leaky])
        let out = g.add("nchw", .transpose(permutation: [0, 3, 1, 2]), [d2s])
        g.addOutput("NCHW_output", out)
        return g
    }

    @Test func fusesEveryElementwiseTailIntoTheConvolutions() {
        let optimized = GraphOptimizer.optimize(Self.sampleGraph(seed: 1))
        #expect(optimized.operationCounts == ["Conv3x3": 3, "Conv4x4": 1, "DepthToSpace": 1, "Transpose": 1])
        let epilogues = optimized.nodes.compactMap { node -> ConvolutionEpilogue? in
            if case .convolution(_, let e) = node.operation { return e }
            return nil
        }
        #expect(epilogues[0].activation == .relu && epilogues[0].bias != nil)
        #expect(epilogues[1].scale == 0.1 && epilogues[1].addsResidual)
        if case .prelu(let slopes) = epilogues[2].activation { #expect(slopes.count == 8) } else {
            Issue.record("PReLU not recognised: \(epilogues[2].activation)")
        }
        #expect(epilogues[3].activation == .leakyReLU(slope: 0.2))
    }

    @Test(arguments: [KernelChoice.reference, .fast])
    func optimizedGraphComputesTheSameBits(kernels: KernelChoice) throws {
        let graph = Self.sampleGraph(seed: 2)
        var rng = SeededGenerator(seed: 3)
        let input = Tensor(shape: [1, 9, 11, 8], scalars: rng.floats(9 * 11 * 8))
        let plain = try GraphExecutor(graph: graph, kernels: .reference, optimize: false).run(input, output: nil)
        let optimized = try GraphExecutor(graph: graph, kernels: kernels).run(input, output: nil)
        #expect(plain.shape == [1, 3, 18, 22])
        #expect(optimized == plain)
    }

    /// SPAN's spelling, conv → +bias → Swish, becomes one convolution whose epilogue is the swish; the fast kernels
    /// (Winograd here, with its vectorized swish) stay within their usual float error of the reference graph.
    @Test func swishFusesIntoTheConvolution() throws {
        var rng = SeededGenerator(seed: 9)
        var g = Graph()
        let geometry = ConvolutionGeometry.same(kernelHeight: 3, kernelWidth: 3, inputChannels: 16, outputChannels: 24)
        let x = g.add("input", .input)
        let w = g.add("w", .constant(Tensor(shape: [3, 3, 16, 24], scalars: rng.floats(3 * 3 * 16 * 24, in: -0.3...0.3))))
        let c = g.add("conv", .convolution(geometry, ConvolutionEpilogue()), [x, w])
        let bias = g.add("b", .constant(Tensor(shape: [24], scalars: rng.floats(24))))
        let biased = g.add("bias", .binary(.add), [c, bias])
        let swish = g.add("swish", .unary(.swish), [biased])
        g.addOutput("out", swish)
        let optimized = GraphOptimizer.optimize(g)
        #expect(optimized.operationCounts == ["Conv3x3": 1], "\(optimized.operationCounts)")
        let input = Tensor(shape: [1, 13, 17, 16], scalars: rng.floats(13 * 17 * 16, in: -2...2))
        let plain = try GraphExecutor(graph: g, kernels: .reference, optimize: false).run(input, output: nil)
        let fused = try GraphExecutor(graph: g, kernels: .fast).run(input, output: nil)
        #expect(fused.shape == plain.shape)
        let worst = zip(fused.scalars, plain.scalars).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
        #expect(worst < 1e-4, "largest difference \(worst)")
    }

    /// SPAN's gate, sigmoid → −0.5 and a + x → multiply, becomes one SigmoidGate node, which the convolution that
    /// makes `a` then takes into its epilogue (`residualGate`); the graph computes the same values (the fast gate's
    /// vectorized sigmoid within float rounding of the reference's). When `a` is read elsewhere too, the gate stays
    /// a node of its own.
    @Test func sigmoidGateFusesIntoTheConvolution() throws {
        var rng = SeededGenerator(seed: 12)
        var g = Graph()
        let x = g.add("input", .input)
        let geometry = ConvolutionGeometry.same(kernelHeight: 3, kernelWidth: 3, inputChannels: 8, outputChannels: 8)
        let w = g.add("w", .constant(Tensor(shape: [3, 3, 8, 8], scalars: rng.floats(3 * 3 * 8 * 8, in: -0.3...0.3))))
        let a = g.add("conv", .convolution(geometry, ConvolutionEpilogue()), [x, w])
        let sigmoid = g.add("sigmoid", .unary(.sigmoid), [a])
        let half = g.add("half", .constant(Tensor(scalar: 0.5)))
        let gate = g.add("gate", .binary(.subtract), [sigmoid, half])
        let sum = g.add("sum", .binary(.add), [x, a])
        let product = g.add("mul", .binary(.multiply), [sum, gate])
        g.addOutput("out", product)
        let optimized = GraphOptimizer.optimize(g)
        #expect(optimized.operationCounts == ["Conv3x3": 1], "\(optimized.operationCounts)")
        let epilogues = optimized.nodes.compactMap { node -> ConvolutionEpilogue? in
            if case .convolution(_, let epilogue) = node.operation { return epilogue }
            return nil
        }
        #expect(epilogues.count == 1 && epilogues[0].addsResidual && epilogues[0].residualGate == 0.5)
        let input = Tensor(shape: [1, 9, 7, 8], scalars: rng.floats(9 * 7 * 8, in: -2...2))
        let plain = try GraphExecutor(graph: g, kernels: .reference, optimize: false).run(input, output: nil)
        for kernels in [KernelChoice.reference, .fast] {
            let fused = try GraphExecutor(graph: g, kernels: kernels).run(input, output: nil)
            let worst = zip(fused.scalars, plain.scalars).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
            #expect(fused.shape == plain.shape && worst < 1e-5, "\(kernels): \(worst)")
        }
        // The reference kernels compute the fused gate with the same scalar operations: bit for bit.
        let reference = try GraphExecutor(graph: g, kernels: .reference).run(input, output: nil)
        #expect(reference.scalars == plain.scalars)
        // The convolution's output read by something else: the gate is one node, not in the epilogue.
        var convolutionShared = g
        convolutionShared.addOutput("conv", a)
        #expect(GraphOptimizer.optimize(convolutionShared).operationCounts == ["Conv3x3": 1, "SigmoidGate": 1])
        // A sigmoid that something else also reads is left alone.
        var shared = g
        shared.addOutput("sigmoid", sigmoid)
        #expect(GraphOptimizer.optimize(shared).operationCounts["SigmoidGate"] == nil)
    }

    /// A U-Net's skip connection, `Add(Crop(x), y)` in either order, becomes one `AddCropped` node with the same
    /// values; a crop that something else also reads stays.
    @Test(arguments: [false, true])
    func fusesCroppedSums(cropSecond: Bool) throws {
        var rng = SeededGenerator(seed: 9)
        var g = Graph()
        let x = g.add("input", .input)
        let skip = g.add("skip", .crop(top: 1, left: 2, bottom: 3, right: 0), [x])
        let inner = g.add("inner", .crop(top: 2, left: 1, bottom: 2, right: 1), [x])
        let path = g.add("path", .unary(.relu), [inner])
        let sum = g.add("sum", .binary(.add), cropSecond ? [path, skip] : [skip, path])
        g.addOutput("output", sum)
        let optimized = GraphOptimizer.optimize(g)
        #expect(optimized.operationCounts["AddCropped"] == 1 && optimized.operationCounts["Crop"] == 1)
        let input = Tensor(shape: [1, 9, 11, 20], scalars: rng.floats(9 * 11 * 20, in: -2...2))
        let plain = try GraphExecutor(graph: g, kernels: .reference, optimize: false).run(input, output: nil)
        #expect(plain.shape == [1, 5, 9, 20])
        for kernels in KernelChoice.allCases {
            let fused = try GraphExecutor(graph: g, kernels: kernels).run(input, output: nil)
            #expect(fused == plain, "\(kernels)")
        }
        var shared = g
        shared.addOutput("skip", skip)
        #expect(GraphOptimizer.optimize(shared).operationCounts["AddCropped"] == nil)
    }

    @Test func receptiveFieldCountsPaddingAcrossUpscaling() {
        let field = Self.sampleGraph(seed: 4).receptiveField()
        // Three 3×3 convs (1 each) + one 4×4 (2 after) at input resolution; nothing after DepthToSpace.
        #expect(field.scale == 2)
        #expect(field.margin == 5)
    }

    @Test func shapeErrorsNameTheNode() throws {
        let graph = Self.sampleGraph(seed: 5)
        let executor = try GraphExecutor(graph: graph)
        let error = #expect(throws: GraphError.self) {
            try executor.run(Tensor(shape: [1, 4, 4, 3], repeating: 0), output: nil)
        }
        #expect(error?.code == .shapeMismatch)
        #expect(error?.node != nil)
    }
}
