"""dbt-runner against real dbt-core + dbt-postgres (build/venv-dbt) and the harness PostgreSQL.

Each test runs the binary with a clean environment (PATH and the connection only) on a fresh copy
of tests/dbt/project in a fresh database, and asserts on the exit code, the result line and the
database: the tables dbt built, and pg_stat_activity after a SIGTERM."""

from __future__ import annotations

import json
import re
import secrets
import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dbt_project import DBT_VERSION, assert_streams, copy_project, dbt_path, runner_logs
from harness.checks import wait_until
from harness.pgcluster import PgCluster
from harness.result import RunResult
from harness.runner import start_runner

BASE = {"success": 0, "error": 0, "fail": 0, "warn": 0, "skipped": 0}
FAILING_TEST = "test.tinyrun_test.tiers_are_known"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
def workdir(open_tmp: Path) -> Path:
    path = open_tmp / "work"
    path.mkdir()
    return path


@pytest.fixture
def env(pg: PgCluster, pg_db: str) -> dict[str, str]:
    return pg.conn_env("warehouse", dbname=pg_db)


@pytest.fixture
def dbt_runner(
    run_runner: Callable[..., RunResult], project: Path, workdir: Path, env: dict[str, str]
) -> Callable[..., RunResult]:
    """``dbt_runner(*args, env=...)``: dbt-runner --workdir W ARGS --conn warehouse --project-dir P."""

    def run(*args: str, extra_env: dict[str, str] | None = None, **kwargs: Any) -> RunResult:
        argv = ["--workdir", str(workdir), *args, "--dbt", str(dbt_path())]
        argv += ["--conn", "warehouse", "--project-dir", str(project)]
        return run_runner("dbt-runner", argv, env=env | (extra_env or {}), timeout=180, **kwargs)

    return run


def counts(**nonzero: int) -> dict[str, int]:
    return BASE | nonzero


def test_build_counts_every_node_and_names_the_failing_test(
    dbt_runner: Callable[..., RunResult], pg: PgCluster, pg_db: str, workdir: Path
) -> None:
    result = dbt_runner("build")
    r = assert_streams(result)
    assert result.exit_code == 1, result
    # seed, 4 models (tier_report skipped behind the failing test), snapshot, 3 tests
    assert r["counts"] == counts(success=7, fail=1, skipped=1), result
    assert r["nodes"] == 9
    assert len(r["failing_nodes"]) == 1, result
    assert r["failing_nodes"][0]["unique_id"].startswith(FAILING_TEST + "."), result
    assert r["failing_nodes"][0]["message"] == "Got 1 result, configured to fail if != 0"
    assert r["dbt_version"] == DBT_VERSION and r["dbt_exit_code"] == 1 and r["command"] == "build"
    assert re.fullmatch(r"[0-9a-f-]{36}", r["invocation_id"]), result
    assert r["elapsed_s"] > 0 and r["status"] == "failed" and r["exit_code"] == 1
    assert [e["level"] for e in runner_logs(result)].count("error") == 1, result
    # what dbt built, in the connection's database, schema public
    assert pg.sql("SELECT count(*) FROM public.customers", dbname=pg_db) == [(3,)]
    assert pg.sql("SELECT sum(customers) FROM public.customer_tiers", dbname=pg_db) == [(3,)]
    assert pg.sql("SELECT to_regclass('public.tier_report')", dbname=pg_db) == [(None,)]
    assert pg.sql("SELECT count(*) FROM public.customers_snapshot", dbname=pg_db) == [(3,)]
    assert list(workdir.iterdir()) == [], "the private folder was not removed"


def test_compile_error_exits_2(dbt_runner: Callable[..., RunResult], project: Path) -> None:
    (project / "models" / "broken.sql").write_text("select {{ ref('stg_customers' }}\n")
    result = dbt_runner("run")
    r = assert_streams(result)
    assert result.exit_code == 2, result
    assert r["dbt_exit_code"] == 2 and r["status"] == "usage_error" and "counts" not in r, result


def test_seed_snapshot_freshness_compile_and_docs(dbt_runner: Callable[..., RunResult], open_tmp: Path) -> None:
    artifacts = open_tmp / "artifacts"
    artifacts.mkdir()
    (artifacts / "run_results.json").write_text("old")
    seed = dbt_runner("seed", "--full-refresh", "--artifacts", str(artifacts))
    assert seed.exit_code == 0 and assert_streams(seed)["counts"] == counts(success=1), seed
    # --artifacts: whole files, replaced atomically, nothing else left there
    run_results = json.loads((artifacts / "run_results.json").read_text())
    assert run_results["metadata"]["invocation_id"] == seed.result["invocation_id"]
    assert "nodes" in json.loads((artifacts / "manifest.json").read_text())
    assert sorted(p.name for p in artifacts.iterdir()) == ["manifest.json", "run_results.json"]
    assert assert_streams(dbt_runner("snapshot"))["counts"] == counts(success=1)
    fresh = dbt_runner("source", "freshness")
    assert fresh.exit_code == 0 and assert_streams(fresh)["counts"] == counts(success=1), fresh
    compiled = dbt_runner("compile", "--select", "slow", "--vars", "{sleep_seconds: 3}")
    assert compiled.exit_code == 0 and assert_streams(compiled)["counts"] == counts(success=1), compiled
    docs = dbt_runner("docs", "generate", "--artifacts", str(artifacts))
    assert docs.exit_code == 0, docs
    assert sorted(assert_streams(docs)["artifacts"]) == ["catalog.json", "manifest.json", "run_results.json"]
    catalog = json.loads((artifacts / "catalog.json").read_text())
    assert any(k.endswith(".customers") for k in catalog["nodes"]), "the catalog misses the seed table"


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.mark.parametrize("command", ["run", "build"])
def test_sigterm_cancels_the_query_and_exits_143(
    command: str, pg: PgCluster, pg_db: str, project: Path, workdir: Path, env: dict[str, str]
) -> None:
    marker = f"dbt{secrets.token_hex(4)}"
    argv = ["--workdir", str(workdir), command, "--conn", "warehouse", "--project-dir", str(project)]
    argv += ["--dbt", str(dbt_path()), "--select", "slow", "--vars", "{sleep_seconds: 300}"]
    proc = start_runner("dbt-runner", argv, env | {"TINYRUN_DAG_ID": marker})

    def sleeping() -> list[tuple]:
        return pg.activity("application_name LIKE %s AND query LIKE %s", (f"%{marker}%", "%pg_sleep%"))

    try:
        wait_until(sleeping, timeout=240, interval=0.2)
    except TimeoutError:
        proc.send_signal(signal.SIGKILL)
        pytest.fail(f"dbt never reached pg_sleep{proc.wait(30)}")
    # while dbt runs: a private folder with profiles.yml, and the password in no file there
    (folder,) = workdir.iterdir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    profile = folder / "profiles.yml"
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    assert "{{ env_var('DBT_ENV_SECRET_PASSWORD') }}" in profile.read_text()
    files = files_under(folder)
    assert len(files) > 3, files  # profiles.yml, dbt's log, manifest, compiled SQL
    for f in files:
        assert pg.password.encode() not in f.read_bytes(), f"the password is in {f}"
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    result = proc.wait(timeout=30)
    took = time.monotonic() - sent
    assert result.exit_code == 143, result
    assert took < 5, f"took {took:.1f}s after SIGTERM{result}"
    assert not sleeping(), f"the pg_sleep query outlived dbt-runner{result}"
    wait_until(lambda: not pg.activity("application_name LIKE %s", (f"%{marker}%",)), timeout=3)
    r = assert_streams(result)
    assert r["status"] == "signalled" and r["exit_code"] == 143, result
    assert r["dbt_exit_code"] == 2, result  # dbt's own after KeyboardInterrupt
    assert pg.password not in result.stdout + result.stderr
    assert list(workdir.iterdir()) == []


def test_password_in_no_output_line_even_when_login_fails(
    dbt_runner: Callable[..., RunResult], pg: PgCluster, pg_db: str
) -> None:
    ok = dbt_runner("debug")
    assert ok.exit_code == 0 and assert_streams(ok)["status"] == "success", ok
    wrong = "Wr0ng-" + secrets.token_hex(6)
    bad_env = pg.conn_env("warehouse", dbname=pg_db, password=wrong)
    bad = dbt_runner("debug", extra_env=bad_env)
    assert bad.exit_code == 1, bad
    for result, secret in ((ok, pg.password), (bad, wrong)):
        assert secret not in result.stdout and secret not in result.stderr, result


def our_error(result: RunResult, code: int) -> str:
    """Exit CODE, one error line of ours, the result line; the error's message."""
    assert result.exit_code == code, result
    errors = [e for e in runner_logs(result) if e["level"] == "error"]
    assert len(errors) == 1, result
    assert result.result is not None and result.result["exit_code"] == code, result
    return str(errors[0]["msg"])


def test_unknown_connection_type_lists_the_supported(
    dbt_runner: Callable[..., RunResult], workdir: Path
) -> None:
    result = dbt_runner("run", extra_env={"AIRFLOW_CONN_WAREHOUSE": "mysql://u:pw@db/x"})
    msg = our_error(result, 2)
    assert "mysql" in msg and "postgres, mssql" in msg
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--threads", "many"],
        ["run", "--no-such-flag"],
        ["debug", "--select", "slow"],
        ["test", "--full-refresh"],
        ["frobnicate"],
        ["docs", "serve"],
        ["run", "--artifacts", "/nonexistent/folder"],
    ],
    ids=["threads", "unknown-flag", "select-on-debug", "full-refresh-on-test", "command", "docs-serve", "artifacts"],
)
def test_bad_flags_exit_2(run_runner: Callable[..., RunResult], project: Path, env: dict[str, str], args: list[str]) -> None:
    argv = [*args, "--conn", "warehouse", "--project-dir", str(project), "--dbt", str(dbt_path())]
    our_error(run_runner("dbt-runner", argv, env=env), 2)


def test_missing_connection_project_or_dbt_exit_2(
    run_runner: Callable[..., RunResult], project: Path, env: dict[str, str], tmp_path: Path
) -> None:
    dbt = str(dbt_path())
    no_conn = run_runner("dbt-runner", ["run", "--project-dir", str(project), "--dbt", dbt], env=env)
    assert "--conn" in our_error(no_conn, 2)
    unset = run_runner("dbt-runner", ["run", "--conn", "other", "--project-dir", str(project), "--dbt", dbt], env=env)
    assert "AIRFLOW_CONN_OTHER" in our_error(unset, 2)
    missing = tmp_path / "no-project"
    no_project = run_runner("dbt-runner", ["run", "--conn", "warehouse", "--project-dir", str(missing)], env=env)
    assert str(missing) in our_error(no_project, 2)
    (tmp_path / "empty").mkdir()
    empty = run_runner("dbt-runner", ["run", "--conn", "warehouse", "--project-dir", str(tmp_path / "empty")], env=env)
    assert "dbt_project.yml" in our_error(empty, 2)
    no_dbt = run_runner(
        "dbt-runner", ["run", "--conn", "warehouse", "--project-dir", str(project), "--dbt", "/nonexistent/dbt"], env=env
    )
    assert "/nonexistent/dbt" in our_error(no_dbt, 2)
