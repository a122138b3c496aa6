"""HTTP/2 against the real binary: real clients (curl, nghttp, h2load, openssl), and RFC 9113
conformance and attack protections at frame level (hyperframe and hpack from python3-h2)."""

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import unittest

import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame,
                              PingFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import CollageServer, ServerTestCase, install_certificate  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, REFUSED_STREAM = 0x1, 0x3, 0x5, 0x7
FRAME_SIZE_ERROR, COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 0x6, 0x9, 0xb


class RawH2:
    """A hand-driven HTTP/2 client connection: sends frames as given, reads frames back."""

    def __init__(self, port, settings=None, receive_buffer=None, tls=False):
        self.sock = socket.socket()
        if receive_buffer:
            # Before connecting, so the advertised TCP window stays small too.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", port))
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["h2"])
            self.sock = context.wrap_socket(self.sock, server_hostname="localhost")
            assert self.sock.selected_alpn_protocol() == "h2"
        self.buffer = b""
        self.decoded = {}  # stream id -> list of (name, value), decoded in arrival order
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        frame = SettingsFrame(0)
        frame.settings = settings or {}
        self.sock.sendall(PREFACE + frame.serialize())

    def send(self, *frames):
        self.sock.sendall(b"".join(f.serialize() if isinstance(f, Frame) else f for f in frames))

    def headers(self, stream_id, fields, end_stream=True, end_headers=True):
        frame = HeadersFrame(stream_id)
        frame.data = self.encoder.encode(fields)
        frame.flags = set(["END_HEADERS"] if end_headers else []) | \
            set(["END_STREAM"] if end_stream else [])
        return frame

    def request(self, stream_id, path="/a.txt", method="GET", extra=(), end_stream=True):
        return self.headers(stream_id, [(":method", method), (":scheme", "http"),
                                        (":authority", "localhost"), (":path", path),
                                        *extra], end_stream)

    def read_frame(self, timeout=5):
        self.sock.settimeout(timeout)
        while len(self.buffer) < 9:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buffer += data
        frame, length = Frame.parse_frame_header(memoryview(self.buffer[:9]))
        while len(self.buffer) < 9 + length:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buffer += data
        frame.parse_body(memoryview(self.buffer[9:9 + length]))
        self.buffer = self.buffer[9 + length:]
        if isinstance(frame, HeadersFrame):
            # HPACK state is per connection: every header block is decoded, in order.
            self.decoded.setdefault(frame.stream_id, []).extend(self.decoder.decode(frame.data))
        return frame

    def frames_until(self, predicate, timeout=5):
        """Reads frames until predicate(frame) holds; returns all read. None at EOF/timeout."""
        seen = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                frame = self.read_frame(max(0.1, deadline - time.time()))
            except (socket.timeout, ConnectionResetError):
                return seen
            if frame is None:
                return seen
            seen.append(frame)
            if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
                ack = SettingsFrame(0)
                ack.flags.add("ACK")
                self.send(ack)
            if predicate(frame):
                return seen
        return seen

    def response(self, stream_id, timeout=5):
        """Collects a stream's status, headers and body (or its reset code)."""
        status, headers, body = None, {}, b""
        self.backlog = getattr(self, "backlog", [])
        done = [f for f in self.backlog if f.stream_id == stream_id and
                ("END_STREAM" in f.flags or isinstance(f, RstStreamFrame))]
        frames = self.backlog + ([] if done else self.frames_until(
            lambda f: f.stream_id == stream_id and
            ("END_STREAM" in f.flags or isinstance(f, RstStreamFrame)), timeout))
        self.backlog = [f for f in frames if f.stream_id not in (0, stream_id)]
        for name, value in self.decoded.pop(stream_id, []):
            name = name.decode() if isinstance(name, bytes) else name
            value = value.decode() if isinstance(value, bytes) else value
            if name == ":status":
                status = int(value)
            headers[name] = value
        for frame in frames:
            if frame.stream_id != stream_id:
                continue
            if isinstance(frame, DataFrame):
                body += frame.data
                if frame.data:
                    update = WindowUpdateFrame(0)
                    update.window_increment = len(frame.data)
                    stream_update = WindowUpdateFrame(stream_id)
                    stream_update.window_increment = len(frame.data)
                    self.send(update, stream_update)
            elif isinstance(frame, RstStreamFrame):
                return ("reset", frame.error_code)
        return status, headers, body

    def goaway(self, timeout=5):
        for frame in self.frames_until(lambda f: isinstance(f, GoAwayFrame), timeout):
            if isinstance(frame, GoAwayFrame):
                return frame.error_code
        return None

    def closed(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="http1" address="127.0.0.1" port="0" tls="on"/>
<TLSCertificateFile>{dir}/cert.pem</TLSCertificateFile>
<TLSCertificateKeyFile>{dir}/key.pem</TLSCertificateKeyFile>
<AccessLog>{dir}/access.log</AccessLog>
<H2StallTimeout>1s</H2StallTimeout>
<H2MaxHeaderListSize>8k</H2MaxHeaderListSize>
<DocumentRoot>{root}</DocumentRoot>
<Location path="/dav">
  <Writable>on</Writable>
</Location>
"""


class Http2ServerCase(ServerTestCase):
    """A server with a plain and a TLS listener, a small site and a writable /dav."""
    CONFIG = CONFIG

    @classmethod
    def prepare_site(cls, root):
        workdir = os.path.dirname(root)
        install_certificate(workdir)
        with open(os.path.join(root, "a.txt"), "w") as f:
            f.write("alpha\n")
        cls.big = os.urandom(2 * 1024 * 1024 + 3)
        with open(os.path.join(root, "big.bin"), "wb") as f:
            f.write(cls.big)
        os.makedirs(os.path.join(root, "dav"))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        log = cls.server.log()
        import re
        ports = re.findall(r"listening: http1 on 127\.0\.0\.1:(\d+)( with TLS)?", log)
        cls.plain = int([p for p, tls in ports if not tls][0])
        cls.tls = int([p for p, tls in ports if tls][0])

    def curl(self, *args):
        return subprocess.run(["curl", "-sS", "-k", *args], capture_output=True, check=True)

    def raw(self, **kw):
        client = RawH2(self.plain, **kw)
        self.addCleanup(client.close)
        return client

    def raw_frame(self, frame_type, flags, stream_id, payload):
        return (len(payload).to_bytes(3, "big") + bytes([frame_type, flags]) +
                stream_id.to_bytes(4, "big") + payload)

    def assert_stream_error(self, client, stream_id, code):
        # RFC 9113 §5.4.1 lets an endpoint treat a stream error as a connection error; nghttp2
        # does for some. Either way, the code must be the one the RFC names.
        frames = client.frames_until(
            lambda f: isinstance(f, GoAwayFrame) or
            (isinstance(f, RstStreamFrame) and f.stream_id == stream_id))
        final = frames[-1]
        self.assertTrue(isinstance(final, (GoAwayFrame, RstStreamFrame)), frames)
        self.assertEqual(final.error_code, code, final)


class Http2Test(Http2ServerCase):
    # --- real clients ---------------------------------------------------------------------

    def test_curl_over_tls_negotiates_h2(self):
        out = self.curl("-v", "--http2", "https://127.0.0.1:%d/a.txt" % self.tls)
        self.assertEqual(out.stdout, b"alpha\n")
        self.assertIn(b"ALPN: server accepted h2", out.stderr)
        self.assertIn(b"< HTTP/2 200", out.stderr)

    def test_curl_prior_knowledge(self):
        out = self.curl("-v", "--http2-prior-knowledge", "http://127.0.0.1:%d/a.txt" % self.plain)
        self.assertEqual(out.stdout, b"alpha\n")
        self.assertIn(b"< HTTP/2 200", out.stderr)

    def test_curl_upgrade_h2c(self):
        out = self.curl("-v", "--http2", "http://127.0.0.1:%d/a.txt" % self.plain)
        self.assertIn(b"< HTTP/1.1 101 Switching Protocols", out.stderr)
        self.assertIn(b"< HTTP/2 200", out.stderr)
        self.assertEqual(out.stdout, b"alpha\n")

    def test_nghttp(self):
        out = subprocess.run(["nghttp", "-nv", "http://127.0.0.1:%d/a.txt" % self.plain],
                             capture_output=True, text=True, timeout=20)
        self.assertIn("recv SETTINGS frame", out.stdout)
        self.assertIn(":status: 200", out.stdout)
        out = subprocess.run(["nghttp", "-nvu", "http://127.0.0.1:%d/a.txt" % self.plain],
                             capture_output=True, text=True, timeout=20)
        self.assertIn("HTTP Upgrade success", out.stdout)

    def test_h2load_smoke(self):
        for url in ("http://127.0.0.1:%d/a.txt" % self.plain,
                    "https://127.0.0.1:%d/a.txt" % self.tls):
            out = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "10", url],
                                 capture_output=True, text=True, timeout=60).stdout
            self.assertIn("2000 succeeded, 0 failed, 0 errored", out, out)

    def test_openssl_alpn_h2(self):
        out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.tls,
                              "-alpn", "h2"], input=b"", capture_output=True, timeout=20)
        self.assertIn(b"ALPN protocol: h2", out.stdout)

    def test_large_file_with_flow_control(self):
        out = self.curl("--http2-prior-knowledge", "http://127.0.0.1:%d/big.bin" % self.plain)
        self.assertEqual(out.stdout, self.big)
        out = self.curl("--http2", "https://127.0.0.1:%d/big.bin" % self.tls)
        self.assertEqual(out.stdout, self.big)

    def test_upload_over_h2(self):
        data = os.urandom(300000)
        source = os.path.join(self.workdir, "upload.bin")
        with open(source, "wb") as f:
            f.write(data)
        out = self.curl("--http2-prior-knowledge", "-w", "%{http_code}", "-o", "/dev/null",
                        "-T", source, "http://127.0.0.1:%d/dav/up.bin" % self.plain)
        self.assertEqual(out.stdout, b"201")
        with open(os.path.join(self.root, "dav", "up.bin"), "rb") as f:
            self.assertEqual(f.read(), data)

    def test_many_streams_on_one_connection(self):
        client = self.raw()
        client.send(*[client.request(i) for i in range(1, 40, 2)])
        for i in range(1, 40, 2):
            status, headers, body = client.response(i)
            self.assertEqual((status, body), (200, b"alpha\n"))

    def test_head_404_405_and_ranges(self):
        client = self.raw()
        client.send(client.request(1, method="HEAD"))
        status, headers, body = client.response(1)
        self.assertEqual((status, headers["content-length"], body), (200, "6", b""))
        client.send(client.request(3, path="/missing"))
        self.assertEqual(client.response(3)[0], 404)
        client.send(client.request(5, method="DELETE"))
        status, headers, _ = client.response(5)
        self.assertEqual((status, headers["allow"]), (405, "GET, HEAD, OPTIONS"))
        client.send(client.request(7, extra=[("range", "bytes=1-3")]))
        status, headers, body = client.response(7)
        self.assertEqual((status, body, headers["content-range"]), (206, b"lph", "bytes 1-3/6"))

    # --- RFC 9113 conformance at frame level ----------------------------------------------

    def test_preface_settings_and_ack(self):
        client = self.raw()
        frames = client.frames_until(lambda f: isinstance(f, SettingsFrame) and "ACK" in f.flags)
        settings = [f for f in frames if isinstance(f, SettingsFrame)]
        self.assertNotIn("ACK", settings[0].flags)  # the server's preface comes first
        self.assertEqual(settings[0].settings.get(SettingsFrame.MAX_CONCURRENT_STREAMS), 128)
        self.assertIn("ACK", settings[-1].flags)

    def test_bad_preface_closes(self):
        sock = socket.create_connection(("127.0.0.1", self.plain), timeout=5)
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + b"\x00" * 20)
        data = b""
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        sock.close()
        self.assertNotIn(b"alpha", data)

    def test_ping_is_acknowledged(self):
        client = self.raw()
        ping = PingFrame(0)
        ping.opaque_data = b"12345678"
        client.send(ping)
        frames = client.frames_until(lambda f: isinstance(f, PingFrame) and "ACK" in f.flags)
        self.assertEqual(frames[-1].opaque_data, b"12345678")

    def test_uppercase_header_name_is_a_stream_error(self):
        client = self.raw()
        client.send(client.request(1, extra=[("X-Upper", "1")]))
        self.assertEqual(client.response(1), ("reset", PROTOCOL_ERROR))

    def test_connection_specific_header_is_a_stream_error(self):
        client = self.raw()
        client.send(client.request(1, extra=[("connection", "keep-alive")]))
        self.assertEqual(client.response(1), ("reset", PROTOCOL_ERROR))
        client.send(client.request(3, extra=[("te", "gzip")]))
        self.assertEqual(client.response(3), ("reset", PROTOCOL_ERROR))

    def test_pseudo_header_rules(self):
        client = self.raw()
        client.send(client.headers(1, [(":method", "GET"), (":scheme", "http"),
                                       (":authority", "x")]))  # no :path
        self.assertEqual(client.response(1), ("reset", PROTOCOL_ERROR))
        client.send(client.headers(3, [(":method", "GET"), ("x", "1"), (":path", "/a.txt"),
                                       (":scheme", "http")]))  # pseudo after regular
        self.assertEqual(client.response(3), ("reset", PROTOCOL_ERROR))
        client.send(client.headers(5, [(":method", "GET"), (":path", "/a.txt"),
                                       (":scheme", "http"), (":bogus", "1")]))
        self.assertEqual(client.response(5), ("reset", PROTOCOL_ERROR))

    def test_content_length_mismatch(self):
        client = self.raw()
        client.send(client.request(1, path="/dav/cl.txt", method="PUT",
                                   extra=[("content-length", "10")], end_stream=False))
        data = DataFrame(1)
        data.data = b"12345"
        data.flags.add("END_STREAM")
        client.send(data)
        self.assertEqual(client.response(1), ("reset", PROTOCOL_ERROR))
        self.assertFalse(os.path.exists(os.path.join(self.root, "dav", "cl.txt")))

    def test_data_on_stream_zero_is_a_connection_error(self):
        client = self.raw()
        client.send(b"\x00\x00\x01\x00\x00\x00\x00\x00\x00x")  # DATA, stream 0
        self.assertEqual(client.goaway(), PROTOCOL_ERROR)

    def test_oversized_frame(self):
        client = self.raw()
        client.send(client.request(1, path="/dav/big", method="PUT", end_stream=False))
        length = 16385
        client.send(length.to_bytes(3, "big") + b"\x00\x00\x00\x00\x00\x01" + b"x" * length)
        self.assertEqual(client.goaway(), FRAME_SIZE_ERROR)

    def test_window_overflow(self):
        client = self.raw()
        update = WindowUpdateFrame(0)
        update.window_increment = 2 ** 31 - 1
        client.send(update, update)
        self.assertEqual(client.goaway(), FLOW_CONTROL_ERROR)

    def test_data_on_closed_stream(self):
        client = self.raw()
        client.send(client.request(1))
        client.response(1)
        data = DataFrame(1)
        data.data = b"late"
        client.send(data)
        frames = client.frames_until(
            lambda f: isinstance(f, (RstStreamFrame, GoAwayFrame)))
        self.assertIn(frames[-1].error_code, (STREAM_CLOSED,))

    def test_bad_hpack_is_a_compression_error(self):
        client = self.raw()
        frame = HeadersFrame(1)
        frame.data = b"\xff\xff\xff\xff\xff\xff"  # an index far beyond any table
        frame.flags = {"END_HEADERS", "END_STREAM"}
        client.send(frame)
        self.assertEqual(client.goaway(), COMPRESSION_ERROR)

    def test_even_stream_id_from_client(self):
        client = self.raw()
        client.send(client.request(2))
        self.assertEqual(client.goaway(), PROTOCOL_ERROR)

    def test_new_stream_id_lower_than_a_previous_one(self):
        # RFC 9113 §5.1.1: stream 5 is done, then the client opens stream 3.
        client = self.raw()
        client.send(client.request(5))
        self.assertEqual(client.response(5)[0], 200)
        client.send(client.request(3))
        self.assertEqual(client.goaway(), PROTOCOL_ERROR)

    def test_trailers_on_an_open_lower_stream_are_fine(self):
        client = self.raw()
        client.send(client.request(1, method="POST", path="/upload-target", end_stream=False),
                    client.request(3))
        self.assertEqual(client.response(3)[0], 200)
        client.send(client.headers(1, [("x-checksum", "abc")], end_stream=True))
        client.response(1)  # answered or reset: either way, no connection error
        client.send(client.request(5))
        self.assertEqual(client.response(5)[0], 200)

    def assert_connection_error(self, raw, code):
        client = self.raw()
        client.send(raw)
        self.assertEqual(client.goaway(), code, raw)

    def test_settings_rules(self):
        setting = lambda ident, value: ident.to_bytes(2, "big") + value.to_bytes(4, "big")
        self.assert_connection_error(self.raw_frame(0x4, 0, 0, setting(0x2, 2)), PROTOCOL_ERROR)
        self.assert_connection_error(self.raw_frame(0x4, 0, 0, setting(0x4, 2 ** 31)),
                                     FLOW_CONTROL_ERROR)
        self.assert_connection_error(self.raw_frame(0x4, 0, 0, setting(0x5, 16383)),
                                     PROTOCOL_ERROR)
        self.assert_connection_error(self.raw_frame(0x4, 0, 0, b"\x00" * 5), FRAME_SIZE_ERROR)
        self.assert_connection_error(self.raw_frame(0x4, 0, 1, b""), PROTOCOL_ERROR)
        self.assert_connection_error(self.raw_frame(0x4, 0x1, 0, setting(0x3, 1)),
                                     FRAME_SIZE_ERROR)  # an ACK with a payload

    def test_ping_rules(self):
        self.assert_connection_error(self.raw_frame(0x6, 0, 0, b"1234567"), FRAME_SIZE_ERROR)
        self.assert_connection_error(self.raw_frame(0x6, 0, 1, b"12345678"), PROTOCOL_ERROR)

    def test_window_update_rules(self):
        self.assert_connection_error(self.raw_frame(0x8, 0, 0, (0).to_bytes(4, "big")),
                                     PROTOCOL_ERROR)
        self.assert_connection_error(self.raw_frame(0x8, 0, 0, b"\x00\x00\x01"),
                                     FRAME_SIZE_ERROR)

    def test_frames_on_idle_streams(self):
        self.assert_connection_error(self.raw_frame(0x3, 0, 1, (8).to_bytes(4, "big")),
                                     PROTOCOL_ERROR)  # RST_STREAM on an idle stream
        self.assert_connection_error(self.raw_frame(0x0, 0, 1, b"x"), PROTOCOL_ERROR)

    def block(self, client, stream_id=1, path="/a.txt", method="GET"):
        return client.encoder.encode([(":method", method), (":scheme", "http"),
                                      (":authority", "localhost"), (":path", path)])

    def test_headers_frame_rules(self):
        client = self.raw()
        # §6.2: HEADERS on stream 0; padding as long as the payload.
        self.assert_connection_error(self.raw_frame(0x1, 0x5, 0, self.block(client)),
                                     PROTOCOL_ERROR)
        client = self.raw()
        block = self.block(client)
        client.send(self.raw_frame(0x1, 0x5 | 0x8, 1, bytes([len(block) + 1]) + block))
        self.assertEqual(client.goaway(), PROTOCOL_ERROR)

    def test_data_padding_longer_than_the_frame(self):
        client = self.raw()
        client.send(client.request(1, path="/dav/pad.txt", method="PUT", end_stream=False),
                    self.raw_frame(0x0, 0x8 | 0x1, 1, bytes([9]) + b"abcd"))
        self.assertEqual(client.goaway(), PROTOCOL_ERROR)

    def test_priority_and_rst_stream_frame_rules(self):
        # §6.3: PRIORITY on stream 0, or of the wrong length; §6.4: RST_STREAM likewise.
        self.assert_connection_error(self.raw_frame(0x2, 0, 0, b"\x00\x00\x00\x01\x10"),
                                     PROTOCOL_ERROR)
        client = self.raw()
        client.send(self.raw_frame(0x2, 0, 1, b"\x00\x00\x00\x03"))
        self.assert_stream_error(client, 1, FRAME_SIZE_ERROR)
        self.assert_connection_error(self.raw_frame(0x3, 0, 0, b"\x00\x00\x00\x08"),
                                     PROTOCOL_ERROR)
        client = self.raw()
        client.send(client.request(1, end_stream=False),
                    self.raw_frame(0x3, 0, 1, b"\x00\x00\x08"))
        self.assertEqual(client.goaway(), FRAME_SIZE_ERROR)

    def test_stream_depending_on_itself(self):
        # §5.3.1: a stream cannot depend on itself: a stream error of type PROTOCOL_ERROR.
        client = self.raw()
        priority = (1).to_bytes(4, "big") + b"\x10"
        client.send(self.raw_frame(0x1, 0x4 | 0x1 | 0x20, 1, priority + self.block(client)))
        self.assert_stream_error(client, 1, PROTOCOL_ERROR)
        client = self.raw()
        client.send(client.request(3, end_stream=False),
                    self.raw_frame(0x2, 0, 3, (3).to_bytes(4, "big") + b"\x10"))
        self.assert_stream_error(client, 3, PROTOCOL_ERROR)

    def test_stream_window_update_rules(self):
        # §6.9: a zero increment on a stream, and a stream window past 2^31-1, are stream errors.
        client = self.raw()
        client.send(client.request(1, path="/big.bin"),
                    self.raw_frame(0x8, 0, 1, (0).to_bytes(4, "big")))
        self.assert_stream_error(client, 1, PROTOCOL_ERROR)
        client = self.raw()
        client.send(client.request(3, path="/big.bin"),
                    self.raw_frame(0x8, 0, 3, (2 ** 31 - 1).to_bytes(4, "big")))
        self.assert_stream_error(client, 3, FLOW_CONTROL_ERROR)

    def test_continuation_rules(self):
        # §6.10: CONTINUATION with no HEADERS before it, after another frame, on another stream.
        client = self.raw()
        self.assert_connection_error(self.raw_frame(0x9, 0x4, 1, self.block(client)),
                                     PROTOCOL_ERROR)
        client = self.raw()
        client.send(self.raw_frame(0x1, 0x1, 1, self.block(client)),
                    self.raw_frame(0x6, 0, 0, b"12345678"))
        self.assertEqual(client.goaway(), PROTOCOL_ERROR)
        client = self.raw()
        client.send(self.raw_frame(0x1, 0x1, 1, self.block(client)),
                    self.raw_frame(0x9, 0x4, 3, b""))
        self.assertEqual(client.goaway(), PROTOCOL_ERROR)

    def test_request_with_response_or_duplicate_pseudo_headers(self):
        # §8.3.1: :status is a response field; each pseudo-header once.
        client = self.raw()
        client.send(client.request(1, extra=[(":status", "200")]))
        self.assertEqual(client.response(1), ("reset", PROTOCOL_ERROR))
        client.send(client.headers(3, [(":method", "GET"), (":scheme", "http"),
                                       (":path", "/a.txt"), (":path", "/b.txt")]))
        self.assertEqual(client.response(3), ("reset", PROTOCOL_ERROR))

    def test_concurrent_streams_past_the_limit_are_refused(self):
        # §5.1.2: past SETTINGS_MAX_CONCURRENT_STREAMS: PROTOCOL_ERROR or REFUSED_STREAM.
        client = self.raw()
        frames = client.frames_until(lambda f: isinstance(f, SettingsFrame) and
                                     "ACK" not in f.flags)
        limit = frames[-1].settings.get(SettingsFrame.MAX_CONCURRENT_STREAMS)
        self.assertIsNotNone(limit)
        # Uploads that wait for their bodies keep their streams open.
        client.send(*[client.request(2 * i + 1, path="/dav/open-%d" % i, method="PUT",
                                     extra=[("content-length", "5")], end_stream=False)
                      for i in range(limit + 1)])
        frames = client.frames_until(lambda f: isinstance(f, (RstStreamFrame, GoAwayFrame)))
        self.assertIn(frames[-1].error_code, (REFUSED_STREAM, PROTOCOL_ERROR), frames[-1])
        if isinstance(frames[-1], RstStreamFrame):
            self.assertEqual(frames[-1].stream_id, 2 * limit + 1)

    def test_goaway_on_a_stream_is_refused(self):
        self.assert_connection_error(self.raw_frame(0x7, 0, 1, b"\x00" * 8), PROTOCOL_ERROR)

    def test_unknown_frame_types_are_ignored(self):
        client = self.raw()
        client.send(self.raw_frame(0xfa, 0, 0, b"whatever"), client.request(1))
        self.assertEqual(client.response(1)[0], 200)

    def test_te_trailers_is_allowed(self):
        client = self.raw()
        client.send(client.request(1, extra=[("te", "trailers")]))
        self.assertEqual(client.response(1)[0], 200)

    def test_request_trailers_are_accepted(self):
        client = self.raw()
        client.send(client.request(1, path="/dav/trailer.txt", method="PUT", end_stream=False))
        data = DataFrame(1)
        data.data = b"body"
        client.send(data, client.headers(1, [("x-checksum", "1")], end_stream=True))
        self.assertEqual(client.response(1)[0], 201)
        with open(os.path.join(self.root, "dav", "trailer.txt"), "rb") as f:
            self.assertEqual(f.read(), b"body")

    # --- attacks -----------------------------------------------------------------------------

    def test_rapid_reset(self):
        client = self.raw()
        frames = []
        for i in range(1, 2 * 3000, 2):
            frames.append(client.request(i))
            reset = RstStreamFrame(i)
            reset.error_code = 0x8  # CANCEL
            frames.append(reset)
        try:
            client.send(*frames)
        except (BrokenPipeError, ConnectionResetError):
            pass
        code = client.goaway(timeout=10)
        self.assertIsNotNone(code)
        self.assertTrue(client.closed(timeout=10))
        self.assertTrue(self.server.alive())

    def test_continuation_flood(self):
        client = self.raw()
        first = client.request(1, end_stream=True)
        first.flags.discard("END_HEADERS")
        frames = [first]
        for _ in range(1000):
            cont = ContinuationFrame(1)
            cont.data = b""
            frames.append(cont)
        try:
            client.send(*frames)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertTrue(client.closed(timeout=10))

    def test_header_list_size_bomb(self):
        client = self.raw()
        # One big indexed header repeated: cheap to send, large once decoded.
        fields = [("x-bomb", "b" * 4000)] * 50
        client.send(client.request(1, extra=fields))
        result = client.response(1)
        self.assertIn(result[0] if result[0] != "reset" else 431, (431,))
        client.send(client.request(3))
        self.assertEqual(client.response(3)[0], 200)

    def test_settings_flood(self):
        client = self.raw(receive_buffer=4096)
        frame = SettingsFrame(0).serialize()
        try:
            for _ in range(500):
                client.send(frame * 1000)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        self.assertTrue(client.closed(timeout=10))
        self.assertTrue(self.server.alive())

    def test_ping_flood(self):
        client = self.raw(receive_buffer=4096)
        ping = PingFrame(0)
        ping.opaque_data = b"floodflo"
        frame = ping.serialize()
        try:
            for _ in range(500):
                client.send(frame * 1000)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        self.assertTrue(client.closed(timeout=10))

    def test_empty_data_frame_flood(self):
        client = self.raw()
        client.send(client.request(1, path="/dav/empty", method="PUT", end_stream=False))
        empty = DataFrame(1)
        empty.data = b""
        try:
            client.send(*([empty] * 500))
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertEqual(client.goaway(), ENHANCE_YOUR_CALM)

    def test_zero_window_stall_is_timed_out(self):
        client = self.raw(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
        client.send(client.request(1, path="/big.bin"))
        start = time.time()
        self.assertTrue(client.closed(timeout=8))
        self.assertLess(time.time() - start, 6)
        self.assertIn("COL-H2-0002", self.server.log())


class Http2RequestBodyTest(Http2ServerCase):
    """Requests that carry a body, on every kind of location (one that reads the body, a static
    file, a method not allowed) over h2c and TLS: answered first, then the body accepted or the
    error RFC 9113 names for a bad frame that follows. Regression: requests with a body got
    RST_STREAM(NO_ERROR) and no response at all."""
    # (method, path, expected status, whether the store reads the body)
    TARGETS = [("GET", "/a.txt", 200, False), ("POST", "/a.txt", 405, False),
               ("PUT", "/dav/body-{n}.bin", 201, True)]

    def clients(self):
        for tls in (False, True):
            client = RawH2(self.tls if tls else self.plain, tls=tls)
            self.addCleanup(client.close)
            yield ("tls" if tls else "h2c"), client

    def data(self, stream_id, payload, end_stream=False, pad=None):
        frame = DataFrame(stream_id)
        frame.data = payload
        if end_stream:
            frame.flags.add("END_STREAM")
        if pad is not None:
            frame.flags.add("PADDED")
            frame.pad_length = pad
        return frame

    def open_stream(self, client, stream_id, method, path, extra=()):
        client.send(client.request(stream_id, path=path, method=method, extra=extra,
                                   end_stream=False))

    def wait_for_status(self, client, stream_id):
        """Reads until the response HEADERS of stream_id; the status, or None if none came."""
        frames = client.frames_until(lambda f: isinstance(f, (HeadersFrame, RstStreamFrame,
                                                              GoAwayFrame)) and
                                     f.stream_id in (0, stream_id))
        client.backlog = getattr(client, "backlog", []) + [f for f in frames
                                                           if f.stream_id != stream_id]
        for name, value in client.decoded.get(stream_id, []):
            if name in (b":status", ":status"):
                return int(value)
        return None

    def test_bodies_are_accepted_and_answered(self):
        bodies = {"one frame of 2^14 octets": [os.urandom(2 ** 14)],
                  "several frames": [os.urandom(1000), os.urandom(16000), b"x"],
                  "padded frames": [os.urandom(500), os.urandom(700)]}
        n = 0
        for transport, client in self.clients():
            stream_id = 1
            for (method, path, status, reads) in self.TARGETS:
                for kind, parts in bodies.items():
                    n += 1
                    with self.subTest(transport=transport, method=method, body=kind):
                        target = path.format(n=n)
                        self.open_stream(client, stream_id, method, target)
                        if not reads:
                            # Answered before the body has come: the response must come first.
                            self.assertEqual(self.wait_for_status(client, stream_id), status)
                        pad = 17 if kind == "padded frames" else None
                        for i, part in enumerate(parts):
                            client.send(self.data(stream_id, part, i + 1 == len(parts), pad))
                        if reads:
                            self.assertEqual(client.response(stream_id)[0], status)
                            with open(os.path.join(self.root, target.lstrip("/")), "rb") as f:
                                self.assertEqual(f.read(), b"".join(parts))
                        else:
                            answer = client.response(stream_id)
                            self.assertNotEqual(answer[0], "reset", answer)
                        # The connection goes on serving.
                        client.send(client.request(stream_id + 2))
                        self.assertEqual(client.response(stream_id + 2)[0], 200)
                        stream_id += 4

    def test_bad_frames_after_the_request_get_their_errors(self):
        n = 0
        for tls in (False, True):
            for (method, path, status, reads) in self.TARGETS:
                def fresh():
                    client = RawH2(self.tls if tls else self.plain, tls=tls)
                    self.addCleanup(client.close)
                    return client

                def opened(client, extra=()):
                    nonlocal n
                    n += 1
                    self.open_stream(client, 1, method, path.format(n=n), extra)
                    if not reads:
                        self.assertEqual(self.wait_for_status(client, 1), status)

                label = dict(tls=tls, method=method)
                with self.subTest(case="pad length past the payload (§6.1)", **label):
                    client = fresh()
                    opened(client)
                    client.send(self.raw_frame(0x0, 0x8, 1, bytes([9]) + b"abcd"))
                    self.assertEqual(client.goaway(), PROTOCOL_ERROR)
                with self.subTest(case="DATA past content-length (§8.1.1)", **label):
                    client = fresh()
                    opened(client, extra=[("content-length", "4")])
                    client.send(self.data(1, b"0123456789", end_stream=True))
                    self.assert_stream_error(client, 1, PROTOCOL_ERROR)
                with self.subTest(case="stream window past 2^31-1 (§6.9.1)", **label):
                    client = fresh()
                    opened(client)
                    update = WindowUpdateFrame(1)
                    update.window_increment = 2 ** 31 - 1
                    client.send(update)
                    self.assert_stream_error(client, 1, FLOW_CONTROL_ERROR)
        # None of the failed uploads was kept, and the server still answers.
        self.assertEqual([f for f in os.listdir(os.path.join(self.root, "dav"))
                          if f.startswith("body-")], [])
        client = RawH2(self.plain)
        self.addCleanup(client.close)
        client.send(client.request(1))
        self.assertEqual(client.response(1)[0], 200)

    def test_unread_bodies_with_real_clients(self):
        """curl with a body the stream's window holds (curl 7.88 stalls an upload once the
        response has come, whatever the server does: curl issue 10433, fixed in curl 8), and
        nghttp with 3 MiB, which it sends until the reset that follows the response."""
        small = os.path.join(self.workdir, "sixty-k.bin")
        with open(small, "wb") as f:
            f.write(os.urandom(60000))
        for flag, scheme, port in (("--http2-prior-knowledge", "http", self.plain),
                                   ("--http2", "https", self.tls)):
            with self.subTest(client="curl", scheme=scheme):
                out = subprocess.run(["curl", "-sSk", flag, "-X", "GET", "--data-binary",
                                      "@" + small, "-o", "/dev/null", "-w", "%{http_code}",
                                      "%s://127.0.0.1:%d/a.txt" % (scheme, port)],
                                     capture_output=True, text=True, timeout=30)
                self.assertEqual((out.returncode, out.stdout), (0, "200"), out.stderr)
        large = os.path.join(self.workdir, "three-mib.bin")
        with open(large, "wb") as f:
            f.write(os.urandom(3 * 1024 * 1024))
        for url in ("http://127.0.0.1:%d/a.txt" % self.plain,
                    "https://127.0.0.1:%d/a.txt" % self.tls):
            with self.subTest(client="nghttp", url=url):
                out = subprocess.run(["nghttp", "-v", "-d", large, url], capture_output=True,
                                     text=True, timeout=30)
                self.assertEqual(out.returncode, 0, out.stderr[-2000:])
                self.assertIn(":status: 405", out.stdout)  # a POST to a file
                self.assertIn("error_code=NO_ERROR", out.stdout)

    def test_unread_body_is_reset_once_the_window_is_spent(self):
        """The window an unread body used is not given back: once the client can send no more,
        the stream is reset with NO_ERROR (after the response), and the connection goes on."""
        client = self.raw()
        client.send(client.request(1, method="POST", end_stream=False))
        self.assertEqual(self.wait_for_status(client, 1), 405)
        client.send(*[self.data(1, b"z" * 16384) for _ in range(3)], self.data(1, b"z" * 16383))
        frames = client.frames_until(lambda f: isinstance(f, RstStreamFrame) and f.stream_id == 1)
        resets = [f.error_code for f in frames if isinstance(f, RstStreamFrame)]
        self.assertEqual(resets, [0])  # NO_ERROR
        self.assertFalse([f for f in frames if isinstance(f, WindowUpdateFrame) and
                          f.stream_id == 1])
        client.send(client.request(3))
        self.assertEqual(client.response(3)[0], 200)

    def test_date_header_and_access_log(self):
        """Regression: HTTP/2 responses had no Date, and HTTP/2 requests were not logged."""
        paths = {"h2c prior knowledge": ("--http2-prior-knowledge", self.plain, "http"),
                 "h2c upgrade": ("--http2", self.plain, "http"),
                 "h2 by ALPN": ("--http2", self.tls, "https")}
        for kind, (flag, port, scheme) in paths.items():
            with self.subTest(kind=kind):
                out = subprocess.run(["curl", "-sSk", "-D", "-", "-o", "/dev/null", flag,
                                      "-A", "agent-" + kind.replace(" ", "-"),
                                      "%s://127.0.0.1:%d/a.txt?%s" % (scheme, port, port)],
                                     capture_output=True, text=True, check=True).stdout
                self.assertIn("HTTP/2 200", out)
                self.assertRegex(out, r"(?im)^date: \w{3}, \d\d \w{3} \d{4} "
                                      r"\d\d:\d\d:\d\d GMT\r?$")
        for kind in paths:
            agent = "agent-" + kind.replace(" ", "-")
            self.assertTrue(self.server.wait_for_access_log(
                lambda line: agent in line and '"GET /a.txt?' in line and "HTTP/2.0\" 200 6" in line),
                kind)


class Http2ShutdownTest(unittest.TestCase):
    def test_goaway_on_graceful_stop(self):
        server = CollageServer("""
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <DocumentRoot>/tmp</DocumentRoot>
            """)
        try:
            client = RawH2(server.port)
            client.frames_until(lambda f: isinstance(f, SettingsFrame) and "ACK" in f.flags)
            server.process.send_signal(signal.SIGWINCH)  # graceful stop
            self.assertEqual(client.goaway(timeout=10), 0)  # NO_ERROR
            client.close()
            self.assertEqual(server.process.wait(10), 0)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
