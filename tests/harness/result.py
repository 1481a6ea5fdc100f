"""What one run of a runner produced, and how tests read it.

A run's contract (DESIGN.md, "task contract"): the LAST line of stdout is one compact JSON object
(the result); stderr carries one JSON object per log line (ts, level, runner, event, msg,
fields) when it is not a terminal. :class:`RunResult` parses both and formats itself for
assertion messages, so a failing test shows the exit code and the tails of both streams.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

LOG_KEYS = ("ts", "level", "runner", "event", "msg", "fields")


def _tail_line(path: Path) -> str:
    """The last line of a (possibly large) file, without its newline."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        chunk = min(size, 1 << 16)
        f.seek(size - chunk)
        data = f.read(chunk)
    if data.endswith(b"\n"):
        data = data[:-1]
    return data.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")


@dataclass
class RunResult:
    """Exit code, output and resource use of one finished process."""

    argv: list[str]
    exit_code: int  # negative -N when killed by signal N without handling it
    stderr: str
    duration: float  # seconds, start to reaped
    max_rss_kb: int | None = None  # peak VmHWM sampled while it ran (see harness.process)
    stdout_path: Path | None = None  # set when stdout went to a file the caller chose
    _stdout: str | None = field(default=None, repr=False)

    # -- stdout ----------------------------------------------------------------------------

    @cached_property
    def stdout(self) -> str:
        """All of stdout (read from stdout_path when stdout went to a file)."""
        if self._stdout is not None:
            return self._stdout
        assert self.stdout_path is not None
        return self.stdout_path.read_text(errors="replace")

    @cached_property
    def last_line(self) -> str:
        """The last line of stdout (a trailing newline does not make an empty last line)."""
        if self._stdout is None and self.stdout_path is not None:
            return _tail_line(self.stdout_path)
        text = self.stdout.removesuffix("\n")
        return text.rsplit("\n", 1)[-1]

    @cached_property
    def result(self) -> dict[str, Any] | None:
        """The result JSON (the last stdout line), or None when that line is not a JSON object."""
        try:
            value = json.loads(self.last_line)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def data_lines(self) -> list[str]:
        """stdout without its last line (the result): the data a query/copy streamed."""
        lines = self.stdout.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return lines[:-1]

    # -- stderr ----------------------------------------------------------------------------

    @cached_property
    def log_lines(self) -> list[str]:
        """Non-empty stderr lines."""
        return [line for line in self.stderr.split("\n") if line.strip()]

    @cached_property
    def logs(self) -> list[dict[str, Any]]:
        """stderr lines that are JSON objects."""
        out = []
        for line in self.log_lines:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
        return out

    @cached_property
    def bad_log_lines(self) -> list[str]:
        """stderr lines that are not JSON objects with every contract key."""
        bad = []
        for line in self.log_lines:
            try:
                value = json.loads(line)
            except ValueError:
                bad.append(line)
                continue
            if not isinstance(value, dict) or any(k not in value for k in LOG_KEYS):
                bad.append(line)
        return bad

    @cached_property
    def errors(self) -> list[dict[str, Any]]:
        """Log lines with level "error"."""
        return [entry for entry in self.logs if entry.get("level") == "error"]

    # -- assertion messages ----------------------------------------------------------------

    def describe(self, limit: int = 3000) -> str:
        """A short report for assertion messages."""
        out = self._stdout if self._stdout is not None else f"(in {self.stdout_path})"
        if len(out) > limit:
            out = "..." + out[-limit:]
        err = self.stderr if len(self.stderr) <= limit else "..." + self.stderr[-limit:]
        return (
            f"\n$ {' '.join(self.argv)}\nexit code {self.exit_code} after {self.duration:.2f}s"
            f"\n--- stdout\n{out}\n--- stderr\n{err}"
        )

    def __str__(self) -> str:
        return self.describe()
