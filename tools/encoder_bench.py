#!/usr/bin/env python3
"""Encoder speed and size behind superres's PNG, JPEG and WebP defaults, beside OpenCV's imwrite on the same images.

The images are the eight 1920x1080 results of OpenCV's FSRCNN_x3 on the first eight BSD68 images resized to 640x360
(what `superres upscale` writes in the whole-job benchmark). tools/encoder_bench.c is compiled against the project's
PNG writer (Sources/CImageShims/png_writer.c) and the system's libdeflate, libjpeg-turbo and libwebp, and timed on one
thread; OpenCV's imencode is timed with cv2.setNumThreads(1) on the same pixels. Seconds are per image.

    .build/opencv-venv/bin/python tools/encoder_bench.py [--shared ../shared]
"""
import argparse
import os
import subprocess
import tempfile
import time

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    a = ap.parse_args()
    cv2.setNumThreads(1)
    sr = cv2.dnn_superres.DnnSuperResImpl_create()
    sr.readModel(os.path.join(a.shared, "models", "opencv", "FSRCNN_x3.pb"))
    sr.setModel("fsrcnn", 3)
    source = os.path.join(a.shared, "datasets", "BSD68")
    names = sorted(n for n in os.listdir(source) if n.endswith(".png"))[:8]
    with tempfile.TemporaryDirectory() as work:
        images, arguments = [], []
        for name in names:
            small = cv2.resize(cv2.imread(os.path.join(source, name)), (640, 360), interpolation=cv2.INTER_AREA)
            image = sr.upsample(small)
            images.append(image)
            path = os.path.join(work, name + ".rgb")
            image[:, :, ::-1].tofile(path)
            arguments += [str(image.shape[1]), str(image.shape[0]), path]
        binary = os.path.join(work, "encoder_bench")
        shims = os.path.join(ROOT, "Sources", "CImageShims")
        subprocess.run(["clang", "-O2", "-I", os.path.join(shims, "include"), "-I", shims,
                        os.path.join(ROOT, "tools", "encoder_bench.c"), os.path.join(shims, "png_writer.c"),
                        os.path.join(shims, "buffer.c"), "-ldeflate", "-ljpeg", "-lwebp", "-o", binary], check=True)
        ours = subprocess.run([binary, *arguments], check=True, capture_output=True, text=True).stdout

    def opencv(extension, parameters):
        start = time.perf_counter()
        size = sum(len(cv2.imencode(extension, image, parameters)[1]) for image in images)
        return (time.perf_counter() - start) / len(images), size

    print("| encoder | setting | s per 1920×1080 image | MB for the 8 images |")
    print("|---|---|---|---|")
    for extension, parameters, label in [
        (".png", [], "PNG, imwrite default (zlib 1, RLE, Sub)"),
        (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 75], "JPEG q75"), (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 90], "JPEG q90"),
        (".jpg", [], "JPEG q95 (default)"),
        (".webp", [cv2.IMWRITE_WEBP_QUALITY, 75], "WebP q75"), (".webp", [cv2.IMWRITE_WEBP_QUALITY, 90], "WebP q90"),
        (".webp", [cv2.IMWRITE_WEBP_QUALITY, 95], "WebP q95"), (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101], "WebP lossless"),
    ]:
        seconds, size = opencv(extension, parameters)
        print(f"| OpenCV {cv2.__version__} | {label} | {seconds:.4f} | {size / 1e6:.2f} |")
    for line in ours.splitlines():
        fields = line.split()
        setting = " ".join(fields[1:-2]) if fields[0] != "png" else " ".join(fields[1:3])
        seconds, size = float(fields[-2] if fields[0] != "png" else fields[3]), int(
            fields[-1] if fields[0] != "png" else fields[4])
        extra = f" (filtering {fields[5].split('=')[1]} s)" if fields[0] == "png" else ""
        print(f"| superres {fields[0]} | {setting}{extra} | {seconds:.4f} | {size / 1e6:.2f} |")


if __name__ == "__main__":
    main()
