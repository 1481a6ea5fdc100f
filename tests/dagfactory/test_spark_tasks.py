"""`runner: spark` tasks: the job spec inline or from a datakit file (read at parse time and handed
to spark-submit-runner as --job-json), a pinned team Spark image, the task's connections; the same
argv under Docker and Kubernetes (pods rendered offline by the provider's code and validated)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_ID, assert_valid_pod, reset_settings, write_lock
from tinyrun_dagfactory import validate_paths

TEAM_DIGEST = "127.0.0.1:5000/team/spark@sha256:" + "5a" * 32
TEAM_ID = "sha256:" + "b3" * 32

GOOD = f"""\
pipeline: sp
owner: data
tags: [t]
tasks:
  - id: agg
    runner: spark
    image: {TEAM_DIGEST}
    connections: [warehouse]
    job:
      application: /opt/jobs/agg.py
      master: local[2]
      conf:
        spark.sql.shuffle.partitions: 4
      connections: [warehouse]
    args: [--day, "{{{{ ds }}}}"]
  - id: from_file
    runner: spark
    image: {TEAM_ID}
    job: spark/report.yaml
    depends_on: [agg]
"""

REPORT_YAML = """\
application: /opt/jobs/report.jar
main_class: com.example.Report
master: local[1]
driver_memory: 512m
"""


def _write(tmp_path: Path, text: str, job_file: str | None = REPORT_YAML) -> Path:
    folder = tmp_path / "pipelines"
    folder.mkdir(exist_ok=True)
    (folder / "p.yaml").write_text(textwrap.dedent(text))
    if job_file is not None:
        (tmp_path / "spark").mkdir(exist_ok=True)
        (tmp_path / "spark" / "report.yaml").write_text(job_file)
    return folder


def _errors(tmp_path: Path, text: str, job_file: str | None = REPORT_YAML) -> list[str]:
    folder = _write(tmp_path, text, job_file)
    _, errors = validate_paths([folder])
    return [str(e).replace(str(folder) + "/", "") for e in errors]


def test_good_spark_pipeline_is_valid(tmp_path: Path) -> None:
    assert _errors(tmp_path, GOOD) == []


@pytest.mark.parametrize(
    ("old", "new", "job_file", "expected"),
    [
        (TEAM_DIGEST, "team/spark:3.5", REPORT_YAML, "sp/agg: image: 'team/spark:3.5' is not pinned"),
        ("job: spark/report.yaml", "job: spark/none.yaml", REPORT_YAML, "cannot read the job spec spark/none.yaml"),
        ("job: spark/report.yaml", "job: ../outside.json", REPORT_YAML, "'../outside.json' is outside the datakit"),
        ("master: local[2]", "mastr: local[2]", REPORT_YAML, "unknown job field 'mastr'"),
        ("connections: [warehouse]\n    job", "job", REPORT_YAML, "connections ['warehouse'] that the task does not"),
        ("job: spark/report.yaml", "job: spark/report.yaml", "- a list\n", "the job spec must be a mapping"),
        ("master: local[2]", "master: k8s://https://api:6443", REPORT_YAML, None),
        ("job: spark/report.yaml", "job: spark/report.yaml", "master: k8s://https://api\napplication: a.py\n",
         "a k8s:// job's driver and executors pull this image: pin it by registry digest"),
    ],
)
def test_spark_task_errors_name_the_field(
    tmp_path: Path, old: str, new: str, job_file: str, expected: str | None
) -> None:
    assert old in GOOD
    errors = _errors(tmp_path, GOOD.replace(old, new, 1), job_file)
    if expected is None:
        assert errors == []
    else:
        assert any(expected in e for e in errors), errors
        assert all(e.startswith("p.yaml:") for e in errors), errors


def _dags(tmp_path: Path, text: str = GOOD) -> tuple[Any, Any]:
    from tinyrun_dagfactory.build import build_dag
    from tinyrun_dagfactory.images import load_table
    from tinyrun_dagfactory.pipelines import parse_file

    _write(tmp_path, text)
    spec = parse_file(tmp_path / "pipelines" / "p.yaml", root=tmp_path)
    table = load_table(write_lock(tmp_path / "images.lock.json", {"postgres-runner": FAKE_ID}))
    return build_dag(spec, table, "docker"), build_dag(spec, table, "kubernetes")


AGG_ARGV = [
    "submit",
    "--job-json",
    json.dumps(
        {
            "application": "/opt/jobs/agg.py",
            "conf": {"spark.sql.shuffle.partitions": 4},
            "connections": ["warehouse"],
            "master": "local[2]",
        },
        sort_keys=True,
        separators=(",", ":"),
    ),
    "--conn",
    "warehouse",
    "--",
    "--day",
    "{{ ds }}",
]


def test_same_argv_under_docker_and_kubernetes(tmp_path: Path, airflow_db: Path) -> None:
    from tinyrun_dagfactory.render import pod_manifest

    docker_dag, kube_dag = _dags(tmp_path)
    agg, report = docker_dag.task_dict["agg"], docker_dag.task_dict["from_file"]
    assert agg.image == TEAM_DIGEST and agg.tinyrun_image_id is None  # the team's image, its digest pins it
    assert agg.command == AGG_ARGV
    assert agg.tinyrun_connections == ["warehouse"]  # the secret travels as a file, never in argv
    assert report.image == TEAM_ID and report.tinyrun_image_id == TEAM_ID
    job = json.loads(report.command[2])  # the datakit file, read at parse time
    assert job == {
        "application": "/opt/jobs/report.jar",
        "driver_memory": "512m",
        "main_class": "com.example.Report",
        "master": "local[1]",
    }
    assert report.command[3:] == ["--"]

    pod = pod_manifest(kube_dag.task_dict["agg"])
    assert_valid_pod(pod)
    base = next(c for c in pod["spec"]["containers"] if c["name"] == "base")
    assert base["image"] == TEAM_DIGEST
    assert not base.get("command")  # the image's ENTRYPOINT is spark-submit-runner
    assert base["args"] == AGG_ARGV
    env = {e["name"]: e for e in base["env"]}
    assert env["AIRFLOW_CONN_WAREHOUSE"]["valueFrom"]["secretKeyRef"] == {
        "name": "airflow-conn-warehouse",
        "key": "uri",
    }


def test_k8s_master_gets_the_platform_policy(
    tmp_path: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinyrun_dagfactory.render import pod_manifest

    monkeypatch.setenv("TINYRUN_K8S_NAMESPACE", "data-team")
    monkeypatch.setenv("TINYRUN_K8S_SECRET_PREFIX", "conn-")
    reset_settings()
    text = GOOD.replace("master: local[2]", "master: k8s://https://api:6443\n      deploy_mode: cluster")
    docker_dag, kube_dag = _dags(tmp_path, text)
    argv = docker_dag.task_dict["agg"].command
    tail = argv[argv.index("--k8s-image") : argv.index("--")]
    assert tail == ["--k8s-image", TEAM_DIGEST, "--k8s-conn-secret-prefix", "conn-", "--k8s-namespace", "data-team"]
    pod = pod_manifest(kube_dag.task_dict["agg"])
    assert_valid_pod(pod)
    base = next(c for c in pod["spec"]["containers"] if c["name"] == "base")
    assert base["args"] == argv
