"""The factory on the latest Airflow 2.x line (2.11), in a second pinned venv.

The venv (build/venv-airflow2, from dagfactory/requirements-airflow2.txt) is built on first use
and reused while the pins do not change. If it cannot be built here (no package index), the test
is skipped and says why. Covered on 2.x: DagBag import of a cookiecutter datakit, a broken file
as its own import error, the platform policy, and KubernetesPodOperator pods rendered offline.
Not on 2.x: the end-to-end container runs (they run on 3.x in test_e2e_docker.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import FAKE_ID, REPO, assert_valid_pod, make_datakit, write_lock

REQS = REPO / "dagfactory" / "requirements-airflow2.txt"
VENV = REPO / "build" / "venv-airflow2"


def airflow2_python() -> Path:
    digest = hashlib.sha256(REQS.read_bytes()).hexdigest()
    stamp = VENV / ".stamp"
    python = VENV / "bin" / "python"
    if stamp.exists() and stamp.read_text() == digest and python.exists():
        return python
    shutil.rmtree(VENV, ignore_errors=True)
    steps = [
        ["python3", "-m", "venv", str(VENV)],
        [str(VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "pip==24.3.1"],
        [str(VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "-r", str(REQS)],
        [
            str(VENV / "bin" / "pip"),
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "-e",
            str(REPO / "dagfactory"),
        ],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            shutil.rmtree(VENV, ignore_errors=True)
            pytest.skip(f"Airflow 2.x venv cannot be built here ({' '.join(step[:3])}...): {done.stderr[-500:]}")
    stamp.write_text(digest)
    return python


def test_factory_on_airflow_2(tmp_path: Path) -> None:
    python = airflow2_python()
    lock = write_lock(tmp_path / "images.lock.json")
    kit = make_datakit(tmp_path, lock, name="Two Kit", executor="kubernetes")
    (kit / "pipelines" / "docker.yaml").write_text(
        textwrap.dedent("""\
        pipeline: on_docker
        tags: [x]
        executor: docker
        tasks:
          - {id: a, runner: postgres, sql: select 1}
        """)
    )
    broken = kit / "pipelines" / "broken.yaml"
    broken.write_text("pipeline: broken\ntags: [x]\ntasks:\n  - {id: a, runner: postgres, sql: x, retries: -1}\n")
    home = tmp_path / "airflow2-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TINYRUN_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(kit / "dags"),
            "TINYRUN_K8S_NAMESPACE": "pipelines",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        }
    )
    done = subprocess.run(
        [str(python), str(Path(__file__).with_name("airflow2_check.py")), str(kit / "dags"), str(broken)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])

    assert out["airflow"].startswith("2.")
    assert out["dag_ids"] == ["on_docker", "two_kit_orders_daily"]
    assert list(out["import_errors"]) == [str(broken)]
    assert out["import_errors"][str(broken)] == f"{broken}:4: broken/a: retries: -1 is less than the minimum of 0"
    docker = out["tasks"]["on_docker.a"]
    assert docker["class"] == "TinyrunDockerOperator" and docker["backoff"] is True and docker["skip"] == [99]
    assert docker["command"] == ["run", "--conn", "warehouse", "-c", "select 1"]
    pod = out["tasks"]["two_kit_orders_daily.load_orders"]["pod"]
    base = pod["spec"]["containers"][0]
    assert base["image"] == "tinyrun/postgres-runner:0.1.0"
    assert pod["metadata"]["annotations"]["tinyrun.dev/image-id"] == FAKE_ID
    assert base["args"] == ["run", "--conn", "warehouse", "-v", "day=2024-05-06", "/sql/example/load_orders.sql"]
    env_by_name = {e["name"]: e for e in base["env"]}
    assert env_by_name["AIRFLOW_CONN_WAREHOUSE"]["valueFrom"]["secretKeyRef"] == {
        "name": "airflow-conn-warehouse",
        "key": "uri",
    }
    assert env_by_name["TINYRUN_DAG_ID"]["value"] == "two_kit_orders_daily"
    assert base["securityContext"]["readOnlyRootFilesystem"] is True
    assert base["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    pods = [t["pod"] for t in out["tasks"].values() if "pod" in t]
    assert len(pods) == 5
    for each in pods:
        assert_valid_pod(each)
