"""SIGTERM and SIGINT in every sqlserver-runner command: while it logs in to a server that never
answers, and while the TDS server runs a long statement. The contract: exit 128+N in under
5 s, a result line, the server saw an ATTENTION, and nothing of the run is left running in
PostgreSQL (pg_stat_activity)."""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.checks import assert_fails, wait_until
from harness.net import SilentListener
from harness.pgcluster import PgCluster
from harness.process import Process
from harness.result import RunResult
from harness.runner import start_runner
from mssql import mssql_env
from tds.server import TdsServer

SLEEP = "WAITFOR DELAY '00:01:00'"


def run_env(tds: TdsServer, db: str, **kwargs: object) -> tuple[dict[str, str], str]:
    """The connection env plus a run identity that marks our sessions' application_name."""
    marker = f"sig{secrets.token_hex(4)}"
    return mssql_env(tds, db, **kwargs) | {"TINYRUN_DAG_ID": marker}, marker


def ours(pg: PgCluster, marker: str, where: str = "true") -> list[tuple]:
    return pg.activity(f"application_name LIKE %s AND ({where})", (f"%{marker}%",))


def stop_and_measure(
    proc: Process, sig: int = signal.SIGTERM
) -> tuple[RunResult, float]:
    sent = time.monotonic()
    proc.send_signal(sig)
    result = proc.wait(timeout=30)
    return result, time.monotonic() - sent


def assert_stopped(result: RunResult, took: float, code: int = 143) -> None:
    assert result.exit_code == code, result
    assert took < 5, f"took {took:.1f}s to stop after the signal{result}"
    assert result.result is not None, f"no result line after the signal{result}"
    assert result.result["status"] != "success", result


def start(args: list[str], env: dict[str, str], bin_dir: Path) -> Process:
    return start_runner("sqlserver-runner", args, env=env, bin_dir=bin_dir)


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_while_logging_in_to_a_silent_server(
    tds: TdsServer, bin_dir: Path, sig: int, code: int
) -> None:
    silent = SilentListener()
    try:
        env, _ = run_env(tds, "tinyrun", port=silent.port)
        proc = start(
            ["check", "--conn", "mssql", "--connect-timeout", "60s"], env, bin_dir
        )
        time.sleep(1.5)
        assert not proc.poll(), "the runner ended before the signal"
        assert_stopped(*stop_and_measure(proc, sig), code)
    finally:
        silent.close()


def assert_nothing_left(pg: PgCluster, marker: str, result: RunResult) -> None:
    try:
        wait_until(lambda: not ours(pg, marker, "state = 'active'"), timeout=3)
    except TimeoutError:
        pytest.fail(f"the run's statement is still running 3 s after the exit{result}")


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_waitfor_sends_attention_and_rolls_back(
    tds: TdsServer, pg: PgCluster, pg_db: str, bin_dir: Path, sig: int, code: int
) -> None:
    env, marker = run_env(tds, pg_db)
    sql = f"CREATE TABLE t (id int)\nINSERT INTO t VALUES (1)\nGO\n{SLEEP}\nGO\n"
    attentions = tds.attentions
    proc = start(["run", "--conn", "mssql", "-c", sql], env, bin_dir)
    wait_until(lambda: ours(pg, marker, "query LIKE '%%pg_sleep%%'"))
    result, took = stop_and_measure(proc, sig)
    assert_stopped(result, took, code)
    assert tds.attentions > attentions, "the server saw no ATTENTION"
    assert_nothing_left(pg, marker, result)
    tables = pg.sql("SELECT 1 FROM pg_tables WHERE tablename = 't'", dbname=pg_db)
    assert tables == [], "the first batch was not rolled back"


def test_statement_timeout_cancels_with_attention_and_exits_75(
    sqlserver_runner: Callable[..., RunResult],
    tds: TdsServer,
    pg: PgCluster,
    pg_db: str,
) -> None:
    env, marker = run_env(tds, pg_db)
    attentions = tds.attentions
    args = ["run", "--conn", "mssql", "--statement-timeout", "1s", "-c", SLEEP]
    started = time.monotonic()
    result = sqlserver_runner(args, env=env)
    assert "statement-timeout" in assert_fails(result, 75)["error"]
    assert time.monotonic() - started < 10
    assert tds.attentions > attentions
    assert_nothing_left(pg, marker, result)


@pytest.mark.parametrize("command", ["query", "copy-in", "copy-out"])
def test_sigterm_while_blocked_by_a_lock(
    tds: TdsServer,
    pg: PgCluster,
    pg_db: str,
    bin_dir: Path,
    tmp_path: Path,
    command: str,
) -> None:
    """query and copy wait behind a table lock the test holds; SIGTERM ends them the same way."""
    pg.sql("CREATE TABLE busy (id int)", dbname=pg_db, role="tinyrun")
    data = tmp_path / "in.csv"
    data.write_text("1\n2\n")
    args = {
        "query": ["query", "--conn", "mssql", "SELECT id FROM busy"],
        "copy-in": [
            "copy",
            "--conn",
            "mssql",
            "--table",
            "busy",
            "--file",
            str(data),
            "in",
        ],
        "copy-out": ["copy", "--conn", "mssql", "--table", "busy", "out"],
    }[command]
    env, marker = run_env(tds, pg_db)
    holder = pg.connect(pg_db)
    holder.autocommit = False
    try:
        holder.cursor().execute("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
        proc = start(args, env, bin_dir)
        wait_until(lambda: ours(pg, marker, "wait_event_type = 'Lock'"))
        result, took = stop_and_measure(proc)
        assert_stopped(result, took)
        assert_nothing_left(pg, marker, result)
    finally:
        holder.rollback()
        holder.close()
    assert pg.sql("SELECT count(*) FROM busy", dbname=pg_db) == [(0,)]
