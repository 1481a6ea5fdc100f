"""Declared T-SQL types: what sys.types/sys.columns report for them (max_length, precision,
scale) and the PostgreSQL type that stores their values."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Unsupported
from .lexer import Parser


@dataclass(frozen=True)
class SqlType:
    """A declared T-SQL type: sys.types name, max_length, precision, scale; and its PG type."""

    name: str
    max_length: int
    precision: int
    scale: int
    pg: str
    domain_length: int = 0  # nvarchar(n): a tds_catalog.nvarchar_<n> domain over text


_FIXED = {
    "int": SqlType("int", 4, 10, 0, "integer"),
    "smallint": SqlType("smallint", 2, 5, 0, "smallint"),
    "tinyint": SqlType("tinyint", 1, 3, 0, "smallint"),
    "bigint": SqlType("bigint", 8, 19, 0, "bigint"),
    "bit": SqlType("bit", 1, 1, 0, "boolean"),
    "date": SqlType("date", 3, 10, 0, "date"),
    "uniqueidentifier": SqlType("uniqueidentifier", 16, 0, 0, "uuid"),
    "float": SqlType("float", 8, 53, 0, "double precision"),
    "real": SqlType("real", 4, 24, 0, "real"),
    "money": SqlType("money", 8, 19, 4, "money"),
    "datetime": SqlType("datetime", 8, 23, 3, "timestamp(3)"),
    "smalldatetime": SqlType("smalldatetime", 4, 16, 0, "timestamp(0)"),
    "text": SqlType("text", 16, 0, 0, "text"),
    "ntext": SqlType("ntext", 16, 0, 0, "text"),
    "xml": SqlType("xml", -1, 0, 0, "xml"),
}
_STRINGS = ("nvarchar", "varchar", "varbinary", "nchar", "char", "binary")
_TIMES = ("datetime2", "datetimeoffset", "time")


def parse_type(p: Parser) -> SqlType:
    name = p.ident().lower()
    args: list[str] = []
    if p.accept("("):
        args.append(p.next().upper)
        while p.accept(","):
            args.append(p.next().upper)
        p.expect(")")
    return sql_type(name, args)


def sql_type(name: str, args: list[str]) -> SqlType:
    """The type NAME(ARGS), ARGS as written (upper-cased: MAX)."""
    if name in _FIXED and not args:
        return _FIXED[name]
    if name in ("decimal", "numeric"):
        p, s = _arg(args, 0, 18), _arg(args, 1, 0)
        size = 5 if p <= 9 else 9 if p <= 19 else 13 if p <= 28 else 17
        return SqlType(name, size, p, s, f"numeric({p},{s})")
    if name in _STRINGS:
        return _string_type(name, args)
    if name in _TIMES:
        return _time_type(name, _arg(args, 0, 7))
    raise Unsupported(f"type {name}")


def _arg(args: list[str], index: int, default: int) -> int:
    return int(args[index]) if len(args) > index else default


def _string_type(name: str, args: list[str]) -> SqlType:
    """(n)(var)char and (var)binary; the MAX forms are PostgreSQL text or bytea."""
    is_max = args == ["MAX"]
    n = -1 if is_max else _arg(args, 0, 1)
    wide = name.startswith("n")
    size = -1 if is_max else n * (2 if wide else 1)
    if name == "nvarchar":
        if is_max:
            return SqlType(name, -1, 0, 0, "text")
        return SqlType(name, size, 0, 0, f"tds_catalog.nvarchar_{n}", n)
    if name in ("varbinary", "binary"):
        return SqlType(name, size, 0, 0, "bytea")
    if is_max:
        return SqlType(name, -1, 0, 0, "text")
    pg = "varchar" if name == "varchar" else "char"
    return SqlType(name, size, 0, 0, f"{pg}({n})")


def _time_type(name: str, fraction: int) -> SqlType:
    """time, datetime2 and datetimeoffset with FRACTION digits of seconds."""
    pg_fraction = min(fraction, 6)  # PostgreSQL keeps microseconds
    if name == "time":
        size, precision = _time_sizes(fraction, 8, 0)
        return SqlType(name, size, precision, fraction, f"time({pg_fraction})")
    extra = 3 if name == "datetime2" else 5
    base = 19 if name == "datetime2" else 26
    size, precision = _time_sizes(fraction, base, extra)
    pg = "timestamp" if name == "datetime2" else "timestamptz"
    return SqlType(name, size, precision, fraction, f"{pg}({pg_fraction})")


def _time_sizes(fraction: int, base: int, extra: int) -> tuple[int, int]:
    size = (3 if fraction < 3 else 4 if fraction < 5 else 5) + extra
    return size, base + (fraction + 1 if fraction > 0 else 0)
