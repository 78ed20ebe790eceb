// PNG through libpng (via CImageShims). The size is taken from IHDR in Swift first, so that empty and oversized
// images get precise errors before libpng is involved.
import CImageShims
import Kernels
import Synchronization

extension ImageCodec {
    /// The 8-byte signature, then IHDR: length (13), "IHDR", width and height as big-endian 32-bit numbers.
    private static let pngHeaderLength = 24

    /// Size from the IHDR chunk, which the PNG standard requires to come first.
    static func probePNG(_ bytes: [UInt8], source: String) throws(ImagingError) -> ImageHeader {
        guard bytes.count >= pngHeaderLength else {
            throw ImagingError(
                .truncated,
                source: source,
                message: "truncated PNG data: \(bytes.count) bytes end inside the IHDR chunk"
            )
        }
        func bigEndian32(at offset: Int) -> Int {
            bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        let ihdr: [UInt8] = [0x49, 0x48, 0x44, 0x52]
        guard bigEndian32(at: 8) == 13, Array(bytes[12..<16]) == ihdr else {
            throw ImagingError(.corrupt, source: source, message: "corrupt PNG data: the first chunk is not IHDR")
        }
        let width = bigEndian32(at: 16)
        let height = bigEndian32(at: 20)
        try checkNotEmpty(width: width, height: height, format: .png, source: source)
        guard width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw ImagingError(
                .corrupt,
                source: source,
                message: "corrupt PNG data: IHDR declares \(width)×\(height), beyond PNG's 2³¹−1 per side"
            )
        }
        return ImageHeader(format: .png, width: width, height: height)
    }

    /// Decodes through superres_png_decoder_read_header/read_pixels (libpng) after checking the IHDR size.
    static func decodePNG(
        _ bytes: [UInt8], source: String, limits: DecodeLimits, cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> PixelImage {
        let header = try probePNG(bytes, source: source)
        _ = try checkSize(
            width: header.width,
            height: header.height,
            channels: 4,
            format: .png,
            limits: limits,
            source: source
        )
        return try bytes.withUnsafeBufferPointer { (input) throws(ImagingError) -> PixelImage in
            // libpng's own bound (`maxPixels` a side), in case the IHDR it reads ever disagrees with ours.
            let decoder = try InMemoryDecoder(.png, reading: input, maxPixels: limits.maxPixels, source: source)
            let info = decoder.info
            let width = Int(info.width)
            let height = Int(info.height)
            guard let layout = PixelLayout(channelCount: Int(info.channels)),
                info.bit_depth == 8 || info.bit_depth == 16
            else {
                throw ImagingError(
                    .corrupt,
                    source: source,
                    message: "libpng produced \(info.channels) channels of \(info.bit_depth) bits"
                )
            }
            let count = try checkSize(
                width: width,
                height: height,
                channels: layout.channelCount,
                format: .png,
                limits: limits,
                source: source
            )
            let samples: PixelSamples
            let readStatus: superres_status
            if info.bit_depth == 16 {
                let result = readSamples(UInt16.self, count: count) {
                    superres_png_decoder_read_pixels(decoder.handle, $0, $1, cancellation?.handle)
                }
                (samples, readStatus) = (.uint16(result.samples), result.status)
            } else {
                let result = readSamples(UInt8.self, count: count) {
                    superres_png_decoder_read_pixels(decoder.handle, $0, $1, cancellation?.handle)
                }
                (samples, readStatus) = (.uint8(result.samples), result.status)
            }
            guard readStatus == .ok else {
                throw shimError(readStatus, format: .png, source: source, detail: decoder.message)
            }
            return PixelImage(width: width, height: height, layout: layout, samples: samples)
        }
    }

    /// Encodes as PNG with the fast writer: rows filtered in bands on the compute threads
    /// (superres_png_filter_rows), then one zlib stream by libdeflate (superres_png_write). The layout and bit depth
    /// are kept as given.
    static func encodePNG(
        _ image: PixelImage, compression: PNGCompression, metadata: ImageMetadata? = nil,
        cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> [UInt8] {
        try encodePNG(
            image, filter: compression.filter, deflateLevel: compression.deflateLevel, metadata: metadata,
            cancellation: cancellation)
    }

    /// Encodes as PNG with every row filtered by `filter` and libdeflate at `deflateLevel` (0...12), `metadata`'s
    /// chunks after IHDR.
    static func encodePNG(
        _ image: PixelImage,
        filter: PNGRowFilter,
        deflateLevel: Int32,
        metadata: ImageMetadata? = nil,
        cancellation: CodecCancellation? = nil
    ) throws(ImagingError) -> [UInt8] {
        let width = UInt32(clamping: image.width)
        let height = UInt32(clamping: image.height)
        let channels = Int32(image.layout.channelCount)
        let depth = Int32(image.bitDepth)
        let size = superres_png_filtered_size(width, height, channels, depth)
        guard size > 0 else {
            throw ImagingError(
                .encodeFailed,
                source: encoderSource(.png),
                message: "could not encode the PNG: \(image.width)×\(image.height) is not a size PNG can hold"
            )
        }
        var failed = superres_status.ok
        let filtered = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            failed = filterRows(
                of: image.samples, width: width, height: height, channels: channels, from: 0, filter: filter,
                into: buffer.baseAddress!, cancellation: cancellation)
            initialized = failed == .ok ? size : 0
        }
        guard failed == .ok else {
            throw shimError(failed, format: .png, source: encoderSource(.png), detail: "", encoding: true)
        }
        let level = deflateLevel
        let chunks = metadata?.pngChunkBytes() ?? []
        return try runEncoder(.png) { output, message, messageSize in
            filtered.withUnsafeBufferPointer { filtered in
                chunks.withUnsafeBufferPointer {
                    superres_png_write(filtered.baseAddress, filtered.count, width, height, channels, depth, level,
                        $0.baseAddress, $0.count, output, cancellation?.handle, message, messageSize)
                }
            }
        }
    }

    /// Filters rows `firstRow..<height` of `samples` (a picture of `width × height`) with `filter` into their places in
    /// `output` (superres_png_filtered_size bytes for the whole picture), in bands on the compute threads; row
    /// `firstRow - 1`, when there is one, is read as the row above.
    static func filterRows(
        of samples: PixelSamples, width: UInt32, height: UInt32, channels: Int32, from firstRow: Int,
        filter: PNGRowFilter, into output: UnsafeMutablePointer<UInt8>, cancellation: CodecCancellation?
    ) -> superres_status {
        let depth = Int32(samples.bitDepth)
        let filter = filter.shimValue
        func filterRows(_ pixels: UnsafeRawPointer?) -> superres_status {
            // Bands of rows, a few per thread so that an uneven band does not leave a thread idle.
            let pool = ComputePool.shared
            let rows = Int(height) - firstRow
            let bands = min(rows, max(1, pool.threadCount * 4))
            let statuses = Mutex(superres_status.ok)
            pool.parallelFor(bands) { band in
                if cancellation?.isCancelled == true {
                    statuses.withLock { $0 = .cancelled }
                    return
                }
                let first = UInt32(firstRow + rows * band / bands)
                let end = UInt32(firstRow + rows * (band + 1) / bands)
                let status = superres_png_filter_rows(pixels, width, height, channels, depth, first, end, filter, output)
                if status != .ok { statuses.withLock { $0 = status } }
            }
            return statuses.withLock { $0 }
        }
        return switch samples {
        case .uint8(let samples): samples.withUnsafeBytes { filterRows($0.baseAddress) }
        case .uint16(let samples): samples.withUnsafeBytes { filterRows($0.baseAddress) }
        }
    }

    /// Encodes through superres_png_encode (libpng and zlib): the reference that the fast writer is tested against.
    ///
    /// The defaults are libpng's (zlib level 6, default strategy, adaptive filters: superres's writer before the
    /// fast one); `openCVDefaults` are what OpenCV's imwrite uses (level 1, the RLE strategy, Sub on every row).
    static func encodePNGWithLibpng(
        _ image: PixelImage,
        zlibLevel: Int32 = 6,
        zlibStrategy: Int32 = 0,
        onlyFilter: Int32 = -1
    ) throws(ImagingError) -> [UInt8] {
        let width = UInt32(clamping: image.width)
        let height = UInt32(clamping: image.height)
        let channels = Int32(image.layout.channelCount)
        let depth = Int32(image.bitDepth)
        return try runEncoder(.png) { output, message, size in
            func encode(_ pixels: UnsafeRawPointer?) -> superres_status {
                superres_png_encode(
                    pixels, width, height, channels, depth, zlibLevel, zlibStrategy, onlyFilter, output, message,
                    size)
            }
            return switch image.samples {
            case .uint8(let samples): samples.withUnsafeBytes { encode($0.baseAddress) }
            case .uint16(let samples): samples.withUnsafeBytes { encode($0.baseAddress) }
            }
        }
    }

    /// OpenCV's imwrite PNG settings for `encodePNGWithLibpng`: zlib level 1, Z_RLE, the Sub filter.
    static let openCVDefaults: (zlibLevel: Int32, zlibStrategy: Int32, onlyFilter: Int32) = (1, 3, 1)
}
