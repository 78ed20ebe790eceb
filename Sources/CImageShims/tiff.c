// libtiff behind the same status-and-message API as the other codecs. libtiff reports errors through handlers
// (never a jump); ours are set per handle through TIFFOpenOptions and keep the first message. Reading is from memory
// through client procedures; writing is to a file descriptor (the streaming writer) or a growable buffer.
#include "shim_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

/// libtiff's largest single allocation for one strip or tile (a defence against headers that declare huge ones).
#define SUPERRES_TIFF_MAX_ALLOCATION ((tmsize_t)256 * 1024 * 1024)

/// Where a handle's messages go.
typedef struct tiff_messages {
    char text[SUPERRES_MESSAGE_SIZE];
} tiff_messages;

static int keep_error(TIFF *tiff, void *user_data, const char *module, const char *format, va_list arguments) {
    (void)tiff;
    (void)module;
    tiff_messages *messages = user_data;
    if (messages != NULL && messages->text[0] == '\0') vsnprintf(messages->text, sizeof messages->text, format, arguments);
    return 1;
}

static int ignore_warning(TIFF *tiff, void *user_data, const char *module, const char *format, va_list arguments) {
    (void)tiff;
    (void)user_data;
    (void)module;
    (void)format;
    (void)arguments;
    return 1;
}

static TIFFOpenOptions *make_options(tiff_messages *messages) {
    // The process-wide handlers print to stderr; every handle here has its own, so the global ones are silenced.
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (options == NULL) return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(options, keep_error, messages);
    TIFFOpenOptionsSetWarningHandlerExtR(options, ignore_warning, NULL);
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, SUPERRES_TIFF_MAX_ALLOCATION);
    return options;
}

// MARK: Reading from memory

struct superres_tiff_decoder {
    const uint8_t *data;
    size_t size;
    /// The file read instead of `data` (-1: memory); the caller's, never closed here.
    int fd;
    uint64_t position;
    uint64_t max_pixels;
    TIFF *tiff;
    tiff_messages messages;
    int header_read;
    int pixels_read;
    // The layout found by read_header.
    uint32_t width, height;
    uint16_t bits, samples, photometric, planar, sample_format;
    int alpha;            // 0 none, 1 associated (premultiplied), 2 unassociated
    int use_rgba;         // 1: through TIFFReadRGBAImage (8-bit RGBA), for layouts not read natively
    int32_t out_channels; // 1-4
    int32_t out_depth;    // 8 or 16
    uint16_t *map_red, *map_green, *map_blue;
    /// The strip or tile buffer of read_block_row (freed by destroy).
    uint8_t *block;
    tmsize_t block_size;
};

/// Reads from `data` or, for a decoder over a file, from its descriptor at the same position.
static tmsize_t memory_read(thandle_t handle, void *buffer, tmsize_t size) {
    superres_tiff_decoder *decoder = handle;
    if (size <= 0 || decoder->position >= decoder->size) return 0;
    size_t available = decoder->size - (size_t)decoder->position;
    size_t count = (size_t)size < available ? (size_t)size : available;
    if (decoder->fd >= 0) {
        size_t done = 0;
        while (done < count) {
            ssize_t got = pread(decoder->fd, (uint8_t *)buffer + done, count - done, (off_t)(decoder->position + done));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;
            done += (size_t)got;
        }
        decoder->position += done;
        return (tmsize_t)done;
    }
    memcpy(buffer, decoder->data + decoder->position, count);
    decoder->position += count;
    return (tmsize_t)count;
}

static tmsize_t memory_write(thandle_t handle, void *buffer, tmsize_t size) {
    (void)handle;
    (void)buffer;
    (void)size;
    return -1;
}

static toff_t memory_seek(thandle_t handle, toff_t offset, int whence) {
    superres_tiff_decoder *decoder = handle;
    uint64_t base = whence == SEEK_CUR ? decoder->position : whence == SEEK_END ? decoder->size : 0;
    if (offset > UINT64_MAX - base) return (toff_t)-1;
    decoder->position = base + offset;
    return decoder->position;
}

static int memory_close(thandle_t handle) {
    (void)handle;
    return 0;
}

static toff_t memory_size(thandle_t handle) { return ((superres_tiff_decoder *)handle)->size; }

static int memory_map(thandle_t handle, void **base, toff_t *size) {
    superres_tiff_decoder *decoder = handle;
    if (decoder->fd >= 0) return 0;
    *base = (void *)decoder->data;
    *size = decoder->size;
    return 1;
}

static void memory_unmap(thandle_t handle, void *base, toff_t size) {
    (void)handle;
    (void)base;
    (void)size;
}

superres_tiff_decoder *superres_tiff_decoder_create(const uint8_t *data, size_t size, uint64_t max_pixels) {
    superres_tiff_decoder *decoder = calloc(1, sizeof *decoder);
    if (decoder == NULL) return NULL;
    decoder->data = data;
    decoder->size = data == NULL ? 0 : size;
    decoder->max_pixels = max_pixels;
    decoder->fd = -1;
    return decoder;
}

superres_tiff_decoder *superres_tiff_decoder_create_fd(int fd, uint64_t max_pixels) {
    struct stat status;
    if (fstat(fd, &status) != 0 || status.st_size < 0) return NULL;
    superres_tiff_decoder *decoder = superres_tiff_decoder_create(NULL, 0, max_pixels);
    if (decoder == NULL) return NULL;
    decoder->fd = fd;
    decoder->size = (size_t)status.st_size;
    return decoder;
}

const char *superres_tiff_decoder_message(const superres_tiff_decoder *decoder) { return decoder->messages.text; }

void superres_tiff_decoder_destroy(superres_tiff_decoder *decoder) {
    if (decoder == NULL) return;
    if (decoder->tiff != NULL) TIFFClose(decoder->tiff);
    free(decoder->block);
    free(decoder);
}

static superres_status fail_with(superres_tiff_decoder *decoder, superres_status status, const char *text) {
    if (decoder->messages.text[0] == '\0') superres_set_message(decoder->messages.text, sizeof decoder->messages.text, text);
    return status;
}

/// What a libtiff failure most likely was: data that ends early, or data that breaks the rules.
static superres_status read_failure(superres_tiff_decoder *decoder) {
    const char *text = decoder->messages.text;
    if (strstr(text, "end of file") || strstr(text, "Read error") || strstr(text, "short") ||
        strstr(text, "Cannot read") || strstr(text, "ended"))
        return SUPERRES_TRUNCATED;
    return SUPERRES_CORRUPT;
}

superres_status superres_tiff_decoder_read_header(superres_tiff_decoder *decoder, superres_image_info *info,
                                                  uint32_t *pages) {
    if (decoder->header_read) return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "header already read");
    decoder->header_read = 1;
    TIFFOpenOptions *options = make_options(&decoder->messages);
    if (options == NULL) return fail_with(decoder, SUPERRES_NO_MEMORY, "out of memory for libtiff");
    decoder->tiff = TIFFClientOpenExt("tiff", "rm", decoder, memory_read, memory_write, memory_seek, memory_close,
                                      memory_size, memory_map, memory_unmap, options);
    TIFFOpenOptionsFree(options);
    TIFF *tiff = decoder->tiff;
    if (tiff == NULL) {
        if (decoder->size < 8) return fail_with(decoder, SUPERRES_TRUNCATED, "the TIFF header is cut short");
        return fail_with(decoder, read_failure(decoder), "libtiff cannot read the first directory");
    }
    // Pages: counted by walking the directory chain (libtiff stops at loops), then back to the first.
    *pages = (uint32_t)TIFFNumberOfDirectories(tiff);
    if (*pages > 1 && !TIFFSetDirectory(tiff, 0))
        return fail_with(decoder, SUPERRES_CORRUPT, "cannot go back to the first page");
    decoder->messages.text[0] = '\0';

    uint16_t compression = COMPRESSION_NONE;
    TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &decoder->width);
    TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &decoder->height);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_BITSPERSAMPLE, &decoder->bits);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLESPERPIXEL, &decoder->samples);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_PLANARCONFIG, &decoder->planar);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLEFORMAT, &decoder->sample_format);
    TIFFGetFieldDefaulted(tiff, TIFFTAG_COMPRESSION, &compression);
    if (!TIFFGetField(tiff, TIFFTAG_PHOTOMETRIC, &decoder->photometric))
        decoder->photometric = decoder->samples >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    if (decoder->width == 0 || decoder->height == 0) return fail_with(decoder, SUPERRES_EMPTY, "zero width or height");
    if (TIFFIsTiled(tiff)) {
        uint32_t tile_width = 0, tile_height = 0;
        TIFFGetField(tiff, TIFFTAG_TILEWIDTH, &tile_width);
        TIFFGetField(tiff, TIFFTAG_TILELENGTH, &tile_height);
        if (tile_width == 0 || tile_height == 0) return fail_with(decoder, SUPERRES_CORRUPT, "a tile size of 0");
    }
    uint16_t extra_count = 0;
    uint16_t *extra = NULL;
    TIFFGetFieldDefaulted(tiff, TIFFTAG_EXTRASAMPLES, &extra_count, &extra);
    if (decoder->photometric == PHOTOMETRIC_YCBCR && compression == COMPRESSION_JPEG) {
        // libjpeg converts to RGB inside libtiff.
        TIFFSetField(tiff, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        decoder->photometric = PHOTOMETRIC_RGB;
    }
    int colours = decoder->photometric == PHOTOMETRIC_RGB ? 3 : 1;
    int has_extra = decoder->samples > colours && extra_count > 0;
    decoder->alpha = has_extra ? (extra[0] == EXTRASAMPLE_ASSOCALPHA ? 1 : 2) : 0;
    int native = decoder->sample_format == SAMPLEFORMAT_UINT && decoder->samples >= colours;
    switch (decoder->photometric) {
    case PHOTOMETRIC_MINISBLACK:
    case PHOTOMETRIC_MINISWHITE:
        native = native && (decoder->bits == 1 || decoder->bits == 2 || decoder->bits == 4 || decoder->bits == 8 ||
                            decoder->bits == 16);
        decoder->out_channels = decoder->alpha ? 2 : 1;
        decoder->out_depth = decoder->bits == 16 ? 16 : 8;
        break;
    case PHOTOMETRIC_RGB:
        native = native && (decoder->bits == 8 || decoder->bits == 16);
        decoder->out_channels = decoder->alpha ? 4 : 3;
        decoder->out_depth = decoder->bits;
        break;
    case PHOTOMETRIC_PALETTE:
        native = native && decoder->samples == 1 && decoder->bits <= 8 &&
                 TIFFGetField(tiff, TIFFTAG_COLORMAP, &decoder->map_red, &decoder->map_green, &decoder->map_blue);
        decoder->alpha = 0;
        decoder->out_channels = 3;
        decoder->out_depth = 8;
        break;
    default:
        native = 0;
        break;
    }
    if (!native) {
        // CMYK, CIE Lab, YCbCr without JPEG, odd bit depths: libtiff's RGBA reader, 8 bits.
        char reason[1024] = "";
        if (decoder->sample_format == SAMPLEFORMAT_IEEEFP || !TIFFRGBAImageOK(tiff, reason)) {
            if (reason[0]) superres_set_message(decoder->messages.text, sizeof decoder->messages.text, reason);
            return fail_with(decoder, SUPERRES_UNSUPPORTED, "a TIFF layout superres does not read");
        }
        decoder->use_rgba = 1;
        decoder->out_channels = has_extra ? 4 : 3;
        decoder->out_depth = 8;
    }
    info->width = decoder->width;
    info->height = decoder->height;
    info->channels = decoder->out_channels;
    info->bit_depth = decoder->out_depth;
    info->cmyk = 0;
    return SUPERRES_OK;
}

/// Sample `index` of `bits` bits from a packed row.
static inline uint32_t sample_at(const uint8_t *row, size_t index, uint16_t bits) {
    switch (bits) {
    case 8: return row[index];
    case 16: return ((const uint16_t *)row)[index];
    default: {
        size_t bit = index * bits;
        uint32_t byte = row[bit / 8];
        return (byte >> (8 - bits - bit % 8)) & ((1u << bits) - 1);
    }
    }
}

/// Stores the samples of `columns` pixels of one stored row (`first` the first column, `sample` the only sample
/// present for separate planes, or -1 for all samples of contiguous data) into output row `y`.
static void unpack_row(superres_tiff_decoder *decoder, const uint8_t *row, uint32_t first, uint32_t columns,
                       int sample, uint32_t y, void *pixels) {
    int channels = decoder->out_channels;
    int colours = decoder->photometric == PHOTOMETRIC_RGB ? 3 : 1;
    int stored = sample < 0 ? decoder->samples : 1;
    uint32_t max_in = decoder->bits >= 16 ? 65535 : (1u << decoder->bits) - 1;
    for (uint32_t x = 0; x < columns; x++) {
        size_t out = ((size_t)y * decoder->width + first + x) * (size_t)channels;
        for (int s = 0; s < stored; s++) {
            int index = sample < 0 ? s : sample;
            uint32_t value = sample_at(row, (size_t)x * (size_t)stored + (size_t)s, decoder->bits);
            int channel;
            if (index < colours) {
                channel = index;
            } else if (index == colours && decoder->alpha) {
                channel = channels - 1;
            } else {
                continue;
            }
            if (decoder->photometric == PHOTOMETRIC_PALETTE) {
                uint8_t *target = (uint8_t *)pixels + out;
                target[0] = (uint8_t)(decoder->map_red[value] >> 8);
                target[1] = (uint8_t)(decoder->map_green[value] >> 8);
                target[2] = (uint8_t)(decoder->map_blue[value] >> 8);
                continue;
            }
            if (decoder->photometric == PHOTOMETRIC_MINISWHITE && index == 0) value = max_in - value;
            if (decoder->out_depth == 16) {
                ((uint16_t *)pixels)[out + (size_t)channel] = (uint16_t)value;
            } else {
                // Grey under 8 bits is scaled to 8 (1 bit: 0 and 255).
                uint32_t scaled = decoder->bits < 8 ? (value * 255 + max_in / 2) / max_in : value;
                ((uint8_t *)pixels)[out + (size_t)channel] = (uint8_t)scaled;
            }
        }
    }
}

/// Undoes associated (premultiplied) alpha in `rows` decoded rows.
static void unpremultiply(superres_tiff_decoder *decoder, void *pixels, uint32_t rows) {
    int channels = decoder->out_channels;
    size_t count = (size_t)decoder->width * rows;
    uint32_t max = decoder->out_depth == 16 ? 65535 : 255;
    for (size_t i = 0; i < count; i++) {
        size_t base = i * (size_t)channels;
        uint32_t alpha = decoder->out_depth == 16 ? ((uint16_t *)pixels)[base + channels - 1]
                                                  : ((uint8_t *)pixels)[base + channels - 1];
        if (alpha == 0 || alpha == max) continue;
        for (int c = 0; c < channels - 1; c++) {
            if (decoder->out_depth == 16) {
                uint32_t v = ((uint16_t *)pixels)[base + c];
                uint32_t u = (v * max + alpha / 2) / alpha;
                ((uint16_t *)pixels)[base + c] = (uint16_t)(u > max ? max : u);
            } else {
                uint32_t v = ((uint8_t *)pixels)[base + c];
                uint32_t u = (v * max + alpha / 2) / alpha;
                ((uint8_t *)pixels)[base + c] = (uint8_t)(u > max ? max : u);
            }
        }
    }
}

static superres_status read_rgba(superres_tiff_decoder *decoder, uint8_t *pixels) {
    size_t count = (size_t)decoder->width * decoder->height;
    uint32_t *raster = malloc(count * sizeof *raster);
    if (raster == NULL) return fail_with(decoder, SUPERRES_NO_MEMORY, "out of memory");
    if (!TIFFReadRGBAImageOriented(decoder->tiff, decoder->width, decoder->height, raster, ORIENTATION_TOPLEFT, 0)) {
        free(raster);
        return fail_with(decoder, read_failure(decoder), "libtiff could not read the pixels");
    }
    int channels = decoder->out_channels;
    for (size_t i = 0; i < count; i++) {
        uint32_t p = raster[i];
        pixels[i * channels] = (uint8_t)TIFFGetR(p);
        pixels[i * channels + 1] = (uint8_t)TIFFGetG(p);
        pixels[i * channels + 2] = (uint8_t)TIFFGetB(p);
        if (channels == 4) pixels[i * channels + 3] = (uint8_t)TIFFGetA(p);
    }
    free(raster);
    return SUPERRES_OK;
}

/// Rows per strip (or the tile height) of the first page, at least 1 and at most its height.
static uint32_t block_height(superres_tiff_decoder *decoder) {
    uint32_t rows = decoder->height;
    if (TIFFIsTiled(decoder->tiff)) {
        TIFFGetField(decoder->tiff, TIFFTAG_TILELENGTH, &rows);
    } else {
        TIFFGetFieldDefaulted(decoder->tiff, TIFFTAG_ROWSPERSTRIP, &rows);
    }
    return rows == 0 || rows > decoder->height ? decoder->height : rows;
}

/// Decodes the row of strips or tiles starting at `first_row` (a multiple of block_height) into `pixels`, whose row
/// 0 is `first_row`, using `block` (of `block_size` bytes) for one strip or tile at a time.
static superres_status read_block_row(superres_tiff_decoder *decoder, uint32_t first_row, void *pixels,
                                      uint8_t *block, tmsize_t block_size) {
    TIFF *tiff = decoder->tiff;
    int separate = decoder->planar == PLANARCONFIG_SEPARATE && decoder->samples > 1;
    int planes = separate ? decoder->samples : 1;
    uint32_t height = block_height(decoder);
    uint32_t rows = decoder->height - first_row < height ? decoder->height - first_row : height;
    if (TIFFIsTiled(tiff)) {
        uint32_t tile_width = 0;
        TIFFGetField(tiff, TIFFTAG_TILEWIDTH, &tile_width);
        tmsize_t row_bytes = TIFFTileRowSize(tiff);
        if (tile_width == 0 || row_bytes <= 0 || row_bytes * (tmsize_t)height > block_size)
            return fail_with(decoder, SUPERRES_CORRUPT, "the tiles do not fit their declared size");
        for (int plane = 0; plane < planes; plane++) {
            for (uint32_t x = 0; x < decoder->width; x += tile_width) {
                if (TIFFReadTile(tiff, block, x, first_row, 0, (uint16_t)plane) < 0)
                    return fail_with(decoder, read_failure(decoder), "libtiff could not read a tile");
                uint32_t columns = decoder->width - x < tile_width ? decoder->width - x : tile_width;
                for (uint32_t r = 0; r < rows; r++)
                    unpack_row(decoder, block + (size_t)r * (size_t)row_bytes, x, columns, separate ? plane : -1, r,
                               pixels);
            }
        }
    } else {
        tmsize_t row_bytes = TIFFScanlineSize(tiff);
        uint32_t strips_per_plane = (decoder->height + height - 1) / height;
        uint32_t strip = first_row / height;
        // Never more than the buffer holds, whatever the tags say.
        if (row_bytes <= 0 || row_bytes * (tmsize_t)rows > block_size)
            return fail_with(decoder, SUPERRES_CORRUPT, "the strips do not fit their declared size");
        for (int plane = 0; plane < planes; plane++) {
            tmsize_t read = TIFFReadEncodedStrip(tiff, (uint32_t)plane * strips_per_plane + strip, block,
                                                 row_bytes * (tmsize_t)rows);
            if (read < row_bytes * (tmsize_t)rows)
                return fail_with(decoder, read < 0 ? read_failure(decoder) : SUPERRES_TRUNCATED,
                                 "libtiff could not read a strip");
            for (uint32_t r = 0; r < rows; r++)
                unpack_row(decoder, block + (size_t)r * (size_t)row_bytes, 0, decoder->width, separate ? plane : -1,
                           r, pixels);
        }
    }
    if (decoder->alpha == 1) unpremultiply(decoder, pixels, rows);
    return SUPERRES_OK;
}

/// Checks the state and size before pixels are read and allocates the strip or tile buffer (NULL on failure, with
/// the status in `status`).
static uint8_t *start_reading(superres_tiff_decoder *decoder, tmsize_t *block_size, superres_status *status) {
    if ((uint64_t)decoder->width * decoder->height > decoder->max_pixels) {
        *status = fail_with(decoder, SUPERRES_TOO_LARGE, "more pixels than the limit");
        return NULL;
    }
    TIFF *tiff = decoder->tiff;
    *block_size = TIFFIsTiled(tiff) ? TIFFTileSize(tiff) : TIFFStripSize(tiff);
    if (*block_size <= 0) {
        *status = fail_with(decoder, SUPERRES_CORRUPT, "the strip or tile size is invalid");
        return NULL;
    }
    // A tile or strip far larger than any real one (a header claiming 65535×65535 tiles) is refused, not allocated.
    if (*block_size > SUPERRES_TIFF_MAX_ALLOCATION) {
        *status = fail_with(decoder, SUPERRES_TOO_LARGE, "a strip or tile over 256 MB");
        return NULL;
    }
    uint8_t *block = malloc((size_t)*block_size);
    if (block == NULL) *status = fail_with(decoder, SUPERRES_NO_MEMORY, "out of memory for a strip");
    return block;
}

superres_status superres_tiff_decoder_read_pixels(superres_tiff_decoder *decoder, void *pixels, size_t pixels_size,
                                                  const superres_cancel *cancel) {
    decoder->messages.text[0] = '\0';
    if (!decoder->header_read || decoder->pixels_read || decoder->tiff == NULL || decoder->out_channels == 0)
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "read the header once, then the pixels once");
    decoder->pixels_read = 1;
    size_t row_size = (size_t)decoder->width * (size_t)decoder->out_channels * (size_t)(decoder->out_depth / 8);
    if (pixels_size != row_size * decoder->height)
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "the pixel buffer does not fit");
    if ((uint64_t)decoder->width * decoder->height > decoder->max_pixels)
        return fail_with(decoder, SUPERRES_TOO_LARGE, "more pixels than the limit");
    if (decoder->use_rgba) return read_rgba(decoder, pixels);
    // Pixels the file does not cover (missing strips are an error, but be safe) start as zero.
    memset(pixels, 0, pixels_size);
    tmsize_t block_size = 0;
    superres_status status = SUPERRES_OK;
    uint8_t *block = start_reading(decoder, &block_size, &status);
    if (block == NULL) return status;
    uint32_t height = block_height(decoder);
    for (uint32_t y = 0; y < decoder->height && status == SUPERRES_OK; y += height) {
        if (superres_cancel_is_requested(cancel)) {
            status = fail_with(decoder, SUPERRES_CANCELLED, "cancelled");
            break;
        }
        status = read_block_row(decoder, y, (uint8_t *)pixels + (size_t)y * row_size, block, block_size);
    }
    free(block);
    return status;
}

uint32_t superres_tiff_decoder_block_height(superres_tiff_decoder *decoder) {
    if (!decoder->header_read || decoder->tiff == NULL || decoder->out_channels == 0 || decoder->use_rgba) return 0;
    return block_height(decoder);
}

superres_status superres_tiff_decoder_read_block_row(superres_tiff_decoder *decoder, uint32_t first_row,
                                                     void *pixels, size_t pixels_size) {
    decoder->messages.text[0] = '\0';
    uint32_t height = superres_tiff_decoder_block_height(decoder);
    if (height == 0 || decoder->pixels_read || first_row >= decoder->height || first_row % height != 0)
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "read the header, then whole rows of strips or tiles");
    uint32_t rows = decoder->height - first_row < height ? decoder->height - first_row : height;
    size_t row_size = (size_t)decoder->width * (size_t)decoder->out_channels * (size_t)(decoder->out_depth / 8);
    if (pixels_size != row_size * rows)
        return fail_with(decoder, SUPERRES_INVALID_ARGUMENT, "the pixel buffer does not fit");
    if (decoder->block == NULL) {
        superres_status status = SUPERRES_OK;
        decoder->block = start_reading(decoder, &decoder->block_size, &status);
        if (decoder->block == NULL) return status;
    }
    memset(pixels, 0, pixels_size);
    return read_block_row(decoder, first_row, pixels, decoder->block, decoder->block_size);
}

// MARK: Writing

/// Where a writer's bytes go: a file descriptor (read back by libtiff when it rewrites a directory) or a buffer.
typedef struct tiff_sink {
    int fd;
    superres_buffer *buffer;
    uint64_t position;
} tiff_sink;

static tmsize_t sink_read(thandle_t handle, void *data, tmsize_t size) {
    tiff_sink *sink = handle;
    if (sink->buffer == NULL) {
        ssize_t count = pread(sink->fd, data, (size_t)size, (off_t)sink->position);
        if (count > 0) sink->position += (uint64_t)count;
        return count;
    }
    if (sink->position >= sink->buffer->size) return 0;
    size_t available = sink->buffer->size - (size_t)sink->position;
    size_t count = (size_t)size < available ? (size_t)size : available;
    memcpy(data, sink->buffer->data + sink->position, count);
    sink->position += count;
    return (tmsize_t)count;
}

static tmsize_t sink_write(thandle_t handle, void *data, tmsize_t size) {
    tiff_sink *sink = handle;
    if (size < 0) return -1;
    if (sink->buffer == NULL) {
        size_t done = 0;
        while (done < (size_t)size) {
            ssize_t count = pwrite(sink->fd, (const uint8_t *)data + done, (size_t)size - done,
                                   (off_t)(sink->position + done));
            if (count < 0 && errno == EINTR) continue;
            if (count <= 0) return -1;
            done += (size_t)count;
        }
        sink->position += done;
        return size;
    }
    superres_buffer *buffer = sink->buffer;
    uint64_t end = sink->position + (uint64_t)size;
    if (end > buffer->size) {
        if (!superres_buffer_reserve(buffer, (size_t)(end - buffer->size))) return -1;
        if (sink->position > buffer->size) memset(buffer->data + buffer->size, 0, (size_t)(sink->position - buffer->size));
        buffer->size = (size_t)end;
    }
    memcpy(buffer->data + sink->position, data, (size_t)size);
    sink->position = end;
    return size;
}

static uint64_t sink_length(tiff_sink *sink) {
    if (sink->buffer != NULL) return sink->buffer->size;
    off_t end = lseek(sink->fd, 0, SEEK_END);
    return end < 0 ? 0 : (uint64_t)end;
}

static toff_t sink_seek(thandle_t handle, toff_t offset, int whence) {
    tiff_sink *sink = handle;
    uint64_t base = whence == SEEK_CUR ? sink->position : whence == SEEK_END ? sink_length(sink) : 0;
    sink->position = base + offset;
    return sink->position;
}

static int sink_close(thandle_t handle) {
    (void)handle;
    return 0;
}

static toff_t sink_size(thandle_t handle) { return sink_length(handle); }

static int sink_map(thandle_t handle, void **base, toff_t *size) {
    (void)handle;
    (void)base;
    (void)size;
    return 0;
}

struct superres_tiff_writer {
    TIFF *tiff;
    tiff_sink sink;
    tiff_messages messages;
    uint32_t width, height, next_row;
    int32_t channels, bit_depth;
    int failed;
    /// One row: libtiff's predictor and encoders change the row they are given, and the caller's stays as it was.
    uint8_t *row;
};

/// libtiff's first error message for the writer, or `fallback` when it reported none.
static const char *writer_error(const superres_tiff_writer *writer, const char *fallback) {
    return writer->messages.text[0] ? writer->messages.text : fallback;
}

/// Frees a writer that could not be started (none yet for NULL) and returns NULL, leaving `text` in `message`.
static superres_tiff_writer *abandon_writer(superres_tiff_writer *writer, const char *text, char *message,
                                            size_t message_size) {
    superres_set_message(message, message_size, text);
    superres_tiff_writer_destroy(writer);
    return NULL;
}

/// Marks the writer failed (nothing more is written) and returns SUPERRES_ENCODE_FAILED, leaving libtiff's message
/// (or `fallback`) in `message`.
static superres_status writer_failed(superres_tiff_writer *writer, const char *fallback, char *message,
                                     size_t message_size) {
    writer->failed = 1;
    return superres_fail(message, message_size, SUPERRES_ENCODE_FAILED, writer_error(writer, fallback));
}

superres_tiff_writer *superres_tiff_writer_create(int fd, superres_buffer *buffer, uint32_t width, uint32_t height,
                                                  int32_t channels, int32_t bit_depth,
                                                  superres_tiff_compression compression, int32_t quality,
                                                  int32_t big_endian, const superres_tiff_tags *tags, char *message,
                                                  size_t message_size) {
    superres_set_message(message, message_size, "");
    if ((fd < 0 && buffer == NULL) || width == 0 || height == 0 || channels < 1 || channels > 4 ||
        (bit_depth != 8 && bit_depth != 16) || quality < 1 || quality > 100 ||
        (compression == SUPERRES_TIFF_JPEG && (bit_depth != 8 || channels == 2 || channels == 4))) {
        return abandon_writer(NULL,
                              compression == SUPERRES_TIFF_JPEG ? "JPEG compression takes 8-bit grey or RGB only"
                                                                : "invalid image parameters for TIFF",
                              message, message_size);
    }
    superres_tiff_writer *writer = calloc(1, sizeof *writer);
    if (writer == NULL) return abandon_writer(NULL, "out of memory for the TIFF writer", message, message_size);
    writer->sink.fd = fd;
    writer->sink.buffer = buffer;
    writer->sink.position = buffer != NULL ? buffer->size : 0;
    writer->width = width;
    writer->height = height;
    writer->channels = channels;
    writer->bit_depth = bit_depth;
    writer->row = malloc((size_t)width * (size_t)channels * (size_t)(bit_depth / 8));
    if (writer->row == NULL) return abandon_writer(writer, "out of memory for the TIFF writer", message, message_size);
    TIFFOpenOptions *options = make_options(&writer->messages);
    if (options != NULL) {
        writer->tiff = TIFFClientOpenExt("tiff", big_endian ? "wb" : "wl", &writer->sink, sink_read, sink_write,
                                         sink_seek, sink_close, sink_size, sink_map, memory_unmap, options);
        TIFFOpenOptionsFree(options);
    }
    TIFF *tiff = writer->tiff;
    if (tiff == NULL) return abandon_writer(writer, writer_error(writer, "libtiff failed"), message, message_size);
    static const uint16_t codes[4] = {COMPRESSION_NONE, COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE, COMPRESSION_JPEG};
    int colour = channels >= 3;
    int ok = TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, width) && TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, height) &&
             TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, (uint16_t)bit_depth) &&
             TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)channels) &&
             TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
             TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC, colour ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK) &&
             TIFFSetField(tiff, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT) &&
             TIFFSetField(tiff, TIFFTAG_COMPRESSION, codes[compression]) &&
             TIFFSetField(tiff, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tiff, 0));
    if (ok && (channels == 2 || channels == 4)) {
        uint16_t extra = EXTRASAMPLE_UNASSALPHA;
        ok = TIFFSetField(tiff, TIFFTAG_EXTRASAMPLES, 1, &extra);
    }
    if (ok && (compression == SUPERRES_TIFF_LZW || compression == SUPERRES_TIFF_DEFLATE))
        ok = TIFFSetField(tiff, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
    if (ok && compression == SUPERRES_TIFF_JPEG) ok = TIFFSetField(tiff, TIFFTAG_JPEGQUALITY, quality);
    if (ok && tags != NULL) {
        if (tags->icc_size > 0) ok = ok && TIFFSetField(tiff, TIFFTAG_ICCPROFILE, (uint32_t)tags->icc_size, tags->icc);
        if (tags->xmp_size > 0) ok = ok && TIFFSetField(tiff, TIFFTAG_XMLPACKET, (uint32_t)tags->xmp_size, tags->xmp);
        if (tags->x_resolution > 0 && tags->y_resolution > 0)
            ok = ok && TIFFSetField(tiff, TIFFTAG_XRESOLUTION, (double)tags->x_resolution) &&
                 TIFFSetField(tiff, TIFFTAG_YRESOLUTION, (double)tags->y_resolution) &&
                 TIFFSetField(tiff, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
        for (size_t i = 0; ok && i < tags->text_count; i++)
            ok = TIFFSetField(tiff, tags->text_tags[i], tags->texts[i]);
        // Placeholders, filled in by superres_tiff_patch_sub_ifds once the sub-directories are appended.
        if (tags->exif_ifd) ok = ok && TIFFSetField(tiff, TIFFTAG_EXIFIFD, (uint64_t)0);
        if (tags->gps_ifd) ok = ok && TIFFSetField(tiff, TIFFTAG_GPSIFD, (uint64_t)0);
    }
    if (!ok) return abandon_writer(writer, writer_error(writer, "libtiff refused a tag"), message, message_size);
    return writer;
}

superres_status superres_tiff_writer_write(superres_tiff_writer *writer, const void *pixels, uint32_t rows,
                                           char *message, size_t message_size) {
    superres_set_message(message, message_size, "");
    if (writer->failed || rows > writer->height - writer->next_row)
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "more rows than the TIFF's height");
    size_t row_bytes = (size_t)writer->width * (size_t)writer->channels * (size_t)(writer->bit_depth / 8);
    for (uint32_t r = 0; r < rows; r++) {
        memcpy(writer->row, (const uint8_t *)pixels + (size_t)r * row_bytes, row_bytes);
        if (TIFFWriteScanline(writer->tiff, writer->row, writer->next_row, 0) < 0)
            return writer_failed(writer, "libtiff could not write a row", message, message_size);
        writer->next_row++;
    }
    return SUPERRES_OK;
}

superres_status superres_tiff_writer_finish(superres_tiff_writer *writer, uint64_t *end, char *message,
                                            size_t message_size) {
    superres_set_message(message, message_size, "");
    if (writer->failed || writer->next_row != writer->height)
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "the TIFF's rows are not all there");
    int ok = TIFFWriteDirectory(writer->tiff);
    TIFFClose(writer->tiff);
    writer->tiff = NULL;
    if (!ok) return writer_failed(writer, "libtiff could not write the directory", message, message_size);
    *end = sink_length(&writer->sink);
    return SUPERRES_OK;
}

void superres_tiff_writer_destroy(superres_tiff_writer *writer) {
    if (writer == NULL) return;
    if (writer->tiff != NULL) TIFFClose(writer->tiff);
    free(writer->row);
    free(writer);
}
