// Colour conversion through lcms2 (Little CMS, Debian's liblcms2): an embedded ICC profile to sRGB, and the sRGB
// profiles that results converted to sRGB are tagged with. lcms2 reports errors through a logger callback; ours
// keeps the last message per thread so that the Swift side can say why a profile was refused.
#include "shim_internal.h"

#include <lcms2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[SUPERRES_MESSAGE_SIZE];

static void log_error(cmsContext context, cmsUInt32Number code, const char *text) {
    (void)context;
    (void)code;
    snprintf(last_error, sizeof last_error, "%s", text);
}

static cmsContext make_context(void) {
    cmsContext context = cmsCreateContext(NULL, NULL);
    if (context != NULL) cmsSetLogErrorHandlerTHR(context, log_error);
    return context;
}

struct superres_colour_transform {
    cmsContext context;
    cmsHTRANSFORM transform;
    size_t input_pixel_bytes;
    size_t output_pixel_bytes;
};

/// Bytes per pixel of an lcms2 format.
static size_t pixel_bytes(cmsUInt32Number format) {
    return (size_t)T_BYTES(format) * (size_t)(T_CHANNELS(format) + T_EXTRA(format));
}

static cmsUInt32Number lcms_format(superres_pixel_format format) {
    switch (format) {
    case SUPERRES_PIXELS_GREY8: return TYPE_GRAY_8;
    case SUPERRES_PIXELS_GREY_ALPHA8: return TYPE_GRAYA_8;
    case SUPERRES_PIXELS_RGB8: return TYPE_RGB_8;
    case SUPERRES_PIXELS_RGBA8: return TYPE_RGBA_8;
    case SUPERRES_PIXELS_GREY16: return TYPE_GRAY_16;
    case SUPERRES_PIXELS_GREY_ALPHA16: return TYPE_GRAYA_16;
    case SUPERRES_PIXELS_RGB16: return TYPE_RGB_16;
    case SUPERRES_PIXELS_RGBA16: return TYPE_RGBA_16;
    case SUPERRES_PIXELS_CMYK8: return TYPE_CMYK_8;
    case SUPERRES_PIXELS_CMYK8_INVERTED: return TYPE_CMYK_8_REV;
    }
    return 0;
}

static int is_grey(superres_pixel_format format) {
    return format == SUPERRES_PIXELS_GREY8 || format == SUPERRES_PIXELS_GREY_ALPHA8 ||
           format == SUPERRES_PIXELS_GREY16 || format == SUPERRES_PIXELS_GREY_ALPHA16;
}

static int has_alpha(superres_pixel_format format) {
    return format == SUPERRES_PIXELS_GREY_ALPHA8 || format == SUPERRES_PIXELS_RGBA8 ||
           format == SUPERRES_PIXELS_GREY_ALPHA16 || format == SUPERRES_PIXELS_RGBA16;
}

/// sRGB's tone curve (IEC 61966-2-1) as an lcms2 parametric curve of type 4.
static cmsToneCurve *srgb_curve(cmsContext context) {
    const cmsFloat64Number parameters[5] = {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045};
    return cmsBuildParametricToneCurve(context, 4, parameters);
}

/// sRGB for colour, or a grey profile with sRGB's tone curve and D50 white for grey.
static cmsHPROFILE make_srgb(cmsContext context, int grey) {
    if (!grey) return cmsCreate_sRGBProfileTHR(context);
    cmsToneCurve *curve = srgb_curve(context);
    if (curve == NULL) return NULL;
    cmsHPROFILE profile = cmsCreateGrayProfileTHR(context, cmsD50_xyY(), curve);
    cmsFreeToneCurve(curve);
    return profile;
}

/// Frees what a transform being made holds (NULL: not made yet) and returns NULL, leaving `text` in `message`.
static superres_colour_transform *refuse(cmsContext context, cmsHTRANSFORM transform, const char *text,
                                         char *message, size_t message_size) {
    superres_set_message(message, message_size, text);
    if (transform != NULL) cmsDeleteTransform(transform);
    if (context != NULL) cmsDeleteContext(context);
    return NULL;
}

superres_colour_transform *superres_colour_transform_create(const uint8_t *profile, size_t profile_size,
                                                            superres_pixel_format input,
                                                            superres_pixel_format output, char *message,
                                                            size_t message_size) {
    superres_set_message(message, message_size, "");
    last_error[0] = '\0';
    if (profile == NULL || profile_size == 0 || profile_size > UINT32_MAX || lcms_format(input) == 0 ||
        lcms_format(output) == 0) {
        return refuse(NULL, NULL, "invalid arguments for a colour transform", message, message_size);
    }
    cmsContext context = make_context();
    if (context == NULL) return refuse(NULL, NULL, "out of memory for lcms2", message, message_size);
    cmsHPROFILE source = cmsOpenProfileFromMemTHR(context, profile, (cmsUInt32Number)profile_size);
    cmsHPROFILE target = make_srgb(context, is_grey(output));
    cmsHTRANSFORM transform = NULL;
    if (source != NULL && target != NULL) {
        cmsUInt32Number flags = has_alpha(input) && has_alpha(output) ? cmsFLAGS_COPY_ALPHA : 0;
        // Perceptual: lcms2's default and that of its own tools (transicc, tificc).
        transform = cmsCreateTransformTHR(context, source, lcms_format(input), target, lcms_format(output),
                                          INTENT_PERCEPTUAL, flags);
    }
    if (source != NULL) cmsCloseProfile(source);
    if (target != NULL) cmsCloseProfile(target);
    if (transform == NULL) {
        return refuse(context, NULL, last_error[0] ? last_error : "lcms2 cannot convert from this profile", message,
                      message_size);
    }
    superres_colour_transform *result = calloc(1, sizeof *result);
    if (result == NULL) return refuse(context, transform, "out of memory for lcms2", message, message_size);
    result->context = context;
    result->transform = transform;
    result->input_pixel_bytes = pixel_bytes(lcms_format(input));
    result->output_pixel_bytes = pixel_bytes(lcms_format(output));
    return result;
}

void superres_colour_transform_apply(const superres_colour_transform *transform, const void *input, void *output,
                                     size_t pixel_count) {
    while (pixel_count > 0) {
        cmsUInt32Number part = pixel_count > (1u << 30) ? (1u << 30) : (cmsUInt32Number)pixel_count;
        cmsDoTransform(transform->transform, input, output, part);
        input = (const uint8_t *)input + (size_t)part * transform->input_pixel_bytes;
        output = (uint8_t *)output + (size_t)part * transform->output_pixel_bytes;
        pixel_count -= part;
    }
}

void superres_colour_transform_destroy(superres_colour_transform *transform) {
    if (transform == NULL) return;
    cmsDeleteTransform(transform->transform);
    cmsDeleteContext(transform->context);
    free(transform);
}

superres_status superres_srgb_profile(int32_t grey, superres_buffer *output) {
    cmsContext context = make_context();
    if (context == NULL) return SUPERRES_NO_MEMORY;
    cmsHPROFILE profile = make_srgb(context, grey);
    superres_status status = SUPERRES_NO_MEMORY;
    cmsUInt32Number size = 0;
    if (profile != NULL && cmsSaveProfileToMem(profile, NULL, &size) && size > 0 &&
        superres_buffer_reserve(output, size) && cmsSaveProfileToMem(profile, output->data + output->size, &size)) {
        output->size += size;
        status = SUPERRES_OK;
    }
    if (profile != NULL) cmsCloseProfile(profile);
    cmsDeleteContext(context);
    return status;
}
