"""<Include>: files and sorted globs relative to the including file, in the server, a virtual
host and a location; what they hold stands where the <Include> is (collage -T shows the result);
errors point into the included file; a missing file, a cycle (with its chain), a wrong root and
a file in the wrong context are refused; a server started from included pieces serves them."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import BINARY, CollageServer, http_request  # noqa: E402


class IncludeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="collage-include-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.makedirs(os.path.join(self.dir, "conf.d"))
        os.makedirs(os.path.join(self.dir, "site"))

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text.replace("{dir}", self.dir))
        return path

    def run_collage(self, *args):
        return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30)

    def test_pieces_stand_where_they_are_included_in_sorted_order(self):
        self.write("conf.d/20-second.xml", "<Collage><Location path=\"/b\"><Header>set X-B 2"
                   "</Header></Location></Collage>")
        self.write("conf.d/10-first.xml", "<Collage><Location path=\"/a\"><Header>set X-A 1"
                   "</Header></Location></Collage>")
        self.write("conf.d/notes.txt", "not configuration")
        self.write("limits.xml", "<Collage><KeepAliveTimeout>7s</KeepAliveTimeout></Collage>")
        self.write("location.xml", "<Collage><DirectoryListing>on</DirectoryListing></Collage>")
        main = self.write("main.xml", """<Collage>
  <Mpm>event</Mpm>
  <Listen protocol="http1" address="127.0.0.1" port="0"/>
  <Include path="limits.xml"/>
  <VirtualHost name="v">
    <DocumentRoot>{dir}/site</DocumentRoot>
    <Include path="conf.d/*.xml"/>
    <Include path="conf.d/*.none"/>
    <Location path="/c">
      <Include path="{dir}/location.xml"/>
    </Location>
  </VirtualHost>
</Collage>""")
        result = self.run_collage("-T", "-f", main)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout
        self.assertIn("<KeepAliveTimeout>7s</KeepAliveTimeout>", out)
        self.assertLess(out.index('<Location path="/a">'), out.index('<Location path="/b">'))
        self.assertIn("<Header>set X-A 1</Header>", out)
        self.assertIn('<Location path="/c">\n      <DirectoryListing>on</DirectoryListing>', out)

    def test_errors_point_into_the_included_file(self):
        piece = self.write("piece.xml", "<Collage>\n\n<KeepAliveTimeout>soon</KeepAliveTimeout>\n"
                           "</Collage>\n")
        main = self.write("main.xml", "<Collage><Mpm>event</Mpm><Include path=\"piece.xml\"/>"
                          "</Collage>")
        result = self.run_collage("-t", "-f", main)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(piece + ":3:1: KeepAliveTimeout expects a duration", result.stderr)

    def test_what_is_refused(self):
        self.write("a.xml", "<Collage><Include path=\"b.xml\"/></Collage>")
        self.write("b.xml", "<Collage><Include path=\"a.xml\"/></Collage>")
        self.write("wrong-root.xml", "<Config><KeepAliveTimeout>5s</KeepAliveTimeout></Config>")
        self.write("server-only.xml", "<Collage><Mpm>event</Mpm></Collage>")
        self.write("broken.xml", "<Collage><KeepAliveTimeout>5s</Collage>")
        cases = {
            "<Include path=\"missing.xml\"/>": "cannot read the included file",
            "<Include path=\"a.xml\"/>": "an Include cycle: ",
            "<Include path=\"wrong-root.xml\"/>": "root element of an included file must be",
            "<Location path=\"/x\"><Include path=\"server-only.xml\"/></Location>":
                "Mpm is not allowed in",
            "<Include path=\"broken.xml\"/>": "broken.xml:1: XML is not well-formed",
            "<Include/>": "<Include> needs a 'path' attribute",
            "<Include path=\"/dev/zero\"/>": "/dev/zero is not a regular file",
            "<Include path=\"conf.d\"/>": "is not a regular file",
        }
        for fragment, message in cases.items():
            with self.subTest(fragment=fragment):
                main = self.write("main.xml", "<Collage>\n<Mpm>event</Mpm>\n%s\n</Collage>\n"
                                  % fragment)
                result = self.run_collage("-t", "-f", main)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(message, result.stderr)
        result = self.run_collage("-t", "-f", self.write(
            "main.xml", "<Collage><Mpm>event</Mpm><Include path=\"a.xml\"/></Collage>"))
        # The chain names every file on the way round.
        self.assertRegex(result.stderr, r"main\.xml -> .*a\.xml -> .*b\.xml -> .*a\.xml")

    def test_a_server_serves_what_included_files_configure(self):
        with open(os.path.join(self.dir, "site", "page.txt"), "w") as f:
            f.write("included\n")
        self.write("conf.d/host.xml", "<Collage><DocumentRoot>{dir}/site</DocumentRoot>"
                   "<Header>set X-From included-file</Header></Collage>")
        server = CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<VirtualHost name="localhost">
  <Include path="conf.d/*.xml"/>
</VirtualHost>
""", workdir=self.dir)
        try:
            status, headers, body = http_request(server.port, "/page.txt")
            self.assertEqual((status, body), (200, b"included\n"))
            self.assertEqual(headers["x-from"], "included-file")
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
