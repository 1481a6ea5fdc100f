"""The TDS test server: a listener on loopback that runs one ``Session`` thread per client.

    server = TdsServer(pg_host, pg_port, pg_socket_dir, cert=..., key=...)
    server.start()   # server.port is a free loopback port
    ...
    server.stop()

Clients log in with a PostgreSQL role and its password (SQL auth is checked by PostgreSQL
itself) or with Kerberos (see kerberos.py); statements run on the role's own connection.
"""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import psycopg2.extras

from . import packets as pk
from . import tokens as tk
from .login import Login7
from .session import Session


class TdsServer:
    """A TDS 7.4 server in front of a PostgreSQL cluster."""

    def __init__(
        self,
        pg_host: str,
        pg_port: int,
        pg_socket_dir: str | Path,
        default_database: str = "tinyrun",
        cert: Path | None = None,
        key: Path | None = None,
        superuser: str = "postgres",
        host: str = "127.0.0.1",
    ) -> None:
        self.pg_host, self.pg_port = pg_host, pg_port
        self.pg_socket_dir = str(pg_socket_dir)
        self.superuser = superuser
        self.default_database = default_database
        self.host = host
        self.tls_context: ssl.SSLContext | None = None
        if cert is not None and key is not None:
            self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            # TLS inside PRELOGIN is TLS 1.2 for every TDS 7.x client
            self.tls_context.maximum_version = ssl.TLSVersion.TLSv1_2
            self.tls_context.load_cert_chain(str(cert), str(key))
        self.ca_file: Path | None = None  # the CA that signed CERT, for clients
        self.kerberos: Any = None  # a kerberos.Acceptor, set by the caller
        self.attentions = 0
        self.rpc_calls: list[str] = []  # procedure names of RPC requests, for tests
        self.last_encryption = -1
        self._listener: socket.socket | None = None
        self._sessions: set[Session] = set()
        self._lock = threading.Lock()
        self._next_spid = 51
        self.port = 0

    def start(self) -> TdsServer:
        psycopg2.extras.register_uuid()
        listener = socket.create_server((self.host, 0))
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                sock, _addr = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                session = Session(self, pk.Transport(sock), self._next_spid)
                self._next_spid += 1
                self._sessions.add(session)
            threading.Thread(target=session.run, daemon=True).start()

    def forget(self, session: Session) -> None:
        with self._lock:
            self._sessions.discard(session)

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.transport.close()

    def superuser_dsn(self, database: str) -> dict[str, Any]:
        return {
            "host": self.pg_socket_dir,
            "port": self.pg_port,
            "user": self.superuser,
            "dbname": database,
        }

    def kerberos_login(self, session: Session, request: Login7) -> bool:
        if self.kerberos is None:
            text = "Login failed: the TDS test server has no Kerberos keytab."
            session.reply(tk.message(18452, 14, text) + tk.done(tk.DONE_ERROR))
            return False
        return bool(self.kerberos.login(session, request))
