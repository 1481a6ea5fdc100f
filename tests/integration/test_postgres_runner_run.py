"""postgres-runner run: one transaction by default, rollback on the first error, psql variables,
statement summaries, result/xcom/termination-log files, timeouts, run identity and signals, and
psql scripts: inline COPY data, \\set/\\unset/\\echo, \\i/\\ir, \\if, \\gset, \\restrict."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.checks import assert_fails, assert_ok, wait_until
from harness.pgcluster import PG_BIN, PgCluster
from harness.result import RunResult
from harness.runner import start_runner

Runner = Callable[..., RunResult]


def count(pg: PgCluster, db: str, table: str) -> int:
    return pg.sql(f"SELECT count(*) FROM {table}", dbname=db)[0][0]


def table_exists(pg: PgCluster, db: str, name: str) -> bool:
    return bool(
        pg.sql(
            "SELECT 1 FROM pg_tables WHERE tablename = %s", dbname=db, params=(name,)
        )
    )


def test_statements_and_summary(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "load.sql"
    script.write_text(
        "CREATE TABLE items (id int PRIMARY KEY, name text);\n"
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5) g;\n"
        "UPDATE items SET name = upper(name) WHERE id <= 2;\n"
        "DELETE FROM items WHERE id = 5;\n"
    )
    result = postgres_runner(
        ["run", "--conn", "pg", str(script)], env=pg.conn_env(dbname=pg_db)
    )
    res = assert_ok(result)
    assert res["runner"] == "postgres-runner"
    summary = [(s["command"], s.get("rows")) for s in res["statements"]]
    assert [c for c, _ in summary] == ["CREATE TABLE", "INSERT", "UPDATE", "DELETE"], (
        result
    )
    assert summary[1:] == [("INSERT", 5), ("UPDATE", 2), ("DELETE", 1)], result
    assert all(isinstance(s.get("ms"), int | float) for s in res["statements"]), result
    assert pg.sql("SELECT id, name FROM items ORDER BY id", dbname=pg_db) == [
        (1, "ITEM 1"),
        (2, "ITEM 2"),
        (3, "item 3"),
        (4, "item 4"),
    ]


def test_inline_sql(postgres_runner: Runner, pg: PgCluster, pg_db: str) -> None:
    sql = "CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2), (3)"
    assert_ok(
        postgres_runner(
            ["run", "--conn", "pg", "-c", sql], env=pg.conn_env(dbname=pg_db)
        )
    )
    assert count(pg, pg_db, "t") == 3


def test_json_connection_and_conn_file(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    conn_file = tmp_path / "conn.json"
    conn_file.write_text(pg.airflow_json(dbname=pg_db))
    conn_file.chmod(0o600)
    assert_ok(
        postgres_runner(
            ["run", "--conn-file", str(conn_file), "-c", "CREATE TABLE a (x int)"]
        )
    )
    env = pg.conn_env(form="json", dbname=pg_db)
    assert_ok(
        postgres_runner(
            ["run", "--conn", "pg", "-c", "CREATE TABLE b (x int)"], env=env
        )
    )
    assert table_exists(pg, pg_db, "a") and table_exists(pg, pg_db, "b")


def test_failing_script_leaves_no_partial_data(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    pg.sql("CREATE TABLE target (id int PRIMARY KEY)", dbname=pg_db, role="tinyrun")
    script = tmp_path / "fails.sql"
    script.write_text(
        "CREATE TABLE created_here (x int);\n"
        "INSERT INTO created_here VALUES (1);\n"
        "INSERT INTO target SELECT generate_series(1, 100);\n"
        "INSERT INTO target VALUES (1);  -- duplicate key: fails\n"
        "INSERT INTO target VALUES (1000);\n"
    )
    result = postgres_runner(
        ["run", "--conn", "pg", str(script)], env=pg.conn_env(dbname=pg_db)
    )
    assert_fails(result, 1)
    assert count(pg, pg_db, "target") == 0
    assert not table_exists(pg, pg_db, "created_here")
    # Control: without the failing statement the same script loads everything.
    script.write_text(script.read_text().replace("INSERT INTO target VALUES (1);", ""))
    assert_ok(
        postgres_runner(
            ["run", "--conn", "pg", str(script)], env=pg.conn_env(dbname=pg_db)
        )
    )
    assert count(pg, pg_db, "target") == 101


def test_failure_in_second_file_rolls_back_the_first(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    pg.sql("CREATE TABLE t (x int)", dbname=pg_db, role="tinyrun")
    first, second = tmp_path / "1.sql", tmp_path / "2.sql"
    first.write_text("INSERT INTO t VALUES (1);\n")
    second.write_text("INSERT INTO t VALUES (2);\nSELECT 1/0;\n")
    result = postgres_runner(
        ["run", "--conn", "pg", str(first), str(second)], env=pg.conn_env(dbname=pg_db)
    )
    assert_fails(result, 1)
    assert count(pg, pg_db, "t") == 0
    second.write_text("INSERT INTO t VALUES (2);\n")
    result = postgres_runner(
        ["run", "--conn", "pg", str(first), str(second)], env=pg.conn_env(dbname=pg_db)
    )
    assert_ok(result)
    assert pg.sql("SELECT x FROM t ORDER BY x", dbname=pg_db) == [(1,), (2,)]


def test_no_transaction(postgres_runner: Runner, pg: PgCluster, pg_db: str) -> None:
    pg.sql("CREATE TABLE t (x int)", dbname=pg_db, role="tinyrun")
    sql = "CREATE INDEX CONCURRENTLY t_x ON t (x); VACUUM t"
    result = postgres_runner(
        ["run", "--conn", "pg", "--no-transaction", "-c", sql],
        env=pg.conn_env(dbname=pg_db),
    )
    assert_ok(result)
    assert pg.sql(
        "SELECT indexname FROM pg_indexes WHERE tablename = 't'", dbname=pg_db
    ) == [("t_x",)]
    # Without a transaction, statements before the failing one stay committed.
    sql = "INSERT INTO t VALUES (1); INSERT INTO t VALUES (1/0)"
    result = postgres_runner(
        ["run", "--conn", "pg", "--no-transaction", "-c", sql],
        env=pg.conn_env(dbname=pg_db),
    )
    assert_fails(result, 1)
    assert count(pg, pg_db, "t") == 1


def test_concurrent_index_fails_inside_the_default_transaction(
    postgres_runner: Runner, pg: PgCluster, pg_db: str
) -> None:
    pg.sql("CREATE TABLE t (x int)", dbname=pg_db, role="tinyrun")
    result = postgres_runner(
        ["run", "--conn", "pg", "-c", "CREATE INDEX CONCURRENTLY i ON t (x)"],
        env=pg.conn_env(dbname=pg_db),
    )
    assert_fails(result, 1)


def test_dollar_quotes_and_comments_do_not_split(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "func.sql"
    script.write_text(
        "-- a comment; with a semicolon\n"
        "CREATE FUNCTION add_one(i int) RETURNS int LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n"
        "  RETURN i + 1; -- ;\n"
        "END;\n"
        "$body$;\n"
        "/* block; comment */ CREATE TABLE r AS SELECT add_one(41) AS v, 'a;b' AS s, $$;$$ AS d;\n"
    )
    res = assert_ok(
        postgres_runner(
            ["run", "--conn", "pg", str(script)], env=pg.conn_env(dbname=pg_db)
        )
    )
    assert len(res["statements"]) == 2
    assert pg.sql("SELECT v, s, d FROM r", dbname=pg_db) == [(42, "a;b", ";")]


#: psql variables and a script using them the way psql substitutes them: :name raw, :'name' as
#: a literal, :"name" as an identifier, but never inside quotes, dollar quotes or comments.
VARS = {
    "tbl": 'Weird "Table"; x',
    "val": 'it\'s a "test"; \\ :num $$ -- not a comment',
    "num": "42",
}
VARS_SQL = (
    'CREATE TABLE :"tbl" (k text PRIMARY KEY, v text);\n'
    "INSERT INTO :\"tbl\" VALUES ('literal', :'val');\n"
    "INSERT INTO :\"tbl\" VALUES ('raw', (:num + 1)::text);\n"
    "INSERT INTO :\"tbl\" VALUES ('in_string', ':val'), ('in_dollar', $$:val; :'val'$$),\n"
    "    ('tagged', $x$ :\"tbl\" $x$), ('in_ident_quotes', (SELECT \":num\" FROM\n"
    '    (SELECT 1 AS ":num") s)::text);\n'
    "-- a comment mentioning :undefined_var and :'val';\n"
    "/* block :undefined_var ; :'val' */\n"
    "INSERT INTO :\"tbl\" VALUES ('cast', 7::text), ('semi', 'a;b');\n"
)


def test_variables_and_quoting(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "vars.sql"
    script.write_text(VARS_SQL)
    args = [
        "run",
        "--conn",
        "pg",
        *[a for k, v in VARS.items() for a in ("-v", f"{k}={v}")],
        str(script),
    ]
    assert_ok(postgres_runner(args, env=pg.conn_env(dbname=pg_db)))
    assert table_exists(pg, pg_db, VARS["tbl"])
    rows = dict(pg.sql('SELECT k, v FROM "Weird ""Table""; x"', dbname=pg_db))
    assert rows == {
        "literal": VARS["val"],
        "raw": "43",
        "in_string": ":val",
        "in_dollar": ":val; :'val'",
        "tagged": ' :"tbl" ',
        "in_ident_quotes": "1",
        "cast": "7",
        "semi": "a;b",
    }


def test_variable_in_inline_sql(
    postgres_runner: Runner, pg: PgCluster, pg_db: str
) -> None:
    args = [
        "run",
        "--conn",
        "pg",
        "-v",
        "name=O'Brien",
        "-c",
        "CREATE TABLE p AS SELECT :'name'::text AS n",
    ]
    assert_ok(postgres_runner(args, env=pg.conn_env(dbname=pg_db)))
    assert pg.sql("SELECT n FROM p", dbname=pg_db) == [("O'Brien",)]


def test_xcom_file_written_when_folder_exists(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    xcom = tmp_path / "xcom"
    xcom.mkdir()
    env = pg.conn_env() | {"TINYRUN_XCOM_DIR": str(xcom)}
    result = postgres_runner(["run", "--conn", "pg", "-c", "SELECT 1"], env=env)
    res = assert_ok(result)
    assert json.loads((xcom / "return.json").read_text()) == res
    assert sorted(p.name for p in xcom.iterdir()) == [
        "return.json"
    ]  # no temp files left


def test_xcom_file_on_failure(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    xcom = tmp_path / "xcom"
    xcom.mkdir()
    termination = tmp_path / "termination-log"
    termination.write_text("")
    env = pg.conn_env() | {
        "TINYRUN_XCOM_DIR": str(xcom),
        "TINYRUN_TERMINATION_LOG": str(termination),
    }
    result = postgres_runner(["run", "--conn", "pg", "-c", "SELECT 1/0"], env=env)
    res = assert_fails(result, 1)
    assert json.loads((xcom / "return.json").read_text()) == res
    assert termination.read_text().strip(), (
        "the termination log was not written on failure"
    )


def test_no_xcom_file_when_folder_missing(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    xcom = tmp_path / "xcom"
    termination = tmp_path / "termination-log"
    env = pg.conn_env() | {
        "TINYRUN_XCOM_DIR": str(xcom),
        "TINYRUN_TERMINATION_LOG": str(termination),
    }
    assert_ok(postgres_runner(["run", "--conn", "pg", "-c", "SELECT 1"], env=env))
    assert not xcom.exists()
    assert_fails(
        postgres_runner(["run", "--conn", "pg", "-c", "SELECT 1/0"], env=env), 1
    )
    assert not termination.exists(), (
        "the termination log is written only when it exists"
    )


@pytest.mark.parametrize("how", ["flag", "env", "env-file"])
def test_statement_timeout(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path, how: str
) -> None:
    env = pg.conn_env()
    args = ["run", "--conn", "pg"]
    if how == "flag":
        args += ["--statement-timeout", "500ms"]
    elif how == "env":
        env["TINYRUN_STATEMENT_TIMEOUT"] = "500ms"
    else:
        (tmp_path / "timeout").write_text("500ms\n")
        env["TINYRUN_STATEMENT_TIMEOUT_FILE"] = str(tmp_path / "timeout")
    result = postgres_runner([*args, "-c", "SELECT pg_sleep(20)"], env=env, timeout=30)
    assert_fails(result, 1)  # 57014: the statement ran too long; a retry would too
    assert result.result["sqlstate"] == "57014", result
    assert result.duration < 10, result


def test_lock_timeout(postgres_runner: Runner, pg: PgCluster, pg_db: str) -> None:
    pg.sql("CREATE TABLE locked (x int)", dbname=pg_db, role="tinyrun")
    holder = pg.connect(pg_db)
    try:
        holder.autocommit = False
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
        result = postgres_runner(
            [
                "run",
                "--conn",
                "pg",
                "--lock-timeout",
                "500ms",
                "-c",
                "INSERT INTO locked VALUES (1)",
            ],
            env=pg.conn_env(dbname=pg_db),
            timeout=30,
        )
    finally:
        holder.rollback()
        holder.close()
    assert_fails(result, 75)  # 55P03: documented as temporary (--lock-timeout's help, README)
    assert result.result["sqlstate"] == "55P03", result
    assert result.duration < 10, result
    assert count(pg, pg_db, "locked") == 0
    # Control: once the lock is gone the same statement succeeds.
    result = postgres_runner(
        [
            "run",
            "--conn",
            "pg",
            "--lock-timeout",
            "500ms",
            "-c",
            "INSERT INTO locked VALUES (1)",
        ],
        env=pg.conn_env(dbname=pg_db),
    )
    assert_ok(result)
    assert count(pg, pg_db, "locked") == 1


def test_application_name_from_run_identity(pg: PgCluster, bin_dir: Path) -> None:
    dag = f"dag_{secrets.token_hex(3)}"
    env = pg.conn_env() | {
        "TINYRUN_DAG_ID": dag,
        "TINYRUN_TASK_ID": "load",
        "TINYRUN_RUN_ID": "manual_1",
        "TINYRUN_TRY_NUMBER": "2",
    }
    proc = start_runner(
        "postgres-runner",
        ["run", "--conn", "pg", "-c", "SELECT pg_sleep(3)"],
        env=env,
        bin_dir=bin_dir,
    )
    with proc:
        rows = wait_until(
            lambda: pg.activity("application_name LIKE %s", (f"%{dag}%",)), timeout=15
        )
        app = rows[0][1]
        result = proc.wait(timeout=30)
    assert_ok(result)
    for part in (dag, "load", "manual_1", "2"):
        assert part in app, f"application_name {app!r} does not carry {part!r}"


@pytest.mark.parametrize(
    "sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"]
)
def test_signal_cancels_server_work(
    pg: PgCluster, bin_dir: Path, sig: int, code: int
) -> None:
    marker = f"sig_{secrets.token_hex(4)}"
    sql = f"SELECT pg_sleep(60) AS {marker}"
    proc = start_runner(
        "postgres-runner",
        ["run", "--conn", "pg", "-c", sql],
        env=pg.conn_env(),
        bin_dir=bin_dir,
    )
    with proc:
        wait_until(
            lambda: pg.activity("state = 'active' AND query LIKE %s", (f"%{marker}%",)),
            timeout=15,
        )
        sent = time.monotonic()
        proc.send_signal(sig)
        result = proc.wait(timeout=15)
        took = time.monotonic() - sent
    assert result.exit_code == code, result
    assert took < 5, f"took {took:.1f}s to stop after the signal{result}"
    assert result.result is not None, f"no result line after the signal{result}"
    wait_until(lambda: not pg.activity("query LIKE %s", (f"%{marker}%",)), timeout=2)


# -- psql scripts ------------------------------------------------------------------------------

#: COPY text-format rows: tabs, backslashes, NULL, newlines and Unicode, escaped as pg_dump does.
COPY_ROWS = [
    (1, "tab\there", "back\\slash"),
    (2, None, "line\nbreak\r\n"),
    (3, "ünïcødé ✓ 😀", "\\."),
    (4, "", "semi;colon 'quote' \"dq\" $$ -- not a comment \\set x"),
]


def copy_text(value: str | None) -> str:
    if value is None:
        return "\\N"
    table = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
    return "".join(table.get(c, c) for c in value)


def copy_block(table: str) -> str:
    lines = [f"{i}\t{copy_text(a)}\t{copy_text(b)}" for i, a, b in COPY_ROWS]
    return f"COPY {table} (id, a, b) FROM stdin;\n" + "\n".join(lines) + "\n\\.\n"


def run_script(
    runner: Runner, pg: PgCluster, db: str, path: Path, *args: str
) -> RunResult:
    return runner(["run", "--conn", "pg", *args, str(path)], env=pg.conn_env(dbname=db))


def test_copy_from_stdin_data_in_the_script(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "copy.sql"
    script.write_text(
        "CREATE TABLE c (id int PRIMARY KEY, a text, b text);\n"
        + copy_block("c")
        + 'COPY c (id, a, b) FROM stdin WITH (FORMAT csv);\n5,"x,y","multi\nline"\n\\.\n'
        + "UPDATE c SET a = a || '!' WHERE id = 1;\n",
        encoding="utf-8",
    )
    res = assert_ok(run_script(postgres_runner, pg, pg_db, script))
    assert [(s["command"], s["rows"], s["line"]) for s in res["statements"]] == [
        ("CREATE TABLE", 0, 1),
        ("COPY", 4, 2),
        ("COPY", 1, 8),
        ("UPDATE", 1, 12),
    ]
    rows = pg.sql("SELECT id, a, b FROM c ORDER BY id", dbname=pg_db)
    expected = [(i, a, b) for i, a, b in COPY_ROWS]
    expected[0] = (1, "tab\there!", "back\\slash")
    assert rows == [*expected, (5, "x,y", "multi\nline")]


def test_failing_copy_data_rolls_back_everything(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "bad_copy.sql"
    good = copy_block("c")
    script.write_text(
        "CREATE TABLE c (id int PRIMARY KEY, a text, b text);\n"
        "INSERT INTO c VALUES (100, 'x', 'y');\n"
        + good
        + "COPY c (id, a, b) FROM stdin;\n7\tok\tok\nnot-a-number\tx\ty\n\\.\n"
        "INSERT INTO c VALUES (200, 'after', 'after');\n"
    )
    result = run_script(postgres_runner, pg, pg_db, script)
    res = assert_fails(result, 1)
    assert res["failed_at"] == f"{script}:{1 + 1 + good.count(chr(10)) + 1}", res
    assert not table_exists(pg, pg_db, "c")
    # Control: the same script with a valid row loads everything.
    script.write_text(script.read_text().replace("not-a-number", "8"))
    assert_ok(run_script(postgres_runner, pg, pg_db, script))
    assert count(pg, pg_db, "c") == 1 + len(COPY_ROWS) + 2 + 1


def test_include_relative_and_plain(
    postgres_runner: Runner,
    pg: PgCluster,
    pg_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "table.sql").write_text(
        "CREATE TABLE inc (x int);\n\\ir data.sql\n"
    )
    (tmp_path / "lib" / "data.sql").write_text("INSERT INTO inc VALUES (:n);\n")
    (tmp_path / "lib" / "more.sql").write_text("INSERT INTO inc VALUES (3);\n")
    main = tmp_path / "main.sql"
    main.write_text(
        "\\set n 1\n\\ir lib/table.sql\n\\set n 2\n\\i lib/data.sql\n\\include lib/more.sql\n"
    )
    monkeypatch.chdir(tmp_path)  # \i is relative to the working folder
    assert_ok(run_script(postgres_runner, pg, pg_db, main))
    assert pg.sql("SELECT x FROM inc ORDER BY x", dbname=pg_db) == [(1,), (2,), (3,)]


@pytest.mark.parametrize(
    "files,error",
    [
        (
            {"a.sql": "CREATE TABLE t (x int);\n\\ir b.sql\n", "b.sql": "\\ir a.sql\n"},
            "include cycle",
        ),
        ({"a.sql": "CREATE TABLE t (x int);\n\\ir missing.sql\n"}, "missing.sql"),
        (
            {"a.sql": "CREATE TABLE t (x int);\nSELECT 1;\n\n\\copy t from 'x'\n"},
            "a.sql:4",
        ),
        (
            {"a.sql": "CREATE TABLE t (x int);\n\\if 1\nSELECT 1;\n"},
            "\\if without \\endif",
        ),
        ({"a.sql": "CREATE TABLE t (x int);\n\\restrict K\n\\echo x\n"}, "restricted"),
        (
            {
                "a.sql": "CREATE TABLE t (x int);\n\\ir b.sql\n",
                "b.sql": "SELECT 1;\n\\gexec\n",
            },
            "b.sql:2",
        ),
    ],
    ids=[
        "cycle",
        "missing-include",
        "unknown-meta",
        "unclosed-if",
        "restricted",
        "unknown-in-include",
    ],
)
def test_bad_scripts_exit_2_before_anything_runs(
    postgres_runner: Runner,
    pg: PgCluster,
    pg_db: str,
    tmp_path: Path,
    files: dict[str, str],
    error: str,
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    env = pg.conn_env(dbname=pg_db)
    result = postgres_runner(["run", "--conn", "pg", str(tmp_path / "a.sql")], env=env)
    res = assert_fails(result, 2)
    assert error in res["error"], res
    assert not table_exists(pg, pg_db, "t")
    # Nothing ran: the runner never even connected (the server logs every connection).
    login = f"user={pg.user} database={pg_db}"
    assert login not in pg.log_file.read_text(errors="replace")
    (tmp_path / "a.sql").write_text("SELECT 1;\n")
    assert_ok(
        postgres_runner(["run", "--conn", "pg", str(tmp_path / "a.sql")], env=env)
    )
    assert login in pg.log_file.read_text(errors="replace")


def test_missing_file_exits_2(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    res = assert_fails(
        postgres_runner(
            ["run", "--conn", "pg", str(tmp_path / "nope.sql")], env=pg.conn_env()
        ),
        2,
    )
    assert "nope.sql" in res["error"]


def test_if_skips_and_chooses_branches(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "if.sql"
    script.write_text(
        "CREATE TABLE picks (what text);\n"
        "\\if :{?undefined_flag}\n"
        "  SELECT 1/0;\n"
        "\\elif :full\n"
        "  INSERT INTO picks VALUES ('full');\n"
        "  \\if false\n"
        "    SELECT 1/0;\n"
        "  \\else\n"
        "    INSERT INTO picks VALUES ('nested else');\n"
        "  \\endif\n"
        "\\else\n"
        "  INSERT INTO picks VALUES ('incremental');\n"
        "\\endif\n"
        "\\if :{?full}\n"
        "  INSERT INTO picks VALUES ('full is set');\n"
        "\\endif\n"
    )
    assert_ok(run_script(postgres_runner, pg, pg_db, script, "-v", "full=YES"))
    assert pg.sql("SELECT what FROM picks", dbname=pg_db) == [
        ("full",),
        ("nested else",),
        ("full is set",),
    ]
    pg.sql("DROP TABLE picks", dbname=pg_db)
    assert_ok(run_script(postgres_runner, pg, pg_db, script, "-v", "full=of"))
    assert pg.sql("SELECT what FROM picks", dbname=pg_db) == [
        ("incremental",),
        ("full is set",),
    ]
    pg.sql("DROP TABLE picks", dbname=pg_db)
    # An invalid boolean is an error: exit 2, nothing committed.
    res = assert_fails(
        run_script(postgres_runner, pg, pg_db, script, "-v", "full=maybe"), 2
    )
    assert res["failed_at"] == f"{script}:4", res
    assert not table_exists(pg, pg_db, "picks")


def test_gset_feeds_later_statements(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "gset.sql"
    script.write_text(
        "CREATE TABLE src AS SELECT g AS x FROM generate_series(1, 7) g;\n"
        "SELECT count(*) AS n, max(x) AS top, NULL AS gone FROM src \\gset\n"
        "SELECT 'it''s' AS name \\gset p_\n"
        "CREATE TABLE out (n int, top int, name text, gone_set bool);\n"
        "INSERT INTO out VALUES (:n, :top, :'p_name', :{?gone});\n"
        "\\if :{?p_name}\n"
        "  INSERT INTO out VALUES (-1, -1, 'prefixed', true);\n"
        "\\endif\n"
    )
    res = assert_ok(run_script(postgres_runner, pg, pg_db, script, "-v", "gone=preset"))
    assert pg.sql(
        "SELECT n, top, name, gone_set FROM out ORDER BY n DESC", dbname=pg_db
    ) == [
        (7, 7, "it's", False),
        (-1, -1, "prefixed", True),
    ]
    assert [s["command"] for s in res["statements"]][:3] == [
        "SELECT",
        "SELECT",
        "SELECT",
    ]


@pytest.mark.parametrize(
    "query", ["SELECT 1 AS n WHERE false", "SELECT g AS n FROM generate_series(1, 2) g"]
)
def test_gset_needs_exactly_one_row(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path, query: str
) -> None:
    script = tmp_path / "gset.sql"
    script.write_text(
        f"CREATE TABLE t (x int);\n{query} \\gset\nINSERT INTO t VALUES (:n);\n"
    )
    res = assert_fails(run_script(postgres_runner, pg, pg_db, script), 1)
    assert res["failed_at"] == f"{script}:2", res
    assert not table_exists(pg, pg_db, "t")


def test_set_unset_echo(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "echo.sql"
    script.write_text(
        "\\set greeting 'hello, ' :who\n"
        "\\echo :greeting :'who'\n"
        "CREATE TABLE g AS SELECT :'greeting'::text AS v;\n"
        "\\unset who\n"
        "\\echo -n [:who]\n"
        "\\echo ' done'\n"
    )
    result = run_script(postgres_runner, pg, pg_db, script, "-v", "who=world")
    assert_ok(result)
    assert result.data_lines() == ["hello, world 'world'", "[:who] done"]
    assert pg.sql("SELECT v FROM g", dbname=pg_db) == [("hello, world",)]


@pytest.mark.parametrize(
    "text", ["", "-- only a comment\n/* and a block\n comment */\n\n"]
)
def test_empty_and_comment_only_scripts(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path, text: str
) -> None:
    script = tmp_path / "empty.sql"
    script.write_text(text)
    res = assert_ok(
        postgres_runner(["run", "--conn", "pg", str(script)], env=pg.conn_env())
    )
    assert res["statements_total"] == 0 and res["committed"] is True, res


def test_no_transaction_with_copy_data(
    postgres_runner: Runner, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "nt.sql"
    script.write_text(
        "CREATE TABLE c (id int PRIMARY KEY, a text, b text);\n"
        + copy_block("c")
        + "SELECT 1/0;\n"
    )
    assert_fails(run_script(postgres_runner, pg, pg_db, script, "--no-transaction"), 1)
    assert count(pg, pg_db, "c") == len(COPY_ROWS)


@pytest.mark.parametrize("where", ["during-copy", "after-copy"])
def test_sigterm_with_copy_data(
    pg: PgCluster, pg_db: str, bin_dir: Path, tmp_path: Path, where: str
) -> None:
    """A stop signal while the server is busy with (or after) a large inline COPY: exit 143 in
    under 5 s, the server's work cancelled, nothing committed."""
    marker = f"sig_{secrets.token_hex(4)}"
    rows = 400_000 if where == "during-copy" else 1000
    pg.sql(
        "CREATE TABLE slow (id int, pad text);"
        "CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN IF NEW.id = 1 THEN PERFORM pg_sleep(60); END IF; RETURN NEW; END $$;",
        dbname=pg_db,
        role="tinyrun",
    )
    if where == "during-copy":
        pg.sql(
            "CREATE TRIGGER slow_rows BEFORE INSERT ON slow FOR EACH ROW EXECUTE FUNCTION stall()",
            dbname=pg_db,
            role="tinyrun",
        )
    pad = "x" * 100
    data = "".join(f"{i}\t{pad}\n" for i in range(1, rows + 1))
    script = tmp_path / "long.sql"
    script.write_text(
        f"-- {marker}\nCOPY slow FROM stdin;\n{data}\\.\nSELECT pg_sleep(60) AS {marker};\n"
    )
    proc = start_runner(
        "postgres-runner",
        ["run", "--conn", "pg", str(script)],
        env=pg.conn_env(dbname=pg_db),
        bin_dir=bin_dir,
    )
    with proc:
        wait_until(
            lambda: (
                pg.activity(
                    "state = 'active' AND (query LIKE %s OR query LIKE 'COPY slow%%')",
                    (f"%{marker}%",),
                )
                and (
                    where == "during-copy"
                    or pg.activity("query LIKE %s", (f"%pg_sleep(60) AS {marker}%",))
                )
            ),
            timeout=30,
        )
        time.sleep(0.5)  # let the COPY fill the socket
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        result = proc.wait(timeout=15)
        took = time.monotonic() - sent
    assert result.exit_code == 143, result
    assert took < 5, f"took {took:.1f}s to stop after the signal{result}"
    wait_until(
        lambda: (
            not pg.activity(
                "query LIKE 'COPY slow%%' OR query LIKE %s", (f"%{marker}%",)
            )
        ),
        timeout=2,
    )
    assert count(pg, pg_db, "slow") == 0


#: Meta-commands whose output psql itself gives us to compare with (\echo after \set, \gset,
#: \if with psql booleans, quoting of :'v' and :"v", argument quotes and escapes).
ORACLE_SCRIPT = r"""
\set v 'back\\slash it''s'
\echo :v :'v' :"v" '\101\x41\q' x'y z'w "dq  kept" :{?v} :{?nope} :nope pre:v a::b
SELECT 1 AS one, NULL AS gone, 'two words' AS two \gset p_
\echo :p_one :{?p_gone} :'p_two'
\set p_gone here
SELECT NULL AS p_gone \gset
\echo :{?p_gone}
\if :{?p_one}
  \echo one is set
  \if f
    \echo no
  \elif 'YES'
    \echo elif yes
  \else
    \echo no
  \endif
\elif bogus
  \echo no
\else
  \echo no
\endif
\unset v
\echo :v -n
\echo -n a b
\echo c
SELECT 1 AS "Mixed" \gset
\echo :Mixed
"""

BOOLEANS = [
    "t",
    "TRUE",
    "tru",
    "y",
    "Yes",
    "on",
    "ON",
    "1",
    "f",
    "False",
    "n",
    "NO",
    "of",
    "OFF",
    "0",
]


def test_meta_commands_print_what_psql_prints(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    script = tmp_path / "oracle.sql"
    booleans = "".join(
        f"\\if {b}\n\\echo {b} true\n\\else\n\\echo {b} false\n\\endif\n"
        for b in BOOLEANS
    )
    script.write_text(ORACLE_SCRIPT + booleans)
    psql = subprocess.run(
        [
            str(PG_BIN / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(pg.socket_dir),
        ]
        + ["-p", str(pg.port), "-U", pg.superuser, "-d", pg.dbname, "-f", str(script)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = postgres_runner(["run", "--conn", "pg", str(script)], env=pg.conn_env())
    assert_ok(result)
    assert result.data_lines() == psql.stdout.splitlines()
    assert f"{BOOLEANS[-1]} false" in result.data_lines()
