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


_PLAIN_TAGS: dict[str, str] = {}  # plain scalar text -> resolved tag (same answer every time)
_PLAIN_TAGS_MAX = 50_000


class _Loader(_Base):
    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # libyaml calls back into Python's regex resolver for every plain scalar: keys and values
        # repeat across pipeline files, so remember the answers (a fifth of the YAML time).
        if kind is yaml.ScalarNode and implicit[0]:
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                if len(_PLAIN_TAGS) >= _PLAIN_TAGS_MAX:
                    _PLAIN_TAGS.clear()
                tag = _PLAIN_TAGS[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)


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


_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _INT, _BOOL, _NULL, _TIMESTAMP = (
    _TAG + t for t in ("str", "map", "seq", "int", "bool", "null", "timestamp")
)


class _Unusual(Exception):
    """A node the direct builder leaves to PyYAML's constructors (merge keys, !!float, !!set, ...)."""


def _build(loader: Any, node: Any) -> Any:
    """Python objects from a composed node tree, with line numbers, without PyYAML's generic
    constructor machinery (profiled: it was a third of the time to read a pipeline file)."""
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _MAP:
        out = LineDict()
        out.line = node.start_mark.line + 1
        key_lines = out.key_lines
        for key_node, value_node in node.value:
            if key_node.tag not in (_STR, _INT, _BOOL, _NULL):
                raise _Unusual
            key = _build(loader, key_node)
            if key in out:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            out[key] = _build(loader, value_node)
            key_lines[key] = key_node.start_mark.line + 1
        return out
    if tag == _SEQ:
        seq = LineList()
        seq.line = node.start_mark.line + 1
        for child in node.value:
            seq.append(_build(loader, child))
            seq.item_lines.append(child.start_mark.line + 1)
        return seq
    if tag == _INT:
        return loader.construct_yaml_int(node)
    if tag == _BOOL:
        return loader.construct_yaml_bool(node)
    if tag == _NULL:
        return None
    if tag == _TIMESTAMP:
        return str(node.value)
    raise _Unusual


def load_text(text: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _build(loader, node)
        except _Unusual:
            return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise YamlSyntaxError(line, f"{exc.problem or exc.context or 'invalid YAML'}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(0, str(exc)) from None
    finally:
        loader.dispose()


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
