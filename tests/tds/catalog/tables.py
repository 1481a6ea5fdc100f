"""CREATE TABLE, DROP TABLE, CREATE INDEX and DROP INDEX, with SQL Server's errors and the
side rows (declared types, named defaults) that sys.columns and sys.default_constraints
read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import CatalogError
from .lexer import display, qi, table_ref
from .sidetables import (
    check_new_name,
    column_sql,
    forget_table,
    record_default,
    record_type,
)
from .temporal import check_period, versioning_on
from .triggers import drop_functions, trigger_functions

if TYPE_CHECKING:
    from .connection import Connection
    from .statements import Command


def create_table(db: Connection, cmd: Command) -> None:
    if db.relid(cmd.schema, cmd.table, missing_ok=True) is not None:
        raise CatalogError(
            2714, f"There is already an object named '{cmd.table}' in the database."
        )
    for col in cmd.columns:
        if col.default is not None:
            check_new_name(db, cmd.schema, col.default.name)
    if cmd.flag:
        check_period(cmd)
    parts = [column_sql(db, c) for c in cmd.columns]
    parts += [k for c in cmd.columns for k in c.constraints] + cmd.constraints
    ref = table_ref(cmd.schema, cmd.table)
    db.sql(f"CREATE TABLE {ref} ({', '.join(parts)})")
    relid = db.relid(cmd.schema, cmd.table)
    assert relid is not None
    forget_table(db, relid)  # side rows of an earlier table with the same oid
    for col in cmd.columns:
        record_type(db, relid, col.name, col.type)
        if col.default is not None:
            record_default(db, relid, col.name, col.default)
    if cmd.flag:
        versioning_on(db, cmd, relid)


def drop_table(db: Connection, cmd: Command) -> None:
    relid = db.relid(cmd.schema, cmd.table, missing_ok=True)
    if relid is None:
        if cmd.flag:
            return
        raise CatalogError(
            3701,
            f"Cannot drop the table '{display(cmd.schema, cmd.table)}', because it "
            "does not exist or you do not have permission.",
            11,
        )
    check_droppable(db, cmd, relid)
    forget_table(db, relid)
    # the trigger functions outlive DROP TABLE: find them before, drop them after
    functions = trigger_functions(db, table_ref(cmd.schema, cmd.table))
    db.sql(f"DROP TABLE {table_ref(cmd.schema, cmd.table)}")
    drop_functions(db, functions)


def check_droppable(db: Connection, cmd: Command, relid: int) -> None:
    """SQL Server refuses to drop a temporal table (or its history) and a table that another
    one's foreign key references."""
    if db.one(
        "SELECT 1 FROM tds_catalog.temporal_tables WHERE relid = %s OR history_relid = %s",
        (relid, relid),
    ):
        raise CatalogError(
            13552,
            f"Drop table operation failed on table '{display(cmd.schema, cmd.table)}' "
            "because it is not a supported operation on system-versioned temporal tables.",
        )
    referenced = db.one(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND confrelid = %s"
        " AND conrelid <> %s",
        (relid, relid),
    )
    if referenced:
        raise CatalogError(
            3726,
            f"Could not drop object '{display(cmd.schema, cmd.table)}' because it "
            f"is referenced by a FOREIGN KEY constraint.",
        )


def create_index(db: Connection, cmd: Command) -> None:
    relid = db.relid(cmd.schema, cmd.table)
    assert relid is not None
    if db.one(
        "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = %s AND c.relname = %s",
        (relid, cmd.name),
    ):
        raise CatalogError(
            1913,
            f"The operation failed because an index or statistics with name "
            f"'{cmd.name}' already exists on table '{display(cmd.schema, cmd.table)}'.",
        )
    db.sql(cmd.sql)
    if cmd.flag:
        db.sql(
            f"ALTER TABLE {table_ref(cmd.schema, cmd.table)} CLUSTER ON {qi(cmd.name)}"
        )


def drop_index(db: Connection, cmd: Command) -> None:
    relid = db.relid(cmd.schema, cmd.table, missing_ok=cmd.flag)
    rows = db.sql(
        "SELECT i.indexrelid::regclass::text, EXISTS (SELECT 1 FROM pg_constraint k"
        "   WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = %s AND c.relname = %s",
        (relid, cmd.name),
    )
    if not rows:
        if cmd.flag:
            return
        raise CatalogError(
            3701,
            f"Cannot drop the index '{display(cmd.schema, cmd.table)}.{cmd.name}', "
            "because it does not exist or you do not have permission.",
            11,
        )
    if rows[0][1]:
        raise CatalogError(
            3723,
            f"An explicit DROP INDEX is not allowed on index "
            f"'{display(cmd.schema, cmd.table)}.{cmd.name}'. It is being used for "
            "PRIMARY KEY or UNIQUE KEY constraint enforcement.",
        )
    db.sql(f"DROP INDEX {rows[0][0]}")
