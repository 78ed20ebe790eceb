import Foundation

// The parts of onnx/onnx.proto3 a super-resolution importer reads, decoded with the project's protobuf reader (the
// same bounds checks as the TensorFlow reader: lengths, depth, element counts). Fields not listed are skipped.

/// An ONNX `ModelProto`: the graph and the operator sets it was written against.
package struct ONNXModel: Sendable {
    /// The file format version (`ir_version`).
    package var irVersion: Int64 = 0
    /// The version of each operator set the graph uses, by domain ("" and "ai.onnx" are the default set).
    package var opsets: [String: Int64] = [:]
    /// The program that wrote the file (`producer_name`), for messages.
    package var producer = ""
    /// The network.
    package var graph = ONNXGraph()

    /// The default operator set's version (opset 1 when the file names none, as the standard says).
    package var defaultOpset: Int64 { opsets[""] ?? opsets["ai.onnx"] ?? 1 }

    /// Decodes a serialized `ModelProto`.
    package init(serializedBytes bytes: [UInt8]) throws(GraphDefError) {
        var reader = ProtobufReader(bytes: bytes)
        var sawGraph = false
        while let field = try reader.nextField() {
            switch field.number {
            case 1: irVersion = try reader.readInt64(field)
            case 2: producer = try reader.readString(field)
            case 7:
                var sub = try reader.readMessage(field)
                graph = try ONNXGraph(from: &sub)
                sawGraph = true
            case 8:
                var sub = try reader.readMessage(field)
                var domain = ""
                var version: Int64 = 0
                while let inner = try sub.nextField() {
                    switch inner.number {
                    case 1: domain = try sub.readString(inner)
                    case 2: version = try sub.readInt64(inner)
                    default: try sub.skip(inner)
                    }
                }
                opsets[domain] = version
            default: try reader.skip(field)
            }
        }
        guard sawGraph else { throw .malformed(offset: 0, reason: "the file holds no ONNX graph (ModelProto.graph)") }
    }
}

/// An ONNX `GraphProto`: nodes in topological order, initializers (the weights), inputs and outputs.
package struct ONNXGraph: Sendable {
    /// The graph's name.
    package var name = ""
    /// The nodes, in the file's (topological) order.
    package var nodes: [ONNXNode] = []
    /// The constant tensors, by name.
    package var initializers: [ONNXTensor] = []
    /// The declared inputs (initializers may be listed here too, as older exporters did).
    package var inputs: [ONNXValueInfo] = []
    /// The declared outputs.
    package var outputs: [ONNXValueInfo] = []

    init() {}

    init(from reader: inout ProtobufReader) throws(GraphDefError) {
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                var sub = try reader.readMessage(field)
                nodes.append(try ONNXNode(from: &sub))
            case 2: name = try reader.readString(field)
            case 5:
                var sub = try reader.readMessage(field)
                initializers.append(try ONNXTensor(from: &sub))
            case 11:
                var sub = try reader.readMessage(field)
                inputs.append(try ONNXValueInfo(from: &sub))
            case 12:
                var sub = try reader.readMessage(field)
                outputs.append(try ONNXValueInfo(from: &sub))
            case 15:
                throw .malformed(offset: field.offset, reason: "sparse initializers are not supported")
            default: try reader.skip(field)
            }
        }
    }
}

/// An ONNX `NodeProto`: one operator application.
package struct ONNXNode: Sendable {
    /// The node's name (may be empty; messages then use its first output).
    package var name = ""
    /// The operator (`op_type`), e.g. "Conv".
    package var opType = ""
    /// The operator set's domain ("" for the default set).
    package var domain = ""
    /// Input value names, in operand order; "" marks an omitted optional input.
    package var inputs: [String] = []
    /// Output value names.
    package var outputs: [String] = []
    /// The attributes, by name.
    package var attributes: [String: ONNXAttribute] = [:]

    /// The name used in messages.
    package var label: String { name.isEmpty ? (outputs.first ?? opType) : name }

    init(from reader: inout ProtobufReader) throws(GraphDefError) {
        while let field = try reader.nextField() {
            switch field.number {
            case 1: inputs.append(try reader.readString(field))
            case 2: outputs.append(try reader.readString(field))
            case 3: name = try reader.readString(field)
            case 4: opType = try reader.readString(field)
            case 5:
                var sub = try reader.readMessage(field)
                let attribute = try ONNXAttribute(from: &sub)
                attributes[attribute.name] = attribute
            case 7: domain = try reader.readString(field)
            default: try reader.skip(field)
            }
        }
    }
}

/// An ONNX `AttributeProto`: the values a node's operator is configured with.
package struct ONNXAttribute: Sendable {
    /// The attribute's name.
    package var name = ""
    /// A single float (`f`).
    package var float: Float?
    /// A single integer (`i`).
    package var int: Int64?
    /// A byte string (`s`), e.g. `mode` or `auto_pad`.
    package var bytes: [UInt8]?
    /// A tensor (`t`), e.g. `Constant.value`.
    package var tensor: ONNXTensor?
    /// A list of floats (`floats`).
    package var floats: [Float] = []
    /// A list of integers (`ints`).
    package var ints: [Int64] = []
    /// Whether the attribute holds a sub-graph (`If`/`Loop` bodies), which this importer does not run.
    package var hasGraph = false

    /// The byte string as text.
    package var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    init(from reader: inout ProtobufReader) throws(GraphDefError) {
        while let field = try reader.nextField() {
            switch field.number {
            case 1: name = try reader.readString(field)
            case 2: float = try reader.readFloat(field)
            case 3: int = try reader.readInt64(field)
            case 4: bytes = Array(try reader.readBytes(field))
            case 5:
                var sub = try reader.readMessage(field)
                tensor = try ONNXTensor(from: &sub)
            case 6, 11:
                hasGraph = true
                try reader.skip(field)
            case 7: try reader.readRepeatedFloats(field, into: &floats)
            case 8: try reader.readRepeatedInt64s(field, into: &ints)
            default: try reader.skip(field)
            }
        }
    }
}

/// An ONNX `ValueInfoProto` of a tensor: its name, element type and shape (fixed sizes or named dynamic axes).
package struct ONNXValueInfo: Sendable {
    /// One axis: a fixed size, a named dynamic size, or unknown.
    package enum Dimension: Sendable, Equatable {
        /// A fixed size (`dim_value`).
        case fixed(Int64)
        /// A dynamic size (`dim_param`), e.g. "height".
        case named(String)
        /// Neither given.
        case unknown
    }

    /// The value's name.
    package var name = ""
    /// The element type (`TensorProto.DataType`), 0 when not given.
    package var elementType: Int32 = 0
    /// The axes, or nil when the rank is not given.
    package var shape: [Dimension]?

    init(from reader: inout ProtobufReader) throws(GraphDefError) {
        while let field = try reader.nextField() {
            switch field.number {
            case 1: name = try reader.readString(field)
            case 2:
                var type = try reader.readMessage(field)
                while let typeField = try type.nextField() {
                    guard typeField.number == 1 else {  // tensor_type; sequences and maps are not images
                        try type.skip(typeField)
                        continue
                    }
                    var tensorType = try type.readMessage(typeField)
                    while let inner = try tensorType.nextField() {
                        switch inner.number {
                        case 1: elementType = try tensorType.readInt32(inner)
                        case 2:
                            var shapeReader = try tensorType.readMessage(inner)
                            shape = try Self.readShape(&shapeReader)
                        default: try tensorType.skip(inner)
                        }
                    }
                }
            default: try reader.skip(field)
            }
        }
    }

    private static func readShape(_ reader: inout ProtobufReader) throws(GraphDefError) -> [Dimension] {
        var dims: [Dimension] = []
        while let field = try reader.nextField() {
            guard field.number == 1 else {
                try reader.skip(field)
                continue
            }
            var dimReader = try reader.readMessage(field)
            var dim = Dimension.unknown
            while let inner = try dimReader.nextField() {
                switch inner.number {
                case 1: dim = .fixed(try dimReader.readInt64(inner))
                case 2: dim = .named(try dimReader.readString(inner))
                default: try dimReader.skip(inner)
                }
            }
            dims.append(dim)
        }
        return dims
    }
}
