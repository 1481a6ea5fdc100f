"""TinyrunDockerOperator: DockerOperator plus the task contract (connections, exit codes, result)
and the hardening the provider has no parameter for.

- Connections (``AIRFLOW_CONN_<ID>``) are read from Airflow's connection store when the task runs
  (never templated, never in argv, never in rendered fields). With a local engine they reach the
  container as files (:mod:`secretfiles`: nothing secret in ``docker inspect``); with a remote engine
  as ``private_environment``, with a warning logged once.
- The image must still be the one the DAG pins (the image ID from the image table): else fail.
- Hardening: read-only root filesystem with a tmpfs ``/tmp``, every capability dropped,
  no-new-privileges, and the CPU limit as a hard quota (``NanoCpus``) instead of the provider's
  relative ``cpu_shares``. The provider (4.6) has no parameter for these: they are added where the
  operator creates the container, through its documented API client property ``cli``.
- Exit 2 and 3 fail without retries, 99 skips (skip_on_exit_code), anything else fails (retries apply).
- The result JSON (the last line of the container's stdout, read once it exited, not the last line
  of the mixed stdout/stderr stream) becomes the task's XCom as an object.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.providers.docker.exceptions import DockerContainerFailedException
from airflow.providers.docker.operators.docker import DockerOperator

from . import compat, policy, resources, secretfiles
from .results import describe_exit, parse_result

log = logging.getLogger(__name__)
_warned: set[str] = set()

# What every container gets on top of the operator's own arguments.
HARDENING: dict[str, Any] = {
    "read_only": True,
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
    "tmpfs": {"/tmp": f"rw,nosuid,nodev,noexec,mode=1777,size={resources.memory_bytes(policy.TMP_SIZE)}"},
}


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


class TinyrunDockerOperator(DockerOperator):
    template_ext: Sequence[str] = ()  # argv items are never template file names
    ui_color = "#d7ecfb"

    # Set by the factory right after construction (build.make_operator): no __init__ of our own,
    # which spares Airflow's argument-checking wrapper one more layer per task (profiled).
    tinyrun_connections: Sequence[str] = ()
    tinyrun_image_id: str | None = None
    tinyrun_nano_cpus: int | None = None

    def _check_image(self) -> None:
        if not self.tinyrun_image_id:
            return
        try:
            found = self.cli.inspect_image(self.image)["Id"]
        except Exception as exc:  # image missing: no registry to pull from in this design
            raise compat.fail_exception()(f"image {self.image} is not on this docker engine: {exc}") from exc
        if found != self.tinyrun_image_id:
            raise compat.fail_exception()(
                f"image {self.image} is {found} but this DAG pins {self.tinyrun_image_id}: "
                "the DAGs and the built images are out of step (run `make images` and redeploy the table)"
            )

    def _secret_folder(self, values: dict[str, str]) -> Path | None:
        """A per-try folder holding the connections as files, or None to use the environment."""
        if not values:
            return None
        s = policy.settings()
        if s.docker_secrets == "env":
            _warn_once("TINYRUN_DOCKER_SECRETS=env: connections are in the containers' environment (docker inspect)")
            return None
        urls = [self.docker_url] if isinstance(self.docker_url, str) else list(self.docker_url)
        if not all(secretfiles.engine_is_local(url) for url in urls):
            _warn_once(
                f"docker engine {self.docker_url} is remote: connections are handed as environment variables, "
                "which anyone allowed to `docker inspect` the container can read"
            )
            return None
        try:
            return secretfiles.create(values, s.docker_secrets_dir)
        except (secretfiles.Unavailable, OSError) as exc:
            _warn_once(f"connections as files unavailable ({exc}): handed as environment variables instead")
            return None

    def execute(self, context: Any) -> Any:
        from docker.types import Mount

        self._tinyrun_exit: int | None = None
        self._tinyrun_stdout_last: str | None = None
        self._check_image()
        values = {policy.conn_env_name(c): compat.connection_uri(c) for c in self.tinyrun_connections}
        saved = (self.environment, self.mounts)
        folder = self._secret_folder(values)
        if folder is None:
            self._private_environment = values
        else:
            self.environment = {**self.environment, **secretfiles.file_environment(list(values))}
            self.mounts = [
                *self.mounts,
                Mount(target=secretfiles.MOUNT_POINT, source=str(folder), type="bind", read_only=True),
            ]
        try:
            mixed_last_line = super().execute(context)
            if self._tinyrun_stdout_last is not None and self.do_xcom_push:
                return parse_result(self._tinyrun_stdout_last)
            return parse_result(mixed_last_line)
        except DockerContainerFailedException as exc:  # includes the skip exception (exit 99)
            code = self._exit_code(exc)
            self._remove_failed_container()
            if policy.fails_without_retry(code):
                raise compat.fail_exception()(f"{describe_exit(code)}; not retried") from exc
            raise
        finally:
            self._private_environment = {}
            self.environment, self.mounts = saved
            if folder is not None:
                secretfiles.remove(folder)  # the container has ended (or never started)

    @property
    def cli(self) -> Any:
        return _TinyrunClient(super().cli, self)

    def _exit_code(self, exc: BaseException) -> int | None:
        """The container's exit status: recorded from the engine's wait(), else from the message."""
        if self._tinyrun_exit is not None:
            return self._tinyrun_exit
        m = re.search(r"'StatusCode': (\d+)", str(exc))
        return int(m.group(1)) if m else None

    def _remove_failed_container(self) -> None:
        # Provider versions differ on whether auto_remove="success" also removes failed containers:
        # make sure failed and skipped ones go too (their exit status was recorded from wait()).
        if self.container is None or self.auto_remove != "success":
            return
        with contextlib.suppress(Exception):  # already gone
            self.cli.remove_container(self.container["Id"], force=True)


_STDOUT_TAIL = 500


class _TinyrunClient:
    """The docker API client, except that containers get the hardening and the CPU quota, and wait()
    also records the exit status and the result line on the operator."""

    def __init__(self, client: Any, operator: TinyrunDockerOperator) -> None:
        self._client = client
        self._operator = operator

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def create_host_config(self, **kwargs: Any) -> Any:
        kwargs.pop("cpu_shares", None)  # a relative weight, not a limit: replaced by nano_cpus
        kwargs.update(HARDENING)
        if self._operator.tinyrun_nano_cpus:
            kwargs["nano_cpus"] = self._operator.tinyrun_nano_cpus
        return self._client.create_host_config(**kwargs)

    def wait(self, container: Any, *args: Any, **kwargs: Any) -> Any:
        result = self._client.wait(container, *args, **kwargs)
        with contextlib.suppress(Exception):
            self._operator._tinyrun_exit = int(result["StatusCode"])
        with contextlib.suppress(Exception):
            # The result line is the last line of *stdout*. The attached stream mixes stdout and
            # stderr (the runner's logs) from two pipes, so its last line is not reliably the result.
            # The engine applies `tail` before filtering by stream: read enough lines to get past
            # the few log lines a runner writes after its result.
            raw = self._client.logs(container, stdout=True, stderr=False, tail=_STDOUT_TAIL)
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            lines = [line for line in text.splitlines() if line.strip()]
            if lines:
                self._operator._tinyrun_stdout_last = lines[-1].strip()
        return result
