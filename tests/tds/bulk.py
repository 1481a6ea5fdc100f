"""Bulk load (2.2.6.1): ``INSERT BULK t (cols) WITH (...)`` announces a table, then a BULK_LOAD
message carries COLMETADATA and ROW tokens; the rows go into PostgreSQL with COPY."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg2
from psycopg2 import sql as q

from .values import Reader, TypeInfo, read_type_info, read_value

if TYPE_CHECKING:
    from .batch import BatchRunner

_INSERT_BULK = re.compile(
    r"INSERT\s+BULK\s+(\S+?)\s*\((.*)\)(\s*WITH\s*\(.*\))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
TEXT_TYPES = {0x22, 0x23, 0x63}


@dataclass
class PendingBulk:
    table: list[str]
    columns: list[str]


def _unquote(name: str) -> str:
    return name.strip().strip('[]"')


def _column_name(definition: str) -> str:
    if definition.startswith("["):
        return definition[1 : definition.index("]")]
    return _unquote(definition.split()[0])


def parse_insert_bulk(text: str) -> PendingBulk | None:
    """The table and column names of an INSERT BULK statement (None if TEXT is not one)."""
    match = _INSERT_BULK.match(text.strip())
    if match is None:
        return None
    parts = [_unquote(p) for p in re.split(r"\.(?![^\[]*\])", match.group(1))]
    table = [p for p in parts if p.lower() != "dbo"]
    columns, depth, current = [], 0, ""
    for char in match.group(2) + ",":
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            columns.append(_column_name(current.strip()))
            current = ""
        else:
            current += char
    return PendingBulk(table, columns)


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    text = str(value)
    return (
        text.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def read_bulk_rows(payload: bytes) -> tuple[list[str], list[list[Any]]]:
    """Column names and rows of a BULK_LOAD message (COLMETADATA, ROW..., optional DONE)."""
    r = Reader(payload)
    if r.unpack("<B") != 0x81:
        raise ValueError("bulk load data does not start with COLMETADATA")
    infos: list[TypeInfo] = []
    names: list[str] = []
    for _ in range(r.unpack("<H")):
        r.unpack("<IH")  # UserType, Flags
        info = read_type_info(r)
        if info.tds_type in TEXT_TYPES:
            for _part in range(r.unpack("<B")):
                r.us_varchar()
        infos.append(info)
        names.append(r.b_varchar())
    rows = []
    while not r.done():
        token = r.unpack("<B")
        if token != 0xD1:
            break
        rows.append([read_value(r, info) for info in infos])
    return names, rows


def run_bulk(runner: BatchRunner, payload: bytes) -> None:
    pending, runner.pending_bulk = runner.pending_bulk, None
    if pending is None:
        runner.error(
            4804,
            16,
            "BULK LOAD data arrived without a preceding INSERT BULK statement.",
        )
        return
    names, rows = read_bulk_rows(payload)
    columns = pending.columns if len(pending.columns) == len(names) else names
    data = "".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows)
    statement = q.SQL("COPY {} ({}) FROM STDIN").format(
        q.Identifier(*pending.table), q.SQL(", ").join(q.Identifier(c) for c in columns)
    )
    try:
        with runner.session.pg.cursor() as cur:
            cur.copy_expert(statement, io.StringIO(data))
    except psycopg2.Error as exc:
        runner.pg_error(exc)
    runner.done(0, len(rows))
