"""The session's PostgreSQL connection as the statement runners use it: queries and the
lookups they share (a table's oid, a column's number)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import CatalogError
from .lexer import display, table_ref

if TYPE_CHECKING:
    from ..batch import BatchRunner


class Connection:
    """Runs one Command's SQL on the session's PostgreSQL connection (inside the transaction
    that execute.run opened or the client's)."""

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

    def table_of(self, relid: int) -> str:
        """The table RELID as a PostgreSQL name (quoted as needed)."""
        return self.one("SELECT %s::oid::regclass::text", (relid,))

    def attnum(self, relid: int, column: str) -> int | None:
        return self.one(
            "SELECT attnum FROM pg_attribute WHERE attrelid = %s AND attname = %s"
            " AND attnum > 0 AND NOT attisdropped",
            (relid, column),
        )
