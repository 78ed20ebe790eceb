// Repeated scalar fields. A parser must accept both encodings of each occurrence: packed (one length-delimited run,
// proto3's default) and unpacked (one tag per element), and concatenate occurrences in order.

extension ProtobufReader {
    /// Appends the values of one occurrence of a `repeated float` field, packed or not.
    package mutating func readRepeatedFloats(_ field: ProtobufField, into values: inout [Float]) throws(GraphDefError) {
        if field.wireType == .lengthDelimited {
            let range = try packedRange(field, elementSize: 4, typeName: "float")
            values.reserveCapacity(values.count + range.count / 4)
            var position = range.lowerBound
            while position < range.upperBound {
                values.append(Float(bitPattern: loadUInt32(at: position)))
                position += 4
            }
        } else {
            values.append(try readFloat(field))
        }
    }

    /// Appends the values of one occurrence of a `repeated double` field, packed or not.
    package mutating func readRepeatedDoubles(_ field: ProtobufField, into values: inout [Double]) throws(GraphDefError)
    {
        if field.wireType == .lengthDelimited {
            let range = try packedRange(field, elementSize: 8, typeName: "double")
            values.reserveCapacity(values.count + range.count / 8)
            var position = range.lowerBound
            while position < range.upperBound {
                let low = UInt64(loadUInt32(at: position))
                let high = UInt64(loadUInt32(at: position + 4))
                values.append(Double(bitPattern: low | high << 32))
                position += 8
            }
        } else {
            values.append(try readDouble(field))
        }
    }

    /// Appends the values of one occurrence of a `repeated int32` (or repeated enum) field, packed or not.
    package mutating func readRepeatedInt32s(_ field: ProtobufField, into values: inout [Int32]) throws(GraphDefError) {
        try readRepeatedVarints(field, typeName: "int32") { values.append(Int32(truncatingIfNeeded: $0)) }
    }

    /// Appends the values of one occurrence of a `repeated int64` field, packed or not.
    package mutating func readRepeatedInt64s(_ field: ProtobufField, into values: inout [Int64]) throws(GraphDefError) {
        try readRepeatedVarints(field, typeName: "int64") { values.append(Int64(bitPattern: $0)) }
    }

    /// Appends the values of one occurrence of a `repeated uint32` field, packed or not.
    package mutating func readRepeatedUInt32s(_ field: ProtobufField, into values: inout [UInt32]) throws(GraphDefError)
    {
        try readRepeatedVarints(field, typeName: "uint32") { values.append(UInt32(truncatingIfNeeded: $0)) }
    }

    /// Appends the values of one occurrence of a `repeated uint64` field, packed or not.
    package mutating func readRepeatedUInt64s(_ field: ProtobufField, into values: inout [UInt64]) throws(GraphDefError)
    {
        try readRepeatedVarints(field, typeName: "uint64") { values.append($0) }
    }

    /// Appends the values of one occurrence of a `repeated bool` field, packed or not.
    package mutating func readRepeatedBools(_ field: ProtobufField, into values: inout [Bool]) throws(GraphDefError) {
        try readRepeatedVarints(field, typeName: "bool") { values.append($0 != 0) }
    }

    /// Reads a packed run of varints, or a single one, handing each value to `append`.
    private mutating func readRepeatedVarints(
        _ field: ProtobufField,
        typeName: String,
        append: (UInt64) -> Void
    ) throws(GraphDefError) {
        if field.wireType == .lengthDelimited {
            // A reader confined to the run, so a varint cannot run past the run's end.
            let range = try readLengthDelimitedRange()
            var run = ProtobufReader(bytes: bytes, range: range, depth: depth, maxDepth: maxDepth)
            while !run.isAtEnd {
                append(try run.readVarint())
            }
        } else {
            try expect(field, .varint, typeName)
            append(try readVarint())
        }
    }

    /// Reads the range of a packed run of fixed-size elements, checking that it holds a whole number of them.
    private mutating func packedRange(
        _ field: ProtobufField,
        elementSize: Int,
        typeName: String
    ) throws(GraphDefError) -> Range<Int> {
        let range = try readLengthDelimitedRange()
        guard range.count % elementSize == 0 else {
            throw .malformed(
                offset: field.offset,
                reason: "packed \(typeName) field \(field.number) has \(range.count) bytes, "
                    + "not a multiple of \(elementSize)"
            )
        }
        return range
    }

    /// The little-endian UInt32 at `position` (already bounds-checked by the caller).
    private func loadUInt32(at position: Int) -> UInt32 {
        UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2]) << 16
            | UInt32(bytes[position + 3]) << 24
    }
}
