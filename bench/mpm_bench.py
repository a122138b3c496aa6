#!/usr/bin/env python3
"""The MPMs side by side: Collage's event, worker and prefork against Apache httpd's, from Debian.

1. Requests per second and server CPU per request, 1 KiB file, keep-alive, wrk with 50
   connections; every server pinned to CPU 0 (wrk to CPU 1), with equivalent pools: event one
   child; worker one child of 64 threads; prefork 64 single-threaded children. Interleaved rounds.
2. The keep-alive problem: one child of 25 threads (prefork: 25 children), 25 idle keep-alive
   connections held (KeepAliveTimeout 5 s), then a new client asks for a page. Under worker and
   prefork it waits for a keep-alive to time out; under event it is served at once.

Usage (as root, Debian 12): bench/mpm_bench.py [--rounds 3] [--seconds 5]
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from benchlib import cpu_seconds, ensure_packages, free_port, process_tree, wait_for_port  # noqa

POOLS = {
    "event": "<ThreadsPerChild>4</ThreadsPerChild><ServerLimit>1</ServerLimit>"
             "<MinSpareThreads>0</MinSpareThreads>",
    "worker": "<ThreadsPerChild>64</ThreadsPerChild><ServerLimit>1</ServerLimit>"
              "<MinSpareThreads>0</MinSpareThreads><MaxRequestWorkers>64</MaxRequestWorkers>",
    "prefork": "<StartServers>64</StartServers><ServerLimit>64</ServerLimit>"
               "<MinSpareServers>1</MinSpareServers><MaxSpareServers>64</MaxSpareServers>"
               "<MaxRequestWorkers>64</MaxRequestWorkers>",
}
HELD_POOLS = {
    "event": "<ThreadsPerChild>25</ThreadsPerChild><ServerLimit>1</ServerLimit>"
             "<MinSpareThreads>0</MinSpareThreads>",
    "worker": "<ThreadsPerChild>25</ThreadsPerChild><ServerLimit>1</ServerLimit>"
              "<MinSpareThreads>0</MinSpareThreads><MaxRequestWorkers>25</MaxRequestWorkers>",
    "prefork": "<StartServers>25</StartServers><ServerLimit>25</ServerLimit>"
               "<MinSpareServers>1</MinSpareServers><MaxSpareServers>25</MaxSpareServers>"
               "<MaxRequestWorkers>25</MaxRequestWorkers>",
}


class Running:
    def __init__(self, argv, port):
        self.port = port
        # A session of its own: Apache's prefork signals its whole process group on stop.
        self.process = subprocess.Popen(["taskset", "-c", "0", *argv], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for_port(port)
        time.sleep(1.0)  # let every child start

    def pids(self):
        return process_tree(self.process.pid)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            for pid in self.pids():
                os.kill(pid, signal.SIGKILL)


def start(kind, mpm, workdir, docroot, held=False):
    port = free_port()
    if kind == "collage":
        argv = servers.collage(workdir, docroot, port, mpm, (HELD_POOLS if held else POOLS)[mpm],
                               keepalive_timeout=5 if held else 300)
    else:
        processes = (25 if held else 64) if mpm == "prefork" else 1
        argv = servers.apache(workdir, docroot, port, mpm, threads=25 if held else 64,
                              processes=processes, keepalive_timeout=5 if held else 300)
    return Running(argv, port)


def wrk(port, seconds, connections=50):
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c%d" % connections,
                          "-d%ds" % seconds, "http://127.0.0.1:%d/1k.bin" % port],
                         capture_output=True, text=True, check=True).stdout
    return (float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            int(re.search(r"(\d+) requests in", out).group(1)))


def new_client_wait(port, held_count):
    """Seconds a new client waits for a 1 KiB page while held_count keep-alive connections idle."""
    held = []
    for _ in range(held_count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /1k.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while len(got) < 1024 or b"\r\n\r\n" not in got:
            got += s.recv(65536)
        held.append(s)
    time.sleep(0.2)
    start_time = time.time()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET /1k.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        s.recv(1)
    waited = time.time() - start_time
    for s in held:
        s.close()
    return waited


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    ensure_packages({"wrk": "wrk", "/usr/sbin/apache2": "apache2"})
    subprocess.run(["systemctl", "stop", "apache2"], capture_output=True)
    workdir = tempfile.mkdtemp(prefix="collage-mpm-bench-")
    os.chmod(workdir, 0o755)
    docroot = os.path.join(workdir, "www")
    os.makedirs(docroot)
    with open(os.path.join(docroot, "1k.bin"), "wb") as f:
        f.write(os.urandom(1024))
    entries = [(kind, mpm) for mpm in ("event", "worker", "prefork")
               for kind in ("apache", "collage")]
    results = {}
    try:
        for round_number in range(args.rounds):
            for kind, mpm in entries:
                server = start(kind, mpm, workdir, docroot)
                try:
                    wrk(server.port, 1)
                    pids = server.pids()
                    before = cpu_seconds(pids)
                    rps, total = wrk(server.port, args.seconds)
                    cpu = cpu_seconds(pids) - before
                finally:
                    server.stop()
                results.setdefault((kind, mpm), []).append((rps, cpu * 1e6 / total))
                print("round %d %-8s %-8s %9.0f req/s %6.1f us CPU/req" %
                      (round_number + 1, kind, mpm, rps, cpu * 1e6 / total), file=sys.stderr)
        waits = {}
        for kind, mpm in entries:
            server = start(kind, mpm, workdir, docroot, held=True)
            try:
                waits[(kind, mpm)] = new_client_wait(server.port, 25)
            finally:
                server.stop()
            print("%-8s %-8s new client waited %.3f s" % (kind, mpm, waits[(kind, mpm)]),
                  file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print("| MPM | Server | req/s median (min–max) | vs Apache | server CPU µs/req | vs Apache |")
    print("| --- | --- | --- | --- | --- | --- |")
    for mpm in ("event", "worker", "prefork"):
        base_rps = statistics.median(r for r, _ in results[("apache", mpm)])
        base_cpu = statistics.median(c for _, c in results[("apache", mpm)])
        for kind in ("apache", "collage"):
            runs = results[(kind, mpm)]
            rps = [r for r, _ in runs]
            cpu = statistics.median(c for _, c in runs)
            print("| %s | %s | %.0f (%.0f–%.0f) | %.2f | %.1f | %.2f |" % (
                mpm, kind, statistics.median(rps), min(rps), max(rps),
                statistics.median(rps) / base_rps, cpu, cpu / base_cpu))
    print()
    print("| MPM | Server | new client's wait with 25 idle keep-alive connections (s) |")
    print("| --- | --- | --- |")
    for kind, mpm in entries:
        print("| %s | %s | %.3f |" % (mpm, kind, waits[(kind, mpm)]))


if __name__ == "__main__":
    main()
