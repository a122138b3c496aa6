"""The access phase against the real binary: client address rules (AllowFrom, DenyFrom) and HTTP
Basic authentication (AuthUserFile in the FTP accounts format), on every protocol that reaches the
location, plus the configuration errors an operator can make."""

import base64
import ftplib
import io
import os
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import (CollageServer, ServerTestCase, connect, exchange,  # noqa: E402
                            recv_until_closed)


def password_hash(password):
    return subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                          check=True).stdout.strip()


CONFIG = """
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<Listen protocol="gopher" address="127.0.0.1" port="0"/>
<FtpUserFile>{dir}/users</FtpUserFile>
<DocumentRoot>{root}</DocumentRoot>
<Location path="/local"><AllowFrom>127.0.0.0/8 ::1</AllowFrom></Location>
<Location path="/elsewhere"><AllowFrom>10.0.0.0/8 2001:db8::/32</AllowFrom></Location>
<Location path="/denied"><DenyFrom>all</DenyFrom></Location>
<Location path="/deny-wins"><AllowFrom>all</AllowFrom><DenyFrom>127.0.0.1</DenyFrom></Location>
<Location path="/private">
  <AuthUserFile>{dir}/users</AuthUserFile>
  <AuthName>Private "area"</AuthName>
</Location>
<Location path="/alice-only">
  <AuthUserFile>{dir}/users</AuthUserFile>
  <AuthUsers>alice</AuthUsers>
</Location>
<Location path="/server-status">
  <Store>status</Store>
  <AllowFrom>127.0.0.1 ::1</AllowFrom>
  <AuthUserFile>{dir}/users</AuthUserFile>
</Location>
"""

PLACES = ["local", "elsewhere", "denied", "deny-wins", "private", "alice-only"]


class AccessTest(ServerTestCase):
    CONFIG = CONFIG

    @classmethod
    def prepare_site(cls, root):
        workdir = os.path.dirname(root)
        with open(os.path.join(workdir, "users"), "w") as f:
            f.write("alice:%s:/:read\n" % password_hash("wonderland"))
            f.write("bob:%s:/:read\n" % password_hash("builder"))
        for place in PLACES:
            os.makedirs(os.path.join(root, place))
            with open(os.path.join(root, place, "f.txt"), "w") as f:
                f.write("in %s\n" % place)

    def http1(self, path, user=None):
        headers = b""
        if user:
            headers = b"Authorization: Basic " + base64.b64encode(user.encode()) + b"\r\n"
        return exchange(self.server.port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" +
                        headers + b"Connection: close\r\n\r\n")

    def h2_status(self, path, *extra):
        result = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null",
                                 "-w", "%{http_code}", *extra, self.server.url(path)],
                                capture_output=True, text=True, timeout=30)
        return int(result.stdout)

    def ftp_get(self, path, user="anonymous", password="guest"):
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        ftp.login(user, password)
        out = io.BytesIO()
        try:
            ftp.retrbinary("RETR " + path, out.write)
            return out.getvalue()
        except ftplib.error_perm as e:
            return str(e)
        finally:
            ftp.close()

    def gopher_get(self, selector):
        sock = connect(self.server.ports["gopher"])
        self.addCleanup(sock.close)
        sock.sendall(selector.encode() + b"\r\n")
        return recv_until_closed(sock)

    def test_address_rules_on_every_protocol(self):
        expect = {"local": True, "elsewhere": False, "denied": False, "deny-wins": False}
        for place, allowed in expect.items():
            with self.subTest(place=place):
                path = "/%s/f.txt" % place
                self.assertEqual(self.http1(path).status, 200 if allowed else 403)
                self.assertEqual(self.h2_status(path), 200 if allowed else 403)
                got = self.ftp_get(path)
                if allowed:
                    self.assertEqual(got, b"in %s\n" % place.encode())
                else:
                    self.assertTrue(got.startswith("550"), got)
                gopher = self.gopher_get(path)
                if allowed:
                    self.assertEqual(gopher, b"in %s\r\n.\r\n" % place.encode())  # text item
                else:
                    self.assertTrue(gopher.startswith(b"3"), gopher)  # an error menu item
        self.assertIn("COL-ACCESS-0001", self.server.log())

    def test_basic_auth_challenge_and_users(self):
        response = self.http1("/private/f.txt")
        self.assertEqual(response.status, 401)
        self.assertEqual(response.header("WWW-Authenticate"),
                         'Basic realm="Private \\"area\\"", charset="UTF-8"')
        self.assertIn(b"Request ID", response.body)  # the styled error page
        self.assertEqual(self.http1("/private/f.txt", "alice:wonderland").status, 200)
        self.assertEqual(self.http1("/private/f.txt", "bob:builder").body, b"in private\n")
        self.assertEqual(self.http1("/private/f.txt", "alice:wrong").status, 401)
        self.assertEqual(self.http1("/private/f.txt", "mallory:x").status, 401)
        self.assertEqual(self.http1("/alice-only/f.txt", "bob:builder").status, 401)
        self.assertEqual(self.http1("/alice-only/f.txt", "alice:wonderland").status, 200)
        log = self.server.log()
        self.assertIn("user 'alice' gave a wrong password", log)
        self.assertIn("user 'mallory' unknown", log)
        self.assertIn("user 'bob' not among AuthUsers", log)

    def test_malformed_credentials_get_the_challenge(self):
        for value in [b"Basic", b"Basic !!!!", b"Basic " + base64.b64encode(b"nocolon"),
                      b"Bearer abc", b"Basic YWxpY2U6d29uZGVybGFuZA"]:  # unpadded
            with self.subTest(value=value):
                response = exchange(self.server.port, b"GET /private/f.txt HTTP/1.1\r\nHost: x\r\n"
                                    b"Authorization: " + value + b"\r\nConnection: close\r\n\r\n")
                self.assertEqual(response.status, 401)
        self.assertTrue(self.server.alive())

    def test_basic_auth_over_http2(self):
        self.assertEqual(self.h2_status("/private/f.txt"), 401)
        self.assertEqual(self.h2_status("/private/f.txt", "-u", "alice:wonderland"), 200)
        self.assertEqual(self.h2_status("/private/f.txt", "-u", "alice:nope"), 401)

    def test_ftp_users_pass_as_themselves(self):
        # FTP has no Authorization header: a user who logged in over FTP and is in the file
        # passes; anonymous does not.
        self.assertEqual(self.ftp_get("/private/f.txt", "alice", "wonderland"), b"in private\n")
        self.assertTrue(self.ftp_get("/private/f.txt").startswith("550"))
        self.assertTrue(self.ftp_get("/alice-only/f.txt", "bob", "builder").startswith("550"))

    def test_status_page_for_loopback_users_only(self):
        self.assertEqual(self.http1("/server-status?auto").status, 401)
        response = self.http1("/server-status?auto", "alice:wonderland")
        self.assertEqual(response.status, 200)
        self.assertIn(b"Total Accesses", response.body)


class AccessConfigErrorsTest(unittest.TestCase):
    def check(self, body):
        server_dir = os.path.join(os.environ.get("COLLAGE_TEST_ARTIFACTS", "/tmp"), "access-t")
        os.makedirs(server_dir, exist_ok=True)
        path = os.path.join(server_dir, "c.xml")
        with open(path, "w") as f:
            f.write('<?xml version="1.0"?>\n<Collage>\n<Mpm>event</Mpm>\n'
                    '<Listen protocol="http1" address="127.0.0.1" port="0"/>\n' + body +
                    "\n</Collage>\n")
        return subprocess.run([os.environ["COLLAGE_BINARY"], "-t", "-f", path],
                              capture_output=True, text=True)

    def test_bad_address_is_reported_with_its_line(self):
        result = self.check("<Location path=\"/x\">\n<AllowFrom>127.0.0.1 10.0.0.0/33 banana"
                            "</AllowFrom>\n</Location>")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("c.xml:6:1: AllowFrom: '10.0.0.0/33' is not an address", result.stderr)
        self.assertIn("'banana'", result.stderr)

    def test_missing_or_bad_accounts_file(self):
        result = self.check("<AuthUserFile>/nonexistent/users</AuthUserFile>")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("cannot read AuthUserFile /nonexistent/users", result.stderr)


if __name__ == "__main__":
    unittest.main()
