"""The FastCGI store against Debian's php-fpm (a PHP page reading a POST body and setting headers)
and fcgiwrap (running CGI scripts): parameters, bodies of both framings, stderr in the error log,
an application server that recycles its processes (pooled connections it closed), one that is
down (502) and one that is slow (504), under every MPM."""

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import CollageServer  # noqa: E402

PHP_FPM = shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2"
FCGIWRAP = shutil.which("fcgiwrap") or "/usr/sbin/fcgiwrap"

INDEX_PHP = r"""<?php
header("X-Php: yes");
header("Cache-Control: private");
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
  $body = file_get_contents('php://input');
  echo "posted ", strlen($body), " ", md5($body), " name=", $_POST['name'] ?? '', "\n";
} else {
  echo "script=", $_SERVER['SCRIPT_NAME'], " file=", $_SERVER['SCRIPT_FILENAME'],
       " info=", $_SERVER['PATH_INFO'] ?? '', " q=", $_SERVER['QUERY_STRING'],
       " addr=", $_SERVER['REMOTE_ADDR'], " param=", $_SERVER['FROM_CONFIG'] ?? '', "\n";
}
error_log("php-stderr-marker");
"""

SLOW_PHP = "<?php sleep(5); echo 'late';\n"
REDIRECT_PHP = "<?php header('Location: /plain.txt');\n"
STATUS_PHP = "<?php http_response_code(404); echo 'none here';\n"

HELLO_CGI = "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello via fcgiwrap %s\\n' \"$QUERY_STRING\"\n"


def wait_for(predicate, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def get(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class FastCgiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="collage-fcgi-")
        www = os.path.join(cls.dir, "www")
        cgi = os.path.join(cls.dir, "cgi")
        site = os.path.join(cls.dir, "site")
        for d in (www, cgi, site):
            os.makedirs(d)
        for name, text in (("index.php", INDEX_PHP), ("slow.php", SLOW_PHP),
                           ("redirect.php", REDIRECT_PHP), ("status.php", STATUS_PHP)):
            with open(os.path.join(www, name), "w") as f:
                f.write(text)
        with open(os.path.join(cgi, "hello.sh"), "w") as f:
            f.write(HELLO_CGI)
        os.chmod(os.path.join(cgi, "hello.sh"), 0o755)
        with open(os.path.join(site, "plain.txt"), "w") as f:
            f.write("plain file\n")
        os.makedirs(os.path.join(site, "front"))
        with open(os.path.join(site, "front", "asset.txt"), "w") as f:
            f.write("a file of the front-controlled app\n")
        # Two pools: "www" for one connection per request; "kept" for pooled connections, whose
        # workers are recycled after 3 requests, closing the connections Collage keeps open.
        with open(os.path.join(cls.dir, "fpm.conf"), "w") as f:
            f.write("[global]\nerror_log = %s/fpm.log\ndaemonize = no\n"
                    "[www]\nlisten = %s/php.sock\npm = static\npm.max_children = 3\n"
                    "clear_env = no\n"
                    "[kept]\nlisten = %s/kept.sock\npm = static\npm.max_children = 8\n"
                    "pm.max_requests = 3\nclear_env = no\n" % (cls.dir, cls.dir, cls.dir))
        cls.fpm = subprocess.Popen([PHP_FPM, "-n", "-y", os.path.join(cls.dir, "fpm.conf"), "-R"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.wrap = subprocess.Popen([FCGIWRAP, "-s", "unix:%s/wrap.sock" % cls.dir],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(os.path.join(cls.dir, "php.sock")) and
                 os.path.exists(os.path.join(cls.dir, "kept.sock")) and
                 os.path.exists(os.path.join(cls.dir, "wrap.sock")), what="application servers")
        cls.server = CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="gopher" address="127.0.0.1" port="0"/>
<DocumentRoot>{dir}/site</DocumentRoot>
<Location path="/php">
  <Store>fastcgi</Store>
  <FastCgiPass>unix:{dir}/php.sock</FastCgiPass>
  <FastCgiRoot>{dir}/www</FastCgiRoot>
  <FastCgiSplitExtensions>.php</FastCgiSplitExtensions>
  <FastCgiIndex>index.php</FastCgiIndex>
  <FastCgiReadTimeout>1s</FastCgiReadTimeout>
  <FastCgiSetParam>FROM_CONFIG=yes</FastCgiSetParam>
</Location>
<!-- The front-controller pattern (nginx's try_files $uri /index.php?$args). -->
<Location path="/front">
  <TryFiles>$uri $uri/ /php/index.php?$args</TryFiles>
</Location>
<Location path="/kept">
  <Store>fastcgi</Store>
  <FastCgiPass>unix:{dir}/kept.sock</FastCgiPass>
  <FastCgiRoot>{dir}/www</FastCgiRoot>
  <FastCgiSplitExtensions>.php</FastCgiSplitExtensions>
  <FastCgiKeepalive>2</FastCgiKeepalive>
</Location>
<Location path="/wrap">
  <Store>fastcgi</Store>
  <FastCgiPass>unix:{dir}/wrap.sock</FastCgiPass>
  <FastCgiRoot>{dir}/cgi</FastCgiRoot>
</Location>
<Location path="/down">
  <Store>fastcgi</Store>
  <FastCgiPass>unix:{dir}/nobody.sock</FastCgiPass>
  <FastCgiRoot>{dir}/www</FastCgiRoot>
</Location>
<Location path="/tcp-down">
  <Store>fastcgi</Store>
  <FastCgiPass>127.0.0.1:1</FastCgiPass>
  <FastCgiRoot>{dir}/www</FastCgiRoot>
</Location>
""".format(dir=cls.dir))

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        for process in (cls.fpm, cls.wrap):
            process.terminate()
            process.wait(10)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def tearDown(self):
        self.assertTrue(self.server.alive(), "server died:\n" + self.server.log())

    def test_php_page_with_path_info_query_and_headers(self):
        status, headers, body = get(self.server.url("/php/index.php/users/7?x=1"))
        self.assertEqual(status, 200)
        self.assertEqual(headers["X-Php"], "yes")
        self.assertEqual(headers["Cache-Control"], "private")
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        text = body.decode()
        self.assertIn("script=/php/index.php", text)
        self.assertIn("file=%s/www/index.php" % self.dir, text)
        self.assertIn("info=/users/7", text)
        self.assertIn("q=x=1", text)
        self.assertIn("addr=127.0.0.1", text)
        self.assertIn("param=yes", text)
        self.assertIn("script=/php/index.php", get(self.server.url("/php/"))[2].decode())
        wait_for(lambda: "/php/index.php (unix:%s/php.sock): PHP message: php-stderr-marker" %
                 self.dir in self.server.log(), what="PHP's stderr in the error log")

    def test_try_files_sends_what_is_not_a_file_to_php(self):
        status, _, body = get(self.server.url("/front/asset.txt"))
        self.assertEqual((status, body), (200, b"a file of the front-controlled app\n"))
        status, headers, body = get(self.server.url("/front/users/7?tab=posts"))
        self.assertEqual((status, headers["X-Php"]), (200, "yes"))
        self.assertIn("script=/php/index.php", body.decode())
        self.assertIn("q=tab=posts", body.decode())
        status, _, body = get(self.server.url("/front/login"), data=b"name=bob",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((status, body), (200, b"posted 8 %s name=bob\n" %
                                          hashlib.md5(b"name=bob").hexdigest().encode()))

    def test_post_bodies_with_length_and_chunked(self):
        status, _, body = get(self.server.url("/php/index.php"), data=b"name=alice",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((status, body), (200, b"posted 10 %s name=alice\n" %
                                          hashlib.md5(b"name=alice").hexdigest().encode()))
        payload = os.urandom(3 * 1024 * 1024 + 3)
        expected = b"posted %d %s name=\n" % (len(payload), hashlib.md5(payload).hexdigest().encode())
        status, _, body = get(self.server.url("/php/index.php"), data=payload,
                              headers={"Content-Type": "application/octet-stream"})
        self.assertEqual((status, body), (200, expected))
        chunked = subprocess.run(["curl", "-s", "-H", "Transfer-Encoding: chunked", "-H",
                                  "Content-Type: application/octet-stream", "--data-binary", "@-",
                                  self.server.url("/php/index.php")], input=payload,
                                 capture_output=True)
        self.assertEqual(chunked.stdout, expected)

    def test_many_requests_across_recycled_php_workers(self):
        # Every third request php-fpm closes a pooled connection: none may fail.
        for i in range(20):
            status, _, body = get(self.server.url("/kept/index.php?n=%d" % i))
            self.assertEqual(status, 200, i)
            self.assertIn(b"q=n=%d" % i, body)
        # Between requests the connection stays open (FastCgiKeepalive 2); where keep-alive is
        # off (/php), none does.
        wait_for(lambda: self.connections_to("kept.sock") >= 1, what="a pooled connection")
        get(self.server.url("/php/index.php"))
        wait_for(lambda: self.connections_to("php.sock") == 0, what="no pooled connection")

    def connections_to(self, name):
        """Connected Unix sockets whose address is the application server's socket."""
        out = subprocess.run(["ss", "-xH", "state", "connected"], capture_output=True,
                             text=True).stdout
        return sum(1 for line in out.splitlines() if os.path.join(self.dir, name) in line)

    def test_redirects_statuses_and_fcgiwrap(self):
        self.assertEqual(get(self.server.url("/php/redirect.php"))[2], b"plain file\n")
        status, _, body = get(self.server.url("/php/status.php"))
        self.assertEqual((status, body), (404, b"none here"))
        status, _, body = get(self.server.url("/wrap/hello.sh?abc"))
        self.assertEqual((status, body), (200, b"hello via fcgiwrap abc\n"))
        sock = socket.create_connection(("127.0.0.1", self.server.ports["gopher"]))
        sock.sendall(b"/php/index.php\tgopher words\r\n")
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        sock.close()
        self.assertIn(b"q=gopher+words", data)

    def test_down_is_502_and_slow_is_504_with_log_lines(self):
        self.assertEqual(get(self.server.url("/down/index.php"))[0], 502)
        self.assertEqual(get(self.server.url("/tcp-down/index.php"))[0], 502)
        wait_for(lambda: "cannot connect to unix:%s/nobody.sock" % self.dir in self.server.log(),
                 what="the connect failure logged")
        started = time.time()
        self.assertEqual(get(self.server.url("/php/slow.php"))[0], 504)
        self.assertLess(time.time() - started, 4)
        wait_for(lambda: "sent no header within FastCgiReadTimeout" in self.server.log(),
                 what="the timeout logged")
        # The application server is still usable afterwards.
        self.assertEqual(get(self.server.url("/php/index.php"))[0], 200)


if __name__ == "__main__":
    unittest.main()
