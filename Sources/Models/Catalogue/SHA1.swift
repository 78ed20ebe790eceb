// A small streaming SHA-1 (FIPS 180-4), only to check files against git blob ids (git names a file by the SHA-1 of
// "blob <size>\0" + its bytes); never used where collision resistance matters on its own, the size is checked too.

/// Streaming SHA-1: feed bytes with `update`, read the 20-byte digest with `finalize()`.
public struct SHA1: Sendable {
    private var state: [UInt32] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0]
    private var pending = MessageBlockBuffer()

    /// A hasher with nothing fed yet.
    public init() {}

    /// Feeds more bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        // The buffer is moved out while it hands blocks to `compress`, which mutates the rest of `self`.
        var buffer = MessageBlockBuffer()
        swap(&buffer, &pending)
        buffer.feed(bytes) { blocks in compress(blocks) }
        pending = buffer
    }

    /// Feeds more bytes.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { update($0) }
    }

    /// The digest of everything fed so far (the hasher itself is left unchanged).
    public func finalize() -> [UInt8] {
        var copy = self
        let tail = copy.pending.padding(bigEndian: true)
        tail.withUnsafeBytes { raw in copy.compress(raw) }
        return copy.state.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (24 - 8 * $0)) } }
    }

    /// The SHA-1 of `bytes`.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = SHA1()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Runs the compression function over whole 64-byte blocks.
    private mutating func compress(_ blocks: UnsafeRawBufferPointer) {
        precondition(blocks.count % 64 == 0, "SHA-1 compresses whole blocks")
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            var h0 = state[0]
            var h1 = state[1]
            var h2 = state[2]
            var h3 = state[3]
            var h4 = state[4]
            var offset = 0
            while offset < blocks.count {
                for t in 0..<16 {
                    w[t] = UInt32(bigEndian: blocks.loadUnaligned(fromByteOffset: offset + 4 * t, as: UInt32.self))
                }
                for t in 16..<80 {
                    w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotatedLeft(1)
                }
                var a = h0
                var b = h1
                var c = h2
                var d = h3
                var e = h4
                for t in 0..<80 {
                    let f: UInt32
                    let k: UInt32
                    switch t {
                    case 0..<20:
                        f = (b & c) | (~b & d)
                        k = 0x5a82_7999
                    case 20..<40:
                        f = b ^ c ^ d
                        k = 0x6ed9_eba1
                    case 40..<60:
                        f = (b & c) | (b & d) | (c & d)
                        k = 0x8f1b_bcdc
                    default:
                        f = b ^ c ^ d
                        k = 0xca62_c1d6
                    }
                    let temp = a.rotatedLeft(5) &+ f &+ e &+ k &+ w[t]
                    e = d
                    d = c
                    c = b.rotatedLeft(30)
                    b = a
                    a = temp
                }
                h0 &+= a
                h1 &+= b
                h2 &+= c
                h3 &+= d
                h4 &+= e
                offset += 64
            }
            state = [h0, h1, h2, h3, h4]
        }
    }
}
