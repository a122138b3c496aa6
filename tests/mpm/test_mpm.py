"""The MPMs and the control process against the real binary: each MPM serves HTTP, FTP and
Gopher; a killed child is replaced; graceful restart lets an FTP download finish while the new
configuration serves; a broken configuration leaves the server as it was; MaxConnectionsPerChild
recycles children; the prefork pool grows under load and shrinks after; /server-status; -k; User.
"""

import ftplib
import http.client
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import BINARY, CollageServer, connect, prefork_module  # noqa: E402

PAGE = b"<h1>the same page over every protocol</h1>\n"


def mpm_header(mpm):
    return (prefork_module() if mpm == "prefork" else "") + "<Mpm>%s</Mpm>\n" % mpm


def site(files=None):
    root = tempfile.mkdtemp(prefix="collage-mpm-site-")
    os.chmod(root, 0o755)
    with open(os.path.join(root, "index.html"), "wb") as f:
        f.write(PAGE)
    for name, data in (files or {}).items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    return root


def http_get(port, path="/index.html", timeout=5):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.status, r.read()


def gopher_get(port, selector):
    with connect(port) as s:
        s.sendall(selector.encode() + b"\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


def wait_for(predicate, timeout=10, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def status_auto(port):
    _, body = http_get(port, "/server-status?auto")
    return dict(line.split(": ", 1) for line in body.decode().splitlines())


class EveryMpmServesEveryProtocol(unittest.TestCase):
    def check(self, mpm):
        root = site()
        server = CollageServer(mpm_header(mpm) + """
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <Listen protocol="ftp" address="127.0.0.1" port="0"/>
            <Listen protocol="gopher" address="127.0.0.1" port="0"/>
            <GopherTextFraming>off</GopherTextFraming>
            <DocumentRoot>%s</DocumentRoot>
            <Location path="/server-status"><Store>status</Store></Location>
            """ % root)
        try:
            self.assertIn("%s MPM: control process" % mpm, server.log())
            self.assertEqual(http_get(server.port), (200, PAGE))
            ftp = ftplib.FTP()
            ftp.connect("127.0.0.1", server.ports["ftp"], timeout=5)
            ftp.login()
            chunks = []
            ftp.retrbinary("RETR /index.html", chunks.append)
            ftp.quit()
            self.assertEqual(b"".join(chunks), PAGE)
            self.assertEqual(gopher_get(server.ports["gopher"], "/index.html"), PAGE)
            status = status_auto(server.port)
            self.assertEqual(status["ServerMPM"], mpm)
            # HTTP twice (one is this status request), FTP's RETR and the gopher selector.
            self.assertGreaterEqual(int(status["Total Accesses"]), 3)
            self.assertTrue(server.alive())
        finally:
            server.cleanup()

    def test_event(self):
        self.check("event")

    def test_worker(self):
        self.check("worker")

    def test_prefork(self):
        self.check("prefork")


class CrashRecoveryTest(unittest.TestCase):
    def test_killed_child_is_replaced_and_the_server_keeps_answering(self):
        root = site()
        server = CollageServer(mpm_header("prefork") + """
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <StartServers>3</StartServers>
            <MinSpareServers>2</MinSpareServers>
            """ % root)
        try:
            self.assertEqual(len(wait_for(lambda: len(server.children()) >= 3 and
                                          server.children())), 3)
            victim = server.children()[0]
            failures = 0
            os.kill(victim, signal.SIGKILL)
            for _ in range(200):  # under load while the child dies and is replaced
                try:
                    self.assertEqual(http_get(server.port)[1], PAGE)
                except OSError:
                    failures += 1
            self.assertEqual(failures, 0)
            self.assertTrue(wait_for(lambda: "COL-CONTROL-0009" in server.log()))
            self.assertIn("child %d died on signal 9" % victim, server.log())
            self.assertTrue(wait_for(lambda: victim not in server.children() and
                                     len(server.children()) >= 2))
        finally:
            server.cleanup()


class Download:
    """An anonymous FTP download of path, started and left waiting for the test to finish it."""

    def __init__(self, port, path):
        self.ftp = ftplib.FTP()
        self.ftp.connect("127.0.0.1", port, timeout=10)
        self.ftp.login()
        self.ftp.voidcmd("TYPE I")
        self.data = self.ftp.transfercmd("RETR " + path)
        self.data.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self.received = [self.data.recv(65536)]

    def finish(self):
        """Reads the rest; returns the bytes and the server's final reply."""
        while True:
            chunk = self.data.recv(1 << 20)
            if not chunk:
                break
            self.received.append(chunk)
        self.data.close()
        reply = self.ftp.voidresp()
        self.ftp.close()
        return b"".join(self.received), reply


class GracefulRestartTest(unittest.TestCase):
    CONFIG = """
        <Listen protocol="http1" address="127.0.0.1" port="0"/>
        <Listen protocol="ftp" address="127.0.0.1" port="0"/>
        <DocumentRoot>%s</DocumentRoot>
        <DefaultType>%s</DefaultType>
        """

    def test_download_in_flight_completes_while_the_new_generation_serves(self):
        big = os.urandom(48 * 1024 * 1024)
        root = site({"big.bin": big, "plain": b"no extension"})
        server = CollageServer(mpm_header("event") + self.CONFIG % (root, "text/x-old"))
        try:
            self.assertEqual(urllib.request.urlopen(
                "http://127.0.0.1:%d/plain" % server.port, timeout=5).headers["Content-Type"],
                "text/x-old")
            download = Download(server.ports["ftp"], "/big.bin")
            old_children = server.children()
            # New configuration, then a graceful restart while the download is under way.
            server.rewrite(mpm_header("event") + self.CONFIG % (root, "text/x-new"))
            server.process.send_signal(signal.SIGUSR1)
            self.assertTrue(wait_for(lambda: "COL-CONTROL-0018" in server.log()))

            def new_type():
                r = urllib.request.urlopen("http://127.0.0.1:%d/plain" % server.port, timeout=5)
                return r.headers["Content-Type"] == "text/x-new"
            self.assertTrue(wait_for(new_type))
            # The old child is still there, finishing the transfer.
            self.assertTrue(set(old_children) & set(server.children()))
            time.sleep(0.5)
            received, reply = download.finish()
            self.assertTrue(reply.startswith("226"))
            self.assertEqual(received, big)
            # Once its work is done the old child exits.
            self.assertTrue(wait_for(lambda: not set(old_children) & set(server.children())))
        finally:
            server.cleanup()

    def test_a_port_the_new_configuration_drops_closes_while_old_children_finish(self):
        big = os.urandom(16 * 1024 * 1024)
        root = site({"big.bin": big})
        server = CollageServer(mpm_header("event") + self.CONFIG % (root, "text/plain") +
                               '<Listen protocol="gopher" address="127.0.0.1" port="0"/>')
        try:
            gopher_port = server.ports["gopher"]
            download = Download(server.ports["ftp"], "/big.bin")
            old_children = server.children()
            # The same configuration without the gopher listener.
            server.rewrite(mpm_header("event") + self.CONFIG % (root, "text/plain"))
            server.process.send_signal(signal.SIGUSR1)
            self.assertTrue(wait_for(lambda: "COL-CONTROL-0018" in server.log()))
            self.assertTrue(set(old_children) & set(server.children()))  # still finishing

            def refused():
                try:
                    socket.create_connection(("127.0.0.1", gopher_port), timeout=2).close()
                    return False
                except ConnectionRefusedError:
                    return True
            self.assertTrue(wait_for(refused, timeout=5))
            self.assertEqual(http_get(server.port), (200, PAGE))
            received, reply = download.finish()
            self.assertTrue(reply.startswith("226"))
            self.assertEqual(received, big)
        finally:
            server.cleanup()

    def test_a_request_on_an_idle_keep_alive_connection_after_the_stop_is_answered(self):
        # Regression: a stopping child closed idle keep-alive connections at once, so a request
        # already on its way met a close or a reset (bench/admin_apply_bench.py saw 400 of them).
        for mpm in ("event", "worker"):
            root = site({"plain": b"no extension"})
            server = CollageServer(mpm_header(mpm) + self.CONFIG % (root, "text/x-old"))
            try:
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                connection.request("GET", "/plain")
                first = connection.getresponse()
                self.assertEqual(first.read(), b"no extension")
                old = server.children()
                server.process.send_signal(signal.SIGUSR1)
                self.assertTrue(wait_for(lambda: any(
                    "COL-MPM-0003] child %d stopping" % pid in server.log() for pid in old)))
                connection.request("GET", "/plain")
                second = connection.getresponse()
                self.assertEqual((second.status, second.read()), (200, b"no extension"), mpm)
                self.assertEqual(second.getheader("Connection"), "close", mpm)
                self.assertEqual(second.getheader("Content-Type"), "text/x-old", mpm)
                connection.close()
            finally:
                server.cleanup()

    def test_a_configuration_that_does_not_load_leaves_the_server_running(self):
        root = site()
        server = CollageServer(mpm_header("worker") + self.CONFIG % (root, "text/x-old"))
        try:
            children = server.children()
            server.rewrite("<Mpm>worker</Mpm>\n<ThreadsPerChild>lots</ThreadsPerChild>")
            for sig in (signal.SIGHUP, signal.SIGUSR1):
                server.process.send_signal(sig)
                self.assertTrue(wait_for(lambda: server.log().count("COL-CONTROL-0015") >= 1))
            self.assertTrue(wait_for(lambda: server.log().count("COL-CONTROL-0015") == 2))
            self.assertIn("ThreadsPerChild expects a whole number", server.log())
            self.assertEqual(http_get(server.port), (200, PAGE))
            self.assertEqual(server.children(), children)
        finally:
            server.cleanup()

    def test_restart_to_another_mpm_is_refused(self):
        root = site()
        server = CollageServer(mpm_header("event") + self.CONFIG % (root, "text/plain"))
        try:
            server.rewrite(mpm_header("worker") + self.CONFIG % (root, "text/plain"))
            server.process.send_signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: "COL-CONTROL-0016" in server.log()))
            self.assertEqual(http_get(server.port), (200, PAGE))
        finally:
            server.cleanup()


class ServerWideCapsTest(unittest.TestCase):
    def test_ftp_clients_per_address_are_counted_across_children(self):
        root = site()
        server = CollageServer(mpm_header("prefork") + """
            <Listen protocol="ftp" address="127.0.0.1" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <StartServers>3</StartServers>
            <FtpMaxClientsPerIp>2</FtpMaxClientsPerIp>
            """ % root)
        sockets = []
        try:
            self.assertTrue(wait_for(lambda: len(server.children()) >= 3))
            greetings = []
            for _ in range(3):  # one child each: prefork carries one connection per process
                s = connect(server.ports["ftp"], timeout=5)
                sockets.append(s)
                greetings.append(s.makefile("rb").readline())
            self.assertTrue(greetings[0].startswith(b"220"))
            self.assertTrue(greetings[1].startswith(b"220"))
            self.assertTrue(greetings[2].startswith(b"421"), greetings)
            sockets.pop(0).close()
            # The place is free again once the first child has seen its client go.
            def admitted():
                s = connect(server.ports["ftp"], timeout=5)
                sockets.append(s)
                return s.makefile("rb").readline().startswith(b"220")
            self.assertTrue(wait_for(admitted, timeout=5, interval=0.2))
        finally:
            for s in sockets:
                s.close()
            server.cleanup()


class RecyclingTest(unittest.TestCase):
    def test_max_connections_per_child_replaces_children(self):
        root = site()
        server = CollageServer(mpm_header("event") + """
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <MaxConnectionsPerChild>3</MaxConnectionsPerChild>
            <Location path="/server-status"><Store>status</Store></Location>
            """ % root)
        try:
            seen = set()
            for _ in range(12):
                self.assertEqual(http_get(server.port), (200, PAGE))
                seen.update(server.children())
            self.assertTrue(wait_for(lambda: "COL-CONTROL-0011" in server.log()))
            self.assertGreaterEqual(len(seen), 3, server.log())
            # Totals survive the children that served them.
            self.assertGreaterEqual(int(status_auto(server.port)["Total Accesses"]), 12)
        finally:
            server.cleanup()


class SparePoolTest(unittest.TestCase):
    """The prefork pool: one connection holds one child, so held connections make it grow."""

    def pool(self, min_spare, max_spare):
        server = CollageServer(mpm_header("prefork") + """
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <KeepAliveTimeout>60s</KeepAliveTimeout>
            <StartServers>1</StartServers>
            <MinSpareServers>%d</MinSpareServers>
            <MaxSpareServers>%d</MaxSpareServers>
            """ % (site(), min_spare, max_spare))
        self.addCleanup(server.cleanup)
        return server

    def hold(self, server):
        """A keep-alive connection that has been answered, and so holds its child."""
        s = connect(server.port, timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200 OK", s.recv(4096))
        return s

    def test_prefork_pool_grows_under_load_and_shrinks_after(self):
        server = self.pool(min_spare=2, max_spare=3)
        self.assertTrue(wait_for(lambda: len(server.children()) == 2))
        # Five keep-alive connections each hold a child: the pool grows to keep 2 spare.
        held = [self.hold(server) for _ in range(5)]
        self.assertTrue(wait_for(lambda: len(server.children()) >= 7, timeout=15),
                        server.children())
        self.assertIn("COL-CONTROL-0012", server.log())
        for s in held:
            s.close()
        # Seven idle children, at most three wanted: stopped one a second.
        self.assertTrue(wait_for(lambda: len(server.children()) <= 3, timeout=15),
                        server.children())
        self.assertIn("COL-CONTROL-0013", server.log())
        self.assertIn("more idle workers than MaxSpareThreads", server.log())
        self.assertEqual(http_get(server.port), (200, PAGE))

    def test_a_graceful_restart_starts_as_many_children_as_were_serving(self):
        """Regression: the new generation started StartServers (1) children and grew back one,
        two, four a second, so clients waited half a second after each restart."""
        server = self.pool(min_spare=2, max_spare=10)
        held = [self.hold(server) for _ in range(4)]
        self.assertTrue(wait_for(lambda: len(server.children()) >= 6, timeout=15))
        old = set(server.children())
        server.process.send_signal(signal.SIGUSR1)
        self.assertTrue(wait_for(lambda: "COL-CONTROL-0018" in server.log()))
        # Started before the log line, not at the next maintenance beat.
        self.assertGreaterEqual(len(set(server.children()) - old), len(old))
        for s in held:
            s.close()
        self.assertEqual(http_get(server.port), (200, PAGE))

    def test_children_killed_above_start_servers_are_replaced(self):
        """Regression: with more children than StartServers, killed ones were logged as replaced
        but none started, and capacity stayed down."""
        server = self.pool(min_spare=1, max_spare=10)
        # Three held connections grow the pool to four children; freed, they stay (spare).
        held = []
        for _ in range(3):
            self.assertTrue(wait_for(lambda: len(server.children()) > len(held)))
            held.append(self.hold(server))
        self.assertTrue(wait_for(lambda: len(server.children()) == 4, timeout=15))
        for s in held:
            s.close()
        before = server.children()
        for pid in before[:2]:
            os.kill(pid, signal.SIGKILL)
        replaced = wait_for(lambda: len(server.children()) == 4 and
                            not set(before[:2]) & set(server.children()), timeout=5)
        self.assertTrue(replaced, (before, server.children(), server.log()[-2000:]))
        self.assertEqual(server.log().count("COL-CONTROL-0009"), 2)
        self.assertEqual(http_get(server.port), (200, PAGE))


class KeepAliveProblemTest(unittest.TestCase):
    """Idle keep-alive connections hold every worker thread; event does not give threads to them."""

    def served_while_held(self, mpm):
        root = site()
        server = CollageServer(mpm_header(mpm) + """
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <KeepAliveTimeout>30s</KeepAliveTimeout>
            <ServerLimit>1</ServerLimit>
            <ThreadsPerChild>2</ThreadsPerChild>
            <MaxRequestWorkers>2</MaxRequestWorkers>
            """ % root)
        held = []
        try:
            for _ in range(2):
                s = connect(server.port, timeout=10)
                s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertIn(b"200 OK", s.recv(4096))
                held.append(s)
            try:
                http_get(server.port, timeout=1.5)
                return True
            except OSError:
                return False
        finally:
            for s in held:
                s.close()
            server.cleanup()

    def test_worker_threads_held_by_idle_connections_block_new_clients(self):
        self.assertFalse(self.served_while_held("worker"))

    def test_event_serves_new_clients_while_idle_connections_are_held(self):
        self.assertTrue(self.served_while_held("event"))


class StatusPageTest(unittest.TestCase):
    def test_html_and_auto(self):
        root = site()
        server = CollageServer(mpm_header("worker") + """
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <ThreadsPerChild>4</ThreadsPerChild>
            <ThreadLimit>4</ThreadLimit>
            <MaxRequestWorkers>4</MaxRequestWorkers>
            <Location path="/server-status"><Store>status</Store></Location>
            """ % root)
        try:
            before = int(status_auto(server.port)["Total Accesses"])
            for _ in range(5):
                http_get(server.port, "/index.html?<script>")
            # A request is counted just after its reply is written, so the count may lag the
            # client by a moment: five pages and the first status request (and any polls here).
            status = wait_for(lambda: (lambda st: st if int(st["Total Accesses"]) >= before + 6
                                       else None)(status_auto(server.port)))
            self.assertIsNotNone(status, "requests went uncounted")
            self.assertGreater(int(status["Total kBytes"]) * 1024 + 1024, 5 * len(PAGE))
            # MaxRequestWorkers 4 = one child of 4 threads; without it a busy moment on a
            # loaded machine could start a spare child (the CI run saw "2").
            self.assertEqual(status["Processes"], "1")
            self.assertEqual(len(status["Scoreboard"]), 16 * 4)  # ServerLimit x ThreadLimit
            # This very request is writing; the ones before finish closing a moment after
            # their clients have read the reply.
            self.assertTrue(wait_for(
                lambda: status_auto(server.port)["Scoreboard"].count("W") == 1))
            # A keep-alive connection holds its thread, whose slot shows its last request.
            held = connect(server.port)
            held.sendall(b"GET /index.html?<script> HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200 OK", held.recv(4096))
            code, html = http_get(server.port, "/server-status")
            held.close()
            html = html.decode()
            self.assertIn("<h1>Collage server status</h1>", html)
            self.assertIn("GET /index.html?&lt;script&gt; HTTP/1.1", html)
            # One script, the page's own refresh; the client's text stays text.
            self.assertEqual(html.count("<script>"), 1)
            self.assertIn("setInterval(", html)
            self.assertIn(str(server.children()[0]), html)
            # ?refresh=N, for readers without script: a meta refresh and no script at all.
            code, html = http_get(server.port, "/server-status?refresh=7")
            html = html.decode()
            self.assertIn('<meta http-equiv="refresh" content="7">', html)
            self.assertNotIn("<script>", html)
        finally:
            server.cleanup()


class ConfigCheckTest(unittest.TestCase):
    def check(self, body):
        directory = tempfile.mkdtemp(prefix="collage-mpm-t-")
        path = os.path.join(directory, "c.xml")
        with open(path, "w") as f:
            f.write('<Collage>\n<Listen protocol="http1" port="0"/>\n'
                    '<DocumentRoot>/tmp</DocumentRoot>\n' + body + '</Collage>\n')
        return path, subprocess.run([BINARY, "-t", "-f", path], capture_output=True, text=True)

    def test_no_mpm(self):
        path, result = self.check("")
        self.assertEqual(result.returncode, 1)
        self.assertIn(path + ":1:1: no MPM chosen", result.stderr)

    def test_two_mpms(self):
        path, result = self.check("<Mpm>event</Mpm>\n<Mpm>worker</Mpm>\n")
        self.assertEqual(result.returncode, 1)
        self.assertIn(path + ":5:1: Mpm is given twice here (first at %s:4:1)" % path, result.stderr)

    def test_prefork_without_its_module(self):
        path, result = self.check("<Mpm>prefork</Mpm>\n")
        self.assertIn(path + ":4:1: unknown MPM 'prefork'", result.stderr)
        self.assertIn("LoadModule", result.stderr)

    def test_pool_limits(self):
        path, result = self.check("<Mpm>worker</Mpm>\n<ThreadsPerChild>100</ThreadsPerChild>\n"
                                  "<StartServers>20</StartServers>\n<User>no-such-user-x</User>\n")
        self.assertEqual(result.returncode, 1)
        self.assertIn(path + ":5:1: ThreadsPerChild 100 is more than ThreadLimit 64", result.stderr)
        self.assertIn(path + ":6:1: StartServers 20 is more than ServerLimit 16", result.stderr)
        self.assertIn(path + ":7:1: no such user 'no-such-user-x'", result.stderr)

    def test_module_that_cannot_be_loaded(self):
        path, result = self.check('<LoadModule name="prefork" path="/nonexistent/mod.so"/>\n'
                                  '<Mpm>event</Mpm>\n')
        self.assertEqual(result.returncode, 1)
        self.assertIn(path + ":4: cannot load /nonexistent/mod.so", result.stderr)

    def test_module_built_for_another_abi_is_refused(self):
        module = os.path.join(os.environ["COLLAGE_TEST_MODULE_DIR"], "mod_badabi.so")
        path, result = self.check('<LoadModule name="badabi" path="%s"/>\n<Mpm>event</Mpm>\n'
                                  % module)
        self.assertEqual(result.returncode, 1)
        # The test module claims the ABI after this one (see bad_abi_module.cpp).
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "framework", "include",
                               "collage", "module_abi.h")) as f:
            abi = int(re.search(r"kModuleAbiVersion = (\d+);", f.read()).group(1))
        self.assertIn(path + ":4: %s was built for module ABI %d" % (module, abi + 1),
                      result.stderr)
        self.assertIn("this collage has ABI %d" % abi, result.stderr)
        self.assertIn("rebuild the module", result.stderr)

    def test_dash_m_lists_static_and_shared_modules(self):
        path, _ = self.check(prefork_module() + "<Mpm>prefork</Mpm>\n")
        result = subprocess.run([BINARY, "-M", "-f", path], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Loaded modules (MPM: prefork)", result.stdout)
        self.assertRegex(result.stdout, r"\n  event\s+mpm .*\(static\)")
        self.assertRegex(result.stdout, r"\n  prefork\s+mpm .*\(shared: .*mod_prefork\.so\)")
        listed = subprocess.run([BINARY, "-l"], capture_output=True, text=True).stdout
        self.assertNotIn("prefork", listed)  # not compiled in


class SignalCommandTest(unittest.TestCase):
    def test_k_start_graceful_stop(self):
        root = site()
        directory = tempfile.mkdtemp(prefix="collage-k-")
        path = os.path.join(directory, "c.xml")
        pid_file = os.path.join(directory, "collage.pid")
        log = os.path.join(directory, "error.log")
        with open(path, "w") as f:
            f.write('<Collage><Mpm>event</Mpm><Listen protocol="http1" address="127.0.0.1" '
                    'port="0"/><DocumentRoot>%s</DocumentRoot><PidFile>%s</PidFile>'
                    '<ErrorLog>%s</ErrorLog></Collage>' % (root, pid_file, log))

        def k(command):
            return subprocess.run([BINARY, "-f", path, "-k", command], capture_output=True,
                                  text=True, timeout=30)
        try:
            self.assertEqual(k("start").returncode, 0)
            pid = int(open(pid_file).read())
            port = int(re.search(r"127\.0\.0\.1:(\d+)", open(log).read()).group(1))
            self.assertEqual(http_get(port), (200, PAGE))
            # In the background, stderr is the error log itself, not the launching terminal.
            self.assertEqual(os.readlink("/proc/%d/fd/2" % pid), log)
            self.assertIn("already running", k("start").stderr)
            # logrotate: the log is moved away, a graceful restart opens a new one.
            os.rename(log, log + ".1")
            self.assertEqual(k("graceful").returncode, 0)
            self.assertTrue(wait_for(lambda: os.path.exists(log) and
                                     "COL-CONTROL-0018" in open(log).read()))
            self.assertTrue(wait_for(lambda: os.readlink("/proc/%d/fd/2" % pid) == log))
            os.rename(log + ".1", log + ".old")
            with open(log + ".old") as old, open(log, "a") as new:
                new.write(old.read())  # the rest of the test reads one log
            self.assertEqual(http_get(port), (200, PAGE))  # same socket, no gap
            # A configuration that does not load is refused before anything is signalled.
            with open(path) as f:
                good = f.read()
            with open(path, "w") as f:
                f.write(good.replace("<Mpm>event</Mpm>", "<Mpm>event</Mpm><StartServers>x"
                                     "</StartServers>"))
            refused = k("graceful")
            self.assertEqual(refused.returncode, 1)
            self.assertIn("StartServers expects", refused.stderr)
            self.assertEqual(open(log).read().count("COL-CONTROL-0018"), 1)
            with open(path, "w") as f:
                f.write(good)
            self.assertEqual(k("restart").returncode, 0)
            self.assertTrue(wait_for(lambda: open(log).read().count("COL-CONTROL-0018") == 2))
            # reload: graceful's other name (systemd's ExecReload, nginx -s reload).
            self.assertEqual(k("reload").returncode, 0)
            self.assertTrue(wait_for(lambda: open(log).read().count("COL-CONTROL-0018") == 3))
            self.assertEqual(k("stop").returncode, 0)
            self.assertFalse(os.path.exists(pid_file))
            self.assertRaises(ProcessLookupError, os.kill, pid, 0)
            self.assertIn("not running", k("stop").stderr)
        finally:
            if os.path.exists(pid_file):
                os.kill(int(open(pid_file).read()), signal.SIGKILL)


    def test_k_start_refuses_an_error_log_on_stderr(self):
        """Regression: -k start kept the launching shell's stderr, so the error log vanished
        with the terminal."""
        directory = tempfile.mkdtemp(prefix="collage-k-")
        path = os.path.join(directory, "c.xml")
        pid_file = os.path.join(directory, "collage.pid")
        with open(path, "w") as f:
            f.write('<Collage><Mpm>event</Mpm><Listen protocol="http1" address="127.0.0.1" '
                    'port="0"/><DocumentRoot>%s</DocumentRoot><PidFile>%s</PidFile>'
                    '<ErrorLog>stderr</ErrorLog></Collage>' % (site(), pid_file))
        result = subprocess.run([BINARY, "-f", path, "-k", "start"], capture_output=True,
                                text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn("set <ErrorLog> to a file first", result.stderr)
        self.assertFalse(os.path.exists(pid_file))


@unittest.skipUnless(os.geteuid() == 0, "needs root to drop privileges")
class UserTest(unittest.TestCase):
    def test_children_run_as_user_after_binding(self):
        root = site()
        server = CollageServer(mpm_header("event") + """
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <User>nobody</User>
            """ % root)
        try:
            self.assertEqual(http_get(server.port), (200, PAGE))
            nobody = pwd.getpwnam("nobody").pw_uid
            for child in server.children():
                with open("/proc/%d/status" % child) as f:
                    uids = re.search(r"Uid:\s+(\d+)\s+(\d+)\s+(\d+)", f.read()).groups()
                self.assertEqual({int(u) for u in uids}, {nobody})
            self.assertEqual(os.stat("/proc/%d" % server.process.pid).st_uid, 0)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
