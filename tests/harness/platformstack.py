"""`make platform-start` / `make platform-stop` of the repository, isolated for one test.

A :class:`PlatformStack` has its own compose project, ticket volume, mock ports and folders, so it
never touches a developer's platform_kerberos_cache or ~/.tinyrun; :meth:`PlatformStack.remove`
stops it and deletes its volumes.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

from .checks import wait_until
from .net import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
MOCK_REALM = "TINYRUN.MOCK"
MOCK_USER = "dev"


class PlatformStack:
    """Settings of one platform stack under FOLDER, and the commands a developer would type."""

    def __init__(self, folder: Path) -> None:
        token = secrets.token_hex(4)
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
        self.project = f"tinyrun-test-platform-{token}"
        self.volume = f"tinyrun-test-krb5-{token}"
        self.folder = folder / "platform"
        self.host_dir = folder / "host-krb5"
        self.pg_port = free_port()
        self.settings = {
            "TINYRUN_PLATFORM_PROJECT": self.project,
            "TINYRUN_PLATFORM_DIR": str(self.folder),
            "TINYRUN_HOST_KRB5_DIR": str(self.host_dir),
            "TINYRUN_KRB5_VOLUME": self.volume,
            "TINYRUN_MOCK_KDC_PORT": str(free_port(udp_too=True)),
            "TINYRUN_MOCK_PG_PORT": str(self.pg_port),
            "TINYRUN_HEALTH_INTERVAL": "1s",
        }
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("TINYRUN_", "KRB5"))}
        self.env |= self.settings

    @property
    def krb5_conf(self) -> Path:
        return self.folder / "krb5.conf"

    @property
    def keytab(self) -> Path:
        return self.folder / f"{MOCK_USER}.keytab"

    @property
    def uri(self) -> str:
        """The mock warehouse as an Airflow connection URI (no password: the ticket logs in)."""
        return f"postgres://{MOCK_USER}@localhost:{self.pg_port}/warehouse"

    def make(self, *args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["make", "--no-print-directory", *args], cwd=REPO_ROOT, env=env or self.env, capture_output=True,
            text=True, timeout=timeout, check=False,
        )
        print(f"$ make {' '.join(args)} -> {done.returncode}\n{done.stdout}{done.stderr}")
        return done

    def containers(self) -> dict[str, str]:
        """service -> container ID of the project's containers, running or not."""
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={self.project}"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.split()
        if not ids:
            return {}
        inspected = json.loads(
            subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, check=True, timeout=60).stdout
        )
        return {c["Config"]["Labels"]["com.docker.compose.service"]: c["Id"] for c in inspected}

    def kinit(self) -> None:
        """The developer's kinit into the folder the sharer follows; waits until it is shared."""
        done = subprocess.run(
            ["kinit", "-kt", str(self.keytab), "-c", f"FILE:{self.host_dir / 'krb5cc'}", f"{MOCK_USER}@{MOCK_REALM}"],
            env={"PATH": os.environ["PATH"], "KRB5_CONFIG": str(self.krb5_conf)},
            capture_output=True, text=True, check=False, timeout=60,
        )
        if done.returncode != 0:
            raise AssertionError(f"kinit failed: {done.stderr}")
        sharer = self.containers()["ticket-sharer"]
        wait_until(lambda: self._health(sharer) == "healthy", timeout=60, interval=0.5)

    @staticmethod
    def _health(container: str) -> str:
        out = subprocess.run(["docker", "inspect", "-f", "{{json .State}}", container], capture_output=True,
                             text=True, check=False, timeout=60).stdout
        return (json.loads(out or "{}").get("Health") or {}).get("Status", "")

    def warehouse_sql(self, query: str) -> str:
        """QUERY on the mock warehouse as its superuser, server side (psql -At in the container)."""
        done = subprocess.run(
            ["docker", "exec", self.containers()["mock-postgres"], "psql", "-U", "postgres", "-d", "warehouse",
             "-Atc", query],
            capture_output=True, text=True, check=False, timeout=60,
        )
        if done.returncode != 0:
            raise AssertionError(f"psql failed: {done.stderr}")
        return done.stdout.strip()

    def remove(self) -> None:
        """platform-stop, then the project's volumes and the ticket volume."""
        self.make("platform-stop", timeout=300)
        volumes = subprocess.run(
            ["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={self.project}"],
            capture_output=True, text=True, check=False, timeout=60,
        ).stdout.split()
        subprocess.run(["docker", "volume", "rm", "-f", *volumes, self.volume], capture_output=True, check=False,
                       timeout=60)
