"""compose/docker-compose.yml with the real image and the Docker engine (docker-compose v1.29):
with a real ticket in the host folder the sharer turns healthy and a postgres-runner container
that mounts the shared volume read-only logs in to a real PostgreSQL with GSSAPI; without a
ticket it is unhealthy and its log says what to run."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import docker as hdocker
from harness.checks import assert_ok, wait_until
from harness.kdc import Kdc, KerberosUser
from harness.pgcluster import PgCluster
from harness.result import RunResult

COMPOSE = shutil.which("docker-compose")
CCACHE = "/krb5/cache/krb5cc"
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed")


@pytest.fixture(scope="session")
def sharer_image(images_lock: dict[str, Any]) -> str:
    entry = images_lock.get("images", {}).get("ticket-sharer")
    if not entry or not entry.get("image"):
        pytest.fail("build/images.lock.json has no images.ticket-sharer.image", pytrace=False)
    if not hdocker.image_exists(entry["image"]):
        pytest.fail(
            f"image {entry['image']} is not in the docker engine: run `make images`", pytrace=False
        )
    return entry["image"]


class Stack:
    """One docker-compose project of compose/docker-compose.yml with its own volume name."""

    def __init__(self, repo_root: Path, image: str, host_dir: Path, krb5_conf: Path) -> None:
        token = secrets.token_hex(4)
        self.project = f"tinyrun-test-{token}"
        self.volume = f"tinyrun-test-krb5-{token}"
        self.file = repo_root / "compose" / "docker-compose.yml"
        self.env = {
            **os.environ,
            "TINYRUN_VERSION": image.rsplit(":", 1)[1],
            "TINYRUN_HOST_KRB5_DIR": str(host_dir),
            "TINYRUN_KRB5_CONF": str(krb5_conf),
            "TINYRUN_KRB5_VOLUME": self.volume,
            "TINYRUN_HEALTH_INTERVAL": "1s",
        }

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [COMPOSE or "docker-compose", "-p", self.project, "-f", str(self.file), *args]
        proc = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed: {proc.stdout}{proc.stderr}")
        return proc

    def container(self) -> str:
        return self.compose("ps", "-q", "ticket-sharer").stdout.strip()

    def health(self) -> str:
        out = subprocess.run(
            ["docker", "inspect", "-f", "{{json .State}}", self.container()],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        state = json.loads(out or "{}")
        return (state.get("Health") or {}).get("Status", "")

    def wait_health(self, want: str, timeout: float = 30) -> None:
        try:
            wait_until(lambda: self.health() == want, timeout=timeout, interval=0.2)
        except TimeoutError:
            raise AssertionError(f"not {want} but {self.health()!r}:\n{self.logs()}") from None

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "ticket-sharer", check=False).stdout

    def exec(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.compose(
            "exec", "-T", "ticket-sharer", "/usr/local/bin/ticket-sharer", *args, check=False
        )


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "host-krb5"
    folder.mkdir()
    folder.chmod(0o755)
    tmp_path.chmod(0o755)
    return folder


@pytest.fixture
def stack(repo_root: Path, sharer_image: str, host_dir: Path, kdc: Kdc) -> Iterator[Stack]:
    s = Stack(repo_root, sharer_image, host_dir, kdc.krb5_conf)
    yield s
    s.compose("down", "-v", "--timeout", "5", check=False)
    subprocess.run(["docker", "volume", "rm", "-f", s.volume], capture_output=True, check=False)


def kinit_as_host_user(kdc: Kdc, alice: KerberosUser, path: Path, lifetime: str = "1h") -> None:
    """A ticket cache as a developer's kinit leaves it: mode 0600, owned by the user the
    sharer runs as (the compose default, 65532)."""
    kdc.kinit(alice.principal, path, password=alice.password, lifetime=lifetime)
    os.chown(path, 65532, 65532)
    path.chmod(0o600)


def test_compose_file_is_valid_and_pins_the_version(repo_root: Path) -> None:
    text = (repo_root / "compose" / "docker-compose.yml").read_text()
    version = (repo_root / "VERSION").read_text().strip()
    assert (
        f"tinyrun/ticket-sharer:${{TINYRUN_VERSION:-{version}}}" in text
    ), "compose's default tag != VERSION"
    assert not re.search(
        r"\b[a-z0-9.-]+\.(io|com|org|net)/", text
    ), "compose must not name a registry host"
    proc = subprocess.run(
        [
            COMPOSE or "docker-compose",
            "-f",
            str(repo_root / "compose" / "docker-compose.yml"),
            "config",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for needle in ("read_only: true", "user: 65532:65532", "platform_kerberos_cache", "check"):
        assert needle in proc.stdout, needle


def test_healthy_with_ticket_and_postgres_gssapi_end_to_end(
    stack: Stack,
    host_dir: Path,
    kdc: Kdc,
    alice: KerberosUser,
    pg: PgCluster,
    docker_run: Callable[..., RunResult],
    postgres_runner_image: str,
) -> None:
    kinit_as_host_user(kdc, alice, host_dir / "krb5cc")
    stack.compose("up", "-d")
    stack.wait_health("healthy")
    status = stack.exec("status")
    assert status.returncode == 0, status
    res = json.loads(status.stdout.strip().splitlines()[-1])
    assert (
        res["principal"] == alice.principal and res["mode"] == "0640" and res["gid"] == 65532
    ), res

    env = pg.conn_env(user="alice", host="localhost") | {
        "KRB5CCNAME": f"FILE:{CCACHE}",
        "KRB5_CONFIG": "/krb5/krb5.conf",
    }
    result = docker_run(
        postgres_runner_image,
        ["check", "--conn", "pg"],
        env=env,
        mounts=[(kdc.krb5_conf, "/krb5/krb5.conf")],
        extra_flags=["-v", f"{stack.volume}:/krb5/cache:ro"],
    )
    out = assert_ok(result)
    assert out.get("user") == "alice" and out.get("gss") is True, out

    # a new kinit on the host reaches the volume at once (inotify through the bind mount)
    before = res["start"]
    time.sleep(1.1)
    kinit_as_host_user(kdc, alice, host_dir / "krb5cc")
    wait_until(
        lambda: json.loads(stack.exec("status").stdout.strip().splitlines()[-1])["start"] != before,
        timeout=10,
        interval=0.2,
    )

    # docker stop: SIGTERM, exit 143 well within the grace period; the ticket stays on the volume
    began = time.monotonic()
    stack.compose("stop", "-t", "5", "ticket-sharer")
    assert time.monotonic() - began < 4
    code = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.ExitCode}}", stack.container()],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    assert code == "143", stack.logs()


def test_unhealthy_without_ticket_and_says_what_to_run(stack: Stack, host_dir: Path) -> None:
    stack.compose("up", "-d")
    stack.wait_health("unhealthy")
    logs = stack.logs()
    assert f"kinit -c FILE:{host_dir}/krb5cc" in logs, logs
    check = stack.exec("check")
    assert check.returncode == 3, check
    assert "does not exist" in check.stdout, check


def test_unreadable_host_cache_names_the_fix(
    stack: Stack, host_dir: Path, kdc: Kdc, alice: KerberosUser
) -> None:
    path = host_dir / "krb5cc"
    kdc.kinit(alice.principal, path, password=alice.password, lifetime="1h")
    path.chmod(0o600)  # owned by root: the sharer (uid 65532) cannot read it
    stack.compose("up", "-d")
    stack.wait_health("unhealthy")
    logs = stack.logs()
    assert "permission denied" in logs and "TINYRUN_HOST_UID=0" in logs, logs


def test_renew_profile_publishes_from_keytab(
    repo_root: Path,
    sharer_image: str,
    host_dir: Path,
    kdc: Kdc,
    alice: KerberosUser,
    tmp_path: Path,
) -> None:
    s = Stack(repo_root, sharer_image, host_dir, kdc.krb5_conf)
    keytab = tmp_path / "alice.keytab"
    shutil.copy(alice.keytab, keytab)
    os.chown(keytab, 65532, 65532)
    keytab.chmod(0o600)
    override = tmp_path / "override.yml"
    override.write_text(
        "services:\n  ticket-renewer:\n    network_mode: host\n"
    )  # the KDC is on loopback
    s.env |= {"TINYRUN_KEYTAB": str(keytab), "TINYRUN_PRINCIPAL": alice.principal}
    argv = [COMPOSE or "docker-compose", "-p", s.project, "-f", str(s.file), "-f", str(override)]
    try:
        up = subprocess.run(
            [*argv, "--profile", "renew", "up", "-d", "ticket-renewer"],
            env=s.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert up.returncode == 0, up.stderr

        def healthy() -> bool:
            cid = subprocess.run(
                [*argv, "--profile", "renew", "ps", "-q", "ticket-renewer"],
                env=s.env,
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            out = subprocess.run(
                ["docker", "inspect", "-f", "{{.State.Health.Status}}", cid],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            return out == "healthy"

        wait_until(healthy, timeout=30, interval=0.2)
        # the published cache on the volume is a complete, valid cache for alice
        data = subprocess.run(
            [
                "docker",
                "run",
                "--rm",
                "--read-only",
                "--user",
                "65532:65532",
                "-v",
                f"{s.volume}:/krb5/cache:ro",
                "--entrypoint",
                "/usr/local/bin/ticket-sharer",
                sharer_image,
                "status",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        res = json.loads(data.stdout.strip().splitlines()[-1])
        assert res["principal"] == alice.principal and res["source"] == "keytab /krb5/keytab", res
    finally:
        subprocess.run(
            [*argv, "--profile", "renew", "down", "-v", "--timeout", "5"],
            env=s.env,
            capture_output=True,
            check=False,
        )
        subprocess.run(["docker", "volume", "rm", "-f", s.volume], capture_output=True, check=False)
