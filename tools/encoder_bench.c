// Encoder timings behind the defaults of the PNG, JPEG and WebP writers (docs/PERFORMANCE.md, "Encoders"); built
// and run by tools/encoder_bench.py against the project's own C writer (Sources/CImageShims/png_writer.c), libjpeg-
// turbo and libwebp. Input: 8-bit RGB files of W×H given as "W H path" triples. One thread (the PNG row filters run
// in parallel bands in superres; here they are timed alone). Prints one line per setting: seconds per image, bytes.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <jpeglib.h>
#include <webp/encode.h>
#include "CImageShims.h"

typedef struct { int width, height; uint8_t *rgb; } image;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static size_t png(const image *im, superres_png_filter filter, int level, double *filter_s) {
    size_t size = superres_png_filtered_size(im->width, im->height, 3, 8);
    uint8_t *filtered = malloc(size);
    double t = now();
    superres_png_filter_rows(im->rgb, im->width, im->height, 3, 8, 0, im->height, filter, filtered);
    *filter_s += now() - t;
    superres_buffer out = {0};
    char message[SUPERRES_MESSAGE_SIZE];
    superres_png_write(filtered, size, im->width, im->height, 3, 8, level, &out, message, sizeof message);
    size_t bytes = out.size;
    superres_buffer_free(&out);
    free(filtered);
    return bytes;
}

static size_t jpeg(const image *im, int quality, int full_chroma, int optimize) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned char *buffer = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &buffer, &size);
    c.image_width = im->width;
    c.image_height = im->height;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    c.optimize_coding = optimize;
    c.dct_method = JDCT_ISLOW;
    if (full_chroma) c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = 1;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = im->rgb + (size_t)c.next_scanline * im->width * 3;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(buffer);
    return size;
}

static int count_bytes(const uint8_t *data, size_t size, const WebPPicture *picture) {
    (void)data;
    *(size_t *)picture->custom_ptr += size;
    return 1;
}

static size_t webp(const image *im, float quality, int lossless, int method, int threads) {
    WebPConfig config;
    WebPConfigInit(&config);
    config.quality = quality;
    config.lossless = lossless;
    config.exact = lossless;
    config.method = method;
    config.thread_level = threads;
    WebPPicture picture;
    WebPPictureInit(&picture);
    picture.use_argb = lossless;
    picture.width = im->width;
    picture.height = im->height;
    WebPPictureImportRGB(&picture, im->rgb, im->width * 3);
    size_t size = 0;
    picture.writer = count_bytes;
    picture.custom_ptr = &size;
    WebPEncode(&config, &picture);
    WebPPictureFree(&picture);
    return size;
}

int main(int argc, char **argv) {
    int count = (argc - 1) / 3;
    image *images = calloc(count, sizeof *images);
    for (int i = 0; i < count; i++) {
        images[i].width = atoi(argv[1 + 3 * i]);
        images[i].height = atoi(argv[2 + 3 * i]);
        size_t size = (size_t)images[i].width * images[i].height * 3;
        images[i].rgb = malloc(size);
        FILE *file = fopen(argv[3 + 3 * i], "rb");
        if (file == NULL || fread(images[i].rgb, 1, size, file) != size) return 1;
        fclose(file);
    }
    static const char *filters[] = {"none", "sub", "up", "average", "paeth", "adaptive"};
    static const int levels[] = {0, 1, 2, 3, 4, 5, 6, 8, 10, 12};
    for (int f = 0; f < 6; f++) {
        for (int l = 0; l < 10; l++) {
            if ((f == 0) != (levels[l] == 0)) continue;
            double filter_s = 0, start = now();
            size_t bytes = 0;
            for (int i = 0; i < count; i++) bytes += png(&images[i], (superres_png_filter)f, levels[l], &filter_s);
            printf("png filter=%s libdeflate=%d %.4f %zu filter_s=%.4f\n", filters[f], levels[l],
                   (now() - start) / count, bytes, filter_s / count);
        }
    }
    static const int qualities[] = {75, 90, 95};
    for (int q = 0; q < 3; q++) {
        for (int setting = 0; setting < 4; setting++) {
            int full = setting & 1, optimize = setting >> 1;
            double start = now();
            size_t bytes = 0;
            for (int i = 0; i < count; i++) bytes += jpeg(&images[i], qualities[q], full, optimize);
            printf("jpeg q=%d chroma=%s optimize=%d %.4f %zu\n", qualities[q], full ? "444" : "420", optimize,
                   (now() - start) / count, bytes);
        }
        for (int method = 0; method <= 6; method++) {
            double start = now();
            size_t bytes = 0;
            for (int i = 0; i < count; i++) bytes += webp(&images[i], qualities[q], 0, method, 1);
            printf("webp q=%d method=%d %.4f %zu\n", qualities[q], method, (now() - start) / count, bytes);
        }
    }
    static const int lossless_settings[][2] = {{0, 25}, {1, 50}, {2, 50}, {4, 75}};
    for (int s = 0; s < 4; s++) {
        double start = now();
        size_t bytes = 0;
        for (int i = 0; i < count; i++)
            bytes += webp(&images[i], lossless_settings[s][1], 1, lossless_settings[s][0], 1);
        printf("webp lossless method=%d effort=%d %.4f %zu\n", lossless_settings[s][0], lossless_settings[s][1],
               (now() - start) / count, bytes);
    }
    return 0;
}
