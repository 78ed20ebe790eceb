import Kernels
import Tensor

/// Identifies a node (and the one value it produces) by its index in `Graph.nodes`.
package typealias NodeID = Int

/// One operation of a network. Every node produces one tensor; feature maps are NHWC with a batch of one.
package enum Operation: Sendable, Equatable {
    /// A graph input, fed at run time.
    case input
    /// A constant tensor (weights, biases, scalars).
    case constant(Tensor)
    /// Convolution of input 0 with the HWIO weights of input 1 (a constant); with `epilogue.addsResidual`,
    /// input 2 is the residual added last.
    case convolution(ConvolutionGeometry, ConvolutionEpilogue)
    /// An element-wise operation of inputs 0 and 1, broadcasting.
    case binary(BinaryOperation)
    /// An element-wise operation of input 0.
    case unary(UnaryOperation)
    /// Leaky ReLU with a per-channel (or single) slope, from a pattern of simpler ops.
    case activation(Activation)
    /// TensorFlow DepthToSpace (DCR order) with this block size.
    case depthToSpace(blockSize: Int)
    /// Axis permutation.
    case transpose(permutation: [Int])
    /// Channel concatenation of all inputs (NHWC, equal height and width).
    case concatenate
    /// Resampling to `height × scaleY` by `width × scaleX` (rounded down), as ncnn's `Interp`.
    case resample(ResampleMode, scaleY: Float, scaleX: Float)
    /// PyTorch `PixelShuffle` (CRD order) with this block size.
    case pixelShuffle(blockSize: Int)
    /// `(a + b) · (sigmoid(a) − offset)` of inputs a and b (broadcasting): SPAN's attention gate, fused from four
    /// element-wise nodes into one pass by the optimizer.
    case sigmoidGate(offset: Float)
    /// The map without `top`, `left`, `bottom` and `right` pixels at its edges (Real-CUGAN's skip connections).
    case crop(top: Int, left: Int, bottom: Int, right: Int)
    /// Each `blockSize × blockSize` block of pixels folded into channels (TensorFlow `SpaceToDepth` order); a stride-s
    /// convolution with an s × s kernel is this and a 1 × 1 convolution.
    case spaceToDepth(blockSize: Int)
    /// The mean of each channel over the whole map, `[1, 1, 1, C]` (squeeze-and-excitation blocks).
    case globalAveragePool
    /// Each pixel's channels reduced to one (mean, maximum or sum): `[1, H, W, 1]` (a layer norm's statistics, a
    /// softmax's maximum and sum).
    case channelReduce(ChannelReduction)
    /// The map with `top`, `left`, `bottom` and `right` pixels added at its edges, mirrored or repeated (ONNX `Pad`
    /// in reflect or edge mode; zero padding is a convolution's own).
    case pad(top: Int, left: Int, bottom: Int, right: Int, mode: PadMode)
    /// Input 0 without `top`, `left`, `bottom` and `right` pixels at its edges, plus input 1: a U-Net's skip
    /// connection (Crop then Add) in one pass, made by the optimizer.
    case addCropped(top: Int, left: Int, bottom: Int, right: Int)

    /// A short name for messages and op counts.
    package var kind: String {
        switch self {
        case .input: "Input"
        case .constant: "Constant"
        case .convolution(let g, _): "Conv\(g.kernelHeight)x\(g.kernelWidth)"
        case .binary(let op): op.rawValue.capitalized
        case .unary(let op): op.rawValue.capitalized
        case .activation: "Activation"
        case .depthToSpace: "DepthToSpace"
        case .transpose: "Transpose"
        case .concatenate: "Concat"
        case .resample(let mode, _, _): "Resample(\(mode.rawValue))"
        case .pixelShuffle: "PixelShuffle"
        case .sigmoidGate: "SigmoidGate"
        case .crop: "Crop"
        case .pad(_, _, _, _, let mode): "Pad(\(mode.rawValue))"
        case .channelReduce(let reduction): "Channel\(reduction.rawValue.capitalized)"
        case .spaceToDepth: "SpaceToDepth"
        case .globalAveragePool: "GlobalAveragePool"
        case .addCropped: "AddCropped"
        }
    }
}

/// A node: an operation, the nodes it reads, and the name it had in the model file.
package struct Node: Sendable, Equatable {
    /// The node's name in the model file, used in messages.
    package var name: String
    /// What the node computes.
    package var operation: Operation
    /// The nodes whose values it reads, in operand order; each comes earlier in the graph.
    package var inputs: [NodeID]

    /// A node running `operation` on the values of `inputs`.
    package init(name: String, operation: Operation, inputs: [NodeID] = []) {
        self.name = name
        self.operation = operation
        self.inputs = inputs
    }
}

/// A network as a list of nodes in topological order (every node's inputs come before it).
package struct Graph: Sendable, Equatable {
    /// Every node, in topological order; a node's id is its index here.
    package private(set) var nodes: [Node] = []
    /// Named outputs, in the order the model file lists them.
    package var outputs: [(name: String, node: NodeID)] {
        get { outputList.map { ($0.name, $0.node) } }
        set { outputList = newValue.map { NamedOutput(name: $0.name, node: $0.node) } }
    }
    private var outputList: [NamedOutput] = []

    private struct NamedOutput: Sendable, Equatable {
        var name: String
        var node: NodeID
    }

    /// An empty graph, with no nodes or outputs.
    package init() {}

    /// Appends a node whose inputs are already in the graph; returns its id.
    @discardableResult
    package mutating func add(_ node: Node) -> NodeID {
        precondition(node.inputs.allSatisfy { $0 < nodes.count }, "inputs of \(node.name) must come first")
        nodes.append(node)
        return nodes.count - 1
    }

    /// Convenience for `add(Node(...))`.
    @discardableResult
    package mutating func add(_ name: String, _ operation: Operation, _ inputs: [NodeID] = []) -> NodeID {
        add(Node(name: name, operation: operation, inputs: inputs))
    }

    /// Marks `node` as an output called `name`.
    package mutating func addOutput(_ name: String, _ node: NodeID) {
        outputList.append(NamedOutput(name: name, node: node))
    }

    /// The input nodes, in order.
    package var inputNodes: [NodeID] { nodes.indices.filter { nodes[$0].operation == .input } }

    /// The constant tensor of `node`, if it is a constant.
    package func constant(_ node: NodeID) -> Tensor? {
        if case .constant(let tensor) = nodes[node].operation { return tensor }
        return nil
    }

    /// Replaces the value of constant `node` (an executor drops weights its kernels hold in their own form).
    package mutating func replaceConstant(_ node: NodeID, with tensor: Tensor) {
        precondition(constant(node) != nil, "node \(node) is not a constant")
        nodes[node].operation = .constant(tensor)
    }

    /// How many nodes (and outputs) read each node.
    package func consumerCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: nodes.count)
        for node in nodes { for input in node.inputs { counts[input] += 1 } }
        for output in outputList { counts[output.node] += 1 }
        return counts
    }

    /// The nodes that read `node`.
    package func consumers(of node: NodeID) -> [NodeID] {
        nodes.indices.filter { nodes[$0].inputs.contains(node) }
    }

    /// Number of nodes of each kind (constants and inputs excluded).
    package var operationCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for node in nodes where node.operation != .input {
            if case .constant = node.operation { continue }
            counts[node.operation.kind, default: 0] += 1
        }
        return counts
    }

    /// Rebuilds the graph keeping only `kept` nodes (in order), with inputs renumbered by `remap`.
    mutating func compact(keeping kept: [Bool], replacing replacement: [NodeID: NodeID] = [:]) {
        var newIndex = [Int](repeating: -1, count: nodes.count)
        var newNodes: [Node] = []
        func resolve(_ id: NodeID) -> NodeID {
            var current = id
            while let next = replacement[current] { current = next }
            return current
        }
        for (index, node) in nodes.enumerated() where kept[index] {
            var copy = node
            copy.inputs = node.inputs.map { newIndex[resolve($0)] }
            precondition(copy.inputs.allSatisfy { $0 >= 0 }, "compaction dropped an input of \(node.name)")
            newIndex[index] = newNodes.count
            newNodes.append(copy)
        }
        outputList = outputList.map { NamedOutput(name: $0.name, node: newIndex[resolve($0.node)]) }
        nodes = newNodes
    }

    /// Replaces node `id` in place.
    mutating func replace(_ id: NodeID, with node: Node) {
        precondition(node.inputs.allSatisfy { $0 < id }, "replacement of \(nodes[id].name) reads a later node")
        nodes[id] = node
    }
}

/// Errors from building, checking or running a graph.
package struct GraphError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure: shapes that do not fit, a wrong input, or an operation that cannot run.
    package enum Code: String, Sendable { case shapeMismatch, badInput, unsupported }
    /// What kind of error this is.
    package let code: Code
    /// The node concerned, if any.
    package let node: String?
    /// What went wrong, in words.
    package let message: String

    /// An error of kind `code`, about `node` if given, with `message`.
    package init(_ code: Code, node: String? = nil, _ message: String) {
        self.code = code
        self.node = node
        self.message = message
    }

    /// The message, prefixed with the node's name when there is one.
    package var description: String { node.map { "node '\($0)': \(message)" } ?? message }
}
