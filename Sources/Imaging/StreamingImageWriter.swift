// Writing a picture to its file band by band while the rows are still being made, so that a result larger than
// memory never has to be held: PNG (rows filtered as the fast writer does, then one zlib stream) and JPEG
// (libjpeg-turbo scanlines, the same bytes as the whole-picture encoder). WebP's encoder takes only whole pictures.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CImageShims

/// Writes a picture of a known size to `path` a band of rows at a time, atomically: the rows go to a temporary file
/// beside `path`, which `finish()` syncs and renames; a failure, a cancel or a writer dropped unfinished removes it.
package final class StreamingImageWriter {
    /// Whether pictures in `format` can be written a band at a time.
    package static func supports(_ format: ImageFormat) -> Bool { format != .webp }

    /// The file written.
    package let path: String
    /// The picture's width in pixels.
    package let width: Int
    /// The picture's height in pixels.
    package let height: Int
    /// The layout each band must have.
    package let layout: PixelLayout
    /// The bit depth each band must have.
    package let bitDepth: Int
    /// Rows written so far.
    package private(set) var rowsWritten = 0

    private let format: ImageFormat
    private let temporary: String
    private let descriptor: Int32
    private let encoder: Encoder
    /// Whether the temporary file has been committed or discarded.
    private var ended = false
    /// PNG: the last row written (host-order samples), the row above the next band's first row for filtering.
    private var rowAbove: PixelSamples?

    private enum Encoder {
        case png(OpaquePointer, filter: PNGRowFilter)
        case jpeg(OpaquePointer, target: PixelLayout)
        case tiff(TIFFWriter)
    }

    /// Starts writing a `width × height` picture in `layout` and `bitDepth` to `path` as `format` with `settings`
    /// and `metadata` (JPEG keeps grey or RGB at 8 bits, dropping alpha, as the whole-picture encoder does).
    package init(
        path: String, format: ImageFormat, width: Int, height: Int, layout: PixelLayout, bitDepth: Int,
        settings: EncodeSettings, metadata: ImageMetadata? = nil
    ) throws(ImagingError) {
        guard Self.supports(format) else {
            throw ImagingError(
                .unsupportedFormat, source: path,
                message: "\(format.displayName) cannot be written a band at a time; use PNG, JPEG or TIFF for pictures "
                    + "this large")
        }
        guard width > 0, height > 0, bitDepth == 8 || bitDepth == 16 else {
            throw ImagingError(.encodeFailed, source: path, message: "cannot write a \(width)×\(height) picture")
        }
        self.path = path
        self.format = format
        self.width = width
        self.height = height
        self.layout = layout
        self.bitDepth = bitDepth
        let (temporary, descriptor) = try ImageFile.createTemporary(for: path)
        (self.temporary, self.descriptor) = (temporary, descriptor)
        var message = [CChar](repeating: 0, count: 256)
        var made: Encoder?
        switch format {
        case .png:
            let chunks = metadata?.pngChunkBytes() ?? []
            let stream = chunks.withUnsafeBufferPointer {
                superres_png_stream_create(
                    descriptor, UInt32(clamping: width), UInt32(clamping: height), Int32(layout.channelCount),
                    Int32(bitDepth), Int32(settings.pngCompression.level), $0.baseAddress, $0.count, &message,
                    message.count)
            }
            made = stream.map { .png($0, filter: settings.pngCompression.filter) }
        case .jpeg:
            let target: PixelLayout = layout.isGrey ? .grey : .rgb
            let stream = ImageCodec.withJPEGExtras(metadata) { extras in
                superres_jpeg_stream_create(
                    descriptor, UInt32(clamping: width), UInt32(clamping: height), Int32(target.channelCount),
                    Int32(settings.quality), settings.jpegChroma == .full ? 1 : 0, extras, &message, message.count)
            }
            made = stream.map { .jpeg($0, target: target) }
        case .tiff:
            do {
                made = .tiff(
                    try TIFFWriter(
                        destination: .file(descriptor), width: width, height: height, layout: layout,
                        bitDepth: bitDepth, compression: settings.tiffCompression, quality: settings.quality,
                        metadata: metadata, source: path))
            } catch {
                ImageFile.discard(temporary, descriptor: descriptor)
                throw error
            }
        case .webp:
            made = nil
        }
        guard let made else {
            ImageFile.discard(temporary, descriptor: descriptor)
            throw ImagingError(
                .encodeFailed, source: path,
                message: "could not start the \(format.displayName): \(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        encoder = made
    }

    deinit {
        switch encoder {
        case .png(let stream, _): superres_png_stream_destroy(stream)
        case .jpeg(let stream, _): superres_jpeg_stream_destroy(stream)
        case .tiff: break
        }
        if !ended { ImageFile.discard(temporary, descriptor: descriptor) }
    }

    /// Writes the next rows: `band` has the picture's width, layout and bit depth (any error ends the file: the
    /// temporary file is removed).
    package func append(_ band: PixelImage) throws(ImagingError) {
        guard !ended else { throw ImagingError(.writeFailed, source: path, message: "the file was already ended") }
        guard band.width == width, band.layout == layout, band.bitDepth == bitDepth,
            band.height <= height - rowsWritten
        else {
            abandon()
            throw ImagingError(
                .encodeFailed, source: path,
                message: "a \(band.width)×\(band.height) band does not continue the \(width)×\(height) picture")
        }
        var message = [CChar](repeating: 0, count: 256)
        let status: superres_status
        switch encoder {
        case .png(let stream, let filter): status = try appendPNG(band, stream: stream, filter: filter, &message)
        case .jpeg(let stream, let target):
            let pixels = ImageCodec.convert(ImageCodec.eightBitSamples(of: band), from: band.layout, to: target)
            status = pixels.withUnsafeBufferPointer {
                superres_jpeg_stream_write(stream, $0.baseAddress, UInt32(band.height), &message, message.count)
            }
        case .tiff(let writer):
            do {
                try writer.append(band)
            } catch {
                abandon()
                throw error
            }
            status = .ok
        }
        guard status == .ok else { throw failure(status, message) }
        rowsWritten += band.height
    }

    /// Writes the end of the file, syncs it and renames it to `path`; an error (and no file) unless every row was
    /// written.
    package func finish() throws(ImagingError) {
        guard !ended else { throw ImagingError(.writeFailed, source: path, message: "the file was already ended") }
        var message = [CChar](repeating: 0, count: 256)
        let status: superres_status
        switch encoder {
        case .png(let stream, _): status = superres_png_stream_finish(stream, &message, message.count)
        case .jpeg(let stream, _): status = superres_jpeg_stream_finish(stream, &message, message.count)
        case .tiff(let writer):
            do {
                try writer.finish()
            } catch {
                abandon()
                throw error
            }
            status = .ok
        }
        guard status == .ok else { throw failure(status, message) }
        ended = true
        try ImageFile.commit(temporary, descriptor: descriptor, to: path, failure: nil)
    }

    /// Removes the temporary file: nothing is left at `path` (an earlier file there stays as it was).
    package func abandon() {
        guard !ended else { return }
        ended = true
        ImageFile.discard(temporary, descriptor: descriptor)
    }

    /// Filters the band's rows (the last row written is the row above its first) and compresses them.
    private func appendPNG(
        _ band: PixelImage, stream: OpaquePointer, filter: PNGRowFilter, _ message: inout [CChar]
    ) throws(ImagingError) -> superres_status {
        let rowSamples = width * layout.channelCount
        // The first row with the row above it, as a two-row picture; then the band's other rows in place.
        if let above = rowAbove {
            let pair: PixelSamples =
                switch (above, band.samples) {
                case (.uint8(let row), .uint8(let values)): .uint8(row + values.prefix(rowSamples))
                case (.uint16(let row), .uint16(let values)): .uint16(row + values.prefix(rowSamples))
                default: band.samples
                }
            let status = compress(pair, rows: 2, from: 1, stream: stream, filter: filter, &message)
            guard status == .ok else { return status }
        }
        if rowAbove == nil || band.height > 1 {
            let status = compress(
                band.samples, rows: band.height, from: rowAbove == nil ? 0 : 1, stream: stream, filter: filter, &message)
            guard status == .ok else { return status }
        }
        rowAbove =
            switch band.samples {
            case .uint8(let values): .uint8(Array(values.suffix(rowSamples)))
            case .uint16(let values): .uint16(Array(values.suffix(rowSamples)))
            }
        return .ok
    }

    /// Filters rows `from..<rows` of `samples` (row `from - 1` is read as the row above) and compresses them.
    private func compress(
        _ samples: PixelSamples, rows: Int, from first: Int, stream: OpaquePointer, filter: PNGRowFilter,
        _ message: inout [CChar]
    ) -> superres_status {
        let channels = Int32(layout.channelCount)
        let size = superres_png_filtered_size(UInt32(width), UInt32(rows), channels, Int32(bitDepth))
        let rowBytes = size / rows
        var filtered = [UInt8](repeating: 0, count: size)
        let status = filtered.withUnsafeMutableBufferPointer {
            ImageCodec.filterRows(
                of: samples, width: UInt32(width), height: UInt32(rows), channels: channels, from: first,
                filter: filter, into: $0.baseAddress!, cancellation: nil)
        }
        guard status == .ok else { return status }
        return filtered.withUnsafeBufferPointer {
            superres_png_stream_write(
                stream, $0.baseAddress! + first * rowBytes, size - first * rowBytes, &message, message.count)
        }
    }

    /// The error for a failed shim call; the temporary file is removed.
    private func failure(_ status: superres_status, _ message: [CChar]) -> ImagingError {
        abandon()
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return ImagingError(
            status == .cancelled ? .cancelled : .encodeFailed, source: path,
            message: "could not write the \(format.displayName): \(text)")
    }
}
