import Dispatch
import Engine
import Kernels
import Synchronization
import Tensor
import TestSupport
import Testing

/// The executor's memory plan (buffer reuse, in-place residuals, recomputed cheap values) and its kernel choice, on an
/// EDSR-shaped graph wide enough for the Winograd kernel.
@Suite struct GraphExecutorTests {
    /// head conv (3 → c) → `blocks` residual blocks (conv, ReLU, conv, ×0.1, + block input) → conv + head (global skip)
    /// → conv (c → 12) → DepthToSpace(2). The head is cheap and lives across the whole body, so the executor
    /// recomputes it; every block's second convolution is the last reader of its residual, so it writes in place.
    static func edsrLikeGraph(channels c: Int, blocks: Int, seed: UInt64) -> Graph {
        var rng = SeededGenerator(seed: seed)
        var g = Graph()
        func conv(_ name: String, _ input: NodeID, _ ci: Int, _ co: Int, _ epilogue: ConvolutionEpilogue,
            residual: NodeID? = nil) -> NodeID
        {
            let bound = 1 / Float(9 * ci).squareRoot()
            let weights = g.add(
                "\(name)_w", .constant(Tensor(shape: [3, 3, ci, co], scalars: rng.floats(9 * ci * co, in: -bound...bound))))
            let geometry = ConvolutionGeometry.same(kernelHeight: 3, kernelWidth: 3, inputChannels: ci, outputChannels: co)
            var e = epilogue
            e.bias = rng.floats(co, in: -0.1...0.1)
            return g.add(name, .convolution(geometry, e), residual.map { [input, weights, $0] } ?? [input, weights])
        }
        let x = g.add("input", .input)
        let head = conv("head", x, 3, c, ConvolutionEpilogue())
        var body = head
        for block in 0..<blocks {
            let t = conv("b\(block)_1", body, c, c, ConvolutionEpilogue(activation: .relu))
            body = conv("b\(block)_2", t, c, c, ConvolutionEpilogue(scale: 0.1, addsResidual: true), residual: body)
        }
        let skip = conv("body_end", body, c, c, ConvolutionEpilogue(addsResidual: true), residual: head)
        let up = conv("upsample", skip, c, 12, ConvolutionEpilogue())
        let out = g.add("d2s", .depthToSpace(blockSize: 2), [up])
        g.addOutput("output", out)
        return g
    }

    static func maxRelativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = b.scalars.map(abs).max() ?? 1
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / max(scale, 1e-6)
    }

    @Test(arguments: [(16, 2, 9, 11), (32, 3, 17, 23), (20, 4, 13, 7)])
    func fastKernelsMatchTheReference(channels: Int, blocks: Int, height: Int, width: Int) throws {
        let graph = Self.edsrLikeGraph(channels: channels, blocks: blocks, seed: UInt64(channels * 31 + blocks))
        var rng = SeededGenerator(seed: UInt64(height * width))
        let input = Tensor(shape: [1, height, width, 3], scalars: rng.floats(height * width * 3))
        let inputCopy = input
        let reference = try GraphExecutor(graph: graph, kernels: .reference).run(input, output: nil)
        let direct = try GraphExecutor(graph: graph, kernels: .direct).run(input, output: nil)
        let fast = try GraphExecutor(graph: graph, kernels: .fast)
        let first = try fast.run(input, output: nil)
        let second = try fast.run(input, output: nil)
        #expect(reference.shape == [1, 2 * height, 2 * width, 3])
        #expect(direct == reference, "the direct kernel and the memory plan change no bit")
        #expect(first == second, "runs are bit-stable")
        let difference = Self.maxRelativeDifference(first, reference)
        #expect(difference < 2e-5, "Winograd differs from the reference by \(difference) of the output range")
        #expect(difference > 0, "the fast path ran Winograd (which rounds differently)")
        #expect(input == inputCopy, "the caller's input is not written")
    }

    @Test(
        .enabled(if: BFloat16Hardware.best != nil, "this CPU has no bfloat16 instructions"),
        arguments: [(32, 3, 17, 23), (20, 2, 9, 11)])
    func bfloat16RunsTheWideConvolutionsWithinItsRounding(channels: Int, blocks: Int, height: Int, width: Int) throws {
        let graph = Self.edsrLikeGraph(channels: channels, blocks: blocks, seed: UInt64(channels + blocks))
        var rng = SeededGenerator(seed: UInt64(height + width))
        let input = Tensor(shape: [1, height, width, 3], scalars: rng.floats(height * width * 3))
        let reference = try GraphExecutor(graph: graph, kernels: .reference).run(input, output: nil)
        for hardware in BFloat16Hardware.available {
            let executor = try GraphExecutor(graph: graph, precision: .bf16, bfloat16Hardware: hardware)
            #expect(executor.precision == .bf16)
            let first = try executor.run(input, output: nil)
            let second = try executor.run(input, output: nil)
            #expect(first == second, "\(hardware): runs are bit-stable (buffers reused, residuals in place)")
            let difference = Self.maxRelativeDifference(first, reference)
            // bfloat16 keeps 8 significant bits (relative rounding up to 2^-9 per operand).
            #expect(difference < 1e-2, "\(hardware): bf16 differs by \(difference) of the output range")
            #expect(difference > 1e-5, "\(hardware): the wide convolutions ran in bfloat16")
        }
    }

    @Test func bfloat16NeedsTheFastKernels() {
        let graph = Self.edsrLikeGraph(channels: 16, blocks: 1, seed: 1)
        #expect(throws: GraphError.self) { try GraphExecutor(graph: graph, kernels: .reference, precision: .bf16) }
        #expect(throws: GraphError.self) { try GraphExecutor(graph: graph, kernels: .direct, precision: .bf16) }
    }

    @Test func outputsAreNotRecomputedOrOverwritten() throws {
        // The head is a graph output too: it must be kept and returned as computed, not consumed in place.
        var graph = Self.edsrLikeGraph(channels: 16, blocks: 1, seed: 5)
        let head = graph.nodes.firstIndex { $0.name == "head" }!
        graph.addOutput("head", head)
        var rng = SeededGenerator(seed: 6)
        let input = Tensor(shape: [1, 8, 8, 3], scalars: rng.floats(8 * 8 * 3))
        let fast = try GraphExecutor(graph: graph, kernels: .fast).run(input)
        let reference = try GraphExecutor(graph: graph, kernels: .reference).run(input)
        #expect(fast["head"] == reference["head"], "the 3-channel head runs on the exact direct kernel")
        #expect(Self.maxRelativeDifference(fast["output"]!, reference["output"]!) < 2e-5)
    }

    /// Buffers kept from one run serve the next: results do not depend on what ran before, on one thread or on two
    /// at once.
    @Test func reusedBuffersDoNotLeakBetweenRuns() throws {
        let graph = Self.edsrLikeGraph(channels: 16, blocks: 2, seed: 9)
        var rng = SeededGenerator(seed: 10)
        let small = Tensor(shape: [1, 7, 9, 3], scalars: rng.floats(7 * 9 * 3))
        let large = Tensor(shape: [1, 19, 13, 3], scalars: rng.floats(19 * 13 * 3))
        let expectedSmall = try GraphExecutor(graph: graph).run(small, output: nil)
        let expectedLarge = try GraphExecutor(graph: graph).run(large, output: nil)
        let shared = try GraphExecutor(graph: graph)
        for input in [small, large, small, large, large, small] {
            let result = try shared.run(input, output: nil)
            #expect(result == (input == small ? expectedSmall : expectedLarge))
        }
        let results = Mutex<[Tensor]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let result = try? shared.run(index % 2 == 0 ? small : large, output: nil)
            results.withLock { $0.append(result ?? Tensor(scalar: .nan)) }
        }
        for result in results.withLock({ $0 }) {
            #expect(result == expectedSmall || result == expectedLarge)
        }
        #expect(results.withLock { $0.count } == 8)
    }
}
