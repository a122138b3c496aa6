"""FTP front end against the real binary: Python's ftplib (with FTP_TLS), curl and lftp, and the
bad cases: traversal, bounce, data connection theft, wrong passwords, out-of-sequence commands,
aborted uploads, anonymous writes."""

import ftplib
import io
import os
import re
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import (ServerTestCase, install_certificate, leftovers,  # noqa: E402
                            wait_for)

SECRET = b"FTP-SECRET-NEVER-SERVED"


def password_hash(password):
    return subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                          check=True).stdout.strip()


CONFIG = """
<Listen protocol="ftp" address="127.0.0.1" port="0" host="ftp"/>
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<TLSCertificateFile>{dir}/cert.pem</TLSCertificateFile>
<TLSCertificateKeyFile>{dir}/key.pem</TLSCertificateKeyFile>
<FtpUserFile>{dir}/users</FtpUserFile>
<FtpAnonymousUpload>/incoming</FtpAnonymousUpload>
<FtpTransferLog>{dir}/xferlog</FtpTransferLog>
<FtpLoginDelay>200ms</FtpLoginDelay>
<FtpDataTimeout>3s</FtpDataTimeout>
<FtpMaxClientsPerIp>20</FtpMaxClientsPerIp>
<VirtualHost name="web">
  <DocumentRoot>{root}</DocumentRoot>
</VirtualHost>
<VirtualHost name="ftp">
  <Protocols>ftp</Protocols>
  <DocumentRoot>{root}</DocumentRoot>
  <Writable>on</Writable>
</VirtualHost>
"""


class FtpTest(ServerTestCase):
    CONFIG = CONFIG

    @classmethod
    def prepare_site(cls, root):
        workdir = os.path.dirname(root)
        install_certificate(workdir)
        with open(os.path.join(workdir, "users"), "w") as f:
            f.write("# name:hash:root:rights\n")
            f.write("alice:%s:/:read,write,delete,mkdir\n" % password_hash("wonderland"))
            f.write("reader:%s:/pub:read\n" % password_hash("readonly"))
        with open(os.path.join(workdir, "secret.txt"), "wb") as f:
            f.write(SECRET)
        os.makedirs(os.path.join(root, "pub", "sub"))
        os.makedirs(os.path.join(root, "incoming"))
        os.makedirs(os.path.join(root, "private"))
        cls.blob = os.urandom(1024 * 1024 + 7)
        with open(os.path.join(root, "pub", "blob.bin"), "wb") as f:
            f.write(cls.blob)
        with open(os.path.join(root, "pub", "text.txt"), "wb") as f:
            f.write(b"line one\nline two\n")
        with open(os.path.join(root, "private", "only-alice.txt"), "wb") as f:
            f.write(b"alice only\n")
        os.symlink(os.path.join(workdir, "secret.txt"), os.path.join(root, "pub", "escape.txt"))

    def ftp(self, user=None, password=None, tls=False):
        client = ftplib.FTP_TLS() if tls else ftplib.FTP()
        client.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        if user:
            client.login(user, password)
        else:
            client.login()
        if tls:
            client.prot_p()
        self.addCleanup(self.close, client)
        return client

    @staticmethod
    def close(client):
        try:
            client.quit()
        except Exception:
            client.close()

    def url(self, path="/"):
        return "ftp://127.0.0.1:%d%s" % (self.server.ports["ftp"], path)

    def retr(self, client, path):
        buf = io.BytesIO()
        client.retrbinary("RETR " + path, buf.write)
        return buf.getvalue()

    # --- the protocol with real clients ---------------------------------------------------

    def test_anonymous_browse_and_download(self):
        client = self.ftp()
        self.assertTrue(client.getwelcome().startswith("220"))
        self.assertEqual(client.pwd(), "/")
        self.assertEqual(sorted(client.nlst()), ["incoming", "private", "pub"])
        client.cwd("pub")
        self.assertEqual(client.pwd(), "/pub")
        lines = []
        client.retrlines("LIST", lines.append)
        self.assertTrue(any(l.startswith("-rw-") and l.endswith(" blob.bin") for l in lines), lines)
        self.assertTrue(any(l.startswith("d") and l.endswith(" sub") for l in lines), lines)
        self.assertEqual(self.retr(client, "blob.bin"), self.blob)
        self.assertEqual(client.size("blob.bin"), len(self.blob))
        self.assertRegex(client.sendcmd("MDTM blob.bin"), r"^213 \d{14}$")
        client.cwd("..")
        self.assertEqual(client.pwd(), "/")

    def test_ascii_mode_converts_line_ends(self):
        client = self.ftp()
        lines = []
        client.retrlines("RETR /pub/text.txt", lines.append)  # TYPE A
        self.assertEqual(lines, ["line one", "line two"])
        raw = io.BytesIO()
        client.sendcmd("TYPE A")
        conn = client.transfercmd("RETR /pub/text.txt")
        while True:
            data = conn.recv(4096)
            if not data:
                break
            raw.write(data)
        conn.close()
        client.voidresp()
        self.assertEqual(raw.getvalue(), b"line one\r\nline two\r\n")

    def test_feat_and_multiline_replies(self):
        client = self.ftp()
        feat = client.sendcmd("FEAT")
        self.assertTrue(feat.startswith("211-"))
        for feature in ("AUTH TLS", "EPSV", "MLST", "REST STREAM", "SIZE", "UTF8", "PBSZ"):
            self.assertIn(feature, feat)
        self.assertTrue(feat.endswith("211 End"))
        self.assertEqual(client.sendcmd("OPTS UTF8 ON")[:3], "200")
        self.assertEqual(client.sendcmd("SYST"), "215 UNIX Type: L8")
        self.assertTrue(client.sendcmd("HELP").startswith("214-"))
        self.assertEqual(client.sendcmd("NOOP")[:3], "200")
        self.assertEqual(client.sendcmd("MODE S")[:3], "200")
        self.assertEqual(client.sendcmd("STRU F")[:3], "200")
        with self.assertRaises(ftplib.error_perm) as e:
            client.sendcmd("MODE B")
        self.assertTrue(str(e.exception).startswith("504"))

    def test_mlsd_and_mlst(self):
        client = self.ftp("alice", "wonderland")
        facts = dict(client.mlsd("/pub"))
        self.assertEqual(facts["blob.bin"]["type"], "file")
        self.assertEqual(int(facts["blob.bin"]["size"]), len(self.blob))
        self.assertEqual(facts["sub"]["type"], "dir")
        self.assertIn("r", facts["blob.bin"]["perm"])
        reply = client.sendcmd("MLST /pub/blob.bin")
        self.assertTrue(reply.startswith("250-"))
        self.assertIn(" type=file;size=%d;" % len(self.blob), reply)

    def test_epsv_and_active_mode(self):
        client = self.ftp()
        client.af = socket.AF_INET6  # makes ftplib use EPSV
        self.assertEqual(self.retr(client, "/pub/text.txt"), b"line one\nline two\n")
        client.af = socket.AF_INET
        client.set_pasv(False)  # PORT
        self.assertEqual(self.retr(client, "/pub/text.txt"), b"line one\nline two\n")

    def test_named_user_writes_and_http_serves_it_at_once(self):
        client = self.ftp("alice", "wonderland")
        client.storbinary("STOR /pub/new.txt", io.BytesIO(b"fresh\n"))
        out = subprocess.run(["curl", "-sS", "-H", "Host: web",
                              "http://127.0.0.1:%d/pub/new.txt" % self.server.ports["http1"]],
                             capture_output=True, check=True).stdout
        self.assertEqual(out, b"fresh\n")
        client.mkd("/pub/made")
        client.rename("/pub/new.txt", "/pub/made/moved.txt")
        self.assertEqual(self.retr(client, "/pub/made/moved.txt"), b"fresh\n")
        with self.assertRaises(ftplib.error_perm):
            client.rmd("/pub/made")  # not empty
        client.delete("/pub/made/moved.txt")
        client.rmd("/pub/made")
        self.assertFalse(os.path.exists(os.path.join(self.root, "pub", "made")))

    def test_append_rest_and_stou(self):
        client = self.ftp("alice", "wonderland")
        client.storbinary("STOR /pub/app.txt", io.BytesIO(b"one,"))
        client.storbinary("APPE /pub/app.txt", io.BytesIO(b"two"))
        self.assertEqual(self.retr(client, "/pub/app.txt"), b"one,two")
        client.storbinary("STOR /pub/app.txt", io.BytesIO(b"ONE"), rest=3)
        self.assertEqual(self.retr(client, "/pub/app.txt"), b"oneONE")
        buf = io.BytesIO()
        client.retrbinary("RETR /pub/blob.bin", buf.write, rest=1000)
        self.assertEqual(buf.getvalue(), self.blob[1000:])
        client.cwd("/pub")
        reply = client.storbinary("STOU", io.BytesIO(b"unique"))
        self.assertIn("unique file name /pub/collage.", reply)

    def test_ftps_with_ftplib(self):
        client = self.ftp("alice", "wonderland", tls=True)
        client.storbinary("STOR /pub/secure.bin", io.BytesIO(self.blob))
        self.assertEqual(self.retr(client, "/pub/secure.bin"), self.blob)
        self.assertEqual(client.prot_c()[:3], "200")
        self.assertEqual(self.retr(client, "/pub/text.txt"), b"line one\nline two\n")

    def test_curl(self):
        result = subprocess.run(["curl", "-sS", "-v", self.url("/pub/blob.bin")],
                                capture_output=True, check=True)
        self.assertTrue(result.stdout == self.blob, "got %d of %d bytes:\n%s\n%s" % (
            len(result.stdout), len(self.blob), result.stderr.decode()[-2500:],
            self.server.log()[-1500:]))
        listing = subprocess.run(["curl", "-sS", self.url("/pub/")], capture_output=True,
                                 check=True).stdout
        self.assertRegex(listing, rb"-rw-r--r-- 1 ftp ftp +1048583 \w{3} [ \d]\d [\d:]+ blob.bin\r?\n")
        out = subprocess.run(["curl", "-sS", "-k", "--ssl-reqd", "-u", "alice:wonderland",
                              self.url("/pub/blob.bin")], capture_output=True, check=True).stdout
        self.assertEqual(out, self.blob)
        source = os.path.join(self.workdir, "curl-up.bin")
        with open(source, "wb") as f:
            f.write(self.blob)
        subprocess.run(["curl", "-sS", "-k", "--ssl-reqd", "-u", "alice:wonderland", "-T", source,
                        self.url("/pub/curl-up.bin")], check=True, capture_output=True)
        with open(os.path.join(self.root, "pub", "curl-up.bin"), "rb") as f:
            self.assertEqual(f.read(), self.blob)
        # Resume a download: the first half is already here.
        partial = os.path.join(self.workdir, "partial.bin")
        with open(partial, "wb") as f:
            f.write(self.blob[:500000])
        result = subprocess.run(["curl", "-sS", "-v", "-C", "-", "-o", partial,
                                 self.url("/pub/blob.bin")], capture_output=True)
        with open(partial, "rb") as f:
            got = f.read()
        self.assertTrue(got == self.blob, "resumed %d of %d bytes; curl said:\n%s\n%s" % (
            len(got), len(self.blob), result.stderr.decode(errors="replace")[-3000:],
            self.server.log()[-2000:]))

    def test_lftp_mirror_down_and_up(self):
        down = os.path.join(self.workdir, "mirror-down")
        script = "set ssl:verify-certificate no; open -u alice,wonderland ftp://127.0.0.1:%d; " \
                 "mirror /pub %s; mirror -R %s /pub-copy; bye" % (self.server.ports["ftp"], down,
                                                                 down)
        subprocess.run(["lftp", "-c", script], check=True, capture_output=True, timeout=60)
        with open(os.path.join(down, "blob.bin"), "rb") as f:
            self.assertEqual(f.read(), self.blob)
        with open(os.path.join(self.root, "pub-copy", "blob.bin"), "rb") as f:
            self.assertEqual(f.read(), self.blob)
        self.assertTrue(os.path.isdir(os.path.join(self.root, "pub-copy", "sub")))

    def test_transfer_log(self):
        client = self.ftp()
        self.retr(client, "/pub/text.txt")
        # The line is handed to the log's writer thread as the transfer ends; other tests'
        # transfers may land after it.
        pattern = re.compile(r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \d+ 127\.0\.0\.1 18 "
                             r"/pub/text.txt b _ o a anonymous ftp 0 \* c$")

        def logged():
            with open(os.path.join(self.workdir, "xferlog")) as f:
                return [line for line in f.read().splitlines() if pattern.match(line)]
        self.assertTrue(wait_for(logged, what="the xferlog line"))

    def test_stat_during_and_abort(self):
        big = os.path.join(self.root, "pub", "large.bin")
        with open(big, "wb") as f:
            f.truncate(64 * 1024 * 1024)  # large enough to outlast the socket buffers
        client = self.ftp()
        conn = client.transfercmd("RETR /pub/large.bin")
        conn.recv(1000)
        status = client.sendcmd("STAT")
        self.assertTrue(status.startswith("213"), status)
        self.assertIn("bytes transferred so far", status)
        client.putcmd("ABOR")
        conn.close()
        self.assertTrue(client.getline().startswith("426"))
        self.assertTrue(client.getline().startswith("226"))
        self.assertEqual(client.sendcmd("NOOP")[:3], "200")
        os.unlink(big)

    # --- the bad cases ----------------------------------------------------------------------

    def test_traversal_never_escapes_the_root(self):
        client = self.ftp("alice", "wonderland")
        for path in ("../secret.txt", "/../secret.txt", "/pub/../../secret.txt",
                     "/pub/escape.txt", "..%2fsecret.txt"):
            with self.assertRaises(ftplib.error_perm, msg=path):
                self.retr(client, path)
        client.cwd("/../..")  # stays at the root, as vsftpd does
        self.assertEqual(client.pwd(), "/")
        # A user's root is their whole world: reader sees /pub as "/".
        reader = self.ftp("reader", "readonly")
        names = reader.nlst()
        for name in ("blob.bin", "sub", "text.txt"):
            self.assertIn(name, names)
        self.assertNotIn("pub", names)
        with self.assertRaises(ftplib.error_perm):
            self.retr(reader, "../private/only-alice.txt")
        for client_ in (client, reader):
            for name in client_.nlst():
                self.assertNotEqual(name, "secret.txt")

    def test_rights_are_enforced(self):
        reader = self.ftp("reader", "readonly")
        for command in ("STOR x.txt",):
            with self.assertRaises(ftplib.error_perm):
                reader.storbinary(command, io.BytesIO(b"x"))
        with self.assertRaises(ftplib.error_perm):
            reader.delete("text.txt")
        with self.assertRaises(ftplib.error_perm):
            reader.mkd("newdir")
        with self.assertRaises(ftplib.error_perm):
            reader.rename("text.txt", "t.txt")
        self.assertTrue(os.path.exists(os.path.join(self.root, "pub", "text.txt")))

    def test_anonymous_uploads_only_into_incoming_and_never_overwrite(self):
        client = self.ftp()
        with self.assertRaises(ftplib.error_perm):
            client.storbinary("STOR /pub/anon.txt", io.BytesIO(b"x"))
        client.storbinary("STOR /incoming/anon.txt", io.BytesIO(b"dropped"))
        with open(os.path.join(self.root, "incoming", "anon.txt"), "rb") as f:
            self.assertEqual(f.read(), b"dropped")
        with self.assertRaises(ftplib.error_perm):
            client.storbinary("STOR /incoming/anon.txt", io.BytesIO(b"overwrite"))
        with self.assertRaises(ftplib.error_perm):
            client.delete("/incoming/anon.txt")

    def test_wrong_passwords_are_delayed_then_cut_off(self):
        client = ftplib.FTP()
        client.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        start = time.time()
        for _ in range(2):
            with self.assertRaises(ftplib.error_perm) as e:
                client.login("alice", "wrong")
            self.assertTrue(str(e.exception).startswith("530"))
        self.assertGreater(time.time() - start, 0.35)
        with self.assertRaises(ftplib.error_temp) as e:
            client.login("alice", "still wrong")
        self.assertTrue(str(e.exception).startswith("421"))
        client.close()
        self.assertIn("COL-FTP-0003", self.server.log())

    def test_commands_before_login_and_out_of_sequence(self):
        client = ftplib.FTP()
        client.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        for command, code in (("RETR /pub/text.txt", "530"), ("CWD /pub", "530"),
                              ("PASS nothing", "503"), ("PROT P", "503")):
            with self.assertRaises(ftplib.error_perm) as e:
                client.sendcmd(command)
            self.assertTrue(str(e.exception).startswith(code), (command, e.exception))
        client.login()
        with self.assertRaises(ftplib.error_perm) as e:
            client.sendcmd("RNTO /x")
        self.assertTrue(str(e.exception).startswith("503"))
        with self.assertRaises(ftplib.error_perm) as e:
            client.sendcmd("BOGUS")
        self.assertTrue(str(e.exception).startswith("500"))
        with self.assertRaises(ftplib.error_temp) as e:
            client.sendcmd("RETR /pub/text.txt")  # no PASV/PORT first
        self.assertTrue(str(e.exception).startswith("425"))
        client.close()

    def test_port_bounce_is_refused(self):
        client = self.ftp()
        for command in ("PORT 10,0,0,1,4,1", "PORT 127,0,0,1,0,21", "EPRT |1|192.0.2.1|2000|",
                        "EPRT |1|127.0.0.1|80|", "PORT 1,2,3"):
            with self.assertRaises(ftplib.error_perm, msg=command) as e:
                client.sendcmd(command)
            self.assertTrue(str(e.exception)[:3] in ("500", "501"), e.exception)
        self.assertIn("COL-FTP-0006", self.server.log())

    def test_passive_connection_from_another_address_is_refused(self):
        client = self.ftp()
        reply = client.sendcmd("EPSV")
        port = int(reply.split("|||")[1].split("|")[0])
        thief = socket.socket()
        thief.bind(("127.0.0.2", 0))
        thief.connect(("127.0.0.1", port))
        client.putcmd("RETR /pub/text.txt")
        time.sleep(0.3)
        thief.settimeout(1)
        try:
            stolen = thief.recv(100)
        except (socket.timeout, ConnectionResetError):
            stolen = b""
        self.assertEqual(stolen, b"")
        thief.close()
        # The real client can still connect within the data timeout.
        real = socket.create_connection(("127.0.0.1", port), timeout=5)
        data = b""
        while True:
            chunk = real.recv(4096)
            if not chunk:
                break
            data += chunk
        real.close()
        self.assertEqual(data, b"line one\nline two\n")
        self.assertIn("COL-FTP-0007", self.server.log())

    def test_http_cannot_reach_the_ftp_only_host(self):
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT",
                              "-H", "Host: ftp", "--data", "x",
                              "http://127.0.0.1:%d/pub/put.txt" % self.server.ports["http1"]],
                             capture_output=True, check=True).stdout
        self.assertEqual(out, b"403")
        self.assertFalse(os.path.exists(os.path.join(self.root, "pub", "put.txt")))


class FtpLimitsTest(ServerTestCase):
    # Sessions stay up while the test opens more (under prefork each waits for a new child).
    CONFIG = """
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<FtpMaxClientsPerIp>2</FtpMaxClientsPerIp>
<FtpIdleTimeout>30s</FtpIdleTimeout>
<DocumentRoot>{root}</DocumentRoot>
<Location path="/server-status"><Store>status</Store></Location>
"""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.server.ports["ftp"]), timeout=5)
        self.addCleanup(sock.close)
        return sock.makefile("rb").readline()

    def test_clients_per_address_are_capped(self):
        self.assertTrue(self.connect().startswith(b"220"))
        self.assertTrue(self.connect().startswith(b"220"))
        third = self.connect()
        self.assertTrue(third.startswith(b"421"), third)
        self.assertIn("COL-FTP-0001", self.server.log())
        # Counted where operators look: the status page.
        status = subprocess.run(["curl", "-sS", "http://127.0.0.1:%d/server-status?auto"
                                 % self.server.ports["http1"]], capture_output=True, text=True,
                                check=True).stdout
        self.assertRegex(status, r"RefusedConnections: [1-9]")



class FtpIdleTest(ServerTestCase):
    CONFIG = """
<Listen protocol="ftp" address="127.0.0.1" port="0"/>
<FtpIdleTimeout>1s</FtpIdleTimeout>
<DocumentRoot>{root}</DocumentRoot>
"""

    def test_idle_control_connection_is_closed(self):
        sock = socket.create_connection(("127.0.0.1", self.server.ports["ftp"]), timeout=5)
        reader = sock.makefile("rb")
        greeting = reader.readline()
        self.assertTrue(greeting.startswith(b"220"), greeting)
        start = time.time()
        self.assertEqual(reader.readline(), b"421 Timeout.\r\n")
        self.assertEqual(reader.readline(), b"")
        self.assertLess(time.time() - start, 4)
        sock.close()


if __name__ == "__main__":
    unittest.main()
