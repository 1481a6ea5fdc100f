"""sqlserver-runner's sqlcmd script reader end to end (tsqlscript.h): GO and variables follow
sqlcmd's rules through strings, identifiers and nested comments; every error names the file and
line (also inside an included file), and a script with an error anywhere runs nothing at all,
even when the server is there and the first batches are fine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from harness.checks import assert_fails, assert_ok
from harness.pgcluster import PgCluster
from harness.result import RunResult
from mssql import mssql_env
from tds.server import TdsServer

Runner = Callable[..., RunResult]


def run(runner: Runner, tds: TdsServer, db: str, *args: str) -> RunResult:
    return runner(["run", "--conn", "mssql", *args], env=mssql_env(tds, db))


def tables(pg: PgCluster, db: str) -> list[str]:
    rows = pg.sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        dbname=db,
    )
    return [r[0] for r in rows]


def test_go_is_never_split_inside_strings_identifiers_or_comments(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "s.sql"
    script.write_text(
        "CREATE TABLE notes (id int, body nvarchar(200))\n"
        "  go  \n"
        "/* a block comment /* nested\n"
        "GO\n"
        "*/ still in the outer comment\n"
        "GO\n"
        "*/\n"
        "GO\n"  # that batch held only comments: it is not sent
        "INSERT INTO notes VALUES (1, N'it''s\n"
        "GO\n"
        "still the string')\n"
        "GO 2\n"
        "INSERT INTO [notes] VALUES (2, 'x') -- GO\n"
        "Go\n"
    )
    out = assert_ok(run(sqlserver_runner, tds, pg_db, str(script)))
    assert [b["command"] for b in out["batches"]] == ["GO", "GO 2", "GO"]
    assert [b["line"] for b in out["batches"]] == [1, 9, 13]
    rows = pg.sql("SELECT id, body FROM notes ORDER BY id", dbname=pg_db)
    assert rows == [(1, "it's\nGO\nstill the string")] * 2 + [(2, "x")]


def test_variables_are_case_insensitive_and_setvar_quotes(
    sqlserver_runner: Runner, tds: TdsServer, pg: PgCluster, pg_db: str
) -> None:
    sql = (
        ':setvar Label "say ""hi"""\n'
        "CREATE TABLE $(TABLE) (label nvarchar(50), n int)\n"
        "GO\n"
        "INSERT INTO $(table) VALUES ('$(label)', $(N))\n"
    )
    assert_ok(
        run(sqlserver_runner, tds, pg_db, "-v", "table=t", "-v", "n=7", "-c", sql)
    )
    assert pg.sql("SELECT label, n FROM t", dbname=pg_db) == [('say "hi"', 7)]


@pytest.mark.parametrize(
    "main,included,where",
    [
        (
            "SELECT 1\nGO\n:r inc.sql\n",
            "SELECT 2\nGO\nSELECT $(missing)\n",
            "inc.sql:3",
        ),
        ("SELECT 1\nGO\n:r inc.sql\n", "SELECT 2\n:out file.txt\n", "inc.sql:2"),
        ("SELECT 1\nGO\n:r inc.sql\n", "SELECT 2\nGO -1\n", "inc.sql:2"),
        ("SELECT 1\nGO\n:r inc.sql\n", "SELECT 'never closed\nGO\n", "inc.sql:1"),
        ("SELECT 1\nGO\n:r inc.sql\n", ":r main.sql\n", "inc.sql:1"),  # a cycle
        ("SELECT 1\nGO\n:r inc.sql\n", "-- only a comment\n", "inc.sql"),
        ("SELECT 1\nGO\n:r nowhere/inc.sql\n", "", "main.sql:5"),
        ("SELECT 1\n/* not closed\nGO\n", "", "main.sql:4"),
    ],
    ids=[
        "undefined-var",
        "unknown-command",
        "bad-go-count",
        "open-string",
        "include-cycle",
        "comments-only",
        "missing-include",
        "open-comment",
    ],
)
def test_an_error_anywhere_runs_nothing(
    sqlserver_runner: Runner,
    tds: TdsServer,
    pg: PgCluster,
    pg_db: str,
    tmp_path: Path,
    main: str,
    included: str,
    where: str,
) -> None:
    first = tmp_path / "first.sql"
    first.write_text("CREATE TABLE first_file (id int)\nGO\n")
    (tmp_path / "main.sql").write_text("CREATE TABLE early (id int)\nGO\n" + main)
    (tmp_path / "inc.sql").write_text(included)
    result = run(sqlserver_runner, tds, pg_db, str(first), str(tmp_path / "main.sql"))
    out = assert_fails(result, 2)
    assert where in out["error"], out["error"]  # main.sql starts with two more lines
    assert tables(pg, pg_db) == []  # not even the first file ran


def test_where_the_first_line_numbers_point(
    sqlserver_runner: Runner, tds: TdsServer, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "s.sql"
    script.write_text("SELECT 1\nGO\n\n\n  :setvar\n")
    out = assert_fails(run(sqlserver_runner, tds, pg_db, str(script)), 2)
    assert f"{script}:5:" in out["error"]


def test_empty_and_comment_only_scripts_exit_2(
    sqlserver_runner: Runner, tds: TdsServer, pg_db: str, tmp_path: Path
) -> None:
    for text in ("", "\n\n", "-- nothing\n/* at all */\nGO\n"):
        script = tmp_path / "empty.sql"
        script.write_text(text)
        out = assert_fails(run(sqlserver_runner, tds, pg_db, str(script)), 2)
        assert "no SQL" in out["error"]


def test_utf16_and_binary_files_exit_2(
    sqlserver_runner: Runner, tds: TdsServer, pg_db: str, tmp_path: Path
) -> None:
    script = tmp_path / "s.sql"
    script.write_bytes("SELECT 1\n".encode("utf-16"))
    assert (
        "UTF-16"
        in assert_fails(run(sqlserver_runner, tds, pg_db, str(script)), 2)["error"]
    )
    script.write_bytes(b"SELECT 1\x00\x01\n")
    assert (
        "NUL"
        in assert_fails(run(sqlserver_runner, tds, pg_db, str(script)), 2)["error"]
    )
