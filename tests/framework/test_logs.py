"""Log formats and targets: the JSON access log for every front end (HTTP/1.1, HTTP/2 over TLS,
Gopher), the JSON error log, the error log sent to a syslog socket (as journald reads
/dev/log), and logs reopened by a graceful restart after logrotate moved them away."""

import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import (BINARY, CollageServer, free_port, http_request,  # noqa: E402
                            install_certificate, prefork_module, wait_for)

PAGE = b"logged\n" * 10


def gopher(port, selector):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(selector + b"\r\n")
        while s.recv(65536):
            pass


def make_site(prefix):
    """A fresh directory with site/page.html: (the directory, the site root)."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    root = os.path.join(workdir, "site")
    os.makedirs(root)
    with open(os.path.join(root, "page.html"), "wb") as f:
        f.write(PAGE)
    return workdir, root


class Started:
    """The binary on a configuration with fixed ports, for logs that do not go to stdout."""

    def __init__(self, body, port):
        self.dir = tempfile.mkdtemp(prefix="collage-logs-")
        self.config = os.path.join(self.dir, "collage.xml")
        mpm = os.environ.get("COLLAGE_TEST_MPM", "event")
        with open(self.config, "w") as f:
            f.write("<Collage>\n%s<Mpm>%s</Mpm>\n%s\n</Collage>\n"
                    % (prefork_module() if mpm == "prefork" else "", mpm, body))
        self.out = open(os.path.join(self.dir, "stdout"), "w+")
        self.process = subprocess.Popen([BINARY, "-f", self.config], cwd=self.dir,
                                        stdout=self.out, stderr=subprocess.STDOUT)
        self.port = port

        def up():
            if self.process.poll() is not None:
                raise AssertionError("collage exited:\n" + open(self.out.name).read())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(up, what="the server to listen")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(10)
        self.out.close()


class JsonAccessLogTest(unittest.TestCase):
    def test_every_front_end_writes_parseable_lines_with_its_fields(self):
        workdir, root = make_site("collage-json-log-")
        install_certificate(workdir)
        server = CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="gopher" address="127.0.0.1" port="0"/>
<Listen protocol="h2" address="127.0.0.1" port="0" tls="on"/>
<TLSCertificateFile>%(d)s/cert.pem</TLSCertificateFile>
<TLSCertificateKeyFile>%(d)s/key.pem</TLSCertificateKeyFile>
<AccessLog>%(d)s/access.json</AccessLog>
<AccessLogFormat>json</AccessLogFormat>
<VirtualHost name="site.test">
  <DocumentRoot>%(r)s</DocumentRoot>
</VirtualHost>
""" % {"d": workdir, "r": root}, workdir=workdir)
        self.addCleanup(server.cleanup)
        http_request(server.port, "/page.html", headers={"Host": "site.test",
                                                         "Referer": "http://a/\"q\""})
        http_request(server.port, "/%C3%A9t%E9?x=\x01".replace("\x01", "%01"),
                     headers={"User-Agent": "bytes \xe9"})
        gopher(server.ports["gopher"], b"/page.html")
        h2 = subprocess.run(["nghttp", "-n", "https://127.0.0.1:%d/page.html" % server.ports["h2"]],
                            capture_output=True, timeout=30)
        self.assertEqual(h2.returncode, 0, h2.stderr)

        def lines():
            try:
                with open(os.path.join(workdir, "access.json"), "rb") as f:
                    return [json.loads(line) for line in f.read().splitlines()]
            except FileNotFoundError:
                return []
        records = wait_for(lambda: (lambda r: r if len(r) >= 4 else None)(lines()),
                           what="four access log lines")
        by_protocol = {}
        for record in records:
            by_protocol.setdefault(record["protocol"], []).append(record)
        http1 = by_protocol["http1"]
        first = [r for r in http1 if r["request"] == "GET /page.html HTTP/1.1"][0]
        self.assertEqual((first["status"], first["bytes"]), (200, len(PAGE)))
        self.assertEqual((first["vhost"], first["store"]), ("site.test", "files"))
        self.assertEqual(first["referer"], 'http://a/"q"')
        self.assertEqual(first["tls"], "")
        self.assertGreaterEqual(first["duration_ms"], 0)
        self.assertEqual(first["cache"], "-")
        self.assertEqual(len(first["id"]), 16)
        odd = [r for r in http1 if r["status"] == 404][0]
        self.assertIn("%C3%A9t%E9", odd["request"])
        # http.client sends the header in Latin-1: one byte 0xE9, escaped as \u00e9.
        self.assertEqual(odd["user_agent"], "bytes \u00e9")
        (gopher_line,) = by_protocol["gopher"]
        self.assertEqual((gopher_line["status"], gopher_line["bytes"]), (200, len(PAGE)))
        (h2_line,) = by_protocol["http2"]
        self.assertEqual(h2_line["request"], "GET /page.html HTTP/2.0")
        self.assertTrue(h2_line["tls"].startswith("TLSv1."), h2_line)
        self.assertEqual(h2_line["bytes"], len(PAGE))


class ErrorLogTest(unittest.TestCase):
    def test_json_error_log_lines_carry_level_and_id(self):
        port = free_port()
        started = Started("""
<Listen protocol="http1" address="127.0.0.1" port="%d"/>
<DocumentRoot>/tmp</DocumentRoot>
<ErrorLog>error.json</ErrorLog>
<ErrorLogFormat>json</ErrorLogFormat>
""" % port, port)
        self.addCleanup(started.stop)
        path = os.path.join(started.dir, "error.json")

        def records():
            with open(path) as f:
                return [json.loads(line) for line in f.read().splitlines()]
        listening = wait_for(lambda: [r for r in records() if r["id"] == "COL-CORE-0003"])
        self.assertEqual(listening[0]["level"], "notice")
        self.assertIn("listening: http1 on 127.0.0.1:%d" % port, listening[0]["message"])
        self.assertIsInstance(listening[0]["pid"], int)
        self.assertRegex(listening[0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")

    def test_error_log_to_a_syslog_socket(self):
        directory = tempfile.mkdtemp(prefix="collage-syslog-")
        path = os.path.join(directory, "log.sock")
        daemon = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        daemon.bind(path)
        daemon.settimeout(10)
        self.addCleanup(daemon.close)
        port = free_port()
        started = Started("""
<Listen protocol="http1" address="127.0.0.1" port="%d"/>
<DocumentRoot>/tmp</DocumentRoot>
<ErrorLog>syslog:%s</ErrorLog>
""" % (port, path), port)
        self.addCleanup(started.stop)
        deadline = time.time() + 10
        messages = []
        while time.time() < deadline and not any(b"COL-CONTROL-0004" in m for m in messages):
            messages.append(daemon.recv(65536))
        listening = [m for m in messages if b"[COL-CORE-0003]" in m]
        self.assertTrue(listening, messages)
        # daemon facility (3) x 8 + notice (5), then the tag with the pid.
        self.assertTrue(listening[0].startswith(b"<29>"), listening[0])
        self.assertIn(b" collage[%d]: [notice] [COL-CORE-0003] listening: http1"
                      % started.process.pid, listening[0])

    def test_an_unreachable_syslog_refuses_to_start(self):
        directory = tempfile.mkdtemp(prefix="collage-syslog-")
        config = os.path.join(directory, "c.xml")
        with open(config, "w") as f:
            f.write("""<Collage><Mpm>event</Mpm>
<Listen protocol="http1" address="127.0.0.1" port="0"/><DocumentRoot>/tmp</DocumentRoot>
<ErrorLog>syslog:/nonexistent/log.sock</ErrorLog></Collage>""")
        result = subprocess.run([BINARY, "-f", config], capture_output=True, text=True,
                                timeout=20, cwd=directory)
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot reach syslog at /nonexistent/log.sock", result.stderr)


class StalledLogTest(unittest.TestCase):
    def test_a_stalled_access_log_does_not_stall_requests(self):
        """The access log is a pipe nobody reads (a stuck disk, a hung log shipper): requests
        are still answered, and every line arrives once the reader reads."""
        workdir, root = make_site("collage-stalled-log-")
        fifo = os.path.join(workdir, "access.pipe")
        os.mkfifo(fifo)
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open, but not reading yet
        self.addCleanup(os.close, reader)
        server = CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<DocumentRoot>%s</DocumentRoot>
<AccessLog>%s</AccessLog>
""" % (root, fifo), workdir=workdir)
        self.addCleanup(server.cleanup)
        count = 3000  # about 300 KB of log lines: well past a pipe's 64 KiB
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        self.addCleanup(connection.close)
        for i in range(count):
            connection.request("GET", "/page.html?n=%d" % i)
            response = connection.getresponse()
            self.assertEqual((response.status, response.read()), (200, PAGE))
        received = b""
        deadline = time.time() + 20
        while received.count(b"/page.html?n=") < count and time.time() < deadline:
            readable, _, _ = select.select([reader], [], [], 0.5)
            if readable:
                received += os.read(reader, 1 << 20)
        self.assertEqual(received.count(b"/page.html?n="), count)
        self.assertIn(b"/page.html?n=%d " % (count - 1), received)


class LogRotationTest(unittest.TestCase):
    def test_a_graceful_restart_reopens_moved_logs(self):
        """logrotate renames the files, then its postrotate runs collage -k graceful."""
        workdir, root = make_site("collage-rotate-")
        server = CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<DocumentRoot>%s</DocumentRoot>
<AccessLog>%s/access.log</AccessLog>
""" % (root, workdir), workdir=workdir)
        self.addCleanup(server.cleanup)
        http_request(server.port, "/page.html?before")
        self.assertTrue(server.wait_for_access_log(lambda line: "before" in line))
        os.rename(os.path.join(workdir, "access.log"), os.path.join(workdir, "access.log.1"))
        server.process.send_signal(signal.SIGUSR1)
        # The new generation's children write to a new file of the old name; an old child may
        # still answer a last request (and log it in the renamed file) while it stops.
        sent = []

        def logged_in_new_file():
            sent.append("/page.html?after-%d" % len(sent))
            http_request(server.port, sent[-1])
            return server.wait_for_access_log(lambda line: sent[-1] + " " in line, timeout=2)
        wait_for(logged_in_new_file, timeout=20, what="a request logged in the new access.log")

        def every_line():
            text = ""
            for name in ("access.log", "access.log.1"):
                with open(os.path.join(workdir, name)) as f:
                    text += f.read()
            return text
        # No line is lost across the switch: each request is in one file or the other.
        wait_for(lambda: all(path + " " in every_line() for path in sent),
                 what="every request's line in one of the files")


if __name__ == "__main__":
    unittest.main()
