// CImageShims' decoders (libpng, libjpeg, libtiff) as one type: started, asked for their message and freed in one
// place, whether they read bytes in memory (the codecs) or an open file (the streaming reader).
import CImageShims

/// One of CImageShims' decoders: a `superres_png_decoder`, `superres_jpeg_decoder` or `superres_tiff_decoder`.
enum ShimDecoder {
    case png(OpaquePointer)
    case jpeg(OpaquePointer)
    case tiff(OpaquePointer)

    /// The decoder of `format` (PNG, JPEG or TIFF) that a create call returned, its header read into the returned
    /// info (a TIFF's first page). Throws `tooLarge` when the create call returned none (out of memory), and the
    /// decoder's error, after destroying it, when the header cannot be read.
    static func start(
        _ handle: OpaquePointer?, _ format: ImageFormat, source: String
    ) throws(ImagingError) -> (decoder: ShimDecoder, info: superres_image_info) {
        guard let handle else {
            throw ImagingError(
                .tooLarge, source: source, message: "not enough memory to start a \(format.displayName) decoder")
        }
        let decoder: ShimDecoder
        var info = superres_image_info()
        let status: superres_status
        switch format {
        case .png:
            decoder = .png(handle)
            status = superres_png_decoder_read_header(handle, &info)
        case .jpeg:
            decoder = .jpeg(handle)
            status = superres_jpeg_decoder_read_header(handle, &info)
        case .tiff:
            decoder = .tiff(handle)
            var pages: UInt32 = 0
            status = superres_tiff_decoder_read_header(handle, &info, &pages)
        case .webp:
            preconditionFailure("WebP is decoded by superres_webp_decode, without a decoder handle")
        }
        guard status == .ok else {
            let message = decoder.message
            decoder.destroy()
            throw ImageCodec.shimError(status, format: format, source: source, detail: message)
        }
        return (decoder, info)
    }

    /// The C handle.
    var handle: OpaquePointer {
        switch self {
        case .png(let handle), .jpeg(let handle), .tiff(let handle): handle
        }
    }

    /// The format it decodes.
    var format: ImageFormat {
        switch self {
        case .png: .png
        case .jpeg: .jpeg
        case .tiff: .tiff
        }
    }

    /// What the decoder's last failed call said (superres_*_decoder_message).
    var message: String {
        switch self {
        case .png(let handle): ImageCodec.message(from: superres_png_decoder_message(handle))
        case .jpeg(let handle): ImageCodec.message(from: superres_jpeg_decoder_message(handle))
        case .tiff(let handle): ImageCodec.message(from: superres_tiff_decoder_message(handle))
        }
    }

    /// Frees the decoder (superres_*_decoder_destroy).
    func destroy() {
        switch self {
        case .png(let handle): superres_png_decoder_destroy(handle)
        case .jpeg(let handle): superres_jpeg_decoder_destroy(handle)
        case .tiff(let handle): superres_tiff_decoder_destroy(handle)
        }
    }
}

/// Owns a decoder over bytes in memory, its header read, and frees it in deinit.
///
/// The decoder reads from bytes it does not own. It is only ever created inside the `withUnsafeBufferPointer`
/// closure over those bytes and never stored or returned from it, so it cannot outlive them.
final class InMemoryDecoder {
    /// The decoder.
    let decoder: ShimDecoder
    /// What its header says (a TIFF's first page).
    let info: superres_image_info

    /// Starts the decoder of `format` (PNG, JPEG or TIFF) over `input` (superres_*_decoder_create), refusing pictures
    /// of more than `maxPixels` pixels (PNG: more than that many a side), and reads its header (`ShimDecoder.start`).
    init(
        _ format: ImageFormat, reading input: UnsafeBufferPointer<UInt8>, maxPixels: Int, source: String
    ) throws(ImagingError) {
        let handle: OpaquePointer?
        switch format {
        case .png: handle = superres_png_decoder_create(input.baseAddress, input.count, UInt32(clamping: maxPixels))
        case .jpeg: handle = superres_jpeg_decoder_create(input.baseAddress, input.count, UInt64(max(maxPixels, 0)))
        case .tiff: handle = superres_tiff_decoder_create(input.baseAddress, input.count, UInt64(max(maxPixels, 0)))
        case .webp: preconditionFailure("WebP is decoded by superres_webp_decode, without a decoder handle")
        }
        let started = try ShimDecoder.start(handle, format, source: source)
        decoder = started.decoder
        info = started.info
    }

    deinit { decoder.destroy() }

    /// The C decoder's handle.
    var handle: OpaquePointer { decoder.handle }
    /// What the decoder's last failed call said.
    var message: String { decoder.message }
}
