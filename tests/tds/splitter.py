"""Split a T-SQL batch into statements.

T-SQL needs no semicolons between statements, so a statement also ends where a line starts with
a statement keyword outside parentheses, unless that keyword continues the statement before it
(UPDATE ... SET, INSERT ... SELECT, IF <cond> <statement>, ... UNION SELECT).
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""(?P<comment>--[^\n]*|/\*.*?\*/)
      |(?P<string>N?'(?:[^']|'')*')
      |(?P<quoted>\[[^\]]*\]|"[^"]*")
      |(?P<word>[A-Za-z_@#][\w@#$]*)
      |(?P<newline>\n)
      |(?P<other>.)""",
    re.DOTALL | re.VERBOSE,
)
STARTERS = {
    "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "TRUNCATE", "PRINT",
    "SET", "BEGIN", "COMMIT", "ROLLBACK", "RAISERROR", "THROW", "DECLARE", "WAITFOR", "EXEC",
    "EXECUTE", "MERGE", "WITH", "IF", "USE", "GRANT", "REVOKE",
}  # fmt: skip
_CONTINUES = {
    "UPDATE": {"SET"},
    "INSERT": {"SELECT", "WITH", "EXEC", "EXECUTE"},
    "CREATE": {"SELECT", "WITH"},
    "MERGE": {"SET", "INSERT", "UPDATE", "DELETE"},
    "WITH": {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"},
}
_JOINERS = {"UNION", "ALL", "EXCEPT", "INTERSECT", "AS", "(", "THEN", "ELSE"}


_SET_OPTION = re.compile(
    r"\bSET\s+(FMTONLY|NOCOUNT|XACT_ABORT|ANSI_\w+|QUOTED_IDENTIFIER|IMPLICIT_TRANSACTIONS|"
    r"ARITHABORT|CONCAT_NULL_YIELDS_NULL|TEXTSIZE)\s+(ON|OFF|\d+)\b",
    re.IGNORECASE,
)


def split(batch: str) -> list[str]:
    """The statements of BATCH, stripped, without trailing semicolons."""
    return [statement for statement, _line in split_lines(batch)]


def split_lines(batch: str) -> list[tuple[str, int]]:
    """The statements of BATCH with the 1-based line each starts on (what SQL Server reports
    as an error's line number)."""
    # session options end a statement even mid-line (FreeTDS's "SET FMTONLY ON select ...")
    batch = _SET_OPTION.sub(lambda m: f";{m.group()};", batch)
    statements: list[str] = []
    start = 0
    depth = 0
    line_start = True
    first = ""
    previous = ""
    if_pending = False
    seen_values = False
    for match in _TOKEN.finditer(batch):
        kind, text = match.lastgroup, match.group()
        if kind == "comment":
            continue
        if kind == "newline":
            line_start = True
            continue
        if kind == "other" and text.isspace():
            continue
        upper = text.upper()
        if kind == "other" and text == ";" and depth == 0:
            statements.append(batch[start : match.start()])
            start, first, previous, if_pending, seen_values = (
                match.end(),
                "",
                "",
                False,
                False,
            )
            continue
        if kind == "word" and depth == 0 and first and upper in STARTERS and line_start:
            continues = upper in _CONTINUES.get(first, set()) or previous in _JOINERS
            if first == "INSERT" and seen_values:  # INSERT ... VALUES (...) is complete
                continues = previous in _JOINERS
            if first == "IF" and if_pending:
                continues, if_pending = True, False
            if not continues:
                statements.append(batch[start : match.start()])
                start, first, if_pending, seen_values = match.start(), "", False, False
        if not first:
            first = upper
            if_pending = upper == "IF"
        if text == "(":
            depth += 1
        elif text == ")":
            depth = max(depth - 1, 0)
        previous = upper
        seen_values = seen_values or upper == "VALUES"
        line_start = False
    statements.append(batch[start:])
    located, offset = [], 0
    for piece in statements:
        begin = batch.index(piece, offset)
        offset = begin + len(piece)
        text = piece.strip()
        if text:
            lead = begin + len(piece) - len(piece.lstrip())
            located.append((text, batch.count("\n", 0, lead) + 1))
    return located
