import Foundation

/// An ONNX `TensorProto` as stored: shape, element type and the values in whichever field holds them (or a reference
/// to an external data file beside the model). `values(externalFolder:)` decodes and checks it.
package struct ONNXTensor: Sendable {
    /// The element types an SR network's constants come in (`TensorProto.DataType`).
    package enum DataType: Int32, Sendable {
        case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, bool = 9, float16 = 10
        case double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16

        /// Bytes per element in `raw_data`.
        var byteSize: Int {
            switch self {
            case .uint8, .int8, .bool: 1
            case .uint16, .int16, .float16, .bfloat16: 2
            case .float, .int32, .uint32: 4
            case .int64, .double, .uint64: 8
            }
        }

        /// Whether the values are floating point.
        var isFloatingPoint: Bool { self == .float || self == .float16 || self == .bfloat16 || self == .double }
    }

    /// The tensor's name (initializers are referred to by it).
    package var name = ""
    /// The dimensions.
    package var dims: [Int64] = []
    /// The element type as written (`data_type`).
    package var dataType: Int32 = 0
    /// Little-endian values (`raw_data`), a slice of the file's bytes.
    var rawData: ArraySlice<UInt8> = []
    var floatData: [Float] = []
    var int32Data: [Int32] = []
    var int64Data: [Int64] = []
    var doubleData: [Double] = []
    var uint64Data: [UInt64] = []
    /// `external_data` entries (location, offset, length, checksum) when the values live in another file.
    package var externalData: [String: String] = [:]
    /// `data_location`: 1 when the values are external.
    var dataLocation: Int32 = 0

    /// The most elements a tensor may have (2^28, 1 GiB of float32), as for TensorFlow graphs.
    package static let maxElementCount = 1 << 28

    init(from reader: inout ProtobufReader) throws(GraphDefError) {
        while let field = try reader.nextField() {
            switch field.number {
            case 1: try reader.readRepeatedInt64s(field, into: &dims)
            case 2: dataType = try reader.readInt32(field)
            case 4: try reader.readRepeatedFloats(field, into: &floatData)
            case 5: try reader.readRepeatedInt32s(field, into: &int32Data)
            case 7: try reader.readRepeatedInt64s(field, into: &int64Data)
            case 8: name = try reader.readString(field)
            case 9: rawData = try reader.readBytes(field)
            case 10: try reader.readRepeatedDoubles(field, into: &doubleData)
            case 11: try reader.readRepeatedUInt64s(field, into: &uint64Data)
            case 13:
                var entry = try reader.readMessage(field)
                var key = ""
                var value = ""
                while let inner = try entry.nextField() {
                    switch inner.number {
                    case 1: key = try entry.readString(inner)
                    case 2: value = try entry.readString(inner)
                    default: try entry.skip(inner)
                    }
                }
                externalData[key] = value
            case 14: dataLocation = try reader.readInt32(field)
            default: try reader.skip(field)
            }
        }
    }

    /// Why a tensor's values cannot be decoded.
    package struct Problem: Error, Sendable {
        /// What is wrong, in words.
        package let message: String
    }

    /// The number of elements, after checking that every dimension is ≥ 0 and the product is at most
    /// `maxElementCount` (computed with overflow checks: a file may claim 2^40 elements in a few bytes).
    package func elementCount() throws(Problem) -> Int {
        var count = 1
        for dim in dims {
            guard dim >= 0 else { throw Problem(message: "tensor '\(name)' has a negative dimension in \(dims)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(clamping: dim))
            guard !overflow, dim <= Int64(Self.maxElementCount), product <= Self.maxElementCount else {
                throw Problem(
                    message: "tensor '\(name)' of shape \(dims) claims more than \(Self.maxElementCount) elements")
            }
            count = product
        }
        return count
    }

    /// The shape as `Int`s (after `elementCount()` has checked it).
    var shape: [Int] { dims.map { Int($0) } }

    /// The decoded values: floats for floating-point types (float16 and bfloat16 widened exactly), integers for
    /// integer and boolean types. External data is read from `externalFolder` (the model's folder), only by a
    /// relative path that stays inside it.
    package func values(externalFolder: String?) throws(Problem) -> ONNXArray {
        guard let type = DataType(rawValue: dataType) else {
            throw Problem(message: "tensor '\(name)' has element type \(dataType), which superres does not read")
        }
        let count = try elementCount()
        var raw = rawData
        if dataLocation == 1 || !externalData.isEmpty {
            raw = try readExternal(count: count, type: type, folder: externalFolder)
        }
        if !raw.isEmpty || (count > 0 && floatData.isEmpty && int32Data.isEmpty && int64Data.isEmpty
            && doubleData.isEmpty && uint64Data.isEmpty)
        {
            guard raw.count == count * type.byteSize else {
                throw Problem(
                    message: "tensor '\(name)' of shape \(dims) needs \(count * type.byteSize) bytes of "
                        + "\(type) data; the file has \(raw.count)")
            }
            return Self.decode(raw: raw, type: type, count: count, shape: shape)
        }
        func check(_ stored: Int) throws(Problem) {
            guard stored == count else {
                throw Problem(message: "tensor '\(name)' of shape \(dims) stores \(stored) values, not \(count)")
            }
        }
        switch type {
        case .float:
            try check(floatData.count)
            return ONNXArray(shape: shape, floats: floatData)
        case .double:
            try check(doubleData.count)
            return ONNXArray(shape: shape, floats: doubleData.map { Float($0) })
        case .float16:
            try check(int32Data.count)
            return ONNXArray(shape: shape, floats: int32Data.map { Self.halfToFloat(UInt16(truncatingIfNeeded: $0)) })
        case .bfloat16:
            try check(int32Data.count)
            return ONNXArray(
                shape: shape, floats: int32Data.map { Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: $0)) << 16) })
        case .int64:
            try check(int64Data.count)
            return ONNXArray(shape: shape, ints: int64Data.map { Int($0) })
        case .uint64, .uint32:
            try check(uint64Data.count)
            return ONNXArray(shape: shape, ints: uint64Data.map { Int(clamping: $0) })
        case .int32, .int16, .int8, .uint16, .uint8, .bool:
            try check(int32Data.count)
            return ONNXArray(shape: shape, ints: int32Data.map { Int($0) })
        }
    }

    /// The bytes of external data: `location` relative to `folder`, from `offset` for `length` bytes (or to the end).
    private func readExternal(count: Int, type: DataType, folder: String?) throws(Problem) -> ArraySlice<UInt8> {
        guard let location = externalData["location"], !location.isEmpty else {
            throw Problem(message: "tensor '\(name)' is stored externally but names no location")
        }
        guard let folder else {
            throw Problem(message: "tensor '\(name)' is stored in '\(location)', and the model was not read from a file")
        }
        let parts = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.hasPrefix("/"), !location.contains("\\"), !parts.contains(".."), !location.contains("\0")
        else {
            throw Problem(
                message: "tensor '\(name)' is stored in '\(location)': external data must be a file beside the model")
        }
        let offset = Int(externalData["offset"] ?? "0") ?? -1
        let needed = count * type.byteSize
        let length = externalData["length"].map { Int($0) ?? -1 } ?? needed
        guard offset >= 0, length == needed else {
            throw Problem(
                message: "tensor '\(name)': external data offset \(externalData["offset"] ?? "0") and length "
                    + "\(externalData["length"] ?? "-") do not fit its \(needed) bytes")
        }
        let path = (folder as NSString).appendingPathComponent(location)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Problem(message: "tensor '\(name)': cannot open its external data file \(path)")
        }
        defer { try? handle.close() }
        do {
            let size = try handle.seekToEnd()
            guard UInt64(offset) + UInt64(length) <= size else {
                throw Problem(
                    message: "tensor '\(name)': \(path) has \(size) bytes, too few for \(length) bytes at \(offset)")
            }
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: length) ?? Data()
            guard data.count == length else {
                throw Problem(message: "tensor '\(name)': read \(data.count) of \(length) bytes from \(path)")
            }
            return ArraySlice([UInt8](data))
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(message: "tensor '\(name)': cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// Little-endian `raw` (exactly `count` elements of `type`) as floats or integers.
    private static func decode(raw: ArraySlice<UInt8>, type: DataType, count: Int, shape: [Int]) -> ONNXArray {
        let bytes = Array(raw)
        func word<T: FixedWidthInteger>(_ index: Int, _: T.Type) -> T {
            var value: T = 0
            let size = MemoryLayout<T>.size
            for byte in 0..<size { value |= T(truncatingIfNeeded: bytes[index * size + byte]) << (8 * byte) }
            return value
        }
        switch type {
        case .float: return ONNXArray(shape: shape, floats: (0..<count).map { Float(bitPattern: word($0, UInt32.self)) })
        case .double:
            return ONNXArray(shape: shape, floats: (0..<count).map { Float(Double(bitPattern: word($0, UInt64.self))) })
        case .float16: return ONNXArray(shape: shape, floats: (0..<count).map { halfToFloat(word($0, UInt16.self)) })
        case .bfloat16:
            return ONNXArray(
                shape: shape, floats: (0..<count).map { Float(bitPattern: UInt32(word($0, UInt16.self)) << 16) })
        case .int64: return ONNXArray(shape: shape, ints: (0..<count).map { Int(word($0, Int64.self)) })
        case .uint64: return ONNXArray(shape: shape, ints: (0..<count).map { Int(clamping: word($0, UInt64.self)) })
        case .int32: return ONNXArray(shape: shape, ints: (0..<count).map { Int(word($0, Int32.self)) })
        case .uint32: return ONNXArray(shape: shape, ints: (0..<count).map { Int(word($0, UInt32.self)) })
        case .int16: return ONNXArray(shape: shape, ints: (0..<count).map { Int(word($0, Int16.self)) })
        case .uint16: return ONNXArray(shape: shape, ints: (0..<count).map { Int(word($0, UInt16.self)) })
        case .int8: return ONNXArray(shape: shape, ints: (0..<count).map { Int(Int8(bitPattern: bytes[$0])) })
        case .uint8, .bool: return ONNXArray(shape: shape, ints: bytes.map { Int($0) })
        }
    }

    /// IEEE 754 half precision widened to float exactly (subnormals, infinities and NaN kept).
    static func halfToFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = Int(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | mantissa << 13)
    }
}

/// A constant array known while importing: a shape and its values, floating point or integer.
package struct ONNXArray: Sendable, Equatable {
    /// The dimensions.
    package var shape: [Int]
    /// The values of a floating-point tensor (empty for integer ones).
    package var floats: [Float]
    /// The values of an integer or boolean tensor (empty for floating-point ones).
    package var ints: [Int]
    /// Whether the values are integers.
    package var isInteger: Bool

    /// A floating-point array.
    package init(shape: [Int], floats: [Float]) {
        self.shape = shape
        self.floats = floats
        self.ints = []
        self.isInteger = false
    }

    /// An integer array.
    package init(shape: [Int], ints: [Int]) {
        self.shape = shape
        self.floats = []
        self.ints = ints
        self.isInteger = true
    }

    /// The number of values.
    package var count: Int { isInteger ? ints.count : floats.count }

    /// The values as floats.
    package var asFloats: [Float] { isInteger ? ints.map { Float($0) } : floats }

    /// The values as integers (floats truncated toward zero, as ONNX `Cast` does).
    package var asInts: [Int] {
        isInteger ? ints : floats.map { $0.isFinite ? Int(clamping: Int64(exactly: $0.rounded(.towardZero)) ?? 0) : 0 }
    }
}
