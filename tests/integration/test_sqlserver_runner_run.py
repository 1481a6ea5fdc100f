"""sqlserver-runner run against the TDS test server: sqlcmd scripts (GO [N], $(variables),
:setvar, :r, :on error) land in PostgreSQL in one transaction; a failing batch leaves nothing;
messages become log lines; deadlock victims and lock timeouts exit 75."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.checks import assert_fails, assert_ok, wait_until
from harness.pgcluster import PgCluster
from harness.result import RunResult
from mssql import mssql_env
from tds.server import TdsServer

Runner = Callable[..., RunResult]


def tables(pg: PgCluster, db: str) -> set[str]:
    rows = pg.sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'", dbname=db
    )
    return {r[0] for r in rows}


def test_script_with_go_variables_and_include_lands(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "rows.sql").write_text(
        "INSERT INTO $(table) (id, label) VALUES (10, N'$(label)')\nGO\n"
    )
    main = tmp_path / "main.sql"
    main.write_text(
        ":setvar table sales\n"
        "CREATE TABLE $(table) (id int, label nvarchar(50))\n"
        "go\n"
        "-- GO inside a comment is not a separator\n"
        "INSERT INTO $(table) (id, label) VALUES (1, 'a GO\nGO b')\n"
        "PRINT 'loaded $(day)'\n"
        "GO\n"
        "INSERT INTO $(table) (id, label) VALUES (2, 'x')\n"
        "GO 3\n"
        ":r sub/rows.sql\n"
    )
    result = sqlserver_runner(
        [
            "run",
            "--conn",
            "mssql",
            "-v",
            "day=2026-01-01",
            "-v",
            "label=héllo",
            str(main),
        ],
        env=mssql_env(tds, pg_db),
    )
    out = assert_ok(result)
    rows = pg.sql("SELECT id, label FROM sales ORDER BY id, label", dbname=pg_db)
    assert rows == [(1, "a GO\nGO b"), (2, "x"), (2, "x"), (2, "x"), (10, "héllo")]
    assert out["committed"] is True
    assert [b["command"] for b in out["batches"]] == ["GO", "GO", "GO 3", "GO"]
    assert [b["rows"] for b in out["batches"]] == [0, 1, 3, 1]
    assert out["batches"][3]["file"].endswith("sub/rows.sql")
    assert out["rows_total"] == 5
    printed = [line for line in result.logs if line.get("event") == "message"]
    assert [p["msg"] for p in printed] == ["loaded 2026-01-01"]


def test_failing_batch_rolls_back_everything(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "load.sql"
    script.write_text(
        "CREATE TABLE kept (id int)\nGO\n"
        "INSERT INTO kept VALUES (1)\nGO\n"
        "INSERT INTO kept VALUES (2)\n"
        "SELECT 1 / 0\n"
        "GO\n"
        "INSERT INTO kept VALUES (3)\nGO\n"
    )
    result = sqlserver_runner(
        ["run", "--conn", "mssql", str(script)], env=mssql_env(tds, pg_db)
    )
    out = assert_fails(result, 1)
    assert "8134" in out["error"] and "Divide by zero" in out["error"]
    assert out["failed_at"] == f"{script}:6"
    assert out["committed"] is False
    assert "kept" not in tables(pg, pg_db)


def test_raiserror_fails_and_low_severity_is_a_message(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    sql = (
        "CREATE TABLE t (id int)\nRAISERROR('just so you know', 10, 1)\nGO\n"
        "INSERT INTO t VALUES (1)\nRAISERROR('bad input: %s', 16, 1)\nGO\n"
    )
    result = sqlserver_runner(
        ["run", "--conn", "mssql", "-c", sql], env=mssql_env(tds, pg_db)
    )
    out = assert_fails(result, 1)
    assert "50000" in out["error"] and "bad input" in out["error"]
    assert out["failed_at"] == "-c:5"
    assert any(line.get("msg") == "just so you know" for line in result.logs)
    assert "t" not in tables(pg, pg_db)


def test_on_error_ignore_goes_on_without_a_transaction(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    sql = (
        "CREATE TABLE t (id int)\nGO\n:on error ignore\n"
        "INSERT INTO missing VALUES (1)\nGO\n:on error exit\nINSERT INTO t VALUES (7)\nGO\n"
    )
    env = mssql_env(tds, pg_db)
    result = sqlserver_runner(
        ["run", "--conn", "mssql", "--no-transaction", "-c", sql], env=env
    )
    out = assert_ok(result)
    assert (
        out["committed"] is False
    )  # no run-wide transaction: each batch committed itself
    assert pg.sql("SELECT id FROM t", dbname=pg_db) == [(7,)]
    assert any(
        "ignored" in line.get("msg", "")
        for line in result.logs
        if line["level"] == "warn"
    )


def test_on_error_ignore_cannot_keep_a_transaction_an_error_rolled_back(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    sql = "CREATE TABLE t (id int)\nGO\n:on error ignore\nSELECT 1 / 0\nGO\nINSERT INTO t VALUES (1)\n"
    result = sqlserver_runner(
        ["run", "--conn", "mssql", "-c", sql], env=mssql_env(tds, pg_db)
    )
    assert "--no-transaction" in assert_fails(result, 1)["error"]
    assert "t" not in tables(pg, pg_db)


def test_lock_timeout_exits_75(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    pg.sql("CREATE TABLE busy (id int)", dbname=pg_db, role="tinyrun")
    holder = pg.connect(pg_db)
    holder.autocommit = False
    try:
        holder.cursor().execute("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
        result = sqlserver_runner(
            [
                "run",
                "--conn",
                "mssql",
                "--lock-timeout",
                "300ms",
                "-c",
                "INSERT INTO busy VALUES (1)",
            ],
            env=mssql_env(tds, pg_db),
        )
    finally:
        holder.rollback()
        holder.close()
    assert "1222" in assert_fails(result, 75)["error"]


def test_deadlock_victim_exits_75(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    pg.sql(
        "CREATE TABLE a (id int); CREATE TABLE b (id int); INSERT INTO a VALUES (1); "
        "INSERT INTO b VALUES (1)",
        dbname=pg_db,
        role="tinyrun",
    )
    other = pg.connect(pg_db)
    other.autocommit = False
    other.cursor().execute("UPDATE b SET id = 2")  # holds b's row
    box: dict[str, RunResult] = {}
    sql = "UPDATE a SET id = 3\nGO\nUPDATE b SET id = 3\nGO\n"
    runner = threading.Thread(
        target=lambda: box.update(
            r=sqlserver_runner(
                ["run", "--conn", "mssql", "-c", sql], env=mssql_env(tds, pg_db)
            )
        )
    )
    runner.start()
    try:
        # the runner holds a's row and waits for b's: now wait for a's, closing the cycle
        wait_until(
            lambda: pg.activity(
                "wait_event_type = 'Lock' AND query LIKE %s", ("%UPDATE b%",)
            )
        )
        started = time.monotonic()
        other.cursor().execute("UPDATE a SET id = 4")
        assert time.monotonic() - started < 30
    finally:
        other.rollback()
        other.close()
        runner.join(60)
    assert "1205" in assert_fails(box["r"], 75)["error"]
    assert pg.sql("SELECT id FROM a", dbname=pg_db) == [(1,)]


@pytest.mark.parametrize(
    "script,word",
    [
        ("SELECT 1\nGO 0\n", "GO"),
        ("SELECT 1\nGO x\n", "GO"),
        ("SELECT '$(nope)'\nGO\n", "nope"),
        (":connect other\nSELECT 1\n", "connect"),
        ("!!ls\n", "!!"),
        (":r does-not-exist.sql\n", "does-not-exist.sql"),
        ("", ""),
    ],
    ids=[
        "go-zero",
        "go-word",
        "undefined-var",
        "unknown-command",
        "shell",
        "missing-include",
        "empty",
    ],
)
def test_bad_scripts_exit_2_before_connecting(
    sqlserver_runner: Runner, tds: TdsServer, tmp_path: Path, script: str, word: str
) -> None:
    path = tmp_path / "bad.sql"
    path.write_text(script)
    # the server is not there: a connection attempt would exit 75, not 2
    env = mssql_env(tds, "tinyrun", port=1)
    out = assert_fails(
        sqlserver_runner(["run", "--conn", "mssql", str(path)], env=env), 2
    )
    assert str(path) in out["error"] and word in out["error"]


@pytest.mark.parametrize(
    "args,word",
    [
        (["run", "--conn", "mssql"], "-c"),
        (["run", "--conn", "mssql", "-c", "SELECT 1", "x.sql"], "-c"),
        (["run", "--conn", "mssql", "-v", "novalue", "-c", "SELECT 1"], "NAME=VALUE"),
        (
            ["run", "--conn", "mssql", "--no-such-flag", "-c", "SELECT 1"],
            "no-such-flag",
        ),
        (["run", "--conn", "mssql", "missing.sql"], "missing.sql"),
    ],
    ids=["nothing", "both", "bad-var", "unknown-flag", "missing-file"],
)
def test_bad_arguments_exit_2(
    sqlserver_runner: Runner, tds: TdsServer, args: list[str], word: str
) -> None:
    out = assert_fails(sqlserver_runner(args, env=mssql_env(tds, "tinyrun", port=1)), 2)
    assert word in out["error"]


@pytest.mark.parametrize(
    "uri", ["mssql://tinyrun:pw@localhost:notaport/db", "not a uri", "mssql://[::1/db"]
)
def test_malformed_connection_exits_2(sqlserver_runner: Runner, uri: str) -> None:
    env = {"AIRFLOW_CONN_MSSQL": uri}
    assert_fails(
        sqlserver_runner(["run", "--conn", "mssql", "-c", "SELECT 1"], env=env), 2
    )


@pytest.mark.parametrize("number", [40613, 40197, 40501, 49918, 49919, 49920])
def test_azure_transient_errors_exit_75(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str, number: int
) -> None:
    """Azure SQL's transient error numbers (raised here by the TDS server's THROW, which, unlike
    SQL Server's, accepts numbers below 50000) mean: retry later."""
    sql = f"CREATE TABLE t (id int)\nGO\nTHROW {number}, 'Azure says: try again later', 1\n"
    result = sqlserver_runner(
        ["run", "--conn", "mssql", "-c", sql], env=mssql_env(tds, pg_db)
    )
    assert str(number) in assert_fails(result, 75)["error"]
    assert "t" not in tables(pg, pg_db)
