"""The pages the server writes itself — directory listings, error pages, the gopher gateway — as
people see them: self-contained HTML with breadcrumbs, an up link, human sizes and columns that
sort without JavaScript; then rendered in headless Chromium at phone and desktop widths, light
and dark, with the screenshots kept in build/test-artifacts/pages/."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import ServerTestCase  # noqa: E402

CHROMIUM = shutil.which("chromium")
ARTIFACTS = os.environ.get("COLLAGE_TEST_ARTIFACTS",
                           os.path.join(tempfile.gettempdir(), "collage-test-artifacts"))

try:
    from PIL import Image
except ImportError:  # setup.sh installs python3-pil; without it the pixel checks cannot run
    Image = None


class PagesTest(ServerTestCase):
    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<DocumentRoot>{root}</DocumentRoot>
<DirectoryListing>on</DirectoryListing>
<Location path="/gopher">
  <Store>gopher</Store>
  <GopherRoot>{dir}/hole</GopherRoot>
</Location>
"""

    @classmethod
    def prepare_site(cls, root):
        os.makedirs(os.path.join(root, "docs", "sub folder"))
        files = {"docs/small.txt": 10, "docs/medium.bin": 5 * 1024,
                 "docs/large.bin": 3 * 1024 * 1024 + 1,
                 "docs/a-file-with-a-rather-long-name-that-must-wrap-on-a-phone.txt": 1}
        for name, size in files.items():
            with open(os.path.join(root, name), "wb") as f:
                f.truncate(size)
        os.utime(os.path.join(root, "docs", "large.bin"), (1e9, 1e9))  # the oldest
        hole = os.path.join(os.path.dirname(root), "hole")
        os.makedirs(os.path.join(hole, "phlog"))
        with open(os.path.join(hole, "phlog", "first.txt"), "w") as f:
            f.write("hello\n")

    def get(self, path):
        try:
            with urllib.request.urlopen(self.server.url(path), timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def assert_self_contained(self, html):
        self.assertNotIn("<script", html)
        self.assertNotRegex(html, r"<link[^>]+stylesheet")
        self.assertNotRegex(html, r"(src|href)=\"(https?:)?//")
        self.assertIn('name="viewport"', html)
        self.assertIn("prefers-color-scheme:dark", html)

    # --- the HTML itself --------------------------------------------------------------------

    def test_listing_has_breadcrumbs_up_link_and_human_sizes(self):
        status, html = self.get("/docs/sub%20folder/")
        self.assertEqual(status, 200)
        self.assert_self_contained(html)
        self.assertIn('<nav aria-label="breadcrumb"><a href="/">/</a> <a href="/docs/">docs</a> /'
                      ' <span>sub folder</span></nav>', html)
        self.assertIn('href="../" rel="up"', html)
        self.assertIn("This folder is empty.", html)
        _, html = self.get("/docs/")
        for size in (">10 B<", ">5.0 KiB<", ">3.0 MiB<"):
            self.assertIn(size, html)
        self.assertNotRegex(html, r">\d+(\.\d)?[KMG]<")  # one unit style only

    def test_listing_columns_sort_without_javascript(self):
        def names(query):
            html = self.get("/docs/" + query)[1]
            return re.findall(r'<td class="name"><a href="\./([^"]+)">', html)
        by_name = names("")
        self.assertEqual(by_name[0], "sub%20folder/")  # folders first, whatever the order
        self.assertEqual(by_name[1:], sorted(by_name[1:]))
        self.assertEqual(names("?C=N;O=D")[1:], sorted(by_name[1:], reverse=True))
        self.assertEqual(names("?C=S;O=D")[1:3], ["large.bin", "medium.bin"])
        self.assertEqual(names("?C=M&O=A")[1], "large.bin")
        # The sorted column's heading offers the other direction; the others ascending.
        html = self.get("/docs/?C=S;O=D")[1]
        self.assertIn('<a href="?C=S;O=A">Size', html)
        self.assertIn('<a href="?C=N;O=A">Name</a>', html)
        self.assertEqual(names("?C=X;O=Z"), by_name)  # nonsense: the default order

    def test_error_pages_say_what_happened_and_what_to_do(self):
        for path, method, status, words in (
                ("/missing", "GET", 404, "There is nothing at this address."),
                ("/docs/small.txt", "DELETE", 405, "does not accept that kind of request")):
            with self.subTest(status=status):
                request = urllib.request.Request(self.server.url(path), method=method)
                with self.assertRaises(urllib.error.HTTPError) as caught:
                    urllib.request.urlopen(request, timeout=10)
                html = caught.exception.read().decode()
                self.assertEqual(caught.exception.code, status)
                self.assert_self_contained(html)
                self.assertIn("<title>%d " % status, html)
                self.assertIn(words, html)
                self.assertIn('<a href="/">Home page</a>', html)
                self.assertIn("<footer>Collage</footer>", html)
                self.assertRegex(html, r"Request ID <code>[0-9a-f]{16}</code>")
                self.assertEqual(int(caught.exception.headers["Content-Length"]),
                                 len(html.encode()))

    def test_every_error_page_names_its_own_request(self):
        ids = set()
        for flags in ((), ("--http2-prior-knowledge",)):
            for _ in range(3):
                page = subprocess.run(["curl", "-sS", *flags, self.server.url("/missing")],
                                      capture_output=True, text=True, check=True).stdout
                found = re.findall(r"Request ID <code>([0-9a-f]{16})</code>", page)
                self.assertEqual(len(found), 1, page)
                ids.add(found[0])
        self.assertEqual(len(ids), 6)

    def test_gopher_gateway_has_heading_breadcrumbs_and_up_link(self):
        status, html = self.get("/gopher/phlog")
        self.assertEqual(status, 200)
        self.assert_self_contained(html)
        self.assertIn("<h1>/gopher/phlog</h1>", html)
        self.assertIn('<a href="/gopher/">gopher</a>', html)
        self.assertIn('<a href="/gopher/" rel="up">', html)

    # --- as a browser shows them ------------------------------------------------------------

    @unittest.skipUnless(CHROMIUM and Image, "needs chromium and python3-pil (setup.sh installs)")
    def test_pages_render_at_phone_and_desktop_widths_light_and_dark(self):
        out_dir = os.path.join(ARTIFACTS, "pages")
        os.makedirs(out_dir, exist_ok=True)
        profile = tempfile.mkdtemp(prefix="collage-chromium-")
        self.addCleanup(shutil.rmtree, profile, True)
        pages = {"listing": "/docs/", "listing-by-size": "/docs/?C=S;O=D", "error-404": "/nope",
                 "gopher-gateway": "/gopher/phlog"}
        views = [("phone", 390, 844, False), ("desktop", 1280, 800, False),
                 ("phone-dark", 390, 844, True)]
        for name, path in pages.items():
            for view, width, height, dark in views:
                with self.subTest(page=name, view=view):
                    shot = os.path.join(out_dir, "%s-%s.png" % (name, view))
                    if os.path.exists(shot):
                        os.unlink(shot)
                    subprocess.run(
                        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                         "--user-data-dir=" + profile, "--window-size=%d,%d" % (width, height),
                         "--screenshot=" + shot, *(["--force-dark-mode"] if dark else []),
                         self.server.url(path)],
                        capture_output=True, timeout=90)
                    self.assertTrue(os.path.exists(shot), "no screenshot for " + path)
                    with Image.open(shot) as image:
                        self.assertEqual(image.size, (width, height))
                        rgb = image.convert("RGB")
                        # Something is drawn (not a blank page), on the scheme's background.
                        self.assertGreater(len(set(rgb.getdata())), 8)
                        background = sum(rgb.getpixel((2, height - 2))) / 3
                        if dark:
                            self.assertLess(background, 60)
                        else:
                            self.assertGreater(background, 200)


if __name__ == "__main__":
    unittest.main()
