"""File store against the real binary: traversal, symlinks, indexes, listings, MIME types,
conditional requests, byte ranges, PUT and DELETE."""

import os
import subprocess
import sys
import time
import unittest
from email.utils import formatdate

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import ServerTestCase, ResponseReader, connect, exchange, leftovers  # noqa: E402

SECRET = b"TOP-SECRET-DO-NOT-SERVE"

CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<DocumentRoot>{root}</DocumentRoot>
<AddType>md=text/markdown weird=application/x-weird</AddType>
<Location path="/listed">
  <DirectoryListing>on</DirectoryListing>
</Location>
<Location path="/dav">
  <Writable>on</Writable>
  <LimitRequestBody>64k</LimitRequestBody>
</Location>
<Location path="/outside-ok">
  <SymlinksOutsideRoot>on</SymlinksOutsideRoot>
</Location>
"""


class FilesTest(ServerTestCase):
    CONFIG = CONFIG

    @classmethod
    def prepare_site(cls, root):
        parent = os.path.dirname(root)
        with open(os.path.join(parent, "secret.txt"), "wb") as f:
            f.write(SECRET)
        os.makedirs(os.path.join(root, "dir"))
        os.makedirs(os.path.join(root, "listed", "sub"))
        os.makedirs(os.path.join(root, "dav"))
        os.makedirs(os.path.join(root, "outside-ok"))
        with open(os.path.join(root, "dir", "index.html"), "w") as f:
            f.write("dir index\n")
        with open(os.path.join(root, "listed", "<b>&.txt"), "w") as f:
            f.write("x")
        with open(os.path.join(root, "listed", ".hidden"), "w") as f:
            f.write("x")
        with open(os.path.join(root, "notes.md"), "w") as f:
            f.write("# notes\n")
        with open(os.path.join(root, "data.weird"), "w") as f:
            f.write("w")
        with open(os.path.join(root, "noext"), "w") as f:
            f.write("n")
        with open(os.path.join(root, "digits.txt"), "w") as f:
            f.write("0123456789")
        with open(os.path.join(root, "space name.txt"), "w") as f:
            f.write("spaced\n")
        os.symlink(os.path.join(parent, "secret.txt"), os.path.join(root, "escape.txt"))
        os.symlink(os.path.join(parent), os.path.join(root, "escape-dir"))
        os.symlink("digits.txt", os.path.join(root, "inside-link.txt"))
        os.symlink(os.path.join(parent, "secret.txt"), os.path.join(root, "outside-ok", "s.txt"))

    def raw_get(self, target, extra=b""):
        return exchange(self.server.port,
                        b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")

    def curl(self, *args):
        return subprocess.run(["curl", "-sS", *args], capture_output=True, check=True).stdout

    # --- no escape from the root ----------------------------------------------------------------

    def test_traversal_attempts_never_return_the_secret(self):
        targets = [b"/../secret.txt", b"/%2e%2e/secret.txt", b"/%2E%2E/secret.txt",
                   b"/dir/../../secret.txt", b"/dir/%2e%2e/%2e%2e/secret.txt",
                   b"/..%2fsecret.txt", b"/%2e%2e%2fsecret.txt", b"/dir/..%5c..%5csecret.txt",
                   b"/escape.txt", b"/escape-dir/secret.txt", b"//../secret.txt",
                   b"/a.txt%00.html", b"/%00", b"/.%2e/secret.txt", b"/dir/./../../secret.txt",
                   b"http://x/../secret.txt"]
        for target in targets:
            r = self.raw_get(target)
            self.assertNotIn(SECRET, r.body, target)
            self.assertIn(r.status, (400, 403, 404), target)
        # curl normalizes, so use --path-as-is to send the dots as they are.
        out = self.curl("--path-as-is", self.server.url("/../../secret.txt"))
        self.assertNotIn(SECRET, out)
        self.assertIn("COL-FILES-0001", self.server.log())

    def test_symlink_inside_root_is_followed(self):
        self.assertEqual(self.raw_get(b"/inside-link.txt").body, b"0123456789")

    def test_symlink_outside_root_only_when_allowed(self):
        r = self.raw_get(b"/outside-ok/s.txt")
        self.assertEqual((r.status, r.body), (200, SECRET))

    # --- directories ----------------------------------------------------------------------------

    def test_directory_without_slash_redirects(self):
        r = self.raw_get(b"/dir?x=1")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("location"), "/dir/?x=1")

    def test_index_file(self):
        r = self.raw_get(b"/dir/")
        self.assertEqual((r.status, r.body), (200, b"dir index\n"))
        self.assertEqual(r.header("content-type"), "text/html")

    def test_directory_without_index_is_forbidden_unless_listed(self):
        self.assertEqual(self.raw_get(b"/dav/").status, 403)
        r = self.raw_get(b"/listed/")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/html"))
        body = r.body.decode()
        self.assertIn('href="./%3Cb%3E&amp;.txt"', body)
        self.assertIn("&lt;b&gt;&amp;.txt", body)
        self.assertIn('href="./sub/"', body)
        self.assertNotIn(".hidden", body)

    def test_file_with_trailing_slash_is_404(self):
        self.assertEqual(self.raw_get(b"/notes.md/").status, 404)

    def test_encoded_space(self):
        self.assertEqual(self.raw_get(b"/space%20name.txt").body, b"spaced\n")

    # --- media types ----------------------------------------------------------------------------

    def test_media_types(self):
        self.assertEqual(self.raw_get(b"/notes.md").header("content-type"), "text/markdown")
        self.assertEqual(self.raw_get(b"/data.weird").header("content-type"),
                         "application/x-weird")
        self.assertEqual(self.raw_get(b"/noext").header("content-type"),
                         "application/octet-stream")
        self.assertEqual(self.raw_get(b"/digits.txt").header("content-type"), "text/plain")

    # --- validators and conditional requests ---------------------------------------------------

    def test_etag_and_conditionals(self):
        first = self.raw_get(b"/digits.txt")
        etag = first.header("etag").encode()
        modified = first.header("last-modified").encode()
        self.assertTrue(etag.startswith(b'"'))
        self.assertEqual(self.raw_get(b"/digits.txt", b"If-None-Match: " + etag + b"\r\n").status,
                         304)
        self.assertEqual(self.raw_get(b"/digits.txt", b"If-None-Match: W/" + etag + b"\r\n").status,
                         304)
        self.assertEqual(self.raw_get(b"/digits.txt", b'If-None-Match: "other"\r\n').status, 200)
        self.assertEqual(self.raw_get(b"/digits.txt", b"If-Modified-Since: " + modified +
                                      b"\r\n").status, 304)
        old = formatdate(time.time() - 86400 * 365, usegmt=True).encode()
        self.assertEqual(self.raw_get(b"/digits.txt", b"If-Modified-Since: " + old +
                                      b"\r\n").status, 200)
        self.assertEqual(self.raw_get(b"/digits.txt", b'If-Match: "other"\r\n').status, 412)
        self.assertEqual(self.raw_get(b"/digits.txt", b"If-Match: " + etag + b"\r\n").status, 200)
        self.assertEqual(self.raw_get(b"/digits.txt", b"If-Unmodified-Since: " + old +
                                      b"\r\n").status, 412)
        not_modified = self.raw_get(b"/digits.txt", b"If-None-Match: " + etag + b"\r\n")
        self.assertEqual(not_modified.header("etag"), etag.decode())
        self.assertIsNone(not_modified.header("content-length"))

    def test_curl_time_condition(self):
        out = self.curl("-o", "/dev/null", "-w", "%{http_code}", "-z",
                        formatdate(time.time() + 3600, usegmt=True), self.server.url("/digits.txt"))
        self.assertEqual(out, b"304")

    # --- byte ranges ------------------------------------------------------------------------------

    def test_single_range(self):
        r = self.raw_get(b"/digits.txt", b"Range: bytes=2-4\r\n")
        self.assertEqual((r.status, r.body), (206, b"234"))
        self.assertEqual(r.header("content-range"), "bytes 2-4/10")
        r = self.raw_get(b"/digits.txt", b"Range: bytes=-3\r\n")
        self.assertEqual(r.body, b"789")
        r = self.raw_get(b"/digits.txt", b"Range: bytes=7-\r\n")
        self.assertEqual(r.body, b"789")
        r = self.raw_get(b"/digits.txt", b"Range: bytes=5-100\r\n")
        self.assertEqual((r.body, r.header("content-range")), (b"56789", "bytes 5-9/10"))

    def test_range_with_curl(self):
        self.assertEqual(self.curl("-r", "0-3", self.server.url("/digits.txt")), b"0123")

    def test_multiple_ranges(self):
        r = self.raw_get(b"/digits.txt", b"Range: bytes=0-1,5-6\r\n")
        self.assertEqual(r.status, 206)
        ctype = r.header("content-type")
        self.assertTrue(ctype.startswith("multipart/byteranges; boundary="))
        boundary = ctype.split("boundary=")[1].encode()
        self.assertEqual(int(r.header("content-length")), len(r.body))
        parts = r.body.split(b"--" + boundary)
        self.assertEqual(len(parts), 4)  # preamble, two parts, closing "--"
        self.assertIn(b"Content-Range: bytes 0-1/10\r\n\r\n01\r\n", parts[1])
        self.assertIn(b"Content-Range: bytes 5-6/10\r\n\r\n56\r\n", parts[2])
        self.assertTrue(parts[3].startswith(b"--"))

    def test_unsatisfiable_range(self):
        r = self.raw_get(b"/digits.txt", b"Range: bytes=50-60\r\n")
        self.assertEqual(r.status, 416)
        self.assertEqual(r.header("content-range"), "bytes */10")

    def test_malformed_range_is_ignored(self):
        for value in (b"bytes=5-2", b"lines=1-2", b"bytes=a-b", b"bytes="):
            r = self.raw_get(b"/digits.txt", b"Range: " + value + b"\r\n")
            self.assertEqual((r.status, r.body), (200, b"0123456789"), value)

    def test_if_range(self):
        etag = self.raw_get(b"/digits.txt").header("etag").encode()
        r = self.raw_get(b"/digits.txt", b"Range: bytes=0-1\r\nIf-Range: " + etag + b"\r\n")
        self.assertEqual(r.status, 206)
        r = self.raw_get(b"/digits.txt", b'Range: bytes=0-1\r\nIf-Range: "stale"\r\n')
        self.assertEqual((r.status, r.body), (200, b"0123456789"))

    def test_range_on_head_is_ignored(self):
        with connect(self.server.port) as s:
            s.sendall(b"HEAD /digits.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\n")
            r = ResponseReader(s).read(head_request=True)
            self.assertEqual((r.status, r.header("content-length")), (200, "10"))

    # --- writing ---------------------------------------------------------------------------------

    def test_put_get_delete_round_trip(self):
        payload = os.urandom(40000)
        r = exchange(self.server.port, b"PUT /dav/blob.bin HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(payload) + payload)
        self.assertEqual(r.status, 201)
        self.assertEqual(r.header("location"), "/dav/blob.bin")
        self.assertEqual(self.raw_get(b"/dav/blob.bin").body, payload)
        r = exchange(self.server.port, b"PUT /dav/blob.bin HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 3\r\n\r\nnew")
        self.assertEqual(r.status, 204)
        self.assertEqual(self.raw_get(b"/dav/blob.bin").body, b"new")
        r = exchange(self.server.port, b"DELETE /dav/blob.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(r.status, 204)
        self.assertEqual(self.raw_get(b"/dav/blob.bin").status, 404)
        r = exchange(self.server.port, b"DELETE /dav/blob.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(r.status, 404)

    def test_put_with_curl(self):
        path = os.path.join(self.workdir, "upload-source.txt")
        with open(path, "wb") as f:
            f.write(b"uploaded with curl\n")
        code = self.curl("-o", "/dev/null", "-w", "%{http_code}", "-T", path,
                         self.server.url("/dav/curl.txt"))
        self.assertEqual(code, b"201")
        self.assertEqual(self.curl(self.server.url("/dav/curl.txt")), b"uploaded with curl\n")

    def test_put_preconditions(self):
        exchange(self.server.port, b"PUT /dav/cond.txt HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: 1\r\n\r\na")
        r = exchange(self.server.port, b"PUT /dav/cond.txt HTTP/1.1\r\nHost: x\r\n"
                     b"If-None-Match: *\r\nContent-Length: 1\r\n\r\nb")
        self.assertEqual(r.status, 412)
        r = exchange(self.server.port, b"PUT /dav/cond.txt HTTP/1.1\r\nHost: x\r\n"
                     b'If-Match: "nope"\r\nContent-Length: 1\r\n\r\nb')
        self.assertEqual(r.status, 412)
        self.assertEqual(self.raw_get(b"/dav/cond.txt").body, b"a")

    def test_put_into_missing_directory_is_409(self):
        r = exchange(self.server.port, b"PUT /dav/no/such/file HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 1\r\n\r\na")
        self.assertEqual(r.status, 409)

    def test_put_outside_writable_location_is_405(self):
        r = exchange(self.server.port, b"PUT /new.txt HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 1\r\n\r\na")
        self.assertEqual(r.status, 405)
        self.assertFalse(os.path.exists(os.path.join(self.root, "new.txt")))

    def test_aborted_upload_leaves_nothing_behind(self):
        with connect(self.server.port) as s:
            s.sendall(b"PUT /dav/partial.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n" +
                      b"x" * 20000)
            time.sleep(0.3)
        self.assertEqual(leftovers(os.path.join(self.root, "dav"),
                                   lambda n: n.startswith(".collage-tmp") or n == "partial.bin"),
                         [])

    def test_temp_files_are_never_served(self):
        with open(os.path.join(self.root, "dav", ".collage-tmp-0000"), "w") as f:
            f.write("in flight")
        self.assertEqual(self.raw_get(b"/dav/.collage-tmp-0000").status, 404)

    def test_delete_directory(self):
        os.makedirs(os.path.join(self.root, "dav", "full"))
        with open(os.path.join(self.root, "dav", "full", "f"), "w") as f:
            f.write("f")
        os.makedirs(os.path.join(self.root, "dav", "empty"))
        r = exchange(self.server.port, b"DELETE /dav/full HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(r.status, 409)
        r = exchange(self.server.port, b"DELETE /dav/empty/ HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(r.status, 204)
        self.assertFalse(os.path.exists(os.path.join(self.root, "dav", "empty")))

    def test_idle_keep_alive_connection_holds_no_open_file(self):
        # Regression: the last response's file stayed open until the next request.
        with connect(self.server.port) as s:
            s.sendall(b"GET /digits.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(ResponseReader(s).read().body, b"0123456789")
            time.sleep(0.2)
            fd_dir = "/proc/%d/fd" % self.server.process.pid
            targets = [os.readlink(os.path.join(fd_dir, fd)) for fd in os.listdir(fd_dir)]
            self.assertNotIn(os.path.join(self.root, "digits.txt"), targets)

    def test_large_file_via_sendfile(self):
        path = os.path.join(self.root, "large.bin")
        data = os.urandom(8 * 1024 * 1024 + 123)
        with open(path, "wb") as f:
            f.write(data)
        out = self.curl(self.server.url("/large.bin"))
        self.assertEqual(out, data)
        r = self.raw_get(b"/large.bin", b"Range: bytes=5000000-5000009\r\n")
        self.assertEqual(r.body, data[5000000:5000010])


class OpenFileCacheTest(ServerTestCase):
    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<DocumentRoot>{root}</DocumentRoot>
<OpenFileCacheValid>400ms</OpenFileCacheValid>
<Location path="/dav">
  <Writable>on</Writable>
</Location>
"""

    @classmethod
    def prepare_site(cls, root):
        os.makedirs(os.path.join(root, "dav"))
        for name in ("dav/page.txt", "outside.txt"):
            with open(os.path.join(root, name), "w") as f:
                f.write("first\n")

    def get(self, path):
        reply = exchange(self.server.port, b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         b"\r\n" % path.encode())
        return reply.status, reply.body

    def open_copies(self, name):
        """How many descriptors the children hold on the file `name` right now."""
        target = os.path.realpath(os.path.join(self.root, name))
        count = 0
        for pid in self.server.children():
            directory = "/proc/%d/fd" % pid
            for fd in os.listdir(directory):
                try:
                    count += os.readlink(os.path.join(directory, fd)) == target
                except OSError:
                    pass
        return count

    def test_a_write_through_collage_is_seen_at_once(self):
        self.assertEqual(self.get("/dav/page.txt"), (200, b"first\n"))
        reply = exchange(self.server.port, b"PUT /dav/page.txt HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 7\r\nConnection: close\r\n\r\nsecond\n")
        self.assertIn(reply.status, (200, 201, 204))
        self.assertEqual(self.get("/dav/page.txt"), (200, b"second\n"))
        exchange(self.server.port, b"DELETE /dav/page.txt HTTP/1.1\r\nHost: x\r\n"
                 b"Connection: close\r\n\r\n")
        self.assertEqual(self.get("/dav/page.txt")[0], 404)

    def test_a_change_behind_the_servers_back_shows_after_the_validity(self):
        self.assertEqual(self.get("/outside.txt"), (200, b"first\n"))
        path = os.path.join(self.root, "outside.txt")
        with open(path + ".new", "w") as f:
            f.write("replaced\n")
        os.rename(path + ".new", path)
        time.sleep(0.6)
        self.assertEqual(self.get("/outside.txt"), (200, b"replaced\n"))

    def test_repeated_requests_reuse_the_open_file(self):
        time.sleep(0.5)  # whatever an earlier test left cached has expired
        for _ in range(20):
            self.assertEqual(self.get("/outside.txt")[0], 200)
        # Between requests the file stays open, not once per request: one copy per thread or
        # child that served it (the cache is per thread; the event MPM has one).
        copies = self.open_copies("outside.txt")
        self.assertGreaterEqual(copies, 1)
        self.assertLessEqual(copies, 4)


class VirtualHostTest(ServerTestCase):
    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<VirtualHost name="first.test">
  <DocumentRoot>{root}/first</DocumentRoot>
</VirtualHost>
<VirtualHost name="second.test">
  <ServerAlias>www.second.test</ServerAlias>
  <DocumentRoot>{root}/second</DocumentRoot>
  <Location path="/docs">
    <DocumentRoot>{root}/docs</DocumentRoot>
  </Location>
</VirtualHost>
"""

    @classmethod
    def prepare_site(cls, root):
        for name in ("first", "second", "docs/docs"):
            os.makedirs(os.path.join(root, name))
        for name, text in (("first/who.txt", "first"), ("second/who.txt", "second"),
                           ("docs/docs/who.txt", "docs"), ("second/docsx", "not docs")):
            with open(os.path.join(root, name), "w") as f:
                f.write(text)

    def who(self, host, path=b"/who.txt"):
        return exchange(self.server.port, b"GET " + path + b" HTTP/1.1\r\nHost: " + host +
                        b"\r\n\r\n").body

    def test_host_picks_virtual_host(self):
        self.assertEqual(self.who(b"first.test"), b"first")
        self.assertEqual(self.who(b"second.test"), b"second")
        self.assertEqual(self.who(b"SECOND.test:8080"), b"second")
        self.assertEqual(self.who(b"www.second.test."), b"second")

    def test_unknown_host_gets_first_virtual_host(self):
        self.assertEqual(self.who(b"other.test"), b"first")

    def test_longest_prefix_location_on_whole_segments(self):
        self.assertEqual(self.who(b"second.test", b"/docs/who.txt"), b"docs")
        self.assertEqual(self.who(b"second.test", b"/docsx"), b"not docs")


if __name__ == "__main__":
    unittest.main()
