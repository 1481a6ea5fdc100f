"""`runner: deploy-model` tasks: validation (models folder, targets, mode), model-deployer's command
line, the models folder mounted read-only at /models (a bind mount on Docker, a ConfigMap on
Kubernetes, the pod validated offline) and every target's connection reaching the container."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_ID, assert_valid_pod, write_lock
from tinyrun_dagfactory import validate_paths

DIGEST = "127.0.0.1:5000/tinyrun/model-deployer@sha256:" + "4d" * 32

GOOD = """\
pipeline: models
owner: data
tags: [t]
tasks:
  - id: deploy
    runner: deploy-model
    models: models
    targets: [bu1, bu2]
    mode: apply
  - id: check
    runner: deploy-model
    models: models
    targets: [bu3]
    mode: drift
    depends_on: [deploy]
"""


def _kit(tmp_path: Path, text: str = GOOD) -> Path:
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / "t.yml").write_text(
        "schema: s\ntable: t\ncolumns: [{name: id, type: int}]\n"
    )
    folder = tmp_path / "pipelines"
    folder.mkdir(exist_ok=True)
    (folder / "p.yaml").write_text(textwrap.dedent(text))
    return folder / "p.yaml"


def _errors(tmp_path: Path, text: str) -> list[str]:
    path = _kit(tmp_path, text)
    _, errors = validate_paths([path.parent])
    return [str(e).replace(str(path.parent) + "/", "") for e in errors]


def test_good_deploy_model_pipeline_is_valid(tmp_path: Path) -> None:
    assert _errors(tmp_path, GOOD) == []


CASES = {
    "missing folder": (
        GOOD.replace(
            "models: models\n    targets: [bu3]", "models: nope\n    targets: [bu3]"
        ),
        "p.yaml:12: models/check: models: models folder not found",
    ),
    "bad mode": (
        GOOD.replace("mode: drift", "mode: destroy"),
        "p.yaml:14: models/check: mode: 'destroy' is not one of",
    ),
    "no targets": (
        GOOD.replace("targets: [bu3]", "targets: []"),
        "models/check: targets:",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_deploy_model_errors_name_file_line_and_field(
    tmp_path: Path, case: str
) -> None:
    text, expected = CASES[case]
    errors = _errors(tmp_path, text)
    assert any(expected in e for e in errors), errors


def _dags(tmp_path: Path, lock: Path) -> tuple[Any, Any]:
    from tinyrun_dagfactory.build import build_dag
    from tinyrun_dagfactory.images import load_table
    from tinyrun_dagfactory.pipelines import parse_file

    spec = parse_file(_kit(tmp_path), root=tmp_path)
    table = load_table(lock)
    return build_dag(spec, table, "docker"), build_dag(spec, table, "kubernetes")


def test_docker_and_kubernetes_see_the_models_folder(
    tmp_path: Path, airflow_db: Path
) -> None:
    from tinyrun_dagfactory.render import pod_manifest

    lock = write_lock(
        tmp_path / "images.lock.json",
        {"model-deployer": FAKE_ID},
        digests={"model-deployer": DIGEST},
    )
    docker_dag, kube_dag = _dags(tmp_path, lock)
    deploy = docker_dag.task_dict["deploy"]
    assert deploy.command == ["apply", "--models", "/models", "--targets", "bu1,bu2"]
    assert docker_dag.task_dict["check"].command == [
        "drift",
        "--models",
        "/models",
        "--targets",
        "bu3",
    ]
    assert deploy.tinyrun_connections == ["bu1", "bu2"]
    (mount,) = [m for m in deploy.mounts if m["Target"] == "/models"]
    assert (
        mount["Source"] == str((tmp_path / "models").resolve())
        and mount["ReadOnly"] is True
    )
    pod = pod_manifest(kube_dag.task_dict["deploy"])
    assert_valid_pod(pod)
    spec = pod["spec"]
    (container,) = [c for c in spec["containers"] if c["name"] == "base"]
    assert container["args"] == ["apply", "--models", "/models", "--targets", "bu1,bu2"]
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in container[
        "volumeMounts"
    ]
    assert {"name": "models", "configMap": {"name": "tinyrun-models"}} in spec[
        "volumes"
    ]
    envs = {e["name"] for e in container["env"]}
    assert {"AIRFLOW_CONN_BU1", "AIRFLOW_CONN_BU2"} <= envs
