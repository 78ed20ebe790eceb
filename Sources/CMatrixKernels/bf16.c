// bfloat16 convolution kernels: AMX tile multiplies and AVX-512 BF16 dot products (see superres_bf16.h).
//
// Both kernels read the same operands: a zero-padded NHWC bfloat16 input whose pixels are `channel_stride` values
// apart (channels rounded up to 32), and weights packed as AMX B tiles. Products of bfloat16 values are exact in
// float and the sums are float, so the only rounding beyond fp32's is that of the operands to bfloat16. Each output
// value is summed by one thread in a fixed order: results do not depend on the thread count or on timing.
#include "superres_bf16.h"

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))
#define DOT_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,amx-tile,amx-bf16")))
#define INLINE static inline __attribute__((always_inline))

// Input channels per AMX tile row (64 bytes of bfloat16), output channels per tile column block.
enum { INPUT_BLOCK = 32, OUTPUT_BLOCK = 16, TILE_ELEMENTS = 16 * 32 };

// ---- Capability -----------------------------------------------------------------------------------------------

static superres_bf16_support_level detected_level = SUPERRES_BF16_NONE;
static pthread_once_t detection_once = PTHREAD_ONCE_INIT;

static void detect_support(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !((ecx >> 27) & 1)) return;  // OSXSAVE
    unsigned xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    // SSE, AVX and the three AVX-512 state components must be enabled by the operating system.
    if ((xcr0_low & 0xE6) != 0xE6) return;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return;
    const int avx512 = ((ebx >> 16) & 1) && ((ebx >> 30) & 1) && ((ebx >> 31) & 1);  // F, BW, VL
    const int amx = ((edx >> 22) & 1) && ((edx >> 24) & 1);                            // AMX-BF16, AMX-TILE
    unsigned eax1, ebx1, ecx1, edx1;
    if (!__get_cpuid_count(7, 1, &eax1, &ebx1, &ecx1, &edx1)) return;
    const int dot = (eax1 >> 5) & 1;  // AVX512_BF16
    if (!avx512 || !dot) return;
    detected_level = SUPERRES_BF16_AVX512;
    // Tile state (XTILECFG, XTILEDATA) enabled in XCR0, and Linux's permission to use it (since 5.16).
    const int tile_state = ((xcr0_low >> 17) & 3) == 3;
    const long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
    if (amx && tile_state && syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0) {
        detected_level = SUPERRES_BF16_AMX;
    }
}

superres_bf16_support_level superres_bf16_support(void) {
    pthread_once(&detection_once, detect_support);
    return detected_level;
}

// ---- Operands -------------------------------------------------------------------------------------------------

/// Rounds to the nearest bfloat16, ties to even; NaNs stay (quiet) NaNs.
static uint16_t round_to_bf16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x0040u);
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

static int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

size_t superres_bf16_packed_weight_count(int taps, int input_channels, int output_channels) {
    const size_t blocks = (size_t)round_up(output_channels, OUTPUT_BLOCK) / OUTPUT_BLOCK;
    return blocks * (size_t)taps * (size_t)round_up(input_channels, INPUT_BLOCK) * OUTPUT_BLOCK;
}

void superres_bf16_pack_weights(
    const float *weights, int taps, int input_channels, int output_channels, uint16_t *packed) {
    const int input_blocks = round_up(input_channels, INPUT_BLOCK) / INPUT_BLOCK;
    const int output_blocks = round_up(output_channels, OUTPUT_BLOCK) / OUTPUT_BLOCK;
    memset(packed, 0, superres_bf16_packed_weight_count(taps, input_channels, output_channels) * sizeof *packed);
    for (int block = 0; block < output_blocks; block++) {
        for (int tap = 0; tap < taps; tap++) {
            uint16_t *tile_base = packed + ((size_t)block * taps + tap) * input_blocks * TILE_ELEMENTS;
            for (int ci = 0; ci < input_channels; ci++) {
                // Row ci/2 of the tile holds the pairs (ci & ~1, ci | 1) of all 16 output channels.
                uint16_t *row = tile_base + (size_t)(ci / 2) * 2 * OUTPUT_BLOCK;
                for (int lane = 0; lane < OUTPUT_BLOCK; lane++) {
                    const int co = block * OUTPUT_BLOCK + lane;
                    if (co >= output_channels) break;
                    row[lane * 2 + (ci & 1)] =
                        round_to_bf16(weights[((size_t)tap * input_channels + ci) * output_channels + co]);
                }
            }
        }
    }
}

AVX512_TARGET void superres_bf16_pad_rows(
    const float *input, int height, int width, int channels, int pad_top, int pad_left, int padded_width,
    int channel_stride, uint16_t *padded, int row_begin, int row_end) {
    const __m512i one = _mm512_set1_epi32(1), half = _mm512_set1_epi32(0x7FFF);
    const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF), infinity = _mm512_set1_epi32(0x7F800000);
    const __m512i quiet = _mm512_set1_epi32(0x00400000);
    for (int row = row_begin; row < row_end; row++) {
        uint16_t *target = padded + (size_t)row * padded_width * channel_stride;
        const int y = row - pad_top;
        if (y < 0 || y >= height) {
            memset(target, 0, (size_t)padded_width * channel_stride * sizeof *target);
            continue;
        }
        memset(target, 0, (size_t)pad_left * channel_stride * sizeof *target);
        for (int x = 0; x < width; x++) {
            const float *source = input + ((size_t)y * width + x) * channels;
            uint16_t *pixel = target + (size_t)(pad_left + x) * channel_stride;
            for (int c = 0; c < channel_stride; c += 16) {
                const int count = channels - c;
                const __mmask16 mask = count >= 16 ? 0xFFFF : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
                __m512i bits = _mm512_castps_si512(_mm512_maskz_loadu_ps(mask, source + c));
                // The same rounding as round_to_bf16, sixteen at a time.
                const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, magnitude), infinity);
                __m512i rounded = _mm512_add_epi32(
                    bits, _mm512_add_epi32(half, _mm512_and_si512(_mm512_srli_epi32(bits, 16), one)));
                rounded = _mm512_mask_or_epi32(rounded, nan, bits, quiet);
                _mm256_storeu_si256((__m256i *)(pixel + c), _mm512_cvtepi32_epi16(_mm512_srli_epi32(rounded, 16)));
            }
        }
        const size_t right = (size_t)(padded_width - pad_left - width) * channel_stride;
        memset(target + (size_t)(pad_left + width) * channel_stride, 0, right * sizeof *target);
    }
}

// ---- Output stage ---------------------------------------------------------------------------------------------

/// x / (1 + e^-x) on 16 lanes, as `VectorMath.swish` computes it: e^-x - 1 = (2^k - 1) + 2^k q(r) with
/// -x = k ln 2 + r, |r| <= ln 2 / 2, q a degree-7 polynomial without constant term; -x clamped to [-87, 88].
INLINE AVX512_TARGET __m512 swish512(__m512 x) {
    __m512 t = _mm512_sub_ps(_mm512_setzero_ps(), x);
    t = _mm512_min_ps(_mm512_max_ps(t, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512 shifted = _mm512_fmadd_ps(t, _mm512_set1_ps(1.44269504f), magic);
    const __m512 k = _mm512_sub_ps(shifted, magic);
    const __m512i k_bits = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x4B400000));
    __m512 r = _mm512_fmadd_ps(k, _mm512_set1_ps(-0.693145751953125f), t);
    r = _mm512_fmadd_ps(k, _mm512_set1_ps(-1.428606765330187e-6f), r);
    __m512 q = _mm512_set1_ps(1.0f / 5040);
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f / 720));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f / 120));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f / 24));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f / 6));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(0.5f));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0f));
    q = _mm512_mul_ps(q, r);
    const __m512 scale = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k_bits, _mm512_set1_epi32(127)), 23));
    const __m512 expm1 = _mm512_fmadd_ps(scale, q, _mm512_sub_ps(scale, _mm512_set1_ps(1.0f)));
    return _mm512_div_ps(x, _mm512_add_ps(expm1, _mm512_set1_ps(2.0f)));
}

/// Applies the epilogue to the sums of 16 output channels from `channel` of one output pixel, and stores the
/// `count` that exist.
INLINE AVX512_TARGET void store_sums(
    __m512 sums, const superres_epilogue *epilogue, int channel, int count, float *output, size_t offset) {
    const __mmask16 mask = count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1);
    __m512 value = sums;
    if (epilogue->bias) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, epilogue->bias + channel));
    if (epilogue->activation == 4) {
        value = swish512(value);
    } else if (epilogue->activation != 0) {
        const __mmask16 negative = _mm512_cmp_ps_mask(value, _mm512_setzero_ps(), _CMP_LT_OQ);
        switch (epilogue->activation) {
        case 1: value = _mm512_mask_mov_ps(value, negative, _mm512_setzero_ps()); break;
        case 2: value = _mm512_mask_mul_ps(value, negative, value, _mm512_set1_ps(epilogue->slope)); break;
        default:
            value = _mm512_mask_mul_ps(
                value, negative, value, _mm512_maskz_loadu_ps(mask, epilogue->slopes + channel));
            break;
        }
    }
    if (epilogue->has_scale) value = _mm512_mul_ps(value, _mm512_set1_ps(epilogue->scale));
    if (epilogue->residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, epilogue->residual + offset));
    _mm512_mask_storeu_ps(output + offset, mask, value);
}

// ---- AMX ------------------------------------------------------------------------------------------------------

typedef struct __attribute__((packed)) {
    uint8_t palette_id;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
} tile_configuration;

/// Sums one block of one or two tiles of 16 pixels (`two_pixel_tiles`; the second starts `second_tile_offset`
/// values after the first in the padded input) × 16 or 32 output channels (`two_channel_tiles`) into tiles 0–3:
/// 0 = (first pixels, channels 0–15), 1 = (first, 16–31), 2 = (second, 0–15), 3 = (second, 16–31). Tiles 4 and 5
/// hold input pixels, 6 and 7 weights.
INLINE AMX_TARGET void amx_sum_block(
    const superres_bf16_convolution *convolution, int y, int x, size_t second_tile_offset, const uint16_t *weights0,
    const uint16_t *weights1, const int two_pixel_tiles, const int two_channel_tiles) {
    const size_t stride = (size_t)convolution->channel_stride;
    const int input_blocks = convolution->channel_stride / INPUT_BLOCK;
    for (int ky = 0; ky < convolution->kernel_height; ky++) {
        for (int kx = 0; kx < convolution->kernel_width; kx++) {
            const uint16_t *pixels =
                convolution->padded + ((size_t)(y + ky) * convolution->padded_width + x + kx) * stride;
            const size_t tap_offset = (size_t)(ky * convolution->kernel_width + kx) * input_blocks * TILE_ELEMENTS;
            const uint16_t *w0 = weights0 + tap_offset, *w1 = weights1 + tap_offset;
            for (int block = 0; block < input_blocks; block++) {
                _tile_loadd(4, pixels + block * INPUT_BLOCK, stride * sizeof(uint16_t));
                _tile_loadd(6, w0 + (size_t)block * TILE_ELEMENTS, 64);
                if (two_pixel_tiles)
                    _tile_loadd(5, pixels + second_tile_offset + block * INPUT_BLOCK, stride * sizeof(uint16_t));
                if (two_channel_tiles) _tile_loadd(7, w1 + (size_t)block * TILE_ELEMENTS, 64);
                _tile_dpbf16ps(0, 4, 6);
                if (two_channel_tiles) _tile_dpbf16ps(1, 4, 7);
                if (two_pixel_tiles) _tile_dpbf16ps(2, 5, 6);
                if (two_pixel_tiles && two_channel_tiles) _tile_dpbf16ps(3, 5, 7);
            }
        }
    }
}

AMX_TARGET void superres_bf16_convolve_rows_amx(
    const superres_bf16_convolution *convolution, const superres_epilogue *epilogue, int row_begin, int row_end) {
    tile_configuration configuration;
    memset(&configuration, 0, sizeof configuration);
    configuration.palette_id = 1;
    for (int tile = 0; tile < 8; tile++) {
        configuration.rows[tile] = 16;
        configuration.bytes_per_row[tile] = 64;
    }
    _tile_loadconfig(&configuration);
    float sums[4][16 * 16] __attribute__((aligned(64)));
    const int out_channels = convolution->output_channels, width = convolution->output_width;
    const int output_blocks = round_up(out_channels, OUTPUT_BLOCK) / OUTPUT_BLOCK;
    const size_t block_elements = (size_t)convolution->kernel_height * convolution->kernel_width *
                                  (convolution->channel_stride / INPUT_BLOCK) * TILE_ELEMENTS;
    // A block is 16 pixels of two output rows (tiles 4 and 5), so the input pixels it reads, (kh + 1) rows of 18
    // pixels, stay in L1 while every output channel block runs over them; the weights stream from L2.
    // Output channels go in groups whose weights fit in half of L2 (wide layers such as EDSR's upsampler have
    // 10 MB of weights), so that the weights are read from memory once per group and row pair, not once per block.
    const size_t next_row = (size_t)convolution->padded_width * convolution->channel_stride;
    const size_t group_limit = (size_t)1 << 20;
    const int pairs_per_group = block_elements * 4 * sizeof(uint16_t) >= group_limit
                                    ? 1
                                    : (int)(group_limit / (block_elements * 2 * sizeof(uint16_t)) / 2);
    for (int y = row_begin; y < row_end; y += 2) {
        const int two_pixel_tiles = y + 1 < row_end;
        for (int group = 0; group < output_blocks; group += 2 * pairs_per_group) {
        const int group_end = group + 2 * pairs_per_group < output_blocks ? group + 2 * pairs_per_group : output_blocks;
        for (int x = 0; x < width; x += 16) {
            for (int block = group; block < group_end; block += 2) {
                const int two_channel_tiles = block + 1 < output_blocks;
                const uint16_t *weights0 = convolution->weights + (size_t)block * block_elements;
                const uint16_t *weights1 = weights0 + block_elements;
                _tile_zero(0);
                _tile_zero(1);
                _tile_zero(2);
                _tile_zero(3);
                if (two_pixel_tiles && two_channel_tiles) {
                    amx_sum_block(convolution, y, x, next_row, weights0, weights1, 1, 1);
                } else if (two_pixel_tiles) {
                    amx_sum_block(convolution, y, x, next_row, weights0, weights1, 1, 0);
                } else if (two_channel_tiles) {
                    amx_sum_block(convolution, y, x, next_row, weights0, weights1, 0, 1);
                } else {
                    amx_sum_block(convolution, y, x, next_row, weights0, weights1, 0, 0);
                }
                _tile_stored(0, sums[0], 64);
                _tile_stored(1, sums[1], 64);
                _tile_stored(2, sums[2], 64);
                _tile_stored(3, sums[3], 64);
                for (int second = 0; second < 1 + two_pixel_tiles; second++) {
                    for (int row = 0; row < 16; row++) {
                        const int px = x + row, py = y + second;
                        if (px >= width) break;
                        const size_t pixel = ((size_t)py * width + px) * out_channels;
                        for (int part = 0; part < 1 + two_channel_tiles; part++) {
                            const int channel = (block + part) * OUTPUT_BLOCK;
                            store_sums(
                                _mm512_load_ps(sums[second * 2 + part] + row * 16), epilogue, channel,
                                out_channels - channel, convolution->output, pixel + channel);
                        }
                    }
                }
            }
        }
        }
    }
    _tile_release();
}

// ---- AVX-512 BF16 ---------------------------------------------------------------------------------------------

enum { DOT_PIXELS = 12 };

/// Sums `pixel_count` (DOT_PIXELS or 1) pixels from `x` × 16 or 32 output channels and stores them: each step
/// broadcasts one input channel pair of a pixel and multiplies it with the pairs of 16 output channels.
INLINE DOT_TARGET void dot_block(
    const superres_bf16_convolution *convolution, const superres_epilogue *epilogue, int y, int x, int block,
    const uint16_t *weights0, const uint16_t *weights1, const int pixel_count, const int two_channel_tiles) {
    const size_t stride = (size_t)convolution->channel_stride;
    const int pairs = convolution->channel_stride / 2;
    __m512 sums0[DOT_PIXELS], sums1[DOT_PIXELS];
    for (int p = 0; p < pixel_count; p++) {
        sums0[p] = _mm512_setzero_ps();
        sums1[p] = _mm512_setzero_ps();
    }
    for (int ky = 0; ky < convolution->kernel_height; ky++) {
        for (int kx = 0; kx < convolution->kernel_width; kx++) {
            const uint16_t *pixels =
                convolution->padded + ((size_t)(y + ky) * convolution->padded_width + x + kx) * stride;
            const size_t tap_offset = (size_t)(ky * convolution->kernel_width + kx) * pairs * 2 * OUTPUT_BLOCK;
            const uint16_t *w0 = weights0 + tap_offset, *w1 = weights1 + tap_offset;
            for (int pair = 0; pair < pairs; pair++) {
                const __m512bh b0 = (__m512bh)_mm512_loadu_si512(w0 + (size_t)pair * 2 * OUTPUT_BLOCK);
                const __m512bh b1 =
                    two_channel_tiles ? (__m512bh)_mm512_loadu_si512(w1 + (size_t)pair * 2 * OUTPUT_BLOCK) : b0;
                for (int p = 0; p < pixel_count; p++) {
                    int32_t both;
                    memcpy(&both, pixels + p * stride + pair * 2, sizeof both);
                    const __m512bh a = (__m512bh)_mm512_set1_epi32(both);
                    sums0[p] = _mm512_dpbf16_ps(sums0[p], a, b0);
                    if (two_channel_tiles) sums1[p] = _mm512_dpbf16_ps(sums1[p], a, b1);
                }
            }
        }
    }
    const int out_channels = convolution->output_channels;
    for (int p = 0; p < pixel_count; p++) {
        const size_t pixel = ((size_t)y * convolution->output_width + x + p) * out_channels;
        const int channel = block * OUTPUT_BLOCK;
        store_sums(sums0[p], epilogue, channel, out_channels - channel, convolution->output, pixel + channel);
        if (two_channel_tiles) {
            store_sums(
                sums1[p], epilogue, channel + OUTPUT_BLOCK, out_channels - channel - OUTPUT_BLOCK,
                convolution->output, pixel + channel + OUTPUT_BLOCK);
        }
    }
}

DOT_TARGET void superres_bf16_convolve_rows_avx512(
    const superres_bf16_convolution *convolution, const superres_epilogue *epilogue, int row_begin, int row_end) {
    const int out_channels = convolution->output_channels, width = convolution->output_width;
    const int output_blocks = round_up(out_channels, OUTPUT_BLOCK) / OUTPUT_BLOCK;
    const size_t block_elements = (size_t)convolution->kernel_height * convolution->kernel_width *
                                  convolution->channel_stride * OUTPUT_BLOCK;
    for (int y = row_begin; y < row_end; y++) {
        for (int block = 0; block < output_blocks; block += 2) {
            const uint16_t *weights0 = convolution->weights + (size_t)block * block_elements;
            const uint16_t *weights1 = weights0 + block_elements;
            int x = 0;
            if (block + 1 < output_blocks) {
                for (; x + DOT_PIXELS <= width; x += DOT_PIXELS)
                    dot_block(convolution, epilogue, y, x, block, weights0, weights1, DOT_PIXELS, 1);
                for (; x < width; x++) dot_block(convolution, epilogue, y, x, block, weights0, weights1, 1, 1);
            } else {
                for (; x + DOT_PIXELS <= width; x += DOT_PIXELS)
                    dot_block(convolution, epilogue, y, x, block, weights0, weights1, DOT_PIXELS, 0);
                for (; x < width; x++) dot_block(convolution, epilogue, y, x, block, weights0, weights1, 1, 0);
            }
        }
    }
}

#else  // Not x86-64: no bfloat16 kernels; superres_bf16_support() says so and nothing else is called.

#include <stdlib.h>

superres_bf16_support_level superres_bf16_support(void) { return SUPERRES_BF16_NONE; }
size_t superres_bf16_packed_weight_count(int taps, int input_channels, int output_channels) { return 0; }
void superres_bf16_pack_weights(const float *w, int taps, int input_channels, int output_channels, uint16_t *p) {
    abort();
}
void superres_bf16_pad_rows(
    const float *input, int height, int width, int channels, int pad_top, int pad_left, int padded_width,
    int channel_stride, uint16_t *padded, int row_begin, int row_end) {
    abort();
}
void superres_bf16_convolve_rows_amx(
    const superres_bf16_convolution *c, const superres_epilogue *e, int row_begin, int row_end) {
    abort();
}
void superres_bf16_convolve_rows_avx512(
    const superres_bf16_convolution *c, const superres_epilogue *e, int row_begin, int row_end) {
    abort();
}

#endif
