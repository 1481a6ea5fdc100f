"""Restoring a pg_dump plain-format dump with postgres-runner run, binary and image.

The source database has several schemas, tables, sequences, views, a materialized view, plpgsql
and BEGIN ATOMIC functions, a trigger, and data full of tabs, backslashes, NULLs, newlines and
Unicode. Its dump (which this PostgreSQL's pg_dump opens with \\restrict KEY and closes with
\\unrestrict KEY, with COPY ... FROM stdin blocks between) is restored into an empty database;
the dump of that database must then be the dump of the source, but for the random key."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.checks import assert_ok
from harness.pgcluster import PG_BIN, PgCluster
from harness.result import RunResult

Runner = Callable[..., RunResult]

SCHEMA = r"""
CREATE SCHEMA sales;
CREATE SCHEMA "Weird ""Schema"" x";
CREATE SEQUENCE sales.invoice_no START 1000 INCREMENT 7;
CREATE TABLE sales.customer (
    id serial PRIMARY KEY,
    name text NOT NULL,
    note text,
    tags text[],
    attrs jsonb,
    photo bytea,
    balance numeric(12, 2) DEFAULT 0,
    seen timestamptz
);
CREATE TABLE sales.invoice (
    no int PRIMARY KEY DEFAULT nextval('sales.invoice_no'),
    customer_id int REFERENCES sales.customer (id),
    total numeric(12, 2) NOT NULL CHECK (total >= 0),
    updated_at timestamptz
);
CREATE INDEX invoice_customer ON sales.invoice (customer_id);
CREATE TABLE "Weird ""Schema"" x"."Mixed Case; table" ("Col 1" text, "tab	col" int GENERATED ALWAYS AS IDENTITY);
CREATE TABLE public.empty_table (x int);
CREATE FUNCTION sales.touch() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    NEW.updated_at := '2026-01-01 00:00:00+00'; -- a comment; with a semicolon
    RETURN NEW;
END;
$body$;
CREATE TRIGGER invoice_touch BEFORE INSERT OR UPDATE ON sales.invoice
    FOR EACH ROW EXECUTE FUNCTION sales.touch();
CREATE FUNCTION sales.total_of(c int) RETURNS numeric LANGUAGE sql
BEGIN ATOMIC
    SELECT coalesce(sum(total), 0) FROM sales.invoice WHERE customer_id = c;
END;
CREATE VIEW sales.customer_totals AS
    SELECT c.id, c.name, sales.total_of(c.id) AS total FROM sales.customer c;
CREATE MATERIALIZED VIEW sales.big_customers AS
    SELECT id, total FROM sales.customer_totals WHERE total > 10;
COMMENT ON TABLE sales.customer IS 'customers: it''s got \backslashes and ünïcødé';
"""

#: Customer names and notes that stress COPY's text format and the script reader.
AWKWARD = [
    ("tab\there", "back\\slash \\N \\. \\\\"),
    ("new\nline", None),
    ("crlf\r\nline", "\\.\n\\.\r\n"),
    ("ünïcødé ✓ 😀 中文", ""),
    (
        "semi;colon 'q' \"dq\" $$ $tag$",
        "-- not a comment /* nor this */ :var :'var' \\set x 1",
    ),
    ("\\restrict fake", "\\unrestrict fake\n\\i /etc/passwd"),
]


def build_source(pg: PgCluster, db: str) -> None:
    pg.sql(SCHEMA, dbname=db, role="tinyrun")
    for i, (name, note) in enumerate(AWKWARD):
        pg.sql(
            "INSERT INTO sales.customer (name, note, tags, attrs, photo, balance, seen) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            dbname=db,
            role="tinyrun",
            params=(
                name,
                note,
                [name, None, "x\ty"],
                f'{{"k": {i}, "s": "a\\"b\\\\c\\n", "u": "✓"}}',
                bytes(range(256)) * (i + 1),
                i * 10.5,
                "2026-02-03 04:05:06.789+00",
            ),
        )
    pg.sql(
        "INSERT INTO sales.customer (name) SELECT 'bulk ' || g FROM generate_series(1, 2000) g;"
        "INSERT INTO sales.invoice (customer_id, total) SELECT 1 + g % 6, g FROM generate_series(1, 50) g;"
        'INSERT INTO "Weird ""Schema"" x"."Mixed Case; table" ("Col 1") VALUES (\'a\'), (NULL), (E\'\\\\.\');'
        "REFRESH MATERIALIZED VIEW sales.big_customers;"
        "SELECT setval('sales.invoice_no', 5000);",
        dbname=db,
        role="tinyrun",
    )


def pg_dump(pg: PgCluster, db: str, out: Path) -> str:
    """A plain-format dump of DB into OUT; returns its text without the \\restrict key lines."""
    subprocess.run(
        [
            str(PG_BIN / "pg_dump"),
            "--host",
            str(pg.socket_dir),
            "--port",
            str(pg.port),
            "--username",
            pg.superuser,
            "--format",
            "plain",
            "--file",
            str(out),
            db,
        ],
        check=True,
        capture_output=True,
    )
    out.chmod(0o644)
    text = out.read_text(encoding="utf-8")
    return re.sub(r"(?m)^\\(un)?restrict \S+\n", "", text)


@pytest.fixture
def dump(pg: PgCluster, pg_db: str, open_tmp: Path) -> tuple[Path, str]:
    """The source database's dump file and its text without the key lines."""
    build_source(pg, pg_db)
    path = open_tmp / "dump.sql"
    text = pg_dump(pg, pg_db, path)
    raw = path.read_text(encoding="utf-8")
    # What this test is about: the dump uses the psql features run must support.
    assert re.search(r"(?m)^\\restrict \w+$", raw) and re.search(
        r"(?m)^\\unrestrict \w+$", raw
    )
    assert raw.count("FROM stdin;\n") >= 3
    assert "crlf\\r\\nline" in raw and "\\\\." in raw
    return path, text


def restored_matches(pg: PgCluster, target: str, source_text: str, tmp: Path) -> None:
    assert pg_dump(pg, target, tmp / f"{target}.sql") == source_text
    assert pg.sql("SELECT count(*) FROM sales.customer", dbname=target) == [
        (2000 + len(AWKWARD),)
    ]
    names = pg.sql(
        "SELECT name, note FROM sales.customer ORDER BY id LIMIT %s",
        target,
        (len(AWKWARD),),
    )
    assert names == AWKWARD


def test_restore_pg_dump_with_run(
    postgres_runner: Runner, pg: PgCluster, dump: tuple[Path, str], open_tmp: Path
) -> None:
    path, text = dump
    target = pg.create_db(f"{open_tmp.name}_restored")
    try:
        res = assert_ok(
            postgres_runner(
                ["run", "--conn", "pg", str(path)], env=pg.conn_env(dbname=target)
            )
        )
        assert res["committed"] is True
        assert sum(1 for s in res["statements"] if s["command"] == "COPY") >= 3
        restored_matches(pg, target, text, open_tmp)
    finally:
        pg.drop_db(target)


def test_restore_pg_dump_through_the_image(
    docker_run: Callable[..., RunResult],
    postgres_runner_image: str,
    pg: PgCluster,
    dump: tuple[Path, str],
    open_tmp: Path,
) -> None:
    path, text = dump
    target = pg.create_db(f"{open_tmp.name}_image")
    try:
        result = docker_run(
            postgres_runner_image,
            ["run", "--conn", "pg", "/scripts/dump.sql"],
            env=pg.conn_env(dbname=target),
            mounts=[(path, "/scripts/dump.sql")],
        )
        assert_ok(result)
        restored_matches(pg, target, text, open_tmp)
    finally:
        pg.drop_db(target)
