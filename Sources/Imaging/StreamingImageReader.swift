// Decoding a PNG, JPEG or TIFF file a band of rows at a time, straight from the file (libpng rows, libjpeg
// scanlines, libtiff strips or tiles), so that a huge picture is never held decoded, nor its file in memory.
import CImageShims

#if canImport(Glibc)
import Glibc
#endif

/// The size and sample format of a picture, known before its pixels are decoded.
package struct PixelShape: Sendable, Equatable {
    /// Width in pixels.
    package let width: Int
    /// Height in pixels.
    package let height: Int
    /// The channels of each pixel.
    package let layout: PixelLayout
    /// Bits per sample: 8 or 16.
    package let bitDepth: Int

    /// Number of pixels.
    package var pixelCount: Int { width * height }
    /// Bytes of one decoded row.
    package var rowBytes: Int { width * layout.channelCount * bitDepth / 8 }
}

extension PixelImage {
    /// The picture's size and sample format.
    package var shape: PixelShape { PixelShape(width: width, height: height, layout: layout, bitDepth: bitDepth) }
}

/// A file that can be decoded a band of rows at a time, with what its decode needs (limits, colour handling);
/// `open()` starts a decode at its first row, as many times as needed.
package struct StreamedInput: Sendable {
    /// The file.
    package let path: String
    /// The file's name in errors.
    package let source: String
    /// PNG, JPEG or TIFF.
    package let format: ImageFormat
    /// The decoded picture's size and layout (the same as `ImageCodec.decode` gives).
    package let shape: PixelShape
    private let limits: DecodeLimits
    private let colour: ColourPolicy
    /// The profile the rows are converted to sRGB from (`--colour srgb` on a matching profile), or nil.
    private let convertFrom: ICCProfile?
    /// A CMYK JPEG's own profile, or nil.
    private let cmykProfile: ICCProfile?

    /// The file at `path` (whose bytes are `bytes` and metadata `metadata`) as a streamed input, or nil when it
    /// cannot be decoded by rows into the same picture `ImageCodec.decode` makes: WebP, interlaced PNG, a TIFF
    /// layout read through libtiff's RGBA reader, or a picture its EXIF orientation turns. Errors are the file's
    /// (corrupt header, over `limits`).
    package static func examine(
        path: String, bytes: [UInt8], metadata: ImageMetadata, source: String, limits: DecodeLimits,
        colour: ColourPolicy
    ) throws(ImagingError) -> StreamedInput? {
        let format = try ImageCodec.sniff(bytes, source: source)
        let orientation =
            format == .jpeg ? ExifOrientation(jpeg: bytes) : ImageCodec.containerOrientation(of: metadata, format: format)
        if let orientation, orientation != .up { return nil }
        switch format {
        case .webp: return nil
        // IHDR's interlace method: Adam7 rows come in seven passes over the whole picture.
        case .png where bytes.count > 28 && bytes[28] != 0: return nil
        default: break
        }
        let provisional = StreamedInput(
            path: path, source: source, format: format,
            shape: PixelShape(width: 0, height: 0, layout: .rgb, bitDepth: 8), limits: limits, colour: colour,
            convertFrom: nil, cmykProfile: metadata.iccProfile)
        guard let reader = try provisional.openDecoder() else { return nil }
        let shape = reader.shape
        let convertFrom = metadata.iccProfile.flatMap { profile in
            colour.mode == .srgb && profile.colourSpace == (shape.layout.isGrey ? "GRAY" : "RGB") ? profile : nil
        }
        return StreamedInput(
            path: path, source: source, format: format, shape: shape, limits: limits, colour: colour,
            convertFrom: convertFrom, cmykProfile: metadata.iccProfile)
    }

    private init(
        path: String, source: String, format: ImageFormat, shape: PixelShape, limits: DecodeLimits,
        colour: ColourPolicy, convertFrom: ICCProfile?, cmykProfile: ICCProfile?
    ) {
        self.path = path
        self.source = source
        self.format = format
        self.shape = shape
        self.limits = limits
        self.colour = colour
        self.convertFrom = convertFrom
        self.cmykProfile = cmykProfile
    }

    /// A decode of the file from its first row. Errors: the file cannot be opened, or no longer has the header it
    /// was examined with.
    package func open() throws(ImagingError) -> StreamingImageReader {
        guard let reader = try openDecoder() else {
            throw ImagingError(
                .unsupportedFormat, source: source, message: "the file changed: it can no longer be read by rows")
        }
        guard reader.shape == shape else {
            throw ImagingError(.corrupt, source: source, message: "the file changed while it was being read")
        }
        return reader
    }

    /// Rows `range` of the picture (within its height), decoded from the top: the rows above are decoded and
    /// dropped a band at a time.
    package func rows(_ range: Range<Int>) throws(ImagingError) -> PixelImage {
        precondition(range.lowerBound >= 0 && range.upperBound <= shape.height && !range.isEmpty, "rows \(range)")
        let reader = try open()
        let band = max(1, (4 << 20) / max(shape.rowBytes, 1))
        while reader.nextRow < range.lowerBound {
            _ = try reader.readRows(min(band, range.lowerBound - reader.nextRow))
        }
        guard let rows = try reader.readRows(range.count) else {
            throw ImagingError(.truncated, source: source, message: "the picture has no rows \(range)")
        }
        return rows
    }

    /// A reader at the first row, or nil when the file's layout is not read by rows.
    private func openDecoder() throws(ImagingError) -> StreamingImageReader? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ImagingError(.unreadable, source: source, message: String(cString: strerror(errno)))
        }
        let decoder: ShimDecoder
        let cmykTransform: ColourTransform?
        let info: superres_image_info
        do throws(ImagingError) {
            (decoder, info, cmykTransform) = try startDecoder(descriptor)
        } catch {
            close(descriptor)
            throw error
        }
        guard let layout = PixelLayout(channelCount: Int(info.channels)), info.bit_depth == 8 || info.bit_depth == 16
        else {
            decoder.destroy()
            close(descriptor)
            throw ImagingError(
                .corrupt, source: source, message: "the decoder produced \(info.channels) channels of \(info.bit_depth) bits")
        }
        // A TIFF is read by rows a strip or tile at a time; 0: only whole, through libtiff's RGBA reader.
        var blockHeight = 0
        if case .tiff(let handle) = decoder { blockHeight = Int(superres_tiff_decoder_block_height(handle)) }
        let reader = StreamingImageReader(
            shape: PixelShape(width: Int(info.width), height: Int(info.height), layout: layout, bitDepth: Int(info.bit_depth)),
            descriptor: descriptor, decoder: decoder, blockHeight: blockHeight, cmykTransform: cmykTransform,
            convertFrom: convertFrom, source: source)
        _ = try ImageCodec.checkSize(
            width: reader.shape.width, height: reader.shape.height, channels: layout.channelCount, format: format,
            limits: limits, source: source)
        if case .tiff = decoder, blockHeight == 0 { return nil }
        return reader
    }

    /// The format's decoder on `descriptor`, its header read, and a CMYK JPEG's transform to sRGB.
    private func startDecoder(
        _ descriptor: Int32
    ) throws(ImagingError) -> (ShimDecoder, superres_image_info, ColourTransform?) {
        let maxPixels = UInt64(max(limits.maxPixels, 0))
        let handle: OpaquePointer?
        switch format {
        case .png: handle = superres_png_decoder_create_fd(descriptor, UInt32(clamping: limits.maxPixels))
        case .jpeg: handle = superres_jpeg_decoder_create_fd(descriptor, maxPixels)
        case .tiff: handle = superres_tiff_decoder_create_fd(descriptor, maxPixels)
        case .webp: throw ImagingError(.unsupportedFormat, source: source, message: "WebP is decoded whole")
        }
        let (decoder, info) = try ShimDecoder.start(handle, format, source: source)
        guard case .jpeg(let jpeg) = decoder, info.cmyk != 0 else { return (decoder, info, nil) }
        let transform = ImageCodec.cmykToSRGB(cmykProfile, inverted: info.cmyk == 2, colour: colour)
        if let transform { superres_jpeg_decoder_set_cmyk_transform(jpeg, transform.handle) }
        return (decoder, info, transform)
    }
}

/// A decode of one file a band of rows at a time, top to bottom: each call of `readRows` decodes the next rows
/// (a TIFF's strips or tiles whole, keeping the rows not yet asked for). Only the file's descriptor, the
/// decoder's state and those rows are held.
package final class StreamingImageReader {
    /// The picture's size and layout.
    package let shape: PixelShape
    /// The first row the next `readRows` hands over.
    package private(set) var nextRow = 0
    private let descriptor: Int32
    /// The format's decoder, over `descriptor`.
    private let decoder: ShimDecoder
    /// A TIFF's rows per strip or tile (0: read only whole, through libtiff's RGBA reader); 0 for PNG and JPEG.
    private let blockHeight: Int
    /// A CMYK JPEG's transform to sRGB (the decoder borrows it).
    private let cmykTransform: ColourTransform?
    /// The profile each band is converted to sRGB from, or nil.
    private let convertFrom: ICCProfile?
    private let source: String
    /// A TIFF's decoded rows from `nextRow` on that were not asked for yet (whole strips or tiles are decoded).
    private var pending: [UInt8] = []

    init(
        shape: PixelShape, descriptor: Int32, decoder: ShimDecoder, blockHeight: Int, cmykTransform: ColourTransform?,
        convertFrom: ICCProfile?, source: String
    ) {
        self.shape = shape
        self.descriptor = descriptor
        self.decoder = decoder
        self.blockHeight = blockHeight
        self.cmykTransform = cmykTransform
        self.convertFrom = convertFrom
        self.source = source
    }

    deinit {
        decoder.destroy()
        close(descriptor)
        withExtendedLifetime(cmykTransform) {}
    }

    /// The next `count` rows (fewer at the bottom: none after the last row) as a picture of the file's width,
    /// converted to sRGB as the input asked. Errors are the file's: cut short, corrupt.
    package func readRows(_ count: Int) throws(ImagingError) -> PixelImage? {
        let rows = min(count, shape.height - nextRow)
        guard rows > 0 else { return nil }
        let rowBytes = shape.rowBytes
        var bytes: [UInt8]
        switch decoder {
        case .png(let handle):
            bytes = try decode(rows * rowBytes) { superres_png_decoder_read_rows(handle, $0, $1, UInt32(rows), nil) }
        case .jpeg(let handle):
            bytes = try decode(rows * rowBytes) {
                superres_jpeg_decoder_read_rows(handle, $0.assumingMemoryBound(to: UInt8.self), $1, UInt32(rows), nil)
            }
        case .tiff(let handle):
            while pending.count < rows * rowBytes {
                let first = nextRow + pending.count / rowBytes
                let blockRows = min(blockHeight, shape.height - first)
                pending += try decode(blockRows * rowBytes) {
                    superres_tiff_decoder_read_block_row(handle, UInt32(first), $0, $1)
                }
            }
            bytes = Array(pending[0..<(rows * rowBytes)])
            pending.removeFirst(rows * rowBytes)
        }
        nextRow += rows
        let band: PixelImage
        if shape.bitDepth == 8 {
            band = PixelImage(width: shape.width, height: rows, layout: shape.layout, uint8: bytes)
        } else {
            let samples = [UInt16](unsafeUninitializedCapacity: bytes.count / 2) { buffer, initialised in
                bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
                initialised = bytes.count / 2
            }
            band = PixelImage(width: shape.width, height: rows, layout: shape.layout, uint16: samples)
        }
        guard let convertFrom else { return band }
        return try ImageCodec.convertToSRGB(band, from: convertFrom, source: source)
    }

    /// `size` bytes filled by `read(pointer, size)`, or the decoder's error.
    private func decode(
        _ size: Int, _ read: (UnsafeMutableRawPointer, Int) -> superres_status
    ) throws(ImagingError) -> [UInt8] {
        let (bytes, status) = ImageCodec.readSamples(UInt8.self, count: size, read)
        guard status == .ok else {
            throw ImageCodec.shimError(status, format: decoder.format, source: source, detail: decoder.message)
        }
        return bytes
    }
}
