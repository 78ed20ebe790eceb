// libjpeg-turbo behind a status-returning API. libjpeg's error_exit must not return, so ours longjmps back to the
// setjmp in whichever entry point below is running; that jump never leaves this file. Messages are never printed.
#include "shim_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <jpeglib.h>
#include <jerror.h>
#include <limits.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/// Progressive JPEGs may hold any number of scans, each one a full pass over the coefficients; real files have
/// about ten. libjpeg-turbo's own tools use a bound like this against decompression bombs.
#define SUPERRES_JPEG_MAX_SCANS 500

/// Working memory beyond whole-image coefficient buffers (tables, row buffers).
#define SUPERRES_JPEG_MEMORY_SLACK (64L * 1024 * 1024)

/// libjpeg's error manager plus our jump target and outcome. `manager` comes first so that `cinfo->err` converts
/// back to the whole struct.
typedef struct jpeg_failure {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    superres_status status;
    char message[JMSG_LENGTH_MAX];
} jpeg_failure;

static superres_status status_for_message_code(int code, int encoding) {
    switch (code) {
    case JERR_EMPTY_IMAGE: return SUPERRES_EMPTY;
    case JERR_INPUT_EMPTY:
    case JERR_INPUT_EOF: return SUPERRES_TRUNCATED;
    case JERR_OUT_OF_MEMORY: return SUPERRES_NO_MEMORY;
    case JERR_NO_BACKING_STORE:
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW: return SUPERRES_TOO_LARGE;
    case JERR_BAD_PRECISION:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOTIMPL:
    case JERR_NOT_COMPILED: return encoding ? SUPERRES_ENCODE_FAILED : SUPERRES_UNSUPPORTED;
    default: return encoding ? SUPERRES_ENCODE_FAILED : SUPERRES_CORRUPT;
    }
}

static void fail(j_common_ptr cinfo, superres_status status) {
    jpeg_failure *failure = (jpeg_failure *)cinfo->err;
    if (failure->status == SUPERRES_OK) failure->status = status;
    if (failure->message[0] == '\0') (*cinfo->err->format_message)(cinfo, failure->message);
    longjmp(failure->jump, 1);
}

static void exit_with_error(j_common_ptr cinfo) {
    fail(cinfo, status_for_message_code(cinfo->err->msg_code, !cinfo->is_decompressor));
}

/// libjpeg only warns about a premature end of data and then pads the image with grey; we report it as truncated.
/// Other warnings (extraneous bytes, a damaged segment libjpeg recovered from) are counted and otherwise ignored.
static void emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  // trace messages
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) fail(cinfo, SUPERRES_TRUNCATED);
    cinfo->err->num_warnings++;
}

static void output_nothing(j_common_ptr cinfo) { (void)cinfo; }

static void install_failure(jpeg_failure *failure) {
    jpeg_std_error(&failure->manager);
    failure->manager.error_exit = exit_with_error;
    failure->manager.emit_message = emit_message;
    failure->manager.output_message = output_nothing;
    failure->status = SUPERRES_OK;
    failure->message[0] = '\0';
}

static void reset_failure(jpeg_failure *failure) {
    failure->status = SUPERRES_OK;
    failure->message[0] = '\0';
}

// MARK: Decoding

struct superres_jpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    jpeg_failure failure;
    struct jpeg_progress_mgr progress;
    const uint8_t *data;
    size_t size;
    /// Read instead of `data` when not NULL (a dup of the caller's descriptor, closed by destroy).
    FILE *file;
    uint64_t max_pixels;
    int header_read;
    /// jpeg_start_decompress was called (by read_pixels or the first read_rows).
    int started;
    int convert_cmyk;
    int32_t channels;
    /// One CMYK row, kept here so that destroy frees it even after a jump.
    JSAMPLE *cmyk_row;
    /// Converts CMYK rows through a profile when set (borrowed).
    const superres_colour_transform *cmyk_transform;
};

/// Leaves `text` as the decoder's message and returns `status`.
static superres_status fail_with(superres_jpeg_decoder *decoder, superres_status status, const char *text) {
    return superres_fail(decoder->failure.message, sizeof decoder->failure.message, status, text);
}

void superres_jpeg_decoder_set_cmyk_transform(superres_jpeg_decoder *decoder,
                                              const superres_colour_transform *transform) {
    decoder->cmyk_transform = transform;
}

static void check_scan_count(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr decompress = (j_decompress_ptr)cinfo;
    if (decompress->input_scan_number > SUPERRES_JPEG_MAX_SCANS) {
        jpeg_failure *failure = (jpeg_failure *)cinfo->err;
        snprintf(failure->message, sizeof failure->message, "more than %d progressive scans",
                 SUPERRES_JPEG_MAX_SCANS);
        fail(cinfo, SUPERRES_CORRUPT);
    }
}

/// A decompressor reading `data` or, when `file` is not NULL, the file (which it then owns).
static superres_jpeg_decoder *create_decoder(const uint8_t *data, size_t size, FILE *file, uint64_t max_pixels) {
    superres_jpeg_decoder *decoder = calloc(1, sizeof *decoder);
    if (decoder == NULL) return NULL;
    decoder->data = data;
    decoder->size = data == NULL ? 0 : size;
    decoder->file = file;
    decoder->max_pixels = max_pixels;
    install_failure(&decoder->failure);
    decoder->cinfo.err = &decoder->failure.manager;
    if (setjmp(decoder->failure.jump)) {
        jpeg_destroy_decompress(&decoder->cinfo);
        free(decoder);
        return NULL;
    }
    jpeg_create_decompress(&decoder->cinfo);
    decoder->progress.progress_monitor = check_scan_count;
    decoder->cinfo.progress = &decoder->progress;
    return decoder;
}

superres_jpeg_decoder *superres_jpeg_decoder_create(const uint8_t *data, size_t size, uint64_t max_pixels) {
    return create_decoder(data, size, NULL, max_pixels);
}

superres_jpeg_decoder *superres_jpeg_decoder_create_fd(int fd, uint64_t max_pixels) {
    int own = dup(fd);
    if (own < 0) return NULL;
    FILE *file = fdopen(own, "rb");
    if (file == NULL) {
        close(own);
        return NULL;
    }
    superres_jpeg_decoder *decoder = create_decoder(NULL, 0, file, max_pixels);
    if (decoder == NULL) fclose(file);
    return decoder;
}

superres_status superres_jpeg_decoder_read_header(superres_jpeg_decoder *decoder, superres_image_info *info) {
    reset_failure(&decoder->failure);
    if (decoder->header_read) return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "header already read");
    decoder->header_read = 1;
    if (setjmp(decoder->failure.jump)) return decoder->failure.status;

    j_decompress_ptr cinfo = &decoder->cinfo;
    if (decoder->file != NULL)
        jpeg_stdio_src(cinfo, decoder->file);
    else
        jpeg_mem_src(cinfo, decoder->data, (unsigned long)decoder->size);
    jpeg_read_header(cinfo, TRUE);
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo->out_color_space = JCS_GRAYSCALE;
        decoder->channels = 1;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo->out_color_space = JCS_RGB;
        decoder->channels = 3;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        // libjpeg turns YCCK into CMYK; we turn CMYK into RGB.
        cinfo->out_color_space = JCS_CMYK;
        decoder->convert_cmyk = 1;
        decoder->channels = 3;
        break;
    default:
        snprintf(decoder->failure.message, sizeof decoder->failure.message,
                 "unknown JPEG colour space with %d components", cinfo->num_components);
        return SUPERRES_UNSUPPORTED;
    }
    cinfo->dct_method = JDCT_ISLOW;
    // Bounds the whole-image coefficient buffers of progressive and multi-scan files (2 bytes per coefficient per
    // component); libjpeg-turbo fails with "backing store not supported" beyond it.
    uint64_t bound = decoder->max_pixels > (uint64_t)(LONG_MAX - SUPERRES_JPEG_MEMORY_SLACK) / 8
                         ? (uint64_t)LONG_MAX
                         : decoder->max_pixels * 8 + SUPERRES_JPEG_MEMORY_SLACK;
    cinfo->mem->max_memory_to_use = (long)bound;

    info->width = cinfo->image_width;
    info->height = cinfo->image_height;
    info->channels = decoder->channels;
    info->bit_depth = 8;
    info->cmyk = decoder->convert_cmyk ? (cinfo->saw_Adobe_marker ? 2 : 1) : 0;
    return SUPERRES_OK;
}

/// Adobe applications store CMYK inverted (0 = full ink) and mark the file with an Adobe APP14 segment; without the
/// marker the values are taken as plain ink amounts.
static void cmyk_to_rgb(const JSAMPLE *cmyk, uint8_t *rgb, JDIMENSION width, int inverted) {
    for (JDIMENSION x = 0; x < width; x++) {
        unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
        if (!inverted) {
            c = 255 - c;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
        }
        rgb[3 * x] = (uint8_t)((c * k + 127) / 255);
        rgb[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
        rgb[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
    }
}

/// Starts decompression and checks libjpeg's output against the header (once, before the first row).
static superres_status start_rows(superres_jpeg_decoder *decoder) {
    j_decompress_ptr cinfo = &decoder->cinfo;
    decoder->started = 1;
    jpeg_start_decompress(cinfo);
    int expected_components = decoder->convert_cmyk ? 4 : decoder->channels;
    if (cinfo->output_width != cinfo->image_width || cinfo->output_height != cinfo->image_height ||
        cinfo->output_components != expected_components) {
        return fail_with(decoder, SUPERRES_CORRUPT, "libjpeg's output does not match the header");
    }
    if (decoder->convert_cmyk) {
        decoder->cmyk_row = malloc((size_t)cinfo->output_width * 4);
        if (decoder->cmyk_row == NULL) return fail_with(decoder, SUPERRES_NO_MEMORY, "out of memory");
    }
    return SUPERRES_OK;
}

/// Decodes the next `count` rows into `pixels` (rows of width × channels bytes); jpeg_finish_decompress after the
/// last row of the picture. Called only between a setjmp and its return.
static superres_status read_scanlines(superres_jpeg_decoder *decoder, uint8_t *pixels, JDIMENSION count,
                                      const superres_cancel *cancel) {
    j_decompress_ptr cinfo = &decoder->cinfo;
    size_t row_bytes = (size_t)cinfo->image_width * (size_t)decoder->channels;
    for (JDIMENSION r = 0; r < count; r++) {
        if ((cinfo->output_scanline & 15) == 0 && superres_cancel_is_requested(cancel))
            return fail_with(decoder, SUPERRES_CANCELLED, "cancelled");
        uint8_t *out = pixels + (size_t)r * row_bytes;
        JSAMPROW row = decoder->convert_cmyk ? decoder->cmyk_row : out;
        if (jpeg_read_scanlines(cinfo, &row, 1) != 1)
            return fail_with(decoder, SUPERRES_CORRUPT, "libjpeg returned no scanline");
        if (decoder->convert_cmyk && decoder->cmyk_transform != NULL)
            superres_colour_transform_apply(decoder->cmyk_transform, decoder->cmyk_row, out, cinfo->output_width);
        else if (decoder->convert_cmyk)
            cmyk_to_rgb(decoder->cmyk_row, out, cinfo->output_width, cinfo->saw_Adobe_marker);
    }
    // Reads up to EOI, so a file cut after its last scan still counts as truncated.
    if (cinfo->output_scanline == cinfo->output_height) jpeg_finish_decompress(cinfo);
    return SUPERRES_OK;
}

superres_status superres_jpeg_decoder_read_pixels(superres_jpeg_decoder *decoder, uint8_t *pixels,
                                                  size_t pixels_size, const superres_cancel *cancel) {
    reset_failure(&decoder->failure);
    if (!decoder->header_read || decoder->started || decoder->channels == 0)
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "read the header once, then the pixels once");
    if (setjmp(decoder->failure.jump)) return decoder->failure.status;

    j_decompress_ptr cinfo = &decoder->cinfo;
    size_t row_bytes = (size_t)cinfo->image_width * (size_t)decoder->channels;
    if (cinfo->image_height == 0 || pixels_size != row_bytes * cinfo->image_height)
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "the pixel buffer does not fit the image");
    superres_status status = start_rows(decoder);
    if (status != SUPERRES_OK) return status;
    return read_scanlines(decoder, pixels, cinfo->output_height, cancel);
}

superres_status superres_jpeg_decoder_read_rows(superres_jpeg_decoder *decoder, uint8_t *pixels, size_t pixels_size,
                                                uint32_t count, const superres_cancel *cancel) {
    reset_failure(&decoder->failure);
    if (!decoder->header_read || decoder->channels == 0)
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "read the header first");
    if (setjmp(decoder->failure.jump)) return decoder->failure.status;

    j_decompress_ptr cinfo = &decoder->cinfo;
    if (!decoder->started) {
        superres_status status = start_rows(decoder);
        if (status != SUPERRES_OK) return status;
    }
    size_t row_bytes = (size_t)cinfo->image_width * (size_t)decoder->channels;
    if (count == 0 || count > cinfo->output_height - cinfo->output_scanline || pixels_size != row_bytes * count)
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "the row buffer does not fit the rows left");
    return read_scanlines(decoder, pixels, count, cancel);
}

const char *superres_jpeg_decoder_message(const superres_jpeg_decoder *decoder) { return decoder->failure.message; }

void superres_jpeg_decoder_destroy(superres_jpeg_decoder *decoder) {
    if (decoder == NULL) return;
    jpeg_destroy_decompress(&decoder->cinfo);
    if (decoder->file != NULL) fclose(decoder->file);
    free(decoder->cmyk_row);
    free(decoder);
}

// MARK: Encoding

/// Lives on the heap: parts of it change between setjmp and longjmp, which non-volatile locals may not.
typedef struct jpeg_encoder {
    struct jpeg_compress_struct cinfo;
    jpeg_failure failure;
    struct jpeg_destination_mgr destination;
    superres_buffer *output;
} jpeg_encoder;

/// A destination manager writing straight into the growable output buffer (libjpeg-turbo's jpeg_mem_dest would
/// leak its buffer when compression fails after it grew).
static void point_at_free_space(jpeg_encoder *encoder) {
    encoder->destination.next_output_byte = encoder->output->data + encoder->output->size;
    encoder->destination.free_in_buffer = encoder->output->capacity - encoder->output->size;
}

static void init_destination(j_compress_ptr cinfo) {
    jpeg_encoder *encoder = cinfo->client_data;
    if (!superres_buffer_reserve(encoder->output, 64 * 1024)) fail((j_common_ptr)cinfo, SUPERRES_NO_MEMORY);
    point_at_free_space(encoder);
}

static boolean empty_output_buffer(j_compress_ptr cinfo) {
    jpeg_encoder *encoder = cinfo->client_data;
    encoder->output->size = encoder->output->capacity;  // libjpeg filled all the free space
    if (!superres_buffer_reserve(encoder->output, encoder->output->capacity)) {
        fail((j_common_ptr)cinfo, SUPERRES_NO_MEMORY);
    }
    point_at_free_space(encoder);
    return TRUE;
}

static void term_destination(j_compress_ptr cinfo) {
    jpeg_encoder *encoder = cinfo->client_data;
    encoder->output->size = encoder->output->capacity - encoder->destination.free_in_buffer;
}

/// Creates `encoder`'s compressor writing into its output buffer with superres's settings and starts it; libjpeg
/// errors jump to the caller's setjmp.
static void start_compressor(jpeg_encoder *encoder, uint32_t width, uint32_t height, int32_t channels,
                             int32_t quality, int32_t full_chroma, const superres_jpeg_extras *extras) {
    j_compress_ptr cinfo = &encoder->cinfo;
    jpeg_create_compress(cinfo);
    cinfo->client_data = encoder;
    encoder->destination.init_destination = init_destination;
    encoder->destination.empty_output_buffer = empty_output_buffer;
    encoder->destination.term_destination = term_destination;
    cinfo->dest = &encoder->destination;

    cinfo->image_width = width;
    cinfo->image_height = height;
    cinfo->input_components = channels;
    cinfo->in_color_space = channels == 1 ? JCS_GRAYSCALE : channels == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, quality, TRUE);
    // libjpeg-turbo's fast path, as OpenCV's imwrite: standard Huffman tables (no second, optimizing pass), the
    // accurate integer DCT (its SIMD version is as fast as the "fast" one here), 4:2:0 unless full chroma is asked.
    cinfo->optimize_coding = FALSE;
    cinfo->dct_method = JDCT_ISLOW;
    if (channels == 3 && full_chroma) {
        cinfo->comp_info[0].h_samp_factor = 1;
        cinfo->comp_info[0].v_samp_factor = 1;
    }
    if (extras != NULL && extras->x_dpi > 0 && extras->y_dpi > 0) {
        cinfo->density_unit = 1;  // dots per inch
        cinfo->X_density = extras->x_dpi;
        cinfo->Y_density = extras->y_dpi;
    }
    jpeg_start_compress(cinfo, TRUE);
    if (extras == NULL || extras->segments == NULL) return;
    // The segments were checked by check_segments; each goes out as one marker.
    const uint8_t *bytes = extras->segments;
    size_t offset = 0;
    while (offset + 4 <= extras->segments_size) {
        unsigned length = (unsigned)bytes[offset + 2] << 8 | bytes[offset + 3];
        jpeg_write_marker(cinfo, bytes[offset + 1], bytes + offset + 4, length - 2);
        offset += 2 + (size_t)length;
    }
}

/// Whether `extras` holds only whole, well-formed APPn or COM segments.
static int check_segments(const superres_jpeg_extras *extras) {
    if (extras == NULL || extras->segments == NULL) return 1;
    const uint8_t *bytes = extras->segments;
    size_t offset = 0;
    while (offset < extras->segments_size) {
        if (extras->segments_size - offset < 4 || bytes[offset] != 0xFF) return 0;
        uint8_t marker = bytes[offset + 1];
        if (!((marker >= 0xE0 && marker <= 0xEF) || marker == 0xFE)) return 0;
        unsigned length = (unsigned)bytes[offset + 2] << 8 | bytes[offset + 3];
        if (length < 2 || extras->segments_size - offset - 2 < length) return 0;
        offset += 2 + (size_t)length;
    }
    return 1;
}

/// The parameter checks of both encoders; SUPERRES_OK or the status to return (with `message`).
static superres_status check_encode_parameters(uint32_t width, uint32_t height, int32_t channels, int32_t quality,
                                               const superres_jpeg_extras *extras, char *message,
                                               size_t message_size) {
    if ((channels != 1 && channels != 3 && channels != 4) || width == 0 || height == 0 || quality < 1 || quality > 100 ||
        !check_segments(extras)) {
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "invalid image parameters for JPEG");
    }
    if (width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION)
        return superres_fail(message, message_size, SUPERRES_TOO_LARGE, "JPEG is limited to 65500 pixels per side");
    return SUPERRES_OK;
}

/// Frees `encoder` (its compressor too) and returns `status`, leaving `text` in `message`: how an encode ends.
static superres_status end_encode(jpeg_encoder *encoder, superres_status status, const char *text, char *message,
                                  size_t message_size) {
    superres_set_message(message, message_size, text);
    jpeg_destroy_compress(&encoder->cinfo);
    free(encoder);
    return status;
}

superres_status superres_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int32_t channels,
                                     int32_t quality, int32_t full_chroma, const superres_jpeg_extras *extras,
                                     superres_buffer *output, const superres_cancel *cancel, char *message,
                                     size_t message_size) {
    superres_set_message(message, message_size, "");
    superres_status checked =
        check_encode_parameters(width, height, channels, quality, extras, message, message_size);
    if (checked != SUPERRES_OK) return checked;
    jpeg_encoder *encoder = calloc(1, sizeof *encoder);
    if (encoder == NULL) return SUPERRES_NO_MEMORY;
    encoder->output = output;
    install_failure(&encoder->failure);
    encoder->cinfo.err = &encoder->failure.manager;
    if (setjmp(encoder->failure.jump))
        return end_encode(encoder, encoder->failure.status, encoder->failure.message, message, message_size);
    start_compressor(encoder, width, height, channels, quality, full_chroma, extras);
    j_compress_ptr cinfo = &encoder->cinfo;
    size_t row_bytes = (size_t)width * (size_t)channels;
    while (cinfo->next_scanline < cinfo->image_height) {
        if ((cinfo->next_scanline & 15) == 0 && superres_cancel_is_requested(cancel))
            return end_encode(encoder, SUPERRES_CANCELLED, "cancelled", message, message_size);
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo->next_scanline * row_bytes);
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    return end_encode(encoder, SUPERRES_OK, "", message, message_size);
}

// MARK: Streaming encoding

struct superres_jpeg_stream {
    jpeg_encoder encoder;  // its output is `buffer`, drained to `fd` after each call
    superres_buffer buffer;
    int fd;
    int failed;
};

/// Writes what libjpeg has put in the buffer so far to the file and hands libjpeg the whole buffer again.
static int drain(superres_jpeg_stream *stream) {
    superres_buffer *buffer = &stream->buffer;
    size_t filled = buffer->capacity - stream->encoder.destination.free_in_buffer;
    if (!superres_write_all(stream->fd, buffer->data, filled)) return 0;
    buffer->size = 0;
    stream->encoder.destination.next_output_byte = buffer->data;
    stream->encoder.destination.free_in_buffer = buffer->capacity;
    return 1;
}

/// Frees a stream that could not be started and returns NULL, leaving `text` in `message`.
static superres_jpeg_stream *abandon_stream(superres_jpeg_stream *stream, const char *text, char *message,
                                            size_t message_size) {
    superres_set_message(message, message_size, text);
    superres_jpeg_stream_destroy(stream);
    return NULL;
}

/// Marks the stream failed (no more rows are taken) and returns `status`, leaving `text` in `message`.
static superres_status stream_failed(superres_jpeg_stream *stream, superres_status status, const char *text,
                                     char *message, size_t message_size) {
    stream->failed = 1;
    return superres_fail(message, message_size, status, text);
}

/// Writes what libjpeg has made to the file: SUPERRES_OK, or the failure of the write (the stream is then failed).
static superres_status drain_or_fail(superres_jpeg_stream *stream, char *message, size_t message_size) {
    if (drain(stream)) return SUPERRES_OK;
    return stream_failed(stream, SUPERRES_ENCODE_FAILED, strerror(errno), message, message_size);
}

superres_jpeg_stream *superres_jpeg_stream_create(int fd, uint32_t width, uint32_t height, int32_t channels,
                                                  int32_t quality, int32_t full_chroma,
                                                  const superres_jpeg_extras *extras, char *message,
                                                  size_t message_size) {
    superres_set_message(message, message_size, "");
    if (fd < 0 ||
        check_encode_parameters(width, height, channels, quality, extras, message, message_size) != SUPERRES_OK) {
        if (fd < 0) superres_set_message(message, message_size, "invalid file for JPEG");
        return NULL;
    }
    superres_jpeg_stream *stream = calloc(1, sizeof *stream);
    if (stream == NULL) return abandon_stream(NULL, "out of memory for the JPEG writer", message, message_size);
    stream->fd = fd;
    jpeg_encoder *encoder = &stream->encoder;
    encoder->output = &stream->buffer;
    install_failure(&encoder->failure);
    encoder->cinfo.err = &encoder->failure.manager;
    if (setjmp(encoder->failure.jump)) return abandon_stream(stream, encoder->failure.message, message, message_size);
    // The same compressor as superres_jpeg_encode's, so a streamed JPEG has the same bytes as a whole one.
    start_compressor(encoder, width, height, channels, quality, full_chroma, extras);
    if (!drain(stream)) return abandon_stream(stream, strerror(errno), message, message_size);
    return stream;
}

superres_status superres_jpeg_stream_write(superres_jpeg_stream *stream, const uint8_t *pixels, uint32_t rows,
                                           char *message, size_t message_size) {
    superres_set_message(message, message_size, "");
    j_compress_ptr cinfo = &stream->encoder.cinfo;
    if (stream->failed || rows > cinfo->image_height - cinfo->next_scanline)
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "more rows than the JPEG's height");
    jpeg_failure *failure = &stream->encoder.failure;
    if (setjmp(failure->jump)) return stream_failed(stream, failure->status, failure->message, message, message_size);
    size_t row_bytes = (size_t)cinfo->image_width * (size_t)cinfo->input_components;
    for (uint32_t y = 0; y < rows; y++) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)y * row_bytes);
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    return drain_or_fail(stream, message, message_size);
}

superres_status superres_jpeg_stream_finish(superres_jpeg_stream *stream, char *message, size_t message_size) {
    superres_set_message(message, message_size, "");
    j_compress_ptr cinfo = &stream->encoder.cinfo;
    if (stream->failed || cinfo->next_scanline != cinfo->image_height)
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "the JPEG's rows are not all there");
    jpeg_failure *failure = &stream->encoder.failure;
    if (setjmp(failure->jump)) return stream_failed(stream, failure->status, failure->message, message, message_size);
    jpeg_finish_compress(cinfo);
    // term_destination set the buffer's size to what was written since the last drain.
    stream->encoder.destination.free_in_buffer = stream->buffer.capacity - stream->buffer.size;
    return drain_or_fail(stream, message, message_size);
}

void superres_jpeg_stream_destroy(superres_jpeg_stream *stream) {
    if (stream == NULL) return;
    jpeg_destroy_compress(&stream->encoder.cinfo);
    superres_buffer_free(&stream->buffer);
    free(stream);
}
