"""The runners are built hardened as far as a static binary allows: static-pie (loaded at a random
address, no interpreter), RELRO with immediate binding, a non-executable stack; and they run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from harness.runner import binary_name

RUNNERS_DIR = Path(__file__).resolve().parents[2] / "runners"
RUNNERS = sorted(d.name for d in RUNNERS_DIR.iterdir() if d.is_dir())


def readelf(*args: str) -> str:
    return subprocess.run(["readelf", "-W", *args], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("runner", RUNNERS)
def test_static_pie_with_relro_and_now(bin_dir: Path, runner: str) -> None:
    binary = bin_dir / binary_name(runner)
    assert "DYN (Position-Independent Executable" in readelf("-h", str(binary))
    segments = readelf("-l", str(binary))
    assert "INTERP" not in segments  # no dynamic loader: static
    assert "GNU_RELRO" in segments
    stack = next(line for line in segments.splitlines() if "GNU_STACK" in line)
    assert stack.split()[-2] == "RW"  # not executable
    dynamic = readelf("-d", str(binary))
    assert "NEEDED" not in dynamic  # no shared library
    assert "BIND_NOW" in dynamic or "(FLAGS_1)            Flags: NOW" in dynamic
    described = subprocess.run(["file", str(binary)], check=True, capture_output=True, text=True).stdout
    assert "static-pie linked" in described


@pytest.mark.parametrize("runner", RUNNERS)
def test_runs(bin_dir: Path, runner: str, repo_root: Path) -> None:
    result = subprocess.run([str(bin_dir / binary_name(runner)), "--version"], check=False, capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    assert (repo_root / "VERSION").read_text().strip() in result.stdout
    assert "musl 1.2.5" in result.stdout


@pytest.mark.parametrize("archive", ["build/lib/libtinyrun.a", "build/sysroot/lib/libpq.a",
                                     "build/sysroot/lib/libkrb5.a", "build/sysroot/lib/libcrypto.a"])
def test_stack_protector_compiled_in(repo_root: Path, archive: str) -> None:
    """Our code and the pinned libraries carry stack canaries (the stripped binaries no longer say)."""
    symbols = subprocess.run(["nm", str(repo_root / archive)], check=True, capture_output=True, text=True).stdout
    assert " U __stack_chk_fail" in symbols
