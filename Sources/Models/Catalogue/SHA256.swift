// A small streaming SHA-256 (FIPS 180-4) so the model store can verify downloads without a crypto dependency.

/// Streaming SHA-256: feed bytes with `update`, read the 32-byte digest with `finalize()`.
public struct SHA256: Sendable {
    private var state: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
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

    /// The SHA-256 of `bytes`.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Runs the compression function over whole 64-byte blocks.
    private mutating func compress(_ blocks: UnsafeRawBufferPointer) {
        precondition(blocks.count % 64 == 0, "SHA-256 compresses whole blocks")
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            var h0 = state[0]
            var h1 = state[1]
            var h2 = state[2]
            var h3 = state[3]
            var h4 = state[4]
            var h5 = state[5]
            var h6 = state[6]
            var h7 = state[7]
            var offset = 0
            while offset < blocks.count {
                for t in 0..<16 {
                    w[t] = UInt32(bigEndian: blocks.loadUnaligned(fromByteOffset: offset + 4 * t, as: UInt32.self))
                }
                for t in 16..<64 {
                    let s0 = w[t - 15].rotatedRight(7) ^ w[t - 15].rotatedRight(18) ^ (w[t - 15] >> 3)
                    let s1 = w[t - 2].rotatedRight(17) ^ w[t - 2].rotatedRight(19) ^ (w[t - 2] >> 10)
                    w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                }
                var a = h0
                var b = h1
                var c = h2
                var d = h3
                var e = h4
                var f = h5
                var g = h6
                var h = h7
                for t in 0..<64 {
                    let s1 = e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)
                    let choice = (e & f) ^ (~e & g)
                    let temp1 = h &+ s1 &+ choice &+ sha256RoundConstants[t] &+ w[t]
                    let s0 = a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)
                    let majority = (a & b) ^ (a & c) ^ (b & c)
                    let temp2 = s0 &+ majority
                    h = g
                    g = f
                    f = e
                    e = d &+ temp1
                    d = c
                    c = b
                    b = a
                    a = temp1 &+ temp2
                }
                h0 &+= a
                h1 &+= b
                h2 &+= c
                h3 &+= d
                h4 &+= e
                h5 &+= f
                h6 &+= g
                h7 &+= h
                offset += 64
            }
            state = [h0, h1, h2, h3, h4, h5, h6, h7]
        }
    }
}

private let sha256RoundConstants: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
]

extension UInt32 {
    /// The bits rotated right by `count` (0 < count < 32).
    @inline(__always)
    func rotatedRight(_ count: UInt32) -> UInt32 { (self >> count) | (self << (32 - count)) }

    /// The bits rotated left by `count` (0 < count < 32).
    @inline(__always)
    func rotatedLeft(_ count: UInt32) -> UInt32 { (self << count) | (self >> (32 - count)) }
}

/// The partial-block buffer and length counter that SHA-1 and SHA-256 share (both use 64-byte blocks and the
/// same Merkle–Damgård padding with a 64-bit big-endian bit length).
struct MessageBlockBuffer: Sendable {
    private var bytes: [UInt8] = []
    private(set) var totalLength: UInt64 = 0

    /// Hands whole blocks to `compress` (straight from `input` where possible) and keeps the remainder.
    mutating func feed(_ input: UnsafeRawBufferPointer, compress: (UnsafeRawBufferPointer) -> Void) {
        totalLength &+= UInt64(input.count)
        var rest = input[...]
        if !bytes.isEmpty {
            let take = min(64 - bytes.count, rest.count)
            bytes += rest.prefix(take)
            rest = rest.dropFirst(take)
            guard bytes.count == 64 else { return }
            bytes.withUnsafeBytes { compress($0) }
            bytes.removeAll(keepingCapacity: true)
        }
        let whole = rest.count / 64 * 64
        if whole > 0 {
            compress(UnsafeRawBufferPointer(rebasing: rest.prefix(whole)))
        }
        bytes += rest.dropFirst(whole)
    }

    /// The pending bytes followed by the padding: 0x80, zeros, and the message length in bits (64-bit).
    func padding(bigEndian: Bool) -> [UInt8] {
        var tail = bytes
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        let bits = totalLength &* 8
        for index in 0..<8 {
            let shift = bigEndian ? 56 - 8 * index : 8 * index
            tail.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
        return tail
    }
}
