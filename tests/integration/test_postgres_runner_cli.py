"""postgres-runner's command line: --version, --help at every level, and bad inputs that must
each end with the documented exit code, one error log line and a result line (no server needed
for most of them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from harness.checks import assert_fails
from harness.pgcluster import PgCluster
from harness.result import RunResult

Runner = Callable[..., RunResult]


def test_version(postgres_runner: Runner, repo_root: Path) -> None:
    result = postgres_runner(["--version"])
    assert result.exit_code == 0, result
    text = result.stdout.lower()
    assert (repo_root / "VERSION").read_text().strip() in text, result
    for library in ("libpq", "krb5", "openssl"):
        assert library in text, f"--version does not name {library}{result}"


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["run", "--help"],
        ["query", "--help"],
        ["copy", "--help"],
        ["check", "--help"],
    ],
    ids=lambda a: " ".join(a),
)
def test_help_at_every_level(postgres_runner: Runner, args: list[str]) -> None:
    result = postgres_runner(args)
    assert result.exit_code == 0, result
    assert result.stdout.strip(), f"--help printed nothing on stdout{result}"
    assert not result.errors, result


@pytest.mark.parametrize(
    "args",
    [
        ["--no-such-flag", "check", "--conn", "pg"],
        ["check", "--conn", "pg", "--no-such-flag"],
        ["run", "--conn", "pg", "--bogus", "-c", "SELECT 1"],
        ["no-such-subcommand"],
        ["run", "-c", "SELECT 1"],  # no connection named at all
        ["run", "--conn", "pg"],  # neither FILE nor -c
        ["copy", "sideways", "--conn", "pg", "--table", "t"],
        ["query", "--conn", "pg", "--format", "xml", "SELECT 1"],
    ],
    ids=lambda a: " ".join(a),
)
def test_usage_errors_exit_2(
    postgres_runner: Runner, pg: PgCluster, args: list[str]
) -> None:
    result = postgres_runner(args, env=pg.conn_env())
    assert_fails(result, 2)


def test_missing_connection_env(postgres_runner: Runner) -> None:
    result = postgres_runner(["run", "--conn", "pg", "-c", "SELECT 1"])
    assert_fails(result, 2)


@pytest.mark.parametrize(
    "value",
    [
        "postgres://tinyrun@127.0.0.1:notaport/tinyrun",
        "postgres://tinyrun@127.0.0.1:99999999/tinyrun",
        "postgres://tinyrun@127.0.0.1/tinyrun?__extra__=%7Bnot%20json",
        '{"conn_type": "postgres", "host": "127.0.0.1", ',
        '{"conn_type": "postgres", "port": "five"}',
        '{"conn_type": "postgres", "host": "127.0.0.1", "extra": "{not json"}',
    ],
    ids=[
        "uri-port-text",
        "uri-port-range",
        "uri-extra-json",
        "json-truncated",
        "json-port",
        "json-extra-invalid",
    ],
)
def test_malformed_connection_exit_2(postgres_runner: Runner, value: str) -> None:
    result = postgres_runner(["check", "--conn", "pg"], env={"AIRFLOW_CONN_PG": value})
    assert_fails(result, 2)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_conn_file_exit_2(
    postgres_runner: Runner, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "conn" if kind == "missing" else tmp_path
    result = postgres_runner(["check", "--conn-file", str(path)])
    assert_fails(result, 2)


def test_unreadable_airflow_conn_file_exit_2(
    postgres_runner: Runner, tmp_path: Path
) -> None:
    result = postgres_runner(
        ["check", "--conn", "pg"],
        env={"AIRFLOW_CONN_PG_FILE": str(tmp_path / "missing")},
    )
    assert_fails(result, 2)


def test_unreadable_flag_secret_file_exit_2(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    env = pg.conn_env() | {"TINYRUN_STATEMENT_TIMEOUT_FILE": str(tmp_path / "missing")}
    result = postgres_runner(["run", "--conn", "pg", "-c", "SELECT 1"], env=env)
    assert_fails(result, 2)


@pytest.mark.parametrize(
    "how", ["env-empty", "file-var-empty", "file-empty", "file-newline-only"]
)
def test_empty_airflow_conn_exit_2_naming_the_variable(
    postgres_runner: Runner, tmp_path: Path, how: str
) -> None:
    """An empty connection is a missing secret, not "a local socket with defaults" (which
    used to be retried as 75)."""
    empty = tmp_path / "conn"
    empty.write_text("\n" if how == "file-newline-only" else "")
    env = {
        "env-empty": {"AIRFLOW_CONN_PG": ""},
        "file-var-empty": {"AIRFLOW_CONN_PG_FILE": ""},
        "file-empty": {"AIRFLOW_CONN_PG_FILE": str(empty)},
        "file-newline-only": {"AIRFLOW_CONN_PG_FILE": str(empty)},
    }[how]
    result = postgres_runner(["check", "--conn", "pg", "--retries", "0"], env=env)
    assert_fails(result, 2)
    assert next(iter(env)) in result.errors[0]["msg"], result


@pytest.mark.parametrize(
    "flag", ["--conn-file", "--password-file", "statement-timeout-env"]
)
def test_empty_secret_file_exit_2_naming_it(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path, flag: str
) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    env = pg.conn_env()
    args = ["check", "--conn", "pg"]
    name = flag
    if flag == "statement-timeout-env":
        name = "TINYRUN_STATEMENT_TIMEOUT_FILE"
        env |= {name: str(empty)}
    else:
        args += [flag, str(empty)]
    result = postgres_runner(args, env=env)
    assert_fails(result, 2)
    assert name in result.errors[0]["msg"] and str(empty) in result.errors[0]["msg"], (
        result
    )


@pytest.mark.parametrize(
    "value",
    ["postgres://tinyrun@/tinyrun", '{"conn_type": "postgres", "login": "tinyrun"}'],
    ids=["uri", "json"],
)
def test_connection_without_host_exit_2(postgres_runner: Runner, value: str) -> None:
    result = postgres_runner(
        ["check", "--conn", "pg", "--retries", "0"], env={"AIRFLOW_CONN_PG": value}
    )
    assert_fails(result, 2)
    assert "host" in result.errors[0]["msg"], result


def test_missing_sql_file_exit_2(
    postgres_runner: Runner, pg: PgCluster, tmp_path: Path
) -> None:
    result = postgres_runner(
        ["run", "--conn", "pg", str(tmp_path / "missing.sql")], env=pg.conn_env()
    )
    assert_fails(result, 2)


def test_bad_sql_exit_1(postgres_runner: Runner, pg: PgCluster) -> None:
    result = postgres_runner(
        ["run", "--conn", "pg", "-c", "SELEC 1"], env=pg.conn_env()
    )
    assert_fails(result, 1)


def test_log_lines_are_json_and_result_is_last(
    postgres_runner: Runner, pg: PgCluster
) -> None:
    env = pg.conn_env() | {"TINYRUN_LOG_LEVEL": "debug"}
    sql = "CREATE TEMP TABLE x (i int); INSERT INTO x VALUES (1)"
    result = postgres_runner(["run", "--conn", "pg", "-c", sql], env=env)
    assert result.exit_code == 0, result
    assert result.log_lines, f"no log lines at debug level{result}"
    assert not result.bad_log_lines, result
    assert {entry["runner"] for entry in result.logs} == {"postgres-runner"}, result
    assert (
        result.result is not None and result.result.get("runner") == "postgres-runner"
    ), result
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1, result


def test_text_log_format(postgres_runner: Runner, pg: PgCluster) -> None:
    result = postgres_runner(
        ["--log-format", "text", "run", "--conn", "pg", "-c", "SELEC 1"],
        env=pg.conn_env(),
    )
    assert result.exit_code == 1, result
    assert result.log_lines and not result.logs, (
        f"text format printed JSON lines{result}"
    )
