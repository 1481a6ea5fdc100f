"""cookiecutter/: a datakit is generated, its own tests pass and its DAGs import in real Airflow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, dagbag, make_datakit, write_lock


@pytest.fixture
def build_lock(tmp_path: Path) -> Path:
    """This build's images.lock.json when `make images` ran, else a stand-in table (no containers here)."""
    real = REPO / "build" / "images.lock.json"
    return real if real.exists() else write_lock(tmp_path / "images.lock.json")


def test_generated_datakit_tests_pass_and_dags_import(tmp_path: Path, build_lock: Path, airflow_db: Path) -> None:
    kit = make_datakit(tmp_path, build_lock, name="Finance Kit", owner="team-finance", description="Finance pipelines")
    for rel in (
        "pipelines/example/orders_daily.yaml",
        "pipelines/defaults.yaml",
        "dags/pipelines.py",
        "sql/example/load_orders.sql",
        "dbt/README.md",
        "runners.lock",
        "docker-compose.override.yml",
        "compose.yaml",
        "compose.mk",
        "Dockerfile",
        ".dockerignore",
        "Makefile",
        "tests/test_pipelines.py",
        "README.md",
        ".tinyrun/pipeline.schema.json",
    ):
        assert (kit / rel).is_file(), rel

    lock = json.loads(build_lock.read_text())
    runners = json.loads((kit / "runners.lock").read_text())
    assert runners["version"] == lock["version"]
    assert runners["images"] == {n: {k: e[k] for k in ("image", "tag", "id")} for n, e in lock["images"].items()}
    assert f"runners\n`{lock['version']}`" in (kit / "README.md").read_text()

    # the compose path: Airflow's own services, none of them with the ticket (only runner containers
    # get it, from the factory); the override gives the scheduler the engine and the host paths
    compose = yaml.safe_load((kit / "compose.yaml").read_text())
    assert {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"} <= set(
        compose["services"]
    )
    override = yaml.safe_load((kit / "docker-compose.override.yml").read_text())
    scheduler = override["services"]["airflow-scheduler"]
    assert "${TINYRUN_DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock" in scheduler["volumes"]
    assert scheduler["environment"]["TINYRUN_DOCKER_SQL_HOST_DIR"] == "${PWD}/sql"
    for doc in (compose, override):
        for name, service in doc["services"].items():
            assert not [v for v in service.get("volumes", []) if "krb5" in v or "kerberos" in v], name

    done = subprocess.run(
        ["make", "test", f"PYTHON={sys.executable}"], cwd=kit, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout

    bag = dagbag(kit / "dags")
    assert bag.import_errors == {}
    assert bag.dag_ids == ["finance_kit_orders_daily"]
    assert bag.dags["finance_kit_orders_daily"].owner == "team-finance"


def test_datakit_tests_catch_a_broken_pipeline(tmp_path: Path, airflow_db: Path) -> None:
    kit = make_datakit(tmp_path, write_lock(tmp_path / "lock.json"), name="Broken Kit")
    (kit / "pipelines" / "bad.yaml").write_text("pipeline: bad\ntags: [x]\ntasks:\n  - {id: a, runner: nope}\n")
    done = subprocess.run(
        ["make", "validate", f"PYTHON={sys.executable}"],
        cwd=kit,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode != 0
    assert "\npipelines/bad.yaml:4: bad/a: runner: 'nope' is not one of" in done.stdout


def test_runner_version_must_be_a_build_with_known_image_ids(tmp_path: Path) -> None:
    from cookiecutter.exceptions import FailedHookException

    with pytest.raises(FailedHookException):
        make_datakit(tmp_path, write_lock(tmp_path / "lock.json"), name="Old Kit", runner_version="0.0.9")
    assert not (tmp_path / "old_kit").exists()


def test_no_images_built_is_a_clear_error(tmp_path: Path) -> None:
    from cookiecutter.exceptions import FailedHookException

    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"built": False, "version": "", "revision": "", "images": {}}))
    with pytest.raises(FailedHookException):
        make_datakit(tmp_path, empty, name="Early Kit")
