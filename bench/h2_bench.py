#!/usr/bin/env python3
"""HTTP/2 side by side: Collage against h2o and nginx from Debian, with h2load.

A 1 KiB file, 50 connections x 10 concurrent streams, over h2c (prior knowledge) and over TLS
(ALPN h2, the same self-signed certificate for all). Each server runs one worker pinned to
CPU 0, access log off; h2load runs pinned to CPU 1. Workloads run on every server in turn for
interleaved rounds; the table gives median requests per second (min-max), server CPU time per
request from /proc, and ratios to h2o.

Usage (as root, Debian 12): bench/h2_bench.py [--rounds 3] [--seconds 5]
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
from benchlib import cpu_seconds, free_port, process_tree, wait_for_port  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def ensure_tools():
    needed = {"h2load": "nghttp2-client", "nginx": "nginx-light", "h2o": "h2o"}
    missing = [pkg for exe, pkg in needed.items() if not shutil.which(exe)]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    for unit in ("nginx", "h2o"):
        subprocess.run(["systemctl", "stop", unit], capture_output=True)






def start(argv, port):
    process = subprocess.Popen(["taskset", "-c", "0", *argv], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_for_port(port)
    time.sleep(0.2)
    return process


def collage(d, port, tls):
    with open(os.path.join(d, "collage.xml"), "w") as f:
        f.write("""<Collage>
  <Listen protocol="http1" address="127.0.0.1" port="%d" tls="%s"/>
  <TLSCertificateFile>%s/cert.pem</TLSCertificateFile>
  <TLSCertificateKeyFile>%s/key.pem</TLSCertificateKeyFile>
  <AccessLog>off</AccessLog>
  <LogLevel>warn</LogLevel>
  <Mpm>event</Mpm>
  <ServerLimit>1</ServerLimit>
  <ThreadsPerChild>1</ThreadsPerChild>
  <MinSpareThreads>0</MinSpareThreads>
  <PidFile>off</PidFile>
  <OpenFileCacheValid>1s</OpenFileCacheValid>
  <DocumentRoot>%s/www</DocumentRoot>
</Collage>
""" % (port, "on" if tls else "off", d, d, d))
    return start([COLLAGE_BINARY or os.path.join(REPO, "build", "mpm", "collage"), "-f",
                  os.path.join(d, "collage.xml")], port)


COLLAGE_BINARY = None  # set for the "collage-before" run


def collage_before(binary):
    def starter(d, port, tls):
        global COLLAGE_BINARY
        COLLAGE_BINARY = binary
        try:
            return collage(d, port, tls)
        finally:
            COLLAGE_BINARY = None
    return starter


def h2o(d, port, tls):
    with open(os.path.join(d, "h2o.conf"), "w") as f:
        f.write("""num-threads: 1
pid-file: %s/h2o.pid
user: root
listen:
  host: 127.0.0.1
  port: %d
%shosts:
  default:
    paths:
      /:
        file.dir: %s/www
""" % (d, port, ("  ssl:\n    certificate-file: %s/cert.pem\n    key-file: %s/key.pem\n" %
                  (d, d)) if tls else "", d))
    return start(["h2o", "-c", os.path.join(d, "h2o.conf")], port)


def nginx(d, port, tls):
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write("""daemon off;
master_process off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  open_file_cache max=1024 inactive=10s;
  open_file_cache_valid 1s;
  keepalive_requests 10000000;
  client_body_temp_path %(d)s/body;
  proxy_temp_path %(d)s/proxy;
  fastcgi_temp_path %(d)s/fastcgi;
  uwsgi_temp_path %(d)s/uwsgi;
  scgi_temp_path %(d)s/scgi;
  server {
    listen 127.0.0.1:%(port)d %(listen)s;
    %(certs)s
    root %(d)s/www;
  }
}
""" % {"d": d, "port": port, "listen": "ssl http2" if tls else "http2",
       "certs": ("ssl_certificate %s/cert.pem; ssl_certificate_key %s/key.pem;" % (d, d))
       if tls else ""})
    return start(["nginx", "-c", os.path.join(d, "nginx.conf"), "-p", d], port)


def h2load(url, seconds):
    out = subprocess.run(["taskset", "-c", "1", "h2load", "-c", "50", "-m", "10", "-t", "1",
                          "-D", str(seconds), url], capture_output=True, text=True).stdout
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", out)
    rps = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    if not done or not rps or done.group(1) != done.group(2):
        raise RuntimeError("h2load failed:\n" + out)
    return float(rps.group(1)), int(done.group(2))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--collage-before", metavar="BINARY",
                        help="another collage binary, shown as collage-before")
    args = parser.parse_args()
    ensure_tools()
    d = tempfile.mkdtemp(prefix="collage-h2-bench-")
    os.makedirs(os.path.join(d, "www"))
    with open(os.path.join(d, "www", "1k.bin"), "wb") as f:
        f.write(os.urandom(1024))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", os.path.join(d, "key.pem"), "-out",
                    os.path.join(d, "cert.pem")], check=True, capture_output=True)
    servers = [("h2o", h2o), ("nginx", nginx), ("collage", collage)]
    if args.collage_before:
        servers.append(("collage-before", collage_before(args.collage_before)))
    workloads = [("h2c, 1 KiB, 50 conns x 10 streams", False),
                 ("TLS h2, 1 KiB, 50 conns x 10 streams", True)]
    results = {}
    try:
        for round_number in range(args.rounds):
            for workload, tls in workloads:
                for name, starter in servers:
                    port = free_port()
                    process = starter(d, port, tls)
                    url = "%s://127.0.0.1:%d/1k.bin" % ("https" if tls else "http", port)
                    try:
                        h2load(url, 1)
                        pids = process_tree(process.pid)
                        before = cpu_seconds(pids)
                        rps, done = h2load(url, args.seconds)
                        cpu = cpu_seconds(pids) - before
                    finally:
                        process.send_signal(signal.SIGTERM)
                        try:
                            process.wait(10)
                        except subprocess.TimeoutExpired:
                            process.kill()
                    results.setdefault((workload, name), []).append((rps, cpu * 1e6 / done))
                    print("round %d  %-40s %-8s %9.0f req/s  %6.2f us CPU/req" %
                          (round_number + 1, workload, name, rps, cpu * 1e6 / done),
                          file=sys.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("| Workload | Server | req/s median (min–max) | vs h2o | server CPU µs/req | vs h2o |")
    print("| --- | --- | --- | --- | --- | --- |")
    for workload, _ in workloads:
        base = results[(workload, "h2o")]
        base_rps = statistics.median(r for r, _ in base)
        base_cpu = statistics.median(c for _, c in base)
        for name, _ in servers:
            runs = results[(workload, name)]
            rps = [r for r, _ in runs]
            cpu = statistics.median(c for _, c in runs)
            print("| %s | %s | %.0f (%.0f–%.0f) | %.2f | %.2f | %.2f |" % (
                workload, name, statistics.median(rps), min(rps), max(rps),
                statistics.median(rps) / base_rps, cpu, cpu / base_cpu))


if __name__ == "__main__":
    main()
