"""Start a process with files for stdin/stdout/stderr and measure its peak memory.

Output goes to files, never pipes, so a chatty process cannot block on a full pipe and the
test process does not hold large outputs in memory while it runs.

Peak RSS is the largest ``VmHWM`` (the kernel's high-water mark of the process's own address
space) read from ``/proc/<pid>/status`` while the process runs, sampled every few ms. Neither
``ru_maxrss`` from ``wait4`` nor ``RUSAGE_CHILDREN`` can be used: Linux carries the pre-exec
address space's high-water mark (the forking Python test process, tens of MB) into the child's
``ru_maxrss`` across ``exec``, so even a static hello-world "uses" as much as pytest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Self

from .result import RunResult

StdinSource = bytes | str | Path | None


def _stdin_file(stdin: StdinSource) -> IO[bytes] | int:
    if stdin is None:
        return subprocess.DEVNULL
    if isinstance(stdin, Path):
        return open(stdin, "rb")
    f = tempfile.TemporaryFile()  # noqa: SIM115 - closed by Process.wait
    f.write(stdin.encode() if isinstance(stdin, str) else stdin)
    f.seek(0)
    return f


class Process:
    """A started child process. :meth:`wait` reaps it and returns a :class:`RunResult`."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        stdin: StdinSource = None,
        stdout_path: Path | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.argv = argv
        self.stdout_path = stdout_path
        self._stdin = _stdin_file(stdin)
        self._out = open(stdout_path, "wb") if stdout_path else tempfile.TemporaryFile()  # noqa: SIM115
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        self.started = time.monotonic()
        self._popen = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=self._stdin,
            stdout=self._out,
            stderr=self._err,
            start_new_session=True,
        )
        self.pid = self._popen.pid
        self._result: RunResult | None = None
        self._hwm_kb: int | None = None
        self._sample_hwm()  # Popen returns after exec succeeded: this is the new image

    def _sample_hwm(self) -> None:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        kb = int(line.split()[1])
                        self._hwm_kb = max(self._hwm_kb or 0, kb)
                        return
        except (OSError, ValueError):
            pass

    def poll(self) -> bool:
        """True when the process has exited (it is then reaped)."""
        if self._result is not None:
            return True
        self._sample_hwm()
        pid, status, _ = os.wait4(self.pid, os.WNOHANG)
        if pid == 0:
            return False
        self._finish(status)
        return True

    def send_signal(self, sig: int = signal.SIGTERM) -> None:
        """Send SIG to the process (not its group)."""
        if self._result is None:
            os.kill(self.pid, sig)

    def wait(self, timeout: float = 60.0) -> RunResult:
        """Reap the process; on timeout kill its whole session and raise TimeoutError."""
        deadline = time.monotonic() + timeout
        delay = 0.002
        while not self.poll():
            if time.monotonic() >= deadline:
                self._kill_group()
                _, status, _ = os.wait4(self.pid, 0)
                self._finish(status)
                assert self._result is not None
                raise TimeoutError(f"did not exit within {timeout}s (killed){self._result}")
            time.sleep(delay)
            delay = min(delay * 2, 0.01)
        assert self._result is not None
        return self._result

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def _finish(self, status: int) -> None:
        duration = time.monotonic() - self.started
        code = os.waitstatus_to_exitcode(status)
        self._popen.returncode = code  # reaped here; keep Popen from waiting again
        stdout = None
        if self.stdout_path is None:
            self._out.seek(0)
            stdout = self._out.read().decode("utf-8", errors="replace")
        self._out.close()
        if not isinstance(self._stdin, int):
            self._stdin.close()
        self._err.seek(0)
        stderr = self._err.read().decode("utf-8", errors="replace")
        self._err.close()
        self._result = RunResult(
            argv=self.argv,
            exit_code=code,
            stderr=stderr,
            duration=duration,
            max_rss_kb=self._hwm_kb,
            stdout_path=self.stdout_path,
            _stdout=stdout,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._result is None:
            self._kill_group()
            with contextlib.suppress(TimeoutError):
                self.wait(timeout=10)
