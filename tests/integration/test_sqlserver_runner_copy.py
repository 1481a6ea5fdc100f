"""sqlserver-runner copy against the TDS test server: copy in sends TDS bulk load (the server maps
it onto PostgreSQL COPY), 1M rows land exactly (count and checksum in PostgreSQL); copy out
round-trips every type; a bad record rolls back the whole load; SIGTERM stops both directions."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from harness.checks import assert_fails, assert_ok, wait_until
from harness.pgcluster import PgCluster
from harness.result import RunResult
from harness.runner import start_runner
from mssql import mssql_env
from tds.server import TdsServer

Runner = Callable[..., RunResult]
MILLION = 1_000_000


def table(pg: PgCluster, db: str, ddl: str) -> None:
    pg.sql(ddl, dbname=db, role="tinyrun")


def copy(
    runner: Runner, tds: TdsServer, db: str, *args: str, **kw: object
) -> RunResult:
    return runner(["copy", "--conn", "mssql", *args], env=mssql_env(tds, db), **kw)


def write_million(path: Path) -> None:
    """id, name, amount, day: 1M rows of CSV with a header, quoting and NULLs."""
    with open(path, "w") as f:
        f.write("id,name,amount,day\n")
        for i in range(1, MILLION + 1):
            name = f'"n,{i}"' if i % 7 == 0 else ("" if i % 11 == 0 else f"n{i}")
            f.write(f"{i},{name},{i % 1000}.{i % 100:02d},2026-01-{i % 28 + 1:02d}\n")


def test_copy_in_a_million_rows_lands_exactly(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    table(
        pg,
        pg_db,
        "CREATE TABLE big (id int, name text, amount numeric(10,2), day date)",
    )
    data = tmp_path / "big.csv"
    write_million(data)
    result = copy(
        sqlserver_runner, tds, pg_db, "--table", "big", "--header", "--batch-size",
        "50000", "--tablock", "-f", str(data), "in", timeout=600,
    )  # fmt: skip
    out = assert_ok(result)
    assert out["rows"] == MILLION
    [(count, ids, amount, names, nulls, days)] = pg.sql(
        "SELECT count(*), sum(id), sum(amount),"
        " md5(string_agg(coalesce(name, '~'), '|' ORDER BY id)),"
        " count(*) FILTER (WHERE name IS NULL), count(DISTINCT day) FROM big",
        dbname=pg_db,
    )
    want_names = "|".join(
        f"n,{i}" if i % 7 == 0 else ("~" if i % 11 == 0 else f"n{i}")
        for i in range(1, MILLION + 1)
    )
    assert count == MILLION
    assert ids == MILLION * (MILLION + 1) // 2
    cents = sum((i % 1000) * 100 + i % 100 for i in range(1, MILLION + 1))
    assert amount == Decimal(cents).scaleb(-2)
    assert names == hashlib.md5(want_names.encode()).hexdigest()
    # An empty field in a text column is NULL only as the NULL text: here, unquoted empty.
    assert nulls == sum(1 for i in range(1, MILLION + 1) if i % 11 == 0 and i % 7)
    assert days == 28
    assert any("rows/s" in line["msg"] for line in result.logs)


TYPES = (
    "id int, big bigint, dt2 timestamp, dto timestamptz, d date, dec numeric(20,6),"
    " mny money, guid uuid, bin bytea, txt text, flag boolean, dbl float8"
)
ROWS = (
    "(1, 9007199254740993, '2026-03-01 12:34:56.123456', '2026-03-01 12:34:56.5+01:30',"
    " '0001-01-01', '-12345678901234.123456', '-1234.56',"
    " '6f9619ff-8b86-d011-b42d-00c04fc964ff', '\\x000aff', E'h\\u00e9llo, \"x\"\\n\\t\\\\ ✓',"
    " true, 0.1),"
    " (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
    " (3, -1, '9999-12-31 23:59:59.999999', '2000-01-01 00:00:00+00', '2026-02-28',"
    " '0.000001', '0', '00000000-0000-0000-0000-000000000000', '\\x01', '', false, -2.5e300)"
)


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_copy_out_round_trips_every_type(
    sqlserver_runner: Runner,
    tds: TdsServer,
    pg: PgCluster,
    pg_db: str,
    tmp_path: Path,
    fmt: str,
) -> None:
    table(pg, pg_db, f"CREATE TABLE src ({TYPES})")
    table(pg, pg_db, f"CREATE TABLE dst ({TYPES})")
    pg.sql(f"INSERT INTO src VALUES {ROWS}", dbname=pg_db, role="tinyrun")
    dump = tmp_path / f"src.{fmt}"
    out = assert_ok(
        copy(sqlserver_runner, tds, pg_db, "--table", "src", "--format", fmt,
             "--header", "-f", str(dump), "out")
    )  # fmt: skip
    assert out["rows"] == 3
    assert out["direction"] == "out"
    out = assert_ok(
        copy(sqlserver_runner, tds, pg_db, "--table", "dst", "--format", fmt,
             "--header", "-f", str(dump), "in")
    )  # fmt: skip
    assert out["rows"] == 3
    differ = pg.sql(
        "(SELECT * FROM src EXCEPT SELECT * FROM dst)"
        " UNION ALL (SELECT * FROM dst EXCEPT SELECT * FROM src)",
        dbname=pg_db,
    )
    assert differ == [], "\n".join(map(repr, differ)) + "\n" + dump.read_text()


def test_copy_out_to_stdout_streams_rows_before_the_result(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    table(pg, pg_db, "CREATE TABLE t (id int, name text)")
    pg.sql(
        "INSERT INTO t SELECT i, 'n' || i FROM generate_series(1, 5) i", dbname=pg_db
    )
    result = copy(sqlserver_runner, tds, pg_db, "--table", "t", "out")
    assert_ok(result)
    assert sorted(result.data_lines()) == sorted(f"{i},n{i}" for i in range(1, 6))


def rows_in(pg: PgCluster, db: str, name: str) -> int:
    return pg.sql(f"SELECT count(*) FROM {name}", dbname=db)[0][0]


@pytest.mark.parametrize(
    "text,line",
    [
        ('1,a\n2,b\n3,c\n4,"open\n5,e\n', 4),  # a quoted field never closed
        ("1,a\n2,b\n3,c\n4,d,extra\n", 4),  # a field too many
        ("1,a\n2,b\n3,c\nfour,d\n", 4),  # not an int: the server's conversion
    ],
)
def test_bad_record_rolls_back_every_batch(
    sqlserver_runner: Runner,
    tds: TdsServer,
    pg: PgCluster,
    pg_db: str,
    text: str,
    line: int,
) -> None:
    table(pg, pg_db, "CREATE TABLE t (id int, name text)")
    result = copy(
        sqlserver_runner,
        tds,
        pg_db,
        "--table",
        "t",
        "--batch-size",
        "2",
        "in",
        stdin=text,
    )
    out = assert_fails(result, 1)
    assert f"line {line}" in result.errors[0]["msg"]
    assert out["rows"] == 0
    assert rows_in(pg, pg_db, "t") == 0  # batches 1-2 and 3 were sent, and rolled back


def test_empty_input_loads_nothing(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    table(pg, pg_db, "CREATE TABLE t (id int)")
    for stdin in ("", "id\n"):
        out = assert_ok(
            copy(
                sqlserver_runner,
                tds,
                pg_db,
                "--table",
                "t",
                "--header",
                "in",
                stdin=stdin,
            )
        )
        assert out["rows"] == 0
    assert rows_in(pg, pg_db, "t") == 0


@pytest.mark.parametrize(
    "args,code",
    [
        (["--table", "t", "-f", "/nonexistent/in.csv", "in"], 2),
        (["--table", "t; DROP TABLE t", "in"], 2),
        (["--table", "t", "sideways"], 2),
        (["--table", "t", "--format", "xml", "out"], 2),
        (["--table", "t", "--batch-size", "0", "in"], 2),
        (["--table", "no_such_table", "in"], 1),
        (["--table", "no_such_table", "out"], 1),
    ],
)
def test_bad_arguments(
    sqlserver_runner: Runner,
    tds: TdsServer,
    pg: PgCluster,
    pg_db: str,
    tmp_path: Path,
    args: list[str],
    code: int,
) -> None:
    table(pg, pg_db, "CREATE TABLE t (id int)")
    assert_fails(
        copy(sqlserver_runner, tds, pg_db, *args, stdin="1\n", cwd=tmp_path), code
    )
    assert list(tmp_path.iterdir()) == []
    assert rows_in(pg, pg_db, "t") == 0


def test_hints_reach_the_bulk_load(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    table(pg, pg_db, "CREATE TABLE t (id int)")
    out = assert_ok(
        copy(sqlserver_runner, tds, pg_db, "--table", "t", "--tablock",
             "--check-constraints", "--fire-triggers", "in", stdin="1\n2\n")
    )  # fmt: skip
    assert out["rows"] == 2
    assert rows_in(pg, pg_db, "t") == 2


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A named pipe that gets a few rows, then stays open without more."""
    path = tmp_path / "rows.fifo"
    os.mkfifo(path)
    done = threading.Event()

    def feed() -> None:
        with open(path, "w") as f:
            f.write("".join(f"{i}\n" for i in range(3000)))
            f.flush()
            done.wait(60)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    yield path
    done.set()
    thread.join(5)


def assert_stopped(result: RunResult, took: float) -> None:
    assert result.exit_code == 143, result
    assert took < 5, f"took {took:.1f}s to stop{result}"
    assert result.result is not None and result.result["status"] != "success", result


def test_sigterm_during_copy_in(
    tds: TdsServer, pg: PgCluster, pg_db: str, bin_dir: Path, fifo: Path
) -> None:
    table(pg, pg_db, "CREATE TABLE t (id int)")
    args = ["copy", "--conn", "mssql", "--table", "t", "--batch-size", "1000", "in"]
    env = mssql_env(tds, pg_db) | {"TINYRUN_DAG_ID": "copysig"}
    proc = start_runner("sqlserver-runner", args, env, fifo, bin_dir=bin_dir)
    # Three batches went into PostgreSQL's COPY, in the load's open transaction; then the
    # runner waits on the quiet pipe.
    wait_until(
        lambda: pg.activity(
            "application_name LIKE %s AND state = 'idle in transaction' AND query LIKE 'COPY%%'",
            ("%copysig%",),
        ),
        timeout=15,
    )
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    result = proc.wait(timeout=30)
    assert_stopped(result, time.monotonic() - sent)
    assert rows_in(pg, pg_db, "t") == 0  # the batches already sent were rolled back


def test_sigterm_during_copy_out(
    tds: TdsServer, pg: PgCluster, pg_db: str, bin_dir: Path, tmp_path: Path
) -> None:
    table(pg, pg_db, "CREATE VIEW slow AS SELECT pg_sleep(60)::text AS x")
    target = tmp_path / "out.csv"
    args = ["copy", "--conn", "mssql", "--table", "slow", "-f", str(target), "out"]
    env = mssql_env(tds, pg_db) | {"TINYRUN_DAG_ID": "copyoutsig"}
    attentions = tds.attentions
    proc = start_runner("sqlserver-runner", args, env, bin_dir=bin_dir)
    active = "application_name LIKE '%copyoutsig%' AND state = 'active'"
    wait_until(lambda: pg.activity(active), timeout=15)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    result = proc.wait(timeout=30)
    assert_stopped(result, time.monotonic() - sent)
    assert list(tmp_path.iterdir()) == []
    assert tds.attentions > attentions, "the server saw no ATTENTION"
    wait_until(lambda: not pg.activity(active), timeout=3)  # the server cancelled it


def test_copy_and_query_through_the_image(
    docker_run: Callable[..., RunResult],
    sqlserver_runner_image: str,
    tds: TdsServer,
    pg: PgCluster,
    pg_db: str,
    open_tmp: Path,
) -> None:
    """The image as DockerOperator runs it (read-only root, uid 65532): copy in from a mounted
    file over verified TLS, then query into a mounted folder, atomically."""
    table(pg, pg_db, "CREATE TABLE t (id int, name text, at timestamp)")
    data = open_tmp / "in.csv"
    data.write_text('id,name,at\n1,"a, b",2026-03-01T12:00:00\n2,é,\n')
    data.chmod(0o644)
    out_dir = open_tmp / "out"
    out_dir.mkdir(mode=0o777)
    out_dir.chmod(0o777)
    env = mssql_env(tds, pg_db) | {"SSL_CERT_FILE": "/certs/ca.crt"}
    mounts = [
        (tds.ca_file, "/certs/ca.crt"),
        (data, "/data/in.csv"),
        (out_dir, "/out", "rw"),
    ]
    args = [
        "copy",
        "--conn",
        "mssql",
        "--table",
        "t",
        "--header",
        "-f",
        "/data/in.csv",
        "in",
    ]
    assert (
        assert_ok(docker_run(sqlserver_runner_image, args, env=env, mounts=mounts))[
            "rows"
        ]
        == 2
    )
    args = ["query", "--conn", "mssql", "--format", "ndjson", "-o", "/out/t.ndjson",
            "SELECT id, name, at FROM t ORDER BY id"]  # fmt: skip
    assert_ok(docker_run(sqlserver_runner_image, args, env=env, mounts=mounts))
    assert (out_dir / "t.ndjson").read_text().splitlines() == [
        '{"id":1,"name":"a, b","at":"2026-03-01T12:00:00.0000000"}',
        '{"id":2,"name":"é","at":null}',
    ]
    assert [p.name for p in out_dir.iterdir()] == ["t.ndjson"]
