"""What the dbt-runner tests share: the pinned dbt (build/venv-dbt), a fresh copy of the test
project (tests/dbt/project) per test, and readers for the two kinds of stderr lines."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from harness.result import RunResult
from harness.runner import REPO_ROOT

PROJECT = REPO_ROOT / "tests" / "dbt" / "project"
DBT = REPO_ROOT / "build" / "venv-dbt" / "bin" / "dbt"
DBT_VERSION = "1.10.15"  # tests/requirements-dbt.txt


def dbt_path() -> Path:
    """build/venv-dbt/bin/dbt, or a failed test saying how to get it."""
    if not DBT.exists():
        pytest.fail(f"{DBT} is missing: run `make venv-dbt` (make test does)", pytrace=False)
    return DBT


def copy_project(dest: Path) -> Path:
    """A writable copy of the test project at DEST (readable by every user)."""
    shutil.copytree(PROJECT, dest)
    for p in [dest, *dest.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dest


def runner_logs(result: RunResult) -> list[dict[str, Any]]:
    """dbt-runner's own log lines (the contract's keys)."""
    return [entry for entry in result.logs if "runner" in entry and "event" in entry]


def dbt_logs(result: RunResult) -> list[dict[str, Any]]:
    """dbt's --log-format json lines ({"info": {...}, "data": {...}}), forwarded to stderr."""
    return [entry for entry in result.logs if isinstance(entry.get("info"), dict)]


def assert_streams(result: RunResult) -> dict[str, Any]:
    """stdout is exactly one line, the result object; every stderr line is a JSON object, ours
    or dbt's. Returns the result."""
    assert result.result is not None, f"the last stdout line is not a JSON object{result}"
    assert result.stdout.count("\n") == 1, f"stdout holds more than the result line{result}"
    strays = [line for line in result.log_lines if not line.startswith("{")]
    assert not strays, f"stderr lines that are not JSON{result}"
    assert len(runner_logs(result)) + len(dbt_logs(result)) == len(result.log_lines), str(result)
    return result.result
