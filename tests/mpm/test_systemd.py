"""Running under systemd without systemd as PID 1: readiness, reload and stop notices read
from a NOTIFY_SOCKET of the test's own; listening sockets passed by systemd-socket-activate
(LISTEN_FDS); and the example unit files checked by systemd-analyze verify."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from collage_server import BINARY, free_port, http_request, prefork_module, wait_for  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "systemd")


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def write_config(directory, body):
    mpm = os.environ.get("COLLAGE_TEST_MPM", "event")
    path = os.path.join(directory, "collage.xml")
    with open(path, "w") as f:
        f.write("<Collage>\n%s<Mpm>%s</Mpm>\n<DocumentRoot>%s</DocumentRoot>\n%s\n</Collage>\n"
                % (prefork_module() if mpm == "prefork" else "", mpm, directory, body))
    with open(os.path.join(directory, "index.html"), "w") as f:
        f.write("activated\n")
    return path


class NotifyTest(unittest.TestCase):
    def test_ready_reloading_and_stopping_reach_the_notify_socket(self):
        directory = tempfile.mkdtemp(prefix="collage-notify-")
        self.addCleanup(shutil.rmtree, directory, True)
        path = os.path.join(directory, "notify.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(path)
        listener.settimeout(15)
        self.addCleanup(listener.close)
        port = free_port()
        config = write_config(directory, '<Listen protocol="http1" address="127.0.0.1" '
                                         'port="%d"/>' % port)
        log = open(os.path.join(directory, "log"), "w+")
        self.addCleanup(log.close)
        server = subprocess.Popen([BINARY, "-f", config], cwd=directory, stdout=log,
                                  stderr=subprocess.STDOUT, env=dict(os.environ,
                                                                     NOTIFY_SOCKET=path))
        self.addCleanup(lambda: server.poll() is None and (server.kill(), server.wait()))

        def next_message():
            return listener.recv(4096).decode()
        ready = next_message()
        self.assertIn("READY=1", ready)
        self.assertIn("MAINPID=%d" % server.pid, ready)
        self.assertIn("STATUS=generation 1 serving", ready)
        # Ready means serving: the listener accepts and answers at once.
        self.assertEqual(http_request(port, "/index.html")[0], 200)
        server.send_signal(signal.SIGUSR1)
        self.assertEqual(next_message(), "RELOADING=1")
        again = next_message()
        self.assertIn("READY=1", again)
        self.assertIn("STATUS=generation 2 serving", again)
        server.send_signal(signal.SIGTERM)
        self.assertEqual(next_message(), "STOPPING=1")
        self.assertEqual(server.wait(15), 0)

    def test_without_notify_socket_nothing_is_sent_and_the_server_runs(self):
        directory = tempfile.mkdtemp(prefix="collage-notify-")
        self.addCleanup(shutil.rmtree, directory, True)
        port = free_port()
        config = write_config(directory, '<Listen protocol="http1" address="127.0.0.1" '
                                         'port="%d"/>' % port)
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        server = subprocess.Popen([BINARY, "-f", config], cwd=directory, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: server.poll() is None and (server.kill(), server.wait()))
        wait_for(lambda: self.answers(port))
        server.send_signal(signal.SIGTERM)
        self.assertEqual(server.wait(15), 0)

    @staticmethod
    def answers(port):
        try:
            return http_request(port, "/index.html")[0] == 200
        except OSError:
            return False


@unittest.skipUnless(shutil.which("systemd-socket-activate"), "needs systemd-socket-activate")
class SocketActivationTest(unittest.TestCase):
    def test_passed_sockets_are_served_and_unnamed_ones_closed(self):
        directory = tempfile.mkdtemp(prefix="collage-activate-")
        self.addCleanup(shutil.rmtree, directory, True)
        passed, extra, own = free_port(), free_port(), free_port()
        # The server names `passed` (systemd's) and `own` (bound by itself); `extra` is passed
        # but named by no listener.
        config = write_config(directory, """
<Listen protocol="http1" address="127.0.0.1" port="%d"/>
<Listen protocol="http1" address="127.0.0.1" port="%d"/>""" % (passed, own))
        log_path = os.path.join(directory, "log")
        log = open(log_path, "w+")
        self.addCleanup(log.close)
        activator = subprocess.Popen(
            ["systemd-socket-activate", "-l", "127.0.0.1:%d" % passed,
             "-l", "127.0.0.1:%d" % extra, BINARY, "-f", config],
            cwd=directory, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: activator.poll() is None and (activator.kill(),
                                                              activator.wait()))
        # systemd-socket-activate holds the socket and starts the server on the first
        # connection: this request is queued by the kernel and answered by Collage.
        wait_for(lambda: "listening" in read_text(log_path).lower(),
                 what="the activator to listen")
        status, _, body = http_request(passed, "/index.html")
        self.assertEqual((status, body), (200, b"activated\n"))

        def text():
            return read_text(log_path)
        self.assertIn("listening: http1 on 127.0.0.1:%d (from systemd)" % passed, text())
        self.assertIn("COL-CORE-0013", text())
        wait_for(lambda: "no <Listen> names; closed" in text())
        self.assertIn("127.0.0.1:%d" % extra, [line for line in text().splitlines()
                                               if "COL-CORE-0014" in line][0])
        self.assertRegex(text(), r"listening: http1 on 127.0.0.1:%d\n" % own)
        self.assertEqual(http_request(own, "/index.html")[0], 200)
        # The process systemd-socket-activate started is Collage itself (it execs).
        activator.send_signal(signal.SIGTERM)
        self.assertEqual(activator.wait(15), 0)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", passed), timeout=1).close()
            except OSError:
                break
            time.sleep(0.05)
        else:
            self.fail("the passed socket still accepts after the server stopped")


@unittest.skipUnless(shutil.which("systemd-analyze"), "needs systemd-analyze")
class UnitFileTest(unittest.TestCase):
    def verify(self, directory, text, name):
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            f.write(text)
        return subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                              text=True, timeout=60)

    def test_example_units_verify(self):
        directory = tempfile.mkdtemp(prefix="collage-units-")
        self.addCleanup(shutil.rmtree, directory, True)
        with open(os.path.join(EXAMPLES, "collage.service")) as f:
            # The unit names the installed binary; point it at this build's.
            service = f.read().replace("/usr/local/bin/collage", BINARY)
        with open(os.path.join(EXAMPLES, "collage.socket")) as f:
            sockets = f.read()
        self.assertIn("Type=notify", service)
        self.verify(directory, sockets, "collage.socket")
        result = self.verify(directory, service, "collage.service")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr.strip(), "")
        broken = self.verify(directory, service.replace("Type=notify", "Type=notyfy"),
                             "broken.service")
        self.assertIn("notyfy", broken.stderr)


if __name__ == "__main__":
    unittest.main()
