"""The datakit journey, as a new developer takes it: cookiecutter, `make demo-db`, `make airflow`,
`make run PIPELINE=...`, `make down`, with a real Airflow 3 (api-server, scheduler, dag-processor,
triggerer) running the real postgres-runner image through DockerOperator.

One Airflow start serves the module (the tests run in order): the example pipeline succeeds under
the real scheduler, its rows are in the demo PostgreSQL, each task's XCom is exactly its runner's
result line; a pipeline with failing SQL ends failed and the task log holds the runner's error line;
`make airflow` a second time finds the running Airflow; `make down` leaves no process and no
container. Then the bad inputs on the same datakit (its venv is already built): no connections
file, no docker engine, a runners.lock the engine's images do not match; each stops before
anything starts. Last, `make airflow` after `make down` starts again on the kept metadata (the
earlier runs are still there). The journey's times go to build/test/datakit-journey.json and the
terminal.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from harness import docker as hdocker
from tinyrun_dagfactory.local.api import Airflow

REPO = Path(__file__).resolve().parents[2]
SLUG = "journey_kit"
EXAMPLE = f"{SLUG}_orders_daily"
BROKEN = f"{SLUG}_broken_sql"
BROKEN_YAML = f"""\
pipeline: {BROKEN}
description: a pipeline whose second task's SQL fails
tags: [journey]
defaults:
  retries: 0
tasks:
  - id: make_table
    runner: postgres
    sql: CREATE TABLE IF NOT EXISTS journey_t (x int)
  - id: bad_sql
    runner: postgres
    depends_on: [make_table]
    sql: INSERT INTO no_such_table VALUES (1)
"""
MAKE_TIMEOUT_S = 900


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _clean_env(**extra: str) -> dict[str, str]:
    """The developer's shell: no Airflow or tinyrun settings of the test session leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TINYRUN_", "PYTEST"))}
    env.update(extra)
    return env


def _make(kit: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=kit,
        env=env,
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT_S,
        check=False,
    )
    print(f"$ make {' '.join(args)}  -> {done.returncode}\n{done.stdout}{done.stderr}")
    return done


def _kit_processes(kit: Path, sessions: list[int]) -> list[int]:
    """Processes in the sessions the components were started in, or running in the datakit's folder
    (Airflow's processes rename themselves, so neither their command line nor environment tells)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            sid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3])
            cwd = Path(os.readlink(entry / "cwd"))
            zombie = "State:\tZ" in (entry / "status").read_text()
        except (OSError, IndexError):
            continue
        if not zombie and (sid in sessions or cwd == kit or kit in cwd.parents):
            found.append(int(entry.name))
    return found


def _containers(*pipelines: str) -> list[dict[str, Any]]:
    out = []
    for p in pipelines:
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=tinyrun.pipeline={p}"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()
        if ids:
            out += json.loads(
                subprocess.run(
                    ["docker", "inspect", *ids], capture_output=True, text=True, check=True, timeout=60
                ).stdout
            )
    return out


def _stdout_stderr(container_id: str) -> tuple[str, str]:
    done = subprocess.run(["docker", "logs", container_id], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout, done.stderr


@pytest.fixture(scope="module")
def journey(images_lock: dict[str, Any], postgres_runner_image: str) -> Iterator[dict[str, Any]]:
    """Generate the datakit and take the journey to the first successful run; `make down` at the end."""
    pinned = images_lock["images"]["postgres-runner"]["id"]
    if (
        not hdocker.image_exists(postgres_runner_image)
        or subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", postgres_runner_image],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        != pinned
    ):
        pytest.fail(
            f"the engine's {postgres_runner_image} is not the one images.lock.json pins: run `make images`",
            pytrace=False,
        )
    wheel_dir = REPO / "build" / "dist"
    if not list(wheel_dir.glob("tinyrun_dagfactory-*.whl")):
        pytest.fail(f"no tinyrun-dagfactory wheel in {wheel_dir}: run `make`", pytrace=False)
    parent = Path(tempfile.mkdtemp(prefix="tinyrun-journey-"))
    parent.chmod(0o755)  # runner containers (uid 65532) read the datakit's sql/
    port, db_port = _free_port(), _free_port()
    # keep the runner containers after they ran: their stdout is what the XComs are compared with
    env = _clean_env(TINYRUN_DOCKER_AUTO_REMOVE="never", PORT=str(port), DEMO_DB_PORT=str(db_port))
    state: dict[str, Any] = {"port": port, "db_port": db_port, "env": env, "times": {}}
    kit = parent / SLUG
    try:
        t0 = time.monotonic()
        generated = subprocess.run(
            [
                str(REPO / "build" / "venv" / "bin" / "cookiecutter"),
                "--no-input",
                "-o",
                str(parent),
                str(REPO / "cookiecutter"),
                "datakit_name=Journey Kit",
                "owner=team-journey",
            ],
            env=_clean_env(TINYRUN_IMAGES_LOCK=str(REPO / "build" / "images.lock.json"), TINYRUN_DIST=str(wheel_dir)),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert generated.returncode == 0, generated.stdout + generated.stderr
        state["times"]["cookiecutter"] = time.monotonic() - t0
        (kit / "pipelines" / "broken_sql.yaml").write_text(BROKEN_YAML)
        state["kit"] = kit
        for step in (("demo-db",), ("airflow",), ("run", f"PIPELINE={EXAMPLE}")):
            t = time.monotonic()
            state[step[0]] = _make(kit, *step, env=env)
            label = "make demo-db (creates .venv first)" if step[0] == "demo-db" else f"make {step[0]}"
            state["times"][label] = time.monotonic() - t
            if state[step[0]].returncode != 0:
                break
            if step[0] == "airflow":
                components = json.loads((kit / ".airflow" / "run" / "state.json").read_text())["components"]
                state["sessions"] = [c["pid"] for c in components.values()]
        state["times"]["journey"] = time.monotonic() - t0
        yield state
    finally:
        if kit.exists():
            _make(kit, "down", env=env)
            for c in _containers(EXAMPLE, BROKEN):
                subprocess.run(["docker", "rm", "-f", c["Id"]], capture_output=True, check=False, timeout=60)
        if not os.environ.get("TINYRUN_KEEP_TMP"):
            shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="module")
def api(journey: dict[str, Any]) -> Airflow:
    client = Airflow(f"http://127.0.0.1:{journey['port']}")
    password = json.loads((journey["kit"] / ".airflow" / "passwords.json").read_text())["admin"]
    client.login("admin", password)
    return client


def _last_run(api: Airflow, dag_id: str) -> dict[str, Any]:
    runs = api._request("GET", f"/api/v2/dags/{dag_id}/dagRuns?order_by=-run_after&limit=1")["dag_runs"]
    assert runs, f"no run of {dag_id}"
    return dict(runs[0])


def test_example_pipeline_succeeds_under_the_scheduler(journey: dict[str, Any], api: Airflow, capsys: Any) -> None:
    for step in ("demo-db", "airflow", "run"):
        assert journey[step].returncode == 0, f"make {step} failed"
    run = _last_run(api, EXAMPLE)
    assert run["state"] == "success" and run["run_type"] == "manual"
    tis = {t["task_id"]: t for t in api.task_instances(EXAMPLE, run["dag_run_id"])}
    assert {k: t["state"] for k, t in tis.items()} == dict.fromkeys(
        ["preflight", "create_tables", "load_orders", "publish.daily_total", "publish.report"], "success"
    )
    # run by the scheduler's LocalExecutor (not dag.test()): each try has a pid and a hostname
    assert all(t["pid"] and t["hostname"] for t in tis.values())
    times = {k: round(v, 1) for k, v in journey["times"].items()}
    out = REPO / "build" / "test" / "datakit-journey.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(times, indent=2) + "\n")
    with capsys.disabled():
        print(f"\ndatakit journey, cookiecutter to the first successful run: {times['journey']} s  {times}")


def test_rows_are_in_the_demo_database(journey: dict[str, Any]) -> None:
    with (
        psycopg2.connect(
            host="127.0.0.1", port=journey["db_port"], user="demo", password="demo-only-password", dbname="demo"
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SELECT orders, amount FROM example_daily_total")
        rows = [(n, float(a)) for n, a in cur.fetchall()]
        cur.execute("SELECT count(*) FROM example_orders")
        orders = cur.fetchone()
    assert rows == [(3, 63.0)]
    assert orders == (3,)


def test_xcom_is_the_runners_result(journey: dict[str, Any], api: Airflow) -> None:
    run = _last_run(api, EXAMPLE)
    containers = _containers(EXAMPLE)
    assert len(containers) == 5
    for c in containers:
        task_id = c["Config"]["Labels"]["tinyrun.task"]
        assert c["Config"]["Env"] and c["State"]["ExitCode"] == 0
        stdout, _ = _stdout_stderr(c["Id"])
        result = json.loads(stdout.strip().splitlines()[-1])
        xcom = api.xcom(EXAMPLE, run["dag_run_id"], task_id)
        assert xcom == result, task_id
        # `make run` printed it too: task, state, compact result JSON
        assert f"{task_id:<32} success    {json.dumps(result, separators=(',', ':'))}" in journey["run"].stdout


def test_failing_sql_fails_the_run_and_the_log_has_the_runners_error(journey: dict[str, Any], api: Airflow) -> None:
    done = _make(journey["kit"], "run", f"PIPELINE={BROKEN}", env=journey["env"])
    assert done.returncode != 0 and "Error 1" in done.stderr  # make reports the recipe's exit status 1
    run = _last_run(api, BROKEN)
    assert run["state"] == "failed"
    tis = {t["task_id"]: t for t in api.task_instances(BROKEN, run["dag_run_id"])}
    assert (tis["make_table"]["state"], tis["bad_sql"]["state"]) == ("success", "failed")
    (failed,) = [c for c in _containers(BROKEN) if c["Config"]["Labels"]["tinyrun.task"] == "bad_sql"]
    assert failed["State"]["ExitCode"] == 1
    _, stderr = _stdout_stderr(failed["Id"])
    errors = [line for line in stderr.splitlines() if line.startswith("{") and json.loads(line)["level"] == "error"]
    assert errors, stderr
    log = "\n".join(api.log_lines(BROKEN, run["dag_run_id"], "bad_sql", tis["bad_sql"]["try_number"]))
    for line in errors:
        assert line in log
    assert "42P01" in errors[-1]  # undefined_table, from the server


def test_make_airflow_twice_finds_the_running_airflow(journey: dict[str, Any]) -> None:
    state_file = journey["kit"] / ".airflow" / "run" / "state.json"
    before = json.loads(state_file.read_text())
    done = _make(journey["kit"], "airflow", env=journey["env"])
    assert done.returncode == 0
    assert json.loads(state_file.read_text()) == before  # nothing restarted
    assert f"http://127.0.0.1:{journey['port']}" in done.stdout


def test_make_down_leaves_no_process_and_no_container(journey: dict[str, Any]) -> None:
    kit = journey["kit"]
    assert len(_kit_processes(kit, journey["sessions"])) >= 4
    done = _make(kit, "down", env=journey["env"])
    assert done.returncode == 0
    assert _kit_processes(kit, journey["sessions"]) == []
    assert _containers(EXAMPLE, BROKEN) == []
    assert not _listening(journey["port"]) and not _listening(journey["db_port"])
    assert (kit / ".airflow" / "airflow.db").stat().st_size > 0  # the metadata stays


def test_make_run_without_airflow_or_with_an_unknown_pipeline_says_what_to_do(journey: dict[str, Any]) -> None:
    kit = journey["kit"]
    done = _make(kit, "run", f"PIPELINE={EXAMPLE}", env=journey["env"])
    assert done.returncode != 0 and "start it with `make airflow`" in done.stderr
    done = _make(kit, "run", "PIPELINE=no_such_pipeline", env=journey["env"])
    assert done.returncode != 0 and f"pipelines: {BROKEN}, {EXAMPLE}" in done.stderr
    done = _make(kit, "run", env=journey["env"])
    assert done.returncode != 0 and "PIPELINE=" in done.stderr


def _assert_nothing_started(kit: Path, port: int) -> None:
    assert _kit_processes(kit, []) == []
    assert not (kit / ".airflow" / "run" / "state.json").exists()
    assert not _listening(port)


def test_missing_connections_file_stops_before_anything_starts(journey: dict[str, Any]) -> None:
    kit = journey["kit"]
    conns = kit / "connections.yaml"
    saved = conns.read_bytes() if conns.exists() else None
    conns.unlink(missing_ok=True)
    try:
        done = _make(kit, "airflow", env=journey["env"])
    finally:
        if saved is not None:
            conns.write_bytes(saved)
    assert done.returncode != 0 and "Error 2" in done.stderr
    assert "connections.yaml is missing" in done.stderr and "make demo-db" in done.stderr
    _assert_nothing_started(kit, journey["port"])


def test_unreachable_docker_stops_before_anything_starts(journey: dict[str, Any]) -> None:
    kit = journey["kit"]
    env = {**journey["env"], "DOCKER_HOST": f"unix://{kit}/no-docker.sock"}
    done = _make(kit, "airflow", env=env)
    assert done.returncode != 0 and "Error 75" in done.stderr
    assert "does not answer" in done.stderr and "start Docker" in done.stderr
    _assert_nothing_started(kit, journey["port"])


def test_runner_lock_the_engine_does_not_have_stops_before_anything_starts(journey: dict[str, Any]) -> None:
    kit = journey["kit"]
    lock_file = kit / "runners.lock"
    saved = lock_file.read_text()
    lock = json.loads(saved)
    lock["images"]["postgres-runner"]["id"] = "sha256:" + "0" * 64
    lock_file.write_text(json.dumps(lock))
    try:
        done = _make(kit, "airflow", env=journey["env"])
    finally:
        lock_file.write_text(saved)
    assert done.returncode != 0 and "Error 2" in done.stderr
    assert "sha256:" + "0" * 64 in done.stderr and "make images" in done.stderr
    _assert_nothing_started(kit, journey["port"])


def test_make_airflow_after_down_keeps_the_runs(journey: dict[str, Any]) -> None:
    kit = journey["kit"]
    t = time.monotonic()
    done = _make(kit, "airflow", env=journey["env"])
    restart_s = time.monotonic() - t
    try:
        assert done.returncode == 0
        api = Airflow(f"http://127.0.0.1:{journey['port']}")
        api.login("admin", json.loads((kit / ".airflow" / "passwords.json").read_text())["admin"])
        assert _last_run(api, EXAMPLE)["state"] == "success"  # the metadata of the first start
        assert _last_run(api, BROKEN)["state"] == "failed"
        sessions = [
            c["pid"] for c in json.loads((kit / ".airflow" / "run" / "state.json").read_text())["components"].values()
        ]
    finally:
        down = _make(kit, "down", env=journey["env"])
    assert down.returncode == 0
    assert _kit_processes(kit, sessions) == []
    journey["times"]["make airflow (again, after down)"] = restart_s
    out = REPO / "build" / "test" / "datakit-journey.json"
    out.write_text(json.dumps({k: round(v, 1) for k, v in journey["times"].items()}, indent=2) + "\n")
