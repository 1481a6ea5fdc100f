"""Airflow 2.10+/3.x differences, in one place (imports are lazy: only DAG building needs Airflow)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def airflow_major() -> int:
    import airflow

    return int(airflow.__version__.split(".")[0])


def dag_classes() -> tuple[Any, Any]:
    """(DAG, TaskGroup)"""
    try:
        from airflow.sdk import DAG, TaskGroup
    except ImportError:  # Airflow 2
        from airflow import DAG
        from airflow.utils.task_group import TaskGroup  # type: ignore[import-not-found, no-redef]
    return DAG, TaskGroup


def fail_exception() -> type[Exception]:
    """AirflowFailException: fail the task now, without using its retries."""
    try:
        from airflow.sdk.exceptions import AirflowFailException
    except ImportError:  # Airflow 2
        from airflow.exceptions import AirflowFailException  # type: ignore[no-redef]
    return AirflowFailException


def parsing_dag_id() -> str | None:
    """The one DAG id Airflow wants from this parse (a worker running a task), else None."""
    try:
        from airflow.sdk import get_parsing_context
    except ImportError:  # Airflow 2
        try:
            from airflow.utils.dag_parsing_context import (  # type: ignore[import-not-found, no-redef]
                get_parsing_context,
            )
        except ImportError:
            return None
    return get_parsing_context().dag_id


def connection_uri(conn_id: str) -> str:
    """A connection's URI from Airflow's connection store (secrets backends, env, metadata DB)."""
    try:
        from airflow.sdk import BaseHook
    except ImportError:  # Airflow 2
        from airflow.hooks.base import BaseHook  # type: ignore[attr-defined, no-redef]
    return BaseHook.get_connection(conn_id).get_uri()


@lru_cache(maxsize=1)
def backoff_multiplier() -> Any:
    """retry_exponential_backoff: a multiplier on Airflow 3, a switch (base 2) on Airflow 2."""
    from . import policy

    return policy.RETRY_BACKOFF_MULTIPLIER if airflow_major() >= 3 else True
