"""YAML reading with line numbers: mappings remember the line of every key.

Uses libyaml (CSafeLoader) when available; only YAML's safe subset is accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A dict that knows the 1-based line of itself (``line``) and of each key (``key_lines``)."""

    __slots__ = ("key_lines", "line")

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.key_lines: dict[Any, int] = {}


class LineList(list):
    """A list that knows the 1-based line of itself and of each item."""

    __slots__ = ("item_lines", "line")

    def __init__(self) -> None:
        super().__init__()
        self.line = 0
        self.item_lines: list[int] = []


class _Loader(_Base):  # type: ignore[misc, valid-type]
    pass


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    out = LineDict()
    out.line = node.start_mark.line + 1
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(None, None, "mapping keys must be scalars", key_node.start_mark)
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    out = LineList()
    out.line = node.start_mark.line + 1
    for child in node.value:
        out.append(loader.construct_object(child, deep=True))
        out.item_lines.append(child.start_mark.line + 1)
    return out


def _construct_timestamp_as_text(loader: Any, node: yaml.ScalarNode) -> str:
    # Dates stay text: the schema checks their format, and JSON Schema knows no date type.
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp_as_text)


class YamlSyntaxError(Exception):
    """A file that is not valid YAML; carries the 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


def load_text(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise YamlSyntaxError(line, f"{exc.problem or exc.context or 'invalid YAML'}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(0, str(exc)) from None


def load_file(path: Path) -> Any:
    return load_text(path.read_text(encoding="utf-8"))


def line_of(node: Any, key: Any = None) -> int:
    """Best known line of ``node[key]`` (or of ``node``)."""
    if key is not None:
        if isinstance(node, LineDict) and key in node.key_lines:
            return node.key_lines[key]
        if isinstance(node, LineList) and isinstance(key, int) and 0 <= key < len(node.item_lines):
            return node.item_lines[key]
    return getattr(node, "line", 0)
