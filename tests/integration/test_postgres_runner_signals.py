"""SIGTERM in every postgres-runner command, and when the server stops answering.

Each case stops the runner while it waits on the server (blocked behind a lock the test holds,
waiting for input on stdin, or talking to a backend that was SIGSTOPped) and asserts the
contract: exit 143 in under 5 s, a result line, and nothing of the run left in
pg_stat_activity."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.checks import wait_until
from harness.pgcluster import PgCluster
from harness.process import Process, StdinSource
from harness.result import RunResult
from harness.runner import start_runner


def run_env(pg: PgCluster, db: str) -> tuple[dict[str, str], str]:
    """The connection env plus a run identity that marks our backends' application_name."""
    marker = f"sig{secrets.token_hex(4)}"
    return pg.conn_env(dbname=db) | {"TINYRUN_DAG_ID": marker}, marker


def ours(pg: PgCluster, marker: str, where: str = "true") -> list[tuple]:
    return pg.activity(f"application_name LIKE %s AND ({where})", (f"%{marker}%",))


def stop_and_measure(proc: Process) -> tuple[RunResult, float]:
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    result = proc.wait(timeout=30)
    return result, time.monotonic() - sent


def assert_stopped(result: RunResult, took: float, pg: PgCluster, marker: str) -> None:
    assert result.exit_code == 143, result
    assert took < 5, f"took {took:.1f}s to stop after SIGTERM{result}"
    assert result.result is not None, f"no result line after SIGTERM{result}"
    try:
        wait_until(lambda: not ours(pg, marker), timeout=3)
    except TimeoutError:
        pytest.fail(f"the run's backend is still there 3 s after the exit{result}")


@contextlib.contextmanager
def holding_lock(pg: PgCluster, db: str, relation: str) -> Iterator[None]:
    """An ACCESS EXCLUSIVE lock on RELATION for the duration of the block."""
    conn = pg.connect(db)
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute(f"LOCK TABLE {relation} IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        conn.rollback()
        conn.close()


def start(
    args: list[str], env: dict[str, str], bin_dir: Path, stdin: StdinSource = None
) -> Process:
    return start_runner("postgres-runner", args, env=env, bin_dir=bin_dir, stdin=stdin)


@pytest.mark.parametrize("command", ["check", "copy-in", "copy-out", "run"])
def test_sigterm_while_waiting_for_a_lock(
    pg: PgCluster, pg_db: str, bin_dir: Path, tmp_path: Path, command: str
) -> None:
    pg.sql("CREATE TABLE t (id int)", dbname=pg_db, role="tinyrun")
    env, marker = run_env(pg, pg_db)
    data = tmp_path / "in.csv"
    data.write_text("1\n2\n")
    args, relation, stdin = {
        "check": (["check"], "pg_catalog.pg_stat_gssapi", None),
        "copy-in": (["copy", "in", "--table", "t"], "t", data),
        "copy-out": (
            ["copy", "out", "--table", "t", "--file", str(tmp_path / "o")],
            "t",
            None,
        ),
        "run": (["run", "-c", "INSERT INTO t VALUES (1)"], "t", None),
    }[command]
    with holding_lock(pg, pg_db, relation):
        proc = start([*args, "--conn", "pg"], env, bin_dir, stdin)
        with proc:
            wait_until(lambda: ours(pg, marker, "wait_event_type = 'Lock'"), timeout=15)
            result, took = stop_and_measure(proc)
    assert_stopped(result, took, pg, marker)
    assert pg.sql("SELECT count(*) FROM t", dbname=pg_db) == [(0,)]
    assert not (tmp_path / "o").exists()


def test_sigterm_while_copy_in_waits_for_stdin(
    pg: PgCluster, pg_db: str, bin_dir: Path, tmp_path: Path
) -> None:
    """A pipe that never ends (as from a stalled producer): the runner waits on stdin, not the
    server, and still stops at once; nothing is loaded."""
    pg.sql("CREATE TABLE t (id int)", dbname=pg_db, role="tinyrun")
    env, marker = run_env(pg, pg_db)
    fifo = tmp_path / "stdin"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR)  # keeps the pipe open: the reader never sees EOF
    try:
        os.write(writer, b"1\n2\n")
        proc = start(["copy", "in", "--conn", "pg", "--table", "t"], env, bin_dir, fifo)
        with proc:
            wait_until(lambda: ours(pg, marker, "query LIKE 'COPY%%'"), timeout=15)
            time.sleep(0.2)
            result, took = stop_and_measure(proc)
    finally:
        os.close(writer)
    assert_stopped(result, took, pg, marker)
    assert pg.sql("SELECT count(*) FROM t", dbname=pg_db) == [(0,)]


def postmaster_pid(pg: PgCluster) -> int:
    return int((pg.data / "postmaster.pid").read_text().split()[0])


@contextlib.contextmanager
def stopped(pids: list[int]) -> Iterator[None]:
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


@pytest.mark.parametrize("frozen", ["backend", "backend-and-postmaster"])
def test_sigterm_when_the_server_stops_answering(
    pg: PgCluster, pg_db: str, bin_dir: Path, frozen: str
) -> None:
    """The backend (and, in the second case, the postmaster that takes cancel requests) is
    SIGSTOPped mid-statement: the cancel gets 2 s, the rollback after the failure waits no
    longer than the stop's deadline, and the exit stays under 5 s."""
    env, marker = run_env(pg, pg_db)
    proc = start(["run", "--conn", "pg", "-c", "SELECT pg_sleep(60)"], env, bin_dir)
    with proc:
        rows: Any = wait_until(lambda: ours(pg, marker, "state = 'active'"), timeout=15)
        pids = [rows[0][0]] + ([postmaster_pid(pg)] if frozen != "backend" else [])
        with stopped(pids):
            result, took = stop_and_measure(proc)
    assert_stopped(result, took, pg, marker)
