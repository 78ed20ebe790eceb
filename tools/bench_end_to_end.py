#!/usr/bin/env python3
"""The whole-job benchmark behind scripts/bench-end-to-end: superres as a user runs it (one process, file to file)
beside OpenCV's and ncnn's own warm loops, in one run, alternating the tools round by round.

Cases:
  folder   a folder of eight 640x360 PNGs (the first eight BSD68 images, resized with INTER_AREA) to PNG, for each
           OpenCV model: `superres upscale DIR -o DIR` as a whole process (start, model load, all files) against
           OpenCV's warm in-process loop (tools/end_to_end_anchor.py opencv-folder). Output bytes of both, and every
           superres output read back by OpenCV's imread (a decoder other than ours).
  file     one PNG (256x256 and 640x360 crops of the first image) to PNG with each ncnn model, superres as a whole
           process against ncnn's warm in-process imread + extract + imwrite.
  enhance  POST /enhance of a 640x360 JPEG to `superres serve` with the x3 default model, PNG answer: median latency
           over --requests requests and the Server-Timing split.
The median over --rounds rounds is reported for every time.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def make_inputs(shared, work):
    import cv2
    folder = os.path.join(work, "folder")
    os.makedirs(folder)
    source = os.path.join(shared, "datasets", "BSD68")
    names = sorted(n for n in os.listdir(source) if n.endswith(".png"))[:8]
    for name in names:
        image = cv2.resize(cv2.imread(os.path.join(source, name)), (640, 360), interpolation=cv2.INTER_AREA)
        cv2.imwrite(os.path.join(folder, name), image)
    first = cv2.imread(os.path.join(folder, names[0]))
    cv2.imwrite(os.path.join(work, "file_640x360.png"), first)
    cv2.imwrite(os.path.join(work, "file_256x256.png"), first[52:308, 192:448])
    second = cv2.imread(os.path.join(folder, names[1]))
    cv2.imwrite(os.path.join(work, "enhance_640x360.jpg"), second, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return folder


def timed(command, env=None):
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed, result.stderr


def busy_times(stderr):
    """decode/upscale/encode busy seconds from `superres upscale --timings`."""
    line = next(l for l in stderr.splitlines() if "busy time:" in l)
    parts = line.split("busy time:")[1].replace(" s", "").split(",")
    values = [float(p.split()[-1]) for p in parts]
    return dict(decode_s=values[0], network_s=values[1], encode_s=values[2])


def anchor(python, *arguments):
    result = subprocess.run([python, os.path.join(HERE, "end_to_end_anchor.py"), *arguments], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise SystemExit(f"anchor {arguments[0]} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--superres", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--opencv-python", required=True)
    ap.add_argument("--ncnn-python", required=True)
    ap.add_argument("--models", default="FSRCNN_x3.pb ESPCN_x3.pb LapSRN_x4.pb")
    ap.add_argument("--ncnn", default="srmdnf-x3")
    ap.add_argument("--default-x3", default="srmdnf-x3")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--json")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="superres-e2e-")
    try:
        folder = make_inputs(a.shared, work)
        rows = []
        threads = ["--threads", str(a.threads)]
        for round_index in range(a.rounds):
            for name in a.models.split():
                model = os.path.join(a.shared, "models", "opencv", name)
                info = subprocess.run([a.superres, "info", model], capture_output=True, text=True).stdout
                algo = next(l.split()[1] for l in info.splitlines() if l.startswith("family:"))
                scale = next(l.split()[1] for l in info.splitlines() if l.startswith("scale:")).lstrip("×")
                cv_out = os.path.join(work, f"cv-{name}")
                cv = anchor(a.opencv_python, "opencv-folder", "--model", model, "--algo", algo, "--scale", scale,
                            "--input", folder, "--output", cv_out, "--threads", str(a.threads))
                sr_out = os.path.join(work, f"sr-{name}")
                shutil.rmtree(sr_out, ignore_errors=True)
                elapsed, stderr = timed([a.superres, "upscale", folder, "-o", sr_out, "--model", model, "--timings",
                                         *threads])
                size = sum(os.path.getsize(os.path.join(sr_out, n)) for n in os.listdir(sr_out))
                rows.append(dict(case="folder", model=name, size="8 × 640×360", round=round_index,
                                 superres=dict(total_s=elapsed, bytes=size, **busy_times(stderr)), anchor=cv))
            for name in a.ncnn.split():
                store = subprocess.run([a.superres, "models", "path", name], capture_output=True, text=True)
                if store.returncode != 0:
                    print(f"skipping {name}: not in the model store ({store.stderr.strip()})", file=sys.stderr)
                    continue
                param = store.stdout.strip()
                # SRMD reads blob "input" (with its noise-level channels); Real-ESRGAN and SPAN read "data" as RGB/255.
                algo = "srmd" if name.startswith("srmd") else "realesrgan"
                scale = name.rsplit("x", 1)[1]
                for size in ("256x256", "640x360"):
                    source = os.path.join(work, f"file_{size}.png")
                    nc = anchor(a.ncnn_python, "ncnn-file", "--model", param, "--algo", algo, "--scale", scale,
                                "--input", source, "--output", os.path.join(work, f"ncnn-{name}-{size}.png"),
                                "--threads", str(a.threads), "--runs", "3")
                    output = os.path.join(work, f"sr-{name}-{size}.png")
                    elapsed, stderr = timed([a.superres, "upscale", source, "-o", output, "--model", name,
                                             "--timings", *threads])
                    rows.append(dict(case="file", model=name, size=size.replace("x", "×"), round=round_index,
                                     superres=dict(total_s=elapsed, bytes=os.path.getsize(output),
                                                   **busy_times(stderr)), anchor=nc))
        # Every superres output of the last round decodes in OpenCV, at the expected size.
        check = subprocess.run([a.opencv_python, "-c", (
            "import cv2, os, sys\n"
            "for d in sys.argv[1:]:\n"
            "    for n in os.listdir(d):\n"
            "        image = cv2.imread(os.path.join(d, n), cv2.IMREAD_UNCHANGED)\n"
            "        assert image is not None and image.shape[1] in (1920, 2560), (d, n)\n"
        ), *[os.path.join(work, f"sr-{n}") for n in a.models.split()]], capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"OpenCV could not read a superres output:\n{check.stderr}")

        enhance = None
        if a.default_x3:
            port = free_port()
            server = subprocess.Popen([a.superres, "serve", "--model", a.default_x3, "--port", str(port), *threads],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                for _ in range(600):
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                        break
                    except OSError:
                        if server.poll() is not None:
                            raise SystemExit(f"superres serve stopped: {server.stderr.read()}")
                        time.sleep(0.1)
                enhance = anchor(a.opencv_python, "enhance", "--url", f"http://127.0.0.1:{port}/enhance",
                                 "--input", os.path.join(work, "enhance_640x360.jpg"), "--runs", str(a.requests))
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(case, model, size, tool, key):
        return statistics.median(r[tool][key] for r in rows
                                 if (r["case"], r["model"], r["size"]) == (case, model, size))

    print(f"Whole job, file to file, {a.threads} threads, median of {a.rounds} rounds "
          f"({rows[0]['anchor']['engine'] if rows else ''}):\n")
    print("| case | model | input | anchor s | superres s | speed-up | superres decode / network / encode s "
          "(busy) | anchor decode / network / encode s | superres MB | anchor MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    seen = []
    for r in rows:
        key = (r["case"], r["model"], r["size"])
        if key in seen:
            continue
        seen.append(key)
        m = lambda tool, k: median(*key, tool, k)
        anchor_name = "OpenCV warm loop" if r["case"] == "folder" else "ncnn warm extract + imwrite"
        print(f"| {anchor_name} | {r['model']} | {r['size']} | {m('anchor', 'total_s'):.3f} | "
              f"{m('superres', 'total_s'):.3f} | {m('anchor', 'total_s') / m('superres', 'total_s'):.2f}× | "
              f"{m('superres', 'decode_s'):.3f} / {m('superres', 'network_s'):.3f} / {m('superres', 'encode_s'):.3f} | "
              f"{m('anchor', 'decode_s'):.3f} / {m('anchor', 'network_s'):.3f} / {m('anchor', 'encode_s'):.3f} | "
              f"{m('superres', 'bytes') / 1e6:.2f} | {m('anchor', 'bytes') / 1e6:.2f} |")
    if enhance:
        t = enhance["server_timing"]
        total = sum(t.values())
        print(f"\nPOST /enhance, 640×360 JPEG, {a.default_x3}, PNG answer, {enhance['requests']} requests: "
              f"median {enhance['median_s']:.3f} s (min {enhance['min_s']:.3f}); Server-Timing medians: "
              + ", ".join(f"{n} {v * 1000:.1f} ms" for n, v in t.items())
              + f"; encode {100 * t.get('encode', 0) / enhance['median_s']:.1f}% of the latency")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(rows=rows, enhance=enhance), f, indent=1)


if __name__ == "__main__":
    main()
