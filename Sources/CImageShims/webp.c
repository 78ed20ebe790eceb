// libwebp behind the same status-and-message API as the other codecs. libwebp never jumps; these shims exist
// because WebPDecoderConfig's output union and WebPPicture's writer callback (which points back into the caller's
// state) are pointer-heavy to drive from Swift.
#include "shim_internal.h"

#include <stdio.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/encode.h>

static superres_status status_for_vp8(VP8StatusCode code) {
    switch (code) {
    case VP8_STATUS_OK: return SUPERRES_OK;
    case VP8_STATUS_OUT_OF_MEMORY: return SUPERRES_NO_MEMORY;
    case VP8_STATUS_INVALID_PARAM: return SUPERRES_INVALID_ARGUMENT;
    case VP8_STATUS_UNSUPPORTED_FEATURE: return SUPERRES_UNSUPPORTED;
    case VP8_STATUS_SUSPENDED:
    case VP8_STATUS_NOT_ENOUGH_DATA: return SUPERRES_TRUNCATED;
    case VP8_STATUS_BITSTREAM_ERROR:
    case VP8_STATUS_USER_ABORT:
    default: return SUPERRES_CORRUPT;
    }
}

static const char *describe_vp8(VP8StatusCode code) {
    switch (code) {
    case VP8_STATUS_OK: return "";
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED:
    case VP8_STATUS_NOT_ENOUGH_DATA: return "the data ends early";
    case VP8_STATUS_USER_ABORT: return "aborted";
    default: return "unknown libwebp error";
    }
}

/// Leaves libwebp's words for `code` in `message` and returns its status.
static superres_status fail_vp8(VP8StatusCode code, char *message, size_t message_size) {
    return superres_fail(message, message_size, status_for_vp8(code), describe_vp8(code));
}

superres_status superres_webp_read_header(const uint8_t *data, size_t size, superres_image_info *info,
                                          char *message, size_t message_size) {
    superres_set_message(message, message_size, "");
    WebPBitstreamFeatures features;
    VP8StatusCode code = WebPGetFeatures(data, size, &features);
    if (code != VP8_STATUS_OK) return fail_vp8(code, message, message_size);
    if (features.has_animation)
        return superres_fail(message, message_size, SUPERRES_UNSUPPORTED, "animated WebP is not supported");
    info->width = (uint32_t)features.width;
    info->height = (uint32_t)features.height;
    info->channels = features.has_alpha ? 4 : 3;
    info->bit_depth = 8;
    return SUPERRES_OK;
}

/// Input bytes the incremental decoder gets between two checks of the cancellation.
#define SUPERRES_WEBP_CHUNK (256 * 1024)

superres_status superres_webp_decode(const uint8_t *data, size_t size, uint8_t *pixels, size_t pixels_size,
                                     int32_t channels, const superres_cancel *cancel, char *message,
                                     size_t message_size) {
    superres_set_message(message, message_size, "");
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config))
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "libwebp version mismatch");
    VP8StatusCode code = WebPGetFeatures(data, size, &config.input);
    if (code != VP8_STATUS_OK) return fail_vp8(code, message, message_size);
    size_t stride = (size_t)config.input.width * (size_t)channels;
    if ((channels != 3 && channels != 4) || config.input.width <= 0 || config.input.height <= 0 ||
        pixels_size != stride * (size_t)config.input.height) {
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT,
                             "the pixel buffer does not fit the image");
    }
    config.output.colorspace = channels == 4 ? MODE_RGBA : MODE_RGB;
    config.output.is_external_memory = 1;
    config.output.u.RGBA.rgba = pixels;
    config.output.u.RGBA.stride = (int)stride;
    config.output.u.RGBA.size = pixels_size;
    // WebPDecode refuses a RIFF container whose declared size exceeds the data; the incremental decoder, which
    // expects more data to come, does not check: do it here so that a file cut short stays "truncated".
    if (size >= 8 && memcmp(data, "RIFF", 4) == 0) {
        uint64_t riff_size = (uint64_t)data[4] | (uint64_t)data[5] << 8 | (uint64_t)data[6] << 16 |
                             (uint64_t)data[7] << 24;
        if (riff_size + 8 > size)
            return superres_fail(message, message_size, SUPERRES_TRUNCATED, describe_vp8(VP8_STATUS_NOT_ENOUGH_DATA));
    }
    WebPIDecoder *decoder = WebPIDecode(NULL, 0, &config);
    if (decoder == NULL)
        return superres_fail(message, message_size, SUPERRES_NO_MEMORY, "out of memory for the WebP decoder");
    code = VP8_STATUS_SUSPENDED;
    for (size_t offset = 0; offset < size && code == VP8_STATUS_SUSPENDED; offset += SUPERRES_WEBP_CHUNK) {
        if (superres_cancel_is_requested(cancel)) {
            WebPIDelete(decoder);
            WebPFreeDecBuffer(&config.output);
            return superres_fail(message, message_size, SUPERRES_CANCELLED, "cancelled");
        }
        size_t chunk = size - offset < SUPERRES_WEBP_CHUNK ? size - offset : SUPERRES_WEBP_CHUNK;
        code = WebPIAppend(decoder, data + offset, chunk);
    }
    WebPIDelete(decoder);
    WebPFreeDecBuffer(&config.output);  // nothing to free with external memory, but the API asks for it
    if (code != VP8_STATUS_OK) return fail_vp8(code, message, message_size);
    return SUPERRES_OK;
}

static int write_to_buffer(const uint8_t *data, size_t size, const WebPPicture *picture) {
    return superres_buffer_append((superres_buffer *)picture->custom_ptr, data, size);
}

static const char *describe_encoding_error(WebPEncodingError error) {
    switch (error) {
    case VP8_ENC_ERROR_OUT_OF_MEMORY:
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: return "out of memory";
    case VP8_ENC_ERROR_BAD_DIMENSION: return "WebP is limited to 16383 pixels per side";
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW: return "partition 0 overflow (too much header data)";
    case VP8_ENC_ERROR_PARTITION_OVERFLOW: return "partition overflow";
    case VP8_ENC_ERROR_BAD_WRITE: return "out of memory for the encoded WebP";
    case VP8_ENC_ERROR_FILE_TOO_BIG: return "the encoded WebP would exceed 4 GiB";
    default: return "libwebp failed to encode";
    }
}

/// libwebp's progress hook: returning 0 aborts the encode.
static int keep_encoding(int percent, const WebPPicture *picture) {
    (void)percent;
    return !superres_cancel_is_requested((const superres_cancel *)picture->user_data);
}

superres_status superres_webp_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int32_t channels,
                                     float quality, int32_t lossless, int32_t method, superres_buffer *output,
                                     const superres_cancel *cancel, char *message, size_t message_size) {
    superres_set_message(message, message_size, "");
    if ((channels != 3 && channels != 4) || width == 0 || height == 0 || !(quality >= 0 && quality <= 100) ||
        method < 0 || method > 6) {
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "invalid image parameters for WebP");
    }
    if (width > WEBP_MAX_DIMENSION || height > WEBP_MAX_DIMENSION)
        return superres_fail(message, message_size, SUPERRES_TOO_LARGE, "WebP is limited to 16383 pixels per side");
    WebPConfig config;
    if (!WebPConfigInit(&config))
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "libwebp version mismatch");
    config.quality = quality;
    config.lossless = lossless ? 1 : 0;
    config.exact = lossless ? 1 : 0;
    config.method = method;
    config.thread_level = 1;  // libwebp's own second thread (lossy: analysis and encoding overlap)
    if (!WebPValidateConfig(&config))
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "invalid WebP settings");
    WebPPicture picture;
    if (!WebPPictureInit(&picture))
        return superres_fail(message, message_size, SUPERRES_INVALID_ARGUMENT, "libwebp version mismatch");
    picture.use_argb = config.lossless;
    picture.width = (int)width;
    picture.height = (int)height;
    int stride = (int)(width * (uint32_t)channels);
    int imported = channels == 4 ? WebPPictureImportRGBA(&picture, pixels, stride)
                                 : WebPPictureImportRGB(&picture, pixels, stride);
    if (!imported) {
        WebPPictureFree(&picture);
        return superres_fail(message, message_size, SUPERRES_NO_MEMORY, "out of memory for the WebP picture");
    }
    picture.writer = write_to_buffer;
    picture.custom_ptr = output;
    if (cancel != NULL) {
        picture.progress_hook = keep_encoding;
        picture.user_data = (void *)cancel;
    }
    int encoded = WebPEncode(&config, &picture);
    WebPEncodingError error = picture.error_code;
    WebPPictureFree(&picture);
    if (!encoded && error == VP8_ENC_ERROR_USER_ABORT)
        return superres_fail(message, message_size, SUPERRES_CANCELLED, "cancelled");
    if (!encoded) {
        superres_set_message(message, message_size, describe_encoding_error(error));
        return error == VP8_ENC_ERROR_OUT_OF_MEMORY || error == VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY ||
                       error == VP8_ENC_ERROR_BAD_WRITE
                   ? SUPERRES_NO_MEMORY
                   : SUPERRES_ENCODE_FAILED;
    }
    return SUPERRES_OK;
}
