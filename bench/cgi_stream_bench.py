#!/usr/bin/env python3
"""Memory while CGI output streams: N clients (default 50) each read an endless script's output
at a fixed rate (default 1 MB/s), for a while; reports the Collage processes' RSS at rest and
while streaming, and the difference per stream (the scripts' own memory is not counted).

The aim (issue #14): below 64 KiB per stream above idle. Server pinned to CPU 0.

Usage (as root): bench/cgi_stream_bench.py [--clients 50] [--rate 1000000] [--seconds 15]
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from benchlib import free_port, process_tree, rss_kib, wait_for_port  # noqa: E402

SCRIPT = """#!/usr/bin/python3
import sys
out = sys.stdout.buffer
out.write(b"Content-Type: application/octet-stream\\n\\n")
chunk = b"x" * 65536
while True:
    out.write(chunk)
"""


def collage_pids(root_pid):
    pids = []
    for pid in process_tree(root_pid):
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "collage":
                    pids.append(pid)
        except FileNotFoundError:
            pass
    return pids


def reader(port, rate, stop, counts, index):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(b"GET /cgi-bin/endless.py HTTP/1.1\r\nHost: x\r\n\r\n")
    started = time.time()
    got = 0
    while not stop.is_set():
        data = sock.recv(16384)
        if not data:
            break
        got += len(data)
        ahead = got / rate - (time.time() - started)
        if ahead > 0:
            time.sleep(ahead)
    counts[index] = got
    sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--extra", default="", help="more configuration, e.g. <StreamBufferSize>16k</StreamBufferSize>")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="stream-bench-")
    scripts = os.path.join(workdir, "cgi-bin")
    os.makedirs(scripts)
    with open(os.path.join(scripts, "endless.py"), "w") as f:
        f.write(SCRIPT)
    os.chmod(os.path.join(scripts, "endless.py"), 0o755)
    port = free_port()
    argv = servers.collage(workdir, scripts, port, extra="""
  <CgiMaxProcesses>%d</CgiMaxProcesses>
  %s
  <Location path="/cgi-bin"><Store>cgi</Store><CgiRoot>%s</CgiRoot></Location>""" % (
        args.clients + 10, args.extra, scripts))
    server = subprocess.Popen(["taskset", "-c", "0", *argv], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        time.sleep(1)
        idle = rss_kib(collage_pids(server.pid))
        stop = threading.Event()
        counts = [0] * args.clients
        threads = [threading.Thread(target=reader, args=(port, args.rate, stop, counts, i))
                   for i in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(3)  # every stream under way
        samples = []
        deadline = time.time() + args.seconds
        while time.time() < deadline:
            samples.append(rss_kib(collage_pids(server.pid)))
            time.sleep(0.2)
        samples.sort()
        median = samples[len(samples) // 2]
        peak = samples[-1]
        stop.set()
        for t in threads:
            t.join(10)
        total = sum(counts)
        print("%d streams at %.1f MB/s each for %ds (%.0f MB read in all)" % (
            args.clients, args.rate / 1e6, args.seconds + 3, total / 1e6))
        print("Collage RSS at rest %d KiB; while streaming median %d KiB, peak %d KiB: "
              "%.1f KiB per stream (median), %.1f (peak)" % (
                  idle, median, peak, (median - idle) / args.clients,
                  (peak - idle) / args.clients))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)


if __name__ == "__main__":
    main()
