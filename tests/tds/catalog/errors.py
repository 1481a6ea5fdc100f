"""The two ways a statement leaves this package: Unsupported (not ours, translate.py falls back
to sqlglot) and CatalogError (SQL Server's error for the client)."""

from __future__ import annotations


class Unsupported(Exception):
    """Not a statement this package handles: the caller falls back to sqlglot."""


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
