"""Gopher front end and gopher store against the real binary: raw sockets, curl, lynx, and the
HTML gateway over HTTP."""

import os
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import ServerTestCase, connect, recv_until_closed  # noqa: E402

SECRET = b"GOPHER-SECRET-NEVER-SERVED"

CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="gopher" address="127.0.0.1" port="0" host="gopher"/>
<AccessLog>{dir}/access.log</AccessLog>
<GopherTimeout>1s</GopherTimeout>
<GopherSelectorLimit>256</GopherSelectorLimit>
<VirtualHost name="web">
  <DocumentRoot>{root}/web</DocumentRoot>
  <Location path="/hole">
    <Store>gopher</Store>
    <GopherRoot>{root}/hole</GopherRoot>
  </Location>
</VirtualHost>
<VirtualHost name="gopher">
  <Store>gopher</Store>
  <GopherRoot>{root}/hole</GopherRoot>
  <Location path="/web">
    <GopherRoot>{root}/web</GopherRoot>
  </Location>
</VirtualHost>
"""

GOPHERMAP = (b"!A test hole\n"
             b"# a comment that never shows\n"
             b"-hidden.txt\n"
             b"0Read me\treadme.txt\n"
             b"1Absolute dir\t/sub\n"
             b"0Default selector\n"
             b"1Elsewhere\t/x\tother.example\t7070\n"
             b"hWeb link\tURL:https://example.org/\n"
             b"plain info line\n"
             b"*\n"
             b"0Never shown, after the listing\tnope.txt\n")


class GopherTest(ServerTestCase):
    CONFIG = CONFIG

    @classmethod
    def prepare_site(cls, root):
        cls.binary = os.urandom(300000) + b"\r\n.\r\n" + bytes(range(256))
        hole = os.path.join(root, "hole")
        os.makedirs(os.path.join(hole, "sub", "deeper"))
        os.makedirs(os.path.join(root, "web", "docs"))
        with open(os.path.join(os.path.dirname(root), "secret.txt"), "wb") as f:
            f.write(SECRET)
        files = {
            "hole/gophermap": GOPHERMAP,
            "hole/readme.txt": b"line one\n.dotted line\n..two dots\nlast line without newline",
            "hole/hidden.txt": b"hidden",
            "hole/.dotfile": b"dot",
            "hole/Default selector": b"named like its display",
            "hole/blob.bin": cls.binary,
            "hole/noext": b"\x00\x01\x02binary without extension",
            "hole/notes": b"plain text without an extension\n",
            "hole/pic.gif": b"GIF89a\x01\x00\x01\x00",
            "hole/page.html": b"<p>hi</p>",
            "hole/sub/a.txt": b"a\n",
            "web/index.html": b"<h1>web</h1>",
            "web/docs/guide.txt": b"guide\n",
        }
        for name, data in files.items():
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
        os.symlink(os.path.join(os.path.dirname(root), "secret.txt"),
                   os.path.join(hole, "escape.txt"))

    def gopher(self, line, timeout=5):
        with connect(self.server.ports["gopher"], timeout) as s:
            s.sendall(line)
            return recv_until_closed(s)

    def menu(self, selector):
        raw = self.gopher(selector + b"\r\n")
        self.assertTrue(raw == b".\r\n" or raw.endswith(b"\r\n.\r\n"), raw[-50:])
        lines = raw[:-3].split(b"\r\n")[:-1]
        items = []
        for line in lines:
            fields = line[1:].split(b"\t")
            self.assertEqual(len(fields), 4, line)  # display, selector, host, port
            items.append((chr(line[0]), *[f.decode() for f in fields]))
        return items

    def test_root_menu_from_gophermap(self):
        items = self.menu(b"")
        port = str(self.server.ports["gopher"])
        self.assertEqual(items[0][:2], ("i", "A test hole"))
        self.assertIn(("0", "Read me", "/readme.txt", "127.0.0.1", port), items)
        self.assertIn(("1", "Absolute dir", "/sub", "127.0.0.1", port), items)
        self.assertIn(("0", "Default selector", "/Default selector", "127.0.0.1", port), items)
        self.assertIn(("1", "Elsewhere", "/x", "other.example", "7070"), items)
        self.assertIn(("h", "Web link", "URL:https://example.org/", "127.0.0.1", port), items)
        self.assertIn(("i", "plain info line", "", "null.host", "1"), items)
        displays = [i[1] for i in items]
        self.assertNotIn("a comment that never shows", " ".join(displays))
        self.assertNotIn("Never shown, after the listing", displays)
        # The generated listing after '*': hidden, dot and gophermap files are left out.
        self.assertIn(("9", "blob.bin", "/blob.bin", "127.0.0.1", port), items)
        self.assertIn(("1", "sub", "/sub/", "127.0.0.1", port), items)
        self.assertIn(("g", "pic.gif", "/pic.gif", "127.0.0.1", port), items)
        self.assertIn(("h", "page.html", "/page.html", "127.0.0.1", port), items)
        self.assertIn(("9", "noext", "/noext", "127.0.0.1", port), items)
        self.assertIn(("0", "notes", "/notes", "127.0.0.1", port), items)
        for name in ("hidden.txt", ".dotfile", "gophermap"):
            self.assertNotIn(name, displays)

    def test_generated_menu_without_gophermap(self):
        port = str(self.server.ports["gopher"])
        self.assertEqual(self.menu(b"/sub"), [("0", "a.txt", "/sub/a.txt", "127.0.0.1", port),
                                              ("1", "deeper", "/sub/deeper/", "127.0.0.1", port)])
        self.assertEqual(self.menu(b"/sub/deeper/"), [])

    def test_text_item_is_dot_terminated_and_dot_stuffed(self):
        raw = self.gopher(b"/readme.txt\r\n")
        self.assertEqual(raw, b"line one\r\n..dotted line\r\n...two dots\r\n"
                              b"last line without newline\r\n.\r\n")

    def test_binary_item_is_byte_exact(self):
        self.assertEqual(self.gopher(b"/blob.bin\r\n"), self.binary)

    def test_bare_lf_selector(self):
        self.assertEqual(self.gopher(b"/blob.bin\n"), self.binary)

    def test_errors_are_type_3_items(self):
        raw = self.gopher(b"/missing.txt\r\n")
        self.assertTrue(raw.startswith(b"3Not Found: /missing.txt\t"), raw)
        self.assertTrue(raw.endswith(b"\r\n.\r\n"))

    def test_error_items_never_echo_raw_bytes(self):
        """Regression: NUL, escapes and binary bytes of a selector came back raw in the error."""
        for selector in (b"/a\x00b", b"/\x1b[2Jclear", b"/bin\xff\xfe\x01", b"/x\x7f"):
            with self.subTest(selector=selector):
                raw = self.gopher(selector + b"\r\n")
                self.assertTrue(raw.startswith(b"3"), raw)
                self.assertTrue(raw.endswith(b"\r\n.\r\n"), raw)
                for byte in raw[:-5]:
                    self.assertTrue(byte in (9, 13, 10) or 0x20 <= byte < 0x7f, raw)

    def test_traversal_never_escapes(self):
        for selector in (b"/../secret.txt", b"../secret.txt", b"/sub/../../secret.txt",
                         b"/escape.txt", b"/%2e%2e/secret.txt", b"//../secret.txt",
                         b"/sub/%2e%2e/%2e%2e/secret.txt", b"/web/../../secret.txt"):
            raw = self.gopher(selector + b"\r\n")
            self.assertNotIn(SECRET, raw, selector)
            self.assertTrue(raw.startswith(b"3"), (selector, raw[:80]))

    def test_percent_in_selector_is_literal(self):
        raw = self.gopher(b"/%72eadme.txt\r\n")  # would be readme.txt if decoded
        self.assertTrue(raw.startswith(b"3Not Found"), raw)

    def test_long_selector_is_refused(self):
        raw = self.gopher(b"/" + b"a" * 1000 + b"\r\n")
        self.assertTrue(raw.startswith(b"3URI Too Long"), raw[:60])

    def test_slow_client_times_out(self):
        with connect(self.server.ports["gopher"], timeout=5) as s:
            s.sendall(b"/readme")
            start = time.time()
            self.assertEqual(recv_until_closed(s), b"")
            self.assertLess(time.time() - start, 4)

    def test_search_on_a_file_is_refused(self):
        raw = self.gopher(b"/readme.txt\tsome words\r\n")
        self.assertTrue(raw.startswith(b"3Not Implemented"), raw)

    def test_gopher_plus_marker_is_ignored(self):
        self.assertEqual(self.gopher(b"/blob.bin\t$\r\n"), self.binary)

    def test_caps_txt(self):
        raw = self.gopher(b"caps.txt\r\n")
        self.assertTrue(raw.startswith(b"CAPS\r\n"), raw)
        self.assertIn(b"PathDelimeter=/", raw)

    def test_url_selector_gives_a_redirect_page(self):
        raw = self.gopher(b"URL:https://example.org/\r\n")
        self.assertIn(b'content="0;url=https://example.org/"', raw)

    def test_web_tree_browsable_over_gopher(self):
        port = str(self.server.ports["gopher"])
        self.assertEqual(self.menu(b"/web"), [("1", "docs", "/web/docs/", "127.0.0.1", port),
                                              ("h", "index.html", "/web/index.html", "127.0.0.1",
                                               port)])
        self.assertEqual(self.gopher(b"/web/docs/guide.txt\r\n"), b"guide\r\n.\r\n")

    def test_curl(self):
        url = "gopher://127.0.0.1:%d/9/blob.bin" % self.server.ports["gopher"]
        out = subprocess.run(["curl", "-sS", url], capture_output=True, check=True).stdout
        self.assertEqual(out, self.binary)
        menu = subprocess.run(["curl", "-sS", "gopher://127.0.0.1:%d/" %
                               self.server.ports["gopher"]], capture_output=True, check=True).stdout
        self.assertIn(b"0Read me\t/readme.txt\t127.0.0.1\t", menu)

    def test_lynx(self):
        out = subprocess.run(["lynx", "-dump", "-nolist", "gopher://127.0.0.1:%d/" %
                              self.server.ports["gopher"]], capture_output=True, text=True,
                             check=True, timeout=30).stdout
        self.assertIn("A test hole", out)
        self.assertIn("(FILE) Read me", out)
        self.assertIn("(DIR) Absolute dir", out)
        text = subprocess.run(["lynx", "-dump", "gopher://127.0.0.1:%d/0/readme.txt" %
                               self.server.ports["gopher"]], capture_output=True, text=True,
                              check=True, timeout=30).stdout
        # lynx shows text items as they come; the RFC's dot-stuffing is visible there.
        self.assertIn("dotted line", text)
        self.assertIn("last line without newline", text)

    def test_html_gateway_over_http(self):
        url = "http://127.0.0.1:%d/hole/" % self.server.ports["http1"]
        out = subprocess.run(["curl", "-sS", "-D", "-", "-H", "Host: web", url],
                             capture_output=True, check=True).stdout.decode()
        self.assertIn("Content-Type: text/html; charset=utf-8", out)
        self.assertIn('<a href="/hole/readme.txt">Read me</a>', out)
        self.assertIn('<a href="/hole/sub">Absolute dir</a>', out)
        self.assertIn('<a href="gopher://other.example:7070/1/x">Elsewhere</a>', out)
        self.assertIn('<a href="https://example.org/">Web link</a>', out)
        self.assertIn("plain info line", out)
        # Items link back through the same location; files come through as they are.
        blob = subprocess.run(["curl", "-sS", "-H", "Host: web", url + "blob.bin"],
                              capture_output=True, check=True).stdout
        self.assertEqual(blob, self.binary)
        text = subprocess.run(["curl", "-sS", "-H", "Host: web", url + "readme.txt"],
                              capture_output=True, check=True).stdout
        self.assertTrue(text.startswith(b"line one\n.dotted line\n"))  # raw over HTTP

    def test_server_survives_garbage(self):
        for junk in (os.urandom(500), b"\x00\x01\x02\r\n", b"\t\t\t\r\n"):
            self.gopher(junk)
        self.assertEqual(self.gopher(b"/blob.bin\r\n"), self.binary)

    def test_access_log(self):
        self.gopher(b"/readme.txt\r\n")
        deadline = time.time() + 5
        text = ""
        while time.time() < deadline and '"GOPHER /readme.txt" 200' not in text:
            time.sleep(0.2)
            with open(os.path.join(self.workdir, "access.log")) as f:
                text = f.read()
        self.assertIn('"GOPHER /readme.txt" 200', text)


class RawTextGopherTest(ServerTestCase):
    """GopherTextFraming off: text files go out byte for byte, as Gophernicus sends them."""

    CONFIG = """
<Listen protocol="gopher" address="127.0.0.1" port="0"/>
<GopherTextFraming>off</GopherTextFraming>
<Store>gopher</Store>
<GopherRoot>{root}</GopherRoot>
"""

    @classmethod
    def prepare_site(cls, root):
        with open(os.path.join(root, "t.txt"), "wb") as f:
            f.write(b".dot\nplain\n")

    def test_text_is_sent_raw(self):
        with connect(self.server.ports["gopher"]) as s:
            s.sendall(b"/t.txt\r\n")
            self.assertEqual(recv_until_closed(s), b".dot\nplain\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PublicNameTest(ServerTestCase):
    """Menus name the server by ServerName and by the listener's public_port (port forwarding):
    the name and port clients use, not the ones the server is bound to."""

    GOPHER_PORT = free_port()
    CONFIG = """
<Listen protocol="gopher" address="127.0.0.1" port="%d" public_port="70"/>
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<ServerName>gopher.example.org</ServerName>
<Store>gopher</Store>
<GopherRoot>{root}</GopherRoot>
""" % GOPHER_PORT

    @classmethod
    def prepare_site(cls, root):
        os.makedirs(os.path.join(root, "sub"))
        with open(os.path.join(root, "a.txt"), "w") as f:
            f.write("a\n")

    def test_gopher_menus_give_the_public_name_and_port(self):
        with connect(self.GOPHER_PORT) as s:
            s.sendall(b"/\r\n")
            menu = recv_until_closed(s)
        self.assertIn(b"0a.txt\t/a.txt\tgopher.example.org\t70\r\n", menu)
        self.assertIn(b"1sub\t/sub/\tgopher.example.org\t70\r\n", menu)

    def test_the_html_gateway_still_links_them_here(self):
        result = subprocess.run(["curl", "-sS", self.server.url("/")], capture_output=True,
                                check=True)
        self.assertIn(b'href="/a.txt"', result.stdout)
        self.assertNotIn(b"gopher://", result.stdout)

    def test_a_bad_public_port_is_a_config_error(self):
        config = os.path.join(self.workdir, "bad.xml")
        with open(config, "w") as f:
            f.write('<Collage><Mpm>event</Mpm><Listen protocol="gopher" port="0" '
                    'public_port="70000"/></Collage>')
        result = subprocess.run([os.environ["COLLAGE_BINARY"], "-t", "-f", config],
                                capture_output=True, text=True)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("public_port must be a number from 1 to 65535, got '70000'", result.stderr)


if __name__ == "__main__":
    unittest.main()
