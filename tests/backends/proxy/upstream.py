"""A test upstream for the proxy store: an HTTP/1.1 server (keep-alive, threads) whose answers
the path chooses, counting requests and connections, and recording what it was sent."""

import base64
import hashlib
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name):
        super().__init__(("127.0.0.1", 0), Handler)
        self.name = name
        self.requests = 0
        self.healthy = True
        self.health_checks = 0
        self.connections = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body, True
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length), False

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        self.send_header("X-Upstream", self.server.name)
        for name, value in headers:
            self.send_header(name, value)
        if not any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def answer(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/health":
            with self.server.lock:
                self.server.health_checks += 1
            self.send(200 if self.server.healthy else 503, b"health\n")
            return
        with self.server.lock:
            self.server.requests += 1
        query = dict(urllib.parse.parse_qsl(url.query))
        body, chunked = self.read_body()
        route = url.path.rstrip("/").rsplit("/", 1)[-1]
        if route == "websocket" and self.headers.get("Upgrade", "").lower() == "websocket":
            self.websocket()
            return
        if route == "slow":
            time.sleep(float(query.get("delay", "2")))
        if route == "garbage":
            self.wfile.write(b"THIS IS NOT HTTP\r\n\r\n")
            self.close_connection = True
            return
        if route == "chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for i in range(int(query.get("parts", "5"))):
                part = ("part %d\n" % i).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Trailer: dropped\r\n\r\n")
            return
        if route == "close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the server closes\n" * 100)
            self.close_connection = True
            return
        if route == "big":
            size = int(query.get("size", "1000000"))
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            block = bytes(range(256)) * 256
            sent = 0 if self.command != "HEAD" else size
            while sent < size:
                piece = block[: min(len(block), size - sent)]
                self.wfile.write(piece)
                sent += len(piece)
            return
        if route == "redirect":
            self.send(302, b"", [("Location", "http://127.0.0.1:%d%s/elsewhere" % (
                self.server.port, query.get("base", "")))])
            return
        if route == "cookie":
            self.send(200, b"cookie\n", [("Set-Cookie", "id=1; Path=/base/area; HttpOnly")])
            return
        if route == "hop":
            self.send(200, b"hop\n", [("Connection", "X-Secret"), ("X-Secret", "1"),
                                      ("Keep-Alive", "timeout=5"), ("X-Kept", "yes")])
            return
        if route == "cacheable":
            self.send(200, ("cacheable from %s\n" % self.server.name).encode(),
                      [("Cache-Control", "max-age=60"), ("Content-Type", "text/plain")])
            return
        record = {
            "upstream": self.server.name,
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "chunked": chunked,
        }
        self.send(200, json.dumps(record).encode(), [("Content-Type", "application/json")])

    def websocket(self):
        """RFC 6455's handshake, a greeting frame, then every byte echoed back (the proxy relays
        bytes, not frames) until the client closes or sends CLOSE."""
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        connection = self.headers.get("Connection", "")
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("X-Saw-Connection", connection)
        self.end_headers()
        self.wfile.write(b"\x81\x05hello")
        self.wfile.flush()
        self.close_connection = True
        while True:
            data = self.connection.recv(65536)
            if not data or b"CLOSE" in data:
                break
            self.connection.sendall(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = answer
