"""Installing catalog.sql (the ``sys`` views and the ``tds_catalog`` side tables) once per
database, as the superuser under an advisory lock, so several sessions may race for it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2

if TYPE_CHECKING:
    from ..session import Session

SCRIPT = Path(__file__).with_name("catalog.sql")
VERSION = hashlib.sha256(SCRIPT.read_bytes()).hexdigest()[:16]
INSTALL_LOCK = 0x7464_7363  # advisory lock key for installing the catalog
_NEEDS_CATALOG = re.compile(
    r"\bsys\s*\.|\b(CREATE|ALTER|DROP)\b|\bsp_\w*(applock|extendedproperty)\b",
    re.IGNORECASE,
)


def needs_catalog(batch: str) -> bool:
    """Whether BATCH may read the sys views or run a statement of this package."""
    return bool(_NEEDS_CATALOG.search(batch))


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
