"""ALTER TABLE: ADD columns, ALTER COLUMN, DROP COLUMN, ADD/DROP CONSTRAINT (incl. a named
DEFAULT ... FOR a column), with SQL Server's rules for what a column's dependents allow, and
the history table of a temporal table kept in step."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import CatalogError
from .expressions import default_for
from .lexer import qi, table_ref
from .sidetables import (
    check_new_name,
    column_sql,
    ensure_domain,
    record_default,
    record_type,
)
from .sqltypes import SqlType
from .statements import Default
from .temporal import add_history_column, drop_history_column, temporal

if TYPE_CHECKING:
    from .connection import Connection
    from .statements import Column, Command


# -- columns ----------------------------------------------------------------------------------


def add_column(db: Connection, cmd: Command) -> None:
    ref = table_ref(cmd.schema, cmd.table)
    relid = db.relid(cmd.schema, cmd.table)
    assert relid is not None
    versioned = temporal(db, relid)
    for col in cmd.columns:
        if col.period:
            raise CatalogError(40000, "The TDS test server cannot add period columns.")
        if col.default is not None:
            check_new_name(db, cmd.schema, col.default.name)
        db.sql(f"ALTER TABLE {ref} ADD COLUMN {column_sql(db, col)}")
        for constraint in col.constraints:
            db.sql(f"ALTER TABLE {ref} ADD {constraint}")
        record_type(db, relid, col.name, col.type)
        if col.default is not None:
            record_default(db, relid, col.name, col.default)
        if versioned is not None:
            add_history_column(db, versioned[0], col)


def alter_column(db: Connection, cmd: Command) -> None:
    relid = db.relid(cmd.schema, cmd.table)
    assert relid is not None
    (col,) = cmd.columns
    if db.attnum(relid, col.name) is None:
        raise CatalogError(
            4924,
            f"ALTER TABLE ALTER COLUMN failed because column "
            f"'{col.name}' does not exist in table '{cmd.table}'.",
        )
    check_alter_column(db, relid, col)
    targets = [relid]
    if (versioned := temporal(db, relid)) is not None:
        targets.append(versioned[0])
    ensure_domain(db, col.type)
    for target in targets:
        retype(db, target, col)


def retype(db: Connection, target: int, col: Column) -> None:
    """Give COL of table TARGET its new type and nullability."""
    ref = db.table_of(target)
    c = qi(col.name)
    pg_type = col.type.pg
    # PostgreSQL has no cast from boolean to the numbers a former bit may become
    using = (
        f"CASE WHEN {c} THEN 1 ELSE 0 END::{pg_type}"
        if db.one(
            "SELECT atttypid = 'boolean'::regtype FROM pg_attribute"
            " WHERE attrelid = %s AND attname = %s",
            (target, col.name),
        )
        and pg_type != "boolean"
        else f"{c}::{pg_type}"
    )
    db.sql(
        f"ALTER TABLE {ref} ALTER COLUMN {c} TYPE {pg_type} USING {using},"
        f" ALTER COLUMN {c} {'DROP' if col.nullable else 'SET'} NOT NULL"
    )
    record_type(db, target, col.name, col.type)


def check_alter_column(db: Connection, relid: int, col: Column) -> None:
    """SQL Server's rules: a column with a default may change length, precision or scale
    but not its type; one in a key or foreign key may not change at all; one in a unique
    constraint or index may only grow as (n)varchar/varbinary."""
    attnum = db.attnum(relid, col.name)
    (old_name, old_length, old_precision, old_scale, nullable) = db.sql(
        "SELECT v.type_name, v.max_length, v.precision, v.scale, NOT a.attnotnull"
        " FROM tds_catalog.column_types_v v JOIN pg_attribute a ON a.attrelid = v.attrelid"
        " AND a.attnum = v.attnum WHERE v.attrelid = %s AND v.attnum = %s",
        (relid, attnum),
    )[0]
    new = col.type
    same = (old_name, old_length, old_precision, old_scale) == (
        new.name,
        new.max_length,
        new.precision,
        new.scale,
    )
    if same and nullable == col.nullable:
        return
    grows = (
        old_name == new.name
        and new.name in ("varchar", "nvarchar", "varbinary")
        and (new.max_length == -1 or 0 <= old_length <= new.max_length)
    )
    for name, kind in dependents(db, relid, attnum):
        allowed = (kind == "default" and old_name == new.name) or (
            kind in ("unique", "index") and (same or grows)
        )
        if not allowed:
            raise CatalogError(
                5074,
                f"The object '{name}' is dependent on column '{col.name}'.",
                also=(
                    4922,
                    (
                        f"ALTER TABLE ALTER COLUMN {col.name} failed because one "
                        "or more objects access this column."
                    ),
                ),
            )


def dependents(db: Connection, relid: int, attnum: int) -> list[tuple[str, str]]:
    """The defaults, constraints and indexes that use a column: (name, kind)."""
    return db.sql(
        "SELECT name, 'default' FROM tds_catalog.default_constraints WHERE relid = %(r)s"
        "   AND attnum = %(a)s AND EXISTS (SELECT 1 FROM pg_attrdef"
        "   WHERE adrelid = %(r)s AND adnum = %(a)s)"
        " UNION ALL SELECT conname::text, CASE contype WHEN 'u' THEN 'unique'"
        "   ELSE 'key' END FROM pg_constraint"
        "   WHERE (conrelid = %(r)s AND %(a)s = ANY (conkey))"
        "      OR (confrelid = %(r)s AND %(a)s = ANY (confkey))"
        " UNION ALL SELECT c.relname::text, 'index' FROM pg_index i JOIN pg_class c"
        "   ON c.oid = i.indexrelid WHERE i.indrelid = %(r)s"
        "   AND %(a)s = ANY (i.indkey::int2[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint k"
        "   WHERE k.conindid = i.indexrelid AND k.conrelid = %(r)s)",
        {"r": relid, "a": attnum},
    )


def drop_column(db: Connection, cmd: Command) -> None:
    relid = db.relid(cmd.schema, cmd.table)
    assert relid is not None
    versioned = temporal(db, relid)
    for column in cmd.names:
        attnum = db.attnum(relid, column)
        if attnum is None:
            if cmd.flag:
                continue
            raise CatalogError(
                4924,
                f"ALTER TABLE DROP COLUMN failed because column '{column}' "
                f"does not exist in table '{cmd.table}'.",
            )
        if versioned is not None and column in versioned[1:]:
            raise CatalogError(
                13588, "Column cannot be dropped: it is a period column."
            )
        if blockers := dependents(db, relid, attnum):
            raise CatalogError(
                5074,
                f"The object '{blockers[0][0]}' is dependent on column '{column}'.",
                also=(
                    4922,
                    (
                        f"ALTER TABLE DROP COLUMN {column} failed because one or "
                        "more objects access this column."
                    ),
                ),
            )
        db.sql(
            f"ALTER TABLE {table_ref(cmd.schema, cmd.table)} DROP COLUMN {qi(column)}"
        )
        db.sql(
            "DELETE FROM tds_catalog.extended_properties WHERE major_id = %s AND minor_id = %s",
            (relid, attnum),
        )
        if versioned is not None:
            drop_history_column(db, versioned[0], column)


# -- constraints and defaults -----------------------------------------------------------------


def find_default(db: Connection, relid: int, name: str) -> int | None:
    """The column number of RELID's default constraint NAME (None: no such default)."""
    return db.one(
        "SELECT d.attnum FROM tds_catalog.default_constraints d"
        " JOIN pg_attrdef ad ON ad.adrelid = d.relid AND ad.adnum = d.attnum"
        " WHERE d.relid = %s AND d.name = %s",
        (relid, name),
    )


def drop_constraint(db: Connection, cmd: Command) -> None:
    """DROP CONSTRAINT: a named default (PostgreSQL has no such object) or a constraint."""
    relid = db.relid(cmd.schema, cmd.table)
    assert relid is not None
    attnum = find_default(db, relid, cmd.name)
    ref = table_ref(cmd.schema, cmd.table)
    if attnum is not None:
        column = db.one(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum = %s",
            (relid, attnum),
        )
        db.sql(f"ALTER TABLE {ref} ALTER COLUMN {qi(column)} DROP DEFAULT")
        db.sql(
            "DELETE FROM tds_catalog.default_constraints WHERE relid = %s AND attnum = %s",
            (relid, attnum),
        )
        return
    if db.one(
        "SELECT 1 FROM pg_constraint WHERE conrelid = %s AND conname = %s",
        (relid, cmd.name),
    ):
        db.sql(f"ALTER TABLE {ref} DROP CONSTRAINT {qi(cmd.name)}")
        return
    if not cmd.flag:
        raise CatalogError(3728, f"'{cmd.name}' is not a constraint.")


def add_default(db: Connection, cmd: Command) -> None:
    """ADD CONSTRAINT name DEFAULT expr FOR column."""
    relid = db.relid(cmd.schema, cmd.table)
    assert relid is not None
    (column,) = cmd.names
    attnum = db.attnum(relid, column)
    if attnum is None:
        raise CatalogError(
            1752,
            f"Column '{column}' in table '{cmd.table}' is invalid for creating "
            "a default constraint.",
        )
    if db.one(
        "SELECT 1 FROM pg_attrdef WHERE adrelid = %s AND adnum = %s",
        (relid, attnum),
    ):
        raise CatalogError(1781, "Column already has a DEFAULT bound to it.")
    check_new_name(db, cmd.schema, cmd.name)
    default = Default(
        cmd.name, default_for(cmd.args["toks"], declared_type(db, relid, attnum))
    )
    ref = table_ref(cmd.schema, cmd.table)
    db.sql(f"ALTER TABLE {ref} ALTER COLUMN {qi(column)} SET DEFAULT {default.expr.pg}")
    record_default(db, relid, column, default)


def declared_type(db: Connection, relid: int, attnum: int) -> SqlType:
    """A column's type as declared (column_types_v) with PostgreSQL's name for its type."""
    (sql,) = db.sql(
        "SELECT c.type_name, c.max_length, c.precision, c.scale FROM"
        " tds_catalog.column_types_v c WHERE c.attrelid = %s AND c.attnum = %s",
        (relid, attnum),
    )
    return SqlType(
        sql[0],
        sql[1],
        sql[2],
        sql[3],
        db.one(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = %s AND attnum = %s",
            (relid, attnum),
        ),
    )


def add_constraint(db: Connection, cmd: Command) -> None:
    # a constraint's name shares SQL Server's namespace with tables and defaults
    name = re.match(r'CONSTRAINT "((?:[^"]|"")*)"', cmd.sql)
    if name:
        check_new_name(db, cmd.schema, name.group(1).replace('""', '"'))
    db.sql(f"ALTER TABLE {table_ref(cmd.schema, cmd.table)} ADD {cmd.sql}")
