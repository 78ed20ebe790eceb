import Models
import Testing

/// Builds wire-format bytes for tests, including deliberately broken ones.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func tag(_ number: Int, _ wireType: WireType) {
        varint(UInt64(number) << 3 | UInt64(wireType.rawValue))
    }

    mutating func varintField(_ number: Int, _ value: UInt64) {
        tag(number, .varint)
        varint(value)
    }

    mutating func int64Field(_ number: Int, _ value: Int64) {
        varintField(number, UInt64(bitPattern: value))
    }

    mutating func fixed32Field(_ number: Int, _ value: UInt32) {
        tag(number, .fixed32)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    mutating func fixed64Field(_ number: Int, _ value: UInt64) {
        tag(number, .fixed64)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    mutating func bytesField(_ number: Int, _ payload: [UInt8]) {
        tag(number, .lengthDelimited)
        varint(UInt64(payload.count))
        bytes += payload
    }

    mutating func stringField(_ number: Int, _ string: String) {
        bytesField(number, Array(string.utf8))
    }

    mutating func messageField(_ number: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        bytesField(number, inner.bytes)
    }

    mutating func packedFloats(_ number: Int, _ values: [Float]) {
        var inner = ProtobufWriter()
        for value in values {
            for shift in stride(from: 0, to: 32, by: 8) {
                inner.bytes.append(UInt8(truncatingIfNeeded: value.bitPattern >> UInt32(shift)))
            }
        }
        bytesField(number, inner.bytes)
    }

    mutating func packedVarints(_ number: Int, _ values: [UInt64]) {
        var inner = ProtobufWriter()
        for value in values { inner.varint(value) }
        bytesField(number, inner.bytes)
    }
}

/// Reads every field of `bytes`, skipping them all; returns the numbers seen.
private func skipAll(_ bytes: [UInt8], maxDepth: Int = ProtobufReader.defaultMaxDepth) throws(GraphDefError) -> [Int] {
    var reader = ProtobufReader(bytes: bytes, maxDepth: maxDepth)
    var numbers: [Int] = []
    while let field = try reader.nextField() {
        numbers.append(field.number)
        try reader.skip(field)
    }
    return numbers
}

/// The error `body` throws, or nil.
private func error(_ body: () throws(GraphDefError) -> Void) -> GraphDefError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

@Suite struct ProtobufReaderTests {
    @Test(arguments: [0, 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), 1 << 63, UInt64.max])
    func varintRoundTrips(_ value: UInt64) throws {
        var writer = ProtobufWriter()
        writer.varint(value)
        var reader = ProtobufReader(bytes: writer.bytes)
        #expect(try reader.readVarint() == value)
        #expect(reader.isAtEnd)
    }

    @Test func elevenByteVarintIsMalformed() {
        var reader = ProtobufReader(bytes: [UInt8](repeating: 0xFF, count: 10) + [0x01])
        guard case .malformed(0, let reason) = error({ () throws(GraphDefError) in _ = try reader.readVarint() })
        else {
            Issue.record("an 11-byte varint must be malformed")
            return
        }
        #expect(reason.contains("10 bytes"))
        // Eleven bytes of zero payload are still too long.
        var zeros = ProtobufReader(bytes: [UInt8](repeating: 0x80, count: 10) + [0x00])
        #expect(throws: GraphDefError.self) { _ = try zeros.readVarint() }
    }

    @Test func tenthByteBeyondBit63Overflows() {
        var reader = ProtobufReader(bytes: [UInt8](repeating: 0xFF, count: 9) + [0x02])
        guard case .malformed(_, let reason) = error({ () throws(GraphDefError) in _ = try reader.readVarint() })
        else {
            Issue.record("a varint above 2^64 − 1 must be malformed")
            return
        }
        #expect(reason.contains("overflow"))
    }

    @Test func truncatedValuesThrowTruncated() {
        for bytes: [UInt8] in [[0x80], [0xFF, 0xFF]] {
            var reader = ProtobufReader(bytes: bytes)
            #expect(error { () throws(GraphDefError) in _ = try reader.readVarint() }?.code == "truncated")
        }
        var fixed32 = ProtobufReader(bytes: [1, 2, 3])
        #expect(error { () throws(GraphDefError) in _ = try fixed32.readFixed32() }?.code == "truncated")
        var fixed64 = ProtobufReader(bytes: [1, 2, 3, 4, 5, 6, 7])
        #expect(error { () throws(GraphDefError) in _ = try fixed64.readFixed64() }?.code == "truncated")
    }

    @Test func fixedWidthValuesAreLittleEndian() throws {
        var writer = ProtobufWriter()
        writer.fixed32Field(1, Float(1.5).bitPattern)
        writer.fixed64Field(2, Double(-2.25).bitPattern)
        writer.fixed32Field(3, 0x0403_0201)
        var reader = ProtobufReader(bytes: writer.bytes)
        #expect(try reader.readFloat(#require(try reader.nextField())) == 1.5)
        #expect(try reader.readDouble(#require(try reader.nextField())) == -2.25)
        let field = try #require(try reader.nextField())
        #expect(try reader.readFixed32() == 0x0403_0201)
        #expect(field.number == 3 && reader.isAtEnd)
    }

    @Test func lengthBeyondTheEndThrowsBeforeSlicing() {
        // A 5-byte field with 3 bytes present, and a field claiming 2^62 bytes: both must throw, neither allocate.
        for length: UInt64 in [5, 1 << 62, UInt64.max] {
            var writer = ProtobufWriter()
            writer.tag(1, .lengthDelimited)
            writer.varint(length)
            writer.bytes += [1, 2, 3]
            var reader = ProtobufReader(bytes: writer.bytes)
            let thrown = error { () throws(GraphDefError) in
                let field = try reader.nextField()!
                _ = try reader.readBytes(field)
            }
            // The offset is where the length starts, just after the one-byte tag.
            guard case .truncated(1, let reason) = thrown else {
                Issue.record("length \(length): expected truncated, got \(String(describing: thrown))")
                continue
            }
            #expect(reason.contains("\(length) bytes"))
        }
    }

    @Test func nestedLengthIsCheckedAgainstItsParentNotTheBuffer() throws {
        // Outer message of 3 bytes holds an inner field claiming 10 bytes; the buffer has more bytes after it.
        var writer = ProtobufWriter()
        writer.tag(1, .lengthDelimited)
        writer.varint(3)
        writer.tag(2, .lengthDelimited)
        writer.varint(10)
        writer.bytes.append(0)
        writer.bytes += [UInt8](repeating: 0, count: 20)
        var reader = ProtobufReader(bytes: writer.bytes)
        var inner = try reader.readMessage(#require(try reader.nextField()))
        let field = try #require(try inner.nextField())
        #expect(error { () throws(GraphDefError) in _ = try inner.readBytes(field) }?.code == "truncated")
    }

    @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
        var writer = ProtobufWriter()
        writer.varintField(10, UInt64.max)
        writer.fixed64Field(11, 42)
        writer.stringField(12, "skip me")
        writer.fixed32Field(13, 7)
        // A group holding every wire type and a nested group.
        writer.tag(14, .startGroup)
        writer.varintField(1, 5)
        writer.fixed64Field(2, 1)
        writer.bytesField(3, [1, 2, 3])
        writer.tag(4, .startGroup)
        writer.fixed32Field(1, 9)
        writer.tag(4, .endGroup)
        writer.tag(14, .endGroup)
        writer.stringField(1, "kept")
        var reader = ProtobufReader(bytes: writer.bytes)
        var kept: String?
        var seen: [Int] = []
        while let field = try reader.nextField() {
            seen.append(field.number)
            if field.number == 1 { kept = try reader.readString(field) } else { try reader.skip(field) }
        }
        #expect(seen == [10, 11, 12, 13, 14, 1])
        #expect(kept == "kept")
    }

    @Test func brokenGroupsThrow() {
        var unmatchedEnd = ProtobufWriter()
        unmatchedEnd.tag(3, .endGroup)
        #expect(error { () throws(GraphDefError) in _ = try skipAll(unmatchedEnd.bytes) }?.code == "malformed")

        var mismatched = ProtobufWriter()
        mismatched.tag(3, .startGroup)
        mismatched.tag(4, .endGroup)
        #expect(error { () throws(GraphDefError) in _ = try skipAll(mismatched.bytes) }?.code == "malformed")

        var unterminated = ProtobufWriter()
        unterminated.tag(3, .startGroup)
        unterminated.varintField(1, 1)
        #expect(error { () throws(GraphDefError) in _ = try skipAll(unterminated.bytes) }?.code == "truncated")

        // 10,000 nested groups: refused at the depth limit, without recursion.
        var deep = ProtobufWriter()
        for _ in 0..<10_000 { deep.tag(5, .startGroup) }
        for _ in 0..<10_000 { deep.tag(5, .endGroup) }
        guard case .tooDeep(_, let limit) = error({ () throws(GraphDefError) in _ = try skipAll(deep.bytes) }) else {
            Issue.record("nested groups beyond the limit must be refused")
            return
        }
        #expect(limit == ProtobufReader.defaultMaxDepth)
        // Within the limit they are skipped.
        var shallow = ProtobufWriter()
        for _ in 0..<50 { shallow.tag(5, .startGroup) }
        for _ in 0..<50 { shallow.tag(5, .endGroup) }
        #expect(throws: Never.self) { _ = try skipAll(shallow.bytes) }
    }

    @Test func invalidTagsAreMalformed() {
        let cases: [[UInt8]] = [
            [0x0E, 0x00],  // field 1, wire type 6
            [0x0F, 0x00],  // field 1, wire type 7
            [0x00, 0x00],  // field 0
            [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],  // tag above 32 bits
        ]
        for bytes in cases {
            #expect(error { () throws(GraphDefError) in _ = try skipAll(bytes) }?.code == "malformed", "\(bytes)")
        }
    }

    @Test func wrongWireTypeForAKnownFieldIsMalformed() throws {
        var writer = ProtobufWriter()
        writer.varintField(1, 3)
        var reader = ProtobufReader(bytes: writer.bytes)
        let field = try #require(try reader.nextField())
        #expect(error { () throws(GraphDefError) in _ = try reader.readString(field) }?.code == "malformed")
        #expect(error { () throws(GraphDefError) in _ = try reader.readFloat(field) }?.code == "malformed")
    }

    @Test func invalidUTF8StringIsMalformed() throws {
        var writer = ProtobufWriter()
        writer.bytesField(1, [0x61, 0xC3, 0x28])
        var reader = ProtobufReader(bytes: writer.bytes)
        let field = try #require(try reader.nextField())
        #expect(error { () throws(GraphDefError) in _ = try reader.readString(field) }?.code == "malformed")
    }

    @Test func repeatedScalarsAcceptPackedAndUnpacked() throws {
        var writer = ProtobufWriter()
        writer.packedFloats(1, [1, -2.5])
        writer.fixed32Field(1, Float(3).bitPattern)
        writer.packedVarints(2, [5, UInt64(bitPattern: -7), UInt64(bitPattern: Int64(Int32.min))])
        writer.varintField(2, UInt64(bitPattern: -1))
        writer.packedVarints(3, [1 << 40, UInt64(bitPattern: -(1 << 40))])
        writer.int64Field(3, .max)
        writer.packedVarints(4, [0, 1, 2])
        writer.varintField(4, 0)
        var floats: [Float] = []
        var int32s: [Int32] = []
        var int64s: [Int64] = []
        var bools: [Bool] = []
        var reader = ProtobufReader(bytes: writer.bytes)
        while let field = try reader.nextField() {
            switch field.number {
            case 1: try reader.readRepeatedFloats(field, into: &floats)
            case 2: try reader.readRepeatedInt32s(field, into: &int32s)
            case 3: try reader.readRepeatedInt64s(field, into: &int64s)
            case 4: try reader.readRepeatedBools(field, into: &bools)
            default: try reader.skip(field)
            }
        }
        #expect(floats == [1, -2.5, 3])
        #expect(int32s == [5, -7, Int32.min, -1])
        let expectedInt64s: [Int64] = [1 << 40, -(1 << 40), .max]
        #expect(int64s == expectedInt64s)
        #expect(bools == [false, true, true, false])
    }

    @Test func brokenPackedRunsThrow() throws {
        var floats = ProtobufWriter()
        floats.bytesField(1, [0, 0, 0, 0, 0])  // 5 bytes: not whole floats
        var reader = ProtobufReader(bytes: floats.bytes)
        var values: [Float] = []
        let field = try #require(try reader.nextField())
        #expect(
            error { () throws(GraphDefError) in try reader.readRepeatedFloats(field, into: &values) }?.code
                == "malformed"
        )

        // A packed varint run whose last varint continues past the run, into the next field's bytes.
        var varints = ProtobufWriter()
        varints.bytesField(2, [0x01, 0x80])
        varints.varintField(3, 1)
        var varintReader = ProtobufReader(bytes: varints.bytes)
        var ints: [Int64] = []
        let varintField = try #require(try varintReader.nextField())
        #expect(
            error { () throws(GraphDefError) in try varintReader.readRepeatedInt64s(varintField, into: &ints) }?.code
                == "truncated"
        )
    }

    @Test func nestingDeeperThanTheLimitThrowsTooDeep() throws {
        // 150 messages, each the only field 1 of its parent.
        var bytes: [UInt8] = []
        for _ in 0..<150 {
            var writer = ProtobufWriter()
            writer.bytesField(1, bytes)
            bytes = writer.bytes
        }
        func descend(_ reader: inout ProtobufReader) throws(GraphDefError) -> Int {
            guard let field = try reader.nextField() else { return reader.depth }
            var inner = try reader.readMessage(field)
            return try descend(&inner)
        }
        var reader = ProtobufReader(bytes: bytes)
        guard case .tooDeep(_, 100) = error({ () throws(GraphDefError) in _ = try descend(&reader) }) else {
            Issue.record("150 nested messages must exceed the default limit of 100")
            return
        }
        var lenient = ProtobufReader(bytes: bytes, maxDepth: 200)
        #expect(try descend(&lenient) == 150)
    }
}
