"""End to end: real Airflow (`dag.test()`) runs the real sqlserver-runner image with DockerOperator
against the TDS test server (in front of the session's PostgreSQL): a sqlcmd script with GO N and
`vars` lands, each task's XCom is the runner's result line, a failing batch fails its task (after
its retry) and stops what depends on it, with nothing of the failed batch left behind."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, dagbag, datakit_in_dags_folder, make_datakit, reset_settings
from test_e2e_docker import _containers, _docker, _remove, _run

PIPELINE = """\
pipeline: {kit}_mssql
tags: [mssql]
defaults:
  conn: dwh
  retries: 1
  retry_delay: 0
tasks:
  - id: preflight
    runner: sqlserver
    check: true
  - id: load
    runner: sqlserver
    depends_on: [preflight]
    run: mssql/load.sql
    vars:
      day: "{{{{ ds }}}}"
      copies: 3
  - id: bad_batch
    runner: sqlserver
    depends_on: [load]
    sql: "INSERT INTO mssql_sales VALUES ('bad', 0)\\nGO\\nSELECT 1 / 0\\n"
  - id: after_bad
    runner: sqlserver
    depends_on: [bad_batch]
    sql: INSERT INTO mssql_sales VALUES ('after', 0)
"""
LOAD_SQL = """\
CREATE TABLE mssql_sales (day nvarchar(10), amount int)
GO
INSERT INTO mssql_sales VALUES ('$(day)', 7)
GO $(copies)
"""


@pytest.fixture
def mssql_kit(
    tmp_path: Path,
    sqlserver_runner_image: str,
    airflow_db: Path,
    tds: Any,
    pg_db: str,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """A datakit from this build's images.lock.json with the pipeline above, in Airflow's dags
    folder; the `dwh` connection is the TDS server (encrypted; the image does not know the test CA)."""
    from harness import airflow
    from harness.pgcluster import PASSWORD

    lock = REPO / "build" / "images.lock.json"
    pinned = json.loads(lock.read_text())["images"]["sqlserver-runner"]["id"]
    engine = _docker(
        "image", "inspect", "--format", "{{.Id}}", sqlserver_runner_image
    ).strip()
    assert engine == pinned, (
        f"{lock} pins {pinned} but the engine has {engine}: run `make images`"
    )
    name = f"mssql_{pg_db}"
    kit = make_datakit(tmp_path, lock, name=name)
    (kit / "pipelines" / "mssql.yaml").write_text(
        textwrap.dedent(PIPELINE.format(kit=name))
    )
    (kit / "sql" / "mssql").mkdir(parents=True)
    (kit / "sql" / "mssql" / "load.sql").write_text(LOAD_SQL)
    dest = datakit_in_dags_folder(kit, name)
    extra = {"encrypt": "mandatory", "trust_server_certificate": "true"}
    uri = airflow.conn_uri(
        "mssql", "127.0.0.1", tds.port, "tinyrun", PASSWORD, pg_db, extra
    )
    monkeypatch.setenv("AIRFLOW_CONN_DWH", uri)
    monkeypatch.setenv(
        "TINYRUN_DOCKER_NETWORK_MODE", "host"
    )  # the server listens on loopback only
    monkeypatch.setenv(
        "TINYRUN_DOCKER_AUTO_REMOVE", "never"
    )  # keep the containers to read their output
    reset_settings()
    return {"kit": dest, "name": name}


def test_sqlserver_pipeline_in_docker(
    mssql_kit: dict[str, Any], pg: Any, pg_db: str
) -> None:
    dag_id = f"{mssql_kit['name']}_mssql"
    bag = dagbag(mssql_kit["kit"] / "dags")
    assert bag.import_errors == {}
    _remove(_containers(dag_id))
    try:
        result = _run(bag.dags[dag_id])
        last_lines: dict[str, list[str]] = {}
        for c in json.loads(_docker("inspect", *_containers(dag_id))):
            task = c["Config"]["Labels"]["tinyrun.task"]
            logs = subprocess.run(
                ["docker", "logs", c["Id"]], capture_output=True, text=True, check=True
            )
            last_lines.setdefault(task, []).append(logs.stdout.strip().splitlines()[-1])
            if task == "load":
                assert c["Config"]["Cmd"][:4] == ["run", "--conn", "dwh", "-v"]
                assert c["Config"]["Cmd"][-1] == "/sql/mssql/load.sql"
    finally:
        _remove(_containers(dag_id))

    assert result.pop("__run__") == {"state": "failed"}, result
    states = {t: (r["state"], r["try_number"]) for t, r in result.items()}
    assert states == {
        "preflight": ("success", 1),
        "load": ("success", 1),
        "bad_batch": ("failed", 2),  # exit 1: retried once, then failed
        "after_bad": ("upstream_failed", 0),
    }
    # the data landed (GO $(copies) ran the batch three times with the run's day), the failing
    # batch left nothing, and nothing ran after it
    rows = pg.sql("SELECT day, amount FROM mssql_sales", dbname=pg_db)
    day = result["load"]["rendered"]["command"][4].split("=", 1)[1]
    assert rows == [(day, 7)] * 3
    # XCom is exactly the runner's result line
    for task in ("preflight", "load"):
        assert [json.dumps(result[task]["xcom"], separators=(",", ":"))] == last_lines[
            task
        ]
    assert result["load"]["xcom"]["rows_total"] == 3
    assert result["preflight"]["xcom"]["encrypted"] is True
    assert [json.loads(line)["exit_code"] for line in last_lines["bad_batch"]] == [1, 1]
