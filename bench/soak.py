#!/usr/bin/env python3
"""Soak: mixed load on every protocol for a long while (30 minutes by default), with a graceful
restart every few minutes and a child killed every minute, checking that no request is lost and
that memory stays flat. Not part of CI (too long); run before a release.

Load, all checked byte for byte:
  HTTP/1.1   keep-alive clients fetching pages of several sizes
  HTTP/2     h2load bursts (h2c, 4 connections x 10 streams) every few seconds
  Gopher     clients fetching a file by selector
  FTP        a client downloading and uploading (each upload read back over FTP)
A GET that meets a connection closed before any byte of its answer (a graceful restart closing an
idle keep-alive connection, or a killed child) is sent again once, as browsers do; a request is
*lost* when it still gets no correct answer. Memory is the PSS of the whole process tree, sampled
every 10 s; it is *flat* when the last third of the run averages within 10% (and 8 MiB) of the
middle third.

Usage: bench/soak.py [--minutes 30] [--mpm event|worker|prefork] [--restart-every 180]
                     [--kill-every 60]
Exit status 1 when a request was lost or memory was not flat.
"""

import argparse
import ftplib
import http.client
import io
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "attacks"))
from attack_support import tree_pss_kib  # noqa: E402
from benchlib import free_port, wait_for_port  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, ".."))
SIZES = {"small.txt": 200, "page.html": 16 * 1024, "large.bin": 2 * 1024 * 1024}


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n


def http1_client(port, files, stop, tally):
    connection = None
    names = list(files)
    while not stop.is_set():
        name = random.choice(names)
        for attempt in (1, 2):
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", "/" + name)
                response = connection.getresponse()
                body = response.read()
                if response.status == 200 and body == files[name]:
                    tally.add("http1 ok")
                else:
                    tally.add("http1 lost")
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
                break
            except (OSError, http.client.HTTPException) as e:
                if connection is not None:
                    connection.close()
                connection = None
                if attempt == 2:
                    tally.add("http1 lost: " + type(e).__name__)
                else:
                    tally.add("http1 retried")


def h2_bursts(port, stop, tally):
    while not stop.wait(3):
        out = subprocess.run(["h2load", "-n", "400", "-c", "4", "-m", "10",
                              "http://127.0.0.1:%d/page.html" % port],
                             capture_output=True, text=True, timeout=120)
        done = [line for line in out.stdout.splitlines() if line.startswith("requests:")]
        fields = done[0].split() if done else []
        # "requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed, 0 errored, ..."
        succeeded = int(fields[7]) if len(fields) > 7 else 0
        tally.add("http2 ok", succeeded)
        # A burst cut by a kill or a restart: its unanswered requests are sent again once.
        if succeeded < 400:
            tally.add("http2 retried", 400 - succeeded)
            again = subprocess.run(["h2load", "-n", str(400 - succeeded), "-c", "1",
                                    "http://127.0.0.1:%d/page.html" % port],
                                   capture_output=True, text=True, timeout=120)
            ok = "%d succeeded" % (400 - succeeded) in again.stdout
            tally.add("http2 ok" if ok else "http2 lost", 400 - succeeded)


def gopher_client(port, files, stop, tally):
    while not stop.is_set():
        for attempt in (1, 2):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                    s.sendall(b"/large.bin\r\n")
                    data = b""
                    while chunk := s.recv(1 << 16):
                        data += chunk
                if data == files["large.bin"]:
                    tally.add("gopher ok")
                    break
                raise OSError("short answer")
            except OSError as e:
                tally.add("gopher lost: " + type(e).__name__ if attempt == 2 else "gopher retried")


def ftp_client(port, files, incoming, stop, tally):
    n = 0
    while not stop.is_set():
        n += 1
        for attempt in (1, 2):
            try:
                client = ftplib.FTP()
                client.connect("127.0.0.1", port, timeout=30)
                client.login()
                got = io.BytesIO()
                client.retrbinary("RETR /page.html", got.write)
                payload = os.urandom(50_000)
                client.storbinary("STOR /incoming/up-%d.bin" % n, io.BytesIO(payload))
                back = io.BytesIO()
                client.retrbinary("RETR /incoming/up-%d.bin" % n, back.write)
                client.quit()
                # Anonymous users may upload but not delete (as with vsftpd): tidy up here.
                os.remove(os.path.join(incoming, "up-%d.bin" % n))
                if got.getvalue() == files["page.html"] and back.getvalue() == payload:
                    tally.add("ftp ok")
                    break
                raise OSError("wrong content")
            except (OSError, ftplib.Error, EOFError) as e:
                tally.add("ftp lost: %s %s" % (type(e).__name__, str(e)[:40]) if attempt == 2
                          else "ftp retried")


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--mpm", default="event")
    parser.add_argument("--restart-every", type=float, default=180)
    parser.add_argument("--kill-every", type=float, default=60)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="collage-soak-")
    root = os.path.join(workdir, "site")
    os.makedirs(os.path.join(root, "incoming"))
    files = {}
    for name, size in SIZES.items():
        files[name] = os.urandom(size)
        with open(os.path.join(root, name), "wb") as f:
            f.write(files[name])
    ports = {p: free_port() for p in ("http", "gopher", "ftp")}
    config = os.path.join(workdir, "collage.xml")
    load = ('<LoadModule name="prefork" path="%s/build/modules/mod_prefork.so"/>' % REPO
            if args.mpm == "prefork" else "")
    with open(config, "w") as f:
        f.write("""<Collage>
  %s
  <Mpm>%s</Mpm>
  <Listen protocol="http1" address="127.0.0.1" port="%d"/>
  <Listen protocol="gopher" address="127.0.0.1" port="%d"/>
  <Listen protocol="ftp" address="127.0.0.1" port="%d"/>
  <ErrorLog>%s/error.log</ErrorLog>
  <PidFile>off</PidFile>
  <FtpAnonymousUpload>/incoming</FtpAnonymousUpload>
  <GopherTextFraming>off</GopherTextFraming>
  <DocumentRoot>%s</DocumentRoot>
  <Writable>on</Writable>
</Collage>
""" % (load, args.mpm, ports["http"], ports["gopher"], ports["ftp"], workdir, root))
    server = subprocess.Popen([os.path.join(REPO, "build", "mpm", "collage"), "-f", config],
                              cwd=workdir)
    for port in ports.values():
        wait_for_port(port)
    stop = threading.Event()
    tally = Tally()
    threads = [threading.Thread(target=http1_client, args=(ports["http"], files, stop, tally))
               for _ in range(4)]
    threads += [threading.Thread(target=h2_bursts, args=(ports["http"], stop, tally))]
    threads += [threading.Thread(target=gopher_client, args=(ports["gopher"], files, stop, tally))
                for _ in range(2)]
    threads += [threading.Thread(target=ftp_client, args=(ports["ftp"], files,
                                                           os.path.join(root, "incoming"), stop,
                                                           tally))]
    for t in threads:
        t.start()
    start = time.monotonic()
    end = start + args.minutes * 60
    next_restart, next_kill = start + args.restart_every, start + args.kill_every
    samples, restarts, kills = [], 0, 0
    try:
        while time.monotonic() < end:
            time.sleep(10)
            now = time.monotonic()
            samples.append((now - start, tree_pss_kib(server.pid) / 1024))
            print("%6.0f s  %6.1f MiB  %s" % (samples[-1][0], samples[-1][1],
                                              dict(sorted(tally.counts.items()))), flush=True)
            if now >= next_restart:
                server.send_signal(signal.SIGUSR1)
                restarts += 1
                next_restart += args.restart_every
            if now >= next_kill and children(server.pid):
                os.kill(random.choice(children(server.pid)), signal.SIGKILL)
                kills += 1
                next_kill += args.kill_every
    finally:
        stop.set()
        for t in threads:
            t.join(180)
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    third = max(1, len(samples) // 3)
    middle = statistics.mean(m for _, m in samples[third:2 * third] or samples)
    last = statistics.mean(m for _, m in samples[-third:])
    flat = last <= middle * 1.10 or last - middle <= 8
    lost = sum(v for k, v in tally.counts.items() if " lost" in k)
    print("\n%s MPM, %.1f minutes, %d graceful restarts, %d children killed"
          % (args.mpm, args.minutes, restarts, kills))
    for key, value in sorted(tally.counts.items()):
        print("  %-16s %d" % (key, value))
    print("memory (PSS of the tree): first %.1f MiB, middle third %.1f, last third %.1f, "
          "highest %.1f -> %s" % (samples[0][1], middle, last, max(m for _, m in samples),
                                  "flat" if flat else "GROWING"))
    print("requests lost: %d" % lost)
    sys.exit(0 if lost == 0 and flat else 1)


if __name__ == "__main__":
    main()
