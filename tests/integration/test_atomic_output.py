"""The one atomic file writer (common/fsutil.c) as users meet it: two runners writing the same
--output at once, each as PID 1 of its own PID namespace (as in two containers sharing a
volume), leave one complete file from one of them, never a mix of both, and no temporary file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from harness.checks import assert_ok
from harness.pgcluster import PgCluster
from harness.process import Process
from harness.runner import clean_env, runner_path

ROWS = 300_000


def query(tag: str) -> str:
    return f"SELECT '{tag}' || g AS v FROM generate_series(1, {ROWS}) g"


def expected(tag: str) -> str:
    return "v\n" + "".join(f"{tag}{g}\n" for g in range(1, ROWS + 1))


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_two_runners_as_pid1_write_one_output(
    pg: PgCluster, bin_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.csv"
    runner = str(runner_path("postgres-runner", bin_dir))
    procs = [
        Process(
            [
                "unshare",
                "--pid",
                "--fork",
                runner,
                "query",
                "--conn",
                "pg",
                "--header",
                "--output",
                str(out),
                query(tag),
            ],
            clean_env(pg.conn_env()),
        )
        for tag in ("a", "b")
    ]
    results = [p.wait(timeout=60) for p in procs]
    for r in results:
        assert_ok(r)
    text = out.read_text()
    assert text in (expected("a"), expected("b")), (
        f"the output mixes both runners' bytes ({len(text)} bytes)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"], (
        "a temporary file was left"
    )
