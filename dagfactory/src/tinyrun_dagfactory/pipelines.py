"""Reading pipeline files: YAML -> checks -> PipelineSpec, with defaults.yaml merged down the tree.

Everything here is pure Python (no Airflow import), so `validate` and the loader's parsing stay fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import checks, policy, schema, sparkjobs
from .errors import PipelineError, PipelineFileError
from .spec import GroupSpec, PipelineSpec, TaskSpec, build_items, merge, walk
from .yamlio import YamlSyntaxError, load_file, load_text

PIPELINE_SUFFIXES = (".yaml", ".yml")
DEFAULTS_NAMES = ("defaults.yaml", "defaults.yml")


def find_root(path: Path) -> Path:
    """The datakit root of a pipeline file: the parent of the nearest enclosing ``pipelines/`` folder,
    else the file's own folder."""
    for parent in path.resolve().parents:
        if parent.name == "pipelines":
            return parent.parent
    return path.resolve().parent


def pipeline_files(paths: list[Path]) -> list[Path]:
    """Pipeline files under the given files/folders (sorted; defaults.yaml and dot files excluded)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
                out.extend(
                    Path(dirpath, f)
                    for f in sorted(filenames)
                    if f.endswith(PIPELINE_SUFFIXES) and f not in DEFAULTS_NAMES and not f.startswith(".")
                )
        else:
            out.append(p)
    return out


@dataclass
class DefaultsCache:
    """defaults.yaml documents by folder, each read and checked once per load."""

    docs: dict[Path, tuple[dict[str, Any], list[PipelineError]]] = field(default_factory=dict)
    chains: dict[tuple[Path, Path], tuple[dict[str, Any], list[PipelineError]]] = field(default_factory=dict)
    files: dict[Path, bool] = field(default_factory=dict)  # SQL file -> exists (one answer per load)

    def is_file(self, path: Path) -> bool:
        found = self.files.get(path)
        if found is None:
            found = self.files[path] = path.is_file()
        return found

    def for_folder(self, folder: Path) -> tuple[dict[str, Any], list[PipelineError]]:
        if folder not in self.docs:
            self.docs[folder] = self._read(folder)
        return self.docs[folder]

    @staticmethod
    def _read(folder: Path) -> tuple[dict[str, Any], list[PipelineError]]:
        for name in DEFAULTS_NAMES:
            path = folder / name
            if path.is_file():
                try:
                    doc = load_file(path)
                except YamlSyntaxError as exc:
                    return {}, [PipelineError(str(path), exc.line, "-", "-", "-", f"invalid YAML: {exc}")]
                doc = {} if doc is None else doc
                errs = schema.validate(doc, str(path), "-", kind="defaults")
                return (doc if isinstance(doc, dict) and not errs else {}), errs
        return {}, []

    def chain(self, file: Path, root: Path) -> tuple[dict[str, Any], list[PipelineError]]:
        """Merged defaults for a pipeline file: root's defaults.yaml first, the file's folder's last."""
        key = (file.parent, root)
        if key not in self.chains:
            self.chains[key] = self._chain(file.parent, root)
        return self.chains[key]

    def _chain(self, folder: Path, root: Path) -> tuple[dict[str, Any], list[PipelineError]]:
        folders: list[Path] = []
        while True:
            folders.append(folder)
            if folder == root or folder.parent == folder:
                break
            folder = folder.parent
        merged: dict[str, Any] = {}
        errors: list[PipelineError] = []
        for folder in reversed(folders):
            doc, errs = self.for_folder(folder)
            errors.extend(errs)
            merged = _merge_defaults(merged, doc)
        return merged, errors


def _merge_defaults(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = merge(base, {k: v for k, v in top.items() if k != "tags"})
    if "tags" in top:
        out["tags"] = list(dict.fromkeys([*base.get("tags", []), *top["tags"]]))
    return out


def parse_file(
    path: Path, root: Path | None = None, cache: DefaultsCache | None = None, check_files: bool = True
) -> PipelineSpec:
    """Read and check one pipeline file; raises PipelineFileError listing every problem found."""
    path = Path(path)
    root = root or find_root(path)
    cache = cache or DefaultsCache()
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        doc = load_text(text)
    except YamlSyntaxError as exc:
        raise PipelineFileError([PipelineError(file, exc.line, "-", "-", "-", f"invalid YAML: {exc}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineFileError([PipelineError(file, 0, "-", "-", "-", str(exc))]) from None
    if not isinstance(doc, dict):
        raise PipelineFileError(
            [PipelineError(file, getattr(doc, "line", 1), "-", "-", "-", "a pipeline file must be a YAML mapping")]
        )
    named = doc.get("pipeline")
    pid = named if isinstance(named, str) else path.stem
    errors, reported = checks.secrets(doc, file, pid) if checks.may_hold_secrets(text) else ([], set())
    errors += schema.validate(doc, file, pid, skip=reported)
    defaults, derrs = cache.chain(path, root)
    errors += derrs
    if errors:
        raise PipelineFileError(errors)

    spec = _build(doc, path, root, defaults)
    errors += checks.pipeline_policy(spec, file, doc)
    errors += checks.graph(spec, file)
    errors += checks.limits(spec, file)
    errors += checks.python_tasks(spec, file)
    errors += sparkjobs.resolve(spec, file)
    if check_files:
        errors += checks.runner_args(spec, file, cache.is_file)
    if errors:
        raise PipelineFileError(errors)
    return spec


def _build(doc: dict[str, Any], path: Path, root: Path, defaults: dict[str, Any]) -> PipelineSpec:
    top = _merge_defaults(
        defaults,
        {
            k: v
            for k, v in doc.items()
            if k in ("owner", "schedule", "start_date", "catchup", "max_active_runs", "tags", "executor")
        },
    )
    task_defaults = merge(defaults.get("defaults", {}), doc.get("defaults", {}))
    spec = PipelineSpec(
        id=doc["pipeline"],
        file=path,
        root=root,
        owner=str(top.get("owner", "")),
        tags=list(dict.fromkeys([*top.get("tags", []), policy.PLATFORM_TAG])),
        executor=str(top.get("executor") or policy.settings().executor),
        description=str(doc.get("description", "")),
        schedule=top.get("schedule"),
        start_date=str(top.get("start_date", policy.DEFAULT_START_DATE)),
        catchup=bool(top.get("catchup", False)),
        max_active_runs=int(top.get("max_active_runs", 1)),
        items=build_items(doc["tasks"], task_defaults, ()),
    )
    for item in walk(spec.items):
        if isinstance(item, GroupSpec):
            spec.groups.setdefault(item.id, item)
        elif isinstance(item, TaskSpec):
            spec.tasks.setdefault(item.id, item)
    return spec


def validate_paths(paths: list[Path], check_files: bool = True) -> tuple[int, list[PipelineError]]:
    """(number of pipeline files, all errors) for files/folders."""
    cache = DefaultsCache()
    files = pipeline_files(paths)
    errors: list[PipelineError] = []
    for f in files:
        try:
            parse_file(f, cache=cache, check_files=check_files)
        except PipelineFileError as exc:
            errors.extend(exc.errors)
    return len(files), errors
