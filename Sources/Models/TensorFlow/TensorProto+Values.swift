// Decoding a TensorProto's values the way TensorFlow's `Tensor::FromProto` does: `tensor_content` (raw little-endian
// bytes, exactly elementCount × element size) wins when present; otherwise the typed `…_val` field is used, and if it
// holds fewer values than the shape needs, its last value is repeated (so a single `float_val` broadcasts to the whole
// shape), extra values are ignored, and no values at all means zeros.

import Tensor

extension TensorProto {
    /// The values as float32, row-major.
    ///
    /// Reads `DT_FLOAT` as is and converts `DT_DOUBLE`, `DT_HALF`, `DT_BFLOAT16`, the integer types and `DT_BOOL`.
    /// Quantized types throw: their values mean nothing without the `Dequantize` that uses them
    /// (see `GraphDef.dequantizedTensor(_:)`).
    package func floatValues() throws(GraphDefError) -> [Float] {
        let count = try checkedCount()
        switch dtype {
        case .float:
            return tensorContent.isEmpty ? Self.filled(floatVal, count: count, zero: 0) : contentFloats(count: count)
        case .double:
            return tensorContent.isEmpty
                ? Self.filled(doubleVal, count: count, zero: 0).map { Float($0) }
                : contentValues(count: count, as: UInt64.self) { Float(Double(bitPattern: $0)) }
        case .half:
            return tensorContent.isEmpty
                ? Self.filled(halfVal, count: count, zero: 0).map { Self.floatFromHalf(UInt16(truncatingIfNeeded: $0)) }
                : contentValues(count: count, as: UInt16.self) { Self.floatFromHalf($0) }
        case .bfloat16:
            return tensorContent.isEmpty
                ? Self.filled(halfVal, count: count, zero: 0).map {
                    Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: $0)) << 16)
                }
                : contentValues(count: count, as: UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
        case .bool:
            return tensorContent.isEmpty
                ? Self.filled(boolVal, count: count, zero: false).map { $0 ? 1 : 0 }
                : contentValues(count: count, as: UInt8.self) { $0 != 0 ? 1 : 0 }
        case .int64:
            return try int64Values().map { Float($0) }
        case .uint32:
            return tensorContent.isEmpty
                ? Self.filled(uint32Val, count: count, zero: 0).map { Float($0) }
                : contentValues(count: count, as: UInt32.self) { Float($0) }
        case .uint64:
            return tensorContent.isEmpty
                ? Self.filled(uint64Val, count: count, zero: 0).map { Float($0) }
                : contentValues(count: count, as: UInt64.self) { Float($0) }
        case .int32, .int16, .int8, .uint8, .uint16:
            return try int32Values().map { Float($0) }
        default:
            throw .badTensor(node: node, reason: "\(dtype) values cannot be read as float")
        }
    }

    /// The values of an integer tensor (`DT_INT32`, `DT_INT16`, `DT_INT8`, `DT_UINT8`, `DT_UINT16`, or `DT_INT64`
    /// whose values fit) as Int32, row-major.
    package func int32Values() throws(GraphDefError) -> [Int32] {
        let count = try checkedCount()
        switch dtype {
        case .int32:
            return tensorContent.isEmpty
                ? Self.filled(intVal, count: count, zero: 0)
                : contentValues(count: count, as: Int32.self) { $0 }
        case .int16: return integerValues(count: count, as: Int16.self)
        case .int8: return integerValues(count: count, as: Int8.self)
        case .uint16: return integerValues(count: count, as: UInt16.self)
        case .uint8: return integerValues(count: count, as: UInt8.self)
        case .int64:
            var narrowed: [Int32] = []
            narrowed.reserveCapacity(count)
            for value in try int64Values() {
                guard let exact = Int32(exactly: value) else {
                    throw .badTensor(node: node, reason: "DT_INT64 value \(value) does not fit in Int32")
                }
                narrowed.append(exact)
            }
            return narrowed
        default:
            throw .badTensor(node: node, reason: "\(dtype) values cannot be read as Int32")
        }
    }

    /// The values of a `DT_INT64` tensor, or of any tensor `int32Values()` reads, as Int64, row-major.
    package func int64Values() throws(GraphDefError) -> [Int64] {
        let count = try checkedCount()
        guard dtype == .int64 else { return try int32Values().map { Int64($0) } }
        return tensorContent.isEmpty
            ? Self.filled(int64Val, count: count, zero: 0)
            : contentValues(count: count, as: Int64.self) { $0 }
    }

    /// The raw bytes of a `DT_QUINT8` or `DT_UINT8` tensor, row-major (`int_val` values must lie in 0...255).
    package func uint8Values() throws(GraphDefError) -> [UInt8] {
        let count = try checkedCount()
        guard dtype == .quint8 || dtype == .uint8 else {
            throw .badTensor(node: node, reason: "\(dtype) values cannot be read as UInt8")
        }
        if !tensorContent.isEmpty { return Array(tensorContent) }
        var values: [UInt8] = []
        values.reserveCapacity(Swift.min(count, intVal.count))
        for value in intVal.prefix(count) {
            guard let byte = UInt8(exactly: value) else {
                throw .badTensor(node: node, reason: "\(dtype) value \(value) is outside 0...255")
            }
            values.append(byte)
        }
        return Self.filled(values, count: count, zero: 0)
    }

    /// The tensor as a float32 `Tensor` of the same shape (see `floatValues()`).
    package func tensor() throws(GraphDefError) -> Tensor {
        let scalars = try floatValues()
        return Tensor(shape: shapeDims, scalars: scalars)
    }

    // MARK: Decoding helpers

    /// `validate()`, returning the element count.
    private func checkedCount() throws(GraphDefError) -> Int {
        try validate()
        return try elementCount()
    }

    /// TensorFlow's fill rule for the typed value fields (see the top of this file).
    static func filled<Value>(_ values: [Value], count: Int, zero: Value) -> [Value] {
        guard let last = values.last else { return Array(repeating: zero, count: count) }
        if values.count >= count { return Array(values.prefix(count)) }
        return values + repeatElement(last, count: count - values.count)
    }

    /// Small integer types: from `tensor_content` at their own width, or from `int_val` (truncated as TensorFlow's
    /// `static_cast` does).
    private func integerValues<Raw: FixedWidthInteger & BitwiseCopyable>(count: Int, as: Raw.Type) -> [Int32] {
        tensorContent.isEmpty
            ? Self.filled(intVal, count: count, zero: 0).map { Int32(Raw(truncatingIfNeeded: $0)) }
            : contentValues(count: count, as: Raw.self) { Int32($0) }
    }

    /// `count` float32 values from `tensor_content` (whose length `validate()` has checked), in one copy.
    private func contentFloats(count: Int) -> [Float] {
        #if _endian(little)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            tensorContent.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: raw[0..<count * 4])
                )
            }
            initialized = count
        }
        #else
        return contentValues(count: count, as: UInt32.self) { Float(bitPattern: $0) }
        #endif
    }

    /// `count` little-endian integers of type `Raw` from `tensor_content` (length checked by `validate()`).
    private func contentValues<Raw: FixedWidthInteger & BitwiseCopyable, Value>(
        count: Int,
        as: Raw.Type,
        _ convert: (Raw) -> Value
    ) -> [Value] {
        let stride = MemoryLayout<Raw>.size
        return tensorContent.withUnsafeBytes { raw in
            (0..<count).map { index in
                convert(Raw(littleEndian: raw.loadUnaligned(fromByteOffset: index * stride, as: Raw.self)))
            }
        }
    }

    /// An IEEE 754 half-precision bit pattern as Float (exact: every half is a float).
    static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0x1F:  // infinity or NaN (payload kept)
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        case 0:  // zero or subnormal: mantissa × 2^-24
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }
}
