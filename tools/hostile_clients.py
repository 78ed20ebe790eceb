#!/usr/bin/env python3
"""Hostile-client measurements behind docs/SECURITY.md, against a `superres serve` on loopback (never another host).

  slowloris  N connections each send half a request line and stall; reports how many the server has closed after
             each second, and the latency of a fresh GET /healthz meanwhile.
  uploads    N clients each declare a D MB POST /api/v1/jobs body, send S MB of it and stall; reports the server's
             RSS growth (from /proc/PID/status), how many were answered 503 at once, /healthz latency and whether a
             normal small POST /enhance succeeds meanwhile.

    python3 tools/hostile_clients.py slowloris --port 8080 --pid PID --connections 1000 --seconds 40
    python3 tools/hostile_clients.py uploads --port 8080 --pid PID --clients 300 --declared-mb 20 --sent-mb 1 \\
        --image ../shared/datasets/Set5/baby.png
Every loop is bounded in count and time; the script closes all its sockets before it exits.
"""
import argparse
import resource
import select
import socket
import time
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("case", choices=["slowloris", "uploads"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--clients", type=int, default=300)
    ap.add_argument("--declared-mb", type=float, default=20)
    ap.add_argument("--sent-mb", type=float, default=1)
    ap.add_argument("--image")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    {"slowloris": slowloris, "uploads": uploads}[a.case](a)


if __name__ == "__main__":
    main()
