/// A TensorFlow `TensorProto` (tensorflow/core/framework/tensor.proto): a constant's dtype, shape and values.
///
/// Values are stored either as raw little-endian bytes in `tensorContent` or in the typed `…Val` fields; read them
/// with `floatValues()`, `int32Values()`, `int64Values()` or `uint8Values()` (TensorProto+Values.swift), which apply
/// TensorFlow's rules. `tensorContent` is a slice of the buffer the GraphDef was read from (not a copy), so it keeps
/// that buffer alive.
package struct TensorProto: Sendable, Equatable {
    /// The element type (field `dtype`).
    package var dtype: TFDataType
    /// The shape (field `tensor_shape`).
    package var shape: TensorShapeProto
    /// The values as raw little-endian bytes (field `tensor_content`); empty when the typed fields are used.
    package var tensorContent: ArraySlice<UInt8>
    /// `DT_HALF` and `DT_BFLOAT16` values as bit patterns in the low 16 bits (field `half_val`).
    package var halfVal: [Int32]
    /// `DT_FLOAT` values (field `float_val`).
    package var floatVal: [Float]
    /// `DT_DOUBLE` values (field `double_val`).
    package var doubleVal: [Double]
    /// `DT_INT32`, `DT_INT16`, `DT_INT8`, `DT_UINT8`, `DT_UINT16` and quantized values (field `int_val`).
    package var intVal: [Int32]
    /// `DT_STRING` values (field `string_val`).
    package var stringVal: [[UInt8]]
    /// `DT_INT64` values (field `int64_val`).
    package var int64Val: [Int64]
    /// `DT_BOOL` values (field `bool_val`).
    package var boolVal: [Bool]
    /// `DT_UINT32` values (field `uint32_val`).
    package var uint32Val: [UInt32]
    /// `DT_UINT64` values (field `uint64_val`).
    package var uint64Val: [UInt64]
    /// The name of the node this tensor was read from, for error messages (not a TensorProto field).
    package var node: String

    /// A tensor with the given fields; every value field defaults to empty.
    package init(
        dtype: TFDataType,
        shape: TensorShapeProto = TensorShapeProto(),
        tensorContent: ArraySlice<UInt8> = [],
        halfVal: [Int32] = [],
        floatVal: [Float] = [],
        doubleVal: [Double] = [],
        intVal: [Int32] = [],
        stringVal: [[UInt8]] = [],
        int64Val: [Int64] = [],
        boolVal: [Bool] = [],
        uint32Val: [UInt32] = [],
        uint64Val: [UInt64] = [],
        node: String = ""
    ) {
        self.dtype = dtype
        self.shape = shape
        self.tensorContent = tensorContent
        self.halfVal = halfVal
        self.floatVal = floatVal
        self.doubleVal = doubleVal
        self.intVal = intVal
        self.stringVal = stringVal
        self.int64Val = int64Val
        self.boolVal = boolVal
        self.uint32Val = uint32Val
        self.uint64Val = uint64Val
        self.node = node
    }

    /// The most elements a tensor may have (2^28, 1 GiB of float32): far above any super-resolution weight
    /// (EDSR's largest is 589,824) and low enough that a hostile shape can never make us allocate without bound.
    package static let maxElementCount = 1 << 28

    /// The most dimensions a tensor may have (TensorFlow's `TensorShape::MaxDimensions()`).
    package static let maxRank = 254

    /// The shape's dimensions as `Int`s, unchecked (see `elementCount()` for the checks).
    package var shapeDims: [Int] { shape.dims.map { Int(truncatingIfNeeded: $0) } }

    /// The number of elements the shape holds, after checking that the rank is known and at most `maxRank`, that
    /// every dimension is ≥ 0, and that the product (computed with overflow checks) is at most `maxElementCount`.
    package func elementCount() throws(GraphDefError) -> Int {
        guard !shape.unknownRank else { throw .badTensor(node: node, reason: "the shape has unknown rank") }
        guard shape.dims.count <= Self.maxRank else {
            throw .badTensor(node: node, reason: "rank \(shape.dims.count) exceeds \(Self.maxRank)")
        }
        if let negative = shape.dims.first(where: { $0 < 0 }) {
            throw .badTensor(node: node, reason: "negative dimension \(negative) in shape \(shape.dims)")
        }
        var count = 1
        for dim in shape.dims {
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(truncatingIfNeeded: dim))
            guard dim <= Int64(Self.maxElementCount), !overflow, product <= Self.maxElementCount else {
                throw .tooLarge(node: node, dims: shape.dims, limit: Self.maxElementCount)
            }
            count = product
        }
        return count
    }

    /// How many of the shape's elements the file does not store: filled with the last value or zero when read.
    /// 0 for a tensor with `tensor_content` (whose size `validate()` checks) or an invalid shape.
    var impliedElementCount: Int {
        guard tensorContent.isEmpty, let count = try? elementCount() else { return 0 }
        let stored = [
            halfVal.count, floatVal.count, doubleVal.count, intVal.count, stringVal.count, int64Val.count,
            boolVal.count, uint32Val.count, uint64Val.count,
        ].max() ?? 0
        return Swift.max(0, count - stored)
    }

    /// Checks what can be checked without decoding: the shape (see `elementCount()`), and for fixed-size dtypes that
    /// a non-empty `tensorContent` holds exactly elementCount × element size bytes.
    package func validate() throws(GraphDefError) {
        let count = try elementCount()
        guard !tensorContent.isEmpty, let size = dtype.byteSize else { return }
        // count ≤ 2^28 and size ≤ 16: the product cannot overflow.
        guard tensorContent.count == count * size else {
            throw .badTensor(
                node: node,
                reason: "tensor_content has \(tensorContent.count) bytes but shape \(shape.dims) of \(dtype) "
                    + "needs \(count * size)"
            )
        }
    }
}

extension TensorProto {
    /// Reads the message from `reader` (field numbers from tensor.proto); `node` is filled in by the caller.
    init(from reader: inout ProtobufReader) throws(GraphDefError) {
        self.init(dtype: .invalid)
        while let field = try reader.nextField() {
            switch field.number {
            case 1: dtype = TFDataType(rawValue: try reader.readInt32(field))
            case 2:
                var shapeReader = try reader.readMessage(field)
                shape = try TensorShapeProto(from: &shapeReader)
            case 4: tensorContent = try reader.readBytes(field)
            case 5: try reader.readRepeatedFloats(field, into: &floatVal)
            case 6: try reader.readRepeatedDoubles(field, into: &doubleVal)
            case 7: try reader.readRepeatedInt32s(field, into: &intVal)
            case 8: stringVal.append(Array(try reader.readBytes(field)))
            case 10: try reader.readRepeatedInt64s(field, into: &int64Val)
            case 11: try reader.readRepeatedBools(field, into: &boolVal)
            case 13: try reader.readRepeatedInt32s(field, into: &halfVal)
            case 16: try reader.readRepeatedUInt32s(field, into: &uint32Val)
            case 17: try reader.readRepeatedUInt64s(field, into: &uint64Val)
            // version_number (3), complex values (9, 12), resource handles (14), variants (15), float8 (18), …
            default: try reader.skip(field)
            }
        }
    }
}
