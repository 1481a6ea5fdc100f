"""`runner: dbt` tasks: validation (a pinned team dbt image, a connection), dbt-runner's command
line, and the same image and arguments under Docker and Kubernetes (pods rendered offline by the
provider's own code and validated as Kubernetes Pods)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_ID, assert_valid_pod, write_lock
from tinyrun_dagfactory import validate_paths

TEAM_DIGEST = "127.0.0.1:5000/team/dbt@sha256:" + "d8" * 32
TEAM_ID = "sha256:" + "b7" * 32

GOOD = f"""\
pipeline: marts
owner: data
tags: [t]
tasks:
  - id: build
    runner: dbt
    image: {TEAM_DIGEST}
    conn: warehouse
    command: build
    select: [tag:daily, marts]
    exclude: tiers_are_known
    project_dir: /project
    target: prod
    vars: {{day: "{{{{ ds }}}}", limit: 3}}
    full_refresh: true
    threads: 4
  - id: freshness
    runner: dbt
    image: {TEAM_DIGEST}
    conn: warehouse
    command: source freshness
    depends_on: [build]
"""


def _errors(tmp_path: Path, text: str) -> list[str]:
    folder = tmp_path / "pipelines"
    folder.mkdir(exist_ok=True)
    (folder / "p.yaml").write_text(textwrap.dedent(text))
    _, errors = validate_paths([folder])
    return [str(e).replace(str(folder) + "/", "") for e in errors]


def _edit(old: str, new: str, text: str = GOOD) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_good_dbt_pipeline_is_valid(tmp_path: Path) -> None:
    assert _errors(tmp_path, GOOD) == []


@pytest.mark.parametrize(
    ("text", "start"),
    [
        (_edit(TEAM_DIGEST, "team/dbt:1.10"), "p.yaml:7: marts/build: image: 'team/dbt:1.10' is not pinned"),
        (_edit(f"    image: {TEAM_DIGEST}\n", ""), "p.yaml:5: marts/build: image: missing required field"),
        (_edit("    conn: warehouse\n", ""), "p.yaml:5: marts/build: conn: missing required field (dbt's profile"),
        (_edit("command: build", "command: deps"), "p.yaml:9: marts/build: command: 'deps' is not one of: build, run, test"),
        (_edit("threads: 4", "threads: 0"), "p.yaml:16: marts/build: threads: 0 is less than the minimum of 1"),
        (
            _edit("tags: [t]\n", "tags: [t]\nexecutor: kubernetes\n", _edit(TEAM_DIGEST, TEAM_ID)),
            "p.yaml:8: marts/build: image: an image ID is local to one Docker engine",
        ),
    ],
    ids=["bare-tag", "no-image", "no-conn", "unknown-command", "zero-threads", "image-id-on-kubernetes"],
)
def test_dbt_task_errors_name_file_line_and_field(tmp_path: Path, text: str, start: str) -> None:
    errors = _errors(tmp_path, text)
    assert len(errors) == 1 and errors[0].startswith(start), errors


ARGV = [
    "build",
    "--conn",
    "warehouse",
    "--select",
    "tag:daily",
    "--select",
    "marts",
    "--exclude",
    "tiers_are_known",
    "--project-dir",
    "/project",
    "--target",
    "prod",
    "--vars",
    '{"day":"{{ ds }}","limit":3}',
    "--full-refresh",
    "--threads",
    "4",
]


def _dags(tmp_path: Path, lock: Path) -> tuple[Any, Any]:
    from tinyrun_dagfactory.build import build_dag
    from tinyrun_dagfactory.images import load_table
    from tinyrun_dagfactory.pipelines import parse_file

    path = tmp_path / "pipelines" / "p.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(GOOD)
    spec = parse_file(path, root=tmp_path)
    table = load_table(lock)
    return build_dag(spec, table, "docker"), build_dag(spec, table, "kubernetes")


def test_same_image_and_arguments_under_docker_and_kubernetes(tmp_path: Path, airflow_db: Path) -> None:
    from tinyrun_dagfactory.render import pod_manifest

    # the team image holds dbt-runner: the table needs no dbt-runner image for either executor
    lock = write_lock(tmp_path / "images.lock.json", {"postgres-runner": FAKE_ID})
    docker_dag, kube_dag = _dags(tmp_path, lock)
    build, fresh = docker_dag.task_dict["build"], docker_dag.task_dict["freshness"]
    assert build.image == TEAM_DIGEST and build.command == ARGV
    assert json.loads(build.command[14]) == {"day": "{{ ds }}", "limit": 3}
    assert fresh.command == ["source", "freshness", "--conn", "warehouse"]
    assert build.tinyrun_connections == ["warehouse"] and build.skip_on_exit_code == [99]
    for task_id, argv in (("build", ARGV), ("freshness", fresh.command)):
        pod = pod_manifest(kube_dag.task_dict[task_id])
        assert_valid_pod(pod)
        (base,) = [c for c in pod["spec"]["containers"] if c["name"] == "base"]
        assert base["image"] == TEAM_DIGEST and base["args"] == argv
        assert not base.get("command")  # the image's ENTRYPOINT, dbt-runner, runs
        assert not pod["spec"].get("initContainers")
        assert base["securityContext"]["readOnlyRootFilesystem"] is True
        assert "/tmp" in {m["mountPath"] for m in base["volumeMounts"]}  # dbt-runner's --workdir
