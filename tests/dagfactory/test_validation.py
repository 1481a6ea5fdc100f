"""Validation: broken pipelines give the right error at the right file and line; no Airflow needed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
from tinyrun_dagfactory import parse_file, validate_paths
from tinyrun_dagfactory.errors import PipelineFileError
from tinyrun_dagfactory.schema import schema

GOOD = """\
pipeline: p1
owner: team-a
tags: [t]
tasks:
  - id: a
    runner: postgres
    conn: wh
    sql: select 1
  - id: b
    runner: postgres
    conn: wh
    depends_on: [a]
    run: x.sql
"""


def kit(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "sql").mkdir(exist_ok=True)
    (tmp_path / "sql" / "x.sql").write_text("select 1;\n")
    for name, text in files.items():
        path = tmp_path / "pipelines" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path / "pipelines"


def errors_of(tmp_path: Path, text: str) -> list[str]:
    folder = kit(tmp_path, {"p.yaml": text})
    _, errors = validate_paths([folder])
    return [str(e).replace(str(folder) + "/", "") for e in errors]


def edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_good_pipeline_is_valid(tmp_path: Path) -> None:
    assert errors_of(tmp_path, GOOD) == []


CASES = {
    "unknown runner": (
        edit(GOOD, "runner: postgres\n    conn: wh\n    sql", "runner: mysql\n    conn: wh\n    sql"),
        ["p.yaml:6: p1/a: runner: 'mysql' is not one of: postgres, sqlserver, python, dbt, spark, deploy-model"],
    ),
    "missing dependency": (
        edit(GOOD, "depends_on: [a]", "depends_on: [a, nope]"),
        ["p.yaml:12: p1/b: depends_on: unknown task or group 'nope'"],
    ),
    "cycle": (
        edit(GOOD, "    sql: select 1\n", "    sql: select 1\n    depends_on: [b]\n"),
        ["p.yaml:9: p1/a: depends_on: dependency cycle: a -> b -> a"],
    ),
    "unknown field": (
        edit(GOOD, "    run: x.sql\n", "    run: x.sql\n    retires: 3\n"),
        ["p.yaml:14: p1/b: retires: unknown field"],
    ),
    "wrong type": (
        edit(GOOD, "    run: x.sql\n", "    run: x.sql\n    retries: three\n"),
        ["p.yaml:14: p1/b: retries: expected integer, got text"],
    ),
    "literal password field": (
        edit(GOOD, "    run: x.sql\n", "    run: x.sql\n    password: hunter2\n"),
        [
            (
                "p.yaml:14: p1/b: password: literal secret in YAML (field 'password'): put it in an Airflow "
                "connection and list the connection id under `connections`"
            )
        ],
    ),
    "password in a URI": (
        edit(GOOD, "    run: x.sql\n", "    run: x.sql\n    env:\n      DSN: postgres://bob:s3cret@db/x\n"),
        ["p.yaml:15: p1/b: env.DSN: literal password in a connection URI: use an Airflow connection id instead"],
    ),
    "password in vars": (
        edit(GOOD, "    sql: select 1\n", "    sql: select 1\n    vars: {db_password: x}\n"),
        [
            (
                "p.yaml:9: p1/a: vars.db_password: literal secret in YAML (field 'db_password'): put it in an "
                "Airflow connection and list the connection id under `connections`"
            )
        ],
    ),
    "duplicate id": (
        edit(GOOD, "  - id: b", "  - id: a"),
        [
            "p.yaml:9: p1/a: id: duplicate task or group id (first at line 5)",
            "p.yaml:12: p1/a: depends_on: depends on itself",
        ],
    ),
    "missing sql file": (
        edit(GOOD, "run: x.sql", "run: [x.sql, y.sql]"),
        ["p.yaml:13: p1/b: run: SQL file not found: {root}/sql/y.sql"],
    ),
    "two sql modes": (
        edit(GOOD, "    sql: select 1\n", "    sql: select 1\n    check: true\n"),
        ["p.yaml:9: p1/a: check: exactly one of run, sql, query, copy, check is required (got sql, check)"],
    ),
    "no connection": (
        edit(GOOD, "    conn: wh\n    sql", "    sql"),
        ["p.yaml:5: p1/a: conn: missing required field (a connection id, in the task or in defaults)"],
    ),
    "missing owner": (
        edit(GOOD, "owner: team-a\n", ""),
        ["p.yaml:1: p1: owner: missing required field (platform policy; may come from a defaults.yaml)"],
    ),
    "bad duration": (
        edit(GOOD, "    run: x.sql\n", "    run: x.sql\n    timeout: 5 minutes\n"),
        [
            (
                "p.yaml:14: p1/b: timeout: invalid value '5 minutes': Seconds as an integer, or a number with "
                "a unit: 90s, 5m, 2h, 1d."
            )
        ],
    ),
    "over the platform limit": (
        edit(GOOD, "    run: x.sql\n", "    run: x.sql\n    retries: 50\n"),
        ["p.yaml:14: p1/b: retries: at most 10 (platform limit)"],
    ),
    "missing required field": (
        edit(GOOD, "  - id: b\n    runner: postgres\n", "  - id: b\n"),
        ["p.yaml:9: p1/b: runner: missing required field"],
    ),
    "ambiguous memory": (
        edit(GOOD, "    run: x.sql\n", "    run: x.sql\n    resources: {cpu: 500m, memory: 512m}\n"),
        [
            (
                "p.yaml:14: p1/b: resources.memory: memory '512m' is ambiguous: to Kubernetes 'm' means a "
                "fraction of a byte. Write 512Mi (mebibytes) or 512M (megabytes)"
            )
        ],
    ),
    "memory not a quantity": (
        edit(GOOD, "    run: x.sql\n", "    run: x.sql\n    resources:\n      memory: 512MB\n"),
        [
            (
                "p.yaml:15: p1/b: resources.memory: invalid value '512MB': Bytes as a Kubernetes quantity: "
                "512Mi, 1Gi (binary) or 500M, 1G (decimal)."
            )
        ],
    ),
    "cpu finer than a millicore": (
        edit(GOOD, "    run: x.sql\n", "    run: x.sql\n    resources: {cpu: 0.0005}\n"),
        ["p.yaml:14: p1/b: resources.cpu: cpu '0.0005' is finer than Kubernetes' 1m precision"],
    ),
    "memory over the platform limit": (
        edit(GOOD, "    run: x.sql\n", "    run: x.sql\n    resources: {memory: 33Gi}\n"),
        ["p.yaml:14: p1/b: resources.memory: memory above the platform limit of 32768Mi"],
    ),
    "copy in without a file": (
        edit(GOOD, "    run: x.sql\n", "    copy: {direction: in, table: sales}\n"),
        ["p.yaml:13: p1/b: copy: copy in needs `file` (a file under the data folder, mounted at /data)"],
    ),
    "not YAML": (
        "pipeline: p1\ntasks: [\n",
        ["p.yaml:3: -: -: invalid YAML: did not find expected node content"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_pipeline_reports_file_line_and_field(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    assert errors_of(tmp_path, text) == [e.format(root=tmp_path) for e in expected]


def test_one_broken_file_does_not_hide_the_others(tmp_path: Path) -> None:
    bad = edit(GOOD, "pipeline: p1", "pipeline: p2")
    bad = bad.replace("runner: postgres\n    conn: wh\n    sql", "runner: x\n    conn: wh\n    sql")
    folder = kit(tmp_path, {"a/good.yaml": GOOD, "b/bad.yaml": bad})
    count, errors = validate_paths([folder])
    assert count == 2
    assert {Path(e.file).name for e in errors} == {"bad.yaml"}


def test_defaults_merge_down_the_tree(tmp_path: Path) -> None:
    folder = kit(
        tmp_path,
        {
            "defaults.yaml": "owner: team-root\ntags: [root]\ndefaults: {conn: wh, retries: 1, env: {A: '1'}}\n",
            "sales/defaults.yaml": "tags: [sales]\ndefaults: {retries: 3, env: {B: '2'}}\n",
            "sales/daily.yaml": """\
            pipeline: daily
            tasks:
              - {id: a, runner: postgres, sql: select 1}
              - {id: b, runner: postgres, sql: select 1, retries: 0, conn: other, env: {A: x}}
            """,
        },
    )
    spec = parse_file(folder / "sales" / "daily.yaml")
    assert spec.owner == "team-root"
    assert spec.tags == ["root", "sales", "tinyrun"]
    a, b = spec.tasks["a"], spec.tasks["b"]
    assert (a.conn, a.retries, a.env) == ("wh", 3, {"A": "1", "B": "2"})
    assert (b.conn, b.retries, b.env) == ("other", 0, {"A": "x", "B": "2"})


def test_broken_defaults_file_is_reported_with_its_own_line(tmp_path: Path) -> None:
    folder = kit(tmp_path, {"defaults.yaml": "owner: x\ndefaults:\n  retries: many\n", "p.yaml": GOOD})
    with pytest.raises(PipelineFileError) as exc:
        parse_file(folder / "p.yaml")
    assert str(exc.value) == f"{folder}/defaults.yaml:3: -: defaults.retries: expected integer, got text"


def test_groups_and_group_dependencies(tmp_path: Path) -> None:
    folder = kit(
        tmp_path,
        {
            "p.yaml": """\
        pipeline: g
        owner: o
        tags: [t]
        defaults: {conn: wh}
        tasks:
          - {id: first, runner: postgres, check: true}
          - group: marts
            depends_on: [first]
            tasks:
              - {id: m1, runner: postgres, sql: select 1}
              - {id: m2, runner: postgres, sql: select 2, depends_on: [m1]}
          - {id: last, runner: postgres, sql: select 3, depends_on: [marts]}
        """
        },
    )
    spec = parse_file(folder / "p.yaml")
    assert [t.airflow_id for t in spec.tasks.values()] == ["first", "marts.m1", "marts.m2", "last"]
    from tinyrun_dagfactory.checks import task_edges

    assert task_edges(spec) == {"first": set(), "m1": {"first"}, "m2": {"first", "m1"}, "last": {"m1", "m2"}}


@pytest.mark.parametrize("case", sorted(c for c in CASES if c != "not YAML"))
def test_published_schema_and_fast_checks_agree(case: str) -> None:
    """Editors use the published schema; the factory its flat twins: same verdict on every case."""
    from tinyrun_dagfactory import schema as S
    from tinyrun_dagfactory.yamlio import load_text

    doc = load_text(CASES[case][0])
    published_ok = not list(jsonschema.Draft202012Validator(schema()).iter_errors(doc))
    assert published_ok == (not S.validate(doc, "f", "p"))
    assert published_ok == S._fast_valid(doc, "pipeline")


def test_published_schema_is_valid_and_accepts_the_example() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    example = Path(__file__).resolve().parents[2] / "cookiecutter"
    assert (example / "cookiecutter.json").exists()
    doc = {
        "pipeline": "x",
        "owner": "o",
        "tags": ["t"],
        "tasks": [{"id": "a", "runner": "postgres", "conn": "c", "query": {"sql": "select 1", "format": "csv"}}],
    }
    assert not list(jsonschema.Draft202012Validator(schema()).iter_errors(doc))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tinyrun_dagfactory", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_cli_validate_exit_codes_and_format(tmp_path: Path) -> None:
    folder = kit(
        tmp_path,
        {
            "good.yaml": GOOD,
            "bad.yaml": edit(GOOD, "pipeline: p1", "pipeline: p2").replace("depends_on: [a]", "depends_on: [zz]"),
        },
    )
    bad = _cli("validate", str(folder))
    assert bad.returncode == 1
    assert bad.stdout == f"{folder}/bad.yaml:12: p2/b: depends_on: unknown task or group 'zz'\n"
    assert "2 pipeline file(s), 1 with errors, 1 error(s)" in bad.stderr
    good = _cli("validate", str(folder / "good.yaml"))
    assert (good.returncode, good.stdout) == (0, "")


def test_cli_graph_and_schema(tmp_path: Path) -> None:
    folder = kit(tmp_path, {"good.yaml": GOOD})
    graph = _cli("graph", str(folder))
    assert graph.returncode == 0, graph.stderr
    assert "  b  (postgres)  <- a" in graph.stdout
    assert graph.stdout.rstrip().endswith("order: a -> b")
    out = _cli("schema")
    assert json.loads(out.stdout)["title"] == "tinyrun pipeline"
