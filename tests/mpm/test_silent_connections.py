"""The event MPM under connections that say nothing, or say it slowly: thousands of silent
connections and a slowloris must not lock out a normal client. Regression: 2000 silent clients
held every busy slot (16 children x 4 threads x 2) and new clients waited in the accept queue."""

import os
import resource
import shutil
import socket
import subprocess
import tempfile
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import (CollageServer, ServerTestCase, connect,  # noqa: E402
                            recv_until_closed)

SILENT = 2000
SLOWLORIS = 200


class SilentConnectionsTest(ServerTestCase):
    CONFIG = """
<Mpm>event</Mpm>
<StartServers>4</StartServers>
<ServerLimit>16</ServerLimit>
<ThreadsPerChild>4</ThreadsPerChild>
<ThreadLimit>4</ThreadLimit>
<MaxRequestWorkers>64</MaxRequestWorkers>
<Listen protocol="http1" address="127.0.0.1" port="0"/>
<RequestHeaderTimeout>60s</RequestHeaderTimeout>
<DocumentRoot>{root}</DocumentRoot>
<Location path="/server-status">
  <Store>status</Store>
</Location>
"""

    @classmethod
    def prepare_site(cls, root):
        with open(os.path.join(root, "index.html"), "w") as f:
            f.write("hello\n")

    def open_many(self, count, first_bytes=b""):
        sockets = []
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
            if first_bytes:
                s.sendall(first_bytes)
            sockets.append(s)
            self.addCleanup(s.close)
        return sockets

    def timed_get(self, path):
        """Status and seconds from connect to the whole response: the server's time, not a
        client program's start-up (a raw socket, no process to spawn)."""
        start = time.monotonic()
        with connect(self.server.port, timeout=10) as s:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                      % path.encode())
            data = recv_until_closed(s)
        return data.split(b" ", 2)[1].decode(), time.monotonic() - start

    def test_silent_connections_and_slowloris_do_not_lock_out_clients(self):
        self.open_many(SILENT)
        slow = self.open_many(SLOWLORIS, b"GET / HTTP/1.1\r\nHost: x\r\n")
        for s in slow[::10]:
            s.sendall(b"X-Slow: 1\r\n")  # still sending, never finishing
        times = []
        for _ in range(20):
            status, seconds = self.timed_get("/index.html")
            self.assertEqual(status, "200")
            times.append(seconds)
        times.sort()
        # A normal client is answered at once (median), and never left waiting (worst case).
        self.assertLess(times[len(times) // 2], 0.1, times)
        self.assertLess(times[-1], 1.0, times)
        status, seconds = self.timed_get("/server-status?auto")
        self.assertEqual(status, "200")
        self.assertLess(seconds, 1.0)


def status_auto(server):
    with connect(server.port) as s:
        s.sendall(b"GET /server-status?auto HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = recv_until_closed(s)
    body = data.split(b"\r\n\r\n", 1)[1].decode()
    return dict(line.split(": ", 1) for line in body.splitlines())


def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class LimitsAreLoggedAndCountedTest(unittest.TestCase):
    """The limits that remain say so when they bite: in the error log and on the status page."""

    def server(self, body, **kw):
        root = tempfile.mkdtemp(prefix="collage-limits-")
        self.addCleanup(shutil.rmtree, root, True)
        with open(os.path.join(root, "big.bin"), "wb") as f:
            f.truncate(64 * 1024 * 1024)  # more than socket buffers hold
        server = CollageServer("""
            <Mpm>event</Mpm>
            <Listen protocol="http1" address="127.0.0.1" port="0"/>
            <DocumentRoot>%s</DocumentRoot>
            <Location path="/server-status"><Store>status</Store></Location>
            """ % root + body, **kw)
        self.addCleanup(server.cleanup)
        return server

    # The sanitizers' own runtime needs descriptors (it reads /proc/self/maps to check a vtable or
    # a thread's stack), so it cannot run a process that is out of them; the normal build does.
    @unittest.skipIf("ASAN_OPTIONS" in os.environ, "sanitizer runtime needs free descriptors")
    def test_out_of_descriptors_is_logged_counted_and_survived(self):
        # A hard limit of 64 descriptors: the control process cannot raise it further.
        server = self.server("<RequestHeaderTimeout>30s</RequestHeaderTimeout>",
                             preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                                   (64, 64)))
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=5)
                for _ in range(100)]
        self.assertTrue(wait_for(lambda: "COL-MPM-0001" in server.log()), server.log()[-2000:])
        for s in held:
            s.close()
        # Once descriptors are free again the server answers, and the status page counted it.
        self.assertTrue(wait_for(lambda: int(status_auto(server)["AcceptFailures"]) > 0))

    def test_a_full_event_child_is_logged_and_counted(self):
        server = self.server("""
            <StartServers>2</StartServers>
            <ThreadsPerChild>1</ThreadsPerChild>
            <AsyncRequestWorkerFactor>1</AsyncRequestWorkerFactor>
            <MaxRequestWorkers>2</MaxRequestWorkers>
            """)
        self.assertTrue(wait_for(lambda: len(server.children()) == 2))
        # Downloads stuck on clients that do not read keep requests in progress in both children.
        stuck = []
        for _ in range(6):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", server.port))
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            stuck.append(s)
        # New clients knock until a full child turns one away (the first child may have taken
        # all six stuck ones in one batch, before their requests made it busy).
        def knock():
            stuck.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
            return "COL-EVENT-0005" in server.log()
        self.assertTrue(wait_for(knock), server.log()[-2000:])
        for s in stuck:
            s.close()
        self.assertTrue(wait_for(lambda: int(status_auto(server)["ChildFull"]) > 0))


if __name__ == "__main__":
    unittest.main()
