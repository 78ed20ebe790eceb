/// Weights that take at most 256 distinct values (EDSR's are 8-bit quantized), stored as one byte each plus a table.
///
/// Decoding gives back exactly the original floats (the table holds their bit patterns), at a quarter of the memory.
struct WeightPalette: Sendable {
    /// The distinct values, in order of first appearance.
    let values: [Float]
    /// For each weight, its value's position in `values`.
    let indices: [UInt8]

    /// The palette of `weights`, or nil if they take more than 256 distinct values.
    init?(_ weights: [Float]) {
        // Open addressing over the bit patterns (so -0 and 0, and NaN payloads, stay distinct), 1024 slots.
        let slotCount = 1024
        var keys = [UInt32](repeating: 0, count: slotCount)
        var occupied = [Bool](repeating: false, count: slotCount)
        var positions = [UInt8](repeating: 0, count: slotCount)
        var values: [Float] = []
        var failed = false
        let indices = [UInt8](unsafeUninitializedCapacity: weights.count) { buffer, initialized in
            for (index, weight) in weights.enumerated() {
                let bits = weight.bitPattern
                var slot = Int((bits &* 2_654_435_761) >> 22)
                while occupied[slot] && keys[slot] != bits { slot = (slot + 1) & (slotCount - 1) }
                if !occupied[slot] {
                    guard values.count < 256 else {
                        failed = true
                        break
                    }
                    occupied[slot] = true
                    keys[slot] = bits
                    positions[slot] = UInt8(values.count)
                    values.append(weight)
                }
                buffer[index] = positions[slot]
            }
            initialized = failed ? 0 : weights.count
        }
        if failed { return nil }
        self.values = values
        self.indices = indices
    }

    var count: Int { indices.count }

    /// Writes the weights `range` (positions in the original array) to `target[range]`.
    func decode(_ range: Range<Int>, into target: UnsafeMutablePointer<Float>) {
        values.withUnsafeBufferPointer { table in
            indices.withUnsafeBufferPointer { codes in
                for index in range { target[index] = table[Int(codes[index])] }
            }
        }
    }
}
