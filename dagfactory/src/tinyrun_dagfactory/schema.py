"""The published JSON Schema and its use: schema errors turned into located PipelineErrors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import jsonschema

from .errors import PipelineError
from .yamlio import line_of

SCHEMA_RESOURCE = "schema/pipeline.schema.json"
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")
_UNEXPECTED = re.compile(r"\((.*) (?:was|were) unexpected\)")


def schema_text() -> str:
    return resources.files(__package__).joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(schema_text())


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = schema()
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _flat(*parts: dict[str, Any]) -> dict[str, Any]:
    """One closed object schema from several (properties and required merged, unknown keys refused).

    The published schema composes tasks with allOf/if/then/unevaluatedProperties (what editors
    need); checking files uses these flat equivalents of the same definitions, which are much faster.
    """
    props: dict[str, Any] = {}
    required: list[str] = []
    for part in parts:
        part = _resolve(part)
        for sub in part.get("allOf", []):
            if "if" not in sub:
                sub_flat = _flat(sub)
                props.update(sub_flat["properties"])
                required += sub_flat["required"]
        props.update(part.get("properties", {}))
        required += part.get("required", [])
    return {
        "type": "object",
        "properties": props,
        "required": list(dict.fromkeys(required)),
        "additionalProperties": False,
    }


_ANY_ITEMS = {"type": "array", "minItems": 1, "items": {"type": "object"}}


@lru_cache(maxsize=1)
def _validators() -> dict[str, Any]:
    root = schema()
    defs = root["$defs"]

    def make(node: dict[str, Any]) -> Any:
        return jsonschema.Draft202012Validator({**node, "$defs": defs})

    task = defs["task"]
    runner_enum = task["allOf"][1]["properties"]["runner"]["enum"]
    out = {
        "pipeline": make(
            {**root, "properties": {**root["properties"], "tasks": _ANY_ITEMS, "defaults": _flat(defs["policyFields"])}}
        ),
        "defaults": make(
            {
                **defs["defaultsFile"],
                "properties": {**defs["defaultsFile"]["properties"], "defaults": _flat(defs["policyFields"])},
            }
        ),
        "group": make({**defs["group"], "properties": {**defs["group"]["properties"], "tasks": _ANY_ITEMS}}),
        "task:?": make(
            {
                "type": "object",
                "required": ["id", "runner"],
                "properties": {"id": {"$ref": "#/$defs/taskId"}, "runner": {"enum": runner_enum}},
            }
        ),
    }
    for sub in task["allOf"]:
        if "if" in sub:
            runner = sub["if"]["properties"]["runner"]["const"]
            out[f"task:{runner}"] = make(_flat(defs["policyFields"], task["allOf"][1], sub["then"]))
    return out


@cache
def _fast(name: str) -> Any:
    """A compiled (fastjsonschema) twin of one of the flat validators, or None if unavailable."""
    try:
        import fastjsonschema
    except ImportError:
        return None
    node = {k: v for k, v in _validators()[name].schema.items() if k not in ("$schema", "$id")}
    return fastjsonschema.compile(node)


def _fast_valid(doc: Any, kind: str) -> bool:
    """True when the document is certainly valid. A fast gate: any doubt -> full check by jsonschema."""
    try:
        import fastjsonschema
    except ImportError:
        return False
    try:
        if _fast(kind) is None:
            return False
        _fast(kind)(doc)
        if kind == "pipeline":
            stack = list(doc["tasks"])
            while stack:
                item = stack.pop()
                if "group" in item:
                    _fast("group")(item)
                    stack.extend(item["tasks"])
                else:
                    name = f"task:{item.get('runner')}"
                    if name not in _validators():
                        return False
                    _fast(name)(item)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _raw_errors(doc: Any, kind: str) -> list[tuple[list[Any], jsonschema.ValidationError]]:
    if _fast_valid(doc, kind):
        return []
    v = _validators()
    found = [(list(e.absolute_path), e) for e in v[kind].iter_errors(doc)]
    if kind != "pipeline" or not isinstance(doc, dict) or not isinstance(doc.get("tasks"), list):
        return found

    def items(node: list[Any], path: list[Any]) -> None:
        for i, item in enumerate(node):
            if not isinstance(item, dict):
                continue
            here = [*path, i]
            if "group" in item:
                found.extend(([*here, *e.absolute_path], e) for e in v["group"].iter_errors(item))
                if isinstance(item.get("tasks"), list):
                    items(item["tasks"], [*here, "tasks"])
            else:
                check = v.get(f"task:{item.get('runner')}", v["task:?"])
                found.extend(([*here, *e.absolute_path], e) for e in check.iter_errors(item))

    items(doc["tasks"], ["tasks"])
    return found


def _describe(value: Any) -> str:
    names = {
        str: "text",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a mapping",
        type(None): "null",
    }
    for t, name in names.items():
        if type(value) is t or (t is dict and isinstance(value, dict)) or (t is list and isinstance(value, list)):
            return name
    return type(value).__name__


def _path_text(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _locate(doc: Any, path: list[Any]) -> tuple[str, int, str]:
    """(task id or "-", line, field relative to that task) for a path into the document."""
    node, line = doc, getattr(doc, "line", 0)
    task, field_start = "-", 0
    for i, part in enumerate(path):
        parent = node
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        line = line_of(parent, part) or line
        # an item of a `tasks` list is a task or a group: errors below it name it
        if isinstance(part, int) and i > 0 and path[i - 1] == "tasks" and isinstance(node, dict):
            ident = node.get("id", node.get("group"))
            task = ident if isinstance(ident, str) else f"tasks[{part}]"
            field_start = i + 1
    return task, line, _path_text(path[field_start:])


def _message(err: jsonschema.ValidationError) -> str:
    v, inst, sch = err.validator, err.instance, err.schema
    if v == "type":
        want = err.validator_value if isinstance(err.validator_value, str) else " or ".join(err.validator_value)
        return f"expected {want}, got {_describe(inst)}"
    if v == "enum":
        return f"{inst!r} is not one of: {', '.join(map(str, err.validator_value))}"
    if v == "const":
        return f"must be {json.dumps(err.validator_value)}"
    if v == "pattern":
        hint = sch.get("description", "")
        return f"{inst!r} has the wrong format (pattern {err.validator_value})" + (f": {hint}" if hint else "")
    if v in ("oneOf", "anyOf"):
        hint = sch.get("description")
        if hint:
            return f"invalid value {inst!r}: {hint}"
        inner = jsonschema.exceptions.best_match(err.context) if err.context else None
        return _message(inner) if inner is not None else f"invalid value {inst!r}"
    if v == "minItems":
        return f"needs at least {err.validator_value} item(s)"
    if v == "uniqueItems":
        return "has duplicate items"
    if v == "minLength":
        return "must not be empty"
    return err.message


def validate(
    doc: Any, file: str, pipeline: str, kind: str = "pipeline", skip: set[tuple[Any, ...]] | None = None
) -> list[PipelineError]:
    """Validate a parsed YAML document against the schema (``kind``: pipeline or defaults).

    ``skip``: paths already reported (e.g. literal secrets), not reported again as unknown fields.
    """
    skip = skip or set()
    out: list[PipelineError] = []
    for path, err in _raw_errors(doc, kind):
        if err.validator == "additionalProperties":
            m = _UNEXPECTED.search(err.message)
            for key in _QUOTED.findall(m.group(1)) if m else []:
                if tuple([*path, key]) in skip:
                    continue
                task, line, field = _locate(doc, [*path, key])
                out.append(PipelineError(file, line, pipeline, task, field, "unknown field"))
            continue
        if err.validator == "required":
            m = _QUOTED.search(err.message)
            key = m.group(1) if m else "?"
            task, line, field = _locate(doc, path)
            field = f"{field}.{key}" if field else key
            out.append(PipelineError(file, line, pipeline, task, field, "missing required field"))
            continue
        if tuple(path) in skip:
            continue
        task, line, field = _locate(doc, path)
        out.append(PipelineError(file, line, pipeline, task, field, _message(err)))
    return out
