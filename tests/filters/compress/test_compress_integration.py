"""The compression filter and precompressed files against the real binary, with curl over
HTTP/1.1 and HTTP/2: the coding chosen by Accept-Encoding q-values, what is left uncompressed
(small, already-coded types, ranges, no-transform, unacceptable codings), Vary, variant ETags and
their conditional requests, and file.br / file.gz siblings, fresh and stale."""

import gzip
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import ServerTestCase  # noqa: E402

PAGE = "".join("<p>paragraph %d of a page that compresses well</p>\n" % i for i in range(400))

NO_TRANSFORM = """#!/bin/sh
printf 'Content-Type: text/html\\nCache-Control: no-transform\\n\\n'
i=0; while [ $i -lt 200 ]; do echo "<p>no transform $i</p>"; i=$((i+1)); done
"""


def curl(*args, data=None):
    result = subprocess.run(["curl", "-s", "-D", "-", *args], capture_output=True, input=data)
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 100"):
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def unbrotli(data):
    return subprocess.run(["brotli", "-d", "-c"], input=data, capture_output=True,
                          check=True).stdout


class CompressTest(ServerTestCase):
    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<DocumentRoot>{root}</DocumentRoot>
<Filters>compress</Filters>
<Location path="/static"><PrecompressedFiles>on</PrecompressedFiles></Location>
<Location path="/cgi-bin"><Store>cgi</Store><CgiRoot>{dir}/cgi-bin</CgiRoot></Location>
"""

    @classmethod
    def prepare_site(cls, root):
        with open(os.path.join(root, "page.html"), "w") as f:
            f.write(PAGE)
        with open(os.path.join(root, "tiny.html"), "w") as f:
            f.write("<p>tiny</p>\n")
        with open(os.path.join(root, "image.png"), "wb") as f:
            f.write(b"\x89PNG" + b"\0" * 5000)
        os.makedirs(os.path.join(root, "static"))
        for name in ("fresh.css", "stale.css"):
            with open(os.path.join(root, "static", name), "w") as f:
                f.write("body { color: red }\n" * 100)
        with open(os.path.join(root, "static", "fresh.css.gz"), "wb") as f:
            f.write(gzip.compress(b"precompressed gzip\n"))
        with open(os.path.join(root, "static", "fresh.css.br"), "wb") as f:
            f.write(subprocess.run(["brotli", "-c"], input=b"precompressed br\n",
                                   capture_output=True, check=True).stdout)
        stale = os.path.join(root, "static", "stale.css.gz")
        with open(stale, "wb") as f:
            f.write(gzip.compress(b"stale sibling\n"))
        past = time.time() - 3600
        os.utime(stale, (past, past))
        scripts = os.path.join(os.path.dirname(root), "cgi-bin")
        os.makedirs(scripts)
        with open(os.path.join(scripts, "notransform.sh"), "w") as f:
            f.write(NO_TRANSFORM)
        os.chmod(os.path.join(scripts, "notransform.sh"), 0o755)

    def test_coding_follows_accept_encoding_q_values(self):
        url = self.server.url("/page.html")
        for accept, expected in (("gzip", "gzip"), ("br", "br"), ("gzip, br", "br"),
                                 ("br;q=0.5, gzip", "gzip"), ("*", "br"),
                                 ("br;q=0, *;q=0.1", "gzip"), ("identity", None),
                                 ("gzip;q=0, br;q=0", None), ("deflate", None)):
            status, headers, body = curl("-H", "Accept-Encoding: " + accept, url)
            self.assertEqual(status, 200, accept)
            self.assertEqual(headers.get("content-encoding"), expected, accept)
            self.assertIn("Accept-Encoding", headers.get("vary", ""), accept)
            decoded = {None: lambda b: b, "gzip": gzip.decompress, "br": unbrotli}[expected](body)
            self.assertEqual(decoded.decode(), PAGE, accept)
            if expected:
                self.assertLess(len(body), len(PAGE) // 4)
                self.assertNotIn("content-length", headers)

    def test_over_http2_too(self):
        status, headers, body = curl("--http2-prior-knowledge", "-H", "Accept-Encoding: br",
                                     self.server.url("/page.html"))
        self.assertEqual((status, headers.get("content-encoding")), (200, "br"))
        self.assertEqual(unbrotli(body).decode(), PAGE)

    def test_what_stays_uncompressed(self):
        gz = ("-H", "Accept-Encoding: gzip, br")
        self.assertNotIn("content-encoding", curl(*gz, self.server.url("/tiny.html"))[1])
        self.assertNotIn("content-encoding", curl(*gz, self.server.url("/image.png"))[1])
        status, headers, body = curl(*gz, "-H", "Range: bytes=0-9", self.server.url("/page.html"))
        self.assertEqual((status, body), (206, PAGE[:10].encode()))
        self.assertNotIn("content-encoding", headers)
        status, headers, body = curl(*gz, self.server.url("/cgi-bin/notransform.sh"))
        self.assertEqual(status, 200)
        self.assertNotIn("content-encoding", headers)
        self.assertIn(b"<p>no transform 199</p>", body)

    def test_variant_etags_and_conditional_requests(self):
        url = self.server.url("/page.html")
        _, identity, _ = curl(url)
        _, gzipped, _ = curl("-H", "Accept-Encoding: gzip", url)
        _, brotli, _ = curl("-H", "Accept-Encoding: br", url)
        etags = {identity["etag"], gzipped["etag"], brotli["etag"]}
        self.assertEqual(len(etags), 3)
        self.assertTrue(gzipped["etag"].endswith('-gzip"'))
        status, _, body = curl("-H", "Accept-Encoding: gzip", "-H",
                               "If-None-Match: " + gzipped["etag"], url)
        self.assertEqual((status, body), (304, b""))
        status, _, _ = curl("-H", "Accept-Encoding: br", "-H",
                            "If-None-Match: " + gzipped["etag"], url)
        self.assertEqual(status, 200)  # another variant's tag does not match
        status, headers, body = curl("-I", "-H", "Accept-Encoding: gzip", url)
        self.assertEqual((status, headers.get("content-encoding")), (200, "gzip"))

    def test_precompressed_siblings(self):
        url = self.server.url("/static/fresh.css")
        status, headers, body = curl("-H", "Accept-Encoding: br, gzip", url)
        self.assertEqual((status, headers["content-encoding"]), (200, "br"))
        self.assertEqual(unbrotli(body), b"precompressed br\n")
        self.assertEqual(headers["content-type"], "text/css")
        self.assertIn("Accept-Encoding", headers["vary"])
        self.assertEqual(headers["content-length"], str(len(body)))
        status, headers, body = curl("-H", "Accept-Encoding: gzip", url)
        self.assertEqual(gzip.decompress(body), b"precompressed gzip\n")
        status, headers, body = curl(url)
        self.assertNotIn("content-encoding", headers)
        self.assertEqual(body, b"body { color: red }\n" * 100)
        self.assertIn("Accept-Encoding", headers["vary"])
        # A sibling older than its file is ignored; the filter compresses the file itself.
        status, headers, body = curl("-H", "Accept-Encoding: gzip",
                                     self.server.url("/static/stale.css"))
        self.assertEqual(gzip.decompress(body), b"body { color: red }\n" * 100)


if __name__ == "__main__":
    unittest.main()
