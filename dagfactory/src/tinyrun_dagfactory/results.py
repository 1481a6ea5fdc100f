"""The runner's result line (one compact JSON object, the last line of stdout) as an XCom value."""

from __future__ import annotations

import json
from typing import Any


def parse_result(value: Any) -> Any:
    """DockerOperator returns the last output line as text: make it the runner's JSON object."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                return json.loads(text)
            except ValueError:
                return value
    return value


EXIT_MEANINGS = {
    1: "task failed",
    2: "usage or configuration error",
    3: "authentication failed (ticket or login)",
    75: "temporary failure",
    99: "skipped",
}


def describe_exit(code: int | None) -> str:
    if code is None:
        return "unknown exit status"
    if code >= 128:
        return f"exit {code}: stopped by signal {code - 128}"
    return f"exit {code}: {EXIT_MEANINGS.get(code, 'failed')}"
