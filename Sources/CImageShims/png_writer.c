// The fast PNG writer: row filtering (callable on row bands from several threads) and the PNG container around one
// zlib stream compressed by libdeflate. libpng's writer stays the reference (superres_png_encode); it compresses
// through zlib, which is about twice as slow as libdeflate for the same size, and cannot take rows filtered in
// parallel. PNG's container is four fixed chunk kinds here, so it is written directly.
#include "shim_internal.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/// The PNG standard's limit on width and height.
#define PNG_MAX_SIDE 0x7fffffffu

/// IDAT chunks are cut at this size, as encoders usually do, so that no chunk is huge.
#define IDAT_CHUNK_BYTES ((size_t)1 << 20)

static int valid_layout(uint32_t width, uint32_t height, int32_t channels, int32_t bit_depth) {
    return channels >= 1 && channels <= 4 && (bit_depth == 8 || bit_depth == 16) && width > 0 && height > 0 &&
           width <= PNG_MAX_SIDE && height <= PNG_MAX_SIDE;
}

size_t superres_png_filtered_size(uint32_t width, uint32_t height, int32_t channels, int32_t bit_depth) {
    if (!valid_layout(width, height, channels, bit_depth)) return 0;
    size_t row_bytes = (size_t)width * (size_t)channels * (size_t)(bit_depth / 8);
    if (row_bytes + 1 > SIZE_MAX / height) return 0;
    return (row_bytes + 1) * (size_t)height;
}

/// The Paeth predictor, without branches so that the row loop vectorizes.
static inline uint8_t paeth(uint8_t a, uint8_t b, uint8_t c) {
    int16_t pa = (int16_t)((int16_t)b - (int16_t)c), pb = (int16_t)((int16_t)a - (int16_t)c);
    int16_t pc = (int16_t)(pa + pb);
    pa = pa < 0 ? (int16_t)-pa : pa;
    pb = pb < 0 ? (int16_t)-pb : pb;
    pc = pc < 0 ? (int16_t)-pc : pc;
    uint8_t b_or_c = pb <= pc ? b : c;
    return (pa <= pb && pa <= pc) ? a : b_or_c;
}

/// Filters one row of `n` bytes with filter `type` (1-4; `prev` NULL for the first row) into `out`.
static void filter_row(int type, const uint8_t *row, const uint8_t *prev, size_t n, size_t bpp, uint8_t *out) {
    size_t i;
    switch (type) {
    case SUPERRES_PNG_FILTER_SUB:
        for (i = 0; i < bpp && i < n; i++) out[i] = row[i];
        for (; i < n; i++) out[i] = (uint8_t)(row[i] - row[i - bpp]);
        break;
    case SUPERRES_PNG_FILTER_UP:
        if (prev == NULL) {
            memcpy(out, row, n);
        } else {
            for (i = 0; i < n; i++) out[i] = (uint8_t)(row[i] - prev[i]);
        }
        break;
    case SUPERRES_PNG_FILTER_AVERAGE:
        if (prev == NULL) {
            for (i = 0; i < bpp && i < n; i++) out[i] = row[i];
            for (; i < n; i++) out[i] = (uint8_t)(row[i] - (row[i - bpp] >> 1));
        } else {
            for (i = 0; i < bpp && i < n; i++) out[i] = (uint8_t)(row[i] - (prev[i] >> 1));
            for (; i < n; i++) out[i] = (uint8_t)(row[i] - (((unsigned)row[i - bpp] + prev[i]) >> 1));
        }
        break;
    case SUPERRES_PNG_FILTER_PAETH:
        if (prev == NULL) {  // Paeth with a zero row above is Sub
            filter_row(SUPERRES_PNG_FILTER_SUB, row, NULL, n, bpp, out);
        } else {
            for (i = 0; i < bpp && i < n; i++) out[i] = (uint8_t)(row[i] - prev[i]);
            for (; i < n; i++) out[i] = (uint8_t)(row[i] - paeth(row[i - bpp], prev[i], prev[i - bpp]));
        }
        break;
    default:
        memcpy(out, row, n);
        break;
    }
}

/// The sum of the filtered bytes taken as signed values: libpng's heuristic for the adaptive choice.
static size_t signed_sum(const uint8_t *bytes, size_t n) {
    size_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += bytes[i] < 128 ? bytes[i] : 256 - bytes[i];
    return sum;
}

/// Copies one row of 16-bit host-order samples as big-endian bytes.
static void big_endian_row(const uint8_t *row, size_t n, uint8_t *out) {
    const uint16_t *samples = (const uint16_t *)(const void *)row;
    for (size_t i = 0; i < n / 2; i++) {
        uint16_t v = samples[i];
        out[2 * i] = (uint8_t)(v >> 8);
        out[2 * i + 1] = (uint8_t)v;
    }
}

superres_status superres_png_filter_rows(const void *pixels, uint32_t width, uint32_t height, int32_t channels,
                                         int32_t bit_depth, uint32_t first_row, uint32_t end_row,
                                         superres_png_filter filter, uint8_t *filtered) {
    if (!valid_layout(width, height, channels, bit_depth) || first_row > end_row || end_row > height ||
        (int)filter < SUPERRES_PNG_FILTER_NONE || (int)filter > SUPERRES_PNG_FILTER_ADAPTIVE) {
        return SUPERRES_INVALID_ARGUMENT;
    }
    size_t bpp = (size_t)channels * (size_t)(bit_depth / 8);
    size_t n = (size_t)width * bpp;
    const uint8_t *base = pixels;
    int swap = bit_depth == 16 && SUPERRES_HOST_LITTLE_ENDIAN;
    int adaptive = filter == SUPERRES_PNG_FILTER_ADAPTIVE;
    // Scratch: big-endian copies of this row and the one above (16 bits), trial rows (adaptive).
    uint8_t *scratch = NULL;
    if (swap || adaptive) {
        size_t rows = (swap ? 2 : 0) + (adaptive ? 5 : 0);
        if (n > SIZE_MAX / rows) return SUPERRES_NO_MEMORY;
        scratch = malloc(rows * n);
        if (scratch == NULL) return SUPERRES_NO_MEMORY;
    }
    uint8_t *current_be = scratch, *previous_be = swap ? scratch + n : NULL;
    uint8_t *trials = scratch + (swap ? 2 * n : 0);
    if (swap && first_row > 0) big_endian_row(base + (size_t)(first_row - 1) * n, n, previous_be);

    for (uint32_t y = first_row; y < end_row; y++) {
        const uint8_t *row = base + (size_t)y * n;
        const uint8_t *prev = y > 0 ? row - n : NULL;
        if (swap) {
            big_endian_row(row, n, current_be);
            row = current_be;
            prev = y > 0 ? previous_be : NULL;
        }
        uint8_t *out = filtered + (size_t)y * (n + 1);
        if (!adaptive) {
            out[0] = (uint8_t)filter;
            filter_row((int)filter, row, prev, n, bpp, out + 1);
        } else {
            // libpng's choice: the filter whose output has the smallest sum of absolute signed values.
            int best = 0;
            size_t best_sum = SIZE_MAX;
            for (int type = 0; type < 5; type++) {
                filter_row(type, row, prev, n, bpp, trials + (size_t)type * n);
                size_t sum = signed_sum(trials + (size_t)type * n, n);
                if (sum < best_sum) {
                    best_sum = sum;
                    best = type;
                }
            }
            out[0] = (uint8_t)best;
            memcpy(out + 1, trials + (size_t)best * n, n);
        }
        if (swap) {  // this row is the next one's row above
            uint8_t *t = previous_be;
            previous_be = current_be;
            current_be = t;
        }
    }
    free(scratch);
    return SUPERRES_OK;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/// The 8 bytes every PNG starts with.
static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

/// Writes the 13 bytes of the IHDR chunk's data for a layout valid_layout accepts.
static void fill_header(uint8_t header[13], uint32_t width, uint32_t height, int32_t channels, int32_t bit_depth) {
    static const uint8_t colour_types[5] = {0, 0, 4, 2, 6};  // grey, grey+alpha, RGB, RGBA by channel count
    put32(header, width);
    put32(header + 4, height);
    header[8] = (uint8_t)bit_depth;
    header[9] = colour_types[channels];
    header[10] = 0;  // deflate
    header[11] = 0;  // adaptive filtering (per-row filter bytes)
    header[12] = 0;  // not interlaced
}

/// Appends one chunk: length, type, data, CRC-32 of type and data.
static int append_chunk(superres_buffer *output, const char type[4], const uint8_t *data, size_t length) {
    uint8_t head[8];
    put32(head, (uint32_t)length);
    memcpy(head + 4, type, 4);
    uint32_t crc = libdeflate_crc32(0, head + 4, 4);
    if (length > 0) crc = libdeflate_crc32(crc, data, length);
    uint8_t tail[4];
    put32(tail, crc);
    return superres_buffer_append(output, head, 8) && superres_buffer_append(output, data, length) &&
           superres_buffer_append(output, tail, 4);
}

superres_status superres_png_write(const uint8_t *filtered, size_t filtered_size, uint32_t width, uint32_t height,
                                   int32_t channels, int32_t bit_depth, int32_t level, const uint8_t *chunks,
                                   size_t chunks_size, superres_buffer *output, const superres_cancel *cancel,
                                   char *message, size_t message_size) {
    superres_set_message(message, message_size, "");
    // libdeflate compresses in one call: the last point where the encode can stop.
    if (superres_cancel_is_requested(cancel))
        return superres_fail(message, message_size, SUPERRES_CANCELLED, "cancelled");
    size_t expected = superres_png_filtered_size(width, height, channels, bit_depth);
    if (expected == 0 || filtered_size != expected || level < 0 || level > 12)
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "invalid image parameters for PNG");
    struct libdeflate_compressor *compressor = libdeflate_alloc_compressor(level);
    if (compressor == NULL)
        return superres_fail(message, message_size, SUPERRES_NO_MEMORY, "out of memory for the PNG compressor");
    size_t bound = libdeflate_zlib_compress_bound(compressor, filtered_size);
    uint8_t *compressed = malloc(bound);
    if (compressed == NULL) {
        libdeflate_free_compressor(compressor);
        return superres_fail(message, message_size, SUPERRES_NO_MEMORY, "out of memory for the compressed PNG data");
    }
    size_t compressed_size = libdeflate_zlib_compress(compressor, filtered, filtered_size, compressed, bound);
    libdeflate_free_compressor(compressor);
    if (compressed_size == 0) {
        free(compressed);
        return superres_fail(message, message_size, SUPERRES_ENCODE_FAILED,
                             "libdeflate could not compress the image data");
    }

    uint8_t header[13];
    fill_header(header, width, height, channels, bit_depth);
    int ok = superres_buffer_reserve(output, compressed_size + 64 + 12 * (compressed_size / IDAT_CHUNK_BYTES + 1)) &&
             superres_buffer_append(output, png_signature, sizeof png_signature) &&
             append_chunk(output, "IHDR", header, sizeof header) &&
             (chunks_size == 0 || superres_buffer_append(output, chunks, chunks_size));
    for (size_t offset = 0; ok && offset < compressed_size; offset += IDAT_CHUNK_BYTES) {
        size_t length = compressed_size - offset < IDAT_CHUNK_BYTES ? compressed_size - offset : IDAT_CHUNK_BYTES;
        ok = append_chunk(output, "IDAT", compressed + offset, length);
    }
    ok = ok && append_chunk(output, "IEND", NULL, 0);
    free(compressed);
    if (!ok) return superres_fail(message, message_size, SUPERRES_NO_MEMORY, "out of memory for the encoded PNG");
    return SUPERRES_OK;
}

// MARK: Streaming


/// Compressed bytes gathered before an IDAT chunk is written.
#define STREAM_CHUNK_BYTES ((size_t)1 << 20)

struct superres_png_stream {
    int fd;
    z_stream zlib;
    int zlib_ready;
    size_t expected_bytes;  // filtered bytes of the whole image
    size_t received_bytes;
    uint8_t *chunk;         // 8 bytes of chunk head, then up to STREAM_CHUNK_BYTES of data
    int failed;
};

/// Writes one chunk whose data sits at `chunk + 8` (`length` bytes); the head and CRC are filled in here.
static int write_chunk(int fd, uint8_t *chunk, const char type[4], size_t length) {
    put32(chunk, (uint32_t)length);
    memcpy(chunk + 4, type, 4);
    uint32_t crc = (uint32_t)crc32(0L, chunk + 4, (uInt)(length + 4));
    uint8_t tail[4];
    put32(tail, crc);
    return superres_write_all(fd, chunk, length + 8) && superres_write_all(fd, tail, 4);
}

/// Frees a stream that could not be started (none yet for NULL) and returns NULL, leaving `text` in `message`.
static superres_png_stream *abandon_stream(superres_png_stream *stream, const char *text, char *message,
                                           size_t message_size) {
    superres_set_message(message, message_size, text);
    superres_png_stream_destroy(stream);
    return NULL;
}

superres_png_stream *superres_png_stream_create(int fd, uint32_t width, uint32_t height, int32_t channels,
                                                int32_t bit_depth, int32_t level, const uint8_t *chunks,
                                                size_t chunks_size, char *message, size_t message_size) {
    superres_set_message(message, message_size, "");
    size_t expected = superres_png_filtered_size(width, height, channels, bit_depth);
    if (expected == 0 || level < 0 || level > 9 || fd < 0)
        return abandon_stream(NULL, "invalid image parameters for PNG", message, message_size);
    superres_png_stream *stream = calloc(1, sizeof *stream);
    uint8_t *chunk = malloc(STREAM_CHUNK_BYTES + 8);
    if (stream == NULL || chunk == NULL) {
        free(chunk);
        return abandon_stream(stream, "out of memory for the PNG writer", message, message_size);
    }
    stream->fd = fd;
    stream->chunk = chunk;
    stream->expected_bytes = expected;
    if (deflateInit(&stream->zlib, level) != Z_OK)
        return abandon_stream(stream, "zlib could not start compressing", message, message_size);
    stream->zlib_ready = 1;

    fill_header(chunk + 8, width, height, channels, bit_depth);
    if (!superres_write_all(fd, png_signature, sizeof png_signature) || !write_chunk(fd, chunk, "IHDR", 13) ||
        (chunks_size > 0 && !superres_write_all(fd, chunks, chunks_size))) {
        return abandon_stream(stream, strerror(errno), message, message_size);
    }
    stream->zlib.next_out = chunk + 8;
    stream->zlib.avail_out = (uInt)STREAM_CHUNK_BYTES;
    return stream;
}

/// Runs deflate with `flush` until it needs more input (or, for Z_FINISH, ends), writing full IDAT chunks.
static superres_status stream_deflate(superres_png_stream *stream, int flush, char *message, size_t message_size) {
    for (;;) {
        int result = deflate(&stream->zlib, flush);
        if (result == Z_STREAM_ERROR)
            return superres_fail(message, message_size, SUPERRES_ENCODE_FAILED, "zlib failed while compressing");
        size_t filled = STREAM_CHUNK_BYTES - stream->zlib.avail_out;
        int full = stream->zlib.avail_out == 0;
        if (full || (result == Z_STREAM_END && filled > 0)) {
            if (!write_chunk(stream->fd, stream->chunk, "IDAT", filled))
                return superres_fail(message, message_size, SUPERRES_ENCODE_FAILED, strerror(errno));
            stream->zlib.next_out = stream->chunk + 8;
            stream->zlib.avail_out = (uInt)STREAM_CHUNK_BYTES;
        }
        if (result == Z_STREAM_END) return SUPERRES_OK;
        if (!full && stream->zlib.avail_in == 0 && flush != Z_FINISH) return SUPERRES_OK;
    }
}

superres_status superres_png_stream_write(superres_png_stream *stream, const uint8_t *filtered, size_t size,
                                          char *message, size_t message_size) {
    superres_set_message(message, message_size, "");
    if (stream == NULL || stream->failed || size > stream->expected_bytes - stream->received_bytes) {
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT,
                             "more image data than the PNG's size holds");
    }
    // zlib counts input in uInt: large bands go in pieces.
    while (size > 0) {
        size_t piece = size < ((size_t)1 << 30) ? size : ((size_t)1 << 30);
        stream->zlib.next_in = (Bytef *)(uintptr_t)filtered;
        stream->zlib.avail_in = (uInt)piece;
        superres_status status = stream_deflate(stream, Z_NO_FLUSH, message, message_size);
        if (status != SUPERRES_OK) {
            stream->failed = 1;
            return status;
        }
        filtered += piece;
        size -= piece;
        stream->received_bytes += piece;
    }
    return SUPERRES_OK;
}

superres_status superres_png_stream_finish(superres_png_stream *stream, char *message, size_t message_size) {
    superres_set_message(message, message_size, "");
    if (stream == NULL || stream->failed || stream->received_bytes != stream->expected_bytes)
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "the PNG's rows are not all there");
    stream->zlib.next_in = NULL;
    stream->zlib.avail_in = 0;
    superres_status status = stream_deflate(stream, Z_FINISH, message, message_size);
    if (status == SUPERRES_OK && !write_chunk(stream->fd, stream->chunk, "IEND", 0)) {
        superres_set_message(message, message_size, strerror(errno));
        status = SUPERRES_ENCODE_FAILED;
    }
    if (status != SUPERRES_OK) stream->failed = 1;
    return status;
}

void superres_png_stream_destroy(superres_png_stream *stream) {
    if (stream == NULL) return;
    if (stream->zlib_ready) deflateEnd(&stream->zlib);
    free(stream->chunk);
    free(stream);
}
