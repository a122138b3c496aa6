"""The event MPM under connections that say nothing, or say it slowly: thousands of silent
connections and a slowloris must not lock out a normal client. Regression: 2000 silent clients
held every busy slot (16 children x 4 threads x 2) and new clients waited in the accept queue."""

import os
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import ServerTestCase  # noqa: E402

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
        start = time.monotonic()
        out = subprocess.run(["curl", "-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}",
                              self.server.url(path)], capture_output=True, text=True)
        return out.stdout, time.monotonic() - start

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


if __name__ == "__main__":
    unittest.main()
