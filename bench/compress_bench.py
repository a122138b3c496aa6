#!/usr/bin/env python3
"""Compression side by side: Collage's compress filter against nginx's gzip filter at the same
level, and brotli against gzip, on the same 1 MiB HTML page.

Each server runs pinned to CPU 0, wrk on CPU 1 (4 connections, Accept-Encoding set). Rounds are
interleaved. Reports the compressed size (from one curl), requests per second and server CPU per
MB of page compressed, each with its ratio to nginx's gzip.

Usage (as root, Debian 12): bench/compress_bench.py [--rounds 3] [--seconds 5] [--level 6]
"""

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from benchlib import (cpu_seconds, ensure_packages, free_port, nginx_conf,  # noqa: E402
                      process_tree, wait_for_port)

MiB = 1024 * 1024


def make_page(path):
    rng = random.Random(7)
    words = ["collage", "server", "gopher", "protocol", "filter", "store", "stream", "brigade",
             "request", "response", "header", "body", "cache", "module", "config", "event"]
    parts = ["<!DOCTYPE html><html><head><title>bench</title></head><body>\n"]
    size = 0
    while size < MiB:
        line = "<p class=\"t%d\">%s</p>\n" % (rng.randrange(20),
                                               " ".join(rng.choice(words) for _ in range(12)))
        parts.append(line)
        size += len(line)
    parts.append("</body></html>\n")
    with open(path, "w") as f:
        f.write("".join(parts))


def nginx(workdir, docroot, port, level):
    return nginx_conf(workdir, "nginx-%d" % port, """http {
  access_log off;
  include /etc/nginx/mime.types;
  sendfile on;
  gzip on;
  gzip_comp_level %(level)d;
  gzip_types text/html;
  gzip_min_length 256;
  server { listen 127.0.0.1:%(port)d; root %(root)s; }
}
""" % {"port": port, "root": docroot, "level": level}, worker_connections=1024)


def collage(workdir, docroot, port, level):
    return servers.collage(workdir, docroot, port, extra="""
  <OpenFileCacheValid>1s</OpenFileCacheValid>
  <Filters>compress</Filters>
  <CompressGzipLevel>%d</CompressGzipLevel>
  <CompressBrotliLevel>%d</CompressBrotliLevel>""" % (level, level))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--level", type=int, default=6)
    args = parser.parse_args()
    ensure_packages({"wrk": "wrk", "/usr/sbin/nginx": "nginx-light"})
    subprocess.run(["systemctl", "stop", "nginx"], capture_output=True)
    workdir = tempfile.mkdtemp(prefix="compress-bench-")
    docroot = os.path.join(workdir, "site")
    os.makedirs(docroot)
    make_page(os.path.join(docroot, "page.html"))
    cases = [("nginx gzip", nginx, "gzip"), ("collage gzip", collage, "gzip"),
             ("collage br", collage, "br")]
    results = {}
    sizes = {}
    for _ in range(args.rounds):
        for name, make, coding in cases:
            port = free_port()
            process = subprocess.Popen(["taskset", "-c", "0", *make(workdir, docroot, port,
                                                                    args.level)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True)
            try:
                wait_for_port(port)
                time.sleep(0.5)
                url = "http://127.0.0.1:%d/page.html" % port
                body = subprocess.run(["curl", "-s", "-H", "Accept-Encoding: " + coding, url],
                                      capture_output=True).stdout
                sizes[name] = len(body)
                pids = process_tree(process.pid)
                before = cpu_seconds(pids)
                out = subprocess.run(["taskset", "-c", "1", "wrk", "-t", "1", "-c", "4", "-d",
                                      "%ds" % args.seconds, "-H", "Accept-Encoding: " + coding,
                                      url], capture_output=True, text=True).stdout
                used = cpu_seconds(pids) - before
                requests = int(re.search(r"(\d+) requests in", out).group(1))
                results.setdefault(name, []).append((requests / args.seconds,
                                                     used / requests * 1e3))  # ms per MiB page
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(10)
    print("1 MiB HTML page, level %d, %d rounds of %ds, 4 connections" %
          (args.level, args.rounds, args.seconds))
    print("%-14s %12s %10s %12s %16s" % ("server", "size bytes", "req/s", "CPU ms/MiB",
                                          "vs nginx gzip"))
    base = statistics.median(r[1] for r in results["nginx gzip"])
    for name, _, _ in cases:
        cpu = statistics.median(r[1] for r in results[name])
        print("%-14s %12d %10.0f %12.2f %9.2fx CPU, %.2fx size" % (
            name, sizes[name], statistics.median(r[0] for r in results[name]), cpu, cpu / base,
            sizes[name] / sizes["nginx gzip"]))


if __name__ == "__main__":
    main()
