"""The real client behind trusted proxies (RealIpFrom, RealIpHeader) over HTTP/1.1 and h2: the
access log and the access rules see the client a trusted proxy names (the rightmost address that
is not a trusted proxy itself); a peer that is not trusted cannot name anyone."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import CollageServer, wait_for  # noqa: E402


def server(trusted, header="X-Forwarded-For"):
    workdir = tempfile.mkdtemp(prefix="collage-realip-")
    os.makedirs(os.path.join(workdir, "site", "private"))
    for name in ("index.html", "private/index.html"):
        with open(os.path.join(workdir, "site", name), "w") as f:
            f.write("hello\n")
    return CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<AccessLog>{dir}/access.log</AccessLog>
<RealIpFrom>{trusted}</RealIpFrom>
<RealIpHeader>{header}</RealIpHeader>
<DocumentRoot>{dir}/site</DocumentRoot>
<Location path="/private">
  <DenyFrom>203.0.113.0/24</DenyFrom>
</Location>
""".format(dir=workdir, trusted=trusted, header=header), workdir=workdir)


def curl(port, path, *headers, http2=False):
    argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]
    if http2:
        argv.append("--http2-prior-knowledge")
    for header in headers:
        argv += ["-H", header]
    return subprocess.run(argv + ["http://127.0.0.1:%d%s" % (port, path)], capture_output=True,
                          text=True, timeout=20).stdout


def logged_clients(s, count):
    def lines():
        try:
            with open(os.path.join(s.dir, "access.log")) as f:
                found = f.read().splitlines()
        except FileNotFoundError:
            return None
        return found if len(found) >= count else None
    return [line.split(" ", 1)[0] for line in wait_for(lines, what="access log lines")]


class RealIpTest(unittest.TestCase):
    def test_a_trusted_proxy_names_the_client(self):
        s = server("127.0.0.1 10.0.0.0/8")
        try:
            for http2 in (False, True):
                self.assertEqual(curl(s.port, "/", "X-Forwarded-For: 198.51.100.4", http2=http2),
                                 "200")
            # Proxies we trust are skipped from the right; the first other one is the client.
            self.assertEqual(curl(s.port, "/", "X-Forwarded-For: 1.2.3.4, 198.51.100.5, 10.1.1.1"),
                             "200")
            self.assertEqual(curl(s.port, "/private/", "X-Forwarded-For: 203.0.113.9"), "403")
            self.assertEqual(curl(s.port, "/private/", "X-Forwarded-For: 198.51.100.6"), "200")
            self.assertEqual(curl(s.port, "/", "X-Forwarded-For: not-an-address"), "200")
            # Each line is written once its response is out: compared as a multiset.
            clients = logged_clients(s, 6)
            self.assertEqual(sorted(clients), sorted(["198.51.100.4", "198.51.100.4",
                                                      "198.51.100.5", "203.0.113.9",
                                                      "198.51.100.6", "127.0.0.1"]))
        finally:
            s.cleanup()

    def test_forwarded_header(self):
        s = server("127.0.0.1", header="Forwarded")
        try:
            self.assertEqual(curl(s.port, "/", 'Forwarded: for="[2001:db8::7]:4711";proto=https'),
                             "200")
            self.assertEqual(logged_clients(s, 1), ["2001:db8::7"])
        finally:
            s.cleanup()

    def test_an_untrusted_peer_names_nobody(self):
        s = server("10.0.0.0/8")
        try:
            self.assertEqual(curl(s.port, "/private/", "X-Forwarded-For: 198.51.100.4"), "200")
            self.assertEqual(curl(s.port, "/private/", "X-Forwarded-For: 203.0.113.9"), "200")
            self.assertEqual(logged_clients(s, 2), ["127.0.0.1", "127.0.0.1"])
        finally:
            s.cleanup()


if __name__ == "__main__":
    unittest.main()
