"""System-versioned temporal tables: the period check, the history table SQL Server would
create, the row trigger (tds_catalog.system_versioning) that fills it, the
tds_catalog.temporal_tables row that sys.tables reads, and keeping the history's columns in
step with the table's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import CatalogError
from .lexer import qi, ql, table_ref
from .sidetables import column_sql, forget_table, record_type

if TYPE_CHECKING:
    from .connection import Connection
    from .statements import Column, Command


def temporal(db: Connection, relid: int) -> tuple[int, str, str] | None:
    """RELID's history table oid and period columns, None if it is not system-versioned."""
    rows = db.sql(
        "SELECT history_relid, start_column, end_column FROM tds_catalog.temporal_tables"
        " WHERE relid = %s",
        (relid,),
    )
    return rows[0] if rows else None


def check_period(cmd: Command) -> None:
    """A CREATE TABLE ... SYSTEM_VERSIONING = ON needs both period columns, datetime2 and
    NOT NULL, named by its PERIOD FOR SYSTEM_TIME."""
    assert cmd.period is not None
    periods = {c.period: c for c in cmd.columns if c.period}
    start, end = periods.get("START"), periods.get("END")
    if start is None or end is None or (start.name, end.name) != cmd.period:
        raise CatalogError(
            13509,
            "Cannot create generated always column when SYSTEM_TIME period is not "
            "defined on the table.",
        )
    for col in (start, end):
        if col.type.name != "datetime2" or col.nullable:
            raise CatalogError(
                13502,
                f"Period column '{col.name}' in a system-versioned temporal "
                "table must be datetime2 and NOT NULL.",
            )


def versioning_on(db: Connection, cmd: Command, relid: int) -> None:
    """Version the table just created: its history table (an existing one, or SQL Server's
    own) is kept up to date by a row trigger."""
    assert cmd.history is not None and cmd.period is not None
    hschema, hname = cmd.history
    history = db.relid(hschema, hname, missing_ok=True)
    if history is None:
        history = create_history(db, cmd)
    db.sql(
        "INSERT INTO tds_catalog.temporal_tables VALUES (%s, %s, %s, %s)",
        (relid, history, cmd.period[0], cmd.period[1]),
    )
    db.sql(
        f"CREATE TRIGGER tds_system_versioning BEFORE INSERT OR UPDATE OR DELETE"
        f" ON {table_ref(cmd.schema, cmd.table)} FOR EACH ROW EXECUTE FUNCTION"
        f" tds_catalog.system_versioning({ql(str(history))}, {ql(cmd.period[0])},"
        f" {ql(cmd.period[1])})"
    )


def create_history(db: Connection, cmd: Command) -> int:
    """SQL Server creates the history table (same columns, no constraints, a clustered
    index ix_<history> on the period); its oid."""
    assert cmd.history is not None and cmd.period is not None
    hschema, hname = cmd.history
    cols = ", ".join(column_sql(db, c, with_default=False) for c in cmd.columns)
    db.sql(f"CREATE TABLE {table_ref(hschema, hname)} ({cols})")
    history = db.relid(hschema, hname)
    assert history is not None
    forget_table(db, history)
    index = f"ix_{hname}"
    start, end = cmd.period
    db.sql(
        f"CREATE INDEX {qi(index)} ON {table_ref(hschema, hname)} ({qi(end)}, {qi(start)})"
    )
    db.sql(f"ALTER TABLE {table_ref(hschema, hname)} CLUSTER ON {qi(index)}")
    for col in cmd.columns:
        record_type(db, history, col.name, col.type)
    return history


def add_history_column(db: Connection, history_relid: int, col: Column) -> None:
    """The history gets a new column too, filled like the current rows, but no default."""
    history = db.table_of(history_relid)
    db.sql(f"ALTER TABLE {history} ADD COLUMN {column_sql(db, col)}")
    if col.default is not None:
        db.sql(f"ALTER TABLE {history} ALTER COLUMN {qi(col.name)} DROP DEFAULT")
    record_type(db, history_relid, col.name, col.type)


def drop_history_column(db: Connection, history_relid: int, column: str) -> None:
    history = db.table_of(history_relid)
    db.sql(f"ALTER TABLE {history} DROP COLUMN IF EXISTS {qi(column)}")


def versioning_off(db: Connection, cmd: Command) -> None:
    """SET (SYSTEM_VERSIONING = OFF): the history table stays, as a plain table."""
    relid = db.relid(cmd.schema, cmd.table)
    assert relid is not None
    if temporal(db, relid) is None:
        return
    db.sql(f"DROP TRIGGER tds_system_versioning ON {table_ref(cmd.schema, cmd.table)}")
    db.sql("DELETE FROM tds_catalog.temporal_tables WHERE relid = %s", (relid,))
