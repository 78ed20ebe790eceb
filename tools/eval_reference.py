#!/usr/bin/env python3
"""Independent reference numbers for superres's evaluation protocol (Sources/Evaluation), from scikit-image and OpenCV.

  metrics  PSNR and SSIM of small deterministic images, computed with scikit-image, written as the test fixture
           Tests/EvaluationTests/Fixtures/metrics.json:
             /work/venv-cv/bin/python tools/eval_reference.py metrics

  opencv   OpenCV 4.14 dnn_superres on LR images that superres made (so both get identical inputs), scored under
           the protocol (MATLAB Y rounded to integers, border = scale), written as a test fixture:
             superres eval --dataset ../shared/datasets/Set5 --scale 3 \
                 --model ../shared/models/opencv/FSRCNN_x3.pb --save-images /tmp/set5-x3
             /work/venv-cv/bin/python tools/eval_reference.py opencv --hr ../shared/datasets/Set5 \
                 --lr /tmp/set5-x3 --model ../shared/models/opencv/FSRCNN_x3.pb --algo fsrcnn --scale 3 \
                 --out Tests/EvaluationTests/Fixtures/opencv_fsrcnn_x3_set5.json
           It also checks the LR PNGs against tools/imresize_reference.py (MATLAB imresize in NumPy).

SSIM reference: skimage.metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=255) on float64 planes (an 11x11 window: radius int(3.5 * 1.5 + 0.5)).
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import imresize_reference as mr  # noqa: E402


def ssim(a, b):
    from skimage.metrics import structural_similarity
    return float(structural_similarity(np.asarray(a, np.float64), np.asarray(b, np.float64), gaussian_weights=True,
                                       sigma=1.5, use_sample_covariance=False, data_range=255))


def psnr(a, b):
    from skimage.metrics import peak_signal_noise_ratio
    return float(peak_signal_noise_ratio(np.asarray(a, np.float64), np.asarray(b, np.float64), data_range=255))


def crop(a, border):
    return a[border:a.shape[0] - border, border:a.shape[1] - border] if border else a


def luma(rgb_u8):
    """MATLAB rgb2ycbcr luma of uint8 RGB, rounded to uint8 as MATLAB does (grey g taken as (g, g, g))."""
    rgb = np.asarray(rgb_u8)
    if rgb.ndim == 2:
        rgb = np.stack([rgb] * 3, axis=-1)
    return mr.matlab_round_uint8(mr.matlab_luma(rgb)).astype(np.float64)


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for byte in bytes(data):
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f'{h:016x}'


def patterns(seed, height, width):
    """Deterministic test pictures: a gradient with noise, and a degraded copy of it."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = 40 + 3.5 * x + 2.0 * y + 25 * np.sin(x / 3.0) * np.cos(y / 5.0) + rng.normal(0, 12, (height, width))
    a = np.clip(np.round(base), 0, 255).astype(np.uint8)
    blurred = (a.astype(np.float64) + np.roll(a, 1, axis=1) + np.roll(a, 1, axis=0)) / 3
    b = np.clip(np.round(blurred + rng.normal(0, 6, (height, width))), 0, 255).astype(np.uint8)
    return a, b


def metrics(args):
    cases = []
    # Grey planes used directly as Y (integers 0...255), at several borders.
    for seed, (h, w) in ((1, (32, 40)), (2, (40, 32)), (3, (24, 24))):
        a, b = patterns(seed, h, w)
        for border in (0, 3):
            cases.append(dict(name=f'grey-seed{seed}-{w}x{h}-border{border}', kind='plane', width=w, height=h,
                              border=border, a=a.reshape(-1).tolist(), b=b.reshape(-1).tolist(),
                              psnr=psnr(crop(a, border), crop(b, border)),
                              ssim=ssim(crop(a, border), crop(b, border))))
    # Random (not smooth) planes: SSIM near 0.
    rng = np.random.default_rng(7)
    a = rng.integers(0, 256, (32, 40)).astype(np.uint8)
    b = rng.integers(0, 256, (32, 40)).astype(np.uint8)
    cases.append(dict(name='uniform-noise-40x32', kind='plane', width=40, height=32, border=0,
                      a=a.reshape(-1).tolist(), b=b.reshape(-1).tolist(), psnr=psnr(a, b), ssim=ssim(a, b)))
    # RGB images through MATLAB's rounded luma, border 2 and 4.
    for seed, border in ((11, 2), (12, 4)):
        channels = [patterns(seed * 10 + c, 32, 40) for c in range(3)]
        a = np.stack([p[0] for p in channels], axis=-1)
        b = np.stack([p[1] for p in channels], axis=-1)
        ya, yb = luma(a), luma(b)
        cases.append(dict(name=f'rgb-seed{seed}-40x32-border{border}', kind='rgb', width=40, height=32,
                          border=border, a=a.reshape(-1).tolist(), b=b.reshape(-1).tolist(),
                          psnr=psnr(crop(ya, border), crop(yb, border)),
                          ssim=ssim(crop(ya, border), crop(yb, border))))
    import skimage
    out = dict(generator='tools/eval_reference.py metrics', skimage=skimage.__version__,
               ssim='structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, '
                    'data_range=255)', cases=cases)
    with open(args.out, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
        f.write('\n')
    for c in cases:
        print(f"{c['name']}: PSNR {c['psnr']:.6f} dB, SSIM {c['ssim']:.6f}")


def opencv(args):
    import cv2
    names = sorted(n for n in os.listdir(args.hr) if n.lower().endswith('.png'))
    sr = cv2.dnn_superres.DnnSuperResImpl_create()
    sr.readModel(args.model)
    sr.setModel(args.algo, args.scale)
    s = args.scale
    images = []
    for name in names:
        stem = os.path.splitext(name)[0]
        hr = cv2.imread(os.path.join(args.hr, name), cv2.IMREAD_UNCHANGED)
        hr = hr[: hr.shape[0] - hr.shape[0] % s, : hr.shape[1] - hr.shape[1] % s]
        hr_rgb = hr[..., ::-1] if hr.ndim == 3 else hr
        lr_path = os.path.join(args.lr, stem, 'lr.png')
        lr_bgr = cv2.imread(lr_path, cv2.IMREAD_COLOR)
        if lr_bgr is None:
            sys.exit(f'cannot read {lr_path}: run superres eval --save-images first')
        lr_rgb = lr_bgr[..., ::-1]
        expected_lr = mr.matlab_round_uint8(mr.imresize(hr_rgb, 1.0 / s))
        if expected_lr.ndim == 2:
            expected_lr = np.stack([expected_lr] * 3, axis=-1)
        lr_diff = int(np.abs(expected_lr.astype(int) - lr_rgb.astype(int)).max())
        out_rgb = sr.upsample(lr_bgr)[..., ::-1]
        value = mr.psnr(luma(hr_rgb), luma(out_rgb), border=s)
        images.append(dict(image=name, psnr=value, lrWidth=int(lr_rgb.shape[1]), lrHeight=int(lr_rgb.shape[0]),
                           lrFNV1a64=fnv1a64(np.ascontiguousarray(lr_rgb).tobytes()),
                           lrMaxDifferenceFromNumPyReference=lr_diff))
        print(f'{name}: PSNR {value:.4f} dB (LR {lr_rgb.shape[1]}x{lr_rgb.shape[0]}, '
              f'max |LR - NumPy imresize| = {lr_diff})')
    out = dict(generator='tools/eval_reference.py opencv', opencv=cv2.__version__,
               model=os.path.relpath(args.model, os.path.join(ROOT, '..', 'shared')), algo=args.algo, scale=s,
               meanPSNR=float(np.mean([i['psnr'] for i in images])), images=images)
    print(f"mean PSNR {out['meanPSNR']:.4f} dB")
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(out, f, indent=1)
            f.write('\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='command', required=True)
    m = sub.add_parser('metrics', help='PSNR/SSIM fixture from scikit-image')
    m.add_argument('--out', default=os.path.join(ROOT, 'Tests', 'EvaluationTests', 'Fixtures', 'metrics.json'))
    o = sub.add_parser('opencv', help='OpenCV dnn_superres on superres-made LR images')
    o.add_argument('--hr', required=True, help='folder of HR images (e.g. ../shared/datasets/Set5)')
    o.add_argument('--lr', required=True, help='the --save-images folder of superres eval for that data set')
    o.add_argument('--model', required=True)
    o.add_argument('--algo', required=True, choices=['espcn', 'fsrcnn', 'lapsrn'])
    o.add_argument('--scale', type=int, required=True)
    o.add_argument('--out')
    a = ap.parse_args()
    {'metrics': metrics, 'opencv': opencv}[a.command](a)


if __name__ == '__main__':
    main()
