"""Run a tinyrun image the way Airflow's DockerOperator runs it.

Every container runs with ``docker run --rm --read-only --user 65532:65532 --network host``.
Environment values (secrets included) reach the container only through an ``--env-file``
written with mode 0600 and removed afterwards, never as ``-e NAME=value`` in argv, where any
user could read them from the process list.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Self

from .process import Process, StdinSource
from .result import RunResult

BASE_FLAGS = ["--rm", "--read-only", "--user", "65532:65532", "--network", "host"]
Mount = tuple[str | Path, str] | tuple[str | Path, str, str]


def docker_available() -> bool:
    """True when the docker CLI exists and the engine answers."""
    if not shutil.which("docker"):
        return False
    proc = subprocess.run(["docker", "info"], capture_output=True, check=False)
    return proc.returncode == 0


def image_exists(ref: str) -> bool:
    """True when image REF (tag or ID) is present in the local engine."""
    proc = subprocess.run(["docker", "image", "inspect", ref], capture_output=True, check=False)
    return proc.returncode == 0


def write_env_file(env: dict[str, str], folder: Path) -> Path:
    """Write ENV as a docker env-file (mode 0600) in FOLDER and return its path."""
    path = folder / "env"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        for key, value in env.items():
            if "\n" in value or "\n" in key or "=" in key:
                raise ValueError(f"{key}: docker env-files cannot hold this name or value")
            f.write(f"{key}={value}\n")
    return path


def _mount_flags(mounts: list[Mount]) -> list[str]:
    flags = []
    for mount in mounts:
        source, target = mount[0], mount[1]
        mode = mount[2] if len(mount) == 3 else "ro"  # type: ignore[misc]
        flags += ["-v", f"{Path(source).resolve()}:{target}:{mode}"]
    return flags


class Container:
    """A started ``docker run``; :meth:`wait` returns its :class:`RunResult`."""

    def __init__(
        self,
        image: str,
        args: list[str],
        env: dict[str, str] | None = None,
        mounts: list[Mount] | None = None,
        stdin: StdinSource = None,
        stdout_path: Path | None = None,
        extra_flags: list[str] | None = None,
    ) -> None:
        self.name = f"tinyrun-test-{secrets.token_hex(6)}"
        self._tmp = Path(tempfile.mkdtemp(prefix="tinyrun-docker-"))
        flags = [*BASE_FLAGS, "--name", self.name]
        if stdin is not None:
            flags.append("-i")
        if env:
            flags += ["--env-file", str(write_env_file(env, self._tmp))]
        flags += _mount_flags(mounts or [])
        flags += extra_flags or []
        argv = ["docker", "run", *flags, image, *args]
        self.process = Process(argv, dict(os.environ), stdin=stdin, stdout_path=stdout_path)

    def kill(self, sig: str = "TERM") -> None:
        """Send SIG to the container's main process (``docker kill --signal``)."""
        subprocess.run(
            ["docker", "kill", "--signal", sig, self.name], capture_output=True, check=False
        )

    def running(self) -> bool:
        """True while the container exists and runs."""
        proc = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Running}}", self.name],
            check=False,
            capture_output=True,
            text=True,
        )
        return proc.returncode == 0 and proc.stdout.strip() == "true"

    def wait(self, timeout: float = 120.0) -> RunResult:
        """Wait for the container to finish; on timeout remove it and raise TimeoutError."""
        try:
            return self.process.wait(timeout)
        except TimeoutError:
            subprocess.run(["docker", "rm", "-f", self.name], capture_output=True, check=False)
            raise
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.process.poll():
            subprocess.run(["docker", "rm", "-f", self.name], capture_output=True, check=False)
            self.process.send_signal(signal.SIGKILL)
            self.wait(timeout=30)


def docker_run(
    image: str,
    args: list[str],
    env: dict[str, str] | None = None,
    mounts: list[Mount] | None = None,
    stdin: StdinSource = None,
    timeout: float = 120.0,
    stdout_path: Path | None = None,
    extra_flags: list[str] | None = None,
) -> RunResult:
    """``docker run`` IMAGE ARGS to completion; MOUNTS are (host, container[, "ro"|"rw"])."""
    container = Container(image, args, env, mounts, stdin, stdout_path, extra_flags)
    return container.wait(timeout)
