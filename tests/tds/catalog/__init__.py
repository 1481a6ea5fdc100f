"""SQL Server's catalog and DDL on PostgreSQL, for the TDS test server.

The package owns:

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

Modules: install (catalog.sql), lexer (tokens, Parser, quoting), sqltypes (declared types),
expressions (defaults, trigger SET values), statements (parsing into Commands), execute (run),
connection (queries), sidetables (tds_catalog's rows), tables (CREATE/DROP TABLE and INDEX),
alter (ALTER TABLE), temporal (system versioning), triggers, procedures (applocks, extended
properties, RETURNSTATUS), errors.
"""

from __future__ import annotations

from .errors import CatalogError, Unsupported
from .execute import run
from .install import ensure_installed, needs_catalog
from .procedures import returnstatus
from .statements import Column, Command, Default, parse, whole_batch

__all__ = [
    "CatalogError",
    "Column",
    "Command",
    "Default",
    "Unsupported",
    "ensure_installed",
    "needs_catalog",
    "parse",
    "returnstatus",
    "run",
    "whole_batch",
]
