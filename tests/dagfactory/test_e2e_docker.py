"""End to end: real Airflow (`dag.test()`) runs the real postgres-runner image with DockerOperator
against the session's real PostgreSQL on loopback.

Three runs: the cookiecutter example pipeline (everything succeeds, the data lands, XCom = result
JSON, hardened containers, no password in rendered templates / logs / `docker inspect`), a contract
pipeline (failing SQL fails the run and stops downstream tasks, exit 99 skips, exit 2 fails without
using retries), and a data pipeline (a CSV loaded with `copy in` from the data folder, a report
written there with `query`; `docker inspect` of a running container holds no secret).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import textwrap
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import REPO, dagbag, datakit_in_dags_folder, make_datakit, reset_settings

CONTRACT = """\
pipeline: {kit}_contract
tags: [contract]
defaults:
  retries: 1
  retry_delay: 0
tasks:
  - id: make_table
    runner: postgres
    sql: CREATE TABLE contract_t (x int)
  - id: bad_sql
    runner: postgres
    depends_on: [make_table]
    sql: INSERT INTO no_such_table VALUES (1)
  - id: after_bad
    runner: postgres
    depends_on: [bad_sql]
    sql: INSERT INTO contract_t VALUES (1)
  - id: guarded
    runner: postgres
    depends_on: [make_table]
    sql: INSERT INTO contract_t VALUES (2)
    skip_unless: SELECT false
  - id: after_skip
    runner: postgres
    depends_on: [guarded]
    sql: INSERT INTO contract_t VALUES (3)
  - id: usage_error
    runner: postgres
    retries: 3
    query:
      sql: SELECT 1; SELECT 2
  - id: bad_login
    runner: postgres
    conn: badauth
    retries: 3
    check: true
"""


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120).stdout


def _containers(pipeline: str) -> list[str]:
    return _docker("ps", "-aq", "--filter", f"label=tinyrun.pipeline={pipeline}").split()


def _remove(ids: list[str]) -> None:
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, timeout=120, check=False)


def _run(dag: Any) -> dict[str, dict[str, Any]]:
    """dag.test(), then each task instance's state, try number, XCom and rendered fields."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dr = dag.test()
    out: dict[str, dict[str, Any]] = {"__run__": {"state": str(dr.state)}}
    with create_session() as session:
        for ti in dr.get_task_instances(session=session):
            out[ti.task_id] = {"state": str(ti.state), "try_number": ti.try_number, "xcom": None, "rendered": None}
        query = XComModel.get_many(run_id=dr.run_id, dag_ids=dag.dag_id, key="return_value")
        for x in session.scalars(query):
            out[x.task_id]["xcom"] = XComModel.deserialize_value(x)
        rows = session.scalars(
            select(RenderedTaskInstanceFields).where(
                RenderedTaskInstanceFields.dag_id == dag.dag_id, RenderedTaskInstanceFields.run_id == dr.run_id
            )
        )
        for r in rows:
            out[r.task_id]["rendered"] = r.rendered_fields
    return out


@pytest.fixture
def e2e_kit(
    tmp_path: Path, postgres_runner_image: str, airflow_db: Path, pg: Any, pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """A datakit generated from this build's images.lock.json, in Airflow's dags folder, with the
    `warehouse` connection pointing at a fresh database (in Airflow's connection store: env)."""
    lock = REPO / "build" / "images.lock.json"
    pinned = json.loads(lock.read_text())["images"]["postgres-runner"]["id"]
    engine = _docker("image", "inspect", "--format", "{{.Id}}", postgres_runner_image).strip()
    if engine != pinned:
        pytest.fail(
            f"{lock} pins {pinned} but the engine's {postgres_runner_image} is {engine}: the image was "
            "rebuilt without updating the lock (run `make images`)",
            pytrace=False,
        )
    name = f"e2e_{pg_db}"
    kit = make_datakit(tmp_path, lock, name=name)
    (kit / "pipelines" / "contract.yaml").write_text(textwrap.dedent(CONTRACT.format(kit=name)))
    dest = datakit_in_dags_folder(kit, name)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", pg.airflow_uri(dbname=pg_db, host="127.0.0.1"))
    monkeypatch.setenv("AIRFLOW_CONN_BADAUTH", pg.airflow_uri(dbname=pg_db, host="127.0.0.1", password="wrong-pw"))
    monkeypatch.setenv("TINYRUN_DOCKER_NETWORK_MODE", "host")  # the server listens on loopback only
    reset_settings()
    return {"kit": dest, "name": name, "image": postgres_runner_image}


def _secrets(pg: Any) -> list[str]:
    return [pg.password, quote(pg.password, safe="")]


def _assert_hardened(c: dict[str, Any]) -> None:
    """Read-only root with a tmpfs /tmp, no capabilities, no privilege gain, hard CPU and memory limits
    (the pipeline default: 500m CPU, 512Mi)."""
    host = c["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Privileged"] is False
    assert list(host["Tmpfs"]) == ["/tmp"]
    assert (host["NanoCpus"], host["Memory"], host["CpuShares"]) == (500_000_000, 512 * 2**20, 0)


def test_example_pipeline_runs_in_docker(
    e2e_kit: dict[str, Any], pg: Any, pg_db: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TINYRUN_DOCKER_AUTO_REMOVE", "never")  # keep the containers to inspect them
    reset_settings()
    dag_id = f"{e2e_kit['name']}_orders_daily"
    bag = dagbag(e2e_kit["kit"] / "dags")
    assert bag.import_errors == {}
    _remove(_containers(dag_id))
    try:
        result = _run(bag.dags[dag_id])
        output = capfd.readouterr()
        containers = _containers(dag_id)
        inspected = json.loads(_docker("inspect", *containers)) if containers else []
        stdout_last = {
            c["Config"]["Labels"]["tinyrun.task"]: _docker("logs", c["Id"]).strip().splitlines()[-1] for c in inspected
        }
    finally:
        _remove(_containers(dag_id))

    assert result.pop("__run__") == {"state": "success"}, result
    tasks = {"preflight", "create_tables", "load_orders", "publish.daily_total", "publish.report"}
    assert {t: r["state"] for t, r in result.items()} == dict.fromkeys(tasks, "success")

    # the data landed: three orders of the run's day and their total
    rows = pg.sql("SELECT orders, amount FROM example_daily_total", dbname=pg_db)
    assert [(n, float(a)) for n, a in rows] == [(3, 63.0)]

    # each task's XCom is exactly the runner's result (the last stdout line of its container)
    assert len(inspected) == len(tasks)
    for task_id, line in stdout_last.items():
        assert result[task_id]["xcom"] == json.loads(line), task_id
        assert isinstance(result[task_id]["xcom"], dict)

    # the containers ran the pinned image, as 65532, with the run identity, and no password in argv
    for c in inspected:
        assert (
            c["Image"]
            == json.loads((REPO / "build" / "images.lock.json").read_text())["images"]["postgres-runner"]["id"]
        )
        assert c["Config"]["User"] == "65532:65532"
        env = dict(e.split("=", 1) for e in c["Config"]["Env"])
        assert env["TINYRUN_DAG_ID"] == dag_id
        assert env["TINYRUN_TASK_ID"] == c["Config"]["Labels"]["tinyrun.task"]
        assert env["TINYRUN_RUN_ID"].startswith("manual__") and env["TINYRUN_TRY_NUMBER"] == "1"
        assert env["TINYRUN_MAP_INDEX"] == "-1"
        # the connection arrived as a file: its value is nowhere in the container's config
        assert env["AIRFLOW_CONN_WAREHOUSE_FILE"] == "/run/secrets/AIRFLOW_CONN_WAREHOUSE"
        assert not [k for k in env if k.startswith("AIRFLOW_CONN_") and not k.endswith("_FILE")]
        for secret in _secrets(pg):
            assert secret not in json.dumps(c)
        secrets_mount = next(m for m in c["Mounts"] if m["Destination"] == "/run/secrets")
        assert secrets_mount["RW"] is False
        assert not os.path.exists(secrets_mount["Source"])  # removed when the container ended
        _assert_hardened(c)
    load = next(c for c in inspected if c["Config"]["Labels"]["tinyrun.task"] == "load_orders")
    cmd = load["Config"]["Cmd"]
    assert cmd[:4] == ["run", "--conn", "warehouse", "-v"] and cmd[5:] == ["/sql/example/load_orders.sql"]
    assert cmd[4].startswith("day=20")  # {{ ds }} rendered
    assert {m["Destination"]: m["RW"] for m in load["Mounts"]} == {"/sql": False, "/run/secrets": False}

    # no password in rendered templates nor in the task logs
    for task_id, r in result.items():
        for secret in _secrets(pg):
            assert secret not in json.dumps(r["rendered"]), task_id
    logs = output.out + output.err
    assert logs.count("Starting docker container") == len(tasks)
    assert logs.count('"runner":"postgres-runner"') >= 2 * len(tasks), "the containers' output was not captured"
    for secret in _secrets(pg):
        assert secret not in logs


def test_contract_failure_skip_and_no_retry(e2e_kit: dict[str, Any], pg: Any, pg_db: str) -> None:
    dag_id = f"{e2e_kit['name']}_contract"
    bag = dagbag(e2e_kit["kit"] / "dags")
    assert bag.import_errors == {}
    result = _run(bag.dags[dag_id])
    assert result.pop("__run__") == {"state": "failed"}
    states = {t: (r["state"], r["try_number"]) for t, r in result.items()}
    assert states == {
        "make_table": ("success", 1),
        "bad_sql": ("failed", 2),  # exit 1: retried once (retries: 1), then failed
        "after_bad": ("upstream_failed", 0),  # downstream of the failure never ran
        "guarded": ("skipped", 1),  # exit 99
        "after_skip": ("skipped", 0),
        "usage_error": ("failed", 1),  # exit 2: failed at once although retries: 3
        "bad_login": ("failed", 1),  # exit 3 (login refused): failed at once although retries: 3
    }
    assert pg.sql("SELECT count(*) FROM contract_t", dbname=pg_db) == [(0,)]
    # failed and skipped containers are removed too (auto_remove policy "success" + the operator)
    assert _containers(dag_id) == []
    # and so are their secret folders, however the container ended
    shm = Path("/dev/shm/tinyrun-secrets")
    assert [p for p in shm.iterdir() if p.name.startswith(f"{os.getpid()}-")] == []


DATA = """\
pipeline: {kit}_data
tags: [data]
defaults:
  retries: 0
tasks:
  - id: make_table
    runner: postgres
    sql: CREATE TABLE sales (day date, region text, amount numeric)
  - id: load
    runner: postgres
    depends_on: [make_table]
    copy: {{direction: in, table: sales, file: in/sales.csv, format: csv, header: true}}
  - id: hold
    runner: postgres
    depends_on: [load]
    sql: SELECT pg_sleep(4)
  - id: report
    runner: postgres
    depends_on: [hold]
    query:
      sql: SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY region
      format: csv
      header: true
      output: out/report.csv
"""
SALES_CSV = "day,region,amount\n2024-05-06,north,10.5\n2024-05-06,south,4\n2024-05-07,north,1.5\n"


def _watch_running(pipeline: str, task: str, found: dict[str, Any], stop: threading.Event) -> None:
    """`docker inspect` of the task's container while it runs, and its secret folder as seen then."""
    while not stop.is_set() and "inspect" not in found:
        ids = _docker("ps", "-q", "--filter", f"label=tinyrun.pipeline={pipeline}", "--filter", f"label=tinyrun.task={task}")
        for cid in ids.split():
            text = _docker("inspect", cid)
            (c,) = json.loads(text)
            if not c["State"]["Running"]:
                continue
            found["inspect"] = text
            folder = next((m["Source"] for m in c["Mounts"] if m["Destination"] == "/run/secrets"), None)
            if folder:
                st = os.stat(folder)
                files = {f: os.stat(os.path.join(folder, f)) for f in os.listdir(folder)}
                found["folder"] = (folder, stat.S_IMODE(st.st_mode), st.st_uid)
                found["files"] = {f: (stat.S_IMODE(s.st_mode), s.st_uid) for f, s in files.items()}
            return
        time.sleep(0.2)


def test_data_files_and_no_secret_in_docker_inspect(
    e2e_kit: dict[str, Any], pg: Any, pg_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = e2e_kit["name"]
    (e2e_kit["kit"] / "pipelines" / "data.yaml").write_text(DATA.format(kit=name))
    data = tmp_path / "data"
    (data / "in").mkdir(parents=True)
    (data / "out").mkdir()
    (data / "in" / "sales.csv").write_text(SALES_CSV)
    for p in (data, data / "in", data / "out"):
        os.chown(p, 65532, 65532)  # the runners' uid writes the report
    monkeypatch.setenv("TINYRUN_DOCKER_DATA_HOST_DIR", str(data))
    reset_settings()
    dag_id = f"{name}_data"
    bag = dagbag(e2e_kit["kit"] / "dags")
    assert bag.import_errors == {}
    found: dict[str, Any] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_running, args=(dag_id, "hold", found, stop), daemon=True)
    watcher.start()
    try:
        result = _run(bag.dags[dag_id])
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert result.pop("__run__") == {"state": "success"}, result

    # the CSV went in through /data, and the report came out there
    rows = pg.sql("SELECT region, sum(amount) FROM sales GROUP BY region ORDER BY region", dbname=pg_db)
    assert [(r, float(a)) for r, a in rows] == [("north", 12.0), ("south", 4.0)]
    assert (data / "out" / "report.csv").read_text() == "region,total\nnorth,12.0\nsouth,4\n"

    # while the container ran: no secret anywhere in what `docker inspect` showed of it ...
    assert "inspect" in found, "the running container was never seen"
    for secret in _secrets(pg):
        assert secret not in found["inspect"]
    # ... its connection was a file on a tmpfs, 0700/0400, owned by 65532, removed once it ended
    folder, mode, uid = found["folder"]
    assert (mode, uid) == (0o700, 65532)
    assert found["files"] == {"AIRFLOW_CONN_WAREHOUSE": (0o400, 65532)}
    assert folder.startswith("/dev/shm/tinyrun-secrets/")
    assert not os.path.exists(folder)
    (c,) = json.loads(found["inspect"])
    assert "AIRFLOW_CONN_WAREHOUSE_FILE=/run/secrets/AIRFLOW_CONN_WAREHOUSE" in c["Config"]["Env"]
    _assert_hardened(c)
