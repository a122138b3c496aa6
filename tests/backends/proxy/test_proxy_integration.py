"""The reverse proxy store against real upstream servers (upstream.py, started by the test):
what is sent upstream (path mapping, forwarding fields, hop-by-hop removal), bodies both ways
(declared, chunked, close-delimited, large), every way an upstream can fail (down, slow,
garbage), balancing and passive health seen from the upstreams' own counts, connection reuse,
Location rewriting, HEAD, and the cache in front of an upstream."""

import hashlib
import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
sys.path.insert(0, os.path.dirname(__file__))
from collage_server import (CollageServer, free_port, http_request, recv_until_closed,  # noqa: E402
                            wait_for)
from upstream import Upstream  # noqa: E402


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = Upstream("a")
        cls.b = Upstream("b")
        cls.c = Upstream("c")
        cls.dead = free_port()  # nothing listens here
        cls.workdir = tempfile.mkdtemp(prefix="collage-proxy-")
        cls.server = CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<LogLevel>info</LogLevel>
<DocumentRoot>{dir}</DocumentRoot>
<CacheMemoryDirectory>{dir}/memory-tier</CacheMemoryDirectory>
<Location path="/app">
  <Store>proxy</Store>
  <ProxyPass>http://127.0.0.1:{a}/base</ProxyPass>
</Location>
<Location path="/ws-idle">
  <Store>proxy</Store>
  <ProxyPass>http://127.0.0.1:{a}/</ProxyPass>
  <ProxyTunnelTimeout>1s</ProxyTunnelTimeout>
</Location>
<Location path="/shaped">
  <Store>proxy</Store>
  <ProxyPass>http://127.0.0.1:{a}/</ProxyPass>
  <RequestHeader>set X-Prefix /shaped</RequestHeader>
  <RequestHeader>unset Cookie</RequestHeader>
  <Header>set X-Edge collage</Header>
</Location>
<Location path="/pair">
  <Store>proxy</Store>
  <ProxyPass>http://127.0.0.1:{b}/ http://127.0.0.1:{c}/ weight=3</ProxyPass>
</Location>
<Location path="/halfdead">
  <Store>proxy</Store>
  <ProxyPass>http://127.0.0.1:{dead}/ http://127.0.0.1:{a}/</ProxyPass>
  <ProxyFailTimeout>60s</ProxyFailTimeout>
</Location>
<Location path="/dead">
  <Store>proxy</Store>
  <ProxyPass>http://127.0.0.1:{dead}/</ProxyPass>
</Location>
<Location path="/impatient">
  <Store>proxy</Store>
  <ProxyPass>http://127.0.0.1:{a}/</ProxyPass>
  <ProxyReadTimeout>300ms</ProxyReadTimeout>
</Location>
<Location path="/checked">
  <Store>proxy</Store>
  <ProxyPass>http://127.0.0.1:{b}/ http://127.0.0.1:{c}/</ProxyPass>
  <ProxyHealthCheck>/health</ProxyHealthCheck>
  <ProxyHealthInterval>100ms</ProxyHealthInterval>
  <ProxyHealthFall>2</ProxyHealthFall>
  <ProxyHealthRise>1</ProxyHealthRise>
</Location>
<Location path="/cached">
  <Store>proxy</Store>
  <ProxyPass>http://127.0.0.1:{a}/</ProxyPass>
  <Cache>on</Cache>
</Location>
""".format(dir=cls.workdir, a=cls.a.port, b=cls.b.port, c=cls.c.port, dead=cls.dead),
            workdir=cls.workdir)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        for upstream in (cls.a, cls.b, cls.c):
            upstream.stop()

    def tearDown(self):
        self.assertTrue(self.server.alive(), self.server.log())

    def get(self, path, **kwargs):
        return http_request(self.server.port, path, **kwargs)

    def test_what_goes_upstream(self):
        status, headers, body = self.get("/app/some/where?x=1&y=%20", headers={
            "Host": "front.example", "X-Custom": "kept"})
        self.assertEqual(status, 200)
        record = json.loads(body)
        self.assertEqual(record["path"], "/base/some/where?x=1&y=%20")
        sent = {k.lower(): v for k, v in record["headers"]}
        self.assertEqual(sent["host"], "127.0.0.1:%d" % self.a.port)
        self.assertEqual(sent["x-custom"], "kept")
        self.assertEqual(sent["x-forwarded-for"], "127.0.0.1")
        self.assertEqual(sent["x-forwarded-proto"], "http")
        self.assertEqual(sent["x-forwarded-host"], "front.example")
        self.assertEqual(sent["forwarded"], 'for=127.0.0.1;proto=http;host="front.example"')
        self.assertEqual(sent["via"], "1.1 collage")
        self.assertIn("1.1 collage", headers["via"])
        self.assertEqual(headers["x-upstream"], "a")

    def websocket(self, path, early=b""):
        """A client's WebSocket handshake through the proxy; the socket after the 101 head, the
        head, and the bytes that came with it."""
        sock = socket.create_connection(("127.0.0.1", self.server.port), 10)
        sock.sendall(b"GET %s HTTP/1.1\r\nHost: front\r\nUpgrade: websocket\r\n"
                     b"Connection: keep-alive, Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\n\r\n%s" % (path.encode(), early))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        return sock, head.decode("latin-1"), rest

    def read_exactly(self, sock, n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            self.assertTrue(chunk, "the tunnel closed after %d of %d bytes" % (len(data), n))
            data += chunk
        return data

    def test_websocket_is_tunnelled_both_ways(self):
        sock, head, rest = self.websocket("/app/websocket", early=b"early bytes")
        with sock:
            self.assertTrue(head.startswith("HTTP/1.1 101 "), head)
            fields = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
                      for line in head.split("\r\n")[1:]}
            self.assertEqual(fields["upgrade"].lower(), "websocket")
            self.assertEqual(fields["connection"].lower(), "upgrade")
            # RFC 6455 §1.3's example key and answer: the upstream's handshake came through.
            self.assertEqual(fields["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            self.assertEqual(fields["x-saw-connection"].lower(), "upgrade")
            # The upstream's greeting, then the echo of what was sent with the request head (the
            # first read may already hold some or all of it).
            expected = b"\x81\x05hello" + b"early bytes"
            self.assertLessEqual(len(rest), len(expected))
            self.assertEqual(rest + self.read_exactly(sock, len(expected) - len(rest)), expected)
            # Then 1 MiB each way, concurrently.
            payload = os.urandom(1024 * 1024).replace(b"CLOSE", b"close")
            received = []
            reader = threading.Thread(
                target=lambda: received.append(self.read_exactly(sock, len(payload))))
            reader.start()
            sock.sendall(payload)
            reader.join(30)
            self.assertEqual(received, [payload])
            # The upstream ends the WebSocket: the client's side is closed too.
            sock.sendall(b"CLOSE")
            sock.settimeout(10)
            self.assertEqual(sock.recv(1), b"")
        # The connection is not reused, and the proxy goes on serving.
        self.assertEqual(self.get("/app/echo")[0], 200)

    def test_an_idle_tunnel_is_closed(self):
        sock, head, rest = self.websocket("/ws-idle/websocket")
        with sock:
            self.assertTrue(head.startswith("HTTP/1.1 101 "), head)
            sock.settimeout(10)
            data = rest
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            self.assertEqual(data, b"\x81\x05hello")
        wait_for(lambda: "COL-PROXY-0005" in self.server.log(), 5, "the idle tunnel's log line")

    def test_upgrade_is_not_passed_when_nobody_asked_for_it(self):
        # Without "Connection: upgrade" the Upgrade field is hop-by-hop noise: a plain request.
        status, _, body = self.get("/app/websocket", headers={"Upgrade": "websocket"})
        self.assertEqual(status, 200)
        sent = {k.lower() for k, _ in json.loads(body)["headers"]}
        self.assertNotIn("upgrade", sent)

    def test_request_headers_set_for_the_upstream(self):
        status, headers, body = self.get("/shaped/echo", headers={"Cookie": "session=1",
                                                                  "X-Prefix": "client's"})
        self.assertEqual(status, 200)
        sent = {}
        for name, value in json.loads(body)["headers"]:
            sent.setdefault(name.lower(), []).append(value)
        self.assertEqual(sent["x-prefix"], ["/shaped"])
        self.assertNotIn("cookie", sent)
        self.assertEqual(headers["x-edge"], "collage")

    def test_hop_by_hop_fields_stay_on_their_hop(self):
        with socket.create_connection(("127.0.0.1", self.server.port), 10) as sock:
            sock.sendall(b"GET /app/echo HTTP/1.1\r\nHost: x\r\nConnection: close, X-Drop\r\n"
                         b"X-Drop: secret\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\n\r\n")
            raw = recv_until_closed(sock)
        record = json.loads(raw.split(b"\r\n\r\n", 1)[1])
        sent = {k.lower() for k, _ in record["headers"]}
        for name in ("x-drop", "keep-alive", "te"):
            self.assertNotIn(name, sent)
        status, headers, _ = self.get("/app/hop")
        self.assertEqual(status, 200)
        self.assertNotIn("x-secret", headers)
        self.assertNotIn("keep-alive", headers)
        self.assertEqual(headers["x-kept"], "yes")

    def test_request_bodies_declared_and_chunked(self):
        payload = os.urandom(5 * 1024 * 1024 + 3)
        status, _, body = self.get("/app/echo", method="POST", body=payload)
        record = json.loads(body)
        self.assertEqual(record["body_length"], len(payload))
        self.assertEqual(record["body_sha256"], hashlib.sha256(payload).hexdigest())
        self.assertFalse(record["chunked"])

        def pieces():
            for i in range(0, len(payload), 100000):
                yield payload[i:i + 100000]

        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        connection.request("PUT", "/app/echo", body=pieces(), encode_chunked=True,
                           headers={"Transfer-Encoding": "chunked"})
        record = json.loads(connection.getresponse().read())
        connection.close()
        self.assertTrue(record["chunked"])
        self.assertEqual(record["body_sha256"], hashlib.sha256(payload).hexdigest())

    def test_response_bodies_of_every_framing(self):
        status, _, body = self.get("/app/chunked?parts=50")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"".join(b"part %d\n" % i for i in range(50)))
        status, _, body = self.get("/app/close")
        self.assertEqual(body, b"until the server closes\n" * 100)
        size = 20 * 1024 * 1024 + 11
        status, headers, body = self.get("/app/big?size=%d" % size)
        self.assertEqual(int(headers["content-length"]), size)
        expected = (bytes(range(256)) * 256 * (size // 65536 + 1))[:size]
        self.assertEqual(hashlib.sha256(body).hexdigest(), hashlib.sha256(expected).hexdigest())
        status, headers, body = self.get("/app/big?size=1234", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(headers["content-length"], "1234")

    def test_failures_become_502_and_504_with_a_log_line(self):
        status, _, _ = self.get("/dead/x")
        self.assertEqual(status, 502)
        self.assertIn("127.0.0.1:%d" % self.dead, self.server.log())
        status, _, _ = self.get("/impatient/slow?delay=2")
        self.assertEqual(status, 504)
        self.assertIn("ProxyReadTimeout", self.server.log())
        status, _, _ = self.get("/app/garbage")
        self.assertEqual(status, 502)
        self.assertIn("malformed response head", self.server.log())

    def test_weighted_round_robin(self):
        # Weights 1 and 3. Each child process keeps its own turn (as nginx's workers do), so
        # under prefork the split is right on average, not request by request.
        before = (self.b.requests, self.c.requests)
        for _ in range(200):
            self.assertEqual(self.get("/pair/echo")[0], 200)
        to_b, to_c = self.b.requests - before[0], self.c.requests - before[1]
        self.assertEqual(to_b + to_c, 200)
        self.assertTrue(0.6 <= to_c / 200 <= 0.9, (to_b, to_c))

    def test_a_dead_server_is_left_out(self):
        for _ in range(6):
            status, headers, _ = self.get("/halfdead/echo")
            self.assertEqual(status, 200)
            self.assertEqual(headers["x-upstream"], "a")
        self.assertIn("is left out", self.server.log())

    def test_active_health_checks_take_a_server_out_and_back(self):
        # One keep-alive connection: one child, whose checker its first request starts.
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)

        def upstream_of_next_request():
            connection.request("GET", "/checked/echo")
            response = connection.getresponse()
            response.read()
            self.assertEqual(response.status, 200)
            return response.getheader("X-Upstream")

        upstream_of_next_request()
        wait_for(lambda: self.c.health_checks > 0, what="health checks to start")
        self.c.healthy = False
        try:
            # Until the checks see it (two wrong answers), c may still get requests.
            wait_for(lambda: all(upstream_of_next_request() == "b" for _ in range(6)),
                     what="c to be left out")
            before = self.c.requests
            for _ in range(10):
                self.assertEqual(upstream_of_next_request(), "b")
            self.assertEqual(self.c.requests, before)
        finally:
            self.c.healthy = True
        wait_for(lambda: upstream_of_next_request() == "c", what="c to be taken back")
        connection.close()
        self.assertIn("failed its health check", self.server.log())
        self.assertIn("back in", self.server.log())

    def test_connections_are_reused(self):
        # One client connection (so one child, whose pool it is): ten requests, at most one new
        # upstream connection.
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        connection.request("GET", "/app/echo")
        connection.getresponse().read()
        before = self.a.connections
        for _ in range(10):
            connection.request("GET", "/app/echo")
            self.assertEqual(connection.getresponse().read()[:1], b"{")
        connection.close()
        self.assertLessEqual(self.a.connections - before, 1)

    def test_location_and_cookie_paths_are_rewritten(self):
        status, headers, _ = self.get("/app/redirect?base=/base", headers={"Host": "front:8000"})
        self.assertEqual(status, 302)
        self.assertEqual(headers["location"], "http://front:8000/app/elsewhere")
        _, headers, _ = self.get("/app/cookie")
        self.assertEqual(headers["set-cookie"], "id=1; Path=/app/area; HttpOnly")

    def test_the_cache_in_front_of_an_upstream(self):
        before = self.a.requests
        first = self.get("/cached/cacheable")
        second = self.get("/cached/cacheable")
        self.assertIn("stored", first[1]["cache-status"])
        self.assertIn("hit", second[1]["cache-status"])
        self.assertEqual(second[2], first[2])
        self.assertEqual(self.a.requests - before, 1)


if __name__ == "__main__":
    unittest.main()
