"""T-SQL tokens, the Parser cursor over one statement's tokens, and quoting names for
PostgreSQL (and back, for SQL Server's messages)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import Unsupported

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


def table_ref(schema: str, name: str) -> str:
    return f"{qi(schema)}.{qi(name)}"


def display(schema: str, name: str) -> str:
    """SCHEMA.NAME as SQL Server's messages write it (public is dbo)."""
    return f"{'dbo' if schema == 'public' else schema}.{name}"


class Parser:
    """A cursor over the tokens of one statement."""

    def __init__(self, text: str) -> None:
        self.toks = tokenize(text.strip().rstrip(";"))
        self.pos = 0

    @classmethod
    def over(cls, toks: list[Tok]) -> Parser:
        """A cursor over tokens already split off another statement."""
        p = cls("")
        p.toks = toks
        return p

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
