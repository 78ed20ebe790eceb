/// A TensorFlow `TensorShapeProto` (tensorflow/core/framework/tensor_shape.proto).
///
/// In a `shape` attribute a dimension of −1 means "unknown"; in a tensor every dimension must be ≥ 0 (checked when
/// the tensor is read, see `TensorProto.elementCount()`). Dimension names are not kept.
package struct TensorShapeProto: Sendable, Equatable, CustomStringConvertible {
    /// The dimension sizes, outermost first (field `dim`, each `Dim.size`).
    package var dims: [Int64]
    /// Whether even the rank is unknown (field `unknown_rank`); `dims` is then empty.
    package var unknownRank: Bool

    /// A shape with these dimensions.
    package init(dims: [Int64] = [], unknownRank: Bool = false) {
        self.dims = dims
        self.unknownRank = unknownRank
    }

    /// The dimensions, e.g. `[3, 3, 8, 27]`, or `<unknown rank>`.
    package var description: String { unknownRank ? "<unknown rank>" : "\(dims)" }
}

extension TensorShapeProto {
    /// Reads the message from `reader` (field numbers from tensor_shape.proto).
    init(from reader: inout ProtobufReader) throws(GraphDefError) {
        self.init()
        while let field = try reader.nextField() {
            switch field.number {
            case 2:  // repeated Dim dim
                var dimReader = try reader.readMessage(field)
                var size: Int64 = 0
                while let dimField = try dimReader.nextField() {
                    switch dimField.number {
                    case 1: size = try dimReader.readInt64(dimField)  // int64 size
                    default: try dimReader.skip(dimField)  // string name
                    }
                }
                dims.append(size)
            case 3: unknownRank = try reader.readBool(field)
            default: try reader.skip(field)
            }
        }
    }
}
