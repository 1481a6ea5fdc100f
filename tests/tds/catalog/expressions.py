"""The T-SQL expressions this package translates (column defaults, a trigger's SET values),
each rendered twice: for PostgreSQL, and as SQL Server stores the definition
(sys.default_constraints.definition), e.g. ``0`` is ``false`` and ``((0))``."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Unsupported
from .lexer import Parser, Tok, ql
from .sqltypes import SqlType, parse_type

# niladic functions: tds_catalog has a PostgreSQL function of each name
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
_RENAMED = {"ISNULL": "coalesce", "LEN": "length"}
_BARE = {"CURRENT_TIMESTAMP": ("now()", "getdate()"), "NULL": ("NULL", "NULL")}
_OPERATORS = ("+", "-", "*", "/", "%")


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
        self.p = Parser.over(toks)

    def parse(self) -> Expr:
        expr = self.binary()
        self.p.end()
        return expr

    def binary(self) -> Expr:
        left = self.term()
        while (tok := self.p.peek()) is not None and tok.text in _OPERATORS:
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
            return _string(tok)
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
            return self.cast()
        if self.p.accept("("):
            expr = self.call(word)
            if expr is not None:
                return expr
        raise Unsupported(f"function or name {tok.text}")

    def cast(self) -> Expr:
        """CAST(x AS type), after its '('; SQL Server stores it as CONVERT([type](n),x)."""
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

    def call(self, word: str) -> Expr | None:
        """WORD(args...), after its '('; None for a function this package does not know."""
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
            pg_name = _RENAMED.get(word, lower)
            return Expr(
                f"{pg_name}({', '.join(a.pg for a in args)})",
                f"{lower}({','.join(a.tsql for a in args)})",
            )
        return None


def _string(tok: Tok) -> Expr:
    """A string literal: plain on PostgreSQL, as written (N'' kept) for SQL Server."""
    body = tok.text[2:-1] if tok.text[0] in "Nn" else tok.text[1:-1]
    return Expr(
        ql(body.replace("''", "'")),
        tok.text if tok.text[0] != "n" else "N" + tok.text[1:],
    )


def expression(toks: list[Tok]) -> Expr:
    return ExprParser(toks).parse()


def default_for(toks: list[Tok], sql: SqlType) -> Expr:
    """A DEFAULT: PostgreSQL expression (bit 0/1 as boolean) and SQL Server's definition."""
    expr = expression(toks)
    if sql.pg == "boolean" and expr.literal:
        expr.pg = "false" if float(expr.pg) == 0 else "true"
    return Expr(expr.pg, f"({expr.tsql})", expr.literal)
