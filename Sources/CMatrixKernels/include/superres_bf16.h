// Reduced-precision (bfloat16) convolution micro-kernels: the instructions they need, AMX tiles and AVX-512 BF16
// dot products, have no Swift spelling, so they live here in C behind a runtime capability check. Every function is
// compiled for its instruction set with a `target` attribute, so this file builds for any x86-64 CPU and the Swift
// side (`Kernels/BFloat16Convolution.swift`) calls only what `superres_bf16_support()` says the CPU can run.
#ifndef SUPERRES_BF16_H
#define SUPERRES_BF16_H

#include <stddef.h>
#include <stdint.h>

/// What this CPU (and the operating system) can run.
typedef enum {
    SUPERRES_BF16_NONE = 0,
    /// AVX-512 BF16 dot products (`vdpbf16ps`): AMD Zen 4 and later, Intel Cooper Lake and Sapphire Rapids.
    SUPERRES_BF16_AVX512 = 1,
    /// AVX-512 BF16 and AMX-BF16 tile matrix multiplies (`tdpbf16ps`), with the tile state granted by the kernel.
    SUPERRES_BF16_AMX = 2,
} superres_bf16_support_level;

/// The best bfloat16 path this process may use. The first call asks Linux for the AMX tile state
/// (`arch_prctl(ARCH_REQ_XCOMP_PERM)`); the answer is cached.
superres_bf16_support_level superres_bf16_support(void);

/// The element-wise tail of a convolution, applied to the float sums in this order:
/// `+ bias[c]`, activation, `* scale`, `+ residual`.
typedef struct {
    /// `output_channels` values, or NULL.
    const float *bias;
    /// 0: none, 1: ReLU, 2: leaky ReLU with `slope`, 3: PReLU with `slopes[c]`, 4: swish, x / (1 + e^-x).
    int activation;
    float slope;
    const float *slopes;
    /// Whether `scale` multiplies the values.
    int has_scale;
    float scale;
    /// Output-shaped NHWC values added last, or NULL. May be the output itself (the sum is then written in place).
    const float *residual;
} superres_epilogue;

/// One bfloat16 convolution call: a zero-padded NHWC bfloat16 input, packed weights, an NHWC float output.
typedef struct {
    /// `padded_height × padded_width` pixels of `channel_stride` values each (channels rounded up to 32, the extra
    /// ones zero), followed by at least 32 pixels of slack that the kernels may read (their results are discarded).
    const uint16_t *padded;
    int padded_width;
    int channel_stride;
    /// From `superres_bf16_pack_weights`.
    const uint16_t *weights;
    int kernel_height;
    int kernel_width;
    int output_channels;
    /// `output_height × output_width × output_channels` floats; output row `y` reads padded rows `y ..< y + kh`.
    float *output;
    int output_width;
} superres_bf16_convolution;

/// The `uint16_t` count of packed weights: blocks of 16 output channels, each `[tap][input block of 32][16 channel
/// pairs][16 output channels][2]`, the layout of an AMX B tile (and of 16 `vdpbf16ps` weight vectors).
size_t superres_bf16_packed_weight_count(int taps, int input_channels, int output_channels);

/// Rounds HWIO float weights (`[taps][input_channels][output_channels]`) to bfloat16 (to nearest, ties to even)
/// into the packed layout; padding channels are zero.
void superres_bf16_pack_weights(
    const float *weights, int taps, int input_channels, int output_channels, uint16_t *packed);

/// Writes padded rows `row_begin ..< row_end` of the bfloat16 input (rounded to nearest, ties to even) from an NHWC
/// float input of `height × width × channels`; rows and columns outside the input are zero. The caller zeroes the
/// slack.
void superres_bf16_pad_rows(
    const float *input, int height, int width, int channels, int pad_top, int pad_left, int padded_width,
    int channel_stride, uint16_t *padded, int row_begin, int row_end);

/// Computes output rows `row_begin ..< row_end` with AMX tiles. Only when `superres_bf16_support()` is AMX.
void superres_bf16_convolve_rows_amx(
    const superres_bf16_convolution *convolution, const superres_epilogue *epilogue, int row_begin, int row_end);

/// Computes output rows `row_begin ..< row_end` with AVX-512 BF16 dot products. Only when
/// `superres_bf16_support()` is at least AVX512.
void superres_bf16_convolve_rows_avx512(
    const superres_bf16_convolution *convolution, const superres_epilogue *epilogue, int row_begin, int row_end);

#endif
