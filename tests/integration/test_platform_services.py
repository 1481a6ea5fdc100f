"""`make platform-start` / `make platform-stop` (tools/platform_services.py) with the real images and
docker-compose 1.29: with MOCKS=1 the whole Kerberos path of a developer without a corporate realm,
kinit -> ticket sharer -> volume -> postgres-runner container -> PostgreSQL with GSSAPI, where the
row it wrote belongs to the role the ticket names; starting twice keeps what runs; stopping leaves
no container; Docker not reachable stops before anything starts.

Each test uses its own compose project, volume names, ports and folders (never the developer's
platform_kerberos_cache or ~/.tinyrun).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.checks import assert_ok, wait_until
from harness.net import free_port
from harness.result import RunResult

REPO = Path(__file__).resolve().parents[2]
REALM = "TINYRUN.MOCK"
USER = "dev"
pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "docker-compose"], capture_output=True, check=False).returncode != 0,
    reason="docker-compose is not installed",
)


def _make(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["make", "--no-print-directory", *args], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=timeout, check=False,
    )
    print(f"$ make {' '.join(args)} -> {done.returncode}\n{done.stdout}{done.stderr}")
    return done


def _containers(project: str) -> dict[str, str]:
    """service -> container ID of the project's containers, running or not."""
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split()
    if not out:
        return {}
    inspected = json.loads(subprocess.run(["docker", "inspect", *out], capture_output=True, text=True, check=True,
                                          timeout=60).stdout)
    return {c["Config"]["Labels"]["com.docker.compose.service"]: c["Id"] for c in inspected}


def _health(container: str) -> str:
    out = subprocess.run(["docker", "inspect", "-f", "{{json .State}}", container], capture_output=True, text=True,
                         check=False, timeout=60).stdout
    state = json.loads(out or "{}")
    return (state.get("Health") or {}).get("Status", "")


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The settings of one platform stack; stopped and its volumes removed afterwards."""
    token = secrets.token_hex(4)
    tmp_path.chmod(0o755)
    host_dir = tmp_path / "host-krb5"
    settings = {
        "TINYRUN_PLATFORM_PROJECT": f"tinyrun-test-platform-{token}",
        "TINYRUN_PLATFORM_DIR": str(tmp_path / "platform"),
        "TINYRUN_HOST_KRB5_DIR": str(host_dir),
        "TINYRUN_KRB5_VOLUME": f"tinyrun-test-krb5-{token}",
        "TINYRUN_MOCK_KDC_PORT": str(free_port(udp_too=True)),
        "TINYRUN_MOCK_PG_PORT": str(free_port()),
        "TINYRUN_HEALTH_INTERVAL": "1s",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TINYRUN_", "KRB5"))} | settings
    state = {"env": env, "project": settings["TINYRUN_PLATFORM_PROJECT"], "host_dir": host_dir,
             "folder": tmp_path / "platform", **settings}
    yield state
    _make(env, "platform-stop", timeout=300)
    volumes = subprocess.run(
        ["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={state['project']}"],
        capture_output=True, text=True, check=False, timeout=60,
    ).stdout.split()
    subprocess.run(["docker", "volume", "rm", "-f", *volumes, settings["TINYRUN_KRB5_VOLUME"]],
                   capture_output=True, check=False, timeout=60)


def test_mocks_run_the_whole_kerberos_path(
    platform: dict[str, Any], postgres_runner_image: str, docker_run: Any
) -> None:
    env, project = platform["env"], platform["project"]
    pg_port, folder = platform["TINYRUN_MOCK_PG_PORT"], platform["folder"]
    started = _make(env, "platform-start", "MOCKS=1")
    assert started.returncode == 0
    uri = f"postgres://{USER}@localhost:{pg_port}/warehouse"
    keytab, krb5_conf = folder / f"{USER}.keytab", folder / "krb5.conf"
    assert f"kinit -kt {keytab} -c FILE:{platform['host_dir']}/krb5cc {USER}@{REALM}" in started.stdout
    assert uri in started.stdout
    assert keytab.stat().st_mode & 0o777 == 0o600
    assert set(_containers(project)) == {"ticket-sharer", "mock-kdc", "mock-postgres"}

    # the developer's kinit, with the realm's krb5.conf that platform-start wrote
    ccache = platform["host_dir"] / "krb5cc"
    kinit = subprocess.run(
        ["kinit", "-kt", str(keytab), "-c", f"FILE:{ccache}", f"{USER}@{REALM}"],
        env={"PATH": os.environ["PATH"], "KRB5_CONFIG": str(krb5_conf)}, capture_output=True, text=True,
        check=False, timeout=60,
    )
    assert kinit.returncode == 0, kinit.stderr
    sharer = _containers(project)["ticket-sharer"]
    wait_until(lambda: _health(sharer) == "healthy", timeout=60, interval=0.5)

    # a runner container with only the shared volume (read-only) and the realm's krb5.conf
    def runner(*args: str) -> RunResult:
        result: RunResult = docker_run(
            postgres_runner_image,
            list(args),
            env={"AIRFLOW_CONN_WAREHOUSE": uri},
            mounts=[(krb5_conf, "/etc/krb5.conf")],
            extra_flags=["-v", f"{platform['TINYRUN_KRB5_VOLUME']}:/krb5/cache:ro"],
        )
        return result

    check = assert_ok(runner("check", "--conn", "warehouse"))
    assert check["user"] == USER and check["gss_authenticated"] is True, check
    assert_ok(runner("run", "--conn", "warehouse", "-c",
                     "CREATE TABLE platform_probe AS SELECT current_user::text AS who, 42 AS answer"))
    # server side: the table is there, owned by the role the ticket named
    seen = subprocess.run(
        ["docker", "exec", _containers(project)["mock-postgres"], "psql", "-U", "postgres", "-d", "warehouse",
         "-Atc", "SELECT who, answer, tableowner FROM platform_probe JOIN pg_tables ON tablename = 'platform_probe'"],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert seen.stdout.strip() == f"{USER}|42|{USER}", seen.stderr

    # a second start keeps what runs
    before = _containers(project)
    again = _make(env, "platform-start", "MOCKS=1")
    assert again.returncode == 0
    assert _containers(project) == before

    stopped = _make(env, "platform-stop")
    assert stopped.returncode == 0 and "stopped and removed" in stopped.stdout
    assert _containers(project) == {}
    assert "nothing was running" in _make(env, "platform-stop").stdout


def test_docker_not_reachable_starts_nothing(platform: dict[str, Any]) -> None:
    env = {**platform["env"], "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    done = _make(env, "platform-start", "MOCKS=1", timeout=120)
    assert done.returncode != 0
    assert "the Docker engine at unix:///nonexistent/docker.sock does not answer" in done.stderr
    assert "Nothing was started." in done.stderr
    assert _containers(platform["project"]) == {}
    assert not Path(platform["TINYRUN_PLATFORM_DIR"]).exists()
