"""Run a tinyrun binary from build/bin with a clean environment.

The child sees only PATH plus what the test passes, exactly like a container would: no
KRB5CCNAME, PGPASSWORD, HOME or anything else leaks in from the test session.
"""

from __future__ import annotations

import os
from pathlib import Path

from .process import Process, StdinSource
from .result import RunResult

REPO_ROOT = Path(__file__).resolve().parents[2]
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"


def default_bin_dir() -> Path:
    """$TINYRUN_BIN_DIR, or build/bin in the repository."""
    env = os.environ.get("TINYRUN_BIN_DIR")
    return Path(env).resolve() if env else REPO_ROOT / "build" / "bin"


def binary_name(runner: str) -> str:
    """Runner RUNNER's binary in build/bin: its folder's name, or the third argument of its
    runner.mk's `call runner` (spark-submit's binary is spark-submit-runner)."""
    mk = (REPO_ROOT / "runners" / runner / "runner.mk").read_text()
    call = mk.split("call runner,", 1)[1].rsplit("))", 1)[0]
    args = [a.strip() for a in call.split(",")]
    return args[2] if len(args) > 2 and args[2] else runner


def runner_path(name: str, bin_dir: Path | None = None) -> Path:
    """The path of runner NAME (it may not exist yet)."""
    return (bin_dir or default_bin_dir()) / name


def clean_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """PATH plus ENV, nothing else."""
    out = {"PATH": CLEAN_PATH}
    if env:
        out.update(env)
    return out


def start_runner(
    name: str,
    args: list[str],
    env: dict[str, str] | None = None,
    stdin: StdinSource = None,
    stdout_path: Path | None = None,
    cwd: Path | None = None,
    bin_dir: Path | None = None,
) -> Process:
    """Start runner NAME with ARGS in a clean environment; see :class:`Process`."""
    argv = [str(runner_path(name, bin_dir)), *args]
    return Process(argv, clean_env(env), stdin=stdin, stdout_path=stdout_path, cwd=cwd)


def run_runner(
    name: str,
    args: list[str],
    env: dict[str, str] | None = None,
    stdin: StdinSource = None,
    timeout: float = 60.0,
    stdout_path: Path | None = None,
    cwd: Path | None = None,
    bin_dir: Path | None = None,
) -> RunResult:
    """Run runner NAME with ARGS to completion and return what it produced.

    stdin may be bytes, str, a Path to read from, or None (/dev/null). stdout goes to
    STDOUT_PATH when given (for large outputs), otherwise it is captured.
    """
    proc = start_runner(name, args, env, stdin, stdout_path, cwd, bin_dir)
    return proc.wait(timeout)
