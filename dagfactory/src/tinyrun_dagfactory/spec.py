"""The checked, normalised form of a pipeline: what the DAG builder and the renderers consume."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import policy

_DURATION = re.compile(r"^([0-9]+)(s|m|h|d)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# Fields of a task that are not runner arguments.
COMMON_TASK_FIELDS = frozenset(
    {
        "id",
        "runner",
        "description",
        "depends_on",
        "retries",
        "retry_delay",
        "max_retry_delay",
        "timeout",
        "resources",
        "env",
        "connections",
        "kerberos",
        "conn",
        "pool",
        "trigger_rule",
    }
)


def seconds(value: int | str) -> int:
    if isinstance(value, int):
        return value
    m = _DURATION.match(value)
    if not m:
        raise ValueError(f"bad duration {value!r}")
    return int(m.group(1)) * _UNIT[m.group(2)]


@dataclass
class TaskSpec:
    id: str
    runner: str
    line: int
    group: tuple[str, ...] = ()  # enclosing group ids, outermost first
    description: str = ""
    depends_on: list[str] = field(default_factory=list)
    depends_on_lines: list[int] = field(default_factory=list)
    conn: str | None = None
    connections: list[str] = field(default_factory=list)  # all injected connection ids, conn first
    env: dict[str, str] = field(default_factory=dict)
    resources: dict[str, str] = field(default_factory=dict)
    retries: int = policy.DEFAULT_RETRIES
    retry_delay_s: int = policy.DEFAULT_RETRY_DELAY_S
    max_retry_delay_s: int = policy.DEFAULT_MAX_RETRY_DELAY_S
    timeout_s: int = policy.DEFAULT_TIMEOUT_S
    kerberos: bool = False
    pool: str | None = None
    trigger_rule: str = "all_success"
    args: dict[str, Any] = field(default_factory=dict)  # runner arguments as written
    field_lines: dict[str, int] = field(default_factory=dict)

    @property
    def airflow_id(self) -> str:
        """Airflow's task id: TaskGroup prefixes the enclosing group ids."""
        return ".".join([*self.group, self.id])


@dataclass
class GroupSpec:
    id: str
    line: int
    description: str = ""
    depends_on: list[str] = field(default_factory=list)
    depends_on_lines: list[int] = field(default_factory=list)
    children: list[TaskSpec | GroupSpec] = field(default_factory=list)

    def tasks(self) -> list[TaskSpec]:
        out: list[TaskSpec] = []
        for child in self.children:
            out.extend(child.tasks() if isinstance(child, GroupSpec) else [child])
        return out


@dataclass
class PipelineSpec:
    id: str
    file: Path
    root: Path  # the datakit root (holds pipelines/ and sql/)
    owner: str
    tags: list[str]
    executor: str
    description: str = ""
    schedule: str | None = None
    start_date: str = policy.DEFAULT_START_DATE
    catchup: bool = False
    max_active_runs: int = 1
    items: list[TaskSpec | GroupSpec] = field(default_factory=list)
    tasks: dict[str, TaskSpec] = field(default_factory=dict)  # by short id
    groups: dict[str, GroupSpec] = field(default_factory=dict)

    @property
    def sql_dir(self) -> Path:
        return self.root / "sql"


def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``; nested mappings (env, resources) merge, everything else is replaced."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _lines(node: Any) -> dict[str, int]:
    return dict(getattr(node, "key_lines", {}))


def build_task(raw: dict[str, Any], defaults: dict[str, Any], group: tuple[str, ...]) -> TaskSpec:
    eff = merge(defaults, raw)
    deps = list(raw.get("depends_on", []))
    conn = eff.get("conn")
    conns = [c for c in ([conn] if conn else []) + list(eff.get("connections", [])) if c]
    resources = merge(policy.DEFAULT_RESOURCES, eff.get("resources", {}))
    return TaskSpec(
        id=raw["id"],
        runner=raw["runner"],
        line=getattr(raw, "line", 0),
        group=group,
        description=str(raw.get("description", "")),
        depends_on=deps,
        depends_on_lines=list(getattr(raw.get("depends_on"), "item_lines", [])) or [0] * len(deps),
        conn=conn,
        connections=list(dict.fromkeys(conns)),
        env={k: _env_text(v) for k, v in eff.get("env", {}).items()},
        resources={k: str(v) for k, v in resources.items()},
        retries=int(eff.get("retries", policy.DEFAULT_RETRIES)),
        retry_delay_s=seconds(eff.get("retry_delay", policy.DEFAULT_RETRY_DELAY_S)),
        max_retry_delay_s=seconds(eff.get("max_retry_delay", policy.DEFAULT_MAX_RETRY_DELAY_S)),
        timeout_s=seconds(eff.get("timeout", policy.DEFAULT_TIMEOUT_S)),
        kerberos=bool(eff.get("kerberos", False)),
        pool=eff.get("pool"),
        trigger_rule=str(eff.get("trigger_rule", "all_success")),
        args={k: v for k, v in raw.items() if k not in COMMON_TASK_FIELDS},
        field_lines=_lines(raw),
    )


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_items(raw_items: list[Any], defaults: dict[str, Any], group: tuple[str, ...]) -> list[TaskSpec | GroupSpec]:
    out: list[TaskSpec | GroupSpec] = []
    for raw in raw_items:
        if "group" in raw:
            deps = list(raw.get("depends_on", []))
            g = GroupSpec(
                id=raw["group"],
                line=getattr(raw, "line", 0),
                description=str(raw.get("description", "")),
                depends_on=deps,
                depends_on_lines=list(getattr(raw.get("depends_on"), "item_lines", [])) or [0] * len(deps),
            )
            g.children = build_items(raw["tasks"], defaults, (*group, g.id))
            out.append(g)
        else:
            out.append(build_task(raw, defaults, group))
    return out


def walk(items: list[TaskSpec | GroupSpec]) -> list[TaskSpec | GroupSpec]:
    """All tasks and groups, depth first, in file order."""
    out: list[TaskSpec | GroupSpec] = []
    for item in items:
        out.append(item)
        if isinstance(item, GroupSpec):
            out.extend(walk(item.children))
    return out
