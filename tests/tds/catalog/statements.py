"""Parsing the statements this package runs into Commands: CREATE/ALTER/DROP TABLE,
CREATE/DROP INDEX, CREATE [OR ALTER]/DROP TRIGGER and EXEC of an emulated system procedure.
Anything else (or anything the parser does not follow) is None: translate.py goes on."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from .errors import CatalogError, Unsupported
from .expressions import Expr, default_for
from .lexer import Parser, Tok, qi, table_ref
from .procedures import PROCEDURES
from .sqltypes import SqlType, parse_type
from .triggers import trigger_step


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


# -- the entry points -------------------------------------------------------------------------


def whole_batch(batch: str) -> bool:
    """CREATE TRIGGER must be alone in its batch: the whole batch is its body."""
    text = re.sub(r"^(\s|--[^\n]*\n|/\*.*?\*/)*", "", batch, flags=re.DOTALL)
    return bool(re.match(r"CREATE\s+(OR\s+ALTER\s+)?TRIGGER\b", text, re.IGNORECASE))


def parse(text: str) -> Command | None:
    """The Command for TEXT, or None when this package does not handle it."""
    head = text.lstrip()[:40].upper()
    if not head.startswith(("CREATE", "ALTER", "DROP", "EXEC")):
        return None
    try:
        p = Parser(text)
        if p.accept("EXEC") or p.accept("EXECUTE"):
            return parse_exec(p)
        if p.at("CREATE"):
            return parse_create(p)
        if p.accept("ALTER", "TABLE"):
            return parse_alter_table(p)
        if p.at("DROP"):
            return parse_drop(p)
    except Unsupported:
        return None
    return None


def parse_create(p: Parser) -> Command | None:
    if p.accept("CREATE", "TABLE"):
        return parse_create_table(p)
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
    return None


def parse_drop(p: Parser) -> Command | None:
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
    return None


# -- columns and constraints ------------------------------------------------------------------

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


def references(p: Parser) -> str:
    """The target of REFERENCES (after that word) and its actions, as PostgreSQL text."""
    schema, ref = p.qualified()
    ref_cols = p.name_list() if p.at("(") else []
    actions = referential(p)
    target = table_ref(schema, ref) + (
        f" ({', '.join(map(qi, ref_cols))})" if ref_cols else ""
    )
    return f"{target}{actions}"


def at_constraint(p: Parser) -> bool:
    return p.at("CONSTRAINT") or p.at("PRIMARY") or p.at("UNIQUE") or p.at("FOREIGN")


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
        target = references(p)
        name = name or generated_name("FK", table)
        return f"CONSTRAINT {qi(name)} FOREIGN KEY ({', '.join(map(qi, cols))}) REFERENCES {target}"
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
            col.identity = identity(p)
            col.nullable = False
        else:
            column_constraint(p, table, col)
    return col


def identity(p: Parser) -> str:
    """IDENTITY[(seed, step)], after that word, as PostgreSQL's clause."""
    seed, step = ("1", "1")
    if p.accept("("):
        seed = str(int(p.next().text))
        p.expect(",")
        step = str(int(p.next().text))
        p.expect(")")
    # as sqlglot translates it (the server's behaviour before this package)
    return f" GENERATED BY DEFAULT AS IDENTITY (START WITH {seed} INCREMENT BY {step})"


def column_constraint(p: Parser, table: str, col: Column) -> None:
    """[CONSTRAINT name] DEFAULT / PRIMARY KEY / UNIQUE / REFERENCES on COL."""
    name = p.ident() if p.accept("CONSTRAINT") else None
    if p.accept("DEFAULT"):
        toks = p.expression(_COLUMN_STOPS)
        expr = default_for(toks, col.type)
        col.default = Default(name or generated_name("DF", table, col.name), expr)
    elif p.accept("PRIMARY", "KEY"):
        p.accept("CLUSTERED") or p.accept("NONCLUSTERED")
        name = name or generated_name("PK", table)
        col.constraints.append(f"CONSTRAINT {qi(name)} PRIMARY KEY ({qi(col.name)})")
    elif p.accept("UNIQUE"):
        name = name or generated_name("UQ", table)
        col.constraints.append(f"CONSTRAINT {qi(name)} UNIQUE ({qi(col.name)})")
    elif p.accept("REFERENCES"):
        target = references(p)
        name = name or generated_name("FK", table)
        col.constraints.append(
            f"CONSTRAINT {qi(name)} FOREIGN KEY ({qi(col.name)}) REFERENCES {target}"
        )
    else:
        raise Unsupported(f"column option {p.peek()}")


# -- tables and indexes -----------------------------------------------------------------------


def parse_create_table(p: Parser) -> Command:
    schema, table = p.qualified()
    cmd = Command("create_table", schema, table)
    p.expect("(")
    while True:
        if p.accept("PERIOD", "FOR", "SYSTEM_TIME"):
            start, end = p.name_list()
            cmd.period = (start, end)
        elif at_constraint(p):
            name = p.ident() if p.accept("CONSTRAINT") else None
            cmd.constraints.append(table_constraint(p, table, name))
        else:
            cmd.columns.append(column_def(p, table))
        if not p.accept(","):
            break
    p.expect(")")
    if p.accept("WITH"):
        system_versioning(p, cmd)
    p.end()
    return cmd


def system_versioning(p: Parser, cmd: Command) -> None:
    """WITH (SYSTEM_VERSIONING = ON [(HISTORY_TABLE = ..., ...)]), after WITH."""
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
    cmd.history = cmd.history or (cmd.schema, f"MSSQL_TemporalHistoryFor_{cmd.table}")


def parse_alter_table(p: Parser) -> Command:
    schema, table = p.qualified()
    if p.accept("ADD"):
        return parse_alter_add(p, schema, table)
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


def parse_alter_add(p: Parser, schema: str, table: str) -> Command:
    """ALTER TABLE ... ADD: a constraint, DEFAULT ... FOR a column, or columns (no COLUMN
    needed, as in T-SQL)."""
    if at_constraint(p):
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


# -- triggers and procedures ------------------------------------------------------------------


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
    steps = [trigger_step(s, tschema, table) for s in trigger_body(p) if s]
    return Command(
        "create_trigger",
        tschema,
        table,
        name=name,
        names=[s for s in steps if s],
        args={"schema": schema},
    )


def trigger_body(p: Parser) -> list[list[Tok]]:
    """The statements between BEGIN (read) and the last END, split on top-level ';'."""
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
    return body


def parse_exec(p: Parser) -> Command:
    """EXEC [sys.]sp_x @a = value, ... for the procedures this package emulates; positional
    arguments are keyed #0, #1, ..."""
    parts = [p.ident()]
    while p.accept("."):
        parts.append(p.ident())
    proc = parts[-1].lower()
    if proc not in PROCEDURES:
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
        args[key] = argument(p)
        position += 1
        if not p.accept(","):
            break
    p.end()
    return Command("exec", name=proc, args=args)


def argument(p: Parser) -> str | int | None:
    """A procedure argument: a string, an integer (maybe negative) or NULL."""
    value = p.next()
    negative = value.text == "-"
    if negative:
        value = p.next()
    if value.kind == "string":
        return value.text[(2 if value.text[0] in "Nn" else 1) : -1].replace("''", "'")
    if value.kind == "number":
        return -int(value.text) if negative else int(value.text)
    if value.upper == "NULL":
        return None
    raise Unsupported("procedure argument")
