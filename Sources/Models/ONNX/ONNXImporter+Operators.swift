import Engine
import Foundation
import Kernels
import Tensor

// The operators on feature maps: convolutions, element-wise arithmetic and activations, resampling, pooling, the
// fully connected layers of channel attention, padding and channel splits.

extension ONNXImporter.Builder {
    /// A constant as an engine operand of `map`: a scalar, or per-channel `[1, 1, 1, C]` (NCHW `[C, 1, 1]`,
    /// `[1, C, 1, 1]`; `[C]` for a channels-last map or a flattened vector). Constants that vary over the picture do
    /// not fit a network that takes any size.
    func engineConstant(_ node: ONNXNode, _ array: ONNXArray, map: MapShape) throws(ModelError) -> Tensor {
        let values = array.asFloats
        if values.count == 1 { return Tensor(scalar: values[0]) }
        var shape = array.shape
        while shape.count < map.rank { shape.insert(1, at: 0) }
        let channelAxis = map.channelAxis
        guard shape.count == map.rank, shape.enumerated().allSatisfy({ $0.offset == channelAxis || $0.element == 1 })
        else {
            throw unsupported(node, "a constant of shape \(array.shape) (only scalars and per-channel values fit)")
        }
        return Tensor(shape: [1, 1, 1, values.count], scalars: values)
    }

    /// `Add`, `Sub`, `Mul`, `Div`, `Pow`, `Max`, `Min`: of numbers (folded), of constants (folded), or of maps.
    mutating func binary(_ node: ONNXNode) throws {
        guard node.inputs.count == 2 else { throw unsupported(node, "\(node.inputs.count) operands (2 are supported)") }
        let a = try input(node, 0)
        let b = try input(node, 1)
        // Shape arithmetic, a float scalar taking part as a number.
        func numbers(_ value: Value) -> [SymbolicSize]? {
            switch value {
            case .sizes(let sizes, _): sizes
            case .floats(let array) where array.shape.count <= 1: array.floats.map { .constant(Double($0)) }
            default: nil
            }
        }
        if case .sizes = a, let x = numbers(a), let y = numbers(b) {
            define(node, .sizes(try sizeArithmetic(node, x, y), scalar: isScalar(a) && isScalar(b)))
            return
        }
        if case .sizes = b, let x = numbers(a), let y = numbers(b) {
            define(node, .sizes(try sizeArithmetic(node, x, y), scalar: isScalar(a) && isScalar(b)))
            return
        }
        if case .floats(let x) = a, case .floats(let y) = b {
            define(node, .floats(try foldConstants(node, x, y)))
            return
        }
        // At least one feature map.
        var mapShape: MapShape?
        var operands: [NodeID] = []
        for index in 0..<2 {
            switch try input(node, index) {
            case .map, .padded:
                let (id, shape) = try mapInput(node, index, anyLayout: true)
                if let known = mapShape {
                    guard known.rank == shape.rank, known.channelsLast == shape.channelsLast else {
                        throw unsupported(node, "maps of different layouts (NCHW, NHWC or flattened)")
                    }
                    // A pooled 1 × 1 map broadcasts over a full one.
                    if known.height.integer == 1, known.width.integer == 1 { mapShape?.height = shape.height }
                    if known.height.integer == 1, known.width.integer == 1 { mapShape?.width = shape.width }
                    mapShape?.channels = max(known.channels, shape.channels)
                } else {
                    mapShape = shape
                }
                operands.append(id)
            default:
                operands.append(-1)
            }
        }
        guard let shape = mapShape else { throw unsupported(node, "these operands") }
        // x · sigmoid(x) is how exports spell SiLU: read as one swish, which a convolution before it takes into its
        // output stage (as ncnn's Swish layer; the same function, within an ulp or two of the product).
        if node.opType == "Mul", operands.allSatisfy({ $0 >= 0 }) {
            for (x, gate) in [(operands[0], operands[1]), (operands[1], operands[0])]
            where graph.nodes[gate].operation == .unary(.sigmoid) && graph.nodes[gate].inputs == [x] {
                defineMap(node, .unary(.swish), [x], shape)
                return
            }
        }
        for index in 0..<2 where operands[index] < 0 {
            guard let array = try constantFloats(node, index) else { throw malformed(node, "operand \(index) missing") }
            if node.opType == "Pow" {
                try power(node, base: operands[0], exponent: array, shape: shape, baseIsMap: index == 1)
                return
            }
            operands[index] = graph.add(
                "\(node.label)/operand\(index)", .constant(try engineConstant(node, array, map: shape)))
        }
        guard let operation = Self.binaryOperation(node.opType) else {
            throw unsupported(node, "a feature map raised to a feature map")
        }
        defineMap(node, .binary(operation), operands, shape)
    }

    /// The engine's operation for an ONNX element-wise operator (nil for `Pow`).
    static func binaryOperation(_ opType: String) -> BinaryOperation? {
        switch opType {
        case "Add": .add
        case "Sub": .subtract
        case "Mul": .multiply
        case "Div": .divide
        case "Max": .maximum
        case "Min": .minimum
        default: nil
        }
    }

    func isScalar(_ value: Value) -> Bool {
        switch value {
        case .sizes(_, let scalar): scalar
        case .floats(let array): array.shape.isEmpty
        default: false
        }
    }

    /// `Pow` of a map by a constant exponent: 1 (itself), 2 (x·x), 3, or −1 (1/x).
    mutating func power(_ node: ONNXNode, base: NodeID, exponent: ONNXArray, shape: MapShape, baseIsMap: Bool) throws {
        guard baseIsMap, exponent.count == 1 else { throw unsupported(node, "a constant raised to a feature map") }
        switch exponent.asFloats[0] {
        case 1: define(node, .map(base, shape))
        case 2: defineMap(node, .binary(.multiply), [base, base], shape)
        case 3:
            let square = graph.add(node.label + "/square", .binary(.multiply), [base, base])
            defineMap(node, .binary(.multiply), [square, base], shape)
        case -1:
            let one = graph.add(node.label + "/one", .constant(Tensor(scalar: 1)))
            defineMap(node, .binary(.divide), [one, base], shape)
        case let p: throw unsupported(node, "a feature map raised to \(p) (exponents 1, 2, 3 and −1 are supported)")
        }
    }

    /// Element-wise arithmetic of two constants, numpy broadcasting.
    func foldConstants(_ node: ONNXNode, _ x: ONNXArray, _ y: ONNXArray) throws -> ONNXArray {
        let a = Tensor(shape: x.shape, scalars: x.floats)
        let b = Tensor(shape: y.shape, scalars: y.floats)
        guard let shape = broadcastShape(a.shape, b.shape) else { throw malformed(node, "\(x.shape) and \(y.shape)") }
        if node.opType == "Pow" {
            guard y.count == 1 else { throw unsupported(node, "Pow of constants with a non-scalar exponent") }
            return ONNXArray(shape: x.shape, floats: x.floats.map { Foundation.pow($0, y.floats[0]) })
        }
        guard let operation = Self.binaryOperation(node.opType) else { throw unsupported(node, node.opType) }
        let result = ReferenceKernels.binary(operation, a, b)
        return ONNXArray(shape: shape, floats: result.scalars)
    }

    /// A one-input operation on a map (of any layout).
    mutating func unary(_ node: ONNXNode, _ operation: Engine.Operation) throws {
        let (id, shape) = try mapInput(node, 0, anyLayout: true)
        defineMap(node, operation, [id], shape)
    }

    /// `PRelu` with a per-channel or single slope.
    mutating func prelu(_ node: ONNXNode) throws {
        let (id, shape) = try mapInput(node, 0, anyLayout: true)
        guard let slope = try constantFloats(node, 1) else { throw malformed(node, "no slope") }
        let tensor = try engineConstant(node, slope, map: shape)
        let activation: Activation =
            tensor.count == 1 ? .leakyReLU(slope: tensor.scalars[0]) : .prelu(slopes: tensor.scalars)
        guard tensor.count == 1 || tensor.count == shape.channels else {
            throw malformed(node, "\(tensor.count) slopes for \(shape.channels) channels")
        }
        defineMap(node, .activation(activation), [id], shape)
    }

    /// `Clip` to [min, max] (attributes before opset 11, inputs after): a maximum and a minimum.
    mutating func clip(_ node: ONNXNode) throws {
        let (id, shape) = try mapInput(node, 0, anyLayout: true)
        let low: Float?
        let high: Float?
        if opset < 11 {
            low = node.attributes["min"]?.float
            high = node.attributes["max"]?.float
        } else {
            low = try constantFloats(node, 1)?.asFloats.first
            high = try constantFloats(node, 2)?.asFloats.first
        }
        var result = id
        if let low {
            let bound = graph.add(node.label + "/min", .constant(Tensor(scalar: low)))
            result = graph.add(high == nil ? node.label : node.label + "/lower", .binary(.maximum), [result, bound])
        }
        if let high {
            let bound = graph.add(node.label + "/max", .constant(Tensor(scalar: high)))
            result = graph.add(node.label, .binary(.minimum), [result, bound])
        }
        define(node, .map(result, shape))
    }

    /// `HardSigmoid` (max(0, min(1, α·x + β))) and `HardSwish` (x times it, α = 1/6, β = ½).
    mutating func hardSigmoid(_ node: ONNXNode) throws {
        let (id, shape) = try mapInput(node, 0, anyLayout: true)
        let swish = node.opType == "HardSwish"
        let alpha = swish ? 1 / 6 : float(node, "alpha", default: 0.2)
        let beta = swish ? 0.5 : float(node, "beta", default: 0.5)
        func scalar(_ name: String, _ value: Float) -> NodeID {
            graph.add("\(node.label)/\(name)", .constant(Tensor(scalar: value)))
        }
        let scaled = graph.add(node.label + "/scaled", .binary(.multiply), [id, scalar("alpha", alpha)])
        let shifted = graph.add(node.label + "/shifted", .binary(.add), [scaled, scalar("beta", beta)])
        let lower = graph.add(node.label + "/lower", .binary(.maximum), [shifted, scalar("zero", 0)])
        let gate = graph.add(swish ? node.label + "/gate" : node.label, .binary(.minimum), [lower, scalar("one", 1)])
        if swish {
            defineMap(node, .binary(.multiply), [id, gate], shape)
        } else {
            define(node, .map(gate, shape))
        }
    }

    /// `Gelu` (opset 20): ½·x·(1 + erf(x/√2)), or with `approximate = "tanh"` ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    mutating func gelu(_ node: ONNXNode) throws {
        let (x, shape) = try mapInput(node, 0, anyLayout: true)
        func scalar(_ name: String, _ value: Float) -> NodeID {
            graph.add("\(node.label)/\(name)", .constant(Tensor(scalar: value)))
        }
        let inner: NodeID
        switch string(node, "approximate", default: "none") {
        case "none":
            let scaled = graph.add(node.label + "/scaled", .binary(.divide), [x, scalar("sqrt2", Float(2).squareRoot())])
            inner = graph.add(node.label + "/erf", .unary(.erf), [scaled])
        case "tanh":
            let square = graph.add(node.label + "/square", .binary(.multiply), [x, x])
            let cube = graph.add(node.label + "/cube", .binary(.multiply), [square, x])
            let term = graph.add(node.label + "/term", .binary(.multiply), [cube, scalar("c", 0.044715)])
            let sum = graph.add(node.label + "/sum", .binary(.add), [x, term])
            let scaled = graph.add(
                node.label + "/scaled", .binary(.multiply), [sum, scalar("k", Float((2 / Double.pi).squareRoot()))])
            inner = graph.add(node.label + "/tanh", .unary(.tanh), [scaled])
        case let other: throw unsupported(node, "approximate = \"\(other)\"")
        }
        let onePlus = graph.add(node.label + "/one-plus", .binary(.add), [inner, scalar("one", 1)])
        let half = graph.add(node.label + "/half", .binary(.multiply), [x, scalar("half", 0.5)])
        defineMap(node, .binary(.multiply), [half, onePlus], shape)
    }

    /// `DepthToSpace` (DCR or CRD) and `SpaceToDepth`.
    mutating func depthToSpace(_ node: ONNXNode) throws {
        let (id, shape) = try mapInput(node, 0)
        let r = int(node, "blocksize", default: 0)
        guard (1...16).contains(r) else { throw malformed(node, "block size \(r)") }
        if node.opType == "SpaceToDepth" {
            let out = MapShape(
                channels: shape.channels * r * r, height: shape.height.scaled(1 / Double(r)),
                width: shape.width.scaled(1 / Double(r)))
            defineMap(node, .spaceToDepth(blockSize: r), [id], out)
            return
        }
        guard shape.channels % (r * r) == 0 else { throw malformed(node, "\(shape.channels) channels for block \(r)") }
        let out = MapShape(
            channels: shape.channels / (r * r), height: shape.height.scaled(Double(r)), width: shape.width.scaled(Double(r)))
        switch string(node, "mode", default: "DCR") {
        case "DCR": defineMap(node, .depthToSpace(blockSize: r), [id], out)
        case "CRD": defineMap(node, .pixelShuffle(blockSize: r), [id], out)
        case let mode: throw unsupported(node, "mode \(mode)")
        }
    }

    /// `GlobalAveragePool` and `ReduceMean` over the height and width; `ReduceMean`, `ReduceMax` and `ReduceSum`
    /// over the channels (kept as one channel: LayerNorm written out, Softmax).
    mutating func mean(_ node: ONNXNode) throws {
        let (id, shape) = try mapInput(node, 0, anyLayout: true)
        guard shape.rank == 4 else { throw unsupported(node, "reducing a flattened vector") }
        var keep = true
        if node.opType != "GlobalAveragePool" {
            // The axes are an attribute before opset 18 (ReduceSum: 13), an input after.
            let axes = try ints(node, "axes") ?? constantInts(node, 1) ?? [0, 1, 2, 3]
            let reduced = Set(axes.map { $0 < 0 ? $0 + 4 : $0 })
            keep = int(node, "keepdims", default: 1) != 0
            if reduced == [shape.channelAxis] {
                guard keep else { throw unsupported(node, "dropping the reduced channel axis (keepdims = 0)") }
                let reduction: ChannelReduction =
                    node.opType == "ReduceMax" ? .maximum : node.opType == "ReduceSum" ? .sum : .mean
                var out = shape
                out.channels = 1
                defineMap(node, .channelReduce(reduction), [id], out)
                return
            }
            guard node.opType == "ReduceMean", !shape.channelsLast, reduced == [2, 3] else {
                throw unsupported(
                    node, "\(node.opType) over axes \(axes) (the channels, or for a mean the height and width)")
            }
        }
        guard !shape.channelsLast else { throw unsupported(node, "pooling a channels-last map") }
        let out = MapShape(channels: shape.channels, height: .constant(1), width: .constant(1), rank: keep ? 4 : 2)
        defineMap(node, .globalAveragePool, [id], out)
    }

    /// `Gemm` and `MatMul` of a flattened `[1, K]` vector or a channels-last map (a Linear layer over the channels)
    /// by constant weights: a 1 × 1 convolution.
    mutating func fullyConnected(_ node: ONNXNode) throws {
        let (id, shape) = try mapInput(node, 0, anyLayout: true)
        guard shape.rank == 2 || shape.channelsLast, node.opType == "MatMul" || shape.rank == 2 else {
            throw unsupported(
                node, "a matrix product over an NCHW feature map (Linear layers on channels-last maps and on pooled "
                    + "vectors are supported; window attention is not)")
        }
        guard let weights = try constantFloats(node, 1), weights.shape.count == 2 else {
            throw unsupported(node, "weights that are not a constant matrix")
        }
        let transposed = node.opType == "Gemm" && int(node, "transB", default: 0) != 0
        guard node.opType == "MatMul" || int(node, "transA", default: 0) == 0 else { throw unsupported(node, "transA") }
        let (k, n) = transposed ? (weights.shape[1], weights.shape[0]) : (weights.shape[0], weights.shape[1])
        guard k == shape.channels, n <= ONNXImporter.maximumChannels else {
            throw malformed(node, "weights \(weights.shape) for a vector of \(shape.channels)")
        }
        let alpha = node.opType == "Gemm" ? float(node, "alpha", default: 1) : 1
        let beta = node.opType == "Gemm" ? float(node, "beta", default: 1) : 1
        let w = weights.floats
        var hwio = [Float](repeating: 0, count: k * n)
        for i in 0..<k {
            for o in 0..<n { hwio[i * n + o] = alpha * (transposed ? w[o * k + i] : w[i * n + o]) }
        }
        var bias: [Float]?
        if node.opType == "Gemm", let c = try constantFloats(node, 2) {
            let values = c.asFloats
            guard values.count == n || values.count == 1 else { throw malformed(node, "bias of \(values.count)") }
            bias = (0..<n).map { beta * values[values.count == 1 ? 0 : $0] }
        }
        let geometry = ConvolutionGeometry(
            kernelHeight: 1, kernelWidth: 1, inputChannels: k, outputChannels: n, padTop: 0, padLeft: 0, padBottom: 0,
            padRight: 0)
        let result = convolutionNode(node.label, geometry, input: id, weights: hwio, bias: bias)
        var out = shape
        out.channels = n
        define(node, .map(result, out))
    }

    /// `Pad` of a map's height and width: with zeros (left pending for the next convolution to take as its own
    /// padding), or mirrored (`reflect`) or repeated (`edge`) as a pad node.
    mutating func pad(_ node: ONNXNode) throws {
        let (id, shape) = try mapInput(node, 0)
        let mode = string(node, "mode", default: "constant")
        guard ["constant", "reflect", "edge"].contains(mode) else {
            throw unsupported(node, "\(mode) padding (constant zeros, reflect and edge are supported)")
        }
        var pads = opset < 11 ? (ints(node, "pads") ?? []) : (try constantInts(node, 1) ?? [])
        if let value = opset < 11 ? node.attributes["value"]?.float : try constantFloats(node, 2)?.asFloats.first,
            value != 0
        {
            throw unsupported(node, "padding with \(value) (zero padding is supported)")
        }
        if let axes = try constantInts(node, 3) {
            var full = [Int](repeating: 0, count: 8)
            for (k, axis) in axes.map({ $0 < 0 ? $0 + 4 : $0 }).enumerated() where (0..<4).contains(axis) {
                full[axis] = pads[k]
                full[axis + 4] = pads[k + axes.count]
            }
            pads = full
        }
        guard pads.count == 8 else { throw malformed(node, "\(pads.count) pads for a rank-4 map") }
        guard pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else {
            throw unsupported(node, "padding the batch or channel axis")
        }
        let spatial = [pads[2], pads[3], pads[6], pads[7]]
        guard spatial.allSatisfy({ (0...ONNXImporter.maximumKernel).contains($0) }) else {
            throw unsupported(node, "pads \(spatial) (0 to \(ONNXImporter.maximumKernel) on each side)")
        }
        guard mode != "constant" else {
            define(node, .padded(id, shape, pads: spatial))
            return
        }
        var out = shape
        out.height = shape.height + .constant(Double(spatial[0] + spatial[2]))
        out.width = shape.width + .constant(Double(spatial[1] + spatial[3]))
        defineMap(
            node,
            .pad(
                top: spatial[0], left: spatial[1], bottom: spatial[2], right: spatial[3],
                mode: mode == "reflect" ? .reflect : .edge), [id], out)
    }

    /// Zero padding applied as a 1 × 1 identity convolution with that padding (exact).
    mutating func applyPadding(_ id: NodeID, _ shape: MapShape, pads: [Int], name: String) -> (NodeID, MapShape) {
        let c = shape.channels
        var hwio = [Float](repeating: 0, count: c * c)
        for i in 0..<c { hwio[i * c + i] = 1 }
        let geometry = ConvolutionGeometry(
            kernelHeight: 1, kernelWidth: 1, inputChannels: c, outputChannels: c, padTop: pads[0], padLeft: pads[1],
            padBottom: pads[2], padRight: pads[3])
        var out = shape
        out.height = shape.height + .constant(Double(pads[0] + pads[2]))
        out.width = shape.width + .constant(Double(pads[1] + pads[3]))
        return (convolutionNode(name + "/pad", geometry, input: id, weights: hwio, bias: nil), out)
    }

    /// `Split` of a map's channels.
    mutating func split(_ node: ONNXNode) throws {
        let (id, shape) = try mapInput(node, 0)
        let axis = int(node, "axis", default: 0)
        guard axis == 1 || axis == -3 else { throw unsupported(node, "splitting along axis \(axis) (channels only)") }
        var parts = opset < 13 ? ints(node, "split") : try constantInts(node, 1)
        if parts == nil {
            let count = node.outputs.count
            guard count > 0 else { throw malformed(node, "no outputs") }
            let size = (shape.channels + count - 1) / count
            parts = (0..<count).map { min(size, max(0, shape.channels - $0 * size)) }
        }
        guard let parts, parts.count == node.outputs.count, parts.allSatisfy({ $0 > 0 }),
            parts.reduce(0, +) == shape.channels
        else { throw malformed(node, "split \(parts ?? []) of \(shape.channels) channels into \(node.outputs.count)") }
        var start = 0
        for (part, name) in zip(parts, node.outputs) {
            let picked = Array(start..<(start + part))
            start += part
            guard !name.isEmpty else { continue }
            var out = shape
            out.channels = part
            values[name] = .map(channelSelection(id, from: shape.channels, picking: picked, name: name), out)
        }
    }

    /// `Softmax` over the channels: exp(x − max) / Σ exp(x − max), the maximum and the sum taken per pixel.
    mutating func softmax(_ node: ONNXNode) throws {
        let (x, shape) = try mapInput(node, 0, anyLayout: true)
        let rank = shape.rank
        var axis = int(node, "axis", default: opset < 13 ? 1 : -1)
        if axis < 0 { axis += rank }
        guard axis == shape.channelAxis, rank == 4 || axis == 1 else {
            throw unsupported(node, "a softmax over axis \(axis) (over the channels is supported)")
        }
        let largest = graph.add(node.label + "/max", .channelReduce(.maximum), [x])
        let shifted = graph.add(node.label + "/shifted", .binary(.subtract), [x, largest])
        let exponentials = graph.add(node.label + "/exp", .unary(.exp), [shifted])
        let total = graph.add(node.label + "/sum", .channelReduce(.sum), [exponentials])
        defineMap(node, .binary(.divide), [exponentials, total], shape)
    }

    /// `LayerNormalization` over the channels of a channels-last map (axis −1) or an NCHW map's channels written as
    /// axis 1: (x − mean) / √(variance + ε) · scale + bias, the statistics per pixel.
    mutating func layerNormalization(_ node: ONNXNode) throws {
        let (x, shape) = try mapInput(node, 0, anyLayout: true)
        var axis = int(node, "axis", default: -1)
        if axis < 0 { axis += shape.rank }
        guard axis == shape.channelAxis, shape.rank == 4 || axis == 1 else {
            throw unsupported(node, "a layer norm from axis \(axis) (over the channels is supported)")
        }
        guard let scale = try constantFloats(node, 1) else { throw malformed(node, "no scale") }
        let epsilon = float(node, "epsilon", default: 1e-5)
        let mean = graph.add(node.label + "/mean", .channelReduce(.mean), [x])
        let centred = graph.add(node.label + "/centred", .binary(.subtract), [x, mean])
        let square = graph.add(node.label + "/square", .binary(.multiply), [centred, centred])
        let variance = graph.add(node.label + "/variance", .channelReduce(.mean), [square])
        let eps = graph.add(node.label + "/epsilon", .constant(Tensor(scalar: epsilon)))
        let spread = graph.add(node.label + "/spread", .unary(.sqrt), [graph.add(node.label + "/plus-epsilon", .binary(.add), [variance, eps])])
        var result = graph.add(node.label + "/normalized", .binary(.divide), [centred, spread])
        let gamma = graph.add(node.label + "/scale", .constant(try engineConstant(node, scale, map: shape)))
        result = graph.add(node.label + "/scaled", .binary(.multiply), [result, gamma])
        if let bias = try constantFloats(node, 2) {
            let beta = graph.add(node.label + "/bias", .constant(try engineConstant(node, bias, map: shape)))
            result = graph.add(node.label, .binary(.add), [result, beta])
        }
        guard node.outputs.count == 1 || node.outputs.dropFirst().allSatisfy(\.isEmpty) else {
            throw unsupported(node, "the mean and inverse deviation outputs (training exports)")
        }
        define(node, .map(result, shape))
    }
}
