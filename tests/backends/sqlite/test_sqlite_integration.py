"""The SQLite store against the real binary: written over HTTP (PUT, DELETE) and FTP (lftp's
put, mkdir, mv, rm), read back over HTTP (conditionals, ranges, large bodies in chunks), FTP
listings and a Gopher menu; an upload cut off leaves no row and no staged chunk; a locked
database answers 503 and a damaged one 503, each with a log line."""

import ftplib
import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
from collage_server import CollageServer, http_request, recv_until_closed, wait_for  # noqa: E402


class SqliteStoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="collage-sqlite-")
        cls.db = os.path.join(cls.workdir, "site.db")
        cls.damaged = os.path.join(cls.workdir, "damaged.db")
        with open(cls.damaged, "wb") as f:
            f.write(b"this is not a database" * 100)
        hashed = subprocess.run(["openssl", "passwd", "-6", "secret"], capture_output=True,
                                text=True, check=True).stdout.strip()
        with open(os.path.join(cls.workdir, "users"), "w") as f:
            f.write("alice:%s:/:read,write,delete,mkdir\n" % hashed)
        cls.server = CollageServer("""
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<Listen protocol="ftp" address="127.0.0.1" port="0" host="ftp"/>
<Listen protocol="gopher" address="127.0.0.1" port="0" host="gopher"/>
<FtpUserFile>{dir}/users</FtpUserFile>
<LogLevel>info</LogLevel>
<VirtualHost name="web">
  <DocumentRoot>{dir}</DocumentRoot>
  <Location path="/db">
    <Store>sqlite</Store>
    <SqliteDatabase>{db}</SqliteDatabase>
    <SqliteWritable>on</SqliteWritable>
    <SqliteChunkSize>64k</SqliteChunkSize>
  </Location>
  <Location path="/damaged">
    <Store>sqlite</Store>
    <SqliteDatabase>{damaged}</SqliteDatabase>
  </Location>
</VirtualHost>
<VirtualHost name="ftp">
  <Protocols>ftp</Protocols>
  <Store>sqlite</Store>
  <SqliteDatabase>{db}</SqliteDatabase>
  <SqliteWritable>on</SqliteWritable>
  <SqliteChunkSize>64k</SqliteChunkSize>
</VirtualHost>
<VirtualHost name="gopher">
  <Store>sqlite</Store>
  <SqliteDatabase>{db}</SqliteDatabase>
</VirtualHost>
""".format(dir=cls.workdir, db=cls.db, damaged=cls.damaged), workdir=cls.workdir)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def tearDown(self):
        self.assertTrue(self.server.alive(), self.server.log())

    def http(self, method, path, body=None, headers=None):
        return http_request(self.server.port, path, method, body, headers)

    def test_http_writes_and_reads_with_conditionals_and_ranges(self):
        status, _, _ = self.http("PUT", "/db/hello.txt", b"hello, database\n")
        self.assertEqual(status, 201)
        status, headers, body = self.http("GET", "/db/hello.txt")
        self.assertEqual((status, body), (200, b"hello, database\n"))
        self.assertEqual(headers["content-type"], "text/plain")
        etag = headers["etag"]
        self.assertEqual(self.http("GET", "/db/hello.txt", headers={"If-None-Match": etag})[0],
                         304)
        status, _, part = self.http("GET", "/db/hello.txt", headers={"Range": "bytes=7-14"})
        self.assertEqual((status, part), (206, b"database"))
        self.assertEqual(self.http("PUT", "/db/hello.txt", b"again\n")[0], 204)
        self.assertNotEqual(self.http("GET", "/db/hello.txt")[1]["etag"], etag)
        # A conditional write against the old version is refused.
        self.assertEqual(self.http("PUT", "/db/hello.txt", b"x", {"If-Match": etag})[0], 412)
        self.assertEqual(self.http("DELETE", "/db/hello.txt")[0], 204)
        self.assertEqual(self.http("GET", "/db/hello.txt")[0], 404)
        self.assertEqual(self.http("PUT", "/db/no/such/dir.txt", b"x")[0], 409)

    def test_large_bodies_are_kept_in_chunks(self):
        payload = os.urandom(3 * 1024 * 1024 + 5)
        self.assertEqual(self.http("PUT", "/db/large.bin", payload)[0], 201)
        status, headers, body = self.http("GET", "/db/large.bin")
        self.assertEqual(int(headers["content-length"]), len(payload))
        self.assertEqual(hashlib.sha256(body).digest(), hashlib.sha256(payload).digest())
        with sqlite3.connect(self.db) as db:
            chunks = db.execute("SELECT count(*), max(length(data)) FROM collage_chunks c "
                                "JOIN collage_entries e ON e.blob_id = c.blob_id "
                                "WHERE e.path = '/large.bin'").fetchone()
        self.assertEqual(chunks[0], (len(payload) + 65535) // 65536)
        self.assertEqual(chunks[1], 65536)

    def test_ftp_by_lftp_then_http_and_gopher(self):
        local = os.path.join(self.workdir, "upload.txt")
        with open(local, "w") as f:
            f.write("uploaded by lftp\n")
        script = ("set ftp:passive-mode on; mkdir docs; put %s -o docs/a.txt; "
                  "put %s -o docs/b.txt; mv docs/b.txt docs/c.txt; put %s -o gone.txt; "
                  "rm gone.txt; quit" % (local, local, local))
        out = subprocess.run(["lftp", "-u", "alice,secret", "-e", script,
                              "ftp://127.0.0.1:%d" % self.server.ports["ftp"]],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.http("GET", "/db/docs/a.txt")[2], b"uploaded by lftp\n")
        self.assertEqual(self.http("GET", "/db/docs/c.txt")[2], b"uploaded by lftp\n")
        self.assertEqual(self.http("GET", "/db/docs/b.txt")[0], 404)
        self.assertEqual(self.http("GET", "/db/gone.txt")[0], 404)
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.server.ports["ftp"], timeout=10)
        ftp.login("alice", "secret")
        self.assertEqual(sorted(ftp.nlst("/docs")), ["a.txt", "c.txt"])
        facts = dict(ftp.mlsd("/"))
        self.assertEqual(facts["docs"]["type"], "dir")
        chunks = []
        ftp.retrbinary("RETR /docs/a.txt", chunks.append)
        self.assertEqual(b"".join(chunks), b"uploaded by lftp\n")
        ftp.quit()
        with socket.create_connection(("127.0.0.1", self.server.ports["gopher"]), 10) as sock:
            sock.sendall(b"/docs\r\n")
            menu = recv_until_closed(sock).decode()
        self.assertIn("0a.txt\t/docs/a.txt\t", menu)
        self.assertIn("0c.txt\t/docs/c.txt\t", menu)
        with socket.create_connection(("127.0.0.1", self.server.ports["gopher"]), 10) as sock:
            sock.sendall(b"/\r\n")
            self.assertIn("1docs/\t/docs\t", recv_until_closed(sock).decode())

    def test_an_upload_cut_off_leaves_nothing(self):
        with socket.create_connection(("127.0.0.1", self.server.port), 10) as sock:
            sock.sendall(b"PUT /db/cut.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
            sock.sendall(b"x" * 200000)
            # Past one chunk: some were staged before the client went away.
            wait_for(lambda: self.staged_chunks() > 0, what="a staged chunk")
        wait_for(lambda: self.staged_chunks() == 0 and self.staged_blobs() == 0,
                 what="the staged chunks to be dropped")
        self.assertEqual(self.http("GET", "/db/cut.bin")[0], 404)

    def staged_chunks(self):
        with sqlite3.connect(self.db) as db:
            if not db.execute("SELECT name FROM sqlite_master WHERE name = 'collage_blobs'"
                              ).fetchone():
                return 0  # the server has not made its tables yet
            return db.execute("SELECT count(*) FROM collage_chunks WHERE blob_id IN "
                              "(SELECT blob_id FROM collage_blobs WHERE staged_at IS NOT NULL)"
                              ).fetchone()[0]

    def staged_blobs(self):
        with sqlite3.connect(self.db) as db:
            if not db.execute("SELECT name FROM sqlite_master WHERE name = 'collage_blobs'"
                              ).fetchone():
                return 0
            return db.execute("SELECT count(*) FROM collage_blobs WHERE staged_at IS NOT NULL"
                              ).fetchone()[0]

    def test_locked_and_damaged_databases_answer_503(self):
        self.assertEqual(self.http("PUT", "/db/before-lock.txt", b"x")[0], 201)
        holder = sqlite3.connect(self.db, isolation_level=None, timeout=5)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            status, _, _ = self.http("PUT", "/db/locked.txt", b"x")
            self.assertEqual(status, 503)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        wait_for(lambda: "COL-SQLITE-0002" in self.server.log(), what="the lock's log line")
        self.assertEqual(self.http("PUT", "/db/after-lock.txt", b"x")[0], 201)
        self.assertEqual(self.http("GET", "/damaged/x")[0], 503)
        wait_for(lambda: "COL-SQLITE-0001" in self.server.log(), what="the damage's log line")


if __name__ == "__main__":
    unittest.main()
