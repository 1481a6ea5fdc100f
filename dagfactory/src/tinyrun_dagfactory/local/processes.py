"""Starting, finding and stopping the Airflow processes of one datakit.

Each component runs in a session of its own (its output in ``.airflow/run/<component>.log``); the
state file records each pid with its start time, so a recycled pid is never signalled. Airflow's task
processes move into process groups of their own and rename themselves (setproctitle overwrites their
command line and environment), but they stay in the session of the component that forked them: the
processes of this datakit's Airflow are the members of the recorded sessions. Stopping signals all of
them, and `make down` checks that none is left before it says it is done.
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


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state letter, session id, start time in clock ticks since boot) of a process, None if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[3]), int(fields[19])


def _read_state(kit: Kit) -> dict:
    try:
        return dict(json.loads(kit.state_file.read_text()))
    except (OSError, ValueError):
        return {}


def recorded_port(kit: Kit) -> int | None:
    port = _read_state(kit).get("port")
    return int(port) if port else None


def running(kit: Kit) -> dict[str, int]:
    """The components of the state file that are still the processes it recorded."""
    alive = {}
    for name, entry in _read_state(kit).get("components", {}).items():
        stat = _stat(entry["pid"])
        if stat is not None and stat[0] != "Z" and stat[2] == entry["start"]:
            alive[name] = entry["pid"]
    return alive


def kit_processes(kit: Kit) -> list[int]:
    """Every live process in the sessions of the recorded components (zombies excluded)."""
    sessions = {e["pid"]: e["start"] for e in _read_state(kit).get("components", {}).values()}
    if not sessions:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is not None and stat[0] != "Z" and stat[1] in sessions and stat[2] >= sessions[stat[1]]:
            found.append(int(entry.name))
    return found


def start(kit: Kit, env: dict[str, str], port: int) -> dict[str, int]:
    """Start every component in a session of its own; record them; return name -> pid."""
    kit.run_dir.mkdir(parents=True, exist_ok=True)
    components: dict[str, dict[str, int]] = {}
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
        stat = _stat(proc.pid)
        components[name] = {"pid": proc.pid, "start": stat[2] if stat else 0}
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


def stop(kit: Kit, grace_s: float = STOP_GRACE_S) -> tuple[list[int], list[int]]:
    """Stop every process of this datakit's Airflow: SIGTERM, then SIGKILL after the grace.

    Returns (the processes that were running, the ones still there at the end: none, normally). The
    state file goes only once nothing is left, so that a second `make down` can finish the job."""
    stopping = kit_processes(kit)
    _signal_all(list(running(kit).values()), signal.SIGTERM)  # the components first: they end their tasks
    _signal_all(stopping, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and kit_processes(kit):
        time.sleep(0.5)
    if kit_processes(kit):
        _signal_all(kit_processes(kit), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and kit_processes(kit):
            time.sleep(0.2)
    left = kit_processes(kit)
    if not left:
        with contextlib.suppress(FileNotFoundError):
            kit.state_file.unlink()
    return stopping, left


def log_tail(kit: Kit, name: str, lines: int = 20) -> str:
    try:
        text = (kit.run_dir / f"{name}.log").read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
