#!/usr/bin/env python3
"""What `--precision bf16` costs in pixels: superres's bf16 output against its fp32 output, in 8-bit grey levels.

Runs `superres upscale` twice (fp32, bf16) per model and input, and prints a Markdown table of the mean and largest
absolute difference and the share of identical samples. Inputs: every case of shared/reference (the OpenCV models
and the EDSR fixtures, the full-size one included), plus, with --image, seeded random crops of one image at the
given sizes (as `superres bench` makes them), and the ncnn models named with --ncnn (installed in the model store).

    .build/opencv-venv/bin/python tools/precision_cost.py [--superres .build/release/superres]
        [--image ../shared/datasets/Set14/baboon.png --sizes 128] [--ncnn srmdnf-x3,realesr-animevideov3-x3]

Needs numpy and Pillow (the OpenCV virtual environment of scripts/bench-vs-opencv has both).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image


def upscale(superres, model, source, precision, target, extra):
    subprocess.run([superres, 'upscale', source, '-o', target, '--model', model, '--precision', precision] + extra,
                   check=True, stdout=subprocess.DEVNULL)
    return np.asarray(Image.open(target)).astype(np.int32)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--superres', default='.build/release/superres')
    parser.add_argument('--shared', default=os.environ.get('SUPERRES_SHARED', '../shared'))
    parser.add_argument('--image', help='also crop this image (seeded, centre-weighted like superres bench)')
    parser.add_argument('--sizes', default='128', help='crop sizes for --image, comma-separated')
    parser.add_argument('--crop-models', default='models/fixtures/edsr_full_x3.pb',
                        help='models (relative to shared/) run on the crops, comma-separated')
    parser.add_argument('--ncnn', default='', help='catalogue names of ncnn models to run on butterfly_lr_x3.png')
    parser.add_argument('--json', help='also write the rows here')
    args = parser.parse_args()

    cases = []
    for manifest in sorted(glob.glob(os.path.join(args.shared, 'reference', '*', 'manifest.json'))):
        for case in json.load(open(manifest))['cases']:
            cases.append((os.path.join(args.shared, case['model']),
                          os.path.join(args.shared, 'reference', case['input']),
                          ['--algo', case['algo'], '--scale', str(case['scale'])]))
    work = tempfile.mkdtemp()
    if args.image:
        picture = Image.open(args.image).convert('RGB')
        rng = np.random.default_rng(0)
        for size in (int(s) for s in args.sizes.split(',')):
            x = int(rng.integers(0, max(1, picture.width - size)))
            y = int(rng.integers(0, max(1, picture.height - size)))
            crop = os.path.join(work, f'crop{size}.png')
            picture.crop((x, y, x + size, y + size)).save(crop)
            for model in args.crop_models.split(','):
                cases.append((os.path.join(args.shared, model), crop, []))
    for name in filter(None, args.ncnn.split(',')):
        cases.append((name, os.path.join(args.shared, 'reference', 'inputs', 'butterfly_lr_x3.png'), []))

    rows = []
    for model, source, extra in cases:
        fp32 = upscale(args.superres, model, source, 'fp32', os.path.join(work, 'fp32.png'), extra)
        bf16 = upscale(args.superres, model, source, 'bf16', os.path.join(work, 'bf16.png'), extra)
        difference = np.abs(fp32 - bf16)
        rows.append(dict(model=os.path.basename(model), input=os.path.basename(source),
                         size=f'{fp32.shape[1]}×{fp32.shape[0]}', mean=float(difference.mean()),
                         max=int(difference.max()), identical=float((difference == 0).mean())))
        print(f'... {rows[-1]}', file=sys.stderr)
    print('| model | input | output size | mean abs. difference (grey levels) | largest | identical samples |')
    print('|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['model']} | {r['input']} | {r['size']} | {r['mean']:.3f} | {r['max']} | {100 * r['identical']:.1f}% |")
    if args.json:
        json.dump(rows, open(args.json, 'w'), indent=1)


if __name__ == '__main__':
    main()
