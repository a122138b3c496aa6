"""The CGI store against the real binary with real scripts (shell and Python): meta-variables,
request bodies, every kind of script response (document, local and client redirect, nph), every
way a script can go wrong (garbage, no header end, crash, early exit, silence past CgiTimeout,
a client that leaves), the server-wide process cap, the same scripts over Gopher and FTP, and
their output through the SSI and compression filters."""

import ftplib
import grp
import gzip
import hashlib
import io
import json
import os
import pwd
import socket
import tempfile
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import (BINARY, ServerTestCase, connect,  # noqa: E402
                            recv_until_closed, rss_kib, wait_for)

SCRIPTS = {
    "env.py": """#!/usr/bin/env python3
import json, os, sys
body = sys.stdin.buffer.read(int(os.environ.get("CONTENT_LENGTH") or 0))
print("Content-Type: application/json")
print("X-Script: env")
print()
print(json.dumps({"env": dict(os.environ), "argv": sys.argv[1:], "body_length": len(body),
                  "body_sha256": __import__("hashlib").sha256(body).hexdigest()}))
""",
    "hello.sh": """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\nhello from a shell script\\n'
""",
    "status.sh": """#!/bin/sh
printf 'Status: 404 Not Here\\nContent-Type: text/plain\\nX-Custom: yes\\n\\nmissing\\n'
""",
    "away.sh": """#!/bin/sh
printf 'Location: https://example.org/elsewhere\\n\\n'
""",
    "local.sh": """#!/bin/sh
printf 'Location: /plain.txt\\n\\n'
""",
    "loop.sh": """#!/bin/sh
printf 'Location: /cgi-bin/loop.sh\\n\\n'
""",
    "nph-raw.sh": """#!/bin/sh
printf 'HTTP/1.1 203 Other Source\\r\\nContent-Type: text/plain\\r\\n\\r\\nnph body\\n'
""",
    "garbage.sh": """#!/bin/sh
echo "this is not a header"
""",
    "noend.sh": """#!/bin/sh
printf 'Content-Type: text/plain\\n'
""",
    "crash.sh": """#!/bin/sh
kill -SEGV $$
""",
    "early.sh": """#!/bin/sh
exit 3
""",
    "stderr.sh": """#!/bin/sh
echo "stderr-marker-1234" >&2
printf 'Content-Type: text/plain\\n\\nok\\n'
""",
    "sleeper.sh": """#!/bin/sh
echo $$ > "$CGI_STATE/sleeper.pid"
sleep 30
""",
    "endless.py": """#!/usr/bin/env python3
import os, sys
with open(os.path.join(os.environ["CGI_STATE"], "endless.pid"), "w") as f:
    f.write(str(os.getpid()))
sys.stdout.write("Content-Type: application/octet-stream\\n\\n")
while True:
    sys.stdout.write("x" * 65536)
    sys.stdout.flush()
""",
    "big.py": """#!/usr/bin/env python3
import sys
sys.stdout.buffer.write(b"Content-Type: application/octet-stream\\n\\n")
for i in range(160):
    sys.stdout.buffer.write(bytes([i % 251]) * 65536)
""",
    "long.py": """#!/usr/bin/env python3
import os, sys, time
chunks = int(os.environ.get("QUERY_STRING") or 16384)
out = sys.stdout.buffer
out.write(b"Content-Type: application/octet-stream\\n\\n")
for i in range(chunks):
    out.write(bytes([i % 251]) * 65536)
    if i < 32:
        out.flush()
        time.sleep(0.005)  # a slow start: the server must wait, not spin
""",
    "whoami.sh": """#!/bin/sh
printf 'Content-Type: text/plain\\n\\n%s %s\\n' "$(id -u)" "$(id -g)"
""",
    "held.sh": """#!/bin/sh
echo $$ > "$CGI_STATE/held.pid"
while [ ! -e "$CGI_STATE/release" ]; do sleep 0.05; done
printf 'Content-Type: text/plain\\n\\nreleased\\n'
""",
    "search.py": """#!/usr/bin/env python3
import os, sys
print("Content-Type: text/plain")
print()
print("words: " + " ".join(sys.argv[1:]))
print("query: " + os.environ.get("QUERY_STRING", ""))
""",
    "ssi.py": """#!/usr/bin/env python3
import os
print("Content-Type: text/html")
print()
print("<p>from the script</p>")
print('<!--#set var="greeting" value="hello" --><p><!--#echo var="greeting" --> <!--#echo var="DOCUMENT_URI" --></p>')
print('<!--#include virtual="/footer.html" -->')
print("<p>" + "padding " * 200 + "</p>")
""",
    "notexec.sh": None,  # written without the execute bit
}


def scripts_dir(workdir):
    return os.path.join(workdir, "cgi-bin")


def write_scripts(workdir):
    directory = scripts_dir(workdir)
    os.makedirs(directory, exist_ok=True)
    os.makedirs(os.path.join(workdir, "state"), exist_ok=True)
    for name, text in SCRIPTS.items():
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            f.write(text or "#!/bin/sh\necho hi\n")
        os.chmod(path, 0o644 if text is None else 0o755)


CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="gopher" address="127.0.0.1" port="0"/>
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<LogLevel>info</LogLevel>
<DocumentRoot>{root}</DocumentRoot>
<AddType>shtml=text/html</AddType>
<Filters>ssi compress</Filters>
<Location path="/cgi-bin">
  <Store>cgi</Store>
  <CgiRoot>{dir}/cgi-bin</CgiRoot>
  <CgiTimeout>1s</CgiTimeout>
  <CgiSetEnv>CGI_STATE={dir}/state</CgiSetEnv>
</Location>
"""


def read_file(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def process_gone(pid):
    """The script's process has exited and been reaped."""
    return not os.path.exists("/proc/%d" % pid)


def zombies_under(pids):
    """Zombie processes whose parent is one of pids."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(") ", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        if fields[0] == "Z" and int(fields[1]) in pids:
            found.append(int(entry))
    return found


def get(url, data=None, headers=None, timeout=10):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


class CgiTest(ServerTestCase):
    CONFIG = CONFIG

    @classmethod
    def prepare_site(cls, root):
        write_scripts(os.path.dirname(root))
        with open(os.path.join(root, "plain.txt"), "w") as f:
            f.write("plain file\n")
        with open(os.path.join(root, "footer.html"), "w") as f:
            f.write("<footer>the footer</footer>\n")
        with open(os.path.join(root, "page.shtml"), "w") as f:
            f.write('<p>before</p><!--#include virtual="/footer.html" --><p>after</p>\n')
        with open(os.path.join(root, "loop.shtml"), "w") as f:
            f.write('<p>before</p><!--#include virtual="/loop.shtml" --><p>after</p>\n')

    def state(self, name):
        return os.path.join(self.workdir, "state", name)

    def log_has(self, text, timeout=5):
        return wait_for(lambda: text in self.server.log(), timeout, repr(text))

    def test_meta_variables_arguments_and_headers(self):
        status, headers, body = get(self.server.url("/cgi-bin/env.py/extra/part?two+words%21"),
                                    headers={"X-Test": "a", "Proxy": "evil", "X_Spoof": "1",
                                             "Authorization": "Basic Zm9vOmJhcg=="})
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(headers["X-Script"], "env")
        data = json.loads(body)
        env = data["env"]
        self.assertEqual(env["GATEWAY_INTERFACE"], "CGI/1.1")
        self.assertEqual(env["SCRIPT_NAME"], "/cgi-bin/env.py")
        self.assertEqual(env["SCRIPT_FILENAME"], os.path.join(self.workdir, "cgi-bin", "env.py"))
        self.assertEqual(env["PATH_INFO"], "/extra/part")
        self.assertEqual(env["QUERY_STRING"], "two+words%21")
        self.assertEqual(env["REQUEST_METHOD"], "GET")
        self.assertEqual(env["REQUEST_URI"], "/cgi-bin/env.py/extra/part?two+words%21")
        self.assertEqual(env["SERVER_PROTOCOL"], "HTTP/1.1")
        self.assertEqual(env["REMOTE_ADDR"], "127.0.0.1")
        self.assertEqual(env["SERVER_PORT"], str(self.server.port))
        self.assertEqual(env["HTTP_X_TEST"], "a")
        self.assertEqual(env["CGI_STATE"], os.path.join(self.workdir, "state"))
        for withheld in ("HTTP_PROXY", "HTTP_AUTHORIZATION", "HTTP_X_SPOOF", "CONTENT_LENGTH"):
            self.assertNotIn(withheld, env)
        self.assertEqual(data["argv"], ["two", "words!"])
        # The script runs in its own directory, with only the standard streams open.
        self.assertEqual(env["PWD"] if "PWD" in env else scripts_dir(self.workdir),
                         scripts_dir(self.workdir))

    def test_request_bodies_of_every_size_and_framing(self):
        for size in (0, 1, 65536, 65537, 3 * 1024 * 1024 + 5):
            payload = os.urandom(size)
            status, _, body = get(self.server.url("/cgi-bin/env.py"), data=payload,
                                  headers={"Content-Type": "application/octet-stream"})
            self.assertEqual(status, 200, size)
            data = json.loads(body)
            self.assertEqual(data["env"]["CONTENT_LENGTH"], str(size))
            self.assertEqual(data["env"]["CONTENT_TYPE"], "application/octet-stream")
            self.assertEqual(data["body_length"], size)
            self.assertEqual(data["body_sha256"], hashlib.sha256(payload).hexdigest())
        # A chunked upload reaches the script with a CONTENT_LENGTH (spooled first).
        result = subprocess.run(
            ["curl", "-s", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
             self.server.url("/cgi-bin/env.py")], input=b"z" * 100000, capture_output=True)
        data = json.loads(result.stdout)
        self.assertEqual(data["env"]["CONTENT_LENGTH"], "100000")
        self.assertEqual(data["body_sha256"], hashlib.sha256(b"z" * 100000).hexdigest())
        # No spooled body is left behind in the spool directory's names.
        self.assertEqual([n for n in os.listdir("/tmp") if n.startswith("cgi-request-body")], [])

    def test_status_and_redirects(self):
        status, headers, body = get(self.server.url("/cgi-bin/status.sh"))
        self.assertEqual((status, headers["X-Custom"], body), (404, "yes", b"missing\n"))
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(self.server.url("/cgi-bin/away.sh"), timeout=5)
            self.fail("expected a redirect")
        except urllib.error.HTTPError as error:
            self.assertEqual(error.code, 302)
            self.assertEqual(error.headers["Location"], "https://example.org/elsewhere")
        # A local redirect is answered as if the client had asked for that URL.
        status, headers, body = get(self.server.url("/cgi-bin/local.sh"))
        self.assertEqual((status, body), (200, b"plain file\n"))
        status, _, _ = get(self.server.url("/cgi-bin/loop.sh"))
        self.assertEqual(status, 500)
        self.log_has("COL-CORE-0007")
        status, _, body = get(self.server.url("/cgi-bin/nph-raw.sh"))
        self.assertEqual((status, body), (203, b"nph body\n"))

    def test_scripts_that_go_wrong_get_502_and_a_log_line(self):
        for name, logged in (("garbage.sh", "a header line has no field name and colon"),
                             ("noend.sh", "its output ended inside the header"),
                             ("crash.sh", "it printed nothing"),
                             ("early.sh", "it printed nothing")):
            status, _, _ = get(self.server.url("/cgi-bin/" + name))
            self.assertEqual(status, 502, name)
            self.log_has("/cgi-bin/%s: bad output: %s" % (name, logged))
        self.log_has("/cgi-bin/crash.sh: killed by signal 11")
        self.log_has("/cgi-bin/early.sh: exited with status 3")
        self.assertEqual(get(self.server.url("/cgi-bin/notexec.sh"))[0], 403)
        self.log_has("COL-CGI-0001")
        self.assertEqual(get(self.server.url("/cgi-bin/missing.sh"))[0], 404)
        self.assertEqual(get(self.server.url("/cgi-bin/"))[0], 403)
        wait_for(lambda: not zombies_under(self.server.children()), what="no zombie scripts")

    def test_stderr_goes_to_the_error_log_with_the_script_name(self):
        self.assertEqual(get(self.server.url("/cgi-bin/stderr.sh"))[2], b"ok\n")
        self.log_has("/cgi-bin/stderr.sh: stderr-marker-1234")

    def test_silence_past_the_timeout_is_504_and_the_script_is_killed(self):
        started = time.time()
        status, _, _ = get(self.server.url("/cgi-bin/sleeper.sh"))
        self.assertEqual(status, 504)
        self.assertLess(time.time() - started, 10)
        self.log_has("/cgi-bin/sleeper.sh: printed no header within CgiTimeout")
        pid = int(read_file(self.state("sleeper.pid")))
        wait_for(lambda: process_gone(pid), what="the sleeper to be killed")

    def test_large_output_streams_and_a_client_that_leaves_stops_the_script(self):
        status, _, body = get(self.server.url("/cgi-bin/big.py"))
        self.assertEqual(status, 200)
        self.assertEqual(len(body), 160 * 65536)
        self.assertEqual(body[65536 * 7], 7)
        sock = connect(self.server.port)
        sock.sendall(b"GET /cgi-bin/endless.py HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200 OK", sock.recv(65536))
        self.addCleanup(sock.close)
        pid = int(wait_for(lambda: os.path.exists(self.state("endless.pid")) and
                           read_file(self.state("endless.pid")), what="endless.pid"))
        sock.close()
        wait_for(lambda: process_gone(pid), timeout=15, what="the endless script to stop")
        wait_for(lambda: not zombies_under(self.server.children()), what="no zombie scripts")

    def test_gopher_search_and_ftp_download_run_the_same_scripts(self):
        sock = connect(self.server.ports["gopher"])
        sock.sendall(b"/cgi-bin/search.py\tfree text & more\r\n")
        reply = recv_until_closed(sock).decode()
        sock.close()
        self.assertIn("words: free text & more", reply)
        self.assertIn("query: free+text+%26+more", reply)
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        ftp.login()
        out = io.BytesIO()
        ftp.retrbinary("RETR /cgi-bin/hello.sh", out.write)
        ftp.quit()
        self.assertEqual(out.getvalue(), b"hello from a shell script\n")

    def test_cgi_output_through_ssi_and_compression(self):
        url = self.server.url("/cgi-bin/ssi.py")
        plain = subprocess.run(["curl", "-s", url], capture_output=True).stdout.decode()
        self.assertIn("<p>hello /cgi-bin/ssi.py</p>", plain)
        self.assertIn("<footer>the footer</footer>", plain)
        self.assertNotIn("<!--#", plain)
        result = subprocess.run(["curl", "-s", "-D", "-", "-o", os.path.join(self.workdir, "gz"),
                                 "-H", "Accept-Encoding: gzip", url], capture_output=True)
        self.assertIn(b"Content-Encoding: gzip", result.stdout)
        self.assertIn(b"Vary: Accept-Encoding", result.stdout)
        self.assertEqual(gzip.decompress(read_file(os.path.join(self.workdir, "gz"), "rb"))
                         .decode(), plain)
        brotli = subprocess.run(["curl", "-s", "-H", "Accept-Encoding: br, gzip;q=0.5", url],
                                capture_output=True).stdout
        decoded = subprocess.run(["brotli", "-d", "-c"], input=brotli, capture_output=True)
        self.assertEqual(decoded.stdout.decode(), plain)
        self.assertEqual(subprocess.run(["curl", "-s", "--compressed", url],
                                        capture_output=True).stdout.decode(), plain)
        # The same over HTTP/2 (the streamed body outlives the handler's frame) and Gopher.
        for extra in ([], ["-H", "Accept-Encoding: gzip", "--compressed"]):
            h2 = subprocess.run(["curl", "-s", "--http2-prior-knowledge", *extra, url],
                                capture_output=True, timeout=10)
            self.assertEqual(h2.stdout.decode(), plain, extra)
        sock = connect(self.server.ports["gopher"])
        sock.sendall(b"/cgi-bin/ssi.py\r\n")
        gopher = recv_until_closed(sock).decode()
        sock.close()
        self.assertIn("<footer>the footer</footer>", gopher)
        self.assertIn("<p>hello /cgi-bin/ssi.py</p>", gopher)
        self.assertTrue(self.server.alive())

    def test_ssi_pages_over_every_protocol(self):
        expanded = b"<p>before</p><footer>the footer</footer>\n<p>after</p>"
        self.assertIn(expanded, get(self.server.url("/page.shtml"))[2])
        h2 = subprocess.run(["curl", "-s", "--http2-prior-knowledge",
                             self.server.url("/page.shtml")], capture_output=True, timeout=10)
        self.assertIn(expanded, h2.stdout)
        sock = connect(self.server.ports["gopher"])
        sock.sendall(b"/page.shtml\r\n")
        self.assertIn(expanded, recv_until_closed(sock))
        sock.close()
        # FTP downloads the page as stored, directives and all.
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        ftp.login()
        out = io.BytesIO()
        ftp.retrbinary("RETR /page.shtml", out.write)
        ftp.quit()
        self.assertIn(b'<!--#include virtual="/footer.html" -->', out.getvalue())

    def test_include_loops_end_with_errmsg(self):
        status, _, body = get(self.server.url("/loop.shtml"))
        self.assertEqual(status, 200)
        self.assertIn(b"[an error occurred while processing this directive]", body)
        self.assertIn(b"<p>after</p>", body)
        self.log_has("COL-SSI-0001")


class CgiStreamingMemoryTest(ServerTestCase):
    """1 GiB of script output to a client that pauses: the serving child's memory stays flat."""
    CONFIG = CONFIG

    @classmethod
    def prepare_site(cls, root):
        write_scripts(os.path.dirname(root))

    def test_a_gibibyte_through_with_flat_memory(self):
        chunks = int(os.environ.get("COLLAGE_LONG_STREAM_BYTES", str(1 << 30))) // 65536
        sock = connect(self.server.port, timeout=30)
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
        sock.sendall(b"GET /cgi-bin/long.py?%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                     % chunks)
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        self.assertIn(b"Transfer-Encoding: chunked", head)
        rss = lambda: max([rss_kib(pid) for pid in self.server.children()] or [0])
        baseline = rss()
        peak = baseline
        received = 0
        paused = False
        while True:
            data = sock.recv(1024 * 1024)
            if not data:
                break
            received += len(data)
            if not paused and received > 64 * 1024 * 1024:
                paused = True
                time.sleep(1.0)  # a client that stops reading: the script must be held back
            peak = max(peak, rss())
        # Chunked framing adds a few bytes per part; the payload is all there.
        self.assertGreaterEqual(received, chunks * 65536)
        self.assertLess(received, chunks * 65536 + chunks * 16 + 1024)
        if "ASAN_OPTIONS" in os.environ:
            return  # ASan's quarantine keeps freed memory resident (see test_streaming.py)
        self.assertLess(peak - baseline, 24 * 1024,
                        "server RSS grew from %d KiB to %d KiB" % (baseline, peak))


@unittest.skipUnless(os.geteuid() == 0, "CgiUser needs the server started as root")
class CgiUserTest(ServerTestCase):
    """CgiUser: scripts run as another user through each child's helper, which also stops and
    reaps them."""
    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<LogLevel>info</LogLevel>
<DocumentRoot>{root}</DocumentRoot>
<Location path="/cgi-bin">
  <Store>cgi</Store>
  <CgiRoot>{dir}/cgi-bin</CgiRoot>
  <CgiUser>nobody</CgiUser>
  <CgiGroup>nogroup</CgiGroup>
  <CgiTimeout>1s</CgiTimeout>
  <CgiSetEnv>CGI_STATE={dir}/state</CgiSetEnv>
</Location>
"""

    @classmethod
    def prepare_site(cls, root):
        workdir = os.path.dirname(root)
        write_scripts(workdir)
        # nobody must reach the scripts and write its pid files.
        os.chmod(workdir, 0o755)
        os.chmod(os.path.join(workdir, "state"), 0o777)

    def test_scripts_run_as_the_configured_user(self):
        status, _, body = get(self.server.url("/cgi-bin/whoami.sh"))
        self.assertEqual(status, 200)
        self.assertEqual(body.decode().split(), [str(pwd.getpwnam("nobody").pw_uid),
                                                 str(grp.getgrnam("nogroup").gr_gid)])
        status, _, body = get(self.server.url("/cgi-bin/env.py/x?a"), data=b"payload")
        self.assertEqual(json.loads(body)["body_length"], 7)

    def test_timeouts_and_a_client_that_leaves_still_stop_the_script(self):
        self.assertEqual(get(self.server.url("/cgi-bin/sleeper.sh"))[0], 504)
        pid = int(read_file(os.path.join(self.workdir, "state", "sleeper.pid")))
        wait_for(lambda: process_gone(pid), what="the sleeper to be killed")
        sock = connect(self.server.port)
        self.addCleanup(sock.close)
        sock.sendall(b"GET /cgi-bin/endless.py HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200 OK", sock.recv(65536))
        path = os.path.join(self.workdir, "state", "endless.pid")
        pid = int(wait_for(lambda: os.path.exists(path) and read_file(path), what="endless.pid"))
        sock.close()
        wait_for(lambda: process_gone(pid), timeout=15, what="the endless script to stop")
        helpers = [p for child in self.server.children() for p in children_of(child)]
        wait_for(lambda: not zombies_under(set(helpers) | set(self.server.children())),
                 what="no zombie scripts")

    def test_root_is_refused(self):
        workdir = tempfile.mkdtemp(prefix="collage-test-")
        path = os.path.join(workdir, "c.xml")
        with open(path, "w") as f:
            f.write("<Collage><Mpm>event</Mpm><Listen protocol=\"http1\" address=\"127.0.0.1\" "
                    "port=\"0\"/><Location path=\"/c\"><Store>cgi</Store><CgiRoot>%s</CgiRoot>"
                    "<CgiUser>root</CgiUser></Location></Collage>" % workdir)
        result = subprocess.run([BINARY, "-t", "-f", path], capture_output=True, text=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("CgiUser may not be root", result.stdout + result.stderr)


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


class CgiCapTest(ServerTestCase):
    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<DocumentRoot>{root}</DocumentRoot>
<CgiMaxProcesses>1</CgiMaxProcesses>
<Location path="/cgi-bin">
  <Store>cgi</Store>
  <CgiRoot>{dir}/cgi-bin</CgiRoot>
  <CgiSetEnv>CGI_STATE={dir}/state</CgiSetEnv>
</Location>
"""

    @classmethod
    def prepare_site(cls, root):
        write_scripts(os.path.dirname(root))

    def test_past_the_cap_is_503_until_a_script_ends(self):
        results = {}
        held = threading.Thread(
            target=lambda: results.update(held=get(self.server.url("/cgi-bin/held.sh"))))
        held.start()
        wait_for(lambda: os.path.exists(os.path.join(self.workdir, "state", "held.pid")),
                 what="the held script to start")
        status, headers, _ = get(self.server.url("/cgi-bin/hello.sh"))
        self.assertEqual(status, 503)
        self.assertEqual(headers["Retry-After"], "1")
        self.assertIn("CgiMaxProcesses", self.server.log())
        open(os.path.join(self.workdir, "state", "release"), "w").close()
        held.join(10)
        self.assertEqual(results["held"][0], 200)
        # The place comes back once the held script has been reaped.
        wait_for(lambda: get(self.server.url("/cgi-bin/hello.sh"))[0] == 200,
                 what="a script to run again")


class CgiConfigTest(unittest.TestCase):
    def check(self, body):
        workdir = tempfile.mkdtemp(prefix="collage-test-")
        write_scripts(workdir)
        path = os.path.join(workdir, "c.xml")
        with open(path, "w") as f:
            f.write("<Collage><Mpm>event</Mpm>"
                    "<Listen protocol=\"http1\" address=\"127.0.0.1\" port=\"0\"/>" +
                    body.format(dir=workdir) + "</Collage>")
        return subprocess.run([BINARY, "-t", "-f", path], capture_output=True, text=True)

    def test_scripts_in_a_writable_tree_are_refused_unless_allowed(self):
        body = """<DocumentRoot>{dir}</DocumentRoot>
<Location path="/up"><Writable>on</Writable></Location>
<Location path="/cgi-bin"><Store>cgi</Store><CgiRoot>{dir}/cgi-bin</CgiRoot>%s</Location>"""
        refused = self.check(body % "")
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("clients can write to", refused.stdout + refused.stderr)
        allowed = self.check(body % "<CgiAllowWritableTree>on</CgiAllowWritableTree>")
        self.assertEqual(allowed.returncode, 0, allowed.stdout + allowed.stderr)

    def test_explain_shows_the_store_and_each_filter_decision(self):
        workdir = tempfile.mkdtemp(prefix="collage-test-")
        write_scripts(workdir)
        path = os.path.join(workdir, "c.xml")
        with open(path, "w") as f:
            f.write("<Collage><Mpm>event</Mpm>" +
                    CONFIG.format(dir=workdir, root=workdir) +
                    "</Collage>")

        def explain(*args):
            result = subprocess.run([BINARY, "-f", path, "--explain", *args], capture_output=True,
                                    text=True)
            self.assertEqual(result.returncode, 0, result.stderr)
            return result.stdout

        out = explain("http://localhost/cgi-bin/ssi.py", "--header", "Accept-Encoding: br")
        self.assertIn("location /cgi-bin (%s:" % path, out)
        self.assertIn("store cgi", out)
        self.assertIn("the store answered 200 text/html, streamed", out)
        self.assertIn("filter ssi [content]: applied", out)
        self.assertIn("filter compress [encoding]: applied", out)
        self.assertIn("Content-Encoding: br", out)
        out = explain("/cgi-bin/big.py", "--header", "Accept-Encoding: gzip")
        self.assertIn("filter ssi [content]: left out: not declared for this content type", out)
        self.assertIn("filter compress [encoding]: left out: not declared for this content type",
                      out)
        out = explain("/cgi-bin/ssi.py")
        self.assertNotIn("not enabled here", out)  # every filter is enabled in this file
        self.assertIn("filter compress [encoding]: left out: the request's header does not meet "
                      "its condition (Accept-Encoding)", out)
        bad = subprocess.run([BINARY, "-f", path, "--explain", "/a/../../b"], capture_output=True,
                             text=True)
        self.assertEqual(bad.returncode, 2)

    def test_missing_or_wrong_directives(self):
        for body, message in (
                ("<Location path=\"/c\"><Store>cgi</Store></Location>", "needs a CgiRoot"),
                ("<Location path=\"/c\"><Store>cgi</Store><CgiRoot>/nonexistent</CgiRoot>"
                 "</Location>", "cannot be used"),
                ("<Location path=\"/c\"><Store>cgi</Store><CgiRoot>{dir}</CgiRoot>"
                 "<CgiSetEnv>novalue</CgiSetEnv></Location>", "NAME=value"),
                ("<Location path=\"/c\"><Store>cgi</Store><DocumentRoot>{dir}</DocumentRoot>"
                 "<CgiExtensions>cgi</CgiExtensions></Location>", "with their dot")):
            result = self.check(body)
            self.assertNotEqual(result.returncode, 0, body)
            self.assertIn(message, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
