"""TinyrunDockerOperator: DockerOperator plus the task contract (connections, exit codes, result).

- ``AIRFLOW_CONN_<ID>`` of the task's connections is read from Airflow's connection store when the
  task runs and handed to the container as ``private_environment`` (never templated, never in argv,
  never in rendered fields).
- The image must still be the one the DAG pins (the image ID from the image table): else fail.
- Exit 2 and 3 fail without retries, 99 skips (skip_on_exit_code), anything else fails (retries apply).
- The result JSON (last line) becomes the task's XCom as an object.
"""

from __future__ import annotations

import contextlib
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
        self._private_environment = {
            policy.conn_env_name(c): compat.connection_uri(c) for c in self.tinyrun_connections
        }
        self._check_image()
        try:
            return parse_result(super().execute(context))
        except DockerContainerFailedException as exc:  # includes the skip exception (exit 99)
            code = self._exit_code()
            self._remove_failed_container()
            if policy.fails_without_retry(code):
                raise compat.fail_exception()(f"{describe_exit(code)}; not retried") from exc
            raise
        finally:
            self._private_environment = {}

    def _exit_code(self) -> int | None:
        try:
            return int(self.cli.inspect_container(self.container["Id"])["State"]["ExitCode"])
        except Exception:
            return None

    def _remove_failed_container(self) -> None:
        # auto_remove="success" keeps failed/skipped containers so their exit code can be read.
        if self.container is None or self.auto_remove != "success":
            return
        with contextlib.suppress(Exception):  # already gone
            self.cli.remove_container(self.container["Id"], force=True)
