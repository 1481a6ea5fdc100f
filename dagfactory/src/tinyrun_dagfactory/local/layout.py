"""Where the local Airflow of a datakit lives, and the configuration all its processes share.

Everything Airflow writes stays in ``<datakit>/.airflow/`` (git-ignored): the SQLite metadata
database (kept by ``make down``), task logs, each component's output and the pid file (run/), the
admin password and the keys all processes share (keys.json: the JWT secret and the Fernet key), both
mode 600. Settings are passed as ``AIRFLOW__*`` variables: there is no airflow.cfg to edit.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
DEFAULT_PORT = 8080
USER = "admin"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
SECRETS_BACKEND = "airflow.secrets.local_filesystem.LocalFilesystemBackend"


class LocalError(Exception):
    """A problem the developer has to fix; the message says how. Exit status 2 unless set."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Kit:
    root: Path

    @property
    def home(self) -> Path:
        return self.root / ".airflow"

    @property
    def run_dir(self) -> Path:
        """Component output, the pid file and the port in use."""
        return self.home / "run"

    @property
    def connections_file(self) -> Path:
        return self.root / "connections.yaml"

    @property
    def connections_example(self) -> Path:
        return self.root / "connections.example.yaml"

    @property
    def passwords_file(self) -> Path:
        return self.home / "passwords.json"

    @property
    def state_file(self) -> Path:
        return self.run_dir / "state.json"

    @property
    def airflow_bin(self) -> Path:
        return self.root / ".venv" / "bin" / "airflow"

    @property
    def keys_file(self) -> Path:
        return self.home / "keys.json"

    def _private_json(self, path: Path, make: dict[str, str]) -> dict[str, str]:
        """A JSON file only its owner can read, written once with ``make`` and kept with the metadata."""
        self.home.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(json.dumps(make) + "\n")
        return dict(json.loads(path.read_text()))

    def password(self) -> str:
        """The admin password of the UI and the API (the simple auth manager's passwords file)."""
        return self._private_json(self.passwords_file, {USER: secrets.token_urlsafe(12)})[USER]

    def keys(self) -> dict[str, str]:
        """The keys every process must share: the JWT secret the API server checks the task processes'
        tokens with, and the Fernet key of the metadata's encrypted fields."""
        return self._private_json(
            self.keys_file,
            {
                "jwt_secret": secrets.token_urlsafe(64),
                "fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            },
        )

    def airflow_env(self, port: int) -> dict[str, str]:
        """The environment of every Airflow process of this datakit."""
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        # what the DAG factory does with the tasks: run the runner images on this docker engine; the
        # runner containers share the host's network so that databases on loopback are reachable
        env.setdefault("TINYRUN_EXECUTOR", "docker")
        env.setdefault("TINYRUN_DOCKER_NETWORK_MODE", "host")
        keys = self.keys()
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
                "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.root / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.passwords_file),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__BASE_URL": base,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__SECRETS__BACKEND": SECRETS_BACKEND,
                "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps({"connections_file_path": str(self.connections_file)}),
                # only what `make run` (or the UI) triggers runs: no schedule starts by itself
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                # edits to pipelines show up within seconds
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            }
        )
        return env


def kit_at(path: str | os.PathLike[str]) -> Kit:
    root = Path(path).resolve()
    if not (root / "pipelines").is_dir() or not (root / "dags").is_dir():
        raise LocalError(f"{root} is not a datakit (no pipelines/ and dags/): run this from the datakit's folder")
    return Kit(root)
