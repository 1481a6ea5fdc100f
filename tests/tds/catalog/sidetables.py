"""What SQL Server keeps and PostgreSQL does not, in tds_catalog's side tables (see
catalog.sql): a column's declared type (column_types), named defaults
(default_constraints), and the nvarchar(n) domains; plus the column SQL that uses them and
SQL Server's one namespace for tables, constraints and defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import CatalogError
from .lexer import qi
from .sqltypes import SqlType

if TYPE_CHECKING:
    from .connection import Connection
    from .statements import Column, Default


def ensure_domain(db: Connection, sql: SqlType) -> None:
    """nvarchar(n) is a domain over text: its values travel as NVARCHAR (UTF-16), and
    PostgreSQL enforces the length."""
    if not sql.domain_length:
        return
    name = f"nvarchar_{sql.domain_length}"
    if db.one(
        "SELECT 1 FROM pg_type WHERE typname = %s"
        " AND typnamespace = 'tds_catalog'::regnamespace",
        (name,),
    ):
        return
    # another session may create it between the check and here: that is fine
    db.sql(
        f"DO $$BEGIN CREATE DOMAIN tds_catalog.{qi(name)} AS text"
        f" CHECK (char_length(VALUE) <= {sql.domain_length});"
        " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$"
    )
    db.sql(f"GRANT USAGE ON DOMAIN tds_catalog.{qi(name)} TO PUBLIC")


def column_sql(db: Connection, col: Column, with_default: bool = True) -> str:
    """COL's definition for CREATE TABLE / ADD COLUMN (a history table's: no default, no
    identity)."""
    ensure_domain(db, col.type)
    sql = f"{qi(col.name)} {col.type.pg}{col.identity if with_default else ''}"
    sql += " NULL" if col.nullable else " NOT NULL"
    if with_default and col.default is not None:
        sql += f" DEFAULT {col.default.expr.pg}"
    return sql


def record_type(db: Connection, relid: int, column: str, sql: SqlType) -> None:
    db.sql(
        "INSERT INTO tds_catalog.column_types"
        " SELECT a.attrelid, a.attnum, %s, %s, %s, %s, a.atttypid, a.atttypmod"
        " FROM pg_attribute a WHERE a.attrelid = %s AND a.attname = %s"
        " ON CONFLICT (relid, attnum) DO UPDATE SET type_name = EXCLUDED.type_name,"
        " max_length = EXCLUDED.max_length, precision = EXCLUDED.precision,"
        " scale = EXCLUDED.scale, pg_type = EXCLUDED.pg_type,"
        " pg_typmod = EXCLUDED.pg_typmod",
        (sql.name, sql.max_length, sql.precision, sql.scale, relid, column),
    )


def record_default(db: Connection, relid: int, column: str, default: Default) -> None:
    db.sql(
        "INSERT INTO tds_catalog.default_constraints"
        " SELECT a.attrelid, a.attnum, %s, %s FROM pg_attribute a"
        " WHERE a.attrelid = %s AND a.attname = %s"
        " ON CONFLICT (relid, attnum) DO UPDATE SET name = EXCLUDED.name,"
        " definition = EXCLUDED.definition",
        (default.name, default.expr.tsql, relid, column),
    )


def forget_table(db: Connection, relid: int) -> None:
    """Delete RELID's side rows (a dropped table's, or an earlier table's with its oid)."""
    for table, key in (
        ("column_types", "relid"),
        ("default_constraints", "relid"),
        ("extended_properties", "major_id"),
    ):
        db.sql(f"DELETE FROM tds_catalog.{table} WHERE {key} = %s", (relid,))
    db.sql(
        "DELETE FROM tds_catalog.temporal_tables WHERE relid = %s OR history_relid = %s",
        (relid, relid),
    )


def object_named(db: Connection, schema: str, name: str) -> bool:
    """Whether SCHEMA already has an object (table, constraint, default) called NAME."""
    return bool(
        db.one(
            "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = %(n)s"
            "   AND relnamespace = to_regnamespace(%(s)s) AND relkind IN ('r', 'p', 'v'))"
            " OR EXISTS (SELECT 1 FROM pg_constraint WHERE conname = %(n)s"
            "   AND connamespace = to_regnamespace(%(s)s))"
            " OR EXISTS (SELECT 1 FROM tds_catalog.default_constraints d"
            "   JOIN pg_class c ON c.oid = d.relid WHERE d.name = %(n)s"
            "   AND c.relnamespace = to_regnamespace(%(s)s))",
            {"n": name, "s": qi(schema)},
        )
    )


def check_new_name(db: Connection, schema: str, name: str) -> None:
    if object_named(db, schema, name):
        raise CatalogError(
            2714, f"There is already an object named '{name}' in the database."
        )
