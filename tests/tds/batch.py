"""Requests after login: SQL batches (2.2.6.7), transaction manager requests (2.2.6.9), RPC
(2.2.6.6) and bulk load (2.2.6.1), each answered with one token stream."""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING, Any

import psycopg2
import psycopg2.extensions

from . import catalog, tdstypes
from . import packets as pk
from . import tokens as tk
from .bulk import PendingBulk, parse_insert_bulk, run_bulk
from .errors import sqlserver_error
from .splitter import split_lines
from .translate import Context, Statement, TranslationError, classify, to_postgres

if TYPE_CHECKING:
    from .session import Session

TM_BEGIN, TM_COMMIT, TM_ROLLBACK, TM_SAVE = 5, 7, 8, 9


class BatchAborted(Exception):
    """The rest of the batch does not run (an error that SQL Server treats as batch-aborting)."""


def skip_all_headers(payload: bytes) -> bytes:
    """The request without its ALL_HEADERS prefix (2.2.5.3), skipped by its declared length."""
    if len(payload) >= 4:
        (total,) = struct.unpack_from("<I", payload, 0)
        if 4 <= total <= len(payload) and total >= 22:
            return payload[total:]
    return payload


class BatchRunner:
    """Executes one session's requests on its PostgreSQL connection."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.nocount = False
        self.fmtonly = False
        self.trancount = 0
        self.descriptor = b"\0" * 8
        self.out: list[Any] = []  # token bytes, or ("done", status, rowcount, token)
        self.done_token = tk.TOKEN_DONE
        self.names: dict[str, str] | None = None
        self.pending_bulk: PendingBulk | None = None
        self.line = 1  # the running statement's line in its batch, for messages

    # -- entry ------------------------------------------------------------------------------

    def handle(self, ptype: int, payload: bytes) -> bytes:
        self.out = []
        self.done_token = tk.TOKEN_DONE
        body = skip_all_headers(payload)
        try:
            if ptype == pk.SQL_BATCH:
                self.run_batch(body.decode("utf-16-le"))
            elif ptype == pk.TRANSACTION_MANAGER:
                self.transaction_request(body)
            elif ptype == pk.RPC:
                from .rpc import run_rpc

                run_rpc(self, body)
            elif ptype == pk.BULK_LOAD:
                run_bulk(self, payload)
            else:
                self.error(
                    40000,
                    16,
                    f"The TDS test server does not support packet type {ptype:#x}.",
                )
        except BatchAborted:
            pass
        except Exception as exc:  # noqa: BLE001 - a bug or unsupported request: tell the client
            self.error(40000, 16, f"TDS test server: {type(exc).__name__}: {exc}")
        return self.finish()

    def finish(self, token: int = tk.TOKEN_DONE) -> bytes:
        dones = [i for i, part in enumerate(self.out) if isinstance(part, tuple)]
        if not dones:
            self.out.append(("done", 0, None, token))
            dones = [len(self.out) - 1]
        chunks = []
        for index, part in enumerate(self.out):
            if isinstance(part, tuple):
                _kind, status, rowcount, tok = part
                status |= tk.DONE_MORE if index != dones[-1] else 0
                chunks.append(tk.done(status, rowcount, tok))
            else:
                chunks.append(part)
        return b"".join(chunks)

    def done(self, status: int = 0, rowcount: int | None = None) -> None:
        if self.nocount:
            rowcount = None
        self.out.append(("done", status, rowcount, self.done_token))

    def error(self, number: int, severity: int, text: str, state: int = 1) -> None:
        self.out.append(tk.message(number, severity, text, state, self.line))
        self.out.append(("done", tk.DONE_ERROR, None, self.done_token))

    # -- SQL batches ------------------------------------------------------------------------

    def context(self) -> Context:
        s = self.session
        ctx = getattr(self, "_ctx", None) or Context(
            user=s.user,
            database=s.database,
            spid=s.spid,
            encrypted=s.encrypted,
            auth_scheme=s.auth_scheme,
        )
        ctx.trancount = self.trancount
        self._ctx = ctx
        return ctx

    def run_batch(self, text: str, params: dict[str, Any] | None = None) -> None:
        """Run TEXT; PARAMS maps T-SQL parameter names (without @) to values."""
        names = {name: f"p{i}" for i, name in enumerate(params)} if params else None
        values = (
            {names[name]: value for name, value in params.items()}
            if names and params
            else None
        )
        if catalog.needs_catalog(text):
            catalog.ensure_installed(self.session)
        # CREATE TRIGGER is its batch's only statement: its body is not split
        lines = [(text.strip(), 1)] if catalog.whole_batch(text) else split_lines(text)
        for statement, self.line in lines:
            if self.session.attention.is_set():
                return
            bulk = parse_insert_bulk(statement)
            if bulk is not None:
                self.pending_bulk = bulk
                self.done()
                continue
            try:
                action = classify(statement, self.context(), names)
            except TranslationError as exc:
                self.error(exc.number, exc.severity, str(exc))
                raise BatchAborted() from exc
            self.names = names
            self.run_statement(action, values)

    def run_statement(
        self, action: Statement, params: dict[str, Any] | None = None
    ) -> None:
        kind = action.kind
        if kind == "nocount":
            self.nocount = action.flag
        elif kind == "fmtonly":
            self.fmtonly = action.flag
        elif kind in ("begin", "commit", "rollback"):
            getattr(self, f"tran_{kind}")()
            self.done()
        elif kind == "print":
            rows = self.execute(action.sql, params, capture=True)
            self.out.append(
                tk.message(
                    0,
                    0,
                    "" if not rows or rows[0][0] is None else str(rows[0][0]),
                    line=self.line,
                )
            )
        elif kind == "raise":
            self.out.append(
                tk.message(
                    action.number, action.severity, action.text, action.state, self.line
                )
            )
            if action.severity > 10:
                self.out.append(("done", tk.DONE_ERROR, None, self.done_token))
                if action.number != 50000:  # THROW aborts the batch, RAISERROR does not
                    raise BatchAborted()
        elif kind == "if_object":
            exists = self.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (action.text,), capture=True
            )
            if exists[0][0] == action.flag:
                self.run_statement(
                    classify(action.body, self.context(), self.names), params
                )
        elif kind == "if_trancount":
            if self.trancount > 0:
                self.run_statement(
                    classify(action.body, self.context(), self.names), params
                )
        elif kind == "sql":
            self.execute(action.sql, params)
        elif kind == "catalog":
            catalog.run(self, action.params["command"])

    def execute(self, sql: str, params: Any, capture: bool = False) -> list[tuple]:
        """Run SQL on PostgreSQL; stream its result as tokens (or return rows when CAPTURE)."""
        if self.fmtonly and not capture:
            if not sql.lstrip().upper().startswith("SELECT"):
                return []
            sql = f"SELECT * FROM ({sql}) AS fmtonly LIMIT 0"
        try:
            with self.session.pg.cursor() as cur:
                cur.execute(sql, params)
                rows = cur.fetchall() if cur.description is not None else []
                if capture:
                    return rows
                self.result(cur, rows)
        except psycopg2.Error as exc:
            self.pg_error(exc)
        return []

    def result(self, cur: Any, rows: list[tuple]) -> None:
        ctx = self.context()
        if cur.description is None:
            count = cur.rowcount if cur.rowcount >= 0 else None
            ctx.rowcount = count or 0
            if count is not None and cur.statusmessage.split()[0] in (
                "INSERT",
                "UPDATE",
                "DELETE",
                "MERGE",
            ):
                self.done(0, count)
            else:
                self.done()
            return
        columns = [
            tdstypes.column(d.name, d.type_code, d.scale, [r[i] for r in rows])
            for i, d in enumerate(cur.description)
        ]
        self.out.append(tdstypes.colmetadata(columns))
        self.out.extend(tdstypes.nbcrow(columns, row) for row in rows)
        ctx.rowcount = len(rows)
        self.done(0, len(rows))

    def pg_error(self, exc: psycopg2.Error) -> None:
        if (
            isinstance(exc, psycopg2.extensions.QueryCanceledError)
            and self.session.attention.is_set()
        ):
            raise BatchAborted() from exc
        number, severity, text = sqlserver_error(exc.pgcode, str(exc.pgerror or exc))
        self.out.append(tk.message(number, severity, text, line=self.line))
        if self.trancount:
            self.tran_rollback(quiet=True)
        self.out.append(("done", tk.DONE_ERROR, None, self.done_token))
        raise BatchAborted() from exc

    # -- transactions -----------------------------------------------------------------------

    def tran_begin(self) -> None:
        if self.trancount == 0:
            self.session.pg.cursor().execute("BEGIN")
            self.descriptor = os.urandom(8)
            self.out.append(tk.envchange_bytes(tk.ENV_BEGIN_TRAN, self.descriptor))
        self.trancount += 1

    def tran_commit(self) -> None:
        if self.trancount == 0:
            self.error(
                3902,
                16,
                "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.",
            )
            raise BatchAborted()
        self.trancount -= 1
        if self.trancount == 0:
            try:
                self.session.pg.cursor().execute("COMMIT")
            except psycopg2.Error as exc:
                self.pg_error(exc)
            self.out.append(
                tk.envchange_bytes(tk.ENV_COMMIT_TRAN, b"", self.descriptor)
            )

    def tran_rollback(self, quiet: bool = False) -> None:
        if self.trancount == 0:
            if quiet:
                return
            self.error(
                3903,
                16,
                "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.",
            )
            raise BatchAborted()
        self.trancount = 0
        self.session.pg.cursor().execute("ROLLBACK")
        self.out.append(tk.envchange_bytes(tk.ENV_ROLLBACK_TRAN, b"", self.descriptor))

    def transaction_request(self, body: bytes) -> None:
        """Transaction manager requests (2.2.6.9) as sent by ODBC when autocommit is off."""
        (request,) = struct.unpack_from("<H", body, 0)
        if request == TM_BEGIN:
            self.tran_begin()
        elif request == TM_COMMIT:
            begin_again = len(body) > 3 and body[3 + body[2] * 2 :][:1] == b"\x01"
            self.tran_commit()
            if begin_again:
                self.tran_begin()
        elif request == TM_ROLLBACK:
            begin_again = len(body) > 3 and body[3 + body[2] * 2 :][:1] == b"\x01"
            self.tran_rollback(quiet=True)
            if begin_again:
                self.tran_begin()
        else:
            self.error(
                40000,
                16,
                f"The TDS test server does not support transaction request {request}.",
            )
            return
        self.done()


__all__ = ["BatchRunner", "to_postgres"]
