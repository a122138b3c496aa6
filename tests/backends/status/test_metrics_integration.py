"""Prometheus metrics and the status page's numbers, under real load on every protocol.

Each test makes a known load (curl and sockets for HTTP/1.1, h2load for HTTP/2, Python's ftplib
for FTP, raw sockets for Gopher, an https request and a failed handshake for TLS), then reads
/metrics with prometheus_client's own text parser and checks that every count moved by exactly
what the test did, that label sets stay bounded, and that counters never go backwards when a
child dies or the configuration is reloaded. Runs under every MPM (COLLAGE_TEST_MPM).
"""

import ftplib
import io
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import (LISTENING, ServerTestCase, http_request,  # noqa: E402
                            install_certificate, wait_for)

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # setup.sh installs python3-prometheus-client
    text_string_to_metric_families = None

PAGE = b"<p>counted</p>\n" * 64


def scrape(port):
    """Every sample of /metrics as {(name, frozenset(labels)): value}, parsed by Prometheus's
    own parser (which refuses malformed exposition text)."""
    status, headers, body = http_request(port, "/metrics")
    assert status == 200, status
    assert headers["content-type"].startswith("text/plain; version=0.0.4"), headers
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in samples, "duplicate series %r" % (key,)
            samples[key] = sample.value
    return samples


def value(samples, name, **labels):
    """The sum of every sample of name whose labels include `labels` (0 if none)."""
    want = set(labels.items())
    return sum(v for (n, l), v in samples.items() if n == name and want <= l)


def gopher(port, selector):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(selector.encode() + b"\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data


@unittest.skipUnless(text_string_to_metric_families, "needs python3-prometheus-client")
class MetricsTest(ServerTestCase):
    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="http1" address="127.0.0.1" port="0" tls="on"/>
<Listen protocol="gopher" address="127.0.0.1" port="0"/>
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<TLSCertificateFile>{dir}/cert.pem</TLSCertificateFile>
<TLSCertificateKeyFile>{dir}/key.pem</TLSCertificateKeyFile>
<FtpAnonymousUpload>/incoming</FtpAnonymousUpload>
<DocumentRoot>{root}</DocumentRoot>
<Writable>on</Writable>
<Location path="/metrics"><Store>metrics</Store></Location>
<Location path="/server-status"><Store>status</Store></Location>
"""

    @classmethod
    def prepare_site(cls, root):
        install_certificate(os.path.dirname(root))
        with open(os.path.join(root, "page.html"), "wb") as f:
            f.write(PAGE)
        os.makedirs(os.path.join(root, "incoming"))

    def ports(self, protocol):
        return [int(p) for proto, _, p in LISTENING.findall(self.server.log()) if proto == protocol]

    def ftp_client(self):
        client = ftplib.FTP()
        client.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        client.login()
        self.addCleanup(client.close)
        return client

    def settled(self, predicate):
        """Scrapes until predicate(samples) holds: a request is counted just after its last
        byte is handed to the kernel, so the client may see it a moment earlier."""
        return wait_for(lambda: (lambda s: s if predicate(s) else None)(scrape(self.server.port)),
                        what="the metrics to count the load")

    def test_every_protocol_counts_exactly_its_load(self):
        port = self.server.port
        before = scrape(port)
        ok_http, missing_http, h2_requests, gopher_requests, downloads = 7, 3, 12, 5, 4

        for _ in range(ok_http):
            status, _, body = http_request(port, "/page.html")
            self.assertEqual((status, body), (200, PAGE))
        for i in range(missing_http):
            self.assertEqual(http_request(port, "/missing-%d" % i)[0], 404)
        h2 = subprocess.run(["h2load", "-n", str(h2_requests), "-c", "2", "-m", "1",
                             "http://127.0.0.1:%d/page.html" % port],
                            capture_output=True, text=True, timeout=60)
        self.assertIn("%d succeeded" % h2_requests, h2.stdout)
        gopher_port = self.server.ports["gopher"]
        for _ in range(gopher_requests):
            self.assertEqual(gopher(gopher_port, "/page.html"), PAGE)
        client = self.ftp_client()
        for _ in range(downloads):
            buf = io.BytesIO()
            client.retrbinary("RETR /page.html", buf.write)
            self.assertEqual(buf.getvalue(), PAGE)
        client.storbinary("STOR /incoming/up.bin", io.BytesIO(b"x" * 1000))
        # TLS: one handshake that works, one that is not TLS at all.
        tls_port = self.ports("http1")[1]
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET /page.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                while tls.recv(65536):
                    pass
        with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as raw:
            raw.sendall(b"GET / HTTP/1.1\r\n\r\n")
            raw.recv(100)  # the server's alert, or nothing: either way it closes

        def delta(samples, name, **labels):
            return value(samples, name, **labels) - value(before, name, **labels)

        # The first scrape is itself one more 2xx over HTTP/1.1; so is each later one but the
        # last (counted after it is written).
        def counted(samples):
            return (delta(samples, "collage_requests_total", protocol="gopher", code="2xx")
                    == gopher_requests and
                    delta(samples, "collage_requests_total", protocol="ftp", code="2xx")
                    == downloads + 1 and
                    delta(samples, "collage_requests_total", protocol="http2", code="2xx")
                    == h2_requests and
                    delta(samples, "collage_tls_handshakes_total", result="failed") == 1)
        after = self.settled(counted)
        http1_ok = delta(after, "collage_requests_total", protocol="http1", code="2xx")
        # Ours, the TLS one, and the scrapes: at least the first, at most one per poll.
        self.assertGreaterEqual(http1_ok, ok_http + 1 + 1)
        self.assertEqual(delta(after, "collage_requests_total", protocol="http1", code="4xx"),
                         missing_http)
        self.assertEqual(delta(after, "collage_requests_total", code="5xx"), 0)
        self.assertEqual(delta(after, "collage_response_bytes_total", protocol="gopher"),
                         gopher_requests * len(PAGE))
        self.assertEqual(delta(after, "collage_response_bytes_total", protocol="http2"),
                         h2_requests * len(PAGE))
        self.assertEqual(delta(after, "collage_response_bytes_total", protocol="ftp"),
                         downloads * len(PAGE))
        self.assertEqual(delta(after, "collage_http2_streams_total"), h2_requests)
        self.assertEqual(delta(after, "collage_ftp_transfers_total", direction="download",
                               result="complete"), downloads)
        self.assertEqual(delta(after, "collage_ftp_transfers_total", direction="upload",
                               result="complete"), 1)
        self.assertEqual(delta(after, "collage_ftp_transfer_bytes_total", direction="upload"),
                         1000)
        self.assertEqual(delta(after, "collage_ftp_sessions_total"), 1)
        self.assertEqual(delta(after, "collage_connections_total", protocol="gopher"),
                         gopher_requests)
        self.assertEqual(delta(after, "collage_connections_total", protocol="http2"), 0)
        self.assertEqual(delta(after, "collage_tls_handshakes_total", result="ok"), 1)
        # Every request of a series is in its duration histogram, and buckets only grow.
        for (name, labels), count in after.items():
            if name != "collage_request_duration_seconds_count":
                continue
            series = dict(labels)
            requests = value(after, "collage_requests_total", **series)
            self.assertEqual(count, requests, series)
            buckets = sorted((float(dict(l)["le"]), v) for (n, l), v in after.items()
                             if n == "collage_request_duration_seconds_bucket" and
                             set(series.items()) <= l)
            self.assertEqual(buckets[-1], (float("inf"), count))
            self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets))

    def test_connection_states_by_protocol(self):
        port = self.server.port
        held = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(held.close)
        held.sendall(b"GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while not got.endswith(PAGE):
            got += held.recv(65536)
        silent = socket.create_connection(("127.0.0.1", self.server.ports["gopher"]), timeout=10)
        self.addCleanup(silent.close)

        def states(samples):
            return (value(samples, "collage_connections_in_state", protocol="http1",
                          state="keepalive"),
                    value(samples, "collage_connections_open", protocol="gopher"),
                    value(samples, "collage_connections_in_state", protocol="gopher"))
        # The held connection waits in keep-alive; the silent gopher one is open and reading.
        # The scrape's own connection is busy while it is answered.
        samples = wait_for(lambda: (lambda s: s if states(s) == (1, 1, 0) else None)(
            scrape(port)), what="keep-alive and reading connections counted")
        self.assertEqual(value(samples, "collage_connections_in_state", protocol="http1",
                               state="busy"), 1)
        held.close()
        silent.close()
        wait_for(lambda: states(scrape(port)) == (0, 0, 0), what="closed connections uncounted")
        json_now = json.loads(http_request(port, "/server-status?json")[2])
        self.assertEqual(json_now["protocols"]["gopher"]["connections"], 0)

    def test_labels_stay_bounded(self):
        port = self.server.port
        for i in range(30):
            http_request(port, "/distinct-path-%d?q=%d" % (i, i))
            gopher(self.server.ports["gopher"], "/another-%d" % i)
        samples = scrape(port)
        label_values = {v for (_, labels) in samples for _, v in labels}
        self.assertFalse([v for v in label_values if "distinct" in v or "another" in v])
        self.assertNotIn("127.0.0.1", label_values)  # the client's address is never a label
        self.assertLess(len(samples), 400)
        names = {dict(labels).get("protocol") for (_, labels) in samples} - {None}
        self.assertLessEqual(names, {"http1", "http2", "ftp", "gopher"})

    def test_status_json_and_page_agree_with_the_load(self):
        port = self.server.port
        gopher_port = self.server.ports["gopher"]
        start = json.loads(http_request(port, "/server-status?json")[2])
        for _ in range(6):
            gopher(gopher_port, "/page.html")

        def now():
            return json.loads(http_request(port, "/server-status?json")[2])
        status = wait_for(lambda: (lambda s: s if s["protocols"]["gopher"]["requests"] -
                                   start["protocols"]["gopher"]["requests"] == 6 else None)(now()))
        self.assertEqual(status["protocols"]["gopher"]["bytes"] -
                         start["protocols"]["gopher"]["bytes"], 6 * len(PAGE))
        self.assertGreater(status["protocols"]["http1"]["requests"], 0)
        self.assertEqual(status["server"]["generation"], 1)
        self.assertTrue(status["children"])
        html = http_request(port, "/server-status")[2].decode()
        row = html.split('<tr data-protocol="gopher">')[1].split("</tr>")[0]
        self.assertIn("<td class=n>%d</td>" % status["protocols"]["gopher"]["requests"], row)
        self.assertIn("<svg", html)
        # ?auto keeps the lines scripts read.
        auto = http_request(port, "/server-status?auto")[2].decode()
        self.assertIn("Total Accesses: ", auto)


@unittest.skipUnless(text_string_to_metric_families, "needs python3-prometheus-client")
class CountersOutliveChildrenTest(ServerTestCase):
    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<DocumentRoot>{root}</DocumentRoot>
<Location path="/metrics"><Store>metrics</Store></Location>
"""

    @classmethod
    def prepare_site(cls, root):
        with open(os.path.join(root, "page.html"), "wb") as f:
            f.write(PAGE)

    def requests_2xx(self):
        return value(scrape(self.server.port), "collage_requests_total", code="2xx")

    def test_a_killed_child_and_a_reload_keep_every_count(self):
        port = self.server.port
        for _ in range(20):
            http_request(port, "/page.html")
        counted = wait_for(lambda: (lambda n: n if n >= 21 else None)(self.requests_2xx()))
        # A connection held open across the kill: its open gauge must go with its child.
        held = socket.create_connection(("127.0.0.1", port))
        held.sendall(b"GET /page.html HTTP/1.1\r\nHost: x\r\n\r\n")
        held.recv(65536)
        self.addCleanup(held.close)
        wait_for(lambda: value(scrape(port), "collage_connections_open") >= 1)
        victims = self.server.children()
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: self.server.children() and
                 not set(self.server.children()) & set(victims), what="new children")
        # Nothing the dead children counted is lost (the held request included), and their
        # open connections no longer count.
        after = wait_for(lambda: (lambda s: s if value(s, "collage_requests_total", code="2xx")
                                  >= counted + 1 else None)(scrape(port)))
        self.assertEqual(value(after, "collage_connections_open"), 1)  # this scrape's own
        before_reload = value(after, "collage_requests_total", code="2xx")
        self.server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: value(scrape(port), "collage_generation") == 2, what="generation 2")
        self.assertGreaterEqual(self.requests_2xx(), before_reload + 1)

    def test_request_metrics_off_counts_no_requests(self):
        # A second server with RequestMetrics off: connections still count, requests do not.
        from collage_server import CollageServer
        server = CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<DocumentRoot>%s</DocumentRoot>
<RequestMetrics>off</RequestMetrics>
<Location path="/metrics"><Store>metrics</Store></Location>
""" % self.root)
        self.addCleanup(server.cleanup)
        for _ in range(3):
            http_request(server.port, "/page.html")
        samples = scrape(server.port)
        self.assertFalse([k for k in samples if k[0].startswith("collage_requests")])
        self.assertGreaterEqual(value(samples, "collage_connections_total"), 4)


if __name__ == "__main__":
    unittest.main()
