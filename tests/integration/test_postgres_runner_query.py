"""postgres-runner query: CSV and NDJSON to stdout or a file, --header, --null, and streaming a
large result in bounded memory (peak RSS of the runner process itself)."""

from __future__ import annotations

import csv
import io
import json
import secrets
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.checks import assert_fails, assert_ok, wait_until
from harness.pgcluster import PgCluster
from harness.process import Process
from harness.result import RunResult
from harness.runner import start_runner

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
        [
            "query",
            "--conn",
            "pg",
            "--format",
            "csv",
            "--header",
            "--null",
            "NULL",
            SAMPLE,
        ],
        env=pg.conn_env(),
    )
    assert_ok(result)
    data = result.stdout[: result.stdout.rindex(result.last_line)]
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[0] == ["id", "txt", "num", "flag"], result
    assert rows[2][2] == "NULL" and rows[3][1] == "NULL" and rows[3][3] == "NULL", (
        result
    )


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
    assert result.stdout.count("\n") == 1, (
        f"only the result line belongs on stdout{result}"
    )
    assert len(list(csv.reader(out.open()))) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_query_error_exit_1(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
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
        result = postgres_runner(
            [*args, "--output", str(out), BIG], env=pg.conn_env(), timeout=300
        )
        data_path = out
        extra_lines = 0
    else:
        result = postgres_runner(
            [*args, BIG], env=pg.conn_env(), stdout_path=out, timeout=300
        )
        data_path = out
        extra_lines = 1  # the result line
    assert_ok(result)
    assert result.max_rss_kb is not None
    assert result.max_rss_kb < RSS_LIMIT_KB, (
        f"peak RSS {result.max_rss_kb} kB streaming {ROWS_1M} rows{result}"
    )
    with open(data_path, "rb") as f:
        first = f.readline()
        lines = 1 + sum(1 for _ in f)
    assert lines == ROWS_1M + extra_lines
    if fmt == "csv":
        assert first == b"1,c4ca4238a0b923820dcc509a6f75849b\n"
    else:
        row = json.loads(first)
        assert (
            str(row["id"]) == "1" and row["hash"] == "c4ca4238a0b923820dcc509a6f75849b"
        )


def data_rows(result: RunResult, fmt: str) -> list[list[str]]:
    """The rows a successful query wrote to stdout, as lists of strings (NDJSON values are
    printed back as text, so both formats compare alike)."""
    if fmt == "csv":
        data = result.stdout[: result.stdout.rindex(result.last_line)]
        return list(csv.reader(io.StringIO(data)))
    return [[str(v) for v in json.loads(line).values()] for line in result.data_lines()]


#: One statement, however it ends: the wrapper around it must not change its meaning.
ENDINGS = {
    "dash_comment": "SELECT 1 AS x -- the end",
    "dash_comment_then_semicolon": "SELECT 1 AS x -- the end\n;",
    "dash_comment_with_semicolon": "SELECT 1 AS x -- a; b; c)",
    "semicolon": "SELECT 1 AS x;",
    "semicolons": "SELECT 1 AS x;; ;\n;",
    "semicolon_then_comment": "SELECT 1 AS x; -- done",
    "block_comment": "SELECT 1 AS x /* ) */",
    "nested_block_comment_then_semicolon": "SELECT 1 AS x /* a /* b */ ) */ ;",
    "whitespace": "SELECT 1 AS x \n\t \r\n",
    "several": "-- first\nSELECT 1 AS x -- one\n/* two */ -- three\n ; ; -- four\n/* five */\n",
    "string_with_dashes": "SELECT '-- not a comment' AS x -- a comment",
}


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
@pytest.mark.parametrize("sql", ENDINGS.values(), ids=ENDINGS.keys())
def test_statement_endings(
    postgres_runner: Runner, pg: PgCluster, fmt: str, sql: str
) -> None:
    # "--" ends the flags, so SQL that starts with a comment is not taken for a flag.
    result = postgres_runner(
        ["query", "--conn", "pg", "--format", fmt, "--", sql], env=pg.conn_env()
    )
    assert_ok(result)
    expected = "-- not a comment" if "not a comment" in sql else "1"
    assert data_rows(result, fmt) == [[expected]], result


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_sql_file_ending_in_a_comment(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path, fmt: str
) -> None:
    sql = tmp_path / "report.sql"
    sql.write_text(
        "SELECT g AS n\nFROM generate_series(1, 3) g\nORDER BY g -- the end, and no newline"
    )
    result = postgres_runner(
        ["query", "--conn", "pg", "--format", fmt, "--sql-file", str(sql)],
        env=pg.conn_env(),
    )
    assert_ok(result)
    assert data_rows(result, fmt) == [["1"], ["2"], ["3"]], result


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; SELECT 2",
        "SELECT 1;\n-- and\nSELECT 2;",
        "SELECT 1 AS x; CREATE TABLE t (x int)",
    ],
    ids=["two", "two_with_comment", "select_then_ddl"],
)
def test_two_statements_exit_2(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, fmt: str, sql: str
) -> None:
    result = postgres_runner(
        ["query", "--conn", "pg", "--format", fmt, sql], env=pg.conn_env(dbname=pg_db)
    )
    res = assert_fails(result, 2)
    assert res.get("rows") is None, "nothing may run"
    assert not result.data_lines(), result
    assert not pg.sql("SELECT 1 FROM pg_tables WHERE tablename = 't'", dbname=pg_db)


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
@pytest.mark.parametrize(
    "sql",
    ["", "  \n\t", ";", " ; ;", "-- only a comment", "/* only */ ;\n-- comments\n"],
)
def test_empty_query_exit_2(
    postgres_runner: Runner, pg: PgCluster, fmt: str, sql: str
) -> None:
    result = postgres_runner(
        ["query", "--conn", "pg", "--format", fmt, "--", sql], env=pg.conn_env()
    )
    assert_fails(result, 2)
    assert not result.data_lines(), result


def test_empty_sql_file_exit_2(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.sql"
    empty.write_text("-- nothing here\n")
    result = postgres_runner(
        ["query", "--conn", "pg", "--sql-file", str(empty)], env=pg.conn_env()
    )
    assert_fails(result, 2)


def test_null_text_not_in_the_client_encoding_exit_2(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    # "\udcc3" is the lone byte 0xc3 on the command line: half a UTF-8 character, which
    # PQescapeLiteral refuses.
    out = tmp_path / "out.csv"
    result = postgres_runner(
        ["query", "--conn", "pg", "--null", "\udcc3", "--output", str(out), "SELECT 1"],
        env=pg.conn_env(),
    )
    assert_fails(result, 2)
    assert list(tmp_path.iterdir()) == []


def stop_with_sigterm(proc: Process, pg: PgCluster, marker: str) -> RunResult:
    """SIGTERM PROC; it must exit 143 within 5 s with a result line, and leave nothing of
    ours running on the server."""
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    result = proc.wait(timeout=15)
    took = time.monotonic() - sent
    assert result.exit_code == 143, result
    assert took < 5, f"took {took:.1f}s to stop after SIGTERM{result}"
    assert result.result is not None, f"no result line after SIGTERM{result}"
    assert result.result.get("status") != "success", result
    wait_until(lambda: not pg.activity("query LIKE %s", (f"%{marker}%",)), timeout=2)
    return result


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_sigterm_while_the_server_works(pg: PgCluster, bin_dir: Path, fmt: str) -> None:
    marker = f"q_{secrets.token_hex(4)}"
    sql = f"SELECT pg_sleep(60) AS {marker}"
    proc = start_runner(
        "postgres-runner",
        ["query", "--conn", "pg", "--format", fmt, sql],
        env=pg.conn_env(),
        bin_dir=bin_dir,
    )
    with proc:
        wait_until(
            lambda: pg.activity("state = 'active' AND query LIKE %s", (f"%{marker}%",)),
            timeout=15,
        )
        result = stop_with_sigterm(proc, pg, marker)
    assert result.data_lines() == [], result


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_sigterm_mid_stream_leaves_no_file(
    pg: PgCluster, bin_dir: Path, tmp_path: Path, fmt: str
) -> None:
    marker = f"q_{secrets.token_hex(4)}"
    # generate_series in the select list streams (in FROM it would be materialized first).
    sql = f"SELECT n AS {marker}, md5(n::text) FROM (SELECT generate_series(1, 2000000000) n) s"
    out = tmp_path / "out"
    out.mkdir()
    proc = start_runner(
        "postgres-runner",
        ["query", "--conn", "pg", "--format", fmt, "--output", str(out / "rows"), sql],
        env=pg.conn_env(),
        bin_dir=bin_dir,
    )
    with proc:
        wait_until(
            lambda: sum(f.stat().st_size for f in out.iterdir()) > 1 << 20, timeout=30
        )
        stop_with_sigterm(proc, pg, marker)
    assert list(out.iterdir()) == [], "a stopped query must leave no output file"


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_insert_returning_runs_once(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, fmt: str
) -> None:
    """NDJSON describes the statement before it streams it: the description must not run it."""
    pg.sql("CREATE TABLE t (x int)", dbname=pg_db, role="tinyrun")
    sql = "INSERT INTO t SELECT g FROM generate_series(1, 3) g RETURNING x"
    result = postgres_runner(
        ["query", "--conn", "pg", "--format", fmt, sql], env=pg.conn_env(dbname=pg_db)
    )
    assert_ok(result)
    assert data_rows(result, fmt) == [["1"], ["2"], ["3"]], result
    assert pg.sql("SELECT x FROM t ORDER BY x", dbname=pg_db) == [(1,), (2,), (3,)]


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_statement_without_rows_exit_1(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, fmt: str
) -> None:
    result = postgres_runner(
        ["query", "--conn", "pg", "--format", fmt, "CREATE TABLE made (x int)"],
        env=pg.conn_env(dbname=pg_db),
    )
    assert_fails(result, 1)
    assert not pg.sql("SELECT 1 FROM pg_tables WHERE tablename = 'made'", dbname=pg_db)


@pytest.mark.parametrize(
    "sql", ["\\echo hello", "SELECT 1 AS x \\gset"], ids=["echo", "gset"]
)
def test_psql_meta_command_exit_2(
    postgres_runner: Runner, pg: PgCluster, sql: str
) -> None:
    result = postgres_runner(["query", "--conn", "pg", "--", sql], env=pg.conn_env())
    assert_fails(result, 2)
    assert not result.data_lines(), result
