import Kernels
import Synchronization
import Tensor

/// Which kernels run a graph.
package enum KernelChoice: String, Sendable, CaseIterable {
    /// The plain reference kernels: slow, obviously correct.
    case reference
    /// The optimized kernels (the default): Winograd F(6×6, 3×3) for 3×3 convolutions with 16 or more input channels,
    /// the direct SIMD kernel (bit-identical to the reference) for the others.
    case fast
    /// The fast path without Winograd: every convolution on the direct kernel, so outputs equal the reference kernels'
    /// bit for bit. For tests and comparisons.
    case direct
}

/// A graph prepared to run: optimized once, convolution weights packed once; `run` may be called from any thread.
///
/// Memory is planned per run: each value is released after its last reader, a convolution that adds a residual
/// whose last reader it is writes its output into the residual's buffer, released buffers are reused by the next
/// value of the same size, and cheap values with long lives (a 3-channel input's first convolution, kept for a global
/// skip connection) are recomputed where they are needed again instead of being held.
package final class GraphExecutor: Sendable {
    /// The optimized graph this executor runs. With the fast kernels, the convolution weights live in the kernels (packed,
    /// transformed or palette-coded) and appear here as empty constants.
    package let graph: Graph
    /// The kernels this executor runs the graph with (reference, fast or direct).
    package let kernels: KernelChoice
    /// The convolutions' arithmetic: with `.bf16`, those with 16 or more input and output channels run in bfloat16.
    package let precision: Precision
    private let steps: [Step]
    /// For each node, the steps that read it, in order (graph outputs are read at `Int.max`).
    private let readers: [[Int]]
    /// The nodes recomputed at each use rather than held between distant uses.
    private let recomputed: Set<Int>
    /// Buffers released by earlier runs, for the next run to reuse (at most `cachedBufferBytes`): fresh memory
    /// costs a page fault per 4 KiB on first touch, which on small networks rivals the arithmetic.
    private let bufferCache = Mutex<[[Float]]>([])

    /// The most memory an executor keeps between runs for reuse.
    package static let cachedBufferBytes = 128 << 20

    private enum Step: Sendable {
        case input
        case constant(Tensor)
        case direct(DirectConvolution)
        case winograd(WinogradConvolution)
        case bfloat16(BFloat16Convolution)
        case node(Node)

        /// Whether the step computes its value (rather than passing on the input or a constant).
        var isComputed: Bool {
            switch self {
            case .input, .constant: false
            default: true
            }
        }
    }

    /// The most memory the Winograd convolutions of one graph may keep as transformed weights; above it they keep
    /// only the plain weights and transform them at each call (which costs little on large inputs).
    package static let transformedWeightBudget = 96 << 20

    /// Optimizes `graph` (unless `optimize` is false) and prepares its kernels.
    ///
    /// `precision: .bf16` runs on the fast kernels of a CPU with bfloat16 instructions (AMX, else AVX-512 BF16; or
    /// `bfloat16Hardware`), and is an `.unsupported` error elsewhere.
    package init(
        graph: Graph, kernels: KernelChoice = .fast, precision: Precision = .fp32,
        bfloat16Hardware: BFloat16Hardware? = nil, optimize: Bool = true
    ) throws(GraphError) {
        var hardware: BFloat16Hardware?
        if precision == .bf16 {
            guard kernels == .fast else { throw GraphError(.unsupported, "bf16 runs on the fast kernels only") }
            guard let chosen = bfloat16Hardware ?? BFloat16Hardware.best,
                BFloat16Hardware.available.contains(chosen)
            else { throw GraphError(.unsupported, BFloat16Hardware.unavailableReason) }
            hardware = chosen
        }
        let prepared = optimize ? GraphOptimizer.optimize(graph) : graph
        guard prepared.inputNodes.count == 1 else {
            throw GraphError(.unsupported, "the graph has \(prepared.inputNodes.count) inputs; one is supported")
        }
        // Winograd weights are kept transformed when all of them fit the budget.
        var transformedBytes = 0
        if kernels == .fast {
            for node in prepared.nodes {
                guard case .convolution(let geometry, _) = node.operation, Self.usesWinograd(geometry),
                    hardware == nil || !BFloat16Convolution.supports(geometry)
                else { continue }
                transformedBytes += WinogradConvolution.transformedWeightBytes(for: geometry, tileSize: .f6x6)
            }
        }
        let keepTransformed = transformedBytes <= Self.transformedWeightBudget
        var steps: [Step] = []
        for node in prepared.nodes {
            switch node.operation {
            case .input: steps.append(.input)
            case .constant(let tensor): steps.append(.constant(tensor))
            case .convolution(let geometry, let epilogue) where kernels != .reference:
                guard let weights = prepared.constant(node.inputs[1]) else {
                    throw GraphError(.unsupported, node: node.name, "convolution weights are not constant")
                }
                if let hardware, BFloat16Convolution.supports(geometry) {
                    steps.append(
                        .bfloat16(
                            BFloat16Convolution(
                                weights: weights, geometry: geometry, epilogue: epilogue, hardware: hardware)))
                } else if kernels == .fast && Self.usesWinograd(geometry) {
                    steps.append(
                        .winograd(
                            WinogradConvolution(
                                weights: weights, geometry: geometry, epilogue: epilogue, tileSize: .f6x6,
                                keepsTransformedWeights: keepTransformed)))
                } else {
                    steps.append(.direct(DirectConvolution(weights: weights, geometry: geometry, epilogue: epilogue)))
                }
            default: steps.append(.node(node))
            }
        }
        // Weights the fast kernels hold in their own form (packed, transformed, or palette-coded) are dropped from the
        // graph kept here, so they are not held twice: only their shape would remain of use, and nothing reads them.
        var kept = prepared
        if kernels != .reference {
            var weightReaders = [Int](repeating: 0, count: prepared.nodes.count)
            var otherReaders = [Int](repeating: 0, count: prepared.nodes.count)
            for node in prepared.nodes {
                for (position, input) in node.inputs.enumerated() {
                    if case .convolution = node.operation, position == 1 {
                        weightReaders[input] += 1
                    } else {
                        otherReaders[input] += 1
                    }
                }
            }
            for output in prepared.outputs { otherReaders[output.node] += 1 }
            for id in prepared.nodes.indices where weightReaders[id] > 0 && otherReaders[id] == 0 {
                kept.replaceConstant(id, with: Tensor(shape: [0], scalars: []))
                steps[id] = .constant(Tensor(shape: [0], scalars: []))
            }
        }
        var readers = [[Int]](repeating: [], count: prepared.nodes.count)
        for (index, node) in prepared.nodes.enumerated() {
            for input in node.inputs where readers[input].last != index { readers[input].append(index) }
        }
        for output in prepared.outputs { readers[output.node].append(Int.max) }
        // A value is recomputed rather than held when it is cheap: made only from the graph input and constants by a
        // convolution over at most 4 channels or an element-wise operation, and not itself a graph output.
        var recomputed = Set<Int>()
        let outputNodes = Set(prepared.outputs.map(\.node))
        for (index, node) in prepared.nodes.enumerated() where !outputNodes.contains(index) {
            let cheap: Bool
            switch node.operation {
            case .convolution(let geometry, _): cheap = geometry.inputChannels <= 4
            case .binary, .unary, .activation, .sigmoidGate: cheap = true
            default: cheap = false
            }
            let sourcesAvailable = node.inputs.allSatisfy { input in
                switch prepared.nodes[input].operation {
                case .input, .constant: true
                default: recomputed.contains(input)
                }
            }
            if cheap && sourcesAvailable { recomputed.insert(index) }
        }
        self.graph = kept
        self.kernels = kernels
        self.precision = precision
        self.steps = steps
        self.readers = readers
        self.recomputed = recomputed
    }

    /// Whether the fast kernels run this convolution with Winograd's algorithm.
    static func usesWinograd(_ geometry: ConvolutionGeometry) -> Bool {
        WinogradConvolution.supports(geometry) && geometry.inputChannels >= 16 && geometry.outputChannels >= 16
    }

    /// The output shapes for an input of `inputShape`, checked without computing anything.
    package func outputShapes(inputShape: [Int]) throws(GraphError) -> [String: [Int]] {
        let shapes = try graph.inferShapes(inputShape: inputShape)
        return Dictionary(graph.outputs.map { ($0.name, shapes[$0.node]) }, uniquingKeysWith: { a, _ in a })
    }

    /// Runs the network on `input` (NHWC); returns every named output.
    package func run(_ input: Tensor) throws(GraphError) -> [String: Tensor] {
        try run(input, replacing: [:])
    }

    /// Runs the network on `input` with the values of the nodes in `replaced` given rather than computed (a tiled
    /// run's squeeze-and-excitation means, taken over the whole image); returns every named output.
    package func run(_ input: Tensor, replacing replaced: [NodeID: Tensor]) throws(GraphError) -> [String: Tensor] {
        var outputs: [String: Tensor] = [:]
        try run(input, replacing: replaced, until: nil) { state in
            for output in graph.outputs { outputs[output.name] = state.values[output.node]! }
        }
        return outputs
    }

    /// The value of `node` for `input`, with the values of `replaced` given: only the steps up to `node` run.
    package func value(
        of node: NodeID, for input: Tensor, replacing replaced: [NodeID: Tensor] = [:]
    ) throws(GraphError) -> Tensor {
        guard graph.nodes.indices.contains(node) else { throw GraphError(.badInput, "no node \(node)") }
        var result: Tensor?
        try run(input, replacing: replaced, until: node) { state throws(GraphError) in
            result = try value(node, input: input, state: &state)
        }
        return result!
    }

    /// Runs the steps (up to `last`, or all), then hands the run's values to `finish`.
    private func run(
        _ input: Tensor, replacing replaced: [NodeID: Tensor], until last: NodeID?,
        finish: (inout RunState) throws(GraphError) -> Void
    ) throws(GraphError) {
        let shapes = try graph.inferShapes(inputShape: input.shape)
        for (node, value) in replaced {
            guard graph.nodes.indices.contains(node), steps[node].isComputed, !recomputed.contains(node),
                shapes[node] == value.shape
            else {
                throw GraphError(.badInput, "a replaced value does not fit node \(node)")
            }
        }
        var state = RunState(count: steps.count)
        state.spare = bufferCache.withLock { cache in
            defer { cache = [] }
            return cache
        }
        defer {
            // Keep the released buffers for the next run, within the budget.
            state.trimSpares(toBytes: Self.cachedBufferBytes)
            bufferCache.withLock { cache in cache = state.spare }
        }
        for index in steps.indices where !recomputed.contains(index) {
            if let last, index > last { break }
            if let value = replaced[index] {
                state.values[index] = value
                release(after: index, state: &state)
                continue
            }
            guard steps[index].isComputed else {
                if case .input = steps[index] { state.values[index] = input }
                continue
            }
            try compute(index, input: input, state: &state)
            release(after: index, state: &state)
        }
        try finish(&state)
    }

    /// Runs the network and returns output `name` (or the first output).
    package func run(_ input: Tensor, output name: String? = nil) throws(GraphError) -> Tensor {
        let all = try run(input)
        let key = name ?? graph.outputs[0].name
        guard let value = all[key] else { throw GraphError(.badInput, "no output named \(key)") }
        return value
    }

    /// The values of one run, and the buffers released by earlier steps, kept for the next value of their size.
    private struct RunState {
        var values: [Tensor?]
        var spare: [[Float]] = []
        init(count: Int) { values = [Tensor?](repeating: nil, count: count) }

        /// A buffer of `count` values, reused if one of that size was released; its contents are undefined.
        mutating func buffer(count: Int) -> [Float] {
            if let match = spare.firstIndex(where: { $0.count == count }) { return spare.remove(at: match) }
            // Kept buffers that do not serve this size go rather than stay beside the new one: all of them when the new
            // one is big (a new phase of the network, or a bigger input), else those beyond the cache budget.
            if count * MemoryLayout<Float>.stride >= 32 << 20 {
                spare.removeAll()
            } else {
                trimSpares(toBytes: GraphExecutor.cachedBufferBytes)
            }
            return MemoryPolicy.uninitializedFloats(count: count)
        }

        /// Keeps the most recently released buffers that fit in `bytes`, lets the others go.
        mutating func trimSpares(toBytes budget: Int) {
            var kept: [[Float]] = []
            var bytes = 0
            for buffer in spare.reversed() where bytes + buffer.count * MemoryLayout<Float>.stride <= budget {
                kept.insert(buffer, at: 0)
                bytes += buffer.count * MemoryLayout<Float>.stride
            }
            spare = kept
        }

        /// Keeps a buffer for reuse (the eight most recent).
        mutating func keep(_ buffer: [Float]) {
            guard !buffer.isEmpty else { return }
            spare.append(buffer)
            if spare.count > 8 { spare.removeFirst() }
        }

        /// Takes value `node` out of the run (for reuse of its buffer in place).
        mutating func take(_ node: Int) -> [Float] {
            let scalars = values[node]!.scalars
            values[node] = nil
            return scalars
        }
    }

    /// The value of `node`, computed (with the recomputed values it needs) if it is not held.
    private func value(_ node: Int, input: Tensor, state: inout RunState) throws(GraphError) -> Tensor {
        if let held = state.values[node] { return held }
        switch steps[node] {
        case .input: return input
        case .constant(let tensor): return tensor
        default:
            try compute(node, input: input, state: &state)
            return state.values[node]!
        }
    }

    /// Whether step `index` may overwrite the value of `node` (it is that value's last reader here).
    private func consumes(_ node: Int, at index: Int) -> Bool {
        if recomputed.contains(node) { return true }
        guard let position = readers[node].firstIndex(of: index) else { return false }
        return position == readers[node].count - 1
    }

    private func compute(_ index: Int, input: Tensor, state: inout RunState) throws(GraphError) {
        let node = graph.nodes[index]
        switch steps[index] {
        case .input: state.values[index] = input
        case .constant(let tensor): state.values[index] = tensor
        case .winograd(let convolution):
            try runInPlaceCapable(convolution, node: node, at: index, input: input, state: &state)
        case .bfloat16(let convolution):
            try runInPlaceCapable(convolution, node: node, at: index, input: input, state: &state)
        case .direct(let convolution):
            try runDirect(convolution, node: node, at: index, input: input, state: &state)
        case .node(let node):
            // The other kernels allocate their own outputs: let big kept buffers go first, so they do not add to the
            // peak (those within the cache budget stay, for the next run).
            state.trimSpares(toBytes: Self.cachedBufferBytes)
            var inputs: [Tensor] = []
            for id in node.inputs { inputs.append(try value(id, input: input, state: &state)) }
            if case .concatenate = node.operation, kernels != .reference {
                // Into a buffer kept between runs: a concatenation is often the widest map of its network (SPAN's
                // four blocks), and fresh memory of that size costs a page fault per page at every run.
                let shape = try Graph.shape(of: node, inputShapes: inputs.map(\.shape), graphInput: [])
                var output = state.buffer(count: shape.reduce(1, *))
                LayoutKernels.concatenateChannels(inputs, into: &output)
                state.values[index] = Tensor(shape: shape, scalars: output)
            } else {
                state.values[index] = try Self.evaluate(node, inputs: inputs, kernels: kernels)
            }
        }
        // Recomputed inputs are rebuilt where they are next needed.
        for id in node.inputs where recomputed.contains(id) { state.values[id] = nil }
    }

    /// Runs a convolution step whose kernel may add its residual in place (Winograd, bfloat16) into a reused buffer,
    /// or into its residual's buffer when this step is the residual's last reader.
    private func runInPlaceCapable(
        _ convolution: some InPlaceResidualConvolution, node: Node, at index: Int, input: Tensor,
        state: inout RunState
    ) throws(GraphError) {
        let source = try value(node.inputs[0], input: input, state: &state)
        let shape = FeatureMapShape(nhwc: source.shape)!
        let outShape = convolution.geometry.outputShape(height: shape.height, width: shape.width)
        var output: [Float]
        var residual: [Float] = []
        var inPlace = false
        if node.inputs.count > 2 {
            let residualNode = node.inputs[2]
            if residualNode != node.inputs[0], consumes(residualNode, at: index), steps[residualNode].isComputed {
                _ = try value(residualNode, input: input, state: &state)  // computed if need be, no copy held here
                output = state.take(residualNode)  // Now the only reference: written in place, not copied.
                inPlace = true
            } else {
                residual = try value(residualNode, input: input, state: &state).scalars
                output = state.buffer(count: outShape.elementCount)
            }
        } else {
            output = state.buffer(count: outShape.elementCount)
        }
        let addsResidual = node.inputs.count > 2
        source.scalars.withUnsafeBufferPointer { sourceBuffer in
            residual.withUnsafeBufferPointer { residualBuffer in
                output.withUnsafeMutableBufferPointer { target in
                    convolution.run(
                        input: sourceBuffer, height: shape.height, width: shape.width, output: target,
                        residual: addsResidual ? (inPlace ? UnsafeBufferPointer(target) : residualBuffer) : nil,
                        pool: .shared)
                }
            }
        }
        state.values[index] = Tensor(shape: outShape.nhwc, scalars: output)
    }

    /// Runs a direct-convolution step into a reused buffer (its padded input too).
    private func runDirect(
        _ convolution: DirectConvolution, node: Node, at index: Int, input: Tensor, state: inout RunState
    ) throws(GraphError) {
        let source = try value(node.inputs[0], input: input, state: &state)
        let residual = node.inputs.count > 2 ? try value(node.inputs[2], input: input, state: &state).scalars : []
        let shape = FeatureMapShape(nhwc: source.shape)!
        let outShape = convolution.geometry.outputShape(height: shape.height, width: shape.width)
        var output = state.buffer(count: outShape.elementCount)
        let paddedCount = convolution.paddedCount(height: shape.height, width: shape.width)
        var scratch = paddedCount > 0 ? state.buffer(count: paddedCount) : []
        source.scalars.withUnsafeBufferPointer { sourceBuffer in
            residual.withUnsafeBufferPointer { residualBuffer in
                scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                    output.withUnsafeMutableBufferPointer { target in
                        convolution.run(
                            input: sourceBuffer, height: shape.height, width: shape.width, output: target,
                            residual: node.inputs.count > 2 ? residualBuffer : nil, paddingScratch: scratchBuffer)
                    }
                }
            }
        }
        state.keep(scratch)
        state.values[index] = Tensor(shape: outShape.nhwc, scalars: output)
    }

    /// Releases the values step `index` read for the last time (or, for recomputed values, read until much later),
    /// keeping their buffers for reuse.
    private func release(after index: Int, state: inout RunState) {
        for id in graph.nodes[index].inputs {
            guard state.values[id] != nil, !recomputed.contains(id), steps[id].isComputed, readers[id].last == index
            else { continue }
            state.keep(state.take(id))
        }
    }

    /// Computes one node from its input values.
    static func evaluate(_ node: Node, inputs: [Tensor], kernels: KernelChoice) throws(GraphError) -> Tensor {
        let inputShapes = inputs.map(\.shape)
        _ = try Graph.shape(of: node, inputShapes: inputShapes, graphInput: [])
        let fast = kernels != .reference
        switch node.operation {
        case .input, .constant:
            throw GraphError(.unsupported, node: node.name, "inputs and constants are not evaluated")
        case .convolution(let geometry, let epilogue):
            if fast {
                return DirectConvolution(weights: inputs[1], geometry: geometry, epilogue: epilogue)(
                    inputs[0], residual: inputs.count > 2 ? inputs[2] : nil)
            }
            return ReferenceKernels.convolution(
                inputs[0], weights: inputs[1], geometry: geometry, epilogue: epilogue,
                residual: inputs.count > 2 ? inputs[2] : nil)
        case .binary(let op):
            return fast ? ElementwiseKernels.binary(op, inputs[0], inputs[1]) : ReferenceKernels.binary(op, inputs[0], inputs[1])
        case .unary(let op):
            return fast ? ElementwiseKernels.unary(op, inputs[0]) : ReferenceKernels.unary(op, inputs[0])
        case .sigmoidGate(let offset):
            return fast
                ? ElementwiseKernels.sigmoidGate(inputs[0], inputs[1], offset: offset)
                : ReferenceKernels.sigmoidGate(inputs[0], inputs[1], offset: offset)
        case .activation(let activation):
            let x = inputs[0]
            let channels = x.shape.last ?? 1
            if case .prelu(let slopes) = activation, slopes.count != channels {
                throw GraphError(.shapeMismatch, node: node.name, "\(slopes.count) slopes for \(channels) channels")
            }
            var out = x.scalars
            for index in out.indices { out[index] = activation.apply(out[index], channel: index % channels) }
            return Tensor(shape: x.shape, scalars: out)
        case .depthToSpace(let s):
            return fast ? LayoutKernels.depthToSpace(inputs[0], blockSize: s) : ReferenceKernels.depthToSpace(inputs[0], blockSize: s)
        case .transpose(let permutation):
            return fast
                ? LayoutKernels.transpose(inputs[0], permutation: permutation)
                : ReferenceKernels.transpose(inputs[0], permutation: permutation)
        case .concatenate:
            return fast ? LayoutKernels.concatenateChannels(inputs) : ReferenceKernels.concatenateChannels(inputs)
        case .resample(let mode, let scaleY, let scaleX):
            let shape = FeatureMapShape(nhwc: inputs[0].shape)!
            return ReferenceKernels.resample(
                inputs[0], mode: mode, outputHeight: Int(Float(shape.height) * scaleY),
                outputWidth: Int(Float(shape.width) * scaleX), scaleY: scaleY, scaleX: scaleX)
        case .pixelShuffle(let s):
            return fast
                ? LayoutKernels.pixelShuffle(inputs[0], blockSize: s)
                : ReferenceKernels.pixelShuffle(inputs[0], blockSize: s)
        case .channelReduce(let reduction):
            return ReferenceKernels.channelReduce(inputs[0], reduction)
        case .pad(let top, let left, let bottom, let right, let mode):
            return ReferenceKernels.pad(inputs[0], top: top, left: left, bottom: bottom, right: right, mode: mode)
        case .crop(let top, let left, let bottom, let right):
            return fast
                ? LayoutKernels.crop(inputs[0], top: top, left: left, bottom: bottom, right: right)
                : ReferenceKernels.crop(inputs[0], top: top, left: left, bottom: bottom, right: right)
        case .spaceToDepth(let s):
            return fast
                ? LayoutKernels.spaceToDepth(inputs[0], blockSize: s)
                : ReferenceKernels.spaceToDepth(inputs[0], blockSize: s)
        case .globalAveragePool:
            return ReferenceKernels.globalAveragePool(inputs[0])
        case .addCropped(let top, let left, let bottom, let right):
            if fast, let sum = ElementwiseKernels.addCropped(
                inputs[0], top: top, left: left, bottom: bottom, right: right, inputs[1])
            {
                return sum
            }
            let cropped = ReferenceKernels.crop(inputs[0], top: top, left: left, bottom: bottom, right: right)
            return fast
                ? ElementwiseKernels.binary(.add, cropped, inputs[1]) : ReferenceKernels.binary(.add, cropped, inputs[1])
        }
    }
}
