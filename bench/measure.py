"""How ``make bench`` measures: a command's wall time, peak RSS and CPU; hyperfine for start-up.

Peak RSS is the ``ru_maxrss`` of the measured command as GNU time (``/usr/bin/time -f %M``)
reports it, in KiB. Not ``os.wait4`` from this driver: Linux carries the parent's RSS into a
forked child's ``ru_maxrss`` across exec, so every child of a 20 MB Python process would report
at least 20 MB. GNU time's own floor is well under 1 MB (a static hello-world measures ~0.4 MB).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = "/usr/bin/time"


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

    def as_json(self) -> dict[str, float | int]:
        """The numbers, without the output."""
        return {
            "seconds": round(self.seconds, 4),
            "max_rss_kib": self.max_rss_kib,
            "cpu_user_seconds": round(self.user_seconds, 3),
            "cpu_system_seconds": round(self.system_seconds, 3),
        }


def run_measured(argv: list[str], env: dict[str, str]) -> Run:
    """Run ARGV under GNU time; its output is kept only for the error message."""
    with tempfile.TemporaryDirectory(prefix="tinyrun-run-") as tmp:
        rusage, out, err = (Path(tmp) / name for name in ("rusage", "stdout", "stderr"))
        cmd = [GNU_TIME, "-o", str(rusage), "-f", "%M %U %S", *argv]
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            start = time.perf_counter()
            code = subprocess.call(
                cmd, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
            )
            seconds = time.perf_counter() - start
        if code != 0:
            output = out.read_text(errors="replace") + err.read_text(errors="replace")
            raise CommandFailed(argv, code, output)
        # GNU time may write a "Command exited with..." line first; the numbers are last.
        rss, user, system = rusage.read_text().split()[-3:]
    return Run(seconds, int(rss), float(user), float(system))


def check(argv: list[str], env: dict[str, str]) -> str:
    """Run ARGV once and return its stdout; raise :class:`CommandFailed` when it fails."""
    proc = subprocess.run(
        argv, check=False, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
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
        cmd = ["hyperfine", "-N", "--style", "none", "--warmup", str(warmup), "--min-runs", "20"]
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
