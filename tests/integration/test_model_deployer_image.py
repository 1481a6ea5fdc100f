"""The model-deployer image, run as Airflow's DockerOperator runs it (read-only root, uid 65532,
host network, connections in the environment): the models folder mounted read-only at /models
(as the DAG factory mounts it), apply to two units (PostgreSQL, and SQL Server over verified TLS),
then drift finds nothing."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import docker as hdocker
from harness.pgcluster import PASSWORD, PgCluster
from harness.result import RunResult
from mssql import mssql_env
from tds.server import TdsServer

MODELS = Path(__file__).parent / "model_deployer"


@pytest.fixture
def image(images_lock: dict[str, Any]) -> str:
    entry = images_lock.get("images", {}).get("model-deployer")
    if not entry or not hdocker.image_exists(entry["image"]):
        pytest.fail(
            "the model-deployer image is missing: run `make images`", pytrace=False
        )
    return str(entry["image"])


@pytest.fixture
def two_units(pg: PgCluster) -> Iterator[dict[str, str]]:
    """bu1 (PostgreSQL) and bu2 (SQL Server: the TDS test server in front of its database)."""
    dbs = {u: pg.create_db(f"mdi_{u}_{secrets.token_hex(4)}") for u in ("bu1", "bu2")}
    yield dbs
    for db in dbs.values():
        pg.drop_db(db)


def test_apply_then_no_drift_from_the_image(
    docker_run: Callable[..., RunResult],
    image: str,
    pg: PgCluster,
    tds: TdsServer,
    two_units: dict[str, str],
    open_tmp: Path,
) -> None:
    models = open_tmp / "models"
    models.mkdir()
    shutil.copy(MODELS / "v2.yml", models / "v2.yml")
    for path in (models, models / "v2.yml"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    env = pg.conn_env("bu1", dbname=two_units["bu1"])
    env |= mssql_env(tds, two_units["bu2"], conn_id="bu2") | {"SSL_CERT_FILE": "/certs/ca.crt"}
    mounts = [(models, "/models", "ro"), (tds.ca_file, "/certs/ca.crt")]
    applied = docker_run(
        image,
        ["apply", "--models", "/models", "--targets", "bu1,bu2"],
        env=env,
        mounts=mounts,
    )
    assert applied.exit_code == 0, applied
    assert PASSWORD not in applied.stdout + applied.stderr
    assert [t["status"] for t in applied.result["targets"]] == ["success", "success"]
    assert [t["engine"] for t in applied.result["targets"]] == ["postgres", "mssql"]
    for db in two_units.values():
        assert pg.sql(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'gold'", dbname=db
        ) == [(1,)]
    drift = docker_run(
        image,
        ["drift", "--models", "/models", "--targets", "bu1,bu2"],
        env=env,
        mounts=mounts,
    )
    assert drift.exit_code == 0, drift
