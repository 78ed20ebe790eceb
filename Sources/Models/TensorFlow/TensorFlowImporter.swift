import Engine
import Kernels
import Tensor

/// Turns a frozen TensorFlow `GraphDef` (the `.pb` files of OpenCV's dnn_superres) into an engine `Graph`.
///
/// Quantized weights (`Dequantize` of quint8 constants, MIN_FIRST mode) are dequantized here, once, the way
/// OpenCV's importer does. Every other op maps onto one engine operation; an unknown op is an error naming it.
package enum TensorFlowImporter {
    /// The TensorFlow ops this importer understands.
    package static let supportedOps: Set<String> = [
        "Placeholder", "Const", "Identity", "Dequantize", "Conv2D", "Add", "AddV2", "BiasAdd", "Sub", "Mul",
        "Maximum", "Minimum", "Abs", "Relu", "Neg", "Tanh", "Sigmoid", "DepthToSpace", "Transpose",
    ]

    /// Builds the graph; `source` names the file in errors.
    package static func makeGraph(_ def: GraphDef, source: String) throws(ModelError) -> Graph {
        var builder = Builder(source: source)
        for node in try topologicallySorted(def.nodes, source: source) { try builder.add(node) }
        try builder.markOutputs(def)
        return builder.graph
    }

    /// The nodes ordered so that every node comes after its inputs (file order where free): a GraphDef does not
    /// promise any order. A cycle or an input that names no node is an error.
    static func topologicallySorted(_ nodes: [NodeDef], source: String) throws(ModelError) -> [NodeDef] {
        var index: [String: Int] = [:]
        for (position, node) in nodes.enumerated() where index[node.name] == nil { index[node.name] = position }
        var pending = [Int](repeating: 0, count: nodes.count)
        var readers = [[Int]](repeating: [], count: nodes.count)
        for (position, node) in nodes.enumerated() {
            for input in node.inputs {
                let name = Builder.baseName(input)
                guard let producer = index[name] else {
                    throw ModelError(.malformed, source: source, node: node.name, "input '\(input)' names no node")
                }
                pending[position] += 1
                readers[producer].append(position)
            }
        }
        // Kahn's algorithm with a min-heap substitute: ready nodes are taken in file order.
        var ready = pending.indices.filter { pending[$0] == 0 }.reversed().map { $0 }
        var order: [NodeDef] = []
        order.reserveCapacity(nodes.count)
        while let next = ready.popLast() {
            order.append(nodes[next])
            var released: [Int] = []
            for reader in readers[next] {
                pending[reader] -= 1
                if pending[reader] == 0 { released.append(reader) }
            }
            if !released.isEmpty {
                ready.append(contentsOf: released)
                ready.sort(by: >)
            }
        }
        guard order.count == nodes.count else {
            let stuck = nodes.indices.first { pending[$0] > 0 }.map { nodes[$0].name } ?? "?"
            throw ModelError(.malformed, source: source, node: stuck, "the graph has a cycle")
        }
        return order
    }

    private struct Builder {
        let source: String
        var graph = Graph()
        var ids: [String: NodeID] = [:]
        var quantized: [String: (values: [UInt8], shape: [Int])] = [:]
        var consumed: Set<String> = []

        init(source: String) { self.source = source }

        func error(_ code: ModelError.Code, _ node: NodeDef, _ message: String) -> ModelError {
            ModelError(code, source: source, node: node.name, message)
        }

        static func baseName(_ input: String) -> String {
            let name = input.hasPrefix("^") ? String(input.dropFirst()) : input
            if let colon = name.lastIndex(of: ":"), name[name.index(after: colon)...].allSatisfy(\.isNumber) {
                return String(name[..<colon])
            }
            return name
        }

        func inputIDs(_ node: NodeDef, count: Int) throws(ModelError) -> [NodeID] {
            let names = node.dataInputs
            guard names.count == count else {
                throw error(.malformed, node, "\(node.op) takes \(count) inputs, found \(names.count)")
            }
            var result: [NodeID] = []
            for name in names {
                guard let id = ids[Self.baseName(name)] else {
                    throw error(.malformed, node, "input '\(name)' is not defined before this node")
                }
                result.append(id)
            }
            return result
        }

        func constant(_ node: NodeDef, input index: Int) throws(ModelError) -> Tensor {
            let name = Self.baseName(node.dataInputs[index])
            guard let id = ids[name], let tensor = graph.constant(id) else {
                throw error(.unsupportedAttribute, node, "input '\(name)' must be a constant")
            }
            return tensor
        }

        mutating func define(_ node: NodeDef, _ operation: Operation, _ inputs: [NodeID]) {
            ids[node.name] = graph.add(node.name, operation, inputs)
        }

        mutating func add(_ node: NodeDef) throws(ModelError) {
            guard ids[node.name] == nil, quantized[node.name] == nil else {
                throw error(.malformed, node, "the name is used twice")
            }
            for input in node.dataInputs { consumed.insert(Self.baseName(input)) }
            switch node.op {
            case "Placeholder":
                if let dtype = node.attributes["dtype"]?.dataType, dtype != .float {
                    throw error(.unsupportedAttribute, node, "input type \(dtype) (float32 expected)")
                }
                define(node, .input, [])
            case "Const":
                try addConstant(node)
            case "Identity":
                ids[node.name] = try inputIDs(node, count: 1)[0]
            case "Dequantize":
                try addDequantize(node)
            case "Conv2D":
                try addConvolution(node)
            case "Add", "AddV2", "BiasAdd":
                if node.op == "BiasAdd", let format = node.attributes["data_format"]?.string, format != "NHWC" {
                    throw error(.unsupportedAttribute, node, "data_format \(format) (NHWC expected)")
                }
                define(node, .binary(.add), try inputIDs(node, count: 2))
            case "Sub": define(node, .binary(.subtract), try inputIDs(node, count: 2))
            case "Mul": define(node, .binary(.multiply), try inputIDs(node, count: 2))
            case "Maximum": define(node, .binary(.maximum), try inputIDs(node, count: 2))
            case "Minimum": define(node, .binary(.minimum), try inputIDs(node, count: 2))
            case "Abs": define(node, .unary(.abs), try inputIDs(node, count: 1))
            case "Relu": define(node, .unary(.relu), try inputIDs(node, count: 1))
            case "Neg": define(node, .unary(.negate), try inputIDs(node, count: 1))
            case "Tanh": define(node, .unary(.tanh), try inputIDs(node, count: 1))
            case "Sigmoid": define(node, .unary(.sigmoid), try inputIDs(node, count: 1))
            case "DepthToSpace":
                guard let size = node.attributes["block_size"]?.int, (2...16).contains(size) else {
                    throw error(.unsupportedAttribute, node, "block_size must be 2...16")
                }
                if let format = node.attributes["data_format"]?.string, format != "NHWC" {
                    throw error(.unsupportedAttribute, node, "data_format \(format) (NHWC expected)")
                }
                define(node, .depthToSpace(blockSize: Int(size)), try inputIDs(node, count: 1))
            case "Transpose":
                let inputs = try inputIDs(node, count: 2)
                let permutation = try constant(node, input: 1).scalars.map { Int($0) }
                define(node, .transpose(permutation: permutation), [inputs[0]])
            default:
                throw error(.unsupportedOperation, node, "operation '\(node.op)' is not supported")
            }
        }

        mutating func addConstant(_ node: NodeDef) throws(ModelError) {
            guard let proto = node.constantValue else {
                throw error(.malformed, node, "Const without a tensor value")
            }
            do {
                if proto.dtype == .quint8 || proto.dtype == .uint8 {
                    if proto.dtype == .quint8 {
                        quantized[node.name] = (try proto.uint8Values(), proto.shapeDims)
                        return
                    }
                }
                define(node, .constant(try proto.tensor()), [])
            } catch {
                throw self.error(.malformed, node, "\(error)")
            }
        }

        mutating func addDequantize(_ node: NodeDef) throws(ModelError) {
            let names = node.dataInputs.map(Self.baseName)
            guard names.count == 3 else { throw error(.malformed, node, "Dequantize takes 3 inputs") }
            if let mode = node.attributes["mode"]?.string, mode != "MIN_FIRST" {
                throw error(.unsupportedAttribute, node, "Dequantize mode \(mode) (MIN_FIRST supported)")
            }
            guard let (values, shape) = quantized[names[0]] else {
                throw error(.unsupportedAttribute, node, "Dequantize input '\(names[0])' is not a quint8 constant")
            }
            guard let minID = ids[names[1]], let maxID = ids[names[2]],
                let minTensor = graph.constant(minID), let maxTensor = graph.constant(maxID),
                minTensor.count == 1, maxTensor.count == 1
            else { throw error(.unsupportedAttribute, node, "Dequantize range must be two scalar constants") }
            do {
                let floats = try QuantizedWeights.dequantizeMinFirst(
                    values, min: minTensor.scalars[0], max: maxTensor.scalars[0], node: node.name)
                define(node, .constant(Tensor(shape: shape, scalars: floats)), [])
            } catch {
                throw self.error(.malformed, node, "\(error)")
            }
        }

        mutating func addConvolution(_ node: NodeDef) throws(ModelError) {
            let inputs = try inputIDs(node, count: 2)
            let weights = try constant(node, input: 1)
            guard weights.rank == 4, weights.shape.allSatisfy({ $0 > 0 }) else {
                throw error(.unsupportedAttribute, node, "weights \(weights.shape) are not HWIO")
            }
            if let format = node.attributes["data_format"]?.string, format != "NHWC" {
                throw error(.unsupportedAttribute, node, "data_format \(format) (NHWC expected)")
            }
            for attribute in ["strides", "dilations"] {
                if let values = node.attributes[attribute]?.ints, values.contains(where: { $0 != 1 }) {
                    throw error(.unsupportedAttribute, node, "\(attribute) \(values) (only 1 is supported)")
                }
            }
            let padding = node.attributes["padding"]?.string ?? "SAME"
            let (kh, kw, ci, co) = (weights.shape[0], weights.shape[1], weights.shape[2], weights.shape[3])
            let geometry: ConvolutionGeometry
            switch padding {
            case "SAME":
                geometry = .same(kernelHeight: kh, kernelWidth: kw, inputChannels: ci, outputChannels: co)
            case "VALID":
                geometry = ConvolutionGeometry(
                    kernelHeight: kh, kernelWidth: kw, inputChannels: ci, outputChannels: co,
                    padTop: 0, padLeft: 0, padBottom: 0, padRight: 0)
            default:
                throw error(.unsupportedAttribute, node, "padding \(padding) (SAME or VALID supported)")
            }
            define(node, .convolution(geometry, ConvolutionEpilogue()), inputs)
        }

        /// The outputs are the nodes nobody reads, the full-scale `NCHW_output` first when present.
        mutating func markOutputs(_ def: GraphDef) throws(ModelError) {
            var sinks = def.nodes.filter { node in
                !consumed.contains(node.name) && ids[node.name] != nil && graph.constant(ids[node.name]!) == nil
                    && node.op != "Placeholder"
            }.map(\.name)
            if let main = sinks.firstIndex(of: "NCHW_output") { sinks.insert(sinks.remove(at: main), at: 0) }
            guard !sinks.isEmpty else {
                throw ModelError(.notSuperResolution, source: source, "the graph has no output")
            }
            for name in sinks { graph.addOutput(name, ids[name]!) }
        }
    }
}

extension TensorFlowImporter {
    /// The family of a dnn_superres graph taking `inputChannels` channels: EDSR takes BGR; of the Y-channel models,
    /// FSRCNN's PReLU is spelled with `Abs`, ESPCN ends with `Tanh`, and LapSRN has neither.
    static func family(inputChannels: Int, operations: [String: Int]) -> ModelFamily {
        if inputChannels == 3 { return .edsr }
        if operations["Abs", default: 0] > 0 { return .fsrcnn }
        if operations["Tanh", default: 0] > 0 { return .espcn }
        return .lapsrn
    }
}
