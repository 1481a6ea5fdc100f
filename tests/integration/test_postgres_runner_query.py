"""postgres-runner query: CSV and NDJSON to stdout or a file, --header, --null, and streaming a
large result in bounded memory (peak RSS of the runner process itself)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.checks import assert_fails, assert_ok
from harness.pgcluster import PgCluster
from harness.result import RunResult

Runner = Callable[..., RunResult]

SAMPLE = (
    "SELECT * FROM (VALUES (1, 'plain', 1.5::numeric, true), "
    "(2, 'comma, \"quote\"' || chr(10) || 'newline', NULL, false), "
    "(3, NULL, 0, NULL)) AS v(id, txt, num, flag) ORDER BY id"
)
ROWS_1M = 1_000_000
BIG = f"SELECT g AS id, md5(g::text) AS hash FROM generate_series(1, {ROWS_1M}) g"
#: A streaming runner needs a few MB; one that holds the result needs well over 60 MB here.
RSS_LIMIT_KB = 32 * 1024


def test_csv_to_stdout(postgres_runner: Runner, pg: PgCluster) -> None:
    result = postgres_runner(
        ["query", "--conn", "pg", "--format", "csv", SAMPLE], env=pg.conn_env()
    )
    res = assert_ok(result)
    data = result.stdout[: result.stdout.rindex(result.last_line)]
    rows = list(csv.reader(io.StringIO(data)))
    assert rows == [
        ["1", "plain", "1.5", "t"],
        ["2", 'comma, "quote"\nnewline', "", "f"],
        ["3", "", "0", ""],
    ], result
    assert res.get("rows") in (None, 3), res


def test_csv_header_and_null(postgres_runner: Runner, pg: PgCluster) -> None:
    result = postgres_runner(
        ["query", "--conn", "pg", "--format", "csv", "--header", "--null", "NULL", SAMPLE],
        env=pg.conn_env(),
    )
    assert_ok(result)
    data = result.stdout[: result.stdout.rindex(result.last_line)]
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[0] == ["id", "txt", "num", "flag"], result
    assert rows[2][2] == "NULL" and rows[3][1] == "NULL" and rows[3][3] == "NULL", result


def test_ndjson(postgres_runner: Runner, pg: PgCluster) -> None:
    result = postgres_runner(
        ["query", "--conn", "pg", "--format", "ndjson", SAMPLE], env=pg.conn_env()
    )
    assert_ok(result)
    rows = [json.loads(line) for line in result.data_lines()]
    assert [list(r) for r in rows] == [["id", "txt", "num", "flag"]] * 3, result
    assert [str(r["id"]) for r in rows] == ["1", "2", "3"]
    assert rows[1]["txt"] == 'comma, "quote"\nnewline'
    assert rows[1]["num"] is None and rows[2]["txt"] is None and rows[2]["flag"] is None


def test_output_file(postgres_runner: Runner, pg: PgCluster, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = postgres_runner(
        ["query", "--conn", "pg", "--format", "csv", "--output", str(out), SAMPLE],
        env=pg.conn_env(),
    )
    assert_ok(result)
    assert result.stdout.count("\n") == 1, f"only the result line belongs on stdout{result}"
    assert len(list(csv.reader(out.open()))) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_query_error_exit_1(postgres_runner: Runner, pg: PgCluster, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = postgres_runner(
        [
            "query",
            "--conn",
            "pg",
            "--output",
            str(out),
            "SELECT 1/(g - 3) FROM generate_series(1, 5) g",
        ],
        env=pg.conn_env(),
    )
    assert_fails(result, 1)


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
@pytest.mark.parametrize("dest", ["stdout", "output"])
def test_large_result_streams_in_bounded_memory(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path, fmt: str, dest: str
) -> None:
    out = tmp_path / "rows"
    args = ["query", "--conn", "pg", "--format", fmt]
    if dest == "output":
        result = postgres_runner([*args, "--output", str(out), BIG], env=pg.conn_env(), timeout=300)
        data_path = out
        extra_lines = 0
    else:
        result = postgres_runner([*args, BIG], env=pg.conn_env(), stdout_path=out, timeout=300)
        data_path = out
        extra_lines = 1  # the result line
    assert_ok(result)
    assert result.max_rss_kb is not None
    assert (
        result.max_rss_kb < RSS_LIMIT_KB
    ), f"peak RSS {result.max_rss_kb} kB streaming {ROWS_1M} rows{result}"
    with open(data_path, "rb") as f:
        first = f.readline()
        lines = 1 + sum(1 for _ in f)
    assert lines == ROWS_1M + extra_lines
    if fmt == "csv":
        assert first == b"1,c4ca4238a0b923820dcc509a6f75849b\n"
    else:
        row = json.loads(first)
        assert str(row["id"]) == "1" and row["hash"] == "c4ca4238a0b923820dcc509a6f75849b"
