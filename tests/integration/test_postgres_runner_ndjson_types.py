"""postgres-runner query --format ndjson, type by type: every line must be strict JSON (UTF-8,
no bare NaN, no raw control characters) and hold exactly what the server sent.

The reference is psycopg2 reading the same rows with every type fetched as the server's text.
From that text and the column's type this file derives the JSON value independently: integer
types, floats and numeric as the very number token the server printed (NaN and +-Infinity as
strings), bool as true/false, json/jsonb parsed, NULL as null, anything else as the text.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
import pytest
from harness.checks import assert_fails, assert_ok
from harness.pgcluster import PgCluster
from harness.result import RunResult

Runner = Callable[..., RunResult]

INTEGERS = {21, 23, 20, 26}  # int2, int4, int8, oid
DECIMALS = {700, 701, 1700}  # float4, float8, numeric
BOOL, JSON_TYPES = 16, {114, 3802}
NOT_NUMBERS = {"NaN", "Infinity", "-Infinity"}


@dataclass(frozen=True)
class Num:
    """A JSON number token, kept as written: the comparison is exact, digit for digit."""

    token: str


def strict_loads(line: bytes | str) -> Any:
    """json.loads that refuses what RFC 8259 refuses and keeps number tokens as written."""
    text = line.decode("utf-8") if isinstance(line, bytes) else line  # strict UTF-8

    def no_constant(name: str) -> Any:
        raise ValueError(f"bare {name} is not JSON")

    return json.loads(text, parse_int=Num, parse_float=Num, parse_constant=no_constant)


def expected_value(type_oid: int, text: str | None) -> Any:
    """What the runner must write for a value of this type, from the server's text."""
    if text is None:
        return None
    if type_oid in INTEGERS:
        return Num(text)
    if type_oid in DECIMALS:
        return text if text in NOT_NUMBERS else Num(text)
    if type_oid == BOOL:
        return {"t": True, "f": False}[text]
    if type_oid in JSON_TYPES:
        return strict_loads(text)
    return text


def reference_rows(
    pg: PgCluster, dbname: str, sql: str
) -> tuple[list[str], list[list[Any]]]:
    """Column names and expected JSON values of SQL's rows, through psycopg2 (every type is
    fetched as the server's text)."""
    conn = pg.connect(dbname)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT oid FROM pg_type")
            oids = tuple(row[0] for row in cur.fetchall())
            as_text = psycopg2.extensions.new_type(oids, "AS_TEXT", lambda v, _cur: v)
            psycopg2.extensions.register_type(as_text, cur)
            cur.execute(sql)
            assert cur.description is not None
            names = [d.name for d in cur.description]
            types = [d.type_code for d in cur.description]
            rows = [
                [expected_value(t, v) for t, v in zip(types, row, strict=True)]
                for row in cur.fetchall()
            ]
    finally:
        conn.close()
    return names, rows


def runner_rows(
    postgres_runner: Runner, pg: PgCluster, dbname: str, sql: str, out: Path
) -> list[dict[str, Any]]:
    """The runner's rows for SQL (through --output), each line parsed strictly."""
    result = postgres_runner(
        ["query", "--conn", "pg", "--format", "ndjson", "--output", str(out), sql],
        env=pg.conn_env(dbname=dbname),
    )
    assert_ok(result)
    lines = out.read_bytes().split(b"\n")
    assert lines[-1] == b"", "the file must end with a newline"
    return [strict_loads(line) for line in lines[:-1]]


def check_against_reference(
    postgres_runner: Runner, pg: PgCluster, dbname: str, sql: str, out: Path
) -> None:
    names, expected = reference_rows(pg, dbname, sql)
    got = runner_rows(postgres_runner, pg, dbname, sql, out)
    assert [list(row) for row in got] == [names] * len(expected)
    assert [list(row.values()) for row in got] == expected


#: Per type: literals (SQL text) cast to it. Each query also gets a NULL row.
TYPES: dict[str, list[str]] = {
    "int2": ["0", "-32768", "32767"],
    "int4": ["-2147483648", "2147483647", "7"],
    "int8": ["-9223372036854775808", "9223372036854775807"],
    "oid": ["0", "4294967295"],
    "float4": [
        "1.5",
        "-0",
        "3.4028235e38",
        "1e-45",
        "0.1",
        "'NaN'",
        "'Infinity'",
        "'-Infinity'",
    ],
    "float8": [
        "0.1",
        "-0",
        "1e308",
        "5e-324",
        "1.7976931348623157e308",
        "-123456.789e-7",
        "'NaN'",
        "'Infinity'",
        "'-Infinity'",
    ],
    "numeric": [
        "0",
        "-1.50",
        "123456789012345678901234567890.123456789012345678901234567890",
        "1e-30",
        "9e100",
        "'NaN'",
        "'Infinity'",
        "'-Infinity'",
    ],
    "numeric(5,2)": ["1", "-999.99"],
    "bool": ["true", "false"],
    "text": [
        "'plain'",
        "''",
        "(SELECT string_agg(chr(i), '') FROM generate_series(1, 31) i)",
        "E'quote \" backslash \\\\ slash / apostrophe '''",
        "'é 漢字 ß Ω'",
        "'emoji 😀 and 👍🏽'",
        "chr(127) || chr(128) || chr(160) || chr(8232) || chr(8233) || chr(65279)",
        "E'line\\nbreak\\r\\ttab'",
        '\'{"looks": "like json"}\'',
        "'123'",
        "'null'",
    ],
    "varchar(20)": ["'short'", "'a\"b'"],
    "char(5)": ["'ab'", "'é'"],
    "name": ["'pg_catalog'"],
    '"char"': ["'x'"],
    "bytea": ["'\\x00ff10'::bytea", "''::bytea", "'abc \\\\ '::bytea"],
    "date": ["'2024-02-29'", "'infinity'", "'-infinity'", "'4713-01-01 BC'"],
    "time": ["'23:59:59.999999'", "'00:00'"],
    "timetz": ["'12:00+05:30'"],
    "timestamp": ["'2024-01-01 00:00:00'", "'infinity'", "'2000-01-01 12:34:56.789'"],
    "timestamptz": ["'2024-01-01 00:00:00+00'", "'-infinity'"],
    "interval": ["'1 year 2 mons 3 days 04:05:06.789'", "'-1 day'", "'0'"],
    "uuid": ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"],
    "json": [
        '\'{"a": [1, 2.5, "x", true, null], "b": {}}\'',
        "'\"str\"'",
        "'12345678901234567890.5'",
        "'[]'",
        "E'{\\n  \"pretty\": [\\r\\n    1,\\n\\t2\\n  ]\\n}\\n'",
        '\'{"esc": "\\u00e9 \\n \\" \\\\\\\\ \\ud83d\\ude00"}\'',
        '\'{"dup": 1, "dup": 2}\'',
        "'-0.0e-5'",
    ],
    "jsonb": [
        '\'{"b": [1, 2.50, "x"], "a": null}\'',
        "'\"é \\n\"'",
        "'1e400'",
        "E'{\\n\"a\":\\n1}'",
        "'[[], {}, \"\", 0]'",
    ],
    "xml": ["'<a x=\"1\">t&amp;t</a>'", "'text'"],
    "inet": ["'192.168.0.1/24'", "'::1'"],
    "cidr": ["'10.0.0.0/8'"],
    "macaddr": ["'08:00:2b:01:02:03'"],
    "macaddr8": ["'08:00:2b:01:02:03:04:05'"],
    "int4[]": ["'{1,2,NULL}'", "'{}'", "'{{1,2},{3,4}}'"],
    "text[]": ["ARRAY['a b', 'c\"d', 'e\\f', NULL, '']"],
    "float8[]": ["'{NaN,Infinity,1.5}'"],
    "jsonb[]": ["ARRAY['{\"a\": 1}'::jsonb]"],
    "int4range": ["'[1,5)'", "'empty'"],
    "numrange": ["'(1.5,)'"],
    "tstzrange": ["'[2024-01-01 00:00+00,2024-02-01 00:00+00)'"],
    "money": ["12.34", "-1000000.5"],
    "point": ["'(1.5,-2)'"],
    "bit(4)": ["B'1010'"],
    "varbit": ["B'101'"],
    "tsvector": ["'a fat cat'"],
    "pg_lsn": ["'16/B374D848'"],
    "jsonpath": ["'$.a[*] ? (@ > 1)'"],
    "regclass": ["'pg_class'"],
    "xid": ["'42'"],
}


@pytest.mark.parametrize("type_name", TYPES.keys())
def test_builtin_type(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path, type_name: str
) -> None:
    values = ", ".join(
        f"({i}, ({v})::{type_name})" for i, v in enumerate(TYPES[type_name])
    )
    sql = (
        f"SELECT v AS value FROM (VALUES {values}, ({len(TYPES[type_name])}, NULL)) t(i, v) "
        "ORDER BY i"
    )
    check_against_reference(
        postgres_runner, pg, "tinyrun", sql, tmp_path / "rows.ndjson"
    )


def test_user_defined_types(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    """A domain over int is its base type (a number); an enum and a composite are strings."""
    pg.sql(
        "CREATE DOMAIN posint AS int CHECK (VALUE > 0);"
        "CREATE DOMAIN price AS numeric(10, 2);"
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy \"quoted\"');"
        "CREATE TYPE pair AS (a int, b text);"
        "CREATE TABLE t (id int, p posint, pr price, m mood, c pair, ms mood[]);"
        "INSERT INTO t VALUES "
        "(1, 5, 9.5, 'happy \"quoted\"', ROW(1, 'x y'), '{sad,ok}'),"
        "(2, NULL, NULL, NULL, NULL, NULL),"
        "(3, 2147483647, -0.01, 'sad', ROW(NULL, 'a\"b\\c'), '{}')",
        dbname=pg_db,
        role="tinyrun",
    )
    sql = "SELECT * FROM t ORDER BY id"
    check_against_reference(postgres_runner, pg, pg_db, sql, tmp_path / "rows.ndjson")
    rows = runner_rows(postgres_runner, pg, pg_db, sql, tmp_path / "again.ndjson")
    assert rows[0]["p"] == Num("5") and rows[0]["pr"] == Num("9.50"), rows[0]


def test_keys_are_escaped_and_zero_columns(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    sql = (
        'SELECT 1 AS "we""ird\\name", 2 AS "tab\tand é", 3 AS "a", 4 AS "A", '
        '5 AS "?column?", NULL::text AS "null"'
    )
    check_against_reference(
        postgres_runner, pg, "tinyrun", sql, tmp_path / "keys.ndjson"
    )
    rows = runner_rows(
        postgres_runner,
        pg,
        "tinyrun",
        "SELECT FROM generate_series(1, 2)",
        tmp_path / "z",
    )
    assert rows == [{}, {}]


def test_large_values_cross_the_buffer(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    """Values bigger than the writer's buffer, with escapes and multibyte characters at every
    offset, plus a huge numeric and a big json document."""
    sql = (
        "SELECT repeat(E'ab\"\\\\\\n€😀', 50000) AS s, repeat('x', 300000) AS plain, "
        "('9' || repeat('8', 100000))::numeric AS n, "
        "(SELECT json_agg(g) FROM generate_series(1, 50000) g) AS j "
        "FROM generate_series(1, 3)"
    )
    check_against_reference(
        postgres_runner, pg, "tinyrun", sql, tmp_path / "big.ndjson"
    )


def encoded_db(pg: PgCluster, encoding: str) -> str:
    """A new database in ENCODING (C locale), owned by tinyrun."""
    name = f"enc_{encoding.lower()}_{secrets.token_hex(4)}"
    pg.sql(
        f"CREATE DATABASE {name} OWNER tinyrun ENCODING '{encoding}' "
        "LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
        dbname="postgres",
    )
    return name


@pytest.mark.parametrize(
    "encoding,sql",
    [
        # é as LATIN1's byte 0xe9: the server converts it to UTF-8 for JSON.
        ("LATIN1", "SELECT convert_from('\\xe9'::bytea, 'LATIN1') AS s"),
        # SQL_ASCII stores bytes unchecked; these are UTF-8's é.
        ("SQL_ASCII", "SELECT convert_from('\\xc3a9'::bytea, 'SQL_ASCII') AS s"),
    ],
)
def test_output_is_utf8_whatever_the_database_encoding(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path, encoding: str, sql: str
) -> None:
    name = encoded_db(pg, encoding)
    try:
        rows = runner_rows(postgres_runner, pg, name, sql, tmp_path / "enc.ndjson")
    finally:
        pg.drop_db(name)
    assert rows == [{"s": "é"}]


def test_bytes_that_are_not_utf8_fail_the_query(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    """A SQL_ASCII database can hold any bytes; JSON cannot: the server refuses to send them as
    UTF-8, and the query fails with nothing written (rather than with invalid JSON)."""
    name = encoded_db(pg, "SQL_ASCII")
    out = tmp_path / "bad.ndjson"
    try:
        result = postgres_runner(
            [
                "query",
                "--conn",
                "pg",
                "--format",
                "ndjson",
                "--output",
                str(out),
                "SELECT convert_from('\\x61ff62'::bytea, 'SQL_ASCII') AS s",
            ],
            env=pg.conn_env(dbname=name),
        )
    finally:
        pg.drop_db(name)
    res = assert_fails(result, 1)
    assert res.get("sqlstate") == "22021", result
    assert not out.exists()
