// C shims between Swift and the image libraries (libpng, libjpeg-turbo, libwebp).
//
// libpng and libjpeg report fatal errors by longjmp. A jump across Swift frames skips Swift's cleanup (releases,
// deferred blocks) and is undefined behaviour, so every setjmp/longjmp lives in this target: each entry point sets
// its own jump target, and on failure returns a status and leaves a message in a buffer. libwebp does not jump; its
// shims exist because its advanced API (decoder output union, writer callback with a pointer to its own state) is
// awkward and pointer-heavy from Swift.
//
// This header deliberately includes none of the libraries' headers, so Swift sees only these declarations.
#ifndef SUPERRES_CIMAGESHIMS_H
#define SUPERRES_CIMAGESHIMS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Room for a library message plus our context; messages longer than this are cut.
#define SUPERRES_MESSAGE_SIZE 256

/// Gives a C declaration a Swift name (`superres_status.ok` rather than `.SUPERRES_OK`).
#define SUPERRES_SWIFT_NAME(name) __attribute__((swift_name(#name)))

/// The outcome of a shim call; the call's message buffer says more when it is not `SUPERRES_OK`.
typedef enum __attribute__((enum_extensibility(closed))) superres_status {
    SUPERRES_OK SUPERRES_SWIFT_NAME(ok) = 0,
    /// The data breaks the format's rules.
    SUPERRES_CORRUPT SUPERRES_SWIFT_NAME(corrupt) = 1,
    /// The data ends before the image does.
    SUPERRES_TRUNCATED SUPERRES_SWIFT_NAME(truncated) = 2,
    /// Valid, but a variant we do not decode (12-bit JPEG, animated WebP, ...).
    SUPERRES_UNSUPPORTED SUPERRES_SWIFT_NAME(unsupported) = 3,
    /// Over a size limit.
    SUPERRES_TOO_LARGE SUPERRES_SWIFT_NAME(tooLarge) = 4,
    /// Zero width or height.
    SUPERRES_EMPTY SUPERRES_SWIFT_NAME(empty) = 5,
    /// An allocation failed.
    SUPERRES_NO_MEMORY SUPERRES_SWIFT_NAME(noMemory) = 6,
    /// The encoder refused the image.
    SUPERRES_ENCODE_FAILED SUPERRES_SWIFT_NAME(encodeFailed) = 7,
    /// A caller mistake (buffer size, channel count, call order).
    SUPERRES_INVALID_ARGUMENT SUPERRES_SWIFT_NAME(invalidArgument) = 8,
    /// Stopped through a `superres_cancel` (a request or its deadline).
    SUPERRES_CANCELLED SUPERRES_SWIFT_NAME(cancelled) = 9,
} superres_status;

// MARK: Cancellation

/// A request to stop a decode or encode, shared between threads: set by `superres_cancel_request`, or implied once
/// the deadline of `superres_cancel_set_timeout` has passed. The codecs check it every few rows (libwebp's decoder
/// between chunks of input, its encoder at each progress report; libdeflate only before it starts).
typedef struct superres_cancel superres_cancel;

/// A request not yet made, without deadline; NULL when out of memory.
superres_cancel *superres_cancel_create(void);

/// Frees `cancel`; no codec may be using it.
void superres_cancel_destroy(superres_cancel *cancel);

/// Asks every codec checking `cancel` to stop (thread-safe).
void superres_cancel_request(superres_cancel *cancel);

/// Makes `cancel` count as requested from `nanoseconds` after now on (CLOCK_MONOTONIC); 0 removes the deadline.
void superres_cancel_set_timeout(superres_cancel *cancel, uint64_t nanoseconds);

/// Whether a stop was requested or the deadline has passed; 0 for NULL.
int superres_cancel_is_requested(const superres_cancel *cancel);

/// Size and sample format of a decoded image: 1 to 4 interleaved channels of 8 or 16 bits.
typedef struct superres_image_info {
    uint32_t width;
    uint32_t height;
    int32_t channels;
    int32_t bit_depth;
    /// JPEG only: 0 when the file is not CMYK, 1 for plain CMYK, 2 for Adobe's inverted CMYK (an APP14 segment).
    int32_t cmyk;
} superres_image_info;

/// A growable byte buffer that the encoders fill; release it with `superres_buffer_free`.
typedef struct superres_buffer {
    uint8_t *data;
    size_t size;
    size_t capacity;
} superres_buffer;

/// Frees the bytes of `buffer` and empties it.
void superres_buffer_free(superres_buffer *buffer);

/// Makes room for `extra` more bytes after `size`; 0 when out of memory.
int superres_buffer_reserve(superres_buffer *buffer, size_t extra);

// MARK: PNG (libpng)

/// A libpng read struct over a caller-owned byte range, which must stay valid until `superres_png_decoder_destroy`.
typedef struct superres_png_decoder superres_png_decoder;

/// Wraps png_create_read_struct/png_create_info_struct: a decoder reading from memory, refusing (in libpng itself)
/// widths or heights over `max_dimension`, with warnings silenced. NULL when out of memory.
superres_png_decoder *superres_png_decoder_create(const uint8_t *data, size_t size, uint32_t max_dimension);

/// A decoder as superres_png_decoder_create makes it, reading the open file `fd` from its current offset (the
/// caller's: it must stay open until destroy, which does not close it).
superres_png_decoder *superres_png_decoder_create_fd(int fd, uint32_t max_dimension);

/// Wraps png_read_info and png_read_update_info: reads the chunks up to the image data and sets the transformations
/// (palette → RGB(A), grey under 8 bits → 8, tRNS → alpha, 16 bits kept in host byte order, Adam7 de-interlacing).
/// `info` receives the size and the layout the pixels will have. Call once.
superres_status superres_png_decoder_read_header(superres_png_decoder *decoder, superres_image_info *info);

/// Wraps png_read_image and png_read_end: decodes all pixels into `pixels`, which must hold exactly
/// height × width × channels × bit_depth / 8 bytes; stops with `SUPERRES_CANCELLED` when `cancel` (may be NULL) is
/// requested, checked every 16 rows.
superres_status superres_png_decoder_read_pixels(superres_png_decoder *decoder, void *pixels, size_t pixels_size,
                                                 const superres_cancel *cancel);

/// Wraps png_read_row: decodes the next `count` rows into `pixels` (exactly count × width × channels ×
/// bit_depth / 8 bytes), and png_read_end after the last row. Non-interlaced files only (`SUPERRES_UNSUPPORTED`
/// otherwise); not mixed with read_pixels. `cancel` (may be NULL) is checked every 16 rows.
superres_status superres_png_decoder_read_rows(superres_png_decoder *decoder, void *pixels, size_t pixels_size,
                                               uint32_t count, const superres_cancel *cancel);

/// The message of the last failed call (empty if none).
const char *superres_png_decoder_message(const superres_png_decoder *decoder);

/// Wraps png_destroy_read_struct; frees everything the decoder holds.
void superres_png_decoder_destroy(superres_png_decoder *decoder);

/// Wraps png_write_row: encodes interleaved pixels (channels 1-4, bit depth 8 or 16 in host byte order) as a
/// non-interlaced PNG with zlib `compression_level` 0-9 and `zlib_strategy` (zlib's Z_DEFAULT_STRATEGY 0 …
/// Z_FIXED 4), every row filtered by `only_filter` (0-4) or, for -1, libpng's adaptive choice; appended to `output`.
/// The reference writer (and OpenCV's: level 1, Z_RLE, Sub) that the fast one is compared with.
superres_status superres_png_encode(const void *pixels, uint32_t width, uint32_t height, int32_t channels,
                                    int32_t bit_depth, int32_t compression_level, int32_t zlib_strategy,
                                    int32_t only_filter, superres_buffer *output, char *message,
                                    size_t message_size);

/// How the fast PNG writer filters rows: one of the PNG standard's filter types for every row, or per row the one
/// libpng's heuristic picks (smallest sum of absolute signed filtered bytes).
typedef enum __attribute__((enum_extensibility(closed))) superres_png_filter {
    SUPERRES_PNG_FILTER_NONE SUPERRES_SWIFT_NAME(none) = 0,
    SUPERRES_PNG_FILTER_SUB SUPERRES_SWIFT_NAME(sub) = 1,
    SUPERRES_PNG_FILTER_UP SUPERRES_SWIFT_NAME(up) = 2,
    SUPERRES_PNG_FILTER_AVERAGE SUPERRES_SWIFT_NAME(average) = 3,
    SUPERRES_PNG_FILTER_PAETH SUPERRES_SWIFT_NAME(paeth) = 4,
    SUPERRES_PNG_FILTER_ADAPTIVE SUPERRES_SWIFT_NAME(adaptive) = 5,
} superres_png_filter;

/// The size of the filtered image data: height × (1 + width × channels × bit_depth / 8); 0 for an invalid layout
/// (channels 1-4, bit depth 8 or 16, sides 1…2³¹−1) or a size that does not fit in memory.
size_t superres_png_filtered_size(uint32_t width, uint32_t height, int32_t channels, int32_t bit_depth);

/// Filters rows `first_row..<end_row` of interleaved pixels (16-bit samples in host byte order) into their place in
/// `filtered` (superres_png_filtered_size bytes: per row the filter byte, then the filtered big-endian bytes). Reads
/// the row above `first_row` but writes only its own rows, so disjoint bands may run on several threads at once.
superres_status superres_png_filter_rows(const void *pixels, uint32_t width, uint32_t height, int32_t channels,
                                         int32_t bit_depth, uint32_t first_row, uint32_t end_row,
                                         superres_png_filter filter, uint8_t *filtered);

/// Compresses filtered image data as one zlib stream with libdeflate at `level` (0-12; 0 stores) and appends a
/// whole PNG (signature, IHDR, then `chunks`: complete ancillary chunks or nothing, IDAT chunks of at most 1 MiB,
/// IEND) to `output`.
superres_status superres_png_write(const uint8_t *filtered, size_t filtered_size, uint32_t width, uint32_t height,
                                   int32_t channels, int32_t bit_depth, int32_t level, const uint8_t *chunks,
                                   size_t chunks_size, superres_buffer *output, const superres_cancel *cancel,
                                   char *message, size_t message_size);

/// A PNG written to a file as its rows come: signature and IHDR at once, the filtered rows through one zlib stream
/// (zlib, not libdeflate: libdeflate compresses only whole buffers) in IDAT chunks of at most 1 MiB, then IEND.
typedef struct superres_png_stream superres_png_stream;

/// Starts a PNG of the given layout on the open file `fd` with zlib `level` (0-9), `chunks` (complete ancillary
/// chunks, may be empty) after IHDR; NULL (and `message`) on a bad layout, no memory or a failed write.
superres_png_stream *superres_png_stream_create(int fd, uint32_t width, uint32_t height, int32_t channels,
                                                int32_t bit_depth, int32_t level, const uint8_t *chunks,
                                                size_t chunks_size, char *message, size_t message_size);

/// Compresses the next `size` bytes of filtered rows (as superres_png_filter_rows makes them) and writes what is
/// ready.
superres_status superres_png_stream_write(superres_png_stream *stream, const uint8_t *filtered, size_t size,
                                          char *message, size_t message_size);

/// Ends the zlib stream and writes the last IDAT and IEND; an error unless every row was written.
superres_status superres_png_stream_finish(superres_png_stream *stream, char *message, size_t message_size);

/// Frees the stream (the file stays open: it is the caller's).
void superres_png_stream_destroy(superres_png_stream *stream);

// MARK: JPEG (libjpeg-turbo)

/// A libjpeg decompressor over a caller-owned byte range, which must stay valid until
/// `superres_jpeg_decoder_destroy`.
typedef struct superres_jpeg_decoder superres_jpeg_decoder;

/// Wraps jpeg_create_decompress, with errors caught, messages never printed, at most `max_pixels` pixels' worth of
/// libjpeg working memory and a bound on progressive scans. NULL when out of memory.
superres_jpeg_decoder *superres_jpeg_decoder_create(const uint8_t *data, size_t size, uint64_t max_pixels);

/// A decompressor as superres_jpeg_decoder_create makes it, reading the open file `fd` from its current offset
/// through a duplicate of the descriptor (closed by destroy). NULL when out of memory or descriptors.
superres_jpeg_decoder *superres_jpeg_decoder_create_fd(int fd, uint64_t max_pixels);

/// Wraps jpeg_read_header: size and output layout (grey → 1 channel; YCbCr, RGB, CMYK and YCCK → 3 channels RGB).
/// Call once.
superres_status superres_jpeg_decoder_read_header(superres_jpeg_decoder *decoder, superres_image_info *info);

/// Wraps jpeg_start_decompress, jpeg_read_scanlines and jpeg_finish_decompress: decodes into `pixels`, which must
/// hold exactly height × width × channels bytes. CMYK (Adobe inverted or plain) is converted to RGB.
/// A premature end of data, which libjpeg only warns about, fails with `SUPERRES_TRUNCATED`.
superres_status superres_jpeg_decoder_read_pixels(superres_jpeg_decoder *decoder, uint8_t *pixels,
                                                  size_t pixels_size, const superres_cancel *cancel);

/// Decodes the next `count` rows into `pixels` (exactly count × width × channels bytes), as read_pixels does them;
/// after the last row the file is read up to EOI. Not mixed with read_pixels.
superres_status superres_jpeg_decoder_read_rows(superres_jpeg_decoder *decoder, uint8_t *pixels, size_t pixels_size,
                                                uint32_t count, const superres_cancel *cancel);

/// The message of the last failed call (empty if none).
const char *superres_jpeg_decoder_message(const superres_jpeg_decoder *decoder);

typedef struct superres_colour_transform superres_colour_transform;

/// Makes a CMYK file's pixels go through `transform` (CMYK8 or CMYK8_INVERTED to RGB8, as the header said) instead
/// of the plain formula; the transform is borrowed and must outlive the decoder's read_pixels.
void superres_jpeg_decoder_set_cmyk_transform(superres_jpeg_decoder *decoder,
                                              const superres_colour_transform *transform);

/// Wraps jpeg_destroy_decompress; frees everything the decoder holds.
void superres_jpeg_decoder_destroy(superres_jpeg_decoder *decoder);

/// What a JPEG encoder writes besides the pixels: the JFIF header's density and marker segments after it.
typedef struct superres_jpeg_extras {
    /// Dots per inch across and down for the JFIF header; 0 and 0 keep JFIF's default (no unit, aspect 1:1).
    uint16_t x_dpi;
    uint16_t y_dpi;
    /// Complete marker segments (0xFF, marker, 2-byte length, payload), one after the other; may be NULL.
    const uint8_t *segments;
    size_t segments_size;
} superres_jpeg_extras;

/// Wraps jpeg_start_compress/jpeg_write_scanlines: encodes 8-bit grey (1 channel), RGB (3 channels) or CMYK (4,
/// stored as given with an Adobe APP14 segment: pass Adobe's inverted values) at `quality` 1-100 with standard
/// Huffman tables, appended to `output`. RGB keeps full-resolution chroma (4:4:4) when
/// `full_chroma` is non-zero, else 4:2:0. `extras` (may be NULL) adds density and segments (jpeg_write_marker).
superres_status superres_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int32_t channels,
                                     int32_t quality, int32_t full_chroma, const superres_jpeg_extras *extras,
                                     superres_buffer *output, const superres_cancel *cancel, char *message,
                                     size_t message_size);

/// A JPEG written to a file as its rows come, with superres_jpeg_encode's settings (the same bytes).
typedef struct superres_jpeg_stream superres_jpeg_stream;

/// Starts a JPEG of 8-bit grey (1 channel) or RGB (3) on the open file `fd`; NULL (and `message`) on bad
/// parameters, no memory or a failed write.
superres_jpeg_stream *superres_jpeg_stream_create(int fd, uint32_t width, uint32_t height, int32_t channels,
                                                  int32_t quality, int32_t full_chroma,
                                                  const superres_jpeg_extras *extras, char *message,
                                                  size_t message_size);

/// Compresses the next `rows` rows (width × channels bytes each) and writes what is ready.
superres_status superres_jpeg_stream_write(superres_jpeg_stream *stream, const uint8_t *pixels, uint32_t rows,
                                           char *message, size_t message_size);

/// Writes the rest of the JPEG; an error unless every row was written.
superres_status superres_jpeg_stream_finish(superres_jpeg_stream *stream, char *message, size_t message_size);

/// Frees the stream (the file stays open: it is the caller's).
void superres_jpeg_stream_destroy(superres_jpeg_stream *stream);

// MARK: WebP (libwebp)

/// Wraps WebPGetFeatures: size and layout (RGB, or RGBA when the image has alpha; always 8 bits).
superres_status superres_webp_read_header(const uint8_t *data, size_t size, superres_image_info *info,
                                          char *message, size_t message_size);

/// Decodes with libwebp's incremental decoder into caller memory, fed 256 KiB at a time so that `cancel` (may be NULL)
/// is checked between chunks: `channels` 3 (RGB) or 4 (RGBA); `pixels` holds width × height × channels.
superres_status superres_webp_decode(const uint8_t *data, size_t size, uint8_t *pixels, size_t pixels_size,
                                     int32_t channels, const superres_cancel *cancel, char *message,
                                     size_t message_size);

/// Wraps WebPEncode: 8-bit RGB (3 channels) or RGBA (4), lossy at `quality` 0-100 or lossless (exact: colours
/// under transparent pixels are kept; `quality` is then effort), with libwebp's `method` 0-6 (speed against size)
/// and its threading on, appended to `output`.
superres_status superres_webp_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int32_t channels,
                                     float quality, int32_t lossless, int32_t method, superres_buffer *output,
                                     const superres_cancel *cancel, char *message, size_t message_size);

// MARK: TIFF (libtiff)

/// A libtiff reader over a caller-owned byte range, which must stay valid until `superres_tiff_decoder_destroy`.
typedef struct superres_tiff_decoder superres_tiff_decoder;

/// A decoder reading from memory whose read_pixels refuses first pages of more than `max_pixels` pixels (the caller
/// checks the header's size first); NULL when out of memory.
superres_tiff_decoder *superres_tiff_decoder_create(const uint8_t *data, size_t size, uint64_t max_pixels);

/// A decoder as superres_tiff_decoder_create makes it, reading the open file `fd` (the caller's: it must stay open
/// until destroy, which does not close it). NULL when out of memory or the file cannot be examined.
superres_tiff_decoder *superres_tiff_decoder_create_fd(int fd, uint64_t max_pixels);

/// Wraps TIFFClientOpen and the first directory's tags: the size and the layout the pixels will have (grey, grey +
/// alpha, RGB, RGBA; 16 bits kept for 16-bit grey and RGB, everything else 8), and the number of pages. No pixel
/// is read. Call once.
superres_status superres_tiff_decoder_read_header(superres_tiff_decoder *decoder, superres_image_info *info,
                                                  uint32_t *pages);

/// Decodes the first page into `pixels` (exactly width × height × channels × bit_depth / 8 bytes): strips or tiles,
/// contiguous or separate planes, 1-16-bit grey, palette, RGB(A), associated alpha undone; other layouts (CMYK, Lab,
/// YCbCr without JPEG) through libtiff's RGBA reader. `cancel` (may be NULL) is checked between strips.
superres_status superres_tiff_decoder_read_pixels(superres_tiff_decoder *decoder, void *pixels, size_t pixels_size,
                                                  const superres_cancel *cancel);

/// Rows per strip or tile of the first page (the unit read_block_row reads), after read_header; 0 when the layout
/// is read through libtiff's RGBA reader, which reads only whole pictures.
uint32_t superres_tiff_decoder_block_height(superres_tiff_decoder *decoder);

/// Decodes the rows of strips or tiles starting at `first_row` (a multiple of block_height) into `pixels` (exactly
/// rows × width × channels × bit_depth / 8 bytes, rows the block height or what is left of the picture), as
/// read_pixels decodes them. Not mixed with read_pixels.
superres_status superres_tiff_decoder_read_block_row(superres_tiff_decoder *decoder, uint32_t first_row,
                                                     void *pixels, size_t pixels_size);

/// The message of the last failed call (empty if none).
const char *superres_tiff_decoder_message(const superres_tiff_decoder *decoder);

/// Wraps TIFFClose; frees everything the decoder holds.
void superres_tiff_decoder_destroy(superres_tiff_decoder *decoder);

/// The compression of a written TIFF.
typedef enum __attribute__((enum_extensibility(closed))) superres_tiff_compression {
    SUPERRES_TIFF_NONE SUPERRES_SWIFT_NAME(none) = 0,
    SUPERRES_TIFF_LZW SUPERRES_SWIFT_NAME(lzw) = 1,
    SUPERRES_TIFF_DEFLATE SUPERRES_SWIFT_NAME(deflate) = 2,
    SUPERRES_TIFF_JPEG SUPERRES_SWIFT_NAME(jpeg) = 3,
} superres_tiff_compression;

/// The tags a written TIFF carries besides its layout; pointers may be NULL with size 0.
typedef struct superres_tiff_tags {
    const uint8_t *icc;
    size_t icc_size;
    const uint8_t *xmp;
    size_t xmp_size;
    /// Dots per inch; 0 writes no resolution.
    float x_resolution;
    float y_resolution;
    /// ASCII tags of the first directory (Make, Model, Artist, ...): `text_count` tag numbers and their texts.
    const uint32_t *text_tags;
    const char *const *texts;
    size_t text_count;
    /// Non-zero: an ExifIFD / GPSIFD entry is written with offset 0, to be patched once the sub-IFD is appended.
    int32_t exif_ifd;
    int32_t gps_ifd;
} superres_tiff_tags;

/// A TIFF written a band of rows at a time, to the open file `fd` (read back too: open it read-write) or, when
/// `buffer` is not NULL, appended to `buffer`.
typedef struct superres_tiff_writer superres_tiff_writer;

/// Starts a one-page TIFF: `channels` 1-4 (grey, grey + alpha, RGB, RGBA), 8 or 16 bits, `compression` (LZW and
/// Deflate with the horizontal predictor; JPEG at `quality`, 8-bit grey or RGB only), in big-endian byte order when
/// `big_endian`, with `tags`. NULL (and `message`) on bad parameters or a libtiff failure.
superres_tiff_writer *superres_tiff_writer_create(int fd, superres_buffer *buffer, uint32_t width, uint32_t height,
                                                  int32_t channels, int32_t bit_depth,
                                                  superres_tiff_compression compression, int32_t quality,
                                                  int32_t big_endian, const superres_tiff_tags *tags, char *message,
                                                  size_t message_size);

/// Writes the next `rows` rows (interleaved, 16-bit samples in host byte order) with TIFFWriteScanline.
superres_status superres_tiff_writer_write(superres_tiff_writer *writer, const void *pixels, uint32_t rows,
                                           char *message, size_t message_size);

/// Writes the directory and closes libtiff's handle; `end` receives the file's length (where sub-IFDs may be
/// appended). An error unless every row was written.
superres_status superres_tiff_writer_finish(superres_tiff_writer *writer, uint64_t *end, char *message,
                                            size_t message_size);

/// Frees the writer (the file stays open: it is the caller's).
void superres_tiff_writer_destroy(superres_tiff_writer *writer);

// MARK: Colour (lcms2)

/// Interleaved pixel layouts a colour transform reads and writes (16-bit samples in host byte order; alpha copied).
typedef enum __attribute__((enum_extensibility(closed))) superres_pixel_format {
    SUPERRES_PIXELS_GREY8 SUPERRES_SWIFT_NAME(grey8) = 0,
    SUPERRES_PIXELS_GREY_ALPHA8 SUPERRES_SWIFT_NAME(greyAlpha8) = 1,
    SUPERRES_PIXELS_RGB8 SUPERRES_SWIFT_NAME(rgb8) = 2,
    SUPERRES_PIXELS_RGBA8 SUPERRES_SWIFT_NAME(rgba8) = 3,
    SUPERRES_PIXELS_GREY16 SUPERRES_SWIFT_NAME(grey16) = 4,
    SUPERRES_PIXELS_GREY_ALPHA16 SUPERRES_SWIFT_NAME(greyAlpha16) = 5,
    SUPERRES_PIXELS_RGB16 SUPERRES_SWIFT_NAME(rgb16) = 6,
    SUPERRES_PIXELS_RGBA16 SUPERRES_SWIFT_NAME(rgba16) = 7,
    /// Ink amounts, 0 = none.
    SUPERRES_PIXELS_CMYK8 SUPERRES_SWIFT_NAME(cmyk8) = 8,
    /// Adobe's inverted ink amounts, 0 = full.
    SUPERRES_PIXELS_CMYK8_INVERTED SUPERRES_SWIFT_NAME(cmyk8Inverted) = 9,
} superres_pixel_format;

/// Wraps cmsCreateTransform: from the ICC profile `profile` in `input` layout to sRGB in `output` layout (grey
/// output: a grey profile with sRGB's tone curve), perceptual intent. NULL (and `message`, lcms2's words) when lcms2
/// cannot read the profile or it does not fit the layout.
superres_colour_transform *superres_colour_transform_create(const uint8_t *profile, size_t profile_size,
                                                            superres_pixel_format input,
                                                            superres_pixel_format output, char *message,
                                                            size_t message_size);

/// Wraps cmsDoTransform over `pixel_count` pixels; `input` and `output` may be the same memory when the layouts
/// have the same size.
void superres_colour_transform_apply(const superres_colour_transform *transform, const void *input, void *output,
                                     size_t pixel_count);

/// Frees the transform.
void superres_colour_transform_destroy(superres_colour_transform *transform);

/// Appends lcms2's sRGB profile (or, for `grey` non-zero, a grey profile with sRGB's tone curve) to `output`.
superres_status superres_srgb_profile(int32_t grey, superres_buffer *output);

// MARK: Metadata helpers

/// zlib's CRC-32 of `data` continuing `crc` (0 to start), as PNG chunks carry it.
uint32_t superres_crc32(uint32_t crc, const uint8_t *data, size_t size);

/// Inflates one zlib stream (PNG's compressed iCCP and iTXt) onto `output`; `SUPERRES_TOO_LARGE` past `max_size`
/// bytes, `SUPERRES_TRUNCATED` or `SUPERRES_CORRUPT` for damaged data.
superres_status superres_zlib_inflate(const uint8_t *data, size_t size, size_t max_size, superres_buffer *output,
                                      char *message, size_t message_size);

/// Deflates `data` as one zlib stream at the best compression onto `output`.
superres_status superres_zlib_deflate(const uint8_t *data, size_t size, superres_buffer *output);

/// Wraps WebPDemuxGetChunk: appends the payload of the WebP container's first `fourcc` chunk ("ICCP", "EXIF",
/// "XMP ") to `output`; `SUPERRES_EMPTY` when there is none, `SUPERRES_CORRUPT` when the container is unreadable.
superres_status superres_webp_read_chunk(const uint8_t *data, size_t size, const char *fourcc,
                                         superres_buffer *output);

/// Wraps WebPMuxSetChunk/WebPMuxAssemble: the encoded WebP `webp` with the given ICCP, EXIF and XMP chunks (each
/// may be NULL) in an extended (VP8X) container, appended to `output`.
superres_status superres_webp_add_chunks(const uint8_t *webp, size_t webp_size, const uint8_t *icc, size_t icc_size,
                                         const uint8_t *exif, size_t exif_size, const uint8_t *xmp, size_t xmp_size,
                                         superres_buffer *output, char *message, size_t message_size);

#ifdef __cplusplus
}
#endif

#endif
