import Kernels
import Tensor

/// Which kernels run a graph.
public enum KernelChoice: String, Sendable, CaseIterable {
    /// The plain reference kernels: slow, obviously correct.
    case reference
    /// The optimized kernels (the default).
    case fast
}

/// A graph prepared to run: optimized once, convolution weights packed once; `run` may be called from any thread.
public final class GraphExecutor: Sendable {
    /// The optimized graph this executor runs.
    public let graph: Graph
    public let kernels: KernelChoice
    private let steps: [Step]
    private let lastUse: [Int]

    private enum Step: Sendable {
        case input
        case constant(Tensor)
        case direct(DirectConvolution)
        case node(Node)
    }

    /// Optimizes `graph` (unless `optimize` is false) and prepares its kernels.
    public init(graph: Graph, kernels: KernelChoice = .fast, optimize: Bool = true) throws(GraphError) {
        let prepared = optimize ? GraphOptimizer.optimize(graph) : graph
        guard prepared.inputNodes.count == 1 else {
            throw GraphError(.unsupported, "the graph has \(prepared.inputNodes.count) inputs; one is supported")
        }
        var steps: [Step] = []
        for node in prepared.nodes {
            switch node.operation {
            case .input: steps.append(.input)
            case .constant(let tensor): steps.append(.constant(tensor))
            case .convolution(let geometry, let epilogue) where kernels == .fast:
                guard let weights = prepared.constant(node.inputs[1]) else {
                    throw GraphError(.unsupported, node: node.name, "convolution weights are not constant")
                }
                steps.append(.direct(DirectConvolution(weights: weights, geometry: geometry, epilogue: epilogue)))
            default: steps.append(.node(node))
            }
        }
        // The last step that reads each value, so intermediate tensors are released as soon as possible.
        var lastUse = [Int](repeating: -1, count: prepared.nodes.count)
        for (index, node) in prepared.nodes.enumerated() { for input in node.inputs { lastUse[input] = index } }
        for output in prepared.outputs { lastUse[output.node] = Int.max }
        self.graph = prepared
        self.kernels = kernels
        self.steps = steps
        self.lastUse = lastUse
    }

    /// The output shapes for an input of `inputShape`, checked without computing anything.
    public func outputShapes(inputShape: [Int]) throws(GraphError) -> [String: [Int]] {
        let shapes = try graph.inferShapes(inputShape: inputShape)
        return Dictionary(graph.outputs.map { ($0.name, shapes[$0.node]) }, uniquingKeysWith: { a, _ in a })
    }

    /// Runs the network on `input` (NHWC); returns every named output.
    public func run(_ input: Tensor) throws(GraphError) -> [String: Tensor] {
        _ = try graph.inferShapes(inputShape: input.shape)
        var values = [Tensor?](repeating: nil, count: steps.count)
        for (index, step) in steps.enumerated() {
            let node = graph.nodes[index]
            let value: Tensor
            switch step {
            case .input: value = input
            case .constant(let tensor): value = tensor
            case .direct(let convolution):
                value = convolution(values[node.inputs[0]]!, residual: node.inputs.count > 2 ? values[node.inputs[2]] : nil)
            case .node(let node):
                value = try Self.evaluate(node, inputs: node.inputs.map { values[$0]! }, kernels: kernels)
            }
            values[index] = value
            for input in node.inputs where lastUse[input] == index {
                if case .constant = steps[input] { continue }
                values[input] = nil
            }
        }
        var outputs: [String: Tensor] = [:]
        for output in graph.outputs { outputs[output.name] = values[output.node]! }
        return outputs
    }

    /// Runs the network and returns output `name` (or the first output).
    public func run(_ input: Tensor, output name: String? = nil) throws(GraphError) -> Tensor {
        let all = try run(input)
        let key = name ?? graph.outputs[0].name
        guard let value = all[key] else { throw GraphError(.badInput, "no output named \(key)") }
        return value
    }

    /// Computes one node from its input values.
    static func evaluate(_ node: Node, inputs: [Tensor], kernels: KernelChoice) throws(GraphError) -> Tensor {
        let inputShapes = inputs.map(\.shape)
        _ = try Graph.shape(of: node, inputShapes: inputShapes, graphInput: [])
        let fast = kernels == .fast
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
            return ReferenceKernels.concatenateChannels(inputs)
        case .resample(let mode, let scaleY, let scaleX):
            let shape = FeatureMapShape(nhwc: inputs[0].shape)!
            return ReferenceKernels.resample(
                inputs[0], mode: mode, outputHeight: Int(Float(shape.height) * scaleY),
                outputWidth: Int(Float(shape.width) * scaleX), scaleY: scaleY, scaleX: scaleX)
        case .pixelShuffle(let s):
            return ReferenceKernels.pixelShuffle(inputs[0], blockSize: s)
        }
    }
}
