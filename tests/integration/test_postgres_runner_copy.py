"""postgres-runner copy: bulk unload and load through the COPY protocol in csv, text and binary,
with files and with stdin/stdout; the round trip must give back exactly the same rows."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.checks import assert_fails, assert_ok
from harness.pgcluster import PgCluster
from harness.result import RunResult

Runner = Callable[..., RunResult]

COLUMNS = (
    "id int PRIMARY KEY, txt text, num numeric, ts timestamptz, raw bytea, tags text[]"
)
FILL = (
    "INSERT INTO src SELECT g, "
    "CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN 'tab' || chr(9) || 'nl' || chr(10) || 'bs\\' "
    "WHEN 2 THEN 'quote \"'',\" ünïcødé' ELSE repeat('x', g % 50) END, "
    "CASE WHEN g % 5 = 0 THEN NULL ELSE g / 7.0 END, "
    "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute', "
    "CASE WHEN g % 3 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END, "
    "ARRAY['a', NULL, 'c,d']::text[] "
    "FROM generate_series(1, 5000) g"
)


def prepare(pg: PgCluster, db: str) -> None:
    pg.sql(f"CREATE TABLE src ({COLUMNS})", dbname=db, role="tinyrun")
    pg.sql(f"CREATE TABLE dst ({COLUMNS})", dbname=db, role="tinyrun")
    pg.sql(FILL, dbname=db, role="tinyrun")


def assert_same(pg: PgCluster, db: str) -> None:
    assert pg.sql("SELECT count(*) FROM dst", dbname=db) == [(5000,)]
    diff = pg.sql(
        "SELECT count(*) FROM ((TABLE src EXCEPT ALL TABLE dst) UNION ALL "
        "(TABLE dst EXCEPT ALL TABLE src)) d",
        dbname=db,
    )
    assert diff == [(0,)], "the round trip changed rows"


@pytest.mark.parametrize("fmt", ["csv", "text", "binary"])
def test_round_trip_with_files(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path, fmt: str
) -> None:
    prepare(pg, pg_db)
    env = pg.conn_env(dbname=pg_db)
    data = tmp_path / f"src.{fmt}"
    common = ["--conn", "pg", "--format", fmt, "--file", str(data)]
    res = assert_ok(
        postgres_runner(["copy", "out", *common, "--table", "src"], env=env)
    )
    assert data.stat().st_size > 0
    assert res.get("rows") in (None, 5000), res
    res = assert_ok(postgres_runner(["copy", "in", *common, "--table", "dst"], env=env))
    assert res.get("rows") in (None, 5000), res
    assert_same(pg, pg_db)


def test_round_trip_through_stdin_and_stdout(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    prepare(pg, pg_db)
    env = pg.conn_env(dbname=pg_db)
    out = tmp_path / "stdout"
    result = postgres_runner(
        ["copy", "out", "--conn", "pg", "--format", "csv", "--table", "src"],
        env=env,
        stdout_path=out,
    )
    assert_ok(result)
    text = out.read_bytes()
    data = text[: text.rindex(result.last_line.encode())]
    result = postgres_runner(
        ["copy", "in", "--conn", "pg", "--format", "csv", "--table", "dst"],
        env=env,
        stdin=data,
    )
    assert_ok(result)
    assert_same(pg, pg_db)


def test_binary_in_from_stdin(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    prepare(pg, pg_db)
    env = pg.conn_env(dbname=pg_db)
    data = tmp_path / "src.bin"
    assert_ok(
        postgres_runner(
            [
                "copy",
                "out",
                "--conn",
                "pg",
                "--format",
                "binary",
                "--table",
                "src",
                "--file",
                str(data),
            ],
            env=env,
        )
    )
    assert_ok(
        postgres_runner(
            ["copy", "in", "--conn", "pg", "--format", "binary", "--table", "dst"],
            env=env,
            stdin=data,
        )
    )
    assert_same(pg, pg_db)


def test_bad_input_loads_nothing(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    prepare(pg, pg_db)
    data = tmp_path / "bad.csv"
    data.write_text("1,ok,1,2024-01-01,,{}\n2,ok,not-a-number,2024-01-01,,{}\n")
    result = postgres_runner(
        [
            "copy",
            "in",
            "--conn",
            "pg",
            "--format",
            "csv",
            "--table",
            "dst",
            "--file",
            str(data),
        ],
        env=pg.conn_env(dbname=pg_db),
    )
    assert_fails(result, 1)
    assert pg.sql("SELECT count(*) FROM dst", dbname=pg_db) == [(0,)]


def test_missing_table_exit_1(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    result = postgres_runner(
        [
            "copy",
            "out",
            "--conn",
            "pg",
            "--table",
            "no_such_table",
            "--file",
            str(tmp_path / "x"),
        ],
        env=pg.conn_env(),
    )
    assert_fails(result, 1)


@pytest.mark.parametrize("stdin", ["dev-null", "terminal"])
def test_copy_in_without_file_or_data_exit_2(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, stdin: str
) -> None:
    """Under DockerOperator stdin is /dev/null: loading "nothing" must not look like success."""
    pg.sql("CREATE TABLE t (id int)", dbname=pg_db, role="tinyrun")
    args = ["copy", "in", "--conn", "pg", "--table", "t"]
    env = pg.conn_env(dbname=pg_db)
    if stdin == "dev-null":
        result = postgres_runner(args, env=env)  # the harness gives /dev/null
    else:
        leader, follower = os.openpty()
        try:
            result = postgres_runner(args, env=env, stdin=Path(os.ttyname(follower)))
        finally:
            os.close(leader)
            os.close(follower)
    assert_fails(result, 2)
    assert "copy in needs --file or data on stdin" in result.errors[0]["msg"], result
    assert pg.sql("SELECT count(*) FROM t", dbname=pg_db) == [(0,)]


def test_copy_null_not_in_the_client_encoding_exit_2(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    """--null that PQescapeLiteral refuses (invalid UTF-8) is a usage error, not '(null)' SQL."""
    pg.sql("CREATE TABLE t (id int)", dbname=pg_db, role="tinyrun")
    args = [
        "copy",
        "out",
        "--conn",
        "pg",
        "--table",
        "t",
        "--file",
        str(tmp_path / "o"),
    ]
    result = postgres_runner([*args, "--null", "\udcff"], env=pg.conn_env(dbname=pg_db))
    assert_fails(result, 2)
    assert "--null" in result.errors[0]["msg"], result
    assert not (tmp_path / "o").exists()
