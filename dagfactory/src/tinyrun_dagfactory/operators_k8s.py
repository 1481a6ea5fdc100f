"""TinyrunPodOperator: KubernetesPodOperator plus the task contract's exit codes.

Connections arrive as Kubernetes Secrets (env ``AIRFLOW_CONN_<ID>`` from Secret
``<prefix><conn-id>``, key ``uri``), built by :mod:`build`; nothing secret is read by Airflow here.
Exit 2 and 3 fail without retries; 99 skips; the runner's /airflow/xcom/return.json is the XCom.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

from . import compat, policy
from .results import describe_exit


def container_exit_code(remote_pod: Any, container_name: str) -> int | None:
    statuses = (remote_pod.status.container_statuses if remote_pod is not None and remote_pod.status else None) or []
    for status in statuses:
        if status.name == container_name and status.state and status.state.terminated:
            return int(status.state.terminated.exit_code)
    return None


class TinyrunPodOperator(KubernetesPodOperator):
    template_ext: Sequence[str] = ()  # argv items are never template file names
    ui_color = "#e4f0e8"

    def cleanup(self, pod: Any, remote_pod: Any, *args: Any, **kwargs: Any) -> None:
        try:
            super().cleanup(pod, remote_pod, *args, **kwargs)
        except Exception as exc:
            code = container_exit_code(remote_pod, self.base_container_name)
            if policy.fails_without_retry(code) and not isinstance(exc, _skip_exception()):
                raise compat.fail_exception()(f"{describe_exit(code)}; not retried") from exc
            raise


def _skip_exception() -> type[Exception]:
    try:
        from airflow.sdk.exceptions import AirflowSkipException
    except ImportError:  # Airflow 2
        from airflow.exceptions import AirflowSkipException  # type: ignore[no-redef]
    return AirflowSkipException
