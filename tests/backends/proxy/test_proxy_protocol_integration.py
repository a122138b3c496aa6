"""The PROXY protocol both ways: a proxy_protocol="on" listener takes the client a v1 or v2
header names as the peer (the access log and the access rules see it), refuses a connection
without a valid header (closed, logged), and the proxy store sends a v1 header upstream with
ProxySendProxyProtocol (here to the same server's proxy_protocol listener)."""

import http.client
import os
import socket
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import CollageServer, free_port, recv_until_closed, wait_for  # noqa: E402




def v2_header(source, source_port, destination, destination_port):
    addresses = socket.inet_aton(source) + socket.inet_aton(destination)
    body = addresses + struct.pack("!HH", source_port, destination_port)
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) +
            body)


class ProxyProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="collage-pp-")
        os.makedirs(os.path.join(cls.workdir, "site", "private"))
        for name in ("index.html", "private/index.html"):
            with open(os.path.join(cls.workdir, "site", name), "w") as f:
                f.write("hello\n")
        cls.pp_port = free_port()
        cls.server = CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="http1" address="127.0.0.1" port="{pp}" proxy_protocol="on"/>
<LogLevel>info</LogLevel>
<AccessLog>{dir}/access.log</AccessLog>
<DocumentRoot>{dir}/site</DocumentRoot>
<Location path="/private">
  <DenyFrom>203.0.113.0/24</DenyFrom>
</Location>
<Location path="/relay">
  <Store>proxy</Store>
  <ProxyPass>http://127.0.0.1:{pp}/</ProxyPass>
  <ProxySendProxyProtocol>on</ProxySendProxyProtocol>
</Location>
""".format(dir=cls.workdir, pp=cls.pp_port), workdir=cls.workdir)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def tearDown(self):
        self.assertTrue(self.server.alive(), self.server.log())

    def exchange(self, *pieces):
        with socket.create_connection(("127.0.0.1", self.pp_port), 10) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for piece in pieces:
                sock.sendall(piece)
            return recv_until_closed(sock)

    def access_log(self):
        try:
            with open(os.path.join(self.workdir, "access.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def test_v1_and_v2_name_the_client(self):
        get = b"GET /?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        reply = self.exchange(b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 80\r\n" + get % b"v1")
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:80])
        reply = self.exchange(v2_header("198.51.100.8", 40001, "127.0.0.1", 80) + get % b"v2")
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:80])
        # The header in two writes (the parser's need_more is unit-tested: loopback may join them).
        reply = self.exchange(b"PROXY TCP4 198.51.1", b"00.9 127.0.0.1 40002 80\r\n" + get % b"split")
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply[:80])
        # Each child writes its own lines (once a second at most): wait for all three.
        wanted = ["198.51.100.7 - - ", "198.51.100.8 - - ", "198.51.100.9 - - "]
        wait_for(lambda: all(w in self.access_log() for w in wanted),
                 what="the three clients in the access log")

    def test_access_rules_see_the_named_client(self):
        get = b"GET /private/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        denied = self.exchange(b"PROXY TCP4 203.0.113.5 127.0.0.1 40000 80\r\n" + get)
        self.assertTrue(denied.startswith(b"HTTP/1.1 403"), denied[:80])
        allowed = self.exchange(b"PROXY TCP4 198.51.100.5 127.0.0.1 40000 80\r\n" + get)
        self.assertTrue(allowed.startswith(b"HTTP/1.1 200"), allowed[:80])

    def test_a_connection_without_a_valid_header_is_closed(self):
        for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"PROXY TCP4 999.1.1.1 127.0.0.1 1 2\r\nGET / HTTP/1.1\r\n\r\n"):
            self.assertEqual(self.exchange(junk), b"")
        wait_for(lambda: "COL-CORE-0010" in self.server.log(), what="the refusal's log line")

    def test_the_proxy_store_sends_a_header_upstream(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        connection.request("GET", "/relay/")
        response = connection.getresponse()
        self.assertEqual((response.status, response.read()), (200, b"hello\n"))
        connection.close()


if __name__ == "__main__":
    unittest.main()
