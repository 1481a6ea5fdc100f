"""A datakit's compose path (compose.yaml, Dockerfile, docker-compose.override.yml, compose.mk of the
cookiecutter template) with docker-compose 1.29 and the legacy builder, nothing pulled:

- the stand-in for the organisation's Airflow image is built from a debootstrap'd Debian root and
  the pinned Airflow wheels (tools/airflow_standin.py, cached under build/), the metadata database
  from Debian's postgresql-15 (tools/platform_services.py's image);
- `make compose-up AIRFLOW_IMAGE=<stand-in>` builds the datakit's layer (its time is printed) and
  starts api-server, scheduler, dag-processor and triggerer; the example pipeline is triggered
  through the REST API, succeeds under the real scheduler (LocalExecutor, runner containers
  through the Docker socket) and its rows are in PostgreSQL;
- `make compose-down WIPE=1` leaves no container, network or volume of the project;
- bad inputs stop before anything is built or started: no AIRFLOW_IMAGE, no connections file, a
  runners.lock whose image IDs the engine does not have, Docker not reachable.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.checks import wait_until
from harness.net import free_port
from harness.pgcluster import PgCluster

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import airflow_standin
import platform_services

SLUG = "compose_kit"
EXAMPLE = f"{SLUG}_orders_daily"
DAY = "2024-05-06"
COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed")
# the test's own settings on top of the datakit's files: runs only when triggered (no scheduled
# run racing the triggered one on CREATE TABLE), and unpaused from the start
TEST_OVERRIDE = """\
services:
  airflow-scheduler:
    environment:
      AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE: "false"
      AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: "false"
  airflow-dag-processor:
    environment:
      AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: "false"
"""


def _clean_env(**extra: str) -> dict[str, str]:
    """A developer's shell: none of the test session's Airflow or tinyrun settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TINYRUN_", "PYTEST", "COMPOSE"))}
    env.update(extra)
    return env


def _make(kit: Path, env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["make", "--no-print-directory", "-f", "compose.mk", *args],
        cwd=kit,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    print(f"$ make -f compose.mk {' '.join(args)} -> {done.returncode}\n{done.stdout}{done.stderr}")
    return done


def _project_objects(project: str) -> dict[str, list[str]]:
    """Containers, networks and volumes docker-compose labelled with PROJECT."""
    label = f"label=com.docker.compose.project={project}"
    found = {}
    for kind, argv in (
        ("containers", ["docker", "ps", "-aq", "--filter", label]),
        ("networks", ["docker", "network", "ls", "-q", "--filter", label]),
        ("volumes", ["docker", "volume", "ls", "-q", "--filter", label]),
    ):
        found[kind] = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout.split()
    return found


class Api:
    """Airflow's REST API with the token local all-admins mode hands out."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = ""

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def login(self) -> None:
        self.token = self.call("GET", "/auth/token")["access_token"]

    def dag_exists(self, dag_id: str) -> bool:
        try:
            self.call("GET", f"/api/v2/dags/{dag_id}")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return False
            raise
        return True


@pytest.fixture(scope="module")
def standin() -> str:
    began = time.monotonic()
    tag = airflow_standin.image()
    print(f"\nstand-in Airflow base {tag}: ready in {time.monotonic() - began:.1f} s (cached after the first run)")
    return tag


@pytest.fixture(scope="module")
def kit(images_lock: dict[str, Any]) -> Iterator[Path]:
    """A datakit generated by cookiecutter from this build."""
    parent = Path(tempfile.mkdtemp(prefix="tinyrun-compose-"))
    parent.chmod(0o755)  # runner containers (uid 65532) read the datakit's sql/
    try:
        done = subprocess.run(
            [str(REPO / "build" / "venv" / "bin" / "cookiecutter"), "--no-input", "-o", str(parent),
             str(REPO / "cookiecutter"), "datakit_name=Compose Kit", "owner=team-compose"],
            env=_clean_env(TINYRUN_IMAGES_LOCK=str(REPO / "build" / "images.lock.json"),
                           TINYRUN_DIST=str(REPO / "build" / "dist")),
            capture_output=True, text=True, timeout=300, check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        yield parent / SLUG
    finally:
        if not os.environ.get("TINYRUN_KEEP_TMP"):
            shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="module")
def settings(kit: Path) -> dict[str, str]:
    token = secrets.token_hex(4)
    extra = kit / ".tinyrun" / "test-override.yml"
    extra.write_text(TEST_OVERRIDE)
    return {
        "COMPOSE_PROJECT_NAME": f"tinyrun-test-compose-{token}",
        "COMPOSE_FILE": f"compose.yaml:docker-compose.override.yml:{extra}",
        "DATAKIT_IMAGE": f"tinyrun-test/{SLUG}:{token}",
        "AIRFLOW_PORT": str(free_port()),
        "AIRFLOW_DB_IMAGE": platform_services.mocks_image(),
        # the test's PostgreSQL listens on this host's loopback
        "TINYRUN_DOCKER_NETWORK_MODE": "host",
    }


def test_bad_inputs_start_nothing(kit: Path, settings: dict[str, str], standin: str) -> None:
    project = settings["COMPOSE_PROJECT_NAME"]
    env = _clean_env(**settings, AIRFLOW_IMAGE=standin)

    no_image = _make(kit, _clean_env(**settings), "compose-up", timeout=60)
    assert no_image.returncode == 2 and "set AIRFLOW_IMAGE" in no_image.stderr

    connections = kit / "connections.yaml"
    assert not connections.exists()
    no_conns = _make(kit, env, "compose-up", timeout=60)
    assert no_conns.returncode == 2 and "no connections.yaml: copy connections.example.yaml" in no_conns.stderr

    connections.write_text("warehouse: postgres://nobody@127.0.0.1:1/nothing\n")
    lock_path = kit / "runners.lock"
    lock = lock_path.read_text()
    wrong = json.loads(lock)
    wrong["images"]["postgres-runner"]["id"] = "sha256:" + "0" * 64
    lock_path.write_text(json.dumps(wrong))
    stale_lock = _make(kit, env, "compose-up", timeout=60)
    lock_path.write_text(lock)
    assert stale_lock.returncode == 2
    assert "the Docker engine does not have the runner images runners.lock pins" in stale_lock.stderr
    assert f"runners.lock pins sha256:{'0' * 64}" in stale_lock.stderr

    no_docker = _make(kit, {**env, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}, "compose-up", timeout=60)
    assert no_docker.returncode == 2
    assert "the Docker engine (unix:///nonexistent/docker.sock) does not answer" in no_docker.stderr
    assert _project_objects(project) == {"containers": [], "networks": [], "volumes": []}
    assert subprocess.run(["docker", "image", "inspect", settings["DATAKIT_IMAGE"]], capture_output=True,
                          check=False).returncode != 0


@pytest.fixture(scope="module")
def stack(kit: Path, settings: dict[str, str], standin: str, pg: PgCluster) -> Iterator[dict[str, Any]]:
    """`make compose-up` with the example's warehouse in the test PostgreSQL; torn down at the end."""
    db = pg.create_db(f"t_{secrets.token_hex(5)}")
    connections = kit / "connections.yaml"
    connections.write_text(f"warehouse: {json.dumps(pg.airflow_uri(dbname=db))}\n")
    connections.chmod(0o600)
    env = _clean_env(**settings, AIRFLOW_IMAGE=standin)
    state: dict[str, Any] = {"db": db, "env": env, "project": settings["COMPOSE_PROJECT_NAME"]}
    try:
        state["up"] = _make(kit, env, "compose-up")
        yield state
    finally:
        state["down"] = _make(kit, env, "compose-down", "WIPE=1", timeout=300)
        state["left"] = _project_objects(state["project"])
        for cid in state["left"]["containers"]:
            subprocess.run(["docker", "rm", "-f", cid], capture_output=True, check=False, timeout=60)
        subprocess.run(["docker", "rmi", settings["DATAKIT_IMAGE"]], capture_output=True, check=False, timeout=120)
        # the engine made the scheduler's secrets folder (a bind mount source) on the host's tmpfs
        shutil.rmtree(Path("/dev/shm") / f"tinyrun-secrets-{SLUG}", ignore_errors=True)
        pg.drop_db(db)


def test_example_pipeline_runs_under_the_scheduler(
    stack: dict[str, Any], settings: dict[str, str], pg: PgCluster, capsys: Any
) -> None:
    up = stack["up"]
    assert up.returncode == 0, "make compose-up failed"
    built = re.search(r"^built \S+ on \S+ in ([0-9.]+) s$", up.stdout, re.MULTILINE)
    assert built, up.stdout
    with capsys.disabled():
        print(f"\ndatakit layer built on the cached stand-in base in {built.group(1)} s")
    assert f"Airflow is up: http://127.0.0.1:{settings['AIRFLOW_PORT']}" in up.stdout

    api = Api(int(settings["AIRFLOW_PORT"]))
    api.login()
    wait_until(lambda: api.dag_exists(EXAMPLE), timeout=300, interval=2)
    run_id = f"compose_test_{secrets.token_hex(3)}"
    api.call("POST", f"/api/v2/dags/{EXAMPLE}/dagRuns", {"dag_run_id": run_id, "logical_date": f"{DAY}T00:00:00Z"})

    def finished() -> bool:
        return api.call("GET", f"/api/v2/dags/{EXAMPLE}/dagRuns/{run_id}")["state"] in ("success", "failed")

    wait_until(finished, timeout=900, interval=3)
    tis = api.call("GET", f"/api/v2/dags/{EXAMPLE}/dagRuns/{run_id}/taskInstances")["task_instances"]
    states = {t["task_id"]: t["state"] for t in tis}
    assert states == dict.fromkeys(
        ["preflight", "create_tables", "load_orders", "publish.daily_total", "publish.report"], "success"
    ), states
    # run by the scheduler's LocalExecutor in its container, not by dag.test()
    assert all(t["hostname"] and t["pid"] for t in tis)
    report = api.call(
        "GET", f"/api/v2/dags/{EXAMPLE}/dagRuns/{run_id}/taskInstances/publish.report/xcomEntries/return_value"
    )
    value = json.loads(report["value"]) if isinstance(report["value"], str) else report["value"]
    assert value["rows"] == 1, report  # the runner's result line: one daily total

    rows = pg.sql("SELECT day::text, orders, amount::float FROM example_daily_total", dbname=stack["db"])
    assert rows == [(DAY, 3, 63.0)]
    assert pg.sql("SELECT count(*) FROM example_orders WHERE day = %s", dbname=stack["db"], params=(DAY,)) == [(3,)]


def test_compose_down_leaves_nothing(stack: dict[str, Any], kit: Path) -> None:
    down = _make(kit, stack["env"], "compose-down", "WIPE=1", timeout=300)
    assert down.returncode == 0
    assert _project_objects(stack["project"]) == {"containers": [], "networks": [], "volumes": []}
