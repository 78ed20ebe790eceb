// What the metadata code needs from C: zlib (PNG's compressed iCCP and iTXt), PNG's CRC, and libwebp's demux and mux
// for the ICCP, EXIF and XMP chunks of a WebP container.
#include "shim_internal.h"

#include <string.h>
#include <webp/demux.h>
#include <webp/mux.h>
#include <zlib.h>

uint32_t superres_crc32(uint32_t crc, const uint8_t *data, size_t size) {
    uLong value = crc;
    while (size > 0) {
        uInt part = size > (size_t)UINT32_MAX ? UINT32_MAX : (uInt)size;
        value = crc32(value, data, part);
        data += part;
        size -= part;
    }
    return (uint32_t)value;
}

superres_status superres_zlib_inflate(const uint8_t *data, size_t size, size_t max_size, superres_buffer *output,
                                      char *message, size_t message_size) {
    superres_set_message(message, message_size, "");
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (inflateInit(&stream) != Z_OK)
        return superres_fail(message, message_size, SUPERRES_NO_MEMORY, "zlib could not start decompressing");
    stream.next_in = (Bytef *)data;
    stream.avail_in = size > UINT32_MAX ? UINT32_MAX : (uInt)size;
    superres_status status = SUPERRES_OK;
    for (;;) {
        if (output->size >= max_size) {
            superres_set_message(message, message_size, "decompresses to more than the limit");
            status = SUPERRES_TOO_LARGE;
            break;
        }
        size_t room = max_size - output->size;
        if (room > 65536) room = 65536;
        if (!superres_buffer_reserve(output, room)) {
            superres_set_message(message, message_size, "out of memory");
            status = SUPERRES_NO_MEMORY;
            break;
        }
        stream.next_out = output->data + output->size;
        stream.avail_out = (uInt)room;
        int code = inflate(&stream, Z_NO_FLUSH);
        output->size += room - stream.avail_out;
        if (code == Z_STREAM_END) break;
        if (code == Z_BUF_ERROR && stream.avail_in == 0) {
            superres_set_message(message, message_size, "the compressed data ends early");
            status = SUPERRES_TRUNCATED;
            break;
        }
        if (code != Z_OK && code != Z_BUF_ERROR) {
            superres_set_message(message, message_size, stream.msg ? stream.msg : "invalid compressed data");
            status = code == Z_MEM_ERROR ? SUPERRES_NO_MEMORY : SUPERRES_CORRUPT;
            break;
        }
    }
    inflateEnd(&stream);
    return status;
}

superres_status superres_zlib_deflate(const uint8_t *data, size_t size, superres_buffer *output) {
    if (size > UINT32_MAX / 2) return SUPERRES_TOO_LARGE;
    uLong bound = compressBound((uLong)size);
    if (!superres_buffer_reserve(output, bound)) return SUPERRES_NO_MEMORY;
    uLongf written = bound;
    if (compress2(output->data + output->size, &written, data, (uLong)size, Z_BEST_COMPRESSION) != Z_OK) {
        return SUPERRES_ENCODE_FAILED;
    }
    output->size += written;
    return SUPERRES_OK;
}

superres_status superres_webp_read_chunk(const uint8_t *data, size_t size, const char *fourcc,
                                         superres_buffer *output) {
    WebPData webp = {data, size};
    WebPDemuxer *demux = WebPDemux(&webp);
    if (demux == NULL) return SUPERRES_CORRUPT;
    WebPChunkIterator iterator;
    superres_status status = SUPERRES_EMPTY;
    if (WebPDemuxGetChunk(demux, fourcc, 1, &iterator)) {
        status = superres_buffer_append(output, iterator.chunk.bytes, iterator.chunk.size) ? SUPERRES_OK
                                                                                             : SUPERRES_NO_MEMORY;
        WebPDemuxReleaseChunkIterator(&iterator);
    }
    WebPDemuxDelete(demux);
    return status;
}

static const char *describe_mux(WebPMuxError error) {
    switch (error) {
    case WEBP_MUX_NOT_FOUND: return "a chunk was not found";
    case WEBP_MUX_INVALID_ARGUMENT: return "invalid argument";
    case WEBP_MUX_BAD_DATA: return "the WebP data is invalid";
    case WEBP_MUX_MEMORY_ERROR: return "out of memory";
    case WEBP_MUX_NOT_ENOUGH_DATA: return "the WebP data ends early";
    default: return "libwebpmux failed";
    }
}

superres_status superres_webp_add_chunks(const uint8_t *webp, size_t webp_size, const uint8_t *icc, size_t icc_size,
                                         const uint8_t *exif, size_t exif_size, const uint8_t *xmp, size_t xmp_size,
                                         superres_buffer *output, char *message, size_t message_size) {
    superres_set_message(message, message_size, "");
    WebPData image = {webp, webp_size};
    WebPMux *mux = WebPMuxCreate(&image, 0);
    if (mux == NULL) {
        return superres_fail(message, message_size, SUPERRES_ENCODE_FAILED,
                             "libwebpmux could not read the encoded WebP");
    }
    const char *names[3] = {"ICCP", "EXIF", "XMP "};
    const uint8_t *chunks[3] = {icc, exif, xmp};
    size_t sizes[3] = {icc_size, exif_size, xmp_size};
    WebPMuxError error = WEBP_MUX_OK;
    for (int index = 0; index < 3 && error == WEBP_MUX_OK; index++) {
        if (chunks[index] == NULL || sizes[index] == 0) continue;
        WebPData chunk = {chunks[index], sizes[index]};
        error = WebPMuxSetChunk(mux, names[index], &chunk, 1);
    }
    WebPData assembled = {NULL, 0};
    if (error == WEBP_MUX_OK) error = WebPMuxAssemble(mux, &assembled);
    WebPMuxDelete(mux);
    if (error != WEBP_MUX_OK) {
        superres_set_message(message, message_size, describe_mux(error));
        WebPDataClear(&assembled);
        return error == WEBP_MUX_MEMORY_ERROR ? SUPERRES_NO_MEMORY : SUPERRES_ENCODE_FAILED;
    }
    int appended = superres_buffer_append(output, assembled.bytes, assembled.size);
    WebPDataClear(&assembled);
    if (!appended) return superres_fail(message, message_size, SUPERRES_NO_MEMORY, "out of memory");
    return SUPERRES_OK;
}
