"""`make platform-start` / `make platform-stop` (tools/platform_services.py) with the real images and
docker-compose 1.29: with MOCKS=1 the whole Kerberos path of a developer without a corporate realm,
kinit -> ticket sharer -> volume -> postgres-runner container -> PostgreSQL with GSSAPI, where the
table it created belongs to the role the ticket names; starting twice keeps what runs; stopping
leaves no container; Docker not reachable stops before anything starts. (The same path through the
DAG factory and Airflow: tests/dagfactory/test_e2e_kerberos.py.)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.checks import assert_ok
from harness.platformstack import MOCK_REALM, MOCK_USER, PlatformStack
from harness.result import RunResult

pytestmark = pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[PlatformStack]:
    stack = PlatformStack(tmp_path)
    yield stack
    stack.remove()


def test_mocks_run_the_whole_kerberos_path(
    platform: PlatformStack, postgres_runner_image: str, docker_run: Any
) -> None:
    started = platform.make("platform-start", "MOCKS=1")
    assert started.returncode == 0
    ccache = f"FILE:{platform.host_dir}/krb5cc"
    assert f"kinit -kt {platform.keytab} -c {ccache} {MOCK_USER}@{MOCK_REALM}" in started.stdout
    assert platform.uri in started.stdout and f"TINYRUN_DOCKER_KRB5_CONF={platform.krb5_conf}" in started.stdout
    assert platform.keytab.stat().st_mode & 0o777 == 0o600
    assert set(platform.containers()) == {"ticket-sharer", "mock-kdc", "mock-postgres"}

    platform.kinit()

    # a runner container with only the shared volume (read-only) and the realm's krb5.conf
    def runner(*args: str) -> RunResult:
        result: RunResult = docker_run(
            postgres_runner_image,
            list(args),
            env={"AIRFLOW_CONN_WAREHOUSE": platform.uri},
            mounts=[(platform.krb5_conf, "/etc/krb5.conf")],
            extra_flags=["-v", f"{platform.volume}:/krb5/cache:ro"],
        )
        return result

    check = assert_ok(runner("check", "--conn", "warehouse"))
    assert check["user"] == MOCK_USER and check["gss_authenticated"] is True, check
    assert_ok(runner("run", "--conn", "warehouse", "-c",
                     "CREATE TABLE platform_probe AS SELECT current_user::text AS who, 42 AS answer"))
    # server side: the table is there, owned by the role the ticket named
    seen = platform.warehouse_sql(
        "SELECT who, answer, tableowner FROM platform_probe JOIN pg_tables ON tablename = 'platform_probe'"
    )
    assert seen == f"{MOCK_USER}|42|{MOCK_USER}"

    # a second start keeps what runs
    before = platform.containers()
    assert platform.make("platform-start", "MOCKS=1").returncode == 0
    assert platform.containers() == before

    stopped = platform.make("platform-stop")
    assert stopped.returncode == 0 and "stopped and removed" in stopped.stdout
    assert platform.containers() == {}
    assert "nothing was running" in platform.make("platform-stop").stdout


def test_docker_not_reachable_starts_nothing(platform: PlatformStack) -> None:
    done = platform.make("platform-start", "MOCKS=1", env={**platform.env, "DOCKER_HOST": "unix:///nonexistent/d.sock"})
    assert done.returncode != 0
    assert "the Docker engine at unix:///nonexistent/d.sock does not answer" in done.stderr
    assert "Nothing was started." in done.stderr
    assert platform.containers() == {}
    assert not platform.folder.exists()
