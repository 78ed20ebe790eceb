import Engine
import Foundation
import Kernels
import Tensor

/// Turns an ONNX super-resolution network into an engine `Graph`.
///
/// ONNX values are NCHW; the engine's feature maps are NHWC, so weights are re-laid out and per-channel constants
/// become `[1, 1, 1, C]`. Sizes computed from `Shape` (dynamic exports) are carried as `SymbolicSize`s and read as
/// intent: a Reshape/Transpose/Reshape chain becomes one pixel (un)shuffle, a Resize to `2·H` a resize by 2. Each
/// operator maps onto the existing engine operations, so an ONNX export runs on the same kernels as the same network
/// read from ncnn. An unsupported operator is an error listing every unsupported operator of the file at once.
package enum ONNXImporter {
    /// The operators of the default domain this importer understands.
    package static let supportedOperators: Set<String> = [
        "Add", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv", "ConvTranspose", "DepthToSpace", "Div",
        "Dropout", "Erf", "Flatten", "Gather", "Gelu", "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish",
        "Identity", "LeakyRelu", "MatMul", "Max", "Min", "Mul", "Pad", "Pow", "PRelu", "ReduceMean", "Relu", "Reshape",
        "Resize", "Shape", "Sigmoid", "Slice", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Tanh", "Transpose",
        "Unsqueeze", "Upsample", "Floor", "Ceil", "Exp", "Softmax", "LayerNormalization", "ReduceMax", "ReduceSum",
    ]

    /// The operator-set versions read (Upsample-era opset 9 exports up to opset 22).
    package static let opsetRange: ClosedRange<Int64> = 9...22

    /// Sizes above these are taken as garbled files rather than networks.
    static let maximumChannels = 1 << 16
    static let maximumKernel = 64

    /// Whether `path` names an ONNX file (by its extension).
    package static func isONNXFile(_ path: String) -> Bool { path.lowercased().hasSuffix(".onnx") }

    /// Reads the ONNX file at `path` (external data beside it) into a graph, with its operator counts.
    package static func readGraph(
        path: String, convention: ONNXConvention = .standard
    ) throws(ModelError) -> (graph: Graph, operationCounts: [String: Int]) {
        let bytes: [UInt8]
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
            // Protobuf messages are limited to 2 GiB; larger weights go in external data files.
            guard data.count <= Int(Int32.max) else {
                throw ModelError(.unreadable, source: path, "\(data.count) bytes is more than an ONNX file holds")
            }
            bytes = [UInt8](data)
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError(.unreadable, source: path, error.localizedDescription)
        }
        let model: ONNXModel
        do {
            model = try ONNXModel(serializedBytes: bytes)
        } catch {
            throw ModelError(.malformed, source: path, "not a readable ONNX model: \(error)")
        }
        let folder = (path as NSString).deletingLastPathComponent
        let graph = try makeGraph(model, source: path, folder: folder.isEmpty ? "." : folder, convention: convention)
        return (graph, operationCounts(model))
    }

    /// The external data files the ONNX file at `path` names (relative to its folder), each once, in file order.
    package static func externalDataFiles(path: String) throws(ModelError) -> [String] {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        let model: ONNXModel
        do {
            model = try ONNXModel(serializedBytes: [UInt8](data))
        } catch {
            throw ModelError(.malformed, source: path, "not a readable ONNX model: \(error)")
        }
        var seen: [String] = []
        for tensor in model.graph.initializers {
            if let location = tensor.externalData["location"], !seen.contains(location) { seen.append(location) }
        }
        return seen
    }

    /// Operator counts as written (domain-qualified outside the default domain).
    package static func operationCounts(_ model: ONNXModel) -> [String: Int] {
        var counts: [String: Int] = [:]
        for node in model.graph.nodes { counts[qualifiedName(node), default: 0] += 1 }
        return counts
    }

    static func qualifiedName(_ node: ONNXNode) -> String {
        node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain).\(node.opType)"
    }

    /// Builds the engine graph of `model`; `folder` is where its external data files are. The graph takes and gives
    /// RGB in [0, 1] whatever the network's `convention` (which is converted to and from at its ends).
    package static func makeGraph(
        _ model: ONNXModel, source: String, folder: String?, convention: ONNXConvention = .standard
    ) throws(ModelError) -> Graph {
        let opset = model.defaultOpset
        guard opsetRange.contains(opset) else {
            throw ModelError(
                .unsupportedAttribute, source: source,
                "the file uses ONNX opset \(opset); superres reads opsets \(opsetRange.lowerBound) to "
                    + "\(opsetRange.upperBound) (re-export with torch.onnx.export(..., opset_version=17))")
        }
        var unsupported: [String: Int] = [:]
        for node in model.graph.nodes {
            let name = qualifiedName(node)
            if !supportedOperators.contains(name) { unsupported[name, default: 0] += 1 }
        }
        if !unsupported.isEmpty {
            let list = unsupported.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value)×)" }
            throw ModelError(
                .unsupportedOperation, source: source,
                "unsupported ONNX operators: \(list.joined(separator: ", ")); superres runs the operators of "
                    + "convolutional super-resolution networks (docs/ONNX.md lists them)")
        }
        var builder = Builder(source: source, folder: folder, opset: opset, convention: convention)
        try builder.addInitializers(model.graph)
        try builder.addInput(model.graph)
        for node in model.graph.nodes {
            do {
                try builder.add(node)
            } catch let error as ModelError {
                throw error
            } catch let problem as ONNXTensor.Problem {
                throw ModelError(.malformed, source: source, node: node.label, problem.message)
            } catch {
                throw ModelError(.malformed, source: source, node: node.label, "\(error)")
            }
        }
        try builder.markOutputs(model.graph)
        return builder.graph
    }

    /// What an ONNX value is while importing.
    enum Value {
        /// A feature map computed at run time (NHWC in the engine).
        case map(NodeID, MapShape)
        /// A floating-point constant.
        case floats(ONNXArray)
        /// Integer (or shape-derived) numbers of rank 0 or 1, possibly depending on the input's size.
        case sizes([SymbolicSize], scalar: Bool)
        /// A map reshaped to more than four axes, possibly transposed: the inside of a pixel (un)shuffle chain.
        case folded(Folded)
        /// A map with zero padding not applied yet (the next convolution takes it as its own padding).
        case padded(NodeID, MapShape, pads: [Int])
    }

    /// A map reshaped to `dims` (six axes) and then permuted by `permutation`.
    struct Folded {
        var node: NodeID
        var shape: MapShape
        var dims: [SymbolicSize]
        var permutation: [Int]
    }

    /// Builds the graph node by node (`ONNXImporter+Operators.swift` and `+Shapes.swift` hold the operators).
    struct Builder {
        let source: String
        let folder: String?
        let opset: Int64
        let convention: ONNXConvention
        var graph = Graph()
        var values: [String: Value] = [:]
        /// The input's size when the export fixes it (the constants of such a file may spell out its sizes).
        var fixedInputSize: (height: Int, width: Int)?

        init(source: String, folder: String?, opset: Int64, convention: ONNXConvention) {
            self.source = source
            self.folder = folder
            self.opset = opset
            self.convention = convention
        }

        /// RGB in [0, 1] to or from the network's convention (`toNetwork`): ×255 or ÷255 (exact as ÷ and ×255
        /// round as the network's own would), the red and blue channels swapped by a 1 × 1 selection.
        mutating func convert(_ id: NodeID, channels: Int, name: String, toNetwork: Bool) -> NodeID {
            var result = id
            if convention.channels == .bgr, channels == 3 {
                result = channelSelection(result, from: 3, picking: [2, 1, 0], name: name + "/swap-red-blue")
            }
            if convention.range == .byte {
                let factor = graph.add(name + "/255", .constant(Tensor(scalar: 255)))
                result = graph.add(
                    name + (toNetwork ? "/to-0-255" : "/to-0-1"), .binary(toNetwork ? .multiply : .divide),
                    [result, factor])
            }
            return result
        }

        func unsupported(_ node: ONNXNode, _ message: String) -> ModelError {
            ModelError(.unsupportedAttribute, source: source, node: node.label, "\(node.opType): \(message)")
        }

        func malformed(_ node: ONNXNode, _ message: String) -> ModelError {
            ModelError(.malformed, source: source, node: node.label, "\(node.opType): \(message)")
        }

        mutating func addInitializers(_ onnx: ONNXGraph) throws(ModelError) {
            for tensor in onnx.initializers {
                let array: ONNXArray
                do {
                    array = try tensor.values(externalFolder: folder)
                } catch {
                    throw ModelError(.malformed, source: source, node: tensor.name, error.message)
                }
                values[tensor.name] = Self.constantValue(array)
            }
        }

        /// A constant as the importer holds it: integers of rank ≤ 1 as sizes, the rest as arrays.
        static func constantValue(_ array: ONNXArray) -> Value {
            if array.isInteger, array.shape.count <= 1 {
                return .sizes(array.ints.map { .constant(Double($0)) }, scalar: array.shape.isEmpty)
            }
            return .floats(ONNXArray(shape: array.shape, floats: array.asFloats))
        }

        /// The one image input: `[N, C, H, W]` with C fixed; H and W dynamic or fixed.
        mutating func addInput(_ onnx: ONNXGraph) throws(ModelError) {
            let inputs = onnx.inputs.filter { values[$0.name] == nil }
            guard inputs.count == 1, let input = inputs.first else {
                throw ModelError(
                    .notSuperResolution, source: source,
                    "expected one image input, found \(inputs.count) (\(inputs.map(\.name).joined(separator: ", ")))")
            }
            guard let dims = input.shape, dims.count == 4 else {
                throw ModelError(
                    .notSuperResolution, source: source, node: input.name,
                    "the input is not an NCHW image (rank \(input.shape.map { "\($0.count)" } ?? "unknown"))")
            }
            guard input.elementType == 0 || input.elementType == 1 else {
                throw ModelError(
                    .unsupportedAttribute, source: source, node: input.name,
                    "the input has element type \(input.elementType); superres feeds float32 (re-export the "
                        + "network in float32; float16 weights are fine)")
            }
            guard case .fixed(let channels) = dims[1], (1...64).contains(channels) else {
                throw ModelError(
                    .notSuperResolution, source: source, node: input.name,
                    "the input's channel axis must be a fixed size (1, 3 or 4), not \(dims[1])")
            }
            if case .fixed(let h) = dims[2], case .fixed(let w) = dims[3], h > 0, w > 0, h < 1 << 20, w < 1 << 20 {
                fixedInputSize = (Int(h), Int(w))
            }
            let node = convert(
                graph.add(input.name, .input), channels: Int(channels), name: input.name, toNetwork: true)
            values[input.name] = .map(node, MapShape(channels: Int(channels), height: .height, width: .width))
        }

        /// The graph outputs: the file's outputs that are feature maps, in order.
        mutating func markOutputs(_ onnx: ONNXGraph) throws(ModelError) {
            for output in onnx.outputs {
                guard let value = values[output.name] else {
                    throw ModelError(.malformed, source: source, node: output.name, "no node computes this output")
                }
                guard case .map(let node, let shape) = value, shape.rank == 4 else {
                    throw ModelError(
                        .notSuperResolution, source: source, node: output.name, "the output is not an image")
                }
                graph.addOutput(
                    output.name, convert(node, channels: shape.channels, name: output.name, toNetwork: false))
            }
            guard !graph.outputs.isEmpty else {
                throw ModelError(.notSuperResolution, source: source, "the graph has no output")
            }
        }

        // MARK: Operands

        /// The value of input `index` of `node`, or nil when it is omitted ("" or past the end).
        func optionalInput(_ node: ONNXNode, _ index: Int) throws(ModelError) -> Value? {
            guard index < node.inputs.count, !node.inputs[index].isEmpty else { return nil }
            guard let value = values[node.inputs[index]] else {
                throw malformed(node, "input '\(node.inputs[index])' is not computed before this node")
            }
            return value
        }

        /// The value of input `index` of `node`, which must be there.
        func input(_ node: ONNXNode, _ index: Int) throws(ModelError) -> Value {
            guard let value = try optionalInput(node, index) else { throw malformed(node, "input \(index) is missing") }
            return value
        }

        /// Input `index` as a feature map (a pending zero padding is applied first). Only operators that work on
        /// any layout (`anyLayout`: element-wise ones, Linear layers, LayerNorm, Softmax) take a channels-last map.
        mutating func mapInput(
            _ node: ONNXNode, _ index: Int, anyLayout: Bool = false
        ) throws(ModelError) -> (NodeID, MapShape) {
            switch try input(node, index) {
            case .map(let id, let shape):
                guard anyLayout || !shape.channelsLast else {
                    throw unsupported(
                        node, "input \(index) is a map the export transposed to channels-last (NHWC); \(node.opType) "
                            + "is read on NCHW maps")
                }
                return (id, shape)
            case .padded(let id, let shape, let pads): return applyPadding(id, shape, pads: pads, name: node.label)
            default: throw unsupported(node, "input \(index) must be a feature map computed from the image")
            }
        }

        /// Input `index` as constant numbers (integers or shape arithmetic that does not depend on the size).
        func constantInts(_ node: ONNXNode, _ index: Int) throws(ModelError) -> [Int]? {
            guard let value = try optionalInput(node, index) else { return nil }
            switch value {
            case .sizes(let sizes, _):
                var ints: [Int] = []
                for size in sizes {
                    guard let integer = size.integer else {
                        throw unsupported(node, "input \(index) depends on the image size (\(size))")
                    }
                    ints.append(integer)
                }
                return ints
            case .floats(let array) where array.shape.count <= 1: return array.asInts
            default: throw unsupported(node, "input \(index) must be a constant")
            }
        }

        /// Input `index` as a float constant.
        func constantFloats(_ node: ONNXNode, _ index: Int) throws(ModelError) -> ONNXArray? {
            guard let value = try optionalInput(node, index) else { return nil }
            switch value {
            case .floats(let array): return array
            case .sizes(let sizes, let scalar):
                let numbers = sizes.compactMap(\.constantValue).map { Float($0) }
                guard numbers.count == sizes.count else {
                    throw unsupported(node, "input \(index) depends on the image size")
                }
                return ONNXArray(shape: scalar ? [] : [numbers.count], floats: numbers)
            default: throw unsupported(node, "input \(index) must be a constant (weights computed at run time)")
            }
        }

        /// Defines the node's only (first) output.
        mutating func define(_ node: ONNXNode, _ value: Value) {
            if let name = node.outputs.first, !name.isEmpty { values[name] = value }
        }

        /// Adds a map node named after the ONNX node and defines the output.
        mutating func defineMap(_ node: ONNXNode, _ operation: Engine.Operation, _ inputs: [NodeID], _ shape: MapShape)
        {
            define(node, .map(graph.add(node.label, operation, inputs), shape))
        }

        // MARK: Attributes

        func int(_ node: ONNXNode, _ name: String, default value: Int) -> Int {
            node.attributes[name]?.int.map { Int(clamping: $0) } ?? value
        }

        func ints(_ node: ONNXNode, _ name: String) -> [Int]? {
            node.attributes[name].map { $0.ints.map { Int(clamping: $0) } }
        }

        func float(_ node: ONNXNode, _ name: String, default value: Float) -> Float {
            node.attributes[name]?.float ?? value
        }

        func string(_ node: ONNXNode, _ name: String, default value: String) -> String {
            node.attributes[name]?.string ?? value
        }

        // MARK: Dispatch

        mutating func add(_ node: ONNXNode) throws {
            switch node.opType {
            case "Constant": define(node, try constant(node))
            case "Identity", "Dropout":
                define(node, try input(node, 0))
                if node.opType == "Dropout", node.outputs.count > 1, !node.outputs[1].isEmpty {
                    throw unsupported(node, "a mask output (inference exports have none)")
                }
            case "Cast": try cast(node)
            case "Shape": try shape(node)
            case "Gather": try gather(node)
            case "Unsqueeze", "Squeeze": try squeeze(node)
            case "Concat": try concat(node)
            case "Slice": try slice(node)
            case "Reshape", "Flatten": try reshape(node)
            case "Transpose": try transpose(node)
            case "ConstantOfShape": try constantOfShape(node)
            case "Floor", "Ceil": try roundSizes(node)
            case "Sqrt":
                if case .map = try input(node, 0) { try unary(node, .unary(.sqrt)) } else { try roundSizes(node) }
            case "Exp": try unary(node, .unary(.exp))
            case "Softmax": try softmax(node)
            case "LayerNormalization": try layerNormalization(node)
            case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min": try binary(node)
            case "Conv": try convolution(node)
            case "ConvTranspose": try transposedConvolution(node)
            case "Relu": try unary(node, .unary(.relu))
            case "Sigmoid": try unary(node, .unary(.sigmoid))
            case "Tanh": try unary(node, .unary(.tanh))
            case "Erf": try unary(node, .unary(.erf))
            case "LeakyRelu":
                try unary(node, .activation(.leakyReLU(slope: float(node, "alpha", default: 0.01))))
            case "PRelu": try prelu(node)
            case "Clip": try clip(node)
            case "HardSigmoid", "HardSwish": try hardSigmoid(node)
            case "Gelu": try gelu(node)
            case "DepthToSpace", "SpaceToDepth": try depthToSpace(node)
            case "Resize", "Upsample": try resize(node)
            case "GlobalAveragePool", "ReduceMean", "ReduceMax", "ReduceSum": try mean(node)
            case "Gemm", "MatMul": try fullyConnected(node)
            case "Pad": try pad(node)
            case "Split": try split(node)
            default:
                throw ModelError(.unsupportedOperation, source: source, node: node.label, "operator \(node.opType)")
            }
        }

        /// `Constant`: its `value` tensor or one of the `value_*` forms.
        func constant(_ node: ONNXNode) throws -> Value {
            if let tensor = node.attributes["value"]?.tensor {
                return Self.constantValue(try tensor.values(externalFolder: folder))
            }
            if let f = node.attributes["value_float"]?.float { return .floats(ONNXArray(shape: [], floats: [f])) }
            if let fs = node.attributes["value_floats"]?.floats { return .floats(ONNXArray(shape: [fs.count], floats: fs)) }
            if let i = node.attributes["value_int"]?.int { return .sizes([.constant(Double(i))], scalar: true) }
            if let list = node.attributes["value_ints"]?.ints {
                return .sizes(list.map { .constant(Double($0)) }, scalar: false)
            }
            throw unsupported(node, "a constant without a tensor, float or integer value")
        }
    }
}
