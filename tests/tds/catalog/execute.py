"""Running a Command for a BatchRunner: in one transaction (its own when the client has none
open, so a statement's several steps land together), its errors as SQL Server's messages,
ended by DONE, or RETURNSTATUS and DONEPROC for an EXEC."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg2

from .. import tokens as tk
from . import alter, procedures, tables, temporal, triggers
from .connection import Connection
from .errors import CatalogError
from .install import ensure_installed
from .procedures import returnstatus

if TYPE_CHECKING:
    from ..batch import BatchRunner
    from .statements import Command

# Command.kind -> its runner (exec is apart: it returns a status)
RUNNERS: dict[str, Callable[[Connection, Any], None]] = {
    "create_table": tables.create_table,
    "drop_table": tables.drop_table,
    "create_index": tables.create_index,
    "drop_index": tables.drop_index,
    "add_column": alter.add_column,
    "alter_column": alter.alter_column,
    "drop_column": alter.drop_column,
    "add_constraint": alter.add_constraint,
    "add_default": alter.add_default,
    "drop_constraint": alter.drop_constraint,
    "versioning_off": temporal.versioning_off,
    "create_trigger": triggers.create_trigger,
    "drop_trigger": triggers.drop_trigger,
}


def run(batch: BatchRunner, cmd: Command) -> None:
    """Execute CMD for BATCH and append its tokens (DONE, or RETURNSTATUS and DONEPROC)."""
    ensure_installed(batch.session)
    db = Connection(batch)
    own = batch.trancount == 0
    pg = batch.session.pg
    status = 0
    try:
        if own:
            pg.cursor().execute("BEGIN")
        if cmd.kind == "exec":
            status = procedures.exec(db, cmd)
        else:
            RUNNERS[cmd.kind](db, cmd)
        if own:
            pg.cursor().execute("COMMIT")
    except CatalogError as exc:
        if own:
            pg.cursor().execute("ROLLBACK")
        report(batch, cmd, exc)
        return
    except psycopg2.Error as exc:
        if own:
            pg.cursor().execute("ROLLBACK")
        batch.pg_error(exc)  # rolls back the client's transaction and aborts the batch
    if cmd.kind == "exec":
        returnstatus(batch, status)
    else:
        batch.done()


def report(batch: BatchRunner, cmd: Command, exc: CatalogError) -> None:
    """EXC's messages; a failed procedure returns its status and the batch goes on, a failed
    statement ends the batch (and the client's transaction, unless EXC says not)."""
    batch.out.append(tk.message(exc.number, exc.severity, str(exc), line=batch.line))
    if exc.also:
        batch.out.append(tk.message(exc.also[0], 16, exc.also[1], line=batch.line))
    if cmd.kind == "exec":
        returnstatus(batch, exc.status, error=True)
        return
    if exc.rollback and batch.trancount:
        batch.tran_rollback(quiet=True)
    batch.out.append(("done", tk.DONE_ERROR, None, batch.done_token))
    from ..batch import BatchAborted  # batch.py imports this package

    raise BatchAborted() from exc
