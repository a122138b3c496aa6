"""The collage binary's command line, config checking and shutdown."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import BINARY, CollageServer, ResponseReader, connect  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(*args, env=None):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, env=env, timeout=30)


class CommandLineTest(unittest.TestCase):
    def write_config(self, body):
        fd, path = tempfile.mkstemp(suffix=".xml")
        with os.fdopen(fd, "w") as f:
            f.write(textwrap.dedent(body).lstrip())
        self.addCleanup(os.unlink, path)
        return path

    def test_check_reports_every_error_with_file_and_line(self):
        path = self.write_config("""\
            <Collage>
              <Listen protocol="http1" port="0"/>
              <ThreadPerChild>4</ThreadPerChild>
              <KeepAliveTimeout>soon</KeepAliveTimeout>
              <Listen protocol="gopher-plus" port="1"/>
              <DocumentRoot>/nonexistent/collage/root</DocumentRoot>
              <Location path="/x" colour="red"/>
              <LimitRequestFields>0</LimitRequestFields>
            </Collage>
            """)
        result = run("-t", "-f", path)
        self.assertEqual(result.returncode, 1)
        err = result.stderr
        self.assertIn(path + ":3:3: unknown directive 'ThreadPerChild', did you mean "
                      "'ThreadsPerChild'?", err)
        self.assertIn(path + ":4:3: KeepAliveTimeout expects a duration", err)
        self.assertIn(path + ":7:3: unknown attribute 'colour' on <Location>", err)
        self.assertIn(path + ":8:3: LimitRequestFields expects a number between 1 and 10000", err)
        self.assertNotIn("Syntax OK", err)

    def test_check_reports_semantic_errors(self):
        path = self.write_config("""\
            <Collage>
              <Listen protocol="gopher-plus" port="1"/>
              <DocumentRoot>/nonexistent/collage/root</DocumentRoot>
              <Mpm>turbo</Mpm>
            </Collage>
            """)
        err = run("-t", "-f", path).stderr
        self.assertIn(path + ":2:3: unknown protocol 'gopher-plus'", err)
        self.assertIn(path + ":3:3: DocumentRoot /nonexistent/collage/root cannot be used", err)
        self.assertIn(path + ":4:3: unknown MPM 'turbo'", err)

    def test_malformed_xml(self):
        path = self.write_config("<Collage>\n  <Listen\n</Collage>\n")
        result = run("-t", "-f", path)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, path.replace(".", r"\.") + r":\d+: XML is not well-formed")

    def test_check_accepts_the_example_config(self):
        result = run("-t", "-f", os.path.join(REPO, "examples", "collage.xml"),
                     "-D", "DOCROOT=" + os.path.join(REPO, "examples", "site"),
                     "-D", "GOPHERROOT=" + os.path.join(REPO, "examples", "gopherhole"),
                     "-D", "CGIROOT=" + os.path.join(REPO, "examples", "cgi-bin"),
                     "-D", "TLS_CERT=" + os.path.join(REPO, "examples", "tls", "cert.pem"),
                     "-D", "TLS_KEY=" + os.path.join(REPO, "examples", "tls", "key.pem"),
                     "-D", "FTP_USERS=" + os.path.join(REPO, "examples", "ftp-users"),
                     # A directory of its own: all of /tmp as the upload area would hold a checkout
                     # under /tmp, and the server rightly refuses scripts in a writable tree.
                     "-D", "LOGDIR=" + tempfile.mkdtemp(prefix="collage-logdir-"),
                     "-D", "MODULEDIR=" + os.environ["COLLAGE_MODULE_DIR"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Syntax OK", result.stderr)

    def test_newcomers_first_check_of_the_example_passes(self):
        """Regression: `collage -f examples/collage.xml -t` from the checkout failed with
        'cannot open access log run/xferlog' unless scripts/run.sh had made run/ first."""
        result = subprocess.run([BINARY, "-f", "examples/collage.xml", "-t"], cwd=REPO,
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Syntax OK", result.stderr)

    def test_effective_configuration_is_written_back_exactly(self):
        # -T prints what the server reads: defines expanded, values as written (units kept),
        # and the output loads back to the same output.
        path = self.write_config("""\
            <Collage>
              <Define name="PORT" value="0"/>
              <Mpm>event</Mpm>
              <Listen protocol="http1" address="127.0.0.1" port="${PORT}" public_port="8080"/>
              <StreamBufferSize>64k</StreamBufferSize>
              <KeepAliveTimeout>1500ms</KeepAliveTimeout>
              <DocumentRoot>/tmp</DocumentRoot>
              <Filters>-ranges</Filters>
              <Filters>gopher-html</Filters>
              <Location path="/a &amp; b"><AllowFrom>127.0.0.0/8</AllowFrom></Location>
              <VirtualHost name="Example.org">
                <ServerAlias>www.example.org</ServerAlias>
                <Location path="/x/"><LimitRequestBody>10m</LimitRequestBody></Location>
              </VirtualHost>
            </Collage>""")
        first = run("-T", "-f", path)
        self.assertEqual(first.returncode, 0, first.stderr)
        out = first.stdout
        self.assertIn('<Listen protocol="http1" address="127.0.0.1" port="0" public_port="8080"/>',
                      out)
        self.assertIn("<StreamBufferSize>64k</StreamBufferSize>", out)
        self.assertIn("<KeepAliveTimeout>1500ms</KeepAliveTimeout>", out)
        self.assertIn("<Filters>-ranges gopher-html</Filters>", out)
        self.assertIn('<Location path="/a &amp; b">', out)
        self.assertIn('<VirtualHost name="example.org">', out)
        self.assertIn('<Location path="/x">', out)
        self.assertIn("<!-- ${PORT} = 0 -->", out)
        again = self.write_config(out)
        second = run("-T", "-f", again)
        self.assertEqual(second.returncode, 0, second.stderr)
        # Comments name the file read and the defines used (expanded already, so gone the second
        # time); everything else is the same.
        strip = lambda text: [line for line in text.splitlines() if "<!--" not in line]
        self.assertEqual(strip(second.stdout), strip(out))

    def test_reference_lists_the_structural_elements(self):
        reference = run("-L").stdout
        for element in ("<Listen>", "<VirtualHost>", "<Location>", "<LoadModule>", "<Define>"):
            self.assertIn("### `%s`" % element, reference)
        self.assertIn("| `public_port` | integer (1–65535) | no |", reference)

    def test_defines_come_from_d_then_environment_then_define(self):
        path = self.write_config("""\
            <Collage>
              <Define name="ROOT" value="/nonexistent/from-define"/>
              <Mpm>event</Mpm>
              <Listen protocol="http1" port="0"/>
              <DocumentRoot>${ROOT}</DocumentRoot>
              <DefaultType>${UNSET_THING:-text/fallback}</DefaultType>
            </Collage>
            """)
        err = run("-t", "-f", path).stderr
        self.assertIn("/nonexistent/from-define", err)
        env = dict(os.environ, ROOT="/nonexistent/from-env")
        self.assertIn("/nonexistent/from-env", run("-t", "-f", path, env=env).stderr)
        result = run("-t", "-f", path, "-D", "ROOT=" + tempfile.gettempdir(), env=env)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_undefined_variable(self):
        path = self.write_config("""\
            <Collage>
              <Listen protocol="http1" port="${NO_SUCH_PORT_VAR}"/>
            </Collage>
            """)
        self.assertIn(path + ":2: ${NO_SUCH_PORT_VAR} is not defined", run("-t", "-f", path).stderr)

    def test_list_modules(self):
        out = run("-l").stdout
        for name in ("core", "http1", "files", "ranges", "event"):
            self.assertRegex(out, r"\n  %s\s" % name)
        # Regression: names longer than the column (gopher-store) pushed their row out of line.
        rows = [line for line in out.splitlines()[1:] if line.strip()]
        starts = {len(re.match(r"  \S+\s+\S+\s+", row).group(0)) for row in rows}
        self.assertEqual(len(starts), 1, out)

    def test_version(self):
        out = run("-V").stdout
        self.assertRegex(out, r"^collage \d+\.\d+\.\d+\n")
        self.assertIn("Asio", out)
        self.assertRegex(out, r"OpenSSL \d+\.\d+\.\d+ \(built with \d+\.\d+\.\d+\)")
        self.assertRegex(out, r"nghttp2 \d+\.\d+\.\d+")
        self.assertRegex(out, r"tinyxml2 \d+\.\d+\.\d+")

    def test_help_and_bad_option(self):
        self.assertIn("-D NAME=VALUE", run("-h").stdout)
        result = run("-x")
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown option -x", result.stderr)

    def test_directive_reference_in_docs_is_current(self):
        generated = run("-L").stdout
        with open(os.path.join(REPO, "docs", "configuration.md")) as f:
            self.assertEqual(f.read(), generated,
                             "docs/configuration.md is stale: regenerate it with "
                             "build/mpm/collage -L > docs/configuration.md")

    def test_missing_config_file(self):
        result = run("-t", "-f", "/nonexistent/collage.xml")
        self.assertEqual(result.returncode, 1)
        self.assertIn("/nonexistent/collage.xml: cannot open the configuration file: "
                      "No such file or directory", result.stderr)

    def test_no_arguments_says_why_and_how(self):
        """Regression: with no arguments collage said only 'file:0: cannot open'."""
        result = run(env={"PATH": os.environ.get("PATH", "")})
        self.assertEqual(result.returncode, 1)
        self.assertIn("/etc/collage/collage.xml: cannot open the configuration file", result.stderr)
        self.assertIn("name one with -f FILE", result.stderr)

    # --- -t finds everything that would stop a start, all at once ----------------------------

    def test_check_reports_errors_from_every_pass_at_once(self):
        """Regression: an AccessLog inside a Location hid a missing Mpm and a bad protocol."""
        path = self.write_config("""\
            <Collage>
              <Listen protocol="gopher-plus" port="1"/>
              <DocumentRoot>/tmp</DocumentRoot>
              <Location path="/x">
                <AccessLog>/tmp/x.log</AccessLog>
              </Location>
            </Collage>
            """)
        err = run("-t", "-f", path).stderr
        self.assertIn(path + ":5:5: AccessLog is not allowed in <Location>", err)
        self.assertIn(path + ":1:1: no MPM chosen", err)
        self.assertIn(path + ":2:3: unknown protocol 'gopher-plus'", err)
        self.assertNotIn("Syntax OK", err)

    def test_check_finds_what_would_stop_a_start(self):
        path = self.write_config("""\
            <Collage>
              <Mpm>event</Mpm>
              <Listen protocol="http1" address="no-such-host.invalid" port="8080"/>
              <DocumentRoot>/tmp</DocumentRoot>
              <AccessLog>/nonexistent/collage/access.log</AccessLog>
              <ErrorLog>/nonexistent/collage/error.log</ErrorLog>
              <PidFile>/nonexistent/collage.pid</PidFile>
              <VirtualHost name="a.example"><DocumentRoot>/tmp</DocumentRoot></VirtualHost>
              <VirtualHost name="A.example"><DocumentRoot>/tmp</DocumentRoot></VirtualHost>
            </Collage>
            """)
        result = run("-t", "-f", path)
        self.assertEqual(result.returncode, 1)
        err = result.stderr
        self.assertIn(path + ":3:3: Listen address 'no-such-host.invalid' is neither an IP address "
                      "nor a name that resolves", err)
        self.assertIn(path + ":5:3: AccessLog /nonexistent/collage/access.log: directory "
                      "/nonexistent/collage does not exist", err)
        self.assertIn(path + ":6:3: ErrorLog /nonexistent/collage/error.log: directory", err)
        self.assertIn(path + ":7:3: PidFile /nonexistent/collage.pid: directory /nonexistent", err)
        self.assertIn(path + ":9:3: VirtualHost a.example is defined twice (first at %s:8:3)" % path,
                      err)

    def test_malformed_xml_is_explained(self):
        cases = {"<Collage>\n  <Location path=\"/x\">\n</Collage>\n":
                 ":2: XML is not well-formed: an element is closed by the wrong end tag",
                 "<Collage>\n  <Listen port=1/>\n</Collage>\n":
                 ":2: XML is not well-formed: a malformed attribute (values need quotes",
                 "": ": XML is not well-formed: the file is empty"}
        for text, message in cases.items():
            with self.subTest(text=text):
                path = self.write_config(text)
                err = run("-t", "-f", path).stderr
                self.assertIn(path + message, err)
                self.assertNotIn("XML_ERROR", err)

    def test_listen_backlog_reaches_the_socket(self):
        server = CollageServer("""
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <ListenBacklog>123</ListenBacklog>
            <DocumentRoot>%s</DocumentRoot>
            """ % REPO)
        try:
            # For a listening socket, ss shows the backlog in the Send-Q column.
            out = subprocess.run(["ss", "-ltnH", "sport = :%d" % server.port],
                                 capture_output=True, text=True, check=True).stdout.split()
            self.assertEqual(out[2], "123", out)
        finally:
            server.cleanup()

    def test_listen_accepts_a_host_name(self):
        server = CollageServer("""
            <Listen protocol="http1" address="localhost" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <PidFile>off</PidFile>
            """ % REPO)
        try:
            self.assertIn("COL-CORE-0003", server.log())
            with connect(server.port) as s:
                s.sendall(b"HEAD /README.md HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                self.assertIn(b"200 OK", s.recv(4096))
        finally:
            server.cleanup()


class ShutdownTest(unittest.TestCase):
    def test_graceful_stop_lets_a_running_response_finish(self):
        workdir = tempfile.mkdtemp(prefix="collage-test-")
        with open(os.path.join(workdir, "big.bin"), "wb") as f:
            f.write(os.urandom(32 * 1024 * 1024))
        server = CollageServer("""
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <GracefulShutdownTimeout>10s</GracefulShutdownTimeout>
            """ % workdir, workdir=workdir)
        try:
            idle = connect(server.port)
            idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"HTTP/1.1", idle.recv(65536))  # now idle in keep-alive
            with connect(server.port) as s:
                s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                first = s.recv(1024)
                self.assertTrue(first.startswith(b"HTTP/1.1 200 OK"))
                server.process.send_signal(signal.SIGWINCH)  # graceful stop, as httpd
                time.sleep(0.3)
                # The idle connection is closed at once; the download goes on to its end.
                while idle.recv(65536):
                    pass
                received = len(first.split(b"\r\n\r\n", 1)[1])
                while True:
                    data = s.recv(1 << 20)
                    if not data:
                        break
                    received += len(data)
                self.assertEqual(received, 32 * 1024 * 1024)
            self.assertEqual(server.process.wait(10), 0)
            self.assertIn("COL-CONTROL-0006", server.log())
            idle.close()
        finally:
            server.cleanup()

    def test_server_refuses_to_start_on_a_busy_port(self):
        first = CollageServer("""
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <DocumentRoot>/tmp</DocumentRoot>
            """)
        try:
            path = os.path.join(first.dir, "second.xml")
            with open(path, "w") as f:
                f.write('<Collage><Mpm>event</Mpm>'
                        '<Listen protocol="http1" address="127.0.0.1" port="%d"/>'
                        '<DocumentRoot>/tmp</DocumentRoot></Collage>' % first.port)
            result = run("-f", path)
            self.assertEqual(result.returncode, 1)
            self.assertIn("COL-CORE-0002", result.stderr)
            self.assertIn("Address already in use", result.stderr)
        finally:
            first.cleanup()


if __name__ == "__main__":
    unittest.main()
