"""What a pipeline becomes, for people and CI: operator arguments, pod manifests, the task graph."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from . import build, checks
from .images import ImageTable
from .spec import GroupSpec, PipelineSpec, TaskSpec


def _plain(value: Any) -> Any:
    """JSON/YAML-friendly copy of operator arguments (Mounts, k8s models, timedeltas)."""
    if isinstance(value, timedelta):
        return f"{int(value.total_seconds())}s"
    if isinstance(value, dict):  # docker.types.Mount is a dict too
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return _plain({k: v for k, v in value.to_dict().items() if v is not None})
    if type(value).__name__ == "Secret":
        return {
            "deploy_type": value.deploy_type,
            "deploy_target": value.deploy_target,
            "secret": value.secret,
            "key": value.key,
        }
    return value


def operator_arguments(spec: PipelineSpec, table: ImageTable, executor: str) -> dict[str, Any]:
    """task id -> {"operator": class name, "arguments": kwargs} (templates not rendered)."""
    op = build.operator_class(executor).__name__
    return {
        t.airflow_id: {"operator": op, "arguments": _plain(build.operator_kwargs(spec, t, table, executor))}
        for t in spec.tasks.values()
    }


def pod_manifest(operator: Any, context: Any = None) -> dict[str, Any]:
    """The pod KubernetesPodOperator would create, built offline by the provider's own code."""
    from kubernetes.client import ApiClient

    pod = operator.build_pod_request_obj(context, dry_run=True)
    return ApiClient().sanitize_for_serialization(pod)


def pod_manifests(spec: PipelineSpec, table: ImageTable) -> dict[str, dict[str, Any]]:
    dag = build.build_dag(spec, table, "kubernetes")
    return {t.task_id: pod_manifest(t) for t in dag.tasks}


def graph_text(spec: PipelineSpec) -> str:
    """The task graph as text: groups nested, each task with its runner and upstream tasks."""
    up = checks.task_edges(spec)
    lines = [f"{spec.id}  (owner {spec.owner}; schedule {spec.schedule or 'none'}; executor {spec.executor})"]

    def show(items: list[TaskSpec | GroupSpec], indent: str) -> None:
        for item in items:
            if isinstance(item, GroupSpec):
                lines.append(f"{indent}[{item.id}]")
                show(item.children, indent + "  ")
            else:
                after = ", ".join(spec.tasks[u].airflow_id for u in sorted(up[item.id])) or "-"
                lines.append(f"{indent}{item.id}  ({item.runner})  <- {after}")

    show(spec.items, "  ")
    lines.append("order: " + " -> ".join(_order(spec, up)))
    return "\n".join(lines)


def _order(spec: PipelineSpec, up: dict[str, set[str]]) -> list[str]:
    done: list[str] = []
    left = dict(up)
    while left:
        ready = sorted(t for t, deps in left.items() if deps <= set(done))
        if not ready:  # unreachable after checks.graph; keep the CLI total
            done.extend(sorted(left))
            break
        done.extend(ready)
        for t in ready:
            left.pop(t)
    return [spec.tasks[t].airflow_id for t in done]
