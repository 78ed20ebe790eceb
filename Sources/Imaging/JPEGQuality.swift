// The quality a JPEG was saved at, read from its quantisation tables (DQT segments) without decoding: libjpeg (and
// every encoder built on it: OpenCV, PIL, cjpeg, most cameras' firmware is different) scales the two tables of
// ITU-T T.81 Annex K by the quality, so the tables give the quality back. Bounds-checked throughout: a damaged
// segment means "no estimate", never a crash.

/// The quality a JPEG's quantisation tables correspond to on libjpeg's 1...100 scale.
package struct JPEGQuality: Sendable, Equatable {
    /// The libjpeg quality whose tables are closest to the file's.
    package let quality: Int
    /// Whether the file's tables are exactly libjpeg's at that quality (false: another encoder's tables, for
    /// which `quality` is the nearest equivalent).
    package let isExact: Bool
    /// The mean absolute difference between the file's luma table and libjpeg's at `quality`.
    package let meanDifference: Double

    /// The estimate for a JPEG file's bytes; nil when they are not a JPEG or hold no usable quantisation table.
    package init?(jpeg bytes: [UInt8]) {
        guard let tables = Self.quantisationTables(bytes), let luma = tables[0] else { return nil }
        let chroma = tables[1]
        var best: (quality: Int, difference: Int)?
        for quality in 1...100 {
            var difference = Self.difference(luma, Self.scaled(Self.standardLuma, quality: quality))
            if let chroma { difference += Self.difference(chroma, Self.scaled(Self.standardChroma, quality: quality)) }
            if best == nil || difference < best!.difference { best = (quality, difference) }
        }
        guard let best else { return nil }
        let lumaDifference = Self.difference(luma, Self.scaled(Self.standardLuma, quality: best.quality))
        self.quality = best.quality
        self.isExact = best.difference == 0
        self.meanDifference = Double(lumaDifference) / 64
    }

    /// libjpeg's `jpeg_quality_scaling` and `jpeg_add_quant_table` with `force_baseline` (values 1...255).
    static func scaled(_ table: [Int], quality: Int) -> [Int] {
        let q = min(max(quality, 1), 100)
        let scale = q < 50 ? 5000 / q : 200 - 2 * q
        return table.map { min(max(($0 * scale + 50) / 100, 1), 255) }
    }

    private static func difference(_ a: [Int], _ b: [Int]) -> Int {
        zip(a, b).reduce(0) { $0 + abs($1.0 - $1.1) }
    }

    /// The tables of the DQT segments before the first scan, by table id (0...3), in natural (row-major) order.
    static func quantisationTables(_ bytes: [UInt8]) -> [Int: [Int]]? {
        var tables: [Int: [Int]] = [:]
        for segment in JPEGSegments.headerSegments(bytes) where segment.marker == 0xDB {
            var offset = segment.payload.lowerBound
            while offset < segment.payload.upperBound {
                let precision = Int(bytes[offset] >> 4)
                let id = Int(bytes[offset] & 0x0F)
                let size = precision == 0 ? 64 : 128
                guard precision <= 1, id <= 3, size < segment.payload.upperBound - offset else { break }
                var natural = [Int](repeating: 0, count: 64)
                for k in 0..<64 {
                    natural[zigzagToNatural[k]] =
                        precision == 0
                        ? Int(bytes[offset + 1 + k])
                        : Int(bytes[offset + 1 + 2 * k]) << 8 | Int(bytes[offset + 2 + 2 * k])
                }
                tables[id] = natural
                offset += 1 + size
            }
        }
        return tables.isEmpty ? nil : tables
    }

    /// T.81 Figure A.6: the natural (row-major) position of each zig-zag index.
    static let zigzagToNatural = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
        21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60,
        61, 54, 47, 55, 62, 63,
    ]

    /// T.81 Table K.1, the luminance table, in natural order.
    static let standardLuma = [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29,
        51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121,
        120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ]

    /// T.81 Table K.2, the chrominance table, in natural order.
    static let standardChroma = [
        17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
    ]
}
