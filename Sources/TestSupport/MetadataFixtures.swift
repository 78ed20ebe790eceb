// Metadata made by hand for the tests: EXIF blocks and ICC profiles with known contents.

/// Builds EXIF blocks (TIFF structures) for the metadata tests: IFD0 with Make, Orientation, resolution and pointers
/// to an Exif IFD (pixel dimensions) and a GPS IFD, then IFD1 with a JPEG thumbnail at the very end.
package struct ExifBuilder {
    package var littleEndian = false
    package var orientation = 6
    package var pixelWidth = 80
    package var pixelHeight = 120
    package var thumbnail: [UInt8] = Array(repeating: 0xAB, count: 40)

    private func bytes(_ value: Int, _ size: Int) -> [UInt8] {
        let big = (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * (size - 1 - $0))) }
        return littleEndian ? big.reversed() : big
    }

    /// An entry with the value in place (`value` left-aligned) or an offset.
    private func entry(_ tag: Int, _ type: Int, _ count: Int, inline value: [UInt8]) -> [UInt8] {
        bytes(tag, 2) + bytes(type, 2) + bytes(count, 4) + value + [UInt8](repeating: 0, count: 4 - value.count)
    }

    /// A builder with the defaults above (orientation 6, 80×120, a 40-byte thumbnail, big-endian).
    package init(littleEndian: Bool = false, orientation: Int = 6) {
        self.littleEndian = littleEndian
        self.orientation = orientation
    }

    /// The block.
    package func build() -> [UInt8] {
        // Layout: header 8 | IFD0 (7 entries) | make | xres | yres | Exif IFD (2) | GPS IFD (1) | IFD1 (3) | thumb
        let make = Array("TestCam\0".utf8)
        let ifd0 = 8
        let ifd0Size = 2 + 7 * 12 + 4
        let makeAt = ifd0 + ifd0Size
        let xResAt = makeAt + make.count
        let yResAt = xResAt + 8
        let exifAt = yResAt + 8
        let exifSize = 2 + 2 * 12 + 4
        let gpsAt = exifAt + exifSize
        let gpsSize = 2 + 1 * 12 + 4
        let ifd1At = gpsAt + gpsSize
        let ifd1Size = 2 + 3 * 12 + 4
        let thumbAt = ifd1At + ifd1Size
        var out: [UInt8] = littleEndian ? [0x49, 0x49] : [0x4D, 0x4D]
        out += bytes(42, 2) + bytes(ifd0, 4)
        out += bytes(7, 2)
        out += entry(0x010F, 2, make.count, inline: bytes(makeAt, 4))
        out += entry(0x0112, 3, 1, inline: bytes(orientation, 2))
        out += entry(0x011A, 5, 1, inline: bytes(xResAt, 4))
        out += entry(0x011B, 5, 1, inline: bytes(yResAt, 4))
        out += entry(0x0128, 3, 1, inline: bytes(2, 2))
        out += entry(0x8769, 4, 1, inline: bytes(exifAt, 4))
        out += entry(0x8825, 4, 1, inline: bytes(gpsAt, 4))
        out += bytes(ifd1At, 4)
        out += make
        out += bytes(300, 4) + bytes(1, 4) + bytes(300, 4) + bytes(1, 4)
        out += bytes(2, 2)
        out += entry(0xA002, 3, 1, inline: bytes(pixelWidth, 2))
        out += entry(0xA003, 3, 1, inline: bytes(pixelHeight, 2))
        out += bytes(0, 4)
        out += bytes(1, 2)
        out += entry(0x0000, 1, 4, inline: [2, 3, 0, 0])  // GPSVersionID
        out += bytes(0, 4)
        out += bytes(3, 2)
        out += entry(0x0103, 3, 1, inline: bytes(6, 2))
        out += entry(0x0201, 4, 1, inline: bytes(thumbAt, 4))
        out += entry(0x0202, 4, 1, inline: bytes(thumbnail.count, 4))
        out += bytes(0, 4)
        precondition(out.count == thumbAt)
        return out + thumbnail
    }
}

/// A small but valid ICC profile: header and tag table: `colourSpace` ("RGB " or "GRAY"), a v2 'desc' tag, `padding`
/// extra bytes (to make large profiles).
package func makeProfile(_ name: String, colourSpace: String = "RGB ", padding: Int = 0) -> [UInt8] {
    func big(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * (3 - $0))) } }
    let text = Array(name.utf8) + [0]
    let desc = Array("desc".utf8) + [0, 0, 0, 0] + big(text.count) + text
    let tagAt = 128 + 4 + 12
    let size = tagAt + desc.count + padding
    var profile = big(size) + Array("lcms".utf8) + [2, 0x10, 0, 0] + Array("mntr".utf8) + Array(colourSpace.utf8)
    profile += Array("XYZ ".utf8) + [UInt8](repeating: 0, count: 12) + Array("acsp".utf8)
    profile += [UInt8](repeating: 0, count: 128 - profile.count)
    profile += big(1) + Array("desc".utf8) + big(tagAt) + big(desc.count)
    profile += desc + [UInt8](repeating: 0x5A, count: padding)
    return profile
}

/// Builds small uncompressed TIFF files by hand (little-endian), for the tests that need what superres never writes:
/// several pages, tiles, and broken directories.
package struct TIFFBuilder {
    /// One page: 8-bit grey `width × height` pixels of `value`, in one strip, or in tiles of `tile` pixels a side.
    package struct Page {
        package var width: Int
        package var height: Int
        package var value: UInt8
        package var tile: Int?

        /// A page of `width × height` grey pixels of `value`, tiled when `tile` is given.
        package init(width: Int, height: Int, value: UInt8, tile: Int? = nil) {
            self.width = width
            self.height = height
            self.value = value
            self.tile = tile
        }
    }

    /// The pages, first to last.
    package var pages: [Page]

    /// A builder for `pages`.
    package init(pages: [Page]) { self.pages = pages }

    /// The file; without `pixels`, only the directories (a header claiming a huge page, say).
    package func build(pixels: Bool = true) -> [UInt8] {
        func short(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
        func long(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        func entry(_ tag: Int, _ type: Int, _ value: Int) -> [UInt8] {
            short(tag) + short(type) + long(1) + (type == 3 ? short(value) + [0, 0] : long(value))
        }
        var file: [UInt8] = [0x49, 0x49, 42, 0] + long(8)
        for (index, page) in pages.enumerated() {
            let tile = page.tile ?? 0
            let side = max(tile, 1)
            let blockWidth = tile > 0 ? tile : page.width
            let blockHeight = tile > 0 ? tile : page.height
            let blocks = tile > 0 ? ((page.width + side - 1) / side) * ((page.height + side - 1) / side) : 1
            let blockBytes = blockWidth * blockHeight
            var entries: [[UInt8]] = [
                entry(256, 4, page.width), entry(257, 4, page.height), entry(258, 3, 8), entry(259, 3, 1),
                entry(262, 3, 1), entry(277, 3, 1),
            ]
            // The directory, then the offsets array (when several blocks), then the pixels.
            let entryCount = entries.count + (tile > 0 ? 4 : 3)
            let directoryAt = file.count
            let arraysAt = directoryAt + 2 + entryCount * 12 + 4
            let pixelsAt = arraysAt + (blocks > 1 ? blocks * 8 : 0)
            let offsetsValue = blocks > 1 ? arraysAt : pixelsAt
            let countsValue = blocks > 1 ? arraysAt + blocks * 4 : blockBytes
            func arrayEntry(_ tag: Int, _ value: Int) -> [UInt8] { short(tag) + short(4) + long(blocks) + long(value) }
            if tile > 0 {
                entries += [
                    entry(322, 3, tile), entry(323, 3, tile), arrayEntry(324, offsetsValue),
                    arrayEntry(325, countsValue),
                ]
            } else {
                entries += [arrayEntry(273, offsetsValue), entry(278, 4, page.height), arrayEntry(279, countsValue)]
            }
            let pixelsEnd = pixelsAt + blocks * blockBytes
            let next = index + 1 < pages.count ? pixelsEnd : 0
            file += short(entries.count) + entries.flatMap { $0 } + long(next)
            if blocks > 1 {
                file += (0..<blocks).flatMap { long(pixelsAt + $0 * blockBytes) }
                file += (0..<blocks).flatMap { _ in long(blockBytes) }
            }
            if pixels { file += [UInt8](repeating: page.value, count: blocks * blockBytes) }
        }
        return file
    }
}
