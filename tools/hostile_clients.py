#!/usr/bin/env python3
"""Hostile-client measurements behind docs/SECURITY.md, against a `superres serve` on loopback (never another host).

  slowloris  N connections each send half a request line and stall; reports how many the server has closed after
             each second, and the latency of a fresh GET /healthz meanwhile.
  uploads    N clients each declare a D MB POST /api/v1/jobs body, send S MB of it and stall; reports the server's
             RSS growth (from /proc/PID/status), how many were answered 503 at once, /healthz latency and whether a
             normal small POST /enhance succeeds meanwhile.
  trickle    N connections each send a request header one byte every S seconds (never silent long enough for the
             idle timeout); reports when the server closed them (the minimum transfer rate).
  disconnect N clients each POST an image to /enhance and close at once; reports how long until /readyz shows no
             work running or waiting, and the upscales the metrics count as cancelled.
  outsize    POSTs an image whose result would be over the output limit (e.g. 16 MP ×4 as WebP); reports the
             status and how long the answer took.
  restart    starts `superres serve` itself (--binary, --model), submits N jobs, kills it with SIGKILL while they
             are queued and running, starts it again on the same data folder and reports how the N jobs ended.

    python3 tools/hostile_clients.py slowloris --port 8080 --pid PID --connections 1000 --seconds 40
    python3 tools/hostile_clients.py uploads --port 8080 --pid PID --clients 300 --declared-mb 20 --sent-mb 1 \\
        --image ../shared/datasets/Set5/baby.png
    python3 tools/hostile_clients.py trickle --port 8080 --connections 200 --interval 5 --seconds 60
    python3 tools/hostile_clients.py disconnect --port 8080 --clients 4 --image photo800.png
    python3 tools/hostile_clients.py outsize --port 8080 --image big16mp.png --query "format=webp"
    python3 tools/hostile_clients.py restart --binary .build/release/superres --model FSRCNN_x3.pb --jobs 10 \\
        --image ../shared/datasets/Set5/baby.png
Every loop is bounded in count and time; the script closes all its sockets before it exits.
"""
import argparse
import json
import os
import re
import resource
import select
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def healthz(port):
    start = time.perf_counter()
    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10).read()
    return time.perf_counter() - start


def closed(sock):
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    if not poller.poll(0):
        return False
    try:
        return sock.recv(1) == b""
    except OSError:
        return True


def slowloris(a):
    sockets = []
    for _ in range(a.connections):
        s = socket.create_connection(("127.0.0.1", a.port))
        s.sendall(b"GET /heal")
        sockets.append(s)
    start = time.time()
    print(f"{len(sockets)} connections open, each sent half a request line")
    while time.time() - start < a.seconds:
        time.sleep(1)
        count = sum(closed(s) for s in sockets)
        print(f"t={time.time() - start:5.1f}s closed by the server: {count}/{len(sockets)}, "
              f"/healthz {1000 * healthz(a.port):.1f} ms")
        if count == len(sockets):
            break
    for s in sockets:
        s.close()


def uploads(a):
    with open(a.image, "rb") as f:
        image = f.read()
    before = rss_mb(a.pid)
    declared = int(a.declared_mb * 1024 * 1024)
    chunk = b"x" * int(a.sent_mb * 1024 * 1024)
    sockets, refused = [], 0
    for _ in range(a.clients):
        s = socket.create_connection(("127.0.0.1", a.port))
        s.sendall(f"POST /api/v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b"
                  f"\r\nContent-Length: {declared}\r\n\r\n".encode())
        s.setblocking(False)
        try:
            s.sendall(b"--b\r\n" + chunk)
        except (BlockingIOError, OSError):
            pass
        sockets.append(s)
    time.sleep(2)
    for s in sockets:
        try:
            if s.recv(12).startswith(b"HTTP/1.1 503"):
                refused += 1
        except (BlockingIOError, OSError):
            pass
    peak = rss_mb(a.pid)
    latency = healthz(a.port)
    body = (b'--b\r\nContent-Disposition: form-data; name="image"; filename="small.png"\r\n'
            b"Content-Type: image/png\r\n\r\n" + image + b"\r\n--b--\r\n")
    request = urllib.request.Request(f"http://127.0.0.1:{a.port}/enhance", data=body, method="POST",
                                     headers={"Content-Type": "multipart/form-data; boundary=b"})
    try:
        status = urllib.request.urlopen(request, timeout=120).status
    except urllib.error.HTTPError as error:
        status = error.code
    print(f"{a.clients} clients declared {a.declared_mb} MB and sent {a.sent_mb} MB each, then stalled: "
          f"{refused} answered 503 at once; server RSS {before:.0f} → {peak:.0f} MB (+{peak - before:.0f}); "
          f"/healthz {1000 * latency:.1f} ms; a small POST /enhance meanwhile: {status}")
    for s in sockets:
        s.close()


def multipart(image, name="photo.png"):
    return (b'--b\r\nContent-Disposition: form-data; name="image"; filename="' + name.encode() + b'"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + image + b"\r\n--b--\r\n")


def post(port, path, body, timeout=600):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST",
                                     headers={"Content-Type": "multipart/form-data; boundary=b"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get_json(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.load(response)


def trickle(a):
    header = b"POST /api/v1/jobs HTTP/1.1\r\nHost: localhost\r\n" + b"X-Slow: 1\r\n" * 1000
    sockets = [socket.create_connection(("127.0.0.1", a.port)) for _ in range(a.connections)]
    sent = [0] * len(sockets)
    closed_at = [None] * len(sockets)
    start = time.time()
    print(f"{len(sockets)} connections, each sending its header one byte every {a.interval} s")
    while time.time() - start < a.seconds and None in closed_at:
        for index, s in enumerate(sockets):
            if closed_at[index] is not None:
                continue
            if closed(s):
                closed_at[index] = time.time() - start
                continue
            try:
                s.send(header[sent[index]:sent[index] + 1], socket.MSG_NOSIGNAL)
                sent[index] += 1
            except OSError:
                closed_at[index] = time.time() - start
        time.sleep(a.interval)
    done = [t for t in closed_at if t is not None]
    if done:
        print(f"closed by the server: {len(done)}/{len(sockets)}, after {min(done):.1f}–{max(done):.1f} s, "
              f"having sent {max(sent)} bytes at most; /healthz {1000 * healthz(a.port):.1f} ms")
    else:
        print(f"none closed after {a.seconds} s")
    for s in sockets:
        s.close()


def disconnect(a):
    with open(a.image, "rb") as f:
        body = multipart(f.read())
    def cancelled():
        text = urllib.request.urlopen(f"http://127.0.0.1:{a.port}/metrics", timeout=10).read().decode()
        return sum(float(m) for m in re.findall(r'superres_upscales_total\{[^}]*outcome="cancelled"[^}]*\} (\S+)', text))
    before = cancelled()
    sockets = []
    for _ in range(a.clients):
        s = socket.create_connection(("127.0.0.1", a.port))
        s.sendall(b"POST /enhance HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                  + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        sockets.append(s)
    time.sleep(0.5)
    start = time.time()
    for s in sockets:
        s.close()
    while time.time() - start < 120:
        ready = get_json(a.port, "/readyz")
        busy = ready.get("running", 0) + ready.get("waiting", 0)
        if busy == 0:
            break
        time.sleep(0.05)
    print(f"{a.clients} clients posted {os.path.basename(a.image)} to /enhance and closed 0.5 s later: running + "
          f"waiting back to 0 after {time.time() - start:.2f} s; upscales counted as cancelled: {cancelled() - before:g}")


def outsize(a):
    with open(a.image, "rb") as f:
        body = multipart(f.read())
    start = time.time()
    status, answer = post(a.port, "/enhance?" + a.query, body)
    detail = json.loads(answer).get("detail", "") if status >= 400 else ""
    print(f"POST /enhance?{a.query} with {os.path.basename(a.image)}: {status} after {time.time() - start:.3f} s; "
          f"{detail}")


def restart(a):
    with open(a.image, "rb") as f:
        body = multipart(f.read())
    data = tempfile.mkdtemp(prefix="superres-restart-")
    port = a.port or 18190
    command = [a.binary, "serve", "--model", a.model, "--port", str(port), "--data-dir", data, "--log-level",
               "warning", "--queue", str(a.jobs + 4)]
    def start_server():
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                if get_json(port, "/readyz").get("status") == "ready":
                    return process
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise SystemExit("the server did not become ready")
    process = start_server()
    ids = []
    for _ in range(a.jobs):
        status, answer = post(port, "/api/v1/jobs", body)
        assert status == 202, (status, answer)
        ids.append(json.loads(answer)["id"])
    while not any(get_json(port, f"/api/v1/jobs/{i}")["state"] == "running" for i in ids):
        time.sleep(0.02)
    states = [get_json(port, f"/api/v1/jobs/{i}")["state"] for i in ids]
    process.send_signal(signal.SIGKILL)
    process.wait()
    print(f"{a.jobs} jobs accepted (202); at SIGKILL: {states.count('queued')} queued, "
          f"{states.count('running')} running, {states.count('succeeded')} succeeded")
    start = time.time()
    process = start_server()
    try:
        while True:
            final = [get_json(port, f"/api/v1/jobs/{i}")["state"] for i in ids]
            if all(state in ("succeeded", "failed", "cancelled") for state in final) or time.time() - start > 600:
                break
            time.sleep(0.2)
        print(f"after the restart: {final.count('succeeded')}/{a.jobs} succeeded, {final.count('failed')} failed, "
              f"in {time.time() - start:.1f} s")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("case", choices=["slowloris", "uploads", "trickle", "disconnect", "outsize", "restart"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--clients", type=int, default=300)
    ap.add_argument("--declared-mb", type=float, default=20)
    ap.add_argument("--sent-mb", type=float, default=1)
    ap.add_argument("--image")
    ap.add_argument("--interval", type=float, default=5)
    ap.add_argument("--query", default="")
    ap.add_argument("--binary")
    ap.add_argument("--model")
    ap.add_argument("--jobs", type=int, default=10)
    a = ap.parse_args()
    if a.case != "restart" and a.port is None:
        ap.error("--port is required")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    cases = {"slowloris": slowloris, "uploads": uploads, "trickle": trickle, "disconnect": disconnect,
             "outsize": outsize, "restart": restart}
    cases[a.case](a)


if __name__ == "__main__":
    main()
