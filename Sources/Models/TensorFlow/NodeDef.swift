/// A TensorFlow `NodeDef` (tensorflow/core/framework/node_def.proto): one operation of a graph.
package struct NodeDef: Sendable, Equatable {
    /// The node's unique name (field `name`).
    package var name: String
    /// The operation type, e.g. `Conv2D`, `Const`, `Dequantize` (field `op`).
    package var op: String
    /// The inputs, in order (field `input`): `node`, `node:k` for output k, `^node` for a control dependency.
    package var inputs: [String]
    /// The requested device, usually empty in frozen graphs (field `device`).
    package var device: String
    /// The attributes by name (field `attr`); when a key repeats, the last entry wins, as in protobuf maps.
    package var attributes: [String: AttrValue]

    /// A node with the given fields.
    package init(
        name: String,
        op: String,
        inputs: [String] = [],
        device: String = "",
        attributes: [String: AttrValue] = [:]
    ) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.device = device
        self.attributes = attributes
    }

    /// The `value` attribute's tensor (what a `Const` node holds), or nil.
    package var constantValue: TensorProto? { attributes["value"]?.tensor }

    /// The data inputs: `inputs` without control dependencies (`^name`).
    package var dataInputs: [String] { inputs.filter { !$0.hasPrefix("^") } }
}

extension NodeDef {
    /// Reads the message from `reader` (field numbers from node_def.proto) into this node, without validating its
    /// tensors. If reading fails, the fields read so far stay set (so errors can name the node).
    mutating func read(from reader: inout ProtobufReader) throws(GraphDefError) {
        while let field = try reader.nextField() {
            switch field.number {
            case 1: name = try reader.readString(field)
            case 2: op = try reader.readString(field)
            case 3: inputs.append(try reader.readString(field))
            case 4: device = try reader.readString(field)
            case 5:
                var entryReader = try reader.readMessage(field)
                var key = ""
                var value = AttrValue.notSet
                while let entryField = try entryReader.nextField() {
                    switch entryField.number {
                    case 1: key = try entryReader.readString(entryField)
                    case 2:
                        var valueReader = try entryReader.readMessage(entryField)
                        value = try AttrValue(from: &valueReader)
                    default: try entryReader.skip(entryField)
                    }
                }
                attributes[key] = value
            // experimental_debug_info (6), experimental_type (7), …
            default: try reader.skip(field)
            }
        }
        for (key, value) in attributes { attributes[key] = value.naming(node: name) }
    }

    /// Checks every tensor the node holds (see `TensorProto.validate()`).
    func validateTensors() throws(GraphDefError) {
        for value in attributes.values {
            for tensor in value.tensors { try tensor.validate() }
        }
    }

    /// The values the node's tensors imply beyond those they store (after `validateTensors()`).
    var impliedElementCount: Int {
        attributes.values.reduce(0) { sum, value in
            value.tensors.reduce(sum) { $0 + $1.impliedElementCount }
        }
    }
}
