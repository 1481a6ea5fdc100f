"""`make run PIPELINE=...`: trigger one pipeline through the REST API and follow it to the end.

It prints each task's state as it changes, then every task's final state and its result JSON (the
XCom the runner's result line became), and the log tail of each failed task. Exit 0 when the run
succeeded, 1 when it failed.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

from .api import Airflow
from .layout import LocalError

POLL_S = 2.0
DAG_WAIT_S = 120.0
FAILED_LOG_LINES = 15
FINISHED = {"success", "failed"}


def _print(line: str) -> None:
    print(line, flush=True)


def wait_for_dag(api: Airflow, dag_id: str, timeout_s: float = DAG_WAIT_S) -> dict[str, Any]:
    """The DAG once the dag processor has parsed it; LocalError naming the known DAGs otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        dag = api.dag(dag_id)
        if dag is not None:
            return dag
        errors = api.import_errors()
        if time.monotonic() > deadline or errors:
            known = ", ".join(sorted(d["dag_id"] for d in api.dags())) or "none"
            problems = "".join(f"\n  {e['filename']}: {e['stack_trace'].strip()}" for e in errors)
            raise LocalError(f"no pipeline {dag_id!r} in this Airflow (pipelines: {known}){problems}")
        time.sleep(POLL_S)


def run_pipeline(api: Airflow, dag_id: str, timeout_s: float) -> int:
    dag = wait_for_dag(api, dag_id)
    if dag.get("is_paused"):
        api.unpause(dag_id)
        _print(f"unpaused {dag_id}")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    run = api.trigger(dag_id, now)
    run_id = run["dag_run_id"]
    _print(f"triggered {dag_id}, run {run_id}")
    started = time.monotonic()
    seen: dict[str, str] = {}
    while True:
        state = api.dag_run(dag_id, run_id)["state"]
        tis = api.task_instances(dag_id, run_id)
        for ti in sorted(tis, key=lambda t: (t.get("start_date") or "~", t["task_id"])):
            ti_state = ti.get("state")
            if ti_state and seen.get(ti["task_id"]) != ti_state:
                seen[ti["task_id"]] = ti_state
                _print(f"  {time.monotonic() - started:6.1f}s  {ti['task_id']:<32} {ti_state}")
        if state in FINISHED:
            break
        if time.monotonic() - started > timeout_s:
            raise LocalError(f"run {run_id} of {dag_id} is still {state} after {timeout_s:.0f} s", status=1)
        time.sleep(POLL_S)
    _summary(api, dag_id, run_id, tis)
    _print(f"{dag_id} {run_id}: {state} in {time.monotonic() - started:.1f} s")
    return 0 if state == "success" else 1


def _summary(api: Airflow, dag_id: str, run_id: str, tis: list[dict[str, Any]]) -> None:
    _print("\ntask                             state      result")
    for ti in sorted(tis, key=lambda t: (t.get("start_date") or "~", t["task_id"])):
        result = api.xcom(dag_id, run_id, ti["task_id"]) if ti.get("state") == "success" else None
        shown = json.dumps(result, separators=(",", ":")) if result is not None else "-"
        _print(f"{ti['task_id']:<32} {ti.get('state') or 'none':<10} {shown}")
    for ti in tis:
        if ti.get("state") != "failed":
            continue
        lines = api.log_lines(dag_id, run_id, ti["task_id"], max(int(ti.get("try_number") or 1), 1))
        _print(f"\n--- log of {ti['task_id']} (try {ti.get('try_number')}), last {FAILED_LOG_LINES} lines")
        for line in lines[-FAILED_LOG_LINES:]:
            _print(line)
