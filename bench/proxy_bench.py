#!/usr/bin/env python3
"""The reverse proxy side by side with HAProxy and nginx (Debian packages), one run.

One local upstream (nginx serving a 1 KiB file, on CPU 1 with wrk), keep-alive on both sides of
each proxy; the proxy pinned to CPU 0. Reports requests per second and the proxy's CPU per
request (utime+stime of its processes), each against HAProxy's. Then the same with the cache on
in Collage, against Varnish in front of the same upstream.

Usage (as root, Debian 12): bench/proxy_bench.py [--rounds 3] [--seconds 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from benchlib import ensure_packages, free_port, nginx_conf  # noqa: E402
from cache_bench import Running, measured, varnish  # noqa: E402


def nginx_origin(workdir, port):
    return nginx_conf(workdir, "origin-%d" % port, """http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:%(port)d;
    root %(d)s/site;
    location / { add_header Cache-Control "max-age=3600"; }
  }
}
""" % {"d": workdir, "port": port})


def haproxy(workdir, origin, port):
    config = os.path.join(workdir, "haproxy-%d.cfg" % port)
    with open(config, "w") as f:
        f.write("""global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend front
  bind 127.0.0.1:%d
  default_backend origin
backend origin
  http-reuse always
  server o1 127.0.0.1:%d
""" % (port, origin))
    return ["haproxy", "-db", "-f", config]


def nginx_proxy(workdir, origin, port):
    return nginx_conf(workdir, "nginx-proxy-%d" % port, """http {
  access_log off;
  upstream origin { server 127.0.0.1:%(origin)d; keepalive 64; }
  server {
    listen 127.0.0.1:%(port)d;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
""" % {"port": port, "origin": origin})


def collage_proxy(workdir, origin, port, cache=False):
    return servers.collage(workdir, workdir, port, extra="""
  <CacheMemoryDirectory>%s/memory-tier-%d</CacheMemoryDirectory>
  <Location path="/"><Store>proxy</Store><ProxyPass>http://127.0.0.1:%d/</ProxyPass>
    <ProxyKeepalive>64</ProxyKeepalive>%s</Location>""" % (
        workdir, port, origin, "<Cache>on</Cache>" if cache else ""))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    ensure_packages({"wrk": "wrk", "/usr/sbin/nginx": "nginx-light",
                     "/usr/sbin/haproxy": "haproxy", "/usr/sbin/varnishd": "varnish"})
    for unit in ("nginx", "haproxy", "varnish"):
        subprocess.run(["systemctl", "stop", unit], capture_output=True)
    workdir = tempfile.mkdtemp(prefix="proxy-bench-")
    os.makedirs(os.path.join(workdir, "site"))
    with open(os.path.join(workdir, "site", "1k.txt"), "w") as f:
        f.write("x" * 1024)
    origin_port = free_port()
    origin = Running(nginx_origin(workdir, origin_port), origin_port, cpu="1")
    makers = [
        ("haproxy", lambda p: haproxy(workdir, origin_port, p)),
        ("nginx", lambda p: nginx_proxy(workdir, origin_port, p)),
        ("collage", lambda p: collage_proxy(workdir, origin_port, p)),
        ("collage+cache", lambda p: collage_proxy(workdir, origin_port, p, cache=True)),
        ("varnish", lambda p: varnish(workdir, origin_port, p)),
    ]
    results = {}
    try:
        for _ in range(args.rounds):
            for name, make in makers:
                port = free_port()
                server = Running(make(port), port)
                try:
                    results.setdefault(name, []).append(
                        measured(server, port, "/1k.txt", args.seconds, connections=50))
                finally:
                    server.stop()
    finally:
        origin.stop()
    print("Reverse proxy, 1 KiB from a local nginx, keep-alive, 50 connections, %d rounds of %ds"
          % (args.rounds, args.seconds))
    base = statistics.median(r[1] for r in results["haproxy"])
    print("%-16s %10s %12s %12s" % ("proxy", "req/s", "CPU µs/req", "vs haproxy"))
    for name, _ in makers:
        rows = results[name]
        cpu = statistics.median(r[1] for r in rows)
        print("%-16s %10.0f %12.2f %11.2fx" % (name, statistics.median(r[0] for r in rows), cpu,
                                              cpu / base))


if __name__ == "__main__":
    main()
