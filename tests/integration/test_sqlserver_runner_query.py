"""sqlserver-runner query against the TDS test server: every SQL Server type the issue names
comes out exactly (compared with the values PostgreSQL holds) in CSV and NDJSON, with --header
and --null; --output is atomic; bad queries exit with one error line and the right code."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import signal
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from harness.checks import assert_fails, assert_ok, wait_until
from harness.pgcluster import PgCluster
from harness.result import RunResult
from harness.runner import start_runner
from mssql import mssql_env
from tds.server import TdsServer

Runner = Callable[..., RunResult]

# PostgreSQL types the TDS server sends as the SQL Server types the issue names.
COLUMNS = [
    ("id", "int"),
    ("big", "bigint"),
    ("dt2", "timestamp"),  # datetime2(7)
    ("dto", "timestamptz"),  # datetimeoffset(7)
    ("d", "date"),
    ("dec", "numeric(20,6)"),  # decimal(38,6)
    ("mny", "money"),
    ("guid", "uuid"),  # uniqueidentifier
    ("bin", "bytea"),  # varbinary
    ("txt", "text"),  # nvarchar
    ("flag", "boolean"),  # bit
    ("dbl", "float8"),
]
ROWS = [
    (
        "(1, 9007199254740993, '2026-03-01 12:34:56.123456', '2026-03-01 12:34:56.5+01:30',"
        " '0001-01-01', '-12345678901234.123456', '-1234.56',"
        " '6f9619ff-8b86-d011-b42d-00c04fc964ff', '\\x000aff', 'héllo, \"日本\"\n✓', true, 0.1)"
    ),
    "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    (
        "(3, -1, '9999-12-31 23:59:59.999999', '2000-01-01 00:00:00+00', '2026-02-28',"
        " '0.000001', '0', '00000000-0000-0000-0000-000000000000', '\\x', '', false, -2.5e300)"
    ),
]


@pytest.fixture
def types_db(pg: PgCluster, pg_db: str) -> str:
    cols = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
    pg.sql(f"CREATE TABLE types ({cols})", dbname=pg_db, role="tinyrun")
    pg.sql(f"INSERT INTO types VALUES {', '.join(ROWS)}", dbname=pg_db, role="tinyrun")
    return pg_db


def expected(pg: PgCluster, db: str) -> list[dict[str, Any]]:
    """The table as PostgreSQL holds it, as Python values."""
    names = [name for name, _ in COLUMNS]
    rows = pg.sql(
        f"SELECT {', '.join(names)} FROM types ORDER BY id", dbname=db
    )  # money arrives as text
    return [dict(zip(names, row)) for row in rows]


def money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def parse(name: str, text: str | None) -> Any:
    """A value as the runner wrote it, back to Python, strictly in the documented form."""
    if text is None:
        return None
    if name in ("id", "big"):
        return int(text)
    if name in ("dt2", "dto"):
        assert "T" in text, text
        return dt.datetime.fromisoformat(text)
    if name == "d":
        return dt.date.fromisoformat(text)
    if name in ("dec", "mny"):
        return Decimal(text)
    if name == "guid":
        assert text == text.upper(), text
        return uuid.UUID(text)
    if name == "bin":
        assert text.startswith("0x"), text
        return bytes.fromhex(text[2:])
    if name == "flag":
        return {"true": True, "false": False}[text]
    if name == "dbl":
        return float(text)
    return text


def same(name: str, got: Any, want: Any) -> bool:
    if want is None or got is None:
        return got is want
    if name == "mny":
        return got == money(want)
    if name == "dec":
        return got == want and str(got) == str(want)  # every digit of the scale
    if name == "bin":
        return got == bytes(want)
    if name == "guid":
        return got == uuid.UUID(str(want))
    return bool(got == want)


def check_rows(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for name, _ in COLUMNS:
            assert same(name, g[name], w[name]), (name, g[name], w[name])


def query(runner: Runner, tds: TdsServer, db: str, *args: str) -> RunResult:
    return runner(
        ["query", "--conn", "mssql", *args, "SELECT * FROM types ORDER BY id"],
        env=mssql_env(tds, db),
    )


def test_every_type_as_csv(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, types_db: str
) -> None:
    result = query(sqlserver_runner, tds, types_db, "--header", "--null", "NULL")
    out = assert_ok(result)
    assert out["rows"] == 3
    text = "\n".join(result.data_lines()) + "\n"
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert header == [name for name, _ in COLUMNS]
    got = [
        {n: parse(n, None if v == "NULL" else v) for n, v in zip(header, row)}
        for row in reader
    ]
    check_rows(got, expected(pg, types_db))
    # The empty string is "" (not NULL): the NULL text itself is never ambiguous.
    assert result.data_lines()[-1].split(",")[9] == '""'


def test_every_type_as_ndjson(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, types_db: str
) -> None:
    result = query(sqlserver_runner, tds, types_db, "--format", "ndjson")
    assert_ok(result)
    objects = [json.loads(line) for line in result.data_lines()]
    # Numbers and bits are JSON numbers and booleans, not strings; NULL is null.
    first = objects[0]
    assert isinstance(first["id"], int) and isinstance(first["big"], int)
    assert first["big"] == 9007199254740993  # exact beyond a double's 53 bits
    assert isinstance(first["flag"], bool) and isinstance(first["dbl"], float)
    assert all(v is None for k, v in objects[1].items() if k != "id")
    line = result.data_lines()[0]
    assert '"dec":-12345678901234.123456,' in line  # unquoted, every digit
    assert '"mny":-1234.5600,' in line
    assert '"flag":true,' in line
    # Numbers are compared as written (json.loads would round them through float).
    got = [
        {n: parse(n, as_text(line, n, o[n])) for n, _ in COLUMNS}
        for line, o in zip(result.data_lines(), objects)
    ]
    check_rows(got, expected(pg, types_db))


def as_text(line: str, name: str, value: Any) -> str | None:
    """A value of an NDJSON line as parse() takes it: strings as they are, numbers and booleans
    as the line wrote them."""
    if value is None or isinstance(value, str):
        return value
    return line.split(f'"{name}":', 1)[1].split(",", 1)[0].rstrip("}")


def test_output_file_is_atomic_and_tsv(
    sqlserver_runner: Runner, tds: TdsServer, types_db: str, tmp_path: Path
) -> None:
    target = tmp_path / "types.tsv"
    result = query(
        sqlserver_runner, tds, types_db, "--format", "tsv", "-o", str(target)
    )
    out = assert_ok(result)
    assert out["output"] == str(target)
    lines = target.read_text().split("\n")
    assert lines[0].split("\t")[9] == 'héllo, "日本"\\n✓'
    assert lines[1].split("\t")[1] == "\\N"
    assert [p.name for p in tmp_path.iterdir()] == ["types.tsv"]


def test_failing_query_leaves_no_file(
    sqlserver_runner: Runner, tds: TdsServer, pg_db: str, tmp_path: Path
) -> None:
    target = tmp_path / "out.csv"
    result = sqlserver_runner(
        ["query", "--conn", "mssql", "-o", str(target), "SELECT * FROM no_such_table"],
        env=mssql_env(tds, pg_db),
    )
    out = assert_fails(result, 1)
    assert out.get("sql_error_number") == 208  # invalid object name
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args,message",
    [
        (["SELECT 1\nGO\nSELECT 2"], "one batch"),
        (["SELECT '$(nope)'"], "undefined variable $(nope)"),
        (["--format", "xml", "SELECT 1"], "--format"),
        ([], "give one SQL query"),
        (["--sql-file", "/nonexistent/q.sql"], "cannot read"),
    ],
)
def test_bad_queries_exit_2(
    sqlserver_runner: Runner, tds: TdsServer, pg_db: str, args: list[str], message: str
) -> None:
    result = sqlserver_runner(
        ["query", "--conn", "mssql", *args], env=mssql_env(tds, pg_db)
    )
    assert_fails(result, 2)
    assert message in result.errors[0]["msg"]


def test_statement_without_rows_fails(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    pg.sql("CREATE TABLE t (id int)", dbname=pg_db, role="tinyrun")
    result = sqlserver_runner(
        ["query", "--conn", "mssql", "INSERT INTO t VALUES (1)"],
        env=mssql_env(tds, pg_db),
    )
    assert_fails(result, 1)
    assert "returned no rows" in result.errors[0]["msg"]


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_query_cancels_it(
    tds: TdsServer,
    pg: PgCluster,
    pg_db: str,
    bin_dir: Path,
    tmp_path: Path,
    sig: int,
    code: int,
) -> None:
    pg.sql(
        "CREATE VIEW slow AS SELECT pg_sleep(60)::text AS x",
        dbname=pg_db,
        role="tinyrun",
    )
    target = tmp_path / "out.csv"
    env = mssql_env(tds, pg_db) | {"TINYRUN_DAG_ID": "querysig"}
    args = ["query", "--conn", "mssql", "-o", str(target), "SELECT * FROM slow"]
    attentions = tds.attentions
    proc = start_runner("sqlserver-runner", args, env, bin_dir=bin_dir)
    active = "application_name LIKE '%querysig%' AND state = 'active'"
    wait_until(lambda: pg.activity(active), timeout=15)
    sent = time.monotonic()
    proc.send_signal(sig)
    result = proc.wait(timeout=30)
    took = time.monotonic() - sent
    assert result.exit_code == code, result
    assert took < 5, f"took {took:.1f}s to stop{result}"
    assert result.result is not None and result.result["status"] != "success"
    assert tds.attentions > attentions, "the server saw no ATTENTION"
    assert list(tmp_path.iterdir()) == []
    wait_until(lambda: not pg.activity(active), timeout=3)


def test_sigterm_while_rows_stream(
    tds: TdsServer, pg: PgCluster, pg_db: str, bin_dir: Path, tmp_path: Path
) -> None:
    pg.sql(
        "CREATE TABLE big AS SELECT i AS id, repeat('x', 50) AS pad"
        " FROM generate_series(1, 300000) i",
        dbname=pg_db,
        role="tinyrun",
    )
    target = tmp_path / "big.csv"
    args = ["query", "--conn", "mssql", "-o", str(target), "SELECT * FROM big"]
    proc = start_runner(
        "sqlserver-runner", args, mssql_env(tds, pg_db), bin_dir=bin_dir
    )
    # rows are arriving: the temporary file next to the target grows
    wait_until(
        lambda: any(p.stat().st_size > 100_000 for p in tmp_path.iterdir()), timeout=60
    )
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    result = proc.wait(timeout=30)
    took = time.monotonic() - sent
    assert result.exit_code == 143, result
    assert took < 5, f"took {took:.1f}s to stop{result}"
    assert list(tmp_path.iterdir()) == []  # the partial output is gone
