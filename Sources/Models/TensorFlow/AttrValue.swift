/// A TensorFlow `AttrValue` (tensorflow/core/framework/attr_value.proto): the value of one node attribute.
///
/// The proto's `oneof value`; when a (hostile) message sets several members, the last one read wins, as in protobuf.
/// `func` attributes keep only the function's name.
package enum AttrValue: Sendable, Equatable {
    /// No member of the oneof was set.
    case notSet
    /// `s`: bytes, usually a UTF-8 string such as `"SAME"` or `"NHWC"` (see `string`).
    case bytes([UInt8])
    /// `i`: an integer.
    case int(Int64)
    /// `f`: a float.
    case float(Float)
    /// `b`: a boolean.
    case bool(Bool)
    /// `type`: a data type.
    case type(TFDataType)
    /// `shape`: a tensor shape (dimensions of −1 are unknown).
    case shape(TensorShapeProto)
    /// `tensor`: a constant tensor (a `Const` node's `value`).
    case tensor(TensorProto)
    /// `list`: lists of the above.
    case list(List)
    /// `func`: the name of a function.
    case function(String)
    /// `placeholder`: the name of a function attribute this value stands for.
    case placeholder(String)

    /// `AttrValue.ListValue`: every list of one attribute (normally only one of them is non-empty).
    package struct List: Sendable, Equatable {
        /// `s`: byte strings.
        package var bytes: [[UInt8]]
        /// `i`: integers (e.g. `strides`, `dilations`).
        package var ints: [Int64]
        /// `f`: floats.
        package var floats: [Float]
        /// `b`: booleans.
        package var bools: [Bool]
        /// `type`: data types.
        package var types: [TFDataType]
        /// `shape`: shapes.
        package var shapes: [TensorShapeProto]
        /// `tensor`: tensors.
        package var tensors: [TensorProto]
        /// `func`: function names.
        package var functions: [String]

        /// A list value; every list defaults to empty.
        package init(
            bytes: [[UInt8]] = [],
            ints: [Int64] = [],
            floats: [Float] = [],
            bools: [Bool] = [],
            types: [TFDataType] = [],
            shapes: [TensorShapeProto] = [],
            tensors: [TensorProto] = [],
            functions: [String] = []
        ) {
            self.bytes = bytes
            self.ints = ints
            self.floats = floats
            self.bools = bools
            self.types = types
            self.shapes = shapes
            self.tensors = tensors
            self.functions = functions
        }
    }

    /// The `s` member decoded as UTF-8 (invalid sequences replaced), or nil for other members.
    package var string: String? {
        guard case .bytes(let bytes) = self else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The `i` member, or nil.
    package var int: Int64? {
        guard case .int(let value) = self else { return nil }
        return value
    }

    /// The `b` member, or nil.
    package var bool: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }

    /// The `type` member, or nil.
    package var dataType: TFDataType? {
        guard case .type(let value) = self else { return nil }
        return value
    }

    /// The `tensor` member, or nil.
    package var tensor: TensorProto? {
        guard case .tensor(let value) = self else { return nil }
        return value
    }

    /// The `list` member, or nil.
    package var list: List? {
        guard case .list(let value) = self else { return nil }
        return value
    }

    /// The integers of the `list` member (e.g. `strides`), or nil.
    package var ints: [Int64]? { list?.ints }

    /// Every tensor held by this value (the `tensor` member or the `list` member's tensors).
    var tensors: [TensorProto] {
        switch self {
        case .tensor(let tensor): [tensor]
        case .list(let list): list.tensors
        default: []
        }
    }

    /// This value with `node` set on every tensor it holds (for error messages).
    func naming(node: String) -> AttrValue {
        switch self {
        case .tensor(var tensor):
            tensor.node = node
            return .tensor(tensor)
        case .list(var list) where !list.tensors.isEmpty:
            for index in list.tensors.indices { list.tensors[index].node = node }
            return .list(list)
        default:
            return self
        }
    }
}

extension AttrValue {
    /// Reads the message from `reader` (field numbers from attr_value.proto).
    init(from reader: inout ProtobufReader) throws(GraphDefError) {
        self = .notSet
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                var listReader = try reader.readMessage(field)
                self = .list(try List(from: &listReader))
            case 2: self = .bytes(Array(try reader.readBytes(field)))
            case 3: self = .int(try reader.readInt64(field))
            case 4: self = .float(try reader.readFloat(field))
            case 5: self = .bool(try reader.readBool(field))
            case 6: self = .type(TFDataType(rawValue: try reader.readInt32(field)))
            case 7:
                var shapeReader = try reader.readMessage(field)
                self = .shape(try TensorShapeProto(from: &shapeReader))
            case 8:
                var tensorReader = try reader.readMessage(field)
                self = .tensor(try TensorProto(from: &tensorReader))
            case 9: self = .placeholder(try reader.readString(field))
            case 10:
                var functionReader = try reader.readMessage(field)
                self = .function(try Self.functionName(from: &functionReader))
            default: try reader.skip(field)
            }
        }
    }

    /// The `name` of a `NameAttrList` message (its `attr` map is skipped).
    static func functionName(from reader: inout ProtobufReader) throws(GraphDefError) -> String {
        var name = ""
        while let field = try reader.nextField() {
            if field.number == 1 { name = try reader.readString(field) } else { try reader.skip(field) }
        }
        return name
    }
}

extension AttrValue.List {
    /// Reads an `AttrValue.ListValue` message from `reader`.
    init(from reader: inout ProtobufReader) throws(GraphDefError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 2: bytes.append(Array(try reader.readBytes(field)))
            case 3: try reader.readRepeatedInt64s(field, into: &ints)
            case 4: try reader.readRepeatedFloats(field, into: &floats)
            case 5: try reader.readRepeatedBools(field, into: &bools)
            case 6:
                var raw: [Int32] = []
                try reader.readRepeatedInt32s(field, into: &raw)
                types += raw.map { TFDataType(rawValue: $0) }
            case 7:
                var shapeReader = try reader.readMessage(field)
                shapes.append(try TensorShapeProto(from: &shapeReader))
            case 8:
                var tensorReader = try reader.readMessage(field)
                tensors.append(try TensorProto(from: &tensorReader))
            case 9:
                var functionReader = try reader.readMessage(field)
                functions.append(try AttrValue.functionName(from: &functionReader))
            default: try reader.skip(field)
            }
        }
    }
}
