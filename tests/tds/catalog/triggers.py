"""CREATE [OR ALTER] TRIGGER ... AFTER UPDATE and DROP TRIGGER: the body's statements become
a PL/pgSQL function in tds_catalog (trigger_<table oid>_<name>), run by a PostgreSQL
statement-level trigger whose transition tables are named ``inserted`` and ``deleted``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import CatalogError, Unsupported
from .expressions import expression
from .lexer import Parser, Tok, display, qi, table_ref

if TYPE_CHECKING:
    from .connection import Connection
    from .statements import Command

_KEYWORDS = {"AND", "OR", "NOT", "IS", "NULL", "IN", "LIKE", "BETWEEN"}


# -- the body ---------------------------------------------------------------------------------


def trigger_step(toks: list[Tok], schema: str, table: str) -> str:
    """One statement of an AFTER UPDATE trigger's body as PL/pgSQL ("" for none)."""
    p = Parser.over(toks)
    if p.accept("SET", "NOCOUNT"):
        return ""
    if p.accept("IF", "TRIGGER_NESTLEVEL", "(", ")"):
        op = p.next().text
        level = p.next().text
        p.expect("RETURN")
        p.end()
        return f"IF pg_trigger_depth() {op} {int(level)} THEN RETURN NULL; END IF;"
    if p.accept("UPDATE"):
        return update_step(p, schema, table)
    raise Unsupported("trigger statement")


def update_step(p: Parser, schema: str, table: str) -> str:
    """UPDATE alias SET ... FROM table alias JOIN inserted|deleted alias ON ..., after
    UPDATE: the trigger's own table joined with a transition table."""
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


# -- running ----------------------------------------------------------------------------------


def create_trigger(db: Connection, cmd: Command) -> None:
    if cmd.args["schema"] != cmd.schema:
        raise CatalogError(
            2103,
            f"Cannot create trigger '{cmd.name}' because its schema is different "
            "from the schema of the target table or view.",
        )
    relid = db.relid(cmd.schema, cmd.table)
    if cmd.flag:
        drop_named(db, cmd.schema, cmd.name, missing_ok=True)
    if db.one(
        "SELECT 1 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid"
        " WHERE g.tgname = %s AND c.relnamespace = to_regnamespace(%s)",
        (cmd.name, qi(cmd.schema)),
    ):
        raise CatalogError(
            2714, f"There is already an object named '{cmd.name}' in the database."
        )
    function = f"tds_catalog.{qi(f'trigger_{relid}_{cmd.name}')}"
    body = "\n    ".join(cmd.names)
    db.sql(
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS"
        f" $tds$\nBEGIN\n    {body}\n    RETURN NULL;\nEND\n$tds$"
    )
    db.sql(
        f"CREATE TRIGGER {qi(cmd.name)} AFTER UPDATE ON {table_ref(cmd.schema, cmd.table)}"
        " REFERENCING NEW TABLE AS inserted OLD TABLE AS deleted"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


def drop_trigger(db: Connection, cmd: Command) -> None:
    drop_named(db, cmd.schema, cmd.name, missing_ok=cmd.flag)


def drop_named(db: Connection, schema: str, name: str, missing_ok: bool) -> None:
    """Drop trigger SCHEMA.NAME and its function (triggers live in their table's schema)."""
    rows = db.sql(
        "SELECT g.tgrelid::regclass::text FROM pg_trigger g JOIN pg_class c"
        " ON c.oid = g.tgrelid WHERE g.tgname = %s AND c.relnamespace = to_regnamespace(%s)",
        (name, qi(schema)),
    )
    if not rows:
        if missing_ok:
            return
        raise CatalogError(
            3701,
            f"Cannot drop the trigger '{display(schema, name)}', because "
            "it does not exist or you do not have permission.",
            11,
        )
    functions = trigger_functions(db, rows[0][0], name)
    db.sql(f"DROP TRIGGER {qi(name)} ON {rows[0][0]}")
    drop_functions(db, functions)


def trigger_functions(
    db: Connection, table: str, trigger: str | None = None
) -> list[str]:
    """The tds_catalog functions behind TABLE's T-SQL triggers (or one of them)."""
    return [
        r[0]
        for r in db.sql(
            "SELECT g.tgfoid::regprocedure::text FROM pg_trigger g"
            " JOIN pg_proc p ON p.oid = g.tgfoid"
            " WHERE g.tgrelid = %s::regclass AND p.pronamespace = 'tds_catalog'::regnamespace"
            " AND p.proname LIKE 'trigger\\_%%' AND (%s::text IS NULL OR g.tgname = %s)",
            (table, trigger, trigger),
        )
    ]


def drop_functions(db: Connection, functions: list[str]) -> None:
    for function in functions:
        db.sql(f"DROP FUNCTION IF EXISTS {function}")
