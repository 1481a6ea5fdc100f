"""The exit-code table has one source, common/exitcode.c. build/test/asan/exitcode_dump (built
by `make unit-tests`) prints it as JSON; README.md's table and the DAG factory's policy and
result messages must say the same thing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tinyrun_dagfactory import policy, results

REPO_ROOT = Path(__file__).resolve().parent.parent
DUMP = (
    Path(os.environ.get("TINYRUN_UNIT_TEST_DIR", REPO_ROOT / "build" / "test"))
    / "asan"
    / "exitcode_dump"
)


@pytest.fixture(scope="module")
def table() -> list[dict[str, Any]]:
    if not DUMP.exists():
        pytest.fail(f"{DUMP} is missing: run `make unit-tests`", pytrace=False)
    out = subprocess.run([DUMP], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def readme_rows() -> list[tuple[str, str, str]]:
    """(code, meaning, airflow) of README.md's "## Exit codes" table."""
    lines = (REPO_ROOT / "README.md").read_text().splitlines()
    start = lines.index("## Exit codes")
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("code", "---"):
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def test_readme_table_matches(table: list[dict[str, Any]]) -> None:
    want = [(r["label"], r["meaning"], r["airflow"]) for r in table]
    assert readme_rows() == want


def test_dagfactory_policy_matches(table: list[dict[str, Any]]) -> None:
    fixed = {r["code"] for r in table if r["label"].isdigit()}
    constants = {
        v
        for k, v in vars(policy).items()
        if k.startswith("EXIT_") and isinstance(v, int)
    }
    assert constants == fixed
    no_retry = {r["code"] for r in table if r["airflow"] == "fail, no retry"}
    assert set(policy.NO_RETRY_EXIT_CODES) == no_retry
    skipped = {r["code"] for r in table if r["airflow"] == "skipped"}
    assert set(policy.SKIP_EXIT_CODES) == skipped
    for code in fixed:
        assert policy.fails_without_retry(code) == (code in no_retry), code


def test_dagfactory_result_messages_cover_every_code(
    table: list[dict[str, Any]],
) -> None:
    failures = {r["code"] for r in table if r["label"].isdigit() and r["code"] != 0}
    assert set(results.EXIT_MEANINGS) == failures
    signal = next(r for r in table if not r["label"].isdigit())
    assert "signal 15" in results.describe_exit(signal["code"] + 15)
