"""The dags/ loader: one DAG per pipeline file, and one broken file never hides the others.

A datakit's ``dags/pipelines.py`` is just::

    from tinyrun_dagfactory import load_dags
    load_dags(globals())

Each broken pipeline file becomes an import error *named after that file* in the DagBag that is
parsing the loader (Airflow 2.10+ and 3.x), with every `file:line: pipeline/task: field: message`
in it; the other pipelines load as usual. Outside a DagBag the errors are logged and returned.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from . import compat
from .build import build_dag
from .errors import PipelineFileError
from .images import ImageTableError, load_table
from .pipelines import DefaultsCache, find_root, parse_file, pipeline_files

log = logging.getLogger(__name__)
_PIPELINE_ID = re.compile(r"^pipeline:[ \t]*[\"']?([A-Za-z0-9_.-]+)", re.MULTILINE)


@dataclass
class LoadResult:
    dags: dict[str, Any] = field(default_factory=dict)  # dag_id -> DAG
    errors: dict[str, str] = field(default_factory=dict)  # pipeline file -> message


def _caller_file(depth: int = 2) -> Path:
    return Path(sys._getframe(depth).f_globals.get("__file__", os.getcwd())).resolve()


def load_dags(
    globals_: dict[str, Any] | None = None,
    pipelines: str | os.PathLike[str] | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    images_lock: str | os.PathLike[str] | None = None,
    executor: str | None = None,
) -> LoadResult:
    """Build every pipeline under ``pipelines`` and put the DAGs into ``globals_``.

    Defaults, for a loader at ``<datakit>/dags/x.py``: pipelines = ``<datakit>/pipelines``,
    root = ``<datakit>``, images_lock = ``<datakit>/runners.lock`` if it exists (else
    ``TINYRUN_IMAGES_LOCK``, else the table generated into this package).
    """
    here = _caller_file()
    # Building many DAGs creates millions of long-lived objects: the cyclic GC would rescan them over
    # and over (a third of the load time at 1,000 pipelines). Pause it while loading.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _load(here, globals_, pipelines, root, images_lock, executor)
    finally:
        if paused:
            gc.enable()


def _load(
    here: Path,
    globals_: dict[str, Any] | None,
    pipelines: str | os.PathLike[str] | None,
    root: str | os.PathLike[str] | None,
    images_lock: str | os.PathLike[str] | None,
    executor: str | None,
) -> LoadResult:
    datakit = Path(root).resolve() if root else here.parent.parent
    folder = Path(pipelines).resolve() if pipelines else datakit / "pipelines"
    if images_lock is None and (datakit / "runners.lock").is_file():
        images_lock = datakit / "runners.lock"
    result = LoadResult()
    try:
        table = load_table(images_lock)
    except (OSError, ValueError, ImageTableError) as exc:
        table = None
        table_error = f"image table: {exc}"
    cache = DefaultsCache()
    seen: dict[str, Path] = {}
    for path in _files_to_load(folder):
        try:
            spec = parse_file(path, root=datakit if root or not pipelines else find_root(path), cache=cache)
            if spec.id in seen:
                raise ValueError(f"{path}: pipeline id {spec.id!r} is already used by {seen[spec.id]}")
            if table is None:
                raise ImageTableError(table_error)
            dag = build_dag(spec, table, executor)
        except PipelineFileError as exc:
            _report(result, path, str(exc))
            continue
        except Exception as exc:  # a broken file must never hide the other pipelines
            _report(result, path, f"{path}:0: {type(exc).__name__}: {exc}")
            continue
        seen[spec.id] = path
        result.dags[spec.id] = dag
        if globals_ is not None:
            globals_[f"dag__{spec.id}"] = dag
    return result


def _files_to_load(folder: Path) -> list[Path]:
    """All pipeline files; only the one Airflow asks for when it parses to run a task of one DAG."""
    files = pipeline_files([folder])
    wanted = compat.parsing_dag_id()
    if not wanted:
        return files
    chosen = [p for p in files if _quick_id(p) == wanted]
    return chosen or files  # not found by the quick scan: parse everything (errors stay visible)


def _quick_id(path: Path) -> str | None:
    try:
        m = _PIPELINE_ID.search(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    return m.group(1) if m else None


def _report(result: LoadResult, path: Path, message: str) -> None:
    result.errors[str(path)] = message
    log.error("tinyrun pipeline %s not loaded:\n%s", path, message)
    _add_import_error(path, message)


def _add_import_error(path: Path, message: str) -> bool:
    """Record an import error for ``path`` in the DagBag (or Airflow 3.3+ importer) running us."""
    frame: FrameType | None = sys._getframe(1)
    importer_result = None
    while frame is not None:
        local = frame.f_locals
        candidate = local.get("result")
        if importer_result is None and type(candidate).__name__ == "DagImportResult":
            importer_result = candidate  # Airflow >= 3.3: keep walking up to find bundle_path
        if importer_result is not None and "bundle_path" in local:
            # the importer's result; DagBag copies its errors, keyed by file_path, into import_errors
            from airflow.dag_processing.importers.base import DagImportError

            importer_result.errors.append(
                DagImportError(
                    file_path=_relative(path, local["bundle_path"]),
                    message=message,
                    error_type="tinyrun-pipeline",
                    stacktrace=message,
                )
            )
            return True
        bag = local.get("self")
        if (
            importer_result is None
            and type(bag).__name__ == "DagBag"
            and isinstance(getattr(bag, "import_errors", None), dict)
        ):
            # Airflow 2.10+ / 3.0-3.2: the DagBag itself (3.x keys are relative to the bundle)
            bundle = getattr(bag, "bundle_path", None)
            bag.import_errors[_relative(path, bundle) if bundle else str(path)] = message  # type: ignore[union-attr]
            return True
        frame = frame.f_back
    return False


def _relative(path: Path, bundle: Any) -> str:
    if not bundle:
        return str(path)
    try:
        return str(Path(path).resolve().relative_to(Path(bundle).resolve()))
    except ValueError:
        return str(path)
