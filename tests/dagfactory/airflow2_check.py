"""Run by test_airflow2.py inside the Airflow 2.x venv: load a datakit, report what Airflow saw as JSON.

argv: DATAKIT_DAGS_FOLDER BROKEN_PIPELINE_FILE
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import airflow
from airflow.models.dagbag import DagBag
from tinyrun_dagfactory.render import pod_manifest

folder, broken = sys.argv[1], sys.argv[2]
bag = DagBag(dag_folder=folder, include_examples=False)
out: dict = {"airflow": airflow.__version__, "dag_ids": sorted(bag.dag_ids), "import_errors": bag.import_errors}
tasks = {}
for dag in bag.dags.values():
    for task in dag.tasks:
        info = {
            "class": type(task).__name__,
            "retries": task.retries,
            "backoff": task.retry_exponential_backoff,
            "skip": list(task.skip_on_exit_code or []),
        }
        if type(task).__name__ == "TinyrunPodOperator":
            ti = SimpleNamespace(dag_id=dag.dag_id, task_id=task.task_id, try_number=1, map_index=-1)
            ctx = {
                "ti": ti,
                "task_instance": ti,
                "run_id": "manual__2",
                "dag": dag,
                "task": task,
                "ds": "2024-05-06",
                "params": {},
            }
            task.render_template_fields(ctx)
            info["pod"] = pod_manifest(task, ctx)
        else:
            info["command"] = task.command
        tasks[f"{dag.dag_id}.{task.task_id}"] = info
out["tasks"] = tasks
print(json.dumps(out, default=str))
