// A reader for the protocol-buffer wire format, written by hand so that superres reads TensorFlow GraphDefs without
// swift-protobuf or generated code. It trusts nothing in the bytes: every length is checked against what remains
// before anything is sliced, varints are bounded to 10 bytes, and nesting is bounded by `maxDepth`, so hostile input
// ends in a `GraphDefError`, never a trap, a hang or an allocation larger than the input itself.

/// How a field's value is encoded on the wire (the low three bits of its tag).
package enum WireType: UInt8, Sendable, CustomStringConvertible {
    /// A base-128 varint (int32, int64, uint32, uint64, bool, enum).
    case varint = 0
    /// Eight little-endian bytes (fixed64, sfixed64, double).
    case fixed64 = 1
    /// A varint length followed by that many bytes (string, bytes, messages, packed repeated scalars).
    case lengthDelimited = 2
    /// The start of a deprecated group; skipped up to its matching end.
    case startGroup = 3
    /// The end of a deprecated group.
    case endGroup = 4
    /// Four little-endian bytes (fixed32, sfixed32, float).
    case fixed32 = 5

    /// The encoding's name, e.g. `length-delimited`.
    package var description: String {
        switch self {
        case .varint: "varint"
        case .fixed64: "fixed64"
        case .lengthDelimited: "length-delimited"
        case .startGroup: "start-group"
        case .endGroup: "end-group"
        case .fixed32: "fixed32"
        }
    }
}

/// One field tag as read from the wire: the field number, how its value is encoded and where the tag starts.
package struct ProtobufField: Sendable, Equatable {
    /// The field number from the `.proto` definition (1 ... 2^29 − 1).
    package var number: Int
    /// How the value that follows the tag is encoded.
    package var wireType: WireType
    /// The byte offset of the tag in the whole buffer, for error messages.
    package var offset: Int

    /// A field tag; `offset` is only used in error messages.
    package init(number: Int, wireType: WireType, offset: Int = 0) {
        self.number = number
        self.wireType = wireType
        self.offset = offset
    }
}

/// Reads protocol-buffer wire format from a byte array, one field at a time.
///
/// A reader covers one message: the whole buffer at first, then a sub-range for each nested message returned by
/// `readMessage(_:)`, which shares the buffer (nothing is copied) and is one level deeper. Offsets in errors are
/// offsets in the whole buffer.
///
/// ```swift
/// var reader = ProtobufReader(bytes: bytes)
/// while let field = try reader.nextField() {
///     switch field.number {
///     case 1: name = try reader.readString(field)
///     default: try reader.skip(field)
///     }
/// }
/// ```
package struct ProtobufReader: Sendable {
    /// The deepest nesting of messages and groups accepted by default (protobuf's own default recursion limit).
    package static let defaultMaxDepth = 100

    /// The whole buffer; this reader only reads `bytes[offset..<endOffset]`.
    package let bytes: [UInt8]
    /// The offset of the next byte to read.
    package private(set) var offset: Int
    /// The offset just past this reader's message.
    package let endOffset: Int
    /// How many messages enclose this one (0 for the outermost).
    package let depth: Int
    /// The deepest nesting accepted; deeper messages or groups throw `GraphDefError.tooDeep`.
    package let maxDepth: Int

    /// A reader over a whole buffer, holding one top-level message.
    package init(bytes: [UInt8], maxDepth: Int = ProtobufReader.defaultMaxDepth) {
        self.init(bytes: bytes, range: 0..<bytes.count, depth: 0, maxDepth: maxDepth)
    }

    /// A reader over `bytes[range]`, nested `depth` messages deep.
    init(bytes: [UInt8], range: Range<Int>, depth: Int, maxDepth: Int) {
        self.bytes = bytes
        self.offset = range.lowerBound
        self.endOffset = range.upperBound
        self.depth = depth
        self.maxDepth = maxDepth
    }

    /// Whether every byte of this message has been read.
    package var isAtEnd: Bool { offset >= endOffset }

    /// The number of bytes of this message not read yet.
    package var remainingCount: Int { endOffset - offset }

    // MARK: Tags

    /// Reads the next field's tag, or returns nil at the end of the message.
    ///
    /// Throws `malformed` for field number 0, a number above 2^29 − 1, wire types 6 and 7, and an end-group tag
    /// without its start (groups are consumed whole by `skip(_:)`).
    package mutating func nextField() throws(GraphDefError) -> ProtobufField? {
        guard !isAtEnd else { return nil }
        let start = offset
        let tag = try readVarint()
        guard tag <= UInt64(UInt32.max) else {
            throw .malformed(offset: start, reason: "field tag \(tag) does not fit in 32 bits")
        }
        let number = Int(tag >> 3)
        guard let wireType = WireType(rawValue: UInt8(tag & 7)) else {
            throw .malformed(offset: start, reason: "field \(number) has unknown wire type \(tag & 7)")
        }
        guard number >= 1 else {
            throw .malformed(offset: start, reason: "field number 0 is not allowed")
        }
        guard wireType != .endGroup else {
            throw .malformed(offset: start, reason: "end-group tag of field \(number) without a matching start-group")
        }
        return ProtobufField(number: number, wireType: wireType, offset: start)
    }

    // MARK: Raw values

    /// Reads a base-128 varint of at most 10 bytes whose value fits in 64 bits.
    package mutating func readVarint() throws(GraphDefError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < endOffset else {
                throw .truncated(offset: start, reason: "the data ends inside a varint")
            }
            let byte = bytes[offset]
            offset += 1
            if shift == 63 {
                // The tenth byte holds bit 63 only: anything more is an overflow or an over-long varint.
                guard byte & 0x80 == 0 else {
                    throw .malformed(offset: start, reason: "varint longer than 10 bytes")
                }
                guard byte <= 1 else {
                    throw .malformed(offset: start, reason: "varint overflows 64 bits")
                }
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads four little-endian bytes.
    package mutating func readFixed32() throws(GraphDefError) -> UInt32 {
        let start = try take(4, what: "a fixed32 value")
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[start + index]) << (8 * UInt32(index)) }
        return value
    }

    /// Reads eight little-endian bytes.
    package mutating func readFixed64() throws(GraphDefError) -> UInt64 {
        let start = try take(8, what: "a fixed64 value")
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[start + index]) << (8 * UInt64(index)) }
        return value
    }

    /// Reads a varint length and returns the range of the bytes that follow it, after checking that they are there.
    package mutating func readLengthDelimitedRange() throws(GraphDefError) -> Range<Int> {
        let start = offset
        let length = try readVarint()
        guard length <= UInt64(remainingCount) else {
            throw .truncated(
                offset: start,
                reason: "a field of \(length) bytes runs past the end (\(remainingCount) bytes left)"
            )
        }
        let range = offset..<(offset + Int(length))
        offset = range.upperBound
        return range
    }

    /// Advances past `count` bytes after checking they are there; returns the offset of the first one.
    private mutating func take(_ count: Int, what: String) throws(GraphDefError) -> Int {
        guard remainingCount >= count else {
            throw .truncated(offset: offset, reason: "the data ends inside \(what)")
        }
        defer { offset += count }
        return offset
    }

    // MARK: Skipping

    /// Skips the value of a field this reader's caller does not know, whatever its wire type.
    ///
    /// A group is skipped up to its matching end-group tag, through nested groups, within the depth limit.
    package mutating func skip(_ field: ProtobufField) throws(GraphDefError) {
        switch field.wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try take(8, what: "a fixed64 value")
        case .fixed32: _ = try take(4, what: "a fixed32 value")
        case .lengthDelimited: _ = try readLengthDelimitedRange()
        case .startGroup: try skipGroup(field)
        case .endGroup:
            throw .malformed(offset: field.offset, reason: "end-group tag of field \(field.number) without a start")
        }
    }

    /// Skips a group without recursion: a stack of open group numbers, bounded by the depth limit.
    private mutating func skipGroup(_ field: ProtobufField) throws(GraphDefError) {
        var open = [field.number]
        while let last = open.last {
            guard depth + open.count <= maxDepth else {
                throw .tooDeep(offset: field.offset, limit: maxDepth)
            }
            guard !isAtEnd else {
                throw .truncated(offset: field.offset, reason: "the data ends inside group \(last)")
            }
            let start = offset
            let tag = try readVarint()
            guard tag <= UInt64(UInt32.max), tag >> 3 >= 1, let wireType = WireType(rawValue: UInt8(tag & 7)) else {
                throw .malformed(offset: start, reason: "invalid field tag \(tag) inside group \(last)")
            }
            let number = Int(tag >> 3)
            switch wireType {
            case .startGroup: open.append(number)
            case .endGroup:
                guard number == last else {
                    throw .malformed(offset: start, reason: "end-group \(number) closes group \(last)")
                }
                open.removeLast()
            default: try skip(ProtobufField(number: number, wireType: wireType, offset: start))
            }
        }
    }

    // MARK: Typed values

    /// Throws `malformed` unless `field` has the wire type its declared type needs.
    package func expect(_ field: ProtobufField, _ wireType: WireType, _ typeName: String) throws(GraphDefError) {
        guard field.wireType == wireType else {
            throw .malformed(
                offset: field.offset,
                reason: "field \(field.number) (\(typeName)) has wire type \(field.wireType), expected \(wireType)"
            )
        }
    }

    /// Reads a length-delimited field as a slice of the buffer (not copied).
    package mutating func readBytes(_ field: ProtobufField) throws(GraphDefError) -> ArraySlice<UInt8> {
        try expect(field, .lengthDelimited, "bytes")
        return bytes[try readLengthDelimitedRange()]
    }

    /// Reads a `string` field; throws `malformed` if it is not valid UTF-8.
    package mutating func readString(_ field: ProtobufField) throws(GraphDefError) -> String {
        let raw = try readBytes(field)
        let string = String(decoding: raw, as: UTF8.self)
        // Decoding replaces invalid sequences with U+FFFD; a changed byte sequence means the input was not UTF-8.
        guard string.utf8.elementsEqual(raw) else {
            throw .malformed(offset: field.offset, reason: "field \(field.number) (string) is not valid UTF-8")
        }
        return string
    }

    /// Returns a reader for a nested message field, one level deeper, over a sub-range of the same buffer.
    package mutating func readMessage(_ field: ProtobufField) throws(GraphDefError) -> ProtobufReader {
        try expect(field, .lengthDelimited, "message")
        guard depth < maxDepth else { throw .tooDeep(offset: field.offset, limit: maxDepth) }
        let range = try readLengthDelimitedRange()
        return ProtobufReader(bytes: bytes, range: range, depth: depth + 1, maxDepth: maxDepth)
    }

    /// Reads the varint of a field declared as `typeName`, after checking that its wire type is `varint`.
    private mutating func readVarint(_ field: ProtobufField, as typeName: String) throws(GraphDefError) -> UInt64 {
        try expect(field, .varint, typeName)
        return try readVarint()
    }

    /// Reads an `int32` (or enum) field; as protobuf does, a wider value is truncated to 32 bits.
    package mutating func readInt32(_ field: ProtobufField) throws(GraphDefError) -> Int32 {
        Int32(truncatingIfNeeded: try readVarint(field, as: "int32"))
    }

    /// Reads an `int64` field.
    package mutating func readInt64(_ field: ProtobufField) throws(GraphDefError) -> Int64 {
        Int64(bitPattern: try readVarint(field, as: "int64"))
    }

    /// Reads a `uint64` field.
    package mutating func readUInt64(_ field: ProtobufField) throws(GraphDefError) -> UInt64 {
        try readVarint(field, as: "uint64")
    }

    /// Reads a `bool` field (any non-zero varint is true).
    package mutating func readBool(_ field: ProtobufField) throws(GraphDefError) -> Bool {
        try readVarint(field, as: "bool") != 0
    }

    /// Reads a `float` field.
    package mutating func readFloat(_ field: ProtobufField) throws(GraphDefError) -> Float {
        try expect(field, .fixed32, "float")
        return Float(bitPattern: try readFixed32())
    }

    /// Reads a `double` field.
    package mutating func readDouble(_ field: ProtobufField) throws(GraphDefError) -> Double {
        try expect(field, .fixed64, "double")
        return Double(bitPattern: try readFixed64())
    }
}
