import CImageShims

// TIFF through libtiff (via CImageShims): the first page of a file read in any common layout, written with the
// input's profile, XMP, resolution and EXIF. libtiff writes the image directory; the Exif and GPS directories are
// laid out here (ExifBlock.layOut) and appended, then IFD0's two pointers are patched, so that every EXIF value
// keeps its bytes (libtiff's custom directories would rewrite each tag through its own types).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a written TIFF is compressed.
package enum TIFFCompression: String, Sendable, Hashable, CaseIterable {
    /// Stored as is.
    case none
    /// LZW with the horizontal predictor: the most widely read.
    case lzw
    /// Deflate (zlib) with the horizontal predictor: smaller than LZW, read by every current program (the default).
    case deflate
    /// JPEG at the quality setting: lossy, 8-bit grey or RGB only.
    case jpeg

    var shimValue: superres_tiff_compression {
        switch self {
        case .none: .none
        case .lzw: .lzw
        case .deflate: .deflate
        case .jpeg: .jpeg
        }
    }
}

extension ImageCodec {
    /// Size from libtiff's reading of the first directory (no pixels), checked against the default limits.
    static func probeTIFF(_ bytes: [UInt8], source: String) throws(ImagingError) -> ImageHeader {
        let info = try bytes.withUnsafeBufferPointer { (input) throws(ImagingError) -> superres_image_info in
            try InMemoryDecoder(.tiff, reading: input, maxPixels: Int(Int32.max), source: source).info
        }
        return ImageHeader(format: .tiff, width: Int(info.width), height: Int(info.height))
    }

    /// Decodes the first page through superres_tiff_decoder_read_header/read_pixels (libtiff).
    static func decodeTIFF(
        _ bytes: [UInt8],
        source: String,
        limits: DecodeLimits,
        cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> PixelImage {
        try bytes.withUnsafeBufferPointer { (input) throws(ImagingError) -> PixelImage in
            let decoder = try InMemoryDecoder(.tiff, reading: input, maxPixels: limits.maxPixels, source: source)
            let info = decoder.info
            let width = Int(info.width)
            let height = Int(info.height)
            guard let layout = PixelLayout(channelCount: Int(info.channels)) else {
                throw ImagingError(.corrupt, source: source, message: "libtiff gave \(info.channels) channels")
            }
            let count = try checkSize(
                width: width,
                height: height,
                channels: layout.channelCount,
                format: .tiff,
                limits: limits,
                source: source
            )
            if info.bit_depth == 16 {
                let (samples, status) = readSamples(UInt16.self, count: count) {
                    superres_tiff_decoder_read_pixels(decoder.handle, $0, $1, cancellation?.handle)
                }
                guard status == .ok else {
                    throw shimError(status, format: .tiff, source: source, detail: decoder.message)
                }
                return PixelImage(width: width, height: height, layout: layout, uint16: samples)
            }
            let (samples, status) = readSamples(UInt8.self, count: count) {
                superres_tiff_decoder_read_pixels(decoder.handle, $0, $1, cancellation?.handle)
            }
            guard status == .ok else { throw shimError(status, format: .tiff, source: source, detail: decoder.message) }
            return PixelImage(width: width, height: height, layout: layout, uint8: samples)
        }
    }

    /// Encodes as a one-page TIFF through libtiff (superres_tiff_writer_*) with `metadata`.
    static func encodeTIFF(
        _ image: PixelImage,
        compression: TIFFCompression,
        quality: Int,
        metadata: ImageMetadata?,
        cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> [UInt8] {
        // On the heap: the writer keeps the pointer for its whole life.
        let output = UnsafeMutablePointer<superres_buffer>.allocate(capacity: 1)
        output.initialize(to: superres_buffer())
        defer {
            superres_buffer_free(output)
            output.deallocate()
        }
        // The writer lives inside this block, so it is gone (a failed one flushed) before the buffer is freed.
        do {
            let writer = try TIFFWriter(
                destination: .buffer(output), width: image.width, height: image.height, layout: image.layout,
                bitDepth: image.bitDepth, compression: compression, quality: quality, metadata: metadata,
                source: encoderSource(.tiff))
            // Bands of 64 rows, so that a cancel stops the encode part way.
            let rowSamples = image.width * image.layout.channelCount
            for first in stride(from: 0, to: image.height, by: 64) {
                if cancellation?.isCancelled == true {
                    throw shimError(.cancelled, format: .tiff, source: encoderSource(.tiff), detail: "", encoding: true)
                }
                let rows = min(64, image.height - first)
                let range = first * rowSamples..<(first + rows) * rowSamples
                let samples: PixelSamples =
                    switch image.samples {
                    case .uint8(let values): .uint8(Array(values[range]))
                    case .uint16(let values): .uint16(Array(values[range]))
                    }
                try writer.append(PixelImage(width: image.width, height: rows, layout: image.layout, samples: samples))
            }
            try writer.finish()
        }
        guard let data = output.pointee.data else {
            throw ImagingError(.encodeFailed, source: encoderSource(.tiff), message: "libtiff wrote nothing")
        }
        return Array(UnsafeBufferPointer(start: data, count: output.pointee.size))
    }
}

/// A TIFF being written a band of rows at a time (whole pictures are one band), its EXIF directories appended at the
/// end.
final class TIFFWriter {
    /// Where the bytes go.
    enum Destination {
        case file(Int32)
        case buffer(UnsafeMutablePointer<superres_buffer>)
    }

    private let handle: OpaquePointer
    private let destination: Destination
    private let source: String
    /// JPEG compression: the 8-bit grey or RGB layout bands are converted to (alpha dropped), as the JPEG encoder.
    private let jpegTarget: PixelLayout?
    /// The Exif and GPS directories to append (from the EXIF block), in the file's byte order.
    private let exifDirectory: [IFDEntry]?
    private let gpsDirectory: [IFDEntry]?
    private let littleEndian: Bool

    /// ASCII tags of an EXIF block's IFD0 that TIFF's own first directory carries.
    private static let textTags: [Int] = [0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x013C, 0x8298]

    init(
        destination: Destination,
        width: Int,
        height: Int,
        layout: PixelLayout,
        bitDepth: Int,
        compression: TIFFCompression,
        quality: Int,
        metadata: ImageMetadata?,
        source: String
    ) throws(ImagingError) {
        self.destination = destination
        self.source = source
        let jpegTarget: PixelLayout? = compression == .jpeg ? (layout.isGrey ? .grey : .rgb) : nil
        self.jpegTarget = jpegTarget
        let layout = jpegTarget ?? layout
        let bitDepth = jpegTarget == nil ? bitDepth : 8
        let exif = metadata?.exif.flatMap(ExifBlock.init)
        let first = exif?.firstDirectory ?? []
        let exifDirectory = first.first { $0.tag == 0x8769 }?.directory.flatMap { $0.isEmpty ? nil : $0 }
        let gpsDirectory = first.first { $0.tag == 0x8825 }?.directory.flatMap { $0.isEmpty ? nil : $0 }
        let littleEndian = exif?.isLittleEndian ?? true
        (self.exifDirectory, self.gpsDirectory, self.littleEndian) = (exifDirectory, gpsDirectory, littleEndian)
        let texts: [(tag: UInt32, text: String)] = Self.textTags.compactMap { tag in
            guard let entry = first.first(where: { $0.tag == tag && $0.type == 2 }) else { return nil }
            let text = String(decoding: entry.value.prefix { $0 != 0 }, as: UTF8.self)
            return text.isEmpty ? nil : (UInt32(tag), text)
        }
        let profile = metadata?.iccProfile?.bytes ?? []
        let xmp = metadata?.xmp ?? []
        let density = metadata?.density
        var message = [CChar](repeating: 0, count: Int(SUPERRES_MESSAGE_SIZE))
        let made: OpaquePointer? = profile.withUnsafeBufferPointer { profile in
            xmp.withUnsafeBufferPointer { xmp in
                let tagNumbers = texts.map(\.tag)
                let cStrings = texts.map { strdup($0.text) }
                defer { cStrings.forEach { free($0) } }
                let pointers: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
                return tagNumbers.withUnsafeBufferPointer { tagNumbers in
                    pointers.withUnsafeBufferPointer { pointers in
                        var tags = superres_tiff_tags(
                            icc: profile.baseAddress,
                            icc_size: profile.count,
                            xmp: xmp.baseAddress,
                            xmp_size: xmp.count,
                            x_resolution: Float(density?.x ?? 0),
                            y_resolution: Float(density?.y ?? 0),
                            text_tags: tagNumbers.baseAddress,
                            texts: pointers.baseAddress,
                            text_count: texts.count,
                            exif_ifd: exifDirectory == nil ? 0 : 1,
                            gps_ifd: gpsDirectory == nil ? 0 : 1
                        )
                        let (fd, buffer): (Int32, UnsafeMutablePointer<superres_buffer>?) =
                            switch destination {
                            case .file(let fd): (fd, nil)
                            case .buffer(let buffer): (-1, buffer)
                            }
                        return superres_tiff_writer_create(
                            fd,
                            buffer,
                            UInt32(clamping: width),
                            UInt32(clamping: height),
                            Int32(layout.channelCount),
                            Int32(bitDepth),
                            compression.shimValue,
                            Int32(quality),
                            littleEndian ? 0 : 1,
                            &tags,
                            &message,
                            message.count
                        )
                    }
                }
            }
        }
        guard let made else {
            throw ImagingError(
                .encodeFailed,
                source: source,
                message: "could not start the TIFF: \(ImageCodec.message(from: message))"
            )
        }
        handle = made
    }

    deinit { superres_tiff_writer_destroy(handle) }

    /// Writes the next rows (the picture's layout and bit depth).
    func append(_ band: PixelImage) throws(ImagingError) {
        if let jpegTarget, band.layout != jpegTarget || band.bitDepth != 8 {
            let samples = ImageCodec.convert(ImageCodec.eightBitSamples(of: band), from: band.layout, to: jpegTarget)
            return try append(PixelImage(width: band.width, height: band.height, layout: jpegTarget, uint8: samples))
        }
        var message = [CChar](repeating: 0, count: Int(SUPERRES_MESSAGE_SIZE))
        let status: superres_status =
            switch band.samples {
            case .uint8(let samples):
                samples.withUnsafeBytes {
                    superres_tiff_writer_write(handle, $0.baseAddress, UInt32(band.height), &message, message.count)
                }
            case .uint16(let samples):
                samples.withUnsafeBytes {
                    superres_tiff_writer_write(handle, $0.baseAddress, UInt32(band.height), &message, message.count)
                }
            }
        guard status == .ok else {
            throw ImagingError(
                .encodeFailed,
                source: source,
                message: "could not write the TIFF: \(ImageCodec.message(from: message))"
            )
        }
    }

    /// Writes the directory, appends the Exif and GPS directories and points IFD0 at them.
    func finish() throws(ImagingError) {
        var message = [CChar](repeating: 0, count: Int(SUPERRES_MESSAGE_SIZE))
        var end: UInt64 = 0
        guard superres_tiff_writer_finish(handle, &end, &message, message.count) == .ok else {
            throw ImagingError(
                .encodeFailed,
                source: source,
                message: "could not end the TIFF: \(ImageCodec.message(from: message))"
            )
        }
        var offset = Int(end)
        for (tag, directory) in [(0x8769, exifDirectory), (0x8825, gpsDirectory)] {
            guard let directory else { continue }
            if offset % 2 == 1 {
                try write([0], at: offset)
                offset += 1
            }
            let bytes = ExifBlock.layOut(directory, base: offset, littleEndian: littleEndian)
            try write(bytes, at: offset)
            try patchPointer(tag, to: offset)
            offset += bytes.count
        }
    }

    /// Writes `bytes` at `offset` of the destination.
    private func write(_ bytes: [UInt8], at offset: Int) throws(ImagingError) {
        switch destination {
        case .buffer(let buffer):
            let end = offset + bytes.count
            guard superres_buffer_reserve(buffer, max(0, end - buffer.pointee.size)) != 0 else {
                throw ImagingError(.encodeFailed, source: source, message: "out of memory for the TIFF")
            }
            bytes.withUnsafeBufferPointer {
                (buffer.pointee.data! + offset).update(from: $0.baseAddress!, count: $0.count)
            }
            buffer.pointee.size = max(buffer.pointee.size, end)
        case .file(let fd):
            let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard written == bytes.count else {
                throw ImagingError(.writeFailed, source: source, message: "cannot write the TIFF's EXIF directories")
            }
        }
    }

    /// Reads `count` bytes at `offset` of the destination.
    private func read(_ count: Int, at offset: Int) -> [UInt8]? {
        switch destination {
        case .buffer(let buffer):
            guard offset >= 0, offset + count <= buffer.pointee.size, let data = buffer.pointee.data else { return nil }
            return Array(UnsafeBufferPointer(start: data + offset, count: count))
        case .file(let fd):
            var bytes = [UInt8](repeating: 0, count: count)
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return got == count ? bytes : nil
        }
    }

    /// Sets the value of IFD0's `tag` entry (written by libtiff as a one-value LONG placeholder) to `value`.
    private func patchPointer(_ tag: Int, to value: Int) throws(ImagingError) {
        func number(_ bytes: [UInt8]) -> Int {
            (littleEndian ? bytes.reversed() : bytes).reduce(0) { $0 << 8 | Int($1) }
        }
        func encoded(_ value: Int, _ size: Int) -> [UInt8] {
            let big = (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * (size - 1 - $0))) }
            return littleEndian ? big.reversed() : big
        }
        guard let header = read(8, at: 0), let countBytes = read(2, at: number(Array(header[4..<8]))) else {
            throw ImagingError(.encodeFailed, source: source, message: "cannot read back the TIFF's directory")
        }
        let first = number(Array(header[4..<8]))
        for index in 0..<number(countBytes) {
            let at = first + 2 + index * 12
            guard let entry = read(12, at: at) else { break }
            if number(Array(entry[0..<2])) == tag {
                try write(encoded(value, 4), at: at + 8)
                return
            }
        }
        throw ImagingError(.encodeFailed, source: source, message: "libtiff left out the EXIF pointer")
    }
}
