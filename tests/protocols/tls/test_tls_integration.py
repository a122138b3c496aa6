"""TLS listeners against the real binary: curl, openssl s_client, SNI, versions, resumption."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import (BINARY, LISTENING, ServerTestCase, connect,  # noqa: E402
                            make_certificate, recv_until_closed, wait_for)



class TlsTest(ServerTestCase):
    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0" tls="on"/>
<TLSCertificateFile>{dir}/default.test.pem</TLSCertificateFile>
<TLSCertificateKeyFile>{dir}/default.test.key</TLSCertificateKeyFile>
<VirtualHost name="default.test">
  <DocumentRoot>{root}/default</DocumentRoot>
</VirtualHost>
<VirtualHost name="b.test">
  <TLSCertificateFile>{dir}/b.test.pem</TLSCertificateFile>
  <TLSCertificateKeyFile>{dir}/b.test.key</TLSCertificateKeyFile>
  <DocumentRoot>{root}/b</DocumentRoot>
</VirtualHost>
"""

    @classmethod
    def prepare_site(cls, root):
        workdir = os.path.dirname(root)
        make_certificate(workdir, "default.test")
        make_certificate(workdir, "b.test")
        for name in ("default", "b"):
            os.makedirs(os.path.join(root, name))
            with open(os.path.join(root, name, "who.txt"), "w") as f:
                f.write(name)
        cls.big = os.urandom(3 * 1024 * 1024 + 17)
        with open(os.path.join(root, "default", "big.bin"), "wb") as f:
            f.write(cls.big)

    def port(self):
        return self.server.ports["http1"]

    def curl(self, *args):
        return subprocess.run(["curl", "-sS", "-k", *args], capture_output=True, check=True).stdout

    def s_client(self, *args, data=b""):
        return subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.port(),
                               *args], input=data, capture_output=True, timeout=20)

    def test_https_get_and_alpn_http11(self):
        out = subprocess.run(["curl", "-sS", "-k", "-v", "--http1.1",
                              "https://127.0.0.1:%d/who.txt" % self.port()],
                             capture_output=True, check=True)
        self.assertEqual(out.stdout, b"default")
        self.assertIn(b"ALPN: server accepted http/1.1", out.stderr)

    def test_openssl_s_client_shows_alpn(self):
        out = self.s_client("-alpn", "http/1.1", "-servername", "default.test", "-ign_eof",
                            data=b"GET /who.txt HTTP/1.1\r\nHost: default.test\r\n"
                                 b"Connection: close\r\n\r\n")
        self.assertIn(b"ALPN protocol: http/1.1", out.stdout)
        self.assertIn(b"\r\n\r\ndefault", out.stdout)

    def test_sni_picks_the_virtual_host_certificate(self):
        out = self.s_client("-servername", "b.test")
        self.assertIn(b"subject=CN = b.test", out.stdout)
        out = self.s_client("-servername", "default.test")
        self.assertIn(b"subject=CN = default.test", out.stdout)
        out = self.s_client("-servername", "unknown.test")
        self.assertIn(b"subject=CN = default.test", out.stdout)
        body = self.curl("--resolve", "b.test:%d:127.0.0.1" % self.port(),
                         "https://b.test:%d/who.txt" % self.port())
        self.assertEqual(body, b"b")

    def test_old_protocol_versions_are_refused(self):
        for old in ("-tls1", "-tls1_1"):
            out = self.s_client(old)
            self.assertIn(b"Cipher is (NONE)", out.stdout)
            self.assertNotEqual(out.returncode, 0)
        out = self.s_client("-tls1_2")
        self.assertIn(b"Protocol  : TLSv1.2", out.stdout)

    def test_session_resumption(self):
        session = os.path.join(self.workdir, "session.pem")
        self.s_client("-tls1_2", "-sess_out", session)
        out = self.s_client("-tls1_2", "-sess_in", session)
        self.assertIn(b"Reused, TLSv1.2", out.stdout)

    def test_large_file_over_tls_is_byte_exact(self):
        self.assertEqual(self.curl("https://127.0.0.1:%d/big.bin" % self.port()), self.big)

    def test_plain_http_on_tls_port_does_not_hurt(self):
        with connect(self.port()) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            recv_until_closed(s)
        self.assertIn("COL-TLS-0001", self.server.log())
        self.assertEqual(self.curl("https://127.0.0.1:%d/who.txt" % self.port()), b"default")

    def test_keep_alive_over_tls(self):
        url = "https://127.0.0.1:%d/who.txt" % self.port()
        out = subprocess.run(["curl", "-sS", "-k", "-v", url, url], capture_output=True, check=True)
        self.assertEqual(out.stdout, b"defaultdefault")
        self.assertIn(b"Re-using existing connection", out.stderr)


class TlsHandshakeCapTest(ServerTestCase):
    """TLSMaxHandshakes counts handshakes in progress across every child: connections that
    never finish theirs hold the places, the next ones are closed at once, and the places come
    back when those end."""

    CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0" tls="on"/>
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<StartServers>2</StartServers>
<TLSMaxHandshakes>3</TLSMaxHandshakes>
<TLSCertificateFile>{dir}/localhost.pem</TLSCertificateFile>
<TLSCertificateKeyFile>{dir}/localhost.key</TLSCertificateKeyFile>
<DocumentRoot>{root}</DocumentRoot>
<Location path="/metrics"><Store>metrics</Store></Location>
"""

    @classmethod
    def prepare_site(cls, root):
        make_certificate(os.path.dirname(root))
        with open(os.path.join(root, "ok.txt"), "w") as f:
            f.write("ok\n")

    def metric(self, name):
        plain = [int(p) for proto, _, p in LISTENING.findall(self.server.log())][1]
        with connect(plain) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            text = recv_until_closed(s).decode()
        return int(re.search(r"^%s (\d+)$" % name, text, re.M).group(1))

    def test_handshakes_past_the_cap_are_closed_and_places_come_back(self):
        tls_port = self.server.ports["http1"]
        # Three clients connect and never send a ClientHello: three handshakes in progress.
        stalled = [connect(tls_port) for _ in range(3)]
        self.addCleanup(lambda: [s.close() for s in stalled])
        wait_for(lambda: self.metric("collage_tls_handshakes_in_progress") == 3)
        refused_before = self.metric("collage_tls_handshakes_refused_total")
        for _ in range(4):
            with connect(tls_port) as extra:
                extra.sendall(b"\x16\x03\x01")  # the start of a ClientHello, no more
                self.assertEqual(recv_until_closed(extra), b"")  # closed at once, no alert
        self.assertEqual(self.metric("collage_tls_handshakes_refused_total") - refused_before, 4)
        self.assertIn("COL-TLS-0003", self.server.log())
        for s in stalled:
            s.close()
        wait_for(lambda: self.metric("collage_tls_handshakes_in_progress") == 0)
        out = subprocess.run(["curl", "-sS", "-k", "https://127.0.0.1:%d/ok.txt" % tls_port],
                             capture_output=True, timeout=20)
        self.assertEqual(out.stdout, b"ok\n")


class TlsConfigErrorsTest(unittest.TestCase):
    def check(self, body):
        directory = tempfile.mkdtemp(prefix="collage-tls-")
        make_certificate(directory, "one")
        make_certificate(directory, "two")
        path = os.path.join(directory, "c.xml")
        with open(path, "w") as f:
            f.write(body.format(dir=directory))
        result = subprocess.run([BINARY, "-t", "-f", path], capture_output=True, text=True)
        return path, result

    def test_missing_certificate_file(self):
        path, result = self.check("""<Collage>
<Listen protocol="http1" port="0" tls="on"/>
<DocumentRoot>/tmp</DocumentRoot>
<TLSCertificateFile>{dir}/missing.pem</TLSCertificateFile>
<TLSCertificateKeyFile>{dir}/one.key</TLSCertificateKeyFile>
</Collage>""")
        self.assertEqual(result.returncode, 1)
        self.assertIn(path + ":4:1: cannot load certificate", result.stderr)

    def test_key_that_does_not_match(self):
        path, result = self.check("""<Collage>
<Listen protocol="http1" port="0" tls="on"/>
<DocumentRoot>/tmp</DocumentRoot>
<TLSCertificateFile>{dir}/one.pem</TLSCertificateFile>
<TLSCertificateKeyFile>{dir}/two.key</TLSCertificateKeyFile>
</Collage>""")
        self.assertEqual(result.returncode, 1)
        self.assertIn(path + ":5:1: private key", result.stderr)
        self.assertIn("does not match certificate", result.stderr)

    def test_tls_listener_without_certificate(self):
        path, result = self.check("""<Collage>
<Listen protocol="http1" port="0" tls="maybe"/>
<DocumentRoot>/tmp</DocumentRoot>
</Collage>""")
        self.assertIn(path + ":2:1: tls must be on or off", result.stderr)
        path, result = self.check("""<Collage>
<Listen protocol="http1" port="0" tls="on"/>
<DocumentRoot>/tmp</DocumentRoot>
</Collage>""")
        self.assertIn("TLS needs TLSCertificateFile and TLSCertificateKeyFile", result.stderr)

    def test_bad_protocol_version(self):
        path, result = self.check("""<Collage>
<Listen protocol="http1" port="0" tls="on"/>
<DocumentRoot>/tmp</DocumentRoot>
<TLSCertificateFile>{dir}/one.pem</TLSCertificateFile>
<TLSCertificateKeyFile>{dir}/one.key</TLSCertificateKeyFile>
<TLSProtocols>TLSv1.0 TLSv1.3</TLSProtocols>
</Collage>""")
        self.assertIn(path + ":6:1: TLSProtocols accepts TLSv1.2 and TLSv1.3, got 'TLSv1.0'",
                      result.stderr)


if __name__ == "__main__":
    unittest.main()
