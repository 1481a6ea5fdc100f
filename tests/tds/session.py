"""One client connection: PRELOGIN, LOGIN7, then requests executed on one PostgreSQL connection.

A reader thread takes messages off the socket so that an ATTENTION arriving while a statement
runs cancels it on PostgreSQL at once; the session thread executes requests in order.
"""

from __future__ import annotations

import queue
import ssl
import struct
import threading
from typing import TYPE_CHECKING, Any

import psycopg2

from . import login as lg
from . import packets as pk
from . import tokens as tk
from .batch import BatchRunner
from .login import Login7

if TYPE_CHECKING:
    from .server import TdsServer


class Session:
    """The server side of one TDS connection."""

    def __init__(self, server: TdsServer, transport: pk.Transport, spid: int) -> None:
        self.server = server
        self.transport = transport
        self.spid = spid
        self.pg: Any = None
        self.user = ""
        self.database = ""
        self.encrypted = False  # TLS beyond the login packet
        self.auth_scheme = "SQL"  # KERBEROS after a GSSAPI login
        self.requests: queue.Queue[tuple[int, bytes] | None] = queue.Queue()
        self.attention = threading.Event()
        self.busy = threading.Lock()
        self._acked_early = 0

    # -- lifecycle --------------------------------------------------------------------------

    def run(self) -> None:
        try:
            if self._handshake():
                threading.Thread(target=self._read_loop, daemon=True).start()
                self._serve()
        except (
            pk.ClientGone,
            OSError,
            ssl.SSLError,
            ValueError,
            IndexError,
            struct.error,
        ):
            pass  # the client left or sent something that is not TDS: drop the connection
        finally:
            if self.pg is not None:
                self.pg.close()
            self.transport.close()
            self.server.forget(self)

    def _read_loop(self) -> None:
        try:
            while True:
                ptype, payload = self.transport.read_message()
                if ptype == pk.ATTENTION:
                    self.server.attentions += 1
                    self.attention.set()
                    if self.busy.locked() and self.pg is not None:
                        self.pg.cancel()
                self.requests.put((ptype, payload))
        except (pk.ClientGone, OSError, ssl.SSLError, ValueError):
            self.requests.put(None)

    def _serve(self) -> None:
        runner = BatchRunner(self)
        while (item := self.requests.get()) is not None:
            ptype, payload = item
            if ptype == pk.ATTENTION:
                if self._acked_early:
                    self._acked_early -= 1
                else:
                    self.attention.clear()
                    self.reply(tk.done(tk.DONE_ATTN))
                continue
            with self.busy:
                response = runner.handle(ptype, payload)
            if self.attention.is_set():
                self.attention.clear()
                self._acked_early += 1
                response = tk.done(tk.DONE_ATTN)
            self.reply(response)

    def reply(self, tokens: bytes) -> None:
        self.transport.send_message(pk.REPLY, tokens)

    # -- PRELOGIN and LOGIN7 ----------------------------------------------------------------

    def _handshake(self) -> bool:
        ptype, payload = self.transport.read_message()
        if ptype != pk.PRELOGIN:
            return False
        options = lg.prelogin_options(payload)
        client = options.get(lg.PL_ENCRYPTION, bytes([lg.ENCRYPT_NOT_SUP]))[0]
        context = self.server.tls_context
        encryption = lg.negotiate_encryption(client, context is not None)
        self.server.last_encryption = encryption
        self.reply(lg.prelogin_reply(encryption))
        if encryption != lg.ENCRYPT_NOT_SUP and context is not None:
            self.transport.start_tls(context)
        ptype, payload = self.transport.read_message()
        if encryption == lg.ENCRYPT_OFF:
            self.transport.stop_tls()
        self.encrypted = encryption == lg.ENCRYPT_ON and context is not None
        if ptype != pk.LOGIN7:
            return False
        request = lg.parse_login7(payload)
        if request.sspi:
            self.auth_scheme = "KERBEROS"
            authenticated = self.server.kerberos_login(self, request)
        else:
            authenticated = self._sql_login(request)
        if not authenticated:
            return False
        self._login_response(request)
        return True

    def _sql_login(self, request: Login7) -> bool:
        database = request.database or self.server.default_database
        try:
            self.pg = psycopg2.connect(
                host=self.server.pg_host,
                port=self.server.pg_port,
                user=request.user,
                password=request.password,
                dbname=database,
                application_name=f"tds:{request.app}"[:63],
                connect_timeout=10,
            )
        except psycopg2.OperationalError as exc:
            self.login_failed(request.user, str(exc))
            return False
        self._opened(request.user, database)
        return True

    def open_as(self, role: str, database: str) -> bool:
        """A session for ROLE authenticated some other way (Kerberos): superuser + SET ROLE."""
        try:
            self.pg = psycopg2.connect(**self.server.superuser_dsn(database))
            self.pg.autocommit = True
            with self.pg.cursor() as cur:
                cur.execute("SET SESSION AUTHORIZATION %s", (role,))
        except psycopg2.Error as exc:
            self.login_failed(role, str(exc))
            return False
        self._opened(role, database)
        return True

    def _opened(self, user: str, database: str) -> None:
        self.pg.autocommit = True
        self.user, self.database = user, database

    def login_failed(self, user: str, detail: str) -> None:
        if "does not exist" in detail and "database" in detail:
            text = f'Cannot open database "{self.server.default_database}" requested by the login.'
            self.reply(tk.message(4060, 11, text) + tk.done(tk.DONE_ERROR))
            return
        self.reply(
            tk.message(18456, 14, f"Login failed for user '{user}'.")
            + tk.done(tk.DONE_ERROR)
        )

    def _login_response(self, request: Login7) -> None:
        size = request.packet_size if 512 <= request.packet_size <= 32767 else 4096
        tokens = (
            tk.envchange_text(tk.ENV_DATABASE, self.database, "master")
            + tk.message(
                5701, 0, f"Changed database context to '{self.database}'.", state=2
            )
            + tk.envchange_bytes(tk.ENV_COLLATION, tk.COLLATION)
            + tk.envchange_text(tk.ENV_LANGUAGE, "us_english")
            + tk.message(5703, 0, "Changed language setting to us_english.")
            + tk.loginack()
            + (tk.featureextack() if request.extension else b"")
            + tk.envchange_text(tk.ENV_PACKET_SIZE, str(size), "4096")
            + tk.done()
        )
        self.reply(tokens)
        self.transport.packet_size = size
