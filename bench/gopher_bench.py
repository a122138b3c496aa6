#!/usr/bin/env python3
"""Gopher request throughput: Collage against Gophernicus (from Debian, run from socat as it would
be from inetd), side by side.

Both serve the same hole (a gophermap menu, a 1 KiB text file, a 64 KiB binary). Servers are
pinned to CPU 0, the load generator (bench/gopher_load.cpp, built here) to CPU 1; workloads run
on each server in turn for interleaved rounds. Reports median requests per second (min-max) and
server CPU time per request (all processes of the server, from /proc, including socat's forks
through the cgroup-free way: the CPU time of exited children is read from the parent's cstime).

Usage (as root, Debian 12): bench/gopher_bench.py [--rounds 3] [--seconds 5]
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import cpu_seconds, free_port, process_tree, wait_for_port  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def ensure_tools():
    missing = [p for p, exe in (("gophernicus", "/usr/sbin/gophernicus"), ("socat", "socat"))
               if not (os.path.exists(exe) or shutil.which(exe))]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    subprocess.run(["systemctl", "stop", "gophernicus.socket"], capture_output=True)





def make_hole(root):
    os.makedirs(root)
    with open(os.path.join(root, "gophermap"), "w") as f:
        f.write("!Bench hole\n0Text\ttext.txt\n9Binary\tblob.bin\n*\n")
    with open(os.path.join(root, "text.txt"), "w") as f:
        f.write(("x" * 63 + "\n") * 16)
    with open(os.path.join(root, "blob.bin"), "wb") as f:
        f.write(os.urandom(65536))
    for name in os.listdir(root):
        os.chmod(os.path.join(root, name), 0o644)


def start_collage(workdir, root, port):
    config = os.path.join(workdir, "collage.xml")
    with open(config, "w") as f:
        f.write("""<Collage>
  <Listen protocol="gopher" address="127.0.0.1" port="%d"/>
  <AccessLog>off</AccessLog>
  <LogLevel>warn</LogLevel>
  <Mpm>event</Mpm>
  <ServerLimit>1</ServerLimit>
  <ThreadsPerChild>1</ThreadsPerChild>
  <MinSpareThreads>0</MinSpareThreads>
  <PidFile>off</PidFile>
  <GopherTextFraming>off</GopherTextFraming>
  <Store>gopher</Store>
  <GopherRoot>%s</GopherRoot>
  <ServerName>127.0.0.1</ServerName>
</Collage>
""" % (port, root))
    return subprocess.Popen(["taskset", "-c", "0", os.path.join(REPO, "build", "mpm", "collage"),
                             "-f", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_gophernicus(workdir, root, port):
    command = "/usr/sbin/gophernicus -h 127.0.0.1 -p %d -r %s -nv -nf" % (port, root)
    return subprocess.Popen(["taskset", "-c", "0", "socat",
                             "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,backlog=512" % port,
                             "EXEC:%s,su=nobody" % command],  # it refuses to run as root
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


WORKLOADS = [("menu (gophermap)", ""), ("1 KiB text", "/text.txt"), ("64 KiB binary", "/blob.bin")]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    ensure_tools()
    workdir = tempfile.mkdtemp(prefix="collage-gopher-bench-")
    os.chmod(workdir, 0o755)  # Gophernicus runs as nobody
    root = os.path.join(workdir, "hole")
    make_hole(root)
    load = os.path.join(workdir, "gopher_load")
    subprocess.run(["g++", "-O2", "-std=c++20", "-pthread",
                    os.path.join(REPO, "bench", "gopher_load.cpp"), "-o", load], check=True)
    servers = [("gophernicus", start_gophernicus), ("collage", start_collage)]
    results = {}
    try:
        for round_number in range(args.rounds):
            for workload, selector in WORKLOADS:
                for name, start in servers:
                    port = free_port()
                    process = start(workdir, root, port)
                    try:
                        wait_for_port(port)
                        subprocess.run(["taskset", "-c", "1", load, str(port), selector, "4", "1"],
                                       capture_output=True)
                        before = cpu_seconds([process.pid], include_children=True)
                        out = subprocess.run(["taskset", "-c", "1", load, str(port), selector,
                                              str(args.threads), str(args.seconds)],
                                             capture_output=True, text=True, check=True).stdout
                        cpu = cpu_seconds([process.pid], include_children=True) - before
                    finally:
                        process.send_signal(signal.SIGTERM)
                        process.wait(10)
                    count, _bytes, errors = (int(x) for x in out.split())
                    rps = count / args.seconds
                    per_request = cpu * 1e6 / max(count, 1)
                    results.setdefault((workload, name), []).append((rps, per_request))
                    print("round %d  %-18s %-12s %9.0f req/s  %7.1f us CPU/req  %d errors" %
                          (round_number + 1, workload, name, rps, per_request, errors),
                          file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("| Workload | Server | req/s median (min–max) | vs Gophernicus | server CPU µs/req |")
    print("| --- | --- | --- | --- | --- |")
    for workload, _ in WORKLOADS:
        base = statistics.median(r for r, _ in results[(workload, "gophernicus")])
        for name, _ in servers:
            runs = results[(workload, name)]
            rps = [r for r, _ in runs]
            print("| %s | %s | %.0f (%.0f–%.0f) | %.2f | %.1f |" % (
                workload, name, statistics.median(rps), min(rps), max(rps),
                statistics.median(rps) / base, statistics.median(c for _, c in runs)))


if __name__ == "__main__":
    main()
