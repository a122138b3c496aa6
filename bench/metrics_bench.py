#!/usr/bin/env python3
"""What request metrics cost: Collage serving a 1 KiB file over keep-alive (wrk, 50
connections) with RequestMetrics on and off, interleaved, with nginx (Debian's nginx-light) as a
witness; each server pinned to CPU 0 with wrk on CPU 1. A third Collage run is scraped at /metrics
ten times a second during the load, to show that reading costs the serving side little too.

Reports requests per second, server CPU µs per request, and each run against metrics off.

Usage (as root, Debian 12): bench/metrics_bench.py [--rounds 5] [--seconds 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from benchlib import ensure_packages, free_port, nginx_conf  # noqa: E402
from cache_bench import Running, measured  # noqa: E402

METRICS = '<Location path="/metrics"><Store>metrics</Store></Location>'


def collage(metrics):
    def make(workdir, port):
        return servers.collage(workdir, os.path.join(workdir, "site"), port,
                               extra="<RequestMetrics>%s</RequestMetrics>\n%s"
                               % ("on" if metrics else "off", METRICS))
    return make


def nginx(workdir, port):
    return nginx_conf(workdir, "nginx-%d" % port, """http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:%d; root %s/site; location / { } }
}
""" % (port, workdir))


def scraping(port, stop):
    while not stop.wait(0.1):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            r.read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    ensure_packages({"wrk": "wrk", "/usr/sbin/nginx": "nginx-light"})
    subprocess.run(["systemctl", "stop", "nginx"], capture_output=True)
    workdir = tempfile.mkdtemp(prefix="metrics-bench-")
    os.makedirs(os.path.join(workdir, "site"))
    with open(os.path.join(workdir, "site", "1k.txt"), "w") as f:
        f.write("x" * 1024)
    runs = [("nginx", nginx, False), ("metrics off", collage(False), False),
            ("metrics on", collage(True), False), ("on, scraped", collage(True), True)]
    results = {}
    for _ in range(args.rounds):
        for name, make, scrape in runs:
            port = free_port()
            server = Running(make(workdir, port), port)
            stop = threading.Event()
            scraper = threading.Thread(target=scraping, args=(port, stop)) if scrape else None
            try:
                if scraper:
                    scraper.start()
                results.setdefault(name, []).append(
                    measured(server, port, "/1k.txt", args.seconds, connections=50))
            finally:
                stop.set()
                if scraper:
                    scraper.join()
                server.stop()
    print("Request metrics, 1 KiB file, keep-alive, 50 connections, %d rounds of %ds, medians"
          % (args.rounds, args.seconds))
    print("%-12s %10s %12s %14s" % ("server", "req/s", "CPU µs/req", "vs metrics off"))
    base = statistics.median(r[1] for r in results["metrics off"])
    for name, _, _ in runs:
        rate = statistics.median(r[0] for r in results[name])
        cpu = statistics.median(r[1] for r in results[name])
        print("%-12s %10.0f %12.2f %13.3fx" % (name, rate, cpu, cpu / base))


if __name__ == "__main__":
    main()
