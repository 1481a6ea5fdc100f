"""Assertions on runs that every runner test shares, phrased on the task contract.

They check what happened (exit code, the result line, the number of error log lines, files),
never the wording of a message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from .result import RunResult

T = TypeVar("T")


def assert_ok(result: RunResult) -> dict:
    """Exit 0, a result JSON object as the last stdout line with status "success", no error
    log line, and every stderr line a JSON log object. Returns the result object."""
    assert result.exit_code == 0, f"expected exit 0{result}"
    assert result.result is not None, f"the last stdout line is not a JSON object{result}"
    assert result.result.get("status") == "success", f"status is not success{result}"
    assert not result.errors, f"a successful run logged errors{result}"
    assert not result.bad_log_lines, f"stderr lines that are not JSON log objects{result}"
    return result.result


def assert_fails(result: RunResult, code: int) -> dict:
    """Exit CODE, exactly one level=error log line, every stderr line a JSON log object, and a
    result JSON object as the last stdout line that is not a success. Returns the result."""
    assert result.exit_code == code, f"expected exit {code}{result}"
    assert len(result.errors) == 1, f"expected exactly one error log line{result}"
    assert not result.bad_log_lines, f"stderr lines that are not JSON log objects{result}"
    assert result.result is not None, f"the last stdout line is not a JSON object{result}"
    assert result.result.get("status") != "success", f"a failure reported success{result}"
    if "exit_code" in result.result:
        assert result.result["exit_code"] == code, f"result exit_code differs{result}"
    return result.result


def assert_secret_absent(result: RunResult, *secrets: str) -> None:
    """None of SECRETS appears anywhere in stdout or stderr."""
    for secret in secrets:
        assert secret not in result.stderr, f"a secret leaked to stderr{result}"
        assert secret not in result.stdout, f"a secret leaked to stdout{result}"


def wait_until(probe: Callable[[], T], timeout: float = 15.0, interval: float = 0.05) -> T:
    """Call PROBE until it returns something truthy; return it, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)
