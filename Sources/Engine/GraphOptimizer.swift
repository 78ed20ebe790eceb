import Kernels
import Tensor

/// Load-time rewrites: constant folding, activation patterns, convolution output-stage fusion, dead-node removal.
///
/// Every rewrite performs the same float operations in the same order as the graph it replaces, so an optimized
/// graph computes bit-identical results (the tests check it against the unoptimized one).
package enum GraphOptimizer {
    /// All passes, in order.
    package static func optimize(_ graph: Graph) -> Graph {
        var g = graph
        foldConstants(&g)
        recognizeActivations(&g)
        fuseSigmoidGates(&g)
        removeDeadNodes(&g)
        fuseConvolutionTails(&g)
        fuseCroppedSums(&g)
        removeDeadNodes(&g)
        return g
    }

    /// Replaces `Add(Crop(x), y)` (either order) by one `addCropped` node when the crop is read by nothing else: a
    /// U-Net's skip connection in one pass over memory instead of two. The same additions, so the same values. After
    /// `fuseConvolutionTails`, which takes a sum that follows a convolution into its epilogue instead.
    package static func fuseCroppedSums(_ g: inout Graph) {
        let counts = g.consumerCounts()
        let outputNodes = Set(g.outputs.map(\.node))
        for id in g.nodes.indices {
            guard case .binary(.add) = g.nodes[id].operation, g.nodes[id].inputs.count == 2 else { continue }
            let (p, q) = (g.nodes[id].inputs[0], g.nodes[id].inputs[1])
            for (cropNode, other) in [(p, q), (q, p)] {
                guard case .crop(let top, let left, let bottom, let right) = g.nodes[cropNode].operation,
                    counts[cropNode] == 1, !outputNodes.contains(cropNode), cropNode != other
                else { continue }
                g.replace(
                    id,
                    with: Node(
                        name: g.nodes[id].name,
                        operation: .addCropped(top: top, left: left, bottom: bottom, right: right),
                        inputs: [g.nodes[cropNode].inputs[0], other]))
                break
            }
        }
    }

    /// Makes the outputs NHWC, the layout the pipeline takes: an output produced by an NHWC → NCHW Transpose (the
    /// dnn_superres exports end with one, `NCHW_output`) reads the transpose's input instead. Not one of `optimize`'s
    /// passes, since it changes what the graph outputs: the model loader applies it to super-resolution networks.
    package static func dropFinalTransposes(_ g: inout Graph) {
        g.outputs = g.outputs.map { output in
            let node = g.nodes[output.node]
            if case .transpose(let permutation) = node.operation, permutation == [0, 3, 1, 2], node.inputs.count == 1 {
                return (output.name, node.inputs[0])
            }
            return output
        }
        removeDeadNodes(&g)
    }

    /// Evaluates every node whose inputs are all constants (with the reference kernels), once.
    package static func foldConstants(_ g: inout Graph) {
        for id in g.nodes.indices {
            let node = g.nodes[id]
            switch node.operation {
            case .input, .constant: continue
            default: break
            }
            let constants = node.inputs.compactMap { g.constant($0) }
            guard constants.count == node.inputs.count, !constants.isEmpty else { continue }
            guard let value = try? GraphExecutor.evaluate(node, inputs: constants, kernels: .reference) else { continue }
            g.replace(id, with: Node(name: node.name, operation: .constant(value)))
        }
    }

    /// Replaces the element-wise spellings of leaky ReLU and PReLU in these exports by one activation node:
    /// LapSRN's `Relu(x) - c·Relu(-1·x)` and FSRCNN's `Relu(x) + α·(x - |x|)·0.5`.
    package static func recognizeActivations(_ g: inout Graph) {
        for id in g.nodes.indices {
            if let (x, activation) = leakyReLU(at: id, in: g) ?? prelu(at: id, in: g) {
                g.replace(id, with: Node(name: g.nodes[id].name, operation: .activation(activation), inputs: [x]))
            }
        }
    }

    /// Replaces SPAN's attention gate, `(a + b) · (sigmoid(a) − c)` spelled as sigmoid, subtract, add and multiply
    /// nodes, by one `sigmoidGate(offset: c)` node: one pass over the feature map instead of four. Only when the
    /// sigmoid, the difference and the sum are read by nothing else.
    package static func fuseSigmoidGates(_ g: inout Graph) {
        let counts = g.consumerCounts()
        let outputNodes = Set(g.outputs.map(\.node))
        func isPrivate(_ id: NodeID) -> Bool { counts[id] == 1 && !outputNodes.contains(id) }
        for id in g.nodes.indices {
            guard case .binary(.multiply) = g.nodes[id].operation, g.nodes[id].inputs.count == 2 else { continue }
            let (p, q) = (g.nodes[id].inputs[0], g.nodes[id].inputs[1])
            for (gate, sum) in [(p, q), (q, p)] {
                // gate = sigmoid(a) − c, with c a scalar constant.
                guard case .binary(.subtract) = g.nodes[gate].operation, g.nodes[gate].inputs.count == 2,
                    let c = g.constant(g.nodes[gate].inputs[1]), c.count == 1
                else { continue }
                let sigmoid = g.nodes[gate].inputs[0]
                guard case .unary(.sigmoid) = g.nodes[sigmoid].operation, let a = g.nodes[sigmoid].inputs.first else {
                    continue
                }
                // sum = a + b (either order), b a feature map.
                guard case .binary(.add) = g.nodes[sum].operation, g.nodes[sum].inputs.count == 2,
                    g.nodes[sum].inputs.contains(a)
                else { continue }
                let b = g.nodes[sum].inputs[0] == a ? g.nodes[sum].inputs[1] : g.nodes[sum].inputs[0]
                guard g.constant(b) == nil, isPrivate(gate), isPrivate(sigmoid), isPrivate(sum) else { continue }
                g.replace(
                    id, with: Node(name: g.nodes[id].name, operation: .sigmoidGate(offset: c.scalars[0]), inputs: [a, b]))
                break
            }
        }
    }

    /// Folds bias adds, activations, scalar scaling and residual adds that follow a convolution into its epilogue.
    package static func fuseConvolutionTails(_ g: inout Graph) {
        var counts = g.consumerCounts()
        let outputNodes = Set(g.outputs.map(\.node))
        for id in g.nodes.indices {
            guard case .convolution(let geometry, var epilogue) = g.nodes[id].operation else { continue }
            var inputs = g.nodes[id].inputs
            var tail = id
            fusing: while counts[tail] == 1, !outputNodes.contains(tail),
                let next = g.consumers(of: tail).first
            {
                let nextNode = g.nodes[next]
                let other = nextNode.inputs.first { $0 != tail }
                switch nextNode.operation {
                case .binary(.add) where nextNode.inputs.count == 2:
                    guard let other else { break fusing }
                    if let bias = g.constant(other), epilogue.bias == nil, epilogue.activation == .none,
                        epilogue.scale == nil, !epilogue.addsResidual,
                        let vector = perChannel(bias, channels: geometry.outputChannels)
                    {
                        epilogue.bias = vector
                    } else if g.constant(other) == nil, !epilogue.addsResidual, other < next {
                        epilogue.addsResidual = true
                        inputs.append(other)
                    } else {
                        break fusing
                    }
                case .sigmoidGate(let offset) where nextNode.inputs.count == 2 && nextNode.inputs[0] == tail:
                    // SPAN's gate on this convolution's output (the operand under the sigmoid) and a feature map.
                    guard let other, g.constant(other) == nil, !epilogue.addsResidual, other < next else {
                        break fusing
                    }
                    epilogue = epilogue.gatingResidual(offset: offset)
                    inputs.append(other)
                case .unary(.relu) where epilogue.activation == .none && epilogue.scale == nil && !epilogue.addsResidual:
                    epilogue.activation = .relu
                case .unary(.swish)
                where epilogue.activation == .none && epilogue.scale == nil && !epilogue.addsResidual:
                    epilogue.activation = .swish
                case .activation(let activation)
                where epilogue.activation == .none && epilogue.scale == nil && !epilogue.addsResidual:
                    if case .prelu(let slopes) = activation, slopes.count != geometry.outputChannels { break fusing }
                    epilogue.activation = activation
                case .binary(.multiply) where epilogue.scale == nil && !epilogue.addsResidual:
                    guard let other, let factor = g.constant(other), factor.count == 1, factor.rank <= 4 else {
                        break fusing
                    }
                    epilogue.scale = factor.scalars[0]
                default:
                    break fusing
                }
                tail = next
            }
            guard tail != id else { continue }
            // The fused node takes the place of the last fused op; everything it reads comes before that.
            g.replace(
                tail, with: Node(name: g.nodes[tail].name, operation: .convolution(geometry, epilogue), inputs: inputs))
            counts = g.consumerCounts()
        }
    }

    /// Drops every node no output depends on.
    package static func removeDeadNodes(_ g: inout Graph) {
        var live = [Bool](repeating: false, count: g.nodes.count)
        var stack = g.outputs.map(\.node)
        while let id = stack.popLast() {
            if live[id] { continue }
            live[id] = true
            stack.append(contentsOf: g.nodes[id].inputs)
        }
        g.compact(keeping: live)
    }

    // MARK: - Patterns

    private static func perChannel(_ tensor: Tensor, channels: Int) -> [Float]? {
        if tensor.count == channels, tensor.shape.last == channels, tensor.shape.dropLast().allSatisfy({ $0 == 1 }) {
            return tensor.scalars
        }
        if tensor.count == 1 { return [Float](repeating: tensor.scalars[0], count: channels) }
        return nil
    }

    private static func operation(_ g: Graph, _ id: NodeID) -> Operation { g.nodes[id].operation }

    /// `Sub(Relu(x), Mul(c, Relu(Mul(-1, x))))` → leaky ReLU with slope `c`.
    private static func leakyReLU(at id: NodeID, in g: Graph) -> (NodeID, Activation)? {
        guard case .binary(.subtract) = operation(g, id) else { return nil }
        let (positive, negativePart) = (g.nodes[id].inputs[0], g.nodes[id].inputs[1])
        guard case .unary(.relu) = operation(g, positive) else { return nil }
        let x = g.nodes[positive].inputs[0]
        guard case .binary(.multiply) = operation(g, negativePart),
            let (slope, reluOfNegated) = constantAndOther(negativePart, in: g), slope.count == 1,
            case .unary(.relu) = operation(g, reluOfNegated)
        else { return nil }
        let negated = g.nodes[reluOfNegated].inputs[0]
        guard isNegation(of: x, at: negated, in: g) else { return nil }
        return (x, .leakyReLU(slope: slope.scalars[0]))
    }

    /// `Add(Relu(x), α·(x - |x|)·0.5)` (factors in any order) → PReLU with slopes α.
    private static func prelu(at id: NodeID, in g: Graph) -> (NodeID, Activation)? {
        guard case .binary(.add) = operation(g, id) else { return nil }
        for (positive, negativePart) in [(0, 1), (1, 0)].map({ (g.nodes[id].inputs[$0.0], g.nodes[id].inputs[$0.1]) }) {
            guard case .unary(.relu) = operation(g, positive) else { continue }
            let x = g.nodes[positive].inputs[0]
            // Collect the constant factors of the product chain down to `x - |x|`.
            var factors: [Tensor] = []
            var current = negativePart
            while case .binary(.multiply) = operation(g, current), let (factor, rest) = constantAndOther(current, in: g) {
                factors.append(factor)
                current = rest
            }
            guard case .binary(.subtract) = operation(g, current), g.nodes[current].inputs[0] == x,
                case .unary(.abs) = operation(g, g.nodes[current].inputs[1]),
                g.nodes[g.nodes[current].inputs[1]].inputs[0] == x, factors.count == 2
            else { continue }
            // One factor must be exactly 0.5 (so (x - |x|)·0.5 = x for x < 0 exactly); the other is α.
            guard let half = factors.firstIndex(where: { $0.count == 1 && $0.scalars[0] == 0.5 }) else { continue }
            let alpha = factors[1 - half]
            if alpha.count == 1 { return (x, .leakyReLU(slope: alpha.scalars[0])) }
            guard alpha.shape.dropLast().allSatisfy({ $0 == 1 }) else { continue }
            return (x, .prelu(slopes: alpha.scalars))
        }
        return nil
    }

    private static func constantAndOther(_ id: NodeID, in g: Graph) -> (Tensor, NodeID)? {
        let inputs = g.nodes[id].inputs
        guard inputs.count == 2 else { return nil }
        if let c = g.constant(inputs[0]), g.constant(inputs[1]) == nil { return (c, inputs[1]) }
        if let c = g.constant(inputs[1]), g.constant(inputs[0]) == nil { return (c, inputs[0]) }
        return nil
    }

    private static func isNegation(of x: NodeID, at id: NodeID, in g: Graph) -> Bool {
        switch operation(g, id) {
        case .unary(.negate): return g.nodes[id].inputs[0] == x
        case .binary(.multiply):
            guard let (c, other) = constantAndOther(id, in: g) else { return false }
            return other == x && c.count == 1 && c.scalars[0] == -1
        default: return false
        }
    }
}
