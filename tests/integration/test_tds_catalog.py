"""The TDS test server's SQL Server catalog and DDL emulation (tests/tds/catalog/), checked
through independent clients (python-tds, Microsoft's mssql-python, FreeTDS's tsql): the DDL
model-deployer sends runs on a fresh database and reads back, through the sys.* queries the
deployer uses, exactly as declared; temporal tables keep history, defaults fill, the touch
trigger runs, applocks and extended properties answer like SQL Server."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

import mssql_python
import pytds
import pytest
from harness.pgcluster import PASSWORD, PgCluster
from mssql import pytds_connect
from tds.server import TdsServer

pytestmark = pytest.mark.filterwarnings(
    "ignore:X509.get_subject is deprecated:DeprecationWarning"
)

SCHEMAS = "N'bronze', N'ref'"

DDL = [
    "SET XACT_ABORT ON",
    "BEGIN TRANSACTION",
    (
        "EXEC sp_getapplock @Resource = N'tinyrun.model-deployer', @LockMode = N'Exclusive',"
        " @LockOwner = N'Transaction', @LockTimeout = 10000"
    ),
    "CREATE SCHEMA [bronze]",
    "CREATE SCHEMA [ref]",
    (
        "CREATE TABLE [ref].[country] (\n"
        "    [code] nvarchar(2) NOT NULL,\n"
        "    [name] nvarchar(100) NOT NULL,\n"
        "    [updated_at] datetimeoffset(6) NOT NULL CONSTRAINT [df_country_updated_at]"
        " DEFAULT SYSDATETIMEOFFSET(),\n"
        "    [updated_by] nvarchar(128) NOT NULL CONSTRAINT [df_country_updated_by]"
        " DEFAULT SUSER_SNAME(),\n"
        "    [valid_from] datetime2(7) GENERATED ALWAYS AS ROW START NOT NULL,\n"
        "    [valid_to] datetime2(7) GENERATED ALWAYS AS ROW END NOT NULL,\n"
        "    CONSTRAINT [country_pkey] PRIMARY KEY ([code]),\n"
        "    PERIOD FOR SYSTEM_TIME ([valid_from], [valid_to])\n"
        ") WITH (SYSTEM_VERSIONING = ON (HISTORY_TABLE = [ref].[country_history]))"
    ),
    (
        "CREATE TABLE [bronze].[orders] (\n"
        "    [id] bigint NOT NULL,\n"
        "    [code] nvarchar(20) NOT NULL,\n"
        "    [country] nvarchar(2) NULL,\n"
        "    [qty] int NOT NULL CONSTRAINT [df_orders_qty] DEFAULT 0,\n"
        "    [small] smallint NULL,\n"
        "    [amount] decimal(12,3) NULL,\n"
        "    [note] nvarchar(max) NULL CONSTRAINT [df_orders_note] DEFAULT N'none',\n"
        "    [active] bit NOT NULL CONSTRAINT [df_orders_active] DEFAULT 1,\n"
        "    [day] date NOT NULL CONSTRAINT [df_orders_day] DEFAULT CAST(SYSDATETIME() AS date),\n"
        "    [seen] datetime2(7) NOT NULL CONSTRAINT [df_orders_seen] DEFAULT SYSDATETIME(),\n"
        "    [at] datetimeoffset(6) NULL,\n"
        "    [uid] uniqueidentifier NOT NULL CONSTRAINT [df_orders_uid] DEFAULT NEWID(),\n"
        "    [blob] varbinary(max) NULL,\n"
        "    CONSTRAINT [orders_pkey] PRIMARY KEY ([id]),\n"
        "    CONSTRAINT [orders_code_key] UNIQUE ([code])\n"
        ")"
    ),
    (
        "ALTER TABLE [bronze].[orders] ADD CONSTRAINT [orders_country_fkey] FOREIGN KEY"
        " ([country]) REFERENCES [ref].[country] ([code]) ON DELETE SET NULL"
    ),
    (
        "CREATE TABLE [bronze].[lines] (\n"
        "    [order_id] bigint NOT NULL,\n"
        "    [n] int NOT NULL,\n"
        "    [sku] nvarchar(40) NULL,\n"
        "    CONSTRAINT [lines_pkey] PRIMARY KEY ([order_id], [n])\n"
        ")"
    ),
    (
        "ALTER TABLE [bronze].[lines] ADD CONSTRAINT [lines_order_id_fkey] FOREIGN KEY"
        " ([order_id]) REFERENCES [bronze].[orders] ([id]) ON DELETE CASCADE"
    ),
    "CREATE INDEX [lines_sku_idx] ON [bronze].[lines] ([sku], [n])",
    "CREATE UNIQUE INDEX [orders_uid_idx] ON [bronze].[orders] ([uid])",
    (
        "EXEC sys.sp_addextendedproperty @name = N'MS_Description', @value = N'Orders, one a row',"
        " @level0type = N'SCHEMA', @level0name = N'bronze', @level1type = N'TABLE',"
        " @level1name = N'orders'"
    ),
    (
        "EXEC sys.sp_addextendedproperty @name = N'MS_Description', @value = N'How many',"
        " @level0type = N'SCHEMA', @level0name = N'bronze', @level1type = N'TABLE',"
        " @level1name = N'orders', @level2type = N'COLUMN', @level2name = N'qty'"
    ),
    (
        "CREATE TRIGGER [ref].[country_touch] ON [ref].[country] AFTER UPDATE AS\n"
        "BEGIN\n"
        "    SET NOCOUNT ON;\n"
        "    IF TRIGGER_NESTLEVEL() > 1 RETURN;\n"
        "    UPDATE x SET [updated_at] = SYSDATETIMEOFFSET(), [updated_by] = SUSER_SNAME()\n"
        "    FROM [ref].[country] AS x JOIN inserted AS i ON x.[code] = i.[code];\n"
        "END"
    ),
    "COMMIT TRANSACTION",
]

TABLES = f"""SELECT s.name, t.name, CAST(ep.value AS nvarchar(4000)), t.temporal_type
FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id
LEFT JOIN sys.extended_properties ep ON ep.class = 1 AND ep.major_id = t.object_id
 AND ep.minor_id = 0 AND ep.name = N'MS_Description'
WHERE s.name IN ({SCHEMAS}) ORDER BY s.name, t.name"""

COLUMNS = f"""SELECT s.name, t.name, c.name, ty.name, c.max_length, c.precision, c.scale,
 c.is_nullable, c.generated_always_type, dc.definition, CAST(ep.value AS nvarchar(4000))
FROM sys.columns c JOIN sys.tables t ON t.object_id = c.object_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
JOIN sys.types ty ON ty.user_type_id = c.user_type_id
LEFT JOIN sys.default_constraints dc ON dc.object_id = c.default_object_id
LEFT JOIN sys.extended_properties ep ON ep.class = 1 AND ep.major_id = c.object_id
 AND ep.minor_id = c.column_id AND ep.name = N'MS_Description'
WHERE s.name IN ({SCHEMAS}) ORDER BY s.name, t.name, c.column_id"""

INDEXES = f"""SELECT s.name, t.name, i.name, i.is_primary_key, i.is_unique_constraint,
 i.is_unique, c.name
FROM sys.indexes i JOIN sys.tables t ON t.object_id = i.object_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE s.name IN ({SCHEMAS}) AND i.type > 0 AND ic.is_included_column = 0
ORDER BY s.name, t.name, i.name, ic.key_ordinal"""

FOREIGN_KEYS = f"""SELECT s.name, t.name, fk.name, pc.name, rs.name, rt.name, rc.name,
 fk.delete_referential_action_desc
FROM sys.foreign_keys fk JOIN sys.tables t ON t.object_id = fk.parent_object_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id
JOIN sys.columns pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
JOIN sys.tables rt ON rt.object_id = fk.referenced_object_id
JOIN sys.schemas rs ON rs.schema_id = rt.schema_id
JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id
 AND rc.column_id = fkc.referenced_column_id
WHERE s.name IN ({SCHEMAS}) ORDER BY s.name, t.name, fk.name, fkc.constraint_column_id"""

TRIGGERS = f"""SELECT s.name, t.name, tr.name
FROM sys.triggers tr JOIN sys.tables t ON t.object_id = tr.parent_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
WHERE s.name IN ({SCHEMAS}) ORDER BY s.name, t.name, tr.name"""

EXPECTED_TABLES = [
    ("bronze", "lines", None, 0),
    ("bronze", "orders", "Orders, one a row", 0),
    ("ref", "country", None, 2),
    ("ref", "country_history", None, 1),
]

# (table, column, type, max_length, precision, scale, nullable, generated, default)
EXPECTED_COLUMNS = [
    ("lines", "order_id", "bigint", 8, 19, 0, False, 0, None),
    ("lines", "n", "int", 4, 10, 0, False, 0, None),
    ("lines", "sku", "nvarchar", 80, 0, 0, True, 0, None),
    ("orders", "id", "bigint", 8, 19, 0, False, 0, None),
    ("orders", "code", "nvarchar", 40, 0, 0, False, 0, None),
    ("orders", "country", "nvarchar", 4, 0, 0, True, 0, None),
    ("orders", "qty", "int", 4, 10, 0, False, 0, "((0))"),
    ("orders", "small", "smallint", 2, 5, 0, True, 0, None),
    ("orders", "amount", "decimal", 9, 12, 3, True, 0, None),
    ("orders", "note", "nvarchar", -1, 0, 0, True, 0, "(N'none')"),
    ("orders", "active", "bit", 1, 1, 0, False, 0, "((1))"),
    ("orders", "day", "date", 3, 10, 0, False, 0, "(CONVERT([date],sysdatetime()))"),
    ("orders", "seen", "datetime2", 8, 27, 7, False, 0, "(sysdatetime())"),
    ("orders", "at", "datetimeoffset", 10, 33, 6, True, 0, None),
    ("orders", "uid", "uniqueidentifier", 16, 0, 0, False, 0, "(newid())"),
    ("orders", "blob", "varbinary", -1, 0, 0, True, 0, None),
    ("country", "code", "nvarchar", 4, 0, 0, False, 0, None),
    ("country", "name", "nvarchar", 200, 0, 0, False, 0, None),
    (
        "country",
        "updated_at",
        "datetimeoffset",
        10,
        33,
        6,
        False,
        0,
        "(sysdatetimeoffset())",
    ),
    ("country", "updated_by", "nvarchar", 256, 0, 0, False, 0, "(suser_sname())"),
    ("country", "valid_from", "datetime2", 8, 27, 7, False, 1, None),
    ("country", "valid_to", "datetime2", 8, 27, 7, False, 2, None),
    ("country_history", "code", "nvarchar", 4, 0, 0, False, 0, None),
    ("country_history", "name", "nvarchar", 200, 0, 0, False, 0, None),
    ("country_history", "updated_at", "datetimeoffset", 10, 33, 6, False, 0, None),
    ("country_history", "updated_by", "nvarchar", 256, 0, 0, False, 0, None),
    ("country_history", "valid_from", "datetime2", 8, 27, 7, False, 0, None),
    ("country_history", "valid_to", "datetime2", 8, 27, 7, False, 0, None),
]

EXPECTED_INDEXES = [
    ("bronze", "lines", "lines_pkey", True, False, True, "order_id"),
    ("bronze", "lines", "lines_pkey", True, False, True, "n"),
    ("bronze", "lines", "lines_sku_idx", False, False, False, "sku"),
    ("bronze", "lines", "lines_sku_idx", False, False, False, "n"),
    ("bronze", "orders", "orders_code_key", False, True, True, "code"),
    ("bronze", "orders", "orders_pkey", True, False, True, "id"),
    ("bronze", "orders", "orders_uid_idx", False, False, True, "uid"),
    ("ref", "country", "country_pkey", True, False, True, "code"),
    ("ref", "country_history", "ix_country_history", False, False, False, "valid_to"),
    ("ref", "country_history", "ix_country_history", False, False, False, "valid_from"),
]

EXPECTED_FOREIGN_KEYS = [
    (
        "bronze",
        "lines",
        "lines_order_id_fkey",
        "order_id",
        "bronze",
        "orders",
        "id",
        "CASCADE",
    ),
    (
        "bronze",
        "orders",
        "orders_country_fkey",
        "country",
        "ref",
        "country",
        "code",
        "SET_NULL",
    ),
]


# -- helpers --------------------------------------------------------------------------------


def odbc_connect(tds: TdsServer, db: str) -> Any:
    return mssql_python.connect(
        f"Server=127.0.0.1,{tds.port};Database={db};UID=tinyrun;PWD={{{PASSWORD}}};"
        "Encrypt=yes;TrustServerCertificate=yes;"
    )


def tsql(
    tds: TdsServer, folder: Path, db: str, script: str
) -> subprocess.CompletedProcess:
    """FreeTDS's tsql, one batch per `go`."""
    conf = folder / "freetds.conf"
    conf.write_text(
        f"[tds]\n\thost = 127.0.0.1\n\tport = {tds.port}\n\ttds version = 7.4\n"
        "\tencryption = off\n"
    )
    return subprocess.run(
        ["tsql", "-S", "tds", "-U", "tinyrun", "-P", PASSWORD, "-D", db],
        check=False,
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FREETDSCONF": str(conf), "TDSDUMP": ""},
    )


def run_all(cur: Any, statements: list[str]) -> None:
    """Each statement as its own batch, as model-deployer sends them."""
    for statement in statements:
        cur.execute(statement)


def rows(cur: Any, query: str) -> list[tuple]:
    cur.execute(query)
    return [tuple(r) for r in cur.fetchall()]


def columns(cur: Any) -> list[tuple]:
    return [
        (r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9])
        for r in rows(cur, COLUMNS)
    ]


def indexes(cur: Any) -> list[tuple]:
    return [
        (*r[:3], bool(r[3]), bool(r[4]), bool(r[5]), r[6]) for r in rows(cur, INDEXES)
    ]


@pytest.fixture
def deployed(tds: TdsServer, pg: PgCluster, pg_db: str) -> Any:
    """A python-tds connection (autocommit) to PG_DB after the DDL above ran."""
    conn = pytds_connect(tds, pg, pg_db)
    with conn.cursor() as cur:
        run_all(cur, DDL)
    yield conn
    conn.close()


def sqlserver_error(cur: Any, statement: str) -> int:
    with pytest.raises(pytds.tds_base.Error) as info:
        cur.execute(statement)
    return int(getattr(info.value, "msg_no", 0) or getattr(info.value, "number", 0))


# -- the round trip -------------------------------------------------------------------------


def test_declared_model_reads_back_through_sys_views(deployed: Any) -> None:
    with deployed.cursor() as cur:
        assert {"bronze", "ref", "dbo"} <= {
            r[0] for r in rows(cur, "SELECT name FROM sys.schemas")
        }
        assert rows(cur, TABLES) == EXPECTED_TABLES
        assert columns(cur) == EXPECTED_COLUMNS
        qty = [r for r in rows(cur, COLUMNS) if r[2] == "qty"]
        assert qty[0][10] == "How many"
        assert indexes(cur) == EXPECTED_INDEXES
        assert rows(cur, FOREIGN_KEYS) == EXPECTED_FOREIGN_KEYS
        assert rows(cur, TRIGGERS) == [("ref", "country", "country_touch")]


def test_bit_flags_compare_with_integers(deployed: Any) -> None:
    with deployed.cursor() as cur:
        nullable = rows(
            cur,
            "SELECT c.name FROM sys.columns c JOIN sys.tables t ON t.object_id = c.object_id"
            " WHERE t.name = N'lines' AND c.is_nullable = 1",
        )
        assert nullable == [("sku",)]
        pks = rows(
            cur, "SELECT name FROM sys.indexes WHERE is_primary_key <> 0 ORDER BY name"
        )
        assert pks == [("country_pkey",), ("lines_pkey",), ("orders_pkey",)]


def test_defaults_fill_on_insert(deployed: Any, tds: TdsServer) -> None:
    with deployed.cursor() as cur:
        cur.execute("INSERT INTO [bronze].[orders] ([id], [code]) VALUES (1, N'A-1')")
        cur.execute(
            "SELECT [qty], [note], [active], [day], [seen], [uid] FROM [bronze].[orders]"
        )
        qty, note, active, day, seen, uid = cur.fetchone()
    assert (qty, note, active) == (0, "none", True)
    assert day == dt.date.today() or abs((day - dt.date.today()).days) <= 1
    assert isinstance(seen, dt.datetime) and isinstance(uid, uuid.UUID)


def test_nvarchar_keeps_length_and_unicode(deployed: Any) -> None:
    with deployed.cursor() as cur:
        cur.execute(
            "INSERT INTO [ref].[country] ([code], [name]) VALUES (N'ÉÜ', N'Ünïcode ☃')"
        )
        cur.execute("SELECT [code], [name] FROM [ref].[country]")
        assert cur.fetchall() == [("ÉÜ", "Ünïcode ☃")]
        with pytest.raises(pytds.tds_base.Error):
            cur.execute(
                "INSERT INTO [ref].[country] ([code], [name]) VALUES (N'ABC', N'x')"
            )


def test_temporal_history_keeps_the_old_row(
    deployed: Any, pg: PgCluster, pg_db: str
) -> None:
    with deployed.cursor() as cur:
        cur.execute(
            "INSERT INTO [ref].[country] ([code], [name]) VALUES (N'NL', N'Holland')"
        )
        cur.execute(
            "SELECT [valid_from], [valid_to], [updated_by] FROM [ref].[country]"
        )
        start, end, by = cur.fetchone()
        assert (
            end.year == 9999
            and start <= dt.datetime.now(dt.UTC).replace(tzinfo=None)
            and by == "tinyrun"
        )
        cur.execute(
            "UPDATE [ref].[country] SET [name] = N'Netherlands' WHERE [code] = N'NL'"
        )
        cur.execute(
            "SELECT [name], [valid_to] FROM [ref].[country_history] ORDER BY [valid_to]"
        )
        history = cur.fetchall()
        assert history[0][0] == "Holland" and history[0][1].year != 9999
        cur.execute("DELETE FROM [ref].[country] WHERE [code] = N'NL'")
        cur.execute(
            "SELECT count(*) FROM [ref].[country_history] WHERE [name] = N'Netherlands'"
        )
        assert cur.fetchone()[0] >= 1


def test_touch_trigger_runs_on_update(deployed: Any, pg: PgCluster, pg_db: str) -> None:
    with deployed.cursor() as cur:
        cur.execute(
            "INSERT INTO [ref].[country] ([code], [name]) VALUES (N'BE', N'Belgium')"
        )
    # an old stamp, set with triggers off (replica role) so that the touch does not run
    pg.sql(
        "SET session_replication_role = replica;"
        " UPDATE ref.country SET updated_at = '2000-01-01', updated_by = 'nobody'",
        dbname=pg_db,
    )
    assert pg.sql("SELECT updated_by FROM ref.country", dbname=pg_db) == [("nobody",)]
    with deployed.cursor() as cur:
        cur.execute(
            "UPDATE [ref].[country] SET [name] = N'België' WHERE [code] = N'BE'"
        )
        cur.execute("SELECT [updated_at], [updated_by] FROM [ref].[country]")
        at, by = cur.fetchone()
    assert at.year >= 2026 and by == "tinyrun"


def test_alter_statements_read_back(deployed: Any) -> None:
    changes = [
        (
            "ALTER TABLE [bronze].[lines] ADD [label] nvarchar(200) NULL"
            " CONSTRAINT [df_lines_label] DEFAULT N'x'"
        ),
        "ALTER TABLE [bronze].[lines] ALTER COLUMN [label] nvarchar(300) NULL",
        "ALTER TABLE [bronze].[lines] DROP CONSTRAINT [df_lines_label]",
        "ALTER TABLE [bronze].[lines] ADD CONSTRAINT [df_lines_label] DEFAULT N'y' FOR [label]",
        "ALTER TABLE [bronze].[lines] ALTER COLUMN [sku] nvarchar(40) NOT NULL",
        "ALTER TABLE [bronze].[lines] ADD CONSTRAINT [lines_label_sku_key] UNIQUE ([label], [sku])",
        "DROP INDEX [lines_sku_idx] ON [bronze].[lines]",
        "ALTER TABLE [bronze].[orders] DROP CONSTRAINT [orders_country_fkey]",
        (
            "ALTER TABLE [bronze].[orders] ADD CONSTRAINT [orders_country_fkey] FOREIGN KEY"
            " ([country]) REFERENCES [ref].[country] ([code])"
        ),
        "ALTER TABLE [bronze].[orders] DROP CONSTRAINT [df_orders_note]",
        "ALTER TABLE [bronze].[orders] DROP COLUMN [note]",
        (
            "ALTER TABLE [ref].[country] ADD [iso3] nvarchar(3) NOT NULL"
            " CONSTRAINT [df_country_iso3] DEFAULT N'???'"
        ),
        (
            "EXEC sys.sp_updateextendedproperty @name = N'MS_Description', @value = N'Orders ☃',"
            " @level0type = N'SCHEMA', @level0name = N'bronze', @level1type = N'TABLE',"
            " @level1name = N'orders'"
        ),
        (
            "EXEC sys.sp_dropextendedproperty @name = N'MS_Description',"
            " @level0type = N'SCHEMA', @level0name = N'bronze', @level1type = N'TABLE',"
            " @level1name = N'orders', @level2type = N'COLUMN', @level2name = N'qty'"
        ),
    ]
    with deployed.cursor() as cur:
        run_all(cur, changes)
        cols = {(c[0], c[1]): c for c in columns(cur)}
        assert cols[("lines", "label")][2:] == (
            "nvarchar",
            600,
            0,
            0,
            True,
            0,
            "(N'y')",
        )
        assert cols[("lines", "sku")][6] is False
        assert ("orders", "note") not in cols
        assert cols[("country", "iso3")][2:] == (
            "nvarchar",
            6,
            0,
            0,
            False,
            0,
            "(N'???')",
        )
        assert cols[("country_history", "iso3")][2:] == (
            "nvarchar",
            6,
            0,
            0,
            False,
            0,
            None,
        )
        names = {r[2] for r in indexes(cur)}
        assert "lines_sku_idx" not in names and "lines_label_sku_key" in names
        fks = {r[2]: r[7] for r in rows(cur, FOREIGN_KEYS)}
        assert fks["orders_country_fkey"] == "NO_ACTION"
        assert ("bronze", "orders", "Orders ☃", 0) in rows(cur, TABLES)
        assert all(r[10] is None for r in rows(cur, COLUMNS) if r[2] == "qty")
        cur.execute(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM [bronze].[lines]) THEN 1 ELSE 0 END"
        )
        assert cur.fetchone()[0] == 0
        cur.execute(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM [bronze].[lines] WHERE [label] IS NULL)"
            " THEN 1 ELSE 0 END"
        )
        assert cur.fetchone()[0] == 0
        cur.execute("DROP TABLE [bronze].[lines]")
        assert ("bronze", "lines", None, 0) not in rows(cur, TABLES)


def test_errors_come_back_as_sqlserver_errors(deployed: Any) -> None:
    prop = (
        "EXEC sys.sp_{} @name = N'MS_Description'{}, @level0type = N'SCHEMA',"
        " @level0name = N'bronze', @level1type = N'TABLE', @level1name = N'lines'"
    )
    with deployed.cursor() as cur:
        assert sqlserver_error(cur, prop.format("dropextendedproperty", "")) == 15217
        cur.execute(prop.format("addextendedproperty", ", @value = N'x'"))
        assert (
            sqlserver_error(cur, prop.format("addextendedproperty", ", @value = N'x'"))
            == 15233
        )
        assert (
            sqlserver_error(cur, "ALTER TABLE [bronze].[lines] DROP CONSTRAINT [nope]")
            == 3728
        )
        assert sqlserver_error(cur, "DROP TABLE [ref].[country]") == 13552
        assert sqlserver_error(cur, "DROP TABLE [bronze].[orders]") == 3726
        # 5074 "The object ... is dependent on column", then 4922 (python-tds keeps the last)
        drop = "ALTER TABLE [bronze].[orders] DROP COLUMN [qty]"
        assert sqlserver_error(cur, drop) == 4922
        retype = "ALTER TABLE [bronze].[orders] ALTER COLUMN [{}] {} NOT NULL"
        assert sqlserver_error(cur, retype.format("qty", "bigint")) == 4922
        assert sqlserver_error(cur, retype.format("id", "int")) == 4922
        assert sqlserver_error(cur, retype.format("code", "nvarchar(10)")) == 4922
        cur.execute(retype.format("code", "nvarchar(30)"))  # a unique column may grow
        assert (
            sqlserver_error(
                cur,
                "ALTER TABLE [bronze].[orders] ADD CONSTRAINT [d2] DEFAULT 5 FOR [qty]",
            )
            == 1781
        )
        assert (
            sqlserver_error(cur, "CREATE TABLE [bronze].[orders] ([id] int NULL)")
            == 2714
        )


def test_applock_returns_status_and_times_out(
    tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    lock = (
        "EXEC sp_getapplock @Resource = N'tinyrun.model-deployer', @LockMode = N'Exclusive',"
        " @LockOwner = N'Transaction', @LockTimeout = {}"
    )
    first = pytds_connect(tds, pg, pg_db)
    second = pytds_connect(tds, pg, pg_db)
    try:
        with first.cursor() as a, second.cursor() as b:
            a.execute("BEGIN TRANSACTION")
            a.execute(lock.format(10000))
            assert a.get_proc_return_status() == 0
            b.execute("BEGIN TRANSACTION")
            b.execute(lock.format(200))
            assert b.get_proc_return_status() == -1
            a.execute("COMMIT TRANSACTION")
            b.execute(lock.format(200))
            assert b.get_proc_return_status() == 0
            b.execute("ROLLBACK TRANSACTION")
    finally:
        first.close()
        second.close()


def test_two_sessions_install_the_catalog_at_once(
    tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    results: list[Any] = []

    def read() -> None:
        conn = pytds_connect(tds, pg, pg_db)
        try:
            with conn.cursor() as cur:
                results.append(
                    rows(cur, "SELECT count(*) FROM sys.types WHERE name = N'int'")
                )
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [[(1,)]] * 3


def test_mssql_python_reads_the_catalog(
    tds: TdsServer, deployed: Any, pg_db: str
) -> None:
    conn = odbc_connect(tds, pg_db)
    try:
        cur = conn.cursor()
        cur.execute(COLUMNS)
        got = [
            (r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9])
            for r in cur.fetchall()
        ]
        assert got == EXPECTED_COLUMNS
        cur.execute(INDEXES)
        assert [
            (*r[:3], bool(r[3]), bool(r[4]), bool(r[5]), r[6]) for r in cur.fetchall()
        ] == (EXPECTED_INDEXES)
    finally:
        conn.close()


def test_freetds_runs_the_ddl_and_reads_it_back(
    tds: TdsServer, pg: PgCluster, pg_db: str, open_tmp: Path
) -> None:
    script = "".join(f"{statement}\ngo\n" for statement in DDL) + f"{TRIGGERS}\ngo\n"
    script += "EXEC sp_getapplock @Resource = N'x', @LockOwner = N'Session'\ngo\n"
    proc = tsql(tds, open_tmp, pg_db, script)
    assert "Msg " not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert "country_touch" in proc.stdout
    assert pg.sql("SELECT count(*) FROM tds_catalog.temporal_tables", dbname=pg_db) == [
        (1,)
    ]


def test_identity_column(deployed: Any) -> None:
    with deployed.cursor() as cur:
        cur.execute(
            "CREATE TABLE [bronze].[seq] ([id] int IDENTITY(1,1) NOT NULL, [v] nvarchar(5) NULL)"
        )
        cur.execute("INSERT INTO [bronze].[seq] ([v]) VALUES (N'a'), (N'b')")
        cur.execute("SELECT [id], [v] FROM [bronze].[seq] ORDER BY [id]")
        assert cur.fetchall() == [(1, "a"), (2, "b")]
        cur.execute("SELECT c.name FROM sys.columns c WHERE c.is_identity = 1")
        assert cur.fetchall() == [("id",)]


@pytest.mark.parametrize(
    "models",
    [
        Path(__file__).parent / "model_deployer" / "v2.yml",
        Path(__file__).resolve().parents[2]
        / "cookiecutter"
        / "{{cookiecutter.datakit_slug}}"
        / "models",
    ],
    ids=["v2", "cookiecutter"],
)
def test_rendered_deploy_script_runs_and_reads_back(
    run_runner: Any, tds: TdsServer, pg: PgCluster, pg_db: str, models: Path
) -> None:
    """What `model-deployer render --engine mssql` writes runs batch by batch, and every
    table, trigger and comment it declares is in the catalog."""
    result = run_runner(
        "model-deployer", ["render", "--models", str(models), "--engine", "mssql"]
    )
    assert result.exit_code == 0, result
    script = result.stdout.rsplit("\n", 2)[0]
    batches = [b.strip() for b in script.split("\nGO") if b.strip()]
    batches = [b.split("\n", 1)[1] if b.startswith("-- ") else b for b in batches]
    conn = pytds_connect(tds, pg, pg_db)
    try:
        with conn.cursor() as cur:
            run_all(cur, batches)
            tables = rows(
                cur,
                "SELECT s.name, t.name FROM sys.tables t"
                " JOIN sys.schemas s ON s.schema_id = t.schema_id",
            )
            triggers = rows(cur, "SELECT name FROM sys.triggers")
            comments = rows(cur, "SELECT count(*) FROM sys.extended_properties")
    finally:
        conn.close()
    created = {
        b.split()[2].replace("[", "").replace("]", "")
        for b in batches
        if b.startswith("CREATE TABLE")
    }
    assert created and created <= {f"{r[0]}.{r[1]}" for r in tables}
    assert len(triggers) == sum(b.startswith("CREATE TRIGGER") for b in batches)
    assert comments[0][0] == sum("extendedproperty" in b for b in batches)


def test_versioning_off_then_drop(deployed: Any, pg: PgCluster, pg_db: str) -> None:
    with deployed.cursor() as cur:
        touch = next(s for s in DDL if s.startswith("CREATE TRIGGER"))
        cur.execute(touch.replace("CREATE TRIGGER", "CREATE OR ALTER TRIGGER"))
        assert rows(cur, TRIGGERS) == [("ref", "country", "country_touch")]
        run_all(
            cur,
            [
                "DROP TRIGGER [ref].[country_touch]",
                "ALTER TABLE [bronze].[orders] DROP CONSTRAINT [orders_country_fkey]",
                "ALTER TABLE [ref].[country] SET (SYSTEM_VERSIONING = OFF)",
                "DROP TABLE [ref].[country]",
                "DROP TABLE [ref].[country_history]",
            ],
        )
        assert rows(cur, TRIGGERS) == []
        assert [r[:2] for r in rows(cur, TABLES)] == [
            ("bronze", "lines"),
            ("bronze", "orders"),
        ]
    # the trigger's PL/pgSQL function went with it
    functions = (
        "SELECT count(*) FROM pg_proc WHERE pronamespace = 'tds_catalog'::regnamespace"
    )
    assert pg.sql(functions + " AND proname LIKE 'trigger%'", dbname=pg_db) == [(0,)]


def test_failed_ddl_rolls_the_deploy_back(deployed: Any) -> None:
    """model-deployer runs a plan in one transaction: a failing statement ends it and
    nothing of it stays."""
    with deployed.cursor() as cur:
        cur.execute("BEGIN TRANSACTION")
        cur.execute("CREATE TABLE [bronze].[tmp] ([id] int NOT NULL)")
        cur.execute("ALTER TABLE [bronze].[lines] ADD [extra] int NULL")
        assert (
            sqlserver_error(cur, "ALTER TABLE [bronze].[lines] DROP CONSTRAINT [x]")
            == 3728
        )
        cur.execute("SELECT @@TRANCOUNT")
        assert cur.fetchone()[0] == 0
        assert [r[1] for r in rows(cur, TABLES)] == [
            "lines",
            "orders",
            "country",
            "country_history",
        ]
        assert "extra" not in {c[1] for c in columns(cur)}
