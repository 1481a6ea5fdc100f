"""SQL Server's catalog and DDL on PostgreSQL, for the TDS test server.

This module owns:

- installing catalog.sql (the ``sys`` views and the ``tds_catalog`` side tables) once per
  database, as the superuser under an advisory lock, so several sessions may race for it;
- the T-SQL DDL that sqlglot cannot translate faithfully: CREATE TABLE (declared types, named
  DEFAULT constraints, system-versioned temporal tables), ALTER TABLE (ADD without COLUMN,
  ALTER COLUMN, ADD/DROP CONSTRAINT incl. DEFAULT ... FOR, DROP COLUMN, SYSTEM_VERSIONING OFF),
  CREATE/DROP INDEX, DROP TABLE and CREATE TRIGGER ... AFTER UPDATE (body run by a PostgreSQL
  statement-level trigger whose transition table is named ``inserted``);
- the system procedures sp_getapplock / sp_releaseapplock and sp_add/update/drop-
  extendedproperty, answered with a RETURNSTATUS like SQL Server.

``parse`` recognises such a statement (None: not ours, translate.py goes on); ``run``
executes it for a ``BatchRunner``. Statements the parser does not understand fall back to the
plain sqlglot translation, so the server keeps its old behaviour for them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2

from . import tokens as tk

if TYPE_CHECKING:
    from .batch import BatchRunner
    from .session import Session

SCRIPT = Path(__file__).with_name("catalog.sql")
VERSION = hashlib.sha256(SCRIPT.read_bytes()).hexdigest()[:16]
INSTALL_LOCK = 0x7464_7363  # advisory lock key for installing the catalog
APPLOCK_CLASS = 0x7464_736C  # advisory lock class of sp_getapplock resources
_NEEDS_CATALOG = re.compile(
    r"\bsys\s*\.|\b(CREATE|ALTER|DROP)\b|\bsp_\w*(applock|extendedproperty)\b",
    re.IGNORECASE,
)


class Unsupported(Exception):
    """Not a statement this module handles: the caller falls back to sqlglot."""


class CatalogError(Exception):
    """A SQL Server error for the client (number, severity, text); ROLLBACK: whether the
    transaction ends, as it does under XACT_ABORT ON for a statement error."""

    def __init__(
        self,
        number: int,
        text: str,
        severity: int = 16,
        rollback: bool = True,
        also: tuple[int, str] | None = None,
        status: int = 1,
    ) -> None:
        super().__init__(text)
        self.number, self.severity, self.rollback = number, severity, rollback
        self.also = also  # SQL Server's second message (e.g. 4922 after 5074)
        self.status = status  # a procedure's return status


# -- installing the catalog ----------------------------------------------------------------


def ensure_installed(session: Session) -> None:
    """Install or upgrade catalog.sql in the session's database once."""
    if getattr(session, "catalog_ready", False):
        return
    with session.pg.cursor() as cur:
        cur.execute("SELECT to_regclass('tds_catalog.version') IS NOT NULL")
        present = cur.fetchone()[0]
        if present:
            cur.execute("SELECT version FROM tds_catalog.version")
            present = [r[0] for r in cur.fetchall()] == [VERSION]
    if not present:
        install(session.server.superuser_dsn(session.database))
    session.catalog_ready = True


def install(dsn: dict[str, Any]) -> None:
    """Run catalog.sql as the superuser; the advisory lock serialises concurrent installers,
    which check the version again once they hold it."""
    conn = psycopg2.connect(**dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (INSTALL_LOCK,))
            cur.execute("SELECT to_regclass('tds_catalog.version') IS NOT NULL")
            if cur.fetchone()[0]:
                cur.execute("SELECT version FROM tds_catalog.version")
                if [r[0] for r in cur.fetchall()] == [VERSION]:
                    return
            cur.execute(SCRIPT.read_text())
            cur.execute("DELETE FROM tds_catalog.version")
            cur.execute("INSERT INTO tds_catalog.version VALUES (%s)", (VERSION,))
    finally:
        conn.close()


def needs_catalog(batch: str) -> bool:
    return bool(_NEEDS_CATALOG.search(batch))


def whole_batch(batch: str) -> bool:
    """CREATE TRIGGER must be alone in its batch: the whole batch is its body."""
    text = re.sub(r"^(\s|--[^\n]*\n|/\*.*?\*/)*", "", batch, flags=re.DOTALL)
    return bool(re.match(r"CREATE\s+(OR\s+ALTER\s+)?TRIGGER\b", text, re.IGNORECASE))


# -- tokens ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<space>\s+|--[^\n]*|/\*.*?\*/)
      |(?P<string>N?'(?:[^']|'')*')
      |(?P<ident>\[(?:[^\]]|\]\])*\]|"(?:[^"]|"")*")
      |(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
      |(?P<word>[A-Za-z_@#][\w@#$]*)
      |(?P<op><>|!=|>=|<=|\|\||[-+*/%=<>(),.;])""",
    re.DOTALL | re.VERBOSE,
)


@dataclass(frozen=True)
class Tok:
    kind: str  # string, ident (quoted), number, word, op
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text

    def is_name(self) -> bool:
        return self.kind in ("ident", "word")

    @property
    def name(self) -> str:
        """The identifier as PostgreSQL stores it: quoted as written, unquoted folded."""
        if self.kind == "ident":
            close = "]" if self.text[0] == "[" else '"'
            return self.text[1:-1].replace(close * 2, close)
        return self.text.lower()


def tokenize(text: str) -> list[Tok]:
    out, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise Unsupported(f"unexpected character {text[pos]!r}")
        pos = match.end()
        if match.lastgroup != "space":
            out.append(Tok(match.lastgroup or "op", match.group()))
    return out


def qi(name: str) -> str:
    """A PostgreSQL quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def ql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Parser:
    """A cursor over the tokens of one statement."""

    def __init__(self, text: str) -> None:
        self.toks = tokenize(text.strip().rstrip(";"))
        self.pos = 0

    def peek(self, offset: int = 0) -> Tok | None:
        index = self.pos + offset
        return self.toks[index] if index < len(self.toks) else None

    def at(self, *words: str) -> bool:
        for offset, word in enumerate(words):
            tok = self.peek(offset)
            if tok is None or tok.upper != word:
                return False
        return True

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.pos += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise Unsupported(f"expected {' '.join(words)} at {self.peek()}")

    def next(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise Unsupported("unexpected end of statement")
        self.pos += 1
        return tok

    def done(self) -> bool:
        return self.pos >= len(self.toks)

    def end(self) -> None:
        if not self.done():
            raise Unsupported(f"unexpected {self.peek()}")

    def ident(self) -> str:
        tok = self.next()
        if not tok.is_name() or tok.text.startswith(("#", "@")):
            raise Unsupported(f"expected a name, got {tok.text}")
        return tok.name

    def qualified(self) -> tuple[str, str]:
        """[schema.]name; dbo is PostgreSQL's public (as in translate.py)."""
        parts = [self.ident()]
        while self.accept("."):
            parts.append(self.ident())
        if len(parts) > 2:
            raise Unsupported("three-part names")
        schema = parts[0] if len(parts) == 2 else "public"
        return ("public" if schema.lower() == "dbo" else schema), parts[-1]

    def name_list(self) -> list[str]:
        self.expect("(")
        names = [self.ident()]
        self.accept("ASC") or self.accept("DESC")
        while self.accept(","):
            names.append(self.ident())
            self.accept("ASC") or self.accept("DESC")
        self.expect(")")
        return names

    def expression(self, stops: set[str]) -> list[Tok]:
        """Tokens up to a top-level ',' or ')' or one of STOPS (words)."""
        depth, start = 0, self.pos
        while (tok := self.peek()) is not None:
            if depth == 0 and (tok.text in (",", ")") or tok.upper in stops):
                break
            depth += {"(": 1, ")": -1}.get(tok.text, 0)
            self.pos += 1
        if self.pos == start:
            raise Unsupported("expected an expression")
        return self.toks[start : self.pos]


def table_ref(schema: str, name: str) -> str:
    return f"{qi(schema)}.{qi(name)}"


def display(schema: str, name: str) -> str:
    return f"{'dbo' if schema == 'public' else schema}.{name}"


# -- types ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SqlType:
    """A declared T-SQL type: sys.types name, max_length, precision, scale; and its PG type."""

    name: str
    max_length: int
    precision: int
    scale: int
    pg: str
    domain_length: int = 0  # nvarchar(n): a tds_catalog.nvarchar_<n> domain over text


def _time_sizes(fraction: int, base: int, extra: int) -> tuple[int, int]:
    size = (3 if fraction < 3 else 4 if fraction < 5 else 5) + extra
    return size, base + (fraction + 1 if fraction > 0 else 0)


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
    def arg(index: int, default: int) -> int:
        return int(args[index]) if len(args) > index else default

    fixed = {
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
    if name in fixed and not args:
        return fixed[name]
    if name in ("decimal", "numeric"):
        p, s = arg(0, 18), arg(1, 0)
        size = 5 if p <= 9 else 9 if p <= 19 else 13 if p <= 28 else 17
        return SqlType(name, size, p, s, f"numeric({p},{s})")
    if name in ("nvarchar", "varchar", "varbinary", "nchar", "char", "binary"):
        is_max = args == ["MAX"]
        n = -1 if is_max else arg(0, 1)
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
    if name in ("datetime2", "datetimeoffset", "time"):
        fraction = arg(0, 7)
        pg_fraction = min(fraction, 6)  # PostgreSQL keeps microseconds
        if name == "time":
            size, precision = _time_sizes(fraction, 8, 0)
            return SqlType(name, size, precision, fraction, f"time({pg_fraction})")
        extra = 3 if name == "datetime2" else 5
        base = 19 if name == "datetime2" else 26
        size, precision = _time_sizes(fraction, base, extra)
        pg = "timestamp" if name == "datetime2" else "timestamptz"
        return SqlType(name, size, precision, fraction, f"{pg}({pg_fraction})")
    raise Unsupported(f"type {name}")


# -- expressions (defaults, trigger bodies) -------------------------------------------------

_FUNCTIONS = {
    "SYSDATETIMEOFFSET",
    "SYSDATETIME",
    "GETDATE",
    "GETUTCDATE",
    "SYSUTCDATETIME",
    "NEWID",
    "SUSER_SNAME",
}
_PLAIN_FUNCTIONS = {"LOWER", "UPPER", "ABS", "COALESCE", "ISNULL", "LEN", "ROUND"}
_BARE = {"CURRENT_TIMESTAMP": ("now()", "getdate()"), "NULL": ("NULL", "NULL")}


@dataclass
class Expr:
    """One expression in both renderings: PostgreSQL and SQL Server's stored definition."""

    pg: str
    tsql: str
    literal: bool = (
        False  # a lone number literal (a bit default 1 is true on PostgreSQL)
    )


class ExprParser:
    """Recursive descent over a default's or trigger SET's tokens."""

    def __init__(self, toks: list[Tok]) -> None:
        self.p = Parser("")
        self.p.toks = toks

    def parse(self) -> Expr:
        expr = self.binary()
        self.p.end()
        return expr

    def binary(self) -> Expr:
        left = self.term()
        while (tok := self.p.peek()) is not None and tok.text in (
            "+",
            "-",
            "*",
            "/",
            "%",
        ):
            self.p.next()
            right = self.term()
            left = Expr(
                f"{left.pg} {tok.text} {right.pg}", f"{left.tsql}{tok.text}{right.tsql}"
            )
        return left

    def term(self) -> Expr:
        tok = self.p.next()
        if tok.text == "-":
            inner = self.term()
            if inner.literal:  # SQL Server keeps -1 as one literal: ((-1))
                return Expr(f"-{inner.pg}", f"(-{inner.pg})", True)
            return Expr(f"-{inner.pg}", f"-{inner.tsql}")
        if tok.kind == "number":
            return Expr(tok.text, f"({tok.text})", True)
        if tok.kind == "string":
            body = tok.text[2:-1] if tok.text[0] in "Nn" else tok.text[1:-1]
            return Expr(
                ql(body.replace("''", "'")),
                tok.text if tok.text[0] != "n" else "N" + tok.text[1:],
            )
        if tok.text == "(":
            inner = self.binary()
            self.p.expect(")")
            return Expr(f"({inner.pg})", f"({inner.tsql})")
        if tok.kind != "word":
            raise Unsupported(f"expression at {tok.text}")
        word = tok.upper
        if word in _BARE and not self.p.at("("):
            pg, tsql = _BARE[word]
            return Expr(pg, tsql)
        if word == "CAST" and self.p.accept("("):
            inner = self.binary()
            self.p.expect("AS")
            start = self.p.pos
            target = parse_type(self.p)
            written = " ".join(t.text for t in self.p.toks[start + 1 : self.p.pos])
            self.p.expect(")")
            tsql_type = f"[{target.name}]{written.replace(' ', '')}"
            return Expr(
                f"CAST({inner.pg} AS {target.pg})", f"CONVERT({tsql_type},{inner.tsql})"
            )
        if self.p.accept("("):
            args: list[Expr] = []
            if not self.p.accept(")"):
                args.append(self.binary())
                while self.p.accept(","):
                    args.append(self.binary())
                self.p.expect(")")
            lower = word.lower()
            if word in _FUNCTIONS and not args:
                return Expr(f"tds_catalog.{lower}()", f"{lower}()")
            if word in _PLAIN_FUNCTIONS:
                pg_name = {"ISNULL": "coalesce", "LEN": "length"}.get(word, lower)
                return Expr(
                    f"{pg_name}({', '.join(a.pg for a in args)})",
                    f"{lower}({','.join(a.tsql for a in args)})",
                )
        raise Unsupported(f"function or name {tok.text}")


def expression(toks: list[Tok]) -> Expr:
    return ExprParser(toks).parse()


def default_for(toks: list[Tok], sql: SqlType) -> Expr:
    """A DEFAULT: PostgreSQL expression (bit 0/1 as boolean) and SQL Server's definition."""
    expr = expression(toks)
    if sql.pg == "boolean" and expr.literal:
        expr.pg = "false" if float(expr.pg) == 0 else "true"
    return Expr(expr.pg, f"({expr.tsql})", expr.literal)


# -- statements -----------------------------------------------------------------------------


@dataclass
class Default:
    name: str
    expr: Expr


@dataclass
class Column:
    name: str
    type: SqlType
    nullable: bool = True
    default: Default | None = None
    period: str = ""  # START or END for GENERATED ALWAYS AS ROW ...
    identity: str = ""  # PostgreSQL's GENERATED ... AS IDENTITY clause
    constraints: list[str] = field(default_factory=list)  # PostgreSQL table constraints


@dataclass
class Command:
    """A parsed statement: KIND selects the runner; the other fields are what it needs."""

    kind: str
    schema: str = ""
    table: str = ""
    columns: list[Column] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    period: tuple[str, str] | None = None
    history: tuple[str, str] | None = None
    name: str = ""
    names: list[str] = field(default_factory=list)
    sql: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    flag: bool = False


_COLUMN_STOPS = {
    "NOT",
    "NULL",
    "CONSTRAINT",
    "PRIMARY",
    "UNIQUE",
    "GENERATED",
    "REFERENCES",
}


def generated_name(prefix: str, table: str, column: str = "") -> str:
    """SQL Server's form of a system-made constraint name, e.g. DF__t__c__1A2B3C4D."""
    middle = f"{table[:9]}__{column[:5]}" if column else table[:9]
    return f"{prefix}__{middle}__{secrets.token_hex(8 if not column else 4).upper()}"


def referential(p: Parser) -> str:
    """ON DELETE/UPDATE actions of a REFERENCES clause, as PostgreSQL text."""
    out = ""
    while p.accept("ON"):
        event = p.next().upper
        if event not in ("DELETE", "UPDATE"):
            raise Unsupported("ON " + event)
        if p.accept("CASCADE"):
            action = "CASCADE"
        elif p.accept("NO", "ACTION"):
            action = "NO ACTION"
        elif p.accept("SET", "NULL"):
            action = "SET NULL"
        elif p.accept("SET", "DEFAULT"):
            action = "SET DEFAULT"
        else:
            raise Unsupported("referential action")
        out += f" ON {event} {action}"
    return out


def table_constraint(p: Parser, table: str, name: str | None) -> str:
    """PRIMARY KEY / UNIQUE / FOREIGN KEY (...) as a PostgreSQL table constraint."""
    if p.accept("PRIMARY", "KEY"):
        p.accept("CLUSTERED") or p.accept("NONCLUSTERED")
        cols = p.name_list()
        name = name or generated_name("PK", table)
        return f"CONSTRAINT {qi(name)} PRIMARY KEY ({', '.join(map(qi, cols))})"
    if p.accept("UNIQUE"):
        p.accept("CLUSTERED") or p.accept("NONCLUSTERED")
        cols = p.name_list()
        name = name or generated_name("UQ", table)
        return f"CONSTRAINT {qi(name)} UNIQUE ({', '.join(map(qi, cols))})"
    if p.accept("FOREIGN", "KEY"):
        cols = p.name_list()
        p.expect("REFERENCES")
        schema, ref = p.qualified()
        ref_cols = p.name_list() if p.at("(") else []
        actions = referential(p)
        name = name or generated_name("FK", table)
        target = table_ref(schema, ref) + (
            f" ({', '.join(map(qi, ref_cols))})" if ref_cols else ""
        )
        return (
            f"CONSTRAINT {qi(name)} FOREIGN KEY ({', '.join(map(qi, cols))}) "
            f"REFERENCES {target}{actions}"
        )
    raise Unsupported(f"constraint at {p.peek()}")


def column_def(p: Parser, table: str) -> Column:
    col = Column(p.ident(), parse_type(p))
    while not p.done() and not p.at(",") and not p.at(")"):
        if p.accept("NOT", "NULL"):
            col.nullable = False
        elif p.accept("NULL"):
            col.nullable = True
        elif p.accept("GENERATED", "ALWAYS", "AS", "ROW"):
            col.period = p.next().upper
            if col.period not in ("START", "END"):
                raise Unsupported("GENERATED ALWAYS AS ROW " + col.period)
            p.accept("HIDDEN")
        elif p.accept("IDENTITY"):
            seed, step = ("1", "1")
            if p.accept("("):
                seed = str(int(p.next().text))
                p.expect(",")
                step = str(int(p.next().text))
                p.expect(")")
            # as sqlglot translates it (the server's behaviour before this module)
            col.identity = f" GENERATED BY DEFAULT AS IDENTITY (START WITH {seed} INCREMENT BY {step})"
            col.nullable = False
        else:
            name = p.ident() if p.accept("CONSTRAINT") else None
            if p.accept("DEFAULT"):
                toks = p.expression(_COLUMN_STOPS)
                expr = default_for(toks, col.type)
                col.default = Default(
                    name or generated_name("DF", table, col.name), expr
                )
            elif p.accept("PRIMARY", "KEY"):
                p.accept("CLUSTERED") or p.accept("NONCLUSTERED")
                name = name or generated_name("PK", table)
                col.constraints.append(
                    f"CONSTRAINT {qi(name)} PRIMARY KEY ({qi(col.name)})"
                )
            elif p.accept("UNIQUE"):
                name = name or generated_name("UQ", table)
                col.constraints.append(f"CONSTRAINT {qi(name)} UNIQUE ({qi(col.name)})")
            elif p.accept("REFERENCES"):
                schema, ref = p.qualified()
                ref_cols = p.name_list() if p.at("(") else []
                actions = referential(p)
                name = name or generated_name("FK", table)
                target = table_ref(schema, ref) + (
                    f" ({', '.join(map(qi, ref_cols))})" if ref_cols else ""
                )
                col.constraints.append(
                    f"CONSTRAINT {qi(name)} FOREIGN KEY ({qi(col.name)}) REFERENCES {target}{actions}"
                )
            else:
                raise Unsupported(f"column option {p.peek()}")
    return col


def parse_create_table(p: Parser) -> Command:
    schema, table = p.qualified()
    cmd = Command("create_table", schema, table)
    p.expect("(")
    while True:
        if p.accept("PERIOD", "FOR", "SYSTEM_TIME"):
            start, end = p.name_list()
            cmd.period = (start, end)
        elif p.at("CONSTRAINT") or p.at("PRIMARY") or p.at("UNIQUE") or p.at("FOREIGN"):
            name = p.ident() if p.accept("CONSTRAINT") else None
            cmd.constraints.append(table_constraint(p, table, name))
        else:
            cmd.columns.append(column_def(p, table))
        if not p.accept(","):
            break
    p.expect(")")
    if p.accept("WITH"):
        p.expect("(")
        p.expect("SYSTEM_VERSIONING", "=", "ON")
        if p.accept("("):
            p.expect("HISTORY_TABLE", "=")
            cmd.history = p.qualified()
            while p.accept(","):
                p.expression(set())
            p.expect(")")
        p.expect(")")
        cmd.flag = True
        if cmd.period is None:
            raise CatalogError(
                13510,
                "Cannot set SYSTEM_VERSIONING to ON when SYSTEM_TIME period is not defined.",
            )
        cmd.history = cmd.history or (schema, f"MSSQL_TemporalHistoryFor_{table}")
    p.end()
    return cmd


def parse_alter_table(p: Parser) -> Command:
    schema, table = p.qualified()
    if p.accept("ADD"):
        if p.at("CONSTRAINT") or p.at("PRIMARY") or p.at("UNIQUE") or p.at("FOREIGN"):
            name = p.ident() if p.accept("CONSTRAINT") else None
            if name and p.accept("DEFAULT"):
                toks = p.expression({"FOR"})
                p.expect("FOR")
                column = p.ident()
                p.end()
                return Command(
                    "add_default",
                    schema,
                    table,
                    name=name,
                    names=[column],
                    args={"toks": toks},
                )
            sql = table_constraint(p, table, name)
            p.end()
            return Command("add_constraint", schema, table, sql=sql)
        p.accept("COLUMN")
        columns = [column_def(p, table)]
        while p.accept(","):
            columns.append(column_def(p, table))
        p.end()
        return Command("add_column", schema, table, columns=columns)
    if p.accept("ALTER", "COLUMN"):
        col = Column(p.ident(), parse_type(p))
        if p.accept("NOT", "NULL"):
            col.nullable = False
        else:
            p.accept("NULL")
        p.end()
        return Command("alter_column", schema, table, columns=[col])
    if p.accept("DROP", "CONSTRAINT"):
        exists = p.accept("IF", "EXISTS")
        name = p.ident()
        p.end()
        return Command("drop_constraint", schema, table, name=name, flag=exists)
    if p.accept("DROP", "COLUMN"):
        exists = p.accept("IF", "EXISTS")
        names = [p.ident()]
        while p.accept(","):
            names.append(p.ident())
        p.end()
        return Command("drop_column", schema, table, names=names, flag=exists)
    if p.accept("SET", "(", "SYSTEM_VERSIONING", "=", "OFF", ")"):
        p.end()
        return Command("versioning_off", schema, table)
    raise Unsupported("ALTER TABLE action")


def parse_create_index(p: Parser, unique: bool) -> Command:
    clustered = p.accept("CLUSTERED")
    p.accept("NONCLUSTERED")
    p.expect("INDEX")
    name = p.ident()
    p.expect("ON")
    schema, table = p.qualified()
    cols = p.name_list()
    include = p.name_list() if p.accept("INCLUDE") else []
    p.end()
    sql = (
        f"CREATE {'UNIQUE ' if unique else ''}INDEX {qi(name)} ON {table_ref(schema, table)} "
        f"({', '.join(map(qi, cols))})"
        + (f" INCLUDE ({', '.join(map(qi, include))})" if include else "")
    )
    return Command("create_index", schema, table, name=name, sql=sql, flag=clustered)


def parse_trigger(p: Parser) -> Command:
    schema, name = p.qualified()
    p.expect("ON")
    tschema, table = p.qualified()
    if not (p.accept("AFTER") or p.accept("FOR")):
        raise CatalogError(40000, "The TDS test server supports AFTER triggers only.")
    events = [p.next().upper]
    while p.accept(","):
        events.append(p.next().upper)
    if events != ["UPDATE"]:
        raise CatalogError(
            40000, "The TDS test server supports AFTER UPDATE triggers only."
        )
    p.expect("AS")
    p.expect("BEGIN")
    body: list[list[Tok]] = [[]]
    depth = 0
    while not p.done():
        tok = p.next()
        if tok.upper == "END" and depth == 0 and p.done():
            break
        if tok.upper in ("BEGIN", "CASE"):
            depth += 1
        elif tok.upper == "END":
            depth -= 1
        if tok.text == ";" and depth == 0:
            body.append([])
        else:
            body[-1].append(tok)
    steps = [trigger_step(s, tschema, table) for s in body if s]
    return Command(
        "create_trigger",
        tschema,
        table,
        name=name,
        names=[s for s in steps if s],
        args={"schema": schema},
    )


def render(toks: list[Tok]) -> str:
    """Tokens of a condition as PostgreSQL text (identifiers quoted, N'' strings plain)."""
    out = []
    for tok in toks:
        if tok.kind == "ident" or (tok.kind == "word" and tok.upper not in _KEYWORDS):
            out.append(qi(tok.name))
        elif tok.kind == "string" and tok.text[0] in "Nn":
            out.append(tok.text[1:])
        else:
            out.append(tok.text)
    return " ".join(out).replace(" . ", ".")


_KEYWORDS = {"AND", "OR", "NOT", "IS", "NULL", "IN", "LIKE", "BETWEEN"}


def trigger_step(toks: list[Tok], schema: str, table: str) -> str:
    """One statement of an AFTER UPDATE trigger's body as PL/pgSQL."""
    p = Parser("")
    p.toks = toks
    if p.accept("SET", "NOCOUNT"):
        return ""
    if p.accept("IF", "TRIGGER_NESTLEVEL", "(", ")"):
        op = p.next().text
        level = p.next().text
        p.expect("RETURN")
        p.end()
        return f"IF pg_trigger_depth() {op} {int(level)} THEN RETURN NULL; END IF;"
    if p.accept("UPDATE"):
        alias = p.ident()
        p.expect("SET")
        sets = []
        while True:
            target = p.ident()
            if p.accept("."):
                target = p.ident()
            p.expect("=")
            value = expression(p.expression({"FROM"}))
            sets.append(f"{qi(target)} = {value.pg}")
            if not p.accept(","):
                break
        p.expect("FROM")
        tschema, tname = p.qualified()
        p.accept("AS")
        if p.ident() != alias or (tschema, tname) != (schema, table):
            raise Unsupported("trigger UPDATE of another table")
        p.accept("INNER")
        p.expect("JOIN")
        source = p.ident()
        if source not in ("inserted", "deleted"):
            raise Unsupported("trigger join")
        p.accept("AS")
        source_alias = p.ident()
        p.expect("ON")
        cond = render(p.toks[p.pos :])
        return (
            f"UPDATE {table_ref(schema, table)} AS {qi(alias)} SET {', '.join(sets)} "
            f"FROM {source} AS {qi(source_alias)} WHERE {cond};"
        )
    raise Unsupported("trigger statement")


def parse_exec(p: Parser) -> Command:
    """EXEC [sys.]sp_x @a = value, ... for the procedures this module emulates."""
    parts = [p.ident()]
    while p.accept("."):
        parts.append(p.ident())
    proc = parts[-1].lower()
    if proc not in _PROCS:
        raise Unsupported(proc)
    args: dict[str, Any] = {}
    position = 0
    while not p.done():
        key = f"#{position}"
        tok = p.peek()
        if tok is not None and tok.kind == "word" and tok.text.startswith("@"):
            p.next()
            p.expect("=")
            key = tok.text[1:].lower()
        value = p.next()
        negative = value.text == "-"
        if negative:
            value = p.next()
        if value.kind == "string":
            args[key] = value.text[(2 if value.text[0] in "Nn" else 1) : -1].replace(
                "''", "'"
            )
        elif value.kind == "number":
            args[key] = -int(value.text) if negative else int(value.text)
        elif value.upper == "NULL":
            args[key] = None
        else:
            raise Unsupported("procedure argument")
        position += 1
        if not p.accept(","):
            break
    p.end()
    return Command("exec", name=proc, args=args)


_PROCS = {
    "sp_getapplock",
    "sp_releaseapplock",
    "sp_addextendedproperty",
    "sp_updateextendedproperty",
    "sp_dropextendedproperty",
}


def parse(text: str) -> Command | None:
    """The Command for TEXT, or None when this module does not handle it."""
    head = text.lstrip()[:40].upper()
    if not head.startswith(("CREATE", "ALTER", "DROP", "EXEC")):
        return None
    try:
        p = Parser(text)
        if p.accept("EXEC") or p.accept("EXECUTE"):
            return parse_exec(p)
        if p.accept("CREATE", "TABLE"):
            return parse_create_table(p)
        if p.accept("ALTER", "TABLE"):
            return parse_alter_table(p)
        if p.accept("CREATE", "UNIQUE"):
            return parse_create_index(p, True)
        if (
            p.at("CREATE", "INDEX")
            or p.at("CREATE", "CLUSTERED")
            or p.at("CREATE", "NONCLUSTERED")
        ):
            p.next()
            return parse_create_index(p, False)
        if p.accept("CREATE", "TRIGGER"):
            return parse_trigger(p)
        if p.accept("CREATE", "OR", "ALTER", "TRIGGER"):
            cmd = parse_trigger(p)
            cmd.flag = True  # replaces a trigger of that name
            return cmd
        if p.accept("DROP", "INDEX"):
            exists = p.accept("IF", "EXISTS")
            name = p.ident()
            p.expect("ON")
            schema, table = p.qualified()
            p.end()
            return Command("drop_index", schema, table, name=name, flag=exists)
        if p.accept("DROP", "TABLE"):
            exists = p.accept("IF", "EXISTS")
            schema, table = p.qualified()
            p.end()
            return Command("drop_table", schema, table, flag=exists)
        if p.accept("DROP", "TRIGGER"):
            exists = p.accept("IF", "EXISTS")
            schema, name = p.qualified()
            p.end()
            return Command("drop_trigger", schema, name=name, flag=exists)
    except Unsupported:
        return None
    return None


# -- running --------------------------------------------------------------------------------


class Runner:
    """Runs one Command on the session's PostgreSQL connection, inside a transaction (its
    own when the client has none open, so a statement's several steps land together)."""

    def __init__(self, batch: BatchRunner) -> None:
        self.batch = batch
        self.pg = batch.session.pg

    def sql(self, statement: str, params: Any = None) -> list[tuple]:
        with self.pg.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description is not None else []

    def one(self, statement: str, params: Any = None) -> Any:
        rows = self.sql(statement, params)
        return rows[0][0] if rows else None

    def relid(self, schema: str, table: str, missing_ok: bool = False) -> int | None:
        oid = self.one("SELECT to_regclass(%s)::oid", (table_ref(schema, table),))
        if oid is None and not missing_ok:
            raise CatalogError(
                4902,
                f'Cannot find the object "{display(schema, table)}" because it does not '
                "exist or you do not have permissions.",
            )
        return oid

    def attnum(self, relid: int, column: str) -> int | None:
        return self.one(
            "SELECT attnum FROM pg_attribute WHERE attrelid = %s AND attname = %s"
            " AND attnum > 0 AND NOT attisdropped",
            (relid, column),
        )

    def temporal(self, relid: int) -> tuple[int, str, str] | None:
        rows = self.sql(
            "SELECT history_relid, start_column, end_column FROM tds_catalog.temporal_tables"
            " WHERE relid = %s",
            (relid,),
        )
        return rows[0] if rows else None

    # -- side tables ---------------------------------------------------------------------

    def ensure_domain(self, sql: SqlType) -> None:
        """nvarchar(n) is a domain over text: its values travel as NVARCHAR (UTF-16), and
        PostgreSQL enforces the length."""
        if not sql.domain_length:
            return
        name = f"nvarchar_{sql.domain_length}"
        if self.one(
            "SELECT 1 FROM pg_type WHERE typname = %s"
            " AND typnamespace = 'tds_catalog'::regnamespace",
            (name,),
        ):
            return
        self.sql(
            f"DO $$BEGIN CREATE DOMAIN tds_catalog.{qi(name)} AS text"
            f" CHECK (char_length(VALUE) <= {sql.domain_length});"
            " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$"
        )
        self.sql(f"GRANT USAGE ON DOMAIN tds_catalog.{qi(name)} TO PUBLIC")

    def record_type(self, relid: int, column: str, sql: SqlType) -> None:
        self.sql(
            "INSERT INTO tds_catalog.column_types"
            " SELECT a.attrelid, a.attnum, %s, %s, %s, %s, a.atttypid, a.atttypmod"
            " FROM pg_attribute a WHERE a.attrelid = %s AND a.attname = %s"
            " ON CONFLICT (relid, attnum) DO UPDATE SET type_name = EXCLUDED.type_name,"
            " max_length = EXCLUDED.max_length, precision = EXCLUDED.precision,"
            " scale = EXCLUDED.scale, pg_type = EXCLUDED.pg_type,"
            " pg_typmod = EXCLUDED.pg_typmod",
            (sql.name, sql.max_length, sql.precision, sql.scale, relid, column),
        )

    def record_default(self, relid: int, column: str, default: Default) -> None:
        self.sql(
            "INSERT INTO tds_catalog.default_constraints"
            " SELECT a.attrelid, a.attnum, %s, %s FROM pg_attribute a"
            " WHERE a.attrelid = %s AND a.attname = %s"
            " ON CONFLICT (relid, attnum) DO UPDATE SET name = EXCLUDED.name,"
            " definition = EXCLUDED.definition",
            (default.name, default.expr.tsql, relid, column),
        )

    def forget_table(self, relid: int) -> None:
        for table, key in (
            ("column_types", "relid"),
            ("default_constraints", "relid"),
            ("extended_properties", "major_id"),
        ):
            self.sql(f"DELETE FROM tds_catalog.{table} WHERE {key} = %s", (relid,))
        self.sql(
            "DELETE FROM tds_catalog.temporal_tables WHERE relid = %s OR history_relid = %s",
            (relid, relid),
        )

    def object_named(self, schema: str, name: str) -> bool:
        """Whether SCHEMA already has an object (table, constraint, default) called NAME."""
        return bool(
            self.one(
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

    def check_new_name(self, schema: str, name: str) -> None:
        if self.object_named(schema, name):
            raise CatalogError(
                2714, f"There is already an object named '{name}' in the database."
            )

    # -- CREATE TABLE ----------------------------------------------------------------------

    def column_sql(self, col: Column, with_default: bool = True) -> str:
        self.ensure_domain(col.type)
        sql = f"{qi(col.name)} {col.type.pg}{col.identity if with_default else ''}"
        sql += " NULL" if col.nullable else " NOT NULL"
        if with_default and col.default is not None:
            sql += f" DEFAULT {col.default.expr.pg}"
        return sql

    def create_table(self, cmd: Command) -> None:
        if self.relid(cmd.schema, cmd.table, missing_ok=True) is not None:
            raise CatalogError(
                2714, f"There is already an object named '{cmd.table}' in the database."
            )
        for col in cmd.columns:
            if col.default is not None:
                self.check_new_name(cmd.schema, col.default.name)
        if cmd.flag:
            self.check_period(cmd)
        parts = [self.column_sql(c) for c in cmd.columns]
        parts += [k for c in cmd.columns for k in c.constraints] + cmd.constraints
        ref = table_ref(cmd.schema, cmd.table)
        self.sql(f"CREATE TABLE {ref} ({', '.join(parts)})")
        relid = self.relid(cmd.schema, cmd.table)
        assert relid is not None
        self.forget_table(relid)  # side rows of an earlier table with the same oid
        for col in cmd.columns:
            self.record_type(relid, col.name, col.type)
            if col.default is not None:
                self.record_default(relid, col.name, col.default)
        if cmd.flag:
            self.versioning_on(cmd, relid)

    def check_period(self, cmd: Command) -> None:
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

    def versioning_on(self, cmd: Command, relid: int) -> None:
        """SQL Server creates the history table (same columns, no constraints, a clustered
        index ix_<history> on the period) and keeps it up to date."""
        assert cmd.history is not None and cmd.period is not None
        hschema, hname = cmd.history
        history = self.relid(hschema, hname, missing_ok=True)
        if history is None:
            cols = ", ".join(
                self.column_sql(c, with_default=False) for c in cmd.columns
            )
            self.sql(f"CREATE TABLE {table_ref(hschema, hname)} ({cols})")
            history = self.relid(hschema, hname)
            assert history is not None
            self.forget_table(history)
            index = f"ix_{hname}"
            start, end = cmd.period
            self.sql(
                f"CREATE INDEX {qi(index)} ON {table_ref(hschema, hname)} ({qi(end)}, {qi(start)})"
            )
            self.sql(f"ALTER TABLE {table_ref(hschema, hname)} CLUSTER ON {qi(index)}")
            for col in cmd.columns:
                self.record_type(history, col.name, col.type)
        self.sql(
            "INSERT INTO tds_catalog.temporal_tables VALUES (%s, %s, %s, %s)",
            (relid, history, cmd.period[0], cmd.period[1]),
        )
        self.sql(
            f"CREATE TRIGGER tds_system_versioning BEFORE INSERT OR UPDATE OR DELETE"
            f" ON {table_ref(cmd.schema, cmd.table)} FOR EACH ROW EXECUTE FUNCTION"
            f" tds_catalog.system_versioning({ql(str(history))}, {ql(cmd.period[0])},"
            f" {ql(cmd.period[1])})"
        )

    # -- ALTER TABLE -----------------------------------------------------------------------

    def add_column(self, cmd: Command) -> None:
        ref = table_ref(cmd.schema, cmd.table)
        relid = self.relid(cmd.schema, cmd.table)
        assert relid is not None
        temporal = self.temporal(relid)
        for col in cmd.columns:
            if col.period:
                raise CatalogError(
                    40000, "The TDS test server cannot add period columns."
                )
            if col.default is not None:
                self.check_new_name(cmd.schema, col.default.name)
            self.sql(f"ALTER TABLE {ref} ADD COLUMN {self.column_sql(col)}")
            for constraint in col.constraints:
                self.sql(f"ALTER TABLE {ref} ADD {constraint}")
            self.record_type(relid, col.name, col.type)
            if col.default is not None:
                self.record_default(relid, col.name, col.default)
            if temporal is not None:
                # the history gets the column too, filled like the current rows, no default
                history = self.one("SELECT %s::oid::regclass::text", (temporal[0],))
                self.sql(f"ALTER TABLE {history} ADD COLUMN {self.column_sql(col)}")
                if col.default is not None:
                    self.sql(
                        f"ALTER TABLE {history} ALTER COLUMN {qi(col.name)} DROP DEFAULT"
                    )
                self.record_type(temporal[0], col.name, col.type)

    def alter_column(self, cmd: Command) -> None:
        relid = self.relid(cmd.schema, cmd.table)
        assert relid is not None
        (col,) = cmd.columns
        if self.attnum(relid, col.name) is None:
            raise CatalogError(
                4924,
                f"ALTER TABLE ALTER COLUMN failed because column "
                f"'{col.name}' does not exist in table '{cmd.table}'.",
            )
        self.check_alter_column(relid, col)
        targets = [relid]
        if (temporal := self.temporal(relid)) is not None:
            targets.append(temporal[0])
        self.ensure_domain(col.type)
        for target in targets:
            ref = self.one("SELECT %s::oid::regclass::text", (target,))
            c = qi(col.name)
            pg_type = col.type.pg
            using = (
                f"CASE WHEN {c} THEN 1 ELSE 0 END::{pg_type}"
                if self.one(
                    "SELECT atttypid = 'boolean'::regtype FROM pg_attribute"
                    " WHERE attrelid = %s AND attname = %s",
                    (target, col.name),
                )
                and pg_type != "boolean"
                else f"{c}::{pg_type}"
            )
            self.sql(
                f"ALTER TABLE {ref} ALTER COLUMN {c} TYPE {pg_type} USING {using},"
                f" ALTER COLUMN {c} {'DROP' if col.nullable else 'SET'} NOT NULL"
            )
            self.record_type(target, col.name, col.type)

    def check_alter_column(self, relid: int, col: Column) -> None:
        """SQL Server's rules: a column with a default may change length, precision or scale
        but not its type; one in a key or foreign key may not change at all; one in a unique
        constraint or index may only grow as (n)varchar/varbinary."""
        attnum = self.attnum(relid, col.name)
        (old_name, old_length, old_precision, old_scale, nullable) = self.sql(
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
        blockers = self.dependents(relid, attnum)
        for name, kind in blockers:
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

    def dependents(self, relid: int, attnum: int) -> list[tuple[str, str]]:
        """The defaults, constraints and indexes that use a column: (name, kind)."""
        return self.sql(
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

    def find_default(self, relid: int, name: str) -> int | None:
        return self.one(
            "SELECT d.attnum FROM tds_catalog.default_constraints d"
            " JOIN pg_attrdef ad ON ad.adrelid = d.relid AND ad.adnum = d.attnum"
            " WHERE d.relid = %s AND d.name = %s",
            (relid, name),
        )

    def drop_constraint(self, cmd: Command) -> None:
        relid = self.relid(cmd.schema, cmd.table)
        assert relid is not None
        attnum = self.find_default(relid, cmd.name)
        ref = table_ref(cmd.schema, cmd.table)
        if attnum is not None:
            column = self.one(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum = %s",
                (relid, attnum),
            )
            self.sql(f"ALTER TABLE {ref} ALTER COLUMN {qi(column)} DROP DEFAULT")
            self.sql(
                "DELETE FROM tds_catalog.default_constraints WHERE relid = %s AND attnum = %s",
                (relid, attnum),
            )
            return
        if self.one(
            "SELECT 1 FROM pg_constraint WHERE conrelid = %s AND conname = %s",
            (relid, cmd.name),
        ):
            self.sql(f"ALTER TABLE {ref} DROP CONSTRAINT {qi(cmd.name)}")
            return
        if not cmd.flag:
            raise CatalogError(3728, f"'{cmd.name}' is not a constraint.")

    def add_default(self, cmd: Command) -> None:
        relid = self.relid(cmd.schema, cmd.table)
        assert relid is not None
        (column,) = cmd.names
        attnum = self.attnum(relid, column)
        if attnum is None:
            raise CatalogError(
                1752,
                f"Column '{column}' in table '{cmd.table}' is invalid for creating "
                "a default constraint.",
            )
        if self.one(
            "SELECT 1 FROM pg_attrdef WHERE adrelid = %s AND adnum = %s",
            (relid, attnum),
        ):
            raise CatalogError(1781, "Column already has a DEFAULT bound to it.")
        self.check_new_name(cmd.schema, cmd.name)
        (sql,) = self.sql(
            "SELECT c.type_name, c.max_length, c.precision, c.scale FROM"
            " tds_catalog.column_types_v c WHERE c.attrelid = %s AND c.attnum = %s",
            (relid, attnum),
        )
        declared = SqlType(
            sql[0],
            sql[1],
            sql[2],
            sql[3],
            self.one(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE attrelid = %s AND attnum = %s",
                (relid, attnum),
            ),
        )
        default = Default(cmd.name, default_for(cmd.args["toks"], declared))
        ref = table_ref(cmd.schema, cmd.table)
        self.sql(
            f"ALTER TABLE {ref} ALTER COLUMN {qi(column)} SET DEFAULT {default.expr.pg}"
        )
        self.record_default(relid, column, default)

    def add_constraint(self, cmd: Command) -> None:
        name = re.match(r'CONSTRAINT "((?:[^"]|"")*)"', cmd.sql)
        if name:
            self.check_new_name(cmd.schema, name.group(1).replace('""', '"'))
        self.sql(f"ALTER TABLE {table_ref(cmd.schema, cmd.table)} ADD {cmd.sql}")

    def drop_column(self, cmd: Command) -> None:
        relid = self.relid(cmd.schema, cmd.table)
        assert relid is not None
        temporal = self.temporal(relid)
        for column in cmd.names:
            attnum = self.attnum(relid, column)
            if attnum is None:
                if cmd.flag:
                    continue
                raise CatalogError(
                    4924,
                    f"ALTER TABLE DROP COLUMN failed because column '{column}' "
                    f"does not exist in table '{cmd.table}'.",
                )
            if temporal is not None and column in temporal[1:]:
                raise CatalogError(
                    13588, "Column cannot be dropped: it is a period column."
                )
            if blockers := self.dependents(relid, attnum):
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
            self.sql(
                f"ALTER TABLE {table_ref(cmd.schema, cmd.table)} DROP COLUMN {qi(column)}"
            )
            self.sql(
                "DELETE FROM tds_catalog.extended_properties WHERE major_id = %s AND minor_id = %s",
                (relid, attnum),
            )
            if temporal is not None:
                history = self.one("SELECT %s::oid::regclass::text", (temporal[0],))
                self.sql(f"ALTER TABLE {history} DROP COLUMN IF EXISTS {qi(column)}")

    def versioning_off(self, cmd: Command) -> None:
        relid = self.relid(cmd.schema, cmd.table)
        assert relid is not None
        if self.temporal(relid) is None:
            return
        self.sql(
            f"DROP TRIGGER tds_system_versioning ON {table_ref(cmd.schema, cmd.table)}"
        )
        self.sql("DELETE FROM tds_catalog.temporal_tables WHERE relid = %s", (relid,))

    # -- indexes, tables, triggers ---------------------------------------------------------

    def create_index(self, cmd: Command) -> None:
        relid = self.relid(cmd.schema, cmd.table)
        assert relid is not None
        if self.one(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = %s AND c.relname = %s",
            (relid, cmd.name),
        ):
            raise CatalogError(
                1913,
                f"The operation failed because an index or statistics with name "
                f"'{cmd.name}' already exists on table '{display(cmd.schema, cmd.table)}'.",
            )
        self.sql(cmd.sql)
        if cmd.flag:
            self.sql(
                f"ALTER TABLE {table_ref(cmd.schema, cmd.table)} CLUSTER ON {qi(cmd.name)}"
            )

    def drop_index(self, cmd: Command) -> None:
        relid = self.relid(cmd.schema, cmd.table, missing_ok=cmd.flag)
        rows = self.sql(
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
        self.sql(f"DROP INDEX {rows[0][0]}")

    def drop_table(self, cmd: Command) -> None:
        relid = self.relid(cmd.schema, cmd.table, missing_ok=True)
        if relid is None:
            if cmd.flag:
                return
            raise CatalogError(
                3701,
                f"Cannot drop the table '{display(cmd.schema, cmd.table)}', because it "
                "does not exist or you do not have permission.",
                11,
            )
        if self.one(
            "SELECT 1 FROM tds_catalog.temporal_tables WHERE relid = %s OR history_relid = %s",
            (relid, relid),
        ):
            raise CatalogError(
                13552,
                f"Drop table operation failed on table '{display(cmd.schema, cmd.table)}' "
                "because it is not a supported operation on system-versioned temporal tables.",
            )
        referenced = self.one(
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
        self.forget_table(relid)
        functions = self.trigger_functions(table_ref(cmd.schema, cmd.table))
        self.sql(f"DROP TABLE {table_ref(cmd.schema, cmd.table)}")
        self.drop_functions(functions)

    def create_trigger(self, cmd: Command) -> None:
        if cmd.args["schema"] != cmd.schema:
            raise CatalogError(
                2103,
                f"Cannot create trigger '{cmd.name}' because its schema is different "
                "from the schema of the target table or view.",
            )
        relid = self.relid(cmd.schema, cmd.table)
        if cmd.flag:
            self.drop_trigger(
                Command("drop_trigger", cmd.schema, name=cmd.name, flag=True)
            )
        if self.one(
            "SELECT 1 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid"
            " WHERE g.tgname = %s AND c.relnamespace = to_regnamespace(%s)",
            (cmd.name, qi(cmd.schema)),
        ):
            raise CatalogError(
                2714, f"There is already an object named '{cmd.name}' in the database."
            )
        function = f"tds_catalog.{qi(f'trigger_{relid}_{cmd.name}')}"
        body = "\n    ".join(cmd.names)
        self.sql(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS"
            f" $tds$\nBEGIN\n    {body}\n    RETURN NULL;\nEND\n$tds$"
        )
        self.sql(
            f"CREATE TRIGGER {qi(cmd.name)} AFTER UPDATE ON {table_ref(cmd.schema, cmd.table)}"
            " REFERENCING NEW TABLE AS inserted OLD TABLE AS deleted"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )

    def drop_trigger(self, cmd: Command) -> None:
        rows = self.sql(
            "SELECT g.tgrelid::regclass::text FROM pg_trigger g JOIN pg_class c"
            " ON c.oid = g.tgrelid WHERE g.tgname = %s AND c.relnamespace = to_regnamespace(%s)",
            (cmd.name, qi(cmd.schema)),
        )
        if not rows:
            if cmd.flag:
                return
            raise CatalogError(
                3701,
                f"Cannot drop the trigger '{display(cmd.schema, cmd.name)}', because "
                "it does not exist or you do not have permission.",
                11,
            )
        functions = self.trigger_functions(rows[0][0], cmd.name)
        self.sql(f"DROP TRIGGER {qi(cmd.name)} ON {rows[0][0]}")
        self.drop_functions(functions)

    def trigger_functions(self, table: str, trigger: str | None = None) -> list[str]:
        """The tds_catalog functions behind TABLE's T-SQL triggers (or one of them)."""
        return [
            r[0]
            for r in self.sql(
                "SELECT g.tgfoid::regprocedure::text FROM pg_trigger g"
                " JOIN pg_proc p ON p.oid = g.tgfoid"
                " WHERE g.tgrelid = %s::regclass AND p.pronamespace = 'tds_catalog'::regnamespace"
                " AND p.proname LIKE 'trigger\\_%%' AND (%s::text IS NULL OR g.tgname = %s)",
                (table, trigger, trigger),
            )
        ]

    def drop_functions(self, functions: list[str]) -> None:
        for function in functions:
            self.sql(f"DROP FUNCTION IF EXISTS {function}")

    # -- system procedures -----------------------------------------------------------------

    def exec(self, cmd: Command) -> int:
        """Run a system procedure; its return status."""
        if cmd.name == "sp_getapplock":
            return self.getapplock(cmd.args)
        if cmd.name == "sp_releaseapplock":
            return self.releaseapplock(cmd.args)
        return self.extended_property(cmd.name[3 : -len("extendedproperty")], cmd.args)

    def applock_args(self, args: dict[str, Any]) -> tuple[str, bool]:
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
        if owner == "transaction" and self.batch.trancount == 0:
            raise CatalogError(
                1223,
                "You attempted to acquire a transactional application lock without "
                "an active transaction.",
                rollback=False,
                status=-999,
            )
        return str(resource), owner == "session"

    def getapplock(self, args: dict[str, Any]) -> int:
        resource, session = self.applock_args(args)
        shared = str(args.get("lockmode", args.get("#1", ""))).lower() == "shared"
        timeout = args.get("locktimeout")
        function = "pg_try_advisory_" + ("" if session else "xact_") + "lock"
        function += "_shared" if shared else ""
        deadline = (
            None
            if timeout is None or timeout < 0
            else time.monotonic() + timeout / 1000
        )
        waited = False
        # polling (not lock_timeout): a timed-out request must not abort the transaction
        while not self.one(
            f"SELECT {function}(%s, hashtext(%s))", (APPLOCK_CLASS, resource)
        ):
            if deadline is not None and time.monotonic() >= deadline:
                return -1
            if self.batch.session.attention.is_set():
                return -2  # SQL Server's "the lock request was cancelled"
            waited = True
            time.sleep(0.05)
        return 1 if waited else 0

    def releaseapplock(self, args: dict[str, Any]) -> int:
        resource, session = self.applock_args(args)
        if not session:
            raise CatalogError(
                1223,
                f"Cannot release the application lock (Resource: '{resource}') "
                "because it is not currently held.",
                rollback=False,
                status=-999,
            )
        released = self.one(
            "SELECT pg_advisory_unlock(%s, hashtext(%s))", (APPLOCK_CLASS, resource)
        )
        return 0 if released else -999

    def extended_property(self, action: str, args: dict[str, Any]) -> int:
        name = args.get("name", args.get("#0"))
        value = args.get("value", args.get("#1"))
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
        relid = self.relid(schema, table, missing_ok=True)
        minor = 0
        if relid is not None and column:
            minor = self.attnum(relid, str(column)) or -1
        if relid is None or minor < 0:
            raise CatalogError(
                15135,
                f"Object is invalid. Extended properties are not permitted on "
                f"'{target}', or the object does not exist.",
                rollback=False,
            )
        key = (relid, minor, name)
        exists = self.one(
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
            self.sql(
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
            self.sql(
                "UPDATE tds_catalog.extended_properties SET value = %s"
                " WHERE major_id = %s AND minor_id = %s AND name = %s",
                (value, *key),
            )
        else:
            self.sql(
                "DELETE FROM tds_catalog.extended_properties"
                " WHERE major_id = %s AND minor_id = %s AND name = %s",
                key,
            )
        return 0


def run(batch: BatchRunner, cmd: Command) -> None:
    """Execute CMD for BATCH and append its tokens (DONE, or RETURNSTATUS and DONEPROC)."""
    ensure_installed(batch.session)
    runner = Runner(batch)
    own = batch.trancount == 0
    pg = batch.session.pg
    status = 0
    try:
        if own:
            pg.cursor().execute("BEGIN")
        if cmd.kind == "exec":
            status = runner.exec(cmd)
        else:
            getattr(runner, cmd.kind)(cmd)
        if own:
            pg.cursor().execute("COMMIT")
    except CatalogError as exc:
        if own:
            pg.cursor().execute("ROLLBACK")
        batch.out.append(
            tk.message(exc.number, exc.severity, str(exc), line=batch.line)
        )
        if exc.also:
            batch.out.append(tk.message(exc.also[0], 16, exc.also[1], line=batch.line))
        if cmd.kind == "exec":
            returnstatus(batch, exc.status, error=True)
            return
        if exc.rollback and batch.trancount:
            batch.tran_rollback(quiet=True)
        batch.out.append(("done", tk.DONE_ERROR, None, batch.done_token))
        from .batch import BatchAborted

        raise BatchAborted() from exc
    except psycopg2.Error as exc:
        if own:
            pg.cursor().execute("ROLLBACK")
        batch.pg_error(exc)  # rolls back the client's transaction and aborts the batch
    if cmd.kind == "exec":
        returnstatus(batch, status)
    else:
        batch.done()


def returnstatus(batch: BatchRunner, status: int, error: bool = False) -> None:
    """RETURNSTATUS (2.2.7.18) and DONEPROC, as SQL Server ends an EXEC of a procedure."""
    batch.out.append(bytes([0x79]) + struct.pack("<i", status))
    batch.out.append(("done", tk.DONE_ERROR if error else 0, None, tk.TOKEN_DONEPROC))
