"""The C unit tests (tests/unit/test_*.c), one pytest test per C case.

`make unit-tests` builds each test binary twice: build/test/asan/ (host clang, ASan+UBSan) and
build/test/musl/ (musl-gcc -static, the product's toolchain). Each binary is run once here; every
case it reports ("PASS name" / "FAIL name") becomes a pytest test named <build>/<binary>::<case>, so
pytest's summary counts the C cases. A binary that dies before reporting a case fails that case.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_DIR = Path(os.environ.get("TINYRUN_UNIT_TEST_DIR", REPO_ROOT / "build" / "test"))
BUILDS = ("asan", "musl")
SOURCES = sorted(p.stem for p in (REPO_ROOT / "tests" / "unit").glob("test_*.c"))
ENV = {
    **os.environ,
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
    "UBSAN_OPTIONS": "print_stacktrace=1",
}


def _list_cases(binary: Path) -> list[str]:
    try:
        out = subprocess.run(
            [binary, "--list"],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
            env=ENV,
        )
    except OSError:
        return []
    return out.stdout.split() if out.returncode == 0 else []


def _params() -> list:
    params = []
    for build in BUILDS:
        for name in SOURCES:
            binary = TEST_DIR / build / name
            cases = _list_cases(binary) if binary.exists() else []
            if not cases:
                # Not built (or cannot list): one test that fails and says how to build it.
                params.append(pytest.param(build, name, None, id=f"{build}/{name}"))
            for case in cases:
                params.append(
                    pytest.param(build, name, case, id=f"{build}/{name}::{case}")
                )
    return params


@functools.cache
def _run(build: str, name: str) -> tuple[dict[str, str], str]:
    """Run one binary; return each case's status and the whole output."""
    proc = subprocess.run(
        [TEST_DIR / build / name],
        check=False,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=600,
        env=ENV,
    )
    output = proc.stdout + proc.stderr
    status: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("PASS", "FAIL") and rest:
            status[rest.split(" ")[0]] = word
    return status, output


def _case_output(output: str, case: str) -> str:
    """The failure details a case printed: the lines before its FAIL line, after the previous result."""
    lines = output.splitlines()
    keep: list[str] = []
    for line in lines:
        if line.startswith(("PASS ", "FAIL ")):
            if line.split(" ")[1] == case:
                return "\n".join(keep + [line])
            keep = []
        else:
            keep.append(line)
    return output[-4000:]


@pytest.mark.parametrize(("build", "name", "case"), _params())
def test_c_unit(build: str, name: str, case: str | None) -> None:
    binary = TEST_DIR / build / name
    if case is None:
        pytest.fail(
            f"{binary} is missing or cannot list its cases: run `make unit-tests`",
            pytrace=False,
        )
    status, output = _run(build, name)
    result = status.get(case)
    if result != "PASS":
        why = "did not report a result" if result is None else "failed"
        pytest.fail(
            f"{build}/{name} case {case} {why}:\n{_case_output(output, case)}",
            pytrace=False,
        )
