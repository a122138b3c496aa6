"""The status page as a browser shows it, under load: headless Chromium loads /server-status
while HTTP/1.1 clients keep the server busy and the test makes a known number of Gopher and FTP
requests; the rows must show exactly those, the HTTP/1.1 numbers must move between two loads,
the charts must draw, and the page's script must keep refreshing it. Screenshots are kept as
test artifacts (COLLAGE_TEST_ARTIFACTS/status-page/)."""

import ftplib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import ServerTestCase, http_request, wait_for  # noqa: E402

CHROMIUM = shutil.which("chromium")
ARTIFACTS = os.environ.get("COLLAGE_TEST_ARTIFACTS",
                           os.path.join(tempfile.gettempdir(), "collage-test-artifacts"))
try:
    from PIL import Image
except ImportError:  # setup.sh installs python3-pil
    Image = None

PAGE = b"<p>busy</p>\n" * 100
ROW = re.compile(r'<tr data-protocol="(\w+)">(.*?)</tr>', re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def protocol_rows(dom):
    """{protocol: [cells]} from the page's protocol table."""
    return {name: CELL.findall(cells) for name, cells in ROW.findall(dom)}


@unittest.skipUnless(CHROMIUM and Image, "needs chromium and python3-pil (setup.sh installs)")
class StatusPageInBrowserTest(ServerTestCase):
    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="gopher" address="127.0.0.1" port="0"/>
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<DocumentRoot>{root}</DocumentRoot>
<Location path="/server-status"><Store>status</Store></Location>
<Location path="/metrics"><Store>metrics</Store></Location>
"""

    @classmethod
    def prepare_site(cls, root):
        with open(os.path.join(root, "page.html"), "wb") as f:
            f.write(PAGE)

    def setUp(self):
        self.profile = tempfile.mkdtemp(prefix="collage-chromium-")
        self.addCleanup(shutil.rmtree, self.profile, True)

    def chromium(self, *args):
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + self.profile, *args],
            capture_output=True, text=True, timeout=120)

    def status_json(self):
        return json.loads(http_request(self.server.port, "/server-status?json")[2])

    def keep_busy(self, stop):
        """HTTP/1.1 keep-alive requests until stop is set."""
        while not stop.is_set():
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
                for _ in range(50):
                    s.sendall(b"GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n")
                    got = b""
                    while not got.endswith(PAGE):
                        chunk = s.recv(65536)
                        if not chunk:
                            return
                        got += chunk

    def test_rows_match_the_load_and_numbers_move(self):
        start = self.status_json()["protocols"]
        stop = threading.Event()
        load = threading.Thread(target=self.keep_busy, args=(stop,))
        load.start()
        self.addCleanup(load.join)
        self.addCleanup(stop.set)
        gophers, downloads = 8, 3
        for _ in range(gophers):
            with socket.create_connection(("127.0.0.1", self.server.ports["gopher"])) as s:
                s.sendall(b"/page.html\r\n")
                while s.recv(65536):
                    pass
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        ftp.login()
        for _ in range(downloads):
            ftp.retrbinary("RETR /page.html", io.BytesIO().write)
        ftp.quit()
        expected = {"gopher": start["gopher"]["requests"] + gophers,
                    "ftp": start["ftp"]["requests"] + downloads}
        # Counted, and the history holds a few seconds of HTTP/1.1 traffic to draw.
        wait_for(lambda: (lambda s: all(s["protocols"][p]["requests"] == n
                                        for p, n in expected.items()) and
                          sum(1 for point in s["history"] if point["http1"][0] > 0) >= 3)(
                              self.status_json()), timeout=20, what="counts and history")

        first = self.chromium("--dump-dom", self.server.url("/server-status"))
        rows = protocol_rows(first.stdout)
        self.assertEqual(int(rows["gopher"][1]), expected["gopher"], rows)
        self.assertEqual(int(rows["ftp"][1]), expected["ftp"], rows)
        http1_then = int(rows["http1"][1])
        self.assertGreater(float(rows["http1"][2]), 0)  # requests/s while the load runs
        # The requests chart draws a line for HTTP/1.1 and its legend names a rate above 0.
        chart = first.stdout.split('data-measure="0"')[1].split("</figure>")[0]
        self.assertIn('stroke="#1a73e8"', chart)
        legend = re.search(r'data-protocol="http1">.*?class="value">([^<]+)<', chart).group(1)
        self.assertNotEqual(legend.strip(), "0")

        wait_for(lambda: self.status_json()["protocols"]["http1"]["requests"] > http1_then + 100,
                 what="more HTTP/1.1 requests")
        second = protocol_rows(self.chromium("--dump-dom",
                                             self.server.url("/server-status")).stdout)
        self.assertGreater(int(second["http1"][1]), http1_then)
        self.assertEqual(int(second["gopher"][1]), expected["gopher"])

        out_dir = os.path.join(ARTIFACTS, "status-page")
        os.makedirs(out_dir, exist_ok=True)
        for view, width, height, dark in [("desktop", 1280, 1100, False),
                                          ("phone", 390, 1600, False),
                                          ("phone-dark", 390, 1600, True)]:
            shot = os.path.join(out_dir, "status-%s.png" % view)
            if os.path.exists(shot):
                os.unlink(shot)
            self.chromium("--window-size=%d,%d" % (width, height), "--screenshot=" + shot,
                          *(["--force-dark-mode"] if dark else []),
                          self.server.url("/server-status"))
            with Image.open(shot) as image:
                self.assertEqual(image.size, (width, height))
                rgb = image.convert("RGB")
                colours = set(rgb.getdata())
                self.assertGreater(len(colours), 8)
                self.assertIn((0x1a, 0x73, 0xe8), colours)  # the HTTP/1.1 line or its swatch

    def test_the_page_refreshes_itself_where_scripts_run(self):
        def status_requests():
            text = http_request(self.server.port, "/metrics")[2].decode()
            return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                       if line.startswith("collage_requests_total{") and 'store="status"' in line)
        before = status_requests()
        # Virtual time lets the page's 2-second timer fire within the budget; each firing
        # fetches the page again.
        self.chromium("--virtual-time-budget=7000", "--dump-dom",
                      self.server.url("/server-status"))
        self.assertGreaterEqual(wait_for(lambda: (lambda n: n if n >= before + 2 else None)(
            status_requests())) - before, 2)


if __name__ == "__main__":
    unittest.main()
