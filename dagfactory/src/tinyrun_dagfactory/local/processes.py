"""Starting, finding and stopping the Airflow processes of one datakit.

Each component runs in a session of its own (its output in ``.airflow/run/<component>.log``); the
pid file records each pid with its start time, so a recycled pid is never signalled. Airflow's task
processes put themselves in process groups of their own, so stopping also looks through /proc for
every process whose environment carries this datakit's AIRFLOW_HOME: that is what "nothing left
behind" means, and it is what `make down` checks before it says it is done.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from .layout import COMPONENTS, Kit

STOP_GRACE_S = 30


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _read_state(kit: Kit) -> dict:
    try:
        return dict(json.loads(kit.state_file.read_text()))
    except (OSError, ValueError):
        return {}


def recorded_port(kit: Kit) -> int | None:
    port = _read_state(kit).get("port")
    return int(port) if port else None


def running(kit: Kit) -> dict[str, int]:
    """The components of the pid file that are still the processes it recorded."""
    alive = {}
    for name, entry in _read_state(kit).get("components", {}).items():
        if _start_time(entry["pid"]) == entry["start"]:
            alive[name] = entry["pid"]
    return alive


def kit_processes(kit: Kit) -> list[int]:
    """Every process (but this one) whose environment has AIRFLOW_HOME=<this datakit's .airflow>."""
    marker = f"AIRFLOW_HOME={kit.home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def start(kit: Kit, env: dict[str, str], port: int) -> dict[str, int]:
    """Start every component in a session of its own; record them; return name -> pid."""
    kit.run_dir.mkdir(parents=True, exist_ok=True)
    components: dict[str, dict[str, int | str | None]] = {}
    pids: dict[str, int] = {}
    for name in COMPONENTS:
        with open(kit.run_dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                [str(kit.airflow_bin), name],
                cwd=kit.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        components[name] = {"pid": proc.pid, "start": _start_time(proc.pid)}
        pids[name] = proc.pid
    state = {"port": port, "components": components}
    tmp = kit.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(tmp, kit.state_file)
    return pids


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)  # the component's whole session (it leads its group)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def stop(kit: Kit, grace_s: float = STOP_GRACE_S) -> list[int]:
    """Stop every process of this datakit's Airflow: SIGTERM, then SIGKILL after the grace. Returns
    the pids that were still running at the start."""
    leaders = list(running(kit).values())
    others = [p for p in kit_processes(kit) if p not in leaders]
    stopping = leaders + others
    _signal_all(leaders, signal.SIGTERM)
    _signal_all(others, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and kit_processes(kit):
        time.sleep(0.5)
    left = kit_processes(kit)
    if left:
        _signal_all(left, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and kit_processes(kit):
            time.sleep(0.2)
    with contextlib.suppress(FileNotFoundError):
        kit.state_file.unlink()
    return stopping


def log_tail(kit: Kit, name: str, lines: int = 20) -> str:
    try:
        text = (kit.run_dir / f"{name}.log").read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
