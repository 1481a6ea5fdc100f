"""The system procedures this package emulates: sp_getapplock / sp_releaseapplock (on
PostgreSQL advisory locks) and sp_add/update/dropextendedproperty (tds_catalog's
extended_properties, read by sys.extended_properties); and the RETURNSTATUS that ends an
EXEC of one."""

from __future__ import annotations

import struct
import time
from typing import TYPE_CHECKING, Any

from .. import tokens as tk
from .errors import CatalogError
from .lexer import display

if TYPE_CHECKING:
    from ..batch import BatchRunner
    from .connection import Connection
    from .statements import Command

APPLOCK_CLASS = 0x7464_736C  # advisory lock class of sp_getapplock resources
PROCEDURES = {
    "sp_getapplock",
    "sp_releaseapplock",
    "sp_addextendedproperty",
    "sp_updateextendedproperty",
    "sp_dropextendedproperty",
}


def exec(db: Connection, cmd: Command) -> int:
    """Run a system procedure; its return status."""
    if cmd.name == "sp_getapplock":
        return getapplock(db, cmd.args)
    if cmd.name == "sp_releaseapplock":
        return releaseapplock(db, cmd.args)
    return extended_property(db, cmd.name[3 : -len("extendedproperty")], cmd.args)


def returnstatus(batch: BatchRunner, status: int, error: bool = False) -> None:
    """RETURNSTATUS (2.2.7.18) and DONEPROC, as SQL Server ends an EXEC of a procedure."""
    batch.out.append(bytes([0x79]) + struct.pack("<i", status))
    batch.out.append(("done", tk.DONE_ERROR if error else 0, None, tk.TOKEN_DONEPROC))


# -- application locks ------------------------------------------------------------------------


def applock_args(db: Connection, args: dict[str, Any]) -> tuple[str, bool]:
    """The resource, and whether the lock is the session's (else the transaction's)."""
    resource = args.get("resource", args.get("#0"))
    if resource is None:
        raise CatalogError(
            201,
            "Procedure or function 'sp_getapplock' expects parameter "
            "'@Resource', which was not supplied.",
            rollback=False,
            status=-999,
        )
    owner = str(args.get("lockowner", "Transaction")).lower()
    if owner == "transaction" and db.batch.trancount == 0:
        raise CatalogError(
            1223,
            "You attempted to acquire a transactional application lock without "
            "an active transaction.",
            rollback=False,
            status=-999,
        )
    return str(resource), owner == "session"


def getapplock(db: Connection, args: dict[str, Any]) -> int:
    resource, session = applock_args(db, args)
    shared = str(args.get("lockmode", args.get("#1", ""))).lower() == "shared"
    timeout = args.get("locktimeout")
    function = "pg_try_advisory_" + ("" if session else "xact_") + "lock"
    function += "_shared" if shared else ""
    deadline = (
        None if timeout is None or timeout < 0 else time.monotonic() + timeout / 1000
    )
    waited = False
    # polling (not lock_timeout): a timed-out request must not abort the transaction
    while not db.one(f"SELECT {function}(%s, hashtext(%s))", (APPLOCK_CLASS, resource)):
        if deadline is not None and time.monotonic() >= deadline:
            return -1
        if db.batch.session.attention.is_set():
            return -2  # SQL Server's "the lock request was cancelled"
        waited = True
        time.sleep(0.05)
    return 1 if waited else 0


def releaseapplock(db: Connection, args: dict[str, Any]) -> int:
    resource, session = applock_args(db, args)
    if not session:
        # a transaction's lock ends with it: PostgreSQL cannot release it earlier
        raise CatalogError(
            1223,
            f"Cannot release the application lock (Resource: '{resource}') "
            "because it is not currently held.",
            rollback=False,
            status=-999,
        )
    released = db.one(
        "SELECT pg_advisory_unlock(%s, hashtext(%s))", (APPLOCK_CLASS, resource)
    )
    return 0 if released else -999


# -- extended properties ----------------------------------------------------------------------


def extended_property(db: Connection, action: str, args: dict[str, Any]) -> int:
    """sp_{ACTION}extendedproperty on a table or one of its columns."""
    name = args.get("name", args.get("#0"))
    value = args.get("value", args.get("#1"))
    relid, minor, target = property_target(db, args)
    key = (relid, minor, name)
    exists = db.one(
        "SELECT 1 FROM tds_catalog.extended_properties"
        " WHERE major_id = %s AND minor_id = %s AND name = %s",
        key,
    )
    if action == "add":
        if exists:
            raise CatalogError(
                15233,
                f"Property cannot be added. Property '{name}' already exists "
                f"for '{target}'.",
                rollback=False,
            )
        db.sql(
            "INSERT INTO tds_catalog.extended_properties VALUES (%s, %s, %s, %s)",
            (*key, value),
        )
        return 0
    if not exists:
        raise CatalogError(
            15217,
            f"Property cannot be updated or deleted. Property '{name}' does not "
            f"exist for '{target}'.",
            rollback=False,
        )
    if action == "update":
        db.sql(
            "UPDATE tds_catalog.extended_properties SET value = %s"
            " WHERE major_id = %s AND minor_id = %s AND name = %s",
            (value, *key),
        )
    else:
        db.sql(
            "DELETE FROM tds_catalog.extended_properties"
            " WHERE major_id = %s AND minor_id = %s AND name = %s",
            key,
        )
    return 0


def property_target(db: Connection, args: dict[str, Any]) -> tuple[int, int, str]:
    """The object of @level0..2type/name (SCHEMA, TABLE[, COLUMN]): its major_id, minor_id
    (0 for the table, the column's number) and its name for messages."""
    levels = [
        (str(args.get(f"level{i}type") or "").upper(), args.get(f"level{i}name"))
        for i in range(3)
    ]
    if (
        levels[0][0] != "SCHEMA"
        or levels[1][0] != "TABLE"
        or levels[2][0] not in ("", "COLUMN")
    ):
        raise CatalogError(
            15135,
            "Object is invalid. Extended properties are not permitted on the "
            "object, or the TDS test server does not support it.",
            rollback=False,
        )
    schema = "public" if str(levels[0][1]).lower() == "dbo" else str(levels[0][1])
    table, column = str(levels[1][1]), levels[2][1]
    target = display(schema, table) + (f".{column}" if column else "")
    relid = db.relid(schema, table, missing_ok=True)
    minor = 0
    if relid is not None and column:
        minor = db.attnum(relid, str(column)) or -1
    if relid is None or minor < 0:
        raise CatalogError(
            15135,
            f"Object is invalid. Extended properties are not permitted on "
            f"'{target}', or the object does not exist.",
            rollback=False,
        )
    return relid, minor, target
