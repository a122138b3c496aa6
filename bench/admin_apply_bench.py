#!/usr/bin/env python3
"""Replacing the running configuration under load: 100 applies through the admin API (each a
graceful restart to a configuration whose DefaultType differs) while clients keep requesting, with
`nginx -s reload` of the same change as a witness.

Load: 8 threads, half on keep-alive connections and half opening a new connection per request,
each checking every response (status 200 and the whole body). Reports per server: the time from
the apply call to the first response that shows the new configuration (median and 95th
percentile), requests served, and requests that failed (aim: 0).

Usage (as root, Debian 12): bench/admin_apply_bench.py [--applies 100] [--mpm event]
"""

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ensure_packages, free_port, nginx_conf, wait_for_port  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BODY = b"x" * 1024


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


class Load:
    """Threads requesting /file until stopped; counts served and failed requests."""

    def __init__(self, port, threads=8):
        self.port = port
        self.stop = threading.Event()
        self.served = 0
        self.failed = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i % 2 == 0,))
                        for i in range(threads)]
        for thread in self.threads:
            thread.start()

    def run(self, keep_alive):
        connection = None
        while not self.stop.is_set():
            reused = connection is not None
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", "/file")
                response = connection.getresponse()
                body = response.read()
                if response.status != 200 or body != BODY:
                    raise RuntimeError("status %d, %d bytes" % (response.status, len(body)))
                if response.getheader("Connection", "").lower() == "close" or not keep_alive:
                    connection.close()
                    connection = None
                with self.lock:
                    self.served += 1
            except Exception as error:  # every failure is the measurement
                with self.lock:
                    self.failed.append(("on a reused connection: " if reused else
                                        "on a new connection: ") + repr(error))
                if connection is not None:
                    connection.close()
                connection = None

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join()


def served_type(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/file")
        response = connection.getresponse()
        response.read()
        return response.getheader("Content-Type")
    finally:
        connection.close()


def until_served(port, wanted, started):
    while served_type(port) != wanted:
        if time.monotonic() - started > 30:
            raise RuntimeError("the new configuration never served")
    return time.monotonic() - started


def collage_run(workdir, applies, mpm):
    port = free_port()
    sock = os.path.join(workdir, "admin.sock")
    load = ('<LoadModule name="prefork" path="%s/build/modules/mod_prefork.so"/>' % REPO
            if mpm == "prefork" else "")

    def config(kind):
        return """<Collage>
  %s
  <Mpm>%s</Mpm>
  <Listen protocol="http1" address="127.0.0.1" port="%d"/>
  <Listen protocol="http1" address="unix:%s" admin="on"/>
  <AccessLog>off</AccessLog>
  <LogLevel>warn</LogLevel>
  <PidFile>off</PidFile>
  <ErrorLog>%s/error.log</ErrorLog>
  <DocumentRoot>%s/site</DocumentRoot>
  <DefaultType>%s</DefaultType>
</Collage>
""" % (load, mpm, port, sock, workdir, workdir, kind)

    path = os.path.join(workdir, "collage.xml")
    with open(path, "w") as f:
        f.write(config("text/x-0"))
    server = subprocess.Popen([os.path.join(REPO, "build", "mpm", "collage"), "-f", path])
    try:
        wait_for_port(port)
        times = []
        load_clients = Load(port)
        for i in range(1, applies + 1):
            kind = "text/x-%d" % i
            started = time.monotonic()
            connection = UnixHTTPConnection(sock)
            connection.request("POST", "/config", body=config(kind).encode(),
                               headers={"Content-Type": "application/xml"})
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status != 200:
                raise RuntimeError("apply %d answered %d" % (i, response.status))
            times.append(until_served(port, kind, started))
        load_clients.finish()
        return times, load_clients
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def nginx_run(workdir, applies):
    port = free_port()

    def conf(kind):
        return nginx_conf(workdir, "nginx-admin", """http {
  access_log off;
  server { listen 127.0.0.1:%d; root %s/site; default_type %s; location / { } }
}
""" % (port, workdir, kind))

    command = conf("text/x-0")
    server = subprocess.Popen(command)
    try:
        wait_for_port(port)
        times = []
        load_clients = Load(port)
        for i in range(1, applies + 1):
            kind = "text/x-%d" % i
            started = time.monotonic()
            conf(kind)  # rewrites the same file
            subprocess.run(command[:1] + ["-s", "reload"] + command[1:], check=True,
                           capture_output=True)
            times.append(until_served(port, kind, started))
        load_clients.finish()
        return times, load_clients
    finally:
        subprocess.run(command[:1] + ["-s", "stop"] + command[1:], capture_output=True)
        server.wait(timeout=30)


def report(name, times, load):
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print("%-22s apply→serving median %6.1f ms, p95 %6.1f ms; %d requests served, %d failed"
          % (name, statistics.median(times) * 1000, p95 * 1000, load.served, len(load.failed)))
    kinds = {}
    for failure in load.failed:
        kinds[failure] = kinds.get(failure, 0) + 1
    for failure, count in sorted(kinds.items(), key=lambda item: -item[1]):
        print("    %5d failed %s" % (count, failure))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--applies", type=int, default=100)
    parser.add_argument("--mpm", default="event")
    parser.add_argument("--no-nginx", action="store_true")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="admin-bench-")
    os.makedirs(os.path.join(workdir, "site"))
    with open(os.path.join(workdir, "site", "file"), "wb") as f:
        f.write(BODY)
    times, load = collage_run(workdir, args.applies, args.mpm)
    report("collage (%s)" % args.mpm, times, load)
    if not args.no_nginx:
        ensure_packages({"/usr/sbin/nginx": "nginx-light"})
        subprocess.run(["systemctl", "stop", "nginx"], capture_output=True)
        times, load = nginx_run(workdir, args.applies)
        report("nginx -s reload", times, load)


if __name__ == "__main__":
    main()
