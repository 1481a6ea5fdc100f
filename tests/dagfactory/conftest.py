"""Fixtures of the DAG factory tests: an isolated Airflow home, datakits, image tables.

Airflow reads its configuration when first imported, so this module sets a private AIRFLOW_HOME
(SQLite metadata DB, no examples, its own dags folder) before anything imports Airflow. The
shared fixtures (pg, images_lock, ...) come from tests/conftest.py.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if "airflow" in sys.modules:  # pragma: no cover - a guard for the whole suite's ordering
    raise RuntimeError("tests/dagfactory must configure Airflow before it is imported elsewhere")

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="tinyrun-airflow-"))
AIRFLOW_HOME.chmod(0o755)  # runner containers (uid 65532) read SQL files from datakits in here
if not os.environ.get("TINYRUN_KEEP_TMP"):
    atexit.register(shutil.rmtree, AIRFLOW_HOME, True)
DAGS_FOLDER = AIRFLOW_HOME / "dags"
DAGS_FOLDER.mkdir(mode=0o755)
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME}/airflow.db",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
)
os.environ.pop("TINYRUN_IMAGES_LOCK", None)

REPO = Path(__file__).resolve().parents[2]
COOKIECUTTER = REPO / "cookiecutter"
FAKE_ID = "sha256:" + "ab" * 32


def write_lock(
    path: Path, images: dict[str, str] | None = None, version: str = "0.1.0", digests: dict[str, str] | None = None
) -> Path:
    """An images.lock.json with the given name -> image id (for tests that never start containers),
    and registry digests (name -> pullable reference) as `make push` records them."""
    images = images or {"postgres-runner": FAKE_ID}
    digests = digests or {}
    doc = {
        "version": version,
        "revision": "test",
        "images": {
            n: {
                "image": f"tinyrun/{n}:{version}",
                "tag": version,
                "id": i,
                **({"digest": digests[n]} if n in digests else {}),
            }
            for n, i in images.items()
        },
    }
    path.write_text(json.dumps(doc))
    return path


# Every pod the tests render must be a valid Pod for a current Kubernetes, unknown fields refused
# (what `kubernetes-validate --strict -k 1.33.0` checks).
KUBERNETES_VERSION = "1.33.0"


def assert_valid_pod(manifest: dict[str, Any]) -> None:
    import kubernetes_validate

    assert manifest.get("kind") == "Pod", manifest.get("kind")
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def reset_settings() -> None:
    from tinyrun_dagfactory import policy

    policy.settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name == "TINYRUN_EXECUTOR" or name.startswith(("TINYRUN_DOCKER_", "TINYRUN_K8S_", "TINYRUN_IMAGES_")):
            monkeypatch.delenv(name)
    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def fake_lock(tmp_path: Path) -> Path:
    return write_lock(tmp_path / "images.lock.json")


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The metadata DB (SQLite) under the private AIRFLOW_HOME, created once."""
    from airflow.utils import db

    db.initdb()
    return AIRFLOW_HOME


def make_datakit(parent: Path, lock: Path, name: str = "Test Kit", executor: str = "docker", **extra: str) -> Path:
    """Generate a datakit from cookiecutter/ with the image table ``lock``; returns its folder."""
    from cookiecutter.main import cookiecutter

    env = {"TINYRUN_IMAGES_LOCK": str(lock)}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        out = cookiecutter(
            str(COOKIECUTTER),
            no_input=True,
            output_dir=str(parent),
            extra_context={"datakit_name": name, "executor": executor, **extra},
        )
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    path = Path(out)
    for p in [path, *path.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return path


def dagbag(folder: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder))


def datakit_in_dags_folder(src: Path, name: str) -> Path:
    """Copy a datakit into the Airflow dags folder (dag.test() syncs that bundle)."""
    dest = DAGS_FOLDER / name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest)
    return dest


def run_make(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
