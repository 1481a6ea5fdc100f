"""`python -m tinyrun_dagfactory validate|render|graph|schema` for CI and for humans.

validate PATH...                      exit 0 when every pipeline is valid, else 1; one error per line
render PATH [--executor E] [--lock F] operator arguments (docker) or pod manifests (kubernetes), YAML
graph PATH...                         the task graph as text
schema                                print the published JSON Schema
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

from .errors import PipelineFileError
from .pipelines import DefaultsCache, parse_file, pipeline_files, validate_paths


def _validate(args: argparse.Namespace) -> int:
    count, errors = validate_paths([Path(p) for p in args.paths], check_files=not args.no_file_checks)
    for e in errors:
        print(e)
    bad = len({e.file for e in errors})
    print(f"{count} pipeline file(s), {bad} with errors, {len(errors)} error(s)", file=sys.stderr)
    return 1 if errors or count == 0 else 0


def _specs(paths: list[str]) -> list:
    cache = DefaultsCache()
    return [parse_file(f, cache=cache) for f in pipeline_files([Path(p) for p in paths])]


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _render(args: argparse.Namespace) -> int:
    from . import render
    from .images import load_table

    table = load_table(args.lock)
    out = {}
    with _stdout_to_stderr():  # Airflow logs while building operators; stdout is for the rendering
        for spec in _specs(args.paths):
            executor = args.executor or spec.executor
            if executor == "kubernetes":
                out[spec.id] = {"executor": executor, "pods": render.pod_manifests(spec, table)}
            else:
                out[spec.id] = {"executor": executor, "tasks": render.operator_arguments(spec, table, executor)}
    if args.format == "json":
        print(json.dumps(out, indent=2, sort_keys=True, default=str))
    else:
        print(yaml.safe_dump(out, sort_keys=True, default_flow_style=False), end="")
    return 0


def _graph(args: argparse.Namespace) -> int:
    from .render import graph_text

    print("\n\n".join(graph_text(s) for s in _specs(args.paths)))
    return 0


def _schema(_args: argparse.Namespace) -> int:
    from .schema import schema_text

    print(schema_text(), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tinyrun_dagfactory", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check pipeline files (exit 1 on any error)")
    v.add_argument("paths", nargs="+")
    v.add_argument("--no-file-checks", action="store_true", help="do not check that SQL files exist")
    v.set_defaults(func=_validate)
    r = sub.add_parser("render", help="show what each task becomes")
    r.add_argument("paths", nargs="+")
    r.add_argument("--executor", choices=["docker", "kubernetes"])
    r.add_argument("--lock", help="images.lock.json / runners.lock (default: the generated table)")
    r.add_argument("--format", choices=["yaml", "json"], default="yaml")
    r.set_defaults(func=_render)
    g = sub.add_parser("graph", help="print the task graph")
    g.add_argument("paths", nargs="+")
    g.set_defaults(func=_graph)
    s = sub.add_parser("schema", help="print the JSON Schema of pipeline files")
    s.set_defaults(func=_schema)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except PipelineFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (LookupError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
