#!/usr/bin/env python3
"""CGI side by side: Collage's cgi store against Apache httpd (event MPM + mod_cgid) and nginx
+ fcgiwrap, all from Debian, on the same hello-world scripts (a shell one and a Python one).

Each server runs pinned to CPU 0 (its scripts inherit that), wrk on CPU 1 with 8 connections.
Rounds are interleaved (A B C A B C …) so machine noise hits all alike. Reports requests per
second (median, min-max) and CPU per request: the busy time of CPU 0, where the server and every
script it starts run (from /proc/stat; each server reaps its scripts in its own way, so process
accounting would miss some), with each figure's ratio to Apache's.

Usage (as root, Debian 12): bench/cgi_bench.py [--rounds 3] [--seconds 5]
Needs wrk, nginx, apache2 and fcgiwrap; installs them with apt-get if missing.
"""

import argparse
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
from benchlib import (ensure_packages, free_port, nginx_conf, process_tree,  # noqa: E402
                      wait_for_port)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

SCRIPTS = {
    "hello.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nhello, world\\n'\n",
    "hello.py": "#!/usr/bin/python3\nprint('Content-Type: text/plain')\nprint()\n"
                "print('hello, world')\n",
}


def apache_cgid(workdir, scripts, port):
    argv = servers.apache(workdir, scripts, port, mpm="event", threads=64)
    config = argv[2]
    with open(config, "a") as f:
        f.write("""LoadModule alias_module %(mods)s/mod_alias.so
LoadModule cgid_module %(mods)s/mod_cgid.so
ScriptSock %(d)s/cgid.sock
ScriptAlias /cgi-bin/ %(scripts)s/
""" % {"mods": servers.APACHE_MODULES, "d": os.path.dirname(config), "scripts": scripts})
    return argv


def nginx_fcgiwrap(workdir, scripts, port):
    sock = os.path.join(workdir, "fcgiwrap-%d.sock" % port)
    nginx = nginx_conf(workdir, "nginx-%d" % port, """http {
  access_log off;
  client_body_temp_path %(d)s/body;
  fastcgi_temp_path %(d)s/fastcgi;
  server {
    listen 127.0.0.1:%(port)d;
    location /cgi-bin/ {
      fastcgi_pass unix:%(sock)s;
      fastcgi_param SCRIPT_FILENAME %(root)s$fastcgi_script_name;
      fastcgi_param SCRIPT_NAME $fastcgi_script_name;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param SERVER_PROTOCOL $server_protocol;
      fastcgi_param GATEWAY_INTERFACE CGI/1.1;
    }
  }
}
""" % {"d": workdir, "port": port, "sock": sock, "root": os.path.dirname(scripts)})
    # fcgiwrap with as many workers as nginx has connections in flight.
    return (nginx, ["/usr/sbin/fcgiwrap", "-c", "8", "-s", "unix:" + sock])


def collage(workdir, scripts, port):
    return servers.collage(workdir, scripts, port, extra="""
  <Location path="/cgi-bin"><Store>cgi</Store><CgiRoot>%s</CgiRoot></Location>""" % scripts)


class Running:
    def __init__(self, name, argvs, port):
        self.name = name
        self.port = port
        self.processes = [subprocess.Popen(["taskset", "-c", "0", *argv],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                           start_new_session=True) for argv in argvs]
        wait_for_port(port)
        time.sleep(0.5)

    def pids(self):
        return [pid for p in self.processes for pid in process_tree(p.pid)]

    def stop(self):
        for p in self.processes:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def cpu0_busy_seconds():
    """Time CPU 0 spent on anything but idle and iowait, from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu0 "):
                fields = [int(x) for x in line.split()[1:]]
                return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    raise RuntimeError("no cpu0 in /proc/stat")


def run_wrk(port, path, seconds):
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t", "1", "-c", "8", "-d",
                          "%ds" % seconds, "http://127.0.0.1:%d%s" % (port, path)],
                         capture_output=True, text=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError("%s: %s errors" % (path, errors.group(1)))
    return requests


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    ensure_packages({"wrk": "wrk", "/usr/sbin/nginx": "nginx-light",
                     "/usr/sbin/apache2": "apache2", "/usr/sbin/fcgiwrap": "fcgiwrap"})
    for unit in ("nginx", "apache2", "fcgiwrap"):
        subprocess.run(["systemctl", "stop", unit], capture_output=True)
    workdir = tempfile.mkdtemp(prefix="cgi-bench-")
    os.chmod(workdir, 0o755)
    scripts = os.path.join(workdir, "cgi-bin")
    os.makedirs(scripts)
    for name, text in SCRIPTS.items():
        path = os.path.join(scripts, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
    makers = [("apache-cgid", lambda p: [apache_cgid(workdir, scripts, p)]),
              ("nginx-fcgiwrap", lambda p: list(nginx_fcgiwrap(workdir, scripts, p))),
              ("collage", lambda p: [collage(workdir, scripts, p)])]
    results = {}
    for _ in range(args.rounds):
        for name, make in makers:
            port = free_port()
            server = Running(name, make(port), port)
            try:
                for script in SCRIPTS:
                    path = "/cgi-bin/" + script
                    run_wrk(port, path, 1)  # warm-up
                    before = cpu0_busy_seconds()
                    requests = run_wrk(port, path, args.seconds)
                    used = cpu0_busy_seconds() - before
                    results.setdefault((script, name), []).append(
                        (requests / args.seconds, used / requests * 1e6))
            finally:
                server.stop()
    print("CGI, %d rounds of %ds, 8 connections; CPU per request: CPU 0's busy time (server and scripts)" %
          (args.rounds, args.seconds))
    print("%-10s %-16s %12s %18s %10s %12s" % ("script", "server", "req/s", "(min-max)",
                                               "CPU µs/req", "vs apache"))
    for script in SCRIPTS:
        base = statistics.median(r[1] for r in results[(script, "apache-cgid")])
        base_rate = statistics.median(r[0] for r in results[(script, "apache-cgid")])
        for name, _ in makers:
            rows = results[(script, name)]
            rate = statistics.median(r[0] for r in rows)
            cpu = statistics.median(r[1] for r in rows)
            print("%-10s %-16s %12.0f %18s %10.0f %5.2fx req/s, %5.2fx CPU" % (
                script, name, rate, "(%.0f-%.0f)" % (min(r[0] for r in rows),
                                                     max(r[0] for r in rows)),
                cpu, rate / base_rate, cpu / base))


if __name__ == "__main__":
    main()
