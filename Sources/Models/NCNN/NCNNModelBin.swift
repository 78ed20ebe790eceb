import Foundation

/// Reads the weights of an ncnn network: the `.bin` file, one array after another in layer order, as ncnn's
/// `ModelBinFromDataReader::load(w, type)` does.
///
/// Type 0 arrays (convolution weights) start with a 4-byte tag: `0` raw float32, `0x01306B47` float16 (padded to 4
/// bytes), `0x000D4B38` int8 (not supported: it needs ncnn's int8 inference), `0x0002C056` float32 with scales
/// stored elsewhere (read as float32), any other non-zero tag a 256-entry float table followed by one byte index
/// per value (padded to 4 bytes). Type 1 arrays (biases, PReLU slopes) are raw float32 without a tag.
///
/// Every length is checked against the bytes left before anything is allocated.
package struct NCNNModelBin: Sendable {
    /// How an array is stored.
    package enum Storage: Sendable, Equatable {
        /// Raw little-endian float32.
        case float32
        /// IEEE half precision.
        case float16
        /// A 256-entry float table and one index byte per value.
        case table
    }

    private let bytes: [UInt8]
    /// The file (for messages).
    package let source: String
    /// Where the next array starts.
    package private(set) var offset = 0

    /// The weights in `data`; `source` names the file in errors.
    package init(data: Data, source: String) {
        self.bytes = [UInt8](data)
        self.source = source
    }

    /// Reads the `.bin` file at `path`.
    package init(contentsOf path: String) throws(ModelError) {
        do {
            self.init(data: try Data(contentsOf: URL(fileURLWithPath: path)), source: path)
        } catch {
            throw ModelError(.unreadable, source: path, "\(error.localizedDescription)")
        }
    }

    /// Bytes not read yet.
    package var remaining: Int { bytes.count - offset }

    /// Reads `count` values of a tagged (type 0) array for `layer`.
    package mutating func loadTagged(count: Int, layer: String) throws(ModelError) -> (values: [Float], storage: Storage)
    {
        let start = offset
        guard count >= 0 else { throw failure(layer, "negative weight count \(count)") }
        let tag = try readUInt32(layer: layer, what: "the storage tag")
        switch tag {
        case 0x0130_6B47:
            guard let bytesNeeded = Self.alignedBytes(count, bytesEach: 2) else {
                throw failure(layer, "weight count \(count) is too large")
            }
            try need(bytesNeeded, layer: layer, what: "\(count) float16 weights", start: start)
            var values = [Float](repeating: 0, count: count)
            for index in 0..<count {
                let bits = UInt16(bytes[offset + 2 * index]) | UInt16(bytes[offset + 2 * index + 1]) << 8
                values[index] = Self.float(fromHalf: bits)
            }
            offset += bytesNeeded
            return (values, .float16)
        case 0x000D_4B38:
            throw ModelError(
                .unsupportedAttribute,
                source: source,
                node: layer,
                "int8 weights (tag 0x000D4B38 at byte \(start)) need ncnn's int8 inference, which superres does not have"
            )
        case 0, 0x0002_C056:
            return (try readFloats(count, layer: layer, start: start), .float32)
        default:
            // ncnn: any other tag whose bytes are not all zero is a 256-entry table plus one index byte per value.
            guard let indexBytes = Self.alignedBytes(count, bytesEach: 1), indexBytes <= Int.max - 256 * 4 else {
                throw failure(layer, "weight count \(count) is too large")
            }
            try need(256 * 4 + indexBytes, layer: layer, what: "a quantization table and \(count) indices", start: start)
            let table = try readFloats(256, layer: layer, start: start)
            var values = [Float](repeating: 0, count: count)
            for index in 0..<count { values[index] = table[Int(bytes[offset + index])] }
            offset += indexBytes
            return (values, .table)
        }
    }

    /// Reads `count` raw float32 values (a type 1 array: biases, slopes) for `layer`.
    package mutating func loadRaw(count: Int, layer: String) throws(ModelError) -> [Float] {
        guard count >= 0 else { throw failure(layer, "negative value count \(count)") }
        return try readFloats(count, layer: layer, start: offset)
    }

    // MARK: Reading

    private mutating func readUInt32(layer: String, what: String) throws(ModelError) -> UInt32 {
        try need(4, layer: layer, what: what, start: offset)
        let value =
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
        offset += 4
        return value
    }

    private mutating func readFloats(_ count: Int, layer: String, start: Int) throws(ModelError) -> [Float] {
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: 4)
        guard !overflow else { throw failure(layer, "weight count \(count) is too large") }
        try need(byteCount, layer: layer, what: "\(count) float32 values", start: start)
        var values = [Float](repeating: 0, count: count)
        for index in 0..<count {
            let at = offset + 4 * index
            let bits =
                UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3])
                << 24
            values[index] = Float(bitPattern: bits)
        }
        offset += byteCount
        return values
    }

    private func need(_ byteCount: Int, layer: String, what: String, start: Int) throws(ModelError) {
        guard byteCount >= 0, byteCount <= remaining else {
            throw failure(
                layer,
                "the file ends inside \(what) (array at byte \(start) needs \(byteCount) bytes from byte \(offset); "
                    + "the file has \(bytes.count)): truncated, or the .param does not belong to this .bin"
            )
        }
    }

    private func failure(_ layer: String, _ message: String) -> ModelError {
        ModelError(.malformed, source: source, node: layer, message)
    }

    /// `count` values of `bytesEach` bytes, rounded up to a multiple of 4 as ncnn pads arrays; nil on overflow.
    private static func alignedBytes(_ count: Int, bytesEach: Int) -> Int? {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: bytesEach)
        guard !overflow, bytes <= Int.max - 3 else { return nil }
        return (bytes + 3) & ~3
    }

    /// IEEE 754 half → single, exactly (subnormals, infinities and NaN included).
    package static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2⁻²⁴, exact in single precision.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 31:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
        }
    }
}
