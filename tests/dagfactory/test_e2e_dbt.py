"""End to end: real Airflow (`dag.test()`) runs `runner: dbt` tasks with DockerOperator in a real
team dbt image (harness.dbtimage: the debootstrap'd bookworm, a venv with the pinned dbt, the test
project at /project, dbt-runner from its FROM scratch image as ENTRYPOINT), pinned by image ID,
against the harness PostgreSQL. The XCom of a dbt task is dbt-runner's result: counts by status.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, dagbag, datakit_in_dags_folder, make_datakit
from harness.dbtimage import dbt_runtime_image
from harness.docker import docker_available, image_exists
from test_e2e_docker import _run

pytestmark = pytest.mark.skipif(not docker_available(), reason="needs a Docker engine")

PIPELINE = """\
pipeline: {kit}_dbt
tags: [dbt]
defaults:
  retries: 0
tasks:
  - id: build
    runner: dbt
    image: {image}
    command: build
    exclude: tiers_are_known
    vars: {{sleep_seconds: 0}}
    threads: 2
  - id: known_tiers
    runner: dbt
    image: {image}
    command: test
    select: customer_tiers
    depends_on: [build]
"""


@pytest.fixture(scope="module")
def dbt_image(images_lock: dict[str, Any]) -> str:
    entry = images_lock.get("images", {}).get("dbt-runner")
    if not entry or not image_exists(entry.get("id", "")):
        pytest.fail("no dbt-runner image in build/images.lock.json: run `make images`", pytrace=False)
    return dbt_runtime_image(REPO, entry["id"])


def test_dbt_build_counts_reach_the_xcom(
    dbt_image: str, tmp_path: Path, airflow_db: Path, pg: Any, pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert dbt_image.startswith("sha256:")
    # the datakit's defaults.yaml gives every task `conn: warehouse`
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", pg.airflow_uri(dbname=pg_db, host="127.0.0.1"))
    monkeypatch.setenv("TINYRUN_DOCKER_NETWORK_MODE", "host")  # the server listens on loopback only
    name = f"e2e_dbt_{tmp_path.name[-8:].replace('-', '_')}"
    kit = make_datakit(tmp_path, REPO / "build" / "images.lock.json", name=name)
    (kit / "pipelines" / "dbt.yaml").write_text(textwrap.dedent(PIPELINE.format(kit=name, image=dbt_image)))
    bag = dagbag(datakit_in_dags_folder(kit, name) / "dags")
    assert bag.import_errors == {}
    result = _run(bag.dags[f"{name}_dbt"])

    assert result.pop("__run__") == {"state": "failed"}  # known_tiers fails on purpose
    assert {t: r["state"] for t, r in result.items()} == {"build": "success", "known_tiers": "failed"}
    xcom = result["build"]["xcom"]
    assert isinstance(xcom, dict), result
    assert xcom["counts"] == {"success": 8, "error": 0, "fail": 0, "warn": 0, "skipped": 0}, xcom
    assert xcom["command"] == "build" and xcom["adapter"] == "postgres" and xcom["exit_code"] == 0
    assert xcom["dbt_version"] == "1.10.15" and xcom["failing_nodes"] == []
    assert pg.sql("SELECT sum(customers) FROM public.tier_report", dbname=pg_db) == [(3,)]
    assert pg.password not in repr(result)
