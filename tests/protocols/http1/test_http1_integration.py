"""HTTP/1.1 front end against the real binary: curl and raw sockets."""

import os
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import (ServerTestCase, ResponseReader, closed_by_peer, connect,  # noqa: E402
                            exchange, leftovers, recv_until_closed)

CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<AccessLog>{dir}/access.log</AccessLog>
<LogLevel>debug</LogLevel>
<RequestHeaderTimeout>1s</RequestHeaderTimeout>
<KeepAliveTimeout>2s</KeepAliveTimeout>
<RequestBodyTimeout>1s</RequestBodyTimeout>
<LimitRequestLine>1024</LimitRequestLine>
<LimitRequestFieldSize>1024</LimitRequestFieldSize>
<LimitRequestFields>20</LimitRequestFields>
<DocumentRoot>{root}</DocumentRoot>
<Location path="/upload">
  <Writable>on</Writable>
  <LimitRequestBody>1k</LimitRequestBody>
</Location>
"""


class Http1Test(ServerTestCase):
    CONFIG = CONFIG

    @classmethod
    def prepare_site(cls, root):
        with open(os.path.join(root, "index.html"), "w") as f:
            f.write("<h1>home</h1>\n")
        with open(os.path.join(root, "a.txt"), "w") as f:
            f.write("alpha\n")
        with open(os.path.join(root, "b.txt"), "w") as f:
            f.write("bravo bravo\n")
        os.makedirs(os.path.join(root, "upload"))

    def get(self, raw, **kw):
        return exchange(self.server.port, raw, **kw)

    # --- the happy paths -------------------------------------------------------------------

    def test_get_with_curl(self):
        out = subprocess.run(["curl", "-sS", "-D", "-", self.server.url("/a.txt")],
                             capture_output=True, check=True).stdout
        self.assertTrue(out.startswith(b"HTTP/1.1 200 OK\r\n"), out)
        self.assertIn(b"Content-Length: 6\r\n", out)
        self.assertIn(b"Content-Type: text/plain\r\n", out)
        self.assertTrue(out.endswith(b"\r\n\r\nalpha\n"))

    def test_head_has_length_but_no_body(self):
        with connect(self.server.port) as s:
            s.sendall(b"HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            reader = ResponseReader(s)
            head = reader.read(head_request=True)
            self.assertEqual(head.status, 200)
            self.assertEqual(head.header("content-length"), "6")
            # The next response follows directly: HEAD sent no body bytes.
            following = reader.read()
            self.assertEqual(following.body, b"bravo bravo\n")

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        with connect(self.server.port) as s:
            reader = ResponseReader(s)
            for _ in range(5):
                s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                r = reader.read()
                self.assertEqual((r.status, r.body), (200, b"alpha\n"))
                self.assertIsNone(r.header("connection"))

    def test_pipelined_requests_answer_in_order(self):
        with connect(self.server.port) as s:
            s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            reader = ResponseReader(s)
            self.assertEqual(reader.read().body, b"alpha\n")
            self.assertEqual(reader.read().status, 404)
            self.assertEqual(reader.read().body, b"bravo bravo\n")

    def test_request_split_into_single_bytes(self):
        with connect(self.server.port) as s:
            for byte in b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n":
                s.sendall(bytes([byte]))
            self.assertEqual(ResponseReader(s).read().body, b"alpha\n")

    def test_http10_closes_unless_keep_alive(self):
        with connect(self.server.port) as s:
            s.sendall(b"GET /a.txt HTTP/1.0\r\n\r\n")
            raw = recv_until_closed(s)
            self.assertTrue(raw.startswith(b"HTTP/1.1 200 OK"))
            self.assertIn(b"Connection: close", raw)
            self.assertTrue(raw.endswith(b"alpha\n"))
        with connect(self.server.port) as s:
            s.sendall(b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = ResponseReader(s).read()
            self.assertEqual(r.header("connection"), "keep-alive")
            s.sendall(b"GET /b.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            self.assertEqual(ResponseReader(s).read().body, b"bravo bravo\n")

    def test_connection_close_is_honoured(self):
        with connect(self.server.port) as s:
            s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            raw = recv_until_closed(s)
            self.assertIn(b"Connection: close\r\n", raw)
            self.assertTrue(raw.endswith(b"alpha\n"))

    def test_absolute_form_target(self):
        r = self.get(b"GET http://example.org/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual((r.status, r.body), (200, b"alpha\n"))

    def test_options_star_and_options_path(self):
        r = self.get(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(r.status, 200)
        for method in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE"):
            self.assertIn(method, r.header("allow"))
        r = self.get(b"OPTIONS /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("allow"), "GET, HEAD, OPTIONS")

    def test_percent_decoding_and_dot_segments(self):
        self.assertEqual(self.get(b"GET /%61.txt HTTP/1.1\r\nHost: x\r\n\r\n").body, b"alpha\n")
        self.assertEqual(self.get(b"GET /upload/../a.txt HTTP/1.1\r\nHost: x\r\n\r\n").body,
                         b"alpha\n")
        self.assertEqual(self.get(b"GET /./b.txt HTTP/1.1\r\nHost: x\r\n\r\n").body,
                         b"bravo bravo\n")

    def test_chunked_upload_and_chunked_trailers(self):
        body = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: yes\r\n\r\n"
        r = self.get(b"PUT /upload/chunked.txt HTTP/1.1\r\nHost: x\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + body)
        self.assertIn(r.status, (201, 204))
        with open(os.path.join(self.root, "upload", "chunked.txt"), "rb") as f:
            self.assertEqual(f.read(), b"hello world")

    def test_expect_100_continue(self):
        with connect(self.server.port) as s:
            s.sendall(b"PUT /upload/expect.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                      b"Expect: 100-continue\r\n\r\n")
            interim = s.recv(1024)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim)
            s.sendall(b"data")
            r = ResponseReader(s).read()
            self.assertIn(r.status, (201, 204))

    def test_expect_100_continue_not_sent_when_refused(self):
        # Too large: the answer is final at once, no invitation to send the body.
        r = self.get(b"PUT /upload/big.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        self.assertEqual(r.status, 413)
        r = self.get(b"PUT /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "GET, HEAD, OPTIONS")

    def test_access_log_has_combined_format(self):
        subprocess.run(["curl", "-s", "-o", "/dev/null", "-A", "tester/1.0", "-e", "http://ref/",
                        self.server.url("/a.txt?q=1")], check=True)
        deadline = time.time() + 5
        line = ""
        while time.time() < deadline and "tester/1.0" not in line:
            time.sleep(0.2)
            with open(os.path.join(self.workdir, "access.log")) as f:
                line = [ln for ln in f.read().splitlines() if "tester/1.0" in ln][-1:] or [""]
                line = line[0]
        self.assertRegex(line, r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
                               r'"GET /a\.txt\?q=1 HTTP/1\.1" 200 6 "http://ref/" "tester/1\.0"$')

    # --- request bodies the store does not read ----------------------------------------------

    def test_unread_bodies_are_dropped_and_the_connection_kept(self):
        """Regression: a GET or HEAD with a body closed the connection and dropped the request
        pipelined behind it. Every method a static location answers without reading, with every
        body framing (coding names in any letter case), keeps the connection."""
        framings = {
            "content-length": (b"Content-Length: 11\r\n", b"hello world"),
            "chunked": (b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "CHUNKED": (b"Transfer-Encoding: CHUNKED\r\n", b"b\r\nhello world\r\n0\r\n\r\n"),
            "Chunked with trailer": (b"Transfer-Encoding: Chunked\r\n",
                                     b"1\r\nx\r\n0\r\nX-Check: 1\r\n\r\n"),
        }
        methods = {"GET": 200, "HEAD": 200, "POST": 405, "DELETE": 405, "OPTIONS": 200}
        for method, status in methods.items():
            for name, (field, body) in framings.items():
                with self.subTest(method=method, framing=name), connect(self.server.port) as s:
                    s.sendall(method.encode() + b" /a.txt HTTP/1.1\r\nHost: x\r\n" + field +
                              b"\r\n" + body + b"GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                    reader = ResponseReader(s)
                    first = reader.read(head_request=method == "HEAD")
                    self.assertEqual(first.status, status)
                    self.assertIsNone(first.header("connection"))
                    second = reader.read()
                    self.assertEqual((second.status, second.body), (200, b"bravo bravo\n"))

    def test_bare_lf_in_an_unread_chunked_body_is_a_400(self):
        for body in (b"5\nhello\r\n0\r\n\r\n", b"5\r\nhello\n0\r\n\r\n"):
            with self.subTest(body=body):
                self.assert_status(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n"
                                   b"Transfer-Encoding: chunked\r\n\r\n" + body, 400)

    def test_large_unread_body_is_answered_then_closed(self):
        size = 3 * 1024 * 1024
        with connect(self.server.port) as s:
            s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
            sent = 0
            try:
                while sent < size:
                    s.sendall(b"z" * 65536)
                    sent += 65536
            except (BrokenPipeError, ConnectionResetError):
                pass
            r = ResponseReader(s).read()
            self.assertEqual((r.status, r.body), (200, b"alpha\n"))
            self.assertEqual(r.header("connection"), "close")

    def test_unread_body_behind_expect_continue_closes(self):
        # The client waits for 100 Continue that never comes: its body is not asked for.
        with connect(self.server.port) as s:
            s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      b"Expect: 100-continue\r\n\r\n")
            r = ResponseReader(s).read()
            self.assertEqual((r.status, r.header("connection")), (200, "close"))

    # --- bad input gets the right code, and the server stays up -----------------------------

    def assert_status(self, raw, status, closes=True):
        with connect(self.server.port) as s:
            s.sendall(raw)
            r = ResponseReader(s).read()
            self.assertEqual(r.status, status, raw)
            if closes:
                self.assertEqual(r.header("connection"), "close")
                self.assertTrue(closed_by_peer(s))
        return r

    def test_missing_host_in_http11(self):
        self.assert_status(b"GET / HTTP/1.1\r\n\r\n", 400)

    def test_two_host_fields(self):
        self.assert_status(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)

    def test_malformed_request_lines(self):
        for raw in (b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
                    b"GET /\r\nHost: x\r\n\r\n",
                    b"GET / HTTX/1.1\r\nHost: x\r\n\r\n",
                    b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET a.txt HTTP/1.1\r\nHost: x\r\n\r\n"):
            self.assert_status(raw, 400)

    def test_bad_header_fields(self):
        for raw in (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nName : v\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n"):
            self.assert_status(raw, 400)

    def test_obs_fold_is_refused(self):
        self.assert_status(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n  two\r\n\r\n", 400)

    def test_content_length_and_transfer_encoding_together(self):
        self.assert_status(b"PUT /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)

    def test_differing_duplicate_content_length(self):
        self.assert_status(b"PUT /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                           b"Content-Length: 4\r\n\r\nabcd", 400)
        self.assert_status(b"PUT /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\n"
                           b"abcd", 400)

    def test_same_duplicate_content_length_is_accepted(self):
        r = self.get(b"PUT /upload/dup.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                     b"Content-Length: 3\r\n\r\nabc")
        self.assertIn(r.status, (201, 204))

    def test_bad_content_length(self):
        for value in (b"-1", b"1x", b"", b"99999999999999999999999"):
            self.assert_status(b"PUT /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: " + value +
                               b"\r\n\r\n", 400)

    def test_bad_chunk_size(self):
        for body in (b"zz\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloXX0\r\n\r\n",
                     b"fffffffffffffffffff\r\n", b"5\nhello\r\n0\r\n\r\n"):
            self.assert_status(b"PUT /upload/c.txt HTTP/1.1\r\nHost: x\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\n" + body, 400)
        self.assertEqual(leftovers(os.path.join(self.root, "upload"),
                                   lambda n: n.startswith(".") or n == "c.txt"), [])

    def test_transfer_encoding_not_ending_in_chunked(self):
        self.assert_status(b"PUT /upload/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                           400)

    def test_unknown_transfer_coding(self):
        self.assert_status(b"PUT /upload/x HTTP/1.1\r\nHost: x\r\n"
                           b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501)

    def test_transfer_encoding_in_http10(self):
        self.assert_status(b"PUT /upload/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"0\r\n\r\n", 400)

    def test_length_required(self):
        self.assert_status(b"PUT /upload/x HTTP/1.1\r\nHost: x\r\n\r\n", 411)

    def test_body_too_large(self):
        self.assert_status(b"PUT /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n",
                           413)
        # Chunked bodies are counted as they arrive; nothing is left behind.
        chunk = b"%x\r\n%s\r\n" % (800, b"a" * 800)
        self.assert_status(b"PUT /upload/chunky.txt HTTP/1.1\r\nHost: x\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n" + chunk + chunk + b"0\r\n\r\n",
                           413)
        self.assertEqual(leftovers(os.path.join(self.root, "upload"),
                                   lambda n: n.startswith(".") or n == "chunky.txt"), [])

    def test_uri_too_long(self):
        self.assert_status(b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)

    def test_header_too_large_and_too_many(self):
        self.assert_status(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 2000 + b"\r\n\r\n",
                           431)
        many = b"".join(b"X-%d: v\r\n" % i for i in range(30))
        self.assert_status(b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n", 431)

    def test_unsupported_version(self):
        self.assert_status(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505)
        self.assert_status(b"GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505)

    def test_unknown_method_is_501_and_known_disallowed_is_405(self):
        self.assert_status(b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 501)
        r = self.assert_status(b"DELETE /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 405, closes=False)
        self.assertEqual(r.header("allow"), "GET, HEAD, OPTIONS")
        self.assert_status(b"POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405,
                           closes=False)

    def test_unsupported_expectation(self):
        self.assert_status(b"GET / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n", 417)

    def test_not_found(self):
        self.assert_status(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, closes=False)

    def test_slow_header_sender_gets_408_and_is_dropped(self):
        with connect(self.server.port, timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            start = time.time()
            raw = recv_until_closed(s)
            self.assertLess(time.time() - start, 4)
            self.assertTrue(raw.startswith(b"HTTP/1.1 408 Request Timeout"), raw)
        self.assertIn("COL-HTTP1-0004", self.server.log())

    def test_idle_keep_alive_connection_is_closed_after_timeout(self):
        with connect(self.server.port, timeout=6) as s:
            s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            ResponseReader(s).read()
            start = time.time()
            self.assertTrue(closed_by_peer(s, timeout=5))
            self.assertGreater(time.time() - start, 1.5)

    def test_stalled_body_times_out(self):
        with connect(self.server.port, timeout=5) as s:
            s.sendall(b"PUT /upload/stall.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
                      b"only part")
            recv_until_closed(s)
        self.assertEqual(leftovers(os.path.join(self.root, "upload"),
                                   lambda n: n.startswith(".collage") or n == "stall.txt"), [])

    def test_garbage_does_not_kill_the_server(self):
        for raw in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200),
                    os.urandom(3000), b"\r\n" * 100 + b"GET"):
            with connect(self.server.port) as s:
                try:
                    s.sendall(raw)
                    s.shutdown(socket.SHUT_WR)
                    recv_until_closed(s)
                except OSError:
                    pass
        self.assertEqual(self.get(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n").status, 200)


class ShortKeepAliveTest(ServerTestCase):
    """Regression: a shorter deadline after a longer one must re-arm the watchdog, so idle
    connections close after KeepAliveTimeout, not after the header timeout armed before."""

    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<RequestHeaderTimeout>20s</RequestHeaderTimeout>
<KeepAliveTimeout>1s</KeepAliveTimeout>
<DocumentRoot>{root}</DocumentRoot>
"""

    @classmethod
    def prepare_site(cls, root):
        with open(os.path.join(root, "a.txt"), "w") as f:
            f.write("alpha\n")

    def test_idle_timeout_after_a_slow_request_head(self):
        with connect(self.server.port, timeout=10) as s:
            s.sendall(b"GET /a.txt HTTP/1.1\r\n")  # arms the 20 s header deadline
            time.sleep(0.2)
            s.sendall(b"Host: x\r\n\r\n")
            self.assertEqual(ResponseReader(s).read().body, b"alpha\n")
            start = time.time()
            self.assertTrue(closed_by_peer(s, timeout=8))
            self.assertLess(time.time() - start, 3)


if __name__ == "__main__":
    unittest.main()
