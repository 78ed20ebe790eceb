import Foundation
import Models
import Tensor
import TestSupport
import Testing

/// What the READMEs of ../shared/models/opencv and ../shared/models/fixtures say each graph holds.
struct ModelExpectation: Sendable, CustomTestStringConvertible {
    var file: String
    var nodes: Int
    var ops: [String: Int]
    /// Elements of all DT_FLOAT Const tensors (the "float params" column; quantized weights not counted).
    var floatParams: Int
    /// Conv2D kernel shapes (HWIO) → how many Conv2D nodes use one of that shape.
    var kernels: [[Int]: Int]

    var testDescription: String { file }

    static let fsrcnnOps = [
        "Abs": 7, "Add": 14, "BiasAdd": 1, "Const": 31, "Conv2D": 8, "DepthToSpace": 1,
        "Mul": 14, "Placeholder": 1, "Relu": 7, "Sub": 7, "Transpose": 1,
    ]
    static let fsrcnnSmallOps = [
        "Abs": 4, "Add": 8, "BiasAdd": 1, "Const": 19, "Conv2D": 5, "DepthToSpace": 1,
        "Mul": 8, "Placeholder": 1, "Relu": 4, "Sub": 4, "Transpose": 1,
    ]
    static let espcnOps = [
        "Add": 3, "Const": 7, "Conv2D": 3, "DepthToSpace": 1, "Placeholder": 1, "Relu": 2,
        "Tanh": 1, "Transpose": 1,
    ]
    static let edsrSmallOps = [
        "Add": 16, "Const": 47, "Conv2D": 11, "DepthToSpace": 1, "Dequantize": 10, "Mul": 4,
        "Placeholder": 1, "Relu": 4, "Transpose": 1,
    ]

    static func fsrcnn(_ scale: Int, params: Int) -> ModelExpectation {
        ModelExpectation(
            file: "models/opencv/FSRCNN_x\(scale).pb",
            nodes: 92,
            ops: fsrcnnOps,
            floatParams: params,
            kernels: [
                [5, 5, 1, 56]: 1, [1, 1, 56, 12]: 1, [3, 3, 12, 12]: 4, [1, 1, 12, 56]: 1,
                [1, 1, 56, scale * scale]: 1,
            ]
        )
    }

    static func fsrcnnSmall(_ scale: Int, params: Int) -> ModelExpectation {
        ModelExpectation(
            file: "models/opencv/FSRCNN-small_x\(scale).pb",
            nodes: 56,
            ops: fsrcnnSmallOps,
            floatParams: params,
            kernels: [
                [5, 5, 1, 32]: 1, [1, 1, 32, 5]: 1, [3, 3, 5, 5]: 1, [1, 1, 5, 32]: 1,
                [1, 1, 32, scale * scale]: 1,
            ]
        )
    }

    static func espcn(_ scale: Int, params: Int) -> ModelExpectation {
        ModelExpectation(
            file: "models/opencv/ESPCN_x\(scale).pb",
            nodes: 19,
            ops: espcnOps,
            floatParams: params,
            kernels: [[5, 5, 1, 64]: 1, [3, 3, 64, 32]: 1, [3, 3, 32, scale * scale]: 1]
        )
    }

    /// LapSRN: per ×2 stage 11 Add, 12 Conv2D, 2 DepthToSpace, 24 Mul, 24 Relu, 12 Sub; one Transpose per output.
    static func lapsrn(
        _ scale: Int,
        stages: Int,
        nodes: Int,
        consts: Int,
        transposes: Int,
        params: Int
    )
        -> ModelExpectation
    {
        ModelExpectation(
            file: "models/opencv/LapSRN_x\(scale).pb",
            nodes: nodes,
            ops: [
                "Add": 11 * stages, "Const": consts, "Conv2D": 12 * stages, "DepthToSpace": 2 * stages,
                "Mul": 24 * stages, "Placeholder": 1, "Relu": 24 * stages, "Sub": 12 * stages, "Transpose": transposes,
            ],
            floatParams: params,
            kernels: [
                [4, 4, 1, 4]: stages, [3, 3, 1, 64]: stages, [3, 3, 64, 64]: 9 * stages, [4, 4, 64, 4]: stages,
            ]
        )
    }

    static func edsrSmall(_ scale: Int, params: Int) -> ModelExpectation {
        ModelExpectation(
            file: "models/fixtures/edsr_small_x\(scale).pb",
            nodes: 95,
            ops: edsrSmallOps,
            floatParams: params,
            kernels: [[3, 3, 3, 32]: 1, [3, 3, 32, 32]: 9, [3, 3, 32, 3 * scale * scale]: 1]
        )
    }

    static let all: [ModelExpectation] = [
        espcn(2, params: 21284), espcn(3, params: 22729), espcn(4, params: 24752),
        fsrcnnSmall(2, params: 1626), fsrcnnSmall(3, params: 1786), fsrcnnSmall(4, params: 2010),
        fsrcnn(2, params: 8504), fsrcnn(3, params: 8784), fsrcnn(4, params: 9176),
        lapsrn(2, stages: 1, nodes: 134, consts: 47, transposes: 1, params: 337_113),
        lapsrn(4, stages: 2, nodes: 269, consts: 95, transposes: 3, params: 674_226),
        lapsrn(8, stages: 3, nodes: 402, consts: 142, transposes: 4, params: 1_011_339),
        edsrSmall(2, params: 1220), edsrSmall(3, params: 1235), edsrSmall(4, params: 1256),
        ModelExpectation(
            file: "models/fixtures/edsr_tiny_x3.pb",
            nodes: 44,
            ops: [
                "Add": 10, "Const": 19, "Conv2D": 7, "DepthToSpace": 1, "Dequantize": 1, "Mul": 2,
                "Placeholder": 1, "Relu": 2, "Transpose": 1,
            ],
            floatParams: 3175,
            kernels: [[3, 3, 3, 8]: 1, [3, 3, 8, 8]: 5, [3, 3, 8, 27]: 1]
        ),
        ModelExpectation(
            file: "models/fixtures/edsr_tiny_x3_float.pb",
            nodes: 41,
            ops: [
                "Add": 10, "Const": 17, "Conv2D": 7, "DepthToSpace": 1, "Mul": 2, "Placeholder": 1, "Relu": 2,
                "Transpose": 1,
            ],
            floatParams: 5117,
            kernels: [[3, 3, 3, 8]: 1, [3, 3, 8, 8]: 5, [3, 3, 8, 27]: 1]
        ),
    ]
}

/// Reads a model from the shared folder.
private func load(_ relative: String) throws -> GraphDef {
    try GraphDef(contentsOf: SharedData.path(relative))
}

/// The error `body` throws, or nil.
private func thrown<T>(_ body: () throws(GraphDefError) -> T) -> GraphDefError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// The Const tensor holding a Conv2D's kernel (through a Dequantize to its quantized const).
private func kernel(of conv: NodeDef, in graph: GraphDef) -> TensorProto? {
    guard conv.inputs.count == 2, var weights = graph.node(named: conv.inputs[1]) else { return nil }
    if weights.op == "Dequantize", let quantized = graph.node(named: weights.inputs[0]) { weights = quantized }
    return weights.constantValue
}

/// A GraphDef with one Const node `name` holding the tensor `build` writes.
private func constGraph(name: String = "w", _ build: (inout ProtobufWriter) -> Void) -> [UInt8] {
    var graph = ProtobufWriter()
    graph.messageField(1) { node in
        node.stringField(1, name)
        node.stringField(2, "Const")
        node.messageField(5) { entry in
            entry.stringField(1, "value")
            entry.messageField(2) { value in value.messageField(8, build) }
        }
    }
    return graph.bytes
}

/// Writes a TensorShapeProto with these dims into field 2 of a TensorProto.
private func writeShape(_ tensor: inout ProtobufWriter, _ dims: [Int64]) {
    tensor.messageField(2) { shape in
        for dim in dims { shape.messageField(2) { $0.int64Field(1, dim) } }
    }
}

@Suite struct GraphDefTests {
    // MARK: The shared models

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"), arguments: ModelExpectation.all)
    func modelParsesWithTheREADMECounts(_ model: ModelExpectation) throws {
        let graph = try load(model.file)
        #expect(graph.nodes.count == model.nodes)
        #expect(graph.opCounts == model.ops)
        var floatParams = 0
        for node in graph.nodes where node.op == "Const" {
            let tensor = try #require(node.constantValue, "Const \(node.name) has no value")
            #expect(tensor.node == node.name)
            if tensor.dtype == .float { floatParams += try tensor.floatValues().count }
        }
        #expect(floatParams == model.floatParams)
        var kernels: [[Int]: Int] = [:]
        for conv in graph.nodes where conv.op == "Conv2D" {
            let weights = try #require(kernel(of: conv, in: graph), "no kernel for \(conv.name)")
            kernels[weights.shapeDims, default: 0] += 1
        }
        #expect(kernels == model.kernels)
        let input = try #require(graph.node(named: "IteratorGetNext"))
        #expect(input.op == "Placeholder")
        #expect(input.attributes["dtype"] == .type(.float))
        #expect(input.attributes["shape"] == nil)
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"), arguments: ModelExpectation.all)
    func conv2DAttributesAreSameStrideOneNHWC(_ model: ModelExpectation) throws {
        let graph = try load(model.file)
        for conv in graph.nodes where conv.op == "Conv2D" {
            #expect(conv.attributes["padding"]?.string == "SAME", "\(conv.name)")
            #expect(conv.attributes["strides"]?.ints == [1, 1, 1, 1], "\(conv.name)")
            #expect(conv.attributes["dilations"]?.ints == [1, 1, 1, 1], "\(conv.name)")
            #expect(conv.attributes["data_format"]?.string == "NHWC", "\(conv.name)")
            #expect(conv.attributes["T"]?.dataType == .float, "\(conv.name)")
            #expect(conv.attributes["use_cudnn_on_gpu"]?.bool == true, "\(conv.name)")
            #expect(conv.attributes["explicit_paddings"] == nil, "\(conv.name)")
        }
        let perm = try #require(graph.node(named: "NCHW_output/perm")?.constantValue)
        #expect(perm.dtype == .int32)
        #expect(try perm.int32Values() == [0, 3, 1, 2])
        #expect(try perm.int64Values() == [0, 3, 1, 2])
        let transpose = try #require(graph.node(named: "NCHW_output"))
        #expect(transpose.op == "Transpose" && transpose.inputs.last == "NCHW_output/perm")
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func scalarConstantsReadRight() throws {
        // FSRCNN's PReLU halves: mul_*/y = 0.5, stored as a scalar float_val.
        let fsrcnn = try load("models/opencv/FSRCNN_x3.pb")
        let halves = fsrcnn.nodes.filter { $0.op == "Const" && $0.name.hasPrefix("mul_") && $0.name.hasSuffix("/y") }
        #expect(halves.count == 7)
        for node in halves {
            let tensor = try #require(node.constantValue)
            #expect(tensor.shapeDims == [] && tensor.tensorContent.isEmpty && tensor.floatVal == [0.5])
            #expect(try tensor.floatValues() == [0.5])
            #expect(try tensor.tensor() == Tensor(scalar: 0.5))
        }
        // b8 is shape [1] with one float_val.
        let b8 = try #require(fsrcnn.node(named: "b8")?.constantValue)
        #expect(b8.shapeDims == [1] && b8.tensorContent.isEmpty)
        #expect(try b8.floatValues().map(\.bitPattern) == [0x3EF9_61B0])
        // Weights from tensor_content, HWIO, checked against tools/dump_graphdef.py.
        let f1 = try #require(fsrcnn.node(named: "f1")?.constantValue)
        let f1Values = try f1.floatValues()
        #expect(f1.shapeDims == [5, 5, 1, 56] && f1Values.count == 1400)
        #expect(
            [f1Values[0], f1Values[1], f1Values[2], f1Values[1399]].map(\.bitPattern)
                == [0x3BE0_CFFB, 0xBD76_DE0E, 0xBD95_A58F, 0xBD2C_D44D]
        )

        // LapSRN's leaky ReLU: Relu(x) − 0.2·Relu(−1·x).
        let lapsrn = try load("models/opencv/LapSRN_x2.pb")
        var scalars: [Float: Int] = [:]
        for node in lapsrn.nodes where node.op == "Const" {
            let tensor = try #require(node.constantValue)
            if tensor.shapeDims.isEmpty { scalars[try tensor.floatValues()[0], default: 0] += 1 }
        }
        #expect(scalars == [-1.0: 12, 0.2: 12])

        // EDSR's residual scaling 0.1 as float_val.
        let edsr = try load("models/fixtures/edsr_tiny_x3.pb")
        for name in ["mul/y", "mul_1/y"] {
            let tensor = try #require(edsr.node(named: name)?.constantValue)
            #expect(tensor.floatVal == [0.1] && tensor.tensorContent.isEmpty)
            #expect(try tensor.floatValues() == [0.1])
        }
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func fullSizeEDSRParses() throws {
        let clock = ContinuousClock()
        var graph = GraphDef()
        let elapsed = try clock.measure { graph = try load("models/fixtures/edsr_full_x3.pb") }
        print("edsr_full_x3.pb (38 MB) parsed in \(elapsed)")
        #expect(graph.nodes.count == 602)
        #expect(graph.opCounts["Dequantize"] == 67)
        #expect(graph.opCounts["Conv2D"] == 67)
        #expect(graph.opCounts["Const"] == 301)
        // Counting only (no decoding): 38,407,680 quantized weights; 16,923 float biases, plus 32 residual scales
        // (mul_*/y) and the 67 × 2 quantization ranges.
        var quantized = 0
        var floats = 0
        for node in graph.nodes {
            guard let tensor = node.constantValue else { continue }
            switch tensor.dtype {
            case .quint8: quantized += tensor.tensorContent.count
            case .float: floats += try tensor.elementCount()
            default: break
            }
        }
        #expect(quantized == 38_407_680)
        #expect(floats == 16_923 + 32 + 67 * 2)
    }

    // MARK: Dequantize, as OpenCV folds it

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func dequantizedWeightsMatchTheFloatGraph() throws {
        let quantizedGraph = try load("models/fixtures/edsr_tiny_x3.pb")
        let floatGraph = try load("models/fixtures/edsr_tiny_x3_float.pb")
        let node = try #require(quantizedGraph.node(named: "resFilter_three"))
        #expect(node.op == "Dequantize")
        let dequantized = try quantizedGraph.dequantizedTensor(node)
        let reference = try #require(floatGraph.node(named: "resFilter_three")?.constantValue).tensor()
        #expect(dequantized.shape == [3, 3, 8, 27] && reference.shape == dequantized.shape)

        let min = try #require(quantizedGraph.node(named: "resFilter_three_quantized_min")?.constantValue)
        let max = try #require(quantizedGraph.node(named: "resFilter_three_quantized_max")?.constantValue)
        let (minValue, maxValue) = (try min.floatValues()[0], try max.floatValues()[0])
        #expect(minValue.bitPattern == 0xC030_CBC0 && maxValue.bitPattern == 0x4042_0D98)
        // Rounding to the nearest of 256 levels errs by at most half a step.
        let tolerance = (maxValue - minValue) / 255 / 2 + 1e-6
        let worst = zip(dequantized.scalars, reference.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= tolerance, "max |dequantized − float| = \(worst), allowed \(tolerance)")

        // OpenCV's parameters: scale = (max − min)/255, k = cvRound(min/scale) = −122 (min/scale = −121.567),
        // offset = scale·k; computed independently in numpy.
        let (scale, offset) = try #require(QuantizedWeights.minFirstParameters(min: minValue, max: maxValue))
        #expect(scale.bitPattern == 0x3CBA_26D3 && offset.bitPattern == 0xC031_6D01)
        #expect(QuantizedWeights.cvRound(minValue / scale) == -122)

        // Values computed independently in numpy (exact fma of q·scale + offset rounded once to float32) and
        // identical to the weights cv2.dnn.readNetFromTensorflow (OpenCV 4.14) folds from this file: index → bits.
        let expected: [Int: UInt32] = [
            0: 0xBE7F_F560, 1: 0x3CBA_26E1, 2: 0x32E0_0000, 7: 0xBCBA_26C5, 100: 0x3EDD_0E1B, 523: 0x3EAE_8467,
            1000: 0xBF22_E1F8, 1943: 0x3D8B_9D22, 459: 0x4041_6C57, 511: 0xC031_6D01,
        ]
        for (index, bits) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(dequantized.scalars[index].bitPattern == bits, "weight \(index): \(dequantized.scalars[index])")
        }
        let raw = try #require(quantizedGraph.node(named: "resFilter_three_quantized_const")?.constantValue)
        #expect(try raw.uint8Values()[459] == 255 && raw.uint8Values()[511] == 0 && raw.uint8Values()[0] == 111)
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func everyDequantizeOfTheSmallFixturesFolds() throws {
        let graph = try load("models/fixtures/edsr_small_x3.pb")
        var folded = 0
        for node in graph.nodes where node.op == "Dequantize" {
            let tensor = try graph.dequantizedTensor(node)
            let min = try #require(graph.node(named: node.inputs[1])?.constantValue).floatValues()[0]
            let max = try #require(graph.node(named: node.inputs[2])?.constantValue).floatValues()[0]
            let step = (max - min) / 255
            #expect(tensor.scalars.allSatisfy { $0 >= min - step && $0 <= max + step }, "\(node.name)")
            #expect(tensor.shape.count == 4 && tensor.shape[0] == 3 && tensor.shape[1] == 3)
            folded += 1
        }
        #expect(folded == 10)
    }

    @Test func cvRoundRoundsHalfToEvenLikeCvtss2si() {
        let cases: [(Float, Int32)] = [
            (0.5, 0), (1.5, 2), (2.5, 2), (-0.5, 0), (-1.5, -2), (-2.5, -2), (-121.5668, -122), (3.49, 3),
            (.nan, .min), (.infinity, .min), (-.infinity, .min), (3e9, .min), (-3e9, .min), (-2_147_483_648, .min),
            (2_147_483_520, 2_147_483_520),
        ]
        for (value, expected) in cases {
            #expect(QuantizedWeights.cvRound(value) == expected, "cvRound(\(value))")
        }
    }

    @Test func dequantizeRefusesWhatOpenCVAssertsOn() throws {
        #expect(QuantizedWeights.minFirstParameters(min: 1, max: 0) == nil)
        #expect(QuantizedWeights.minFirstParameters(min: .nan, max: 1) == nil)
        let error = thrown { () throws(GraphDefError) in
            try QuantizedWeights.dequantizeMinFirst([1, 2], min: 2, max: -2, node: "w")
        }
        guard case .badTensor("w", _) = error else {
            Issue.record("expected badTensor naming w, got \(String(describing: error))")
            return
        }
        // A zero range is allowed: min/0 is ±∞ or NaN, cvRound gives INT_MIN, and every value becomes 0.
        #expect(try QuantizedWeights.dequantizeMinFirst([0, 7, 255], min: 0, max: 0) == [0, 0, 0])
    }

    @Test func dequantizedTensorChecksTheNode() throws {
        var bytes = ProtobufWriter()
        func const(_ name: String, _ build: @escaping (inout ProtobufWriter) -> Void) {
            bytes.bytes += constGraph(name: name, build)
        }
        const("q") { tensor in
            tensor.varintField(1, 12)
            writeShape(&tensor, [2])
            tensor.bytesField(4, [0, 255])
        }
        const("min") { tensor in
            tensor.varintField(1, 1)
            tensor.packedFloats(5, [-2.5])
        }
        const("max") { tensor in
            tensor.varintField(1, 1)
            tensor.packedFloats(5, [252.5])
        }
        func dequantize(_ name: String, mode: String, inputs: [String]) {
            bytes.messageField(1) { node in
                node.stringField(1, name)
                node.stringField(2, "Dequantize")
                for input in inputs { node.stringField(3, input) }
                node.messageField(5) { entry in
                    entry.stringField(1, "mode")
                    entry.messageField(2) { $0.stringField(2, mode) }
                }
            }
        }
        dequantize("good", mode: "MIN_FIRST", inputs: ["q", "min", "max"])
        dequantize("scaled", mode: "SCALED", inputs: ["q", "min", "max"])
        dequantize("dangling", mode: "MIN_FIRST", inputs: ["q", "min", "nowhere"])
        dequantize("float", mode: "MIN_FIRST", inputs: ["min", "min", "max"])
        let graph = try GraphDef(serializedBytes: bytes.bytes)
        let good = try graph.dequantizedTensor(#require(graph.node(named: "good")))
        #expect(good.shape == [2])
        // scale = 255/255 = 1 and min/scale = −2.5 exactly: cvRound gives −2 (half to even; TensorFlow's round
        // would give −3), so 0 → −2 and 255 → 253.
        #expect(good.scalars == [-2, 253])
        for (name, code) in [("scaled", "bad-node"), ("dangling", "bad-node"), ("float", "bad-tensor")] {
            let node = try #require(graph.node(named: name))
            #expect(thrown { () throws(GraphDefError) in try graph.dequantizedTensor(node) }?.code == code, "\(name)")
        }
    }

    // MARK: Values and TensorFlow's fill rule

    @Test func shapesFarLargerThanTheirDataAreBoundedPerGraph() throws {
        // Each Const [2^28] stores no value, so a few bytes stand for 1 GiB of zeros: a handful must be refused
        // before anything is filled in, with the node that crossed the bound named.
        var graph = ProtobufWriter()
        for index in 0..<8 {
            graph.messageField(1) { node in
                node.stringField(1, "empty\(index)")
                node.stringField(2, "Const")
                node.messageField(5) { entry in
                    entry.stringField(1, "value")
                    entry.messageField(2) { value in
                        value.messageField(8) { tensor in
                            tensor.varintField(1, 1)
                            writeShape(&tensor, [1 << 28])
                        }
                    }
                }
            }
        }
        let error = thrown { () throws(GraphDefError) in try GraphDef(serializedBytes: graph.bytes) }
        #expect(error?.code == "bad-tensor", "\(String(describing: error))")
        #expect("\(String(describing: error))".contains("empty0"))
        // Small implied fills, as real graphs have (a broadcast constant), still parse.
        let small = try GraphDef(serializedBytes: constGraph { tensor in
            tensor.varintField(1, 1)
            writeShape(&tensor, [256, 256])
        })
        #expect(try small.nodes.first?.constantValue?.floatValues().count == 65536)
    }

    @Test func typedValuesFollowTensorFlowsFillRule() throws {
        func tensor(_ dims: [Int64], _ build: @escaping (inout ProtobufWriter) -> Void) throws -> TensorProto {
            let graph = try GraphDef(
                serializedBytes: constGraph { tensor in
                    writeShape(&tensor, dims)
                    build(&tensor)
                }
            )
            return try #require(graph.nodes.first?.constantValue)
        }
        // A single float_val broadcasts; fewer values repeat the last; none means zeros; extra values are ignored.
        let broadcast = try tensor([2, 3]) {
            $0.varintField(1, 1)
            $0.packedFloats(5, [0.25])
        }
        #expect(try broadcast.floatValues() == [Float](repeating: 0.25, count: 6))
        let partial = try tensor([4]) {
            $0.varintField(1, 1)
            $0.packedFloats(5, [1, 2])
        }
        #expect(try partial.floatValues() == [1, 2, 2, 2])
        let empty = try tensor([3]) { $0.varintField(1, 1) }
        #expect(try empty.floatValues() == [0, 0, 0])
        let extra = try tensor([2]) {
            $0.varintField(1, 1)
            $0.packedFloats(5, [1, 2, 3])
        }
        #expect(try extra.floatValues() == [1, 2])

        // int32 from int_val, converted to float; int64 from content.
        let ints = try tensor([3]) {
            $0.varintField(1, 3)
            $0.packedVarints(7, [1, UInt64(bitPattern: -2), 3])
        }
        #expect(try ints.int32Values() == [1, -2, 3])
        #expect(try ints.floatValues() == [1, -2, 3])
        let int64 = try tensor([2]) { tensor in
            tensor.varintField(1, 9)
            tensor.bytesField(4, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 5, 0, 0, 0, 1, 0, 0, 0])
        }
        #expect(try int64.int64Values() == [-1, 0x1_0000_0005])
        #expect(thrown { () throws(GraphDefError) in try int64.int32Values() }?.code == "bad-tensor")

        // Doubles, halves (content and half_val) and bools.
        let doubles = try tensor([2]) { tensor in
            tensor.varintField(1, 2)
            tensor.fixed64Field(6, Double(0.5).bitPattern)
            tensor.fixed64Field(6, Double(-3).bitPattern)
        }
        #expect(try doubles.floatValues() == [0.5, -3])
        let halves = try tensor([5]) { tensor in
            tensor.varintField(1, 19)
            tensor.bytesField(4, [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x7C, 0x01, 0x00, 0xFF, 0x7B])
        }
        #expect(try halves.floatValues() == [1, -2, .infinity, 0x1p-24, 65504])
        let halfVal = try tensor([2]) {
            $0.varintField(1, 19)
            $0.packedVarints(13, [0x3800, 0xBC00])
        }
        #expect(try halfVal.floatValues() == [0.5, -1])
        let bools = try tensor([3]) {
            $0.varintField(1, 10)
            $0.packedVarints(11, [1, 0, 1])
        }
        #expect(try bools.floatValues() == [1, 0, 1])

        // quint8 from content and from int_val; out-of-range int_val and float reads of quantized data throw.
        let quint8 = try tensor([3]) {
            $0.varintField(1, 12)
            $0.bytesField(4, [0, 128, 255])
        }
        #expect(try quint8.uint8Values() == [0, 128, 255])
        #expect(thrown { () throws(GraphDefError) in try quint8.floatValues() }?.code == "bad-tensor")
        let quint8Val = try tensor([2]) {
            $0.varintField(1, 12)
            $0.packedVarints(7, [7, 300])
        }
        #expect(thrown { () throws(GraphDefError) in try quint8Val.uint8Values() }?.code == "bad-tensor")

        // An unknown dtype is kept as read.
        let unknown = try tensor([1]) {
            $0.varintField(1, 77)
            $0.bytesField(4, [1, 2, 3])
        }
        #expect(unknown.dtype.rawValue == 77 && unknown.dtype.description == "DataType(77)")
        #expect(thrown { () throws(GraphDefError) in try unknown.floatValues() }?.code == "bad-tensor")
    }

    @Test func unknownFieldsAtEveryLevelAreSkipped() throws {
        var graph = ProtobufWriter()
        graph.messageField(4) { versions in versions.varintField(1, 27) }  // versions
        graph.messageField(2) { library in library.messageField(1) { $0.stringField(1, "f") } }  // library
        graph.varintField(3, 9)  // deprecated version
        graph.fixed64Field(99, 1)
        graph.messageField(1) { node in
            node.stringField(1, "c")
            node.tag(98, .startGroup)
            node.varintField(1, 1)
            node.tag(98, .endGroup)
            node.stringField(2, "Const")
            node.stringField(3, "^ctrl")
            node.stringField(4, "/cpu:0")
            node.messageField(6) { $0.stringField(1, "debug info") }
            node.messageField(5) { entry in
                entry.fixed32Field(7, 0)
                entry.stringField(1, "value")
                entry.messageField(2) { value in
                    value.varintField(50, 1)
                    value.messageField(8) { tensor in
                        tensor.varintField(3, 1)  // version_number
                        tensor.varintField(1, 1)
                        tensor.messageField(2) { shape in
                            shape.messageField(2) { dim in
                                dim.int64Field(1, 2)
                                dim.stringField(2, "named")
                            }
                        }
                        tensor.packedFloats(5, [4, 5])
                    }
                }
            }
            node.messageField(5) { entry in
                entry.stringField(1, "strides")
                entry.messageField(2) { value in
                    value.messageField(1) { list in
                        list.packedVarints(3, [1, 2])
                        list.varintField(3, 3)
                        list.messageField(20) { _ in }
                    }
                }
            }
        }
        let parsed = try GraphDef(serializedBytes: graph.bytes)
        let node = try #require(parsed.nodes.first)
        #expect(parsed.nodes.count == 1)
        #expect(node.name == "c" && node.op == "Const" && node.inputs == ["^ctrl"] && node.device == "/cpu:0")
        #expect(node.dataInputs.isEmpty)
        #expect(try node.constantValue?.floatValues() == [4, 5])
        #expect(node.attributes["strides"]?.ints == [1, 2, 3])
    }

    // MARK: Hostile input

    @Test func crafted2To62LengthThrowsWithoutAllocating() {
        var graph = ProtobufWriter()
        graph.tag(1, .lengthDelimited)
        graph.varint(1 << 62)
        graph.bytes += [0x0A, 0x01, 0x61]
        #expect(thrown { () throws(GraphDefError) in try GraphDef(serializedBytes: graph.bytes) }?.code == "truncated")
    }

    @Test func craftedElevenByteVarintInANodeNamesTheNode() {
        var graph = ProtobufWriter()
        graph.messageField(1) { node in
            node.stringField(1, "broken")
            node.tag(2, .varint)  // op is a string; the varint is malformed before the wire type is even checked
            node.bytes += [UInt8](repeating: 0x80, count: 10) + [0]
        }
        let error = thrown { () throws(GraphDefError) in try GraphDef(serializedBytes: graph.bytes) }
        guard case .inNode(0, "broken", .malformed) = error else {
            Issue.record("expected malformed in node 'broken', got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("'broken'") == true)
    }

    @Test func craftedBadTensorsThrowNamingTheNode() {
        func error(_ build: @escaping (inout ProtobufWriter) -> Void) -> GraphDefError? {
            thrown { () throws(GraphDefError) in try GraphDef(serializedBytes: constGraph(name: "weights", build)) }
        }
        // tensor_content shorter than the shape says.
        let short = error { tensor in
            tensor.varintField(1, 1)
            writeShape(&tensor, [2, 3])
            tensor.bytesField(4, [UInt8](repeating: 0, count: 20))
        }
        guard case .badTensor("weights", let reason) = short else {
            Issue.record("short content: got \(String(describing: short))")
            return
        }
        #expect(reason.contains("20 bytes") && reason.contains("24"))
        // Negative dimension.
        guard
            case .badTensor("weights", _) = error({ tensor in
                tensor.varintField(1, 1)
                writeShape(&tensor, [3, -1])
            })
        else {
            Issue.record("a negative dimension must be a bad tensor")
            return
        }
        // A dimension of 2^40 with a broadcast float_val, and dimensions whose product overflows Int.
        for dims: [Int64] in [[1 << 40], [1 << 31, 1 << 31, 1 << 31], [Int64.max, 2], [1 << 14, 1 << 14, 2]] {
            let large = error { tensor in
                tensor.varintField(1, 1)
                writeShape(&tensor, dims)
                tensor.packedFloats(5, [1])
            }
            guard case .tooLarge("weights", dims, TensorProto.maxElementCount) = large else {
                Issue.record("dims \(dims): got \(String(describing: large))")
                continue
            }
        }
        // Unknown rank in a tensor.
        let unknownRank = error { tensor in
            tensor.varintField(1, 1)
            tensor.messageField(2) { $0.varintField(3, 1) }
        }
        #expect(unknownRank?.code == "bad-tensor")
        // Tensors built in code are checked when decoded: a broadcast float_val cannot ask for 2^29 floats.
        let huge = TensorProto(dtype: .float, shape: TensorShapeProto(dims: [1 << 29]), floatVal: [1], node: "big")
        #expect(
            thrown { () throws(GraphDefError) in try huge.floatValues() }
                == .tooLarge(node: "big", dims: [1 << 29], limit: 1 << 28)
        )
    }

    @Test(.enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"))
    func everyTruncationThrowsUnlessItFallsOnANodeBoundary() throws {
        let bytes = try [UInt8](
            Data(contentsOf: URL(fileURLWithPath: SharedData.path("models/fixtures/edsr_tiny_x3.pb")))
        )
        #expect(bytes.count == 17_930)
        // The offsets where a top-level field ends: a prefix ending there is a valid, shorter GraphDef.
        var boundaries: Set<Int> = [0]
        var reader = ProtobufReader(bytes: bytes)
        while let field = try reader.nextField() {
            try reader.skip(field)
            boundaries.insert(reader.offset)
        }
        #expect(boundaries.count == 45)
        // Every offset of the first 512 bytes, then every 7th, then the last 64.
        let lengths = Set(
            Array(0..<512) + Array(stride(from: 512, to: bytes.count, by: 7)) + Array((bytes.count - 64)...bytes.count)
        )
        var parsed = 0
        for length in lengths.sorted() {
            do {
                let graph = try GraphDef(serializedBytes: Array(bytes[..<length]))
                #expect(boundaries.contains(length), "prefix of \(length) bytes parsed")
                #expect(graph.nodes.count == boundaries.filter { $0 <= length }.count - 1)
                parsed += 1
            } catch {
                #expect(!boundaries.contains(length), "prefix of \(length) bytes: \(error)")
                #expect(["truncated", "malformed"].contains(error.code), "prefix of \(length) bytes: \(error)")
            }
        }
        #expect(parsed == boundaries.filter { lengths.contains($0) }.count)
    }

    @Test(
        .enabled(if: SharedData.isAvailable, "\(SharedData.missingMessage)"),
        arguments: ["models/opencv/FSRCNN-small_x3.pb", "models/fixtures/edsr_tiny_x3.pb"]
    )
    func randomMutationsParseOrThrow(_ file: String) throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: SharedData.path(file))))
        var random = SeededGenerator(seed: 0x5EED_0000 &+ UInt64(original.count))
        var outcomes: [String: Int] = [:]
        for _ in 0..<3_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                case 2: bytes[index] = 0xFF  // long varints, huge lengths, big dims
                default:
                    // A run of 0xFF: a varint of 2^62 and more wherever a length or a dim was.
                    for offset in index..<Swift.min(index + 9, bytes.count) { bytes[offset] = 0xFF }
                }
            }
            do {
                let graph = try GraphDef(serializedBytes: bytes)
                outcomes["parsed", default: 0] += 1
                // Decode what was read: every tensor either decodes or throws, within the element cap.
                for node in graph.nodes {
                    guard let tensor = node.constantValue, try tensor.elementCount() <= 1 << 20 else { continue }
                    let decoded = Result { () throws(GraphDefError) in
                        tensor.dtype == .quint8 ? try tensor.uint8Values().count : try tensor.floatValues().count
                    }
                    if case .failure(let error) = decoded {
                        outcomes["decode " + error.code, default: 0] += 1
                    }
                }
            } catch {
                outcomes[error.code, default: 0] += 1
            }
        }
        print("\(file): 3000 mutations → \(outcomes.sorted { $0.key < $1.key })")
        let parseOutcomes = outcomes.filter { !$0.key.hasPrefix("decode") }.values.reduce(0, +)
        #expect(parseOutcomes == 3_000)
    }

    // MARK: Files

    @Test func missingFileIsUnreadableAndNamesThePath() {
        let path = "/nonexistent/superres/model.pb"
        let error = thrown { () throws(GraphDefError) in try GraphDef(contentsOf: path) }
        guard case .unreadable(path, _) = error else {
            Issue.record("expected unreadable, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains(path) == true)
    }

    @Test func corruptFileErrorsNameThePath() throws {
        let folder = TemporaryFolder("superres-graphdef")
        let path = folder.appending("corrupt.pb")
        try Data([0x0A, 0x05, 0x0A]).write(to: URL(fileURLWithPath: path))
        let error = thrown { () throws(GraphDefError) in try GraphDef(contentsOf: path) }
        guard case .inFile(path, let underlying) = error else {
            Issue.record("expected inFile, got \(String(describing: error))")
            return
        }
        #expect(underlying.code == "truncated" && error?.root == underlying.root)
        #expect(error?.description.hasPrefix(path) == true)
    }
}
