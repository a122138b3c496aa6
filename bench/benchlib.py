"""Helpers shared by the side-by-side benchmarks: ports, readiness, CPU time from /proc."""

import os
import shutil
import socket
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def ensure_packages(executables):
    """Installs the Debian packages whose executables are missing ({executable: package})."""
    missing = [pkg for exe, pkg in executables.items()
               if not (os.path.exists(exe) or shutil.which(exe))]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def nginx_conf(workdir, name, http, worker_connections=4096):
    """Writes workdir/name.conf for Debian's nginx: one worker in the foreground as root, its pid
    and error log in workdir, then `http` (the http { } block); returns the command to run it."""
    config = os.path.join(workdir, name + ".conf")
    with open(config, "w") as f:
        f.write("worker_processes 1;\nuser root;\ndaemon off;\npid %s/%s.pid;\n"
                "error_log %s/%s-error.log warn;\nevents { worker_connections %d; }\n%s"
                % (workdir, name, workdir, name, worker_connections, http))
    return ["nginx", "-c", config]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d never opened" % port)


def process_tree(pid):
    pids = [pid]
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    for child in out.split():
        pids += process_tree(int(child))
    return pids


def cpu_seconds(pids, include_children=False):
    """utime + stime of the processes (and of their reaped children, if asked), in seconds."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += sum(int(x) for x in fields[11:15 if include_children else 13])
    return total / CLK_TCK


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total
