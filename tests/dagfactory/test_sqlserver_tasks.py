"""`runner: sqlserver` tasks: sqlserver-runner's command lines (sqlcmd-style vars, query, copy
with the bcp hints, check), `kerberos: true` mounting the shared ticket cache, and the schema
refusing what sqlserver-runner does not have."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tinyrun_dagfactory import commands, policy, validate_paths
from tinyrun_dagfactory.pipelines import parse_file

PIPELINE = """\
pipeline: mssql
owner: data
tags: [t]
defaults:
  conn: dwh
tasks:
  - id: check
    runner: sqlserver
    kerberos: true
    check: true
  - id: load
    runner: sqlserver
    run: [load.sql]
    vars: {day: "{{ ds }}", batch-size: 3}
    no_transaction: true
  - id: inline
    runner: sqlserver
    sql: "SELECT 1\\nGO 2"
  - id: export
    runner: sqlserver
    query: {sql: SELECT * FROM t, format: ndjson, output: out/t.ndjson}
  - id: tsv
    runner: sqlserver
    query: {sql: SELECT * FROM t, format: tsv, header: true, "null": NA}
  - id: bulk_in
    runner: sqlserver
    copy:
      direction: in
      table: dbo.sales
      file: in/sales.csv
      header: true
      batch_size: 5000
      tablock: true
      check_constraints: true
      fire_triggers: true
  - id: bulk_out
    runner: sqlserver
    copy: {direction: out, table: dbo.sales, format: tsv, file: out/sales.tsv}
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pipelines").mkdir(exist_ok=True)
    (tmp_path / "sql").mkdir(exist_ok=True)
    (tmp_path / "sql" / "load.sql").write_text("SELECT 1\nGO\n")
    path = tmp_path / "pipelines" / "mssql.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_command_lines(tmp_path: Path) -> None:
    spec = parse_file(_write(tmp_path, PIPELINE), root=tmp_path)
    argv = {t.id: commands.argv(t) for t in spec.tasks.values()}
    assert argv == {
        "check": ["check", "--conn", "dwh"],
        "load": ["run", "--conn", "dwh", "-v", "day={{ ds }}", "-v", "batch-size=3", "--no-transaction", "/sql/load.sql"],
        "inline": ["run", "--conn", "dwh", "-c", "SELECT 1\nGO 2"],
        "export": ["query", "--conn", "dwh", "--format", "ndjson", "--output", "/data/out/t.ndjson", "SELECT * FROM t"],
        "tsv": ["query", "--conn", "dwh", "--format", "tsv", "--null", "NA", "--header", "SELECT * FROM t"],
        "bulk_in": [
            "copy", "in", "--conn", "dwh", "--table", "dbo.sales", "--batch-size", "5000", "--header",
            "--tablock", "--check-constraints", "--fire-triggers", "--file", "/data/in/sales.csv",
        ],
        "bulk_out": [
            "copy", "out", "--conn", "dwh", "--table", "dbo.sales", "--format", "tsv", "--file", "/data/out/sales.tsv",
        ],
    }  # fmt: skip
    check = spec.tasks["check"]
    assert commands.environment(check)["KRB5CCNAME"] == policy.KERBEROS_CCNAME
    assert "KRB5CCNAME" not in commands.environment(spec.tasks["load"])


def _errors(tmp_path: Path, text: str) -> list[str]:
    _write(tmp_path, text)
    _, errors = validate_paths([tmp_path / "pipelines"])
    return [str(e).split(": ", 1)[1] for e in errors]


def test_postgres_only_arguments_are_refused(tmp_path: Path) -> None:
    base = "pipeline: p\nowner: o\ntags: [t]\ntasks:\n  - id: a\n    runner: sqlserver\n    conn: dwh\n"
    assert _errors(tmp_path, base + "    sql: SELECT 1\n") == []
    for extra in (
        "    sql: SELECT 1\n    skip_unless: SELECT 1\n",
        "    copy: {direction: out, table: t, format: binary}\n",
        "    copy: {direction: out, table: t, columns: [a]}\n",
        "    query: {sql: SELECT 1, format: parquet}\n",
    ):
        assert _errors(tmp_path, base + extra), extra
