#!/usr/bin/env python3
"""The cache side by side with Varnish and nginx proxy_cache (Debian packages), same machine,
same run, interleaved rounds.

1. Hit path: a 1 KiB response that allows reuse, keep-alive, 50 connections. Server CPU per
   request (utime+stime of the server's processes, pinned to CPU 0; wrk on CPU 1) for: Collage
   serving the same 1 KiB as a plain file (the floor of our own path), Collage answering from
   its cache, Varnish and nginx proxy_cache (both in front of a Collage origin, which a hit
   never reaches).
2. A slow origin (a CGI that takes 50 ms) behind each cache, 99% of requests for one URL and 1%
   for URLs never seen before: requests per second.
3. Two Collage nodes on one memcached: latency of node B's first answer for an entry node A
   stored (a memcached hit, copied into B's memory tier), then of B's next (a memory hit), over
   one keep-alive connection.

Usage (as root, Debian 12): bench/cache_bench.py [--rounds 3] [--seconds 5]
"""

import argparse
import http.client
import os
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

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

HIT_SCRIPT = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\nCache-Control: max-age=3600\\r\\n\\r\\n'
head -c 1024 /dev/zero | tr '\\0' 'x'
"""
SLOW_SCRIPT = """#!/bin/sh
sleep 0.05
printf 'Content-Type: text/plain\\r\\nCache-Control: max-age=3600\\r\\n\\r\\nmade slowly\\n'
"""
# 1 request in 100 asks for a URL not seen before.
MOSTLY_HITS_LUA = """
counter = 0
request = function()
  counter = counter + 1
  if counter %% 100 == 0 then
    return wrk.format(nil, "/cgi-bin/slow.sh?n=" .. counter .. "-" .. math.random(1, 1e9))
  end
  return wrk.format(nil, "/cgi-bin/slow.sh")
end
"""


def collage_cgi(workdir, scripts, port, cache=True, extra_server="", tiers="memory", name=""):
    cache_xml = ("<Cache>on</Cache><CacheTiers>%s</CacheTiers>" % tiers) if cache else ""
    return servers.collage(workdir, workdir, port, extra="""
  <CacheMemoryDirectory>%s/memory-tier-%s%d</CacheMemoryDirectory>
  %s
  <Location path="/cgi-bin"><Store>cgi</Store><CgiRoot>%s</CgiRoot>%s</Location>""" % (
        workdir, name, port, extra_server, scripts, cache_xml))


def varnish(workdir, origin_port, port):
    return ["varnishd", "-F", "-a", "127.0.0.1:%d" % port, "-b", "127.0.0.1:%d" % origin_port,
            "-s", "malloc,64m", "-n", os.path.join(workdir, "varnish-%d" % port),
            "-p", "thread_pools=1"]


def nginx_proxy_cache(workdir, origin_port, port):
    return nginx_conf(workdir, "nginx-%d" % port, """http {
  access_log off;
  proxy_temp_path %(d)s/proxy-temp-%(port)d;
  proxy_cache_path %(d)s/nginx-cache-%(port)d levels=1:2 keys_zone=hot:10m max_size=64m
                   use_temp_path=off;
  upstream origin { server 127.0.0.1:%(origin)d; keepalive 16; }
  server {
    listen 127.0.0.1:%(port)d;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache hot;
      proxy_cache_lock on;
    }
  }
}
""" % {"d": workdir, "port": port, "origin": origin_port})


class Running:
    def __init__(self, argv, port, cpu="0"):
        self.process = subprocess.Popen(["taskset", "-c", cpu, *argv], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        self.port = port
        wait_for_port(port)

    def pids(self):
        return process_tree(self.process.pid)

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def run_wrk(port, path, seconds, connections=50, script=None):
    argv = ["taskset", "-c", "1", "wrk", "-t", "1", "-c", str(connections), "-d",
            "%ds" % seconds]
    if script:
        argv += ["-s", script]
    out = subprocess.run(argv + ["http://127.0.0.1:%d%s" % (port, path)], capture_output=True,
                         text=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError("%s: %s errors" % (path, errors.group(1)))
    return requests


def measured(server, port, path, seconds, **kwargs):
    run_wrk(port, path, 1, **kwargs)  # warm-up: the entry is made here
    before = cpu_seconds(server.pids())
    requests = run_wrk(port, path, seconds, **kwargs)
    used = cpu_seconds(server.pids()) - before
    return requests / seconds, used / requests * 1e6


def write_scripts(workdir):
    scripts = os.path.join(workdir, "cgi-bin")
    os.makedirs(scripts)
    for name, text in (("hit.sh", HIT_SCRIPT), ("slow.sh", SLOW_SCRIPT)):
        path = os.path.join(scripts, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
    with open(os.path.join(workdir, "plain.txt"), "w") as f:
        f.write("x" * 1024)
    lua = os.path.join(workdir, "mostly-hits.lua")
    with open(lua, "w") as f:
        f.write(MOSTLY_HITS_LUA % ())
    return scripts, lua


def two_nodes(workdir, scripts, rounds):
    memcached_port = free_port()
    daemon = subprocess.Popen(["memcached", "-l", "127.0.0.1", "-p", str(memcached_port), "-U",
                               "0", "-u", "nobody", "-m", "64"])
    wait_for_port(memcached_port)
    extra = "<CacheMemcachedServers>127.0.0.1:%d</CacheMemcachedServers>" % memcached_port
    nodes = []
    try:
        for name in ("a", "b"):
            port = free_port()
            nodes.append(Running(collage_cgi(workdir, scripts, port, extra_server=extra,
                                             tiers="memory memcached", name=name), port))
        a = http.client.HTTPConnection("127.0.0.1", nodes[0].port)
        b = http.client.HTTPConnection("127.0.0.1", nodes[1].port)
        first, second = [], []
        for i in range(200 * rounds):
            path = "/cgi-bin/hit.sh?entry=%d" % i
            a.request("GET", path)
            a.getresponse().read()
            for into in (first, second):
                started = time.perf_counter()
                b.request("GET", path)
                response = b.getresponse()
                response.read()
                into.append((time.perf_counter() - started) * 1e6)
                if "hit" not in response.getheader("Cache-Status", ""):
                    raise RuntimeError("node B missed %s: %s" % (path,
                                                                response.getheader("Cache-Status")))
        return statistics.median(first), statistics.median(second)
    finally:
        for node in nodes:
            node.stop()
        daemon.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    ensure_packages({"wrk": "wrk", "/usr/sbin/nginx": "nginx-light",
                     "/usr/sbin/varnishd": "varnish", "/usr/bin/memcached": "memcached"})
    for unit in ("nginx", "varnish", "memcached"):
        subprocess.run(["systemctl", "stop", unit], capture_output=True)
    workdir = tempfile.mkdtemp(prefix="cache-bench-")
    os.chmod(workdir, 0o755)
    scripts, lua = write_scripts(workdir)

    # The origin the other caches fetch from (a hit never reaches it), on CPU 1.
    origin_port = free_port()
    origin = Running(collage_cgi(workdir, scripts, origin_port, cache=False, name="origin"),
                     origin_port, cpu="1")
    makers = [
        ("collage-file", lambda p: collage_cgi(workdir, scripts, p, name="file"), "/plain.txt"),
        ("collage-cache", lambda p: collage_cgi(workdir, scripts, p, name="c"), "/cgi-bin/hit.sh"),
        ("varnish", lambda p: varnish(workdir, origin_port, p), "/cgi-bin/hit.sh"),
        ("nginx-proxy_cache", lambda p: nginx_proxy_cache(workdir, origin_port, p),
         "/cgi-bin/hit.sh"),
    ]
    hits, slow = {}, {}
    try:
        for _ in range(args.rounds):
            for name, make, path in makers:
                port = free_port()
                server = Running(make(port), port)
                try:
                    hits.setdefault(name, []).append(measured(server, port, path, args.seconds))
                    if name != "collage-file":
                        rate, _ = measured(server, port, "/cgi-bin/slow.sh", args.seconds,
                                           script=lua)
                        slow.setdefault(name, []).append(rate)
                finally:
                    server.stop()
    finally:
        origin.stop()
    print("1. Hit path: 1 KiB, keep-alive, 50 connections, %d rounds of %ds; server on CPU 0" %
          (args.rounds, args.seconds))
    base = statistics.median(r[1] for r in hits["collage-cache"])
    print("%-20s %12s %12s %16s" % ("server", "req/s", "CPU µs/req", "vs collage-cache"))
    for name, _, _ in makers:
        rows = hits[name]
        cpu = statistics.median(r[1] for r in rows)
        print("%-20s %12.0f %12.2f %15.2fx" % (name, statistics.median(r[0] for r in rows), cpu,
                                               cpu / base))
    print("\n2. Slow origin (50 ms CGI), 99% hits, 50 connections: requests per second")
    for name in slow:
        rows = slow[name]
        print("%-20s %12.0f (%.0f-%.0f)" % (name, statistics.median(rows), min(rows), max(rows)))
    first, second = two_nodes(workdir, scripts, args.rounds)
    print("\n3. Two nodes, one memcached: node B's answer for an entry node A stored")
    print("   first (memcached hit) median %.0f µs; next (memory hit) median %.0f µs" %
          (first, second))


if __name__ == "__main__":
    main()
