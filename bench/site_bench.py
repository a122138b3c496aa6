#!/usr/bin/env python3
"""What site rules cost: Collage and nginx (Debian's nginx-light) serving a 1 KiB file, side by
side, interleaved, each pinned to CPU 0 with wrk on CPU 1, keep-alive, 50 connections.

Workloads, the same rules written for each server:
  plain      the file, no rules
  rules      the file through ten regular-expression rewrite rules that do not match it, and two
             response headers (what a migrated site typically carries)
  rewritten  a pretty URL rewritten internally to the file (/pretty/1k -> /1k.txt)
  redirect   a prefix redirect answered with 301 (wrk counts 3xx as answered)

Reports requests per second and server CPU µs per request, and Collage against nginx.

Usage (as root, Debian 12): bench/site_bench.py [--rounds 3] [--seconds 5]
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
from cache_bench import Running, measured  # noqa: E402

WORKLOADS = [("plain", "/1k.txt"), ("rules", "/site/1k.txt"), ("rewritten", "/pretty/1k"),
             ("redirect", "/old/1k.txt")]

# Ten patterns a site might carry, none matching /site/1k.txt.
PATTERNS = [r"^/site/blog/(\d+)/([\w-]+)$", r"^/site/user/(\w+)$", r"^/site/(.*)\.php$",
            r"^/site/old-(.*)$", r"^/site/a/b/c/(.*)$", r"^/site/feed(/.*)?$",
            r"^/site/(\d{4})/(\d{2})/$", r"^/site/tag/([^/]+)/page/(\d+)$",
            r"^/site/.*\.(bak|orig|swp)$", r"^/site/api/v1/(.*)$"]


def collage_site(workdir, port):
    rules = "\n".join("<RewriteRule>%s /index.html [L]</RewriteRule>" % p for p in PATTERNS)
    return servers.collage(workdir, os.path.join(workdir, "site"), port, extra="""
  <Location path="/site">
    <Alias>%(site)s</Alias>
    %(rules)s
    <Header>set X-Frame-Options DENY</Header>
    <Header>set X-Content-Type-Options nosniff</Header>
  </Location>
  <Location path="/pretty">
    <RewriteRule>^/pretty/(\\w+)$ /$1.txt [L]</RewriteRule>
  </Location>
  <Location path="/old">
    <Redirect>301 /old /new</Redirect>
  </Location>""" % {"site": os.path.join(workdir, "site"), "rules": rules})


def nginx_site(workdir, port):
    rules = "\n".join("      rewrite \"%s\" /index.html last;" % p for p in PATTERNS)
    return nginx_conf(workdir, "nginx-%d" % port, """http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:%(port)d;
    root %(d)s/site;
    location / { }
    location /site/ {
      alias %(d)s/site/;
%(rules)s
      add_header X-Frame-Options DENY;
      add_header X-Content-Type-Options nosniff;
    }
    location /pretty/ { rewrite ^/pretty/(\\w+)$ /$1.txt last; }
    location /old { rewrite ^/old(.*)$ /new$1 permanent; }
  }
}
""" % {"d": workdir, "port": port, "rules": rules})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    ensure_packages({"wrk": "wrk", "/usr/sbin/nginx": "nginx-light"})
    subprocess.run(["systemctl", "stop", "nginx"], capture_output=True)
    workdir = tempfile.mkdtemp(prefix="site-bench-")
    os.makedirs(os.path.join(workdir, "site"))
    with open(os.path.join(workdir, "site", "1k.txt"), "w") as f:
        f.write("x" * 1024)
    makers = [("nginx", nginx_site), ("collage", collage_site)]
    results = {}
    for _ in range(args.rounds):
        for name, make in makers:
            port = free_port()
            server = Running(make(workdir, port), port)
            try:
                for workload, path in WORKLOADS:
                    results.setdefault((name, workload), []).append(
                        measured(server, port, path, args.seconds, connections=50))
            finally:
                server.stop()
    print("Site rules, 1 KiB file, keep-alive, 50 connections, %d rounds of %ds, medians"
          % (args.rounds, args.seconds))
    print("%-10s %-8s %10s %12s %12s" % ("workload", "server", "req/s", "CPU µs/req", "vs nginx"))
    for workload, _ in WORKLOADS:
        base = statistics.median(r[1] for r in results[("nginx", workload)])
        for name, _ in makers:
            runs = results[(name, workload)]
            rate = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            print("%-10s %-8s %10.0f %12.1f %11.2fx" % (workload, name, rate, cpu, cpu / base))


if __name__ == "__main__":
    main()
