"""`runner: spark` tasks: the job spec, read when the pipeline is parsed.

A task's ``job`` is the spec inline (a mapping) or a JSON/YAML file in the datakit (a path
relative to its root). The file is read here, so the container gets the job as ``--job-json``:
the datakit is never mounted into a team's Spark image, and spark-submit-runner reads only JSON
(cJSON; it links no YAML parser). The runner checks the spec in full before it starts a JVM;
this module catches at parse time what would fail every run: a missing file, a spec that is not
a mapping, no application or master, a connection the task does not hand over, an unpinned image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import checks
from .errors import PipelineError
from .images import IMAGE_DIGEST
from .spec import PipelineSpec, TaskSpec
from .yamlio import YamlSyntaxError, load_text

FIELDS = frozenset(
    [
        *("name", "application", "main_class", "master", "deploy_mode", "conf", "env", "jars", "py_files"),
        *("files", "args", "connections", "driver_memory", "driver_cores", "executor_memory", "executor_cores"),
        "num_executors",
    ]
)


def _plain(node: Any) -> Any:
    """YAML's line-aware containers as plain dicts and lists (what json.dumps writes)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _read_job(root: Path, name: str) -> tuple[Any, str | None]:
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()):
        return None, f"{name!r} is outside the datakit"
    try:
        return load_text(path.read_text(encoding="utf-8")), None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read the job spec {name}: {exc}"
    except YamlSyntaxError as exc:
        return None, f"the job spec {name} is not valid YAML/JSON: {exc}"


def _job_errors(job: Any, t: TaskSpec) -> list[str]:
    if not isinstance(job, dict):
        return ["the job spec must be a mapping (application, master, conf, ...)"]
    errors = [f"unknown job field {k!r}" for k in sorted(set(job) - FIELDS)]
    errors += [f"the job spec has no {k}" for k in ("application", "master") if not job.get(k)]
    missing = [c for c in job.get("connections") or [] if c not in t.connections]
    if missing:
        errors.append(f"the job uses connections {missing} that the task does not list in connections")
    return errors


def resolve(spec: PipelineSpec, file: str) -> list[PipelineError]:
    """Check every spark task and replace a job file's name by its spec (a plain mapping)."""
    errors: list[PipelineError] = []
    for t in spec.tasks.values():
        if t.runner != "spark":
            continue

        def bad(field: str, msg: str, t: TaskSpec = t) -> None:
            errors.append(PipelineError(file, t.field_lines.get(field, t.line), spec.id, t.id, field, msg))

        image_error = checks.team_image_error(spec, t)
        if image_error:
            bad("image", image_error)
        job = t.args.get("job")
        if isinstance(job, str):
            job, error = _read_job(spec.root, job)
            if error:
                bad("job", error)
                continue
        for msg in _job_errors(job, t):
            bad("job", msg)
        t.args["job"] = _plain(job)
        if is_k8s_master(t) and not IMAGE_DIGEST.match(str(t.args.get("image", ""))):
            bad("image", "a k8s:// job's driver and executors pull this image: pin it by registry digest")
    return errors


def is_k8s_master(task: TaskSpec) -> bool:
    job = task.args.get("job")
    return isinstance(job, dict) and str(job.get("master", "")).startswith("k8s://")
