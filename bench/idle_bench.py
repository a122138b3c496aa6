#!/usr/bin/env python3
"""Idle keep-alive connections: server memory per idle connection, and small-file throughput
with 10,000 idle connections held versus without. Collage (event MPM) against nginx.

Each idle connection has made one request and then waits, as a browser's spare connection does;
with --silent, each connects and sends nothing at all (a scanner, a slowloris before its first
byte). RSS is the server's total resident memory (all its processes) from /proc.

Usage (as root, Debian 12): bench/idle_bench.py [--connections 10000] [--seconds 3] [--silent]
"""

import argparse
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ensure_packages, free_port, process_tree, rss_kib, wait_for_port  # noqa

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start(argv, port):
    process = subprocess.Popen(["taskset", "-c", "0", *argv], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, preexec_fn=raise_fd_limit)
    wait_for_port(port)
    time.sleep(0.3)
    return process


def collage(d, port):
    with open(os.path.join(d, "collage.xml"), "w") as f:
        f.write("""<Collage>
  <Listen protocol="http1" address="127.0.0.1" port="%d"/>
  <AccessLog>off</AccessLog>
  <LogLevel>warn</LogLevel>
  <Mpm>event</Mpm>
  <ServerLimit>1</ServerLimit>
  <ThreadsPerChild>1</ThreadsPerChild>
  <MinSpareThreads>0</MinSpareThreads>
  <PidFile>off</PidFile>
  <KeepAliveTimeout>300s</KeepAliveTimeout>
  <RequestHeaderTimeout>300s</RequestHeaderTimeout>
  <MaxKeepAliveRequests>0</MaxKeepAliveRequests>
  <DocumentRoot>%s/www</DocumentRoot>
</Collage>
""" % (port, d))
    return start([os.path.join(REPO, "build", "mpm", "collage"), "-f",
                  os.path.join(d, "collage.xml")], port)


def nginx(d, port):
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write("""daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid %(d)s/nginx.pid;
error_log %(d)s/nginx-error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  sendfile on;
  keepalive_timeout 300s;
  client_header_timeout 300s;
  keepalive_requests 100000;
  client_body_temp_path %(d)s/body;
  proxy_temp_path %(d)s/proxy;
  fastcgi_temp_path %(d)s/fastcgi;
  uwsgi_temp_path %(d)s/uwsgi;
  scgi_temp_path %(d)s/scgi;
  server { listen 127.0.0.1:%(port)d; root %(d)s/www; }
}
""" % {"d": d, "port": port})
    return start(["nginx", "-c", os.path.join(d, "nginx.conf"), "-p", d], port)


def wrk(port, seconds):
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c50", "-d%ds" % seconds,
                          "http://127.0.0.1:%d/1k.bin" % port], capture_output=True,
                         text=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def open_idle(port, count, silent):
    request = b"GET /1k.bin HTTP/1.1\r\nHost: x\r\n\r\n"
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        if silent:
            sockets.append(s)
            continue
        s.sendall(request)
        got = b""
        while b"\r\n\r\n" not in got or len(got) < 1024:
            got += s.recv(4096)
        sockets.append(s)
    return sockets


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--silent", action="store_true",
                        help="connections that never send a byte, instead of idle keep-alive")
    args = parser.parse_args()
    ensure_packages({"wrk": "wrk", "nginx": "nginx-light"})
    subprocess.run(["systemctl", "stop", "nginx"], capture_output=True)
    raise_fd_limit()
    d = tempfile.mkdtemp(prefix="collage-idle-bench-")
    os.makedirs(os.path.join(d, "www"))
    with open(os.path.join(d, "www", "1k.bin"), "wb") as f:
        f.write(os.urandom(1024))
    rows = []
    for name, starter in (("nginx", nginx), ("collage", collage)):
        port = free_port()
        process = starter(d, port)
        try:
            pids = process_tree(process.pid)
            without = wrk(port, args.seconds)
            rest = rss_kib(pids)
            sockets = open_idle(port, args.connections, args.silent)
            time.sleep(1)
            held = rss_kib(pids)
            with_idle = wrk(port, args.seconds)
            per_connection = (held - rest) / args.connections
            rows.append((name, rest, held, per_connection, without, with_idle))
            print("%-8s RSS %d KiB at rest, %d KiB with %d idle: %.2f KiB each; "
                  "%.0f req/s without, %.0f with" % (name, rest, held, args.connections,
                                                      per_connection, without, with_idle),
                  file=sys.stderr)
            for s in sockets:
                s.close()
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
    kind = "silent" if args.silent else "idle"
    print("| Server | RSS at rest (KiB) | RSS with %d %s (KiB) | KiB per %s connection | "
          "req/s without | req/s with them | ratio |" % (args.connections, kind, kind))
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, rest, held, per, without, with_idle in rows:
        print("| %s | %d | %d | %.2f | %.0f | %.0f | %.2f |" % (name, rest, held, per, without,
                                                              with_idle, with_idle / without))


if __name__ == "__main__":
    main()
