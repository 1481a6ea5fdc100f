"""Checks the schema cannot express: literal secrets, task graph, platform limits, runner arguments."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import policy, resources
from .errors import PipelineError
from .images import IMAGE_DIGEST, IMAGE_ID
from .spec import GroupSpec, PipelineSpec, TaskSpec, walk
from .yamlio import line_of

_SECRET_KEY = re.compile(policy.SECRET_KEY_PATTERN)
_URI_WITH_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:[^@\s/]+@")
_KV_PASSWORD = re.compile(r"(?i)\b(password|pwd)\s*=\s*['\"]?[^\s'\"{;]")
_SQL_PASSWORD = re.compile(r"(?i)\bpassword\s+'[^']+'")
_SQL_MODES = ("run", "sql", "query", "copy", "check")
_PIN_FIX = (
    "pin the team image: NAME@sha256:<digest> "
    "(docker inspect --format '{{index .RepoDigests 0}}' IMAGE) or its image ID sha256:<64 hex> "
    "(docker inspect --format '{{.Id}}' IMAGE; Docker executor only)"
)


def _scan(node: Any, path: list[Any]) -> Iterator[tuple[list[Any], Any, str]]:
    """(path, parent, message) for every literal secret in a raw YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = [*path, key]
            if isinstance(key, str) and _SECRET_KEY.search(key) and value not in (None, "", False):
                yield (
                    here,
                    node,
                    f"literal secret in YAML (field {key!r}): put it in an Airflow "
                    "connection and list the connection id under `connections`",
                )
            elif isinstance(key, str) and key.upper().startswith("AIRFLOW_CONN_"):
                yield here, node, "connection values never go in YAML: list the connection id under `connections`"
            else:
                yield from _scan(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _scan(value, [*path, i])
    elif isinstance(node, str):
        if _URI_WITH_PASSWORD.search(node):
            yield path, None, "literal password in a connection URI: use an Airflow connection id instead"
        elif _KV_PASSWORD.search(node) or _SQL_PASSWORD.search(node):
            yield path, None, "literal password: use an Airflow connection (or a secret) instead"


# Every finding of _scan needs a secret-like key, AIRFLOW_CONN_, "://" or "password"/"pwd" in the
# file's text, or a backslash (a double-quoted YAML escape could spell any of them).
_MAYBE_SECRET = re.compile(policy.SECRET_KEY_PATTERN + r"|airflow_conn_|://|\\")


def may_hold_secrets(text: str) -> bool:
    """False when the raw file text certainly holds no literal secret (skips the scan; profiled)."""
    return _MAYBE_SECRET.search(text) is not None


def secrets(doc: Any, file: str, pipeline: str) -> tuple[list[PipelineError], set[tuple[Any, ...]]]:
    """Errors for literal secrets, and the paths reported (the schema must not report them again)."""
    from .schema import _locate  # local: schema imports jsonschema, which this module does not need

    out: list[PipelineError] = []
    seen: set[tuple[Any, ...]] = set()
    for path, _parent, message in _scan(doc, []):
        task, line, field = _locate(doc, path)
        out.append(PipelineError(file, line, pipeline, task, field, message))
        seen.add(tuple(path))
    return out, seen


def _err(spec: PipelineSpec, file: str, line: int, task: str, field: str, msg: str) -> PipelineError:
    return PipelineError(file, line, spec.id, task, field, msg)


def graph(spec: PipelineSpec, file: str) -> list[PipelineError]:
    """Duplicate ids, unknown dependencies, cycles."""
    errors: list[PipelineError] = []
    first: dict[str, int] = {}
    for item in walk(spec.items):
        if item.id in first:
            errors.append(
                _err(
                    spec, file, item.line, item.id, "id", f"duplicate task or group id (first at line {first[item.id]})"
                )
            )
        else:
            first[item.id] = item.line
    for item in walk(spec.items):
        for dep, line in zip(item.depends_on, item.depends_on_lines, strict=False):
            if dep not in first:
                errors.append(
                    _err(spec, file, line or item.line, item.id, "depends_on", f"unknown task or group {dep!r}")
                )
            elif dep == item.id:
                errors.append(_err(spec, file, line or item.line, item.id, "depends_on", "depends on itself"))
    if not errors:
        errors.extend(_cycles(spec, file))
    return errors


def expand(spec: PipelineSpec, ident: str) -> list[str]:
    """Task ids a dependency name stands for (a group stands for all its tasks)."""
    if ident in spec.groups:
        return [t.id for t in spec.groups[ident].tasks()]
    return [ident]


def task_edges(spec: PipelineSpec) -> dict[str, set[str]]:
    """upstream task ids of each task, with group dependencies expanded (inherited from groups too)."""
    up: dict[str, set[str]] = {t: set() for t in spec.tasks}

    def visit(items: list[TaskSpec | GroupSpec], inherited: set[str]) -> None:
        for item in items:
            deps = set(inherited)
            for d in item.depends_on:
                deps.update(expand(spec, d))
            if isinstance(item, GroupSpec):
                visit(item.children, deps)
            else:
                up[item.id] |= deps

    visit(spec.items, set())
    return up


def _cycles(spec: PipelineSpec, file: str) -> list[PipelineError]:
    up = task_edges(spec)
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(up[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if state.get(nxt) is None:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in up:
        if node not in state:
            cycle = dfs(node)
            if cycle:
                t = spec.tasks[cycle[0]]
                line = t.depends_on_lines[0] if t.depends_on_lines else t.line
                path = " -> ".join(reversed(cycle))
                return [_err(spec, file, line or t.line, t.id, "depends_on", f"dependency cycle: {path}")]
    return []


def limits(spec: PipelineSpec, file: str) -> list[PipelineError]:
    """Platform limits on retries, delays, timeouts and resources."""
    errors: list[PipelineError] = []
    for t in spec.tasks.values():

        def bad(field: str, msg: str, name: str = "", t: TaskSpec = t) -> None:
            errors.append(_err(spec, file, t.field_lines.get(field, t.line), t.id, name or field, msg))

        if t.retries > policy.MAX_RETRIES:
            bad("retries", f"at most {policy.MAX_RETRIES} (platform limit)")
        if not 0 < t.timeout_s <= policy.MAX_TIMEOUT_S:
            bad("timeout", f"must be between 1s and {policy.MAX_TIMEOUT_S}s (platform limit)")
        if t.max_retry_delay_s < t.retry_delay_s:
            bad("max_retry_delay", "must not be shorter than retry_delay")
        try:
            if resources.cpu_millis(t.resources.get("cpu", policy.DEFAULT_RESOURCES["cpu"])) > policy.MAX_CPU_MILLI:
                bad("resources", f"cpu above the platform limit of {policy.MAX_CPU_MILLI}m", "resources.cpu")
        except ValueError as exc:
            bad("resources", str(exc), "resources.cpu")
        try:
            memory = resources.memory_bytes(t.resources.get("memory", policy.DEFAULT_RESOURCES["memory"]))
            if memory > policy.MAX_MEMORY_MI * 2**20:
                bad("resources", f"memory above the platform limit of {policy.MAX_MEMORY_MI}Mi", "resources.memory")
        except ValueError as exc:
            bad("resources", str(exc), "resources.memory")
    return errors


def runner_args(spec: PipelineSpec, file: str, is_file: Callable[[Path], bool] = Path.is_file) -> list[PipelineError]:
    """Runner-specific rules: one SQL mode, a connection, SQL files that exist, a file for copy in."""
    errors: list[PipelineError] = []
    for t in spec.tasks.values():

        def bad(field: str, msg: str, t: TaskSpec = t) -> None:
            errors.append(_err(spec, file, t.field_lines.get(field, t.line), t.id, field, msg))

        if t.runner == "deploy-model":
            models = t.args.get("models")
            if isinstance(models, str) and models and not (spec.root / models).is_dir():
                bad("models", f"models folder not found: {spec.root / models}")
        if t.runner not in ("postgres", "sqlserver"):
            continue
        modes = [m for m in _SQL_MODES if m in t.args]
        if len(modes) != 1:
            bad(
                modes[1] if len(modes) > 1 else "runner",
                "exactly one of run, sql, query, copy, check is required"
                + (f" (got {', '.join(modes)})" if modes else ""),
            )
        elif modes[0] not in ("run", "sql"):
            for extra in ("vars", "no_transaction", "skip_unless"):
                if extra in t.args:
                    bad(extra, f"only valid with run or sql, not with {modes[0]}")
        copy = t.args.get("copy")
        if isinstance(copy, dict) and copy.get("direction") == "in" and not copy.get("file"):
            bad("copy", "copy in needs `file` (a file under the data folder, mounted at /data)")
        if not t.conn:
            bad("conn", "missing required field (a connection id, in the task or in defaults)")
        run = t.args.get("run")
        files = [run] if isinstance(run, str) else list(run or [])
        lines = list(getattr(run, "item_lines", [])) or [t.field_lines.get("run", t.line)] * len(files)
        for name, line in zip(files, lines, strict=False):
            if not is_file(spec.sql_dir / name):
                errors.append(_err(spec, file, line, t.id, "run", f"SQL file not found: {spec.sql_dir / name}"))
    return errors


def python_tasks(spec: PipelineSpec, file: str) -> list[PipelineError]:
    """Tasks in the team's own image (python, dbt): a pinned image (a digest on Kubernetes); python:
    https or file code, a digest for remote code; dbt: a connection for its profile. Cheap and
    needed to build the operators, so checked on every parse."""
    errors: list[PipelineError] = []
    for t in spec.tasks.values():
        if t.runner in ("python", "dbt"):  # spark tasks: sparkjobs.py checks the image with the job
            errors.extend(_team_image_task(spec, file, t))
    return errors


def team_image_error(spec: PipelineSpec, t: TaskSpec) -> str | None:
    """Why a task's team image (python, dbt, spark: the shim is its ENTRYPOINT) is not pinned, or None."""
    image = str(t.args.get("image", ""))
    if IMAGE_ID.match(image):
        if spec.executor == "kubernetes":
            return f"an image ID is local to one Docker engine and Kubernetes cannot pull it: {_PIN_FIX}"
    elif not IMAGE_DIGEST.match(image):
        return f"{image!r} is not pinned (a tag can be moved to other code): {_PIN_FIX}"
    return None


def _team_image_task(spec: PipelineSpec, file: str, t: TaskSpec) -> list[PipelineError]:
    errors: list[PipelineError] = []

    def bad(field: str, msg: str) -> None:
        errors.append(_err(spec, file, t.field_lines.get(field, t.line), t.id, field, msg))

    image_error = team_image_error(spec, t)
    if image_error:
        bad("image", image_error)
    if t.runner == "python":
        _python_code(t, bad)
    elif not t.conn:
        bad("conn", "missing required field (dbt's profile is written from this connection: postgres or mssql)")
    return errors


def _python_code(t: TaskSpec, bad: Callable[[str, str], None]) -> None:
    code = str(t.args.get("code", ""))
    if code.startswith("https://"):
        if "code_sha256" not in t.args:
            bad("code", "remote code needs code_sha256 (the snapshot's SHA-256, e.g. from `sha256sum snapshot.tar.gz`)")
    elif code.startswith("file://"):
        if not code.startswith("file:///"):
            bad("code", "file:// needs an absolute path inside the container: file:///path")
    else:
        bad("code", "must be https://... (with code_sha256) or file:///path; plain http:// is refused")
    program = str(t.args.get("program", ""))
    if program.startswith("/") or ".." in program.split("/"):
        bad("program", "must be a relative path inside the code snapshot")


def pipeline_policy(spec: PipelineSpec, file: str, doc: Any) -> list[PipelineError]:
    errors: list[PipelineError] = []
    if not spec.owner:
        errors.append(
            _err(
                spec,
                file,
                line_of(doc),
                "-",
                "owner",
                "missing required field (platform policy; may come from a defaults.yaml)",
            )
        )
    if not [t for t in spec.tags if t != policy.PLATFORM_TAG]:
        errors.append(
            _err(
                spec,
                file,
                line_of(doc),
                "-",
                "tags",
                "at least one tag is required (platform policy; may come from a defaults.yaml)",
            )
        )
    return errors
