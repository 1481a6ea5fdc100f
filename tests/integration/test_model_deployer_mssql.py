"""model-deployer against SQL Server targets, on the TDS test server (tests/tds: SQL Server's wire
protocol, its sys.* catalog and DDL emulated on the harness PostgreSQL). Two SQL Server business
units and one PostgreSQL unit are deployed in one run: v1, then v2's additive changes, then
nothing to do; drift; a destructive change refused; system-versioned history; a target that is
down; SIGTERM while blocked. State is checked in the databases behind the TDS server.
"""

from __future__ import annotations

import json
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.checks import wait_until
from harness.pgcluster import PgCluster
from harness.result import RunResult
from harness.runner import start_runner
from mssql import mssql_env, mssql_uri
from tds.server import TdsServer
from test_model_deployer import MODELS, V2_CHANGES, changes, columns, target

Run = Callable[..., RunResult]
SQL_UNITS = ("sql1", "sql2")


@pytest.fixture
def estate(pg: PgCluster) -> Iterator[dict[str, str]]:
    """Two databases behind the TDS server and one PostgreSQL database: {conn id: database}."""
    dbs = {
        u: pg.create_db(f"mdms_{u}_{secrets.token_hex(4)}") for u in (*SQL_UNITS, "pg1")
    }
    yield dbs
    for db in dbs.values():
        pg.drop_db(db)


def estate_env(pg: PgCluster, tds: TdsServer, estate: dict[str, str]) -> dict[str, str]:
    env = pg.conn_env("pg1", dbname=estate["pg1"])
    for unit in SQL_UNITS:
        env |= mssql_env(tds, estate[unit], conn_id=unit)
    return env


@pytest.fixture
def deployer(
    run_runner: Run, pg: PgCluster, tds: TdsServer, estate: dict[str, str]
) -> Run:
    """``deployer(mode, models, *flags, targets=every unit, env=None)``."""

    def run(
        mode: str,
        models: Path | str,
        *flags: str,
        targets: str = ",".join((*SQL_UNITS, "pg1")),
        env: dict[str, str] | None = None,
    ) -> RunResult:
        args = [mode, "--models", str(models), "--targets", targets]
        args += ["--connect-timeout", "3s", "--retries", "0", *flags]
        full_env = estate_env(pg, tds, estate) | (env or {})
        return run_runner("model-deployer", args, env=full_env, timeout=90)

    return run


def test_sql_server_deploy_change_then_nothing_to_do(
    deployer: Run, pg: PgCluster, estate: dict[str, str]
) -> None:
    first = deployer("apply", MODELS / "v1.yml")
    assert first.exit_code == 0, first
    for unit in (*SQL_UNITS, "pg1"):
        assert target(first, unit)["status"] == "success", first
    assert target(first, "sql1")["engine"] == "mssql"
    for unit in SQL_UNITS:
        assert columns(pg, estate[unit], "silver", "customer")[:4] == [
            "customer_id",
            "email",
            "country_code",
            "active",
        ]
    assert deployer("plan", MODELS / "v1.yml").result["targets_with_changes"] == 0

    plan = deployer("plan", MODELS / "v2.yml")
    assert plan.exit_code == 0, plan
    for unit in SQL_UNITS:
        assert changes(plan, unit) == V2_CHANGES, plan
    sql = [s for c in target(plan, "sql1")["changes"] for s in c["sql"]]
    assert "ALTER TABLE [bronze].[orders] ADD [channel] nvarchar(20) NULL" in sql, sql
    assert "channel" not in columns(
        pg, estate["sql1"], "bronze", "orders"
    )  # plan: nothing ran

    drift = deployer("drift", MODELS / "v2.yml")
    assert drift.exit_code == 1, drift
    assert target(drift, "sql2")["status"] == "failed"

    applied = deployer("apply", MODELS / "v2.yml")
    assert applied.exit_code == 0, applied
    for unit in SQL_UNITS:
        assert "channel" in columns(pg, estate[unit], "bronze", "orders")
        assert columns(pg, estate[unit], "gold", "daily_sales") == ["day", "total"]
    again = deployer("plan", MODELS / "v2.yml")
    assert again.exit_code == 0, again
    for unit in (*SQL_UNITS, "pg1"):
        assert changes(again, unit) == [], again
    assert deployer("drift", MODELS / "v2.yml").exit_code == 0


def test_sql_server_render_run_by_sqlserver_runner_equals_apply(
    deployer: Run,
    run_runner: Run,
    tds: TdsServer,
    estate: dict[str, str],
    tmp_path: Path,
) -> None:
    """The reviewed script (render) run as a DBA would, with sqlserver-runner's GO batches in one
    transaction, gives the same database as apply: drift finds nothing on either."""
    rendered = run_runner(
        "model-deployer",
        ["render", "--models", str(MODELS / "v2.yml"), "--engine", "mssql"],
    )
    assert rendered.exit_code == 0, rendered
    script = tmp_path / "v2.sql"
    script.write_text("\n".join(rendered.data_lines()) + "\n")
    ran = run_runner(
        "sqlserver-runner",
        ["run", "--conn", "mssql", str(script)],
        env=mssql_env(tds, estate["sql2"]),
    )
    assert ran.exit_code == 0, ran
    assert deployer("apply", MODELS / "v2.yml", targets="sql1").exit_code == 0
    drift = deployer("drift", MODELS / "v2.yml", targets="sql1,sql2")
    assert drift.exit_code == 0, drift


def test_sql_server_destructive_change_refused(
    deployer: Run, pg: PgCluster, estate: dict[str, str], tmp_path: Path
) -> None:
    assert deployer("apply", MODELS / "v1.yml", targets="sql1").exit_code == 0
    smaller = tmp_path / "smaller.yml"
    smaller.write_text(
        (MODELS / "v1.yml")
        .read_text()
        .replace("      - {name: payload, type: json}\n", "")
    )
    refused = deployer("apply", smaller, targets="sql1")
    assert refused.exit_code == 1, refused
    assert "drop_column bronze.orders.payload" in target(refused, "sql1")["error"]
    assert "payload" in columns(pg, estate["sql1"], "bronze", "orders")
    allowed = deployer("apply", smaller, "--allow-destructive", targets="sql1")
    assert allowed.exit_code == 0, allowed
    assert "payload" not in columns(pg, estate["sql1"], "bronze", "orders")


def test_sql_server_type_default_and_drops_follow_its_rules(
    deployer: Run, pg: PgCluster, estate: dict[str, str], tmp_path: Path
) -> None:
    """SQL Server's rules: a default constraint is dropped before its column's type changes or
    the column goes; a temporal table is unlinked from its history before both are dropped."""
    assert deployer("apply", MODELS / "v1.yml", targets="sql1").exit_code == 0
    v1 = (MODELS / "v1.yml").read_text()
    country = v1[
        v1.index("  - schema: silver\n    table: country") : v1.index(
            "  - schema: silver\n    table: customer"
        )
    ]
    v3 = tmp_path / "v3.yml"
    v3.write_text(
        v1.replace(country, "")
        .replace(
            'type: "decimal(12,2)", nullable: false, default: 0}',
            'type: "decimal(14,2)", nullable: false, default: 1}',
        )
        .replace("      - {name: active, type: bool, default: true}\n", "")
    )
    plan = deployer("plan", v3, targets="sql1")
    assert plan.exit_code == 0, plan
    assert set(changes(plan, "sql1")) == {
        ("alter_type", "bronze.orders.amount"),
        ("set_default", "bronze.orders.amount"),
        ("drop_column", "silver.customer.active"),
        ("drop_table", "silver.country"),
    }, plan
    assert deployer("apply", v3, targets="sql1").exit_code == 1  # destructive: drops
    applied = deployer("apply", v3, "--allow-destructive", targets="sql1")
    assert applied.exit_code == 0, applied
    db = estate["sql1"]
    assert "active" not in columns(pg, db, "silver", "customer")
    assert not columns(pg, db, "silver", "country")
    assert not columns(pg, db, "silver", "country_history")
    (amount,) = pg.sql(
        "SELECT numeric_precision, column_default FROM information_schema.columns "
        "WHERE table_name = 'orders' AND column_name = 'amount'",
        dbname=db,
    )
    assert amount[0] == 14 and amount[1] is not None
    assert changes(deployer("plan", v3, targets="sql1"), "sql1") == []


def test_sql_server_drift_lists_what_differs(
    deployer: Run,
    pg: PgCluster,
    estate: dict[str, str],
    run_runner: Run,
    tds: TdsServer,
) -> None:
    assert deployer("apply", MODELS / "v1.yml", targets="sql1").exit_code == 0
    changed = run_runner(
        "sqlserver-runner",
        [
            "run",
            "--conn",
            "mssql",
            "-c",
            "ALTER TABLE [bronze].[orders] ADD [note] nvarchar(10) NULL",
        ],
        env=mssql_env(tds, estate["sql1"]),
    )
    assert changed.exit_code == 0, changed
    drift = deployer("drift", MODELS / "v1.yml", targets="sql1")
    assert drift.exit_code == 1, drift
    assert changes(drift, "sql1") == [("drop_column", "bronze.orders.note")]


def test_sql_server_reference_table_keeps_history(
    deployer: Run, estate: dict[str, str], run_runner: Run, tds: TdsServer
) -> None:
    assert deployer("apply", MODELS / "v1.yml", targets="sql1").exit_code == 0
    env = mssql_env(tds, estate["sql1"])

    def tsql(sql: str) -> RunResult:
        result = run_runner(
            "sqlserver-runner", ["run", "--conn", "mssql", "-c", sql], env=env
        )
        assert result.exit_code == 0, result
        return result

    def rows(sql: str) -> list[dict[str, Any]]:
        out = run_runner(
            "sqlserver-runner",
            ["query", "--conn", "mssql", "--format", "ndjson", sql],
            env=env,
        )
        assert out.exit_code == 0, out
        return [json.loads(line) for line in out.data_lines()]

    tsql("INSERT INTO [silver].[country] ([code], [name]) VALUES (N'NL', N'Holland')")
    (before,) = rows(
        "SELECT [valid_from], [updated_at], [created_by] FROM [silver].[country]"
    )
    time.sleep(0.05)
    tsql("UPDATE [silver].[country] SET [name] = N'Netherlands' WHERE [code] = N'NL'")
    (now,) = rows("SELECT [name], [valid_from], [updated_at] FROM [silver].[country]")
    history = rows(
        "SELECT [code], [name], [valid_from], [valid_to] FROM [silver].[country_history]"
    )
    assert before["created_by"] == "tinyrun"
    # The touch trigger's own UPDATE, in the same transaction, leaves a zero-length version (as
    # SQL Server does); FOR SYSTEM_TIME queries skip those. The real versions:
    versions = [h for h in history if h["valid_from"] != h["valid_to"]]
    assert [(h["code"], h["name"]) for h in versions] == [("NL", "Holland")], history
    assert versions[0]["valid_from"] == before["valid_from"]
    assert versions[0]["valid_to"] == now["valid_from"]
    assert now["name"] == "Netherlands" and now["valid_from"] > before["valid_from"]
    assert now["updated_at"] > before["updated_at"]  # the touch trigger ran


def test_sql_server_target_down_others_applied(
    deployer: Run, pg: PgCluster, tds: TdsServer, estate: dict[str, str]
) -> None:
    down = {"AIRFLOW_CONN_DOWN": mssql_uri(tds, "x", port=1)}
    result = deployer("apply", MODELS / "v1.yml", targets="sql1,down,pg1", env=down)
    assert result.exit_code == 75, result
    assert target(result, "down")["status"] == "temporary_error"
    assert (
        target(result, "sql1")["status"] == target(result, "pg1")["status"] == "success"
    )
    assert columns(pg, estate["sql1"], "silver", "country")

    refused = {"AIRFLOW_CONN_BADPW": mssql_uri(tds, estate["sql2"], password="wrong")}
    result = deployer("plan", MODELS / "v1.yml", targets="badpw,sql1", env=refused)
    assert result.exit_code == 1, result  # a refused login is not temporary
    assert target(result, "badpw")["exit_code"] == 3, result
    assert target(result, "sql1")["status"] == "success"


def test_sql_server_sigterm_while_blocked_leaves_target_unchanged(
    deployer: Run, pg: PgCluster, tds: TdsServer, estate: dict[str, str], bin_dir: Path
) -> None:
    assert deployer("apply", MODELS / "v1.yml", targets="sql1").exit_code == 0
    holder = pg.connect(estate["sql1"])
    holder.autocommit = False
    with holder.cursor() as cur:  # the backing table: apply's ALTER waits for it
        cur.execute("LOCK TABLE bronze.orders IN ACCESS EXCLUSIVE MODE")
    args = ["apply", "--models", str(MODELS / "v2.yml"), "--targets", "sql1"]
    args += ["--lock-timeout", "60s", "--retries", "0"]
    proc = start_runner(
        "model-deployer", args, env=estate_env(pg, tds, estate), bin_dir=bin_dir
    )
    try:
        wait_until(
            lambda: pg.activity(
                "wait_event_type = 'Lock' AND datname = %s", (estate["sql1"],)
            ),
            timeout=30,
        )
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        result = proc.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 143, result
    assert took < 5, result
    assert "channel" not in columns(pg, estate["sql1"], "bronze", "orders")
    assert not columns(pg, estate["sql1"], "gold", "daily_sales")
