"""Starts the real collage binary on a configuration written by the test, on port 0.

The server logs every bound address (COL-CORE-0003); the helper reads the ports from there, so
tests never race for a free port. Also: raw-socket helpers for talking HTTP/1.1 byte by byte.
"""

import http.client
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
import unittest

BINARY = os.environ.get("COLLAGE_BINARY", "")
MODULE_DIR = os.environ.get("COLLAGE_MODULE_DIR", "")
LISTENING = re.compile(r"COL-CORE-0003\] listening: (\S+) on (\S+):(\d+)")


def prefork_module():
    """The <LoadModule> line for the prefork MPM, which the build makes a shared object."""
    return '<LoadModule name="prefork" path="%s/mod_prefork.so"/>\n' % MODULE_DIR


class CollageServer:
    """A collage process serving `body` (the inside of <Collage>) from a fresh temp directory."""

    def __init__(self, body, extra_args=(), workdir=None, preexec_fn=None):
        if not BINARY:
            raise RuntimeError("COLLAGE_BINARY is not set (ctest sets it)")
        self.dir = workdir or tempfile.mkdtemp(prefix="collage-test-")
        self.config_path = os.path.join(self.dir, "collage.xml")
        body = textwrap.dedent(body)
        if "<Mpm>" not in body:
            # Every server needs exactly one MPM; COLLAGE_TEST_MPM runs the suite under another.
            body = "<Mpm>%s</Mpm>\n" % os.environ.get("COLLAGE_TEST_MPM", "event") + body
            if os.environ.get("COLLAGE_TEST_MPM") == "prefork":
                body = prefork_module() + body
        with open(self.config_path, "w") as f:
            f.write('<?xml version="1.0"?>\n<Collage>\n')
            f.write(body)
            f.write("\n</Collage>\n")
        self.log_path = os.path.join(self.dir, "error.log")
        self.log_file = open(self.log_path, "w+")
        self.process = subprocess.Popen(
            [BINARY, "-f", self.config_path, *extra_args],
            stdout=self.log_file, stderr=subprocess.STDOUT, cwd=self.dir, preexec_fn=preexec_fn)
        self.ports = {}
        deadline = time.time() + 10
        while time.time() < deadline:
            text = self.log()
            for protocol, _address, port in LISTENING.findall(text):
                self.ports.setdefault(protocol, int(port))
            if "COL-CONTROL-0004" in text:
                return
            if self.process.poll() is not None:
                raise RuntimeError("collage exited early:\n" + text)
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("collage did not start:\n" + self.log())

    def rewrite(self, body):
        """Replaces the configuration file (the inside of <Collage>), e.g. before a restart."""
        with open(self.config_path, "w") as f:
            f.write('<?xml version="1.0"?>\n<Collage>\n' + textwrap.dedent(body) +
                    "\n</Collage>\n")

    @property
    def port(self):
        return self.ports["http1"]

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.process.poll() is None

    def wait_for_access_log(self, predicate, timeout=5, name="access.log"):
        """Waits until a line of the access log (written in blocks, at least once a second)
        satisfies predicate; returns that line, or None at the deadline."""
        path = os.path.join(self.dir, name)
        deadline = time.time() + timeout
        while True:
            try:
                with open(path, errors="replace") as f:
                    for line in f.read().splitlines():
                        if predicate(line):
                            return line
            except FileNotFoundError:
                pass
            if time.time() >= deadline:
                return None
            time.sleep(0.05)

    def children(self):
        """Process ids of the control process's children."""
        try:
            with open("/proc/%d/task/%d/children" % (self.process.pid, self.process.pid)) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        return self.process.returncode

    def cleanup(self):
        self.stop()
        if not os.environ.get("COLLAGE_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)


def make_certificate(directory, name="localhost"):
    """A throw-away self-signed certificate and key (name.pem, name.key) for TLS tests."""
    key = os.path.join(directory, name + ".key")
    cert = os.path.join(directory, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name,
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def install_certificate(directory):
    """A throw-away certificate for localhost as directory/cert.pem and directory/key.pem, the
    names the tests' configurations use."""
    cert, key = make_certificate(directory)
    os.rename(cert, os.path.join(directory, "cert.pem"))
    os.rename(key, os.path.join(directory, "key.pem"))


def leftovers(directory, predicate, timeout=5):
    """Names in directory matching predicate, polled until none is left or timeout passes.
    An abandoned upload's temporary file goes as its coroutine unwinds, just after the
    connection closes, so tests wait for it rather than look once."""
    deadline = time.time() + timeout
    while True:
        found = [n for n in os.listdir(directory) if predicate(n)]
        if not found or time.time() > deadline:
            return found
        time.sleep(0.05)


def rss_kib(pid):
    """Resident memory of a process in KiB (0 once it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_for(predicate, timeout=10, what="condition"):
    """Polls predicate until it returns something true, which is returned; fails the test at
    the deadline. For conditions the server makes true in its own time (a log line, a file)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def free_port():
    """A port nothing listens on right now (for a server the configuration must name)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(port, path, method="GET", body=None, headers=None):
    """One request on a fresh connection: (status, lower-cased headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def connect(port, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_until_closed(sock, limit=16 * 1024 * 1024):
    chunks = []
    total = 0
    while total < limit:
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


class Response:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower-case name, value)
        self.body = body
        self.raw_head = raw_head

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def header_count(self, name):
        return sum(1 for k, _ in self.headers if k == name.lower())


class ResponseReader:
    """Reads HTTP/1.1 responses one after another from a socket (for keep-alive/pipelining)."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buffer += data

    def _read_exact(self, n):
        while len(self.buffer) < n:
            self._fill()
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _read_line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def read(self, head_request=False):
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        assert version == "HTTP/1.1", lines[0]
        headers = []
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers.append((name.strip().lower(), value.strip()))
        response = Response(int(status), reason, headers, b"", head)
        status_code = int(status)
        if head_request or status_code in (204, 304) or status_code < 200:
            return response
        length = response.header("content-length")
        if response.header("transfer-encoding") == "chunked":
            body = b""
            while True:
                size = int(self._read_line().split(b";")[0], 16)
                if size == 0:
                    while self._read_line():
                        pass
                    break
                body += self._read_exact(size)
                self._read_exact(2)
            response.body = body
        elif length is not None:
            response.body = self._read_exact(int(length))
        else:
            while True:
                try:
                    self._fill()
                except EOFError:
                    break
            response.body, self.buffer = self.buffer, b""
        return response


def exchange(port, raw, head_request=False, timeout=5):
    """Sends raw bytes on a new connection and reads one response."""
    with connect(port, timeout) as s:
        s.sendall(raw)
        return ResponseReader(s).read(head_request)


def closed_by_peer(sock, timeout=3):
    """True when the peer closes the connection within timeout (EOF or reset)."""
    ready, _, _ = select.select([sock], [], [], timeout)
    if not ready:
        return False
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


class ServerTestCase(unittest.TestCase):
    """Base class: subclasses set CONFIG (may use {root}) and get self.server, self.root."""

    CONFIG = None

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="collage-test-")
        cls.root = os.path.join(cls.workdir, "site")
        os.makedirs(cls.root)
        cls.prepare_site(cls.root)
        cls.server = CollageServer(cls.CONFIG.format(root=cls.root, dir=cls.workdir),
                                   workdir=cls.workdir)

    @classmethod
    def prepare_site(cls, root):
        pass

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def tearDown(self):
        self.assertTrue(self.server.alive(), "server died:\n" + self.server.log())
