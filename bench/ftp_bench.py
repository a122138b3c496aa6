#!/usr/bin/env python3
"""FTP download throughput: Collage against vsftpd from Debian, side by side.

Workloads: one 100 MiB RETR, and 20 parallel clients each fetching 1 MiB files for a fixed time
(curl, one process per transfer). Anonymous, passive mode, binary, sendfile on both. Servers on
CPU 0, clients on CPU 1, interleaved rounds. Reports MB/s and server CPU per GB.

Usage (as root, Debian 12): bench/ftp_bench.py [--rounds 3] [--seconds 5]
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import cpu_seconds, free_port, process_tree, wait_for_port  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def ensure_tools():
    if not os.path.exists("/usr/sbin/vsftpd"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "vsftpd"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    subprocess.run(["systemctl", "stop", "vsftpd"], capture_output=True)





def start_collage(d, port):
    with open(os.path.join(d, "collage.xml"), "w") as f:
        f.write("""<Collage>
  <Listen protocol="ftp" address="127.0.0.1" port="%d"/>
  <AccessLog>off</AccessLog>
  <LogLevel>warn</LogLevel>
  <Mpm>event</Mpm>
  <ServerLimit>1</ServerLimit>
  <ThreadsPerChild>1</ThreadsPerChild>
  <MinSpareThreads>0</MinSpareThreads>
  <PidFile>off</PidFile>
  <FtpMaxClientsPerIp>100</FtpMaxClientsPerIp>
  <DocumentRoot>%s/pub</DocumentRoot>
</Collage>
""" % (port, d))
    return subprocess.Popen(["taskset", "-c", "0", os.path.join(REPO, "build", "mpm", "collage"),
                             "-f", os.path.join(d, "collage.xml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_vsftpd(d, port):
    with open(os.path.join(d, "vsftpd.conf"), "w") as f:
        f.write("""listen=YES
listen_address=127.0.0.1
listen_port=%d
background=NO
anonymous_enable=YES
anon_root=%s/pub
no_anon_password=YES
local_enable=NO
write_enable=NO
pasv_enable=YES
use_sendfile=YES
max_per_ip=100
max_clients=200
xferlog_enable=NO
seccomp_sandbox=NO
secure_chroot_dir=%s/empty
""" % (port, d, d))
    return subprocess.Popen(["taskset", "-c", "0", "/usr/sbin/vsftpd",
                             os.path.join(d, "vsftpd.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fetch(url):
    out = subprocess.run(["taskset", "-c", "1", "curl", "-sS", "-o", "/dev/null", "-w",
                          "%{size_download}", url], capture_output=True, text=True)
    return int(out.stdout or 0) if out.returncode == 0 else 0


def big_file(port):
    start = time.time()
    size = fetch("ftp://127.0.0.1:%d/big.bin" % port)
    return size, time.time() - start


def many_small(port, seconds):
    deadline = time.time() + seconds
    url = "ftp://127.0.0.1:%d/small.bin" % port

    def worker(_):
        total = 0
        while time.time() < deadline:
            total += fetch(url)
        return total

    start = time.time()
    with ThreadPoolExecutor(20) as pool:
        total = sum(pool.map(worker, range(20)))
    return total, time.time() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    ensure_tools()
    d = tempfile.mkdtemp(prefix="collage-ftp-bench-")
    os.chmod(d, 0o755)
    os.makedirs(os.path.join(d, "pub"))
    os.makedirs(os.path.join(d, "empty"))
    subprocess.run(["dd", "if=/dev/urandom", "of=%s/pub/big.bin" % d, "bs=1M", "count=100"],
                   check=True, capture_output=True)
    subprocess.run(["dd", "if=/dev/urandom", "of=%s/pub/small.bin" % d, "bs=1M", "count=1"],
                   check=True, capture_output=True)
    os.chmod(os.path.join(d, "pub"), 0o555)  # vsftpd refuses a writable anonymous root
    servers = [("vsftpd", start_vsftpd), ("collage", start_collage)]
    workloads = [("100 MiB RETR", lambda port: big_file(port)),
                 ("20 clients x 1 MiB files", lambda port: many_small(port, args.seconds))]
    results = {}
    try:
        for round_number in range(args.rounds):
            for workload, run in workloads:
                for name, start in servers:
                    port = free_port()
                    process = start(d, port)
                    try:
                        wait_for_port(port)
                        before = cpu_seconds(process_tree(process.pid), include_children=True)
                        size, elapsed = run(port)
                        cpu = cpu_seconds(process_tree(process.pid), include_children=True) - before
                    finally:
                        process.send_signal(signal.SIGTERM)
                        try:
                            process.wait(10)
                        except subprocess.TimeoutExpired:
                            process.kill()
                    mbps = size / elapsed / 1e6
                    cpu_per_gb = cpu / max(size / 1e9, 1e-9)
                    results.setdefault((workload, name), []).append((mbps, cpu_per_gb))
                    print("round %d  %-26s %-8s %8.0f MB/s  %6.2f CPU s/GB" %
                          (round_number + 1, workload, name, mbps, cpu_per_gb), file=sys.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("| Workload | Server | MB/s median (min–max) | vs vsftpd | server CPU s per GB |")
    print("| --- | --- | --- | --- | --- |")
    for workload, _ in workloads:
        base = statistics.median(m for m, _ in results[(workload, "vsftpd")])
        for name, _ in servers:
            runs = results[(workload, name)]
            mbps = [m for m, _ in runs]
            print("| %s | %s | %.0f (%.0f–%.0f) | %.2f | %.2f |" % (
                workload, name, statistics.median(mbps), min(mbps), max(mbps),
                statistics.median(mbps) / base, statistics.median(c for _, c in runs)))


if __name__ == "__main__":
    main()
