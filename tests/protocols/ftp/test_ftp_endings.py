"""Every way an FTP transfer can end, and the wire details strict clients check: an upload is
kept only when its data connection ended cleanly while the control connection was up; downloads
and listings end with 226 or 426; TLS is shut down properly; ABOR works RFC 959's way; idle
sessions are closed under TLS too. Regressions from outside suites and real clients."""

import ftplib
import io
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
sys.path.insert(0, os.path.dirname(__file__))
from collage_server import ServerTestCase, leftovers, install_certificate  # noqa: E402
from test_ftp_integration import CONFIG, FtpTest  # noqa: E402


def strict_tls_context():
    """A client context that, unlike Debian's Python 3.11 default, fails on a TLS connection
    closed without close_notify (as Python 3.12 and 3.13 do)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    return context


def wait_for(predicate, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


class FtpEndingsTest(ServerTestCase):
    CONFIG = CONFIG
    ftp = FtpTest.ftp
    close = staticmethod(FtpTest.close)
    retr = FtpTest.retr

    @classmethod
    def prepare_site(cls, root):
        FtpTest.prepare_site.__func__(cls, root)

    def strict_tls(self, user="alice", password="wonderland"):
        client = ftplib.FTP_TLS(context=strict_tls_context())
        client.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        client.login(user, password)
        client.prot_p()
        self.addCleanup(self.close, client)
        return client

    def xferlog_line(self, path):
        """Waits for the xferlog line of a transfer of path; returns it."""
        def find():
            with open(os.path.join(self.workdir, "xferlog")) as f:
                found = [ln for ln in f.read().splitlines() if " %s " % path in ln]
            return found[-1] if found else None
        line = wait_for(find)
        self.assertIsNotNone(line, "no xferlog line for " + path)
        return line

    def assert_not_kept(self, name):
        self.assertTrue(self.xferlog_line("/pub/" + name).endswith(" i"))
        self.assertEqual(leftovers(os.path.join(self.root, "pub"),
                                   lambda n: n == name or n.startswith(".collage-tmp")), [])

    def upload_started(self, client, name, tls_data=False):
        """Opens a STOR of name and sends part of a file; returns the data connection."""
        conn = client.transfercmd("STOR /pub/" + name)
        conn.sendall(b"u" * 200000)
        # The server is writing it: a temporary file has appeared.
        self.assertTrue(wait_for(lambda: [n for n in os.listdir(os.path.join(self.root, "pub"))
                                          if n.startswith(".collage-tmp")]))
        return conn

    # --- uploads: kept only after a clean end -----------------------------------------------

    def test_upload_ends_cleanly_plain_and_tls(self):
        data = os.urandom(300000)
        for kind in ("plain", "tls"):
            with self.subTest(kind=kind):
                client = self.strict_tls() if kind == "tls" else self.ftp("alice", "wonderland")
                # Regression: without the server's close_notify, a strict client raised
                # SSLEOFError here on every FTPS upload.
                reply = client.storbinary("STOR /pub/clean-%s.bin" % kind, io.BytesIO(data))
                self.assertTrue(reply.startswith("226"), reply)
                with open(os.path.join(self.root, "pub", "clean-%s.bin" % kind), "rb") as f:
                    self.assertEqual(f.read(), data)
                self.assertTrue(self.xferlog_line("/pub/clean-%s.bin" % kind).endswith(" c"))
                self.assertEqual(self.retr(client, "/pub/clean-%s.bin" % kind), data)
                self.assertTrue(client.nlst("/pub"))

    def test_upload_aborted(self):
        client = self.ftp("alice", "wonderland")
        conn = self.upload_started(client, "aborted.bin")
        client.putcmd("ABOR")
        conn.close()
        self.assertTrue(client.getline().startswith("426"))
        self.assertTrue(client.getline().startswith("226"))
        self.assert_not_kept("aborted.bin")

    def test_upload_control_reset_then_data_closed(self):
        client = self.ftp("alice", "wonderland")
        conn = self.upload_started(client, "ctl-reset.bin")
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.file.close()  # ftplib's reader holds the socket open otherwise
        client.sock.close()  # a reset
        conn.close()  # then an ordinary FIN on the data connection
        self.assert_not_kept("ctl-reset.bin")

    def test_upload_control_closed_with_data(self):
        # Both connections end with a FIN at once, as when a client process dies.
        client = self.ftp("alice", "wonderland")
        conn = self.upload_started(client, "both-closed.bin")
        client.file.close()  # ftplib's reader holds the socket open otherwise
        client.sock.close()
        conn.close()
        self.assert_not_kept("both-closed.bin")

    def test_upload_data_connection_reset(self):
        client = self.ftp("alice", "wonderland")
        conn = self.upload_started(client, "data-reset.bin")
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        self.assertTrue(client.getline().startswith("426"))
        self.assert_not_kept("data-reset.bin")

    def test_upload_tls_data_closed_without_close_notify(self):
        client = self.strict_tls()
        conn = self.upload_started(client, "truncated.bin")
        conn.close()  # Python closes an SSL socket without close_notify unless unwrapped
        self.assertTrue(client.getline().startswith("426"))
        self.assert_not_kept("truncated.bin")

    def test_upload_by_a_killed_curl(self):
        """Regression: `curl -T -` killed mid-upload left a truncated file logged complete."""
        feeder = subprocess.Popen(["head", "-c", "1G", "/dev/zero"], stdout=subprocess.PIPE)
        curl = subprocess.Popen(["curl", "-sS", "-u", "alice:wonderland", "-T", "-",
                                 "ftp://127.0.0.1:%d/pub/killed.bin" % self.server.ports["ftp"]],
                                stdin=feeder.stdout, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        feeder.stdout.close()
        try:
            def growing():
                for name in os.listdir(os.path.join(self.root, "pub")):
                    if name.startswith(".collage-tmp"):
                        try:
                            if os.path.getsize(os.path.join(self.root, "pub", name)) > 4 << 20:
                                return True
                        except FileNotFoundError:
                            pass
                return False
            self.assertTrue(wait_for(growing, timeout=20))
        finally:
            curl.send_signal(signal.SIGKILL)
            curl.wait()
            feeder.kill()
            feeder.wait()
        self.assert_not_kept("killed.bin")

    # --- downloads and listings: 226 or 426 -------------------------------------------------

    def test_download_ends(self):
        for kind in ("plain", "tls"):
            with self.subTest(kind=kind, end="complete"):
                client = self.strict_tls() if kind == "tls" else self.ftp("alice", "wonderland")
                self.assertEqual(self.retr(client, "/pub/blob.bin"), self.blob)
                self.assertEqual(client.lastresp, "226")
            with self.subTest(kind=kind, end="client closes the data connection early"):
                self.make_large()
                conn = client.transfercmd("RETR /pub/slow.bin")
                conn.recv(1000)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                self.assertTrue(client.getline().startswith("426"))
                self.assertEqual(client.sendcmd("NOOP")[:3], "200")

    # --- ABOR RFC 959's way ----------------------------------------------------------------

    def make_large(self):
        big = os.path.join(self.root, "pub", "slow.bin")
        if not os.path.exists(big):
            with open(big, "wb") as f:
                f.truncate(64 * 1024 * 1024)  # more than socket buffers hold

    def slow_retr(self, client):
        """A RETR blocked on a reader that does not read: returns the data connection."""
        self.make_large()
        client.sendcmd("TYPE I")
        host, port = client.makepasv()
        conn = socket.socket()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.connect((host, port))
        self.addCleanup(conn.close)
        reply = client.sendcmd("RETR /pub/slow.bin")
        self.assertTrue(reply.startswith("150"), reply)
        return conn

    def test_abor_with_telnet_ip_and_synch(self):
        """Regression: IAC IP, then IAC DM sent as urgent data, then ABOR got no reply."""
        client = self.ftp("alice", "wonderland")
        self.slow_retr(client)
        client.sock.sendall(b"\xff\xf4\xff")  # IAC IP, IAC
        client.sock.send(b"\xf2", socket.MSG_OOB)  # DM, urgent
        client.sock.sendall(b"ABOR\r\n")
        client.sock.settimeout(3)
        self.assertTrue(client.getline().startswith("426"))
        self.assertTrue(client.getline().startswith("226"))
        self.assertEqual(client.sendcmd("NOOP")[:3], "200")

    def test_abor_as_ftplib_sends_it(self):
        # ftplib sends the whole "ABOR\r\n" with MSG_OOB: its last byte is the urgent one.
        client = self.ftp("alice", "wonderland")
        self.slow_retr(client)
        client.sock.settimeout(3)
        reply = client.abort()  # reads the first reply
        self.assertTrue(reply.startswith("426"), reply)
        self.assertTrue(client.getline().startswith("226"))
        self.assertEqual(client.sendcmd("NOOP")[:3], "200")

    # --- command lines ---------------------------------------------------------------------

    def test_feat_lines_start_with_exactly_one_space(self):
        client = self.ftp()
        lines = client.sendcmd("FEAT").splitlines()
        self.assertEqual((lines[0][:4], lines[-1]), ("211-", "211 End"))
        for line in lines[1:-1]:
            self.assertRegex(line, r"^ \S", "RFC 2389 §3.2: one space, then the feature")
        for line in client.sendcmd("HELP").splitlines()[1:-1]:
            self.assertRegex(line, r"^ \S")

    def test_every_command_help_lists_is_recognised(self):
        """HELP is generated from the command table: every verb it names is answered by a handler
        (never 500), before login only the ones RFC 959 allows there (others get 530)."""
        verbs = " ".join(self.ftp().sendcmd("HELP").splitlines()[1:-1]).split()
        self.assertGreater(len(verbs), 40)
        self.assertEqual(verbs, sorted(verbs))
        before_login = {"AUTH", "FEAT", "HELP", "NOOP", "OPTS", "PASS", "PBSZ", "PROT", "QUIT",
                        "SYST", "USER"}
        anonymous = ftplib.FTP()  # connected, not logged in
        anonymous.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        self.addCleanup(anonymous.close)
        client = self.ftp("alice", "wonderland")
        for verb in verbs:
            if verb in ("QUIT", "REIN", "ABOR", "RETR", "STOR", "APPE", "STOU", "LIST", "NLST",
                        "MLSD", "PASV", "EPSV", "PORT", "EPRT", "AUTH", "USER", "PASS"):
                continue  # they change the session's state; their own tests cover them
            with self.subTest(verb=verb):
                anonymous.putcmd(verb)
                code = anonymous.getmultiline()[:3]
                self.assertEqual(code == "530", verb not in before_login, code)
                client.putcmd(verb)
                self.assertNotEqual(client.getmultiline()[:3], "500")
        anonymous.putcmd("FROB")
        self.assertEqual(anonymous.getmultiline()[:3], "530")
        client.putcmd("FROB")
        self.assertEqual(client.getmultiline()[:3], "500")

    def test_cwd_above_the_root_stays_at_the_root(self):
        for user, password in (("alice", "wonderland"), ("reader", "readonly"), (None, None)):
            with self.subTest(user=user):
                client = self.ftp(user, password)
                for path in ("..", "/..", "../..", "/../../pub/.."):
                    self.assertEqual(client.cwd(path)[:3], "250")
                    self.assertEqual(client.pwd(), "/")
                self.assertEqual(client.sendcmd("CDUP")[:3], "250")
                self.assertEqual(client.pwd(), "/")

    def test_nul_in_a_path_is_refused(self):
        client = self.ftp("alice", "wonderland")
        for command in (b"RETR /pub/text.txt\x00.bin", b"CWD /pub\x00", b"MKD a\x00b",
                        b"SIZE /pub/text.txt\x00"):
            with self.subTest(command=command):
                client.sock.sendall(command + b"\r\n")
                self.assertTrue(client.getline().startswith("501"))
        self.assertFalse(os.path.exists(os.path.join(self.root, "a")))
        self.assertEqual(client.sendcmd("NOOP")[:3], "200")


class FtpDefaultsTest(ServerTestCase):
    """What a deployment that sets nothing FTP-wise gets (ServerLimit only lets the prefork MPM
    hold twenty sessions at once, one child each)."""
    CONFIG = """
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<ServerLimit>32</ServerLimit>
<DocumentRoot>{root}</DocumentRoot>
"""

    @classmethod
    def prepare_site(cls, root):
        cls.data = os.urandom(256 * 1024)
        with open(os.path.join(root, "file.bin"), "wb") as f:
            f.write(cls.data)

    def test_twenty_parallel_downloads_from_one_address(self):
        """Regression: the 11th session from one address got 421 (the default cap was 10)."""
        results = [None] * 20

        def download(i):
            try:
                client = ftplib.FTP()
                client.connect("127.0.0.1", self.server.ports["ftp"], timeout=20)
                client.login()
                buf = io.BytesIO()
                client.retrbinary("RETR /file.bin", buf.write)
                results[i] = buf.getvalue() == self.data
                barrier.wait(40)  # all twenty sessions are open at once
                client.quit()
            except Exception as e:  # noqa: BLE001 - reported below
                results[i] = repr(e)
        barrier = threading.Barrier(20)
        threads = [threading.Thread(target=download, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(results, [True] * 20)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FtpNarrowPassiveRangeTest(ServerTestCase):
    """A passive range of one port serves transfer after transfer: the port is bound again at
    once although the last data connection on it is still in TIME_WAIT (SO_REUSEADDR)."""
    PORT = free_port()
    CONFIG = """
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<FtpPassivePorts>%d-%d</FtpPassivePorts>
<DocumentRoot>{root}</DocumentRoot>
""" % (PORT, PORT)

    @classmethod
    def prepare_site(cls, root):
        with open(os.path.join(root, "f.txt"), "wb") as f:
            f.write(b"passive\n" * 1000)

    def test_one_port_serves_many_transfers_in_a_row(self):
        client = ftplib.FTP()
        client.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        client.login()
        self.addCleanup(client.close)
        for i in range(15):
            with self.subTest(transfer=i):
                host, port = client.makepasv()
                self.assertEqual(port, self.PORT)
                buf = io.BytesIO()
                client.retrbinary("RETR /f.txt", buf.write)
                self.assertEqual(buf.getvalue(), b"passive\n" * 1000)
        self.assertNotIn("COL-FTP-0005", self.server.log())


class FtpResumeWithoutRangesTest(ServerTestCase):
    """Regression: REST + RETR went through a made-up Range header and the ranges filter, so
    resumed downloads broke where that filter was off. The offset is the request's now."""
    CONFIG = """
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<DocumentRoot>{root}</DocumentRoot>
<Filters>-ranges</Filters>
"""

    @classmethod
    def prepare_site(cls, root):
        cls.data = os.urandom(300000)
        with open(os.path.join(root, "f.bin"), "wb") as f:
            f.write(cls.data)

    def test_rest_retr_resumes_with_the_ranges_filter_off(self):
        client = ftplib.FTP()
        client.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        client.login()
        self.addCleanup(client.close)
        for offset in (0, 1, 123456, len(self.data) - 1, len(self.data)):
            with self.subTest(offset=offset):
                buf = io.BytesIO()
                client.retrbinary("RETR /f.bin", buf.write, rest=offset)
                self.assertEqual(buf.getvalue(), self.data[offset:])
        with self.assertRaises(ftplib.error_perm) as beyond:
            client.retrbinary("RETR /f.bin", io.BytesIO().write, rest=len(self.data) + 1)
        self.assertTrue(str(beyond.exception).startswith("554"))
        # A real client resuming a partial download.
        partial = os.path.join(self.workdir, "partial.bin")
        with open(partial, "wb") as f:
            f.write(self.data[:100000])
        subprocess.run(["curl", "-sS", "-C", "-", "-o", partial,
                        "ftp://127.0.0.1:%d/f.bin" % self.server.ports["ftp"]], check=True,
                       capture_output=True, timeout=30)
        with open(partial, "rb") as f:
            self.assertEqual(f.read(), self.data)


class FtpTlsFromAVirtualHostTest(ServerTestCase):
    """AUTH TLS works when only a virtual host has a certificate: the TLS module, not the
    framework, decides whether there is TLS to offer (the framework used to look for a
    server-level TLSCertificateFile only)."""
    CONFIG = """
<Listen protocol="ftp" address="127.0.0.1" port="0" host="files.example"/>
<VirtualHost name="files.example">
  <DocumentRoot>{root}</DocumentRoot>
  <TLSCertificateFile>{dir}/cert.pem</TLSCertificateFile>
  <TLSCertificateKeyFile>{dir}/key.pem</TLSCertificateKeyFile>
</VirtualHost>
"""

    @classmethod
    def prepare_site(cls, root):
        install_certificate(os.path.dirname(root))
        with open(os.path.join(root, "f.txt"), "w") as f:
            f.write("over tls\n")

    def test_auth_tls_and_a_protected_download(self):
        client = ftplib.FTP_TLS(context=strict_tls_context())
        client.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        self.addCleanup(client.close)
        self.assertTrue(client.auth().startswith("234"))
        client.login()
        client.prot_p()
        buf = io.BytesIO()
        client.retrbinary("RETR /f.txt", buf.write)
        self.assertEqual(buf.getvalue(), b"over tls\n")


class FtpTlsIdleTest(ServerTestCase):
    """Regression: after AUTH TLS the idle timeout was never enforced."""
    CONFIG = """
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<TLSCertificateFile>{dir}/cert.pem</TLSCertificateFile>
<TLSCertificateKeyFile>{dir}/key.pem</TLSCertificateKeyFile>
<FtpIdleTimeout>1s</FtpIdleTimeout>
<FtpDataTimeout>1s</FtpDataTimeout>
<DocumentRoot>{root}</DocumentRoot>
"""

    @classmethod
    def prepare_site(cls, root):
        workdir = os.path.dirname(root)
        install_certificate(workdir)

    def session(self, auth, prot_p):
        client = ftplib.FTP_TLS(context=strict_tls_context()) if auth else ftplib.FTP()
        client.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        if auth:
            client.auth()
        client.login()
        if prot_p:
            client.prot_p()
        client.sendcmd("PWD")
        self.addCleanup(client.close)
        return client

    def closed_within(self, client, seconds):
        """True if the server closes the session (after at most a 421) in time."""
        start = time.time()
        client.sock.settimeout(seconds + 3)
        received = b""
        try:
            while True:
                data = client.sock.recv(100)
                if not data:
                    break
                received += data
        except (ConnectionResetError, ssl.SSLError):
            pass
        except socket.timeout:
            return False
        return received in (b"", b"421 Timeout.\r\n") and time.time() - start < seconds + 2

    def test_idle_control_connections_are_closed(self):
        for auth, prot_p in ((False, False), (True, False), (True, True)):
            with self.subTest(auth=auth, prot_p=prot_p):
                self.assertTrue(self.closed_within(self.session(auth, prot_p), 1))

    def test_data_connection_never_opened_times_out(self):
        for auth, prot_p in ((False, False), (True, True)):
            with self.subTest(auth=auth, prot_p=prot_p):
                client = self.session(auth, prot_p)
                client.makepasv()
                client.putcmd("LIST")
                self.assertTrue(client.getline().startswith("150"))
                start = time.time()
                self.assertTrue(client.getline().startswith("425"))
                self.assertLess(time.time() - start, 4)

    def test_tls_data_connection_without_handshake_times_out(self):
        client = self.session(True, True)
        host, port = client.makepasv()
        client.putcmd("LIST")
        self.assertTrue(client.getline().startswith("150"))
        silent = socket.create_connection((host, port))  # connects, never says hello
        self.addCleanup(silent.close)
        start = time.time()
        self.assertTrue(client.getline().startswith("425"))
        self.assertLess(time.time() - start, 4)


if __name__ == "__main__":
    unittest.main()
