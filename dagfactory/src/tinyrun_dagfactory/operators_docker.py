"""TinyrunDockerOperator: DockerOperator plus the task contract (connections, exit codes, result).

- ``AIRFLOW_CONN_<ID>`` of the task's connections is read from Airflow's connection store when the
  task runs and handed to the container as ``private_environment`` (never templated, never in argv,
  never in rendered fields).
- The image must still be the one the DAG pins (the image ID from the image table): else fail.
- Exit 2 and 3 fail without retries, 99 skips (skip_on_exit_code), anything else fails (retries apply).
- The result JSON (the last line of the container's stdout, read once it exited, not the last line
  of the mixed stdout/stderr stream) becomes the task's XCom as an object.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any

from airflow.providers.docker.exceptions import DockerContainerFailedException
from airflow.providers.docker.operators.docker import DockerOperator

from . import compat, policy
from .results import describe_exit, parse_result


class TinyrunDockerOperator(DockerOperator):
    template_ext: Sequence[str] = ()  # argv items are never template file names
    ui_color = "#d7ecfb"

    def __init__(
        self,
        *,
        tinyrun_connections: Sequence[str] = (),
        tinyrun_image_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tinyrun_connections = list(tinyrun_connections)
        self.tinyrun_image_id = tinyrun_image_id
        self._tinyrun_exit: int | None = None
        self._tinyrun_stdout_last: str | None = None

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

    def execute(self, context: Any) -> Any:
        self._tinyrun_exit = None
        self._tinyrun_stdout_last = None
        self._private_environment = {
            policy.conn_env_name(c): compat.connection_uri(c) for c in self.tinyrun_connections
        }
        self._check_image()
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

    @property
    def cli(self) -> Any:
        return _ExitRecorder(super().cli, self)

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


class _ExitRecorder:
    """The docker API client, except that wait() also records the exit status on the operator."""

    def __init__(self, client: Any, operator: TinyrunDockerOperator) -> None:
        self._client = client
        self._operator = operator

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

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
