import TestSupport
import Testing

@testable import Imaging

@Suite struct ExifBlockTests {
    @Test(arguments: [false, true])
    func theOrientationSizeAndResolutionChangeAndEverythingElseStays(littleEndian: Bool) throws {
        let original = ExifBuilder(littleEndian: littleEndian).build()
        let block = try #require(ExifBlock(original))
        #expect(block.orientation == .right)
        #expect(block.density == PixelDensity(x: 300, y: 300))
        #expect(block.hasThumbnail)
        let updated = try #require(block.updated(width: 1000, height: 70_000, density: PixelDensity(x: 600, y: 600)))
        let reread = try #require(ExifBlock(updated))
        #expect(reread.orientation == .up)
        #expect(reread.density == PixelDensity(x: 600, y: 600))
        #expect(!reread.hasThumbnail)
        // The thumbnail and IFD1 were the last bytes: they are cut off.
        #expect(updated.count == original.count - 40 - (2 + 3 * 12 + 4))
        // Every other byte is as it was but the orientation value, the resolutions, the dimensions and the link.
        let differing = updated.indices.filter { original[$0] != updated[$0] }
        #expect(differing.count <= 20, "\(differing)")
        #expect(Array(updated[0..<8]) == Array(original[0..<8]))
        // The GPS IFD is untouched.
        let gpsAt = updated.count - (2 + 12 + 4)
        #expect(Array(updated[gpsAt...]) == Array(original[gpsAt..<gpsAt + 18]))
        // 70000 does not fit the SHORT the input used: the entry became a LONG in place.
        #expect(reread.pixelDimensions?.width == 1000 && reread.pixelDimensions?.height == 70_000)
    }

    @Test func aThumbnailThatIsNotLastIsZeroedNotLeftBehind() throws {
        var original = ExifBuilder().build()
        original += Array("trailing data kept".utf8)
        let block = try #require(ExifBlock(original))
        let updated = try #require(block.updated(width: 10, height: 10, density: nil))
        #expect(updated.count == original.count)
        #expect(!updated.contains(0xAB))
        #expect(updated.suffix(18) == original.suffix(18))
    }

    @Test func damagedBlocksNeverCrashAndNeverReadPastTheirEnd() {
        let original = ExifBuilder().build()
        for length in 0...original.count {
            let cut = Array(original.prefix(length))
            _ = ExifBlock(cut)?.updated(width: 5, height: 5, density: PixelDensity(x: 72, y: 72))
        }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var damaged = original
            for _ in 0..<4 { damaged[Int.random(in: 8..<damaged.count, using: &random)] = .random(in: 0...255) }
            _ = ExifBlock(damaged)?.updated(width: 5, height: 5, density: PixelDensity(x: 72, y: 72))
        }
        #expect(ExifBlock([0x49, 0x49, 42, 0, 0xFF, 0xFF, 0xFF, 0x7F]) == nil)
    }
}

@Suite struct XMPPacketTests {
    @Test func bothSpellingsOfAPropertyAreUpdatedAndNothingElse() {
        let packet = """
            <x:xmpmeta><rdf:RDF><rdf:Description tiff:Orientation="6" exif:PixelXDimension='80' dc:format="image/png">
            <exif:PixelYDimension>120</exif:PixelYDimension><tiff:XResolution>300/1</tiff:XResolution>
            <dc:title>Orientation="6"</dc:title></rdf:Description></rdf:RDF></x:xmpmeta>
            """
        let updated = String(
            decoding: XMPPacket.updated(
                Array(packet.utf8),
                width: 160,
                height: 240,
                density: PixelDensity(x: 600, y: 600)
            ),
            as: UTF8.self
        )
        #expect(updated.contains("tiff:Orientation=\"1\""))
        #expect(updated.contains("exif:PixelXDimension='160'"))
        #expect(updated.contains("<exif:PixelYDimension>240</exif:PixelYDimension>"))
        #expect(updated.contains("<tiff:XResolution>600/1</tiff:XResolution>"))
        #expect(updated.contains("dc:format=\"image/png\""))
        #expect(updated.contains("<dc:title>Orientation=\"6\"</dc:title>"))
        #expect(!updated.contains("tiff:ImageWidth"))
    }
}

@Suite struct ImageMetadataTests {
    static let picture = PixelImage(
        width: 6,
        height: 4,
        layout: .rgb,
        uint8: (0..<72).map { UInt8($0 * 3) }
    )

    static func sample(profileSize: Int = 0) -> ImageMetadata {
        var metadata = ImageMetadata()
        metadata.iccProfile = ICCProfile(makeProfile("Adobe RGB (1998)", padding: profileSize))
        metadata.exif = ExifBuilder().build()
        metadata.xmp = Array("<x:xmpmeta><rdf:Description tiff:Orientation=\"6\" dc:title=\"t\"/></x:xmpmeta>".utf8)
        metadata.density = PixelDensity(x: 300, y: 300)
        return metadata
    }

    @Test(arguments: ImageFormat.allCases)
    func whatIsWrittenIsReadBack(format: ImageFormat) throws {
        let input = Self.sample()
        let output = input.enlarged(from: 3, 2, to: 6, 4, layout: .rgb, policy: MetadataPolicy())
        let bytes = try ImageCodec.encode(Self.picture, as: format, quality: 90, metadata: output)
        let read = ImageMetadata(reading: bytes)
        #expect(read.iccProfile?.bytes == input.iccProfile?.bytes)
        #expect(read.iccProfile?.name == "Adobe RGB (1998)")
        #expect(read.exif == output.exif)
        #expect(read.orientation == .up)
        #expect(read.xmp == output.xmp)
        #expect(String(decoding: read.xmp ?? [], as: UTF8.self).contains("tiff:Orientation=\"1\""))
        #expect(read.density == PixelDensity(x: 300, y: 300))
        #expect(read.notes.isEmpty, "\(read.notes)")
        // The pixels are the same as without metadata.
        let plain = try ImageCodec.encode(Self.picture, as: format, quality: 90)
        #expect(try ImageCodec.decode(bytes, source: "with") == ImageCodec.decode(plain, source: "without"))
    }

    @Test func aLargeProfileIsSplitOverJPEGSegmentsAndJoinedAgain() throws {
        let metadata = Self.sample(profileSize: 200_000)
        let bytes = try ImageCodec.encode(Self.picture, as: .jpeg, metadata: metadata)
        let pieces = JPEGSegments.headerSegments(bytes).filter { $0.marker == 0xE2 }
        #expect(pieces.count == 4)
        #expect(ImageMetadata(reading: bytes).iccProfile?.bytes == metadata.iccProfile?.bytes)
        // A missing piece drops the profile with a note rather than using a broken one.
        let second = pieces[1]
        var damaged = bytes
        damaged.replaceSubrange((second.payload.lowerBound - 4)..<second.payload.upperBound, with: [])
        let read = ImageMetadata(reading: damaged)
        #expect(read.iccProfile == nil)
        #expect(read.notes.contains { $0.contains("incomplete") }, "\(read.notes)")
    }

    @Test func stripKeepsTheProfileAndDropsEXIFAndXMP() {
        let output = Self.sample().enlarged(from: 3, 2, to: 6, 4, layout: .rgb, policy: MetadataPolicy(strip: true))
        #expect(output.iccProfile != nil && output.exif == nil && output.xmp == nil)
        #expect(output.density == PixelDensity(x: 300, y: 300))
    }

    @Test func theDensityIsKeptScaledOrSet() {
        let input = Self.sample()
        func density(_ choice: DensityChoice) -> PixelDensity? {
            input.enlarged(from: 3, 2, to: 6, 4, layout: .rgb, policy: MetadataPolicy(density: choice)).density
        }
        #expect(density(.keep) == PixelDensity(x: 300, y: 300))
        #expect(density(.scale) == PixelDensity(x: 600, y: 600))
        #expect(density(.fixed(96)) == PixelDensity(x: 96, y: 96))
        #expect(DensityChoice(argument: "0") == nil && DensityChoice(argument: "nan") == nil)
        #expect(DensityChoice(argument: "72") == .fixed(72))
    }

    @Test func aProfileForOtherColoursIsDroppedWithANote() {
        var input = Self.sample()
        input.iccProfile = ICCProfile(makeProfile("Grey", colourSpace: "GRAY"))
        let output = input.enlarged(from: 3, 2, to: 6, 4, layout: .rgb, policy: MetadataPolicy())
        #expect(output.iccProfile == nil)
        #expect(output.notes.contains { $0.contains("GRAY") }, "\(output.notes)")
    }

    @Test func aPNGsEXIFOrientationTurnsItsPixelsUpright() throws {
        var metadata = ImageMetadata()
        metadata.exif = ExifBuilder(orientation: 6).build()
        let bytes = try ImageCodec.encode(Self.picture, as: .png, metadata: metadata)
        let header = try ImageCodec.probe(bytes, source: "turned")
        #expect(header.width == 4 && header.height == 6)
        let decoded = try ImageCodec.decode(bytes, source: "turned")
        #expect(decoded == ExifOrientation.right.upright(Self.picture))
    }

    @Test func damagedChunksAreLeftOutWithANote() throws {
        // An iCCP chunk whose zlib data is not zlib.
        var chunkless = try ImageCodec.encode(Self.picture, as: .png)
        let payload = Array("name".utf8) + [0, 0] + [1, 2, 3, 4, 5]
        var chunk: [UInt8] = [0, 0, 0, UInt8(payload.count)] + Array("iCCP".utf8) + payload + [0, 0, 0, 0]
        chunk[chunk.count - 4] = 0
        chunkless.insert(contentsOf: chunk, at: 33)
        let read = ImageMetadata(reading: chunkless)
        #expect(read.iccProfile == nil)
        #expect(read.notes.contains { $0.contains("iCCP") }, "\(read.notes)")
        // Text after IHDR that claims to run past the file's end.
        var cut = try ImageCodec.encode(Self.picture, as: .png, metadata: Self.sample())
        cut.removeLast(cut.count - 200)
        _ = ImageMetadata(reading: cut)
    }
}
