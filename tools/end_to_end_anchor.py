#!/usr/bin/env python3
"""The anchors of the whole-job benchmark (scripts/bench-end-to-end): file to file, as a user's own loop does it.

  opencv-folder  OpenCV's dnn_superres over a folder in one warm process: the net is loaded and run once on the
                 first image untimed, then each file is timed through cv2.imread, upsample() and cv2.imwrite
                 (OpenCV's default PNG settings). Prints one JSON object: total and split seconds, output bytes.
  ncnn-file      the official ncnn package on one file in a warm process: cv2.imread, the reference program's
                 pre-processing and extract (tools/ncnn_reference.py), cv2.imwrite; warm-up once, then --runs
                 timed runs, the median of each part reported.
  enhance        POST /enhance of one file to a running superres service, --runs times after one warm-up:
                 the median latency and the medians of the Server-Timing entries.
"""
import argparse
import json
import os
import statistics
import sys
import time


def opencv_folder(a):
    import cv2
    cv2.setNumThreads(a.threads)
    sr = cv2.dnn_superres.DnnSuperResImpl_create()
    sr.readModel(a.model)
    sr.setModel(a.algo, a.scale)
    names = sorted(n for n in os.listdir(a.input) if n.lower().endswith(".png"))
    sr.upsample(cv2.imread(os.path.join(a.input, names[0])))  # warm-up: weight transforms, allocations
    os.makedirs(a.output, exist_ok=True)
    read = network = write = 0.0
    start = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        image = cv2.imread(os.path.join(a.input, name))
        t1 = time.perf_counter()
        result = sr.upsample(image)
        t2 = time.perf_counter()
        if not cv2.imwrite(os.path.join(a.output, name), result):
            raise SystemExit(f"{name}: imwrite failed")
        t3 = time.perf_counter()
        read, network, write = read + t1 - t0, network + t2 - t1, write + t3 - t2
    total = time.perf_counter() - start
    size = sum(os.path.getsize(os.path.join(a.output, n)) for n in names)
    print(json.dumps(dict(engine="opencv " + cv2.__version__, images=len(names), total_s=total, decode_s=read,
                          network_s=network, encode_s=write, bytes=size)))


def ncnn_file(a):
    import cv2
    import ncnn
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import ncnn_reference
    cv2.setNumThreads(a.threads)
    net = ncnn_reference.load_net(a.model, a.threads)
    noise = a.noise if (a.algo == "srmd" and "srmdnf" not in os.path.basename(a.model)) else None

    def once():
        t0 = time.perf_counter()
        bgr = cv2.imread(a.input)
        t1 = time.perf_counter()
        rgb = ncnn_reference.run(net, bgr[:, :, ::-1].copy(), a.algo, noise, a.scale)
        t2 = time.perf_counter()
        if not cv2.imwrite(a.output, rgb[:, :, ::-1]):
            raise SystemExit(f"{a.output}: imwrite failed")
        t3 = time.perf_counter()
        return t3 - t0, t1 - t0, t2 - t1, t3 - t2

    once()
    runs = [once() for _ in range(a.runs)]
    median = [statistics.median(r[i] for r in runs) for i in range(4)]
    print(json.dumps(dict(engine="ncnn " + ncnn.__version__, total_s=median[0], decode_s=median[1],
                          network_s=median[2], encode_s=median[3], bytes=os.path.getsize(a.output))))


def enhance(a):
    import urllib.request
    import uuid
    with open(a.input, "rb") as f:
        data = f.read()
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{os.path.basename(a.input)}\""
            f"\r\nContent-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()

    def once():
        request = urllib.request.Request(a.url, data=body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        start = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            payload = response.read()
            timing = response.headers.get("Server-Timing", "")
        elapsed = time.perf_counter() - start
        parts = {}
        for entry in timing.split(","):
            name, _, duration = entry.strip().partition(";dur=")
            if duration:
                parts[name] = float(duration) / 1000
        return elapsed, parts, len(payload)

    once()
    runs = [once() for _ in range(a.runs)]
    names = sorted({n for _, parts, _ in runs for n in parts})
    print(json.dumps(dict(requests=a.runs, median_s=statistics.median(r[0] for r in runs),
                          min_s=min(r[0] for r in runs), bytes=runs[-1][2],
                          server_timing={n: statistics.median(parts.get(n, 0) for _, parts, _ in runs)
                                         for n in names})))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["opencv-folder", "ncnn-file", "enhance"])
    ap.add_argument("--model")
    ap.add_argument("--algo")
    ap.add_argument("--scale", type=int)
    ap.add_argument("--noise", type=int, default=3)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--url")
    a = ap.parse_args()
    {"opencv-folder": opencv_folder, "ncnn-file": ncnn_file, "enhance": enhance}[a.mode](a)


if __name__ == "__main__":
    main()
