// libpng behind a status-returning API. libpng's error callback must not return, so it longjmps back to the
// setjmp in whichever entry point below is running; that jump never leaves this file.
#include "shim_internal.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

/// Largest ancillary chunk (iCCP, zTXt, ...) libpng may allocate; libpng's own default, stated here on purpose.
#define SUPERRES_PNG_CHUNK_MALLOC_MAX 8000000

/// Most ancillary chunks (sPLT, unknown ones) libpng keeps; its default is 1000.
#define SUPERRES_PNG_CHUNK_CACHE_MAX 128

struct superres_png_decoder {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t size;
    size_t offset;
    /// The file read instead of `data` (-1: memory); the caller's, never closed here.
    int fd;
    png_bytep *rows;
    int header_read;
    /// Rows handed out by superres_png_decoder_read_rows.
    png_uint_32 rows_read;
    /// Checked after every 16th row (may be NULL).
    const superres_cancel *cancel;
    /// Set by our callbacks before they raise an error, so the error handler keeps the more precise status.
    superres_status status;
    char message[SUPERRES_MESSAGE_SIZE];
};

static void decoder_error(png_structp png, png_const_charp text) {
    superres_png_decoder *decoder = png_get_error_ptr(png);
    if (decoder->status == SUPERRES_OK) decoder->status = SUPERRES_CORRUPT;
    superres_set_message(decoder->message, sizeof decoder->message, text);
    png_longjmp(png, 1);
}

/// Warnings ("known incorrect sRGB profile", benign CRC errors in ancillary chunks, ...) change nothing we decode;
/// libpng's default handler would print them to stderr.
static void ignore_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void read_from_memory(png_structp png, png_bytep out, size_t length) {
    superres_png_decoder *decoder = png_get_io_ptr(png);
    if (length > decoder->size - decoder->offset) {
        decoder->status = SUPERRES_TRUNCATED;
        png_error(png, "the data ends early");
    }
    memcpy(out, decoder->data + decoder->offset, length);
    decoder->offset += length;
}

/// libpng's row callback: stops the decode when the cancellation is requested.
static void row_done(png_structp png, png_uint_32 row, int pass) {
    (void)pass;
    superres_png_decoder *decoder = png_get_error_ptr(png);
    if ((row & 15) == 0 && superres_cancel_is_requested(decoder->cancel)) {
        decoder->status = SUPERRES_CANCELLED;
        png_error(png, "cancelled");
    }
}

/// Reads from the decoder's file descriptor (a file decoded a band of rows at a time).
static void read_from_file(png_structp png, png_bytep out, size_t length) {
    superres_png_decoder *decoder = png_get_io_ptr(png);
    size_t done = 0;
    while (done < length) {
        ssize_t got = read(decoder->fd, out + done, length - done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            decoder->status = got == 0 ? SUPERRES_TRUNCATED : SUPERRES_CORRUPT;
            png_error(png, got == 0 ? "the data ends early" : "the file could not be read");
        }
        done += (size_t)got;
    }
    decoder->offset += length;
}

/// A decoder reading through `read` (memory or a file descriptor).
static superres_png_decoder *create_decoder(png_rw_ptr read, const uint8_t *data, size_t size, int fd,
                                            uint32_t max_dimension) {
    superres_png_decoder *decoder = calloc(1, sizeof *decoder);
    if (decoder == NULL) return NULL;
    decoder->data = data;
    decoder->size = data == NULL ? 0 : size;
    decoder->fd = fd;
    // png_create_read_struct catches errors during creation itself and returns NULL.
    decoder->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, decoder, decoder_error, ignore_warning);
    if (decoder->png == NULL) {
        free(decoder);
        return NULL;
    }
    decoder->info = png_create_info_struct(decoder->png);
    if (decoder->info == NULL) {
        png_destroy_read_struct(&decoder->png, NULL, NULL);
        free(decoder);
        return NULL;
    }
    png_set_read_fn(decoder->png, decoder, read);
    if (max_dimension > PNG_UINT_31_MAX) max_dimension = PNG_UINT_31_MAX;
    png_set_user_limits(decoder->png, max_dimension, max_dimension);
    png_set_chunk_malloc_max(decoder->png, SUPERRES_PNG_CHUNK_MALLOC_MAX);
    // Text chunks are never used, and a compressed one can stand for 8 MB of inflating: a file of a thousand
    // 8 KB zTXt chunks cost 18 s of CPU. Skip them unread, and bound how many other ancillary chunks are kept.
    static const png_byte ignored_chunks[] = {'t', 'E', 'X', 't', '\0', 'z', 'T', 'X', 't', '\0',
                                              'i', 'T', 'X', 't', '\0'};
    png_set_keep_unknown_chunks(decoder->png, PNG_HANDLE_CHUNK_NEVER, ignored_chunks, 3);
    png_set_chunk_cache_max(decoder->png, SUPERRES_PNG_CHUNK_CACHE_MAX);
    // We ignore colour profiles anyway; skip libpng's check of them.
    png_set_option(decoder->png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
    return decoder;
}

superres_png_decoder *superres_png_decoder_create(const uint8_t *data, size_t size, uint32_t max_dimension) {
    return create_decoder(read_from_memory, data, size, -1, max_dimension);
}

superres_png_decoder *superres_png_decoder_create_fd(int fd, uint32_t max_dimension) {
    return create_decoder(read_from_file, NULL, 0, fd, max_dimension);
}

/// Clears the outcome of the previous call and sets the cancellation the row callback checks (may be NULL).
static void begin_call(superres_png_decoder *decoder, const superres_cancel *cancel) {
    decoder->status = SUPERRES_OK;
    decoder->cancel = cancel;
    decoder->message[0] = '\0';
}

/// Leaves `text` as the decoder's message and returns `status`.
static superres_status fail_with(superres_png_decoder *decoder, superres_status status, const char *text) {
    return superres_fail(decoder->message, sizeof decoder->message, status, text);
}

superres_status superres_png_decoder_read_header(superres_png_decoder *decoder, superres_image_info *info) {
    begin_call(decoder, NULL);
    if (decoder->header_read) return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "the header was already read");
    decoder->header_read = 1;
    if (setjmp(png_jmpbuf(decoder->png))) return decoder->status;

    png_structp png = decoder->png;
    png_infop png_info = decoder->info;
    png_read_info(png, png_info);
    int colour_type = png_get_color_type(png, png_info);
    int bit_depth = png_get_bit_depth(png, png_info);
    if (colour_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (colour_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, png_info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16 && SUPERRES_HOST_LITTLE_ENDIAN) png_set_swap(png);
    // Gamma (gAMA, cHRM, sRGB) and ICC profiles are not applied: samples come out as stored.
    png_set_interlace_handling(png);
    png_read_update_info(png, png_info);

    info->width = png_get_image_width(png, png_info);
    info->height = png_get_image_height(png, png_info);
    info->channels = png_get_channels(png, png_info);
    info->bit_depth = png_get_bit_depth(png, png_info);
    return SUPERRES_OK;
}

superres_status superres_png_decoder_read_pixels(superres_png_decoder *decoder, void *pixels, size_t pixels_size,
                                                 const superres_cancel *cancel) {
    begin_call(decoder, cancel);
    if (!decoder->header_read || decoder->rows != NULL || decoder->rows_read != 0)
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "read the header once, then the pixels once");
    if (setjmp(png_jmpbuf(decoder->png))) return decoder->status;

    png_structp png = decoder->png;
    png_uint_32 height = png_get_image_height(png, decoder->info);
    size_t row_bytes = png_get_rowbytes(png, decoder->info);
    if (height == 0 || row_bytes == 0 || pixels_size / height != row_bytes || pixels_size % height != 0)
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "the pixel buffer does not fit the image");
    // Kept in the decoder so that destroy frees it even when libpng jumps out of png_read_image.
    decoder->rows = malloc((size_t)height * sizeof(png_bytep));
    if (decoder->rows == NULL) return fail_with(decoder, SUPERRES_NO_MEMORY, "out of memory for row pointers");
    for (png_uint_32 y = 0; y < height; y++) decoder->rows[y] = (png_bytep)pixels + (size_t)y * row_bytes;
    if (superres_cancel_is_requested(cancel)) return fail_with(decoder, SUPERRES_CANCELLED, "cancelled");
    png_set_read_status_fn(png, row_done);
    png_read_image(png, decoder->rows);
    // Reads up to IEND, so a file cut after its image data still counts as truncated.
    png_read_end(png, NULL);
    return SUPERRES_OK;
}

superres_status superres_png_decoder_read_rows(superres_png_decoder *decoder, void *pixels, size_t pixels_size,
                                               uint32_t count, const superres_cancel *cancel) {
    begin_call(decoder, cancel);
    if (!decoder->header_read || decoder->rows != NULL)
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "read the header, then rows or pixels");
    if (setjmp(png_jmpbuf(decoder->png))) return decoder->status;

    png_structp png = decoder->png;
    png_uint_32 height = png_get_image_height(png, decoder->info);
    size_t row_bytes = png_get_rowbytes(png, decoder->info);
    if (png_get_interlace_type(png, decoder->info) != PNG_INTERLACE_NONE)
        return fail_with(decoder, SUPERRES_UNSUPPORTED, "an interlaced PNG is not read by rows");
    if (count == 0 || count > height - decoder->rows_read || row_bytes == 0 || pixels_size / count != row_bytes ||
        pixels_size % count != 0) {
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "the row buffer does not fit the rows left");
    }
    for (uint32_t r = 0; r < count; r++) {
        if ((r & 15) == 0 && superres_cancel_is_requested(cancel))
            return fail_with(decoder, SUPERRES_CANCELLED, "cancelled");
        png_read_row(png, (png_bytep)pixels + (size_t)r * row_bytes, NULL);
        decoder->rows_read++;
    }
    // After the last row, up to IEND, so a file cut after its image data still counts as truncated.
    if (decoder->rows_read == height) png_read_end(png, NULL);
    return SUPERRES_OK;
}

const char *superres_png_decoder_message(const superres_png_decoder *decoder) { return decoder->message; }

void superres_png_decoder_destroy(superres_png_decoder *decoder) {
    if (decoder == NULL) return;
    png_destroy_read_struct(&decoder->png, &decoder->info, NULL);
    free(decoder->rows);
    free(decoder);
}

// MARK: Encoding

/// Lives on the heap: it changes between setjmp and longjmp, which a non-volatile local may not.
typedef struct png_writer {
    superres_buffer *output;
    superres_status status;
    char *message;
    size_t message_size;
} png_writer;

static void writer_error(png_structp png, png_const_charp text) {
    png_writer *writer = png_get_error_ptr(png);
    if (writer->status == SUPERRES_OK) writer->status = SUPERRES_ENCODE_FAILED;
    superres_set_message(writer->message, writer->message_size, text);
    png_longjmp(png, 1);
}

static void write_to_buffer(png_structp png, png_bytep data, size_t length) {
    png_writer *writer = png_get_io_ptr(png);
    if (!superres_buffer_append(writer->output, data, length)) {
        writer->status = SUPERRES_NO_MEMORY;
        png_error(png, "out of memory for the encoded PNG");
    }
}

static void flush_nothing(png_structp png) { (void)png; }

superres_status superres_png_encode(const void *pixels, uint32_t width, uint32_t height, int32_t channels,
                                    int32_t bit_depth, int32_t compression_level, int32_t zlib_strategy,
                                    int32_t only_filter, superres_buffer *output, char *message,
                                    size_t message_size) {
    superres_set_message(message, message_size, "");
    static const int colour_types[5] = {
        0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16) || width == 0 || height == 0 ||
        width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX || compression_level < 0 || compression_level > 9 ||
        zlib_strategy < 0 || zlib_strategy > 4 || only_filter < -1 || only_filter > 4) {
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "invalid image parameters for PNG");
    }
    png_writer *writer = calloc(1, sizeof *writer);
    if (writer == NULL) return SUPERRES_NO_MEMORY;
    writer->output = output;
    writer->message = message;
    writer->message_size = message_size;

    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, writer, writer_error, ignore_warning);
    png_infop info = png == NULL ? NULL : png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        free(writer);
        return superres_fail(message, message_size, SUPERRES_NO_MEMORY, "out of memory for the PNG encoder");
    }
    if (setjmp(png_jmpbuf(png))) {
        superres_status status = writer->status;
        png_destroy_write_struct(&png, &info);
        free(writer);
        return status;
    }
    png_set_write_fn(png, writer, write_to_buffer, flush_nothing);
    png_set_compression_level(png, compression_level);
    png_set_compression_strategy(png, zlib_strategy);
    static const int filter_bits[5] = {PNG_FILTER_NONE, PNG_FILTER_SUB, PNG_FILTER_UP, PNG_FILTER_AVG,
                                       PNG_FILTER_PAETH};
    if (only_filter >= 0) png_set_filter(png, PNG_FILTER_TYPE_BASE, filter_bits[only_filter]);
    png_set_IHDR(png, info, width, height, bit_depth, colour_types[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16 && SUPERRES_HOST_LITTLE_ENDIAN) png_set_swap(png);
    size_t row_bytes = (size_t)width * (size_t)channels * (size_t)(bit_depth / 8);
    for (uint32_t y = 0; y < height; y++) png_write_row(png, (png_const_bytep)pixels + (size_t)y * row_bytes);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(writer);
    return SUPERRES_OK;
}
