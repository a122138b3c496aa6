"""The admin API against a running server (docs/admin-api.md), under the MPM COLLAGE_TEST_MPM
names: the configuration read back as it was loaded; candidates validated with every error
located; applies that lose no HTTP/1.1, HTTP/2 or FTP transfer in flight; concurrent applies
serialized; a candidate that fails at bind time changing nothing; rollback; writing the file
back; subtree changes by path; the TCP form's token and address rules; collagectl.
"""

import ftplib
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import (BINARY, CollageServer, free_port, prefork_module,  # noqa: E402
                            wait_for)

COLLAGECTL = os.path.join(os.path.dirname(BINARY or "."), "collagectl")
MPM = os.environ.get("COLLAGE_TEST_MPM", "event")


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix-domain socket, as curl --unix-socket does."""

    def __init__(self, path, timeout=90):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def call(socket_path, method, path, body=None, headers=None):
    """One admin request; returns (status, body bytes, headers)."""
    connection = UnixHTTPConnection(socket_path)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), response.headers
    finally:
        connection.close()


def call_json(socket_path, method, path, body=None, headers=None):
    status, data, _ = call(socket_path, method, path, body, headers)
    return status, json.loads(data)


def site(files):
    root = tempfile.mkdtemp(prefix="collage-admin-site-")
    os.chmod(root, 0o755)
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    return root


class AdminServer:
    """A server with a Unix-socket admin listener; body() makes the rest of its configuration."""

    def __init__(self, root, default_type="text/x-one", extra=""):
        self.root = root
        self.dir = tempfile.mkdtemp(prefix="collage-admin-")
        self.socket = os.path.join(self.dir, "admin.sock")
        self.http_port = free_port()
        self.h2_port = free_port()
        self.ftp_port = free_port()
        self.server = CollageServer(self.body(default_type, extra), workdir=self.dir)

    def body(self, default_type, extra=""):
        header = (prefork_module() if MPM == "prefork" else "") + "<Mpm>%s</Mpm>" % MPM
        return """
            %s
            <!-- kept when the source is read back -->
            <Define name="ROOT" value="%s"/>
            <Listen protocol="http1" address="127.0.0.1" port="%d"/>
            <Listen protocol="h2" address="127.0.0.1" port="%d"/>
            <Listen protocol="ftp" address="127.0.0.1" port="%d"/>
            <Listen protocol="http1" address="unix:%s" admin="on"/>
            <DocumentRoot>${ROOT}</DocumentRoot>
            <DefaultType>%s</DefaultType>
            %s
            """ % (header, self.root, self.http_port, self.h2_port, self.ftp_port, self.socket,
                   default_type, extra)

    def candidate(self, default_type, extra=""):
        # As CollageServer writes its file, so a candidate differs from it only where it says.
        return ('<?xml version="1.0"?>\n<Collage>\n' +
                textwrap.dedent(self.body(default_type, extra)) + "\n</Collage>\n")

    def apply(self, xml, query=""):
        return call_json(self.socket, "POST", "/config" + query, xml.encode(),
                         {"Content-Type": "application/xml"})

    def served_type(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/plain" % self.http_port,
                                    timeout=5) as r:
            return r.headers["Content-Type"]

    def generation(self):
        return call_json(self.socket, "GET", "/status")[1]["generation"]

    def cleanup(self):
        self.server.cleanup()


class ReadBackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = AdminServer(site({"plain": b"x"}))

    @classmethod
    def tearDownClass(cls):
        cls.admin.cleanup()

    def test_the_source_comes_back_as_it_was_loaded(self):
        status, data, headers = call(self.admin.socket, "GET", "/config.xml?form=source")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("application/xml"))
        with open(self.admin.server.config_path, "rb") as f:
            self.assertEqual(data, f.read())
        self.assertIn(b"${ROOT}", data)
        self.assertIn(b"<!-- kept when the source is read back -->", data)

    def test_the_effective_form_is_what_collage_dash_T_prints(self):
        status, data, _ = call(self.admin.socket, "GET", "/config.xml")
        self.assertEqual(status, 200)
        printed = subprocess.run([BINARY, "-T", "-f", self.admin.server.config_path],
                                 capture_output=True, cwd=self.admin.dir, check=True).stdout
        self.assertEqual(data, printed)
        self.assertIn(("<DocumentRoot>%s</DocumentRoot>" % self.admin.root).encode(), data)

    def test_the_defaults_form_shows_defaults_and_loads_back(self):
        status, view = call_json(self.admin.socket, "GET", "/config?defaults=1")
        self.assertEqual(status, 200)
        self.assertIn("<KeepAliveTimeout>", view["xml"])
        self.assertNotIn("<KeepAliveTimeout>", call_json(self.admin.socket, "GET",
                                                         "/config")[1]["xml"])
        status, result = call_json(self.admin.socket, "POST", "/config/validate",
                                   view["xml"].encode(), {"Content-Type": "application/xml"})
        self.assertEqual((status, result["ok"], result["errors"]), (200, True, []))

    def test_the_json_form_mirrors_the_xml(self):
        status, form = call_json(self.admin.socket, "GET", "/config.json")
        self.assertEqual(status, 200)
        self.assertEqual(form["DefaultType"], "text/x-one")
        self.assertEqual(form["Mpm"], MPM)
        admin = [listen for listen in form["Listen"] if listen.get("admin") == "on"]
        self.assertEqual(admin[0]["address"], "unix:" + self.admin.socket)

    def test_binary_protobuf_is_spoken_too(self):
        status, data, headers = call(self.admin.socket, "GET", "/generations",
                                     headers={"Accept": "application/x-protobuf"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/x-protobuf")
        # GenerationList { repeated GenerationInfo generations = 1 }: field 1, length-delimited.
        self.assertEqual(data[0], 0x0A)

    def test_validate_lists_every_error_with_file_line_and_column(self):
        candidate = self.admin.candidate("text/plain", """
            <DocumentRot>/tmp</DocumentRot>
              <KeepAliveTimeout>banana</KeepAliveTimeout>""")
        lines = candidate.split("\n")
        first = next(i for i, line in enumerate(lines) if "<DocumentRot>" in line)
        before = self.admin.generation()
        status, result = call_json(self.admin.socket, "POST", "/config/validate",
                                   candidate.encode(), {"Content-Type": "application/xml"})
        self.assertEqual(status, 200)
        self.assertFalse(result["ok"])
        located = {(e["line"], e["column"]): e["message"] for e in result["errors"]}
        self.assertIn("did you mean 'DocumentRoot'",
                      located[(first + 1, lines[first].index("<") + 1)])
        self.assertIn("expects a duration",
                      located[(first + 2, lines[first + 1].index("<") + 1)])
        self.assertEqual(self.admin.generation(), before)  # validating touches nothing

    def test_unknown_endpoints_and_methods_get_json_errors(self):
        status, reply = call_json(self.admin.socket, "GET", "/nothing")
        self.assertEqual(status, 404)
        self.assertIn("/config", reply["message"])
        status, reply = call_json(self.admin.socket, "DELETE", "/generations")
        self.assertEqual(status, 405)

    def test_public_listeners_never_reach_the_admin_store(self):
        # The public listener routes by Host; there is no host that leads to the admin store.
        for host in ("admin", "localhost", "collage-admin"):
            request = urllib.request.Request("http://127.0.0.1:%d/generations" %
                                             self.admin.http_port, headers={"Host": host})
            with self.assertRaises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            self.assertEqual(refused.exception.code, 404)
            self.assertNotIn(b"generations", refused.exception.read())


class ApplyTest(unittest.TestCase):
    def setUp(self):
        self.big = os.urandom(24 * 1024 * 1024)
        self.admin = AdminServer(site({"plain": b"x", "big.bin": self.big}))
        self.addCleanup(self.admin.cleanup)

    def test_apply_loses_no_transfer_in_flight(self):
        digest = hashlib.sha256(self.big).hexdigest()
        out = tempfile.mkdtemp(prefix="collage-admin-out-")
        # A rate-limited HTTP/1.1 download and an HTTP/2 stream, each a few seconds long.
        downloads = [subprocess.Popen(
            ["curl", "-sS", "--limit-rate", "6M", "-o", os.path.join(out, name), *flags,
             "http://127.0.0.1:%d/big.bin" % port])
            for name, flags, port in (("h1", [], self.admin.http_port),
                                      ("h2", ["--http2-prior-knowledge"], self.admin.h2_port))]
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.admin.ftp_port, timeout=30)
        ftp.login()
        ftp.voidcmd("TYPE I")
        data = ftp.transfercmd("RETR big.bin")
        data.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        received = [data.recv(65536)]
        for name in ("h1", "h2"):
            self.assertTrue(wait_for(lambda: os.path.exists(os.path.join(out, name)) and
                                     os.path.getsize(os.path.join(out, name)) > 0))
        status, result = self.admin.apply(self.admin.candidate("text/x-two"), "?comment=test")
        self.assertEqual(status, 200, result)
        self.assertTrue(result["ok"])
        self.assertEqual(result["generation"], 2)
        self.assertTrue(wait_for(lambda: self.admin.served_type() == "text/x-two"))
        while True:
            chunk = data.recv(1 << 20)
            if not chunk:
                break
            received.append(chunk)
        data.close()
        self.assertTrue(ftp.voidresp().startswith("226"))
        ftp.quit()
        self.assertEqual(hashlib.sha256(b"".join(received)).hexdigest(), digest)
        for process, name in zip(downloads, ("h1", "h2")):
            self.assertEqual(process.wait(timeout=60), 0, name)
            with open(os.path.join(out, name), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), digest, name)
        self.assertIn("COL-ADMIN-0010", self.admin.server.log())

    def test_concurrent_applies_are_serialized(self):
        results = {}

        def apply(kind):
            results[kind] = self.admin.apply(self.admin.candidate(kind))

        threads = [threading.Thread(target=apply, args=(kind,))
                   for kind in ("text/x-a", "text/x-b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        generations = sorted(result["generation"] for _, result in results.values())
        self.assertEqual(generations, [2, 3])
        last = next(kind for kind, (_, result) in results.items() if result["generation"] == 3)
        self.assertTrue(wait_for(lambda: self.admin.served_type() == last))
        listed = call_json(self.admin.socket, "GET", "/generations")[1]["generations"]
        self.assertEqual([g["number"] for g in listed], [3, 2, 1])
        self.assertEqual([g["serving"] for g in listed], [True, False, False])

    def test_a_candidate_that_fails_at_bind_time_changes_nothing(self):
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        self.addCleanup(taken.close)
        candidate = self.admin.candidate("text/x-two", '<Listen protocol="gopher" '
                                         'address="127.0.0.1" port="%d"/>' %
                                         taken.getsockname()[1])
        status, result = self.admin.apply(candidate)
        self.assertEqual(status, 422)
        self.assertFalse(result["ok"])
        self.assertEqual(result["generation"], 1)
        self.assertIn("listeners could not be bound", result["errors"][0]["message"])
        self.assertEqual(self.admin.served_type(), "text/x-one")
        self.assertIn("COL-ADMIN-0011", self.admin.server.log())
        # And one that does not load at all.
        status, result = self.admin.apply(self.admin.candidate("text/x-two", "<Nonsense/>"))
        self.assertEqual((status, result["generation"]), (422, 1))
        self.assertIn("unknown directive 'Nonsense'", result["errors"][0]["message"])

    def test_json_candidates_apply_like_xml(self):
        form = call_json(self.admin.socket, "GET", "/config.json")[1]
        form["DefaultType"] = "text/x-from-json"
        status, result = call_json(self.admin.socket, "POST", "/config",
                                   json.dumps({"json": form, "comment": "json"}).encode(),
                                   {"Content-Type": "application/json"})
        self.assertEqual(status, 200, result)
        self.assertTrue(wait_for(lambda: self.admin.served_type() == "text/x-from-json"))

    def test_rollback_returns_to_the_previous_source(self):
        with open(self.admin.server.config_path) as f:
            original = f.read()
        self.assertEqual(self.admin.apply(self.admin.candidate("text/x-two"))[0], 200)
        self.assertTrue(wait_for(lambda: self.admin.served_type() == "text/x-two"))
        status, result = call_json(self.admin.socket, "POST", "/rollback", b"")
        self.assertEqual(status, 200, result)
        self.assertEqual(result["generation"], 3)
        self.assertTrue(wait_for(lambda: self.admin.served_type() == "text/x-one"))
        status, data, _ = call(self.admin.socket, "GET", "/config.xml?form=source")
        self.assertEqual(data.decode(), original)
        listed = call_json(self.admin.socket, "GET", "/generations")[1]["generations"]
        self.assertEqual(listed[0]["how"], "rollback")
        self.assertEqual(listed[0]["comment"], "to generation 1")
        status, result = call_json(self.admin.socket, "POST", "/rollback?to=77", b"")
        self.assertEqual(status, 422)
        self.assertIn("not remembered", result["errors"][0]["message"])

    def test_persist_writes_the_candidate_and_keeps_the_previous_file(self):
        path = self.admin.server.config_path
        with open(path) as f:
            original = f.read()
        candidate = self.admin.candidate("text/x-two") + "<!-- a comment of the candidate -->\n"
        status, result = self.admin.apply(candidate, "?persist=1")
        self.assertEqual(status, 200, result)
        self.assertEqual(result["written_to"], path)
        with open(path) as f:
            self.assertEqual(f.read(), candidate)
        with open(path + ".previous") as f:
            self.assertEqual(f.read(), original)
        self.assertEqual([n for n in os.listdir(self.admin.dir) if ".tmp-" in n], [])

    def test_subtrees_change_by_path(self):
        socket_path = self.admin.socket
        status, data, _ = call(socket_path, "GET", "/config/tree/DefaultType")
        self.assertEqual((status, data.strip()), (200, b"<DefaultType>text/x-one</DefaultType>"))
        status, result = call_json(socket_path, "PUT", "/config/tree/DefaultType",
                                   b"<DefaultType>text/x-tree</DefaultType>")
        self.assertEqual(status, 200, result)
        self.assertTrue(wait_for(lambda: self.admin.served_type() == "text/x-tree"))
        status, result = call_json(socket_path, "POST", "/config/tree/",
                                   b'<Location path="/elsewhere"><DefaultType>text/x-elsewhere'
                                   b'</DefaultType></Location>')
        self.assertEqual(status, 200, result)
        status, data, _ = call(socket_path, "GET", "/config/tree/Location[/elsewhere]")
        self.assertIn(b"text/x-elsewhere", data)
        status, result = call_json(socket_path, "DELETE", "/config/tree/Location[/elsewhere]")
        self.assertEqual(status, 200, result)
        source = call(socket_path, "GET", "/config.xml?form=source")[1]
        self.assertNotIn(b"/elsewhere", source)
        self.assertIn(b"${ROOT}", source)  # the source keeps its variables through changes
        status, result = call_json(socket_path, "GET", "/config/tree/Listen")
        self.assertEqual(status, 404)
        self.assertIn("ambiguous", result["errors"][0]["message"])
        status, result = call_json(socket_path, "GET", "/config/tree/VirtualHost[nowhere]")
        self.assertEqual(status, 404)
        status, data, _ = call(socket_path, "GET", "/config/tree/Listen[4]")
        self.assertIn(b'admin="on"', data)


class PurgeTest(unittest.TestCase):
    def setUp(self):
        root = site({})
        os.makedirs(os.path.join(root, "cached"))
        for name in ("a.txt", "b.txt"):
            with open(os.path.join(root, "cached", name), "w") as f:
                f.write("cached " + name)
        memory = tempfile.mkdtemp(prefix="collage-admin-memory-")
        self.admin = AdminServer(root, extra="""
            <CacheMemoryDirectory>%s</CacheMemoryDirectory>
            <Location path="/cached">
              <Cache>on</Cache>
              <CacheValid>200 10m</CacheValid>
            </Location>""" % memory)
        self.addCleanup(self.admin.cleanup)

    def cache_status(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.admin.http_port, path),
                                    timeout=5) as r:
            r.read()
            return r.headers.get("Cache-Status", "")

    def warm(self, path):
        self.cache_status(path)
        self.assertTrue(wait_for(lambda: "hit" in self.cache_status(path)), path)

    def purge(self, request):
        return call_json(self.admin.socket, "POST", "/cache/purge", json.dumps(request).encode(),
                         {"Content-Type": "application/json"})

    def test_one_entry_then_a_prefix(self):
        self.warm("/cached/a.txt")
        self.warm("/cached/b.txt")
        status, result = self.purge({"url": "http://localhost/cached/a.txt"})
        self.assertEqual(status, 200, result)
        self.assertEqual(int(result["purged"]), 1)
        self.assertNotIn("hit", self.cache_status("/cached/a.txt"))
        self.assertIn("hit", self.cache_status("/cached/b.txt"))
        self.warm("/cached/a.txt")
        status, result = self.purge({"url": "/cached/", "prefix": True})
        self.assertEqual(status, 200, result)
        self.assertGreaterEqual(int(result["purged"]), 2)
        self.assertNotIn("hit", self.cache_status("/cached/a.txt"))
        self.assertNotIn("hit", self.cache_status("/cached/b.txt"))
        self.assertIn("COL-ADMIN-0014", self.admin.server.log())
        status, result = self.purge({"url": "no-slash"})
        self.assertEqual(status, 400)


class TcpAdminTest(unittest.TestCase):
    TOKEN = "0123456789abcdef0123456789abcdef"

    def config(self, address, token_line):
        port = free_port()
        return port, ((prefork_module() if MPM == "prefork" else "") + """
            <Mpm>%s</Mpm>
            <Listen protocol="http1" address="%s" port="%d" admin="on"/>
            %s
            <DocumentRoot>/tmp</DocumentRoot>
            """ % (MPM, address, port, token_line))

    def test_the_token_is_required_and_checked(self):
        directory = tempfile.mkdtemp(prefix="collage-admin-tcp-")
        token_file = os.path.join(directory, "token")
        with open(token_file, "w") as f:
            f.write(self.TOKEN + "\n")
        port, body = self.config("127.0.0.1", "<AdminTokenFile>%s</AdminTokenFile>" % token_file)
        server = CollageServer(body)
        self.addCleanup(server.cleanup)

        def get(headers):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                connection.request("GET", "/status", headers=headers)
                response = connection.getresponse()
                return response.status, response.read(), response.headers
            finally:
                connection.close()

        status, _, headers = get({})
        self.assertEqual(status, 401)
        self.assertIn("Bearer", headers["WWW-Authenticate"])
        self.assertEqual(get({"Authorization": "Bearer " + "x" * 32})[0], 401)
        self.assertEqual(get({"Authorization": "Basic " + self.TOKEN})[0], 401)
        status, data, _ = get({"Authorization": "Bearer " + self.TOKEN})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data)["mpm"], MPM)
        self.assertIn("COL-ADMIN-0021", server.log())
        ctl = subprocess.run([COLLAGECTL, "--url", "http://127.0.0.1:%d" % port, "--token-file",
                              token_file, "status"], capture_output=True, text=True, timeout=30)
        self.assertEqual(ctl.returncode, 0, ctl.stderr)
        self.assertIn("%s MPM" % MPM, ctl.stdout)
        ctl = subprocess.run([COLLAGECTL, "--url", "http://127.0.0.1:%d" % port, "status"],
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(ctl.returncode, 0)
        self.assertIn("give the admin token", ctl.stderr)

    def test_a_caller_from_another_host_is_refused_even_with_the_token(self):
        # Behind a load balancer (PROXY protocol) the caller is the client it names: one from
        # another host is refused unless AdminAllowPublic is on. Only loopback traffic is sent.
        port, body = self.config("127.0.0.1", "<AdminToken>%s</AdminToken>" % self.TOKEN)
        body = body.replace('admin="on"/>', 'admin="on" proxy_protocol="on"/>')
        server = CollageServer(body)
        self.addCleanup(server.cleanup)

        def status_from(source):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(("PROXY TCP4 %s 127.0.0.1 40000 %d\r\nGET /status HTTP/1.1\r\n"
                           "Host: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n"
                           % (source, port, self.TOKEN)).encode())
                reply = b""
                while chunk := s.recv(65536):
                    reply += chunk
            return int(reply.split(b" ", 2)[1])

        self.assertEqual(status_from("203.0.113.5"), 403)
        self.assertIn("COL-ADMIN-0020", server.log())
        self.assertEqual(status_from("127.0.0.1"), 200)

    def test_tcp_without_token_or_on_a_public_address_is_refused_at_load(self):
        for address, token, expected in (
                ("127.0.0.1", "", "needs a bearer token"),
                ("0.0.0.0", "<AdminToken>%s</AdminToken>" % self.TOKEN, "not a loopback address"),
                ("127.0.0.1", "<AdminToken>short</AdminToken>", "at least 16 characters")):
            _, body = self.config(address, token)
            path = os.path.join(tempfile.mkdtemp(prefix="collage-admin-bad-"), "c.xml")
            with open(path, "w") as f:
                f.write('<?xml version="1.0"?>\n<Collage>%s</Collage>\n' % body)
            checked = subprocess.run([BINARY, "-t", "-f", path], capture_output=True, text=True)
            self.assertNotEqual(checked.returncode, 0, address)
            self.assertIn(expected, checked.stderr)
        # AdminAllowPublic lets a token-guarded listener bind every address.
        _, body = self.config("0.0.0.0", "<AdminToken>%s</AdminToken><AdminAllowPublic>on"
                              "</AdminAllowPublic>" % self.TOKEN)
        path = os.path.join(tempfile.mkdtemp(prefix="collage-admin-ok-"), "c.xml")
        with open(path, "w") as f:
            f.write('<?xml version="1.0"?>\n<Collage>%s</Collage>\n' % body)
        checked = subprocess.run([BINARY, "-t", "-f", path], capture_output=True, text=True)
        self.assertEqual(checked.returncode, 0, checked.stderr)


class CollagectlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = AdminServer(site({"plain": b"x"}))

    @classmethod
    def tearDownClass(cls):
        cls.admin.cleanup()

    def ctl(self, *args):
        return subprocess.run([COLLAGECTL, "--socket", self.admin.socket, *args],
                              capture_output=True, text=True, timeout=90)

    def write(self, text):
        path = os.path.join(tempfile.mkdtemp(prefix="collagectl-"), "candidate.xml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_config_get_validate_diff_apply_generations_rollback(self):
        got = self.ctl("config", "get", "--source")
        self.assertEqual(got.returncode, 0, got.stderr)
        with open(self.admin.server.config_path) as f:
            self.assertEqual(got.stdout, f.read())

        bad = self.write(self.admin.candidate("text/x-two", "<KeepAliveTimeout>x"
                                              "</KeepAliveTimeout><Bogus/>"))
        checked = self.ctl("config", "validate", bad)
        self.assertEqual(checked.returncode, 1)
        self.assertEqual(len(checked.stderr.strip().split("\n")), 2, checked.stderr)
        self.assertIn("expects a duration", checked.stderr)

        good = self.write(self.admin.candidate("text/x-two"))
        self.assertEqual(self.ctl("config", "validate", good).returncode, 0)
        diff = self.ctl("config", "diff", good)
        self.assertEqual(diff.returncode, 1)  # diff(1): the files differ
        changed = [line[0] + line[1:].strip() for line in diff.stdout.split("\n")
                   if line[:1] in ("+", "-") and line[:3] not in ("+++", "---")]
        self.assertEqual(changed, ["-<DefaultType>text/x-one</DefaultType>",
                                   "+<DefaultType>text/x-two</DefaultType>"])

        applied = self.ctl("config", "apply", good, "--comment", "from collagectl")
        self.assertEqual(applied.returncode, 0, applied.stderr)
        self.assertIn("generation 2 serving", applied.stdout)
        self.assertTrue(wait_for(lambda: self.admin.served_type() == "text/x-two"))
        refused = self.ctl("config", "apply", bad)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("generation 2 keeps serving", refused.stderr)

        listed = self.ctl("generations")
        self.assertEqual(listed.returncode, 0)
        self.assertRegex(listed.stdout, r"(?m)^\s+2 \* .* apply .*: from collagectl$")

        rolled = self.ctl("rollback")
        self.assertEqual(rolled.returncode, 0, rolled.stderr)
        self.assertTrue(wait_for(lambda: self.admin.served_type() == "text/x-one"))

        status = self.ctl("status")
        self.assertEqual(status.returncode, 0)
        self.assertIn("%s MPM" % MPM, status.stdout)
        self.assertIn("generation 3", status.stdout)

    def test_a_server_that_is_not_running_gets_a_helpful_error(self):
        gone = subprocess.run([COLLAGECTL, "--socket", "/nonexistent/admin.sock", "status"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(gone.returncode, 1)
        self.assertIn("is collage running", gone.stderr)


if __name__ == "__main__":
    unittest.main()
