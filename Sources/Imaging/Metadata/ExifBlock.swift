// EXIF data (a TIFF structure) read and updated in place. Written by hand: libexif rewrites the whole block (maker
// notes included), and what the user asked is that every tag but a few stays byte for byte. Every offset read from
// the data is checked; damaged data makes the whole block unreadable (nil), never a crash.

/// A readable EXIF block and the places in it that an enlargement changes.
package struct ExifBlock: Sendable {
    /// The TIFF structure as given.
    package let bytes: [UInt8]
    private let littleEndian: Bool
    /// IFD0's entries, by tag.
    private let ifd0: [Int: Entry]
    /// Where IFD0's "next IFD" offset is stored.
    private let ifd0NextOffsetAt: Int
    /// The Exif sub-IFD's entries, by tag.
    private let exifIFD: [Int: Entry]
    /// The byte ranges of IFD1 (the thumbnail's IFD), its values and the thumbnail itself.
    private let thumbnailRanges: [Range<Int>]
    /// The byte ranges everything but IFD1 uses (the header, IFD0, the Exif, GPS and Interoperability IFDs, their
    /// values, maker notes included).
    private let keptRanges: [Range<Int>]

    /// An IFD entry: where it is, its type, count and where its value is.
    private struct Entry {
        let at: Int
        let tag: Int
        let type: Int
        let count: Int
        let valueAt: Int
        let valueSize: Int
    }

    private enum Tag {
        static let imageWidth = 0x0100
        static let imageLength = 0x0101
        static let orientation = 0x0112
        static let xResolution = 0x011A
        static let yResolution = 0x011B
        static let resolutionUnit = 0x0128
        static let stripOffsets = 0x0111
        static let stripByteCounts = 0x0117
        static let thumbnailOffset = 0x0201
        static let thumbnailLength = 0x0202
        static let exifIFD = 0x8769
        static let gpsIFD = 0x8825
        static let interoperabilityIFD = 0xA005
        static let pixelXDimension = 0xA002
        static let pixelYDimension = 0xA003
    }

    /// Type sizes by TIFF field type (BYTE 1 … DOUBLE 12, IFD 13).
    private static let typeSizes: [Int: Int] = [
        1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4,
    ]
    private static let short = 3
    private static let long = 4
    private static let rational = 5

    /// Parses `bytes`; nil when the header or IFD0 is damaged.
    package init?(_ bytes: [UInt8]) {
        guard bytes.count >= 8 else { return nil }
        switch (bytes[0], bytes[1]) {
        case (0x49, 0x49): littleEndian = true
        case (0x4D, 0x4D): littleEndian = false
        default: return nil
        }
        self.bytes = bytes
        guard Self.read(bytes, littleEndian, 2, 2) == 42, let first = Self.read(bytes, littleEndian, 4, 4),
            let (entries0, next0At, used0) = Self.readIFD(bytes, littleEndian, at: first)
        else { return nil }
        ifd0 = entries0
        ifd0NextOffsetAt = next0At
        var used = used0
        var exifEntries: [Int: Entry] = [:]
        // A damaged sub-IFD is left as it is (its tags are then not updated); only IFD0 must be readable.
        if let pointer = entries0[Tag.exifIFD], let offset = Self.read(bytes, littleEndian, pointer.valueAt, 4),
            let (entries, _, exifUsed) = Self.readIFD(bytes, littleEndian, at: offset)
        {
            exifEntries = entries
            used += exifUsed
            if let interop = entries[Tag.interoperabilityIFD],
                let at = Self.read(bytes, littleEndian, interop.valueAt, 4),
                let (_, _, interopUsed) = Self.readIFD(bytes, littleEndian, at: at)
            {
                used += interopUsed
            }
        }
        if let gps = entries0[Tag.gpsIFD], let at = Self.read(bytes, littleEndian, gps.valueAt, 4),
            let (_, _, gpsUsed) = Self.readIFD(bytes, littleEndian, at: at)
        {
            used += gpsUsed
        }
        exifIFD = exifEntries
        keptRanges = [0..<8] + used
        var thumbnail: [Range<Int>] = []
        if let next = Self.read(bytes, littleEndian, next0At, 4), next != 0,
            let (entries1, _, used1) = Self.readIFD(bytes, littleEndian, at: next)
        {
            thumbnail = used1
            let pairs = [(Tag.thumbnailOffset, Tag.thumbnailLength), (Tag.stripOffsets, Tag.stripByteCounts)]
            for (offsetTag, lengthTag) in pairs {
                guard let offsetEntry = entries1[offsetTag], let lengthEntry = entries1[lengthTag],
                    offsetEntry.count == 1, lengthEntry.count == 1,
                    let start = Self.integer(bytes, littleEndian, offsetEntry),
                    let length = Self.integer(bytes, littleEndian, lengthEntry),
                    start >= 0, length >= 0, start <= bytes.count - length
                else { continue }
                thumbnail.append(start..<start + length)
            }
        }
        thumbnailRanges = thumbnail
    }

    /// The orientation tag of IFD0.
    package var orientation: ExifOrientation? {
        ifd0[Tag.orientation].flatMap { Self.integer(bytes, littleEndian, $0) }.flatMap(ExifOrientation.init)
    }

    /// XResolution/YResolution in dots per inch (ResolutionUnit 2, the default, or 3 for centimetres).
    package var density: PixelDensity? {
        guard let x = ifd0[Tag.xResolution].flatMap(rational), let y = ifd0[Tag.yResolution].flatMap(rational) else {
            return nil
        }
        let unit = ifd0[Tag.resolutionUnit].flatMap { Self.integer(bytes, littleEndian, $0) } ?? 2
        let perInch = unit == 3 ? 2.54 : unit == 2 ? 1 : 0
        let density = PixelDensity(x: x * perInch, y: y * perInch)
        return density.isUsable ? density : nil
    }

    /// PixelXDimension and PixelYDimension of the Exif IFD, when both are there.
    package var pixelDimensions: (width: Int, height: Int)? {
        guard let x = exifIFD[Tag.pixelXDimension].flatMap({ Self.integer(bytes, littleEndian, $0) }),
            let y = exifIFD[Tag.pixelYDimension].flatMap({ Self.integer(bytes, littleEndian, $0) })
        else { return nil }
        return (x, y)
    }

    /// Whether IFD0 links to a thumbnail IFD.
    package var hasThumbnail: Bool { !thumbnailRanges.isEmpty }

    /// The block for the enlarged, upright picture: Orientation 1, PixelXDimension/PixelYDimension (and IFD0's
    /// ImageWidth/ImageLength when present) set to `width` × `height`, XResolution/YResolution set to `density`
    /// when given, the thumbnail unlinked (and cut off when it is the last thing in the block, else zeroed). All
    /// other bytes are unchanged. Nil when the result would not read back upright (a damaged block whose values
    /// point into its own directories): such EXIF is dropped rather than written with a wrong orientation.
    package func updated(width: Int, height: Int, density: PixelDensity?) -> [UInt8]? {
        let output = patched(width: width, height: height, density: density)
        guard let reread = ExifBlock(output), reread.orientation == nil || reread.orientation == .up else { return nil }
        return output
    }

    /// `updated`'s bytes, before the check.
    private func patched(width: Int, height: Int, density: PixelDensity?) -> [UInt8] {
        var output = bytes
        if let entry = ifd0[Tag.orientation] { setInteger(&output, entry, 1) }
        for (tag, value) in [(Tag.imageWidth, width), (Tag.imageLength, height)] {
            if let entry = ifd0[tag] { setInteger(&output, entry, value) }
        }
        for (tag, value) in [(Tag.pixelXDimension, width), (Tag.pixelYDimension, height)] {
            if let entry = exifIFD[tag] { setInteger(&output, entry, value) }
        }
        if let density {
            let unit = ifd0[Tag.resolutionUnit].flatMap { Self.integer(bytes, littleEndian, $0) } ?? 2
            let perUnit = unit == 3 ? 1 / 2.54 : 1
            for (tag, value) in [(Tag.xResolution, density.x), (Tag.yResolution, density.y)] {
                if let entry = ifd0[tag] { setRational(&output, entry, value * perUnit) }
            }
        }
        if hasThumbnail {
            write(&output, at: ifd0NextOffsetAt, size: 4, value: 0)
            let start = thumbnailRanges.map(\.lowerBound).min()!
            let end = thumbnailRanges.map(\.upperBound).max()!
            let keptEnd = keptRanges.map(\.upperBound).max()!
            if start >= keptEnd && end == bytes.count {
                output.removeSubrange(start...)
            } else {
                // Not at the end: zeroed where nothing kept shares the bytes, so no thumbnail survives unlinked.
                for range in thumbnailRanges where !keptRanges.contains(where: { $0.overlaps(range) }) {
                    output.replaceSubrange(range, with: repeatElement(0, count: range.count))
                }
            }
        }
        return output
    }

    // MARK: Reading

    /// An IFD's entries by tag, where its next-IFD offset is, and the byte ranges it and its out-of-line values use.
    private static func readIFD(
        _ bytes: [UInt8],
        _ littleEndian: Bool,
        at offset: Int
    ) -> (entries: [Int: Entry], nextAt: Int, used: [Range<Int>])? {
        guard offset >= 8, let count = read(bytes, littleEndian, offset, 2), count <= 4096 else { return nil }
        let nextAt = offset + 2 + count * 12
        guard nextAt <= bytes.count - 4 else { return nil }
        var entries: [Int: Entry] = [:]
        var used: [Range<Int>] = [offset..<nextAt + 4]
        for index in 0..<count {
            guard let entry = entry(at: offset + 2 + index * 12, in: bytes, littleEndian) else { continue }
            if entry.valueSize > 4 { used.append(entry.valueAt..<entry.valueAt + entry.valueSize) }
            entries[entry.tag] = entry
        }
        return (entries, nextAt, used)
    }

    /// The 12-byte entry at `at` and where its value is; nil for an unknown type (kept as it is: only its size is
    /// unknown) or a value pointing outside the bytes (left alone, as every reader will).
    private static func entry(at: Int, in bytes: [UInt8], _ littleEndian: Bool) -> Entry? {
        guard let tag = read(bytes, littleEndian, at, 2), let type = read(bytes, littleEndian, at + 2, 2),
            let count = read(bytes, littleEndian, at + 4, 4), let size = typeSizes[type], count <= bytes.count / size
        else { return nil }
        let valueSize = size * count
        var valueAt = at + 8
        if valueSize > 4 {
            guard let pointed = read(bytes, littleEndian, at + 8, 4), pointed <= bytes.count - valueSize else {
                return nil
            }
            valueAt = pointed
        }
        return Entry(at: at, tag: tag, type: type, count: count, valueAt: valueAt, valueSize: valueSize)
    }

    /// A SHORT or LONG entry's first value.
    private static func integer(_ bytes: [UInt8], _ littleEndian: Bool, _ entry: Entry) -> Int? {
        guard entry.count >= 1 else { return nil }
        switch entry.type {
        case short: return read(bytes, littleEndian, entry.valueAt, 2)
        case long: return read(bytes, littleEndian, entry.valueAt, 4)
        default: return nil
        }
    }

    /// A RATIONAL entry's value.
    private func rational(_ entry: Entry) -> Double? {
        guard entry.type == Self.rational, entry.count >= 1,
            let numerator = Self.read(bytes, littleEndian, entry.valueAt, 4),
            let denominator = Self.read(bytes, littleEndian, entry.valueAt + 4, 4), denominator > 0
        else { return nil }
        return Double(numerator) / Double(denominator)
    }

    /// The unsigned number of `size` bytes at `offset` in the block's byte order, or nil past the end.
    private static func read(_ bytes: [UInt8], _ littleEndian: Bool, _ offset: Int, _ size: Int) -> Int? {
        guard offset >= 0, offset <= bytes.count - size else { return nil }
        var value = 0
        for index in 0..<size {
            let byte = Int(bytes[littleEndian ? offset + size - 1 - index : offset + index])
            value = value << 8 | byte
        }
        return value
    }

    // MARK: Writing in place

    /// Sets a one-value integer entry: SHORT when it fits and the entry was SHORT, else LONG (both fit in the
    /// entry itself, so nothing moves).
    private func setInteger(_ output: inout [UInt8], _ entry: Entry, _ value: Int) {
        let type = entry.type == Self.short && value <= 0xFFFF ? Self.short : Self.long
        write(&output, at: entry.at + 2, size: 2, value: type)
        write(&output, at: entry.at + 4, size: 4, value: 1)
        write(&output, at: entry.at + 8, size: 4, value: 0)
        write(&output, at: entry.at + 8, size: type == Self.short ? 2 : 4, value: min(value, 0xFFFF_FFFF))
    }

    /// Sets a RATIONAL entry's first value in its existing place: whole numbers over 1, else hundredths.
    private func setRational(_ output: inout [UInt8], _ entry: Entry, _ value: Double) {
        guard entry.type == Self.rational, entry.count >= 1, value.isFinite, value > 0 else { return }
        let denominator = value == value.rounded() ? 1 : 100
        let numerator = Int(min((value * Double(denominator)).rounded(), Double(UInt32.max)))
        write(&output, at: entry.valueAt, size: 4, value: numerator)
        write(&output, at: entry.valueAt + 4, size: 4, value: denominator)
    }

    /// Stores `value` as `size` bytes at `offset` in the block's byte order.
    private func write(_ output: inout [UInt8], at offset: Int, size: Int, value: Int) {
        for index in 0..<size {
            let byte = UInt8(truncatingIfNeeded: value >> (8 * index))
            output[littleEndian ? offset + index : offset + size - 1 - index] = byte
        }
    }
}

// MARK: - Directories as entries (TIFF files and their EXIF)

/// One IFD entry with its value bytes (in the structure's byte order), and the directory it points to for the
/// Exif, GPS and Interoperability pointers.
package struct IFDEntry: Sendable, Equatable {
    /// The tag number.
    package let tag: Int
    /// The TIFF field type (1 BYTE … 13 IFD).
    package let type: Int
    /// The number of values.
    package let count: Int
    /// The values, `count` × the type's size bytes.
    package let value: [UInt8]
    /// The sub-directory a pointer entry leads to.
    package let directory: [IFDEntry]?
}

extension ExifBlock {
    /// Tags that point to a sub-directory: Exif, GPS, Interoperability.
    static let pointerTags: Set<Int> = [Tag.exifIFD, Tag.gpsIFD, Tag.interoperabilityIFD]

    /// IFD0's entries with their values and sub-directories (pointers followed at most 3 deep, each directory once).
    package var firstDirectory: [IFDEntry] { firstDirectory(keeping: nil) }

    /// IFD0's entries of the tags in `tags` (all for nil), sub-directories in full: a TIFF file's IFD0 may hold
    /// large private tags that are never needed.
    package func firstDirectory(keeping tags: Set<Int>?) -> [IFDEntry] {
        guard let first = Self.read(bytes, littleEndian, 4, 4) else { return [] }
        var visited: Set<Int> = []
        return directory(at: first, depth: 0, keeping: tags, visited: &visited)
    }

    /// The tags of a TIFF file's IFD0 that metadata is read from: the EXIF-level ones, the Exif and GPS pointers,
    /// the ICC profile (34675) and the XMP packet (700).
    package static let tiffMetadataTags: Set<Int> = exifLevelTags.union([34675, 700])

    /// IFD0 tags that belong in an EXIF block: description, make, model, orientation, resolution, software, date,
    /// artist, computer, copyright, and the Exif and GPS pointers.
    static let exifLevelTags: Set<Int> = [
        0x010E, 0x010F, 0x0110, Tag.orientation, Tag.xResolution, Tag.yResolution, Tag.resolutionUnit, 0x0131,
        0x0132, 0x013B, 0x013C, 0x8298, Tag.exifIFD, Tag.gpsIFD,
    ]

    /// The number of directories in the chain from IFD0 (a TIFF file's pages), loops and damage ending the count.
    package var directoryCount: Int {
        var visited: Set<Int> = []
        var offset = Self.read(bytes, littleEndian, 4, 4) ?? 0
        while offset >= 8, visited.count < 65536, visited.insert(offset).inserted,
            let count = Self.read(bytes, littleEndian, offset, 2),
            let next = Self.read(bytes, littleEndian, offset + 2 + count * 12, 4)
        {
            offset = next
        }
        return visited.count
    }

    /// Whether the structure is little-endian ("II").
    package var isLittleEndian: Bool { littleEndian }

    private func directory(at offset: Int, depth: Int, keeping tags: Set<Int>?, visited: inout Set<Int>) -> [IFDEntry] {
        guard depth < 3, visited.insert(offset).inserted, let count = Self.read(bytes, littleEndian, offset, 2),
            count <= 4096, offset + 2 + count * 12 <= bytes.count
        else { return [] }
        var entries: [IFDEntry] = []
        for index in 0..<count {
            guard let entry = Self.entry(at: offset + 2 + index * 12, in: bytes, littleEndian),
                tags?.contains(entry.tag) ?? true
            else { continue }
            let value = Array(bytes[entry.valueAt..<entry.valueAt + entry.valueSize])
            var sub: [IFDEntry]?
            if Self.pointerTags.contains(entry.tag), entry.count == 1, entry.type == Self.long || entry.type == 13,
                let target = Self.read(bytes, littleEndian, entry.valueAt, 4)
            {
                sub = directory(at: target, depth: depth + 1, keeping: nil, visited: &visited)
            }
            entries.append(
                IFDEntry(tag: entry.tag, type: entry.type, count: entry.count, value: value, directory: sub))
        }
        return entries
    }

    /// Lays out `entries` (sorted by tag) as one IFD at `base`, followed by its out-of-line values and its
    /// sub-directories, in the given byte order: the bytes to place at `base`.
    package static func layOut(_ entries: [IFDEntry], base: Int, littleEndian: Bool) -> [UInt8] {
        func number(_ value: Int, _ size: Int) -> [UInt8] {
            let big = (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * (size - 1 - $0))) }
            return littleEndian ? big.reversed() : big
        }
        let sorted = entries.sorted { $0.tag < $1.tag }
        let tableSize = 2 + sorted.count * 12 + 4
        var table = number(sorted.count, 2)
        var tail: [UInt8] = []
        for entry in sorted {
            table += number(entry.tag, 2)
            if let directory = entry.directory {
                // A pointer: LONG, one value, the sub-directory laid out after the values so far.
                if (tableSize + tail.count) % 2 == 1 { tail.append(0) }
                let at = base + tableSize + tail.count
                tail += layOut(directory, base: at, littleEndian: littleEndian)
                table += number(Self.long, 2) + number(1, 4) + number(at, 4)
                continue
            }
            table += number(entry.type, 2) + number(entry.count, 4)
            if entry.value.count <= 4 {
                table += entry.value + [UInt8](repeating: 0, count: 4 - entry.value.count)
            } else {
                if (tableSize + tail.count) % 2 == 1 { tail.append(0) }
                table += number(base + tableSize + tail.count, 4)
                tail += entry.value
            }
        }
        table += number(0, 4)
        return table + tail
    }

    /// A compact EXIF block from a TIFF file's first directory: its EXIF-level tags (description, make, model,
    /// orientation, resolution, software, date, artist, computer, copyright) and its Exif and GPS directories.
    package static func fromTIFF(_ file: ExifBlock) -> [UInt8]? {
        let entries = file.firstDirectory(keeping: exifLevelTags)
        guard !entries.isEmpty else { return nil }
        let little = file.littleEndian
        let header: [UInt8] = little ? [0x49, 0x49, 42, 0, 8, 0, 0, 0] : [0x4D, 0x4D, 0, 42, 0, 0, 0, 8]
        return header + layOut(entries, base: 8, littleEndian: little)
    }
}
