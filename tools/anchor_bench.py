#!/usr/bin/env python3
"""Time the anchors superres is measured against, on the same inputs as `superres bench`.

  opencv  OpenCV's dnn_superres upsample() (as ../shared/tools/opencv_bench.py does, but also for W x H inputs);
  ncnn    the official ncnn Python package on the CPU, with the pre- and post-processing of tools/ncnn_reference.py
          (float32 by default, as superres computes; --ncnn-defaults keeps ncnn's own options).
  onnxruntime  PyPI's onnxruntime on the CPU (intra-op threads = --threads) on an .onnx file taking RGB in [0, 1],
          with the work superres does around an ONNX network: mirrored by 10 pixels, RGB / 255 as NCHW float32, the
          output cropped and written as floor(v * 255 + 0.5).

Every (size, threads) case runs in a child process of its own (so its peak RSS is its own). The input is the same
seeded crop of --image that `superres bench` takes (the same generator), warmed up --warmup times, then timed --runs
times; the median is reported. Rows go to stdout as a Markdown table and to --json as a list of objects.

    python tools/anchor_bench.py --engine opencv --model ../shared/models/opencv/FSRCNN_x3.pb --algo fsrcnn \\
        --scale 3 --sizes 256,640x360 --threads 2
    python tools/anchor_bench.py --engine ncnn --model STORE/srmdnf-x3/srmdnf_x3.param --algo srmd --scale 3 \\
        --sizes 64,128,256 --threads 2
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def parse_size(text):
    parts = text.lower().split("x")
    width, height = int(parts[0]), int(parts[-1])
    return width, height


def crop(image_path, width, height):
    """The crop `superres bench` takes: same 64-bit LCG, same seed, tiled when the image is smaller."""
    import numpy as np
    from PIL import Image
    rgb = np.asarray(Image.open(image_path).convert("RGB"))
    h, w = rgb.shape[:2]
    state = 1000 + width + (0 if width == height else 100_000 * height)

    def next_int(bound):
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return 0 if bound <= 1 else (state >> 33) % bound

    x0 = next_int(max(1, w - width + 1))
    y0 = next_int(max(1, h - height + 1))
    ys = (y0 + np.arange(height)) % h
    xs = (x0 + np.arange(width)) % w
    return np.ascontiguousarray(rgb[ys][:, xs])


def vm_hwm_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def child(a):
    width, height = parse_size(a.size)
    rgb = crop(a.image, width, height)
    if a.engine == "opencv":
        import cv2
        cv2.setNumThreads(a.threads_one)
        bgr = rgb[:, :, ::-1].copy()
        sr = cv2.dnn_superres.DnnSuperResImpl_create()
        sr.readModel(a.model)
        sr.setModel(a.algo, a.scale)
        step = lambda: sr.upsample(bgr)
        version = cv2.__version__
    elif a.engine == "onnxruntime":
        import numpy as np
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = a.threads_one
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(a.model, options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        pad = 10

        def step():
            padded = np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
            x = np.ascontiguousarray(np.transpose(padded.astype(np.float32) / 255, (2, 0, 1))[None])
            y = session.run(None, {name: x})[0][0]
            s = a.scale
            y = y[:, pad * s:(pad + height) * s, pad * s:(pad + width) * s]
            return np.clip(np.floor(np.transpose(y, (1, 2, 0)) * 255 + 0.5), 0, 255).astype(np.uint8)
        version = ort.__version__
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import ncnn
        import ncnn_reference
        if a.ncnn_defaults:
            net = ncnn.Net()  # ncnn's default options (fp16/bf16 storage where it supports them), on the CPU
            net.opt.use_vulkan_compute = False
            net.opt.num_threads = a.threads_one
            if net.load_param(a.model) != 0 or net.load_model(os.path.splitext(a.model)[0] + ".bin") != 0:
                raise SystemExit(f"{a.model}: ncnn could not load it")
        else:
            net = ncnn_reference.load_net(a.model, a.threads_one)
        noise = a.noise if (a.algo == "srmd" and "srmdnf" not in os.path.basename(a.model)) else None
        step = lambda: ncnn_reference.run(net, rgb, a.algo, noise, a.scale)
        version = ncnn.__version__
    rss_load = vm_hwm_mb()
    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(dict(engine=a.engine, version=version, model=os.path.basename(a.model), width=width,
                          height=height, threads=a.threads_one, runs=times, median_s=statistics.median(times),
                          min_s=min(times), rss_load_mb=round(rss_load, 1), rss_peak_mb=round(peak, 1),
                          options="ncnn defaults" if a.ncnn_defaults else "float32")))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", required=True, choices=["opencv", "ncnn", "onnxruntime"])
    ap.add_argument("--model", required=True,
                    help=".pb (opencv), .param with its .bin beside it (ncnn) or .onnx (onnxruntime)")
    ap.add_argument("--algo", required=True, help="opencv: edsr/espcn/fsrcnn/lapsrn; ncnn: srmd/realesrgan")
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--sizes", default="64,128,256", help="N or WxH, comma-separated")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--noise", type=int, default=3, help="SRMD (not SRMD-NF) noise level")
    ap.add_argument("--ncnn-defaults", action="store_true", help="ncnn's own options instead of float32")
    ap.add_argument("--image", default=os.path.join(here, "..", "..", "shared", "datasets", "Set14", "baboon.png"))
    ap.add_argument("--json")
    ap.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_size", dest="size", help=argparse.SUPPRESS)
    ap.add_argument("--_threads", type=int, dest="threads_one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._child:
        return child(a)
    rows = []
    for threads in [int(t) for t in a.threads.split(",")]:
        for size in a.sizes.split(","):
            command = [sys.executable, os.path.abspath(__file__), "--_child", "--engine", a.engine, "--model", a.model,
                       "--algo", a.algo, "--scale", str(a.scale), "--runs", str(a.runs), "--warmup", str(a.warmup),
                       "--noise", str(a.noise), "--image", a.image, "--_size", size, "--_threads", str(threads)]
            if a.ncnn_defaults:
                command.append("--ncnn-defaults")
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                print(result.stderr[-2000:], file=sys.stderr)
                sys.exit(result.returncode)
            row = json.loads(result.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"... {a.engine} {row['model']} {row['width']}x{row['height']} threads={threads}: "
                  f"median {row['median_s']:.4f} s", file=sys.stderr, flush=True)
    print("| engine | model | LR size | threads | median s | min s | RSS peak MB |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['engine']} {r['version']} | {r['model']} | {r['width']}×{r['height']} | {r['threads']} | "
              f"{r['median_s']:.4f} | {r['min_s']:.4f} | {r['rss_peak_mb']:.0f} |")
    if a.json:
        with open(a.json, "w") as out:
            json.dump(rows, out, indent=1)


if __name__ == "__main__":
    main()
