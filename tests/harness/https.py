"""A scripted HTTPS server on loopback for download tests.

``HttpsServer(cert)`` serves routes that tests set with ``route(path, *replies)``: each request
to PATH takes the next reply (the last one repeats). A :class:`Reply` is a status, a body and
headers, and may ``drop`` the connection after sending part of the body (a transfer cut
mid-way) or require a bearer token. ``hits[path]`` counts the requests, ``auth[path]`` keeps the
Authorization headers seen.
"""

from __future__ import annotations

import ssl
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .tls import ServerCert


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop_after: int | None = None  # send only this many body bytes, then close
    bearer: str | None = None  # answer 401 unless "Authorization: Bearer <bearer>"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        reply = self.server.owner.next_reply(path, self.headers.get("Authorization"))
        if (
            reply.bearer is not None
            and self.headers.get("Authorization") != f"Bearer {reply.bearer}"
        ):
            reply = Reply(401, b"unauthorized")
        self.send_response(reply.status)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if reply.drop_after is None:
            self.wfile.write(reply.body)
            return
        self.wfile.write(reply.body[: reply.drop_after])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HttpsServer


class HttpsServer:
    """Serves HTTPS on 127.0.0.1 with CERT; ``url(path)`` is the address a client uses."""

    def __init__(self, cert: ServerCert) -> None:
        self._routes: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.hits: dict[str, int] = defaultdict(int)
        self.auth: dict[str, list[str | None]] = defaultdict(list)
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert.cert), str(cert.key))
        self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def route(self, path: str, *replies: Reply) -> str:
        """Script PATH's replies (the last one repeats); returns its URL and resets its counters."""
        with self._lock:
            self._routes[path] = list(replies)
            self.hits[path] = 0
            self.auth[path] = []
        return self.url(path)

    def next_reply(self, path: str, authorization: str | None) -> Reply:
        with self._lock:
            self.hits[path] += 1
            self.auth[path].append(authorization)
            replies = self._routes.get(path)
            if not replies:
                return Reply(404, b"not found")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
