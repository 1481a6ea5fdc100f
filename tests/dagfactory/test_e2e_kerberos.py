"""A `kerberos: true` task through the DAG factory and real Airflow (`dag.test()`, DockerOperator),
on the platform services of `make platform-start MOCKS=1`: the developer's kinit reaches the
ticket sharer, the factory mounts its volume (TINYRUN_DOCKER_KERBEROS_VOLUME) and the realm's
krb5.conf (TINYRUN_DOCKER_KRB5_CONF) read-only into the postgres-runner container, which logs in
to the mock PostgreSQL with GSSAPI: the table it created belongs to the ticket's role, and the
task's XCom is the runner's result.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, dagbag, datakit_in_dags_folder, make_datakit, reset_settings
from harness.platformstack import MOCK_USER, PlatformStack

PIPELINE = """\
pipeline: {kit}_kerberos
tags: [kerberos]
defaults:
  retries: 0
tasks:
  - id: whoami
    runner: postgres
    conn: mockdb
    kerberos: true
    sql: CREATE TABLE kerberos_probe AS SELECT current_user::text AS who
"""
pytestmark = pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")


@pytest.fixture
def platform(tmp_path: Path, postgres_runner_image: str) -> Iterator[PlatformStack]:
    stack = PlatformStack(tmp_path / "stack")
    started = stack.make("platform-start", "MOCKS=1")
    assert started.returncode == 0, "make platform-start MOCKS=1 failed"
    try:
        stack.kinit()
        yield stack
    finally:
        stack.remove()


def test_kerberos_task_reaches_gssapi_postgres(
    platform: PlatformStack, tmp_path: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    name = "kerberos_kit"
    kit = make_datakit(tmp_path, REPO / "build" / "images.lock.json", name=name)
    (kit / "pipelines" / "kerberos.yaml").write_text(textwrap.dedent(PIPELINE.format(kit=name)))
    dest = datakit_in_dags_folder(kit, name)
    monkeypatch.setenv("AIRFLOW_CONN_MOCKDB", platform.uri)
    monkeypatch.setenv("TINYRUN_DOCKER_NETWORK_MODE", "host")  # the mocks listen on loopback
    monkeypatch.setenv("TINYRUN_DOCKER_KERBEROS_VOLUME", platform.volume)
    monkeypatch.setenv("TINYRUN_DOCKER_KRB5_CONF", str(platform.krb5_conf))
    reset_settings()

    bag = dagbag(dest / "dags")
    assert bag.import_errors == {}
    dag = bag.dags[f"{name}_kerberos"]
    mounts = {m["Target"]: m for m in dag.get_task("whoami").mounts}
    assert mounts["/krb5/cache"]["Source"] == platform.volume and mounts["/krb5/cache"]["ReadOnly"] is True
    assert mounts["/etc/krb5.conf"]["Source"] == str(platform.krb5_conf)

    run = dag.test()
    assert str(run.state) == "success"
    with create_session() as session:
        xcom = session.scalars(XComModel.get_many(run_id=run.run_id, dag_ids=dag.dag_id, key="return_value")).first()
        result: Any = XComModel.deserialize_value(xcom)
    assert result["exit_code"] == 0 and result["committed"] is True, result
    assert platform.warehouse_sql(
        "SELECT who, tableowner FROM kerberos_probe JOIN pg_tables ON tablename = 'kerberos_probe'"
    ) == f"{MOCK_USER}|{MOCK_USER}"
