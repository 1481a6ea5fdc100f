"""How ``make bench`` measures: one child with its wall time and rusage, or hyperfine for start-up.

Peak RSS is ``ru_maxrss`` of the measured child itself (``os.wait4``), in KiB as Linux reports
it, so neither the driver nor a shell is counted.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class CommandFailed(RuntimeError):
    """A measured command exited non-zero; the bench fails rather than report a bogus number."""

    def __init__(self, argv: list[str], code: int, output: str) -> None:
        super().__init__(f"{shlex.join(argv)} exited {code}:\n{output.strip()[-2000:]}")


@dataclass
class Run:
    """One measured run of a command."""

    seconds: float
    max_rss_kib: int
    user_seconds: float
    system_seconds: float
    stdout: str

    def as_json(self) -> dict[str, float | int]:
        """The numbers, without the output."""
        return {
            "seconds": round(self.seconds, 4),
            "max_rss_kib": self.max_rss_kib,
            "cpu_user_seconds": round(self.user_seconds, 3),
            "cpu_system_seconds": round(self.system_seconds, 3),
        }


def run_measured(argv: list[str], env: dict[str, str]) -> Run:
    """Run ARGV to completion; its stdout and stderr are kept only for the error message."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        if proc.returncode != 0:
            raise CommandFailed(argv, proc.returncode, stdout + err.read().decode(errors="replace"))
    return Run(seconds, usage.ru_maxrss, usage.ru_utime, usage.ru_stime, stdout)


def check(argv: list[str], env: dict[str, str]) -> str:
    """Run ARGV once and return its stdout; raise :class:`CommandFailed` when it fails."""
    proc = subprocess.run(
        argv,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise CommandFailed(argv, proc.returncode, proc.stdout + proc.stderr)
    return proc.stdout


def hyperfine(
    commands: dict[str, list[str]], env: dict[str, str], warmup: int = 5
) -> dict[str, dict]:
    """Time each command's start-to-exit with hyperfine (no shell in between, ``-N``).

    Each command is first run once on its own, so a failure comes with its output. Returns, per
    name, hyperfine's mean/stddev/median/min/max in milliseconds, the number of runs and the
    command line.
    """
    for argv in commands.values():
        check(argv, env)
    with tempfile.TemporaryDirectory(prefix="tinyrun-hyperfine-") as tmp:
        export = Path(tmp) / "hyperfine.json"
        cmd = [
            "hyperfine",
            "-N",
            "--style",
            "none",
            "--warmup",
            str(warmup),
            "--min-runs",
            "20",
        ]
        cmd += ["--export-json", str(export)]
        for name, argv in commands.items():
            cmd += ["-n", name, shlex.join(argv)]
        proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise CommandFailed(cmd, proc.returncode, proc.stdout + proc.stderr)
        results = json.loads(export.read_text())["results"]
    return {
        name: {
            **{
                f"{k}_ms": round(r[k] * 1000, 3) for k in ("mean", "stddev", "median", "min", "max")
            },
            "command": shlex.join(commands[name]),
            "runs": len(r["times"]),
        }
        for name, r in zip(commands, results, strict=True)
    }


def count_lines(path: Path) -> int:
    """Newlines in PATH: the rows of a CSV/NDJSON file without embedded newlines."""
    lines = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines
