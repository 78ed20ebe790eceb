#!/usr/bin/env python3
"""Make the fixtures of ImagingTests' colour and resize suites from OpenCV (cv2 4.14) and tools/imresize_reference.py.

    /work/venv-cv/bin/python tools/make_imaging_test_vectors.py [--exhaustive]

Writes Tests/ImagingTests/Fixtures/colour_vectors.json, resize_opencv.json and resize_matlab.json, and prints what it
checked. Along the way it checks, against cv2, the formulas the Swift code implements:

* 8-bit BGR/RGB <-> YCrCb and RGB/BGR -> grey: OpenCV's fixed-point integer formulas, on all 2^24 triples;
* float YCrCb and grey: the fused multiply-adds of OpenCV's SIMD code and of IPP;
* CV_32F resize: IPP's bilinear (`fma(S1 - S0, t, S0)`, double-precision source coordinates) and OpenCV's own
  bilinear and bicubic code (cv2.ipp.setUseIPP(False)).

Large outputs are not stored: the inputs come from an integer hash that the Swift tests recompute, and the outputs
are summarised by two 64-bit checksums of their bit patterns plus a few sample values. The checksum of a sequence
of unsigned integers v[0..n) is  c1 = sum((i + 1) * v[i]),  c2 = sum(((i + 1) * 0x9E3779B97F4A7C15) * v[i]),
both modulo 2^64.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import cv2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import imresize_reference as mr  # noqa: E402

FIXTURES = os.path.join(HERE, '..', 'Tests', 'ImagingTests', 'Fixtures')
f32 = np.float32
f64 = np.float64
GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def checksums(values):
    """(c1, c2) as decimal strings over the unsigned integers in `values` (uint8, uint32 or uint64 array)."""
    v = np.ascontiguousarray(values).reshape(-1).astype(np.uint64)
    i = np.arange(1, v.size + 1, dtype=np.uint64)
    with np.errstate(over='ignore'):
        c1 = np.sum(i * v, dtype=np.uint64)
        c2 = np.sum((i * GOLDEN) * v, dtype=np.uint64)
    return [str(int(c1)), str(int(c2))]


def float_bits(a):
    return np.ascontiguousarray(a, dtype=f32).view(np.uint32)


def double_bits(a):
    return np.ascontiguousarray(a, dtype=f64).view(np.uint64)


def pattern(width, height, seed, kind):
    """The hashed test image the Swift tests rebuild: 'u8' gives k / 255 for k in 0...255, 'unit' k / 65535."""
    y, x = np.mgrid[0:height, 0:width].astype(np.uint32)
    with np.errstate(over='ignore'):
        h = (x * np.uint32(73856093)) ^ (y * np.uint32(19349663)) ^ np.uint32((seed * 83492791) & 0xFFFFFFFF)
        h = h * np.uint32(0x85EBCA6B)
        h = h ^ (h >> np.uint32(13))
    if kind == 'u8':
        return (h & np.uint32(255)).astype(f32) / f32(255)
    return (h & np.uint32(0xFFFF)).astype(f32) / f32(65535)


def fma32(a, b, c):
    """Fused multiply-add in float32, through float64 (exact product; the sum is rounded twice, close enough here)."""
    return (np.asarray(a, f64) * np.asarray(b, f64) + np.asarray(c, f64)).astype(f32)


# ---------------------------------------------------------------------------------------------- colour

def desc(x, n):
    return (x + (1 << (n - 1))) >> n


def ycrcb_u8(b, g, r):
    y = desc(b * 1868 + g * 9617 + r * 4899, 14)
    cr = desc((r - y) * 11682 + (128 << 14), 14)
    cb = desc((b - y) * 9241 + (128 << 14), 14)
    return [np.clip(c, 0, 255).astype(np.uint8) for c in (y, cr, cb)]


def bgr_from_ycrcb_u8(y, cr, cb):
    cr = cr - 128
    cb = cb - 128
    b = y + desc(cb * 29049, 14)
    g = y + desc(cb * -5636 + cr * -11698, 14)
    r = y + desc(cr * 22987, 14)
    return [np.clip(c, 0, 255).astype(np.uint8) for c in (b, g, r)]


def grey_u8(b, g, r):
    return desc(r * 9798 + g * 19235 + b * 3735, 15).astype(np.uint8)


def colour_vectors(exhaustive_python_check):
    out = {}
    v = np.arange(1 << 24, dtype=np.int64)
    c0, c1, c2 = (v >> 16) & 255, (v >> 8) & 255, v & 255
    every = np.stack([c0, c1, c2], -1).astype(np.uint8).reshape(4096, 4096, 3)
    conversions = {
        'bgrToYCrCb': cv2.COLOR_BGR2YCrCb, 'rgbToYCrCb': cv2.COLOR_RGB2YCrCb,
        'ycrcbToBGR': cv2.COLOR_YCrCb2BGR, 'ycrcbToRGB': cv2.COLOR_YCrCb2RGB,
        'rgbToGrey': cv2.COLOR_RGB2GRAY, 'bgrToGrey': cv2.COLOR_BGR2GRAY,
    }
    cv_out = {name: cv2.cvtColor(every, code).reshape(1 << 24, -1) for name, code in conversions.items()}
    if exhaustive_python_check:
        mine = {
            'bgrToYCrCb': np.stack(ycrcb_u8(c0, c1, c2), -1),
            'rgbToYCrCb': np.stack(ycrcb_u8(c2, c1, c0), -1),
            'ycrcbToBGR': np.stack(bgr_from_ycrcb_u8(c0, c1, c2), -1),
            'ycrcbToRGB': np.stack(bgr_from_ycrcb_u8(c0, c1, c2)[::-1], -1),
            'rgbToGrey': grey_u8(c2, c1, c0)[:, None],
            'bgrToGrey': grey_u8(c0, c1, c2)[:, None],
        }
        for name in conversions:
            bad = int(np.any(mine[name] != cv_out[name], axis=1).sum())
            print(f'  8-bit {name}: integer formula vs cv2 on all 2^24 triples: {bad} mismatches')
            assert bad == 0
        yf = 0.299 * c2 + 0.587 * c1 + 0.114 * c0
        naive = np.stack([np.round(yf), np.round((c2 - yf) * 0.713 + 128), np.round((c0 - yf) * 0.564 + 128)], -1)
        naive = np.clip(naive, 0, 255).astype(np.uint8)
        print(f'  (a naive float BGR->YCrCb rounded to nearest differs from cv2 on '
              f'{int(np.any(naive != cv_out["bgrToYCrCb"], axis=1).sum())} of 2^24 triples)')
    out['exhaustive'] = {name: checksums(cv_out[name]) for name in conversions}

    rng = np.random.default_rng(20240611)
    sample = rng.integers(0, 256, (512, 3), dtype=np.uint8)
    # Corners of the cube and the neutral greys, where saturation and rounding are most likely to bite.
    corners = np.array([[a, b, c] for a in (0, 255) for b in (0, 255) for c in (0, 255)]
                       + [[k, k, k] for k in (1, 127, 128, 129, 254)]
                       + [[0, 0, 255], [255, 255, 0], [16, 128, 128], [235, 240, 16]], dtype=np.uint8)
    sample = np.concatenate([corners, sample])
    img = sample.reshape(1, -1, 3)
    out['u8'] = {'input': sample.reshape(-1).tolist()}
    for name, code in conversions.items():
        out['u8'][name] = cv2.cvtColor(img, code).reshape(-1).tolist()

    # Float conversions: 256 pixels in one row (the SIMD path), values in 0...1 plus a few outside.
    fl = rng.random((256, 3)).astype(f32)
    fl[:6] = np.array([[0, 0, 0], [1, 1, 1], [0.5, 0.5, 0.5], [1, 0, 0], [0, 1, 0], [-0.25, 1.5, 0.75]], f32)
    img = fl.reshape(1, -1, 3)
    out['f32'] = {'input': float_bits(fl).reshape(-1).tolist()}
    for name, code in conversions.items():
        res = cv2.cvtColor(img, code).reshape(fl.shape[0], -1)
        out['f32'][name] = float_bits(res).reshape(-1).tolist()
    # Check the fused multiply-adds the Swift code uses.
    b, g, r = fl[:, 0], fl[:, 1], fl[:, 2]
    y = fma32(b, f32(0.114), fma32(g, f32(0.587), r * f32(0.299)))
    ours = np.stack([y, fma32(r - y, f32(0.713), f32(0.5)), fma32(b - y, f32(0.564), f32(0.5))], -1)
    assert np.array_equal(float_bits(ours).reshape(-1), np.array(out['f32']['bgrToYCrCb'], np.uint32))
    rr, gg, bb = fl[:, 0], fl[:, 1], fl[:, 2]
    y = fma32(rr, f32(0.299), fma32(gg, f32(0.587), bb * f32(0.114)))
    ours = np.stack([y, fma32(rr - y, f32(0.713), f32(0.5)), fma32(bb - y, f32(0.564), f32(0.5))], -1)
    assert np.array_equal(float_bits(ours).reshape(-1), np.array(out['f32']['rgbToYCrCb'], np.uint32))
    yy, cr, cb = fl[:, 0], fl[:, 1] - f32(0.5), fl[:, 2] - f32(0.5)
    bgr = np.stack([fma32(cb, f32(1.773), yy), fma32(cr, f32(-0.714), fma32(cb, f32(-0.344), yy)),
                    fma32(cr, f32(1.403), yy)], -1)
    assert np.array_equal(float_bits(bgr).reshape(-1), np.array(out['f32']['ycrcbToBGR'], np.uint32))
    grey = fma32(fl[:, 2], f32(0.114), fma32(fl[:, 0], f32(0.299), fl[:, 1] * f32(0.587)))
    assert np.array_equal(float_bits(grey), np.array(out['f32']['rgbToGrey'], np.uint32))
    grey = fma32(fl[:, 2], f32(0.299), fma32(fl[:, 0], f32(0.114), fl[:, 1] * f32(0.587)))
    assert np.array_equal(float_bits(grey), np.array(out['f32']['bgrToGrey'], np.uint32))
    print('  float YCrCb / grey: the fused multiply-add formulas match cv2 on all 256 pixels')

    # MATLAB luma of the 8-bit sample (RGB order), unrounded and rounded.
    luma = mr.matlab_luma(sample.reshape(-1, 3))
    out['matlabLuma'] = {'input': sample.reshape(-1).tolist(), 'bits': [str(int(b)) for b in double_bits(luma)],
                         'rounded': mr.matlab_round_uint8(luma).tolist()}
    return out


# ---------------------------------------------------------------------------------------------- resize

def ipp_linear(a, dw, dh):
    h, w = a.shape

    def table(n_in, n_out):
        c = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        i = np.floor(c)
        return np.clip(i, 0, n_in - 1).astype(int), np.clip(i + 1, 0, n_in - 1).astype(int), (c - i).astype(f32)
    x0, x1, tx = table(w, dw)
    y0, y1, ty = table(h, dh)
    hor = fma32(a[:, x1] - a[:, x0], tx[None, :], a[:, x0])
    return fma32(hor[y1] - hor[y0], ty[:, None], hor[y0])


def resize_cases():
    cases = []
    specs = []
    for s in (2, 3, 4, 8):
        specs.append((37, 29, 37 * s, 29 * s, 'u8', 1))
    specs += [(29, 37, 87, 111, 'unit', 2), (64, 48, 192, 144, 'u8', 3), (50, 50, 151, 149, 'unit', 4),
              (37, 29, 23, 20, 'unit', 5), (38, 30, 19, 15, 'u8', 6), (100, 100, 33, 77, 'unit', 7),
              (2, 2, 16, 16, 'unit', 8), (5, 7, 15, 21, 'u8', 9), (1, 9, 3, 27, 'u8', 10), (9, 1, 27, 3, 'unit', 11),
              (1, 1, 4, 4, 'unit', 12), (200, 150, 800, 600, 'u8', 13)]
    stats = {}
    for (w, h, dw, dh, kind, seed) in specs:
        a = pattern(w, h, seed, kind)
        for interp, backend in (('linear', 'intelIPP'), ('linear', 'native'), ('cubic', 'native')):
            if backend == 'native' and interp == 'linear' and dw * 2 == w and dh * 2 == h:
                continue  # OpenCV switches an exact 2x shrink to INTER_AREA; not reproduced
            cv2.ipp.setUseIPP(backend == 'intelIPP')
            flag = cv2.INTER_LINEAR if interp == 'linear' else cv2.INTER_CUBIC
            res = cv2.resize(a, (dw, dh), interpolation=flag)
            cv2.ipp.setUseIPP(True)
            if backend == 'intelIPP' and w >= 2 and h >= 2:
                emu = ipp_linear(a, dw, dh)
                assert np.array_equal(emu, res), f'IPP emulation differs for {w}x{h}->{dw}x{dh}'
            bits = float_bits(res).reshape(-1)
            rng = np.random.default_rng(seed)
            where = sorted(set([0, bits.size - 1] + rng.integers(0, bits.size, 30).tolist()))
            u8 = np.clip(np.rint(res.astype(f32) * f32(255)), 0, 255).astype(np.uint8)  # convertTo(CV_8U, 255)
            cases.append({'width': w, 'height': h, 'toWidth': dw, 'toHeight': dh, 'pattern': kind, 'seed': seed,
                          'interpolation': interp, 'backend': backend, 'checksums': checksums(bits),
                          'uint8Checksums': checksums(u8),
                          'samples': [[int(i), int(bits[i])] for i in where]})
            if interp == 'cubic':
                ipp = cv2.resize(a, (dw, dh), interpolation=cv2.INTER_CUBIC)
                d = float(np.abs(ipp - res).max())
                stats['cubic native vs IPP'] = max(stats.get('cubic native vs IPP', 0.0), d)
                cases[-1]['maxAbsDiffFromIPP'] = d
            if interp == 'linear' and backend == 'native':
                ipp = cv2.resize(a, (dw, dh))
                d = float(np.abs(ipp - res).max())
                stats['linear native vs IPP'] = max(stats.get('linear native vs IPP', 0.0), d)
                u8ipp = np.clip(np.rint(ipp * f32(255)), 0, 255).astype(np.uint8)
                stats['linear native vs IPP, 8-bit values differing'] = (
                    stats.get('linear native vs IPP, 8-bit values differing', 0) + int((u8ipp != u8).sum()))
    cv2.ipp.setUseIPP(True)
    for k, v in stats.items():
        print(f'  {k}: {v}')
    print(f'  {len(cases)} OpenCV resize cases; the IPP emulation matched cv2 exactly on every IPP case')
    return cases


def matlab_cases():
    out = {'cases': []}
    specs = [(37, 29, 'scale', 0.5, 'u8255', 1), (37, 29, 'scale', 1 / 3, 'u8255', 2), (37, 29, 'scale', 0.25, 'u8255', 3),
             (37, 29, 'scale', 2.0, 'u8255', 4), (37, 29, 'scale', 3.0, 'u8255', 5), (37, 29, 'scale', 4.0, 'unit', 6),
             (40, 30, 'size', (50, 20), 'u8255', 7), (40, 30, 'size', (20, 50), 'unit', 8),
             (9, 7, 'scale', 1 / 3, 'u8255', 9), (255, 255, 'scale', 1 / 3, 'u8255', 10), (5, 4, 'scale', 8.0, 'unit', 11)]
    for (w, h, mode, arg, kind, seed) in specs:
        a = pattern(w, h, seed, 'u8' if kind == 'u8255' else 'unit').astype(f64)
        if kind == 'u8255':
            a = np.rint(a * 255.0)  # integer values 0...255, as 8-bit images are
        if mode == 'scale':
            res = mr.imresize(a, scale=arg)
            case = {'scale': arg}
        else:
            res = mr.imresize(a, output_shape=(arg[1], arg[0]))
            case = {'toWidth': arg[0], 'toHeight': arg[1]}
        bits = double_bits(res).reshape(-1)
        rng = np.random.default_rng(seed)
        where = sorted(set([0, bits.size - 1] + rng.integers(0, bits.size, 20).tolist()))
        case.update({'width': w, 'height': h, 'pattern': 'u8' if kind == 'u8255' else 'unit',
                     'integerValues': kind == 'u8255', 'seed': seed, 'outWidth': res.shape[1],
                     'outHeight': res.shape[0], 'checksums': checksums(bits),
                     'uint8Checksums': checksums(mr.matlab_round_uint8(res)),
                     'samples': [[str(int(i)), str(int(bits[i]))] for i in where]})
        out['cases'].append(case)

    # The evaluation protocol on a 48x48 crop of Set5 bird (if the shared data set is there).
    path = os.path.join(HERE, '..', '..', 'shared', 'datasets', 'Set5', 'bird.png')
    from PIL import Image
    hr = np.asarray(Image.open(path).convert('RGB'))[96:144, 120:168]
    hr, lr, sr = mr.bicubic_baseline(hr, 3)
    out['protocol'] = {
        'source': 'Set5/bird.png rows 96..<144, columns 120..<168 (RGB)', 'scale': 3,
        'hr': hr.reshape(-1).tolist(), 'lrWidth': lr.shape[1], 'lrHeight': lr.shape[0],
        'lr': lr.reshape(-1).tolist(), 'sr': sr.reshape(-1).tolist(),
        'psnrY': mr.psnr(mr.matlab_luma(hr), mr.matlab_luma(sr), border=3),
        'psnrYRounded': mr.psnr(mr.matlab_round_uint8(mr.matlab_luma(hr)), mr.matlab_round_uint8(mr.matlab_luma(sr)),
                                border=3),
    }
    print(f'  {len(out["cases"])} MATLAB imresize cases; protocol crop PSNR(Y) = {out["protocol"]["psnrY"]:.4f} dB')
    return out


def write(name, obj):
    path = os.path.join(FIXTURES, name)
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--skip-exhaustive', action='store_true',
                    help='do not re-check the integer formulas on all 2^24 triples in Python (cv2 checksums are '
                         'written either way)')
    a = ap.parse_args()
    print(f'OpenCV {cv2.__version__}, IPP {cv2.ipp.getIppVersion()} in use: {cv2.ipp.useIPP()}')
    os.makedirs(FIXTURES, exist_ok=True)
    write('colour_vectors.json', colour_vectors(not a.skip_exhaustive))
    write('resize_opencv.json', {'opencv': cv2.__version__, 'cases': resize_cases()})
    write('resize_matlab.json', matlab_cases())


if __name__ == '__main__':
    main()
