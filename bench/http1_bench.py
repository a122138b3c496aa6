#!/usr/bin/env python3
"""Side-by-side HTTP/1.1 benchmark: Collage against nginx, Apache httpd (event MPM), h2o and
lighttpd, all from Debian.

Each server runs pinned to CPU 0 with one worker, access log off, keep-alive and sendfile on,
open files cached for 1 s where the server has such a cache (nginx open_file_cache, Collage
OpenFileCacheValid; h2o and lighttpd cache by default);
wrk runs pinned to CPU 1. Workloads run on every server in turn for several interleaved rounds
(A B A B ...) so machine noise hits all alike. Reports the median requests per second (min-max),
the server's CPU time per request (from /proc/PID/stat before and after each run) and each
figure's ratio to nginx.

Usage (as root, Debian 12): bench/http1_bench.py [--rounds 3] [--seconds 5]
Needs wrk, nginx, apache2, h2o and lighttpd; installs them with apt-get if missing.
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
from benchlib import cpu_seconds, free_port, process_tree, rss_kib, wait_for_port  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def ensure_tools():
    missing = [p for p, exe in (("wrk", "wrk"), ("nginx-light", "nginx"), ("apache2", "apache2"),
                                ("h2o", "h2o"), ("lighttpd", "lighttpd"))
               if not shutil.which(exe) and not os.path.exists("/usr/sbin/" + exe)]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    for unit in ("nginx", "apache2", "h2o", "lighttpd"):
        subprocess.run(["systemctl", "stop", unit], capture_output=True)






class Server:
    def __init__(self, name, argv, port, pids_of=None):
        self.name = name
        self.port = port
        # A session of its own: Apache signals its whole process group when it stops.
        self.process = subprocess.Popen(["taskset", "-c", "0", *argv], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for_port(port)
        time.sleep(0.5)  # children (Collage, Apache) are up by now
        self.pids = process_tree(self.process.pid)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_collage(workdir, docroot, port, binary=None, name="collage"):
    config = os.path.join(workdir, "collage.xml")
    with open(config, "w") as f:
        f.write("""<Collage>
  <Listen protocol="http1" address="127.0.0.1" port="%d"/>
  <AccessLog>off</AccessLog>
  <LogLevel>warn</LogLevel>
  <Mpm>event</Mpm>
  <ServerLimit>1</ServerLimit>
  <ThreadsPerChild>1</ThreadsPerChild>
  <MinSpareThreads>0</MinSpareThreads>
  <PidFile>off</PidFile>
  <MaxKeepAliveRequests>10000</MaxKeepAliveRequests>
  <KeepAliveTimeout>75s</KeepAliveTimeout>
  <OpenFileCacheValid>1s</OpenFileCacheValid>
  <DocumentRoot>%s</DocumentRoot>
</Collage>
""" % (port, docroot))
    binary = binary or os.path.join(REPO, "build", "mpm", "collage")
    return Server(name, [binary, "-f", config], port)


def start_nginx(workdir, docroot, port):
    config = os.path.join(workdir, "nginx.conf")
    with open(config, "w") as f:
        f.write("""daemon off;
master_process off;
worker_processes 1;
pid %s/nginx.pid;
error_log %s/nginx-error.log warn;
events { worker_connections 20000; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  open_file_cache max=1024 inactive=10s;
  open_file_cache_valid 1s;
  tcp_nopush on;
  keepalive_requests 10000;
  keepalive_timeout 75s;
  client_body_temp_path %s/body;
  proxy_temp_path %s/proxy;
  fastcgi_temp_path %s/fastcgi;
  uwsgi_temp_path %s/uwsgi;
  scgi_temp_path %s/scgi;
  server {
    listen 127.0.0.1:%d;
    root %s;
  }
}
""" % ((workdir,) * 7 + (port, docroot)))
    return Server("nginx", ["nginx", "-c", config, "-p", workdir], port)


def start_apache(workdir, docroot, port):
    # One child with enough threads for 256 connections: httpd's event MPM needs a thread per
    # connection with a request in flight.
    return Server("apache-event", servers.apache(workdir, docroot, port, "event", threads=128),
                  port)


def start_h2o(workdir, docroot, port):
    return Server("h2o", servers.h2o(workdir, docroot, port), port)


def start_lighttpd(workdir, docroot, port):
    return Server("lighttpd", servers.lighttpd(workdir, docroot, port), port)


def run_wrk(port, path, connections, seconds, new_connection=False, pids=None, rss=None):
    """Runs wrk; with pids, samples the servers' RSS halfway through into rss (a list)."""
    argv = ["taskset", "-c", "1", "wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds,
            "--timeout", "10s", "http://127.0.0.1:%d%s" % (port, path)]
    if new_connection:
        argv[4:4] = ["-H", "Connection: close"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    if pids is not None:
        time.sleep(seconds / 2)
        rss.append(rss_kib(pids))
    out, _ = process.communicate()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError("non-2xx responses:\n" + out)
    return rps, total


WORKLOADS = [
    ("1 KiB, keep-alive, 50 conns", "/1k.bin", 50, False),
    ("1 KiB, keep-alive, 256 conns", "/1k.bin", 256, False),
    ("64 KiB, keep-alive, 50 conns", "/64k.bin", 50, False),
    ("1 KiB, new connection per request, 50 conns", "/1k.bin", 50, True),
    ("100 MiB, keep-alive, 4 conns", "/100m.bin", 4, False),
]
BIG = "100 MiB, keep-alive, 4 conns"
MEMORY = "1 KiB, keep-alive, 256 conns"  # the load under which RSS is sampled


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--servers", default="nginx,apache-event,h2o,lighttpd,collage",
                        help="comma-separated subset to run (nginx is the baseline)")
    parser.add_argument("--collage-before", metavar="BINARY",
                        help="another collage binary (e.g. an older commit's build), shown as "
                             "collage-before, for before/after comparisons in one run")
    args = parser.parse_args()
    ensure_tools()
    workdir = tempfile.mkdtemp(prefix="collage-bench-")
    os.chmod(workdir, 0o755)  # Apache and lighttpd children read the files as nobody
    docroot = os.path.join(workdir, "www")
    os.makedirs(docroot)
    for name, size in (("1k.bin", 1024), ("64k.bin", 65536), ("100m.bin", 100 << 20)):
        with open(os.path.join(docroot, name), "wb") as f:
            f.write(os.urandom(size))
    starters = [("nginx", start_nginx), ("apache-event", start_apache), ("h2o", start_h2o),
                ("lighttpd", start_lighttpd), ("collage", start_collage)]
    wanted = args.servers.split(",")
    starters = [(n, s) for n, s in starters if n in wanted or n == "nginx"]
    if args.collage_before:
        before_config = os.path.join(workdir, "before")
        os.makedirs(before_config)
        starters.append(("collage-before", lambda _w, root, port: start_collage(
            before_config, root, port, args.collage_before, "collage-before")))
    results = {}  # (workload, server) -> list of (rps, cpu_us_per_request)
    memory = {}  # server -> list of (RSS KiB at rest, RSS KiB under MEMORY load)
    try:
        for round_number in range(args.rounds):
            for workload, path, conns, new_conn in WORKLOADS:
                for name, start in starters:
                    server = start(workdir, docroot, free_port())
                    try:
                        at_rest = rss_kib(server.pids)
                        run_wrk(server.port, path, conns, 1, new_conn)  # warm-up
                        before = cpu_seconds(server.pids)
                        loaded = []
                        rps, total = run_wrk(server.port, path, conns, args.seconds, new_conn,
                                             server.pids if workload == MEMORY else None, loaded)
                        cpu = cpu_seconds(server.pids) - before
                        if loaded:
                            memory.setdefault(name, []).append((at_rest, loaded[0]))
                    finally:
                        server.stop()
                    results.setdefault((workload, name), []).append((rps, cpu * 1e6 / total))
                    print("round %d  %-45s %-8s %10.0f req/s  %6.1f us CPU/req" %
                          (round_number + 1, workload, name, rps, cpu * 1e6 / total),
                          file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print("| Workload | Server | req/s median (min–max) | vs nginx | server CPU µs/req | vs nginx |")
    print("| --- | --- | --- | --- | --- | --- |")
    for workload, *_ in WORKLOADS[:-1]:
        base = results[(workload, "nginx")]
        base_rps = statistics.median(r for r, _ in base)
        base_cpu = statistics.median(c for _, c in base)
        for name, _ in starters:
            runs = results[(workload, name)]
            rps = [r for r, _ in runs]
            cpu = statistics.median(c for _, c in runs)
            print("| %s | %s | %.0f (%.0f–%.0f) | %.2f | %.1f | %.2f |" % (
                workload, name, statistics.median(rps), min(rps), max(rps),
                statistics.median(rps) / base_rps, cpu, cpu / base_cpu))

    print()
    print("| %s | Server | MB/s median (min–max) | vs nginx | server CPU s per GB | vs nginx |" % BIG)
    print("| --- | --- | --- | --- | --- | --- |")
    megabytes = (100 << 20) / 1e6
    base_runs = results[(BIG, "nginx")]
    base_mbs = statistics.median(r for r, _ in base_runs) * megabytes
    base_cpu_gb = statistics.median(c for _, c in base_runs) / 1e6 / (megabytes / 1000)
    for name, _ in starters:
        runs = results[(BIG, name)]
        mbs = [r * megabytes for r, _ in runs]
        cpu_gb = statistics.median(c for _, c in runs) / 1e6 / (megabytes / 1000)
        print("| | %s | %.0f (%.0f–%.0f) | %.2f | %.3f | %.2f |" % (
            name, statistics.median(mbs), min(mbs), max(mbs), statistics.median(mbs) / base_mbs,
            cpu_gb, cpu_gb / base_cpu_gb))

    print()
    print("| Server | RSS at rest (KiB) | RSS under load: %s (KiB) |" % MEMORY)
    print("| --- | --- | --- |")
    for name, _ in starters:
        rest = statistics.median(r for r, _ in memory[name])
        loaded = statistics.median(l for _, l in memory[name])
        print("| %s | %.0f | %.0f |" % (name, rest, loaded))


if __name__ == "__main__":
    main()
