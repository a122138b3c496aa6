"""Per-address limits counted across every child (MaxConnectionsPerAddress,
RequestRatePerAddress), under the MPM COLLAGE_TEST_MPM names: the connection past the cap is
closed while the others are served, another front end is counted apart, a freed place is
taken again; requests past the rate get 429 with Retry-After (HTTP/1.1 and HTTP/2), a Gopher
error item or an FTP 450, cache hits on the quick path count too, and the address is served
again in the next second.
"""

import ftplib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import CollageServer, connect, wait_for  # noqa: E402


def site():
    root = tempfile.mkdtemp(prefix="collage-limits-")
    os.chmod(root, 0o755)
    os.makedirs(os.path.join(root, "cached"))
    for name in ("page.txt", "cached/page.txt"):
        with open(os.path.join(root, name), "w") as f:
            f.write("a page\n")
    return root


def closed_at_once(sock):
    """True when the server closes a fresh connection without a byte."""
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def refused_count(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/server-status?json" % port, timeout=5) as r:
        return json.loads(r.read())["totals"]["refused"]


class ConnectionCapTest(unittest.TestCase):
    def setUp(self):
        self.server = CollageServer("""
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <Listen protocol="gopher" address="127.0.0.1" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <MaxConnectionsPerAddress>3</MaxConnectionsPerAddress>
            <ThreadsPerChild>8</ThreadsPerChild>
            <Location path="/server-status"><Store>status</Store></Location>
            """ % site())
        self.addCleanup(self.server.cleanup)

    def hold(self):
        """An answered keep-alive connection, which keeps its place."""
        s = connect(self.server.port, timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"GET /page.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"a page", s.recv(4096))
        return s

    def test_the_connection_past_the_cap_is_closed_and_a_freed_place_is_taken(self):
        held = [self.hold() for _ in range(3)]
        extra = connect(self.server.port, timeout=10)
        self.addCleanup(extra.close)
        self.assertTrue(closed_at_once(extra))
        self.assertTrue(wait_for(lambda: "COL-CORE-0016" in self.server.log()))
        self.assertIn("MaxConnectionsPerAddress", self.server.log())
        # Another front end is counted apart.
        with socket.create_connection(("127.0.0.1", self.server.ports["gopher"]),
                                      timeout=10) as s:
            s.sendall(b"/page.txt\r\n")
            self.assertTrue(s.recv(4096).startswith(b"a page"))
        # The held connections still work, and one closed frees a place.
        held[0].sendall(b"GET /page.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertIn(b"a page", held[0].recv(4096))
        held[0].close()

        def served():
            try:
                with urllib.request.urlopen(self.server.url("/page.txt"), timeout=5) as r:
                    return r.read() == b"a page\n"
            except (OSError, http.client.HTTPException):
                return False
        self.assertTrue(wait_for(served))
        self.assertGreaterEqual(refused_count(self.server.port), 1)


class RequestRateTest(unittest.TestCase):
    def setUp(self):
        self.server = CollageServer("""
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <Listen protocol="h2" address="127.0.0.1" port="0"/>
            <Listen protocol="gopher" address="127.0.0.1" port="0"/>
            <Listen protocol="ftp" address="127.0.0.1" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <RequestRatePerAddress>5</RequestRatePerAddress>
            <CacheMemoryDirectory>%s</CacheMemoryDirectory>
            <Location path="/cached">
              <Cache>on</Cache>
              <CacheValid>200 10m</CacheValid>
            </Location>
            """ % (site(), tempfile.mkdtemp(prefix="collage-limits-memory-")))
        self.addCleanup(self.server.cleanup)

    def burst(self, port, count, extra=()):
        """count requests as fast as curl makes them: their statuses, and [status, Retry-After]."""
        urls = []
        for _ in range(count):
            urls += ["-o", "/dev/null", "http://127.0.0.1:%d/page.txt" % port]
        result = subprocess.run(["curl", "-s", "-w", "%{http_code} %header{retry-after}\\n",
                                 *extra, *urls], capture_output=True, text=True, timeout=30)
        lines = [line.split(" ") for line in result.stdout.split("\n") if line]
        return [line[0] for line in lines], lines

    def h2_burst(self, port, count):
        """count requests one after another on one h2c connection (curl 7.88 cannot reuse one:
        its HTTP/2 framing error on the second request, whatever the server)."""
        import h2.config
        import h2.connection
        import h2.events
        connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        lines = []
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            connection.initiate_connection()
            s.sendall(connection.data_to_send())
            for i in range(count):
                stream = 1 + 2 * i
                connection.send_headers(stream, [(":method", "GET"), (":path", "/page.txt"),
                                                 (":scheme", "http"), (":authority", "x")],
                                        end_stream=True)
                s.sendall(connection.data_to_send())
                ended = False
                while not ended:
                    for event in connection.receive_data(s.recv(65536)):
                        if isinstance(event, h2.events.ResponseReceived):
                            headers = dict(event.headers)
                            lines.append([headers[b":status"].decode(),
                                          headers.get(b"retry-after", b"").decode()])
                        elif isinstance(event, h2.events.DataReceived):
                            connection.acknowledge_received_data(event.flow_controlled_length,
                                                                 event.stream_id)
                        ended = ended or isinstance(event, (h2.events.StreamEnded,
                                                            h2.events.ConnectionTerminated))
                    s.sendall(connection.data_to_send())
        return [line[0] for line in lines], lines

    def test_http1_and_http2_get_429_past_the_rate_then_are_served_again(self):
        for burst in (lambda count: self.burst(self.server.port, count),
                      lambda count: self.h2_burst(self.server.ports["h2"], count)):
            statuses, heads = burst(20)
            self.assertEqual(len(statuses), 20)
            # The burst may straddle two one-second windows: at most ten pass.
            self.assertLessEqual(statuses.count("200"), 10, statuses)
            self.assertGreaterEqual(statuses.count("429"), 10, statuses)
            self.assertTrue(all(retry == ("1" if status == "429" else "")
                                for status, retry in heads), heads)

            def served_again():
                return burst(1)[0] == ["200"]
            self.assertTrue(wait_for(served_again, timeout=5))
        self.assertIn("COL-CORE-0015", self.server.log())

    def test_cache_hits_on_the_quick_path_count_too(self):
        url = "http://127.0.0.1:%d/cached/page.txt" % self.server.port

        def quick_hit():
            result = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                                     "%{http_code} %header{cache-status}", url],
                                    capture_output=True, text=True, timeout=10)
            return result.stdout.startswith("200") and "detail=quick" in result.stdout
        self.assertTrue(wait_for(quick_hit, timeout=5))
        urls = []
        for _ in range(20):
            urls += ["-o", "/dev/null", url]
        result = subprocess.run(["curl", "-s", "-w", "%{http_code}\\n", *urls],
                                capture_output=True, text=True, timeout=30)
        statuses = result.stdout.split()
        self.assertEqual(len(statuses), 20)
        self.assertGreaterEqual(statuses.count("429"), 10, statuses)

    def test_gopher_gets_an_error_item_and_ftp_a_450(self):
        port = self.server.ports["gopher"]
        answers = []
        for _ in range(12):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"/page.txt\r\n")
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
                answers.append(data)
        self.assertTrue(any(a.startswith(b"3") for a in answers), answers)
        self.assertTrue(any(a.startswith(b"a page") for a in answers), answers)

        def rate_exhausted_then_450():
            ftp = ftplib.FTP()
            ftp.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
            ftp.login()
            try:
                for _ in range(12):
                    ftp.retrbinary("RETR page.txt", lambda data: None)
            except ftplib.error_temp as error:
                return str(error).startswith("450")
            finally:
                ftp.close()
            return False
        self.assertTrue(rate_exhausted_then_450())


if __name__ == "__main__":
    unittest.main()
