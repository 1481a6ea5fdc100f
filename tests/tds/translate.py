"""T-SQL statements to PostgreSQL: sqlglot's tsql dialect plus a shim for what it cannot do.

``classify`` turns one statement into a ``Statement``: either PostgreSQL SQL to run, or a shim
action the session performs itself (SET options, transactions, PRINT, RAISERROR/THROW).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from . import catalog

VERSION = "Microsoft SQL Server 2022 (tinyrun TDS test server on PostgreSQL)"


class TranslationError(Exception):
    """The statement is not T-SQL this server can run (SQL Server error 102 or NAME)."""

    def __init__(self, text: str, number: int = 102, severity: int = 15) -> None:
        super().__init__(text)
        self.number = number
        self.severity = severity


@dataclass
class Statement:
    kind: str  # sql, noop, nocount, fmtonly, begin, commit, rollback, print, raise, if_object,
    # if_trancount, catalog (params["command"] is a catalog.Command)
    sql: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    number: int = 0
    severity: int = 0
    state: int = 1
    text: str = ""
    flag: bool = False
    body: str = ""


@dataclass
class Context:
    """Session values the shim substitutes: @@ROWCOUNT, SUSER_NAME(), DB_NAME(), @@TRANCOUNT,
    and the session's own row of sys.dm_exec_connections."""

    rowcount: int = 0
    user: str = ""
    database: str = ""
    trancount: int = 0
    spid: int = 51
    encrypted: bool = False
    auth_scheme: str = "SQL"  # or KERBEROS


_SET_OPTION = re.compile(r"SET\s+(\w+)\s+(ON|OFF|-?\d+)\s*$", re.IGNORECASE)
_TRAN = re.compile(
    r"(BEGIN|COMMIT|ROLLBACK)(\s+(TRAN|TRANSACTION|WORK)\b.*)?$",
    re.IGNORECASE | re.DOTALL,
)
_PRINT = re.compile(r"PRINT\s+(.+)$", re.IGNORECASE | re.DOTALL)
_RAISERROR = re.compile(
    r"RAISERROR\s*\(\s*N?'((?:[^']|'')*)'\s*,\s*(\d+)\s*,\s*(\d+)[^)]*\)(\s+WITH\s+\w+)?$",
    re.IGNORECASE,
)
_THROW = re.compile(
    r"THROW\s+(\d+)\s*,\s*N?'((?:[^']|'')*)'\s*,\s*(\d+)$", re.IGNORECASE
)
_IF_OBJECT = re.compile(
    r"IF\s+OBJECT_ID\s*\(\s*N?'([^']+)'(?:\s*,\s*N?'\w+')?\s*\)\s+IS\s+(NOT\s+)?NULL\s+(.+)$",
    re.IGNORECASE | re.DOTALL,
)
_IF_TRANCOUNT = re.compile(
    r"IF\s+@@TRANCOUNT\s*>\s*0\s+(.+)$", re.IGNORECASE | re.DOTALL
)
_WAITFOR = re.compile(
    r"WAITFOR\s+DELAY\s+'(\d+):(\d+):(\d+(?:\.\d+)?)'$", re.IGNORECASE
)
_UNSUPPORTED = re.compile(
    r"(DECLARE|EXEC|EXECUTE|BEGIN\s+TRY|MERGE|USE)\b", re.IGNORECASE
)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def substitute(sql: str, ctx: Context) -> str:
    """Replace the session functions PostgreSQL does not have with their values."""
    values = {
        r"@@ROWCOUNT": str(ctx.rowcount),
        r"@@TRANCOUNT": str(ctx.trancount),
        r"@@SPID": str(ctx.spid),
        r"@@VERSION": _literal(VERSION),
        r"@@SERVERNAME": _literal("tinyrun-tds"),
        r"S?USER_S?NAME\s*\(\s*\)": _literal(ctx.user),
        r"SYSTEM_USER": _literal(ctx.user),
        r"DB_NAME\s*\(\s*\)": _literal(ctx.database),
        r"\bsys\.dm_exec_connections\b": (
            f"(SELECT {ctx.spid} AS session_id, 'TCP' AS net_transport, "
            f"{_literal('TRUE' if ctx.encrypted else 'FALSE')} AS encrypt_option, "
            f"{_literal(ctx.auth_scheme)} AS auth_scheme)"
        ),
    }
    for pattern, value in values.items():
        sql = re.sub(pattern, value, sql, flags=re.IGNORECASE)
    return sql


def classify(
    statement: str, ctx: Context, params: dict[str, str] | None = None
) -> Statement:
    """What to do for one T-SQL STATEMENT (already split from its batch)."""
    text = statement.strip().rstrip(";").strip()
    if match := re.match(r"SET\s+LOCK_TIMEOUT\s+(-?\d+)$", text, re.IGNORECASE):
        milliseconds = max(
            int(match.group(1)), 0
        )  # -1 (wait forever) is 0 in PostgreSQL
        return Statement("sql", sql=f"SET lock_timeout = {milliseconds}")
    if match := _SET_OPTION.match(text):
        option, on = match.group(1).upper(), match.group(2).upper() == "ON"
        kind = {"NOCOUNT": "nocount", "FMTONLY": "fmtonly"}.get(option, "noop")
        return Statement(kind, flag=on)
    if re.match(
        r"SET\s+(TRANSACTION\s+ISOLATION|DATEFORMAT|LANGUAGE)\b",
        text,
        re.IGNORECASE,
    ):
        return Statement("noop")
    if (match := _TRAN.match(text)) and (
        match.group(2) or match.group(1).upper() != "BEGIN"
    ):
        return Statement(match.group(1).lower())
    if match := _PRINT.match(text):
        return Statement(
            "print", sql=to_postgres("SELECT " + match.group(1), ctx, params)
        )
    if match := _RAISERROR.match(text):
        severity = int(match.group(2))
        message = match.group(1).replace("''", "'")
        return Statement(
            "raise",
            number=50000,
            severity=severity,
            state=int(match.group(3)),
            text=message,
        )
    if match := _THROW.match(text):
        message = match.group(2).replace("''", "'")
        return Statement(
            "raise",
            number=int(match.group(1)),
            severity=16,
            state=int(match.group(3)),
            text=message,
        )
    if match := _IF_OBJECT.match(text):
        name = re.sub(r"^(\[?dbo\]?\.)", "", match.group(1), flags=re.IGNORECASE)
        return Statement(
            "if_object", text=name, flag=bool(match.group(2)), body=match.group(3)
        )
    if match := _IF_TRANCOUNT.match(text):
        return Statement("if_trancount", body=match.group(1))
    if match := _WAITFOR.match(text):
        seconds = (
            int(match.group(1)) * 3600
            + int(match.group(2)) * 60
            + float(match.group(3))
        )
        return Statement("sql", sql=f"DO $$BEGIN PERFORM pg_sleep({seconds}); END$$")
    try:
        command = catalog.parse(text)  # DDL and system procedures SQL Server's way
    except catalog.CatalogError as exc:
        raise TranslationError(str(exc), exc.number, exc.severity) from exc
    if command is not None:
        return Statement("catalog", params={"command": command})
    if match := _UNSUPPORTED.match(text):
        raise TranslationError(
            f"The TDS test server does not support {match.group(1).upper()} statements.",
            40000,
            16,
        )
    return Statement("sql", sql=to_postgres(text, ctx, params))


def _fix_types(node: exp.Expression) -> exp.Expression:
    """T-SQL types whose PostgreSQL translation differs from SQL Server's meaning."""
    if isinstance(node, exp.DataType):
        kind = node.this
        types = exp.DataType.Type
        if kind == types.BIT:
            return exp.DataType.build("BOOLEAN")
        if kind == types.FLOAT:
            return exp.DataType.build("DOUBLE PRECISION", dialect="postgres")
        if kind in (types.NVARCHAR, types.NCHAR):
            return exp.DataType.build("TEXT")
        if kind in (types.VARBINARY, types.BINARY):
            return exp.DataType.build("BYTEA", dialect="postgres")
    if isinstance(node, exp.HexString):  # 0x0102 is a binary literal in T-SQL
        digits = exp.Literal.string(node.this)
        return exp.Anonymous(
            this="decode", expressions=[digits, exp.Literal.string("hex")]
        )
    if isinstance(node, exp.National):
        return exp.Literal.string(node.this)
    if isinstance(node, exp.Table) and node.db.lower() == "dbo":
        node.set("db", None)
    return node


def to_postgres(text: str, ctx: Context, params: dict[str, str] | None = None) -> str:
    """Translate one T-SQL statement; @names in PARAMS become psycopg2 %(name)s placeholders."""
    try:
        trees = sqlglot.parse(substitute(text, ctx), read="tsql")
    except sqlglot.errors.ParseError as exc:
        raise TranslationError(f"Incorrect syntax: {str(exc).splitlines()[0]}") from exc
    if len(trees) != 1 or trees[0] is None:
        raise TranslationError("Incorrect syntax: expected one statement.")
    tree = trees[0]
    if isinstance(tree, exp.Command):
        raise TranslationError(
            f"The TDS test server does not support '{text.split()[0]}'.", 40000, 16
        )
    tree = tree.transform(_fix_types)
    markers: dict[str, str] = {}
    if params is not None:

        def placeholder(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Parameter):
                name = node.name.lstrip("@")
                if name in params:
                    marker = f"__tds_param_{len(markers)}__"
                    markers[marker] = f"%({params[name]})s"
                    return exp.Var(this=marker)
            return node

        tree = tree.transform(placeholder)
    sql = tree.sql(dialect="postgres")
    if params is not None:
        sql = sql.replace("%", "%%")
        for marker, value in markers.items():
            sql = sql.replace(marker, value)
    return sql
