#!/usr/bin/env python3
"""A NumPy reference for MATLAB's `imresize(..., 'bicubic')` and the super-resolution evaluation protocol.

Written for superres from the behaviour of MATLAB's imresize.m (contributions(), cubic(), resizeAlongDim()):

* output size: `ceil(scale * input)` when a scale is given; when an output size is given, the scale of each
  dimension is `output / input`;
* kernel: Keys cubic with a = -0.5, support 4; when shrinking (scale < 1) with antialiasing the kernel is
  stretched to `scale * cubic(scale * x)` over a width of `4 / scale`;
* output sample j (1-based) sits at input coordinate `u = j / scale + 0.5 * (1 - 1 / scale)`; taps are
  `floor(u - width / 2) + (0 ... ceil(width) + 1)`, weights normalised to sum 1;
* out-of-range taps are mirrored symmetrically (index 0 -> 1, n + 1 -> n);
* the dimension with the smaller scale is resized first (height first on ties), each output sample is
  `sum_k weight_k * input[index_k]` accumulated in order k = 1...P, all in float64.

MATLAB rounds to the input class after *each* dimension when the input is uint8; the evaluation protocol used by
superres works on float input (no rounding between the passes) and rounds once at the end. `round_between=True`
reproduces MATLAB's uint8 behaviour for comparison.

The superres Swift port (`Resize.matlabBicubic`) follows the same arithmetic step by step, so both give the same
float64 results up to the order of floating-point operations spelled out here.

Run as a script to compute the Set5 bicubic x3 baseline PSNR (Y channel, border 3):
    /work/venv-cv/bin/python tools/imresize_reference.py [--set5 ../shared/datasets/Set5] [--scale 3]
"""
import argparse
import math
import os
import sys

import numpy as np


def cubic(x):
    """Keys cubic kernel with a = -0.5, as MATLAB's imresize `cubic`."""
    absx = np.abs(x)
    absx2 = absx * absx
    absx3 = absx2 * absx
    near = (1.5 * absx3 - 2.5 * absx2 + 1.0) * (absx <= 1)
    far = (-0.5 * absx3 + 2.5 * absx2 - 4.0 * absx + 2.0) * ((absx > 1) & (absx <= 2))
    return near + far


def contributions(in_length, out_length, scale, antialiasing=True):
    """(weights, indices) of shape (out_length, P); indices are 0-based and already mirrored into range."""
    kernel_width = 4.0
    if scale < 1 and antialiasing:
        def h(x):
            return scale * cubic(scale * x)
        kernel_width = kernel_width / scale
    else:
        h = cubic
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    taps = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]  # 1-based
    weights = h(u[:, None] - indices)
    total = np.zeros(out_length, dtype=np.float64)
    for k in range(taps):  # summed left to right (np.sum's pairwise order would differ in the last bit)
        total = total + weights[:, k]
    weights = weights / total[:, None]
    # symmetric mirror: aux = [1..n, n..1]
    aux = np.concatenate([np.arange(1, in_length + 1), np.arange(in_length, 0, -1)])
    idx = indices.astype(np.int64)
    mirrored = aux[np.mod(idx - 1, len(aux))] - 1
    # drop taps whose weight is zero for every output (as MATLAB does; zero terms do not change the sums)
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], mirrored[:, keep]


def _resize_along(a, axis, weights, indices):
    """Resize float64 array `a` along `axis` (0 = rows, 1 = columns), accumulating taps in order."""
    a = np.moveaxis(a, axis, 0)
    out = np.zeros((weights.shape[0],) + a.shape[1:], dtype=np.float64)
    for k in range(weights.shape[1]):
        w = weights[:, k].reshape((-1,) + (1,) * (a.ndim - 1))
        out = out + w * a[indices[:, k]]
    return np.moveaxis(out, 0, axis)


def matlab_round_uint8(a):
    """MATLAB's conversion to uint8: clip to 0...255, round half away from zero."""
    a = np.clip(np.asarray(a, dtype=np.float64), 0.0, 255.0)
    low = np.floor(a)
    return np.where(a - low >= 0.5, low + 1.0, low).astype(np.uint8)


def output_size(in_h, in_w, scale):
    """MATLAB's output size for a scalar scale: ceil(scale * size)."""
    return int(math.ceil(scale * in_h)), int(math.ceil(scale * in_w))


def imresize(img, scale=None, output_shape=None, antialiasing=True, round_between=False):
    """MATLAB imresize(img, scale, 'bicubic') or imresize(img, [h w], 'bicubic') on an HxW or HxWxC array.

    Works in float64 and returns float64 (no final rounding); see matlab_round_uint8.
    """
    a = np.asarray(img, dtype=np.float64)
    in_h, in_w = a.shape[:2]
    if output_shape is not None:
        out_h, out_w = output_shape
        scales = (out_h / in_h, out_w / in_w)
    else:
        out_h, out_w = output_size(in_h, in_w, scale)
        scales = (scale, scale)
    lengths = ((in_h, out_h), (in_w, out_w))
    order = sorted(range(2), key=lambda d: scales[d])  # stable: rows first on ties
    for dim in order:
        w, i = contributions(lengths[dim][0], lengths[dim][1], scales[dim], antialiasing)
        a = _resize_along(a, dim, w, i)
        if round_between:
            a = matlab_round_uint8(a).astype(np.float64)
    return a


def matlab_luma(rgb_u8):
    """MATLAB rgb2ycbcr luma of 8-bit RGB, unrounded, in [16, 235]: 16 + (65.481 R + 128.553 G + 24.966 B), RGB in [0, 1]."""
    x = np.asarray(rgb_u8, dtype=np.float64) / 255.0
    return 16.0 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2])


def psnr(a, b, border=0, peak=255.0):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if border:
        a = a[border:-border, border:-border]
        b = b[border:-border, border:-border]
    mse = np.mean((a - b) ** 2)
    return 10.0 * math.log10(peak * peak / mse)


def bicubic_baseline(hr_rgb, scale, round_between=False):
    """The protocol: crop HR to a multiple of scale, LR = uint8(imresize(HR, 1/s)), SR = uint8(imresize(LR, s))."""
    h, w = hr_rgb.shape[:2]
    hr = hr_rgb[: h - h % scale, : w - w % scale]
    lr = matlab_round_uint8(imresize(hr, 1.0 / scale, round_between=round_between))
    sr = matlab_round_uint8(imresize(lr, float(scale), round_between=round_between))
    return hr, lr, sr


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--set5', default=os.path.join(here, '..', '..', 'shared', 'datasets', 'Set5'))
    ap.add_argument('--scale', type=int, default=3)
    a = ap.parse_args()
    from PIL import Image

    names = sorted(n for n in os.listdir(a.set5) if n.endswith('.png'))
    if not names:
        sys.exit(f'no PNG images in {a.set5}')
    variants = (
        ('float between passes, unrounded Y', False, False),
        ('float between passes, Y rounded to uint8 (MATLAB rgb2ycbcr on uint8, as published tables)', False, True),
        ('uint8 between passes (MATLAB imresize on uint8 input), Y rounded to uint8', True, True),
    )
    for label, round_between, round_y in variants:
        values = []
        for n in names:
            hr_rgb = np.asarray(Image.open(os.path.join(a.set5, n)).convert('RGB'))
            hr, _, sr = bicubic_baseline(hr_rgb, a.scale, round_between)
            y_hr, y_sr = matlab_luma(hr), matlab_luma(sr)
            if round_y:
                y_hr, y_sr = matlab_round_uint8(y_hr), matlab_round_uint8(y_sr)
            values.append(psnr(y_hr, y_sr, border=a.scale))
        per_image = ', '.join(f'{n[:-4]} {v:.2f}' for n, v in zip(names, values))
        print(f'bicubic x{a.scale}, {label}: mean {np.mean(values):.4f} dB ({per_image})')

if __name__ == '__main__':
    main()
