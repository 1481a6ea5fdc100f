"""Validation errors: one type, one format (`file:line: pipeline/task: field: message`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class PipelineError:
    """One problem found in one pipeline file.

    ``line`` is 1-based (0 when unknown); ``pipeline`` and ``task`` are ids ("-" when unknown);
    ``field`` is a dotted path inside the pipeline or task (e.g. ``tasks[2].retries``).
    """

    file: str
    line: int
    pipeline: str
    task: str
    field: str
    message: str

    def __str__(self) -> str:
        where = self.pipeline if self.task == "-" else f"{self.pipeline}/{self.task}"
        return f"{self.file}:{self.line}: {where}: {self.field or '-'}: {self.message}"


class PipelineFileError(Exception):
    """Raised by the loader for a file with one or more validation errors."""

    def __init__(self, errors: list[PipelineError]) -> None:
        self.errors = sorted(errors)
        super().__init__("\n".join(str(e) for e in self.errors))
