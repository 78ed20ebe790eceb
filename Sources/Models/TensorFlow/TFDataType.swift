/// A TensorFlow `DataType` enum value (tensorflow/core/framework/types.proto).
///
/// A struct rather than an enum so that values this reader does not know are kept as read (`rawValue`), not lost.
package struct TFDataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The number in types.proto.
    package var rawValue: Int32

    /// The data type with this number, known or not.
    package init(rawValue: Int32) { self.rawValue = rawValue }

    /// `DT_INVALID`: not set.
    package static let invalid = TFDataType(rawValue: 0)
    /// `DT_FLOAT`: 32-bit IEEE float.
    package static let float = TFDataType(rawValue: 1)
    /// `DT_DOUBLE`: 64-bit IEEE float.
    package static let double = TFDataType(rawValue: 2)
    /// `DT_INT32`.
    package static let int32 = TFDataType(rawValue: 3)
    /// `DT_UINT8`.
    package static let uint8 = TFDataType(rawValue: 4)
    /// `DT_INT16`.
    package static let int16 = TFDataType(rawValue: 5)
    /// `DT_INT8`.
    package static let int8 = TFDataType(rawValue: 6)
    /// `DT_STRING`: variable-length byte strings.
    package static let string = TFDataType(rawValue: 7)
    /// `DT_COMPLEX64`: two 32-bit floats.
    package static let complex64 = TFDataType(rawValue: 8)
    /// `DT_INT64`.
    package static let int64 = TFDataType(rawValue: 9)
    /// `DT_BOOL`.
    package static let bool = TFDataType(rawValue: 10)
    /// `DT_QINT8`: quantized signed 8-bit.
    package static let qint8 = TFDataType(rawValue: 11)
    /// `DT_QUINT8`: quantized unsigned 8-bit (the weights of `quantize_weights` graphs).
    package static let quint8 = TFDataType(rawValue: 12)
    /// `DT_QINT32`: quantized signed 32-bit.
    package static let qint32 = TFDataType(rawValue: 13)
    /// `DT_BFLOAT16`: the upper half of a 32-bit float.
    package static let bfloat16 = TFDataType(rawValue: 14)
    /// `DT_QINT16`.
    package static let qint16 = TFDataType(rawValue: 15)
    /// `DT_QUINT16`.
    package static let quint16 = TFDataType(rawValue: 16)
    /// `DT_UINT16`.
    package static let uint16 = TFDataType(rawValue: 17)
    /// `DT_COMPLEX128`: two 64-bit floats.
    package static let complex128 = TFDataType(rawValue: 18)
    /// `DT_HALF`: 16-bit IEEE float.
    package static let half = TFDataType(rawValue: 19)
    /// `DT_RESOURCE`.
    package static let resource = TFDataType(rawValue: 20)
    /// `DT_VARIANT`.
    package static let variant = TFDataType(rawValue: 21)
    /// `DT_UINT32`.
    package static let uint32 = TFDataType(rawValue: 22)
    /// `DT_UINT64`.
    package static let uint64 = TFDataType(rawValue: 23)

    private static let names: [Int32: String] = [
        0: "DT_INVALID", 1: "DT_FLOAT", 2: "DT_DOUBLE", 3: "DT_INT32", 4: "DT_UINT8", 5: "DT_INT16", 6: "DT_INT8",
        7: "DT_STRING", 8: "DT_COMPLEX64", 9: "DT_INT64", 10: "DT_BOOL", 11: "DT_QINT8", 12: "DT_QUINT8",
        13: "DT_QINT32", 14: "DT_BFLOAT16", 15: "DT_QINT16", 16: "DT_QUINT16", 17: "DT_UINT16", 18: "DT_COMPLEX128",
        19: "DT_HALF", 20: "DT_RESOURCE", 21: "DT_VARIANT", 22: "DT_UINT32", 23: "DT_UINT64",
    ]

    /// Reference types (`DT_FLOAT_REF` = 101 …) are the base type + 100; this is the base type.
    package var baseType: TFDataType {
        rawValue > 100 && rawValue <= 200 ? TFDataType(rawValue: rawValue - 100) : self
    }

    /// The size in bytes of one element in `tensor_content`, or nil for variable-size and unknown types.
    package var byteSize: Int? {
        switch self {
        case .float, .int32, .qint32, .uint32: 4
        case .double, .int64, .complex64, .uint64: 8
        case .uint8, .int8, .bool, .qint8, .quint8: 1
        case .int16, .uint16, .qint16, .quint16, .half, .bfloat16: 2
        case .complex128: 16
        default: nil
        }
    }

    /// The types.proto name, e.g. `DT_FLOAT`, or `DataType(42)` for a number this reader does not know.
    package var description: String {
        if let name = Self.names[rawValue] { return name }
        if let name = Self.names[baseType.rawValue], baseType != self { return name + "_REF" }
        return "DataType(\(rawValue))"
    }
}
