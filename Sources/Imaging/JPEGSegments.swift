/// The marker segments of a JPEG's header (before its first scan), read without any library. Every offset is
/// checked: a damaged file ends the walk early instead of reading past its bytes.
enum JPEGSegments {
    /// The segments with a length (APPn, DQT, SOFn, ...) before the first scan, as their marker and the range of
    /// their payload in `bytes`; empty when `bytes` is not a JPEG.
    static func headerSegments(_ bytes: [UInt8]) -> [(marker: UInt8, payload: Range<Int>)] {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return [] }
        var segments: [(marker: UInt8, payload: Range<Int>)] = []
        var index = 2
        while index < bytes.count, bytes[index] == 0xFF {
            var markerIndex = index + 1
            while markerIndex < bytes.count, bytes[markerIndex] == 0xFF { markerIndex += 1 }  // fill bytes
            guard markerIndex < bytes.count else { break }
            let marker = bytes[markerIndex]
            // Start of scan or end of image: the header segments come before.
            if marker == 0xDA || marker == 0xD9 { break }
            // Markers without a length: TEM and RST0...RST7.
            if marker == 0x01 || (0xD0...0xD7).contains(marker) {
                index = markerIndex + 1
                continue
            }
            guard markerIndex + 2 < bytes.count else { break }
            let length = Int(bytes[markerIndex + 1]) << 8 | Int(bytes[markerIndex + 2])
            let end = markerIndex + 1 + length
            guard length >= 2, end <= bytes.count else { break }
            segments.append((marker, (markerIndex + 3)..<end))
            index = end
        }
        return segments
    }
}
