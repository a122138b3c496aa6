"""Streamed responses through every front end, with the test-only streaming store
(tests/support/stream_store): complete bodies on HTTP/1.1 (chunked and length-delimited),
HTTP/2 (with a tiny flow-control window), FTP and Gopher; flat server memory while a slow client
takes a long stream; a client that goes away cancels the producer; a producer that breaks off or
breaks its promised length cuts the response off the way each protocol says; filters on streams.
scripts/test.sh runs this under every MPM."""

import ftplib
import os
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import (ServerTestCase, ResponseReader, connect, exchange,  # noqa: E402
                            recv_until_closed, rss_kib)

TEST_MODULES = os.environ.get("COLLAGE_TEST_MODULE_DIR", "")
PATTERN = bytes(range(ord("a"), ord("a") + 26))
MiB = 1024 * 1024
# Under AddressSanitizer freed memory sits in a quarantine (256 MiB by default) before it is
# reused, so a server's RSS grows with everything it ever freed: memory bounds are measured on the
# normal build only (the streams still run, and are checked, under the sanitizers).
SANITIZED = "ASAN_OPTIONS" in os.environ
# The long stream of the memory test; COLLAGE_LONG_STREAM_BYTES makes it longer or shorter.
LONG_STREAM = int(os.environ.get("COLLAGE_LONG_STREAM_BYTES", str(1024 * MiB)))

CONFIG = """
<LoadModule name="teststream" path="%s/mod_teststream.so"/>
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<Listen protocol="gopher" address="127.0.0.1" port="0"/>
<TestStreamReport>{dir}/streams.log</TestStreamReport>
<FtpDataTimeout>5s</FtpDataTimeout>
<Store>teststream</Store>
<Location path="/small-buffer">
  <StreamBufferSize>4k</StreamBufferSize>
  <FilterBufferLimit>64k</FilterBufferLimit>
</Location>
""" % TEST_MODULES


def expected(offset, length):
    start = offset % 26
    return (PATTERN * (length // 26 + 2))[start:start + length]


class StreamingCase(ServerTestCase):
    CONFIG = CONFIG

    def report_lines(self):
        try:
            with open(os.path.join(self.workdir, "streams.log")) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_for_report(self, path, timeout=10):
        """The producer's outcome line for path ("done|failed|cancelled <bytes> <path>")."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.report_lines():
                outcome, produced, where = line.split(" ", 2)
                if where == path:
                    return outcome, int(produced)
            time.sleep(0.02)
        self.fail("no report for %s in %s" % (path, self.report_lines()))

    def curl(self, *args):
        return subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=60)


class EveryProtocolGetsTheWholeStream(StreamingCase):
    SIZE = 5 * MiB + 7

    def test_http1_chunked_when_the_length_is_unknown(self):
        path = "/whole/h1-chunked"
        raw = exchange(self.server.port, b"GET %s?size=%d HTTP/1.1\r\nHost: x\r\nConnection: close"
                       b"\r\n\r\n" % (path.encode(), self.SIZE), timeout=30)
        self.assertEqual(raw.status, 200)
        self.assertEqual(raw.header("Transfer-Encoding"), "chunked")
        self.assertIsNone(raw.header("Content-Length"))
        self.assertEqual(raw.body, expected(0, self.SIZE))
        self.assertEqual(self.wait_for_report(path), ("done", self.SIZE))

    def test_http1_content_length_when_the_store_knows_it(self):
        path = "/whole/h1-length"
        result = self.curl("-D", "-", "-o", os.path.join(self.workdir, "h1-length.out"),
                           self.server.url("%s?size=%d&known=1&part=3000" % (path, self.SIZE)))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(b"Content-Length: %d" % self.SIZE, result.stdout)
        with open(os.path.join(self.workdir, "h1-length.out"), "rb") as f:
            self.assertEqual(f.read(), expected(0, self.SIZE))

    def test_http1_keep_alive_continues_after_a_stream(self):
        sock = connect(self.server.port)
        self.addCleanup(sock.close)
        for size in (1, 70000, 26):
            sock.sendall(b"GET /whole/keep?size=%d HTTP/1.1\r\nHost: x\r\n\r\n" % size)
            response = ResponseReader(sock).read()
            self.assertEqual(response.status, 200)
            self.assertEqual(response.body, expected(0, size))

    def test_http2_with_a_tiny_window(self):
        # nghttp -w 10: a 1023-byte stream window, so every part waits for WINDOW_UPDATEs.
        path = "/whole/h2"
        out = subprocess.run(["nghttp", "-w", "10", "-W", "16",
                              "http://127.0.0.1:%d%s?size=%d" % (self.server.port, path,
                                                                 self.SIZE)],
                             capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, expected(0, self.SIZE))
        self.assertEqual(self.wait_for_report(path), ("done", self.SIZE))

    def test_http2_with_curl(self):
        result = self.curl("--http2-prior-knowledge",
                           self.server.url("/whole/h2-curl?size=%d&part=1000" % self.SIZE))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, expected(0, self.SIZE))

    def test_ftp_retr(self):
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.server.ports["ftp"], timeout=30)
        ftp.login()
        self.addCleanup(ftp.close)
        chunks = []
        name = "size=%d&part=5000" % self.SIZE
        reply = ftp.retrbinary("RETR /whole/" + name, chunks.append)
        self.assertTrue(reply.startswith("226"), reply)
        self.assertEqual(b"".join(chunks), expected(0, self.SIZE))
        # Resumed: the middle end skips what the client has, whatever the store.
        chunks = []
        ftp.retrbinary("RETR /whole/" + name, chunks.append, rest=self.SIZE - 1000)
        self.assertEqual(b"".join(chunks), expected(self.SIZE - 1000, 1000))

    def test_gopher(self):
        sock = connect(self.server.ports["gopher"], timeout=30)
        self.addCleanup(sock.close)
        sock.sendall(b"/whole/gopher/size=%d\r\n" % self.SIZE)
        self.assertEqual(recv_until_closed(sock, limit=2 * self.SIZE), expected(0, self.SIZE))

    def test_a_media_type_made_at_run_time_survives_the_stream(self):
        result = self.curl("-D", "-", "-o", "/dev/null",
                           self.server.url("/whole/typed?size=100000&type=text"))
        self.assertIn(b"Content-Type: text/plain; charset=utf-8\r\n", result.stdout)

    def test_head_cancels_the_producer(self):
        path = "/whole/head"
        raw = exchange(self.server.port, b"HEAD %s?size=%d HTTP/1.1\r\nHost: x\r\n"
                       b"Connection: close\r\n\r\n" % (path.encode(), self.SIZE),
                       head_request=True)
        self.assertEqual(raw.status, 200)
        self.assertEqual(self.wait_for_report(path), ("cancelled", 0))


class SlowClientHoldsMemoryFlat(StreamingCase):
    def child_rss(self):
        return max([rss_kib(pid) for pid in self.server.children()] or [0])

    def test_long_stream_to_a_client_that_pauses(self):
        path = "/flat/h1"
        sock = connect(self.server.port, timeout=30)
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
        sock.sendall(b"GET %s?size=%d&known=1&part=65536 HTTP/1.1\r\nHost: x\r\n"
                     b"Connection: close\r\n\r\n" % (path.encode(), LONG_STREAM))
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        received = len(head) - head.index(b"\r\n\r\n") - 4
        baseline = self.child_rss()
        self.assertGreater(baseline, 0, "no child process to measure")
        peak = baseline
        paused = False
        last_check = 0
        while received < LONG_STREAM:
            data = sock.recv(1024 * 1024)
            if not data:
                break
            if received - last_check >= 16 * MiB or not paused:
                # Spot-check the pattern where this chunk lands.
                self.assertEqual(data[:52], expected(received, min(52, len(data))))
                last_check = received
            received += len(data)
            if not paused and received > 64 * MiB:
                # A slow client: stop reading for a while. Without backpressure the server
                # would go on producing into memory at gigabytes per second.
                paused = True
                time.sleep(1.0)
            peak = max(peak, self.child_rss())
        self.assertEqual(received, LONG_STREAM)
        self.assertEqual(self.wait_for_report(path), ("done", LONG_STREAM))
        if SANITIZED:
            return
        # One 64 KiB part in flight, plus allocator slack: far below what was sent.
        self.assertLess(peak - baseline, 24 * 1024,
                        "server RSS grew from %d KiB to %d KiB" % (baseline, peak))
        if os.environ.get("COLLAGE_TEST_VERBOSE"):
            print("RSS %d KiB -> peak %d KiB over %d bytes" % (baseline, peak, LONG_STREAM))

    def test_http2_stream_to_a_client_with_a_small_window(self):
        path = "/flat/h2"
        size = 64 * MiB
        out = subprocess.Popen(["nghttp", "-w", "16", "-W", "20",
                                "http://127.0.0.1:%d%s?size=%d" % (self.server.port, path, size)],
                               stdout=subprocess.PIPE)
        baseline = self.child_rss()
        self.assertGreater(baseline, 0, "no child process to measure")
        peak = baseline
        got = 0
        while True:
            data = out.stdout.read(256 * 1024)
            if not data:
                break
            got += len(data)
            peak = max(peak, self.child_rss())
        out.stdout.close()
        self.assertEqual(out.wait(60), 0)
        self.assertEqual(got, size)
        if not SANITIZED:
            self.assertLess(peak - baseline, 24 * 1024)


class ClientThatLeavesCancelsTheProducer(StreamingCase):
    SIZE = 1024 * MiB  # far more than will ever be produced before the client leaves

    def assert_cancelled(self, path):
        outcome, produced = self.wait_for_report(path)
        self.assertEqual(outcome, "cancelled")
        self.assertLess(produced, self.SIZE)

    def test_http1(self):
        sock = connect(self.server.port)
        sock.sendall(b"GET /leave/h1?size=%d&delay_ms=2 HTTP/1.1\r\nHost: x\r\n\r\n" % self.SIZE)
        self.assertIn(b"200 OK", sock.recv(65536))
        sock.close()
        self.assert_cancelled("/leave/h1")

    def test_http1_slow_producer(self):
        # The producer waits between parts; the client leaves during a wait.
        sock = connect(self.server.port)
        sock.sendall(b"GET /leave/h1-slow?size=%d&delay_ms=200&part=10 HTTP/1.1\r\nHost: x\r\n\r\n"
                     % self.SIZE)
        self.assertIn(b"200 OK", sock.recv(65536))
        sock.close()
        self.assert_cancelled("/leave/h1-slow")

    def test_http2_client_resets_the_stream(self):
        # A real HTTP/2 client (python3-h2) cancels one stream and keeps the connection.
        import h2.config
        import h2.connection
        import h2.events
        sock = connect(self.server.port)
        self.addCleanup(sock.close)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        path = "/leave/h2"

        def request(target):
            stream_id = conn.get_next_available_stream_id()
            conn.send_headers(stream_id, [(":method", "GET"), (":scheme", "http"),
                                          (":authority", "x"), (":path", target)],
                              end_stream=True)
            sock.sendall(conn.data_to_send())
            return stream_id

        def events_until(predicate):
            while True:
                data = sock.recv(65536)
                self.assertTrue(data, "connection closed")
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.DataReceived):
                        conn.acknowledge_received_data(event.flow_controlled_length,
                                                       event.stream_id)
                    if predicate(event):
                        sock.sendall(conn.data_to_send())
                        return event
                sock.sendall(conn.data_to_send())

        first = request("%s?size=%d&delay_ms=2" % (path, self.SIZE))
        events_until(lambda e: isinstance(e, h2.events.DataReceived) and e.stream_id == first)
        conn.reset_stream(first, h2.errors.ErrorCodes.CANCEL)
        sock.sendall(conn.data_to_send())
        self.assert_cancelled(path)
        second = request("/leave/h2-after?size=1000")
        ended = events_until(lambda e: isinstance(e, h2.events.StreamEnded) and
                             e.stream_id == second)
        self.assertEqual(ended.stream_id, second)

    def test_ftp_abor(self):
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.server.ports["ftp"], timeout=30)
        ftp.login()
        self.addCleanup(ftp.close)
        conn = ftp.transfercmd("RETR /leave/size=%d&delay_ms=2" % self.SIZE)
        self.assertTrue(conn.recv(65536))
        conn.close()
        ftp.abort()
        self.assert_cancelled("/leave/size=%d&delay_ms=2" % self.SIZE)

    def test_gopher(self):
        sock = connect(self.server.ports["gopher"])
        sock.sendall(b"/leave/gopher/size=%d&delay_ms=2\r\n" % self.SIZE)
        self.assertTrue(sock.recv(65536))
        sock.close()
        self.assert_cancelled("/leave/gopher/size=%d&delay_ms=2" % self.SIZE)


class ProducerThatBreaksOff(StreamingCase):
    def test_http1_chunked_ends_without_the_last_chunk(self):
        result = self.curl("-o", "/dev/null", self.server.url("/fail/h1?size=%d&fail_at=100000"
                                                              % MiB))
        self.assertEqual(result.returncode, 18, result.stderr)  # partial file
        self.assertEqual(self.wait_for_report("/fail/h1"), ("failed", 100000))

    def test_http1_known_length_closes_short(self):
        result = self.curl("-o", "/dev/null", self.server.url(
            "/fail/h1-known?size=%d&known=1&fail_at=100000" % MiB))
        self.assertEqual(result.returncode, 18, result.stderr)

    def test_http1_broken_promise_closes_the_connection(self):
        # The store said 2000 bytes and made 1000: the connection closes, not kept alive.
        sock = connect(self.server.port)
        self.addCleanup(sock.close)
        sock.sendall(b"GET /fail/promise?size=1000&promise=2000 HTTP/1.1\r\nHost: x\r\n\r\n")
        data = recv_until_closed(sock)
        self.assertIn(b"Content-Length: 2000", data)
        self.assertEqual(len(data) - data.index(b"\r\n\r\n") - 4, 1000)
        deadline = time.time() + 5
        while "COL-HTTP1-0007" not in self.server.log() and time.time() < deadline:
            time.sleep(0.02)
        self.assertIn("COL-HTTP1-0007", self.server.log())

    def test_http2_resets_the_stream(self):
        result = self.curl("--http2-prior-knowledge", "-o", "/dev/null",
                           self.server.url("/fail/h2?size=%d&fail_at=100000" % MiB))
        self.assertEqual(result.returncode, 92, result.stderr)  # stream error (RST_STREAM)

    def test_ftp_answers_451(self):
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.server.ports["ftp"], timeout=30)
        ftp.login()
        self.addCleanup(ftp.close)
        with self.assertRaises(ftplib.error_temp) as caught:
            ftp.retrbinary("RETR /fail/size=%d&fail_at=100000" % MiB, lambda data: None)
        self.assertTrue(str(caught.exception).startswith("451"))
        self.assertEqual(ftp.voidcmd("NOOP")[:3], "200")  # the session goes on

    def test_gopher_menu_has_no_closing_dot(self):
        sock = connect(self.server.ports["gopher"])
        self.addCleanup(sock.close)
        sock.sendall(b"/fail/size=100000&type=menu&fail_at=5000\r\n")
        data = recv_until_closed(sock)
        self.assertTrue(data.startswith(b"iline 0\t"))
        self.assertFalse(data.endswith(b".\r\n"))


class FiltersOnStreams(StreamingCase):
    def test_range_of_a_stream_within_the_buffer_limit(self):
        result = self.curl("-D", "-", "-r", "100-199", self.server.url(
            "/filters/range?size=50000&known=1"))
        head, _, body = result.stdout.partition(b"\r\n\r\n")
        self.assertIn(b"206", head.split(b"\r\n")[0])
        self.assertIn(b"Content-Range: bytes 100-199/50000", head)
        self.assertEqual(body, expected(100, 100))

    def test_range_beyond_the_buffer_limit_is_served_whole(self):
        # FilterBufferLimit is 64k under /small-buffer; ranges declares "skip" beyond it.
        result = self.curl("-D", "-", "-r", "100-199", self.server.url(
            "/small-buffer/range?size=200000&known=1"))
        head, _, body = result.stdout.partition(b"\r\n\r\n")
        self.assertIn(b" 200 ", head.split(b"\r\n")[0])
        self.assertEqual(body, expected(0, 200000))

    def test_gopher_menu_stream_as_html(self):
        result = self.curl(self.server.url("/filters/menu?size=3000&type=menu"))
        self.assertIn(b"<html", result.stdout[:200].lower())
        self.assertIn(b"line 0", result.stdout)

    def test_gopher_menu_stream_beyond_the_limit_fails_clearly(self):
        # gopher-html declares "fail": a 500 and a log line, not a raw menu.
        result = self.curl("-D", "-", "-o", "/dev/null", self.server.url(
            "/small-buffer/menu?size=200000&type=menu"))
        self.assertIn(b" 500 ", result.stdout.split(b"\r\n")[0])
        self.assertIn("COL-CORE-0006", self.server.log())

    def test_small_stream_buffer_still_serves_everything(self):
        result = self.curl(self.server.url("/small-buffer/x?size=300000&part=100000"))
        self.assertEqual(result.stdout, expected(0, 300000))


if __name__ == "__main__":
    unittest.main()
