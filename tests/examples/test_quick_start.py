"""The README's quick start as a newcomer types it: the bundled example configuration and site,
driven by the README's own client commands (curl over HTTP/1.1, HTTP/2, FTP and FTPS, Gopher),
on ports the kernel picks. Also the example's links: the gopher hole's menus through the HTTP
gateway, and uploads landing outside the tracked tree."""

import functools
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import BINARY, MODULE_DIR  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LISTENING = re.compile(r"COL-CORE-0003\] listening: (\S+) on 127\.0\.0\.1:(\d+)( with TLS)?")


class QuickStartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.run_dir = tempfile.mkdtemp(prefix="collage-quick-")
        cls.uploads = os.path.join(cls.run_dir, "uploads")
        os.makedirs(cls.uploads)
        cls.log_path = os.path.join(cls.run_dir, "error.log")
        # An upstream for /app/: a directory served by Python's own HTTP server.
        upstream_root = os.path.join(cls.run_dir, "upstream")
        os.makedirs(upstream_root)
        with open(os.path.join(upstream_root, "hello.txt"), "w") as f:
            f.write("hello from the upstream\n")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                    directory=upstream_root)
        cls.upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=cls.upstream.serve_forever, daemon=True).start()
        defines = {"HTTP_PORT": "0", "HTTPS_PORT": "0", "FTP_PORT": "0", "GOPHER_PORT": "0",
                   "UPSTREAM": "http://127.0.0.1:%d" % cls.upstream.server_address[1],
                   "LOGDIR": cls.run_dir, "ERRORLOG": cls.log_path,
                   "MODULEDIR": MODULE_DIR, "MPM": os.environ.get("COLLAGE_TEST_MPM", "event")}
        args = [BINARY, "-f", "examples/collage.xml"]
        for name, value in defines.items():
            args += ["-D", "%s=%s" % (name, value)]
        cls.process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        cls.ports = {}
        deadline = time.time() + 15
        while time.time() < deadline and len(cls.ports) < 4:
            if os.path.exists(cls.log_path):
                with open(cls.log_path) as f:
                    for protocol, port, tls in LISTENING.findall(f.read()):
                        cls.ports.setdefault(protocol + ("s" if tls else ""), int(port))
            if cls.process.poll() is not None:
                break
            time.sleep(0.05)
        with open(cls.log_path) as f:
            started = "COL-CONTROL-0004" in f.read()
        if len(cls.ports) < 4 or not started:
            cls.tearDownClass()
            raise RuntimeError("the example did not start: %s" % cls.ports)

    @classmethod
    def tearDownClass(cls):
        cls.upstream.shutdown()
        cls.upstream.server_close()
        if cls.process.poll() is None:
            cls.process.send_signal(signal.SIGTERM)
            cls.process.wait(15)
        shutil.rmtree(cls.run_dir, ignore_errors=True)

    def curl(self, *args):
        out = subprocess.run(["curl", "-sS", "--fail", *args], capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace"))
        return out.stdout

    def http(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.ports["http1"], path)

    def test_readme_commands(self):
        self.assertIn(b"It works", self.curl(self.http("/")))
        listing = self.curl("-k", "--http2", "https://127.0.0.1:%d/docs/" % self.ports["http1s"])
        self.assertIn(b"hello.txt", listing)
        self.assertIn(b"It works", self.curl("--http2-prior-knowledge", self.http("/")))
        self.assertIn(b"hello.txt", self.curl("ftp://127.0.0.1:%d/docs/" % self.ports["ftp"]))
        notes = os.path.join(self.run_dir, "notes.txt")
        with open(notes, "w") as f:
            f.write("hello over FTPS\n")
        self.curl("-k", "--ssl-reqd", "-u", "demo:demo", "-T", notes,
                  "ftp://127.0.0.1:%d/uploads/" % self.ports["ftp"])
        self.assertEqual(self.curl(self.http("/uploads/notes.txt")), b"hello over FTPS\n")
        # The upload went to the upload area, not into the checkout's example site.
        self.assertTrue(os.path.exists(os.path.join(self.uploads, "notes.txt")))
        self.assertFalse(os.path.exists(os.path.join(REPO, "examples", "site", "notes.txt")))
        self.assertIn(b"Welcome to the Collage gopher hole",
                      self.curl("gopher://127.0.0.1:%d/" % self.ports["gopher"]))
        status = self.curl(self.http("/server-status?auto")).decode()
        self.assertIn("Total Accesses:", status)
        # The README's metrics line: the requests above show in their protocols' counters.
        metrics = self.curl(self.http("/metrics")).decode()
        for protocol in ("http1", "ftp", "gopher"):
            self.assertRegex(metrics, r'collage_requests_total\{protocol="%s",[^}]*code="2xx"\} '
                             r'[1-9]' % protocol)

    def head_and_body(self, *args):
        out = subprocess.run(["curl", "-sS", "-D", "-", *args], capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace"))
        head, _, body = out.stdout.partition(b"\r\n\r\n")
        return head.decode("latin-1"), body

    def test_site_directives_of_the_example(self):
        head, _ = self.head_and_body(self.http("/old-docs/hello.txt?x=1"))
        self.assertTrue(head.startswith("HTTP/1.1 301"), head)
        self.assertIn("\r\nLocation: /docs/hello.txt?x=1", head)
        https = "https://127.0.0.1:%d/docs/hello.txt" % self.ports["http1s"]
        for args in (("-k", "--http1.1", https), ("-k", "--http2", https)):
            head, _ = self.head_and_body(*args)
            self.assertRegex(head, r"(?i)\r\nstrict-transport-security: max-age=31536000")
        head, _ = self.head_and_body(self.http("/docs/hello.txt"))
        self.assertNotIn("strict-transport-security", head.lower())
        with open(os.path.join(REPO, "examples", "site", "errors", "404.html"), "rb") as f:
            page = f.read()
        for args in ((self.http("/no/such/page"),),
                     ("--http2-prior-knowledge", self.http("/no/such/page"))):
            head, body = self.head_and_body(*args)
            self.assertRegex(head, r"^HTTP/(1\.1|2) 404")
            self.assertEqual(body, page)
        head, body = self.head_and_body(self.http("/app-front/app.css"))
        self.assertIn(b"TryFiles serves it as it is", body)
        head, body = self.head_and_body(self.http("/app-front/users/42?tab=posts"))
        self.assertTrue(head.startswith("HTTP/1.1 200"), head)
        self.assertIn(b"<h1>Route /app-front/users/42</h1>", body)
        self.assertIn(b"GET\n/app-front/users/42?tab=posts", body)

    def test_ftp_uploads_land_in_the_sqlite_database(self):
        notes = os.path.join(self.run_dir, "db-notes.txt")
        with open(notes, "w") as f:
            f.write("kept in SQLite\n")
        self.curl("-u", "demo:demo", "-T", notes, "ftp://127.0.0.1:%d/db/" % self.ports["ftp"])
        self.assertEqual(self.curl(self.http("/db/db-notes.txt")), b"kept in SQLite\n")
        self.assertTrue(os.path.exists(os.path.join(self.run_dir, "site.db")))
        self.assertIn(b"db-notes.txt", self.curl("ftp://127.0.0.1:%d/db/" % self.ports["ftp"]))

    def test_app_is_proxied_to_the_upstream(self):
        # UPSTREAM points at a server this test runs; with it gone, /app/ is a 502 page.
        status = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                 self.http("/app/hello.txt")], capture_output=True, text=True)
        self.assertEqual(status.stdout, "200")
        page = self.curl("-i", self.http("/app/hello.txt")).decode()
        self.assertIn("hello from the upstream", page)
        self.assertRegex(page, r"(?i)via: 1.1 collage")
        self.upstream.shutdown()
        self.upstream.server_close()
        gone = subprocess.run(["curl", "-s", "-w", "%{http_code}", self.http("/app/other.txt")],
                              capture_output=True, text=True)
        self.assertTrue(gone.stdout.endswith("502"), gone.stdout)

    def test_the_cache_keeps_what_clock_py_allows(self):
        # clock.py allows 10 s of reuse: after the first answer (a miss, or a hit on what an
        # earlier run left in the memory tier), HTTP/1.1 and h2 get the same page from the cache.
        first = self.curl("-i", self.http("/cgi-bin/clock.py")).decode()
        self.assertIn("Cache-Status: Collage;", first)
        body = first.split("\r\n\r\n", 1)[1]
        for args in ((), ("--http2-prior-knowledge",)):
            again = self.curl("-i", *args, self.http("/cgi-bin/clock.py")).decode()
            self.assertRegex(again, r"(?i)cache-status: Collage; hit")
            self.assertEqual(again.split("\r\n\r\n", 1)[1], body)
        # hello.py's page says nothing about reuse: never kept.
        hello = self.curl("-i", self.http("/cgi-bin/hello.py")).decode()
        self.assertNotIn("hit", hello.split("\r\n\r\n", 1)[0])

    def test_cgi_with_ssi_gopher_search_and_compression(self):
        # hello.py prints SSI directives; the page a browser gets has them expanded, over
        # HTTP/1.1, h2c and HTTP/2 over TLS.
        https = "https://127.0.0.1:%d/cgi-bin/hello.py?Ada" % self.ports["http1s"]
        for page in (self.curl(self.http("/cgi-bin/hello.py?Ada")),
                     self.curl("--http2-prior-knowledge", self.http("/cgi-bin/hello.py?Ada")),
                     self.curl("-k", "--http2", "--compressed", https)):
            self.assertIn(b"<h1>Hello, Ada!</h1>", page)
            self.assertIn(b"made by hello.py for\n127.0.0.1", page)
            self.assertIn(b"Included from examples/site/footer.html", page)
            self.assertNotIn(b"<!--#", page)
        # Text is compressed for clients that take it.
        head = self.curl("-D", "-", "-o", "/dev/null", "-H", "Accept-Encoding: gzip",
                         self.http("/"))
        self.assertIn(b"Content-Encoding: gzip", head)
        # The hole's main menu has a search item; it runs search.py with the words.
        gopher = "gopher://127.0.0.1:%d" % self.ports["gopher"]
        self.assertIn(b"7Search this hole and the web site\t/cgi-bin/search.py",
                      self.curl(gopher + "/"))
        results = self.curl(gopher + "/7/cgi-bin/search.py%09hello").decode()
        self.assertIn("/site/docs/hello.txt\t127.0.0.1\t%d" % self.ports["gopher"], results)
        # The same search over HTTP, as a page (the gopher-html filter renders the menu).
        self.assertIn(b"hello.txt", self.curl(self.http("/cgi-bin/search.py?hello")))

    def test_status_page_and_log_speak_of_what_is_there(self):
        page = self.curl(self.http("/server-status")).decode()
        if os.environ.get("COLLAGE_TEST_MPM", "event") == "event":
            # Event slots follow connections, not threads.
            self.assertIn("<dt>Connection slots</dt>", page)
            self.assertNotIn("<dt>Workers</dt>", page)
        else:
            self.assertIn("<dt>Workers</dt>", page)
        if os.geteuid() == 0:
            with open(self.log_path) as f:
                self.assertIn("add <User>nobody</User>", f.read())

    def test_the_site_is_read_only_over_ftp(self):
        out = subprocess.run(["curl", "-sS", "-u", "demo:demo", "-T", "-",
                              "ftp://127.0.0.1:%d/docs/new.txt" % self.ports["ftp"]],
                             input=b"x", capture_output=True, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(REPO, "examples", "site", "docs", "new.txt")))

    def test_every_link_of_the_gopher_gateway_works(self):
        """Regression: the gateway's link to the hole's /site menu was a 404."""
        page = self.curl(self.http("/gopher/")).decode()
        links = set(re.findall(r'href="(/gopher/[^"#?]*)"', page))
        self.assertIn("/gopher/site", {link.rstrip("/") for link in links})
        for link in sorted(links):
            with self.subTest(link=link):
                self.curl("-o", "/dev/null", self.http(link))
        self.assertIn(b"hello.txt", self.curl(self.http("/gopher/site/docs")))
        self.assertNotIn(":8080", page)


if __name__ == "__main__":
    unittest.main()
